"""A thread pool of daemon threads for the app's I/O workers.

Textual runs ``@work(thread=True)`` workers with ``loop.run_in_executor(None, ...)``, the
event loop's default executor. The standard ``ThreadPoolExecutor`` joins its threads when
the loop shuts down and again at interpreter exit, so pressing ``q`` while a request hangs
(a slow endpoint, botocore's 60 s read timeout) would freeze the terminal until it gives
up. This pool's threads are daemons and :meth:`DaemonPool.shutdown` never waits: quitting
is immediate, and an abandoned request dies with the process.

Work that was cancelled before a thread picked it up (a detail worker made stale by
moving the cursor) is skipped without running.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

#: Threads in the pool: enough for a few listings and a detail request at once.
DEFAULT_THREADS = 8


class DaemonPool(ThreadPoolExecutor):
    """A fixed pool of daemon threads; ``shutdown`` does not wait for running work.

    It subclasses ``ThreadPoolExecutor`` only because ``loop.set_default_executor``
    requires one; ``submit`` and ``shutdown`` are its own.

    Args:
        threads: number of worker threads, started on first use.
    """

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        super().__init__(max_workers=max(1, threads), thread_name_prefix="pail-io")
        self._size = max(1, threads)
        self._queue: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``fn(*args, **kwargs)``; returns its future. Raises RuntimeError after
        :meth:`shutdown`."""
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot schedule new work after shutdown")
            self._queue.put((future, lambda: fn(*args, **kwargs)))
            if len(self._threads) < self._size:
                thread = threading.Thread(target=self._run, name="pail-io", daemon=True)
                self._threads.append(thread)
                thread.start()
        return future

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, call = item
            if not future.set_running_or_notify_cancel():
                continue  # cancelled while queued
            try:
                result = call()
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop accepting work and let idle threads exit. Never blocks (``wait`` is
        ignored on purpose: see the module doc)."""
        with self._lock:
            self._closed = True
            while cancel_futures:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for _ in self._threads:
                self._queue.put(None)
