"""The app never hangs: ``o`` tries real viewer commands in order and always comes back
(a missing $PAGER, a failing $EDITOR, a command with arguments, one that cannot start, a
terminal that cannot be handed over), falling back to the built-in preview; ``q`` while a
download or a delete hangs behind the fault proxy asks first, ``n`` stays, ``y`` quits.

Viewers run as real subprocesses. Pilot's headless driver cannot suspend, so most tests
pass a runner that runs the command without handing over the terminal; one uses the
default runner to see the "cannot hand over" path. The real hand-over is in
tests/cli/test_tmux.py.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.ui.screens.conflict import ConflictScreen
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.quit_confirm import QuitScreen
from pail.ui.widgets.detail import DetailPane
from support.fault_proxy import Rule
from support.servers import seed_keys
from support.ui import (
    SIZE,
    detail_of,
    find,
    make_app,
    open_node,
    review_ready,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    tree_of,
    until,
)

BODY = b"hello from the store\nsecond line\n"


@pytest.fixture
def store(tmp_path, monkeypatch) -> ConnectionSpec:
    """A local store with ``b/notes.txt``; the open cache under tmp_path."""
    (tmp_path / "store" / "b").mkdir(parents=True)
    (tmp_path / "store" / "b" / "notes.txt").write_bytes(BODY)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    return ConnectionSpec(name="disk", provider="local", root=str(tmp_path / "store"))


@pytest.fixture
def bin_dir(tmp_path, monkeypatch) -> Path:
    """An empty folder that is the whole PATH: a test puts in it the commands that exist
    (so the machine's own less or xdg-open are not found unless linked here)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("PAGER", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    return folder


def link(bin_dir: Path, command: str) -> str:
    """Make the machine's ``command`` available in ``bin_dir``; returns the link's path."""
    real = shutil.which(command, path="/usr/local/bin:/usr/bin:/bin")
    assert real, f"{command} is not installed"
    os.symlink(real, bin_dir / command)
    return str(bin_dir / command)


def script(bin_dir: Path, name: str, text: str) -> str:
    path = bin_dir / name
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


class Runner:
    """Runs a viewer for real, without a terminal (stdin, stdout, stderr: /dev/null),
    and records every argv it was given."""

    def __init__(self) -> None:
        self.runs: list[list[str]] = []

    def __call__(self, _app, argv: list[str]) -> int:
        self.runs.append(argv)
        return subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=30
        ).returncode


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def press_o(pilot, app, done) -> None:
    await open_node(pilot, find(app, "disk", "b"))
    await select(pilot, find(app, "disk", "b", "notes.txt"))
    await pilot.press("o")
    await until(pilot, done, "the viewers were tried")
    await settle(pilot)


def cached(tmp_path: Path) -> str:
    return str(tmp_path / "cache" / "pail" / "open" / "disk" / "b" / "notes.txt")


def test_no_working_viewer_falls_back_to_the_built_in_preview(
    store, bin_dir, tmp_path, monkeypatch
):
    # $PAGER is not installed, $EDITOR exits 1, no less, no xdg-open: each is reported
    # and the detail pane's preview takes the focus.
    monkeypatch.setenv("PAGER", "pail-no-such-pager --flag")
    monkeypatch.setenv("EDITOR", "false")
    link(bin_dir, "false")
    runner = Runner()

    async def body():
        app = make_app([store], viewer=runner)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press_o(pilot, app, lambda: any("built-in" in m for m in messages(app)))
            assert runner.runs == [["false", cached(tmp_path)]]
            (note,) = [m for m in messages(app) if "built-in" in m]
            assert note.startswith("No external viewer: showing the built-in preview")
            assert "$PAGER: pail-no-such-pager not found" in note
            assert "$EDITOR (false) exited with status 1" in note
            assert "less: less not found" in note
            assert "system opener: xdg-open not found" in note
            detail = detail_of(app)
            assert app.focused is detail and isinstance(detail, DetailPane)
            assert detail.data is find(app, "disk", "b", "notes.txt").data
            await until(pilot, lambda: "second line" in screen_text(app), "preview on screen")
            await pilot.press("tab")  # back to the tree, as the note says
            assert app.focused is tree_of(app)

    run(body())


def test_a_viewer_with_arguments_runs_and_the_app_carries_on(store, bin_dir, tmp_path, monkeypatch):
    # $PAGER carries arguments (split like a shell would); the first viewer that works
    # is the only one run, and the app keeps the focus where it was.
    marker = tmp_path / "marker copy.txt"
    link(bin_dir, "cp")
    record = script(bin_dir, "record", '#!/bin/sh\ncp "$2" "$1"\n')
    monkeypatch.setenv("PAGER", f"{record} '{marker}'")
    runner = Runner()

    async def body():
        app = make_app([store], viewer=runner)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press_o(pilot, app, lambda: bool(runner.runs))
            assert runner.runs == [[record, str(marker), cached(tmp_path)]]
            assert marker.read_bytes() == BODY
            assert [m for m in messages(app) if not m.startswith("Opening ")] == []
            assert app.focused is tree_of(app)

    run(body())


def test_a_viewer_that_cannot_start_is_reported_and_the_next_one_opens(
    store, bin_dir, tmp_path, monkeypatch
):
    # $PAGER exists but cannot be executed (no interpreter line: "Exec format error");
    # $EDITOR then opens the file, and the note says why $PAGER was passed over.
    link(bin_dir, "cp")
    broken = script(bin_dir, "broken-pager", "\x7fELF not really\n")
    marker = tmp_path / "marker"
    editor = script(bin_dir, "editor", f'#!/bin/sh\ncp "$1" "{marker}"\n')
    monkeypatch.setenv("PAGER", broken)
    monkeypatch.setenv("EDITOR", editor)
    runner = Runner()

    async def body():
        app = make_app([store], viewer=runner)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press_o(pilot, app, lambda: any("Opened" in m for m in messages(app)))
            assert [argv[0] for argv in runner.runs] == [broken, editor]
            assert marker.read_bytes() == BODY
            (note,) = [m for m in messages(app) if "Opened" in m]
            assert note.startswith("Opened with $EDITOR (editor); $PAGER (broken-pager) could")
            assert "could not start: Exec format error" in note
            assert app.focused is tree_of(app)

    run(body())


def test_a_terminal_that_cannot_be_handed_over_shows_the_built_in_preview(
    store, bin_dir, monkeypatch
):
    # The default runner (App.suspend): Pilot's headless driver cannot suspend, so
    # nothing runs, the app says so and the built-in preview takes the focus.
    marker = bin_dir / "ran"
    monkeypatch.setenv("PAGER", script(bin_dir, "pager", f"#!/bin/sh\ntouch '{marker}'\n"))

    async def body():
        app = make_app([store])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await press_o(pilot, app, lambda: any("built-in" in m for m in messages(app)))
            (note,) = [m for m in messages(app) if "built-in" in m]
            assert "this terminal cannot hand over to a viewer" in note
            assert app.focused is detail_of(app)
            assert not marker.exists()

    run(body())


# -- quit while transfers run --------------------------------------------------------------


def test_q_while_a_download_hangs_asks_n_stays_y_quits(faults, tmp_path, monkeypatch):
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    seed_keys("quitb", {"run/model.bin": b"m" * 4096})

    async def body():
        app = make_app([s3_spec(faults.url)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "quitb"))
            await open_node(pilot, find(app, "moto", "quitb", "run/"))
            await select(pilot, find(app, "moto", "quitb", "run/", "model.bin"))
            # Once the detail pane's preview has read the object, its GETs hang.
            path = r"^/quitb/run/model\.bin$"
            hang = faults.add(Rule(method="GET", path=path, action="hang", times=None))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "downloads")
            await until(pilot, lambda: hang.hits >= 1, "the GET hangs")
            task = app.main_screen.downloads[-1]
            assert task.running

            await pilot.press("q")  # on a sub-screen q goes back, never quits
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            assert app.return_code is None and task.running
            await pilot.press("D")
            await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "downloads again")

            await pilot.press("ctrl+q")  # quits from any screen, asking first
            await until(pilot, lambda: isinstance(app.screen, QuitScreen), "quit question")
            text = screen_text(app)
            assert "1 transfer running: quit anyway?" in text
            assert "Download 1: s3://quitb/run/model.bin" in text
            assert "resume next time" in text
            await pilot.press("ctrl+q")  # asking again does not stack a second question
            assert len([s for s in app.screen_stack if isinstance(s, QuitScreen)]) == 1

            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "stayed")
            assert app.return_code is None and task.running and not task.cancel_requested

            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            await pilot.press("q")  # q on the main screen quits, asking first
            await until(pilot, lambda: isinstance(app.screen, QuitScreen), "asked again")
            await pilot.press("y")
            await until(pilot, lambda: app.return_code == 0, "the app exits")
            assert task.cancel_requested

    run(body())


def test_q_with_nothing_running_quits_without_asking(store):
    async def body():
        app = make_app([store])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("q")
            await until(pilot, lambda: app.return_code == 0, "the app exits")
            assert not isinstance(app.screen, QuitScreen)

    run(body())


def test_q_while_a_delete_hangs_asks_and_enter_quits(faults):
    seed_keys("quitd", {"old/k.bin": b"x"})
    # DeleteObjects (POST ?delete) or DeleteObject (DELETE): whichever the engine sends hangs.
    batch = faults.add(Rule(method="POST", query="delete", action="hang", times=None))
    single = faults.add(Rule(method="DELETE", action="hang", times=None))

    async def body():
        app = make_app([s3_spec(faults.url)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "quitd"))
            await open_node(pilot, find(app, "moto", "quitd", "old/"))
            await select(pilot, find(app, "moto", "quitd", "old/", "k.bin"))
            await pilot.press("X")  # one object: a y/N confirmation, no typing
            await review_ready(pilot)
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirm")
            await pilot.click("#delete-confirm-yes")
            await until(pilot, lambda: isinstance(app.screen, DeleteProgressScreen), "progress")
            await until(pilot, lambda: batch.hits + single.hits >= 1, "the delete hangs")
            progress = app.screen
            assert not progress.finished

            await pilot.press("ctrl+q")  # q here would only go back
            await until(pilot, lambda: isinstance(app.screen, QuitScreen), "quit question")
            assert "Delete of 1 object from s3://quitd/old/k.bin" in screen_text(app)
            await pilot.press("enter")  # the focus starts on Quit
            await until(pilot, lambda: app.return_code == 0, "the app exits")
            assert progress.deleter.progress().cancelled

    run(body())


def test_quit_while_a_conflict_question_waits_lets_the_transfer_thread_go(store, tmp_path):
    # The engine's thread waits for the answer to "this file exists"; quitting removes the
    # question with the app, and the thread is answered "skip" instead of waiting forever.
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "notes.txt").write_bytes(b"old")
    tasks = []

    async def body():
        app = make_app([store])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "notes.txt"))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ConflictScreen), "conflict")
            tasks.append(app.main_screen.downloads[-1])
            await pilot.press("q")  # a modal question: q is not the app's there
            assert isinstance(app.screen, ConflictScreen)
            await pilot.press("ctrl+q")  # Textual's quit key works on every screen
            await until(pilot, lambda: isinstance(app.screen, QuitScreen), "quit question")
            await pilot.press("y")
            await until(pilot, lambda: app.return_code == 0, "the app exits")

    run(body())
    downloader = tasks[0].downloader
    deadline = time.monotonic() + 10
    while not downloader.finished:
        assert time.monotonic() < deadline, "the transfer thread still waits for an answer"
        time.sleep(0.05)
    assert (tmp_path / "downloads" / "notes.txt").read_bytes() == b"old"
