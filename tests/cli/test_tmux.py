"""The real `pail` command in a real terminal (tmux): open a folder, expand, preview, quit.

tmux runs on its own socket (``-L``) with no config file, so a user's tmux is untouched.
Screens are polled with a deadline: nothing here measures time, a slow machine only waits.
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import pail_exe
from support.fault_proxy import Rule
from support.servers import seed_keys
from support.tmux import Terminal

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def folder() -> Iterator[str]:
    # A short path, so the whole URI fits in the header at 120 columns.
    root = Path(tempfile.mkdtemp(prefix="pail-"))
    store = root / "store"
    (store / "runs" / "r1").mkdir(parents=True)
    (store / "runs" / "r1" / "params.json").write_text('{"learning_rate": 0.001}\n')
    (store / "README.md").write_text("hello from pail\n")
    (store / "[bold red]x").write_text("markup in a name\n")
    yield str(store)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def terminal(folder) -> Iterator[Terminal]:
    command = f"{shlex.quote(pail_exe())} {shlex.quote(folder)}; echo PAIL-EXITED $?; sleep 60"
    term = Terminal(command)
    try:
        yield term
    finally:
        term.close()


def test_browse_a_folder_in_a_real_terminal(terminal, folder):
    # The folder opens as one bucket, listed on start; a markup-like name shows literally.
    terminal.wait_for(f"pail — file://{folder}", "runs/", "README.md", "[bold red]x", "q Quit")

    # Cursor starts on the connection: walk down to runs/ (header follows the cursor).
    terminal.press("Down", "Down", "Down", "Down")
    terminal.wait_for(f"file://{folder}/runs/")
    terminal.press("Enter")
    terminal.wait_for("r1/")

    terminal.press("Down")
    terminal.wait_for(f"file://{folder}/runs/r1/")
    terminal.press("Enter")
    terminal.wait_for("params.json")

    terminal.press("Down")
    terminal.wait_for(f"file://{folder}/runs/r1/params.json", '"learning_rate"')

    terminal.press("q")
    terminal.wait_for("PAIL-EXITED 0")


# -- the app never hangs: viewers that fail, q while a download hangs ---------------------


def _run_in_tmux(command: str, env: dict[str, str]) -> Terminal:
    """A tmux terminal running ``pail`` with ``env`` added, then a line with its exit code.

    COLUMNS and LINES are removed, as in a user's shell (which does not export them): the
    detached tmux started from a test has them at 80x24, and Textual reads them when it
    takes the terminal back from a viewer."""
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    return Terminal(
        f"env -u COLUMNS -u LINES {assignments} {command}; echo PAIL-EXITED $?; sleep 60"
    )


def _open_readme(term: Terminal, folder: str) -> None:
    term.wait_for(f"pail — file://{folder}", "README.md", "q Quit")
    term.press("Down", "Down")  # the bucket, then its first entry
    term.wait_for(f"file://{folder}/README.md", "hello from pail")
    term.press("o")


def test_o_with_a_missing_pager_opens_less_and_the_app_comes_back(folder, tmp_path):
    # $PAGER is not installed: less (found on PATH) gets the terminal; quitting less hands
    # it back, the app redraws (not a blank screen) and says why $PAGER was passed over.
    if shutil.which("less") is None:
        pytest.skip("less is not installed")
    env = {"PAGER": "pail-no-such-pager --flag", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    term = _run_in_tmux(f"{shlex.quote(pail_exe())} {shlex.quote(folder)}", env)
    try:
        _open_readme(term, folder)
        term.wait_for("hello from pail", "README.md (END)")  # less has the terminal
        term.press("q")  # quits less
        # The whole app is drawn again: header, tree, preview, note and footer.
        term.wait_for(
            f"pail — file://{folder}/README.md",
            "runs/",
            "hello from pail",
            "Opened with less",
            "pail-no-such-pager",
            "? Help",
        )
        term.press("q")
        term.wait_for("PAIL-EXITED 0", timeout=10)
    finally:
        term.close()


def test_o_with_no_working_viewer_resumes_and_shows_the_preview(folder, tmp_path):
    # $PAGER cannot start (Exec format error) and $EDITOR exits 1, both after the app
    # handed over the terminal; nothing else is on PATH. The app takes the terminal back
    # each time, reports both and focuses its own preview; q then quits at once.
    broken = tmp_path / "broken-pager"
    broken.write_text("\x7fELF not really\n")
    broken.chmod(0o755)
    env = {
        "PATH": str(tmp_path / "empty-bin"),
        "PAGER": str(broken),
        "EDITOR": shutil.which("false") or "/bin/false",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    term = _run_in_tmux(f"{shlex.quote(pail_exe())} {shlex.quote(folder)}", env)
    try:
        _open_readme(term, folder)
        screen = term.wait_for(
            "No external viewer", "built-in preview", "exited with status 1", "hello from pail"
        )
        assert f"pail — file://{folder}/README.md" in screen and "? Help" in screen
        term.press("q")
        term.wait_for("PAIL-EXITED 0", timeout=10)
    finally:
        term.close()


def test_q_quits_within_seconds_while_a_download_hangs(faults, tmp_path):
    # Every GET of the object hangs behind the fault proxy (the preview's and the
    # download's). q asks, y quits: the real process ends within a generous bound, it
    # does not wait for the hung request.
    seed_keys("tmuxq", {"run/model.bin": b"m" * 4096, "run/notes.txt": b"hello\n"})
    path = r"^/tmuxq/run/model\.bin$"
    hang = faults.add(Rule(method="GET", path=path, action="hang", times=None))
    command = " ".join(
        shlex.quote(arg)
        for arg in [pail_exe(), "s3://tmuxq/run/", "--endpoint-url", faults.url, "--path-style"]
    )
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PAIL_DOWNLOAD_DIR": str(tmp_path / "downloads"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # no saved connections
    }
    term = _run_in_tmux(command, env)
    try:
        term.wait_for("model.bin", "notes.txt", "q Quit")
        term.press("Down", "Down")
        term.wait_for("pail — s3://tmuxq/run/model.bin")
        term.press("d")
        term.wait_for("Into the folder")
        term.press("Enter")
        term.wait_for("Download 1", "0 of 1 file")
        deadline = time.monotonic() + 30
        while hang.hits < 2:  # the preview's GET, then the download's
            assert time.monotonic() < deadline, "the download's GET never reached the proxy"
            time.sleep(0.1)
        term.press("q")  # the downloads screen: q goes back to the tree
        term.wait_for("q Quit")
        term.press("q")  # the main screen: q quits, asking first
        term.wait_for("1 transfer running: quit anyway?", "resume next time")
        term.press("y")
        term.wait_for("PAIL-EXITED 0", timeout=10)
    finally:
        term.close()
