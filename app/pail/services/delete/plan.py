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
* "Keep the newest N runs": a run is a child prefix of the selection's ``base``; runs are
  ordered by their newest object's ``last_modified`` (ties: by name); the N newest runs
  *among those in the selection* are kept whole (with fewer than N runs, every run is
  kept). Objects directly at ``base`` belong to no run and are not protected by it (the
  plan counts them in :attr:`DeletePlan.outside_runs`). When the selection has objects but
  no run at all (ZenML's ``logs/`` holds only loose ``.log`` files), keeping N runs would
  keep nothing: planning refuses with :class:`NoRunsToKeep` rather than plan to empty it.
* Version ids are carried only when the caller gives them (an Entry from a versions
  listing): a key planned from a plain listing deletes the current version (on a
  versioned S3 bucket that adds a delete marker; nothing is permanently removed).

Sizes are bytes, times UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from pail.drivers.base import Entry, StorageDriver
from pail.drivers.errors import NotFound
from pail.services.delete.filters import StaleFilters
from pail.services.walk import DEFAULT_WORKERS, WalkCancelled, walk_objects

#: Above this many objects the confirmation asks for the bucket name to be typed.
DEFAULT_CONFIRM_THRESHOLD = 1000


class PlanCancelled(Exception):
    """Planning stopped because the caller set its cancel event (no plan is returned, so a
    partial listing can never be executed as if it were complete)."""


class NoRunsToKeep(ValueError):
    """ "Keep the newest N runs" was asked where there are no runs: the selection under
    ``base`` has objects but no child prefix, so nothing would be kept. No plan is
    returned. ``base`` is the prefix (``""``: the bucket root), ``keep_last`` the N asked.
    """

    def __init__(self, base: str, keep_last: int, where: str | None = None) -> None:
        self.base = base
        self.keep_last = keep_last
        super().__init__(self.explain(where))

    def explain(self, where: str | None = None, option: str = "--keep-last") -> str:
        """One plain line; ``where`` names the base (default: the prefix itself or "the
        bucket root"), ``option`` names the setting (the app says "keep newest runs")."""
        name = where or (self.base or "the bucket root")
        return (
            f"{option} counts runs, the child prefixes of {name}; {name} has none, so "
            "nothing would be kept: refusing"
        )


@dataclass(frozen=True)
class PlannedKey:
    """One object to delete: ``key``, ``size`` (bytes), ``last_modified`` (UTC) and the
    ``version_id`` to delete (``None`` = the current version)."""

    key: str
    size: int = 0
    last_modified: datetime | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class RunInfo:
    """A run (child prefix of the base) seen while planning: ``prefix``, its ``newest``
    object time (UTC) and ``objects`` count."""

    prefix: str
    newest: datetime | None
    objects: int


@dataclass
class DeletePlan:
    """Exactly what a delete will do.

    Attributes:
        provider, bucket: the store. base: the prefix the selection was made from (filters
            match keys relative to it; runs are its child prefixes).
        items: the objects to delete, in listing order, each once.
        whole_prefixes: selected prefixes that the plan empties completely.
        kept_runs: runs kept by ``keep_last`` (newest first).
        outside_runs: planned objects directly at ``base`` when ``keep_last`` is given
            (they belong to no run, so keeping runs does not protect them).
        examined: objects listed or looked up while planning.
        missing: marked keys that no longer exist (nothing to delete).
        filters: the filters applied.
    """

    provider: str
    bucket: str
    base: str = ""
    items: list[PlannedKey] = field(default_factory=list)
    whole_prefixes: list[str] = field(default_factory=list)
    kept_runs: list[RunInfo] = field(default_factory=list)
    outside_runs: int = 0
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
        filters: stale filters; ``None`` selects everything given.
        cancel: set it to stop; :class:`PlanCancelled` is raised.
        on_listed: called with the running count of objects examined, per page (from
            a worker thread).
        workers: child prefixes of each prefix listed at once (:mod:`pail.services.walk`).

    Raises:
        StorageError: a listing or lookup failed (NotFound for a missing bucket...).
        PlanCancelled: ``cancel`` was set.
        NoRunsToKeep: ``filters.keep_last`` is 1 or more and the selection has objects but
            no run (child prefix of ``base``) to keep.
    """
    filters = filters or StaleFilters()
    plan = DeletePlan(driver.provider, bucket, base=base, filters=filters)
    cutoff = filters.cutoff(datetime.now(timezone.utc))
    seen: set[tuple[str, str | None]] = set()
    candidates: list[tuple[Entry, str | None]] = []  # (entry, selected prefix or None)
    listed_per_prefix: dict[str, int] = {}

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise PlanCancelled("planning cancelled")

    def listed(n: int) -> None:
        plan.examined += n
        if on_listed is not None:
            on_listed(plan.examined)

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
    kept = _kept_runs(base, [entry for entry, _ in candidates], filters.keep_last)
    if filters.keep_last and candidates and not kept:
        # No run at all: "keep the newest N" would keep nothing and delete everything.
        raise NoRunsToKeep(base, filters.keep_last)
    plan.kept_runs = kept
    kept_prefixes = {run.prefix for run in kept}
    planned_per_prefix: dict[str, int] = dict.fromkeys(listed_per_prefix, 0)
    for entry, selected in candidates:
        ident = (entry.key, entry.version_id)
        if ident in seen:
            continue
        if first_level(base, entry.key) in kept_prefixes and entry.key.startswith(base):
            continue
        rel = entry.key[len(base) :] if entry.key.startswith(base) else entry.key
        if not filters.matches(entry, rel, cutoff):
            continue
        seen.add(ident)
        plan.items.append(
            PlannedKey(entry.key, entry.size or 0, entry.last_modified, entry.version_id)
        )
        if selected is not None:
            planned_per_prefix[selected] += 1
        if filters.keep_last and first_level(base, entry.key) == base:
            plan.outside_runs += 1
    plan.whole_prefixes = [
        p for p, n in listed_per_prefix.items() if n and planned_per_prefix.get(p) == n
    ]
    return plan


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


def _kept_runs(base: str, entries: list[Entry], keep_last: int | None) -> list[RunInfo]:
    """The ``keep_last`` newest runs among the child prefixes of ``base`` seen in
    ``entries`` (newest first)."""
    if not keep_last:
        return []
    runs: dict[str, list[datetime | None]] = {}
    for entry in entries:
        run = first_level(base, entry.key)
        if run == base or not entry.key.startswith(base):
            continue  # objects directly at base belong to no run
        runs.setdefault(run, []).append(entry.last_modified)
    infos = []
    for prefix, times in runs.items():
        dated = [t for t in times if t is not None]
        infos.append(RunInfo(prefix, max(dated) if dated else None, len(times)))
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    infos.sort(key=lambda r: (r.newest or epoch, r.prefix), reverse=True)
    return infos[:keep_last]
