"""Background jobs: one base for the bulk engines, on threads that never hold up the exit.

Every long use-case that both front-ends run in the background (downloads, deletes, usage
scans) is a :class:`Job`: ``start()`` returns at once, ``progress()`` is a snapshot any
thread may read at any time, ``cancel()`` asks it to stop, ``wait(timeout)`` returns its
report once it has finished (``None`` while it has not), ``run()`` is start-and-wait, and
``finished`` says whether it has ended. The app polls ``progress()`` on a timer; the
command line polls it between short ``wait(0.1)`` calls, so Ctrl-C stays responsive.

Threads. :class:`concurrent.futures.ThreadPoolExecutor` joins its worker threads when the
interpreter exits (``concurrent.futures.thread`` registers an exit hook that waits for
every worker), so one request hung on a dead connection would keep ``pail rm`` alive after
Ctrl-C for as long as the socket's timeout and retries allow, and keep the app's process
alive after ``q``. A job runs on a daemon thread, and its parallel work on a
:class:`DaemonPool` (daemon threads, leaving its ``with`` block never waits): an interrupt
ends the process at once, whatever requests are still in flight. Callers that need results
wait on the futures, as with an executor.

Failures. An engine reports the failures of single items (a file, a batch, a child
prefix) in its report. An exception that escapes a job's work (a bug, or a failure of the
whole job) is kept and raised again by :meth:`Job.wait` and :meth:`Job.run` in the
caller's thread; :attr:`Job.error` shows it to pollers.
"""

from __future__ import annotations

import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import Future, wait
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")
ProgressT = TypeVar("ProgressT")
ReportT = TypeVar("ReportT")

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
    wait(futures)  # all of them, even when an early one failed
    for future in futures:
        future.result()


def start_daemon(target: Callable[[], None], name: str) -> threading.Thread:
    """Start ``target`` on a new daemon thread (one that never holds up the end of the
    process) and return the thread."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


class Job(ABC, Generic[ProgressT, ReportT]):
    """A use-case run in the background on a daemon thread.

    Subclasses implement :meth:`_work` (the whole job, run once on the job's thread; it
    checks ``self._cancel``, a :class:`threading.Event`, to stop early), :meth:`progress`
    (a snapshot, from any thread) and :meth:`report` (the outcome so far; complete once
    :attr:`finished`). They set :attr:`thread_name`, which also prefixes their pools'
    threads by convention (``pail-rm``, ``pail-rm-0``...).

    Everything here is thread-safe. ``start`` is idempotent; ``cancel`` may come before
    ``start`` (the job then starts and stops at once) or after the end (no effect).
    """

    #: Name of the job's daemon thread.
    thread_name = "pail-job"

    def __init__(self) -> None:
        self._cancel = threading.Event()  # set by cancel(); the work checks it
        self._finished = threading.Event()  # set once _work has returned or raised
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._started_at = time.monotonic()  # reset by start()
        self._ended_at: float | None = None

    # -- what a job is ----------------------------------------------------------------

    @abstractmethod
    def _work(self) -> None:
        """The job itself, on the job's daemon thread. Returns when done or cancelled."""

    @abstractmethod
    def progress(self) -> ProgressT:
        """A snapshot of the job now (any thread, never blocks for long)."""

    @abstractmethod
    def report(self) -> ReportT:
        """The outcome so far; complete once :attr:`finished`."""

    # -- control ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the job on a daemon thread; returns at once. Calling it again does
        nothing."""
        with self._start_lock:
            if self._thread is not None:
                return
            self._started_at = time.monotonic()
            self._thread = start_daemon(self._main, self.thread_name)

    def cancel(self) -> None:
        """Ask the job to stop (each engine says what stops when); never waits."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> ReportT | None:
        """The report once the job has finished; ``None`` if ``timeout`` seconds pass
        first (``None``: wait as long as it takes).

        Raises:
            BaseException: whatever escaped the job's work (see :attr:`error`).
        """
        if not self._finished.wait(timeout):
            return None
        return self._outcome()

    def run(self) -> ReportT:
        """Start (if not started) and wait for the report. The work still runs on the
        job's daemon thread, so Ctrl-C in the calling thread interrupts the wait at once.

        Raises:
            BaseException: whatever escaped the job's work (see :attr:`error`).
        """
        self.start()
        self._finished.wait()
        return self._outcome()

    @property
    def finished(self) -> bool:
        """True once the job has ended (done, cancelled or failed)."""
        return self._finished.is_set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called (the job may still be stopping)."""
        return self._cancel.is_set()

    @property
    def error(self) -> BaseException | None:
        """The exception that escaped the job's work and ended it, if any (only once
        :attr:`finished`)."""
        return self._failure if self._finished.is_set() else None

    @property
    def elapsed(self) -> float:
        """Seconds since :meth:`start` (since construction before it), up to the end."""
        end = self._ended_at
        return (end if end is not None else time.monotonic()) - self._started_at

    # -- inside -----------------------------------------------------------------------

    def _main(self) -> None:
        try:
            self._work()
        except BaseException as exc:  # raised again in the waiting thread
            self._failure = exc
        finally:
            self._ended_at = time.monotonic()
            self._finished.set()

    def _outcome(self) -> ReportT:
        if self._failure is not None:
            raise self._failure
        return self.report()


__all__ = ["DaemonPool", "Job", "run_each", "start_daemon"]
