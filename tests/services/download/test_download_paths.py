"""Local path safety, in-flight names and checksum helpers of the download engine (pure
functions on strings and temporary files)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from pail.services.download.paths import UnsafeKey, keep_both_path, local_target, unsafe_reason
from pail.services.download.progress import ProgressTracker
from pail.services.download.ranges import RangeSet, split
from pail.services.download.verify import (
    composite_checksum,
    guessed_layouts,
    multipart_etag,
    new_hasher,
    scan,
    uniform_layout,
)

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


def test_keep_both_names(tmp_path):
    final = tmp_path / "model.tar.gz"
    assert keep_both_path(str(final)) == str(tmp_path / "model (1).tar.gz")
    (tmp_path / "model (1).tar.gz").write_bytes(b"")
    assert keep_both_path(str(final)) == str(tmp_path / "model (2).tar.gz")
    assert keep_both_path(str(tmp_path / "README")) == str(tmp_path / "README (1)")


def test_ranges_merge_and_find_the_gaps():
    have = RangeSet([(10, 20), (0, 5)])
    have.add(5, 10)  # touching ranges merge
    have.add(30, 40)
    have.add(35, 50)  # overlapping too
    assert have.ranges() == [(0, 20), (30, 50)]
    assert have.covered() == 40
    assert have.missing(60) == [(20, 30), (50, 60)]
    assert not have.complete(60) and have.complete(20)
    assert have.clipped(35).ranges() == [(0, 20), (30, 35)]
    assert RangeSet().missing(0) == [] and RangeSet([(3, 3), (5, 4)]).ranges() == []
    assert split([(0, 10), (20, 25)], 4) == [(0, 4), (4, 8), (8, 10), (20, 24), (24, 25)]


CHECK = b"123456789"  # the standard CRC check input


@pytest.mark.parametrize(
    ("algorithm", "value"),
    [
        ("CRC32", 0xCBF43926),
        ("CRC32C", 0xE3069283),
        ("CRC64NVME", 0xAE8B14860A799888),
    ],
)
def test_crcs_match_their_check_values(algorithm, value):
    hasher = new_hasher(algorithm)
    hasher.update(CHECK[:4])
    hasher.update(memoryview(CHECK)[4:])  # streamed in pieces, as files are read
    assert int.from_bytes(hasher.digest(), "big") == value
    with pytest.raises(ValueError):
        new_hasher("CRC16")


def test_part_layouts_etags_and_composite_checksums():
    data = bytes(range(256)) * 40_000  # ~10 MiB
    size = len(data)
    assert uniform_layout(size, 2, 5 * MIB) == [5 * MIB, size - 5 * MIB]
    assert uniform_layout(size, 3, 5 * MIB) is None  # 3 parts of 5 MiB cannot make 9.8 MiB
    assert uniform_layout(11 * MIB, 3, 5 * MIB) == [5 * MIB, 5 * MIB, MIB]
    assert guessed_layouts(11 * MIB, 3)[0] == [5 * MIB, 5 * MIB, MIB]
    assert guessed_layouts(20 * MIB, 3)[0] == [8 * MIB, 8 * MIB, 4 * MIB]
    layout = [5 * MIB, size - 5 * MIB]
    whole, (md5s, _again) = scan(
        lambda offset, n: data[offset : offset + n], size, ["SHA256"], [layout, layout], "MD5"
    )
    assert whole["SHA256"] == hashlib.sha256(data).digest()
    assert md5s == [hashlib.md5(data[: 5 * MIB]).digest(), hashlib.md5(data[5 * MIB :]).digest()]
    assert multipart_etag(md5s) == _multipart_etag(data, 5 * MIB)
    parts = [hashlib.sha256(data[: 5 * MIB]).digest(), hashlib.sha256(data[5 * MIB :]).digest()]
    want = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
    assert composite_checksum("SHA256", parts) == want
    with pytest.raises(ValueError):  # a file shorter than the object
        scan(lambda offset, n: data[offset : offset + n], size + 10, ["MD5"])


def _multipart_etag(data: bytes, part: int) -> str:
    digests = [hashlib.md5(data[i : i + part]).digest() for i in range(0, len(data), part)]
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


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
