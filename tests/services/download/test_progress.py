"""ProgressTracker: resumed bytes count as done and resumed, never in this run's bytes
fetched or rate (a clock the test moves, no timing)."""

from __future__ import annotations

from pail.services.download.progress import ProgressTracker


class Clock:
    """A monotonic clock the test sets (seconds)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_add_resumed_counts_done_and_resumed_but_not_the_rate():
    clock = Clock()
    tracker = ProgressTracker([("k", "s3://b/k", 100), ("j", "s3://b/j", 50)], clock=clock)
    clock.now += 1.0
    tracker.add_bytes("k", 10)
    clock.now += 1.0
    tracker.add_resumed("k", 40)
    tracker.add_resumed("k", 20)
    clock.now += 1.0
    snap = tracker.snapshot()
    k = snap.files[0]
    assert (k.bytes_done, k.resumed_from) == (70, 60)
    assert snap.bytes_done == 70 and snap.bytes_fetched == 10
    assert snap.rate == 10 / 3  # 10 bytes over the 3 s since the start; resumed bytes left out
    # The ETA is the bytes left (30 of k, 50 of j) at that rate.
    assert snap.eta == 80 / (10 / 3)
    tracker.restart("k")
    assert tracker.snapshot().files[0].resumed_from == 0
