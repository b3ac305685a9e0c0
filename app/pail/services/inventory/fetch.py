"""Verified, cached, resumable downloads of a report's data files.

The files go through pail's own download engine (:mod:`pail.services.download`): parts in
parallel, partials resumed by byte range after a cancel or a crash, each file checked
against what the store vouches for before it takes its final name. On top of that each
file must match the manifest:

* S3: the size and the ``MD5checksum`` the manifest lists (the manifest itself was proven
  by ``manifest.checksum``). A file the store cannot vouch for (an SSE-KMS object whose
  ETag is no MD5) is accepted by the engine only because this MD5 is checked next; a
  ``hex-N`` value (a multipart ETag) must equal the object's ETag, which the engine proved
  the bytes against.
* GCS: the manifest lists no checksums; a shard is proven by the store's own CRC32C / MD5
  (``objects.get``), which the engine checks. A shard it cannot check is refused.

A file that differs raises :class:`~pail.services.inventory.model.ManifestInvalid` and is
deleted: a report is used whole and proven, or not at all.

Cache layout (``cache_dir`` defaults to :func:`pail.services.inventory.open.default_cache_dir`)::

    <cache_dir>/<provider>-<destination bucket>/<id>/
        data/00000.csv.gz ...      the data files, in manifest order (names are pail's: a
                                   key never becomes a path)
        verified.json              what was verified: manifest, files, sizes, mtimes
        .pail/partials/            the engine's partials while a download is unfinished
        work/                      the query layer's work folder (converted Parquet, temp)

``<id>`` is the first 16 hex digits of the SHA-256 of the endpoint, the manifest's key and
the manifest's MD5: a new report gets a new folder, the same report the same one. When
``verified.json`` lists every file with the size and modification time it has on disk,
nothing is downloaded or read again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pail.core.text import printable
from pail.drivers.base import Entry, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.download import Downloader, FileDone, Skipped, plan_keys
from pail.services.download.plan import DownloadJob
from pail.services.inventory.model import (
    InventoryError,
    ManifestInvalid,
    OpenProgress,
    Report,
    ReportFile,
)
from pail.services.jobs import run_each

__all__ = [
    "MARKER",
    "FetchCancelled",
    "Fetched",
    "cache_folder",
    "fetch_report",
]

#: The file that records what was verified, in a report's cache folder.
MARKER = "verified.json"
#: Files fetched at once.
JOBS = 4
#: Seconds between progress reports while downloading.
POLL = 0.1
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
_MULTIPART = re.compile(r"^[0-9a-f]{32}-\d+$")
_SAFE = re.compile(r"[^A-Za-z0-9._-]")
_SUFFIXES = (".csv.gz", ".csv", ".orc", ".parquet", ".gz")


class FetchCancelled(InventoryError):
    """Opening was cancelled while the data files were downloading; what arrived is kept
    (as partials) and the next open resumes it."""


@dataclass(frozen=True)
class Fetched:
    """A report's data files on disk, verified.

    Attributes:
        folder: the report's cache folder.
        files: the local data files, in the manifest's order.
        fetched: bytes received from the store by this call (0 when the cache had them).
        reused: every file came from the cache (nothing was downloaded or read again).
    """

    folder: Path
    files: list[Path]
    fetched: int
    reused: bool


def cache_folder(cache_dir: Path, driver: StorageDriver, report: Report, manifest_md5: str) -> Path:
    """``<cache_dir>/<provider>-<destination bucket>/<16 hex>/`` for the report (see the
    module doc); characters outside ``[A-Za-z0-9._-]`` in the bucket name become ``_``."""
    seed = f"{driver.endpoint or ''}\n{report.manifest_key}\n{manifest_md5}"
    digest = hashlib.sha256(seed.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    store = f"{driver.provider}-{_SAFE.sub('_', report.destination_bucket)}"
    return Path(cache_dir) / store / digest


def _local_name(index: int, report: Report, item: ReportFile) -> str:
    """``data/00003.csv.gz``: the key's known suffix kept (the query layer reads by it)."""
    lower = item.key.lower()
    suffix = next((s for s in _SUFFIXES if lower.endswith(s)), "")
    if not suffix:
        suffix = {"CSV": ".csv", "ORC": ".orc", "Parquet": ".parquet"}[report.format]
    return f"data/{index:05d}{suffix}"


def _uri(driver: StorageDriver, report: Report, key: str) -> str:
    scheme = "gs" if driver.provider == "gcs" else driver.provider
    return printable(f"{scheme}://{report.destination_bucket}/{key}")


def _md5_file(path: Path, cancel: threading.Event | None) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            if cancel is not None and cancel.is_set():
                raise FetchCancelled("cancelled while checking the downloaded files")
            digest.update(chunk)
    return digest.hexdigest()


# -- the marker --------------------------------------------------------------------------


def _marker_entries(folder: Path, report: Report, manifest_md5: str) -> dict[str, Any] | None:
    """The marker's ``files`` by key, when it is this report's."""
    try:
        doc = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("manifest_md5") != manifest_md5:
        return None
    if doc.get("manifest_key") != report.manifest_key:
        return None
    files = doc.get("files")
    if not isinstance(files, list):
        return None
    return {f["key"]: f for f in files if isinstance(f, dict) and isinstance(f.get("key"), str)}


def _still_verified(folder: Path, entry: Any, item: ReportFile, name: str) -> bool:
    """The marker's record of a file still describes it: same name, size, mtime."""
    if not isinstance(entry, dict) or entry.get("path") != name:
        return False
    if item.size is not None and entry.get("size") != item.size:
        return False
    try:
        st = (folder / name).stat()
    except OSError:
        return False
    return st.st_size == entry.get("size") and st.st_mtime_ns == entry.get("mtime_ns")


def _write_marker(
    folder: Path,
    driver: StorageDriver,
    report: Report,
    manifest_md5: str,
    records: Sequence[dict[str, Any]],
) -> None:
    doc = {
        "manifest_uri": report.manifest_uri,
        "manifest_key": report.manifest_key,
        "manifest_md5": manifest_md5,
        "endpoint": driver.endpoint,
        "created": report.created.isoformat(),
        "format": report.format,
        "files": list(records),
    }
    tmp = folder / f".{MARKER}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    os.replace(tmp, folder / MARKER)


# -- fetching ----------------------------------------------------------------------------


def _heads(driver: StorageDriver, report: Report, items: Sequence[ReportFile]) -> dict[str, Entry]:
    """HeadObject of every file to fetch, :data:`JOBS` at a time: the ETag pins each
    download (S3 ``If-Match``) and the size is checked against the manifest first."""
    found: dict[str, Entry] = {}
    lock = threading.Lock()

    def head(item: ReportFile) -> None:
        info = driver.head(report.destination_bucket, item.key)
        entry = Entry(
            item.key,
            "object",
            info.size,
            info.last_modified,
            info.etag,
            info.storage_class,
            info.version_id if driver.provider == "gcs" else None,
        )
        with lock:
            found[item.key] = entry

    run_each(items, head, workers=JOBS, name="pail-inv-head")
    for item in items:
        size = found[item.key].size
        if item.size is not None and size != item.size:
            raise ManifestInvalid(
                f"{_uri(driver, report, item.key)}: {size} bytes, the manifest says "
                f"{item.size}; the report is not used"
            )
    return found


def _check_file(
    driver: StorageDriver,
    report: Report,
    item: ReportFile,
    path: Path,
    verified: str,
    etag: str | None,
    cancel: threading.Event | None,
) -> str:
    """Prove the local file is the one the manifest lists; returns how (``md5``,
    ``etag``, or the store's check for a GCS shard).

    Raises:
        ManifestInvalid: the size or MD5 differs, or nothing proves the file.
    """
    uri = _uri(driver, report, item.key)
    size = path.stat().st_size
    if item.size is not None and size != item.size:
        raise ManifestInvalid(f"{uri}: {size} bytes, the manifest says {item.size}")
    want = (item.md5 or "").lower()
    if _MD5_HEX.match(want):
        if verified == "md5" and (etag or "").lower() == want:
            return "md5"  # the engine hashed the file against this very value
        got = _md5_file(path, cancel)
        if got != want:
            raise ManifestInvalid(f"{uri}: MD5 {got}, the manifest says {want}")
        return "md5"
    if _MULTIPART.match(want):
        if verified == "unverified" or (etag or "").lower() != want:
            raise ManifestInvalid(
                f"{uri}: the manifest's checksum {want} is a multipart ETag the object "
                f"does not have (ETag {printable(etag)}), or the download was not verified"
            )
        return "etag"
    if verified in ("", "unverified"):
        raise ManifestInvalid(f"{uri}: nothing proves the downloaded file (no checksum)")
    return verified


def fetch_report(
    driver: StorageDriver,
    report: Report,
    *,
    manifest_md5: str,
    cache_dir: Path,
    cancel: threading.Event | None = None,
    on_progress: Callable[[OpenProgress], None] | None = None,
    jobs: int = JOBS,
) -> Fetched:
    """The report's data files in its cache folder, each verified (see the module doc).

    Args:
        driver: reads ``report.destination_bucket``.
        manifest_md5: the manifest's hex MD5 (:class:`~pail.services.inventory.locate.Located`).
        cache_dir: the cache root.
        cancel: set from another thread to stop; the files' partials stay for a resume.
        on_progress: ``OpenProgress(stage="downloading", done, total)`` in bytes, from
            this thread, about every :data:`POLL` seconds while downloading.
        jobs: files in flight at once.

    Raises:
        ManifestInvalid: a file's size or checksum differs from the manifest or the
            store's (the file is deleted), or a file cannot be proven.
        FetchCancelled: ``cancel`` was set.
        StorageError: a file could not be read (AccessDenied, NotFound...), as the store
            said.
        OSError: the cache folder cannot be written.
    """
    import filelock

    folder = cache_folder(cache_dir, driver, report, manifest_md5)
    folder.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(folder / ".lock"))
    while True:  # another open of the same report (the app and the CLI) finishes first
        if cancel is not None and cancel.is_set():
            raise FetchCancelled("cancelled before the download started")
        try:
            lock.acquire(timeout=0.2)
            break
        except filelock.Timeout:
            continue
    try:
        return _fetch_locked(
            driver, report, manifest_md5, folder, cancel, on_progress, max(1, jobs)
        )
    finally:
        lock.release()


def _fetch_locked(
    driver: StorageDriver,
    report: Report,
    manifest_md5: str,
    folder: Path,
    cancel: threading.Event | None,
    on_progress: Callable[[OpenProgress], None] | None,
    jobs: int,
) -> Fetched:
    names = {item.key: _local_name(i, report, item) for i, item in enumerate(report.files)}
    paths = [folder / names[item.key] for item in report.files]
    known = _marker_entries(folder, report, manifest_md5) or {}
    records: dict[str, dict[str, Any]] = {}
    todo: list[ReportFile] = []
    for item in report.files:
        entry = known.get(item.key)
        if _still_verified(folder, entry, item, names[item.key]):
            records[item.key] = entry  # type: ignore[assignment]
        else:
            todo.append(item)
    if not todo:
        return Fetched(folder, paths, 0, True)
    (folder / MARKER).unlink(missing_ok=True)  # it is written again once all is proven
    entries = _heads(driver, report, todo)
    plan = plan_keys(
        driver,
        report.destination_bucket,
        [entries[item.key] for item in todo],
        str(folder),
        names={item.key: names[item.key] for item in todo},
    )
    if plan.refused:  # cannot happen: the names are pail's own
        raise InventoryError(f"cannot write {printable(plan.refused[0].key)} to the cache")
    allow = {item.key for item in todo if item.md5}  # proven by the manifest's MD5 next

    def allowed(job: DownloadJob, _reason: str) -> bool:
        return job.key in allow

    download = Downloader(driver, plan, jobs=jobs, conflict="overwrite", allow_unverified=allowed)
    total = report.total_bytes or plan.total_bytes
    download.start()
    last = -1
    while (result := download.wait(POLL)) is None:
        if cancel is not None and cancel.is_set():
            download.cancel()
        if on_progress is not None:
            done = download.progress(with_files=False).bytes_done
            if done != last:
                last = done
                on_progress(OpenProgress("downloading", done, total))
    if on_progress is not None:
        on_progress(OpenProgress("downloading", total, total))
    fetched = download.progress(with_files=False).bytes_fetched
    if result.cancelled or (cancel is not None and cancel.is_set()):
        download.flush()
        raise FetchCancelled("cancelled while downloading the report's data files")
    _raise_failures(driver, report, result.failed)
    outcomes: dict[str, FileDone | Skipped] = {d.key: d for d in result.done}
    outcomes.update({s.key: s for s in result.skipped})
    for item in todo:
        outcome = outcomes.get(item.key)
        path = folder / names[item.key]
        if outcome is None:
            raise InventoryError(f"{_uri(driver, report, item.key)} was not downloaded")
        verified = outcome.verified if isinstance(outcome, FileDone) else "identical"
        try:
            how = _check_file(driver, report, item, path, verified, entries[item.key].etag, cancel)
        except ManifestInvalid:
            path.unlink(missing_ok=True)  # never kept: a later open downloads it again
            raise
        st = path.stat()
        records[item.key] = {
            "key": item.key,
            "path": names[item.key],
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "verified": how,
        }
    _write_marker(folder, driver, report, manifest_md5, [records[i.key] for i in report.files])
    return Fetched(folder, paths, fetched, False)


def _raise_failures(driver: StorageDriver, report: Report, failed: Sequence[Any]) -> None:
    """The first failure as the error it is: the store's own error (AccessDenied...), or
    ManifestInvalid for a file whose bytes do not match (the engine deleted it)."""
    for failure in failed:
        if isinstance(failure.error, StorageError) and failure.code not in (
            "ObjectChanged",
            "ChecksumMismatch",
        ):
            raise failure.error
    for failure in failed:
        uri = _uri(driver, report, failure.key)
        if failure.code in ("ChecksumMismatch", "ObjectChanged"):
            raise ManifestInvalid(
                f"{uri}: {printable(failure.message)}; the file is not kept and the report "
                "is not used"
            )
        if failure.code == "Unverified":
            raise ManifestInvalid(f"{uri}: {printable(failure.message)}")
        if isinstance(failure.error, OSError):  # the cache folder: disk full, permissions
            raise failure.error
        raise InventoryError(f"{uri}: {failure.code}: {printable(failure.message)}")
