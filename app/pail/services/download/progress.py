"""Thread-safe download progress: per-file states and bytes, totals, rate and ETA.

Worker threads report into a :class:`ProgressTracker`; the UI or the CLI reads immutable
:class:`DownloadProgress` snapshots whenever it redraws (no callbacks into the UI thread).
The rate is a moving window over the last :data:`RATE_WINDOW` seconds of bytes fetched,
so it follows the current speed rather than the average since the start.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal

FileState = Literal["queued", "running", "done", "skipped", "failed", "cancelled"]
#: States a file does not leave.
FINAL_STATES = frozenset({"done", "skipped", "failed", "cancelled"})
#: Seconds of history behind the rate.
RATE_WINDOW = 5.0


@dataclass(frozen=True)
class FileProgress:
    """One file of a download.

    Attributes:
        key: the object's key. path: the local path it goes to (final name).
        size: object size in bytes (``None`` if unknown).
        bytes_done: bytes on disk for it, including bytes kept from an earlier attempt.
        resumed_from: bytes kept from an earlier run (on disk for a download; for an
            upload, parts of the multipart upload the store already held).
        state: queued, running, done, skipped, failed or cancelled.
        reason: why it was skipped / failed (plain text), else ``""``.
    """

    key: str
    path: str
    size: int | None
    bytes_done: int
    resumed_from: int
    state: FileState
    reason: str = ""


@dataclass(frozen=True)
class DownloadProgress:
    """A snapshot of a whole download.

    Attributes:
        files_total: files planned (refused keys not counted).
        files_done, files_skipped, files_failed, files_cancelled: files in each final state.
        bytes_total: bytes of all planned files (sizes known at planning).
        bytes_done: bytes on disk for them (done, running and resumed bytes; skipped files
            count as done).
        bytes_fetched: bytes received in this run.
        rate: bytes per second over the last few seconds.
        eta: seconds left at that rate (``None`` when unknown or stalled).
        elapsed: seconds since the download started.
        finished: every file reached a final state.
        files: per-file progress in plan order.
    """

    files_total: int
    files_done: int
    files_skipped: int
    files_failed: int
    files_cancelled: int
    bytes_total: int
    bytes_done: int
    bytes_fetched: int
    rate: float
    eta: float | None
    elapsed: float
    finished: bool
    files: tuple[FileProgress, ...]

    @property
    def files_finished(self) -> int:
        """Files in a final state (done, skipped, failed or cancelled)."""
        return self.files_done + self.files_skipped + self.files_failed + self.files_cancelled


class _File:
    __slots__ = ("bytes_done", "key", "path", "reason", "resumed_from", "size", "state")

    def __init__(self, key: str, path: str, size: int | None) -> None:
        self.key, self.path, self.size = key, path, size
        self.bytes_done = self.resumed_from = 0
        self.state: FileState = "queued"
        self.reason = ""


class ProgressTracker:
    """Collects progress from worker threads; :meth:`snapshot` reads it consistently.

    Args:
        files: ``(key, path, size)`` per planned file, in plan order.
        clock: monotonic clock in seconds (injectable for tests).
    """

    def __init__(self, files: list[tuple[str, str, int | None]], clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._files = {key: _File(key, path, size) for key, path, size in files}
        self._order = [key for key, _, _ in files]
        self._fetched = 0
        self._start = clock()
        self._samples: deque[tuple[float, int]] = deque([(self._start, 0)])

    def set_state(self, key: str, state: FileState, reason: str = "", path: str | None = None):
        """Move ``key`` to ``state`` (with a plain-text reason; a new final path for
        keep-both)."""
        with self._lock:
            f = self._files[key]
            f.state, f.reason = state, reason
            if path is not None:
                f.path = path
            if state == "skipped" and f.size is not None:
                f.bytes_done = f.size

    def resumed(self, key: str, offset: int) -> None:
        """``offset`` bytes of ``key`` were already on disk; fetching restarts there."""
        with self._lock:
            f = self._files[key]
            f.resumed_from = f.bytes_done = offset

    def add_resumed(self, key: str, count: int) -> None:
        """``count`` more bytes of ``key`` were kept from an earlier run (e.g. the parts of
        a multipart upload the store already holds, found by ListParts): they count in
        ``bytes_done`` and ``resumed_from`` but not in ``bytes_fetched`` nor the rate
        window, which measure this run's transfer only. May be called several times (one
        call per reused part, from any thread)."""
        with self._lock:
            f = self._files[key]
            f.bytes_done += count
            f.resumed_from += count

    def restart(self, key: str) -> None:
        """Discard the bytes counted for ``key`` (e.g. after a checksum mismatch)."""
        with self._lock:
            f = self._files[key]
            f.bytes_done = f.resumed_from = 0

    def add_bytes(self, key: str, count: int) -> None:
        """``count`` more bytes of ``key`` arrived (called from transfer threads)."""
        with self._lock:
            self._files[key].bytes_done += count
            self._fetched += count
            now = self._clock()
            if now - self._samples[-1][0] >= 0.05:
                self._samples.append((now, self._fetched))
            while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
                self._samples.popleft()

    def snapshot(self, *, with_files: bool = True) -> DownloadProgress:
        """A consistent :class:`DownloadProgress` (``with_files=False`` skips the per-file
        tuple, for cheap redraws of totals)."""
        with self._lock:
            now = self._clock()
            files = [self._files[k] for k in self._order]
            counts = {s: 0 for s in FINAL_STATES}
            for f in files:
                if f.state in counts:
                    counts[f.state] += 1
            total = sum(f.size or 0 for f in files)
            done = sum(f.bytes_done for f in files)
            first_t, first_b = self._samples[0]
            span = now - first_t
            rate = (self._fetched - first_b) / span if span > 0 else 0.0
            pending = [f for f in files if f.state in ("queued", "running")]
            left = sum(max(0, (f.size or 0) - f.bytes_done) for f in pending)
            eta = left / rate if rate > 0 else (0.0 if not pending else None)
            detail = tuple(
                FileProgress(f.key, f.path, f.size, f.bytes_done, f.resumed_from, f.state, f.reason)
                for f in files
            ) if with_files else ()  # fmt: skip
            return DownloadProgress(
                files_total=len(files),
                files_done=counts["done"],
                files_skipped=counts["skipped"],
                files_failed=counts["failed"],
                files_cancelled=counts["cancelled"],
                bytes_total=total,
                bytes_done=done,
                bytes_fetched=self._fetched,
                rate=rate,
                eta=eta,
                elapsed=now - self._start,
                finished=not pending,
                files=detail,
            )
