"""The usage scanner against moto over HTTP (seeded in-process), the GCS emulator and
folders. Concurrency, progress and cancel are observed through a wrapper around *pail's
own driver* (never the SDK)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from pail.drivers.errors import AccessDenied, NotFound
from pail.drivers.gcs import GcsDriver
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.du import ChildUsage, Totals, UsageScan, scan_usage, sorted_children
from support.fault_proxy import Rule
from support.servers import gcs_client, s3_client, seed_keys
from support.stores import NOW, seed_aged


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


class Hooked:
    """pail's driver with a hook called before each ``list_page`` (our code, not the SDK)."""

    def __init__(self, inner, before):
        self.inner, self.before = inner, before
        self.provider = inner.provider

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def list_page(self, bucket, prefix="", **kwargs):
        self.before(prefix, kwargs)
        return self.inner.list_page(bucket, prefix, **kwargs)


def test_totals_children_and_ages(s3):
    driver, bucket = s3
    seed_aged(
        bucket,
        {
            "runs/a/x": (100, 10),
            "runs/a/y/z": (50, 2),
            "runs/b/x": (1000, 30),
            "runs/top.txt": (7, 1),
            "runs-other/x": (1, 1),
            "runs": (1, 1),
        },
    )
    snap = scan_usage(driver, bucket, "runs")  # no slash: the prefix runs/ exactly
    assert snap.complete and snap.level_done and not snap.cancelled
    assert snap.prefix == "runs/"
    assert (snap.total.objects, snap.total.bytes, snap.keys_scanned) == (4, 1157, 4)
    assert snap.total.oldest == NOW - timedelta(days=30)
    assert snap.total.newest == NOW - timedelta(days=1)
    assert snap.direct == Totals(1, 7, NOW - timedelta(days=1), NOW - timedelta(days=1))
    children = {c.prefix: c for c in snap.children}
    assert set(children) == {"runs/a/", "runs/b/"}
    a = children["runs/a/"]
    assert (a.totals.objects, a.totals.bytes, a.done, a.name) == (2, 150, True, "a/")
    assert a.totals.newest == NOW - timedelta(days=2)
    assert a.totals.oldest == NOW - timedelta(days=10)


def test_whole_bucket_and_paging(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"big/{i:05d}" for i in range(2300)] + ["small/a", "root.txt"])
    snap = UsageScan(driver, bucket, "", page_size=500).run()
    assert snap.total.objects == 2302
    assert {c.prefix: c.totals.objects for c in snap.children} == {"big/": 2300, "small/": 1}


def test_sorting():
    def child(prefix, objects, size, newest_days):
        when = NOW - timedelta(days=newest_days)
        return ChildUsage(prefix, Totals(objects, size, when, when), done=True)

    kids = [child("a/", 1, 300, 5), child("b/", 9, 100, 1), child("c/", 5, 200, 9)]
    empty = ChildUsage("d/")
    assert [c.prefix for c in sorted_children(kids, "size")] == ["a/", "c/", "b/"]
    assert [c.prefix for c in sorted_children(kids, "count")] == ["b/", "c/", "a/"]
    assert [c.prefix for c in sorted_children([*kids, empty], "newest")] == [
        "b/",
        "a/",
        "c/",
        "d/",
    ]
    assert [c.prefix for c in sorted_children(kids, "name", descending=False)] == ["a/", "b/", "c/"]
    with pytest.raises(ValueError, match="sort key"):
        sorted_children(kids, "bogus")  # type: ignore[arg-type]


def test_children_are_listed_concurrently(s3):
    driver, bucket = s3
    seed_keys(bucket, ["p/a/1", "p/b/1", "p/c/1"])
    # Each child listing waits until two child listings are in progress at once; a scan
    # that listed children one after another would break the barrier (BrokenBarrierError).
    barrier = threading.Barrier(2, timeout=20)
    waited = set()
    lock = threading.Lock()

    def before(prefix, kwargs):
        if kwargs.get("delimiter") == "" and prefix in ("p/a/", "p/b/"):
            barrier.wait()
            with lock:
                waited.add(prefix)

    snap = UsageScan(Hooked(driver, before), bucket, "p/", workers=4).run()
    assert waited == {"p/a/", "p/b/"}
    assert snap.complete and snap.total.objects == 3


def test_progress_is_visible_while_scanning_and_cancel_stops(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/big/{i:05d}" for i in range(3000)] + ["p/small/1"])
    holder: dict[str, UsageScan] = {}
    seen = []

    def before(prefix, kwargs):
        if prefix == "p/big/" and kwargs.get("token"):
            seen.append(holder["scan"].progress())
            if len(seen) == 2:
                holder["scan"].cancel()

    scan = UsageScan(Hooked(driver, before), bucket, "p/", workers=1, page_size=1000)
    holder["scan"] = scan
    snap = scan.run()
    big = [{c.prefix: c for c in s.children}["p/big/"] for s in seen]
    assert [b.totals.objects for b in big] == [1000, 2000]
    assert not any(b.done for b in big)
    assert seen[0].keys_scanned >= 1000 and not seen[0].done
    assert snap.cancelled and not snap.complete
    final_big = {c.prefix: c for c in snap.children}["p/big/"]
    assert final_big.totals.objects == 3000 and not final_big.done  # page in flight finished


def test_missing_bucket_is_an_error_on_the_snapshot(s3):
    driver, _ = s3
    snap = scan_usage(driver, "no-such-bucket-du")
    assert isinstance(snap.error, NotFound)
    assert snap.done and not snap.complete and snap.errors == [snap.error]


def test_a_child_that_cannot_be_listed_shows_its_error_and_the_others_are_summed(
    faults, bucket_name
):
    seed_keys(bucket_name, ["p/a/1", "p/a/2", "p/b/1", "p/c/1", "p/top"])
    faults.add(Rule(method="GET", query="prefix=p/b/", action="status", status=403))
    driver = S3Driver(endpoint_url=faults.url, region="us-east-1", path_style=True)
    scan = UsageScan(driver, bucket_name, "p/", workers=2)
    snap = scan.run()
    rows = {c.prefix: c for c in snap.children}
    assert isinstance(rows["p/b/"].error, AccessDenied) and not rows["p/b/"].done
    assert (rows["p/a/"].done, rows["p/a/"].totals.objects, rows["p/c/"].done) == (True, 2, True)
    assert snap.level_done and snap.error is None and snap.done and not snap.complete
    assert snap.errors == [rows["p/b/"].error] and snap.total.objects == 4
    assert scan.finished and scan.error is None and not scan.cancelled


def test_gcs_and_local(gcs_emulator, bucket_name, tmp_path):
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    for key in ("r/a/1", "r/a/2", "r/b/1", "r/x"):
        raw.blob(key).upload_from_string(b"abc")
    snap = scan_usage(GcsDriver(client=client), bucket_name, "r/")
    assert snap.complete and (snap.total.objects, snap.total.bytes) == (4, 12)
    assert {c.prefix: c.totals.objects for c in snap.children} == {"r/a/": 2, "r/b/": 1}

    for key in ("r/a/1", "r/a/2", "r/b/1", "r/x"):
        path = tmp_path / "bkt" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"abcd")
    snap = scan_usage(LocalDriver(str(tmp_path)), "bkt", "r/")
    assert snap.complete and (snap.total.objects, snap.total.bytes) == (4, 16)
    assert {c.prefix: c.totals.bytes for c in snap.children} == {"r/a/": 8, "r/b/": 4}
