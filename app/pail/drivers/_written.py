"""Which bytes of a parallel download reached the file, so a stopped one can resume.

Parallel parts land at their offsets in any order, so after a cancel or an error the file
can hold holes. :func:`keep_contiguous` truncates it to the longest run written from byte
0, which is exactly what a later ranged resume (``bytes=N-``) may trust.
"""

from __future__ import annotations

import threading
from typing import Any


class WrittenRanges:
    """A thread-safe record of ``(offset, length)`` byte ranges written to one file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ranges: list[tuple[int, int]] = []

    def add(self, offset: int, length: int) -> None:
        """Record ``length`` bytes written at ``offset``."""
        if length > 0:
            with self._lock:
                self._ranges.append((offset, length))

    def contiguous(self) -> int:
        """Bytes written without a gap from offset 0."""
        end = 0
        with self._lock:
            ranges = sorted(self._ranges)
        for offset, length in ranges:
            if offset > end:
                break
            end = max(end, offset + length)
        return end


class RecordingFile:
    """A seekable write-only wrapper of a binary file that records what it writes
    (s3transfer writes parts with ``seek`` + ``write`` from its IO thread)."""

    def __init__(self, fh: Any, ranges: WrittenRanges) -> None:
        self._fh = fh
        self._ranges = ranges

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def write(self, data: bytes) -> int:
        offset = self._fh.tell()
        written = self._fh.write(data)
        self._ranges.add(offset, written if written is not None else len(data))
        return written


def keep_contiguous(fh: Any, ranges: WrittenRanges) -> None:
    """Truncate ``fh`` after the bytes written without a gap from offset 0."""
    fh.flush()
    fh.truncate(ranges.contiguous())
