"""The delete engine shared by the app's review screen and ``pail rm``.

Usage (nothing here touches the UI)::

    plan = build_plan(driver, "bucket", base="runs/", prefixes=["runs/"], filters=f)
    deleter = Deleter(driver, plan, jobs=8)      # dry_run=True: report, delete nothing
    deleter.start()             # returns at once; batches run on daemon threads
    deleter.progress()          # DeleteProgress snapshot, any thread, any time
    deleter.cancel()            # no new batch starts; batches in flight are not waited for
    report = deleter.wait()     # DeleteReport (wait(timeout) returns None if not finished)

    # A plan that needs no review (``pail rm -r --yes``): listed and deleted at once.
    deleter = plan_and_delete(driver, "bucket", prefixes=["runs/old/"], filters=f)

Batches are sized to the store (:func:`batch_limit`): up to 1,000 keys on S3 (DeleteObjects'
limit per request), 100 on GCS (one batch request: its limit per batch), 1,000 for
folders. Up to ``jobs`` batches are in flight at once, fewer while the store pushes back
(:class:`~pail.services.delete.adaptive.AdaptiveLimit`: a batch that failed as
throttled/transient once the driver's retries ran out, or succeeded only after retries, or
whose keys were refused with a throttling code, halves the limit; it grows back by one per
round of clean answers). Pushback never fails the delete by itself: only the batches that
failed are reported failed; the others go on, fewer at a time.

With a source (:func:`plan_and_delete`), planning and deleting overlap: each listed page's
keys join the plan as they arrive and a batch is sent as soon as it is full (the rest when
planning ends). Only for plans that need no review: whatever a front-end asks the user
about is planned whole first (:func:`~pail.services.delete.plan.build_plan`). A planning
failure or a cancel stops new batches; keys planned but not sent are ``not_attempted``, and
keys never listed are in no figure (the report says planning did not finish).

A key is counted deleted only when the store confirmed it: named in the ``Deleted`` list of
S3's reply (sent with ``Quiet=false``), a 2xx/404 GCS sub-response, a successful
``os.remove`` (:mod:`pail.drivers.delete`). Keys the store refused (S3 answers
DeleteObjects with HTTP 200 and a per-key ``Error``: ``AccessDenied``...), keys its reply
did not name (``NotConfirmed``), and every key of a batch whose request failed as a whole
are reported as failed with their code. Keys of a batch still waiting for its answer are
*in flight*: neither deleted nor failed, their fate unknown (a cancelled or interrupted
delete reports them as such). The deleter is a :class:`pail.services.jobs.Job` on daemon
threads, so an interrupted ``pail rm`` exits without waiting for a hung request.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from pail.drivers.base import MAX_DELETE_KEYS, DeleteResult, StorageDriver
from pail.drivers.delete import NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE
from pail.drivers.errors import StorageError, Transient
from pail.services.delete.adaptive import AdaptiveLimit
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import DeletePlan, PlanCancelled, PlannedKey, stream_plan
from pail.services.jobs import DaemonPool, Job, start_daemon
from pail.services.walk import DEFAULT_WORKERS

#: Batches in flight at once (the ceiling; pushback lowers it for a while).
DEFAULT_JOBS = 8
#: Calls in one GCS batch request (Cloud Storage docs, "Sending batch requests": at most
#: 100); :mod:`pail.drivers.gcs.delete` sends one batch request per 100 keys.
GCS_BATCH_KEYS = 100
#: Per-key error codes (inside a 200 DeleteObjects answer, a GCS sub-response) that mean
#: the store is pushing back rather than refusing the key for good.
PUSHBACK_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalError",
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "backendError",
        "429",
        "500",
        "503",
    }
)

#: ``source(add, cancel)``: plans a delete, handing keys to ``add`` as they are known, and
#: returns the plan's final figures (its ``items`` unused) once the plan is complete. Runs
#: on its own daemon thread; raises PlanCancelled when ``cancel`` is set, StorageError...
PlanSource = Callable[[Callable[[list[PlannedKey]], None], threading.Event], DeletePlan]


def batch_limit(driver: StorageDriver) -> int:
    """Keys per ``delete_objects`` call for ``driver``'s store: 1,000 on S3 (DeleteObjects
    "up to 1,000 keys", S3 API reference), :data:`GCS_BATCH_KEYS` on GCS (so each call is
    one batch request and the batches in flight are the requests in flight), 1,000 for
    folders (local unlinks; the batch only bounds the work between two progress
    updates)."""
    return GCS_BATCH_KEYS if driver.provider == "gcs" else MAX_DELETE_KEYS


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
        total: keys in the plan (so far, while ``planning``). deleted / failed: keys
            confirmed / not deleted so far.
        in_flight: keys of batches sent and not answered yet.
        batches_total / batches_done: batches formed so far / finished (failed ones
            included).
        rate: keys finished (deleted + failed) per second since the start.
        elapsed: seconds since the start. finished: no batch is running or will run.
        cancelled: cancel was requested. dry_run: nothing is really deleted.
        planning: the plan is still being listed (:func:`plan_and_delete`); ``total``
            grows meanwhile. examined: objects listed by that planning.
        concurrency: batches allowed in flight now (lower than ``jobs`` while the store
            pushes back).
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
    planning: bool = False
    examined: int = 0
    concurrency: int = 0


@dataclass
class DeleteReport:
    """The outcome. ``deleted`` counts keys the store confirmed (or, in a dry run, keys
    that would be deleted) and ``deleted_bytes`` their size; ``failed`` lists every key not
    deleted with its code; ``in_flight`` counts keys whose request was sent but not
    answered when the report was taken (unknown: they may or may not be gone);
    ``not_attempted`` counts planned keys never sent because a cancel (or a planning
    failure) stopped the delete; ``confirmed`` holds the deleted keys themselves (for a
    check afterwards: :func:`pail.services.delete.verify.verify_deleted`).

    ``plan_error``: planning (:func:`plan_and_delete`) failed with this error, so the plan
    is incomplete: keys not listed yet were neither planned nor deleted.
    ``plan_complete``: the plan was final when the report was taken (always, without a
    planning source). ``pushbacks``: how many times the store's pushback halved the
    batches in flight; ``lowest_concurrency``: the fewest batches it allowed at once.
    """

    deleted: int = 0
    deleted_bytes: int = 0
    failed: list[FailedKey] = field(default_factory=list)
    in_flight: int = 0
    not_attempted: int = 0
    dry_run: bool = False
    cancelled: bool = False
    confirmed: list[PlannedKey] = field(default_factory=list, repr=False)
    plan_error: StorageError | None = None
    plan_complete: bool = True
    pushbacks: int = 0
    lowest_concurrency: int = 0

    @property
    def ok(self) -> bool:
        """Every planned key was deleted (or would be, in a dry run), and the plan was
        complete."""
        return (
            not self.failed
            and not self.not_attempted
            and not self.in_flight
            and self.plan_complete
            and self.plan_error is None
        )

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
        plan: what to delete; nothing outside ``plan.items`` is ever deleted. With a
            ``source`` it starts empty and fills as the source plans.
        jobs: batches in flight at most (one daemon thread each); fewer while the store
            pushes back (see the module doc).
        batch_size: keys per ``delete_objects`` call (1..1000; default
            :func:`batch_limit` of the driver).
        dry_run: walk the plan and report without calling the store.
        on_batch: called from a worker thread after each batch with the batch's
            ``(deleted keys, failed keys)``; must not block for long.
        source: plans while the delete runs (:data:`PlanSource`; see
            :func:`plan_and_delete`); ``None``: ``plan`` is final.
    """

    thread_name = "pail-rm"

    def __init__(
        self,
        driver: StorageDriver,
        plan: DeletePlan,
        *,
        jobs: int = DEFAULT_JOBS,
        batch_size: int | None = None,
        dry_run: bool = False,
        on_batch: Callable[[list[PlannedKey], list[FailedKey]], None] | None = None,
        source: PlanSource | None = None,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.plan = plan
        self.jobs = max(1, jobs)
        size = batch_limit(driver) if batch_size is None else batch_size
        self.batch_size = max(1, min(size, MAX_DELETE_KEYS))
        self.dry_run = dry_run
        self.limit = AdaptiveLimit(self.jobs)
        self._on_batch = on_batch
        self._source = source
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)  # batch queued or done, plan closed...
        self._queue: deque[list[PlannedKey]] = deque()
        self._partial: list[PlannedKey] = []  # planned keys not yet a full batch
        self._planning = source is not None  # the source is still running
        self._plan_final = source is None  # the plan is complete
        self._halted = False  # planning failed: queued batches stay unsent
        self._plan_error: StorageError | None = None
        self._closed = False  # the job ended: the plan takes no more keys
        self._examined = 0
        self._batches_formed = 0
        self._running = 0  # batches in flight
        self._deleted = 0
        self._deleted_bytes = 0
        self._failed: list[FailedKey] = []
        self._confirmed: list[PlannedKey] = []
        self._batches_done = 0
        self._attempted = 0
        self._in_flight = 0
        if source is None:
            self._enqueue(plan.items, final=True)

    # -- control ------------------------------------------------------------------------

    def cancel(self) -> None:
        """Start no further batch (and, while planning, request no further page).
        Batches already sent are reported when they answer; :meth:`report` meanwhile
        counts their keys as in flight."""
        super().cancel()
        with self._wake:
            self._wake.notify_all()

    def progress(self) -> DeleteProgress:
        """A :class:`DeleteProgress` snapshot (thread-safe)."""
        finished = self.finished  # read first: once finished, the counts below are final
        with self._lock:
            deleted, failed, done = self._deleted, len(self._failed), self._batches_done
            in_flight, total = self._in_flight, len(self.plan.items)
            planning, examined = self._planning and not self._closed, self._examined
            formed = self._batches_formed
        elapsed = self.elapsed
        return DeleteProgress(
            total=total,
            deleted=deleted,
            failed=failed,
            in_flight=in_flight,
            batches_total=formed,
            batches_done=done,
            rate=(deleted + failed) / elapsed if elapsed > 0 else 0.0,
            elapsed=elapsed,
            finished=finished,
            cancelled=self.cancelled,
            dry_run=self.dry_run,
            planning=planning,
            examined=examined,
            concurrency=self.limit.value,
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
                not_attempted=len(self.plan.items) - self._attempted,
                dry_run=self.dry_run,
                cancelled=self._cancel.is_set(),
                confirmed=list(self._confirmed),
                plan_error=self._plan_error,
                plan_complete=self._plan_final,
                pushbacks=self.limit.decreases,
                lowest_concurrency=self.limit.lowest,
            )

    # -- planning (with a source) ---------------------------------------------------------

    def add(self, keys: list[PlannedKey]) -> None:
        """Planned keys join the plan (from the source's thread). After a cancel they are
        still planned (and reported not attempted, never sent); once the job has ended
        they are ignored (a cancelled delete's planner may still be finishing a page)."""
        with self._wake:
            if self._closed:
                return
            self._enqueue(keys, final=False)
            self._wake.notify_all()

    def _enqueue(self, keys: Iterable[PlannedKey], *, final: bool) -> None:
        """Append ``keys`` to the plan and cut full batches (the rest too when
        ``final``). Caller holds the lock (or runs before the start)."""
        items = list(keys)
        if self._source is not None:  # else the plan was final from the start
            self.plan.items.extend(items)
        pending = self._partial + items if self._partial else items
        size = self.batch_size
        cut = len(pending) if final else len(pending) - len(pending) % size
        for i in range(0, cut, size):
            self._queue.append(pending[i : i + size])
            self._batches_formed += 1
        self._partial = pending[cut:]

    def _plan(self) -> None:
        """The source, on its own daemon thread: keys go to :meth:`add`; at the end the
        rest is queued and the plan's figures copied."""
        assert self._source is not None
        error: StorageError | None = None
        final: DeletePlan | None = None
        try:
            final = self._source(self.add, self._cancel)
        except PlanCancelled:
            pass
        except StorageError as exc:
            error = exc
        except Exception as exc:  # a bug in planning: never deleted around, reported
            error = StorageError(f"planning failed: {type(exc).__name__}: {exc}")
        with self._wake:
            if self._closed:  # the delete ended first (cancelled): its report stands
                return
            self._planning = False
            if final is not None:
                self.plan.examined = final.examined
                self.plan.whole_prefixes = list(final.whole_prefixes)
                self.plan.missing = list(final.missing)
                self._enqueue((), final=True)
                self._plan_final = True
            self._plan_error = error
            self._halted = error is not None
            self._wake.notify_all()

    def _listed(self, examined: int) -> None:
        with self._lock:
            self._examined = examined

    # -- work ---------------------------------------------------------------------------

    def _work(self) -> None:
        # One daemon thread per batch in flight (pail-rm-0, ...): a request hung on a dead
        # connection never keeps the process alive after an interrupt.
        if self._source is not None:
            start_daemon(self._plan, f"{self.thread_name}-plan")
        pool = DaemonPool(self.jobs, name=self.thread_name)
        try:
            while True:
                with self._wake:
                    batch = self._next_batch()
                    if batch is None:
                        break
                    # Counted before the request: a report taken meanwhile shows them in
                    # flight, never as not attempted.
                    self._attempted += len(batch)
                    self._in_flight += len(batch)
                    self._running += 1
                    ticket = self.limit.ticket()
                pool.submit(self._run_batch, batch, ticket)
            with self._wake:  # the batches in flight are reported before the end
                while self._running:
                    self._wake.wait()
        finally:
            with self._wake:
                self._closed = True
            pool.shutdown(cancel_pending=True)

    def _next_batch(self) -> list[PlannedKey] | None:
        """The next batch to send once the limit allows it, or ``None`` when there is none
        left (or a cancel or planning failure stopped the delete). Caller holds the lock."""
        while True:
            if self._cancel.is_set() or self._halted:
                return None
            if self._queue and self._running < self.limit.value:
                return self._queue.popleft()
            if not self._queue and not self._planning:
                return None
            self._wake.wait()

    def _run_batch(self, batch: list[PlannedKey], ticket: int) -> None:
        try:
            deleted: list[PlannedKey] = list(batch) if self.dry_run else []
            failed: list[FailedKey] = []
            pushback = False
            if not self.dry_run:
                deleted, failed, pushback = self._delete(batch)
            if pushback:
                self.limit.pushback(ticket)
            else:
                self.limit.success(ticket)
            with self._lock:
                self._deleted += len(deleted)
                self._deleted_bytes += sum(item.size for item in deleted)
                self._confirmed.extend(deleted)
                self._failed.extend(failed)
                self._in_flight -= len(batch)
                self._batches_done += 1
            # Before the slot is freed, as when each worker took its next batch itself:
            # a cancel from on_batch stops the next batch.
            if self._on_batch is not None:
                self._on_batch(deleted, failed)
        finally:  # whatever happened, the dispatcher never waits for this batch again
            with self._wake:
                self._running -= 1
                self._wake.notify_all()

    def _delete(self, batch: list[PlannedKey]) -> tuple[list[PlannedKey], list[FailedKey], bool]:
        """Send one batch: (deleted, failed, pushback seen)."""
        targets = [(item.key, item.version_id) for item in batch]
        try:
            result = self.driver.delete_objects(self.plan.bucket, targets)
        except StorageError as exc:  # the whole request failed: every key failed
            code = exc.code or type(exc).__name__
            message = exc.message or str(exc)
            failed = [FailedKey(i.key, i.version_id, code, message) for i in batch]
            return [], failed, isinstance(exc, Transient)
        except Exception as exc:  # never let one batch take the delete down
            failed = [FailedKey(i.key, i.version_id, type(exc).__name__, str(exc)) for i in batch]
            return [], failed, False
        try:
            deleted, failed = _confirmed(batch, result)
        except Exception as exc:  # a result that cannot be read confirms nothing
            failed = [FailedKey(i.key, i.version_id, NOT_CONFIRMED, str(exc)) for i in batch]
            return [], failed, False
        # A driver may say how many times it retried the call (S3: botocore's
        # RetryAttempts, pail.drivers.s3.delete); a retried call met pushback.
        retried = bool(getattr(result, "retries", 0))
        return deleted, failed, retried or any(f.code in PUSHBACK_CODES for f in failed)


def _confirmed(
    batch: list[PlannedKey], result: DeleteResult
) -> tuple[list[PlannedKey], list[FailedKey]]:
    """The batch split by the store's answer. Only keys the result names as deleted
    count; a key it names in neither list (a driver that broke its contract) is a
    failure, never assumed gone."""
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


def plan_and_delete(
    driver: StorageDriver,
    bucket: str,
    *,
    base: str = "",
    prefixes: Iterable[str] = (),
    filters: StaleFilters | None = None,
    jobs: int = DEFAULT_JOBS,
    batch_size: int | None = None,
    on_batch: Callable[[list[PlannedKey], list[FailedKey]], None] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> Deleter:
    """A :class:`Deleter` (not started) that lists ``prefixes`` and deletes what
    ``filters`` select as the pages arrive
    (:func:`~pail.services.delete.plan.stream_plan`: the same boundaries and filters as
    :func:`~pail.services.delete.plan.build_plan`). For a delete nobody reviews first
    (``pail rm -r --yes``): what a front-end shows for review must be planned whole with
    ``build_plan``. Its ``plan`` fills as it goes; once it has finished with
    :attr:`DeleteReport.plan_complete`, ``plan.items`` is every key planned.

    Raises:
        ValueError: ``filters`` hold run rules (they need the whole listing first).
    """
    filters = filters or StaleFilters()
    if filters.retention is not None:
        raise ValueError("run rules need the whole listing first: use build_plan")
    wanted = list(prefixes)
    plan = DeletePlan(driver.provider, bucket, base=base, filters=filters)
    holder: list[Deleter] = []

    def source(add: Callable[[list[PlannedKey]], None], cancel: threading.Event) -> DeletePlan:
        return stream_plan(
            driver,
            bucket,
            add,
            base=base,
            prefixes=wanted,
            filters=filters,
            cancel=cancel,
            on_listed=holder[0]._listed,
            workers=workers,
        )

    deleter = Deleter(
        driver, plan, jobs=jobs, batch_size=batch_size, on_batch=on_batch, source=source
    )
    holder.append(deleter)
    return deleter


__all__ = [
    "DEFAULT_JOBS",
    "GCS_BATCH_KEYS",
    "PUSHBACK_CODES",
    "DeleteProgress",
    "DeleteReport",
    "Deleter",
    "FailedKey",
    "PlanSource",
    "batch_limit",
    "plan_and_delete",
]
