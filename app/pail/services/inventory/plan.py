"""Stale plans from an inventory report, re-checked live before anything is deleted.

An inventory report is a snapshot (S3 Inventory, GCS Storage Insights): by the time a plan
is made from it, keys may have been overwritten, deleted or written. So the report only
*narrows*; nothing is deleted on its word alone:

1. **Candidates from the report.** :meth:`Inventory.objects` under ``base``, narrowed in
   the query by age and size, then the stale filters applied exactly as the live planner
   applies them (:func:`pail.services.delete.plan.build_plan` on the report's entries:
   one copy of the filter semantics). Ages are judged against now (``filters.now`` when
   set), as a live plan would, not against the report's time.
2. **Run rules** (:attr:`StaleFilters.retention`): the runs are detected from the report's
   objects under ``base`` (:func:`pail.services.runs.detect.runs_from_objects`, at most
   :data:`~pail.services.runs.detect.DEFAULT_MAX_OBJECTS` objects, as detection is
   bounded), their metadata files read live by range as detection reads them; only
   objects of the runs the rules delete are planned, never loose objects.
3. **Live re-check.** With at most ``head_threshold`` candidates each is looked up (S3
   HeadObject, GCS ``objects.get``), concurrently; with more, the folders holding them are
   listed again, one level each (ListObjectsV2 with ``Delimiter=/``: no folder is listed
   that holds no candidate, and no subtree below one), and a folder holding a single
   candidate has it looked up instead (one request either way, less to read). A key is
   planned only when its live size, ETag (without quotes) and last-modified time (whole
   seconds: HEAD's ``Last-Modified`` is an HTTP date) all equal the report's; a report
   without ETags relies on size and time. Every other candidate goes to
   :attr:`InventoryPlan.changed` with a plain reason. Keys written since the report are
   not in it, so never planned. With run rules, a deleted run one of whose objects
   changed is left alone whole (a run being written to is not deleted by halves).
4. **Lifecycle offer.** The rules :func:`pail.services.lifecycle.build_rules` writes for
   the same filters under ``base`` (the store then does the deleting, at any scale), or
   why they cannot be written. They never select more than the filters.

The planned items carry the *live* size and time and no version id: on a versioned bucket
the delete removes current versions only (S3 adds a delete marker), as the live planner
does from a plain listing. The plan goes to the review screen and
:class:`pail.services.delete.engine.Deleter` unchanged. A key overwritten between the
re-check and the delete itself is not caught here (DeleteObjects is not conditional):
re-plan when much time has passed.

Fail closed: a report without sizes or last-modified times cannot prove any key
unchanged, a plan past ``max_keys`` is refused whole (the lifecycle rule is the way at
that scale), and a failed lookup or listing fails the plan; never a partial plan.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from typing import NamedTuple, Protocol

from pail.core.units import plural
from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.drivers.errors import NotFound
from pail.drivers.versions import LifecycleRule
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import (
    DeletePlan,
    PlanCancelled,
    PlannedKey,
    RunPlanned,
    build_plan,
    detect_for_retention,
    normalize_prefix,
)
from pail.services.inventory.model import InventoryError, Report
from pail.services.jobs import DaemonPool
from pail.services.lifecycle import NotExpressible, build_rules
from pail.services.runs.detect import (
    DEFAULT_MAX_OBJECTS,
    DetectCancelled,
    TooManyObjects,
    location_uri,
)
from pail.services.runs.model import RunIndex, RunSet
from pail.services.runs.tracking import TrackingServer

__all__ = [
    "DEFAULT_HEAD_THRESHOLD",
    "DEFAULT_MAX_KEYS",
    "DEFAULT_RECHECK_WORKERS",
    "Changed",
    "InventoryPlan",
    "PlanCancelled",
    "ReportObjects",
    "plan_from_inventory",
]

#: Up to this many candidates are re-checked with one lookup each; above, by listing.
DEFAULT_HEAD_THRESHOLD = 1000
#: Most keys a plan from a report deletes key by key (past it: the lifecycle rule).
DEFAULT_MAX_KEYS = 1_000_000
#: Lookups or folder listings in flight at once while re-checking.
DEFAULT_RECHECK_WORKERS = 16
#: Report rows fetched per batch (the cancel event is looked at between batches).
_BATCH = 10_000


class ReportObjects(Protocol):
    """What the planner needs of an opened report
    (:class:`pail.services.inventory.query.Inventory` is one)."""

    @property
    def report(self) -> Report:
        """The report the rows come from."""
        ...

    def objects(
        self,
        prefix: str = "",
        *,
        older_than: float | None = None,
        min_size: int | None = None,
        max_size: int | None = None,
        batch: int = 10_000,
    ) -> Iterator[list[Entry]]:
        """Current objects under ``prefix`` by key, in batches (age in seconds at the
        report's time, sizes in bytes inclusive)."""
        ...


@dataclass(frozen=True)
class Changed:
    """A candidate left alone because the store no longer matches the report: ``key`` and
    ``why``, one plain line (``"gone"``, ``"modified 2026-11-29 10:00 UTC, after the
    report"``, ``"size differs"``, ``"ETag differs"``, several joined by ``"; "``)."""

    key: str
    why: str


@dataclass
class InventoryPlan:
    """A stale plan made from a report and re-checked live.

    Attributes:
        report: the report the candidates came from.
        plan: what the delete will do: ONLY keys re-checked live and unchanged since the
            report, with their live size and time (the review screen and
            :class:`~pail.services.delete.engine.Deleter` take it as it is). With run
            rules it carries the runs, the verdicts and what is planned of each run.
        candidates / candidate_bytes: what the report alone selected (keys, bytes as the
            report sizes them), before the re-check.
        changed: candidates left alone, each with why (gone ones included, also listed
            in ``plan.missing``).
        lifecycle: lifecycle rules doing the same by the store (S3 lifecycle
            configuration rules / GCS lifecycle rules), when expressible; else ``None``.
        lifecycle_refused: why no rule can do it (one plain line each).
        lifecycle_notes: remarks on the rules (ages rounded up to days, versioned buckets).
        recheck: how the candidates were re-checked, one plain line
            (``"12 keys looked up"``, ``"3 folders listed again, 1 key looked up"``).
    """

    report: Report
    plan: DeletePlan
    candidates: int = 0
    candidate_bytes: int = 0
    changed: list[Changed] = field(default_factory=list)
    lifecycle: list[LifecycleRule] | None = None
    lifecycle_refused: list[str] = field(default_factory=list)
    lifecycle_notes: list[str] = field(default_factory=list)
    recheck: str = ""


class _Live(NamedTuple):
    size: int | None
    last_modified: datetime | None
    etag: str | None


Progress = Callable[[str, int, int], None]


def plan_from_inventory(
    inventory: ReportObjects,
    driver: StorageDriver,
    bucket: str,
    *,
    base: str = "",
    filters: StaleFilters,
    cancel: threading.Event | None = None,
    on_progress: Progress | None = None,
    max_keys: int = DEFAULT_MAX_KEYS,
    head_threshold: int = DEFAULT_HEAD_THRESHOLD,
    workers: int = DEFAULT_RECHECK_WORKERS,
    max_run_objects: int = DEFAULT_MAX_OBJECTS,
    tracking: TrackingServer | None = None,
) -> InventoryPlan:
    """Plan deleting what ``filters`` select under ``base`` from ``inventory``'s report,
    each key re-checked live against ``driver`` (see the module's steps). Call it from a
    worker thread: it queries the report, reads run metadata and looks keys up.

    Args:
        inventory: the opened report of ``bucket``.
        driver: the live store holding ``bucket``.
        base: the prefix planned from (``""`` = the whole bucket); filters match keys
            relative to it, runs are detected under it, the lifecycle rule is limited to it.
        filters: the stale filters and run rules (as for the live planner).
        cancel: set it to stop: :class:`~pail.services.delete.plan.PlanCancelled` is
            raised at the next batch of rows, lookup or page; no plan is returned.
        on_progress: ``(stage, done, total)`` from the planning thread or a re-check
            thread (serialised): stage ``"report"`` (rows read, total 0 = unknown) then
            ``"recheck"`` (candidates re-checked of all).
        max_keys: most keys planned; past it the plan is refused.
        head_threshold: up to this many candidates are looked up one by one; above,
            their folders are listed again.
        workers: lookups or listings in flight at once.
        max_run_objects: with run rules, most objects under ``base`` (as detection).
        tracking: with run rules, the tracking server merged into detection; runs behind
            one of its registered model versions are protected (as the live planner does).

    Raises:
        InventoryError: ``bucket`` is not the report's source bucket; the report has no
            sizes or no last-modified times (nothing can be proven unchanged); more than
            ``max_keys`` keys selected.
        PlanCancelled: ``cancel`` was set.
        StorageError: a lookup, listing or metadata read failed as a whole.
        TooManyObjects: run rules and more than ``max_run_objects`` objects under
            ``base``.
        NoRunsFound, RetentionError: as :func:`~pail.services.delete.plan.build_plan`
            raises them for run rules.
    """
    report = inventory.report
    _check_report(report, bucket)
    base = normalize_prefix(base)
    given = filters
    # One reference time for every batch (build_plan reads the clock per call).
    filters = replace(filters, now=filters.now or datetime.now(timezone.utc))

    def stopped() -> bool:
        return cancel is not None and cancel.is_set()

    def progress(stage: str, done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(stage, done, total)

    if filters.retention is None:
        planned, by_key, read = _select(
            inventory, driver, bucket, base, filters, max_keys, stopped, progress
        )
    else:
        planned, by_key, read = _select_runs(
            inventory,
            driver,
            bucket,
            base,
            filters,
            max_run_objects,
            tracking,
            cancel,
            stopped,
            progress,
        )
        if planned.count > max_keys:
            raise _too_big(planned.count, max_keys)
    result = InventoryPlan(report, planned, planned.count, planned.total_bytes)
    _offer_lifecycle(result, driver.provider, base, given)

    live, result.recheck = _recheck(
        driver, bucket, [i.key for i in planned.items], head_threshold, workers, cancel, progress
    )
    kept: list[PlannedKey] = []
    changed: dict[str, str] = {}
    for item in planned.items:
        seen = live.get(item.key)
        why = "gone" if seen is None else _differences(by_key[item.key], seen, report.created)
        if why:
            changed[item.key] = why
        elif seen is not None:
            kept.append(PlannedKey(item.key, seen.size or 0, seen.last_modified))
    if planned.runs is not None:
        kept = _hold_changed_runs(planned.runs, kept, changed)
    result.changed = [Changed(key, why) for key, why in changed.items()]
    result.plan = replace(
        planned,
        items=kept,
        run_items=_per_run(planned.runs, kept),
        missing=[key for key, why in changed.items() if why == "gone"],
        examined=read,
        filters=given,
    )
    return result


# -- step 1 and 2: candidates from the report ------------------------------------------------


def _check_report(report: Report, bucket: str) -> None:
    if report.source_bucket != bucket:
        raise InventoryError(
            f"the {report.label} lists bucket {report.source_bucket!r}, not {bucket!r}"
        )
    names = {"size": "sizes", "last_modified": "last-modified times"}
    missing = [label for name, label in names.items() if name not in report.fields]
    if missing:
        what = " or ".join(missing)
        raise InventoryError(
            f"the {report.label} has no {what}: no key can be proven unchanged since the "
            "report, so no plan is made from it (add the field to the inventory "
            "configuration)"
        )


def _too_big(count: int, limit: int) -> InventoryError:
    return InventoryError(
        f"the plan selects more than {plural(limit, 'key')} ({count:,} or more): too big "
        "to delete key by key; set a lifecycle rule for these filters instead, and the "
        "store deletes them itself"
    )


def _older_than(filters: StaleFilters, report: Report) -> float | None:
    """The query's age narrowing, in seconds at the report's time, never narrower than the
    exact filter applied after it: an object older than the cutoff now is older than
    ``created - cutoff`` at the report's time (a second of slack for the query's rounding).
    """
    cutoff = filters.cutoff()
    if cutoff is None:
        return None
    seconds = (report.created - cutoff).total_seconds() - 1
    return seconds if seconds > 0 else None


def _current(entries: Sequence[Entry]) -> list[Entry]:
    # No version ids: a delete removes the current version only, as from a plain listing.
    return [e if e.version_id is None else replace(e, version_id=None) for e in entries]


def _select(
    inventory: ReportObjects,
    driver: StorageDriver,
    bucket: str,
    base: str,
    filters: StaleFilters,
    max_keys: int,
    stopped: Callable[[], bool],
    progress: Progress,
) -> tuple[DeletePlan, dict[str, Entry], int]:
    """Per-object filters only: the report's rows in batches, each through build_plan."""
    plan = DeletePlan(driver.provider, bucket, base=base, filters=filters)
    by_key: dict[str, Entry] = {}
    read = 0
    batches = inventory.objects(
        base,
        older_than=_older_than(filters, inventory.report),
        min_size=filters.larger_than,  # inclusive in the query: the exact filter is strict
        max_size=filters.smaller_than,
        batch=_BATCH,
    )
    try:
        for batch in _rows(batches, stopped):
            read += len(batch)
            rows = _current(batch)
            part = build_plan(driver, bucket, base=base, keys=rows, filters=filters)
            if part.items:
                found = {e.key: e for e in rows}
                for item in part.items:
                    by_key[item.key] = found[item.key]
                plan.items.extend(part.items)
                if len(plan.items) > max_keys:
                    raise _too_big(len(plan.items), max_keys)
            progress("report", read, 0)
    finally:
        _close(batches)
    return plan, by_key, read


def _select_runs(
    inventory: ReportObjects,
    driver: StorageDriver,
    bucket: str,
    base: str,
    filters: StaleFilters,
    limit: int,
    tracking: TrackingServer | None,
    cancel: threading.Event | None,
    stopped: Callable[[], bool],
    progress: Progress,
) -> tuple[DeletePlan, dict[str, Entry], int]:
    """Run rules: every object under ``base`` (detection needs them all), at most
    ``limit``; runs detected from them, their metadata read live; then build_plan."""
    every: list[Entry] = []
    batches = inventory.objects(base, batch=_BATCH)
    try:
        for batch in _rows(batches, stopped):
            every.extend(_current(batch))
            if len(every) > limit:
                raise TooManyObjects(location_uri(driver, bucket, base), limit)
            progress("report", len(every), 0)
    finally:
        _close(batches)
    try:
        runs = detect_for_retention(
            driver, bucket, base, tracking=tracking, cancel=cancel, objects=every
        )
        plan = build_plan(
            driver, bucket, base=base, keys=every, filters=filters, runs=runs, cancel=cancel
        )
    except DetectCancelled:
        raise PlanCancelled("planning cancelled") from None
    by_key = {e.key: e for e in every}
    return plan, by_key, len(every)


def _rows(batches: Iterator[list[Entry]], stopped: Callable[[], bool]) -> Iterator[list[Entry]]:
    """The report's batches, stopping with PlanCancelled between two."""
    while True:
        if stopped():
            raise PlanCancelled("planning cancelled")
        try:
            batch = next(batches, None)
        except InventoryError:
            if stopped():  # the query was interrupted for our cancel
                raise PlanCancelled("planning cancelled") from None
            raise
        if batch is None:
            return
        yield batch


def _close(batches: Iterator[list[Entry]]) -> None:
    close = getattr(batches, "close", None)
    if close is not None:
        close()


# -- step 3: the live re-check ---------------------------------------------------------------


def _folder(key: str) -> str:
    """The folder a one-level listing of which holds ``key`` (``""`` at the root)."""
    head, slash, _ = key.rpartition("/")
    return head + slash


def _recheck(
    driver: StorageDriver,
    bucket: str,
    keys: list[str],
    head_threshold: int,
    workers: int,
    cancel: threading.Event | None,
    progress: Progress,
) -> tuple[dict[str, _Live], str]:
    """Every key's live state (absent: gone), and how it was found out."""
    lookups: list[str] = []
    listings: dict[str, set[str]] = {}
    if len(keys) <= head_threshold:
        lookups = list(keys)
    else:
        by_folder: dict[str, set[str]] = {}
        for key in keys:
            by_folder.setdefault(_folder(key), set()).add(key)
        for folder, inside in by_folder.items():
            if len(inside) == 1:  # one lookup costs no more than one listing
                lookups.extend(inside)
            else:
                listings[folder] = inside
    how = ", ".join(
        part
        for part in (
            f"{plural(len(listings), 'folder')} listed again" if listings else "",
            f"{plural(len(lookups), 'key')} looked up" if lookups else "",
        )
        if part
    )
    live: dict[str, _Live] = {}
    if not keys:
        progress("recheck", 0, 0)
        return live, "nothing to re-check"
    lock = threading.Lock()
    halt = threading.Event()
    done = [0]

    def record(found: dict[str, _Live], checked: int) -> None:
        with lock:
            if halt.is_set():
                return
            live.update(found)
            done[0] += checked
            progress("recheck", done[0], len(keys))

    def look_up(key: str) -> None:
        try:
            info = driver.head(bucket, key)
        except NotFound as exc:
            if exc.code == "NoSuchBucket":
                raise
            record({}, 1)
            return
        record({key: _Live(info.size, info.last_modified, info.etag)}, 1)

    def list_again(folder: str, inside: set[str]) -> None:
        found: dict[str, _Live] = {}
        for page in iter_pages(driver, bucket, folder, delimiter="/"):
            if halt.is_set():
                return
            for e in page.entries:
                if not e.is_prefix and e.key in inside:
                    found[e.key] = _Live(e.size, e.last_modified, e.etag)
        record(found, len(inside))

    tasks: list[Callable[[], None]] = [partial(look_up, key) for key in lookups]
    tasks += [partial(list_again, folder, inside) for folder, inside in listings.items()]
    _run(tasks, workers, halt, cancel)
    return live, how


def _run(
    tasks: list[Callable[[], None]],
    workers: int,
    halt: threading.Event,
    cancel: threading.Event | None,
) -> None:
    """Run ``tasks`` on ``workers`` daemon threads pulling from one queue; the first
    failure, or ``cancel``, stops the rest and returns at once (PlanCancelled on cancel)."""
    if not tasks:
        return
    lock = threading.Lock()
    queue = iter(tasks)
    failures: list[BaseException] = []
    finished = threading.Event()
    running = [min(max(1, workers), len(tasks))]

    def worker() -> None:
        try:
            while not halt.is_set():
                with lock:
                    task = next(queue, None)
                if task is None:
                    return
                task()
        except BaseException as exc:
            with lock:
                failures.append(exc)
            halt.set()
        finally:
            with lock:
                running[0] -= 1
                if running[0] == 0:
                    finished.set()

    with DaemonPool(running[0], name="pail-inventory-recheck") as pool:
        for _ in range(running[0]):
            pool.submit(worker)
        try:
            while not finished.wait(0.1):
                if cancel is not None and cancel.is_set():
                    halt.set()
                    raise PlanCancelled("planning cancelled")
                if failures:
                    break
        except BaseException:
            halt.set()  # Ctrl-C too: nothing more is asked of the store
            raise
    halt.set()
    if failures:
        raise failures[0]
    if cancel is not None and cancel.is_set():
        raise PlanCancelled("planning cancelled")


def _second(when: datetime | None) -> datetime | None:
    return when.astimezone(timezone.utc).replace(microsecond=0) if when is not None else None


def _bare(etag: str | None) -> str | None:
    return etag.strip('"') if etag is not None else None


def _when(when: datetime) -> str:
    return f"{when.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _differences(listed: Entry, live: _Live, created: datetime) -> str:
    """Why the live object is not the one the report lists (``""``: it is)."""
    why: list[str] = []
    then, now = _second(listed.last_modified), _second(live.last_modified)
    if then is None or listed.size is None:
        why.append("the report lists no size or last-modified time for it: not provable")
    elif now is None:
        why.append("the store gave no last-modified time: not provable")
    elif now != then:
        after = "after the report" if now > created else "not when the report says"
        why.append(f"modified {_when(now)}, {after}")
    if listed.size is not None and live.size != listed.size:
        why.append("size differs")
    if listed.etag and _bare(live.etag) != _bare(listed.etag):
        why.append("ETag differs")
    return "; ".join(why)


def _hold_changed_runs(
    runs: RunSet, kept: list[PlannedKey], changed: dict[str, str]
) -> list[PlannedKey]:
    """Keep whole every run one of whose planned objects changed since the report."""
    index = RunIndex(runs.runs)
    touched = {}
    for key in changed:
        owner = index.prefix_owner(key)
        if owner is not None:
            touched[owner.id] = owner.name or owner.id
    if not touched:
        return kept
    still: list[PlannedKey] = []
    for item in kept:
        owner = index.prefix_owner(item.key)
        if owner is not None and owner.id in touched:
            changed[item.key] = f"run {touched[owner.id]} changed since the report: left whole"
        else:
            still.append(item)
    return still


def _per_run(runs: RunSet | None, items: list[PlannedKey]) -> dict[str, RunPlanned]:
    if runs is None:
        return {}
    index = RunIndex(runs.runs)
    out: dict[str, RunPlanned] = {}
    for item in items:
        owner = index.prefix_owner(item.key)
        if owner is not None:
            done = out.get(owner.id, RunPlanned())
            out[owner.id] = RunPlanned(done.objects + 1, done.bytes + item.size)
    return out


# -- step 4: the lifecycle offer -------------------------------------------------------------


def _offer_lifecycle(
    result: InventoryPlan, provider: str, base: str, filters: StaleFilters
) -> None:
    if provider not in ("s3", "gcs"):
        result.lifecycle_refused = [f"a {provider} store has no lifecycle rules"]
        return
    try:
        export = build_rules(provider, base, filters)
    except NotExpressible as exc:
        result.lifecycle_refused = list(exc.reasons)
        return
    result.lifecycle = export.rules
    result.lifecycle_notes = list(export.notes)
