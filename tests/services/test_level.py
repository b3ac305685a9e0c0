"""The level store (pail.services.level): compact rows, sorted and filtered views, marks,
and the load-all job against moto over HTTP.

Views are checked against a plain reference model (``expected``: sorted() and fnmatch over
Entry objects) on random data, fresh and built incrementally page by page.
"""

from __future__ import annotations

import fnmatch
import random
import tracemalloc
from datetime import datetime, timedelta, timezone

import pytest

from pail.drivers.base import Entry
from pail.drivers.errors import NotFound
from pail.drivers.s3 import S3Driver
from pail.services.level import LevelRows, LevelView, LoadAll, Marks, is_glob
from pail.services.listing import LevelPager
from support.servers import s3_client, seed_keys

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
CLASSES = (None, "STANDARD", "GLACIER", "STANDARD_IA")
SORTS = ("name", "size", "modified", "class")


def obj(key, size=1, when=T0, cls="STANDARD", etag="e", version=None) -> Entry:
    return Entry(key, "object", size, when, etag, cls, version)


def pre(key) -> Entry:
    return Entry(key, "prefix")


def rows_of(entries, prefix="") -> LevelRows:
    rows = LevelRows(prefix)
    rows.extend(entries)
    return rows


def shown(view: LevelView) -> list[str]:
    return [view.rows.key(view.index(p)) for p in range(len(view))]


# -- the reference model --------------------------------------------------------------


def rel(key: str, prefix: str) -> str:
    return key[len(prefix) :] if key.startswith(prefix) else key


def matches(name: str, text: str) -> bool:
    if not text:
        return True
    if any(c in text for c in "*?["):
        return fnmatch.fnmatchcase(name.lower(), text.lower())
    return text.lower() in name.lower()


def expected(entries, prefix, by, descending, text) -> list[int]:
    """Row indices in display order: sorted by ``by`` (None last either way, ties in name
    order, then listing order), filtered by ``text``."""
    items = list(enumerate(entries))
    if by == "name":
        order = sorted(items, key=lambda t: t[1].key, reverse=descending)
    else:
        field = {"size": "size", "modified": "last_modified", "class": "storage_class"}[by]
        base = sorted(items, key=lambda t: t[1].key)
        present = [t for t in base if getattr(t[1], field) is not None]
        absent = [t for t in base if getattr(t[1], field) is None]
        present.sort(key=lambda t: getattr(t[1], field), reverse=descending)
        order = present + absent
    return [i for i, e in order if matches(rel(e.key, prefix), text)]


def random_entries(rng: random.Random, n: int, prefix: str = "data/") -> list[Entry]:
    out = []
    for _ in range(n):
        name = "".join(rng.choice("abAB-0.") for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.1:
            out.append(pre(f"{prefix}{name}/"))
            continue
        out.append(
            obj(
                prefix + name,  # duplicates happen: ties fall back to listing order
                size=rng.choice([None, 0, 1, 5, 5, 100, 2**40]),
                when=rng.choice([None, T0, T0 + timedelta(seconds=1), T0 - timedelta(days=400)]),
                cls=rng.choice(CLASSES),
            )
        )
    return out


def random_texts(rng: random.Random) -> list[str]:
    """What a user types: characters one at a time, a few backspaces, sometimes a glob."""
    texts, text = [], ""
    for _ in range(rng.randint(1, 8)):
        if text and rng.random() < 0.25:
            text = text[:-1]
        else:
            text += rng.choice(["a", "b", "A", "-", "0", ".", "*", "?", "[ab]", "[", "[!a]", "]"])
        texts.append(text)
    return texts


# -- LevelRows ------------------------------------------------------------------------


def test_rows_round_trip_entries_in_listing_order():
    naive = datetime(2026, 2, 3, 4, 5, 6, 789)
    entries = [
        pre("runs/a/"),
        obj("runs/b.bin", 12, T0 + timedelta(microseconds=1), "GLACIER", "abc-2", "v1"),
        obj("runs/c.bin", None, None, None, None),
        obj("runs/d.bin", 2**62, naive, "STANDARD"),
    ]
    rows = rows_of(entries, "runs/")
    assert len(rows) == 4
    assert [rows.entry(i) for i in range(3)] == entries[:3]
    assert rows.modified(3) == naive.replace(tzinfo=timezone.utc)  # naive taken as UTC
    assert rows.modified(1).tzinfo is not None
    assert [rows.name(i) for i in range(4)] == ["a/", "b.bin", "c.bin", "d.bin"]
    assert rows.is_prefix(0) and not rows.is_prefix(1)
    assert (rows.size(0), rows.modified(0), rows.storage_class(0)) == (None, None, None)
    assert rows.size(3) == 2**62 and rows.etag(1) == "abc-2"
    assert rows.find("runs/c.bin") == 2 and rows.find("runs/zzz") is None
    with pytest.raises(IndexError):
        rows.key(4)
    with pytest.raises(IndexError):
        rows.key(-1)


def test_rows_outside_the_prefix_are_named_by_their_whole_key():
    rows = rows_of([obj("elsewhere/x")], "runs/")
    assert rows.name(0) == "elsewhere/x"


def test_rows_many_storage_classes_still_fit():
    rows = rows_of([obj(f"k{i}", cls=f"CLASS{i}") for i in range(300)])
    assert [rows.storage_class(i) for i in (0, 255, 299)] == ["CLASS0", "CLASS255", "CLASS299"]


def test_rows_a_page_out_of_range_changes_nothing():
    rows = rows_of([obj("a")])
    with pytest.raises(ValueError):
        rows.extend([obj("b"), obj("c", size=2**64)])
    assert len(rows) == 1 and rows.find("b") is None


def test_rows_memory_per_key_under_one_kib():
    keys = [f"datasets/shards/shard-{i:06d}.parquet" for i in range(20_000)]
    entries = [obj(k, 1_000_000 + i, T0, "STANDARD", f"{i:032x}") for i, k in enumerate(keys)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rows = LevelRows("datasets/shards/")
        for start in range(0, len(entries), 1000):
            rows.extend(entries[start : start + 1000])
        view = LevelView(rows)
        view.set_filter("shard-0001")  # the filter's lower-cased names count too
        view.set_sort("size", descending=True)
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # Entries (and their key and ETag strings) existed before: count the strings as ours,
    # since a listing page's entries are dropped once they are in the rows.
    strings = sum(len(k) + 49 + 32 + 49 for k in keys)
    assert (used + strings) / len(keys) < 1024


# -- LevelView: order ---------------------------------------------------------------


@pytest.fixture
def mixed():
    entries = [
        obj("p/b", 5, T0 + timedelta(days=2), "GLACIER"),
        pre("p/d/"),
        obj("p/a", 5, T0 + timedelta(days=1), "STANDARD"),
        obj("p/c", 1, None, None),
        obj("p/e", 9, T0, "STANDARD"),
    ]
    return rows_of(entries, "p/")


@pytest.mark.parametrize(
    ("by", "descending", "keys"),
    [
        ("name", False, ["p/a", "p/b", "p/c", "p/d/", "p/e"]),
        ("name", True, ["p/e", "p/d/", "p/c", "p/b", "p/a"]),
        ("size", False, ["p/c", "p/a", "p/b", "p/e", "p/d/"]),  # ties in name order
        ("size", True, ["p/e", "p/a", "p/b", "p/c", "p/d/"]),  # None last, ties still a..b
        ("modified", False, ["p/e", "p/a", "p/b", "p/c", "p/d/"]),
        ("modified", True, ["p/b", "p/a", "p/e", "p/c", "p/d/"]),
        ("class", False, ["p/b", "p/a", "p/e", "p/c", "p/d/"]),
        ("class", True, ["p/a", "p/e", "p/b", "p/c", "p/d/"]),
    ],
)
def test_sort_orders_with_none_last_and_stable_ties(mixed, by, descending, keys):
    view = LevelView(mixed)
    view.set_sort(by, descending)
    assert (view.sort_by, view.descending) == (by, descending)
    assert shown(view) == keys
    assert list(view) == [view.index(p) for p in range(len(view))]
    assert [view.position_of(k) for k in keys] == list(range(len(keys)))


def test_equal_keys_keep_listing_order_both_ways():
    rows = rows_of([obj("k", etag="first"), obj("k", etag="second"), obj("j")])
    view = LevelView(rows)
    assert list(view) == [2, 0, 1]
    view.set_sort("name", descending=True)
    assert list(view) == [0, 1, 2]


def test_unknown_sort_column_is_refused(mixed):
    with pytest.raises(ValueError, match="unknown sort column"):
        LevelView(mixed).set_sort("etag")  # type: ignore[arg-type]


def test_index_out_of_range(mixed):
    view = LevelView(mixed)
    with pytest.raises(IndexError):
        view.index(5)
    assert view.position_of("p/none") is None


# -- LevelView: filter --------------------------------------------------------------


def test_filter_substring_ignores_case_and_the_level_prefix():
    rows = rows_of(
        [obj("Shards/Shard-0001.parquet"), obj("Shards/shard-0002.json"), pre("Shards/sub/")],
        "Shards/",
    )
    view = LevelView(rows)
    view.set_filter("SHARD-000")
    assert shown(view) == ["Shards/Shard-0001.parquet", "Shards/shard-0002.json"]
    view.set_filter("shards")  # the level's own prefix is not part of a name
    assert shown(view) == []
    view.set_filter("")
    assert len(view) == 3 and view.filter_text == ""


def test_filter_glob_matches_whole_names():
    rows = rows_of(
        [obj("d/a.parquet"), obj("d/b.PARQUET"), obj("d/ab.json"), obj("d/a[1]"), pre("d/x/")],
        "d/",
    )
    view = LevelView(rows)
    assert is_glob("*.parquet") and not is_glob("parquet")
    view.set_filter("*.parquet")
    assert shown(view) == ["d/a.parquet", "d/b.PARQUET"]
    view.set_filter("?.json")
    assert shown(view) == []
    view.set_filter("a[b]*")
    assert shown(view) == ["d/ab.json"]
    view.set_filter("a[[]1]")  # fnmatch's escape for a literal [
    assert shown(view) == ["d/a[1]"]
    view.set_filter("x*")  # * matches the prefix row's slash
    assert shown(view) == ["d/x/"]
    view.set_filter("a[")  # an unclosed [ is literal
    assert shown(view) == []
    view.set_filter("A*")
    assert shown(view) == ["d/a.parquet", "d/a[1]", "d/ab.json"]
    view.set_filter("*J*")
    assert shown(view) == ["d/ab.json"]


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        ("*-0001??.parquet", [".parquet", "-0001"]),
        ("a[b]c", ["a", "c"]),
        ("x[!]y]z", ["x", "z"]),  # a ] first in a set is part of the set
        ("ab[cd", ["ab[cd"]),  # an unclosed [ is a plain character
        ("*?", []),
    ],
)
def test_glob_literals_are_what_every_match_contains(pattern, literals):
    from pail.services.level import _glob_literals

    assert _glob_literals(pattern) == literals


def test_marks_all_matches_of_a_filter():
    rows = rows_of([obj("a1", 10), obj("b1", 20), obj("a2", None), pre("a3/")])
    view = LevelView(rows)
    view.set_filter("a")
    marks = Marks()
    marks.add_all((rows.key(i), rows.size(i)) for i in view)
    assert (marks.count, marks.total_bytes) == (3, 10)
    assert list(marks) == ["a1", "a2", "a3/"]


@pytest.mark.parametrize("seed", range(12))
def test_typing_narrows_to_what_a_fresh_filter_shows(seed):
    rng = random.Random(seed)
    entries = random_entries(rng, 400)
    rows = rows_of(entries, "data/")
    typed = LevelView(rows)
    by, descending = rng.choice(SORTS), rng.random() < 0.5
    typed.set_sort(by, descending)
    for _ in range(6):
        for text in random_texts(rng):
            typed.set_filter(text)
            fresh = LevelView(rows)
            fresh.set_sort(by, descending)
            fresh.set_filter(text)
            assert list(typed) == list(fresh) == expected(entries, "data/", by, descending, text)
        typed.set_filter("")


# -- LevelView: pages arriving ------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_incremental_update_equals_a_batch_build(seed):
    rng = random.Random(100 + seed)
    entries = random_entries(rng, 600)
    if seed % 3 == 0:
        entries.sort(key=lambda e: e.key)  # pages in key order, as stores list them
    rows = LevelRows("data/")
    view = LevelView(rows)
    by, descending, text = "name", False, ""
    at = 0
    while at < len(entries):
        step = rng.randint(0, 120)
        rows.extend(entries[at : at + step])
        at += step
        if rng.random() < 0.3:  # the user changes the order or the filter between pages
            by, descending = rng.choice(SORTS), rng.random() < 0.5
            view.set_sort(by, descending)
        if rng.random() < 0.3:
            text = rng.choice([*random_texts(rng), ""])
            view.set_filter(text)
        view.update()
        seen = entries[:at]
        assert list(view) == expected(seen, "data/", by, descending, text)
    batch = LevelView(rows_of(entries, "data/"))
    batch.set_sort(by, descending)
    batch.set_filter(text)
    assert list(view) == list(batch)


def test_a_new_storage_class_mid_load_re_ranks_classes():
    rows = rows_of([obj("a", cls="STANDARD"), obj("b", cls="STANDARD")])
    view = LevelView(rows)
    view.set_sort("class")
    rows.extend([obj("c", cls="ARCHIVE"), obj("d", cls=None)])
    view.update()
    assert shown(view) == ["c", "a", "b", "d"]


def test_update_without_new_rows_changes_nothing(mixed):
    view = LevelView(mixed)
    before = list(view)
    view.update()
    assert list(view) == before


# -- Marks ----------------------------------------------------------------------------


def test_marks_count_and_bytes():
    marks = Marks()
    marks.toggle("a", 10)
    marks.toggle("b", None)
    assert "a" in marks and "b" in marks and "c" not in marks
    assert (marks.count, marks.total_bytes, len(marks)) == (2, 10, 2)
    marks.toggle("a", 10)
    assert (marks.count, marks.total_bytes) == (1, 0)
    marks.add_all([("a", 10), ("b", None), ("c", 5), ("c", 5)])
    assert (marks.count, marks.total_bytes) == (3, 15)
    marks.discard("c")
    marks.discard("zzz")
    assert (marks.count, marks.total_bytes) == (2, 10)
    marks.clear()
    assert (marks.count, marks.total_bytes, list(marks)) == (0, 0, [])


# -- LoadAll against moto ----------------------------------------------------------------

KEYS = 2500


@pytest.fixture
def level(s3_endpoint, bucket_name):
    keys = [f"shards/shard-{i:06d}.bin" for i in range(KEYS)]
    seed_keys(bucket_name, {k: b"x" * (i % 7) for i, k in enumerate(keys)})
    driver = S3Driver(client=s3_client(s3_endpoint))
    return driver, bucket_name, keys


def test_load_all_hands_every_page_in_order_with_exact_progress(level):
    driver, bucket, keys = level
    pager = LevelPager(driver, bucket, "shards/", page_size=1000)
    rows = LevelRows("shards/")
    sizes = []

    def on_page(page):
        sizes.append(len(page.entries))
        rows.extend(page.entries)

    job = LoadAll(pager, on_page)
    report = job.run()
    assert sizes == [1000, 1000, 500]
    assert [rows.key(i) for i in range(len(rows))] == keys
    assert (report.keys, report.pages, report.fetched_keys, report.fetched_pages) == (
        2500,
        3,
        2500,
        3,
    )
    assert report.done and report.complete and not report.cancelled and report.error is None
    assert report.keys_per_second > 0
    view = LevelView(rows)
    view.set_sort("size", descending=True)
    assert len(view) == KEYS and rows.size(view.index(0)) == 6


def test_load_all_cancel_stops_after_the_page_in_flight(level):
    driver, bucket, keys = level
    pager = LevelPager(driver, bucket, "shards/", page_size=1000)
    got: list[str] = []
    job: LoadAll

    def on_page(page):
        got.extend(e.key for e in page.entries)
        job.cancel()  # asked while this page is being handed over: no further page

    job = LoadAll(pager, on_page)
    report = job.run()
    assert got == keys[:1000]
    assert report.done and report.cancelled and not report.complete
    assert (report.keys, report.pages, report.fetched_pages) == (1000, 1, 1)
    assert pager.has_more  # a later LoadAll goes on from page 2
    rest = LoadAll(pager, lambda page: got.extend(e.key for e in page.entries)).run()
    assert got == keys and rest.complete
    assert (rest.keys, rest.pages, rest.fetched_keys, rest.fetched_pages) == (2500, 3, 1500, 2)


def test_load_all_cancelled_before_start_fetches_nothing(level):
    driver, bucket, _ = level
    pager = LevelPager(driver, bucket, "shards/", page_size=1000)
    job = LoadAll(pager, lambda page: pytest.fail("no page expected"))
    job.cancel()
    report = job.run()
    assert report.cancelled and report.pages == 0 and pager.pages_loaded == 0


def test_load_all_reports_a_storage_error(s3_endpoint, bucket_name):
    driver = S3Driver(client=s3_client(s3_endpoint))
    pager = LevelPager(driver, bucket_name, "x/", page_size=1000)  # no such bucket
    report = LoadAll(pager, lambda page: None).run()
    assert report.done and not report.complete
    assert isinstance(report.error, NotFound) and report.error.code == "NoSuchBucket"
    assert report.pages == 0


def test_load_all_callback_failure_is_the_jobs_error(level):
    driver, bucket, _ = level
    pager = LevelPager(driver, bucket, "shards/", page_size=1000)

    def broken(page):
        raise RuntimeError("ui bug")

    job = LoadAll(pager, broken)
    with pytest.raises(RuntimeError, match="ui bug"):
        job.run()
    assert isinstance(job.error, RuntimeError)
