"""Byte ranges of one object that have reached the local file.

A download writes ranged parts at their offsets in any order, and a stop (cancel, a
failed part, ``kill -9``) can leave holes. The ranges that are really on disk are recorded
(in the partial's sidecar, :mod:`pail.services.download.state`) so a rerun fetches exactly
the missing ones, never trusting a file's length: a preallocated file is as long as the
object from the first byte written.

Ranges are half-open ``[start, end)`` in bytes, kept sorted and merged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class RangeSet:
    """A thread-safe set of half-open byte ranges ``[start, end)``, merged as they are added.

    Args:
        ranges: initial ``(start, end)`` pairs; empty or inverted ones are ignored.
    """

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        self._lock = threading.Lock()
        self._ranges: list[tuple[int, int]] = []
        for start, end in ranges:
            self.add(start, end)

    def add(self, start: int, end: int) -> None:
        """Record ``[start, end)`` as present (no-op when ``end <= start``)."""
        if end <= start:
            return
        with self._lock:
            merged: list[tuple[int, int]] = []
            placed = False
            for a, b in self._ranges:
                if b < start:
                    merged.append((a, b))
                elif end < a:
                    if not placed:
                        merged.append((start, end))
                        placed = True
                    merged.append((a, b))
                else:  # overlapping or touching: absorb
                    start, end = min(a, start), max(b, end)
            if not placed:
                merged.append((start, end))
            merged.sort()
            self._ranges = merged

    def ranges(self) -> list[tuple[int, int]]:
        """The merged ranges, sorted by start."""
        with self._lock:
            return list(self._ranges)

    def covered(self) -> int:
        """Bytes present in total."""
        with self._lock:
            return sum(b - a for a, b in self._ranges)

    def reach(self, pos: int) -> int:
        """Where the bytes present from ``pos`` on end: the end of the range holding
        ``pos``, or ``pos`` itself when that byte is missing."""
        with self._lock:
            for a, b in self._ranges:
                if a <= pos < b:
                    return b
                if a > pos:
                    break
        return pos

    def missing(self, size: int) -> list[tuple[int, int]]:
        """The ranges of ``[0, size)`` not present, sorted."""
        gaps: list[tuple[int, int]] = []
        pos = 0
        for a, b in self.ranges():
            if a >= size:
                break
            if a > pos:
                gaps.append((pos, a))
            pos = max(pos, b)
        if pos < size:
            gaps.append((pos, size))
        return gaps

    def complete(self, size: int) -> bool:
        """True when every byte of ``[0, size)`` is present."""
        return not self.missing(size)

    def clipped(self, size: int) -> RangeSet:
        """A copy limited to ``[0, size)`` (ranges a sidecar may have recorded past the end
        of a smaller object are dropped)."""
        return RangeSet((max(0, a), min(b, size)) for a, b in self.ranges() if a < size)


def split(ranges: Iterable[tuple[int, int]], part: int) -> list[tuple[int, int]]:
    """``ranges`` cut into pieces of at most ``part`` bytes, in order (``part`` >= 1)."""
    pieces: list[tuple[int, int]] = []
    for start, end in ranges:
        while start < end:
            stop = min(end, start + part)
            pieces.append((start, stop))
            start = stop
    return pieces
