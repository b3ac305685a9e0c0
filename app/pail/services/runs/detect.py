"""Run detection: a location -> the runs in it (:class:`~pail.services.runs.model.RunSet`).

Steps (call from a worker thread; it lists and reads):

1. List every object under the location (:func:`pail.services.walk.walk_objects`, child
   prefixes concurrently), at most ``max_objects``: past that, detection stops with
   :class:`TooManyObjects` rather than return a partial set of runs that retention would
   then count wrongly.
2. Offer the objects to each layout in :data:`LAYOUTS` order (keys only, no reads). A layout
   claims its runs' prefixes (and exact keys, ``Run.keys``); keys it claimed are not
   offered to the next one. Objects no layout claimed are ``RunSet.loose``.
3. Count each run's objects, bytes, oldest and newest object (its start/end unless the
   tool's metadata says better).
4. Read each run's metadata files concurrently (``load``), each at most
   ``max_metadata_bytes``: params, metrics, status.
5. With a tracking server (:mod:`pail.services.runs.tracking`), merge its names, statuses,
   params, metrics and registered-model protection into the MLflow runs it knows.

Nothing here imports the UI; the app and ``pail runs`` call :func:`detect_runs`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pail.core.units import plural
from pail.core.uri import format_uri
from pail.drivers.base import Entry, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.jobs import DaemonPool
from pail.services.runs.layouts import LAYOUTS
from pail.services.runs.layouts.base import LayoutReader, MetadataTooLarge, Settles
from pail.services.runs.model import LAYOUT_NAMES, NoRunsFound, Run, RunIndex, RunSet, key_folders
from pail.services.walk import WalkCancelled, walk_objects

if TYPE_CHECKING:
    from pail.services.runs.tracking import TrackingServer

#: Objects listed at most before detection gives up (a bigger location is sized with the
#: inventory, issue 15, or narrowed to one experiment).
DEFAULT_MAX_OBJECTS = 500_000
#: Bytes read at most from one metadata file (metrics.csv, trainer_state.json, ...).
DEFAULT_MAX_METADATA_BYTES = 16 * 1024 * 1024
#: Metadata files read at once.
DEFAULT_READERS = 8
#: Metadata files up to this many bytes are kept for the rest of a detection.
_CACHED_BYTES = 4096


class TooManyObjects(Exception):
    """More than ``limit`` objects under the location: detection stopped (no RunSet)."""

    def __init__(self, where: str, limit: int) -> None:
        self.where, self.limit = where, limit
        super().__init__(
            f"{where} holds more than {limit:,} objects; detect runs on one experiment "
            "folder below it"
        )


class DetectCancelled(Exception):
    """The caller's cancel event was set; no RunSet is returned."""


def detect_runs(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    details: bool = True,
    tracking: TrackingServer | None = None,
    cancel: threading.Event | None = None,
    on_listed: Callable[[int], None] | None = None,
    max_objects: int = DEFAULT_MAX_OBJECTS,
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    readers: int = DEFAULT_READERS,
) -> RunSet:
    """The runs under ``bucket``/``prefix`` (``prefix`` ``""`` or ending in ``/``).

    Args:
        details: read each run's metadata files (params, metrics, status); without it only
            the listing is used (ids, names, counts, sizes, times).
        tracking: a tracking server whose runs are merged in (MLflow layout only).
        cancel: set it to stop (:class:`DetectCancelled`).
        on_listed: called with the running count of objects listed (any thread).
        max_objects: :class:`TooManyObjects` above this many objects.

    Returns:
        A RunSet; ``layout`` is ``None`` and ``runs`` empty when nothing was recognised
        (use :func:`require_runs` where runs are needed).

    Raises:
        StorageError: the listing failed (a metadata read that fails is a warning).
        TooManyObjects, DetectCancelled.
    """
    prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    where = location_uri(driver, bucket, prefix)
    listed = 0
    stop = threading.Event()

    def counted(n: int) -> None:
        nonlocal listed
        listed += n
        if listed > max_objects:
            stop.set()
        if on_listed is not None:
            on_listed(listed)

    watch = _either(cancel, stop)
    try:
        objects = walk_objects(driver, bucket, prefix, cancel=watch, on_page=counted)
    except WalkCancelled:
        if stop.is_set() and not (cancel is not None and cancel.is_set()):
            raise TooManyObjects(where, max_objects) from None
        raise DetectCancelled("detection cancelled") from None
    finally:
        watch.set()  # ends the watcher thread
    return runs_with_details(
        driver,
        bucket,
        prefix,
        objects,
        details=details,
        tracking=tracking,
        cancel=cancel,
        max_metadata_bytes=max_metadata_bytes,
        readers=readers,
    )


def runs_with_details(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    objects: Sequence[Entry],
    *,
    details: bool = True,
    tracking: TrackingServer | None = None,
    cancel: threading.Event | None = None,
    max_metadata_bytes: int = DEFAULT_MAX_METADATA_BYTES,
    readers: int = DEFAULT_READERS,
) -> RunSet:
    """Detection's steps after the listing, on ``objects`` however they were listed (a
    live walk, or an inventory report's rows): layouts matched, runs counted, each run's
    metadata files read live by range (``details``), the tracking server merged, runs
    newest first. Arguments and the returned RunSet as :func:`detect_runs`; entries that
    are prefixes or outside ``prefix`` are ignored.

    Raises:
        DetectCancelled: ``cancel`` was set while metadata was read.
    """
    objects = [e for e in objects if not e.is_prefix and e.key.startswith(prefix)]
    result = runs_from_objects(driver.provider, bucket, prefix, objects)
    result.where = location_uri(driver, bucket, prefix)
    if details and result.runs:
        sizes = {e.key: e.size or 0 for e in objects}  # a file too large is not even read
        _load_details(driver, bucket, result, max_metadata_bytes, readers, cancel, sizes)
    if tracking is not None and result.runs:
        tracking.merge(result)
    result.runs.sort(key=_newest_first)
    return result


def runs_from_objects(provider: str, bucket: str, prefix: str, objects: Sequence[Entry]) -> RunSet:
    """Steps 2 and 3 of detection on an object listing already made (no I/O): the runs
    each layout recognises, with counts, sizes and times; params and metrics empty."""
    result = RunSet(provider, bucket, prefix, examined=len(objects))
    claimed: set[str] = set()
    claimed_keys: set[str] = set()
    remaining: list[Entry] = list(objects)
    evidence: list[str] = []
    counts: dict[str, int] = {}
    for layout in LAYOUTS:
        if not remaining:
            break
        found = layout.find(prefix, remaining)
        if found is None or not found.runs:
            continue
        evidence.append(found.evidence)
        for run in found.runs:
            run.layout = layout.name
            result.runs.append(run)
            claimed.update(run.prefixes)
            claimed_keys.update(run.keys)
        _count(found.runs, remaining)
        counts[layout.name] = counts.get(layout.name, 0) + len(found.runs)
        remaining = [
            e for e in remaining if e.key not in claimed_keys and not _under_any(e.key, claimed)
        ]
    result.loose = len(remaining)
    if counts:
        result.layout = max(counts, key=lambda name: counts[name])
        result.evidence = "; ".join(e for e in evidence if e)
    else:
        result.evidence = (
            f"{plural(len(objects), 'object')}, none in a layout pail knows"
            if objects
            else "no objects"
        )
    result.runs.sort(key=_newest_first)
    return result


def require_runs(result: RunSet) -> RunSet:
    """``result`` when it has runs, else raise :class:`NoRunsFound` (every run-based
    action calls this: nothing is guessed)."""
    if not result.runs:
        where = result.where or format_uri(result.provider, result.bucket, result.prefix)
        raise NoRunsFound(where, result.evidence)
    return result


def location_uri(driver: StorageDriver, bucket: str, prefix: str) -> str:
    """``bucket``/``prefix`` of ``driver`` as a URI for messages; a local folder is named by
    its path (``file:///data/logs/lightning_logs/``)."""
    root = None
    if driver.provider == "local":
        base = getattr(driver, "root", None)
        if isinstance(base, str):
            root = base if getattr(driver, "single_bucket", False) else os.path.join(base, bucket)
    return format_uri(driver.provider, bucket, prefix, root)


def layout_title(result: RunSet) -> str:
    """``"MLflow / FastTrackML"``, ``"PyTorch Lightning + ZenML"``, or ``"no runs"``."""
    names = dict.fromkeys(run.layout for run in result.runs)
    return " + ".join(LAYOUT_NAMES.get(n, n) for n in names) or "no runs"


def _count(runs: Sequence[Run], objects: Sequence[Entry]) -> None:
    """Each run's objects, bytes, oldest and newest object among ``objects``; an object
    counts for every run owning it (:class:`RunIndex`)."""
    index = RunIndex(runs)
    tally: dict[int, list[Any]] = {id(run): [0, 0, None, None] for run in runs}
    for entry in objects:
        for run in index.owners(entry.key):
            counts = tally[id(run)]
            counts[0] += 1
            counts[1] += entry.size or 0
            when = entry.last_modified
            if when is not None:
                counts[2] = when if counts[2] is None or when < counts[2] else counts[2]
                counts[3] = when if counts[3] is None or when > counts[3] else counts[3]
    for run in runs:
        n, size, oldest, newest = tally[id(run)]
        run.objects, run.bytes = n, size
        run.start = run.start or oldest
        run.end = run.end or newest


def _under_any(key: str, prefixes: set[str]) -> bool:
    return any(folder in prefixes for folder in key_folders(key))


_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


def _newest_first(run: Run) -> tuple[datetime, str]:
    return (_inverted(run.start or run.end or _EPOCH), run.id)


def _inverted(when: datetime) -> datetime:
    # Sort newest first with an ascending key: mirror the time around the epoch's far end.
    return datetime.max.replace(tzinfo=timezone.utc) - (when - _EPOCH)


def _load_details(
    driver: StorageDriver,
    bucket: str,
    result: RunSet,
    limit: int,
    readers: int,
    cancel: threading.Event | None,
    sizes: dict[str, int],
) -> None:
    # Small files several runs read (an MLflow experiment's meta.yaml) are fetched once.
    small: dict[str, str] = {}

    def read(key: str) -> str:
        cached = small.get(key)
        if cached is not None:
            return cached
        known = sizes.get(key)
        if known is not None and known > limit:
            raise MetadataTooLarge(key, known, limit)
        data = driver.read_range(bucket, key, 0, limit + 1)
        if len(data) > limit:
            raise MetadataTooLarge(key, len(data), limit)
        text = data.decode("utf-8", "replace")
        if len(data) <= _CACHED_BYTES:
            small[key] = text
        return text

    layouts: dict[str, LayoutReader] = {layout.name: layout for layout in LAYOUTS}
    futures: list[tuple[Run, Future[list[str]]]] = []
    with DaemonPool(readers, name="pail-runs") as pool:
        for run in result.runs:
            if cancel is not None and cancel.is_set():
                raise DetectCancelled("detection cancelled")
            futures.append((run, pool.submit(layouts[run.layout].load, run, read)))
        for run, future in futures:
            try:
                result.warnings.extend(future.result())
            except (StorageError, MetadataTooLarge) as exc:
                result.warnings.append(f"{run.name}: metadata not read: {exc}")
    for name, layout in layouts.items():
        if isinstance(layout, Settles):
            layout.settle([run for run in result.runs if run.layout == name])


def _either(cancel: threading.Event | None, stop: threading.Event) -> threading.Event:
    """An event set when ``cancel`` or ``stop`` is (walk_objects takes one event)."""
    if cancel is None:
        return stop
    both = threading.Event()

    def watch() -> None:
        while not both.is_set():
            if cancel.wait(0.05) or stop.is_set():
                both.set()

    threading.Thread(target=watch, name="pail-runs-watch", daemon=True).start()
    return both
