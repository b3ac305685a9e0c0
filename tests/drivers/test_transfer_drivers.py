"""``stream_range``, ``object_checksums`` and ``presign`` on every backend, against real
stores: moto and SeaweedFS over HTTP, the GCS emulator and a temporary folder. Objects are
written through the stores' own clients, never through the driver."""

from __future__ import annotations

import base64
import hashlib
import os
import urllib.request

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import (
    InvalidRequest,
    NotFound,
    StorageError,
    StreamInterrupted,
    TransferCancelled,
)
from pail.drivers.registry import open_driver
from support.seaweed import S3_SERVERS, s3_endpoint_for
from support.servers import gcs_client, s3_client

MIB = 1024 * 1024


def _body(size: int, seed: int = 7) -> bytes:
    """Deterministic bytes that differ at every MiB, so a misplaced part is visible."""
    block = bytes((i * seed + n) % 251 for n in range(4096) for i in (1,))
    out = bytearray()
    n = 0
    while len(out) < size:
        out += bytes([n % 256]) + block[:4095]
        n += 1
    return bytes(out[:size])


def _s3(endpoint: str):
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec)


@pytest.fixture(params=S3_SERVERS)
def s3_endpoint(request):
    """Every S3 test here runs on moto and on SeaweedFS."""
    return s3_endpoint_for(request, request.param)


#: The boto3 client of each test's bucket (bucket names are unique per test).
_RAW: dict[str, object] = {}


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    """(driver, bucket) on a fresh bucket of moto or SeaweedFS."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    _RAW[bucket_name] = raw
    yield _s3(s3_endpoint), bucket_name
    _RAW.pop(bucket_name, None)


def seed_keys(bucket: str, objects: dict[str, bytes]) -> None:
    """Put ``objects`` into the test's ``bucket`` over HTTP (its server's own client)."""
    for key, body in objects.items():
        _RAW[bucket].put_object(Bucket=bucket, Key=key, Body=body)


@pytest.fixture
def gcs(gcs_emulator, bucket_name):
    """(driver, bucket, raw google-cloud-storage bucket) on the emulator."""
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    return open_driver(ConnectionSpec(name="g", provider="gcs")), bucket_name, raw


def _collect(driver, bucket: str, key: str, start: int, end: int, **kwargs) -> bytes:
    """``stream_range`` into memory, checking the chunks arrive in order."""
    chunks: list[bytes] = []
    driver.stream_range(bucket, key, start, end, chunks.append, **kwargs)
    return b"".join(chunks)


@pytest.mark.parametrize("size", [1, 3 * MIB + 17, 20 * MIB + 5])
def test_s3_stream_range_whole_and_middle(s3, size):
    driver, bucket = s3
    data = _body(size)
    seed_keys(bucket, {"k.bin": data})
    assert _collect(driver, bucket, "k.bin", 0, size) == data
    mid = size // 2
    assert _collect(driver, bucket, "k.bin", mid, size) == data[mid:]
    assert _collect(driver, bucket, "k.bin", 0, mid + 1) == data[: mid + 1]


def test_s3_stream_range_is_pinned_by_etag(s3):
    driver, bucket = s3
    seed_keys(bucket, {"k": b"version one"})
    etag = driver.head(bucket, "k").etag
    assert _collect(driver, bucket, "k", 0, 11, etag=etag) == b"version one"
    seed_keys(bucket, {"k": b"version two"})
    with pytest.raises(StorageError) as info:  # If-Match: the object changed
        _collect(driver, bucket, "k", 0, 11, etag=etag)
    assert info.value.status == 412


def test_s3_sink_errors_pass_unchanged(s3):
    driver, bucket = s3
    seed_keys(bucket, {"k": _body(3 * MIB)})

    def sink(chunk: bytes) -> None:
        raise TransferCancelled("stop", operation="download")

    with pytest.raises(TransferCancelled):
        driver.stream_range(bucket, "k", 0, 3 * MIB, sink)
    with pytest.raises(OSError):
        driver.stream_range(bucket, "k", 0, 10, lambda c: os.write(-1, c))


def test_s3_missing_key_is_not_found(s3):
    driver, bucket = s3
    seed_keys(bucket, {"other": b"x"})
    with pytest.raises(NotFound) as info:
        _collect(driver, bucket, "nope", 0, 1)
    assert info.value.operation == "GetObject"


def test_s3_object_checksums(s3_endpoint, bucket_name):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_object(Bucket=bucket_name, Key="sha", Body=b"hello", ChecksumAlgorithm="SHA256")
    driver = _s3(s3_endpoint)
    info = driver.object_checksums(bucket_name, "sha")
    assert info.size == 5 and info.etag_is_md5 and info.etag == hashlib.md5(b"hello").hexdigest()
    want = base64.b64encode(hashlib.sha256(b"hello").digest()).decode()
    assert info.checksums["SHA256"] == want


def test_s3_presigned_url_fetches_the_object(s3):
    driver, bucket = s3
    seed_keys(bucket, {"dir/a b.txt": b"presigned body"})
    url = driver.presign(bucket, "dir/a b.txt", 600)
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=600" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == b"presigned body"


@pytest.mark.parametrize("seconds", [0, -5, 604801])
def test_presign_rejects_expiry_out_of_range(s3, seconds):
    driver, bucket = s3
    with pytest.raises(InvalidRequest) as info:
        driver.presign(bucket, "k", seconds)
    assert info.value.code == "InvalidExpiry"


@pytest.mark.parametrize("size", [5, 3 * MIB + 1])
def test_gcs_stream_range_and_checksums(gcs, size):
    driver, bucket, raw = gcs
    data = _body(size, seed=3)
    raw.blob("m/x.bin").upload_from_string(data)
    assert _collect(driver, bucket, "m/x.bin", 0, size) == data
    assert _collect(driver, bucket, "m/x.bin", 2, size) == data[2:]
    info = driver.object_checksums(bucket, "m/x.bin")
    assert info.size == size and info.version_id
    assert info.checksums["MD5"] == base64.b64encode(hashlib.md5(data).digest()).decode()

    def sink(chunk: bytes) -> None:
        raise TransferCancelled("stop", operation="download")

    with pytest.raises(TransferCancelled):
        driver.stream_range(bucket, "m/x.bin", 0, size, sink)
    with pytest.raises(NotFound):
        _collect(driver, bucket, "m/missing", 0, 1)


def test_gcs_signed_url_needs_a_service_account(gcs):
    driver, bucket, raw = gcs
    raw.blob("k").upload_from_string(b"x")
    with pytest.raises(InvalidRequest) as info:
        driver.presign(bucket, "k", 60)
    assert info.value.code == "SigningUnavailable"
    assert "service-account" in str(info.value)


def test_gcs_signed_url_with_a_service_account_key(gcs_emulator, bucket_name):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.cloud import storage
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "signer@pail-test.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
        "project_id": "pail-test",
    }
    credentials = service_account.Credentials.from_service_account_info(info)
    client = storage.Client(
        project="pail-test", credentials=credentials, client_options={"api_endpoint": gcs_emulator}
    )
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"), client=client)
    url = driver.presign(bucket_name, "runs/model.pt", 900)
    assert "X-Goog-Signature=" in url and "X-Goog-Expires=900" in url
    assert "signer%40pail-test.iam.gserviceaccount.com" in url
    assert "runs/model.pt" in url


def test_local_stream_range_checksums_presign_and_errors(tmp_path):
    root = tmp_path / "store"
    (root / "b" / "d").mkdir(parents=True)
    data = _body(2 * MIB + 9)
    (root / "b" / "d" / "f.bin").write_bytes(data)
    driver = open_driver(ConnectionSpec(name="l", provider="local", root=str(root)))
    assert _collect(driver, "b", "d/f.bin", 100, len(data)) == data[100:]
    info = driver.object_checksums("b", "d/f.bin")
    assert info.checksums["SHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    with pytest.raises(StreamInterrupted):  # asked past the end: the file is shorter
        _collect(driver, "b", "d/f.bin", 0, len(data) + 1)
    with pytest.raises(NotFound):
        _collect(driver, "b", "d/missing", 0, 1)
    assert driver.presign("b", "d/f.bin", 60) == (root / "b" / "d" / "f.bin").as_uri()


def test_s3_multipart_object_ranges_and_part_sizes(s3_endpoint, bucket_name):
    """A multipart upload made with boto3 (two 5 MiB parts + a tail) comes back intact."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    data = _body(11 * MIB)
    upload = raw.create_multipart_upload(Bucket=bucket_name, Key="mp")
    parts = []
    for number, first in enumerate(range(0, len(data), 5 * MIB), start=1):
        part = raw.upload_part(
            Bucket=bucket_name, Key="mp", UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + 5 * MIB],
        )  # fmt: skip
        parts.append({"PartNumber": number, "ETag": part["ETag"]})
    raw.complete_multipart_upload(
        Bucket=bucket_name, Key="mp", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    driver = _s3(s3_endpoint)
    assert _collect(driver, bucket_name, "mp", 0, len(data)) == data
    assert driver.part_size(bucket_name, "mp") == 5 * MIB
    assert driver.part_size(bucket_name, "mp", part_number=3) == MIB
    assert driver.part_sizes(bucket_name, "mp", 3) == [5 * MIB, 5 * MIB, MIB]
    raw.put_object(Bucket=bucket_name, Key="single", Body=b"abc")
    assert driver.part_size(bucket_name, "single") is None
