"""Where the bytes are: totals of a prefix and of each child prefix, filled in as the scan goes.

Usage (from a worker thread, or with :meth:`UsageScan.start` from anywhere)::

    scan = UsageScan(driver, "bucket", "runs/")
    scan.start()                      # returns at once; listing runs on daemon threads
    snap = scan.progress()            # UsageSnapshot: keys scanned, per-child partial totals
    scan.cancel()                     # stops after the pages in flight
    final = scan.wait()               # the last snapshot

The scan is a :class:`pail.services.jobs.Job` walking the prefix with
:func:`pail.services.walk.walk_prefix`: the level is listed one page at a time with
``delimiter="/"`` (S3 CommonPrefixes); objects found there are the prefix's *direct*
objects, and every child prefix is listed below (``delimiter=""``) on its own thread, several
at once, which is what makes a bucket with many runs fast to size.

Sizes are bytes; times are UTC. Nothing here imports the UI.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from pail.drivers.base import DEFAULT_PAGE_SIZE, Entry, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.jobs import Job
from pail.services.walk import WalkVisitor, walk_prefix

#: Child prefixes listed at once.
DEFAULT_WORKERS = 8

SortKey = Literal["size", "count", "newest", "oldest", "name"]


@dataclass(frozen=True)
class Totals:
    """Objects and bytes of a set of keys, with the oldest and newest ``last_modified``
    (UTC; ``None`` while no object has been seen)."""

    objects: int = 0
    bytes: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None

    def add(self, entries: Iterable[Entry]) -> Totals:
        """These totals plus the objects among ``entries`` (prefix entries are ignored)."""
        objects, size, oldest, newest = self.objects, self.bytes, self.oldest, self.newest
        for entry in entries:
            if entry.is_prefix:
                continue
            objects += 1
            size += entry.size or 0
            when = entry.last_modified
            if when is not None:
                oldest = when if oldest is None or when < oldest else oldest
                newest = when if newest is None or when > newest else newest
        return Totals(objects, size, oldest, newest)

    def merge(self, other: Totals) -> Totals:
        """The totals of both sets."""
        olds = [t for t in (self.oldest, other.oldest) if t is not None]
        news = [t for t in (self.newest, other.newest) if t is not None]
        return Totals(
            self.objects + other.objects,
            self.bytes + other.bytes,
            min(olds) if olds else None,
            max(news) if news else None,
        )


@dataclass(frozen=True)
class ChildUsage:
    """One child prefix of the scanned prefix.

    Attributes:
        prefix: the child's full key, ending in ``/`` (``"runs/run-1/"``).
        totals: what has been counted below it so far.
        done: its listing finished (totals are final).
        error: the error that stopped its listing, if any (totals are then partial).
    """

    prefix: str
    totals: Totals = Totals()
    done: bool = False
    error: StorageError | None = None

    @property
    def name(self) -> str:
        """Last segment with its slash: ``"runs/run-1/"`` -> ``"run-1/"``."""
        return self.prefix[:-1].rsplit("/", 1)[-1] + "/"


@dataclass(frozen=True)
class UsageSnapshot:
    """A consistent view of a scan at one moment.

    Attributes:
        bucket, prefix: what is scanned (``prefix`` ``""`` = the whole bucket).
        keys_scanned: object keys counted so far.
        total: totals of everything counted so far (direct objects and children).
        direct: totals of the objects directly at ``prefix`` (not below a child prefix).
        children: child prefixes in discovery order (key order); see :func:`sorted_children`.
        level_done: the child prefixes are all known (the level listing finished).
        done: the scan finished (successfully, by error or by cancel).
        cancelled: :meth:`UsageScan.cancel` was called and the scan has finished.
        error: the error that stopped the level listing, if any.
        elapsed: seconds since the scan started.
    """

    bucket: str
    prefix: str
    keys_scanned: int
    total: Totals
    direct: Totals
    children: tuple[ChildUsage, ...]
    level_done: bool
    done: bool
    cancelled: bool
    error: StorageError | None
    elapsed: float

    @property
    def complete(self) -> bool:
        """Finished with every listing successful and not cancelled: the figures are exact."""
        return (
            self.done
            and not self.cancelled
            and self.error is None
            and all(c.done and c.error is None for c in self.children)
        )

    @property
    def errors(self) -> list[StorageError]:
        """Every error met (level first, then children's)."""
        found = [self.error] if self.error else []
        return found + [c.error for c in self.children if c.error is not None]


def sorted_children(
    children: Iterable[ChildUsage], by: SortKey = "size", *, descending: bool = True
) -> list[ChildUsage]:
    """``children`` ordered by ``by``: ``"size"`` (bytes), ``"count"`` (objects), ``"newest"``
    / ``"oldest"`` (last_modified; children without objects sort last), ``"name"`` (key
    order; ascending unless ``descending``). Ties fall back to the prefix, ascending."""
    if by not in ("size", "count", "newest", "oldest", "name"):
        raise ValueError(f"unknown sort key {by!r}: size, count, newest, oldest or name")
    items = sorted(children, key=lambda c: c.prefix)
    if by == "name":
        return items[::-1] if descending else items
    if by in ("newest", "oldest"):
        dated = [c for c in items if getattr(c.totals, by) is not None]
        undated = [c for c in items if getattr(c.totals, by) is None]
        dated.sort(key=lambda c: getattr(c.totals, by), reverse=descending)
        return dated + undated
    field = "bytes" if by == "size" else "objects"
    return sorted(items, key=lambda c: getattr(c.totals, field), reverse=descending)


class _Tally(WalkVisitor):
    """The figures of a scan, added up as the walk reports pages (under ``lock``)."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self.lock = threading.Lock()
        self.children: dict[str, ChildUsage] = {}
        self.direct = Totals()
        self.level_complete = False
        self.error: StorageError | None = None

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        with self.lock:
            if child is None:
                self.direct = self.direct.add(entries)
            else:
                usage = self.children[child]
                self.children[child] = replace(usage, totals=usage.totals.add(entries))

    def child_found(self, child: str) -> None:
        with self.lock:
            self.children[child] = ChildUsage(child)

    def level_done(self) -> None:
        with self.lock:
            self.level_complete = True

    def child_done(self, child: str, complete: bool, error: Exception | None) -> None:
        if error is not None and not isinstance(error, StorageError):
            # never lose a worker's failure silently: it shows on the child's row
            error = StorageError(str(error), operation="du", bucket=self.bucket, key=child)
        with self.lock:
            self.children[child] = replace(self.children[child], done=complete, error=error)


class UsageScan(Job[UsageSnapshot, UsageSnapshot]):
    """Sizes a prefix: the level's direct objects plus every child prefix, concurrently.
    A :class:`~pail.services.jobs.Job`: ``start``, ``progress`` (a :class:`UsageSnapshot`),
    ``cancel`` (stops after the pages in flight; totals stay partial), ``wait`` and
    ``run`` (the final snapshot), ``finished``.

    Args:
        driver: the store's driver (thread-safe).
        bucket: bucket name.
        prefix: ``""`` (whole bucket) or a prefix; one without a trailing ``/`` gets one,
            so ``runs/run-1`` never counts ``runs/run-10/``.
        workers: child prefixes listed at once.
        page_size: keys per listing page (1..1000).

    A failure of the level's listing ends the scan and shows as the snapshot's ``error``;
    a child's failure shows on its row, and the others go on.
    """

    thread_name = "pail-du"

    def __init__(
        self,
        driver: StorageDriver,
        bucket: str,
        prefix: str = "",
        *,
        workers: int = DEFAULT_WORKERS,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.workers = max(1, workers)
        self.page_size = page_size
        self._tally = _Tally(bucket)

    def progress(self) -> UsageSnapshot:
        """The figures now (any thread)."""
        done = self.finished  # read first: once done, the figures below are final
        tally = self._tally
        with tally.lock:
            children = tuple(tally.children.values())
            direct, error, level_done = tally.direct, tally.error, tally.level_complete
        total = direct
        for child in children:
            total = total.merge(child.totals)
        return UsageSnapshot(
            bucket=self.bucket,
            prefix=self.prefix,
            keys_scanned=total.objects,
            total=total,
            direct=direct,
            children=children,
            level_done=level_done,
            done=done,
            cancelled=self.cancelled and done,
            error=error,
            elapsed=self.elapsed,
        )

    def report(self) -> UsageSnapshot:
        """The figures now; final once :attr:`finished` (what :meth:`wait` returns)."""
        return self.progress()

    def _work(self) -> None:
        try:
            walk_prefix(
                self.driver,
                self.bucket,
                self.prefix,
                self._tally,
                workers=self.workers,
                page_size=self.page_size,
                stop=self._cancel,
                best_effort=True,
                name="pail-du",
            )
        except StorageError as exc:
            with self._tally.lock:
                self._tally.error = exc


def scan_usage(
    driver: StorageDriver, bucket: str, prefix: str = "", *, workers: int = DEFAULT_WORKERS
) -> UsageSnapshot:
    """Scan ``prefix`` to the end and return the final :class:`UsageSnapshot` (blocking)."""
    return UsageScan(driver, bucket, prefix, workers=workers).run()
