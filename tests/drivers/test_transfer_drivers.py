"""``download_to`` and ``presign`` on every backend, against real stores: moto over HTTP,
the GCS emulator and a temporary folder. Objects are written through the stores' own
clients (or moto's in-process backend for bulk bytes), never through the driver."""

from __future__ import annotations

import os
import threading
import urllib.request
from pathlib import Path

import pytest

from conftest import gcs_client, s3_client, seed_keys
from pail.config import ConnectionSpec
from pail.drivers.errors import InvalidRequest, NotFound, TransferCancelled
from pail.drivers.registry import open_driver

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


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """8 MiB parts (pail's own tuning constants), so test objects of tens of MiB take the
    parallel-parts path without seeding hundreds of MiB."""
    from pail.drivers import _s3_transfer

    monkeypatch.setattr(_s3_transfer, "MULTIPART_THRESHOLD", 8 * MIB)
    monkeypatch.setattr(_s3_transfer, "PART_SIZE", 8 * MIB)


def _s3(endpoint: str):
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec)


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    """(driver, bucket) on a fresh moto bucket."""
    return _s3(s3_endpoint), bucket_name


@pytest.fixture
def gcs(gcs_emulator, bucket_name):
    """(driver, bucket, raw google-cloud-storage bucket) on the emulator."""
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    return open_driver(ConnectionSpec(name="g", provider="gcs")), bucket_name, raw


def _empty(path: Path) -> str:
    path.write_bytes(b"")
    return str(path)


@pytest.mark.parametrize("size", [0, 3 * MIB + 17, 20 * MIB + 5])  # stream and multipart
def test_s3_download_to_writes_the_whole_object(s3, tmp_path, size):
    driver, bucket = s3
    data = _body(size)
    seed_keys(bucket, {"k.bin": data})
    seen: list[int] = []
    lock = threading.Lock()

    def progress(n: int) -> None:
        with lock:
            seen.append(n)

    out = _empty(tmp_path / "out")
    driver.download_to(bucket, "k.bin", out, size=size, progress=progress)
    assert Path(out).read_bytes() == data
    assert sum(seen) == size


def test_s3_download_to_without_size_uses_the_transfer_manager(s3, tmp_path):
    driver, bucket = s3
    data = _body(9 * MIB)
    seed_keys(bucket, {"k": data})
    out = _empty(tmp_path / "out")
    driver.download_to(bucket, "k", out)
    assert Path(out).read_bytes() == data


def test_s3_resume_fetches_only_the_rest(s3, tmp_path):
    driver, bucket = s3
    data = _body(2 * MIB + 3)
    seed_keys(bucket, {"k": data})
    out = tmp_path / "out"
    out.write_bytes(data[:MIB] + b"stale tail that must go")
    fetched: list[int] = []
    driver.download_to(bucket, "k", str(out), start=MIB, size=len(data), progress=fetched.append)
    assert out.read_bytes() == data
    assert sum(fetched) == len(data) - MIB


def test_s3_resume_at_the_end_fetches_nothing(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"k": b"abc"})
    out = tmp_path / "out"
    out.write_bytes(b"abc")
    driver.download_to(bucket, "k", str(out), start=3)  # size unknown: S3 answers 416
    assert out.read_bytes() == b"abc"


@pytest.mark.parametrize("size", [3 * MIB, 24 * MIB])
def test_s3_cancel_keeps_a_resumable_prefix(s3, tmp_path, size):
    driver, bucket = s3
    data = _body(size)
    seed_keys(bucket, {"k": data})
    cancel = threading.Event()
    out = _empty(tmp_path / "out")
    with pytest.raises(TransferCancelled):
        driver.download_to(
            bucket, "k", out, size=size, progress=lambda n: cancel.set(), cancel=cancel
        )
    kept = Path(out).read_bytes()
    assert len(kept) < size
    assert kept == data[: len(kept)]  # no holes: a ranged resume from here is exact
    driver.download_to(bucket, "k", out, start=len(kept), size=size)
    assert Path(out).read_bytes() == data


def test_s3_missing_key_is_not_found(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"other": b"x"})
    with pytest.raises(NotFound) as info:
        driver.download_to(bucket, "nope", _empty(tmp_path / "o"), size=1)
    assert info.value.operation == "GetObject"


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


@pytest.mark.parametrize("size", [5, 33 * MIB + 1])  # stream and parallel parts
def test_gcs_download_to_writes_the_whole_object(gcs, tmp_path, size):
    driver, bucket, raw = gcs
    data = _body(size, seed=3)
    raw.blob("m/x.bin").upload_from_string(data)
    seen: list[int] = []
    lock = threading.Lock()

    def progress(n: int) -> None:
        with lock:
            seen.append(n)

    out = _empty(tmp_path / "out")
    driver.download_to(bucket, "m/x.bin", out, size=size, progress=progress)
    assert Path(out).read_bytes() == data
    assert sum(seen) == size


def test_gcs_resume_and_cancel(gcs, tmp_path):
    driver, bucket, raw = gcs
    data = _body(3 * MIB, seed=5)
    raw.blob("k").upload_from_string(data)
    out = tmp_path / "out"
    out.write_bytes(data[:1000])
    driver.download_to(bucket, "k", str(out), start=1000, size=len(data))
    assert out.read_bytes() == data
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(TransferCancelled):
        driver.download_to(bucket, "k", _empty(tmp_path / "c"), size=len(data), cancel=cancel)


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


def test_local_download_to_presign_and_errors(tmp_path):
    root = tmp_path / "store"
    (root / "b" / "d").mkdir(parents=True)
    data = _body(2 * MIB + 9)
    (root / "b" / "d" / "f.bin").write_bytes(data)
    driver = open_driver(ConnectionSpec(name="l", provider="local", root=str(root)))
    out = tmp_path / "out"
    out.write_bytes(data[:100])
    fetched: list[int] = []
    driver.download_to("b", "d/f.bin", str(out), start=100, progress=fetched.append)
    assert out.read_bytes() == data and sum(fetched) == len(data) - 100
    cancel = threading.Event()
    with pytest.raises(TransferCancelled):
        driver.download_to("b", "d/f.bin", str(out), progress=lambda n: cancel.set(), cancel=cancel)
    assert out.read_bytes() == data[: os.path.getsize(out)]
    with pytest.raises(NotFound):
        driver.download_to("b", "d/missing", str(out))
    assert driver.presign("b", "d/f.bin", 60) == (root / "b" / "d" / "f.bin").as_uri()


def test_s3_download_over_real_http_multipart_upload(s3_endpoint, bucket_name, tmp_path):
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
    out = _empty(tmp_path / "mp")
    driver = _s3(s3_endpoint)
    driver.download_to(bucket_name, "mp", out, size=len(data))
    assert Path(out).read_bytes() == data
    assert driver.part_size(bucket_name, "mp") == 5 * MIB
    raw.put_object(Bucket=bucket_name, Key="single", Body=b"abc")
    assert driver.part_size(bucket_name, "single") is None
