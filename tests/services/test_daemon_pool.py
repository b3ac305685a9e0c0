"""The daemon thread pool: results and exceptions through futures, pending calls
cancelled on a failure, and a process that exits while a call hangs (a real child
interpreter, which an executor's exit hook would keep alive)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from pail.services.daemon_pool import DaemonPool


def test_results_exceptions_and_at_most_n_threads():
    running, peak, lock = [0], [0], threading.Lock()

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02)
        with lock:
            running[0] -= 1
        if n == 7:
            raise ValueError("seven")
        return n * 2

    with DaemonPool(3) as pool:
        futures = [pool.submit(work, n) for n in range(10)]
        results = []
        for future in futures:
            try:
                results.append(future.result(timeout=10))
            except ValueError as exc:
                results.append(str(exc))
    assert results == [0, 2, 4, 6, 8, 10, 12, "seven", 16, 18]
    assert 1 <= peak[0] <= 3


def test_leaving_on_an_error_cancels_what_has_not_started():
    gate = threading.Event()
    started = []

    def work(n: int) -> None:
        started.append(n)
        gate.wait(10)

    with pytest.raises(RuntimeError), DaemonPool(1) as pool:
        futures = [pool.submit(work, n) for n in range(5)]
        deadline = time.monotonic() + 10
        while not started and time.monotonic() < deadline:
            time.sleep(0.01)
        raise RuntimeError("interrupted")
    gate.set()
    assert all(f.cancelled() for f in futures[1:])
    time.sleep(0.1)
    assert started == [0]
    with pytest.raises(RuntimeError):
        pool.submit(work, 9)


def test_a_hung_call_does_not_hold_up_the_process_exit():
    code = (
        "import time, sys\n"
        "from pail.services.daemon_pool import DaemonPool\n"
        "pool = DaemonPool(2)\n"
        "pool.submit(time.sleep, 600)\n"
        "time.sleep(0.2)\n"
        "sys.exit(7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=30)
    assert proc.returncode == 7
