"""Background jobs on real threads: the job base (start, progress, cancel, wait with a
timeout, run, exceptions raised again in the waiting thread, daemon threads) and the daemon
thread pool under it (results and exceptions through futures, pending calls cancelled on a
failure, and a process that exits while a call hangs: a real child interpreter, which an
executor's exit hook would keep alive)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from pail.services.jobs import DaemonPool, Job, run_each


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
        "from pail.services.jobs import DaemonPool\n"
        "pool = DaemonPool(2)\n"
        "pool.submit(time.sleep, 600)\n"
        "time.sleep(0.2)\n"
        "sys.exit(7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=30)
    assert proc.returncode == 7


# -- the job base ------------------------------------------------------------------------


class Counting(Job[int, list[int]]):
    """Counts items on a pool of two threads; each item waits for ``gate`` (when given) so
    a test can hold the job mid-way. ``fail_at`` raises from the work."""

    thread_name = "pail-test-job"

    def __init__(self, items: int, gate: threading.Event | None = None, fail_at: int = -1):
        super().__init__()
        self.items, self.gate, self.fail_at = items, gate, fail_at
        self.lock = threading.Lock()
        self.done: list[int] = []
        self.entered = 0  # items begun

    def _work(self) -> None:
        run_each(range(self.items), self._one, workers=2, name="pail-test", stop=self._cancel)

    def _one(self, n: int) -> None:
        with self.lock:
            self.entered += 1
        if self.gate is not None:
            self.gate.wait(10)
        if n == self.fail_at:
            raise ValueError(f"item {n} broke")
        with self.lock:
            self.done.append(n)

    def progress(self) -> int:
        with self.lock:
            return len(self.done)

    def report(self) -> list[int]:
        with self.lock:
            return sorted(self.done)


def test_run_returns_the_report_on_a_daemon_thread():
    job = Counting(50)
    assert not job.finished and job.progress() == 0
    assert job.run() == list(range(50))
    assert job.finished and not job.cancelled and job.error is None
    assert job.progress() == 50 and job.wait(0) == list(range(50))
    job.start()  # again: nothing happens
    assert job.wait(1) == list(range(50))


def test_wait_times_out_while_running_and_threads_are_daemons():
    gate = threading.Event()
    job = Counting(4, gate)
    job.start()
    job.start()  # idempotent: one job thread
    began = time.monotonic()
    assert job.wait(0.2) is None
    assert 0.15 <= time.monotonic() - began < 5
    assert not job.finished and job.progress() == 0
    threads = [t for t in threading.enumerate() if t.name.startswith("pail-test")]
    assert [t.name for t in threads].count("pail-test-job") == 1
    assert threads and all(t.daemon for t in threads)
    gate.set()
    assert job.wait(10) == [0, 1, 2, 3]
    assert job.elapsed >= 0.15
    frozen = job.elapsed
    time.sleep(0.05)
    assert job.elapsed == frozen  # the clock stops at the end


def test_cancel_stops_before_the_items_not_started():
    gate = threading.Event()
    job = Counting(100, gate)
    job.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and job.entered < 2:
        time.sleep(0.01)
    job.cancel()
    gate.set()
    done = job.wait(10)
    assert done is not None and job.cancelled and job.finished
    assert done == [0, 1]  # the two in flight finish; nothing queued starts


def test_cancel_before_start_ends_at_once():
    job = Counting(1000)
    job.cancel()
    assert job.run() == [] and job.cancelled


def test_an_exception_in_the_work_is_raised_in_the_waiting_thread():
    job = Counting(10, fail_at=3)
    with pytest.raises(ValueError, match="item 3 broke"):
        job.run()
    assert job.finished and isinstance(job.error, ValueError)
    with pytest.raises(ValueError, match="item 3 broke"):
        job.wait(0)
    assert 3 not in job.report() and len(job.report()) == 9  # the others ran


def test_a_hung_job_does_not_hold_up_the_process_exit():
    code = (
        "import sys, threading\n"
        "from pail.services.jobs import Job\n"
        "class Hang(Job):\n"
        "    def _work(self): threading.Event().wait(600)\n"
        "    def progress(self): return 0\n"
        "    def report(self): return 0\n"
        "job = Hang()\n"
        "job.start()\n"
        "assert job.wait(0.2) is None\n"
        "sys.exit(7)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], timeout=30)
    assert proc.returncode == 7
