"""The download engine against real stores: moto over HTTP (seeded in-process), the GCS
emulator and temporary folders.

Where a test needs a failure the stores will not produce (a corrupted byte, a cancel at a
given point), it wraps *pail's own driver*, never the SDK."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import TransferCancelled
from pail.drivers.registry import open_driver
from pail.services.download import ConflictAnswer, Downloader, plan_keys, plan_prefix
from support.servers import gcs_client, s3_client, seed_keys

MIB = 1024 * 1024


def _body(size: int, salt: int = 0) -> bytes:
    return (hashlib.sha256(str(salt).encode()).digest() * (size // 32 + 1))[:size]


@pytest.fixture(autouse=True)
def small_parts(monkeypatch):
    """8 MiB parts (pail's own tuning constants), so test objects of tens of MiB take the
    parallel-parts path without seeding hundreds of MiB."""
    from pail.services.download import fetch as transfer_fetch

    monkeypatch.setattr(transfer_fetch, "PARALLEL_THRESHOLD", 8 * MIB)
    monkeypatch.setattr(transfer_fetch, "PART_SIZE", 8 * MIB)


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec), bucket_name


class Wrapped:
    """pail's driver with ``stream_range`` adjusted by a hook (our code, not the SDK): flip
    the object's first byte on its way to the file, or stop (as a cancel does) once
    ``cancel_after`` bytes went through."""

    def __init__(self, inner, *, corrupt: bool = False, cancel_after: int | None = None):
        self.inner, self.corrupt, self.cancel_after = inner, corrupt, cancel_after
        self.provider = inner.provider
        self.fetched = 0
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def stream_range(self, bucket, key, start, end, sink, **kwargs):
        first = [start == 0]

        def hooked(chunk: bytes) -> None:
            with self._lock:
                if self.cancel_after is not None and self.fetched >= self.cancel_after:
                    raise TransferCancelled("stopped by the test", operation="download")
                self.fetched += len(chunk)
            if self.corrupt and first[0] and chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first[0] = False
            sink(chunk)

        self.inner.stream_range(bucket, key, start, end, hooked, **kwargs)


def _partials(dest: Path) -> list[Path]:
    return sorted((dest / ".pail" / "partials").glob("*.part"))


def _recorded(dest: Path) -> list[tuple[int, int]]:
    """The byte ranges the one partial's sidecar says are on disk."""
    (side,) = (dest / ".pail" / "partials").glob("*.json")
    return [tuple(r) for r in json.loads(side.read_text())["ranges"]]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_prefix_download_keeps_key_paths_and_verifies(s3, tmp_path):
    driver, bucket = s3
    data = {
        "runs/7/metrics.json": b'{"loss": 0.1}',
        "runs/7/model/weights.bin": _body(300_000),
        "runs/7/logs/a/b/train.log": b"epoch 1\n",
        "runs/7/empty.txt": b"",
        "runs/8/other.txt": b"not this run",
    }
    seed_keys(bucket, data)
    dest = tmp_path / "dest"
    plan = plan_prefix(driver, bucket, "runs/7/", str(dest))
    report = Downloader(driver, plan, jobs=3).run()
    assert report.ok and not report.failed and not report.refused
    assert _files(dest) == {k[len("runs/7/") :]: v for k, v in data.items() if "runs/7/" in k}
    assert {d.verified for d in report.done} == {"md5"}
    assert sorted(d.key for d in report.done) == sorted(k for k in data if "runs/7/" in k)


def test_hostile_keys_never_escape_the_target(s3, tmp_path):
    driver, bucket = s3
    outside = tmp_path / "outside"
    outside.mkdir()
    hostile = {
        "p/../../x": "'..' segment",
        "p//etc/x": "absolute path",
        "p/a//b": "empty path segment",
        "p/a\\..\\..\\x": "backslash in key",
        "p/C:evil": "drive letter",
        "p/esc\x1b[31mred": "control character",
        "p/nul\x00byte": "NUL character",
        "p/./y": "'.' segment",
        "p/link/x": "resolves outside the target folder",
    }
    seed_keys(bucket, {**dict.fromkeys(hostile, b"EVIL"), "p/ok.txt": b"fine"})
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "link").symlink_to(outside)  # a folder in the target that points elsewhere
    plan = plan_prefix(driver, bucket, "p/", str(dest))
    report = Downloader(driver, plan).run()
    refused = {r.key: r.reason for r in report.refused}
    assert refused == hostile
    assert not report.ok
    assert [d.key for d in report.done] == ["p/ok.txt"]
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dest", "outside"]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [dest / "ok.txt"]


def test_absolute_key_from_bucket_root_is_refused(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"/etc/passwd-pail": b"EVIL", "fine": b"ok"})
    report = Downloader(driver, plan_prefix(driver, bucket, "", str(tmp_path / "d"))).run()
    assert [(r.key, r.reason) for r in report.refused] == [("/etc/passwd-pail", "absolute path")]
    assert not os.path.exists("/etc/passwd-pail")
    assert _files(tmp_path / "d") == {"fine": b"ok"}


def test_checksum_mismatch_fails_and_keeps_no_file(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"d/a.bin": _body(5000), "d/b.bin": _body(10)})
    dest = tmp_path / "dest"
    wrapped = Wrapped(driver, corrupt=True)
    report = Downloader(wrapped, plan_prefix(driver, bucket, "d/", str(dest))).run()
    assert sorted((f.key, f.code) for f in report.failed) == [
        ("d/a.bin", "ChecksumMismatch"),
        ("d/b.bin", "ChecksumMismatch"),
    ]
    assert "checksum mismatch" in report.failed[0].message
    assert _files(dest) == {}  # neither the final name nor a partial survives


def _upload_multipart(endpoint: str, bucket: str, key: str, data: bytes, part: int) -> str:
    raw = s3_client(endpoint)
    raw.create_bucket(Bucket=bucket)
    upload = raw.create_multipart_upload(Bucket=bucket, Key=key)
    parts = []
    for number, first in enumerate(range(0, len(data), part), start=1):
        body = data[first : first + part]
        etag = raw.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=body
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = raw.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    return done["ETag"].strip('"')


def test_multipart_etag_is_verified(s3_endpoint, s3, tmp_path):
    driver, bucket = s3
    data = _body(11 * MIB + 123, salt=4)
    etag = _upload_multipart(s3_endpoint, bucket, "ckpt/model.pt", data, 5 * MIB)
    assert etag.endswith("-3")
    report = Downloader(driver, plan_prefix(driver, bucket, "ckpt/", str(tmp_path / "a"))).run()
    assert [(d.key, d.verified) for d in report.done] == [("ckpt/model.pt", "multipart-md5")]
    assert (tmp_path / "a" / "model.pt").read_bytes() == data
    bad = Downloader(
        Wrapped(driver, corrupt=True), plan_prefix(driver, bucket, "ckpt/", str(tmp_path / "b"))
    ).run()
    assert [f.code for f in bad.failed] == ["ChecksumMismatch"]
    assert _files(tmp_path / "b") == {}


@pytest.mark.parametrize("size", [6 * MIB + 7, 20 * MIB + 7])  # one stream / parallel parts
def test_interrupted_download_resumes_with_only_the_rest(s3, tmp_path, size):
    driver, bucket = s3
    data = _body(size, salt=9)
    seed_keys(bucket, {"big/model.bin": data})
    dest = tmp_path / "dest"
    first = Downloader(
        Wrapped(driver, cancel_after=12 * MIB if size > 8 * MIB else 2 * MIB),
        plan_prefix(driver, bucket, "big/", str(dest)),
    ).run()
    assert [c.key for c in first.cancelled] == ["big/model.bin"] and not first.ok
    assert not (dest / "model.bin").exists()
    (partial,) = _partials(dest)
    ranges = _recorded(dest)
    kept = sum(b - a for a, b in ranges)
    # Parallel parts land out of order: every recorded range holds the object's bytes.
    assert 0 < kept < size
    on_disk = partial.read_bytes()
    assert all(on_disk[a:b] == data[a:b] for a, b in ranges)
    again = Wrapped(driver)
    second = Downloader(again, plan_prefix(driver, bucket, "big/", str(dest))).run()
    assert second.ok
    (done,) = second.done
    assert done.resumed_from == kept and done.fetched == size - kept
    assert again.fetched == size - kept  # bytes that crossed the wire this time
    assert (dest / "model.bin").read_bytes() == data
    assert sorted(p.name for p in dest.iterdir()) == ["model.bin"]  # state folder removed


def test_partial_of_a_changed_object_is_not_resumed(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"k/f.bin": _body(3 * MIB, salt=1)})
    dest = tmp_path / "dest"
    Downloader(
        Wrapped(driver, cancel_after=MIB), plan_prefix(driver, bucket, "k/", str(dest))
    ).run()
    assert _partials(dest)
    new = _body(3 * MIB, salt=2)
    seed_keys(bucket, {"k/f.bin": new})  # a new ETag: the partial is from another version
    report = Downloader(driver, plan_prefix(driver, bucket, "k/", str(dest))).run()
    assert report.done[0].resumed_from == 0
    assert (dest / "f.bin").read_bytes() == new


def test_existing_files_identical_skip_overwrite_and_keep_both(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"r/a.txt": b"remote a", "r/b.tar.gz": b"remote b"})
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "a.txt").write_bytes(b"remote a")  # identical content, other mtime
    (dest / "b.tar.gz").write_bytes(b"local b")

    def plan():
        return plan_prefix(driver, bucket, "r/", str(dest))

    skipped = Downloader(driver, plan(), conflict="skip").run()
    assert {(s.key, s.reason) for s in skipped.skipped} == {
        ("r/a.txt", "identical"),
        ("r/b.tar.gz", "exists"),
    }
    assert (dest / "b.tar.gz").read_bytes() == b"local b"

    asked: list[str] = []

    def resolve(job):
        asked.append(job.key)
        return "keep-both"

    kept = Downloader(driver, plan(), conflict="ask", resolve_conflict=resolve).run()
    assert asked == ["r/b.tar.gz"]  # the identical file is never asked about
    assert (dest / "b (1).tar.gz").read_bytes() == b"remote b"
    assert (dest / "b.tar.gz").read_bytes() == b"local b"
    assert kept.done[0].path == str(dest / "b (1).tar.gz")

    over = Downloader(driver, plan(), conflict="overwrite").run()
    assert [d.key for d in over.done] == ["r/b.tar.gz"]
    assert (dest / "b.tar.gz").read_bytes() == b"remote b"


def test_apply_to_all_asks_once(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {f"r/{i}.txt": b"new" for i in range(5)})
    dest = tmp_path / "dest"
    dest.mkdir()
    for i in range(5):
        (dest / f"{i}.txt").write_bytes(b"old!")
    calls = []
    lock = threading.Lock()

    def resolve(job):
        with lock:
            calls.append(job.key)
        return ConflictAnswer("overwrite", apply_to_all=True)

    report = Downloader(
        driver, plan_prefix(driver, bucket, "r/", str(dest)), jobs=4, resolve_conflict=resolve
    ).run()
    assert len(calls) == 1 and len(report.done) == 5
    assert all((dest / f"{i}.txt").read_bytes() == b"new" for i in range(5))


def test_progress_snapshot_and_selected_keys(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"a/b/one.bin": _body(1000), "a/c/two.bin": _body(2000), "z": b"z"})
    plan = plan_keys(driver, bucket, ["a/b/one.bin", "a/c/two.bin"], str(tmp_path))
    assert [j.rel for j in plan.jobs] == ["b/one.bin", "c/two.bin"]  # relative to "a/"
    download = Downloader(driver, plan)
    report = download.run()
    snap = download.progress()
    assert report.ok and snap.finished
    assert (snap.files_total, snap.files_done, snap.bytes_total, snap.bytes_done) == (
        2,
        2,
        3000,
        3000,
    )
    assert {f.state for f in snap.files} == {"done"} and snap.eta == 0.0
    single = plan_keys(driver, bucket, ["a/b/one.bin"], str(tmp_path), names={"a/b/one.bin": "x"})
    assert [j.path for j in single.jobs] == [str(tmp_path.resolve() / "x")]


def test_cancel_all_before_start(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"a": b"1", "b": b"2"})
    download = Downloader(driver, plan_prefix(driver, bucket, "", str(tmp_path / "d")))
    download.cancel()
    report = download.run()
    assert sorted(c.key for c in report.cancelled) == ["a", "b"] and not report.done
    assert download.progress().files_cancelled == 2


def test_missing_object_is_reported_with_its_code(s3, tmp_path):
    driver, bucket = s3
    seed_keys(bucket, {"gone": b"x", "kept": b"y"})
    plan = plan_prefix(driver, bucket, "", str(tmp_path / "d"))
    s3_client(driver.endpoint).delete_object(Bucket=bucket, Key="gone")
    report = Downloader(driver, plan).run()
    assert [(f.key, f.code) for f in report.failed] == [("gone", "NoSuchKey")]
    assert _files(tmp_path / "d") == {"kept": b"y"}


def test_gcs_prefix_download_verifies_crc32c(gcs_emulator, bucket_name, tmp_path):
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    data = {"run/a.json": b'{"a": 1}', "run/sub/b.bin": _body(70_000)}
    for key, body in data.items():
        raw.blob(key).upload_from_string(body)
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"))
    dest = tmp_path / "dest"
    report = Downloader(driver, plan_prefix(driver, bucket_name, "run/", str(dest))).run()
    assert report.ok and {d.verified for d in report.done} == {"crc32c"}
    assert _files(dest) == {"a.json": data["run/a.json"], "sub/b.bin": data["run/sub/b.bin"]}
    bad = Downloader(
        Wrapped(driver, corrupt=True), plan_prefix(driver, bucket_name, "run/", str(tmp_path / "x"))
    ).run()
    assert {f.code for f in bad.failed} == {"ChecksumMismatch"}


def test_local_folder_download(tmp_path):
    src = tmp_path / "store" / "bucket" / "runs"
    (src / "n").mkdir(parents=True)
    (src / "n" / "f.txt").write_bytes(b"local file")
    driver = open_driver(ConnectionSpec(name="l", provider="local", root=str(tmp_path / "store")))
    report = Downloader(driver, plan_prefix(driver, "bucket", "runs/", str(tmp_path / "d"))).run()
    assert [(d.key, d.verified) for d in report.done] == [("runs/n/f.txt", "sha256-source")]
    assert _files(tmp_path / "d") == {"n/f.txt": b"local file"}
    again = Downloader(driver, plan_prefix(driver, "bucket", "runs/", str(tmp_path / "d"))).run()
    assert [s.reason for s in again.skipped] == ["identical"]  # same size and mtime
