"""Search from the main screen (ctrl+f) against moto: enter on a match jumps to it in the
tree (or in a big level's list), marked matches become the tree's marks and feed the
download dialog and the delete flow, and a delete drops the cached listing. The screen on
its own: test_search_screen.py."""

from __future__ import annotations

from textual.widgets import DataTable

from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.search import SearchScreen
from pail.ui.widgets.level_list import LevelList
from support.search import CKPTS, RUNS, gated_app, row_keys, to_exp, wait_for_search
from support.servers import seed_keys
from support.ui import (
    SIZE,
    confirm,
    detail_text,
    find,
    make_app,
    review_ready,
    run,
    s3_spec,
    screen_text,
    seed_aged,
    select,
    settle,
    tree_of,
    until,
)


async def open_search(pilot, query: str | None = None) -> SearchScreen:
    """From the tree at ``art/exp/``: ctrl+f, type ``query`` and enter."""
    await pilot.press("ctrl+f")
    return await wait_for_search(pilot, query)


def test_typed_query_streams_matches_then_enter_jumps_to_one(s3_endpoint):
    seed_aged("art", RUNS)

    async def body():
        # exp/run-03/ is held back; the search's recursive first page of exp/ (which
        # would show run-03's key at once) fails, and the walk goes on without it.
        app, drivers = gated_app(s3_endpoint, prefixes=("exp/run-03/",), refuse_flat=("exp/",))
        async with app.run_test(size=SIZE) as pilot:
            await to_exp(pilot)
            screen = await open_search(pilot, "ckpt")
            # Three matches arrive while exp/run-03/ is still held back.
            await until(pilot, lambda: len(row_keys(screen)) == 3, "first matches")
            assert not screen.finished
            assert "exp/run-03/model.ckpt" not in row_keys(screen)
            assert "searching…" in screen_text(app)
            drivers[0].gate.set()
            await until(pilot, lambda: screen.finished, "search finished")
            assert set(row_keys(screen)) == CKPTS
            assert "4 matches · 8 keys examined · prefixes 4/4 · complete" in screen_text(app)

            table = screen.query_one(DataTable)
            table.move_cursor(row=table.get_row_index("exp/run-03/model.ckpt"))
            await pilot.press("enter")
            tree = tree_of(app)
            await until(
                pilot,
                lambda: (
                    tree.cursor_node is not None
                    and tree.cursor_node.data is not None
                    and tree.cursor_node.data.key == "exp/run-03/model.ckpt"
                ),
                "cursor on the match",
            )
            assert app.screen is app.main_screen
            assert find(app, "moto", "art", "exp/", "run-03/").is_expanded
            await settle(pilot)
            assert "exp/run-03/model.ckpt" in detail_text(app)

    run(body())


def test_jump_into_a_big_level_opens_the_level_list_on_the_match(s3_endpoint):
    # 1,200 keys: more than one page, so the tree shows big/shards/ as a level list; the
    # match is on the second page, which is loaded on the way.
    seed_keys("art", [f"big/shards/s-{i:05d}" for i in range(1200)] + ["big/readme"])
    key = "big/shards/s-01150"

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, find(app, "moto", "art"))
            screen = await open_search(pilot, "s-01150")
            await until(pilot, lambda: screen.finished, "search finished")
            assert row_keys(screen) == [key]
            await pilot.press("enter")
            level_list = app.main_screen.query_one(LevelList)

            def on_match() -> bool:
                listing = level_list.listing
                if listing is None or not level_list.has_focus or not len(listing.view):
                    return False
                return listing.rows.key(listing.view.index(listing.cursor)) == key

            await until(pilot, on_match, "the level list's cursor on the match")
            await settle(pilot)
            assert key in detail_text(app)

    run(body())


def test_mark_all_matches_feeds_the_tree_and_the_download_dialog(s3_endpoint):
    seed_aged("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await to_exp(pilot)
            screen = await open_search(pilot, "model")
            await until(pilot, lambda: screen.finished, "search finished")
            await pilot.press("plus")
            assert screen.marks.count == 4 and screen.marks.total_bytes == 201_000
            assert "marked: 4 matches, 196.3 KiB" in screen_text(app)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            tree = tree_of(app)
            assert {d.key for d in tree.marks.values()} == CKPTS

            # The same search again: the query is kept and answered from the cache.
            screen = await open_search(pilot)
            await until(pilot, lambda: screen.finished, "cached search finished")
            assert set(row_keys(screen)) == CKPTS
            assert "listed 0s ago (cached; r re-lists)" in screen_text(app)
            await pilot.press("space")  # one mark, then d: the marks go to the download
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            assert "4 objects from s3://art" in screen_text(app)  # no duplicates
            await pilot.press("escape")

    run(body())


def test_deleting_marked_matches_drops_the_cached_listing(s3_endpoint):
    seed_aged("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await to_exp(pilot)
            screen = await open_search(pilot, "model")
            await until(pilot, lambda: screen.finished, "search finished")
            await pilot.press("plus", "X")  # mark all, then review deleting them
            await review_ready(pilot)
            progress = await confirm(pilot)
            assert progress.report.deleted == 4 and not progress.report.failed
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            await settle(pilot)
            # The listing cached by the search is stale now: the next search walks again.
            screen = await open_search(pilot)
            await until(pilot, lambda: screen.finished, "search finished")
            assert row_keys(screen) == []
            assert "0 matches · 4 keys examined" in screen_text(app)
            assert "cached" not in screen_text(app)

    run(body())
