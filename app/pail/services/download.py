"""The download engine shared by the app's downloads panel and ``pail get``.

Usage (from a worker thread; nothing here touches the UI)::

    plan = plan_prefix(driver, "bucket", "runs/7/", "/home/me/runs-7")   # or plan_keys(...)
    download = Downloader(driver, plan, jobs=8, conflict="ask", resolve_conflict=ask_user)
    download.start()            # returns at once; files transfer on a thread pool
    download.progress()         # DownloadProgress snapshot, any thread, any time
    download.cancel(key)        # one file; download.cancel() for all
    report = download.wait()    # DownloadReport once every file is final

Each file is written to ``.NAME.pail-partial`` next to its final name, verified
(:mod:`pail.services.transfer_verify`) and renamed with ``os.replace``; nothing partial or
unverified ever has the final name. A sidecar ``.NAME.pail-partial.json`` records the
object's key, size, ETag and version (no secrets): a later run resumes a cancelled or
interrupted file from the partial's size by range when they still match.

Existing files: skipped when identical (size and checksum, or size and mtime when no
checksum is cheap), otherwise the ``conflict`` policy: ``"overwrite"``, ``"skip"`` or
``"ask"`` -> ``resolve_conflict(job)`` returns ``"overwrite"``/``"skip"``/``"keep-both"`` or
a :class:`ConflictAnswer` with ``apply_to_all``. The resolver is called from a worker
thread, one question at a time.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Literal

from pail.drivers.base import StorageDriver
from pail.drivers.errors import NotFound, StorageError, TransferCancelled
from pail.services.download_plan import DownloadJob, DownloadPlan, RefusedKey, plan_keys
from pail.services.download_plan import plan_prefix as plan_prefix
from pail.services.transfer_paths import keep_both_path, partial_path, sidecar_path
from pail.services.transfer_progress import DownloadProgress, ProgressTracker
from pail.services.transfer_verify import Expected, expected_from, verify

__all__ = [
    "ConflictAnswer",
    "DownloadJob",
    "DownloadPlan",
    "DownloadReport",
    "Downloader",
    "Failure",
    "FileDone",
    "RefusedKey",
    "Skipped",
    "plan_keys",
    "plan_prefix",
]

ConflictAction = Literal["overwrite", "skip", "keep-both"]
ConflictPolicy = Literal["ask", "overwrite", "skip"]
#: Default number of files transferred at once.
DEFAULT_JOBS = 8


@dataclass(frozen=True)
class ConflictAnswer:
    """The answer to "this file exists": ``action`` and whether it applies to every later
    conflict of the same download."""

    action: ConflictAction
    apply_to_all: bool = False


ConflictResolver = Callable[[DownloadJob], "ConflictAnswer | ConflictAction"]


@dataclass(frozen=True)
class FileDone:
    """A file written and verified: ``size`` bytes, ``fetched`` of them in this run
    (``resumed_from`` were on disk), checked by ``verified`` (``md5``, ``multipart-md5``,
    ``crc32c``, ``size``)."""

    key: str
    path: str
    size: int
    fetched: int
    resumed_from: int
    verified: str


@dataclass(frozen=True)
class Skipped:
    """A file not downloaded: ``reason`` is ``"identical"``, ``"exists"`` (policy skip) or
    ``"cancelled"``."""

    key: str
    path: str
    reason: str


@dataclass(frozen=True)
class Failure:
    """A file that failed: ``code`` (``ChecksumMismatch``, the store's error code such as
    ``AccessDenied``, or an errno name) and a plain-text ``message``. ``error`` is the
    exception, when there was one."""

    key: str
    path: str
    code: str
    message: str
    error: BaseException | None = field(default=None, compare=False, repr=False)


@dataclass
class DownloadReport:
    """Every outcome of a download. ``ok`` is true when nothing failed, was refused or
    cancelled."""

    done: list[FileDone] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    refused: list[RefusedKey] = field(default_factory=list)
    cancelled: list[Skipped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No failure, refusal or cancellation."""
        return not (self.failed or self.refused or self.cancelled)


class Downloader:
    """Runs a :class:`DownloadPlan` on a thread pool.

    Args:
        driver: the store's driver (shared by the workers; drivers are thread-safe).
        plan: from :func:`plan_prefix` / :func:`plan_keys`.
        jobs: files in flight at once (large S3/GCS objects also use parallel parts).
        conflict: policy for an existing, different file: ``"ask"``, ``"overwrite"``,
            ``"skip"``. ``"ask"`` without ``resolve_conflict`` skips.
        resolve_conflict: called (from a worker thread, serialised) with the job; returns
            a :class:`ConflictAnswer` or an action string.
        on_file: called from a worker thread with each file's outcome (:class:`FileDone`,
            :class:`Skipped` or :class:`Failure`) as it becomes final, e.g. to print a line
            or post a message to the UI. It must not block for long.
    """

    def __init__(
        self,
        driver: StorageDriver,
        plan: DownloadPlan,
        *,
        jobs: int = DEFAULT_JOBS,
        conflict: ConflictPolicy = "ask",
        resolve_conflict: ConflictResolver | None = None,
        on_file: Callable[[FileDone | Skipped | Failure], None] | None = None,
    ) -> None:
        self._on_file = on_file
        self.driver = driver
        self.plan = plan
        self._jobs = max(1, jobs)
        self._policy: str = conflict
        self._resolver = resolve_conflict
        self._conflict_lock = threading.Lock()
        self._lock = threading.Lock()
        self._cancel_all = threading.Event()
        self._cancels = {job.key: threading.Event() for job in plan.jobs}
        self._outcomes: dict[str, object] = {}
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.tracker = ProgressTracker([(j.key, j.path, j.size) for j in plan.jobs])

    # -- control ------------------------------------------------------------------------

    def start(self) -> None:
        """Start transferring in background threads; returns at once. Calling it again
        does nothing."""
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run_all, name="pail-download", daemon=True)
            self._thread.start()

    def run(self) -> DownloadReport:
        """Transfer everything in the calling thread's time and return the report."""
        self.start()
        return self.wait()  # type: ignore[return-value]

    def wait(self, timeout: float | None = None) -> DownloadReport | None:
        """The report once every file is final; ``None`` if ``timeout`` seconds pass first."""
        if not self._finished.wait(timeout):
            return None
        return self.report()

    @property
    def finished(self) -> bool:
        """True once every file reached a final state."""
        return self._finished.is_set()

    def cancel(self, key: str | None = None) -> None:
        """Cancel one file (by key) or, with no key, every file not finished yet. A file
        being transferred stops at its next chunk and keeps its partial for a resume."""
        if key is None:
            self._cancel_all.set()
            for event in self._cancels.values():
                event.set()
        elif key in self._cancels:
            self._cancels[key].set()

    def progress(self, *, with_files: bool = True) -> DownloadProgress:
        """A :class:`DownloadProgress` snapshot (thread-safe)."""
        return self.tracker.snapshot(with_files=with_files)

    def report(self) -> DownloadReport:
        """The outcomes so far, in plan order (complete once :attr:`finished`)."""
        report = DownloadReport(refused=list(self.plan.refused))
        with self._lock:
            outcomes = [self._outcomes.get(job.key) for job in self.plan.jobs]
        for outcome in outcomes:
            if isinstance(outcome, FileDone):
                report.done.append(outcome)
            elif isinstance(outcome, Failure):
                report.failed.append(outcome)
            elif isinstance(outcome, Skipped):
                target = report.cancelled if outcome.reason == "cancelled" else report.skipped
                target.append(outcome)
        return report

    # -- work ---------------------------------------------------------------------------

    def _run_all(self) -> None:
        try:
            with ThreadPoolExecutor(self._jobs, thread_name_prefix="pail-dl") as pool:
                for job in self.plan.jobs:
                    pool.submit(self._run_job, job)
        finally:
            self._finished.set()

    def _finish(self, job: DownloadJob, outcome: object, path: str | None = None) -> None:
        with self._lock:
            self._outcomes[job.key] = outcome
        if isinstance(outcome, FileDone):
            self.tracker.set_state(job.key, "done", path=path)
        elif isinstance(outcome, Failure):
            self.tracker.set_state(job.key, "failed", f"{outcome.code}: {outcome.message}")
        elif isinstance(outcome, Skipped):
            state = "cancelled" if outcome.reason == "cancelled" else "skipped"
            self.tracker.set_state(job.key, state, outcome.reason, path=path)
        if self._on_file is not None:
            self._on_file(outcome)  # type: ignore[arg-type]

    def _run_job(self, job: DownloadJob) -> None:
        cancel = self._cancels[job.key]
        if cancel.is_set():
            self._finish(job, Skipped(job.key, job.path, "cancelled"))
            return
        self.tracker.set_state(job.key, "running")
        try:
            outcome = self._transfer(job, cancel)
        except TransferCancelled:
            outcome = Skipped(job.key, job.path, "cancelled")
        except StorageError as exc:
            code = exc.code or type(exc).__name__
            outcome = Failure(job.key, job.path, code, exc.message or str(exc), exc)
        except OSError as exc:
            code = _errno_name(exc)
            outcome = Failure(job.key, job.path, code, exc.strerror or str(exc), exc)
        except Exception as exc:  # never let one file take the download down
            outcome = Failure(job.key, job.path, type(exc).__name__, str(exc), exc)
        if not isinstance(outcome, FileDone):
            self._drop_useless_partial(job, outcome)
        path = outcome.path if isinstance(outcome, (FileDone, Skipped)) else None
        self._finish(job, outcome, path)

    def _drop_useless_partial(self, job: DownloadJob, outcome: object) -> None:
        """Remove a partial that cannot help a resume: empty, or of a vanished object."""
        temp = partial_path(job.path)
        gone = isinstance(outcome, Failure) and isinstance(outcome.error, NotFound)
        try:
            useless = gone or os.path.getsize(temp) == 0
        except OSError:
            useless = False
        if useless:
            _remove(temp, sidecar_path(temp))

    def _expected(self, job: DownloadJob) -> tuple[DownloadJob, Expected]:
        """Fill in size/ETag from ``head`` when the plan lacks them; GCS always heads for
        its CRC32C and pins the generation so every range reads one object version."""
        if self.plan.provider == "gcs" or job.size is None:
            info = self.driver.head(self.plan.bucket, job.key, version_id=job.version_id)
            version = info.version_id if self.plan.provider == "gcs" else job.version_id
            job = replace(job, size=info.size, etag=info.etag, version_id=version)
            return job, expected_from(self.plan.provider, info.size, info.etag, info.extra)
        expected = expected_from(self.plan.provider, job.size, job.etag, {})
        part_size = getattr(self.driver, "part_size", None)
        if part_size is not None and "-" in (job.etag or ""):
            try:  # S3 multipart: the exact part size makes the ETag checkable
                size = part_size(self.plan.bucket, job.key, version_id=job.version_id)
                expected = replace(expected, part_size=size)
            except StorageError:
                pass  # e.g. a store without part numbers: the size is inferred instead
        return job, expected

    def _transfer(self, job: DownloadJob, cancel: threading.Event) -> FileDone | Skipped:
        job, expected = self._expected(job)
        final = job.path
        if os.path.lexists(final):
            if os.path.isdir(final) and not os.path.islink(final):
                raise IsADirectoryError(21, "a folder is in the way", final)
            if self._identical(job, final, expected):
                return Skipped(job.key, final, "identical")
            action = self._conflict_action(job)
            if action == "skip":
                return Skipped(job.key, final, "exists")
            if action == "keep-both":
                final = keep_both_path(final)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        temp = partial_path(final)
        start = self._prepare_partial(job, temp)
        if start:
            self.tracker.resumed(job.key, start)
        fetched = [0]

        def progress(count: int) -> None:
            fetched[0] += count
            self.tracker.add_bytes(job.key, count)

        self.driver.download_to(
            self.plan.bucket,
            job.key,
            temp,
            start=start,
            version_id=job.version_id,
            size=job.size,
            progress=progress,
            cancel=cancel,
        )
        verdict = verify(temp, expected, os.path.getsize(temp))
        if not verdict.ok and verdict.method == "md5" and self.plan.provider == "s3":
            verdict = self._recheck_encrypted(job, verdict)
        if not verdict.ok:
            _remove(temp, sidecar_path(temp))
            self.tracker.restart(job.key)
            raise _failure_error(verdict.reason)
        os.replace(temp, final)
        _remove(sidecar_path(temp))
        if job.last_modified is not None:  # like aws s3 cp: mtime = object's last write
            stamp = job.last_modified.timestamp()
            os.utime(final, (stamp, stamp))
        size = job.size if job.size is not None else os.path.getsize(final)
        return FileDone(job.key, final, size, fetched[0], start, verdict.method)

    def _prepare_partial(self, job: DownloadJob, temp: str) -> int:
        """Bytes to resume from: the partial's size when its sidecar matches this object
        version; otherwise a fresh, empty partial (returns 0)."""
        side = sidecar_path(temp)
        record = {"key": job.key, "size": job.size, "etag": job.etag, "version_id": job.version_id}
        try:
            with open(side, encoding="utf-8") as fh:
                previous = json.load(fh)
            have = os.path.getsize(temp)
        except (OSError, ValueError):
            previous, have = None, 0
        if previous == record and job.size is not None and 0 < have <= job.size:
            return have
        with open(temp, "wb"):
            pass
        with open(side, "w", encoding="utf-8") as fh:
            json.dump(record, fh)
        return 0

    def _identical(self, job: DownloadJob, path: str, expected: Expected) -> bool:
        """Same size and checksum (or, without a usable checksum, the same mtime)."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        if job.size is None or st.st_size != job.size:
            return False
        verdict = verify(path, expected, st.st_size)
        if verdict.method != "size":
            return verdict.ok
        when = job.last_modified
        return when is not None and abs(st.st_mtime - when.timestamp()) < 1.0

    def _conflict_action(self, job: DownloadJob) -> ConflictAction:
        with self._conflict_lock:  # one question at a time; "apply to all" sticks
            if self._policy in ("overwrite", "skip", "keep-both"):
                return self._policy  # type: ignore[return-value]
            if self._resolver is None or self._cancel_all.is_set():
                return "skip"
            answer = self._resolver(job)
            if isinstance(answer, str):
                answer = ConflictAnswer(answer)  # type: ignore[arg-type]
            if answer.apply_to_all:
                self._policy = answer.action
            return answer.action

    def _recheck_encrypted(self, job: DownloadJob, verdict):
        """SSE-KMS and SSE-C objects have ETags that are not MD5s: accept on size then."""
        try:
            info = self.driver.head(self.plan.bucket, job.key, version_id=job.version_id)
        except StorageError:
            return verdict
        if info.encryption and ("kms" in info.encryption or "SSE-C" in info.encryption):
            return replace(verdict, ok=True, method="size", reason="")
        return verdict


def _failure_error(reason: str) -> StorageError:
    return StorageError(reason, operation="verify", code="ChecksumMismatch")


def _remove(*paths: str) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
