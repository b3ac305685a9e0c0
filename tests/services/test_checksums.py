"""pail.services.checksums: the one "identical needs proof" rule, on hand-made checksum facts
and on what moto over HTTP and the GCS emulator vouch for (pail's own drivers), also through
the transfer engine's check of an existing destination (proven_identical)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from pail.core.uri import format_uri
from pail.drivers.base import ObjectChecksums
from pail.drivers.gcs import GcsDriver
from pail.drivers.s3 import S3Driver
from pail.services.checksums import (
    MD5_ETAG,
    MULTIPART_ETAG,
    etag_as_md5,
    full_object,
    judge,
    listed_md5,
)
from pail.services.transfer import Side
from pail.services.transfer.conflicts import proven_identical
from support.servers import gcs_client, s3_client, seed_keys


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


MD5_ABC = hashlib.md5(b"abc").hexdigest()
MD5_ABD = hashlib.md5(b"abd").hexdigest()
SHA_ABC = b64(hashlib.sha256(b"abc").digest())
SHA_ABD = b64(hashlib.sha256(b"abd").digest())


def facts(checksums: dict[str, str] | None = None, **more: object) -> ObjectChecksums:
    return ObjectChecksums(size=3, checksums=checksums or {}, **more)  # type: ignore[arg-type]


def test_patterns_are_anchored_and_take_either_case():
    assert MD5_ETAG.match(MD5_ABC) and MD5_ETAG.match(MD5_ABC.upper())
    assert not MD5_ETAG.match(MD5_ABC + "-2") and not MD5_ETAG.match("x" + MD5_ABC)
    assert not MD5_ETAG.match(MD5_ABC + "\n")
    multi = MULTIPART_ETAG.match(MD5_ABC + "-12")
    assert multi and multi.group(1) == MD5_ABC and multi.group(2) == "12"
    assert not MULTIPART_ETAG.match(MD5_ABC) and not MULTIPART_ETAG.match(MD5_ABC + "-")


def test_etag_as_md5_only_for_plain_md5_etags_the_store_vouches_for():
    md5 = b64(hashlib.md5(b"abc").digest())
    assert etag_as_md5(facts(etag=MD5_ABC, etag_is_md5=True)) == md5
    assert etag_as_md5(facts(etag=f'"{MD5_ABC.upper()}"', etag_is_md5=True)) == md5
    # SSE-KMS / SSE-C: an ETag of 32 hex digits that is no MD5.
    assert etag_as_md5(facts(etag=MD5_ABC, etag_is_md5=False)) is None
    assert etag_as_md5(facts(etag=MD5_ABC + "-2", etag_is_md5=True)) is None
    assert etag_as_md5(facts()) is None


def test_listed_md5_is_s3_plain_etags_only():
    assert listed_md5("s3", f'"{MD5_ABC.upper()}"') == MD5_ABC
    assert listed_md5("s3", MD5_ABC + "-3") is None
    assert listed_md5("gcs", MD5_ABC) is None and listed_md5("local", MD5_ABC) is None
    assert listed_md5("s3", None) is None


def test_full_object_values():
    assert full_object(facts(checksum_type="FULL_OBJECT"), SHA_ABC)
    assert full_object(facts(), SHA_ABC)
    assert not full_object(facts(checksum_type="COMPOSITE"), SHA_ABC)
    assert not full_object(facts(), SHA_ABC + "-2")
    # A value of unstated type on a multipart object (moto) may be composite.
    assert not full_object(facts(etag=MD5_ABC + "-2", etag_is_md5=True), SHA_ABC)


def test_equal_checksum_proves_and_a_differing_full_object_one_disproves():
    same = judge(facts({"SHA256": SHA_ABC}), facts({"SHA256": SHA_ABC}))
    assert (same.state, same.method, same.from_etag) == ("identical", "SHA256", False)
    differ = judge(facts({"SHA256": SHA_ABC}), facts({"SHA256": SHA_ABD}))
    assert (differ.state, differ.method) == ("differ", "SHA256")
    assert (differ.value_a, differ.value_b) == (SHA_ABC, SHA_ABD)
    # Algorithm names are matched in upper case; empty values are not checksums.
    assert judge(facts({"sha256": SHA_ABC}), facts({"SHA256": SHA_ABC})).state == "identical"
    assert judge(facts({"SHA256": ""}), facts({"SHA256": ""})).state == "unproven"


def test_sizes_that_differ_are_differ_without_a_method():
    verdict = judge(
        facts({"SHA256": SHA_ABC}), ObjectChecksums(size=4, checksums={"SHA256": SHA_ABC})
    )
    assert (verdict.state, verdict.method, verdict.note) == ("differ", None, "size 3 vs 4")


def test_every_shared_algorithm_must_agree():
    # A store contradicting itself is never "identical", whichever algorithm comes first.
    a = facts({"CRC32": "AAAAAA==", "SHA256": SHA_ABC})
    b = facts({"CRC32": "AAAAAA==", "SHA256": SHA_ABD})
    assert judge(a, b).state == "differ" and judge(a, b).method == "SHA256"
    a = facts({"CRC32": "AAAAAA==", "SHA256": SHA_ABC})
    b = facts({"CRC32": "BBBBBB==", "SHA256": SHA_ABC})
    assert (judge(a, b).state, judge(a, b).method) == ("differ", "CRC32")
    # The strongest equal one names the proof.
    both = facts({"CRC32": "AAAAAA==", "SHA256": SHA_ABC})
    assert judge(both, both).method == "SHA256"


def test_composite_values_prove_when_equal_and_never_disprove():
    a = facts({"CRC32C": "AAAAAA==-2"}, checksum_type="COMPOSITE")
    assert judge(a, a).state == "identical"
    other = facts({"CRC32C": "BBBBBB==-3"}, checksum_type="COMPOSITE")
    assert judge(a, other).state == "unproven"
    # Unstated type on multipart objects (moto's composite values): no difference proved.
    ma = facts({"SHA256": SHA_ABC}, etag=MD5_ABC + "-2", etag_is_md5=True)
    mb = facts({"SHA256": SHA_ABD}, etag=MD5_ABD + "-3", etag_is_md5=True)
    assert judge(ma, mb).state == "unproven"


def test_plain_md5_etags_count_as_md5():
    plain = facts(etag=MD5_ABC, etag_is_md5=True)
    other = facts(etag=MD5_ABD, etag_is_md5=True)
    same = judge(plain, plain)
    assert (same.state, same.method, same.from_etag) == ("identical", "MD5", True)
    assert judge(plain, other).state == "differ"
    # ... and meet a store's MD5 (a GCS md5Hash).
    gcs = facts({"MD5": b64(hashlib.md5(b"abc").digest()), "CRC32C": "AAAAAA=="})
    across = judge(plain, gcs)
    assert (across.state, across.method, across.from_etag) == ("identical", "MD5", True)
    # An encrypted object's ETag is no MD5: nothing to compare.
    kms = facts(etag=MD5_ABC, etag_is_md5=False)
    assert judge(plain, kms).state == "unproven"
    assert judge(kms, gcs).state == "unproven"


def test_equal_multipart_etags_prove_nothing():
    multi = facts(etag=MD5_ABC + "-2", etag_is_md5=True)
    verdict = judge(multi, multi)
    assert verdict.state == "unproven"
    assert verdict.note == "checksum not comparable (a: multipart ETag; b: multipart ETag)"
    plain = facts(etag=MD5_ABC, etag_is_md5=True)
    assert judge(multi, plain).state == "unproven"


def test_unproven_note_names_what_each_side_offers():
    verdict = judge(facts({"SHA256": SHA_ABC}), facts(etag=MD5_ABC, etag_is_md5=True))
    assert verdict.state == "unproven" and verdict.method is None
    assert verdict.note == "checksum not comparable (a: SHA256; b: ETag (MD5))"
    assert judge(facts(), facts()).note == "checksum not comparable (a: none; b: none)"


# --- real stores ---------------------------------------------------------------------------


@pytest.fixture
def moto_s3(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {})
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def side(driver, provider: str, bucket: str, key: str) -> Side:
    return Side(driver, bucket, key, format_uri(provider, bucket, key))


def _multipart(client, bucket: str, key: str, data: bytes, part: int) -> None:
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    parts = []
    for n, start in enumerate(range(0, len(data), part), 1):
        body = data[start : start + part]
        etag = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body)
        parts.append({"PartNumber": n, "ETag": etag["ETag"]})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
    )


def test_s3_plain_etag_meets_gcs_md5hash(moto_s3, gcs_emulator, bucket_name):
    """What the stores really answer: an S3 plain MD5 ETag against a GCS md5Hash proves the
    same bytes (and a byte off is a difference), in judge and in proven_identical."""
    driver, bucket = moto_s3
    seed_keys(bucket, {"p/same.bin": b"same bytes", "p/diff.bin": b"aaaa"})
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    raw.blob("q/same.bin").upload_from_string(b"same bytes")
    raw.blob("q/diff.bin").upload_from_string(b"aaab")
    gcs = GcsDriver(client=client)
    s3_same = driver.object_checksums(bucket, "p/same.bin")
    gcs_same = gcs.object_checksums(bucket_name, "q/same.bin")
    verdict = judge(s3_same, gcs_same)
    assert (verdict.state, verdict.method, verdict.from_etag) == ("identical", "MD5", True)
    differ = judge(
        driver.object_checksums(bucket, "p/diff.bin"),
        gcs.object_checksums(bucket_name, "q/diff.bin"),
    )
    assert differ.state == "differ"
    source, dest = side(driver, "s3", bucket, "p/"), side(gcs, "gcs", bucket_name, "q/")
    assert proven_identical(source, "p/same.bin", None, 10, dest, "q/same.bin")
    assert not proven_identical(source, "p/diff.bin", None, 4, dest, "q/diff.bin")


def test_equal_multipart_etags_on_moto_are_not_proof(moto_s3, s3_endpoint, monkeypatch):
    """The same bytes uploaded in the same parts twice: equal multipart ETags, yet not
    proven identical (their making is undocumented); proven_identical says False."""
    import moto.s3.models

    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)  # small parts
    driver, bucket = moto_s3
    client = s3_client(s3_endpoint)
    data = bytes(range(256)) * 4
    _multipart(client, bucket, "a/x.bin", data, 300)
    _multipart(client, bucket, "b/x.bin", data, 300)
    ca = driver.object_checksums(bucket, "a/x.bin")
    cb = driver.object_checksums(bucket, "b/x.bin")
    assert ca.etag == cb.etag and MULTIPART_ETAG.match(ca.etag or "") and ca.etag_is_md5
    assert judge(ca, cb).state == "unproven"
    s3 = side(driver, "s3", bucket, "")
    assert not proven_identical(s3, "a/x.bin", None, len(data), s3, "b/x.bin")
