"""A thread pool of daemon threads for the app's I/O workers.

Textual runs ``@work(thread=True)`` workers with ``loop.run_in_executor(None, ...)``, the
event loop's default executor. The standard ``ThreadPoolExecutor`` joins its threads when
the loop shuts down and again at interpreter exit, so pressing ``q`` while a request hangs
(a slow endpoint, botocore's 60 s read timeout) would freeze the terminal until it gives
up. This pool's threads are daemons and :meth:`DaemonPool.shutdown` never waits: quitting
is immediate, and an abandoned request dies with the process.

Work that was cancelled before a thread picked it up (a detail worker made stale by
moving the cursor) is skipped without running.

The transfer engines (downloads, deletes) run their own threads. If one of those is still
in a request when the app returns, the interpreter's exit would join it (non-daemon
threads, and every ``concurrent.futures`` worker through its ``atexit`` hook): the CLI
calls :func:`exit_if_threads_linger` after the app to end the process instead.
"""

from __future__ import annotations

import concurrent.futures.thread
import contextlib
import os
import queue
import sys
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
        # Not ``_threads``: that is ThreadPoolExecutor's own (a set), left unused.
        self._workers: list[threading.Thread] = []
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
            if len(self._workers) < self._size:
                thread = threading.Thread(target=self._run, name="pail-io", daemon=True)
                self._workers.append(thread)
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
            for _ in self._workers:
                self._queue.put(None)


def lingering_threads() -> list[threading.Thread]:
    """Threads the interpreter would wait for at exit: live non-daemon threads other than
    the main one (``threading._shutdown`` joins them) and live ``ThreadPoolExecutor``
    workers, daemon or not (``concurrent.futures`` joins them in its exit hook; the
    registry it keeps is private, so it is read defensively)."""
    main = threading.main_thread()
    found = [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
    # CPython internal (a WeakKeyDictionary thread -> queue), checked on CPython 3.11.7;
    # tests/test_sdk_internals.py.
    registry = getattr(concurrent.futures.thread, "_threads_queues", None)
    try:
        pool_threads = list(registry.keys()) if registry is not None else []
    except Exception:  # a private structure that changed shape: rely on the first list
        pool_threads = []
    for thread in pool_threads:
        if isinstance(thread, threading.Thread) and thread.is_alive() and thread not in found:
            found.append(thread)
    return found


def exit_if_threads_linger(code: int = 0) -> None:
    """End the process with ``code`` now if :func:`lingering_threads` would make its exit
    wait (a transfer thread still in a hung request after the app quit); otherwise return
    and let the interpreter exit normally.

    Call it only after the terminal is restored (``App.run`` has returned) and cleanup is
    done: ``os._exit`` skips ``atexit`` hooks and ``finally`` blocks of other threads.
    Standard output and error are flushed first. Abandoned downloads keep their
    resumable partial files, as after a kill.
    """
    if not lingering_threads():
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed or replaced
            stream.flush()
    os._exit(code)
