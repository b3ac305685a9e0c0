"""Keys: filter, refresh, copy URI, help, quit; and the UI answering while a listing hangs."""

from __future__ import annotations

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.ui.screens.help import HelpScreen
from pail.ui.widgets.filter_bar import FilterBar
from support.servers import seed_keys
from support.ui import (
    SIZE,
    GatedDriver,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    run,
    s3_spec,
    select,
    settle,
    tree_of,
    until,
)

RUNS = ["runs/run-1/x", "runs/run-2/x", "runs/RUN-10/x", "runs/eval/x", "runs/notes.txt"]


def test_filter_narrows_the_level_and_escape_clears(s3_endpoint):
    seed_keys("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            runs = await open_node(pilot, find(app, "moto", "art", "runs/"))
            everything = ["RUN-10/", "eval/", "notes.txt", "run-1/", "run-2/"]
            assert names(runs) == everything
            await pilot.press("slash")
            bar = app.screen.query_one(FilterBar)
            assert bar.display and bar.has_focus
            await pilot.press(*"run-1")
            await settle(pilot)
            assert names(runs) == ["RUN-10/", "run-1/"]  # case-insensitive substring
            assert tree_of(app).line_text(runs).endswith("filter: run-1")
            await pilot.press("enter")  # keep the filter, back to the tree
            await settle(pilot)
            assert tree_of(app).has_focus and names(runs) == ["RUN-10/", "run-1/"]
            await pilot.press("slash", "backspace", "backspace", "backspace", "backspace")
            await pilot.press("backspace", "z", "z")
            await settle(pilot)
            assert names(runs) == ["(no match)"]
            await pilot.press("escape")
            await settle(pilot)
            assert names(runs) == everything
            assert not bar.display and tree_of(app).has_focus

    run(body())


def test_filter_keeps_expanded_children(s3_endpoint):
    seed_keys("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "runs/"))
            await open_node(pilot, find(app, "moto", "art", "runs/", "eval/"))
            await select(pilot, find(app, "moto", "art", "runs/", "notes.txt"))
            await pilot.press("slash", "e", "v")
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
            evaluation = find(app, "moto", "art", "runs/", "eval/")
            assert evaluation.is_expanded and names(evaluation) == ["x"]

    run(body())


def test_refresh_relists_from_the_first_page(s3_endpoint):
    seed_keys("art", ["runs/a"])

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            runs = await open_node(pilot, find(app, "moto", "art", "runs/"))
            assert names(runs) == ["a"]
            seed_keys("art", ["runs/b"])
            await select(pilot, runs.children[0])  # r on an object refreshes its level
            await pilot.press("r")
            await settle(pilot)
            runs = find(app, "moto", "art", "runs/")
            assert names(runs) == ["a", "b"]
            assert tree_of(app).cursor_node is runs

    run(body())


def test_right_expands_and_enters_left_collapses_and_steps_out(tmp_path):
    (tmp_path / "b" / "d").mkdir(parents=True)
    (tmp_path / "b" / "d" / "x.txt").write_text("x")
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            tree = tree_of(app)
            bucket = find(app, "disk", "b")
            await select(pilot, bucket)
            assert not bucket.is_expanded
            await pilot.press("right")  # expand
            await settle(pilot)
            assert bucket.is_expanded and names(bucket) == ["d/"]
            await pilot.press("right")  # step into the first row
            await settle(pilot)
            assert tree.cursor_node is find(app, "disk", "b", "d/")
            await pilot.press("left")  # a closed row: step out to the parent
            await settle(pilot)
            assert tree.cursor_node is bucket and bucket.is_expanded
            await pilot.press("left")  # an open row: collapse it
            await settle(pilot)
            assert not bucket.is_expanded and tree.cursor_node is bucket

    run(body())


def test_copy_uri_puts_the_uri_on_the_clipboard(tmp_path):
    (tmp_path / "b" / "d").mkdir(parents=True)
    (tmp_path / "b" / "d" / "[x].txt").write_text("x")
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await open_node(pilot, find(app, "disk", "b", "d/"))
            await select(pilot, find(app, "disk", "b", "d/", "[x].txt"))
            await pilot.press("c")
            await settle(pilot)
            uri = f"file://{tmp_path}/b/d/[x].txt"
            assert app.clipboard == uri
            # No desktop clipboard here: the message says the text went to the terminal
            # (OSC 52), not that it was copied, since the app cannot know.
            await until(pilot, lambda: app._notifications, "the copy message")
            assert [n.message for n in app._notifications] == [
                f"Sent the URI {uri} to the terminal's clipboard (OSC 52); a terminal that "
                "does not allow OSC 52 copies nothing."
            ]

    run(body())


def test_help_opens_and_closes_and_q_quits(tmp_path):
    (tmp_path / "b").mkdir()
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0

    run(body())


def test_keys_answer_while_a_listing_hangs(tmp_path):
    (tmp_path / "b" / "slow").mkdir(parents=True)
    (tmp_path / "b" / "slow" / "late.txt").write_text("x")
    (tmp_path / "b" / "other.txt").write_text("y")
    spec = ConnectionSpec(name="disk", provider="local", root=str(tmp_path))
    gated: list[GatedDriver] = []

    def factory(s):
        gated.append(GatedDriver(open_driver(s), prefixes=("slow/",)))
        return gated[-1]

    async def body():
        app = make_app([spec], factory)
        try:
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                await open_node(pilot, find(app, "disk", "b"))
                slow = find(app, "disk", "b", "slow/")
                await select(pilot, slow)
                await pilot.press("enter")
                await until(pilot, gated[0].waiting.is_set, "the listing of slow/ started")
                assert names(slow) == ["loading…"]
                tree = tree_of(app)
                await pilot.press("up")
                assert tree.cursor_node is find(app, "disk", "b", "other.txt")
                await until(pilot, lambda: "other.txt" in detail_text(app), "detail of other.txt")
                await pilot.press("question_mark")
                await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
                await pilot.press("escape")
                await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "help closed")
                await pilot.press("down")
                assert tree.cursor_node is slow and names(slow) == ["loading…"]
                gated[0].gate.set()
                await settle(pilot)
                assert names(slow) == ["late.txt"]
                gated[0].gate.clear()
                gated[0].waiting.clear()
                await pilot.press("r")  # refresh hangs again; q still quits at once
                await until(pilot, gated[0].waiting.is_set, "the refresh started")
                await pilot.press("q")
                await pilot.pause()
            assert app.return_code == 0
        finally:
            gated[0].gate.set()

    run(body())
