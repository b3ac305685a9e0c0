"""The download engine under the faults real networks and stores produce, through the
fault-injecting proxy (tests/support/fault_proxy.py) in front of moto.

Every test asserts the end state: the bytes under a final name equal the object, or there
is no file under that name; nothing is written outside the target; what is reported matches
what is on disk. Short read timeouts keep hung requests short.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.download import Downloader, plan_keys, plan_prefix
from pail.services.download import fetch as transfer_fetch
from support.fault_proxy import Rule
from support.servers import s3_client, seed_keys

MIB = 1024 * 1024


def _body(size: int, salt: int = 0) -> bytes:
    return (hashlib.sha256(str(salt).encode()).digest() * (size // 32 + 1))[:size]


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """8 MiB parts so objects of tens of MiB take the parallel path, and quick back-off."""
    monkeypatch.setattr(transfer_fetch, "PARALLEL_THRESHOLD", 8 * MIB)
    monkeypatch.setattr(transfer_fetch, "PART_SIZE", 8 * MIB)
    monkeypatch.setattr(transfer_fetch, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(transfer_fetch, "BACKOFF_CAP", 0.05)


def _driver(url: str, **kwargs) -> S3Driver:
    kwargs.setdefault("read_timeout", 2)
    kwargs.setdefault("connect_timeout", 2)
    return S3Driver(endpoint_url=url, region="us-east-1", path_style=True, **kwargs)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _final_files(root: Path) -> dict[str, bytes]:
    """Files under their final names (pail's state folder left out)."""
    return {k: v for k, v in _files(root).items() if not k.startswith(".pail/")}


def _upload_parts(endpoint: str, bucket: str, key: str, data: bytes, part: int) -> str:
    raw = s3_client(endpoint)
    upload = raw.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for number, first in enumerate(range(0, len(data), part), start=1):
        etag = raw.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + part],
        )["ETag"]  # fmt: skip
        parts.append({"PartNumber": number, "ETag": etag})
    done = raw.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    return done["ETag"].strip('"')


# -- integrity --------------------------------------------------------------------------


def test_flipped_byte_in_a_multipart_object_without_part_numbers_is_never_accepted(
    s3_endpoint, bucket_name, faults, tmp_path
):
    """HeadObject PartNumber fails (stores without part numbers) and the body has one
    flipped byte: the file never takes its final name, on size alone or otherwise."""
    seed_keys(bucket_name, {})
    data = _body(11 * MIB + 5, salt=1)  # 5 MiB + 1 parts: no usual part size fits
    _upload_parts(s3_endpoint, bucket_name, "m/ckpt.pt", data, 5 * MIB + 1)
    faults.add(
        Rule(method="HEAD", query="partNumber", times=None, status=400, code="InvalidArgument")
    )
    faults.add(Rule(method="GET", path="/m/ckpt.pt$", action="flip", after=12345))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "m/", str(dest))).run()
    assert not report.done and [f.code for f in report.failed] == ["Unverified"]
    assert "part sizes" in report.failed[0].message
    assert _final_files(dest) == {}
    # The same with part numbers: the flipped byte is a proven mismatch; the partial goes.
    faults.reset()
    faults.add(Rule(method="GET", path="/m/ckpt.pt$", action="flip", after=12345))
    dest2 = tmp_path / "e"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "m/", str(dest2))).run()
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    assert _files(dest2) == {}  # neither a final name nor a partial survives
    # Without the flip it verifies with the real part sizes.
    faults.reset()
    report = Downloader(driver, plan_prefix(driver, bucket_name, "m/", str(dest2))).run()
    assert [d.verified for d in report.done] == ["multipart-md5"]
    assert _files(dest2) == {"ckpt.pt": data}


def test_unverifiable_file_is_kept_aside_then_accepted_when_allowed(
    s3_endpoint, bucket_name, faults, tmp_path
):
    seed_keys(bucket_name, {})
    data = _body(11 * MIB + 5, salt=2)
    _upload_parts(s3_endpoint, bucket_name, "m/x.bin", data, 5 * MIB + 1)
    faults.add(Rule(method="HEAD", query="partNumber", times=None, status=400))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "m/", str(dest))).run()
    assert [f.code for f in report.failed] == ["Unverified"] and not report.ok
    assert _final_files(dest) == {}
    asked: list[str] = []

    def allow(job, reason: str) -> bool:
        asked.append(reason)
        return True

    gets = len([r for r in faults.requests if r.method == "GET"])
    report = Downloader(
        driver, plan_prefix(driver, bucket_name, "m/", str(dest)), allow_unverified=allow
    ).run()
    assert [d.verified for d in report.done] == ["unverified"] and asked
    assert report.done[0].fetched == 0  # complete partial kept: only renamed
    assert len([r for r in faults.requests if r.method == "GET"]) == gets + 1  # the listing
    assert _files(dest) == {"x.bin": data}


def test_corrupt_complete_partial_is_deleted_and_the_next_run_starts_clean(
    s3_endpoint, bucket_name, faults, tmp_path
):
    data = _body(3 * MIB, salt=3)
    seed_keys(bucket_name, {"k/f.bin": data})
    faults.add(Rule(method="GET", path="/k/f.bin$", action="flip", after=7))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    first = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    assert [f.code for f in first.failed] == ["ChecksumMismatch"]
    assert _files(dest) == {}
    second = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    assert second.ok and second.done[0].resumed_from == 0
    assert _files(dest) == {"f.bin": data}


def test_object_replaced_mid_download_fails_and_drops_its_partial(
    s3_endpoint, bucket_name, faults, tmp_path
):
    """Ranges are pinned with If-Match: bytes of two versions never mix."""
    old = _body(24 * MIB, salt=4)
    seed_keys(bucket_name, {"k/model.bin": old})
    driver = _driver(faults.url)
    plan = plan_prefix(driver, bucket_name, "k/", str(tmp_path / "d"))
    seed_keys(bucket_name, {"k/model.bin": _body(24 * MIB, salt=5)})  # after planning
    report = Downloader(driver, plan).run()
    assert [f.code for f in report.failed] == ["ObjectChanged"]
    assert _files(tmp_path / "d") == {}


# -- interrupted bodies and hung requests -------------------------------------------------


@pytest.mark.parametrize("action", ["reset", "truncate", "stall"])
def test_broken_body_resumes_from_the_byte_it_stopped_at(
    s3_endpoint, bucket_name, faults, tmp_path, action
):
    data = _body(3 * MIB + 11, salt=6)
    seed_keys(bucket_name, {"k/a.bin": data})
    faults.add(Rule(method="GET", path="/k/a.bin$", action=action, after=MIB + 3))
    driver = _driver(faults.url, read_timeout=1)
    dest = tmp_path / "d"
    started = time.monotonic()
    report = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    assert time.monotonic() - started < 60  # a stall is abandoned, not waited out
    assert report.ok, report.failed
    assert _files(dest) == {"a.bin": data}
    ranges = [r.headers.get("Range") for r in faults.requests if r.path.endswith("/k/a.bin")]
    # The whole object is asked for without Range (so the answer carries the store's
    # full-object checksums); then only the rest, once more, from the last whole chunk the
    # engine received.
    assert ranges[0] is None
    assert len(ranges) == 2 and ranges[-1].endswith(f"-{len(data) - 1}")
    resumed_at = int(ranges[-1].split("=")[1].split("-")[0])
    # A RST may discard bytes still in the receive buffer: then the resume starts earlier.
    assert (0 if action == "reset" else 1) <= resumed_at <= MIB + 3


def test_connection_reset_every_time_is_an_error_not_a_crash(
    s3_endpoint, bucket_name, faults, tmp_path
):
    data = _body(2 * MIB, salt=7)
    seed_keys(bucket_name, {"k/a.bin": data})
    rule = faults.add(Rule(method="GET", path="/k/a.bin$", action="reset", after=1000, times=None))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    (failure,) = report.failed
    assert failure.code == "StreamInterrupted"
    assert failure.error.endpoint == faults.url  # the real endpoint, never "None"
    assert rule.hits == transfer_fetch.STREAM_ATTEMPTS  # bounded: no byte ever arrived
    assert _files(dest) == {}  # nothing under a final name, no useless partial


def test_a_body_that_keeps_breaking_but_progresses_completes(
    s3_endpoint, bucket_name, faults, tmp_path
):
    data = _body(6 * MIB, salt=9)
    seed_keys(bucket_name, {"k/a.bin": data})
    rule = faults.add(
        Rule(method="GET", path="/k/a.bin$", action="reset", after=MIB + 1000, times=None)
    )
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    assert report.ok and rule.hits >= 5
    assert _files(dest) == {"a.bin": data}


def test_a_hung_part_is_retried_and_the_file_completes(s3_endpoint, bucket_name, faults, tmp_path):
    data = _body(20 * MIB, salt=8)
    seed_keys(bucket_name, {"k/big.bin": data})
    faults.add(
        Rule(
            method="GET",
            path="/k/big.bin$",
            header=f"Range: bytes={8 * MIB}-{16 * MIB - 1}",
            action="hang",
        )
    )
    driver = _driver(faults.url, read_timeout=1)
    dest = tmp_path / "d"
    started = time.monotonic()
    report = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest))).run()
    assert time.monotonic() - started < 60
    assert report.ok, report.failed
    assert _files(dest) == {"big.bin": data}


def test_two_server_errors_per_object_never_fail_a_bulk_download(
    s3_endpoint, bucket_name, faults, tmp_path
):
    """No shared retry quota: every object gets its own attempts."""
    bodies = {f"bulk/f{i:02d}.txt": f"file {i}".encode() for i in range(51)}
    seed_keys(bucket_name, bodies)
    for key in bodies:
        faults.add(Rule(method="GET", path=f"/{key}$", times=2, status=500))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "bulk/", str(dest))).run()
    assert report.ok and len(report.done) == 51, report.failed[:3]
    assert _files(dest) == {k.removeprefix("bulk/"): v for k, v in bodies.items()}


# -- no write outside the target, no collision with pail's own files ---------------------


def test_keys_named_like_pails_own_files_are_ordinary_keys(s3_endpoint, bucket_name, tmp_path):
    bodies = {
        "h/b.txt": b"the real file",
        "h/.b.txt.pail-partial": b"a key that looks like an old partial",
        "h/.b.txt.pail-partial.json": b"{}",
        "h/.pail/partials/x.part": b"a key inside the state folder's name",
    }
    seed_keys(bucket_name, bodies)
    driver = _driver(s3_endpoint)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "h/", str(dest))).run()
    assert report.ok and len(report.done) == 4
    assert _files(dest) == {k.removeprefix("h/"): v for k, v in bodies.items()}


def test_planted_links_are_never_written_through(s3_endpoint, bucket_name, tmp_path):
    data = b"object bytes"
    seed_keys(bucket_name, {"k/b.txt": data, "k/c.txt": data})
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_bytes(b"keep me")
    dest = tmp_path / "d"
    dest.mkdir()
    # Old-style partial names, the final name, and the whole state folder as links.
    for name in (".b.txt.pail-partial", ".b.txt.pail-partial.json", "c.txt"):
        (dest / name).symlink_to(victim)
    driver = _driver(s3_endpoint)
    report = Downloader(
        driver, plan_prefix(driver, bucket_name, "k/", str(dest)), conflict="overwrite"
    ).run()
    # A final name that is a link to outside the target is refused before anything runs.
    assert [(r.key, r.reason) for r in report.refused] == [
        ("k/c.txt", "resolves outside the target folder")
    ]
    assert [d.key for d in report.done] == ["k/b.txt"] and not report.failed
    assert victim.read_bytes() == b"keep me"
    assert (dest / "b.txt").read_bytes() == data and not (dest / "b.txt").is_symlink()
    assert (dest / "c.txt").is_symlink()
    # A state folder that is a link: refused, nothing written through it.
    dest2 = tmp_path / "e"
    dest2.mkdir()
    (dest2 / ".pail").symlink_to(outside)
    report = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest2))).run()
    assert not report.done and {f.code for f in report.failed} == {"ELOOP"}
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    # A partial planted as a link (to a file outside) is replaced, never followed.
    dest3 = tmp_path / "f"
    parts = dest3 / ".pail" / "partials"
    parts.mkdir(parents=True)
    plan = plan_keys(driver, bucket_name, ["k/b.txt"], str(dest3))
    rel_hash = hashlib.sha256(b"b.txt").hexdigest()[:40]
    (parts / f"{rel_hash}.part").symlink_to(victim)
    (parts / f"{rel_hash}.json").symlink_to(victim)
    report = Downloader(driver, plan).run()
    assert report.ok and victim.read_bytes() == b"keep me"
    assert _files(dest3) == {"b.txt": data}


def test_a_hard_linked_partial_is_not_written_in_place(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"k/b.txt": b"object bytes"})
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    dest = tmp_path / "d"
    parts = dest / ".pail" / "partials"
    parts.mkdir(parents=True)
    rel_hash = hashlib.sha256(b"b.txt").hexdigest()[:40]
    os.link(victim, parts / f"{rel_hash}.part")
    driver = _driver(s3_endpoint)
    report = Downloader(driver, plan_keys(driver, bucket_name, ["k/b.txt"], str(dest))).run()
    assert report.ok and victim.read_bytes() == b"keep me"
    assert (dest / "b.txt").read_bytes() == b"object bytes"


# -- GCS ---------------------------------------------------------------------------------


def test_gcs_broken_body_resumes_and_a_flipped_byte_fails(
    gcs_emulator, make_fault_proxy, bucket_name, tmp_path
):
    """The same engine on GCS: ranges pinned by generation, CRC32C checked."""
    from pail.core.connection import ConnectionSpec
    from pail.drivers.registry import open_driver
    from support.servers import gcs_client

    proxy = make_fault_proxy(gcs_emulator)
    data = _body(3 * MIB + 5, salt=10)
    gcs_client(gcs_emulator).create_bucket(bucket_name).blob("r/w.bin").upload_from_string(data)
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"), client=gcs_client(proxy.url))
    proxy.add(Rule(method="GET", query="alt=media", action="truncate", after=MIB + 100))
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "r/", str(dest))).run()
    assert report.ok, report.failed
    assert [d.verified for d in report.done] == ["crc32c"]
    assert _files(dest) == {"w.bin": data}
    media = [r.headers.get("Range", "") for r in proxy.requests if r.query.get("alt") == "media"]
    assert len(media) == 2 and media[0].startswith("bytes=0-")  # the cut range...
    assert not media[1].startswith("bytes=0-")  # ...then only the rest
    proxy.reset()
    proxy.add(Rule(method="GET", query="alt=media", action="flip", after=2 * MIB))
    report = Downloader(driver, plan_prefix(driver, bucket_name, "r/", str(tmp_path / "e"))).run()
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    assert _files(tmp_path / "e") == {}
