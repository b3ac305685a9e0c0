"""Bucket search against moto over HTTP (seeded in-process): exact matches for name globs,
substrings, size and age terms, streaming, cancel, and the session's listing cache.
Concurrency and cancel are observed through a wrapper around *pail's own driver* (never
the SDK)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest

from pail.drivers.base import Entry
from pail.drivers.errors import NotFound
from pail.drivers.s3 import S3Driver
from pail.services.level import LevelRows
from pail.services.search import (
    BucketSearch,
    CachedListing,
    Condition,
    ListingCache,
    QueryError,
    SearchQuery,
    parse_query,
)
from support.servers import s3_client, seed_keys
from support.stores import NOW, seed_aged

RUNS = {
    "runs/a/model.ckpt": (5_000, 10),
    "runs/a/train.log": (100, 10),
    "runs/b/model.ckpt": (20_000, 2),
    "runs/b/sub/Model-final.CKPT": (30_000, 40),
    "runs/c/metrics.json": (50, 1),
    "runs/top.ckpt": (1, 100),
    "other/model.ckpt": (1, 1),  # outside the searched prefix
}


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


def keys_of(search: BucketSearch) -> set[str]:
    rows = search.rows
    return {rows.key(i) for i in range(len(rows))}


def find(driver, bucket, query: str, prefix: str = "runs", **kwargs) -> BucketSearch:
    search = BucketSearch(driver, bucket, prefix, parse_query(query), clock=lambda: NOW, **kwargs)
    search.run()
    return search


def test_parse_query():
    q = parse_query("model  size>=10MB age>7d SIZE<1GiB age<=2w")
    assert q.pattern == "model" and not q.is_glob
    assert q.conditions == (
        Condition("size", ">=", 10_000_000),
        Condition("age", ">", timedelta(days=7)),
        Condition("size", "<", 2**30),
        Condition("age", "<=", timedelta(weeks=2)),
    )
    assert parse_query("run 01 *.ckpt").pattern == "run 01 *.ckpt"
    assert parse_query("*.ckpt").is_glob and parse_query("").pattern == ""
    assert "glob '*.ckpt'" in parse_query("*.ckpt size>1kB").describe()
    with pytest.raises(QueryError, match="size>"):
        parse_query("size>lots")
    with pytest.raises(QueryError, match="age<"):
        parse_query("age<7")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # substring, case-insensitive, anywhere in the key below the prefix
        ("model", {"runs/a/model.ckpt", "runs/b/model.ckpt", "runs/b/sub/Model-final.CKPT"}),
        # glob on the key relative to the prefix; * crosses /
        (
            "*.ckpt",
            {
                "runs/a/model.ckpt",
                "runs/b/model.ckpt",
                "runs/b/sub/Model-final.CKPT",
                "runs/top.ckpt",
            },
        ),
        ("*/model.ckpt", {"runs/a/model.ckpt", "runs/b/model.ckpt"}),
        ("?/train.*", {"runs/a/train.log"}),
        ("size>10kB", {"runs/b/model.ckpt", "runs/b/sub/Model-final.CKPT"}),
        ("size>=5kB size<25kB", {"runs/a/model.ckpt", "runs/b/model.ckpt"}),
        ("size<=50", {"runs/c/metrics.json", "runs/top.ckpt"}),
        (
            "age>7d",
            {
                "runs/a/model.ckpt",
                "runs/a/train.log",
                "runs/b/sub/Model-final.CKPT",
                "runs/top.ckpt",
            },
        ),
        ("ckpt age<7d", {"runs/b/model.ckpt"}),
        ("nothing-like-this", set()),
    ],
)
def test_exact_matches(s3, query, expected):
    driver, bucket = s3
    seed_aged(bucket, RUNS)
    search = find(driver, bucket, query)
    snap = search.progress()
    assert keys_of(search) == expected
    assert snap.complete and snap.matches == len(expected)
    assert snap.keys_examined == 6  # other/ is outside runs/
    assert (snap.prefixes_done, snap.prefixes_total, snap.level_done) == (3, 3, True)
    assert snap.listed_at is None


def test_whole_bucket_and_paging(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"big/{i:05d}.bin" for i in range(1200)] + ["big/00042.txt", "top.txt"])
    search = find(driver, bucket, "*.txt", prefix="", page_size=500)
    assert keys_of(search) == {"big/00042.txt", "top.txt"}
    assert search.progress().keys_examined == 1202


def test_matches_stream_while_other_prefixes_are_listed(s3):
    driver, bucket = s3
    seed_keys(bucket, ["p/fast/hit-1", "p/fast/miss", "p/slow/hit-2", "p/slow/hit-3"])
    release = threading.Event()

    def before(prefix, kwargs):
        if prefix == "p/slow/":
            assert release.wait(20), "never released"

    # One-key pages: the first recursive page of p/ holds p/fast/hit-1 only.
    search = BucketSearch(
        Hooked(driver, before), bucket, "p/", parse_query("hit"), workers=4, page_size=1
    )
    search.start()
    try:
        for _ in range(400):  # bounded: fails instead of hanging
            if search.progress().prefixes_done == 1:
                break
            search.wait(0.05)
        # The fast prefix's match is there while the slow one is still held back.
        first: list[Entry] = search.matches_since(0)
        assert [e.key for e in first] == ["p/fast/hit-1"]
        snap = search.progress()
        assert not snap.done and snap.prefixes_done == 1 and snap.prefixes_total == 2
    finally:
        release.set()
    final = search.wait(20)
    assert final is not None and final.complete
    assert keys_of(search) == {"p/fast/hit-1", "p/slow/hit-2", "p/slow/hit-3"}
    assert [e.key for e in search.matches_since(1)] != []  # the rest came later
    assert len(search.rows) == 3  # each key once, whichever listing showed it


def test_first_recursive_page_shows_matches_before_any_child_is_listed(s3):
    """One recursive page of the prefix is asked for beside the level: its matches show
    while every child prefix's listing is still held back, and the walk, once released,
    shows each key only once."""
    driver, bucket = s3
    keys = [f"p/c{c}/k{i:03d}{'-hit' if i % 10 == 3 else ''}" for c in range(3) for i in range(40)]
    seed_keys(bucket, keys)
    release = threading.Event()
    asked: list[tuple[str, str]] = []

    def before(prefix, kwargs):
        asked.append((prefix, kwargs.get("delimiter", "/")))
        if prefix.startswith("p/c"):  # every child listing waits
            assert release.wait(20), "never released"

    search = BucketSearch(Hooked(driver, before), bucket, "p/", parse_query("hit"), workers=4)
    search.start()
    try:
        for _ in range(400):  # bounded: fails instead of hanging
            if search.matches_since(0):
                break
            search.wait(0.05)
        early = {e.key for e in search.matches_since(0)}
        assert early == {k for k in keys if k.endswith("-hit")}  # all 12, no child listed
        assert search.progress().prefixes_done == 0
        assert ("p/", "") in asked
    finally:
        release.set()
    final = search.wait(20)
    assert final is not None and final.complete and final.matches == 12
    assert sorted(e.key for e in search.matches_since(0)) == sorted(early)  # none twice
    assert final.keys_examined == 120  # the walk's count; the head start is not counted


def test_walk_first_then_the_recursive_page_shows_nothing_twice(s3):
    """The level's own listing shows a match before the recursive first page arrives:
    that page adds only what the walk has not shown, the child listings wait for it, and
    they skip what it showed."""
    driver, bucket = s3
    seed_keys(bucket, ["p/hit-0", "p/a/hit-1", "p/a/miss"])
    holder: list[BucketSearch] = []
    asked: list[str] = []

    def shown(count: int) -> bool:
        for _ in range(400):  # bounded: fails instead of hanging
            if len(holder[0].matches_since(0)) >= count:
                return True
            time.sleep(0.05)
        return False

    def before(prefix, kwargs):
        asked.append(f"{prefix}|{kwargs.get('delimiter', '/')}")
        if prefix == "p/" and kwargs.get("delimiter") == "":
            assert shown(1), "the level never showed p/hit-0"  # then the page is asked for
        if prefix == "p/a/":
            assert len(holder[0].matches_since(0)) == 2, "a child listed before the page"

    search = BucketSearch(Hooked(driver, before), bucket, "p/", parse_query("hit"), workers=1)
    holder.append(search)
    final = search.run()
    assert final.complete and final.matches == 2
    assert [e.key for e in search.matches_since(0)] == ["p/hit-0", "p/a/hit-1"]
    assert asked.index("p/a/|") > asked.index("p/|")  # the child came after the page


def test_cancel_stops_after_the_pages_in_flight(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/big/{i:05d}" for i in range(3000)])
    calls = []
    holder: list[BucketSearch] = []

    def before(prefix, kwargs):
        if prefix == "p/big/":
            calls.append(prefix)
            if len(calls) == 2:
                holder[0].cancel()  # while the second page is being requested

    search = BucketSearch(Hooked(driver, before), bucket, "p/", parse_query("0"), page_size=500)
    holder.append(search)
    snap = search.run()
    assert snap.done and snap.cancelled and not snap.complete
    assert len(calls) == 2  # no page was asked for after the cancel
    assert snap.keys_examined == 1000  # both pages in flight were still examined
    assert 0 < snap.matches <= 1000


def test_missing_bucket_is_an_error_not_a_traceback(s3):
    driver, _ = s3
    snap = BucketSearch(driver, "pail-no-such-bucket", "", parse_query("x")).run()
    assert snap.done and isinstance(snap.error, NotFound) and not snap.complete


def test_cache_reuse_says_its_age_and_refresh_walks_again(s3):
    driver, bucket = s3
    seed_aged(bucket, RUNS)
    calls = []
    hooked = Hooked(driver, lambda prefix, kwargs: calls.append(prefix))
    cache = ListingCache()
    now = [NOW]
    clock = lambda: now[0]  # noqa: E731

    def search(query, prefix="runs/", refresh=False):
        job = BucketSearch(
            hooked,
            bucket,
            prefix,
            parse_query(query),
            cache=cache,
            source="moto",
            refresh=refresh,
            clock=clock,
        )
        return job, job.run()

    _, snap = search("model")
    assert snap.listed_at is None and not snap.from_cache and calls
    assert len(cache) == 1 and cache.total_keys == 6
    calls.clear()
    now[0] = NOW + timedelta(minutes=3)

    again, snap = search("*.ckpt")  # another query of the same prefix: no request
    assert calls == []
    assert snap.from_cache and snap.listed_at == NOW and snap.complete
    hit = cache.get("moto", bucket, "runs/")
    assert hit is not None and hit.age(now[0]) == timedelta(minutes=3)
    assert len(keys_of(again)) == 4 and snap.keys_examined == 6

    below, snap = search("ckpt", prefix="runs/b/")  # a prefix below it: also cached
    assert calls == [] and snap.from_cache
    assert keys_of(below) == {"runs/b/model.ckpt", "runs/b/sub/Model-final.CKPT"}
    assert snap.keys_examined == 2

    seed_aged(bucket, {"runs/d/model.ckpt": (10, 0)})
    cached, _ = search("model")
    assert "runs/d/model.ckpt" not in keys_of(cached)  # the listing is as it was
    fresh, snap = search("model", refresh=True)
    assert calls and snap.listed_at is None  # walked again
    assert "runs/d/model.ckpt" in keys_of(fresh)
    calls.clear()
    _, snap = search("model")
    assert calls == [] and snap.listed_at == now[0]  # the new listing replaced the old


def test_cancelled_walk_is_not_cached(s3):
    driver, bucket = s3
    seed_aged(bucket, RUNS)
    cache = ListingCache()
    job = BucketSearch(driver, bucket, "runs/", SearchQuery(), cache=cache, source="m")
    job.cancel()  # before it starts: it stops at once
    job.run()
    assert len(cache) == 0


def _listing(prefix: str, n: int, when: datetime = NOW) -> CachedListing:
    rows = LevelRows(prefix)
    rows.extend(Entry(f"{prefix}{i}", "object", 1, when) for i in range(n))
    return CachedListing("src", "b", prefix, rows, when)


def test_cache_is_bounded_by_keys_oldest_out():
    cache = ListingCache(max_keys=5)
    assert cache.put(_listing("a/", 3))
    assert cache.put(_listing("b/", 2))
    assert cache.total_keys == 5
    assert cache.put(_listing("c/", 2))  # a/ (oldest) goes
    assert cache.get("src", "b", "a/") is None
    assert cache.get("src", "b", "b/") is not None and cache.total_keys == 4
    assert not cache.put(_listing("huge/", 6))  # alone over the bound: not kept
    assert cache.total_keys == 4
    assert cache.get("src", "b", "c/x/").prefix == "c/"  # a prefix below c/
    assert cache.get("other", "b", "c/") is None
    cache.drop("src", "b", "c/x/")  # a listing above a dropped prefix is stale too
    assert cache.get("src", "b", "c/") is None and len(cache) == 1
