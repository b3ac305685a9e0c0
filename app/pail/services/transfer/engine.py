"""The write engine: runs a :class:`~pail.services.transfer.model.TransferPlan` (uploads,
streamed copies between stores, server-side copies, moves and renames) as a background
:class:`~pail.services.jobs.Job`.

Usage (from a worker thread; nothing here touches the UI)::

    plan = plan_transfer(side_for("./data"), side_for("s3://b/data/"), recursive=True)
    transfer = Transfer(plan, jobs=8, conflict="ask", resolve_conflict=ask_user)
    transfer.start()           # returns at once
    transfer.progress()        # DownloadProgress snapshot (key = source key, path = dest URI)
    report = transfer.wait()   # TransferReport once every item is final

Per item (the engine rules of issue 16):

* **Conflicts.** A destination key that exists is first checked for identical (same size
  and an equal checksum / plain-MD5 ETag, the local side hashed when needed) -> Skipped
  ``identical``; else the policy (ask/overwrite/skip/keep-both). New keys are written
  create-only (``if_none_match``): a key that appeared after planning is a conflict again.
  A store without conditional writes (``ConditionalWriteUnsupported``) gets a HEAD before
  the write instead, and the report says so.
* **Streamed writes** (:mod:`~pail.services.transfer.parts`): up to the threshold in one
  put with MD5 + the destination's CRC; larger in parts (in parallel when the store
  allows), each with its checksums, the whole-object CRC combined and sent at the end. At
  most ``jobs`` parts are held in memory at once across the transfer.
* **Sources** (:mod:`~pail.services.transfer.source`) are read by ranges pinned to the
  planned version and proved before the object is published
  (:func:`~pail.services.transfer.prove.prove_source`): a mismatch never lands (the put is
  not sent, the multipart upload is aborted).
* **Destinations** are proved after the write
  (:func:`~pail.services.transfer.prove.prove_dest`); server-side copies by
  :func:`~pail.services.transfer.prove.prove_copy`.
* **Resume** (:mod:`~pail.services.transfer.resume`): an S3 multipart upload's UploadId is
  recorded; a rerun lists the parts the store holds and sends only those whose ETag is not
  the MD5 of the source's bytes. Cancel keeps the upload; a failure that makes it useless
  aborts it.
* **Moves** (:mod:`~pail.services.transfer.move`): sources deleted after the copies, only
  verified ones, only when unchanged, only when the store confirms.
* **Remote -> local folder**: the plan's DownloadPlan runs in the existing
  :class:`~pail.services.download.Downloader`; its report becomes a TransferReport.

Every failure of one item is a :class:`~pail.services.download.Failure` (the store's code,
``ChecksumMismatch``, ``Unverified``, ``SourceChanged``, ``PreconditionFailed``, an errno
name) with the exception kept in ``error``; nothing escapes the job for one item.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import posixpath
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from pail.core.uri import format_uri
from pail.drivers.base import (
    Entry,
    MultipartUpload,
    ObjectChecksums,
    UploadedPart,
    WriteOptions,
    WrittenObject,
)
from pail.drivers.errors import (
    ChecksumMismatch,
    NotFound,
    NotSupported,
    PreconditionFailed,
    StorageError,
    TransferCancelled,
)
from pail.services.download import (
    DEFAULT_JOBS,
    ConflictAnswer,
    Downloader,
    DownloadJob,
    DownloadReport,
    Failure,
    FileDone,
    Skipped,
)
from pail.services.download.engine import UNVERIFIED_CODE, ConflictAction, ConflictPolicy, Questions
from pail.services.download.paths import keep_both_name
from pail.services.download.progress import DownloadProgress, ProgressTracker
from pail.services.download.verify import MISMATCH, UNVERIFIED, Verdict
from pail.services.jobs import Job, run_each
from pail.services.transfer.conflicts import proven_identical
from pail.services.transfer.model import TransferItem, TransferPlan, TransferReport
from pail.services.transfer.move import delete_sources
from pail.services.transfer.parts import (
    COMBINABLE,
    MULTIPART_THRESHOLD,
    WholeDigests,
    hash_part,
    layout,
    part_size_for,
)
from pail.services.transfer.plan import local_folder
from pail.services.transfer.prove import (
    MULTI_ETAG,
    PLAIN_ETAG,
    copy_algorithm,
    full_checksums,
    landed,
    prove_copy,
    prove_dest,
    prove_source,
    source_algorithms,
)
from pail.services.transfer.resume import UploadStates
from pail.services.transfer.source import (
    SourceChanged,
    cancelled,
    check_unchanged,
    pinned,
    read_range,
    source_changed,
)

#: ``resolve(item) -> ConflictAnswer | action`` for a destination key that exists.
ConflictResolver = Callable[[TransferItem], "ConflictAnswer | ConflictAction"]
#: ``allow(item, reason) -> bool``: accept an item no check could prove?
UnverifiedResolver = Callable[[TransferItem, str], bool]
Outcome = FileDone | Skipped | Failure

#: The destination's CRC when the options name none (S3 User Guide: CRC64NVME is S3's
#: default; GCS checks CRC32C; a local file is read back with CRC64NVME).
DEFAULT_ALGORITHM = {"s3": "CRC64NVME", "gcs": "CRC32C", "local": "CRC64NVME"}
#: Part alignment of GCS resumable uploads (256 KiB).
GCS_ALIGNMENT = 256 * 1024
#: Most server-side copies in flight at once. A copy holds no bytes here (the store
#: copies them), so copies run ``COPY_JOBS_PER_JOB`` per ``jobs``, up to this bound.
COPY_JOBS = 32
COPY_JOBS_PER_JOB = 4
#: Codes after which a recorded multipart upload is of no use (it is aborted).
_USELESS = ("ChecksumMismatch", "SourceChanged", "PreconditionFailed", "NoSuchUpload")


@dataclass
class _Written:
    """What one write did: the store's answer, bytes sent now, bytes reused."""

    obj: WrittenObject
    verdict: Verdict
    sent: int
    reused: int


class _Refused(Exception):
    """An item that fails with ``code`` (raised inside the engine, made a Failure)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Transfer(Job[DownloadProgress, TransferReport]):
    """Runs a :class:`TransferPlan` on daemon threads (``start``, ``progress``,
    ``cancel``, ``wait``, ``run``, ``finished``: :class:`~pail.services.jobs.Job`).

    Args:
        plan: from :func:`~pail.services.transfer.plan.plan_transfer` / ``plan_rename``.
        jobs: items in flight at once; also the most parts held in memory at once. A
            server-side copy runs up to 4 x ``jobs`` items (at most 32: :attr:`workers`).
        conflict: policy for an existing, different destination object: ``"ask"``,
            ``"overwrite"``, ``"skip"``. ``"ask"`` without ``resolve_conflict`` skips.
        resolve_conflict: ``resolve(item) -> ConflictAnswer | action`` (a worker thread,
            one question at a time; ``apply_to_all`` sticks).
        allow_unverified: accept an item no check can prove: ``False`` (default: a Failure
            with code ``Unverified``; the object may be there, the report says so),
            ``True``, or ``allow(item, reason) -> bool``. A move never deletes the source
            of an item accepted unverified.
        on_file: called (worker thread) with each item's outcome as it becomes final.
        options: how objects are written (content type, storage class, ``extra`` such as
            SSE, ``checksum_algorithm``); ``if_none_match`` is managed by the engine. An
            upload without a content type gets the one :func:`mimetypes.guess_type` gives
            for the file's name (as ``aws s3 cp``).
        part_size: bytes per part (tests use 5 MiB); default from the object's size. Also
            the multipart threshold when given.
        state_dir: folder of the multipart resume state (default
            ``user_state_dir("pail")/uploads``).
    """

    thread_name = "pail-transfer"

    def __init__(
        self,
        plan: TransferPlan,
        *,
        jobs: int = DEFAULT_JOBS,
        conflict: ConflictPolicy = "ask",
        resolve_conflict: ConflictResolver | None = None,
        allow_unverified: bool | UnverifiedResolver = False,
        on_file: Callable[[FileDone | Skipped | Failure], None] | None = None,
        options: WriteOptions | None = None,
        part_size: int | None = None,
        state_dir: str | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self._jobs = max(1, jobs)
        self._resolver = resolve_conflict
        self._allow = allow_unverified
        self._questions = Questions(conflict, resolve_conflict, allow_unverified, self._cancel)
        self._on_file = on_file
        self._options = options or WriteOptions()
        self._part_size = part_size
        self._threshold = part_size if part_size else MULTIPART_THRESHOLD
        self._states = UploadStates(state_dir)
        self._lock = threading.Lock()
        self._slots = _Slots(self._jobs)  # parts in memory
        self._cancels = {item.source_key: threading.Event() for item in plan.items}
        self._outcomes: dict[str, Outcome] = {}
        self._finals: dict[str, str] = {}  # source key -> final destination key
        self._taken: set[str] = {item.dest_key for item in plan.items}
        self._notes: list[str] = list(plan.notes)
        self._deleted: list[str] = []
        self._kept: list[Failure] = []
        self._no_conditional = False
        self._unproven: set[str] = set()  # source keys accepted without proof
        self._items = {item.source_key: item for item in plan.items}
        self._downloader: Downloader | None = None
        if plan.download is not None:
            self._downloader = Downloader(
                plan.source.driver,
                plan.download,
                jobs=self._jobs,
                conflict=conflict,
                resolve_conflict=self._resolve_job if resolve_conflict else None,
                allow_unverified=self._allow_job if callable(allow_unverified)
                else bool(allow_unverified),
                on_file=on_file,
            )  # fmt: skip
        self.tracker = ProgressTracker(
            [(i.source_key, self._uri(i.dest_key), i.size) for i in plan.items]
        )

    @property
    def workers(self) -> int:
        """Items in flight at once: ``jobs``, or for a server-side copy (no bytes held
        here) ``jobs`` x :data:`COPY_JOBS_PER_JOB` up to :data:`COPY_JOBS`."""
        if self.plan.server_side:
            return max(self._jobs, min(COPY_JOBS, self._jobs * COPY_JOBS_PER_JOB))
        return self._jobs

    @property
    def parts_peak(self) -> int:
        """The most part buffers held in memory at once so far (never above ``jobs``)."""
        return self._slots.peak

    # -- control ------------------------------------------------------------------------

    def cancel(self, key: str | None = None) -> None:
        """Cancel one item (by source key) or, with no key, every item not finished. A
        multipart upload being sent stops at its next part and is kept for a resume."""
        if self._downloader is not None:
            self._downloader.cancel(key)
        if key is None:
            super().cancel()
            for event in self._cancels.values():
                event.set()
        elif key in self._cancels:
            self._cancels[key].set()

    def flush(self) -> None:
        """Record the bytes written so far where a rerun resumes from them (call before
        the process exits without waiting for the workers: Ctrl-C, quitting the app).

        Remote -> local folder: forwards to :meth:`Downloader.flush
        <pail.services.download.Downloader.flush>` (every partial file's sidecar, as
        ``pail get`` does). Otherwise a no-op: a multipart upload's parts are recorded by
        the store itself (ListParts on the rerun), its UploadId when it started.
        """
        if self._downloader is not None:
            self._downloader.flush()

    def progress(self, *, with_files: bool = True) -> DownloadProgress:
        """A :class:`DownloadProgress` snapshot (thread-safe): ``FileProgress.key`` is the
        source key, ``.path`` the destination URI."""
        if self._downloader is not None:
            return self._downloader.progress(with_files=with_files)
        return self.tracker.snapshot(with_files=with_files)

    def report(self) -> TransferReport:
        """The outcomes so far, in plan order (complete once :attr:`finished`)."""
        if self._downloader is not None:
            base = self._downloader.report()
            report = TransferReport(
                done=base.done,
                skipped=base.skipped,
                failed=base.failed,
                refused=base.refused,
                cancelled=base.cancelled,
            )
        else:
            report = TransferReport(refused=list(self.plan.refused))
            with self._lock:
                outcomes = [self._outcomes.get(i.source_key) for i in self.plan.items]
            for outcome in outcomes:
                if isinstance(outcome, FileDone):
                    report.done.append(outcome)
                elif isinstance(outcome, Failure):
                    report.failed.append(outcome)
                elif isinstance(outcome, Skipped):
                    target = report.cancelled if outcome.reason == "cancelled" else report.skipped
                    target.append(outcome)
        with self._lock:
            report.deleted = list(self._deleted)
            report.kept = list(self._kept)
            report.notes = list(self._notes)
        return report

    # -- work ---------------------------------------------------------------------------

    def _work(self) -> None:
        if self._downloader is not None:
            base = self._downloader.run()
            if self.plan.kind == "move":
                self._move(base)
            return
        if self.plan.dest.provider == "local":
            os.makedirs(local_folder(self.plan.dest), exist_ok=True)
        run_each(self.plan.items, self._run_item, workers=self.workers, name="pail-transfer")
        if self.plan.kind == "move":
            self._move(self.report())

    def _move(self, report: DownloadReport) -> None:
        """Delete the sources of verified items; keep every other source, with why."""
        verified: list[tuple[str, str | None, str]] = []
        kept: list[Failure] = []
        for done in report.done:
            item = self._items.get(done.key)
            if item is None:
                continue
            if done.verified == "unverified":
                kept.append(
                    Failure(done.key, done.path, UNVERIFIED_CODE, "copied but not verified; kept")
                )
            else:
                verified.append((done.key, item.etag, done.path))
        for skip in report.skipped:
            item = self._items.get(skip.key)
            # "identical" proves the copy only here: the download engine may also call a
            # file identical by its size and mtime when no checksum can prove it.
            proven = skip.reason == "identical" and self._downloader is None
            if item is not None and proven:
                verified.append((skip.key, item.etag, skip.path))
            else:
                kept.append(Failure(skip.key, skip.path, "Skipped", f"not copied ({skip.reason})"))
        for fail in report.failed:
            kept.append(replace(fail, message=f"not deleted: {fail.message}"))
        for skip in report.cancelled:
            kept.append(Failure(skip.key, skip.path, "Cancelled", "not copied (cancelled)"))
        source = self.plan.source
        deleted, refused = delete_sources(source.driver, source.bucket, verified)
        with self._lock:
            self._deleted.extend(deleted)
            self._kept.extend(kept + refused)

    def _uri(self, key: str) -> str:
        dest = self.plan.dest
        root = local_folder(dest) if dest.provider == "local" else None
        return format_uri(dest.provider, dest.bucket, key, root)

    def _finish(self, item: TransferItem, outcome: Outcome) -> None:
        with self._lock:
            self._outcomes[item.source_key] = outcome
        key = item.source_key
        if isinstance(outcome, FileDone):
            self.tracker.set_state(key, "done", path=outcome.path)
        elif isinstance(outcome, Failure):
            self.tracker.set_state(key, "failed", f"{outcome.code}: {outcome.message}")
        elif outcome.reason == "cancelled":
            self.tracker.set_state(key, "cancelled", outcome.reason)
        else:
            self.tracker.set_state(key, "skipped", outcome.reason, path=outcome.path)
        if self._on_file is not None:
            self._on_file(outcome)

    def _run_item(self, item: TransferItem) -> None:
        cancel = self._cancels[item.source_key]
        uri = self._uri(item.dest_key)
        if cancel.is_set():
            self._finish(item, Skipped(item.source_key, uri, "cancelled"))
            return
        self.tracker.set_state(item.source_key, "running")
        outcome: Outcome
        try:
            outcome = self._transfer(item, cancel)
        except TransferCancelled:
            outcome = Skipped(item.source_key, uri, "cancelled")
        except _Refused as exc:
            error: BaseException = exc
            if exc.code == "ChecksumMismatch":  # a StorageError, for explanations
                error = ChecksumMismatch(
                    exc.message,
                    operation="transfer",
                    provider=self.plan.dest.provider,
                    bucket=self.plan.dest.bucket,
                    key=item.dest_key,
                    code="ChecksumMismatch",
                )
            outcome = Failure(item.source_key, uri, exc.code, exc.message, error)
        except StorageError as exc:
            code = exc.code or type(exc).__name__
            outcome = Failure(item.source_key, uri, code, exc.message or str(exc), exc)
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            outcome = Failure(item.source_key, uri, code, exc.strerror or str(exc), exc)
        except Exception as exc:  # never let one item take the transfer down
            outcome = Failure(item.source_key, uri, type(exc).__name__, str(exc), exc)
        self._finish(item, outcome)

    # -- one item -----------------------------------------------------------------------

    def _transfer(self, item: TransferItem, cancel: threading.Event) -> Outcome:
        dest = self.plan.dest
        key = item.dest_key
        existing = item.existing
        overwrite = False
        for _ in range(4):
            if existing is None and self._no_conditional and not overwrite:
                existing = self._head_dest(key)  # the store ignores If-None-Match
            if existing is not None:
                current = replace(item, dest_key=key, existing=existing)
                if self._identical(current, existing):
                    return Skipped(item.source_key, self._uri(key), "identical")
                action = self._questions.conflict_action(current)
                if action == "skip":
                    return Skipped(item.source_key, self._uri(key), "exists")
                if action == "keep-both":
                    key = self._keep_both(key)
                    existing, overwrite = None, False
                    continue
                overwrite, existing = True, None
            options = replace(
                self._options, if_none_match=not overwrite and not self._no_conditional
            )
            try:
                written = self._write(item, key, options, cancel)
            except PreconditionFailed as exc:
                found = self._head_dest(key) if options.if_none_match else None
                if found is not None:
                    existing = found  # created after planning: a conflict again
                    continue
                if self.plan.server_side:  # the copy's pin on the source failed
                    raise source_changed(
                        self.plan.source.bucket,
                        item.source_key,
                        self.plan.source.provider,
                        "its ETag differs from the planned one",
                    ) from exc
                raise
            except NotSupported as exc:
                if exc.code != "ConditionalWriteUnsupported":
                    raise
                with self._lock:
                    if not self._no_conditional:
                        self._no_conditional = True
                        self._notes.append(
                            f"{dest.uri}: the store does not support conditional writes "
                            "(If-None-Match); existing keys were looked up just before "
                            "each write instead"
                        )
                continue
            return self._done(item, key, written)
        raise _Refused("PreconditionFailed", "the destination key kept changing; not written")

    def _done(self, item: TransferItem, key: str, written: _Written) -> Outcome:
        uri = self._uri(key)
        verdict = written.verdict
        size = written.obj.size
        if verdict.status == MISMATCH:
            raise _Refused(
                "ChecksumMismatch", f"{verdict.reason}; the object at {uri} is not trusted"
            )
        method = verdict.method
        with self._lock:
            unproven_source = item.source_key in self._unproven
        if unproven_source:
            method = "unverified"  # accepted when the source was; a move keeps the source
        elif verdict.status == UNVERIFIED:
            if not self._questions.allowed(replace(item, dest_key=key), verdict.reason):
                raise _Refused(
                    UNVERIFIED_CODE,
                    f"written to {uri} but not verified: {verdict.reason} "
                    "(--allow-unverified accepts it)",
                )
            method = "unverified"
        with self._lock:
            self._finals[item.source_key] = key
        return FileDone(item.source_key, uri, size, written.sent, written.reused, method)

    def _head_dest(self, key: str) -> Entry | None:
        dest = self.plan.dest
        try:
            info = dest.driver.head(dest.bucket, key)
        except NotFound:
            return None
        return Entry(key, "object", info.size, info.last_modified, info.etag, None, None)

    def _keep_both(self, key: str) -> str:
        folder, _, name = key.rpartition("/")
        prefix = f"{folder}/" if folder else ""

        def taken(candidate: str) -> bool:
            full = prefix + candidate
            with self._lock:
                if full in self._taken:
                    return True
            return self._head_dest(full) is not None

        new = prefix + keep_both_name(name, taken)
        with self._lock:
            self._taken.add(new)
        return new

    def _resolve_job(self, job: DownloadJob) -> ConflictAnswer | ConflictAction:
        item = self._items.get(job.key)
        assert self._resolver is not None and item is not None
        return self._resolver(item)

    def _allow_job(self, job: DownloadJob, reason: str) -> bool:
        item = self._items.get(job.key)
        assert callable(self._allow) and item is not None
        return bool(self._allow(item, reason))

    # -- identical ----------------------------------------------------------------------

    def _identical(self, item: TransferItem, existing: Entry) -> bool:
        if item.size is None or existing.size != item.size:
            return False
        return proven_identical(
            self.plan.source, item.source_key, item.version_id, item.size,
            self.plan.dest, item.dest_key,
        )  # fmt: skip

    # -- writes -------------------------------------------------------------------------

    def _write(
        self, item: TransferItem, key: str, options: WriteOptions, cancel: threading.Event
    ) -> _Written:
        if self.plan.server_side:
            return self._copy(item, key, options)
        return self._stream(item, key, options, cancel)

    def _copy(self, item: TransferItem, key: str, options: WriteOptions) -> _Written:
        """Server-side copy pinned to the planned ETag/version, proved against the
        source's checksums or ETag."""
        src, dst = self.plan.source, self.plan.dest
        facts = src.driver.object_checksums(src.bucket, item.source_key, version_id=item.version_id)
        if item.etag is not None and facts.etag is not None and facts.etag != item.etag:
            raise source_changed(
                src.bucket, item.source_key, src.provider, "its ETag differs from the planned one"
            )
        size = item.size if item.size is not None else facts.size
        alg = copy_algorithm(facts) if dst.provider == "s3" else None
        if alg is not None and options.checksum_algorithm is None:
            options = replace(options, checksum_algorithm=alg)
        writer: Any = dst.driver
        obj = writer.copy_object(
            src.bucket,
            item.source_key,
            dst.bucket,
            key,
            size=size,
            source_version_id=item.version_id,
            source_etag=item.etag if src.provider != "gcs" else None,
            options=options,
            part_size=self._part_size,
        )
        self.tracker.add_bytes(item.source_key, size)
        args = {**(getattr(dst.driver, "write_args", None) or {}), **(options.extra or {})}
        sse_c = any(str(name).startswith("SSECustomer") for name in args)
        verdict = prove_copy(
            facts, obj, dst.driver, dst.bucket, key,
            reply_etag_is_md5=dst.provider == "s3" and not sse_c,
        )  # fmt: skip
        return _Written(obj, verdict, size, 0)

    def _stream(
        self, item: TransferItem, key: str, options: WriteOptions, cancel: threading.Event
    ) -> _Written:
        src, dst = self.plan.source, self.plan.dest
        size, etag = item.size, item.etag
        if size is None or (etag is None and src.provider == "local"):
            info = src.driver.head(src.bucket, item.source_key)
            size, etag = info.size, info.etag
        facts: ObjectChecksums | None = None
        if src.provider != "local":
            facts = src.driver.object_checksums(
                src.bucket, item.source_key, version_id=item.version_id
            )
            if etag is not None and facts.etag is not None and facts.etag != etag:
                raise source_changed(
                    src.bucket,
                    item.source_key,
                    src.provider,
                    "its ETag differs from the planned one",
                )
        if src.provider == "local" and dst.provider != "local" and not options.content_type:
            # An upload's content type, like aws s3 cp: guessed from the file's name.
            guessed = mimetypes.guess_type(posixpath.basename(item.source_key))[0]
            if guessed:
                options = replace(options, content_type=guessed)
        alg = (
            options.checksum_algorithm or DEFAULT_ALGORITHM.get(dst.provider, "CRC64NVME")
        ).upper()
        if dst.provider == "gcs":
            alg = "CRC32C"
        if dst.provider == "s3":
            options = replace(options, checksum_algorithm=alg)
        source_parts = self._source_part_size(item, facts, size)
        one_piece = size <= self._threshold and source_parts is None
        algorithms = list(
            dict.fromkeys(["MD5", alg, *source_algorithms(facts, one_piece=one_piece)])
        )
        read = self._reader(item, etag, cancel)
        if one_piece:
            obj, whole = self._put(item, key, size, options, algorithms, alg, read, facts)
            sent, reused = size, 0
        else:
            obj, whole, sent, reused = self._multipart(
                item, key, size, etag, options, algorithms, alg, read, facts, source_parts, cancel
            )
        verdict = prove_dest(dst.driver, dst.bucket, key, obj, whole, [alg, "MD5"])
        return _Written(obj, verdict, sent, reused)

    def _reader(
        self, item: TransferItem, etag: str | None, cancel: threading.Event
    ) -> Callable[[int, int], bytes]:
        src = self.plan.source

        def read(offset: int, length: int) -> bytes:
            return read_range(
                src.driver, src.bucket, item.source_key, offset, length,
                etag=etag, version_id=item.version_id, cancel=cancel,
            )  # fmt: skip

        return read

    def _source_part_size(
        self, item: TransferItem, facts: ObjectChecksums | None, size: int
    ) -> int | None:
        """The part size of an S3 multipart source whose only proof is its multipart ETag
        (so the parts read have its layout), or ``None``."""
        from pail.drivers.base import MIN_PART_SIZE, PartSizes
        from pail.services.download.verify import uniform_layout

        if facts is None or not facts.etag or not MULTI_ETAG.match(facts.etag):
            return None
        if any(a in COMBINABLE for a in full_checksums(facts)) or not facts.etag_is_md5:
            return None
        driver = self.plan.source.driver
        if not isinstance(driver, PartSizes):
            return None
        parts = int(facts.etag.rsplit("-", 1)[1])
        try:
            first = driver.part_size(
                self.plan.source.bucket, item.source_key, version_id=item.version_id
            )
        except StorageError:
            return None
        align = GCS_ALIGNMENT if self.plan.dest.provider == "gcs" else 1
        if not first or first < MIN_PART_SIZE or first % align:
            return None
        if uniform_layout(size, parts, first) is None:
            return None
        return first

    def _check_source(
        self,
        item: TransferItem,
        size: int,
        facts: ObjectChecksums | None,
        whole: WholeDigests,
        *,
        one_piece: bool,
        layout_matches: bool,
    ) -> None:
        """Before publishing: the source unchanged and (remote) proved.

        Raises:
            SourceChanged, _Refused (ChecksumMismatch, Unverified).
        """
        src = self.plan.source
        if not pinned(src.driver, item.etag, item.version_id):
            check_unchanged(src.driver, src.bucket, item.source_key, size=size, etag=item.etag)
        if facts is None:
            return  # a local file: unchanged is the proof
        verdict = prove_source(facts, whole, one_piece=one_piece, layout_matches=layout_matches)
        if verdict.status == MISMATCH:
            raise _Refused("ChecksumMismatch", f"{verdict.reason}; nothing was written")
        if verdict.status == UNVERIFIED:
            if not self._questions.allowed(item, verdict.reason):
                raise _Refused(
                    UNVERIFIED_CODE,
                    f"the source could not be verified: {verdict.reason}; nothing was "
                    "written (--allow-unverified accepts it)",
                )
            with self._lock:  # the copy is then unverified end to end, whatever the store says
                self._unproven.add(item.source_key)

    def _put(
        self,
        item: TransferItem,
        key: str,
        size: int,
        options: WriteOptions,
        algorithms: list[str],
        alg: str,
        read: Callable[[int, int], bytes],
        facts: ObjectChecksums | None,
    ) -> tuple[WrittenObject, WholeDigests]:
        dst = self.plan.dest
        whole = WholeDigests()
        with self._slots:
            data = read(0, size)
            digest = hash_part(1, data, algorithms)
            whole.add(digest)
            self._check_source(item, size, facts, whole, one_piece=True, layout_matches=False)
            sums = digest.sent(["MD5", alg]) if dst.provider != "local" else digest.sent([alg])
            writer: Any = dst.driver
            obj = writer.put_object(dst.bucket, key, data, options=options, checksums=sums)
        self.tracker.add_bytes(item.source_key, size)
        return obj, whole

    def _multipart(
        self,
        item: TransferItem,
        key: str,
        size: int,
        etag: str | None,
        options: WriteOptions,
        algorithms: list[str],
        alg: str,
        read: Callable[[int, int], bytes],
        facts: ObjectChecksums | None,
        source_parts: int | None,
        cancel: threading.Event,
    ) -> tuple[WrittenObject, WholeDigests, int, int]:
        src, dst = self.plan.source, self.plan.dest
        writer: Any = dst.driver
        identity = {
            "endpoint": dst.driver.endpoint,
            "bucket": dst.bucket,
            "key": key,
            "size": size,
            "part_size": source_parts or self._part_size,
            "source": {
                "provider": src.provider,
                "endpoint": src.driver.endpoint,
                "root": getattr(src.driver, "root", None),
                "bucket": src.bucket,
                "key": item.source_key,
                "etag": etag,
                "version_id": item.version_id,
            },
            "if_none_match": options.if_none_match,
        }
        upload: MultipartUpload | None = None
        held: dict[int, UploadedPart] = {}
        token = self._states.load(identity) if dst.provider == "s3" else None
        if token is not None:
            try:
                upload = writer.resume_upload(dst.bucket, key, size, token, options=options)
                assert upload is not None
                held = {p.number: p for p in upload.parts()}
            except (NotFound, NotSupported):
                self._states.drop(identity)
                upload, held = None, {}
        # GCS resumable uploads take parts of multiples of 256 KiB (GCS docs, "Resumable
        # uploads"); the upload object confirms it below.
        align = GCS_ALIGNMENT if dst.provider == "gcs" else 1
        part = source_parts or part_size_for(size, alignment=align, wanted=self._part_size)
        if upload is None:
            upload = writer.start_upload(dst.bucket, key, size, options=options, part_size=part)
        assert upload is not None
        if part % max(1, upload.part_alignment):
            upload.abort()
            raise _Refused(
                "InvalidPartSize",
                f"parts of {part} bytes are not multiples of the store's "
                f"{upload.part_alignment}-byte alignment",
            )
        if upload.token is not None and token is None:
            self._states.save(identity, upload.token)
        pieces = layout(size, part)
        whole = WholeDigests()
        done: dict[int, UploadedPart] = {}
        counts = {"sent": 0, "reused": 0}
        lock = threading.Lock()
        stop = threading.Event()
        errors: list[BaseException] = []

        # A source whose only proof is a plain MD5 ETag (one PutObject) needs the MD5 of
        # the whole, which does not combine: its parts take memory slots in order and feed
        # one MD5 in order (the lowest part waiting always holds a slot: no deadlock).
        order = _InOrder(stop) if _needs_whole_md5(facts, source_parts) else None

        def send(piece: tuple[int, tuple[int, int]]) -> None:
            number, (offset, length) = piece
            if stop.is_set() or cancel.is_set():
                return
            try:
                if order is not None:
                    order.wait_turn("slot", number)
                with self._slots:
                    if order is not None:
                        order.next("slot")
                    data = read(offset, length)
                    digest = hash_part(number, data, algorithms)
                    if order is not None:
                        order.wait_turn("feed", number)
                        order.md5.update(data)
                        order.next("feed")
                    prev = held.get(number)
                    md5 = digest.digests["MD5"].hex()
                    if (
                        prev is not None
                        and prev.size == length
                        and (prev.etag or "").strip('"').lower() == md5
                    ):
                        got = UploadedPart(number, length, prev.etag, digest.sent([alg]))
                        reused = True
                    else:
                        sums = digest.sent(["MD5", alg])
                        got = upload.upload_part(number, data, checksums=sums)
                        if alg in COMBINABLE and alg not in got.checksums:
                            got = replace(got, checksums={**got.checksums, **digest.sent([alg])})
                        reused = False
                with lock:
                    whole.add(digest)
                    done[number] = got
                    counts["reused" if reused else "sent"] += length
                if reused:  # sent by an earlier run: progress, not this run's rate
                    self.tracker.add_resumed(item.source_key, length)
                else:
                    self.tracker.add_bytes(item.source_key, length)
            except BaseException as exc:  # reported below
                with lock:
                    errors.append(exc)
                stop.set()
                if order is not None:
                    order.wake()

        numbered = list(enumerate(pieces, start=1))
        try:
            if upload.parallel and len(numbered) > 1:
                run_each(numbered, send, workers=self._jobs, name="pail-part", stop=stop)
            else:
                for piece in numbered:
                    send(piece)
            if errors:
                real = [e for e in errors if not isinstance(e, TransferCancelled)]
                raise (real or errors)[0]
            if cancel.is_set() or len(done) != len(pieces):
                raise cancelled(dst.bucket, key)
            if order is not None:
                whole.sequential["MD5"] = order.md5.digest()
            self._check_source(
                item, size, facts, whole, one_piece=False, layout_matches=source_parts is not None
            )
            sums = {alg: whole.whole_b64(alg) or ""} if alg in COMBINABLE else None
            try:
                obj = upload.complete([done[n] for n in sorted(done)], checksums=sums)
            except (NotFound, PreconditionFailed) as exc:
                # The first answer may have been lost and a retry found the upload gone
                # (NoSuchUpload) or, create-only, the key taken (412): the object there is
                # ours only when it provably holds our bytes; else the failure stands.
                if isinstance(exc, NotFound) and exc.code != "NoSuchUpload":
                    raise
                if isinstance(exc, PreconditionFailed) and (exc.attempts or 1) <= 1:
                    raise  # sent once: the key was taken by another writer (a conflict)
                mine = landed(dst.driver, dst.bucket, key, size, whole, [alg])
                if mine is None:
                    raise
                obj = mine
        except TransferCancelled:
            if upload.token is None:
                upload.abort()  # nothing can resume it
            raise
        except BaseException as exc:
            code = getattr(exc, "code", None) or type(exc).__name__
            if (
                upload.token is None
                or code in _USELESS
                or isinstance(exc, (ChecksumMismatch, SourceChanged, PreconditionFailed, _Refused))
            ):
                upload.abort()
                if upload.token is not None:
                    self._states.drop(identity)
            raise
        if upload.token is not None:
            self._states.drop(identity)
        return obj, whole, counts["sent"], counts["reused"]


def _needs_whole_md5(facts: ObjectChecksums | None, source_parts: int | None) -> bool:
    """A remote source proved only by a plain MD5 ETag (no combinable checksum)."""
    if facts is None or source_parts is not None or not facts.etag_is_md5:
        return False
    if any(alg in COMBINABLE for alg in full_checksums(facts)):
        return False
    return bool(facts.etag and PLAIN_ETAG.match(facts.etag))


class _InOrder:
    """Turns in part order for named steps (``"slot"``, ``"feed"``) and the running MD5
    of the whole. A wait ends early when ``stop`` is set (raises TransferCancelled)."""

    def __init__(self, stop: threading.Event) -> None:
        import hashlib

        self.md5 = hashlib.md5()
        self._stop = stop
        self._turn = {"slot": 1, "feed": 1}
        self._cond = threading.Condition()

    def wait_turn(self, step: str, number: int) -> None:
        with self._cond:
            while self._turn[step] != number:
                if self._stop.is_set():
                    raise TransferCancelled("stopped", operation="transfer")
                self._cond.wait(0.5)

    def next(self, step: str) -> None:
        with self._cond:
            self._turn[step] += 1
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()


class _Slots:
    """``jobs`` memory slots for part buffers (a bounded semaphore used with ``with``),
    counting the most held at once (:attr:`peak`)."""

    def __init__(self, size: int) -> None:
        self._sem = threading.BoundedSemaphore(size)
        self._lock = threading.Lock()
        self.held = 0
        self.peak = 0

    def __enter__(self) -> _Slots:
        self._sem.acquire()
        with self._lock:
            self.held += 1
            self.peak = max(self.peak, self.held)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.held -= 1
        self._sem.release()
