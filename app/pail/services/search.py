"""Search a bucket or a prefix: walk it in the background and stream the keys that match.

Usage (from a worker thread, or with :meth:`BucketSearch.start` from anywhere)::

    query = parse_query("*.ckpt size>10MB age>7d")
    search = BucketSearch(driver, "bucket", "runs/", query, cache=cache, source="moto")
    search.start()                          # returns at once; listing runs on daemon threads
    fresh = search.matches_since(0)         # matches found so far (Entries, arrival order)
    snap = search.progress()                # SearchProgress: keys examined, prefixes, rate
    search.cancel()                         # stops after the pages in flight
    final = search.wait()                   # the last snapshot

The walk is :func:`pail.services.walk.walk_prefix`: the level is listed with
``delimiter="/"`` (S3 CommonPrefixes) and every child prefix is listed below it
(``delimiter=""``) on its own daemon thread, several at once. Each page's objects are
tested as they arrive, so the first matches show while most of the bucket is still being
listed. Beside the level's own listing, one recursive page of the prefix (``delimiter=""``)
is asked for at once: its matches show after one round trip instead of two (the level,
then a child), and the walk later skips the keys already shown. Matches accumulate in a
:class:`pail.services.level.LevelRows` in arrival order (which depends on which listing
answers first: callers must not rely on it).

**Query syntax** (:func:`parse_query`): whitespace-separated terms.

* ``size>10MB``, ``size>=10MB``, ``size<1GiB``, ``size<=4096``: object size in bytes
  (units of :func:`pail.core.units.parse_size`; ``>`` is strictly greater).
* ``age>7d``, ``age>=7d``: last modified at least that long ago (older than);
  ``age<12h``, ``age<=12h``: newer than (units of :func:`pail.core.units.parse_duration`).
  Ages count from the search's start (``clock``).
* Every other word is the name pattern (words joined by one space): a *glob* when it has
  ``*``, ``?`` or ``[`` (:mod:`fnmatch`, where ``*`` also crosses ``/``), matched against
  the whole key relative to the searched prefix; otherwise a *substring* found anywhere in
  that relative key. Both are case-insensitive. No pattern: every object matches the
  size/age terms. Folder markers (keys ending in ``/``) never match.

**The listing cache** (:class:`ListingCache`). A search that walked a prefix to its end
keeps every object it listed, keyed by ``(source, bucket, prefix)`` (``source`` names the
connection: provider, endpoint and connection name, :func:`source_of`), with the time the
walk ended (UTC). A later search of the same prefix, or of a prefix below it, answers from
that listing without a request and says how old it is (:attr:`SearchProgress.listed_at`);
``refresh=True`` walks again and replaces it. It lives in memory for the session, bounded by
the total number of keys held (oldest listing evicted first); cancelled or failed walks are
never cached (they are incomplete).

Sizes are bytes; times are timezone-aware UTC. Nothing here imports the UI.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Literal

from pail.core.connection import ConnectionSpec
from pail.core.units import UnitError, parse_duration, parse_size, plural
from pail.drivers.base import DEFAULT_PAGE_SIZE, Entry, Page, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.jobs import Job
from pail.services.level import LevelRows
from pail.services.walk import WalkVisitor, walk_prefix

#: Child prefixes listed at once.
DEFAULT_WORKERS = 16
#: Keys a :class:`ListingCache` holds at most by default (about 150 MB in LevelRows).
DEFAULT_CACHE_KEYS = 1_000_000
#: Cached keys tested between two looks at a cancel.
_CACHE_CHUNK = 5_000

Op = Literal[">", ">=", "<", "<="]
_TERM = re.compile(r"^(size|age)(>=|<=|>|<)(.+)$", re.IGNORECASE)
_GLOB_CHARS = frozenset("*?[")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class QueryError(ValueError):
    """A search query that does not parse; ``str()`` is one plain line saying why."""


@dataclass(frozen=True)
class Condition:
    """One ``size`` or ``age`` term: ``field op value``.

    Attributes:
        field: ``"size"`` (value in bytes, an int) or ``"age"`` (value a timedelta: how
            long before the search's start the object was last modified).
        op: ``">"``, ``">="``, ``"<"`` or ``"<="``.
        value: bytes, or a duration.
    """

    field: Literal["size", "age"]
    op: Op
    value: int | timedelta

    def holds(self, measured: int | timedelta) -> bool:
        """``measured op value``."""
        value = self.value
        if self.op == ">":
            return measured > value  # type: ignore[operator]  # same kind: see field
        if self.op == ">=":
            return measured >= value  # type: ignore[operator]
        if self.op == "<":
            return measured < value  # type: ignore[operator]
        return measured <= value  # type: ignore[operator]


@dataclass(frozen=True)
class SearchQuery:
    """What a search looks for (see the module doc for the syntax).

    Attributes:
        pattern: the name pattern (``""``: any key); glob when :attr:`is_glob`.
        conditions: size and age terms, all of which must hold.
    """

    pattern: str = ""
    conditions: tuple[Condition, ...] = ()

    @property
    def is_glob(self) -> bool:
        """True when the pattern has a glob character (``*``, ``?``, ``[``)."""
        return any(ch in _GLOB_CHARS for ch in self.pattern)

    def describe(self) -> str:
        """The query in words: ``"glob '*.ckpt', size > 10,000,000 bytes"``."""
        parts = []
        if self.pattern:
            kind = "glob" if self.is_glob else "name contains"
            parts.append(f"{kind} {self.pattern!r}")
        for cond in self.conditions:
            value = cond.value
            shown = plural(value, "byte") if isinstance(value, int) else f"{value}"
            parts.append(f"{cond.field} {cond.op} {shown}")
        return ", ".join(parts) or "every object"

    def matcher(
        self, base: str, now: datetime
    ) -> Callable[[str, int | None, datetime | None], bool]:
        """A test of one object ``(key, size, last_modified)``: the pattern against the key
        relative to ``base`` (the searched prefix), then the conditions, ages counted from
        ``now`` (aware UTC). An object without a size or time fails a term about it."""
        cut = len(base)
        pattern = self.pattern
        name_ok: Callable[[str], bool]
        if not pattern:
            name_ok = lambda rel: True  # noqa: E731
        elif self.is_glob:
            regex = re.compile(fnmatch.translate(pattern), re.IGNORECASE | re.DOTALL)
            name_ok = lambda rel: regex.match(rel) is not None  # noqa: E731
        else:
            needle = pattern.casefold()
            name_ok = lambda rel: needle in rel.casefold()  # noqa: E731
        conditions = self.conditions

        def test(key: str, size: int | None, modified: datetime | None) -> bool:
            if key.endswith("/") or not name_ok(key[cut:]):  # "/": a folder marker
                return False
            for cond in conditions:
                if cond.field == "size":
                    if size is None or not cond.holds(size):
                        return False
                elif modified is None or not cond.holds(now - modified):
                    return False
            return True

        return test


def parse_query(text: str) -> SearchQuery:
    """A :class:`SearchQuery` from what the user typed (syntax in the module doc):
    ``"model size>=1GB age>30d"``.

    Raises:
        QueryError: a ``size``/``age`` term whose value is not a size or duration.
    """
    words: list[str] = []
    conditions: list[Condition] = []
    for term in str(text).split():
        match = _TERM.match(term)
        if match is None:
            words.append(term)
            continue
        name, op, raw = match.group(1).lower(), match.group(2), match.group(3)
        try:
            if name == "size":
                conditions.append(Condition("size", op, parse_size(raw)))  # type: ignore[arg-type]
            else:
                conditions.append(Condition("age", op, parse_duration(raw)))  # type: ignore[arg-type]
        except UnitError as exc:
            raise QueryError(f"{name}{op}: {exc}") from None
    return SearchQuery(" ".join(words), tuple(conditions))


# -- the listing cache ---------------------------------------------------------------------


def source_of(spec: ConnectionSpec) -> str:
    """The cache's name for a connection: provider, endpoint (or local root) and the
    connection's name (two connections to one endpoint may see different keys)."""
    where = spec.endpoint_url or spec.root or ""
    return f"{spec.provider}|{where}|{spec.name}"


@dataclass(frozen=True)
class CachedListing:
    """Every object under ``prefix`` as one complete walk listed them.

    Attributes:
        source, bucket, prefix: what was walked (``prefix`` ``""``: the whole bucket).
        rows: the objects, in the order they were listed (a LevelRows: compact columns).
        listed_at: when the walk ended (aware UTC).
    """

    source: str
    bucket: str
    prefix: str
    rows: LevelRows
    listed_at: datetime

    def age(self, now: datetime) -> timedelta:
        """How long ago it was listed (never negative)."""
        return max(timedelta(0), now - self.listed_at)


@dataclass
class ListingCache:
    """Complete walks of this session, in memory, keyed by ``(source, bucket, prefix)``.

    Bounded by :attr:`max_keys`, the total number of keys held: storing a listing evicts
    the oldest ones until the total fits; a listing larger than the bound is not kept.
    Thread-safe (searches store from their job threads).

    Attributes:
        max_keys: keys held at most (default :data:`DEFAULT_CACHE_KEYS`).
    """

    max_keys: int = DEFAULT_CACHE_KEYS
    _items: OrderedDict[tuple[str, str, str], CachedListing] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total_keys(self) -> int:
        """Keys held now."""
        with self._lock:
            return sum(len(item.rows) for item in self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def get(self, source: str, bucket: str, prefix: str) -> CachedListing | None:
        """The listing of ``prefix``, or of the nearest walked prefix above it (its rows
        then hold more than ``prefix``'s keys: filter by ``startswith``), or ``None``."""
        with self._lock:
            exact = self._items.get((source, bucket, prefix))
            if exact is not None:
                return exact
            above = [
                item
                for (src, bkt, pfx), item in self._items.items()
                if src == source and bkt == bucket and prefix.startswith(pfx)
            ]
        return max(above, key=lambda item: len(item.prefix)) if above else None

    def put(self, listing: CachedListing) -> bool:
        """Keep ``listing`` (replacing one of the same key), evicting the oldest until the
        total fits. Returns False when it alone exceeds :attr:`max_keys` (not kept)."""
        size = len(listing.rows)
        key = (listing.source, listing.bucket, listing.prefix)
        with self._lock:
            self._items.pop(key, None)
            if size > self.max_keys:
                return False
            total = sum(len(item.rows) for item in self._items.values())
            while self._items and total + size > self.max_keys:
                _, oldest = self._items.popitem(last=False)
                total -= len(oldest.rows)
            self._items[key] = listing
            return True

    def drop(self, source: str, bucket: str, prefix: str) -> None:
        """Forget the listings of ``prefix`` and of every prefix above or below it (a
        refresh or a delete there makes them stale)."""
        with self._lock:
            for key in list(self._items):
                src, bkt, pfx = key
                if (
                    src == source
                    and bkt == bucket
                    and (pfx.startswith(prefix) or prefix.startswith(pfx))
                ):
                    del self._items[key]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._items.clear()


# -- the search ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchProgress:
    """A consistent view of a search at one moment.

    Attributes:
        bucket, prefix: what is searched (``prefix`` ``""``: the whole bucket).
        keys_examined: object keys tested so far.
        matches: keys that matched so far.
        prefixes_done, prefixes_total: child prefixes whose listing ended / found so far
            (``prefixes_total`` grows until ``level_done``; both 0 from the cache).
        level_done: the level's listing ended: every child prefix is known.
        keys_per_second: keys examined per second of elapsed time.
        elapsed: seconds since the search started.
        done: the search ended (to the end, cancelled or failed).
        cancelled: :meth:`BucketSearch.cancel` was called and the search has ended.
        error: the failure that stopped the level's listing, if any.
        child_errors: failures of child prefixes (the rest went on).
        listed_at: answered from the listing cache: when that listing was made (UTC);
            ``None`` for a walk.
    """

    bucket: str
    prefix: str
    keys_examined: int
    matches: int
    prefixes_done: int
    prefixes_total: int
    level_done: bool
    keys_per_second: float
    elapsed: float
    done: bool
    cancelled: bool
    error: StorageError | None
    child_errors: tuple[StorageError, ...]
    listed_at: datetime | None

    @property
    def complete(self) -> bool:
        """Ended with every key examined: the matches are all there are."""
        return self.done and not self.cancelled and self.error is None and not self.child_errors

    @property
    def from_cache(self) -> bool:
        """True when answered from a listing made earlier this session."""
        return self.listed_at is not None


class _Seen(WalkVisitor):
    """Tests every listed object; keeps the matches (and, for the cache, everything)."""

    def __init__(self, search: BucketSearch, keep_all: bool) -> None:
        self.search = search
        self.keep_all = keep_all
        self.all = LevelRows(search.prefix) if keep_all else None
        self.test = search.query.matcher(search.prefix, search.now)

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        test = self.test
        found = [e for e in entries if test(e.key, e.size, e.last_modified)]
        search = self.search
        with search._lock:
            search._examined += len(entries)
            if found:
                early = search._early
                if early is not None:  # shown from the first recursive page already
                    found = [e for e in found if e.key not in early]
                elif search._shown_by_walk is not None:  # that page is still out
                    search._shown_by_walk.update(e.key for e in found)
                search._rows.extend(found)
        if self.all is not None:
            if len(self.all) + len(entries) > search.cache_limit:
                self.all = None  # too big to keep: the walk goes on without caching
            else:
                self.all.extend(entries)

    def child_found(self, child: str) -> None:
        with self.search._lock:
            self.search._prefixes_total += 1

    def level_done(self) -> None:
        with self.search._lock:
            self.search._level_done = True

    def child_done(self, child: str, complete: bool, error: Exception | None) -> None:
        search = self.search
        if error is not None and not isinstance(error, StorageError):
            # never lose a worker's failure silently
            error = StorageError(str(error), operation="search", bucket=search.bucket, key=child)
        with search._lock:
            search._prefixes_done += 1
            if error is not None:
                search._child_errors.append(error)


class BucketSearch(Job[SearchProgress, SearchProgress]):
    """Finds the objects under a prefix that match a :class:`SearchQuery`, streaming them.
    A :class:`~pail.services.jobs.Job`: ``start``, ``progress`` (a :class:`SearchProgress`),
    ``cancel`` (stops after the pages in flight; the matches so far stay), ``wait`` and
    ``run`` (the final snapshot), ``finished``.

    Args:
        driver: the store's driver (thread-safe).
        bucket: bucket name.
        prefix: ``""`` (whole bucket) or a prefix; one without a trailing ``/`` gets one.
        query: what to look for.
        cache: the session's :class:`ListingCache` (``None``: always walk, keep nothing).
        source: the connection's name in the cache (:func:`source_of`).
        refresh: walk even when the cache holds the prefix, and replace its listing.
        clock: "now" (aware UTC) for age terms and the cache's timestamps.
        workers: child prefixes listed at once.
        page_size: keys per listing page (1..1000).

    A failure of the level's listing ends the search (:attr:`SearchProgress.error`); a
    child prefix's failure is kept in ``child_errors`` and the others go on.
    """

    thread_name = "pail-search"

    def __init__(
        self,
        driver: StorageDriver,
        bucket: str,
        prefix: str,
        query: SearchQuery,
        *,
        cache: ListingCache | None = None,
        source: str = "",
        refresh: bool = False,
        clock: Callable[[], datetime] = _utc_now,
        workers: int = DEFAULT_WORKERS,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> None:
        super().__init__()
        self.driver = driver
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.query = query
        self.cache = cache
        self.source = source
        self.refresh = refresh
        self.clock = clock
        self.now = clock()
        self.workers = max(1, workers)
        self.page_size = page_size
        self.cache_limit = cache.max_keys if cache is not None else 0
        self._lock = threading.Lock()
        self._rows = LevelRows(self.prefix)
        self._examined = 0
        self._prefixes_total = 0
        self._prefixes_done = 0
        self._level_done = False
        self._error: StorageError | None = None
        self._child_errors: list[StorageError] = []
        self._listed_at: datetime | None = None
        # The first recursive page (see the module doc): the matches it showed, and while
        # it is out, the matches the walk showed (each key is shown once).
        self._early: set[str] | None = None
        self._shown_by_walk: set[str] | None = set()
        self._walk_over = False
        self._first_done = threading.Event()  # the child listings wait for it

    # -- results -----------------------------------------------------------------------

    @property
    def rows(self) -> LevelRows:
        """The matches (arrival order). Read it once :attr:`finished`; while the search
        runs, use :meth:`matches_since` (rows are appended from the job's threads)."""
        return self._rows

    def matches_since(self, start: int) -> list[Entry]:
        """The matches from the ``start``-th on (0-based, arrival order), as entries: a
        poller keeps the count it has and asks for the rest."""
        with self._lock:
            rows = self._rows
            return [rows.entry(i) for i in range(start, len(rows))]

    def progress(self) -> SearchProgress:
        """The figures now (any thread)."""
        done = self.finished  # read first: once done, the figures below are final
        elapsed = self.elapsed
        with self._lock:
            examined = self._examined
            return SearchProgress(
                bucket=self.bucket,
                prefix=self.prefix,
                keys_examined=examined,
                matches=len(self._rows),
                prefixes_done=self._prefixes_done,
                prefixes_total=self._prefixes_total,
                level_done=self._level_done,
                keys_per_second=examined / elapsed if elapsed > 0 else 0.0,
                elapsed=elapsed,
                done=done,
                cancelled=self.cancelled and done,
                error=self._error,
                child_errors=tuple(self._child_errors),
                listed_at=self._listed_at,
            )

    def report(self) -> SearchProgress:
        """The figures now; final once :attr:`finished` (what :meth:`wait` returns)."""
        return self.progress()

    # -- work --------------------------------------------------------------------------

    def _work(self) -> None:
        cache = self.cache
        if cache is not None:
            if self.refresh:
                cache.drop(self.source, self.bucket, self.prefix)
            else:
                hit = cache.get(self.source, self.bucket, self.prefix)
                if hit is not None:
                    self._from_cache(hit)
                    return
        seen = _Seen(self, keep_all=cache is not None)
        first = self.driver.provider != "local"  # a folder has no round trip to hide
        if first:
            threading.Thread(target=self._first_page, name="pail-search-first", daemon=True).start()
        try:
            whole = walk_prefix(
                self.driver,
                self.bucket,
                self.prefix,
                seen,
                workers=self.workers,
                page_size=self.page_size,
                stop=self._cancel,
                best_effort=True,
                name="pail-search",
                children_after=self._first_done if first else None,
            )
        except StorageError as exc:
            with self._lock:
                self._error = exc
            return
        finally:
            with self._lock:
                self._walk_over = True  # a first page arriving now changes nothing
        if whole and cache is not None and seen.all is not None:
            listing = CachedListing(self.source, self.bucket, self.prefix, seen.all, self.clock())
            cache.put(listing)

    def _first_page(self) -> None:
        """One recursive page of the prefix, listed beside the level (daemon thread). Its
        matches not shown yet are shown; the walk then skips them. Only a head start: a
        failure is ignored (the walk lists, and reports, the same keys)."""
        try:
            page = self.driver.list_page(
                self.bucket, self.prefix, delimiter="", page_size=self.page_size
            )
        except Exception:  # the walk reports the store's errors
            page = None
        try:
            self._show_first(page)
        finally:
            self._first_done.set()

    def _show_first(self, page: Page | None) -> None:
        test = self.query.matcher(self.prefix, self.now)
        prefix = self.prefix
        with self._lock:
            shown, self._shown_by_walk = self._shown_by_walk or set(), None
            if page is None or self._walk_over or self._cancel.is_set():
                return
            found = [
                e
                for e in page.entries
                if not e.is_prefix
                and e.key.startswith(prefix)
                and e.key not in shown
                and test(e.key, e.size, e.last_modified)
            ]
            self._early = {e.key for e in found}
            self._rows.extend(found)

    def _from_cache(self, hit: CachedListing) -> None:
        """Answer from a cached listing (``hit.prefix`` may be above ours)."""
        with self._lock:
            self._listed_at = hit.listed_at
            self._level_done = True
        rows, prefix = hit.rows, self.prefix
        test = self.query.matcher(prefix, self.now)
        narrow = hit.prefix != prefix
        for start in range(0, len(rows), _CACHE_CHUNK):
            if self._cancel.is_set():
                return
            found: list[Entry] = []
            examined = 0
            for i in range(start, min(start + _CACHE_CHUNK, len(rows))):
                key = rows.key(i)
                if narrow and not key.startswith(prefix):
                    continue
                examined += 1
                if test(key, rows.size(i), rows.modified(i)):
                    found.append(rows.entry(i))
            with self._lock:
                self._examined += examined
                if found:
                    self._rows.extend(found)


__all__ = [
    "DEFAULT_CACHE_KEYS",
    "BucketSearch",
    "CachedListing",
    "Condition",
    "ListingCache",
    "QueryError",
    "SearchProgress",
    "SearchQuery",
    "parse_query",
    "source_of",
]
