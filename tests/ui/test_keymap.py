"""The keymap: written down once (the README's tables are generated from the bindings),
one meaning per key across screens, ``?`` and the command palette list the current
screen's actions, ``q``/escape go back, and the config file's ``[keymap]`` and ``[ui]
theme`` are applied and remembered. The app runs on a real local folder store."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandPalette
from textual.screen import ModalScreen

from pail.config.ui_prefs import parse_prefs, read_prefs
from pail.core.connection import ConfigError, ConnectionSpec
from pail.ui import keymap
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.help import HelpScreen
from pail.ui.screens.usage import UsageScreen
from support.ui import (
    SIZE,
    find,
    make_app,
    open_node,
    run,
    screen_text,
    select,
    settle,
    store_at,
    until,
)

README = Path(__file__).resolve().parents[2] / "README.md"


def _store_folder(tmp_path: Path) -> ConnectionSpec:
    (tmp_path / "data" / "b" / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "data" / "b" / "runs" / "r1" / "metrics.json").write_text('{"loss": 1}')
    (tmp_path / "data" / "b" / "runs" / "r2").mkdir()
    (tmp_path / "data" / "b" / "runs" / "r2" / "model.bin").write_bytes(b"m" * 2048)
    return ConnectionSpec(name="disk", provider="local", root=str(tmp_path / "data"))


# -- written down once, one meaning per key ------------------------------------------------


def test_the_readme_key_tables_are_the_bindings():
    text = README.read_text(encoding="utf-8")
    assert keymap.readme_with_table(text) == text, "run `make keys` and commit README.md"


def test_one_key_means_one_thing_on_every_screen():
    meanings: dict[str, set[str]] = {}
    for screen_class in keymap.SCREENS:
        for _title, rows in keymap.screen_keys(screen_class):
            for row in rows:
                if not row.binding_id:
                    continue
                for key in row.key.split(" / "):
                    meanings.setdefault(key, set()).add(row.binding_id)
    # The keys the issue found overloaded now keep one kind of meaning.
    assert {i.split(".")[1] for i in meanings["d"]} <= {"download"}
    assert {i.split(".")[1] for i in meanings["X"]} <= {"delete", "remove"}
    assert {i.split(".")[1] for i in meanings["x"]} <= {"cancel", "cancel_file"}
    assert meanings["s"] == {"cleanup.sizes"}
    assert {i.split(".")[1] for i in meanings["c"]} <= {"copy_uri", "copy_policy"}
    assert {i.split(".")[1] for i in meanings["R"]} == {"reverse"}
    assert {i.split(".")[1] for i in meanings["S"]} == {"sort"}
    # Every full screen goes back with escape and with q; the main screen quits with q.
    for screen_class in keymap.SCREENS:
        keys = {
            row.key: row.binding_id for _t, rows in keymap.screen_keys(screen_class) for row in rows
        }
        if screen_class.__name__ == "MainScreen":
            assert keys["q"] == "main.quit"
        elif issubclass(screen_class, ModalScreen):  # a dialog: q may be typed in its field
            assert any(k.startswith(("esc", "n / esc")) for k in keys), (screen_class, keys)
        else:
            assert any(k.startswith("esc / q") for k in keys), (screen_class, keys)
    # Every binding of a screen can be rebound: it has an id.
    for _title, sections in keymap.SCREENS.values():
        for section in sections:
            for owner in section.owners:
                for binding in owner.__dict__.get("BINDINGS", []):
                    if binding.show or binding.tooltip:
                        assert binding.id, (owner, binding)


# -- the config file's [keymap] and [ui] ---------------------------------------------------


def test_prefs_are_read_and_bad_ones_name_the_line(tmp_path):
    prefs = parse_prefs('[keymap]\n"node.download" = "ctrl+d, D"\n[ui]\ntheme = "nord"\n', "f")
    assert dict(prefs.keymap) == {"node.download": "ctrl+d,D"} and prefs.theme == "nord"
    for text, line in (
        ('[keymap]\ndownload = "d"\n', 2),
        ('[keymap]\n"node.download" = 3\n', 2),
        ('[keymap]\n"node.download" = "ctrl d"\n', 2),
        ("[ui]\ntheme = 1\n", 2),
    ):
        try:
            parse_prefs(text, "f")
        except ConfigError as exc:
            assert exc.line == line, (text, exc)
        else:
            raise AssertionError(f"accepted {text!r}")
    assert read_prefs(store_at(tmp_path)).keymap == {}  # no file: no prefs


def test_a_rebound_key_works_and_help_shows_it(tmp_path):
    spec = _store_folder(tmp_path)
    store = store_at(tmp_path)
    Path(store.path).write_text(
        '[keymap]\n"node.download" = "ctrl+d"\n"nope.thing" = "k"\n', encoding="utf-8"
    )

    async def body():
        app = make_app([spec], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            assert any("nope.thing" in m for m in messages), messages  # unknown id reported
            await open_node(pilot, find(app, "disk", "b"))
            await open_node(pilot, find(app, "disk", "b", "runs/"))
            await select(pilot, find(app, "disk", "b", "runs/", "r2/"))
            await pilot.press("d")  # no longer download
            await settle(pilot)
            assert not isinstance(app.screen, DownloadTargetScreen)
            await pilot.press("ctrl+d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen, "back")
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            rows = {r.binding_id: r.key for _t, part in app.screen._sections for r in part}
            assert rows["node.download"] == "ctrl+d"

    run(body())


def test_the_chosen_theme_is_remembered(tmp_path):
    spec = _store_folder(tmp_path)
    store = store_at(tmp_path)
    Path(store.path).write_text('# mine\n[connections.x]\nprovider = "local"\nroot = "/"\n')

    async def choose():
        app = make_app([spec], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.theme = "nord"
            await until(pilot, lambda: read_prefs(store).theme == "nord", "theme saved")

    async def reopen():
        app = make_app([spec], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.theme == "nord"

    run(choose())
    text = Path(store.path).read_text()
    assert text.startswith("# mine\n") and "[connections.x]" in text  # the rest is kept
    assert store.names() == ["x"]
    run(reopen())


# -- ?, the command palette, q and escape on a sub-screen, silent keys ---------------------


def test_sub_screen_keys_palette_and_back(tmp_path):
    spec = _store_folder(tmp_path)

    async def body():
        app = make_app([spec], store=store_at(tmp_path))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "runs/"))
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, UsageScreen), "sizes")
            sizes = app.screen
            await until(pilot, lambda: sizes.finished, "scanned")

            await pilot.press("question_mark")  # this screen's keys, not the tree's
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            await pilot.pause()
            text = screen_text(app)
            assert "keys: Sizes (s)" in text and "Sort by the next field" in text
            assert "Download the marked items" not in text
            await pilot.press("q")
            await until(pilot, lambda: app.screen is sizes, "help closed")

            titles = [command.title for command in app.get_system_commands(sizes)]
            assert {"Sort", "Back", "Open", "Theme"} <= set(titles), titles
            await pilot.press("ctrl+p")
            await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
            await pilot.press(*"reverse")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is sizes, "palette closed")
            await until(pilot, lambda: not sizes.descending, "reversed from the palette")

            await pilot.press("q")  # back, not quit
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            assert app.return_code is None

            await select(pilot, find(app, "disk", "b", "runs/"))
            app._notifications.clear()
            await pilot.press("o")  # open works on objects: it says so
            await until(pilot, lambda: app._notifications, "a word on o")
            message = [n.message for n in app._notifications][-1]
            assert message == "o (Open): works on an object; the cursor is on a prefix"
            await pilot.press("q")
            await until(pilot, lambda: app.return_code == 0, "quit from the main screen")

    run(body())


def test_a_disabled_key_on_a_sub_screen_says_why(tmp_path):
    spec = _store_folder(tmp_path)

    async def body():
        app = make_app([spec], store=store_at(tmp_path))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "runs/"))
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, UsageScreen), "sizes")
            sizes = app.screen
            await until(pilot, lambda: sizes.finished, "scanned")
            app._notifications.clear()
            await pilot.press("x")  # stop: the scan has already finished
            await until(pilot, lambda: app._notifications, "a word on x")
            message = [n.message for n in app._notifications][-1]
            assert message == "x (Cancel scan): the scan has finished"

    run(body())
