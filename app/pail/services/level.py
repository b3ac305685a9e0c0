"""One big level (or a search's results) kept compact, sorted and filtered at interactive speed.

A 100,000-key prefix must load, sort and filter without per-row objects:

* :class:`LevelRows` stores the listed entries as columns: keys in one ``list[str]``, sizes
  and last-modified times in ``array('q')`` (a sentinel for "none"), storage classes as
  small interned ids, kinds in a ``bytearray``. An :class:`~pail.drivers.base.Entry` is
  built only when asked for (:meth:`LevelRows.entry`). About 200 bytes a key, the key string
  included (``benchmarks/level_bench.py`` measures it).
* :class:`LevelView` is an order and a filter over a :class:`LevelRows`, held as arrays of
  row indices: sorting is one ``sorted`` over ``range(n)``; a page appended later is sorted
  on its own and merged in (:meth:`LevelView.update`); a filter that extends the previous
  text only filters the previous result.
* :class:`Marks` is the set of marked keys with their count and total size.
* :class:`LoadAll` is the "load everything" job: it drives a
  :class:`~pail.services.listing.LevelPager` to the last page on a daemon thread and hands
  each page to a callback as it arrives.

Sizes are bytes; times are timezone-aware UTC ``datetime``. Nothing here imports the UI.
"""

from __future__ import annotations

import fnmatch
import re
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

from pail.drivers.base import Entry, Page
from pail.drivers.errors import StorageError
from pail.services.jobs import Job
from pail.services.listing import LevelPager

SortBy = Literal["name", "size", "modified", "class"]

#: Stored in the size and time columns for "none" (a prefix's size, an unknown time).
_NONE = -(2**63)
#: Sort value of "none": after every real value, ascending or descending.
_LAST = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)
_PREFIX, _OBJECT = 1, 0
#: Characters that make a filter text a glob (fnmatch's special characters).
_GLOB_CHARS = frozenset("*?[")


def _micros(when: datetime | None) -> int:
    """``when`` as whole microseconds since the epoch (a naive time is taken as UTC);
    :data:`_NONE` for ``None``."""
    if when is None:
        return _NONE
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - _EPOCH) // _MICROSECOND


class LevelRows:
    """The entries of one listed level (or of a search), as compact columns.

    Args:
        prefix: the level's prefix (``"runs/"``; ``""`` for a bucket's top level or a
            search of the whole bucket). Names (:meth:`name`, the filter) are keys relative
            to it.

    Columns: keys (``list[str]``), sizes in bytes and last-modified times in microseconds
    since the epoch, UTC (``array('q')``, exact for every ``datetime``; a sentinel stands
    for ``None``), storage classes as ids into a small table (one byte each while there are
    fewer than 256 distinct classes), kinds (``bytearray``: object or prefix), ETags
    (``list``; ``None`` for prefixes) and version ids (a sparse ``dict``, since a plain
    listing has none).

    Threads: one writer (:meth:`extend`). :func:`len` is published after every column has
    the new rows, so a reader in another thread only ever sees whole rows.
    """

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self._keys: list[str] = []
        self._sizes = array("q")
        self._times = array("q")
        self._kinds = bytearray()
        self._class_col = array("B")
        self._class_names: list[str | None] = [None]  # id 0 = no storage class
        self._class_ids: dict[str | None, int] = {None: 0}
        self._etags: list[str | None] = []
        self._versions: dict[int, str] = {}
        self._count = 0

    # -- writing ----------------------------------------------------------------------

    def extend(self, entries: Iterable[Entry]) -> None:
        """Append ``entries`` (a listing page, in the order listed).

        Raises:
            ValueError: an entry's size is out of the signed 64-bit range (never from a
                real store).
        """
        base = len(self._keys)
        keys: list[str] = []
        sizes: list[int] = []
        times: list[int] = []
        kinds = bytearray()
        classes: list[int] = []
        etags: list[str | None] = []
        versions: dict[int, str] = {}
        class_ids = self._class_ids
        for entry in entries:
            keys.append(entry.key)
            size = entry.size
            sizes.append(_NONE if size is None else size)
            times.append(_micros(entry.last_modified))
            kinds.append(_PREFIX if entry.type == "prefix" else _OBJECT)
            cls = entry.storage_class
            cid = class_ids.get(cls)
            if cid is None:
                cid = class_ids[cls] = len(self._class_names)
                self._class_names.append(cls)
            classes.append(cid)
            etags.append(entry.etag)
            if entry.version_id is not None:
                versions[base + len(keys) - 1] = entry.version_id
        try:
            size_col, time_col = array("q", sizes), array("q", times)
        except OverflowError as exc:  # before any column changed
            raise ValueError(f"a size or time out of the 64-bit range: {exc}") from exc
        self._keys.extend(keys)
        self._sizes.extend(size_col)
        self._times.extend(time_col)
        self._kinds.extend(kinds)
        if len(self._class_names) > 256 and self._class_col.typecode == "B":
            self._class_col = array("I", self._class_col)  # more classes than a byte holds
        self._class_col.extend(classes)
        self._etags.extend(etags)
        self._versions.update(versions)
        self._count = len(self._keys)  # published last: readers see whole rows

    # -- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        return self._count

    def key(self, i: int) -> str:
        """Row ``i``'s full key (a prefix ends with its delimiter)."""
        return self._keys[self._check(i)]

    def name(self, i: int) -> str:
        """Row ``i``'s key relative to :attr:`prefix` (the whole key when it lies outside)."""
        key = self._keys[self._check(i)]
        return key[len(self.prefix) :] if key.startswith(self.prefix) else key

    def is_prefix(self, i: int) -> bool:
        """True when row ``i`` is a common prefix ("folder")."""
        return self._kinds[self._check(i)] == _PREFIX

    def size(self, i: int) -> int | None:
        """Row ``i``'s size in bytes; ``None`` for a prefix or when the listing gave none."""
        value = self._sizes[self._check(i)]
        return None if value == _NONE else value

    def modified(self, i: int) -> datetime | None:
        """Row ``i``'s last-modified time (UTC), or ``None``."""
        value = self._times[self._check(i)]
        return None if value == _NONE else _EPOCH + timedelta(microseconds=value)

    def storage_class(self, i: int) -> str | None:
        """Row ``i``'s storage class as listed (``"STANDARD"``, ``"GLACIER"``...) or ``None``."""
        return self._class_names[self._class_col[self._check(i)]]

    def etag(self, i: int) -> str | None:
        """Row ``i``'s ETag as listed (no quotes), or ``None``."""
        return self._etags[self._check(i)]

    def entry(self, i: int) -> Entry:
        """Row ``i`` as an :class:`~pail.drivers.base.Entry` (built now, not stored)."""
        self._check(i)
        return Entry(
            key=self._keys[i],
            type="prefix" if self._kinds[i] == _PREFIX else "object",
            size=self.size(i),
            last_modified=self.modified(i),
            etag=self._etags[i],
            storage_class=self.storage_class(i),
            version_id=self._versions.get(i),
        )

    def find(self, key: str) -> int | None:
        """The first row whose key is ``key``, or ``None`` (a linear scan at C speed)."""
        try:
            i = self._keys.index(key, 0, self._count)
        except ValueError:
            return None
        return i

    def _check(self, i: int) -> int:
        if not 0 <= i < self._count:
            raise IndexError(f"row {i} of {self._count}")
        return i


def is_glob(text: str) -> bool:
    """True when ``text`` holds one of fnmatch's special characters ``*``, ``?``, ``[``."""
    return not _GLOB_CHARS.isdisjoint(text)


class LevelView:
    """The rows of a :class:`LevelRows` in display order, filtered: arrays of row indices.

    Args:
        rows: the rows (more may be appended later; call :meth:`update` to take them in).

    Order. :meth:`set_sort`: by ``"name"`` (the key; UTF-8 byte order, as S3 and GCS list),
    ``"size"``, ``"modified"`` or ``"class"`` (storage class name), ascending or
    descending. Rows without the value (a prefix's size, a missing time or class) come
    last either way; ties keep name order (ascending), then listing order.

    Filter. :meth:`set_filter`: empty shows every row; text with ``*``, ``?`` or ``[`` is a
    glob matched against the whole name relative to the level (:mod:`fnmatch` semantics:
    ``*`` also matches ``/``); any other text is a substring of the name. Both ignore case
    (:meth:`str.lower` on both sides). A substring text that contains the previous one
    only filters the previous result (typing narrows).

    Threads: the UI's thread only (not locked). :meth:`update` reads rows appended by
    another thread safely (see :class:`LevelRows`).
    """

    def __init__(self, rows: LevelRows) -> None:
        self.rows = rows
        self._by: SortBy = "name"
        self._descending = False
        self._text = ""
        self._seen = 0  # rows taken in
        self._order = array("I")  # every row taken in, in internal order
        self._shown: array[int] | None = None  # the filtered rows; None: no filter
        self._prim = array("q")  # per-row sort value (size/time/class rank), directed
        self._ranks: dict[int, int] = {}  # class id -> rank (sort by class)
        self._lower: list[str] = []  # lower-cased names (kept as rows arrive: no typing lag)
        self._matcher: Callable[[str], Any] | None = None
        self.update()

    # -- settings ---------------------------------------------------------------------

    @property
    def sort_by(self) -> SortBy:
        """The current sort column."""
        return self._by

    @property
    def descending(self) -> bool:
        """True when the current sort is descending."""
        return self._descending

    @property
    def filter_text(self) -> str:
        """The current filter text (``""``: none)."""
        return self._text

    def set_sort(self, by: SortBy, descending: bool = False) -> None:
        """Order the rows by ``by`` (see the class doc); a full sort of the rows taken in.

        Raises:
            ValueError: ``by`` is not one of name, size, modified, class.
        """
        if by not in ("name", "size", "modified", "class"):
            raise ValueError(f"unknown sort column {by!r}: name, size, modified or class")
        if (by, descending) == (self._by, self._descending):
            return
        self._by, self._descending = by, descending
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Show only rows whose name matches ``text`` (see the class doc); ``""`` shows all.
        Any text is valid (fnmatch takes an unclosed ``[`` literally)."""
        old, self._text = self._text, text
        if text == old:
            return
        if not text:
            self._shown, self._matcher = None, None
            return
        matcher = self._make_matcher(text)
        narrowing = (
            self._shown is not None
            and old
            and not is_glob(old)
            and not is_glob(text)
            and old.lower() in text.lower()
        )
        base = self._shown if narrowing and self._shown is not None else self._order
        self._matcher = matcher
        self._shown = self._filter(base, matcher)

    # -- rows arriving ----------------------------------------------------------------

    def update(self) -> None:
        """Take in the rows appended to :attr:`rows` since the last call: they are sorted
        among themselves and merged into the order (and into the filtered rows when they
        match), without sorting the whole level again."""
        total = len(self.rows)
        if total == self._seen:
            return
        start, self._seen = self._seen, total
        new = range(start, total)
        self._lower.extend(self._lowered(new))
        if start == 0 or (
            self._by == "class"
            and any(cid not in self._ranks for cid in set(self.rows._class_col[start:total]))
        ):
            self._rebuild()  # the first rows; or a new class, which shifts every rank
            return
        self._extend_prim(new)
        key = self._sort_key()
        run = sorted(range(total - 1, start - 1, -1) if self._reversed() else new, key=key)
        self._order = _merge(self._order, run, key)
        if self._shown is not None and self._matcher is not None:
            lower = self._lower
            match = self._matcher
            matching = [i for i in run if match(lower[i])]
            self._shown = _merge(self._shown, matching, key)

    # -- reading ----------------------------------------------------------------------

    def __len__(self) -> int:
        """Rows shown (after the filter)."""
        return len(self._order if self._shown is None else self._shown)

    def index(self, position: int) -> int:
        """The row index (into :attr:`rows`) shown at ``position`` (0-based).

        Raises:
            IndexError: ``position`` is outside ``0 .. len(view) - 1``.
        """
        shown = self._order if self._shown is None else self._shown
        if not 0 <= position < len(shown):
            raise IndexError(f"position {position} of {len(shown)}")
        return shown[len(shown) - 1 - position] if self._reversed() else shown[position]

    def position_of(self, key: str) -> int | None:
        """Where the row with ``key`` is shown, or ``None`` (not listed or filtered out)."""
        row = self.rows.find(key)
        if row is None or row >= self._seen:
            return None
        shown = self._order if self._shown is None else self._shown
        try:
            at = shown.index(row)
        except ValueError:
            return None
        return len(shown) - 1 - at if self._reversed() else at

    def __iter__(self) -> Iterator[int]:
        """Row indices in display order (e.g. to mark every match)."""
        shown = self._order if self._shown is None else self._shown
        return reversed(shown) if self._reversed() else iter(shown)

    # -- inside -----------------------------------------------------------------------
    #
    # The internal order is ascending by _sort_key(i), which is unique per row (the row
    # index breaks ties). "name, descending" is kept as name ascending with later rows
    # first and shown back to front, since a string cannot be negated.

    def _reversed(self) -> bool:
        return self._by == "name" and self._descending

    def _sort_key(self) -> Callable[[int], tuple[Any, ...]]:
        keys, prim = self.rows._keys, self._prim
        if self._by == "name":
            if self._descending:
                return lambda i: (keys[i], -i)
            return lambda i: (keys[i], i)
        return lambda i: (prim[i], keys[i], i)

    def _rebuild(self) -> None:
        """A full sort of the rows taken in, then the filter again."""
        n = self._seen
        keys = self.rows._keys
        if self._reversed():
            order = sorted(range(n - 1, -1, -1), key=keys.__getitem__)
        else:
            order = sorted(range(n), key=keys.__getitem__)  # stable: listing order on ties
        if self._by != "name":
            self._ranks = {}
            self._prim = array("q")
            self._extend_prim(range(n))
            order.sort(key=self._prim.__getitem__)  # stable: name order on ties
        self._order = array("I", order)
        if self._shown is not None and self._matcher is not None:
            self._shown = self._filter(self._order, self._matcher)

    def _extend_prim(self, new: range) -> None:
        """Append the sort values of rows ``new`` to ``_prim`` (none for name sort)."""
        if self._by == "name":
            return
        rows = self.rows
        sign = -1 if self._descending else 1
        if self._by == "class":
            if not self._ranks or any(
                c not in self._ranks for c in set(rows._class_col[new.start : new.stop])
            ):
                names = rows._class_names
                real = sorted((cid for cid in range(1, len(names))), key=lambda c: names[c] or "")
                self._ranks = {cid: rank for rank, cid in enumerate(real)}
                self._ranks[0] = _LAST  # no class: last
            ranks = self._ranks
            col = rows._class_col
            values = [ranks[col[i]] for i in new]
        else:
            col = rows._sizes if self._by == "size" else rows._times
            values = [col[i] for i in new]
            values = [_LAST if v == _NONE else v for v in values]
        if sign < 0:
            values = [v if v == _LAST else -v for v in values]
        self._prim.extend(values)

    def _make_matcher(self, text: str) -> Callable[[str], Any]:
        needle = text.lower()
        if is_glob(text):
            return _Glob(needle)
        return _Contains(needle)

    def _lowered(self, new: range) -> list[str]:
        keys, cut = self.rows._keys, len(self.rows.prefix)
        prefix = self.rows.prefix
        return [(keys[i][cut:] if keys[i].startswith(prefix) else keys[i]).lower() for i in new]

    def _filter(self, base: array[int], match: Callable[[str], Any]) -> array[int]:
        lower = self._lower
        if isinstance(match, _Contains):
            needle = match.needle
            return array("I", [i for i in base if needle in lower[i]])
        if isinstance(match, _Glob) and match.shape is not None:
            # "*.ext", "name*", "*part*": one string method, no regular expression
            shape, lit = match.shape
            if shape == "suffix":
                return array("I", [i for i in base if lower[i].endswith(lit)])
            if shape == "prefix":
                return array("I", [i for i in base if lower[i].startswith(lit)])
            return array("I", [i for i in base if lit in lower[i]])
        if isinstance(match, _Glob) and match.literals:
            # The glob's two longest literals tested first, at substring speed; the
            # regular expression only for the rows that contain both.
            first, second, full = match.literals[0], match.literals[-1], match.regex
            if len(match.literals) > 2:
                second = match.literals[1]
            return array(
                "I",
                [i for i in base if first in lower[i] and second in lower[i] and full(lower[i])],
            )
        return array("I", [i for i in base if match(lower[i])])


def _glob_literals(pattern: str) -> list[str]:
    """The runs of plain characters every name matching ``pattern`` contains, longest
    first: the text between ``*``, ``?`` and ``[...]`` sets, parsed as
    :func:`fnmatch.translate` does (``[!...]`` negates, a ``]`` first in a set is literal,
    an unclosed ``[`` is a plain character)."""
    found: list[str] = []
    run: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char in "*?":
            found.append("".join(run))
            run = []
        elif char == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                run.append(char)  # no closing ]: a plain [
            else:
                found.append("".join(run))
                run = []
                i = j + 1
        else:
            run.append(char)
    found.append("".join(run))
    return sorted((lit for lit in found if lit), key=len, reverse=True)


class _Glob:
    """A lower-cased fnmatch pattern: its whole-name regular expression and its literals."""

    __slots__ = ("literals", "regex", "shape")

    def __init__(self, pattern: str) -> None:
        self.regex = re.compile(fnmatch.translate(pattern), re.DOTALL).match
        self.literals = _glob_literals(pattern)
        self.shape: tuple[str, str] | None = None
        if "?" not in pattern and "[" not in pattern:
            parts = pattern.split("*")
            if len(parts) == 2 and parts[0] == "" and parts[1]:
                self.shape = ("suffix", parts[1])
            elif len(parts) == 2 and parts[0] and parts[1] == "":
                self.shape = ("prefix", parts[0])
            elif len(parts) == 3 and parts[0] == parts[2] == "" and parts[1]:
                self.shape = ("contains", parts[1])

    def __call__(self, name: str) -> bool:
        return self.regex(name) is not None


class _Contains:
    """``needle in name`` as a callable (the filter loop inlines the test itself)."""

    __slots__ = ("needle",)

    def __init__(self, needle: str) -> None:
        self.needle = needle

    def __call__(self, name: str) -> bool:
        return self.needle in name


def _merge(order: array[int], run: list[int], key: Callable[[int], tuple[Any, ...]]) -> array[int]:
    """``order`` and ``run`` (both ascending by ``key``, keys unique) merged: each run
    element is placed by a binary search starting where the previous one went, and the
    stretches between are copied whole (C speed), so a page costs O(len(run) log n) key
    calls plus one copy, never a sort of the whole level."""
    if not run:
        return order
    if not order or key(order[-1]) < key(run[0]):
        order.extend(run)  # the usual case for name order: pages arrive in key order
        return order
    out = array("I")
    lo, n = 0, len(order)
    for row in run:
        at = bisect_left(order, key(row), lo, n, key=key)
        out.extend(order[lo:at])
        out.append(row)
        lo = at
    out.extend(order[lo:])
    return out


class Marks:
    """Marked keys (of a level or a search) with their count and total size.

    Attributes:
        count: keys marked. total_bytes: their sizes added up (a key marked with size
            ``None``, a prefix, counts 0 bytes).

    Keys keep the order they were marked in (iteration). The UI's thread only.
    """

    def __init__(self) -> None:
        self._sizes: dict[str, int] = {}
        self.count = 0
        self.total_bytes = 0

    def toggle(self, key: str, size: int | None) -> None:
        """Mark ``key`` (``size`` bytes) or, when marked, unmark it."""
        if key in self._sizes:
            self.total_bytes -= self._sizes.pop(key)
        else:
            self._sizes[key] = size or 0
            self.total_bytes += size or 0
        self.count = len(self._sizes)

    def add_all(self, items: Iterable[tuple[str, int | None]]) -> None:
        """Mark every ``(key, size)`` not marked yet ("mark all matches")."""
        sizes = self._sizes
        added = 0
        for key, size in items:
            if key not in sizes:
                sizes[key] = size or 0
                added += size or 0
        self.total_bytes += added
        self.count = len(sizes)

    def discard(self, key: str) -> None:
        """Unmark ``key`` if it is marked."""
        if key in self._sizes:
            self.toggle(key, None)

    def clear(self) -> None:
        """Unmark everything."""
        self._sizes.clear()
        self.count = self.total_bytes = 0

    def __contains__(self, key: object) -> bool:
        return key in self._sizes

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[str]:
        """Marked keys in the order marked."""
        return iter(list(self._sizes))


@dataclass(frozen=True)
class LoadProgress:
    """A snapshot of a :class:`LoadAll`.

    Attributes:
        keys: keys (objects and prefixes) of the level listed so far, pages loaded before
            the job included. pages: pages of the level loaded so far, likewise.
        fetched_keys, fetched_pages: what this job itself fetched.
        keys_per_second: ``fetched_keys`` over the job's elapsed seconds (0.0 at first).
        elapsed: seconds since the job started.
        done: the job has ended (last page, cancel or error). complete: the last page was
            fetched. cancelled: :meth:`LoadAll.cancel` was called and the job has ended.
        error: the failure that stopped it (the pager stays at that page: a new LoadAll
            on the same pager retries it).
    """

    keys: int
    pages: int
    fetched_keys: int
    fetched_pages: int
    keys_per_second: float
    elapsed: float
    done: bool
    complete: bool
    cancelled: bool
    error: StorageError | None


class LoadAll(Job[LoadProgress, LoadProgress]):
    """Loads the rest of a level: :meth:`LevelPager.fetch_next` until the last page, on a
    daemon thread (quitting never waits for the request in flight).

    Args:
        pager: the level's pager, possibly some pages in already; while the job runs
            nothing else should fetch from it (its lock keeps pages whole, but they would
            not reach ``on_page``).
        on_page: called on the job's thread with each page as it arrives, in listing
            order, empty pages included (a UI posts it to its own thread from there). An
            exception it raises ends the job (:attr:`error`, raised again by :meth:`wait`).

    :meth:`cancel` stops after the page in flight; that page still goes to ``on_page``
    (the pager has moved past it). A :class:`~pail.drivers.errors.StorageError` ends the
    job and shows in :meth:`progress`.
    """

    thread_name = "pail-load-all"

    def __init__(self, pager: LevelPager, on_page: Callable[[Page], None]) -> None:
        super().__init__()
        self.pager = pager
        self._on_page = on_page
        self._lock = threading.Lock()
        self._keys = pager.objects + pager.prefixes
        self._pages = pager.pages_loaded
        self._fetched_keys = 0
        self._fetched_pages = 0
        self._complete = not pager.has_more
        self._error: StorageError | None = None

    def progress(self) -> LoadProgress:
        """The figures now (any thread)."""
        done = self.finished  # read first: once done, the figures below are final
        elapsed = self.elapsed
        with self._lock:
            fetched = self._fetched_keys
            return LoadProgress(
                keys=self._keys,
                pages=self._pages,
                fetched_keys=fetched,
                fetched_pages=self._fetched_pages,
                keys_per_second=fetched / elapsed if elapsed > 0 else 0.0,
                elapsed=elapsed,
                done=done,
                complete=self._complete,
                cancelled=self.cancelled and done,
                error=self._error,
            )

    def report(self) -> LoadProgress:
        """The figures now; final once :attr:`finished` (what :meth:`wait` returns)."""
        return self.progress()

    def _work(self) -> None:
        pager = self.pager
        while pager.has_more and not self._cancel.is_set():
            try:
                page = pager.fetch_next()
            except StorageError as exc:
                with self._lock:
                    self._error = exc
                return
            self._on_page(page)
            with self._lock:
                self._keys = pager.objects + pager.prefixes
                self._pages = pager.pages_loaded
                self._fetched_keys += len(page.entries)
                self._fetched_pages += 1
                self._complete = not pager.has_more


__all__ = [
    "LevelRows",
    "LevelView",
    "LoadAll",
    "LoadProgress",
    "Marks",
    "SortBy",
    "is_glob",
]
