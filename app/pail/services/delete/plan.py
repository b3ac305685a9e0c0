"""Planning a delete: marked keys and prefixes + stale filters -> the exact list of keys.

Nothing is deleted here. A plan is what the review screen and ``pail rm`` show (count,
bytes, oldest/newest, prefixes affected) and what :class:`pail.services.delete.engine.Deleter`
executes, key by key: whatever is not in the plan is never deleted.

Safety rules, enforced here:

* Prefix boundaries are exact: a prefix always ends in ``/`` (``runs/run-1`` becomes
  ``runs/run-1/``), so ``runs/run-1/`` never matches ``runs/run-10/`` nor the object
  ``runs/run-1``; every listed key is checked to start with the prefix.
* The prefix ``""`` means every object in the bucket, never the bucket itself (nothing in
  pail calls DeleteBucket).
* Retention by runs (:attr:`StaleFilters.retention`: keep the last N, the best N by a
  metric, runs tagged or named as kept): the runs are *detected* under ``base``
  (:func:`pail.services.runs.detect.detect_runs`, or the RunSet / callable the caller
  passes), never guessed from folder names. Only objects of the runs the rules delete
  are planned (still narrowed by the per-object filters); objects of kept runs and
  objects in no run ("loose": ZenML's ``logs/``, a README beside the runs) are never
  planned, only counted (:attr:`DeletePlan.outside_runs`). The runs counted are those the
  selection reaches (a marked key or prefix holds some of their objects). When nothing
  under ``base`` is recognised as runs, planning refuses with
  :class:`~pail.services.runs.model.NoRunsFound` rather than plan by guesswork. With a
  tracking server, runs behind a registered model version are kept (``Run.protected``);
  when its registry cannot be read, planning refuses
  (:class:`~pail.services.runs.retention.RegistryUnread`).
* Version ids are carried only when the caller gives them (an Entry from a versions
  listing): a key planned from a plain listing deletes the current version (on a
  versioned S3 bucket that adds a delete marker; nothing is permanently removed).

Sizes are bytes, times UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pail.drivers.base import Entry, StorageDriver
from pail.drivers.errors import NotFound
from pail.services.delete.filters import StaleFilters
from pail.services.runs.detect import (
    DetectCancelled,
    detect_runs,
    location_uri,
    runs_with_details,
)
from pail.services.runs.layouts.base import RUN_ID
from pail.services.runs.model import NoRunsFound, Run, RunIndex, RunSet
from pail.services.runs.retention import (
    RegistryUnread,
    RetentionDecision,
    RunVerdict,
    plan_retention,
)
from pail.services.runs.tracking import TrackingError
from pail.services.walk import (
    DEFAULT_WORKERS,
    WalkCancelled,
    WalkVisitor,
    walk_objects,
    walk_prefix,
)

if TYPE_CHECKING:
    from pail.services.runs.tracking import TrackingServer

#: Above this many objects the confirmation asks for the bucket name to be typed.
DEFAULT_CONFIRM_THRESHOLD = 1000


class PlanCancelled(Exception):
    """Planning stopped because the caller set its cancel event (no plan is returned, so a
    partial listing can never be executed as if it were complete)."""


#: Where the planner gets the runs under ``base``: a RunSet already detected, or a
#: callable that detects them (called from the planner's thread; it may raise
#: :class:`~pail.services.runs.detect.DetectCancelled`, TooManyObjects, StorageError).
RunsSource = RunSet | Callable[[], RunSet]


@dataclass(frozen=True)
class PlannedKey:
    """One object to delete: ``key``, ``size`` (bytes), ``last_modified`` (UTC) and the
    ``version_id`` to delete (``None`` = the current version)."""

    key: str
    size: int = 0
    last_modified: datetime | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class RunPlanned:
    """What the plan deletes of one run: ``objects`` and ``bytes`` planned (fewer than the
    run holds when per-object filters narrow it)."""

    objects: int = 0
    bytes: int = 0


@dataclass
class DeletePlan:
    """Exactly what a delete will do.

    Attributes:
        provider, bucket: the store. base: the prefix the selection was made from (filters
            match keys relative to it; runs are detected under it).
        items: the objects to delete, in listing order, each once.
        whole_prefixes: selected prefixes that the plan empties completely.
        retention: with run rules, the verdict on every run the selection reaches (kept
            or deleted, and why); ``None`` without run rules.
        runs: with run rules, the runs detected under ``base`` (layout, evidence,
            warnings); ``None`` without.
        run_items: with run rules, what is planned of each deleted run (run id ->
            :class:`RunPlanned`).
        outside_runs: with run rules, objects of the selection that belong to no run
            (never planned by a run rule).
        kept_objects: with run rules, objects of the selection in kept runs (not planned).
        examined: objects listed or looked up while planning (detection's listing is
            not counted).
        missing: marked keys that no longer exist (nothing to delete).
        filters: the filters applied.
    """

    provider: str
    bucket: str
    base: str = ""
    items: list[PlannedKey] = field(default_factory=list)
    whole_prefixes: list[str] = field(default_factory=list)
    retention: RetentionDecision | None = None
    runs: RunSet | None = None
    run_items: dict[str, RunPlanned] = field(default_factory=dict)
    outside_runs: int = 0
    kept_objects: int = 0
    examined: int = 0
    missing: list[str] = field(default_factory=list)
    filters: StaleFilters = field(default_factory=StaleFilters)

    @property
    def count(self) -> int:
        """Objects to delete."""
        return len(self.items)

    @property
    def total_bytes(self) -> int:
        """Their total size in bytes."""
        return sum(item.size for item in self.items)

    @property
    def oldest(self) -> datetime | None:
        """Earliest last_modified among them (UTC)."""
        times = [i.last_modified for i in self.items if i.last_modified is not None]
        return min(times) if times else None

    @property
    def newest(self) -> datetime | None:
        """Latest last_modified among them (UTC)."""
        times = [i.last_modified for i in self.items if i.last_modified is not None]
        return max(times) if times else None

    @property
    def prefixes(self) -> list[str]:
        """The distinct first-level prefixes under ``base`` that lose objects, sorted
        (``base`` itself stands for objects directly at it)."""
        found = {first_level(self.base, item.key) for item in self.items}
        return sorted(found)

    @property
    def kept_runs(self) -> list[RunVerdict]:
        """Verdicts of the runs kept by the run rules (newest first); empty without."""
        return self.retention.kept if self.retention is not None else []

    @property
    def deleted_runs(self) -> list[RunVerdict]:
        """Verdicts of the runs the run rules delete (newest first); empty without."""
        return self.retention.deleted if self.retention is not None else []

    @property
    def includes_whole_prefix(self) -> bool:
        """True when a selected prefix is emptied completely."""
        return bool(self.whole_prefixes)

    def needs_typed_confirmation(self, threshold: int = DEFAULT_CONFIRM_THRESHOLD) -> bool:
        """True when more than ``threshold`` objects go, or any whole prefix: then the user
        must type the bucket name rather than answer y."""
        return self.count > threshold or self.includes_whole_prefix


def first_level(base: str, key: str) -> str:
    """``base`` + the first segment of ``key`` below it, with its slash
    (``("runs/", "runs/run-1/a/b")`` -> ``"runs/run-1/"``); ``base`` for a key directly at
    it, and the key's own folder for a key outside ``base``."""
    if not key.startswith(base):
        return key.rpartition("/")[0] + "/" if "/" in key else ""
    head, slash, _ = key[len(base) :].partition("/")
    return base + head + "/" if slash else base


def normalize_prefix(prefix: str) -> str:
    """``""`` stays ``""`` (the whole bucket); anything else ends in exactly one ``/``."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def build_plan(
    driver: StorageDriver,
    bucket: str,
    *,
    base: str = "",
    prefixes: Iterable[str] = (),
    keys: Iterable[Entry | str] = (),
    filters: StaleFilters | None = None,
    runs: RunsSource | None = None,
    tracking: TrackingServer | None = None,
    cancel: threading.Event | None = None,
    on_listed: Callable[[int], None] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> DeletePlan:
    """Plan the deletion of ``keys`` and of everything under ``prefixes``, narrowed by
    ``filters``. Lists every object under each prefix before returning (child prefixes
    concurrently, :func:`pail.services.walk.walk_objects`): call it from a worker.

    Args:
        base: the prefix the selection was made from (``""`` = bucket root).
        prefixes: prefixes selected whole (see :func:`normalize_prefix`).
        keys: marked objects: listing entries (size and time known) or bare keys (looked
            up with ``head``; a missing one goes to :attr:`DeletePlan.missing`).
        filters: stale filters; ``None`` selects everything given. With run rules
            (:attr:`StaleFilters.retention`) only objects of the runs they delete are
            planned.
        runs: the runs under ``base`` for the run rules (:data:`RunsSource`); default:
            detected with :func:`detect_for_retention` (metadata read, ``tracking``
            merged). Not used without run rules, nor when the selection is empty.
        tracking: the tracking server for the default detection (names, statuses,
            metrics, and the registered model versions that protect their runs).
        cancel: set it to stop; :class:`PlanCancelled` is raised.
        on_listed: called with the running count of objects examined, per page (from
            a worker thread); with run rules, detection's listing adds to the count.
        workers: child prefixes of each prefix listed at once (:mod:`pail.services.walk`).

    Raises:
        StorageError: a listing or lookup failed (NotFound for a missing bucket...).
        PlanCancelled: ``cancel`` was set.
        NoRunsFound: run rules are given, the selection has objects, and nothing under
            ``base`` is recognised as runs.
        RetentionError: the run rules cannot be applied to these runs
            (:class:`~pail.services.runs.retention.MetricNotLogged`; RegistryUnread: the
            tracking server's registered model versions could not be read).
        TooManyObjects: detection gave up (see :mod:`pail.services.runs.detect`).
    """
    filters = filters or StaleFilters()
    rules = filters.retention
    plan = DeletePlan(driver.provider, bucket, base=base, filters=filters)
    cutoff = filters.cutoff(datetime.now(timezone.utc))
    seen: set[tuple[str, str | None]] = set()
    candidates: list[tuple[Entry, str | None]] = []  # (entry, selected prefix or None)
    listed_per_prefix: dict[str, int] = {}
    detected = 0  # objects detection listed, reported before the plan's own count

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise PlanCancelled("planning cancelled")

    def listed(n: int) -> None:
        plan.examined += n
        if on_listed is not None:
            on_listed(detected + plan.examined)

    for raw in dict.fromkeys(prefixes):
        prefix = normalize_prefix(raw)
        listed_per_prefix.setdefault(prefix, 0)
        try:
            found = walk_objects(
                driver, bucket, prefix, workers=workers, cancel=cancel, on_page=listed
            )
        except WalkCancelled:
            raise PlanCancelled("planning cancelled") from None
        for listed_entry in found:
            # exact boundary, whatever the store returned
            if listed_entry.key.startswith(prefix):
                listed_per_prefix[prefix] += 1
                candidates.append((listed_entry, prefix))
    for item in keys:
        check_cancel()
        looked_up = _entry_for(driver, bucket, item, plan)
        if looked_up is not None:
            plan.examined += 1
            candidates.append((looked_up, None))
    owners = RunIndex(())
    if rules is not None and candidates:
        if runs is None:

            def counted(n: int) -> None:
                nonlocal detected
                detected = n
                if on_listed is not None:
                    on_listed(detected + plan.examined)

            def detect() -> RunSet:
                return detect_for_retention(
                    driver, bucket, base, tracking=tracking, cancel=cancel, on_listed=counted
                )

            runs = detect
        try:
            runset = runs if isinstance(runs, RunSet) else runs()
        except DetectCancelled:
            raise PlanCancelled("planning cancelled") from None
        check_cancel()
        if not runset.runs:
            where = runset.where or location_uri(driver, bucket, normalize_prefix(base))
            raise NoRunsFound(where, runset.evidence)
        owners = RunIndex(runset.runs)
        reached = {
            id(run): run for entry, _ in candidates if (run := owners.prefix_owner(entry.key))
        }
        selected = [run for run in runset.runs if id(run) in reached]
        plan.runs = runset
        plan.retention = plan_retention(replace(runset, runs=selected), rules)
    deleted_runs = {v.run.id for v in plan.deleted_runs}
    planned_per_prefix: dict[str, int] = dict.fromkeys(listed_per_prefix, 0)
    for entry, selected_prefix in candidates:
        ident = (entry.key, entry.version_id)
        if ident in seen:
            continue
        owner: Run | None = None
        if rules is not None:
            owner = owners.prefix_owner(entry.key)
            if owner is None or owner.id not in deleted_runs:
                seen.add(ident)  # counted once, never planned
                if owner is None:
                    plan.outside_runs += 1
                else:
                    plan.kept_objects += 1
                continue
        planned = planned_key(entry, base, filters, cutoff)
        if planned is None:
            continue
        seen.add(ident)
        plan.items.append(planned)
        if owner is not None:
            done = plan.run_items.get(owner.id, RunPlanned())
            plan.run_items[owner.id] = RunPlanned(done.objects + 1, done.bytes + (entry.size or 0))
        if selected_prefix is not None:
            planned_per_prefix[selected_prefix] += 1
    plan.whole_prefixes = [
        p for p, n in listed_per_prefix.items() if n and planned_per_prefix.get(p) == n
    ]
    return plan


def planned_key(
    entry: Entry, base: str, filters: StaleFilters, cutoff: datetime | None
) -> PlannedKey | None:
    """``entry`` as a :class:`PlannedKey` when ``filters`` select it (matched on its key
    relative to ``base``; ``cutoff`` from :meth:`StaleFilters.cutoff`), else ``None``.
    The one per-object rule of both planners (run rules aside)."""
    rel = entry.key[len(base) :] if entry.key.startswith(base) else entry.key
    if not filters.matches(entry, rel, cutoff):
        return None
    return PlannedKey(entry.key, entry.size or 0, entry.last_modified, entry.version_id)


class _Streamed(WalkVisitor):
    """:func:`stream_plan`'s visitor: each page's selected objects go to ``add`` at once.
    The walk calls it from one thread at a time."""

    def __init__(
        self,
        plan: DeletePlan,
        prefix: str,
        seen: set[tuple[str, str | None]] | None,
        cutoff: datetime | None,
        add: Callable[[list[PlannedKey]], None],
        on_listed: Callable[[int], None] | None,
    ) -> None:
        self.plan, self.prefix, self.seen, self.cutoff = plan, prefix, seen, cutoff
        self.add, self.on_listed = add, on_listed
        self.listed = 0  # objects inside the prefix
        self.planned = 0  # of them, planned under this prefix

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        chosen: list[PlannedKey] = []
        for entry in entries:
            if not entry.key.startswith(self.prefix):  # exact boundary (the walk checks too)
                continue
            self.listed += 1
            ident = (entry.key, entry.version_id)
            if self.seen is not None and ident in self.seen:
                continue
            planned = planned_key(entry, self.plan.base, self.plan.filters, self.cutoff)
            if planned is None:
                continue
            if self.seen is not None:
                self.seen.add(ident)
            chosen.append(planned)
        self.planned += len(chosen)
        self.plan.examined += len(entries)
        if self.on_listed is not None:
            self.on_listed(self.plan.examined)
        if chosen:
            self.add(chosen)


def stream_plan(
    driver: StorageDriver,
    bucket: str,
    add: Callable[[list[PlannedKey]], None],
    *,
    base: str = "",
    prefixes: Iterable[str] = (),
    filters: StaleFilters | None = None,
    cancel: threading.Event | None = None,
    on_listed: Callable[[int], None] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> DeletePlan:
    """Plan as :func:`build_plan` does for ``prefixes`` (same boundaries, filters and
    de-duplication), but hand each listed page's selected objects to ``add`` as soon as
    the page is in, so a delete whose plan needs no review can start on the first page
    (:func:`pail.services.delete.engine.plan_and_delete`). ``add`` is called from the
    walk's threads, one call at a time, and must return quickly. The keys come in the
    order their pages arrive (child prefixes are listed concurrently), not sorted.

    Without run rules only: whether a run is kept depends on every run under ``base``,
    known only once everything is listed (use :func:`build_plan`, then review).

    Returns:
        The plan without its ``items`` (they went to ``add``): ``examined``,
        ``whole_prefixes``, ``base`` and ``filters`` set.

    Raises:
        ValueError: ``filters`` hold run rules.
        StorageError: a listing failed (pages before it were handed to ``add``).
        PlanCancelled: ``cancel`` was set.
    """
    filters = filters or StaleFilters()
    if filters.retention is not None:
        raise ValueError("run rules need the whole listing first: use build_plan")
    plan = DeletePlan(driver.provider, bucket, base=base, filters=filters)
    cutoff = filters.cutoff(datetime.now(timezone.utc))
    wanted = list(dict.fromkeys(prefixes))
    # One walk lists each key once; only prefixes that may nest need the keys remembered.
    seen: set[tuple[str, str | None]] | None = set() if len(wanted) > 1 else None
    for raw in wanted:
        prefix = normalize_prefix(raw)
        visitor = _Streamed(plan, prefix, seen, cutoff, add, on_listed)
        if not walk_prefix(driver, bucket, prefix, visitor, workers=workers, stop=cancel):
            raise PlanCancelled("planning cancelled")
        if visitor.listed and visitor.planned == visitor.listed:
            plan.whole_prefixes.append(prefix)
    return plan


def detect_for_retention(
    driver: StorageDriver,
    bucket: str,
    base: str,
    *,
    tracking: TrackingServer | None = None,
    cancel: threading.Event | None = None,
    on_listed: Callable[[int], None] | None = None,
    objects: Sequence[Entry] | None = None,
) -> RunSet:
    """The runs under ``base`` as retention needs them: :func:`detect_runs` with the
    metadata read and ``tracking`` merged (on ``objects`` when given, e.g. an inventory
    report's rows, instead of listing ``base``: :func:`runs_with_details`); then, with a
    tracking server and MLflow runs,
    the server's registered model versions read once more and every run behind one
    ``protected`` ("backs registered model NAME version N"). Detection merely warns when
    the server fails; retention refuses, since an unread registry protects nothing.

    Raises:
        RegistryUnread: the registry could not be read.
        StorageError, TooManyObjects, DetectCancelled: from detection.
    """
    if objects is None:
        found = detect_runs(
            driver, bucket, base, tracking=tracking, cancel=cancel, on_listed=on_listed
        )
    else:
        found = runs_with_details(driver, bucket, base, objects, tracking=tracking, cancel=cancel)
    mlflow = [r for r in found.runs if r.layout == "mlflow" and RUN_ID.fullmatch(r.id)]
    if tracking is None or not mlflow:
        return found
    try:
        registered = tracking.registered_runs()
    except TrackingError as exc:
        raise RegistryUnread(str(exc)) from None
    for run in mlflow:
        label = registered.get(run.id)
        if label is None:
            continue
        reason = f"backs registered {label}"
        if reason not in (run.protected or ""):
            run.protected = f"{run.protected}; {reason}" if run.protected else reason
    return found


def _entry_for(
    driver: StorageDriver, bucket: str, item: Entry | str, plan: DeletePlan
) -> Entry | None:
    if isinstance(item, Entry):
        return None if item.is_prefix else item
    try:
        info = driver.head(bucket, item)
    except NotFound:
        plan.missing.append(item)
        return None
    # No version id from HEAD: a plain delete removes the current version only.
    return Entry(info.key, "object", info.size, info.last_modified, info.etag)
