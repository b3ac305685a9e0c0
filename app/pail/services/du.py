"""Where the bytes are: totals of a prefix and of each child prefix, filled in as the scan goes.

Usage (from a worker thread, or with :meth:`UsageScan.start` from anywhere)::

    scan = UsageScan(driver, "bucket", "runs/")
    scan.start()                      # returns at once; listing runs on a thread pool
    snap = scan.snapshot()            # UsageSnapshot: keys scanned, per-child partial totals
    scan.cancel()                     # stops after the pages in flight
    final = scan.wait()               # the last snapshot

The level itself is listed one page at a time with ``delimiter="/"`` (S3 CommonPrefixes):
objects found there are the prefix's *direct* objects, and each common prefix is handed to a
thread pool that lists everything below it (``delimiter=""``, ListObjectsV2 pages of up to
1,000 keys). A listing is sequential page by page, so several child prefixes listed at once
is what makes a bucket with many runs fast to size (rclone ``size`` and ``aws s3 ls
--recursive`` list one stream).

Sizes are bytes; times are UTC. Nothing here imports the UI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from pail.drivers.base import DEFAULT_PAGE_SIZE, Entry, StorageDriver
from pail.drivers.errors import StorageError

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
        cancelled: :meth:`UsageScan.cancel` was called before the scan finished.
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


class UsageScan:
    """Sizes a prefix: the level's direct objects plus every child prefix, concurrently.

    Args:
        driver: the store's driver (thread-safe).
        bucket: bucket name.
        prefix: ``""`` (whole bucket) or a prefix; one without a trailing ``/`` gets one,
            so ``runs/run-1`` never counts ``runs/run-10/``.
        workers: child prefixes listed at once.
        page_size: keys per listing page (1..1000).

    Thread-safe: :meth:`snapshot` and :meth:`cancel` may be called from any thread.
    """

    def __init__(
        self,
        driver: StorageDriver,
        bucket: str,
        prefix: str = "",
        *,
        workers: int = DEFAULT_WORKERS,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        self.driver = driver
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.workers = max(1, workers)
        self.page_size = page_size
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self._children: dict[str, ChildUsage] = {}
        self._direct = Totals()
        self._level_done = False
        self._error: StorageError | None = None
        self._started = time.monotonic()
        self._ended: float | None = None

    # -- control ------------------------------------------------------------------------

    def start(self) -> None:
        """Start scanning in a background thread; returns at once. Idempotent."""
        with self._lock:
            if self._thread is not None:
                return
            self._started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="pail-du", daemon=True)
            self._thread.start()

    def run(self) -> UsageSnapshot:
        """Scan in the calling thread's time and return the final snapshot."""
        self.start()
        return self.wait()  # type: ignore[return-value]

    def wait(self, timeout: float | None = None) -> UsageSnapshot | None:
        """The final snapshot, or ``None`` if ``timeout`` seconds pass first."""
        if not self._finished.wait(timeout):
            return None
        return self.snapshot()

    def cancel(self) -> None:
        """Stop: no new page is requested; pages in flight finish. Totals stay partial."""
        self._cancel.set()

    @property
    def finished(self) -> bool:
        """True once the scan has stopped (done, failed or cancelled)."""
        return self._finished.is_set()

    def snapshot(self) -> UsageSnapshot:
        """The figures now (any thread)."""
        with self._lock:
            children = tuple(self._children.values())
            direct, error, level_done = self._direct, self._error, self._level_done
            end = self._ended
        total = direct
        for child in children:
            total = total.merge(child.totals)
        done = self._finished.is_set()
        return UsageSnapshot(
            bucket=self.bucket,
            prefix=self.prefix,
            keys_scanned=total.objects,
            total=total,
            direct=direct,
            children=children,
            level_done=level_done,
            done=done,
            cancelled=self._cancel.is_set() and done,
            error=error,
            elapsed=(end or time.monotonic()) - self._started,
        )

    # -- work ---------------------------------------------------------------------------

    def _pages(self, prefix: str, delimiter: str):
        token: str | None = None
        while not self._cancel.is_set():
            page = self.driver.list_page(
                self.bucket, prefix, delimiter=delimiter, token=token, page_size=self.page_size
            )
            yield page
            token = page.next_token
            if token is None:
                return

    def _run(self) -> None:
        try:
            with ThreadPoolExecutor(self.workers, thread_name_prefix="pail-du") as pool:
                try:
                    for page in self._pages(self.prefix, "/"):
                        objects = []
                        for entry in page.entries:
                            if entry.is_prefix and entry.key.startswith(self.prefix):
                                self._add_child(entry.key, pool)
                            elif not entry.is_prefix and entry.key.startswith(self.prefix):
                                objects.append(entry)
                        with self._lock:
                            self._direct = self._direct.add(objects)
                    with self._lock:
                        self._level_done = not self._cancel.is_set()
                except StorageError as exc:
                    with self._lock:
                        self._error = exc
        finally:
            with self._lock:
                self._ended = time.monotonic()
            self._finished.set()

    def _add_child(self, prefix: str, pool: ThreadPoolExecutor) -> None:
        with self._lock:
            if prefix in self._children:
                return
            self._children[prefix] = ChildUsage(prefix)
        pool.submit(self._scan_child, prefix)

    def _scan_child(self, prefix: str) -> None:
        try:
            for page in self._pages(prefix, ""):
                inside = [e for e in page.entries if e.key.startswith(prefix)]
                with self._lock:
                    child = self._children[prefix]
                    self._children[prefix] = replace(child, totals=child.totals.add(inside))
            done = not self._cancel.is_set()
            with self._lock:
                self._children[prefix] = replace(self._children[prefix], done=done)
        except StorageError as exc:
            with self._lock:
                self._children[prefix] = replace(self._children[prefix], error=exc)
        except Exception as exc:  # never lose a worker's failure silently
            wrapped = StorageError(str(exc), operation="du", bucket=self.bucket, key=prefix)
            with self._lock:
                self._children[prefix] = replace(self._children[prefix], error=wrapped)


def scan_usage(
    driver: StorageDriver, bucket: str, prefix: str = "", *, workers: int = DEFAULT_WORKERS
) -> UsageSnapshot:
    """Scan ``prefix`` to the end and return the final :class:`UsageSnapshot` (blocking)."""
    return UsageScan(driver, bucket, prefix, workers=workers).run()
