"""The real `pail` command in a real terminal (tmux): open a folder, expand, preview, quit.

tmux runs on its own socket (``-L``) with no config file, so a user's tmux is untouched.
Screens are polled with a deadline: nothing here measures time, a slow machine only waits.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.cli_helpers import pail_exe

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


class Terminal:
    """A detached 120x40 tmux session running one shell command."""

    def __init__(self, command: str) -> None:
        self.socket = f"pail-test-{uuid.uuid4().hex[:8]}"
        self.tmux("new-session", "-d", "-s", "pail", "-x", "120", "-y", "40", command)

    def tmux(self, *args: str) -> str:
        cmd = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "pail")

    def wait_for(self, *texts: str, timeout: float = 30.0) -> str:
        """Poll the screen until every one of ``texts`` is on it; fail with the last screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(t in screen for t in texts):
                return screen
            if time.monotonic() > deadline:
                pytest.fail(f"never saw {texts!r} on the screen:\n{screen}")
            time.sleep(0.1)

    def press(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "pail", *keys)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


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
