"""A seekable, read-only file over ranged GETs, with a hard byte budget.

:class:`RangedReader` lets file-format libraries that want a seekable file (pyarrow's
Parquet reader, :mod:`zipfile`) work on an object in a bucket without downloading it: each
read becomes ``driver.read_range(bucket, key, start, length)`` (``Range: bytes=a-b``, RFC
9110 section 14.1.2) for the bytes not fetched yet.

The budget is what makes "a preview of a 1 GiB object reads no more than the limit" hold
whatever the format: every byte fetched is counted in :attr:`RangedReader.bytes_fetched`,
and a read that would need more than ``budget`` bytes in total raises
:class:`PreviewBudgetExceeded` *before* the request is sent.

Fetched bytes are kept (as sorted, merged extents), so reading the same region twice costs
one request; the cache can never hold more than ``budget`` bytes. Small reads are widened
by up to ``readahead`` bytes (parsers read a few bytes at a time), but only as far as the
budget allows.

The object's size comes from HeadObject (:class:`~pail.drivers.base.ObjectInfo.size`), so
ranges are absolute and stay consistent with that size even if the object is appended to
(e.g. a live log) while it is previewed. Not thread-safe: one reader per preview.
"""

from __future__ import annotations

import bisect
import io
from typing import TYPE_CHECKING

from pail.drivers.base import StorageDriver

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer  # the type RawIOBase.readinto takes

#: Default widening of small reads, in bytes.
READAHEAD = 64 * 1024


class PreviewBudgetExceeded(Exception):
    """A read would fetch more bytes than the preview's budget allows.

    Attributes:
        needed: bytes the read would have fetched.
        budget: the reader's budget in bytes.
        fetched: bytes already fetched.
    """

    def __init__(self, needed: int, budget: int, fetched: int) -> None:
        super().__init__(
            f"reading {needed:,} more bytes would exceed the preview budget of {budget:,} "
            f"bytes ({fetched:,} already read)"
        )
        self.needed, self.budget, self.fetched = needed, budget, fetched


class RangedReader(io.RawIOBase):
    """A read-only, seekable binary file over ``driver.read_range``.

    Args:
        driver: any :class:`~pail.drivers.base.StorageDriver`.
        bucket, key, version_id: the object.
        size: the object's size in bytes (from ``driver.head``).
        budget: most bytes this reader may fetch in total.
        readahead: small reads are widened to this many bytes (within the budget).

    Raises (from reads):
        PreviewBudgetExceeded: the read needs bytes beyond the budget.
        StorageError: whatever the driver raises (AccessDenied, NotFound...).
    """

    def __init__(
        self,
        driver: StorageDriver,
        bucket: str,
        key: str,
        size: int,
        *,
        budget: int,
        version_id: str | None = None,
        readahead: int = READAHEAD,
    ) -> None:
        super().__init__()
        self.driver, self.bucket, self.key, self.version_id = driver, bucket, key, version_id
        self.size = max(0, size)
        self.budget = max(0, budget)
        self.readahead = readahead
        self.bytes_fetched = 0
        #: Set when a read was refused for the budget (libraries such as pyarrow may wrap
        #: the exception in their own, so callers check this flag).
        self.budget_exceeded = False
        #: Number of ranged GETs sent.
        self.requests = 0
        self._pos = 0
        self._starts: list[int] = []  # sorted extent starts
        self._extents: dict[int, bytes] = {}

    # -- io.RawIOBase ----------------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(22, "negative seek position")
        self._pos = pos
        return pos

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read_at(self._pos, len(view))
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def readall(self) -> bytes:
        data = self.read_at(self._pos, self.size - self._pos)
        self._pos += len(data)
        return data

    # -- ranged access ---------------------------------------------------------------------

    @property
    def remaining_budget(self) -> int:
        """Bytes that may still be fetched."""
        return self.budget - self.bytes_fetched

    def read_at(self, offset: int, length: int, *, exact: bool = False) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end of the object), fetching only
        the parts not read before. Does not move the file position. ``exact`` turns off
        the read-ahead (for reads whose length is known, like a safetensors header)."""
        end = min(self.size, offset + max(0, length))
        if offset >= end:
            return b""
        gaps = self._gaps(offset, end)
        needed = sum(b - a for a, b in gaps)
        if needed > self.remaining_budget:
            self.budget_exceeded = True
            raise PreviewBudgetExceeded(needed, self.budget, self.bytes_fetched)
        spare = 0 if exact else self.remaining_budget - needed
        for a, b in gaps:
            # Widen a small read forward (parsers read headers a few bytes at a time), up
            # to the next cached extent and within the budget.
            limit = self._next_start(b)
            widened = min(limit, self.size, max(b, a + self.readahead), b + spare)
            spare -= widened - b
            self._fetch(a, widened)
        return self._assemble(offset, end)

    def read_within_budget(self, offset: int, length: int) -> bytes:
        """Like :meth:`read_at`, but instead of raising when the budget runs out, return the
        bytes from ``offset`` up to where the budget allowed (possibly fewer than asked)."""
        end = min(self.size, offset + max(0, length))
        for a, b in self._gaps(offset, end):
            allow = min(b - a, self.remaining_budget)
            if allow > 0:
                self._fetch(a, a + allow)
            if allow < b - a:
                end = a + max(0, allow)
                break
        return self._assemble(offset, end) if offset < end else b""

    def tail(self, length: int) -> tuple[int, bytes]:
        """The last ``length`` bytes: ``(offset of the first byte, bytes)``."""
        start = max(0, self.size - max(0, length))
        return start, self.read_at(start, self.size - start)

    # -- extents ---------------------------------------------------------------------------

    def _next_start(self, pos: int) -> int:
        i = bisect.bisect_left(self._starts, pos)
        return self._starts[i] if i < len(self._starts) else self.size

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        gaps, pos = [], start
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while pos < end and i < len(self._starts):
            s = self._starts[i]
            e = s + len(self._extents[s])
            if e <= pos:
                i += 1
                continue
            if s > pos:
                gaps.append((pos, min(s, end)))
            pos = max(pos, e)
            i += 1
        if pos < end:
            gaps.append((pos, end))
        return gaps

    def _fetch(self, start: int, end: int) -> None:
        data = self.driver.read_range(
            self.bucket, self.key, start, end - start, version_id=self.version_id
        )
        self.requests += 1
        self.bytes_fetched += len(data)
        if len(data) > end - start:  # a misbehaving backend must not break the budget
            data = data[: end - start]
        if not data:
            # The object shrank after HeadObject: treat the rest as gone.
            self.size = min(self.size, start)
            return
        if len(data) < end - start:
            self.size = min(self.size, start + len(data))
        self._insert(start, data)

    def _insert(self, start: int, data: bytes) -> None:
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._extents[start] = data
        # Merge with the following and preceding extents when they touch.
        if i + 1 < len(self._starts) and self._starts[i + 1] == start + len(data):
            nxt = self._starts.pop(i + 1)
            self._extents[start] += self._extents.pop(nxt)
        if i > 0:
            prev = self._starts[i - 1]
            if prev + len(self._extents[prev]) == start:
                self._starts.pop(i)
                self._extents[prev] += self._extents.pop(start)

    def _assemble(self, start: int, end: int) -> bytes:
        end = min(end, self.size)
        parts, pos = [], start
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        while pos < end and i < len(self._starts):
            s = self._starts[i]
            data = self._extents[s]
            if s <= pos < s + len(data):
                chunk = data[pos - s : end - s]
                parts.append(chunk)
                pos += len(chunk)
            elif s > pos:
                break  # the object ended early: return what exists
            i += 1
        return b"".join(parts)
