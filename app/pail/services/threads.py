"""Daemon worker threads for the background engines (downloads, deletes).

``concurrent.futures.ThreadPoolExecutor`` threads are joined when the interpreter exits,
so a process whose request hangs cannot end until the request gives up (Ctrl-C in ``pail
get`` took minutes). These workers are daemons: an engine's state is always consistent on
disk (a partial's sidecar records only bytes written), so abandoning a worker at exit
loses nothing but the bytes in flight.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


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
    must handle its own exceptions (one that escapes ends that thread's share of the work,
    the others go on).
    """
    pending: queue.SimpleQueue[T] = queue.SimpleQueue()
    count = 0
    for item in items:
        pending.put(item)
        count += 1
    if not count:
        return

    def loop() -> None:
        while stop is None or not stop.is_set():
            try:
                item = pending.get_nowait()
            except queue.Empty:
                return
            work(item)

    threads = [
        threading.Thread(target=loop, name=f"{name}-{i}", daemon=True)
        for i in range(max(1, min(workers, count)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def start_daemon(target: Callable[[], None], name: str) -> threading.Thread:
    """Start ``target`` on a new daemon thread and return the thread."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
