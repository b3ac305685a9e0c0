"""The S3 driver's writes (issue 16: pail.drivers.s3.write) against real servers: moto's S3
server and SeaweedFS 4.48, the fault proxy in front of them, and moto with IAM on.

What each server keeps (measured, see /work/notes/write_contract.md): moto does not check
Content-MD5 or x-amz-checksum-* and keeps no additional checksum for a single PutObject,
but keeps a FULL_OBJECT multipart checksum; SeaweedFS checks them (BadDigest) and keeps
them; SeaweedFS 4.48 has no SSE-KMS.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
import zlib

import pytest
from awscrt import checksums as crt

from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.base import (
    MIN_PART_SIZE,
    MultipartUpload,
    UploadedPart,
    Writable,
    WriteOptions,
)
from pail.drivers.errors import (
    AccessDenied,
    ChecksumMismatch,
    NotFound,
    NotSupported,
    PreconditionFailed,
)
from pail.drivers.registry import open_driver
from support.fault_proxy import Rule
from support.seaweed import SEAWEEDFS
from support.servers import s3_client

PART = MIN_PART_SIZE  # 5 MiB: the smallest part S3 takes but the last


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def checksum(alg: str, data: bytes) -> str:
    """base64 of ``data``'s ``alg`` checksum, computed here (not by the code under test)."""
    if alg == "MD5":
        return b64(hashlib.md5(data).digest())
    if alg in ("SHA1", "SHA256"):
        return b64(hashlib.new(alg.lower(), data).digest())
    if alg == "CRC32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if alg == "CRC32C":
        return b64(crt.crc32c(data).to_bytes(4, "big"))
    assert alg == "CRC64NVME"
    return b64(crt.crc64nvme(data).to_bytes(8, "big"))


def s3(endpoint: str, *, keys: tuple[str, str] | None = None, **spec) -> Writable:
    """pail's own S3 driver through its registry, as a saved connection would be."""
    secrets = Secrets(access_key_id=keys[0], secret_access_key=keys[1]) if keys else None
    driver = open_driver(
        ConnectionSpec(
            name="w",
            provider="s3",
            endpoint_url=endpoint,
            region="us-east-1",
            path_style=True,
            secrets=secrets,
            **spec,
        )
    )
    assert isinstance(driver, Writable)
    return driver


def fresh_bucket(endpoint: str, **keys) -> str:
    name = f"pail-w-{uuid.uuid4().hex[:10]}"
    s3_client(endpoint, **keys).create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["moto", "seaweedfs"])
def store(request):
    """``(endpoint, bucket)`` on moto or SeaweedFS, a fresh bucket."""
    if request.param == "moto":
        endpoint = request.getfixturevalue("s3_endpoint")
    else:
        endpoint = request.getfixturevalue("seaweedfs").endpoint
    return endpoint, fresh_bucket(endpoint)


# -- PutObject ------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["CRC64NVME", "CRC32C", "CRC32", "SHA1", "SHA256"])
def test_put_with_each_checksum_is_kept_by_seaweedfs(seaweedfs, alg):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    data = b"pail put " + alg.encode() * 100
    sums = {"MD5": checksum("MD5", data), alg: checksum(alg, data)}
    done = driver.put_object(
        bucket, "k.bin", data, options=WriteOptions(checksum_algorithm=alg), checksums=sums
    )
    assert done.etag == hashlib.md5(data).hexdigest()
    assert done.size == len(data)
    stored = driver.object_checksums(bucket, "k.bin")
    assert stored.checksums.get(alg) == sums[alg]
    assert driver.read_range(bucket, "k.bin") == data


def test_put_sends_only_the_callers_checksums(faults, bucket_name):
    """botocore adds no checksum of its own when one is given (request log of the proxy)."""
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    data = b"x" * 1000
    sums = {"MD5": checksum("MD5", data), "CRC64NVME": checksum("CRC64NVME", data)}
    s3(faults.url).put_object(
        bucket_name, "a", data, options=WriteOptions(checksum_algorithm="CRC64NVME"), checksums=sums
    )
    (put,) = [r for r in faults.requests if r.method == "PUT" and r.path.endswith("/a")]
    sent = {k.lower(): v for k, v in put.headers.items() if k.lower().startswith("x-amz-checksum")}
    assert sent == {"x-amz-checksum-crc64nvme": sums["CRC64NVME"]}
    assert put.headers["Content-MD5"] == sums["MD5"]


def test_put_with_only_an_algorithm_lets_botocore_compute_that_one(faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    data = b"y" * 1000
    s3(faults.url).put_object(
        bucket_name, "a", data, options=WriteOptions(checksum_algorithm="SHA256")
    )
    (put,) = [r for r in faults.requests if r.method == "PUT" and r.path.endswith("/a")]
    sent = {k.lower(): v for k, v in put.headers.items() if k.lower().startswith("x-amz-checksum")}
    assert sent == {"x-amz-checksum-sha256": checksum("SHA256", data)}


def test_wrong_checksum_is_refused_by_seaweedfs(seaweedfs):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    with pytest.raises(ChecksumMismatch) as err:
        driver.put_object(
            bucket, "bad", b"the bytes", checksums={"CRC64NVME": checksum("CRC64NVME", b"other")}
        )
    assert err.value.operation == "PutObject"
    with pytest.raises(ChecksumMismatch):
        driver.put_object(bucket, "bad", b"the bytes", checksums={"MD5": checksum("MD5", b"x")})
    with pytest.raises(NotFound):
        driver.head(bucket, "bad")


def test_unknown_algorithm_is_refused_before_sending(faults, bucket_name):
    with pytest.raises(ValueError) as err:
        s3(faults.url).put_object(bucket_name, "a", b"x", checksums={"XXH3": "AAAA"})
    assert err.value.code == "InvalidChecksumAlgorithm"
    assert faults.requests == []


@pytest.mark.parametrize("server", ["moto", "seaweedfs"])
def test_write_args_and_options_are_applied(server, request):
    if server == "seaweedfs":
        pytest.skip(f"{SEAWEEDFS} answers SSE-KMS writes with 500 InternalError (no SSE-KMS)")
    s3_endpoint = request.getfixturevalue("s3_endpoint")
    bucket = fresh_bucket(s3_endpoint)
    write_args = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "key-1", "ACL": "private"}
    driver = s3(s3_endpoint, write_args=write_args)
    options = WriteOptions(
        content_type="text/csv",
        metadata={"run": "r1"},
        storage_class="STANDARD_IA",
        extra={"ACL": "public-read"},  # over the connection's "private"
    )
    done = driver.put_object(bucket, "t.csv", b"a,b\n", options=options)
    assert done.encryption == "aws:kms"
    raw = s3_client(s3_endpoint)
    head = raw.head_object(Bucket=bucket, Key="t.csv")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"].endswith("key-1")
    assert head["StorageClass"] == "STANDARD_IA"
    assert head["ContentType"] == "text/csv" and head["Metadata"] == {"run": "r1"}
    grants = raw.get_object_acl(Bucket=bucket, Key="t.csv")["Grants"]
    assert any(
        g["Grantee"].get("URI", "").endswith("/global/AllUsers") and g["Permission"] == "READ"
        for g in grants
    )
    # The same on a multipart upload and a copy.
    upload = driver.start_upload(bucket, "m.bin", 3, options=WriteOptions(storage_class="GLACIER"))
    part = upload.upload_part(1, b"abc")
    upload.complete([part])
    head = raw.head_object(Bucket=bucket, Key="m.bin")
    assert head["ServerSideEncryption"] == "aws:kms" and head["StorageClass"] == "GLACIER"
    driver.copy_object(bucket, "t.csv", bucket, "copy.csv", size=4)
    head = raw.head_object(Bucket=bucket, Key="copy.csv")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentType"] == "text/csv" and head["Metadata"] == {"run": "r1"}  # COPY


def test_if_none_match_refuses_an_existing_key(store):
    endpoint, bucket = store
    driver = s3(endpoint)
    driver.put_object(bucket, "once", b"first", options=WriteOptions(if_none_match=True))
    with pytest.raises(PreconditionFailed) as err:
        driver.put_object(bucket, "once", b"second", options=WriteOptions(if_none_match=True))
    assert err.value.operation == "PutObject" and err.value.status == 412
    assert driver.read_range(bucket, "once") == b"first"


def test_if_none_match_on_complete_and_copy(s3_endpoint):
    bucket = fresh_bucket(s3_endpoint)
    driver = s3(s3_endpoint)
    driver.put_object(bucket, "taken", b"old")
    create_only = WriteOptions(if_none_match=True)
    upload = driver.start_upload(bucket, "taken", 3, options=create_only)
    part = upload.upload_part(1, b"new")
    with pytest.raises(PreconditionFailed) as err:
        upload.complete([part])
    assert err.value.operation == "CompleteMultipartUpload"
    upload.abort()
    assert driver.read_range(bucket, "taken") == b"old"


def test_if_none_match_on_copy_is_refused_by_seaweedfs(seaweedfs):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    driver.put_object(bucket, "taken", b"old")
    driver.put_object(bucket, "other", b"new")
    with pytest.raises(PreconditionFailed) as err:
        driver.copy_object(
            bucket, "other", bucket, "taken", size=3, options=WriteOptions(if_none_match=True)
        )
    assert err.value.operation == "CopyObject"
    assert driver.read_range(bucket, "taken") == b"old"


def test_copy_sends_its_conditions(faults, bucket_name):
    """moto 5.2.5 ignores ``If-None-Match`` and ``x-amz-copy-source-if-match`` on
    CopyObject (it copies anyway), so on moto the headers are checked on the wire; the
    refusals are checked on SeaweedFS."""
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    driver = s3(faults.url)
    src = driver.put_object(bucket_name, "src", b"abc")
    driver.copy_object(
        bucket_name, "src", bucket_name, "dst", size=3, source_etag=src.etag,
        source_version_id=None, options=WriteOptions(if_none_match=True),
    )  # fmt: skip
    (copy,) = [r for r in faults.requests if "x-amz-copy-source" in r.headers]
    assert copy.headers["If-None-Match"] == "*"
    assert copy.headers["x-amz-copy-source-if-match"] == f'"{src.etag}"'
    assert copy.headers["x-amz-metadata-directive"] == "COPY"


def test_a_store_without_conditional_writes_is_remembered(faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    faults.add(Rule(method="PUT", header="If-None-Match", status=501, code="NotImplemented"))
    driver = s3(faults.url)
    create_only = WriteOptions(if_none_match=True)
    with pytest.raises(NotSupported) as err:
        driver.put_object(bucket_name, "a", b"x", options=create_only)
    assert err.value.code == "ConditionalWriteUnsupported"
    assert err.value.operation == "PutObject"
    assert driver.quirks.get("conditional_writes") is False
    sent = len(faults.requests)
    with pytest.raises(NotSupported):  # refused before sending, from now on
        s3(faults.url).put_object(bucket_name, "b", b"x", options=create_only)
    with pytest.raises(NotSupported):
        driver.start_upload(bucket_name, "c", 1, options=create_only)
    with pytest.raises(NotSupported):
        driver.copy_object(bucket_name, "a", bucket_name, "d", size=1, options=create_only)
    assert len(faults.requests) == sent
    driver.put_object(bucket_name, "a", b"x")  # plain writes go on
    assert len(faults.requests) == sent + 1


def test_a_501_on_complete_is_remembered_too(faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    driver = s3(faults.url)
    upload = driver.start_upload(bucket_name, "m", 1, options=WriteOptions(if_none_match=True))
    part = upload.upload_part(1, b"x")
    faults.add(Rule(method="POST", header="If-None-Match", status=501, code="NotImplemented"))
    with pytest.raises(NotSupported) as err:
        upload.complete([part])
    assert err.value.code == "ConditionalWriteUnsupported"
    assert err.value.operation == "CompleteMultipartUpload"
    assert driver.quirks.get("conditional_writes") is False
    upload.abort()


# -- multipart uploads ----------------------------------------------------------------------


def _parts_data() -> list[bytes]:
    return [bytes([65 + i]) * PART for i in range(2)] + [b"tail" * 10]


def test_multipart_full_object_crc64nvme(store):
    endpoint, bucket = store
    driver = s3(endpoint)
    chunks = _parts_data()
    whole = b"".join(chunks)
    upload = driver.start_upload(
        bucket, "big.bin", len(whole), options=WriteOptions(checksum_algorithm="CRC64NVME")
    )
    assert isinstance(upload, MultipartUpload)
    assert upload.parallel and upload.part_alignment == 1 and upload.token
    parts = [
        upload.upload_part(
            n,
            chunk,
            checksums={"MD5": checksum("MD5", chunk), "CRC64NVME": checksum("CRC64NVME", chunk)},
        )
        for n, chunk in enumerate(chunks, 1)
    ][::-1]  # complete() puts them in order
    assert [p.etag for p in parts[::-1]] == [hashlib.md5(c).hexdigest() for c in chunks]
    done = upload.complete(parts, checksums={"CRC64NVME": checksum("CRC64NVME", whole)})
    md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert done.etag == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert done.size == len(whole)
    stored = driver.object_checksums(bucket, "big.bin")
    assert stored.checksums["CRC64NVME"] == checksum("CRC64NVME", whole)
    assert stored.checksum_type == "FULL_OBJECT"
    assert driver.read_range(bucket, "big.bin", PART - 2, 4) == b"AABB"


def test_wrong_whole_object_checksum_is_refused(seaweedfs):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    chunks = _parts_data()
    upload = driver.start_upload(
        bucket,
        "big.bin",
        sum(map(len, chunks)),
        options=WriteOptions(checksum_algorithm="CRC64NVME"),
    )
    parts = [upload.upload_part(n, c) for n, c in enumerate(chunks, 1)]
    try:
        with pytest.raises(ChecksumMismatch):
            upload.complete(parts, checksums={"CRC64NVME": checksum("CRC64NVME", b"other")})
    finally:
        upload.abort()


def test_parts_then_resume_then_complete(store):
    endpoint, bucket = store
    chunks = _parts_data()
    whole = b"".join(chunks)
    options = WriteOptions(checksum_algorithm="CRC64NVME")
    first = s3(endpoint).start_upload(bucket, "r.bin", len(whole), options=options)
    first.upload_part(1, chunks[0], checksums={"CRC64NVME": checksum("CRC64NVME", chunks[0])})
    first.upload_part(2, chunks[1], checksums={"CRC64NVME": checksum("CRC64NVME", chunks[1])})
    token = first.token
    assert token
    # A later process: another driver, only the token.
    driver = s3(endpoint)
    upload = driver.resume_upload(bucket, "r.bin", len(whole), token, options=options)
    held = upload.parts()
    assert [(p.number, p.size, p.etag) for p in held] == [
        (n, len(c), hashlib.md5(c).hexdigest()) for n, c in enumerate(chunks[:2], 1)
    ]
    last = upload.upload_part(
        3, chunks[2], checksums={"CRC64NVME": checksum("CRC64NVME", chunks[2])}
    )
    # Parts as listed carry the checksums the store kept, or none (moto lists none): a
    # part without one goes to Complete without a None member.
    done = upload.complete([*held, last], checksums={"CRC64NVME": checksum("CRC64NVME", whole)})
    assert done.etag and done.etag.endswith("-3")
    assert driver.read_range(bucket, "r.bin") == whole


def test_parts_pages_through_list_parts(faults, bucket_name, monkeypatch):
    """ListParts is paged with PartNumberMarker (the page size lowered to 2 parts)."""
    from pail.drivers.s3 import write

    monkeypatch.setattr(write, "LIST_PARTS_PAGE", 2)
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    upload = s3(faults.url).start_upload(bucket_name, "p.bin", 5)
    for n in range(1, 6):
        upload.upload_part(n, bytes([n]))
    listed = upload.parts()
    assert [(p.number, p.size, p.etag) for p in listed] == [
        (n, 1, hashlib.md5(bytes([n])).hexdigest()) for n in range(1, 6)
    ]
    pages = [r.query for r in faults.requests if r.method == "GET" and "uploadId" in r.query]
    assert [(q.get("max-parts"), q.get("part-number-marker")) for q in pages] == [
        ("2", None),
        ("2", "2"),
        ("2", "4"),
    ]
    upload.abort()


def test_abort_then_gone(store):
    endpoint, bucket = store
    driver = s3(endpoint)
    upload = driver.start_upload(bucket, "a.bin", 1, part_size=PART)  # S3 ignores it
    upload.upload_part(1, b"x")
    upload.abort()
    upload.abort()  # already gone: no error
    with pytest.raises(NotFound) as err:
        upload.parts()
    assert err.value.code == "NoSuchUpload"
    assert upload.token is not None
    with pytest.raises(NotFound):
        driver.resume_upload(bucket, "a.bin", 1, upload.token)
    with pytest.raises(NotFound):
        driver.head(bucket, "a.bin")


def test_a_503_on_a_part_is_retried(faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    driver = s3(faults.url, client_options={"max_attempts": 3})
    faults.add(Rule(method="PUT", query="partNumber=2", status=503, times=1))
    first = b"a" * PART
    upload = driver.start_upload(bucket_name, "p.bin", PART + 1)
    parts = [upload.upload_part(1, first), upload.upload_part(2, b"b")]
    upload.complete(parts)
    sent = [r for r in faults.requests if r.query.get("partNumber") == "2"]
    assert [r.status for r in sent] == [503, 200]
    assert driver.read_range(bucket_name, "p.bin", PART - 1) == b"ab"


def test_parts_from_threads(s3_endpoint):
    from concurrent.futures import ThreadPoolExecutor

    bucket = fresh_bucket(s3_endpoint)
    driver = s3(s3_endpoint)
    chunks = _parts_data()
    options = WriteOptions(checksum_algorithm="CRC64NVME")
    upload = driver.start_upload(bucket, "t.bin", sum(map(len, chunks)), options=options)
    with ThreadPoolExecutor(3) as pool:
        parts = list(pool.map(lambda nc: upload.upload_part(*nc), enumerate(chunks, 1)))
    # (moto 5.2.5 keeps the CRC32 under the name CRC32C for a FULL_OBJECT CRC32C upload,
    # so botocore's check of the GetObject would fail there: CRC64NVME here.)
    whole = b"".join(chunks)
    done = upload.complete(parts, checksums={"CRC64NVME": checksum("CRC64NVME", whole)})
    assert [p.number for p in parts] == [1, 2, 3]
    assert done.etag and done.etag.endswith("-3")
    assert driver.read_range(bucket, "t.bin") == b"".join(chunks)


# -- copies ---------------------------------------------------------------------------------


def test_copy_object_single(store):
    endpoint, bucket = store
    driver = s3(endpoint)
    data = b"copy me" * 100
    src = driver.put_object(bucket, "src.txt", data, options=WriteOptions(content_type="text/x"))
    done = driver.copy_object(
        bucket, "src.txt", bucket, "dst.txt", size=len(data), source_etag=src.etag
    )
    assert done.etag == src.etag == hashlib.md5(data).hexdigest()
    assert driver.read_range(bucket, "dst.txt") == data
    assert driver.head(bucket, "dst.txt").content_type == "text/x"
    replaced = driver.copy_object(
        bucket, "src.txt", bucket, "dst2.txt", size=len(data),
        options=WriteOptions(metadata={"a": "1"}, content_type="text/y"),
    )  # fmt: skip
    assert replaced.etag == src.etag
    head = driver.head(bucket, "dst2.txt")
    assert head.content_type == "text/y" and head.metadata == {"a": "1"}


def test_copy_checksum_on_moto(s3_endpoint):
    bucket = fresh_bucket(s3_endpoint)
    driver = s3(s3_endpoint)
    data = b"z" * 4096
    driver.put_object(bucket, "s", data)
    done = driver.copy_object(
        bucket,
        "s",
        bucket,
        "d",
        size=len(data),
        options=WriteOptions(checksum_algorithm="CRC64NVME"),
    )
    assert done.checksums == {"CRC64NVME": checksum("CRC64NVME", data)}


def test_copy_in_parts_with_upload_part_copy(s3_endpoint, faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    driver = s3(faults.url)
    chunks = _parts_data()
    whole = b"".join(chunks)
    src = driver.put_object(
        bucket_name,
        "src.bin",
        whole,
        options=WriteOptions(content_type="application/x-npy", metadata={"step": "7"}),
    )
    done = driver.copy_object(
        bucket_name, "src.bin", bucket_name, "dst.bin", size=len(whole),
        source_etag=src.etag, part_size=PART,
        options=WriteOptions(checksum_algorithm="CRC64NVME"),
    )  # fmt: skip
    copies = [r for r in faults.requests if "x-amz-copy-source-range" in r.headers]
    assert {r.headers["x-amz-copy-source-range"] for r in copies} == {
        f"bytes=0-{PART - 1}",
        f"bytes={PART}-{2 * PART - 1}",
        f"bytes={2 * PART}-{len(whole) - 1}",
    }
    assert all(r.headers["x-amz-copy-source-if-match"] == f'"{src.etag}"' for r in copies)
    md5s = b"".join(hashlib.md5(c).digest() for c in chunks)
    assert done.etag == f"{hashlib.md5(md5s).hexdigest()}-3"
    assert driver.read_range(bucket_name, "dst.bin") == whole
    stored = driver.object_checksums(bucket_name, "dst.bin")
    assert stored.checksums.get("CRC64NVME") == checksum("CRC64NVME", whole)
    head = driver.head(bucket_name, "dst.bin")  # kept as CopyObject's COPY would
    assert head.content_type == "application/x-npy" and head.metadata == {"step": "7"}


def test_copy_source_if_match_mismatch(seaweedfs):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    driver.put_object(bucket, "src", b"now")
    with pytest.raises(PreconditionFailed) as err:
        driver.copy_object(bucket, "src", bucket, "dst", size=3, source_etag="0" * 32)
    assert err.value.operation == "CopyObject"
    with pytest.raises(NotFound):
        driver.head(bucket, "dst")


def test_copy_in_parts_source_changed_aborts(seaweedfs):
    bucket = fresh_bucket(seaweedfs.endpoint)
    driver = s3(seaweedfs.endpoint)
    whole = b"".join(_parts_data())
    driver.put_object(bucket, "src", whole)
    stale = "0" * 32
    # Reading the source's headers (HeadObject If-Match) already fails: no upload begun.
    with pytest.raises(PreconditionFailed) as err:
        driver.copy_object(
            bucket, "src", bucket, "dst", size=len(whole), source_etag=stale, part_size=PART
        )
    assert err.value.operation == "HeadObject"
    # With the headers given, the parts' x-amz-copy-source-if-match fails: aborted.
    with pytest.raises(PreconditionFailed) as err:
        driver.copy_object(
            bucket, "src", bucket, "dst", size=len(whole), source_etag=stale, part_size=PART,
            options=WriteOptions(content_type="application/octet-stream"),
        )  # fmt: skip
    assert err.value.operation == "UploadPartCopy"
    uploads = s3_client(seaweedfs.endpoint).list_multipart_uploads(Bucket=bucket)
    assert not uploads.get("Uploads")
    with pytest.raises(NotFound):
        driver.head(bucket, "dst")


# -- permissions and faults -----------------------------------------------------------------


def test_reader_gets_access_denied(moto_iam_server):
    store = moto_iam_server
    user = store.users["reader"]
    driver = s3(store.endpoint, keys=(user.access_key_id, user.secret_access_key))
    with pytest.raises(AccessDenied) as err:
        driver.put_object(store.bucket, "data/new.txt", b"x")
    assert err.value.operation == "PutObject" and err.value.status == 403
    with pytest.raises(AccessDenied) as err:
        driver.start_upload(store.bucket, "data/new.bin", 1)
    assert err.value.operation == "CreateMultipartUpload"
    with pytest.raises(AccessDenied) as err:
        driver.copy_object(store.bucket, "data/a.txt", store.bucket, "data/c.txt", size=6)
    assert err.value.operation == "CopyObject"


def test_flipped_byte_on_the_way_is_refused_by_seaweedfs(seaweedfs, make_fault_proxy):
    """A byte of the PutObject body changed on the way to the store (the fault proxy flips
    it after the client computed its checksums and signature): SeaweedFS refuses it."""
    bucket = fresh_bucket(seaweedfs.endpoint)
    proxy = make_fault_proxy(seaweedfs.endpoint)
    driver = s3(proxy.url)
    data = b"precious bytes " * 64
    sums = {"MD5": checksum("MD5", data), "CRC64NVME": checksum("CRC64NVME", data)}
    rule = proxy.add(Rule(method="PUT", path=f"^/{bucket}/p$", action="flip-request", after=10))
    with pytest.raises(ChecksumMismatch) as err:
        driver.put_object(bucket, "p", data, checksums=sums)
    assert err.value.operation == "PutObject" and rule.hits == 1
    with pytest.raises(NotFound):
        driver.head(bucket, "p")


def test_parts_without_checksums_complete_without_none_members(faults, bucket_name):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    upload = s3(faults.url).start_upload(bucket_name, "n.bin", PART + 1)
    first = UploadedPart(1, PART, upload.upload_part(1, b"a" * PART).etag)  # no checksums
    done = upload.complete([first, upload.upload_part(2, b"b")])
    (complete,) = [r for r in faults.requests if r.method == "POST" and "uploadId" in r.query]
    assert complete.status == 200
    assert done.etag and done.etag.endswith("-2")


def test_create_only_put_whose_answer_was_lost_is_its_own(store, make_fault_proxy):
    """The first PutObject reaches the store and writes; the proxy drops its answer, so
    botocore retries, and the retry's 412 is this write's own first attempt."""
    endpoint, bucket = store
    proxy = make_fault_proxy(endpoint)
    driver = s3(proxy.url)
    data = b"written once " * 50
    rule = proxy.add(Rule(method="PUT", path=f"^/{bucket}/once$", action="lose-reply"))
    sums = {"MD5": checksum("MD5", data), "CRC64NVME": checksum("CRC64NVME", data)}
    done = driver.put_object(
        bucket, "once", data, options=WriteOptions(if_none_match=True), checksums=sums
    )
    puts = [r.status for r in proxy.requests if r.method == "PUT"]
    assert rule.hits == 1 and puts == [200, 412]  # the first wrote it; the retry got 412
    assert done.etag == hashlib.md5(data).hexdigest() and done.size == len(data)


def test_create_only_put_finding_other_bytes_stays_refused(s3_endpoint, make_fault_proxy):
    """The retried request's 412 is kept when the key holds other bytes (another writer)."""
    bucket = fresh_bucket(s3_endpoint)
    s3_client(s3_endpoint).put_object(Bucket=bucket, Key="k", Body=b"theirs")
    proxy = make_fault_proxy(s3_endpoint)
    driver = s3(proxy.url)
    proxy.add(Rule(method="PUT", path=f"^/{bucket}/k$", action="lose-reply"))
    with pytest.raises(PreconditionFailed) as err:
        driver.put_object(bucket, "k", b"mine", options=WriteOptions(if_none_match=True))
    assert [r.status for r in proxy.requests if r.method == "PUT"] == [412, 412]
    assert err.value.attempts == 2
    assert driver.read_range(bucket, "k") == b"theirs"


@pytest.mark.parametrize(
    ("operation", "rule"),
    [
        ("UploadPart", Rule(method="PUT", query="partNumber", status=403)),
        ("ListParts", Rule(method="GET", query="uploadId", status=403)),
        ("CompleteMultipartUpload", Rule(method="POST", query="uploadId", status=403)),
        ("AbortMultipartUpload", Rule(method="DELETE", query="uploadId", status=403)),
        ("UploadPartCopy", Rule(method="PUT", header="x-amz-copy-source-range", status=403)),
    ],
)
def test_each_multipart_request_names_its_operation(faults, bucket_name, operation, rule):
    s3_client(faults.url).create_bucket(Bucket=bucket_name)
    driver = s3(faults.url)
    source = b"s" * (PART + 1) if operation == "UploadPartCopy" else b"abcdef"
    driver.put_object(bucket_name, "src", source)
    upload = driver.start_upload(bucket_name, "m", 1)
    faults.add(rule)
    with pytest.raises(AccessDenied) as err:
        if operation == "UploadPart":
            upload.upload_part(1, b"x")
        elif operation == "ListParts":
            upload.parts()
        elif operation == "CompleteMultipartUpload":
            upload.complete([UploadedPart(1, 1, "0" * 32)])
        elif operation == "AbortMultipartUpload":
            upload.abort()
        else:
            driver.copy_object(
                bucket_name, "src", bucket_name, "dst", size=len(source), part_size=PART
            )
    assert err.value.operation == operation and err.value.status == 403
    assert rule.hits == 1  # a 403 is not retried


def test_multipart_composite_sha256(store):
    """SHA256 uploads are COMPOSITE: parts carry their SHA-256, Complete lists them."""
    endpoint, bucket = store
    driver = s3(endpoint)
    chunks = _parts_data()
    upload = driver.start_upload(
        bucket, "c.bin", sum(map(len, chunks)), options=WriteOptions(checksum_algorithm="SHA256")
    )
    parts = [
        upload.upload_part(n, c, checksums={"SHA256": checksum("SHA256", c)})
        for n, c in enumerate(chunks, 1)
    ]
    assert all(
        p.checksums["SHA256"] == checksum("SHA256", c) for p, c in zip(parts, chunks, strict=True)
    )
    done = upload.complete(parts)
    assert done.etag and done.etag.endswith("-3")
    assert driver.read_range(bucket, "c.bin", 2 * PART) == chunks[2]
