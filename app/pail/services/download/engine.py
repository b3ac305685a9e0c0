"""The download engine shared by the app's downloads panel and ``pail get``.

Usage (from a worker thread; nothing here touches the UI)::

    plan = plan_prefix(driver, "bucket", "runs/7/", "/home/me/runs-7")   # or plan_keys(...)
    download = Downloader(driver, plan, jobs=8, conflict="ask", resolve_conflict=ask_user)
    download.start()            # returns at once; files transfer on daemon threads
    download.progress()         # DownloadProgress snapshot, any thread, any time
    download.cancel(key)        # one file; download.cancel() for all
    report = download.wait()    # DownloadReport once every file is final

Trust, in order of what could go wrong:

* **Nothing unverified under a final name.** Each file is written to a partial in the
  target's state folder (``.pail/partials``, :mod:`pail.services.download.state`), checked
  against what the store vouches for (:mod:`pail.services.download.verify`) and only then
  renamed to its final name. A mismatch deletes the partial. A file no check can prove is
  *unverified*: it stays aside (complete, so a rerun only renames it) unless
  ``allow_unverified`` says yes (``pail get --allow-unverified``; the app asks).
* **Resume by ranges.** The partial's sidecar records the byte ranges on disk; a rerun
  fetches exactly the missing ones when the object's size, ETag and version still match,
  then verifies the whole file (:mod:`pail.services.download.fetch`). S3 ranges are pinned
  with ``If-Match``; GCS ranges with the generation. An object that changed mid-way fails
  (``ObjectChanged``) and its partial is deleted.
* **No write outside the target.** Keys are checked at planning
  (:mod:`pail.services.download.paths`); every folder on the way to a final name is opened
  without following links, partials are created exclusively, and the final rename replaces
  a planted link itself, never its target.
* **Stopping.** Workers are daemon threads (:mod:`pail.services.jobs`) and the on-disk
  state is always consistent, so a process may exit at once (Ctrl-C, ``q``) and resume
  later: :meth:`Downloader.flush` records the last bytes first.

Existing files: skipped when identical (size and a verified checksum, or size and mtime
when no checksum proves it), otherwise the ``conflict`` policy: ``"overwrite"``,
``"skip"`` or ``"ask"`` -> ``resolve_conflict(job)`` returns
``"overwrite"``/``"skip"``/``"keep-both"`` or a :class:`ConflictAnswer` with
``apply_to_all``. Resolvers are called from a worker thread, one question at a time.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import stat
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Generic, Literal, TypeVar

from pail.drivers.base import PartSizes, StorageDriver
from pail.drivers.errors import ChecksumMismatch, NotFound, StorageError, TransferCancelled
from pail.services.checksums import MD5_ETAG, MULTIPART_ETAG
from pail.services.download import fetch
from pail.services.download.fetch import HashPlan, Source, Streams, fetch_missing
from pail.services.download.paths import keep_both_name
from pail.services.download.plan import DownloadJob, DownloadPlan, RefusedKey
from pail.services.download.progress import DownloadProgress, ProgressTracker
from pail.services.download.state import (
    FLUSH_INTERVAL,
    ObjectIdentity,
    Partial,
    StateFolder,
    open_parent,
    state_folder_name,
)
from pail.services.download.verify import (
    MISMATCH,
    S3_ALGORITHMS,
    UNVERIFIED,
    uniform_layout,
    verify_object,
)
from pail.services.jobs import Job, run_each, start_daemon

__all__ = [
    "DEFAULT_JOBS",
    "ConflictAnswer",
    "DownloadReport",
    "Downloader",
    "Failure",
    "FileDone",
    "Questions",
    "Skipped",
]

ConflictAction = Literal["overwrite", "skip", "keep-both"]
ConflictPolicy = Literal["ask", "overwrite", "skip"]
#: Default number of files transferred at once.
DEFAULT_JOBS = 8
#: ``Failure.code`` of a file no check could prove (kept aside, not under its final name).
UNVERIFIED_CODE = "Unverified"
ItemT = TypeVar("ItemT")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


@dataclass(frozen=True)
class ConflictAnswer:
    """The answer to "this file exists": ``action`` and whether it applies to every later
    conflict of the same download."""

    action: ConflictAction
    apply_to_all: bool = False


ConflictResolver = Callable[[DownloadJob], "ConflictAnswer | ConflictAction"]
#: ``allow(job, reason) -> bool``: accept a file no check could prove?
UnverifiedResolver = Callable[[DownloadJob, str], bool]


@dataclass(frozen=True)
class FileDone:
    """A file written under its final name: ``size`` bytes, ``fetched`` of them in this
    run (``resumed_from`` were on disk), checked by ``verified`` (``md5``,
    ``multipart-md5``, ``sha256``, ``composite-crc32c``, ``crc32c``, ``sha256-source``...,
    or ``unverified`` when accepted without proof)."""

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
    """A file that failed: ``code`` (``ChecksumMismatch``, ``Unverified``,
    ``ObjectChanged``, the store's error code such as ``AccessDenied``, or an errno name)
    and a plain-text ``message``. ``error`` is the exception, when there was one."""

    key: str
    path: str
    code: str
    message: str
    error: BaseException | None = field(default=None, compare=False, repr=False)


@dataclass
class DownloadReport:
    """Every outcome of a download. ``ok`` is true when nothing failed, was refused,
    cancelled or left unverified."""

    done: list[FileDone] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    refused: list[RefusedKey] = field(default_factory=list)
    cancelled: list[Skipped] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No failure, refusal, cancellation or unverified file."""
        return not (self.failed or self.refused or self.cancelled)

    @property
    def unverified(self) -> list[Failure]:
        """Files kept aside because no check could prove them (``--allow-unverified``)."""
        return [f for f in self.failed if f.code == UNVERIFIED_CODE]

    def methods(self) -> Counter[str]:
        """How the files written were verified: ``{"md5": 3, "sha256": 1, ...}``
        (``unverified`` counts files accepted without proof)."""
        return Counter(done.verified for done in self.done)

    def verified_text(self) -> str:
        """How the written files were checked, for summaries: ``"verified: 3 md5,
        1 sha256"``, plus ``"; 1 accepted unverified"`` when some were accepted without
        proof (``""`` when nothing was written)."""
        methods = self.methods()
        unchecked = methods.pop("unverified", 0)
        text = ", ".join(f"{n} {method}" for method, n in sorted(methods.items()))
        parts = [f"verified: {text}"] if text else []
        if unchecked:
            parts.append(f"{unchecked} accepted unverified")
        return "; ".join(parts)


class Questions(Generic[ItemT]):
    """The questions one job asks about its items, one at a time: "this exists" (the
    ``conflict`` policy, or ``resolve(item)`` when it is ``"ask"``; an answer "for all"
    becomes the policy) and "this cannot be verified" (``allow``: a bool, or asked per
    item). Shared by downloads and writes (:mod:`pail.services.transfer`). Once
    ``cancel`` is set the safe answers are given without asking: skip, refuse."""

    def __init__(
        self,
        conflict: ConflictPolicy,
        resolve: Callable[[ItemT], ConflictAnswer | ConflictAction] | None,
        allow: bool | Callable[[ItemT, str], bool],
        cancel: threading.Event,
    ) -> None:
        self._policy: ConflictPolicy | ConflictAction = conflict
        self._resolve = resolve
        self._allow = allow
        self._cancel = cancel
        self._lock = threading.Lock()

    def conflict_action(self, item: ItemT) -> ConflictAction:
        """What to do with an existing, different ``item`` (called from worker threads)."""
        with self._lock:  # one question at a time; "apply to all" sticks
            if self._policy != "ask":
                return self._policy
            if self._resolve is None or self._cancel.is_set():
                return "skip"
            answer = self._resolve(item)
            if isinstance(answer, str):
                answer = ConflictAnswer(answer)
            if answer.apply_to_all:
                self._policy = answer.action
            return answer.action

    def allowed(self, item: ItemT, reason: str) -> bool:
        """Whether ``item``, which no check could prove (``reason``), may be accepted."""
        if isinstance(self._allow, bool):
            return self._allow
        with self._lock:
            if self._cancel.is_set():
                return False
            return bool(self._allow(item, reason))


class Downloader(Job[DownloadProgress, DownloadReport]):
    """Runs a :class:`DownloadPlan` on daemon threads (a :class:`~pail.services.jobs.Job`:
    ``start``, ``progress``, ``cancel``, ``wait``, ``run``, ``finished``).

    Args:
        driver: the store's driver (shared by the workers; drivers are thread-safe).
        plan: from :func:`~pail.services.download.plan.plan_prefix` / ``plan_keys``.
        jobs: files in flight at once (large objects also use parallel parts).
        conflict: policy for an existing, different file: ``"ask"``, ``"overwrite"``,
            ``"skip"``. ``"ask"`` without ``resolve_conflict`` skips.
        resolve_conflict: called (from a worker thread, serialised) with the job; returns
            a :class:`ConflictAnswer` or an action string.
        allow_unverified: whether a file no check can prove may take its final name:
            ``False`` (default: it is kept aside and reported with code ``Unverified``),
            ``True``, or ``allow(job, reason) -> bool`` asked per file (serialised with the
            conflict questions).
        on_file: called from a worker thread with each file's outcome (:class:`FileDone`,
            :class:`Skipped` or :class:`Failure`) as it becomes final, e.g. to print a line
            or post a message to the UI. It must not block for long.
    """

    thread_name = "pail-download"

    def __init__(
        self,
        driver: StorageDriver,
        plan: DownloadPlan,
        *,
        jobs: int = DEFAULT_JOBS,
        conflict: ConflictPolicy = "ask",
        resolve_conflict: ConflictResolver | None = None,
        allow_unverified: bool | UnverifiedResolver = False,
        on_file: Callable[[FileDone | Skipped | Failure], None] | None = None,
    ) -> None:
        super().__init__()
        self._on_file = on_file
        self.driver = driver
        self.plan = plan
        self._jobs = max(1, jobs)
        self._questions = Questions(conflict, resolve_conflict, allow_unverified, self._cancel)
        self._lock = threading.Lock()
        self._cancels = {job.key: threading.Event() for job in plan.jobs}
        self._outcomes: dict[str, object] = {}
        self._partials: set[Partial] = set()
        self._state = StateFolder(plan.dest, state_folder_name(j.rel for j in plan.jobs))
        self.tracker = ProgressTracker([(j.key, j.path, j.size) for j in plan.jobs])
        #: Streams in flight at once across every file (each holds one chunk at a time):
        #: the bound on what the download holds in memory. Its ``peak_streams`` and
        #: ``peak_held`` (bytes) say what it did hold.
        self.streams = Streams(max(self._jobs, fetch.PART_CONCURRENCY))
        self._dest_made = False  # the target folder exists (made once, not per file)
        #: Bytes verification read back from finished files (0 when every file was
        #: proved by what was hashed while it streamed in).
        self.verify_read_bytes = 0

    # -- control ------------------------------------------------------------------------

    def cancel(self, key: str | None = None) -> None:
        """Cancel one file (by key) or, with no key, every file not finished yet. A file
        being transferred stops at its next chunk and keeps its partial for a resume."""
        if key is None:
            super().cancel()
            for event in self._cancels.values():
                event.set()
        elif key in self._cancels:
            self._cancels[key].set()

    def flush(self) -> None:
        """Record every byte written so far in the partials' sidecars (before a process
        exits without waiting for its workers: Ctrl-C, quitting the app)."""
        with self._lock:
            partials = list(self._partials)
        for partial in partials:
            with contextlib.suppress(OSError):
                partial.flush()

    def _flush_while_running(self) -> None:
        # Bytes that arrived before a stall are recorded within FLUSH_INTERVAL, so even a
        # SIGKILL during a hung request loses at most that much. A file that arrives
        # within FLUSH_INTERVAL of its start never gets a sidecar.
        while not self._finished.wait(FLUSH_INTERVAL):
            with self._lock:
                partials = list(self._partials)
            for partial in partials:
                with contextlib.suppress(OSError):
                    partial.flush_if_due()

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

    def _work(self) -> None:
        start_daemon(self._flush_while_running, "pail-dl-flush")
        try:
            run_each(self.plan.jobs, self._run_job, workers=self._jobs, name="pail-dl")
        finally:
            with contextlib.suppress(OSError):
                self._state.close()
            self._finished.set()

    def _finish(
        self, job: DownloadJob, outcome: FileDone | Skipped | Failure, path: str | None = None
    ) -> None:
        with self._lock:
            self._outcomes[job.key] = outcome
        if isinstance(outcome, FileDone):
            self.tracker.set_state(job.key, "done", path=path)
        elif isinstance(outcome, Failure):
            self.tracker.set_state(job.key, "failed", f"{outcome.code}: {outcome.message}")
        elif isinstance(outcome, Skipped):
            if outcome.reason == "cancelled":
                self.tracker.set_state(job.key, "cancelled", outcome.reason, path=path)
            else:
                self.tracker.set_state(job.key, "skipped", outcome.reason, path=path)
        if self._on_file is not None:
            self._on_file(outcome)

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
            if exc.status == 412:
                code = "ObjectChanged"
            outcome = Failure(job.key, job.path, code, exc.message or str(exc), exc)
        except OSError as exc:
            code = _errno_name(exc)
            outcome = Failure(job.key, job.path, code, exc.strerror or str(exc), exc)
        except Exception as exc:  # never let one file take the download down
            outcome = Failure(job.key, job.path, type(exc).__name__, str(exc), exc)
        path = outcome.path if isinstance(outcome, (FileDone, Skipped)) else None
        self._finish(job, outcome, path)

    def _complete(self, job: DownloadJob) -> DownloadJob:
        """Fill in size/ETag from ``head`` when the plan lacks them; GCS always heads and
        pins the generation so every range reads one object version."""
        if self.plan.provider == "gcs" or job.size is None:
            info = self.driver.head(self.plan.bucket, job.key, version_id=job.version_id)
            version = info.version_id if self.plan.provider == "gcs" else job.version_id
            return replace(job, size=info.size, etag=info.etag, version_id=version)
        return job

    def _transfer(self, job: DownloadJob, cancel: threading.Event) -> FileDone | Skipped | Failure:
        job = self._complete(job)
        if not self._dest_made:
            os.makedirs(self.plan.dest, exist_ok=True)
            self._dest_made = True
        parent_fd, name = open_parent(self.plan.dest, job.rel)
        try:
            folder = posixpath.dirname(job.rel)
            existing = _lstat(parent_fd, name)
            if existing is not None:
                if stat.S_ISDIR(existing.st_mode):
                    raise IsADirectoryError(errno.EISDIR, "a folder is in the way", job.path)
                if self._identical(job, parent_fd, name, existing):
                    return Skipped(job.key, job.path, "identical")
                action = self._questions.conflict_action(job)
                if action == "skip":
                    return Skipped(job.key, job.path, "exists")
                if action == "keep-both":
                    name = keep_both_name(name, lambda n: _lstat(parent_fd, n) is not None)
            rel = posixpath.join(folder, name) if folder else name
            final = os.path.join(self.plan.dest, *rel.split("/"))
            return self._fetch_verify_commit(job, cancel, parent_fd, name, rel, final)
        finally:
            os.close(parent_fd)

    def _fetch_verify_commit(
        self,
        job: DownloadJob,
        cancel: threading.Event,
        parent_fd: int,
        name: str,
        rel: str,
        final: str,
    ) -> FileDone | Failure:
        size = job.size or 0
        stamp = job.last_modified.isoformat() if job.last_modified is not None else None
        identity = ObjectIdentity(job.key, size, job.etag, job.version_id, stamp)
        partial = self._state.open_partial(rel, identity)
        with self._lock:
            self._partials.add(partial)
        try:
            if partial.resumed_from:
                self.tracker.resumed(job.key, partial.resumed_from)
            fetched = [0]

            def progress(count: int) -> None:
                fetched[0] += count
                self.tracker.add_bytes(job.key, count)

            source = Source(self.plan.bucket, job.key, job.version_id, job.etag)
            try:
                hashes = self._hash_plan(job, size)
                streamed = fetch_missing(
                    self.driver, source, partial, progress=progress, cancel=cancel,
                    hashes=hashes, streams=self.streams,
                )  # fmt: skip
            except BaseException as exc:
                # Gone, changed, or bytes the store's own checksum refused: nothing to keep.
                gone = isinstance(exc, (NotFound, ChecksumMismatch))
                gone = gone or getattr(exc, "status", None) == 412
                if gone or not partial.have.covered():
                    partial.discard()  # nothing a resume could use
                else:
                    partial.keep()
                raise
            verdict = verify_object(
                self.driver,
                self.plan.provider,
                self.plan.bucket,
                job.key,
                size=size,
                etag=job.etag,
                version_id=job.version_id,
                read=self._counted(partial.read),
                streamed=streamed,
            )
            if verdict.status == MISMATCH:
                partial.discard()
                self.tracker.restart(job.key)
                code = "ObjectChanged" if verdict.method == "etag" else "ChecksumMismatch"
                return Failure(job.key, final, code, verdict.reason)
            method = verdict.method
            if verdict.status == UNVERIFIED:
                if not self._questions.allowed(job, verdict.reason):
                    partial.keep()  # complete: a rerun with --allow-unverified only renames
                    return Failure(
                        job.key,
                        final,
                        UNVERIFIED_CODE,
                        f"not verified: {verdict.reason}; kept aside, not under its name "
                        "(--allow-unverified accepts it)",
                    )
                method = "unverified"
            mtime = job.last_modified.timestamp() if job.last_modified is not None else None
            partial.commit(parent_fd, name, mtime)  # like aws s3 cp: mtime = object's write
            return FileDone(job.key, final, size, fetched[0], partial.resumed_from, method)
        finally:
            with self._lock:
                self._partials.discard(partial)

    @property
    def sidecar_writes(self) -> int:
        """Sidecars written so far (files that arrive within the flush interval of
        their start, in one piece, never get one)."""
        return self._state.sidecar_writes

    def _counted(self, read: Callable[[int, int], bytes]) -> Callable[[int, int], bytes]:
        def counted(offset: int, length: int) -> bytes:
            data = read(offset, length)
            with self._lock:
                self.verify_read_bytes += len(data)
            return data

        return counted

    def _hash_plan(self, job: DownloadJob, size: int) -> HashPlan | None:
        """What to hash while ``job``'s bytes stream in (S3; other stores are read again
        by :func:`verify_object`). An object fetched in one stream decides on the
        GetObject answer; one fetched in parallel parts first asks HeadObject what the
        store vouches for (one request per large file) and hashes what the first check
        :func:`verify_object` makes will need: a full-object CRC per part, else the MD5
        of a plain-MD5 ETag in order, else per-part digests with part 1's size."""
        if self.plan.provider != "s3":
            return None
        etag = (job.etag or "").strip('"')
        if size < fetch.PARALLEL_THRESHOLD:
            return HashPlan(on_answer=True, etag=etag)
        bucket, key, version = self.plan.bucket, job.key, job.version_id
        try:
            info = self.driver.object_checksums(bucket, key, version_id=version)
        except StorageError:  # verification asks again and says why
            return HashPlan(on_answer=True, etag=etag)
        if etag and info.etag and info.etag.strip('"') != etag:
            return None  # changed since the listing: the pinned ranges fail (412)
        first = next((a for a in S3_ALGORITHMS if info.checksums.get(a)), None)
        value = info.checksums.get(first or "", "")
        composite = info.checksum_type == "COMPOSITE" or "-" in value
        if first and not composite:
            if first in fetch.COMBINABLE:
                return HashPlan(crc=first, checksums=info, etag=etag)
            return HashPlan(whole=(first,), checksums=info, etag=etag)
        if MD5_ETAG.match(etag) and info.etag_is_md5 and not first:
            return HashPlan(whole=("MD5",), checksums=info, etag=etag)
        multi = MULTIPART_ETAG.match(etag)
        count = value.partition("-")[2] if first else ""
        parts = int(count) if count.isdigit() else (int(multi.group(2)) if multi else 0)
        if not parts or not isinstance(self.driver, PartSizes):
            return HashPlan(checksums=info, etag=etag)
        try:
            part1 = self.driver.part_size(bucket, key, version_id=version, part_number=1)
        except StorageError:
            part1 = None
        layout = uniform_layout(size, parts, part1) if part1 else None
        if layout is None or (not first and not info.etag_is_md5):
            return HashPlan(checksums=info, part1=part1, etag=etag)
        return HashPlan(
            layouts=(tuple(layout),), part_algorithm=first or "MD5", checksums=info,
            part1=part1, etag=etag,
        )  # fmt: skip

    def _identical(self, job: DownloadJob, parent_fd: int, name: str, st: os.stat_result) -> bool:
        """Same size and a verified checksum (or, when nothing can be verified, the same
        mtime). Only a plain file counts; a link or special file is never identical."""
        if not stat.S_ISREG(st.st_mode) or job.size is None or st.st_size != job.size:
            return False
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=parent_fd)
        except OSError:
            return False
        try:
            verdict = verify_object(
                self.driver,
                self.plan.provider,
                self.plan.bucket,
                job.key,
                size=job.size,
                etag=job.etag,
                version_id=job.version_id,
                read=lambda offset, length: os.pread(fd, length, offset),
            )
        finally:
            os.close(fd)
        if verdict.status != UNVERIFIED:
            return verdict.ok
        when = job.last_modified
        return when is not None and abs(st.st_mtime - when.timestamp()) < 1.0


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)
