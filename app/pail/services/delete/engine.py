"""The delete engine shared by the app's review screen and ``pail rm``.

Usage (nothing here touches the UI)::

    plan = build_plan(driver, "bucket", base="runs/", prefixes=["runs/"], filters=f)
    deleter = Deleter(driver, plan, jobs=8)      # dry_run=True: report, delete nothing
    deleter.start()             # returns at once; batches run on daemon threads
    deleter.progress()          # DeleteProgress snapshot, any thread, any time
    deleter.cancel()            # no new batch starts; batches in flight are not waited for
    report = deleter.wait()     # DeleteReport (wait(timeout) returns None if not finished)

Keys go in batches of up to 1,000 (S3 DeleteObjects' limit per request; the GCS driver
splits each batch into batch requests of 100), several batches in flight. A key is counted
deleted only when the store confirmed it: named in the ``Deleted`` list of S3's reply (sent
with ``Quiet=false``), a 2xx/404 GCS sub-response, a successful ``os.remove``
(:mod:`pail.drivers.delete`). Keys the store refused (S3 answers DeleteObjects with HTTP
200 and a per-key ``Error``: ``AccessDenied``...), keys its reply did not name
(``NotConfirmed``), and every key of a batch whose request failed as a whole are reported
as failed with their code. Keys of a batch still waiting for its answer are *in flight*:
neither deleted nor failed, their fate unknown (a cancelled or interrupted delete reports
them as such). The deleter is a :class:`pail.services.jobs.Job` on daemon threads, so an
interrupted ``pail rm`` exits without waiting for a hung request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from pail.drivers.base import MAX_DELETE_KEYS, StorageDriver
from pail.drivers.delete import NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE
from pail.drivers.errors import StorageError
from pail.services.delete.plan import DeletePlan, PlannedKey
from pail.services.jobs import Job, run_each

#: Batches in flight at once.
DEFAULT_JOBS = 8


@dataclass(frozen=True)
class FailedKey:
    """A key not deleted: ``code`` is the store's (``AccessDenied``, ``forbidden``,
    ``EACCES``), ``NotConfirmed`` when the store's reply did not name the key, or the
    failed request's; ``message`` is plain text."""

    key: str
    version_id: str | None
    code: str
    message: str


@dataclass(frozen=True)
class DeleteProgress:
    """A snapshot of a running delete.

    Attributes:
        total: keys in the plan. deleted / failed: keys confirmed / not deleted so far.
        in_flight: keys of batches sent and not answered yet.
        batches_total / batches_done: batches planned / finished (failed ones included).
        rate: keys finished (deleted + failed) per second since the start.
        elapsed: seconds since the start. finished: no batch is running or will run.
        cancelled: cancel was requested. dry_run: nothing is really deleted.
    """

    total: int
    deleted: int
    failed: int
    in_flight: int
    batches_total: int
    batches_done: int
    rate: float
    elapsed: float
    finished: bool
    cancelled: bool
    dry_run: bool


@dataclass
class DeleteReport:
    """The outcome. ``deleted`` counts keys the store confirmed (or, in a dry run, keys
    that would be deleted) and ``deleted_bytes`` their size; ``failed`` lists every key not
    deleted with its code; ``in_flight`` counts keys whose request was sent but not
    answered when the report was taken (unknown: they may or may not be gone);
    ``not_attempted`` counts keys never sent because a cancel stopped the delete;
    ``confirmed`` holds the deleted keys themselves (for a check afterwards:
    :func:`pail.services.delete.verify.verify_deleted`)."""

    deleted: int = 0
    deleted_bytes: int = 0
    failed: list[FailedKey] = field(default_factory=list)
    in_flight: int = 0
    not_attempted: int = 0
    dry_run: bool = False
    cancelled: bool = False
    confirmed: list[PlannedKey] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        """Every planned key was deleted (or would be, in a dry run)."""
        return not self.failed and not self.not_attempted and not self.in_flight

    def failure_codes(self) -> dict[str, int]:
        """How many keys failed with each code."""
        codes: dict[str, int] = {}
        for failure in self.failed:
            codes[failure.code] = codes.get(failure.code, 0) + 1
        return codes


class Deleter(Job[DeleteProgress, DeleteReport]):
    """Runs a :class:`~pail.services.delete.plan.DeletePlan` on daemon threads (a
    :class:`~pail.services.jobs.Job`: ``start``, ``progress``, ``cancel``, ``wait``,
    ``run``, ``finished``).

    Args:
        driver: the store's driver (thread-safe).
        plan: what to delete; nothing outside ``plan.items`` is ever deleted.
        jobs: batches in flight at once (one daemon thread each).
        batch_size: keys per ``delete_objects`` call (1..1000).
        dry_run: walk the plan and report without calling the store.
        on_batch: called from a worker thread after each batch with the batch's
            ``(deleted keys, failed keys)``; must not block for long.
    """

    thread_name = "pail-rm"

    def __init__(
        self,
        driver: StorageDriver,
        plan: DeletePlan,
        *,
        jobs: int = DEFAULT_JOBS,
        batch_size: int = MAX_DELETE_KEYS,
        dry_run: bool = False,
        on_batch: Callable[[list[PlannedKey], list[FailedKey]], None] | None = None,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.plan = plan
        self.jobs = max(1, jobs)
        self.batch_size = max(1, min(batch_size, MAX_DELETE_KEYS))
        self.dry_run = dry_run
        self._on_batch = on_batch
        items = plan.items
        self._batches = [
            items[i : i + self.batch_size] for i in range(0, len(items), self.batch_size)
        ]
        self._lock = threading.Lock()
        self._deleted = 0
        self._deleted_bytes = 0
        self._failed: list[FailedKey] = []
        self._confirmed: list[PlannedKey] = []
        self._batches_done = 0
        self._attempted = 0
        self._in_flight = 0

    # -- control ------------------------------------------------------------------------

    def cancel(self) -> None:
        """Start no further batch. Batches already sent are reported when they answer;
        :meth:`report` meanwhile counts their keys as in flight."""
        super().cancel()

    def progress(self) -> DeleteProgress:
        """A :class:`DeleteProgress` snapshot (thread-safe)."""
        finished = self.finished  # read first: once finished, the counts below are final
        with self._lock:
            deleted, failed, done = self._deleted, len(self._failed), self._batches_done
            in_flight = self._in_flight
        elapsed = self.elapsed
        return DeleteProgress(
            total=self.plan.count,
            deleted=deleted,
            failed=failed,
            in_flight=in_flight,
            batches_total=len(self._batches),
            batches_done=done,
            rate=(deleted + failed) / elapsed if elapsed > 0 else 0.0,
            elapsed=elapsed,
            finished=finished,
            cancelled=self.cancelled,
            dry_run=self.dry_run,
        )

    def report(self) -> DeleteReport:
        """What happened so far (complete once :attr:`finished`; before that, keys of
        unanswered batches are ``in_flight``)."""
        with self._lock:
            return DeleteReport(
                deleted=self._deleted,
                deleted_bytes=self._deleted_bytes,
                failed=list(self._failed),
                in_flight=self._in_flight,
                not_attempted=self.plan.count - self._attempted,
                dry_run=self.dry_run,
                cancelled=self._cancel.is_set(),
                confirmed=list(self._confirmed),
            )

    # -- work ---------------------------------------------------------------------------

    def _work(self) -> None:
        # One daemon thread per batch in flight (pail-rm-0, ...): a request hung on a dead
        # connection never keeps the process alive after an interrupt.
        run_each(self._batches, self._send, workers=self.jobs, name="pail-rm", stop=self._cancel)

    def _send(self, batch: list[PlannedKey]) -> None:
        with self._lock:
            # Checked before every batch: after a cancel no new batch is sent.
            if self._cancel.is_set():
                return
            self._attempted += len(batch)
            self._in_flight += len(batch)
        self._run_batch(batch)

    def _run_batch(self, batch: list[PlannedKey]) -> None:
        if self.dry_run:
            deleted, failed = list(batch), list[FailedKey]()
        else:
            deleted, failed = self._delete(batch)
        with self._lock:
            self._deleted += len(deleted)
            self._deleted_bytes += sum(item.size for item in deleted)
            self._confirmed.extend(deleted)
            self._failed.extend(failed)
            self._in_flight -= len(batch)
            self._batches_done += 1
        if self._on_batch is not None:
            self._on_batch(deleted, failed)

    def _delete(self, batch: list[PlannedKey]) -> tuple[list[PlannedKey], list[FailedKey]]:
        targets = [(item.key, item.version_id) for item in batch]
        try:
            result = self.driver.delete_objects(self.plan.bucket, targets)
        except StorageError as exc:  # the whole request failed: every key failed
            code = exc.code or type(exc).__name__
            message = exc.message or str(exc)
            return [], [FailedKey(i.key, i.version_id, code, message) for i in batch]
        except Exception as exc:  # never let one batch take the delete down
            return [], [FailedKey(i.key, i.version_id, type(exc).__name__, str(exc)) for i in batch]
        # Only keys the result names as deleted count; a key it names in neither list
        # (a driver that broke its contract) is a failure, never assumed gone.
        sent = {(item.key, item.version_id) for item in batch}
        failed = [
            FailedKey(e.key, e.version_id, e.code, e.message)
            for e in result.errors
            if (e.key, e.version_id) in sent
        ]
        refused = {(f.key, f.version_id) for f in failed}
        confirmed = {(d.key, d.version_id) for d in result.deleted} - refused
        deleted = []
        for item in batch:
            ident = (item.key, item.version_id)
            if ident in confirmed:
                deleted.append(item)
            elif ident not in refused:
                failed.append(
                    FailedKey(item.key, item.version_id, NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE)
                )
        return deleted, failed
