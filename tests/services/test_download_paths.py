"""Local path safety, in-flight names and checksum helpers of the download engine (pure
functions on strings and temporary files)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from pail.services.transfer_paths import (
    UnsafeKey,
    keep_both_path,
    local_target,
    partial_path,
    unsafe_reason,
)
from pail.services.transfer_progress import ProgressTracker
from pail.services.transfer_verify import Expected, part_size_candidates, verify

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("../../x", "'..' segment"),
        ("a/../../x", "'..' segment"),
        ("/etc/x", "absolute path"),
        ("a\\..\\..\\x", "backslash in key"),
        ("C:evil", "drive letter"),
        ("a/c:/x", "drive letter"),
        ("a\x1b[2Jb", "control character"),
        ("a\x85b", "control character"),
        ("a\x00b", "NUL character"),
        ("a//b", "empty path segment"),
        ("a/./b", "'.' segment"),
        ("", "empty name"),
        ("x" * 256, "name longer than 255 bytes"),
    ],
)
def test_unsafe_relative_paths_are_refused(rel, reason, tmp_path):
    assert unsafe_reason(rel) == reason
    with pytest.raises(UnsafeKey):
        local_target(str(tmp_path), rel)


@pytest.mark.parametrize("rel", ["a.txt", "runs/7/model.pt", "..hidden", "a..b/c", "ab:c", "ü/é"])
def test_ordinary_relative_paths_are_kept(rel, tmp_path):
    assert unsafe_reason(rel) is None
    assert local_target(str(tmp_path), rel) == str(tmp_path.resolve().joinpath(*rel.split("/")))


def test_in_flight_and_keep_both_names(tmp_path):
    final = tmp_path / "model.tar.gz"
    assert partial_path(str(final)) == str(tmp_path / ".model.tar.gz.pail-partial")
    assert keep_both_path(str(final)) == str(tmp_path / "model (1).tar.gz")
    (tmp_path / "model (1).tar.gz").write_bytes(b"")
    assert keep_both_path(str(final)) == str(tmp_path / "model (2).tar.gz")
    assert keep_both_path(str(tmp_path / "README")) == str(tmp_path / "README (1)")
    long = partial_path(str(tmp_path / ("n" * 250)))
    assert len(long.rsplit("/", 1)[1]) < 255 and long.endswith(".pail-partial")


def test_part_size_inference():
    assert part_size_candidates(11 * MIB, 3)[0] == 5 * MIB
    assert part_size_candidates(20 * MIB, 3)[0] == 8 * MIB
    assert part_size_candidates(100, 1) == [100]
    for size, parts in [(11 * MIB, 3), (1000 * MIB, 7), (33 * MIB + 1, 5)]:
        assert all((parts - 1) * p < size <= parts * p for p in part_size_candidates(size, parts))


def _multipart_etag(data: bytes, part: int) -> str:
    digests = [hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def test_verify_methods(tmp_path):
    data = bytes(range(256)) * 40_000  # ~10 MiB
    path = tmp_path / "f"
    path.write_bytes(data)
    size = len(data)
    md5 = hashlib.md5(data).hexdigest()
    assert verify(str(path), Expected(size, s3_etag=md5), size).method == "md5"
    assert not verify(str(path), Expected(size, s3_etag="0" * 32), size).ok
    etag = _multipart_etag(data, 5 * MIB)
    assert verify(str(path), Expected(size, s3_etag=etag), size).ok
    unknown = _multipart_etag(data, 3 * MIB + 1)  # no usual part size fits: size only
    assert verify(str(path), Expected(size, s3_etag=unknown), size).method == "size"
    told = verify(str(path), Expected(size, s3_etag=unknown, part_size=5 * MIB), size)
    assert not told.ok and "multipart" in told.reason  # the store said 5 MiB: a real mismatch
    assert not verify(str(path), Expected(size + 1, s3_etag=md5), size).ok
    import google_crc32c

    crc = base64.b64encode(google_crc32c.Checksum(data).digest()).decode()
    assert verify(str(path), Expected(size, crc32c=crc), size).method == "crc32c"
    assert not verify(str(path), Expected(size, crc32c="AAAAAA=="), size).ok
    b64 = base64.b64encode(hashlib.md5(data).digest()).decode()
    assert verify(str(path), Expected(size, md5_b64=b64), size).ok


def test_progress_rate_and_eta_follow_the_clock():
    now = [100.0]
    tracker = ProgressTracker([("a", "/a", 1000), ("b", "/b", 1000)], clock=lambda: now[0])
    tracker.set_state("a", "running")
    now[0] = 101.0
    tracker.add_bytes("a", 500)
    snap = tracker.snapshot()
    assert snap.rate == 500.0 and snap.eta == 3.0 and snap.bytes_done == 500
    tracker.set_state("a", "done")
    tracker.set_state("b", "skipped", "identical")
    snap = tracker.snapshot(with_files=False)
    assert snap.finished and snap.files_finished == 2 and snap.files == ()
