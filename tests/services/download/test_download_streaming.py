"""Downloads that hash while the bytes stream in (issue 17), on real servers over HTTP:
moto (through the fault proxy where a fault is needed).

What is asserted is the end state and the engine's own counters, never time: a file is
under its final name only when proved (a flipped byte in flight never lands, whether the
object came in one request or in ranged parts); a file proved while it streamed is not
read again (``verify_read_bytes``) and a small one gets no sidecar (``sidecar_writes``);
a resumed large file is still proved; the streams held at once never exceed the
download's budget (``streams.peak_streams``, ``streams.peak_held``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pail.drivers.s3 import S3Driver
from pail.drivers.s3 import transfer as s3_transfer
from pail.services.download import Downloader, fetch, plan_keys, plan_prefix
from pail.services.download import state as download_state
from support.fault_proxy import Rule
from support.servers import s3_client, seed_keys

MIB = 1024 * 1024


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """Objects of 8 MiB or more in parts of 4 MiB, quick back-off."""
    monkeypatch.setattr(fetch, "PARALLEL_THRESHOLD", 8 * MIB)
    monkeypatch.setattr(fetch, "PART_SIZE", 4 * MIB)
    monkeypatch.setattr(fetch, "MIN_PART_SIZE", 4 * MIB)
    monkeypatch.setattr(fetch, "BACKOFF_BASE", 0.01)
    monkeypatch.setattr(fetch, "BACKOFF_CAP", 0.05)


def _driver(url: str, **kwargs) -> S3Driver:
    kwargs.setdefault("read_timeout", 5)
    kwargs.setdefault("connect_timeout", 2)
    return S3Driver(endpoint_url=url, region="us-east-1", path_style=True, **kwargs)


def _body(size: int, salt: int = 0) -> bytes:
    return (hashlib.sha256(str(salt).encode()).digest() * (size // 32 + 1))[:size]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _gets(faults, key: str) -> list[str | None]:
    """The Range headers of the GETs of ``key`` that reached the proxy."""
    return [
        r.headers.get("Range")
        for r in faults.requests
        if r.method == "GET" and r.path.endswith(key)
    ]


# -- small objects: one request, hashed as they arrive ---------------------------------


def test_small_files_are_proved_while_they_stream(s3_endpoint, bucket_name, tmp_path, monkeypatch):
    """40 objects with plain-MD5 ETags: every one verified by the MD5 computed while it
    arrived: nothing read back, no sidecar, no state folder left."""
    # A file gets no sidecar when it arrives within FLUSH_INTERVAL: longer than any of these
    # can take on a loaded machine, so what is asserted does not depend on its speed.
    monkeypatch.setattr(download_state, "FLUSH_INTERVAL", 60.0)
    bodies = {f"run/f{i:02d}.bin": _body(100_000 + i, salt=i) for i in range(40)}
    seed_keys(bucket_name, bodies)  # moto's backend: plain-MD5 ETags, no checksums
    driver = _driver(s3_endpoint)
    dest = tmp_path / "d"
    download = Downloader(driver, plan_prefix(driver, bucket_name, "run/", str(dest)), jobs=4)
    report = download.run()
    assert report.ok and report.methods() == {"md5": 40}
    assert _files(dest) == {k.removeprefix("run/"): v for k, v in bodies.items()}
    assert download.verify_read_bytes == 0
    assert download.sidecar_writes == 0
    assert not (dest / ".pail").exists()


def test_a_whole_object_answers_checksum_is_used_when_the_etag_is_no_md5(
    s3_endpoint, bucket_name, tmp_path
):
    """A multipart object small enough for one request: its ETag is no MD5, so the CRC32
    the GetObject answer carries (sent with the body, asked without Range) proves it."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    data = _body(6 * MIB + 7, salt=3)
    upload = raw.create_multipart_upload(Bucket=bucket_name, Key="m.bin", ChecksumAlgorithm="CRC32",
                                         ChecksumType="FULL_OBJECT")  # fmt: skip
    parts = []
    for number, first in enumerate(range(0, len(data), 5 * MIB), start=1):
        answer = raw.upload_part(
            Bucket=bucket_name, Key="m.bin", UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + 5 * MIB], ChecksumAlgorithm="CRC32",
        )  # fmt: skip
        parts.append(
            {"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC32": answer["ChecksumCRC32"]}
        )
    raw.complete_multipart_upload(
        Bucket=bucket_name, Key="m.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    head = raw.head_object(Bucket=bucket_name, Key="m.bin", ChecksumMode="ENABLED")
    if "-" in head.get("ChecksumCRC32", "-") or head.get("ChecksumType") == "COMPOSITE":
        pytest.skip("moto keeps no full-object CRC32 for this multipart upload")
    driver = _driver(s3_endpoint)
    download = Downloader(driver, plan_keys(driver, bucket_name, ["m.bin"], str(tmp_path)))
    report = download.run()
    assert report.ok and report.methods() == {"crc32": 1}
    assert (tmp_path / "m.bin").read_bytes() == data
    assert download.verify_read_bytes == 0


@pytest.mark.parametrize("which", [0, 5])
def test_a_flipped_byte_in_one_request_never_lands(
    s3_endpoint, bucket_name, faults, tmp_path, which
):
    """One of six small objects gets a flipped byte on the way: the first or the sixth.
    It fails ChecksumMismatch and leaves neither a final file nor a partial; the others land."""
    bodies = {f"k/f{i}.bin": _body(300_000, salt=10 + i) for i in range(6)}
    seed_keys(bucket_name, bodies)
    target = f"k/f{which}.bin"
    faults.add(Rule(method="GET", path=f"/{target}$", action="flip", after=150_000, times=None))
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    download = Downloader(driver, plan_prefix(driver, bucket_name, "k/", str(dest)), jobs=1)
    report = download.run()
    assert [(f.key, f.code) for f in report.failed] == [(target, "ChecksumMismatch")]
    assert len(report.done) == 5
    assert _files(dest) == {k.removeprefix("k/"): v for k, v in bodies.items() if k != target}


# -- large objects: ranged parts ---------------------------------------------------------


def test_a_large_plain_md5_object_is_hashed_in_order_while_its_parts_arrive(
    s3_endpoint, bucket_name, tmp_path
):
    """20 MiB in 4 MiB parts, a plain-MD5 ETag and no checksum: MD5 cannot be combined,
    so a follower hashes the file in order as the parts land; nothing is read after."""
    data = _body(20 * MIB + 3, salt=20)
    seed_keys(bucket_name, {"big/model.bin": data})
    driver = _driver(s3_endpoint)
    dest = tmp_path / "d"
    download = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest)))
    report = download.run()
    assert report.ok and report.methods() == {"md5": 1}
    assert (dest / "model.bin").read_bytes() == data
    assert download.verify_read_bytes == 0
    assert download.streams.followed == len(data)
    assert download.streams.peak_streams > 1  # it did go in parallel parts


def test_a_large_object_with_a_full_object_crc_is_proved_by_combined_part_crcs(
    s3_endpoint, bucket_name, tmp_path
):
    """A CRC32 full-object checksum: each part's CRC as it streams, combined; no follower
    reads, no read after."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    data = _body(18 * MIB + 11, salt=21)
    raw.put_object(Bucket=bucket_name, Key="big/c.bin", Body=data, ChecksumAlgorithm="CRC32")
    driver = _driver(s3_endpoint)
    dest = tmp_path / "d"
    download = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest)))
    report = download.run()
    assert report.ok and report.methods() == {"crc32": 1}
    assert (dest / "c.bin").read_bytes() == data
    assert download.verify_read_bytes == 0 and download.streams.followed == 0


@pytest.mark.parametrize("checksum", [False, True])
def test_a_flipped_byte_in_one_ranged_part_never_lands(
    s3_endpoint, bucket_name, faults, tmp_path, checksum
):
    """A byte flipped in the second 4 MiB part: the MD5 follower (no checksum) or the
    combined CRC32 (with one) misses, the whole check confirms it, and the file is
    neither under its name nor kept as a partial. Without the fault it lands."""
    data = _body(16 * MIB, salt=22)
    if checksum:
        raw = s3_client(s3_endpoint)
        raw.create_bucket(Bucket=bucket_name)
        raw.put_object(Bucket=bucket_name, Key="big/x.bin", Body=data, ChecksumAlgorithm="CRC32")
    else:
        seed_keys(bucket_name, {"big/x.bin": data})
    faults.add(
        Rule(method="GET", path="/big/x.bin$", header=f"Range: bytes={4 * MIB}-{8 * MIB - 1}",
             action="flip", after=12345, times=1)
    )  # fmt: skip
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest))).run()
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    assert _files(dest) == {}  # neither a final name nor a partial
    report = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest))).run()
    assert report.ok and report.methods() == {"crc32" if checksum else "md5": 1}
    assert _files(dest) == {"x.bin": data}


def test_a_resumed_large_download_fetches_only_the_missing_ranges_and_is_proved(
    s3_endpoint, bucket_name, faults, tmp_path
):
    """One part keeps breaking before its first byte: the file fails, the other parts
    stay recorded. The rerun asks only for what is missing, hashes the whole file in
    order (the resumed ranges from disk) and proves it by its MD5 ETag."""
    data = _body(20 * MIB, salt=23)
    seed_keys(bucket_name, {"big/r.bin": data})
    faults.add(
        Rule(method="GET", path="/big/r.bin$", header=f"Range: bytes={8 * MIB}-{12 * MIB - 1}",
             action="reset", after=0, times=None)
    )  # fmt: skip
    driver = _driver(faults.url)
    dest = tmp_path / "d"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest))).run()
    assert [f.code for f in report.failed] == ["StreamInterrupted"]
    assert not (dest / "r.bin").exists()
    faults.reset()
    download = Downloader(driver, plan_prefix(driver, bucket_name, "big/", str(dest)))
    report = download.run()
    assert report.ok and report.methods() == {"md5": 1}
    (done,) = report.done
    assert done.resumed_from > 0 and done.fetched == len(data) - done.resumed_from
    asked = 0
    for byte_range in _gets(faults, "/big/r.bin"):
        assert byte_range is not None
        first, last = byte_range.removeprefix("bytes=").split("-")
        asked += int(last) - int(first) + 1
    assert asked == done.fetched  # exactly the missing ranges, nothing twice
    assert _files(dest) == {"r.bin": data}
    assert download.verify_read_bytes == 0  # the follower read it once, in order
    assert download.streams.followed == len(data)


def test_the_streams_held_at_once_never_exceed_the_budget(
    s3_endpoint, bucket_name, tmp_path, monkeypatch
):
    """Three 20 MiB objects (5 parts each) and ten small ones, two files at a time, a
    budget of three streams: never more than three streams, and never more bytes held
    than three chunks plus one follower read per file in flight."""
    monkeypatch.setattr(fetch, "PART_CONCURRENCY", 3)
    bodies = {f"mix/big{i}.bin": _body(20 * MIB, salt=30 + i) for i in range(3)}
    bodies.update({f"mix/s{i}.bin": _body(200_000, salt=40 + i) for i in range(10)})
    seed_keys(bucket_name, bodies)
    driver = _driver(s3_endpoint)
    dest = tmp_path / "d"
    download = Downloader(driver, plan_prefix(driver, bucket_name, "mix/", str(dest)), jobs=2)
    assert download.streams.limit == 3
    report = download.run()
    assert report.ok and len(report.done) == 13
    assert 2 <= download.streams.peak_streams <= 3
    chunk = s3_transfer.STREAM_CHUNK
    assert 0 < download.streams.peak_held <= 3 * chunk + 2 * fetch.FOLLOW_READ
    assert download.streams.held == 0 and download.streams.active == 0
