"""The level list: a big level (more than one page) in one virtual, sortable list.

Keys are seeded straight into moto's in-process backend (``seed_keys``) and listed by the
app over HTTP from the moto server. Loads are held at a page boundary by
:class:`PageGate` (a wrapper of pail's driver, not of an SDK) so that key presses land
while pages are still arriving; assertions are on order and state, never on time.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from datetime import datetime
from typing import Any

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import DEFAULT_PAGE_SIZE, Page, StorageDriver
from pail.drivers.registry import open_driver
from pail.ui.widgets.level_list import LevelList, LevelPanel
from support.servers import moto_backend, seed_keys
from support.ui import (
    SIZE,
    detail_of,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    tree_of,
    until,
)

MODIFIED = datetime(2025, 5, 20, 9, 30, 0)  # naive UTC, as moto keeps it


class PageGate:
    """Wraps pail's driver: ``list_page`` calls of ``prefix`` beyond the first ``free``
    wait until :meth:`release` (``held`` is set while one waits).

    With ``snapshot``, the level of ``prefix`` is listed once through the real driver and
    served in pages of the size asked for (the token is the offset): a folder of 100,000
    files costs the local driver a full read and sort for every 1,000-key page, which made
    the pages, not the app, the slow part of the 100,000-key test."""

    def __init__(self, inner: StorageDriver, prefix: str, free: int, snapshot: bool = False):
        self.inner = inner
        self.prefix = prefix
        self.free = free
        self.snapshot = snapshot
        self.listed: tuple[Any, ...] | None = None
        self.calls = 0
        self.open = threading.Event()
        self.held = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def list_page(self, bucket: str, prefix: str = "", **kwargs: Any):
        if prefix == self.prefix:
            self.calls += 1
            if self.calls > self.free:
                self.held.set()
                assert self.open.wait(60), "the gate never opened"
            if self.snapshot and kwargs.get("delimiter", "/") == "/":
                return self._from_snapshot(bucket, kwargs)
        return self.inner.list_page(bucket, prefix, **kwargs)

    def _from_snapshot(self, bucket: str, kwargs: dict[str, Any]) -> Page:
        if self.listed is None:
            whole = self.inner.list_page(bucket, self.prefix, page_size=1_000_000)
            assert whole.next_token is None
            self.listed = whole.entries
        start = int(kwargs.get("token") or 0)
        end = start + kwargs.get("page_size", DEFAULT_PAGE_SIZE)
        more = end < len(self.listed)
        return Page(self.listed[start:end], str(end) if more else None)

    def release(self) -> None:
        self.open.set()


def _gated(prefix: str, free: int, snapshot: bool = False) -> tuple[list[PageGate], Any]:
    gates: list[PageGate] = []

    def factory(spec):
        gate = PageGate(open_driver(spec), prefix, free, snapshot)
        gates.append(gate)
        return gate

    return gates, factory


def _panel(app) -> LevelPanel:
    return app.main_screen.query_one(LevelPanel)


def _list(app) -> LevelList:
    return app.main_screen.query_one(LevelList)


def _shown_keys(app, count: int | None = None) -> list[str]:
    listing = _list(app).listing
    assert listing is not None
    n = len(listing.view) if count is None else min(count, len(listing.view))
    return [listing.rows.key(listing.view.index(p)) for p in range(n)]


async def _loaded(pilot) -> None:
    """Wait until the shown listing has no load or fetch running, then settle."""
    listing = _list(pilot.app).listing
    assert listing is not None
    await until(pilot, lambda: not listing.load_all and not listing.fetching, "load ended", 20000)
    await settle(pilot)


async def _filter(pilot, text: str) -> list[int]:
    """``/`` then ``text`` a key at a time; the rows shown after each key."""
    app = pilot.app
    await pilot.press("slash")
    await until(pilot, lambda: _panel(app).query_one("#level-filter").has_focus, "filter input")
    counts = []
    for ch in text:
        await pilot.press(ch)
        counts.append(len(_list(app).listing.view))
    return counts


async def _open_list(pilot, bucket: str, prefix: str, connection: str = "moto"):
    """Open ``bucket``/``prefix`` in the tree, then its "open list" row."""
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, connection, bucket))
    level = await open_node(pilot, find(app, connection, bucket, prefix))
    row = level.children[-1]
    assert row.data.kind == "list"
    await select(pilot, row)
    await pilot.press("enter")
    await until(pilot, lambda: _list(app).has_focus, "the level list has the focus")
    return level


def test_big_level_is_one_list_row_and_loads_all_with_cancel(s3_endpoint):
    keys = [f"cancel/k{i:05d}" for i in range(5000)]
    seed_keys("lvl-cancel", keys)
    gates, factory = _gated("cancel/", free=3)  # page 1 (tree) + 2 load-all pages pass

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory)
        async with app.run_test(size=SIZE) as pilot:
            level = await _open_list(pilot, "lvl-cancel", "cancel/")
            assert names(level) == ["▤ 1,000+ keys — open list"]  # no node per key
            listing = _list(app).listing
            assert listing is not None and len(listing.rows) == 1000
            await pilot.press("end")
            await until(pilot, lambda: len(listing.rows) == 3000, "two pages loaded")
            await until(pilot, gates[0].held.is_set, "the fourth page is held")
            assert listing.load_all and "loading all: 3,000 keys, 3 pages" in (
                listing.status_text()
            )
            await pilot.press("escape")  # cancels after the page in flight
            assert listing.job is not None and listing.job.cancelled
            gates[0].release()
            await _loaded(pilot)
            assert len(listing.rows) == 4000  # the page in flight still counts
            assert listing.cancelled and listing.has_more and not listing.load_all
            assert "load-all cancelled" in listing.status_text()
            assert _shown_keys(app) == keys[:4000]  # pages whole and in order
            assert _panel(app).display  # escape cancelled the load, it did not close
            await pilot.press("G")  # resumes from the next page
            await _loaded(pilot)
            assert _shown_keys(app) == keys
            assert not listing.has_more and not listing.cancelled
            assert names(level) == ["▤ 5,000 keys — open list"]
            # End/G put the cursor on the last row, and it followed the rows coming in.
            assert listing.cursor == 4999
            await pilot.press("escape")  # nothing loading: back to the tree
            assert not _panel(app).display and tree_of(app).has_focus
            assert tree_of(app).cursor_node is level.children[-1]

    run(body())


def test_scrolling_near_the_end_fetches_the_next_page(s3_endpoint):
    seed_keys("lvl-scroll", [f"scroll/k{i:05d}" for i in range(3000)])

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "lvl-scroll", "scroll/")
            listing = _list(app).listing
            assert listing is not None
            await settle(pilot)
            assert len(listing.rows) == 1000  # the first screen fetches nothing more
            while listing.cursor < 990:
                await pilot.press("pagedown")
            await settle(pilot)
            assert len(listing.rows) == 2000  # one page, fetched without a key for it
            assert listing.has_more and listing.pager.pages_loaded == 2

    run(body())


def test_two_levels_load_at_once_and_the_list_stays_usable(s3_endpoint):
    """End on one level, back to the tree (shift+tab), End on another: both loads run at
    once, each held at its third page; the shown list still moves while both wait, and
    each level ends whole and in order, the one not shown included."""
    keys_a = [f"a/k{i:05d}" for i in range(3000)]
    keys_b = [f"b/k{i:05d}" for i in range(3000)]
    seed_keys("lvl-two", keys_a + keys_b)
    gates: list[PageGate] = []

    def factory(spec):
        inner = PageGate(open_driver(spec), "a/", free=2)  # tree page + one load page
        outer = PageGate(inner, "b/", free=2)
        gates.extend([inner, outer])
        return outer

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory)
        async with app.run_test(size=SIZE) as pilot:
            level_a = await _open_list(pilot, "lvl-two", "a/")
            listing_a = _list(app).listing
            await pilot.press("end")
            await until(pilot, gates[0].held.is_set, "a/'s third page is held")
            await pilot.press("shift+tab")
            await until(pilot, lambda: tree_of(app).has_focus, "the tree has the focus")
            level_b = await _open_list(pilot, "lvl-two", "b/")
            listing_b = _list(app).listing
            assert listing_b is not listing_a
            await pilot.press("end")
            await until(pilot, gates[1].held.is_set, "b/'s third page is held")
            assert listing_a.load_all and listing_b.load_all  # both loads are running
            await until(  # load-all pages are taken in once a second (LOAD_BATCH_SECONDS)
                pilot,
                lambda: len(listing_a.rows) == len(listing_b.rows) == 2000,
                "the pages in so far taken in",
            )
            await pilot.press("home", "down", "down")  # the list answers while both wait
            assert listing_b.cursor == 2
            for gate in gates:
                gate.release()
            await until(
                pilot,
                lambda: not listing_a.load_all and not listing_b.load_all,
                "both loads ended",
                20000,
            )
            await settle(pilot)
            assert [listing_a.rows.key(i) for i in range(len(listing_a.rows))] == keys_a
            assert _shown_keys(app) == keys_b
            assert names(level_a) == ["▤ 3,000 keys — open list"]
            assert names(level_b) == ["▤ 3,000 keys — open list"]

    run(body())


def test_u_in_the_tree_clears_the_level_lists_marks_too(s3_endpoint):
    seed_keys("lvl-unmark", [f"m/k{i:05d}" for i in range(1500)] + ["top.txt"])

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "lvl-unmark", "m/")
            listing = _list(app).listing
            await pilot.press("space", "space")
            assert len(listing.marks) == 2
            status = _panel(app).query_one("#level-status")
            assert "2 marked" in status.render().plain
            await pilot.press("shift+tab")
            await until(pilot, lambda: tree_of(app).has_focus, "the tree has the focus")
            await select(pilot, find(app, "moto", "lvl-unmark", "top.txt"))
            await pilot.press("space")  # one tree mark beside the list's two
            assert len(app.main_screen.marked_items()) == 3
            assert "Unmark all" in screen_text(app)
            await pilot.press("u")
            await settle(pilot)
            assert len(listing.marks) == 0 and not tree_of(app).marks
            assert app.main_screen.marked_items() == []
            assert "marked" not in status.render().plain  # the list's status line redrawn

    run(body())


def test_sort_cycles_fields_and_keeps_the_cursor_key(s3_endpoint):
    sizes = {"sort/a": 30, "sort/b": 10, "sort/c": 20}
    seed_keys("lvl-sort", {key: b"x" * size for key, size in sizes.items()})
    seed_keys("lvl-sort", {f"sort/z{i:04d}": b"" for i in range(1000)})
    backend = moto_backend().buckets["lvl-sort"].keys
    for key in backend.values():
        key.last_modified = MODIFIED
    backend["sort/c"].last_modified = datetime(2025, 5, 21)  # newest

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "lvl-sort", "sort/")
            await pilot.press("G")
            await _loaded(pilot)
            listing = _list(app).listing
            assert _shown_keys(app, 3) == ["sort/a", "sort/b", "sort/c"]
            await pilot.press("home", "down")  # cursor on sort/b
            await pilot.press("S")  # size, ascending: the empty z* first
            assert listing.sort_by == "size"
            assert _shown_keys(app)[-3:] == ["sort/b", "sort/c", "sort/a"]
            assert _shown_keys(app)[listing.cursor] == "sort/b"  # the cursor kept its key
            await pilot.press("R")  # size, descending
            assert _shown_keys(app, 3) == ["sort/a", "sort/c", "sort/b"]
            await pilot.press("S")  # modified, still descending: newest first
            assert listing.sort_by == "modified" and listing.descending
            assert _shown_keys(app, 1) == ["sort/c"]
            assert "sort: modified ↓" in listing.status_text()
            await pilot.press("S", "S")  # class, then back to name
            assert listing.sort_by == "name"
            assert _shown_keys(app, 1) == ["sort/z0999"]  # still descending

    run(body())


def test_filter_narrows_as_you_type_then_mark_all_matches(s3_endpoint):
    keys = [f"filt/k{i:05d}.{'bin' if i % 2 else 'json'}" for i in range(2500)]
    seed_keys("lvl-filter", keys)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "lvl-filter", "filt/")
            await pilot.press("G")
            await _loaded(pilot)
            listing = _list(app).listing
            widget = _list(app)
            assert await _filter(pilot, "K001") == [2500, 2500, 1000, 100]  # any case
            assert widget.listing is listing  # the same widget, not rebuilt
            assert _shown_keys(app) == [k for k in keys if "k001" in k]
            await pilot.press("backspace", "backspace", "backspace", "backspace")
            assert len(listing.view) == 2500
            for ch in "*1?.json":  # a glob (whole name)
                await pilot.press(ch)
            glob = [k for k in keys if fnmatch.fnmatchcase(k[5:], "*1?.json")]
            assert len(glob) == 125 and _shown_keys(app) == glob
            await pilot.press("enter")  # keeps the filter, back to the list
            assert widget.has_focus
            await pilot.press("plus")  # mark every match
            assert listing.marks.count == 125 and listing.marks.total_bytes == 125
            assert "125 marked (125 B)" in listing.status_text()
            # The download and delete flows take them like the tree's marks.
            assert [d.key for d in app.main_screen.marked_items()] == glob
            await _filter(pilot, "")
            await pilot.press("escape")  # clears the filter; marks stay
            assert len(listing.view) == 2500 and listing.marks.count == 125
            assert widget.has_focus
            await pilot.press("u")
            assert listing.marks.count == 0 and app.main_screen.marked_items() == []

    run(body())


def test_enter_shows_an_object_in_the_detail_pane_and_opens_a_prefix_in_the_tree(s3_endpoint):
    seed_keys("lvl-enter", [f"ent/k{i:05d}" for i in range(1200)])
    seed_keys("lvl-enter", {"ent/a-run/params.json": b"{}"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            level = await _open_list(pilot, "lvl-enter", "ent/")
            await pilot.press("G")
            await _loaded(pilot)
            await pilot.press("home", "down", "down")  # a-run/, k00000, k00001
            await pilot.press("enter")
            await settle(pilot)
            assert detail_of(app).data.key == "ent/k00001"
            assert "s3://lvl-enter/ent/k00001" in detail_text(app)
            assert app.main_screen.sub_title == "s3://lvl-enter/ent/k00001"
            assert _list(app).has_focus  # the list keeps the focus
            await pilot.press("home", "enter")  # the prefix a-run/
            await settle(pilot)
            assert not _panel(app).display and tree_of(app).has_focus
            node = tree_of(app).cursor_node
            assert node.data.key == "ent/a-run/" and node.is_expanded
            assert names(node) == ["params.json"]
            assert names(level) == ["a-run/", "▤ 1,201 keys — open list"]

    run(body())


@pytest.mark.timeout(400)
def test_100000_keys_stay_responsive_while_pages_arrive(tmp_path):
    # A folder as the store, listed once and served page by page (PageGate's snapshot):
    # moto sorts its whole bucket for every page it serves, which made 100 pages of a
    # 100,000-key bucket cost minutes; what is tested here is the app, not the paging.
    keys = [f"huge/k{i:06d}" for i in range(100_000)]
    level = tmp_path / "store" / "lvl-huge" / "huge"
    level.mkdir(parents=True)
    for key in keys:
        (level / key.removeprefix("huge/")).touch()
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path / "store"))
    gates, factory = _gated("huge/", free=50, snapshot=True)

    async def body():
        app = make_app([spec], factory)
        async with app.run_test(size=SIZE) as pilot:
            await _open_list(pilot, "lvl-huge", "huge/", connection="disk")
            listing = _list(app).listing
            await pilot.press("G")
            await until(pilot, gates[0].held.is_set, "page 51 is held", rounds=20000)
            await until(pilot, lambda: len(listing.rows) == 50_000, "50 pages in", rounds=20000)
            # Keys pressed while the load is under way are handled at once.
            assert listing.load_all
            await pilot.press("home", "down", "down")
            assert listing.cursor == 2
            await _filter(pilot, "999")
            assert _shown_keys(app) == [k for k in keys[:50_000] if "999" in k]
            await pilot.press("enter", "S")
            assert listing.sort_by == "size" and listing.load_all
            gates[0].release()
            await _loaded(pilot)
            assert len(listing.rows) == 100_000 and not listing.has_more
            # Pages that arrived later went through the filter and the sort too (all
            # sizes are 0: name order breaks the ties).
            matches = [k for k in keys if "999" in k]
            assert _shown_keys(app) == matches
            assert f"{len(matches):,} of 100,000 keys" in screen_text(app)

    run(body())


# -- snapshots ---------------------------------------------------------------------------


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _seed_snapshot_level() -> list[str]:
    keys = [f"shards/train-{i:06d}.tar" for i in range(5_000)]
    seed_keys("lvl-snap", {key: b"x" * (i % 97) for i, key in enumerate(keys)})
    seed_keys("lvl-snap", ["shards/index/manifest.json"])
    for key in moto_backend().buckets["lvl-snap"].keys.values():
        key.last_modified = MODIFIED
    return keys


def test_snapshot_big_level_all_loaded(snap_compare, s3_endpoint, utc):
    """5,000 keys loaded with G, sorted by size (largest first), a few rows marked."""
    _seed_snapshot_level()

    async def run_before(pilot):
        await _open_list(pilot, "lvl-snap", "shards/")
        await pilot.press("G")
        await _loaded(pilot)
        await pilot.press("S", "R", "home")  # size, descending
        await pilot.press("space", "space", "space")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_snapshot_big_level_filtered(snap_compare, s3_endpoint, utc):
    """The same level with the glob filter ``*-00019?.tar`` typed in."""
    _seed_snapshot_level()

    async def run_before(pilot):
        await _open_list(pilot, "lvl-snap", "shards/")
        await pilot.press("G")
        await _loaded(pilot)
        await _filter(pilot, "*-00019?.tar")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
