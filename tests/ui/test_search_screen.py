"""The search screen on its own (pushed on a bucket/prefix of the tree), against moto: mark one
and mark all matches, a second search of the prefix answered from the session's listing cache
with its age, ``r`` walking again; one snapshot (pytest-textual-snapshot; SVG in
``__snapshots__/``)."""

from __future__ import annotations

from textual.widgets import DataTable

from pail.ui.screens.search import SearchScreen
from support.search import CKPTS, RUNS, row_keys, to_exp, wait_for_search
from support.ui import (
    NOW,
    SIZE,
    make_app,
    run,
    s3_spec,
    screen_text,
    seed_aged,
    settle,
    tree_of,
    until,
)


async def search_here(pilot, query: str | None = None, *, initial: str = "") -> SearchScreen:
    """The search screen on the tree's cursor level; type ``query`` and enter."""
    app = pilot.app
    level = tree_of(app).cursor_node.data
    app.push_screen(SearchScreen(level, lambda: NOW, app.listing_cache, query=initial))
    return await wait_for_search(pilot, query)


def test_mark_all_matches_then_the_cache_answers_and_r_walks_again(s3_endpoint):
    seed_aged("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await to_exp(pilot)
            screen = await search_here(pilot, "model")
            await until(pilot, lambda: screen.finished, "search finished")
            await pilot.press("space")
            assert screen.marks.count == 1
            await pilot.press("plus")
            assert screen.marks.count == 4 and screen.marks.total_bytes == 201_000
            assert "marked: 4 matches, 196.3 KiB" in screen_text(app)
            assert {e.key for e in screen.marked_entries()} == CKPTS
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, SearchScreen), "closed")

            # The same prefix again: answered from the listing cache, its age shown.
            screen = await search_here(pilot, initial="ckpt")
            await until(pilot, lambda: screen.finished, "cached search finished")
            assert set(row_keys(screen)) == CKPTS
            assert "listed 0s ago (cached; r re-lists)" in screen_text(app)
            await pilot.press("r")  # walk again
            await until(pilot, lambda: screen.finished, "walk finished")
            assert "prefixes 4/4 · complete" in screen_text(app)
            assert "cached" not in screen_text(app)

    run(body())


def test_search_screen_snapshot(snap_compare, s3_endpoint):
    seed_aged("art", RUNS)

    async def run_before(pilot):
        await to_exp(pilot)
        screen = await search_here(pilot, "*.ckpt size>49kB")
        await until(pilot, lambda: screen.finished, "search finished")
        table = screen.query_one(DataTable)
        # arrival order depends on which listing answers first: sort for a stable picture
        table.sort("key", key=lambda cell: cell.plain)
        table.move_cursor(row=0)
        await pilot.press("space")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
