"""A real terminal for the ``pail`` command: a detached tmux session on its own socket.

tmux runs with ``-L <unique socket>`` and no config file (``-f /dev/null``), so a user's
tmux is untouched. Screens are polled with a deadline: nothing here measures time, a slow
machine only waits longer.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import time
import uuid
from collections.abc import Callable, Mapping

import pytest

#: What :meth:`Terminal.wait_for` waits for: a text on the screen, or a check of the
#: whole screen (see :class:`Gone` and :class:`Matches`).
Condition = str | Callable[[str], bool]


class Gone:
    """A condition: ``text`` is not on the screen (``region`` narrows where to look)."""

    def __init__(self, text: str, region: Callable[[str], str] | None = None) -> None:
        self.text, self.region = text, region

    def __call__(self, screen: str) -> bool:
        return self.text not in (self.region(screen) if self.region else screen)

    def __repr__(self) -> str:
        return f"Gone({self.text!r})"


class Matches:
    """A condition: the regular expression ``pattern`` matches somewhere on the screen
    (``region`` narrows where to look)."""

    def __init__(self, pattern: str, region: Callable[[str], str] | None = None) -> None:
        self.pattern, self.region = re.compile(pattern, re.MULTILINE), region

    def __call__(self, screen: str) -> bool:
        return bool(self.pattern.search(self.region(screen) if self.region else screen))

    def __repr__(self) -> str:
        return f"Matches({self.pattern.pattern!r})"


def holds(condition: Condition, screen: str) -> bool:
    """Whether ``condition`` holds on ``screen`` (a text: it is on the screen)."""
    return condition in screen if isinstance(condition, str) else condition(screen)


class Terminal:
    """A detached tmux session of ``width`` x ``height`` running one shell command.

    Args:
        command: the shell command (run by tmux's default shell).
        width, height: the terminal's size in cells.
        cwd: the folder the command starts in (default: the test process's).
    """

    def __init__(
        self, command: str, width: int = 120, height: int = 40, cwd: str | None = None
    ) -> None:
        self.socket = f"pail-test-{uuid.uuid4().hex[:8]}"
        where = ["-c", cwd] if cwd else []
        size = ["-x", str(width), "-y", str(height)]
        self.tmux("new-session", "-d", "-s", "pail", *size, *where, command)

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this terminal's server; returns its stdout.

        Raises:
            subprocess.CalledProcessError: tmux failed (the session is gone).
        """
        cmd = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout

    def screen(self) -> str:
        """The visible screen as text, one line per row."""
        return self.tmux("capture-pane", "-p", "-t", "pail")

    def wait_for(self, *conditions: Condition, timeout: float = 30.0) -> str:
        """Poll the screen until every one of ``conditions`` holds; fail with the last
        screen. Returns that screen."""
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if all(holds(c, screen) for c in conditions):
                return screen
            if time.monotonic() > deadline:
                missing = [c for c in conditions if not holds(c, screen)]
                pytest.fail(f"never saw {missing!r} on the screen:\n{screen}")
            time.sleep(0.05)

    def press(self, *keys: str) -> None:
        """Send tmux key names (``Enter``, ``Escape``, ``C-f``, ``q``) in one go."""
        self.tmux("send-keys", "-t", "pail", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally (no key names)."""
        self.tmux("send-keys", "-t", "pail", "-l", text)

    def close(self) -> None:
        """Kill the tmux server (and the command with it)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


def shell_command(command: list[str], env: Mapping[str, str], *, linger: int = 60) -> str:
    """A shell line that runs ``command`` with ``env`` added, then prints
    ``PAIL-EXITED <code>`` and stays ``linger`` seconds so the screen can be read.

    COLUMNS and LINES are removed, as in a user's shell (which does not export them): the
    detached tmux started from a test has them at 80x24, and Textual reads them when it
    takes the terminal back from a viewer."""
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    line = " ".join(shlex.quote(part) for part in command)
    return f"env -u COLUMNS -u LINES {assignments} {line}; echo PAIL-EXITED $?; sleep {linger}"
