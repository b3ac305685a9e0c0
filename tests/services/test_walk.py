"""The one concurrent walk of a prefix (under the delete planner, delete verification and
the usage scan), against moto, moto behind the fault proxy, and a folder."""

from __future__ import annotations

import threading
import time

import pytest

from pail.drivers.base import Entry, iter_entries
from pail.drivers.errors import AccessDenied
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.walk import (
    WalkCancelled,
    WalkVisitor,
    level_batches,
    ordered_batches,
    split_points,
    walk_objects,
    walk_prefix,
)
from support.fault_proxy import Rule
from support.servers import s3_client, seed_keys

KEYS = [
    "runs/",
    "runs/top.txt",
    "runs/run-1/a",
    "runs/run-1/deep/b",
    "runs/run-10/a",
    "runs/run-1",
    "runs/é/x",
    "runs/z/" + "y" * 5,
    "other/x",
]


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def test_same_keys_in_the_same_order_as_one_recursive_listing(s3):
    driver, bucket = s3
    seed_keys(bucket, KEYS + [f"runs/many/{i:04d}" for i in range(1200)])
    for prefix in ("runs/", ""):
        sequential = [e.key for e in iter_entries(driver, bucket, prefix, delimiter="")]
        counts: list[int] = []
        walked = walk_objects(driver, bucket, prefix, workers=4, on_page=counts.append)
        assert [e.key for e in walked] == sequential
        assert sum(counts) == len(sequential)
        assert all(e.size == 1 and e.last_modified is not None for e in walked)


def test_prefix_boundary_and_folder_marker(s3):
    driver, bucket = s3
    seed_keys(bucket, KEYS)
    keys = [e.key for e in walk_objects(driver, bucket, "runs/run-1/")]
    assert keys == ["runs/run-1/a", "runs/run-1/deep/b"]


def test_cancel_raises_instead_of_returning_a_partial_listing(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{c}/{i}" for c in "abc" for i in range(3)])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WalkCancelled):
        walk_objects(driver, bucket, "p/", cancel=cancel)


def test_folder(tmp_path):
    for key in ("b/r/1/x", "b/r/1/y/z", "b/r/2/x", "b/r/top"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"12")
    keys = [e.key for e in walk_objects(LocalDriver(str(tmp_path)), "b", "r/")]
    assert keys == ["r/1/x", "r/1/y/z", "r/2/x", "r/top"]


class Journal(WalkVisitor):
    """Every visitor call in order, and how many calls overlapped (must stay 1)."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.inside = 0
        self.most = 0

    def _log(self, *call):
        self.inside += 1
        self.most = max(self.most, self.inside)
        time.sleep(0.001)  # widen the window an overlapping call would fall into
        self.calls.append(call)
        self.inside -= 1

    def objects(self, child: str | None, entries: list[Entry]) -> None:
        self._log("objects", child, sorted(e.key for e in entries))

    def child_found(self, child: str) -> None:
        self._log("found", child)

    def level_done(self) -> None:
        self._log("level_done")

    def child_done(self, child: str, complete: bool, error: Exception | None) -> None:
        self._log("done", child, complete, error)


def test_the_visitor_hears_each_child_before_its_objects_one_call_at_a_time(tmp_path):
    for key in ("b/r/1/x", "b/r/1/y/z", "b/r/2/x", "b/r/top", "b/other"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"12")
    journal = Journal()
    assert walk_prefix(LocalDriver(str(tmp_path)), "b", "r/", journal, workers=2) is True
    calls = journal.calls
    assert journal.most == 1
    assert ("objects", None, ["r/top"]) in calls and ("level_done",) in calls
    for child, keys in (("r/1/", ["r/1/x", "r/1/y/z"]), ("r/2/", ["r/2/x"])):
        found = calls.index(("found", child))
        listed = calls.index(("objects", child, keys))
        done = calls.index(("done", child, True, None))
        assert found < listed < done


def _proxied(faults) -> S3Driver:
    return S3Driver(endpoint_url=faults.url, region="us-east-1", path_style=True)


def test_a_failed_child_listing_is_raised_at_once_without_waiting_for_a_hung_one(
    faults, bucket_name
):
    seed_keys(bucket_name, ["p/a/1", "p/b/1", "p/c/1"])
    faults.add(Rule(method="GET", query="prefix=p/a/", action="hang"))
    faults.add(Rule(method="GET", query="prefix=p/b/", action="status", status=403))
    started = time.monotonic()
    with pytest.raises(AccessDenied):
        walk_objects(_proxied(faults), bucket_name, "p/", workers=4)
    assert time.monotonic() - started < 10  # p/a/ still hangs: it was not waited for


def test_best_effort_reports_a_child_failure_and_lists_the_others(faults, bucket_name):
    seed_keys(bucket_name, ["p/a/1", "p/a/2", "p/b/1", "p/c/1", "p/top"])
    faults.add(Rule(method="GET", query="prefix=p/b/", action="status", status=403))
    journal = Journal()
    whole = walk_prefix(_proxied(faults), bucket_name, "p/", journal, best_effort=True)
    assert whole is False
    ends = {call[1]: call[2:] for call in journal.calls if call[0] == "done"}
    assert ends["p/a/"] == (True, None) and ends["p/c/"] == (True, None)
    complete, error = ends["p/b/"]
    assert not complete and isinstance(error, AccessDenied)
    listed = [key for call in journal.calls if call[0] == "objects" for key in call[2]]
    assert sorted(listed) == ["p/a/1", "p/a/2", "p/c/1", "p/top"]


def test_a_stop_ends_the_walk_after_the_pages_in_flight(s3_endpoint, bucket_name):
    seed_keys(bucket_name, [f"p/big/{i:04d}" for i in range(2500)] + ["p/small/1"])
    stop = threading.Event()

    class StopAfterFirstPage(Journal):
        def objects(self, child, entries):
            super().objects(child, entries)
            if child == "p/big/":
                stop.set()

    journal = StopAfterFirstPage()
    driver = S3Driver(client=s3_client(s3_endpoint))
    whole = walk_prefix(driver, bucket_name, "p/", journal, workers=1, stop=stop, best_effort=True)
    assert whole is False
    pages = [call for call in journal.calls if call[0] == "objects" and call[1] == "p/big/"]
    assert [len(call[2]) for call in pages] == [1000]  # no page asked for after the stop
    ends = {call[1]: call[2:] for call in journal.calls if call[0] == "done"}
    assert ends == {"p/big/": (False, None), "p/small/": (False, None)}


# -- ordered_batches (what `pail ls -r` prints) -------------------------------------------


class _Watched:
    """A driver whose child listings (delimiter "") are counted, and optionally made to
    meet at a barrier: the barrier breaks unless that many listings run at once."""

    def __init__(self, driver, barrier: threading.Barrier | None = None):
        self._driver = driver
        self._barrier = barrier
        self.children: list[str] = []
        self._lock = threading.Lock()

    def list_page(self, bucket, prefix="", *, delimiter="/", token=None, page_size=1000):
        if delimiter == "" and token is None:
            with self._lock:
                self.children.append(prefix)
            if self._barrier is not None:
                self._barrier.wait(timeout=10)
        return self._driver.list_page(
            bucket, prefix, delimiter=delimiter, token=token, page_size=page_size
        )


def test_ordered_batches_give_the_recursive_listings_keys_in_its_order(s3):
    driver, bucket = s3
    keys = [*KEYS, "runs/a.txt", "runs/a/1", "runs/a0", "runs/a/b/", "runs/a/b/c"]
    seed_keys(bucket, keys + [f"runs/many/{i:04d}" for i in range(1200)])
    for prefix in ("runs/", ""):
        sequential = [e.key for e in iter_entries(driver, bucket, prefix, delimiter="")]
        batches = list(ordered_batches(driver, bucket, prefix, workers=3, page_size=100))
        assert [e.key for batch in batches for e in batch] == sequential
        assert all(batch for batch in batches)


def test_ordered_batches_list_children_at_once(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{c}/{i}" for c in "abcd" for i in range(3)])
    watched = _Watched(driver, threading.Barrier(4))
    keys = [e.key for batch in ordered_batches(watched, bucket, "p/", workers=4) for e in batch]
    assert keys == sorted(f"p/{c}/{i}" for c in "abcd" for i in range(3))
    assert sorted(watched.children) == ["p/a/", "p/b/", "p/c/", "p/d/"]


def test_ordered_batches_start_only_a_window_of_children_ahead_of_the_reader(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{i:03d}/x" for i in range(40)])
    watched = _Watched(driver)
    batches = ordered_batches(watched, bucket, "p/", workers=2)
    assert [e.key for e in next(batches)] == ["p/000/x"]
    time.sleep(1.0)  # children the reader has not reached would be listed meanwhile
    assert len(watched.children) <= 1 + 2 * 2
    batches.close()
    assert [e.key for e in next(ordered_batches(watched, bucket, "p/", workers=2))] == ["p/000/x"]


def test_ordered_batches_raise_a_childs_failure_at_its_place(faults, bucket_name):
    seed_keys(bucket_name, ["p/a/1", "p/b/1", "p/c/1", "p/a.txt"])
    faults.add(Rule(method="GET", query="prefix=p/b/", action="status", status=403))
    seen: list[str] = []
    with pytest.raises(AccessDenied):
        for batch in ordered_batches(_proxied(faults), bucket_name, "p/", workers=4):
            seen.extend(e.key for e in batch)
    assert seen == ["p/a.txt", "p/a/1"]


# -- level_batches: one big level in key ranges at once -----------------------------------


def test_split_points_follow_the_run_that_varies():
    points = split_points("p/", "p/part-000000.bin", "p/part-001999.bin", most=100)
    assert points[:2] == ["p/part-002", "p/part-003"]
    assert "p/part-01" in points and points[-1] == "p/part-9"
    assert points == sorted(points) and all(p > "p/part-001999.bin" for p in points)
    assert len(split_points("p/", "p/part-000000.bin", "p/part-001999.bin", most=8)) == 8
    hexes = split_points("", "00a1f3", "03ffe0")
    assert hexes[0] == "04" and hexes[-1] == "f" and "a" in hexes
    assert split_points("p/", "p/-+-", "p/-+=") == []  # no digits or letters where they differ
    assert split_points("p/", "p/b", "p/a") == []


class _Ranged(_Watched):
    """_Watched that can also start after a key (ListsAfter), counting those calls."""

    def __init__(self, driver):
        super().__init__(driver)
        self.after: list[str] = []

    def list_page_after(self, bucket, prefix, start_after, *, delimiter="/", page_size=1000):
        with self._lock:
            self.after.append(start_after)
        return self._driver.list_page_after(
            bucket, prefix, start_after, delimiter=delimiter, page_size=page_size
        )


def test_a_big_level_listed_in_ranges_gives_every_entry_once_in_order(s3):
    driver, bucket = s3
    keys = [f"p/part-{i:05d}.bin" for i in range(1500)]
    # Keys no guess foresees, a key equal to a cut, and prefixes that straddle cuts.
    keys += ["p/part-01", "p/part-0150/x", "p/part-0150/y", "p/part-2/z", "p/zz", "p/é", "p/~"]
    seed_keys(bucket, keys)
    for delimiter in ("/", ""):
        sequential = [e.key for e in iter_entries(driver, bucket, "p/", delimiter=delimiter)]
        ranged = _Ranged(driver)
        batches = list(
            level_batches(
                ranged, bucket, "p/", delimiter=delimiter, page_size=100, first_page_size=50
            )
        )
        assert [e.key for batch in batches for e in batch] == sequential
        assert len(ranged.after) > 5  # the rest of the level was listed in ranges


def test_level_batches_raise_a_failed_range_at_its_place(faults, bucket_name):
    seed_keys(bucket_name, [f"p/k{i:04d}" for i in range(400)])
    faults.add(Rule(method="GET", query="start-after=p/k03", action="status", status=403))
    seen: list[str] = []
    with pytest.raises(AccessDenied):
        for batch in level_batches(_proxied(faults), bucket_name, "p/", page_size=100):
            seen.extend(e.key for e in batch)
    assert seen == [f"p/k{i:04d}" for i in range(300)]
