"""Walking everything under a prefix, with child prefixes listed concurrently.

A recursive listing (``delimiter=""``) is one sequential stream of pages: page 2 needs page
1's continuation token. Listing the level first (``delimiter="/"``, S3 CommonPrefixes)
splits the keys into the objects directly at the prefix and one disjoint group per common
prefix, and those groups can be listed at the same time (rclone ``size`` and ``aws s3 ls
--recursive`` list one stream). Every key under the prefix lands in exactly one group.

:func:`walk_prefix` is the one walk: it hands each page's objects to a
:class:`WalkVisitor` as they arrive. :func:`walk_objects` (the delete planner, delete
verification) collects them into one list in key order; the usage scan
(:mod:`pail.services.du`) adds them up per child prefix. Pages come from
:func:`pail.drivers.base.iter_pages` (ListObjectsV2 pages of up to 1,000 keys).
"""

from __future__ import annotations

import queue
import string
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from typing import Any

from pail.drivers.base import DEFAULT_PAGE_SIZE, Entry, ListsAfter, StorageDriver, iter_pages
from pail.services.jobs import DaemonPool

#: Child prefixes listed at once.
DEFAULT_WORKERS = 16
#: Seconds between two looks at a stop or a failure while children are listed.
_POLL = 0.1


class WalkCancelled(Exception):
    """The caller's cancel event was set; the listing is incomplete and not returned."""


class WalkVisitor:
    """What a walk found, reported as it goes. Override what you need; the walk never
    calls two methods at once, and never after :func:`walk_prefix` has returned."""

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        """One page's objects: under ``child`` (a child prefix ending in ``/``), or
        directly at the walked prefix when ``child`` is ``None``."""

    def child_found(self, child: str) -> None:
        """A child prefix of the level (its listing is queued right after)."""

    def level_done(self) -> None:
        """The level's listing reached its last page: every child prefix is known."""

    def child_done(self, child: str, complete: bool, error: Exception | None) -> None:
        """``child``'s listing ended: ``complete`` when it reached its last page, else it
        was stopped (or, with ``best_effort``, failed with ``error``)."""


def walk_prefix(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    visitor: WalkVisitor,
    *,
    workers: int = DEFAULT_WORKERS,
    page_size: int = DEFAULT_PAGE_SIZE,
    stop: threading.Event | None = None,
    best_effort: bool = False,
    name: str = "pail-walk",
    children_after: threading.Event | None = None,
) -> bool:
    """List every object whose key starts with ``prefix`` (``""``: the whole bucket): the
    level in the calling thread, each child prefix on one of ``workers`` daemon threads
    (named ``name-0``...). Only keys inside their prefix are reported, whatever the
    store returned. ``stop`` set: no further page is requested. ``children_after``: child
    listings wait until it is set (a search lets its first recursive page be parsed
    before a pool of child pages competes with it for the interpreter).

    Two ways to end, by ``best_effort``:

    * ``False`` (all or nothing): the first failure, or a stop, ends the walk at once;
      listings still in flight are abandoned on their daemon threads (never waited for).
    * ``True`` (partial figures count): a child's failure goes to
      :meth:`WalkVisitor.child_done` and the others go on; on a stop the walk returns once
      the pages in flight are in and reported; a failure of the level's own listing is
      raised after the children have ended.

    Returns:
        True when every listing reached its last page; False when a stop ended the walk
        early (with ``best_effort``, also when a child listing failed).

    Raises:
        StorageError: a listing failed (the first failure; with ``best_effort`` only the
            level's own).
    """
    lock = threading.Lock()  # serialises the visitor's calls
    halt = threading.Event()  # no further page: stopped, or (all or nothing) failed
    failures: list[Exception] = []
    complete_children = [0]  # children whose every page was reported
    closed = [False]  # the walk has returned: the visitor hears nothing more

    def halted() -> bool:
        if stop is not None and stop.is_set():
            halt.set()
        return halt.is_set()

    def tell(method: Callable[..., None], *args: object) -> None:
        with lock:
            if not closed[0]:
                method(*args)

    def list_child(child: str) -> None:
        complete, error = False, None
        if children_after is not None:
            while not children_after.wait(_POLL) and not halted():
                pass
        try:
            pages = iter_pages(driver, bucket, child, delimiter="", page_size=page_size)
            while not halted():
                page = next(pages, None)  # the request happens here
                if page is None:
                    complete = True
                    break
                inside = [e for e in page.entries if not e.is_prefix and e.key.startswith(child)]
                tell(visitor.objects, child, inside)
        except Exception as exc:
            if not best_effort:
                with lock:
                    failures.append(exc)
                halt.set()
                raise
            error = exc
        with lock:
            if not closed[0]:
                complete_children[0] += complete
                visitor.child_done(child, complete, error)

    seen: set[str] = set()
    futures: list[Future[None]] = []
    level_complete = False
    level_error: Exception | None = None
    whole = False
    try:
        with DaemonPool(workers, name=name) as pool:
            try:
                # A big level is listed in key ranges at once (level_batches).
                pages = level_batches(driver, bucket, prefix, delimiter="/", page_size=page_size)
                while not halted():
                    batch = next(pages, None)
                    if batch is None:
                        level_complete = True
                        break
                    objects = []
                    for entry in batch:
                        if not entry.key.startswith(prefix):
                            continue
                        if not entry.is_prefix:
                            objects.append(entry)
                        elif entry.key not in seen:
                            seen.add(entry.key)
                            tell(visitor.child_found, entry.key)
                            futures.append(pool.submit(list_child, entry.key))
                    tell(visitor.objects, None, objects)
                if level_complete:
                    tell(visitor.level_done)
                else:
                    pages.close()  # its ranges stop at their next page
            except Exception as exc:
                if not best_effort:
                    raise
                level_error = exc
            if best_effort:
                wait(futures)  # children stop after their page in flight when halted
            else:
                pending = set(futures)
                while pending and not halted():
                    _, pending = wait(pending, timeout=_POLL, return_when=FIRST_EXCEPTION)
                if failures:
                    raise failures[0]
    except BaseException:
        halt.set()  # an error or an interrupt (Ctrl-C): children stop at their next page
        for future in futures:
            future.cancel()
        raise
    finally:
        with lock:
            closed[0] = True
            whole = level_complete and complete_children[0] == len(futures)
    if level_error is not None:
        raise level_error
    return whole


class _Collect(WalkVisitor):
    def __init__(self, on_page: Callable[[int], None] | None) -> None:
        self.found: list[Entry] = []
        self.on_page = on_page

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        self.found.extend(entries)
        if self.on_page is not None:
            self.on_page(len(entries))


def walk_objects(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    workers: int = DEFAULT_WORKERS,
    cancel: threading.Event | None = None,
    on_page: Callable[[int], None] | None = None,
) -> list[Entry]:
    """Every object whose key starts with ``prefix`` (``""``: the whole bucket), in key
    order (UTF-8 binary order, as S3 and GCS list). ``on_page(n)`` is called (from any
    thread, serialised) with the number of objects in each page as it arrives.

    Raises:
        StorageError: any listing failed (the first error met).
        WalkCancelled: ``cancel`` was set.
    """
    collect = _Collect(on_page)
    # All or nothing: an interrupt (Ctrl-C), a failure or a cancel returns at once,
    # without waiting for listings still in flight.
    if not walk_prefix(driver, bucket, prefix, collect, workers=workers, stop=cancel):
        raise WalkCancelled("listing cancelled")
    every = collect.found
    every.sort(key=lambda e: e.key.encode("utf-8", "surrogatepass"))
    return every


#: Pages a stream of :func:`ordered_batches` or :func:`level_batches` may hold before the
#: caller reads them.
_AHEAD_PAGES = 2
_DONE = object()  # a stream's end
#: Key ranges of one level listed at once (:func:`level_batches`).
RANGE_WORKERS = 6
#: Most boundaries a level is split at (:func:`split_points`).
MOST_POINTS = 32
#: Runs of these characters in keys give split points (one alphabet per run, in UTF-8
#: order): counters, hex digests, run ids.
_ALPHABETS = (
    string.digits,
    string.digits + "abcdef",
    string.digits + string.ascii_lowercase,
    string.digits + string.ascii_uppercase,
    string.digits + string.ascii_uppercase + string.ascii_lowercase,
)


class _Stream:
    """Batches of entries produced by a pool thread (``produce``), read in order by the
    caller; at most ``_AHEAD_PAGES`` batches wait in it."""

    def __init__(self, produce: Callable[[], Iterator[list[Entry]]]) -> None:
        self._produce = produce
        self.batches_in: queue.Queue[Any] = queue.Queue(maxsize=_AHEAD_PAGES)

    def fill(self, halt: threading.Event) -> None:
        item: Any = _DONE
        try:
            for batch in self._produce():
                if not self._put(batch, halt):
                    return
        except Exception as exc:
            item = exc
        self._put(item, halt)

    def _put(self, item: Any, halt: threading.Event) -> bool:
        while not halt.is_set():
            try:
                self.batches_in.put(item, timeout=_POLL)
                return True
            except queue.Full:
                continue
        return False

    def batches(self) -> Iterator[list[Entry]]:
        while True:
            item = self.batches_in.get()
            if item is _DONE:
                return
            if isinstance(item, Exception):
                raise item
            if item:
                yield item


def _in_order(
    items: list[_Stream | Entry], pool: DaemonPool, halt: threading.Event, window: int
) -> Iterator[list[Entry]]:
    """``items`` in order as batches: entries in place, each stream's batches where it
    stands. Streams start in order, at most ``window`` beyond the one being read."""
    streams = [item for item in items if isinstance(item, _Stream)]
    started = read = 0
    objects: list[Entry] = []
    for item in items:
        if isinstance(item, Entry):
            objects.append(item)
            continue
        while started < len(streams) and started - read < window:
            pool.submit(streams[started].fill, halt)
            started += 1
        if objects:
            yield objects
            objects = []
        yield from item.batches()
        read += 1
    if objects:
        yield objects


def split_points(prefix: str, first: str, last: str, *, most: int = MOST_POINTS) -> list[str]:
    """Keys above ``last`` at which the rest of a level can be cut into ranges listed at
    once, guessed from the level's first key and the last key listed so far (both under
    ``prefix``); ascending, at most ``most``. ``[]``: no guess.

    Where ``first`` and ``last`` first differ lies a run of digits or letters (a counter,
    a digest): each position of that run, from the deepest up, gives the keys with the
    same start and a greater character there. For ``part-000000`` ... ``part-001999``:
    ``part-002`` ... ``part-009``, ``part-01`` ... ``part-09``, ``part-1`` ... ``part-9``.
    A guess never loses a key: the ranges between the points (and above the last one)
    cover every key; a poor guess only leaves one range with most of them.
    """
    if not first.startswith(prefix) or not last.startswith(prefix) or first >= last:
        return []
    at = len(prefix)
    while at < len(last) and at < len(first) and first[at] == last[at]:
        at += 1
    if at >= len(last) or at >= len(first):
        return []
    # The run of digits or letters from the first difference on, in both keys, gives the
    # smallest alphabet (a counter's digits, a hex digest's 0-f); the run goes left over
    # that alphabet only (``k0199``: the digits).
    every = _ALPHABETS[-1]
    if last[at] not in every or first[at] not in every:
        return []
    chars = set(_run(last, at, every)) | set(_run(first, at, every))
    alphabet = next(a for a in _ALPHABETS if chars <= set(a))
    start = at
    while start > len(prefix) and last[start - 1] in alphabet:
        start -= 1
    points: list[str] = []
    for position in range(at, start - 1, -1):
        head = last[:position]
        points.extend(head + c for c in alphabet if c > last[position])
    if len(points) > most:  # keep them spread over the whole key space
        step = len(points) / most
        points = [points[int(i * step)] for i in range(most)]
    return points


def _run(key: str, start: int, alphabet: str) -> str:
    end = start
    while end < len(key) and key[end] in alphabet:
        end += 1
    return key[start:end]


def _range_batches(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    delimiter: str,
    page_size: int,
    *,
    token: str | None = None,
    after: str | None = None,
    upper: str | None = None,
) -> Iterator[list[Entry]]:
    """Entries of one key range: from ``token`` (a continuation) or after ``after``
    (``ListsAfter``), up to and including ``upper`` (``None``: to the end)."""
    if token is not None:
        page = driver.list_page(
            bucket, prefix, delimiter=delimiter, token=token, page_size=page_size
        )
    else:
        assert isinstance(driver, ListsAfter) and after is not None
        page = driver.list_page_after(
            bucket, prefix, after, delimiter=delimiter, page_size=page_size
        )
    while True:
        entries = list(page.entries)
        if upper is not None and entries and entries[-1].key > upper:
            yield [e for e in entries if e.key <= upper]
            return
        yield entries
        if page.next_token is None:
            return
        page = driver.list_page(
            bucket, prefix, delimiter=delimiter, token=page.next_token, page_size=page_size
        )


def level_batches(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    delimiter: str = "/",
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page_size: int | None = None,
    workers: int = RANGE_WORKERS,
) -> Generator[list[Entry], None, None]:
    """Every entry of one listing (as :func:`pail.drivers.base.iter_pages`), in key order,
    in batches of about a page; a big listing is cut into key ranges listed at once.

    The first two pages are listed one after the other (the next always requested
    ahead). When the second is still not the last (more than ``first_page_size +
    page_size`` keys) and the driver can start after any key
    (:class:`pail.drivers.base.ListsAfter`, S3 ``StartAfter``), the rest is cut at
    :func:`split_points` and the ranges are listed on up to ``workers`` daemon threads,
    read back in order (a window of ranges ahead, a few pages each: bounded memory). An
    entry a range repeats (a common prefix across a cut) is given once. Closing the
    iterator stops the ranges at their next page.

    Raises:
        StorageError: the first failed listing, when the caller reaches its place.
    """
    pages = iter_pages(
        driver,
        bucket,
        prefix,
        delimiter=delimiter,
        page_size=page_size,
        prefetch=True,
        first_page_size=first_page_size,
    )
    first: str | None = None
    for number, page in enumerate(pages):
        if page.entries:
            first = first or page.entries[0].key
            yield list(page.entries)
        if page.next_token is None:
            return
        if number < 1 or not isinstance(driver, ListsAfter) or first is None:
            continue
        points = split_points(prefix, first, page.entries[-1].key) if page.entries else []
        if points:
            pages.close()  # the page requested ahead is not used: the ranges list it
            last = page.entries[-1].key
            yield from _ranges(
                driver,
                bucket,
                prefix,
                delimiter,
                page_size,
                page.next_token,
                points,
                last,
                workers,
            )
            return


def _ranges(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    delimiter: str,
    page_size: int,
    token: str,
    points: list[str],
    last: str,
    workers: int,
) -> Iterator[list[Entry]]:
    def stream(**where: Any) -> _Stream:
        return _Stream(
            lambda: _range_batches(driver, bucket, prefix, delimiter, page_size, **where)
        )

    items: list[_Stream | Entry] = [stream(token=token, upper=points[0])]
    bounds = [*points, None]
    items.extend(
        stream(after=low, upper=high) for low, high in zip(points, bounds[1:], strict=True)
    )
    halt = threading.Event()
    pool = DaemonPool(workers, name="pail-range")
    try:
        for batch in _in_order(items, pool, halt, 2 * max(1, workers)):
            fresh = [e for e in batch if e.key > last]
            if fresh:
                last = fresh[-1].key
                yield fresh
    finally:
        halt.set()
        pool.shutdown(cancel_pending=True)


def ordered_batches(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    workers: int = 8,
    page_size: int = DEFAULT_PAGE_SIZE,
    first_page_size: int = 100,
) -> Iterator[list[Entry]]:
    """Every object whose key starts with ``prefix`` (``""``: the whole bucket), in key
    order, in batches (about a page each): what a recursive ``ls`` prints, with child
    prefixes listed concurrently instead of as one sequential stream.

    The level is listed with the delimiter ``/`` (:func:`level_batches`: a big level in key
    ranges at once); its objects come in place and each common prefix's keys come where
    the prefix sorts (every key under ``p/`` sorts between the keys before and after
    ``p/``, so the order is the recursive listing's). Child listings run on up to
    ``workers`` daemon threads, started in key order and at most ``2 * workers`` ahead of
    the one being read, each holding at most a few pages (memory stays bounded whatever
    the tree's shape). ``first_page_size``: keys in the level's first page (smaller, so
    the first rows come sooner). Closing the iterator early stops the listings at their
    next page; nothing waits for them.

    Raises:
        StorageError: the first failed listing, when the caller reaches its place.
    """
    halt = threading.Event()
    pool = DaemonPool(workers, name="pail-tree")

    def child(key: str) -> _Stream:
        def produce() -> Iterator[list[Entry]]:
            pages = iter_pages(
                driver, bucket, key, delimiter="", page_size=page_size, prefetch=True
            )
            for page in pages:
                yield [e for e in page.entries if not e.is_prefix and e.key.startswith(key)]

        return _Stream(produce)

    try:
        level = level_batches(
            driver,
            bucket,
            prefix,
            delimiter="/",
            page_size=page_size,
            first_page_size=min(page_size, first_page_size),
        )
        for batch in level:
            items: list[_Stream | Entry] = [
                child(e.key) if e.is_prefix else e for e in batch if e.key.startswith(prefix)
            ]
            yield from _in_order(items, pool, halt, 2 * max(1, workers))
    finally:
        halt.set()
        pool.shutdown(cancel_pending=True)


__all__ = [
    "DEFAULT_WORKERS",
    "WalkCancelled",
    "WalkVisitor",
    "level_batches",
    "ordered_batches",
    "split_points",
    "walk_objects",
    "walk_prefix",
]
