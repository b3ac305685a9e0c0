"""A small thread pool whose threads never hold up the end of the process.

:class:`concurrent.futures.ThreadPoolExecutor` joins its worker threads when the
interpreter exits (``concurrent.futures.thread`` registers an exit hook that waits for
every worker), so one request hung on a dead connection keeps ``pail rm`` alive after
Ctrl-C for as long as the socket's timeout and retries allow. :class:`DaemonPool` runs
calls on daemon threads instead, and leaving its ``with`` block never waits: the bulk
engines (downloads, the delete planner's walk and the deleter) use it so that an
interrupt ends the process at once, whatever requests are still in flight. Callers that
need the results wait on the futures, as with an executor.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from types import TracebackType
from typing import Any, TypeVar

T = TypeVar("T")

_STOP = object()


class DaemonPool:
    """Up to ``workers`` daemon threads (started as work arrives) running submitted calls.

    Args:
        workers: threads at most (at least 1).
        name: thread name prefix (``name-0``, ``name-1``...).

    Unlike an executor, :meth:`shutdown` and the end of a ``with`` block never wait for
    running calls; a call still running when the process exits is abandoned.
    """

    def __init__(self, workers: int, name: str = "pail-pool") -> None:
        self._max = max(1, workers)
        self._name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0  # threads waiting for work
        self._pending = 0  # calls queued, not yet taken by a thread
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``fn(*args)``; its :class:`~concurrent.futures.Future` gets the result or
        the exception. Raises RuntimeError after :meth:`shutdown`."""
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the pool is shut down")
            self._queue.put((future, fn, args))
            self._pending += 1
            if self._pending > self._idle and len(self._threads) < self._max:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        return future

    def shutdown(self, *, cancel_pending: bool = False) -> None:
        """Take no more work; threads end once the queue is drained. With
        ``cancel_pending`` the calls not started yet are cancelled. Never waits."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_pending:
                while True:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is not _STOP:
                        item[0].cancel()
            for _ in self._threads:
                self._queue.put(_STOP)

    def __enter__(self) -> DaemonPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown(cancel_pending=exc_type is not None)

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            item = self._queue.get()
            with self._lock:
                self._idle -= 1
                if item is not _STOP:
                    self._pending -= 1
            if item is _STOP:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args)
            except BaseException as exc:  # handed to the caller through the future
                future.set_exception(exc)
            else:
                future.set_result(result)


def run_each(
    items: Iterable[T],
    work: Callable[[T], None],
    *,
    workers: int,
    name: str,
    stop: threading.Event | None = None,
) -> None:
    """Call ``work(item)`` for every item on at most ``workers`` daemon threads and return
    when all calls returned. Items not started when ``stop`` is set are skipped. ``work``
    handles its own exceptions; one that escapes is re-raised here after the others ran.
    """

    def guarded(item: T) -> None:
        if stop is None or not stop.is_set():
            work(item)

    with DaemonPool(workers, name) as pool:
        futures = [pool.submit(guarded, item) for item in items]
    for future in futures:
        future.result()


def start_daemon(target: Callable[[], None], name: str) -> threading.Thread:
    """Start ``target`` on a new daemon thread (one that never holds up the end of the
    process) and return the thread."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


__all__ = ["DaemonPool", "run_each", "start_daemon"]
