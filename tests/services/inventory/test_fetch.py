"""Verified, cached, resumable downloads of a report's data files through pail's own
download engine, against moto's server over HTTP and gcp-storage-emulator.

Failures the stores will not produce (a flipped byte on the way, a cancel after the first
MiB) come from a wrapper around *pail's own driver*, never the SDK."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import TransferCancelled
from pail.drivers.registry import open_driver
from pail.services.inventory.fetch import MARKER, FetchCancelled, cache_folder, fetch_report
from pail.services.inventory.locate import locate
from pail.services.inventory.model import ManifestInvalid, OpenProgress
from support.inventory_manifests import gcs_put, moto_put, publish_gcs, publish_s3
from support.inventory_reports import InvRow, Written, write_gcs_csv, write_s3_csv
from support.servers import gcs_client, moto_backend

CREATED = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
MIB = 1024 * 1024


class Counting:
    """pail's driver, counting requests that move data and optionally flipping the first
    byte of an object or setting ``cancel`` once ``cancel_after`` bytes went through."""

    def __init__(self, inner, *, corrupt=False, cancel=None, cancel_after=None):
        self.inner, self.corrupt = inner, corrupt
        self.cancel, self.cancel_after = cancel, cancel_after
        self.provider = inner.provider
        self.calls: list[str] = []
        self.bytes = 0
        self._lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def endpoint(self):
        return self.inner.endpoint

    def head(self, bucket, key, **kw):
        self.calls.append("head")
        return self.inner.head(bucket, key, **kw)

    def stream_range(self, bucket, key, start, end, sink, **kw):
        self.calls.append("get")
        first = [start == 0]

        def hooked(chunk: bytes) -> None:
            with self._lock:
                if self.cancel_after is not None and self.bytes >= self.cancel_after:
                    self.cancel.set()  # as the user would; the engine stops at a chunk
                    raise TransferCancelled("stopped by the test", operation="download")
                self.bytes += len(chunk)
            if self.corrupt and first[0] and chunk:
                chunk = bytes([chunk[0] ^ 0xFF]) + chunk[1:]
            first[0] = False
            sink(chunk)

        self.inner.stream_range(bucket, key, start, end, hooked, **kw)


@pytest.fixture
def s3(s3_endpoint):
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec)


def _blob(tmp_path: Path, size: int, name: str = "blob.csv.gz", salt: int = 0) -> Written:
    """A data file of ``size`` bytes (fetching never parses it)."""
    block = hashlib.sha256(str(salt).encode()).digest()
    path = tmp_path / f"w{salt}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((block * (size // 32 + 1))[:size])
    return Written([path], ("key",), ("Key",), "Key")


def _published(driver, tmp_path, written: Written | list[Written] | None = None, **kw):
    put = moto_put("dest")
    if "src" not in moto_backend().buckets:
        moto_backend().create_bucket("src", "us-east-1")
    if written is None:
        rows = [InvRow("a"), InvRow("b c/ü", 4), InvRow("d+e", 5)]
        written = write_s3_csv(rows, tmp_path / "w", files=3)
    pub = publish_s3(put, written, source_bucket="src", dest_bucket="dest", created=CREATED, **kw)
    return pub, locate(driver, "src", manifest=f"s3://dest/{pub.manifest_key}")


def test_fetch_verifies_and_the_cache_is_reused(s3, tmp_path):
    pub, located = _published(s3, tmp_path)
    cache = tmp_path / "cache"
    seen: list[OpenProgress] = []
    counting = Counting(s3)
    first = fetch_report(
        counting, located.report, manifest_md5=located.manifest_md5, cache_dir=cache,
        on_progress=seen.append,
    )  # fmt: skip
    folder = cache_folder(cache, s3, located.report, located.manifest_md5)
    assert first.folder == folder and folder.parent.name == "s3-dest"
    assert len(folder.name) == 16 and not first.reused
    assert [p.read_bytes() for p in first.files] == [pub.data[k] for k in pub.data_keys]
    assert [p.relative_to(folder).as_posix() for p in first.files] == [
        "data/00000.csv.gz", "data/00001.csv.gz", "data/00002.csv.gz",
    ]  # fmt: skip
    total = located.report.total_bytes
    assert first.fetched == total and seen[-1] == OpenProgress("downloading", total, total)
    assert all(s.stage == "downloading" and s.done <= s.total for s in seen)
    marker = json.loads((folder / MARKER).read_text())
    assert marker["manifest_md5"] == located.manifest_md5
    assert {f["verified"] for f in marker["files"]} == {"md5"}
    assert counting.calls.count("get") == 3
    mtimes = [p.stat().st_mtime_ns for p in first.files]
    again = Counting(s3)
    second = fetch_report(again, located.report, manifest_md5=located.manifest_md5, cache_dir=cache)
    assert second.reused and second.fetched == 0 and again.calls == []
    assert [p.stat().st_mtime_ns for p in second.files] == mtimes
    # A file changed on disk after it was verified is fetched again, only that one.
    first.files[1].write_bytes(b"tampered")
    third = Counting(s3)
    result = fetch_report(third, located.report, manifest_md5=located.manifest_md5, cache_dir=cache)
    assert not result.reused and third.calls == ["head", "get"]
    assert result.files[1].read_bytes() == pub.data[pub.data_keys[1]]


def test_data_file_whose_md5_differs_is_refused_and_not_kept(s3, tmp_path):
    written = _blob(tmp_path, 5000)
    key = "inventory/src/daily/data/blob.csv.gz"
    _, located = _published(s3, tmp_path, written, md5s={key: "0" * 32})
    with pytest.raises(ManifestInvalid, match=r"MD5 .*the manifest says 0000"):
        fetch_report(s3, located.report, manifest_md5=located.manifest_md5, cache_dir=tmp_path)
    folder = cache_folder(tmp_path, s3, located.report, located.manifest_md5)
    assert not (folder / "data" / "00000.csv.gz").exists() and not (folder / MARKER).exists()


def test_size_differing_from_the_manifest_is_refused_before_downloading(s3, tmp_path):
    pub, located = _published(s3, tmp_path, _blob(tmp_path, 5000))
    moto_put("dest")(pub.data_keys[0], b"replaced after the report")
    counting = Counting(s3)
    with pytest.raises(ManifestInvalid, match="25 bytes, the manifest says 5000"):
        fetch_report(counting, located.report, manifest_md5=located.manifest_md5,
                     cache_dir=tmp_path)  # fmt: skip
    assert "get" not in counting.calls


def test_bytes_corrupted_on_the_way_are_refused(s3, tmp_path):
    pub, located = _published(s3, tmp_path, _blob(tmp_path, 5000))
    with pytest.raises(ManifestInvalid, match="not kept"):
        fetch_report(Counting(s3, corrupt=True), located.report,
                     manifest_md5=located.manifest_md5, cache_dir=tmp_path)  # fmt: skip
    good = fetch_report(s3, located.report, manifest_md5=located.manifest_md5, cache_dir=tmp_path)
    assert good.files[0].read_bytes() == pub.data[pub.data_keys[0]]


def test_cancel_keeps_what_arrived_and_the_next_open_resumes(s3, tmp_path):
    pub, located = _published(s3, tmp_path, _blob(tmp_path, 3 * MIB + 5))
    cancel = threading.Event()
    with pytest.raises(FetchCancelled):
        fetch_report(
            Counting(s3, cancel=cancel, cancel_after=MIB), located.report,
            manifest_md5=located.manifest_md5, cache_dir=tmp_path, cancel=cancel,
        )  # fmt: skip
    folder = cache_folder(tmp_path, s3, located.report, located.manifest_md5)
    assert list((folder / ".pail" / "partials").glob("*.part"))
    resumed = fetch_report(
        s3, located.report, manifest_md5=located.manifest_md5, cache_dir=tmp_path
    )
    assert 0 < resumed.fetched < 3 * MIB + 5
    assert resumed.files[0].read_bytes() == pub.data[pub.data_keys[0]]
    assert not list((folder / ".pail" / "partials").glob("*.part"))


def test_cancel_before_start(s3, tmp_path):
    _, located = _published(s3, tmp_path, _blob(tmp_path, 10))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(FetchCancelled):
        fetch_report(s3, located.report, manifest_md5=located.manifest_md5,
                     cache_dir=tmp_path, cancel=cancel)  # fmt: skip


def test_hostile_data_keys_land_under_pails_own_names(s3, tmp_path):
    names = ["../../escape ünï.csv.gz"]
    written = _blob(tmp_path, 100)
    pub, located = _published(s3, tmp_path, written, data_names=names, prefix="a b/\u202e")
    assert located.report.files[0].key.endswith("data/../../escape ünï.csv.gz")
    got = fetch_report(s3, located.report, manifest_md5=located.manifest_md5,
                       cache_dir=tmp_path / "c")  # fmt: skip
    assert got.files[0].name == "00000.csv.gz"
    assert got.files[0].read_bytes() == pub.data[pub.data_keys[0]]
    assert all(
        Path(root).resolve().is_relative_to((tmp_path / "c").resolve())
        for root, _, _ in os.walk(tmp_path / "c")
    )


def test_gcs_shards_are_proven_by_the_stores_checksum(gcs_emulator, tmp_path):
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    raw = gcs_client(gcs_emulator).create_bucket(bucket)
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"))
    written = write_gcs_csv([InvRow("a", 1), InvRow("b c", 2)], tmp_path / "w", files=2)
    pub = publish_gcs(gcs_put(raw), written, source_bucket="src")
    located = locate(driver, "src", manifest=f"gs://{bucket}/{pub.manifest_key}")
    with pytest.raises(ManifestInvalid, match="checksum mismatch"):
        fetch_report(Counting(driver, corrupt=True), located.report,
                     manifest_md5=located.manifest_md5, cache_dir=tmp_path)  # fmt: skip
    got = fetch_report(
        driver, located.report, manifest_md5=located.manifest_md5, cache_dir=tmp_path
    )
    assert [p.read_bytes() for p in got.files] == [pub.data[k] for k in pub.data_keys]
    assert [p.name for p in got.files] == ["00000.csv", "00001.csv"]
    marker = json.loads((got.folder / MARKER).read_text())
    assert {f["verified"] for f in marker["files"]} == {"crc32c"}
    assert got.folder.parent.name == f"gcs-{bucket}"
