"""pail.services.compare against real stores: moto over HTTP, SeaweedFS, the GCS emulator
and local folders (pail's own drivers; seeding through boto3 / google-cloud-storage)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.core.uri import format_uri
from pail.drivers.gcs import GcsDriver
from pail.drivers.registry import open_driver
from pail.drivers.s3 import S3Driver
from pail.services.compare import CompareCancelled, compare
from pail.services.transfer import Side
from support.servers import gcs_client, s3_client, seed_keys

MIB = 1024 * 1024

# One tree on both sides, then the differences: only in A, only in B, size, same size.
SAME = {"same.txt": b"hello\n", "deep/er/x.bin": b"\x00\x01" * 500}
A_ONLY = {"a-only.txt": b"a"}
B_ONLY = {"b-only.txt": b"b"}
SIZE = ("size.txt", b"12345", b"123456")
BYTES = ("bytes.txt", b"aaaa", b"aaab")


def local_side(folder: Path, tree: dict[str, bytes]) -> Side:
    for rel, data in tree.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    folder.mkdir(parents=True, exist_ok=True)
    spec = ConnectionSpec(name="local", provider="local", root=str(folder), single_bucket=True)
    return Side(open_driver(spec), folder.name, "", str(folder))


def trees() -> tuple[dict[str, bytes], dict[str, bytes]]:
    a = {**SAME, **A_ONLY, SIZE[0]: SIZE[1], BYTES[0]: BYTES[1]}
    b = {**SAME, **B_ONLY, SIZE[0]: SIZE[2], BYTES[0]: BYTES[2]}
    return a, b


def outcomes(report) -> dict[str, tuple[str, str | None]]:
    return {e.rel: (e.outcome, e.method) for e in report.entries}


def expected(method: str) -> dict[str, tuple[str, str | None]]:
    return {
        "same.txt": ("identical", method),
        "deep/er/x.bin": ("identical", method),
        "a-only.txt": ("only_a", None),
        "b-only.txt": ("only_b", None),
        "size.txt": ("differ", None),
        "bytes.txt": ("differ", method),
    }


@pytest.fixture
def moto(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {})
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def s3_side(driver, bucket: str, prefix: str) -> Side:
    return Side(driver, bucket, prefix, format_uri("s3", bucket, prefix))


def test_local_vs_moto_every_outcome(moto, tmp_path):
    driver, bucket = moto
    a_tree, b_tree = trees()
    seed_keys(bucket, {f"p/{k}": v for k, v in b_tree.items()} | {"p/sub/": b"", "other": b"x"})
    seen: list[tuple[str, int]] = []
    report = compare(
        local_side(tmp_path / "a", a_tree),
        s3_side(driver, bucket, "p"),  # no "/": taken as the prefix p/
        on_progress=lambda phase, n: seen.append((phase, n)),
    )
    assert outcomes(report) == expected("md5")
    by_rel = {e.rel: e for e in report.entries}
    assert by_rel["size.txt"].reason == "size 5 vs 6"
    assert by_rel["bytes.txt"].reason == "checksum md5 differs"
    assert report.counts() == {
        "only_a": 1, "only_b": 1, "differ": 2, "unproven": 0, "identical": 2
    }  # fmt: skip
    assert not report.all_identical and not report.errors
    assert ("listed", 11) in seen and seen[-1] == ("checked", 3)
    assert report.summary() == "2 identical (md5 2); 2 differ; 1 only in A; 1 only in B"
    data = json.loads(json.dumps(report.to_dict()))
    assert data["counts"]["identical"] == 2 and data["all_identical"] is False
    assert [d["rel"] for d in data["differences"]] == [
        "a-only.txt", "b-only.txt", "bytes.txt", "size.txt"
    ]  # fmt: skip


def test_s3_vs_s3_listing_etags_and_one_way(moto, tmp_path):
    driver, bucket = moto
    a_tree, b_tree = trees()
    seed_keys(bucket, {f"a/{k}": v for k, v in a_tree.items()})
    seed_keys(bucket, {f"b/{k}": v for k, v in b_tree.items()})
    a, b = s3_side(driver, bucket, "a/"), s3_side(driver, bucket, "b/")
    assert outcomes(compare(a, b)) == expected("md5")
    one_way = compare(a, b, one_way=True)
    assert "b-only.txt" not in outcomes(one_way) and one_way.only_b == []
    assert [e.rel for e in one_way.only_a] == ["a-only.txt"]
    sizes_only = compare(a, b, checksums=False)
    assert sizes_only.identical == []
    assert {e.rel for e in sizes_only.unproven} == {"same.txt", "deep/er/x.bin", "bytes.txt"}
    assert sizes_only.unproven[0].reason == "same size (checksums not compared)"


def test_identical_everything(moto, tmp_path):
    driver, bucket = moto
    seed_keys(bucket, {f"p/{k}": v for k, v in SAME.items()})
    report = compare(local_side(tmp_path / "a", SAME), s3_side(driver, bucket, "p/"))
    assert report.all_identical and report.differences == []
    assert report.summary() == "2 identical (md5 2)"


def multipart(client, bucket: str, key: str, parts: list[bytes]) -> str:
    """Upload ``parts`` with boto3's multipart calls; returns the ETag."""
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for n, body in enumerate(parts, 1):
        etag = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body)[
            "ETag"
        ]
        done.append({"ETag": etag, "PartNumber": n})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )
    return client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


def test_local_vs_multipart_object_proved_by_multipart_md5(moto, s3_endpoint, tmp_path):
    driver, bucket = moto
    client = s3_client(s3_endpoint)
    body = os.urandom(5 * MIB + 1000)
    etag = multipart(client, bucket, "m/big.bin", [body[: 5 * MIB], body[5 * MIB :]])
    assert etag.endswith("-2")
    other = bytearray(body)
    other[-1] ^= 1
    good = compare(local_side(tmp_path / "good", {"big.bin": body}), s3_side(driver, bucket, "m/"))
    assert outcomes(good) == {"big.bin": ("identical", "multipart-md5")}
    bad = compare(
        local_side(tmp_path / "bad", {"big.bin": bytes(other)}), s3_side(driver, bucket, "m/")
    )
    # The store tells the part sizes: a miss with the real sizes is a difference.
    assert outcomes(bad) == {"big.bin": ("differ", "multipart-md5")}


def test_multipart_vs_single_put_is_unproven_and_equal_multipart_etags_do_not_prove(
    moto, s3_endpoint
):
    driver, bucket = moto
    client = s3_client(s3_endpoint)
    body = os.urandom(5 * MIB + 10)
    parts = [body[: 5 * MIB], body[5 * MIB :]]
    multipart(client, bucket, "a/x.bin", parts)
    multipart(client, bucket, "c/x.bin", parts)
    seed_keys(bucket, {"b/x.bin": body})
    a = s3_side(driver, bucket, "a/")
    report = compare(a, s3_side(driver, bucket, "b/"))
    (entry,) = report.entries
    # Same bytes, but a multipart ETag and a plain MD5 ETag prove nothing about each other:
    # never "identical" on size alone.
    assert entry.outcome == "unproven" and entry.reason.startswith("same size")
    assert not report.all_identical
    # Equal multipart ETags prove nothing either (AWS: "not an MD5 digest"; undocumented).
    (same,) = compare(a, s3_side(driver, bucket, "c/")).entries
    assert same.outcome == "unproven" and "multipart ETag" in same.reason


def test_local_vs_local_sha256(tmp_path):
    a_tree, b_tree = trees()
    report = compare(local_side(tmp_path / "a", a_tree), local_side(tmp_path / "b", b_tree))
    assert outcomes(report) == expected("sha256")


def test_missing_local_folder_is_empty(moto, tmp_path):
    driver, bucket = moto
    seed_keys(bucket, {"p/x": b"1"})
    spec = ConnectionSpec(name="l", provider="local", root=str(tmp_path), single_bucket=False)
    side = Side(open_driver(spec), "nothing-here", "", str(tmp_path / "nothing-here"))
    report = compare(side, s3_side(driver, bucket, "p/"))
    assert outcomes(report) == {"x": ("only_b", None)}


def test_cancel(moto, tmp_path):
    driver, bucket = moto
    seed_keys(bucket, {f"p/{k}": v for k, v in SAME.items()})
    stop = threading.Event()
    stop.set()
    with pytest.raises(CompareCancelled):
        compare(local_side(tmp_path / "a", SAME), s3_side(driver, bucket, "p/"), cancel=stop)


def test_seaweedfs_vs_local(seaweedfs, bucket_name, tmp_path):
    from support.seaweed import put_many

    client = seaweedfs.client()
    client.create_bucket(Bucket=bucket_name)
    a_tree, b_tree = trees()
    put_many(client, bucket_name, {f"p/{k}": v for k, v in b_tree.items()})
    driver = S3Driver(client=client)
    report = compare(local_side(tmp_path / "a", a_tree), s3_side(driver, bucket_name, "p/"))
    want = expected("md5")
    # SeaweedFS keeps the CRC32 boto3 sends with PutObject: the difference is found by the
    # MD5 ETag miss, then proved by that full-object CRC32.
    want["bytes.txt"] = ("differ", "crc32")
    assert outcomes(report) == want


def test_gcs_vs_local_and_s3(gcs_emulator, moto, bucket_name, tmp_path):
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    a_tree, b_tree = trees()
    for key, data in b_tree.items():
        raw.blob(f"p/{key}").upload_from_string(data)
    gcs = Side(GcsDriver(client=client), bucket_name, "p/", format_uri("gcs", bucket_name, "p/"))
    report = compare(local_side(tmp_path / "a", a_tree), gcs)
    assert outcomes(report) == expected("crc32c")
    # S3 plain-MD5 ETags meet GCS md5Hash values.
    driver, bucket = moto
    seed_keys(bucket, {f"q/{k}": v for k, v in a_tree.items()})
    across = compare(s3_side(driver, bucket, "q/"), gcs)
    found = outcomes(across)
    assert found["same.txt"][0] == "identical" and found["bytes.txt"][0] == "differ"
    assert found["same.txt"][1] in ("md5", "crc32c")


def test_encrypted_object_without_checksum_is_unproven(moto, s3_endpoint, tmp_path):
    import boto3
    from botocore.config import Config

    driver, bucket = moto
    # No additional checksum sent (boto3 adds CRC32 by default, which moto would keep).
    client = boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(
            s3={"addressing_style": "path"}, request_checksum_calculation="when_required"
        ),
    )  # fmt: skip
    for key in ("k/same.bin", "k/other.bin"):
        client.put_object(
            Bucket=bucket, Key=key, Body=b"secret!!", ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/test",
        )  # fmt: skip
    local = local_side(tmp_path / "a", {"same.bin": b"secret!!", "other.bin": b"SECRET!!"})
    report = compare(local, s3_side(driver, bucket, "k/"))
    # moto keeps MD5 ETags under SSE-KMS: a match still proves the bytes. A miss proves
    # nothing (an SSE-KMS ETag is not an MD5 on AWS): unproven, never "differ".
    assert outcomes(report) == {
        "same.bin": ("identical", "md5"),
        "other.bin": ("unproven", None),
    }
    assert "encrypted object" in {e.rel: e for e in report.entries}["other.bin"].reason


def test_seaweedfs_multipart_proved_with_its_part_sizes(seaweedfs, bucket_name, tmp_path):
    client = seaweedfs.client()
    client.create_bucket(Bucket=bucket_name)
    body = os.urandom(11 * MIB + 3)
    # Parts no usual layout guesses (6 MiB + 3 bytes, then 5 MiB): SeaweedFS 4.48 answers
    # HeadObject PartNumber, so the real sizes prove it.
    multipart(client, bucket_name, "m/x.bin", [body[: 6 * MIB + 3], body[6 * MIB + 3 :]])
    driver = S3Driver(client=client)
    report = compare(
        local_side(tmp_path / "a", {"x.bin": body}), s3_side(driver, bucket_name, "m/")
    )
    assert outcomes(report) == {"x.bin": ("identical", "multipart-md5")}


class NoPartNumbers:
    """pail's S3 driver on a store that refuses HeadObject PartNumber (400), as some S3
    implementations do: part sizes unknown, only guessed layouts can prove."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.provider = inner.provider

    def list_page(self, *args, **kwargs):
        return self.inner.list_page(*args, **kwargs)

    def object_checksums(self, *args, **kwargs):
        return self.inner.object_checksums(*args, **kwargs)

    def part_size(self, bucket, key, **kwargs):
        from pail.drivers.errors import StorageError

        raise StorageError("bad request", operation="HeadObject", code="InvalidArgument")

    def part_sizes(self, bucket, key, parts, **kwargs):
        return self.part_size(bucket, key)


def test_multipart_with_unknown_part_sizes_guessed_or_unproven(moto, s3_endpoint, tmp_path):
    driver, bucket = moto
    client = s3_client(s3_endpoint)
    usual = os.urandom(5 * MIB + 5)
    odd = os.urandom(11 * MIB + 3)
    multipart(client, bucket, "m/usual.bin", [usual[: 5 * MIB], usual[5 * MIB :]])
    multipart(client, bucket, "m/odd.bin", [odd[: 6 * MIB + 3], odd[6 * MIB + 3 :]])
    side = s3_side(NoPartNumbers(driver), bucket, "m/")
    report = compare(local_side(tmp_path / "a", {"usual.bin": usual, "odd.bin": odd}), side)
    # A guessed layout (5 MiB parts) that matches proves; one that misses proves nothing.
    assert outcomes(report) == {
        "usual.bin": ("identical", "multipart-md5"),
        "odd.bin": ("unproven", None),
    }
    odd_entry = report.entries[0]
    assert "part sizes" in odd_entry.reason, odd_entry.reason
