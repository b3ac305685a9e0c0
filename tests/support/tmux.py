"""A real terminal for the ``pail`` command: a detached tmux session on its own socket.

tmux runs with ``-L <unique socket>`` and no config file (``-f /dev/null``), so a user's
tmux is untouched. Screens are read with a deadline: nothing here measures time, a slow
machine only waits longer.

The test talks to tmux through one control-mode client (``tmux -C``, see tmux(1) "CONTROL
MODE") instead of a ``tmux`` process per command: tmux sends it a ``%output`` line whenever
the program in the pane writes, so a wait reads the screen again when something was drawn
rather than polling it (a tmux process every 50 ms cost the walk of test_tmux_keys tens of
seconds of CPU on the machine the app itself needed). A control client that has not set a
size does not resize the window (``-x``/``-y`` stay).
"""

from __future__ import annotations

import contextlib
import queue
import re
import shlex
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Mapping

import pytest

#: What :meth:`Terminal.wait_for` waits for: a text on the screen, or a check of the
#: whole screen (see :class:`Gone` and :class:`Matches`).
Condition = str | Callable[[str], bool]

#: Seconds between two reads of the screen when nothing was drawn: conditions that look
#: beyond the screen (a file the app wrote) are checked this often.
RECHECK = 0.25
#: Seconds a read of the screen waits after the first ``%output`` of a redraw, so the rest
#: of the frame is usually in (a condition is checked again on the next output anyway).
COALESCE = 0.02


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


def _quote(arg: str) -> str:
    """``arg`` as one word of a tmux command line: double quotes, in which tmux reads
    ``\\``, ``"`` and ``$`` specially (tmux(1) "PARSING SYNTAX")."""
    if "\n" in arg or "\r" in arg:
        raise ValueError(f"a tmux argument cannot hold a line break: {arg!r}")
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$") + '"'


class _Control:
    """A ``tmux -C`` client attached to session ``pail``: runs commands one at a time and
    counts the pane's ``%output`` notifications (tmux never sends one inside a command's
    ``%begin``/``%end`` block)."""

    def __init__(self, socket: str) -> None:
        cmd = ["tmux", "-L", socket, "-f", "/dev/null", "-C", "attach-session", "-t", "pail"]
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.outputs = 0  # %output lines seen so far
        self.closed = False
        self._drawn = threading.Condition()
        self._replies: queue.Queue[tuple[bool, str] | None] = queue.Queue()
        self._lock = threading.Lock()  # one command (and its reply) at a time
        threading.Thread(target=self._read, name=f"tmux-{socket}", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        block: list[bytes] | None = None
        guard = b""
        for line in self.proc.stdout:
            if block is not None:
                # The block ends at "%end"/"%error" with its %begin's time, number, flags.
                end, _, rest = line.rstrip(b"\n").partition(b" ")
                if end in (b"%end", b"%error") and rest == guard:
                    if rest.endswith(b" 1"):  # flag 1: a command this client sent
                        text = b"".join(block).decode("utf-8", "replace")
                        self._replies.put((end == b"%end", text))
                    block = None
                else:
                    block.append(line)
            elif line.startswith(b"%output "):
                with self._drawn:
                    self.outputs += 1
                    self._drawn.notify_all()
            elif line.startswith(b"%begin "):
                block, guard = [], line.rstrip(b"\n")[len(b"%begin ") :]
            elif line.startswith(b"%exit"):
                break
        with self._drawn:
            self.closed = True
            self._drawn.notify_all()
        self._replies.put(None)

    def command(self, *args: str) -> str:
        """Run one tmux command; returns its output.

        Raises:
            subprocess.CalledProcessError: tmux refused the command, or the server (the
                session) is gone.
        """
        line = " ".join(_quote(arg) for arg in args) + "\n"
        with self._lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(line.encode())
                self.proc.stdin.flush()
                reply = self._replies.get(timeout=30)
            except (OSError, queue.Empty):
                reply = None
        if reply is None:
            self.closed = True
            raise subprocess.CalledProcessError(1, ["tmux", *args], "", "tmux is gone")
        ok, text = reply
        if not ok:
            raise subprocess.CalledProcessError(1, ["tmux", *args], text, text)
        return text

    def wait_output(self, seen: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for more than ``seen`` %output lines; whether
        there were (False also once the client is gone)."""
        with self._drawn:
            return self._drawn.wait_for(lambda: self.outputs > seen or self.closed, timeout) and (
                self.outputs > seen
            )

    def close(self) -> None:
        with self._lock:
            if self.proc.stdin is not None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


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
        self._run("new-session", "-d", "-s", "pail", *size, *where, command)
        self.control = _Control(self.socket)

    def _run(self, *args: str) -> str:
        cmd = ["tmux", "-L", self.socket, "-f", "/dev/null", *args]
        return subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=30).stdout

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this terminal's server; returns its stdout.

        Raises:
            subprocess.CalledProcessError: tmux failed (the session is gone).
        """
        return self.control.command(*args)

    @property
    def outputs(self) -> int:
        """How many times the program has written to the terminal so far (a counter to
        hand :meth:`wait_output`)."""
        return self.control.outputs

    def wait_output(self, seen: int, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the program to write after :attr:`outputs`
        was ``seen``; whether it did."""
        return self.control.wait_output(seen, timeout)

    def screen(self) -> str:
        """The visible screen as text, one line per row."""
        return self.tmux("capture-pane", "-p", "-t", "pail")

    def wait_for(self, *conditions: Condition, timeout: float = 30.0) -> str:
        """Read the screen each time the program draws (at least every :data:`RECHECK`
        seconds) until every one of ``conditions`` holds; fail with the last screen.
        Returns that screen."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.outputs  # before the read: a later draw wakes the wait below
            screen = self.screen()
            if all(holds(c, screen) for c in conditions):
                return screen
            left = deadline - time.monotonic()
            if left < 0:
                missing = [c for c in conditions if not holds(c, screen)]
                pytest.fail(f"never saw {missing!r} on the screen:\n{screen}")
            if self.wait_output(seen, min(RECHECK, left)):
                time.sleep(COALESCE)

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> str:
        """Wait until the screen has not changed for ``quiet`` seconds (every draw is
        looked at, not samples) or ``timeout`` passed; returns the screen. Draws that
        change nothing visible (a blinking cursor) do not count."""
        screen = self.screen()
        still_since = time.monotonic()
        deadline = still_since + timeout
        while True:
            now = time.monotonic()
            if now >= deadline:
                return screen
            seen = self.outputs
            if not self.wait_output(seen, min(still_since + quiet, deadline) - now):
                if time.monotonic() >= still_since + quiet:
                    return screen
                continue
            time.sleep(COALESCE)
            latest = self.screen()
            if latest != screen:
                screen, still_since = latest, time.monotonic()

    def press(self, *keys: str) -> None:
        """Send tmux key names (``Enter``, ``Escape``, ``C-f``, ``q``) in one go."""
        self.tmux("send-keys", "-t", "pail", *keys)

    def type(self, text: str) -> None:
        """Type ``text`` literally (no key names)."""
        self.tmux("send-keys", "-t", "pail", "-l", text)

    def close(self) -> None:
        """Kill the tmux server (and the command with it)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)
        self.control.close()


def shell_command(command: list[str], env: Mapping[str, str], *, linger: int = 60) -> str:
    """A shell line that runs ``command`` with ``env`` added, then prints
    ``PAIL-EXITED <code>`` and stays ``linger`` seconds so the screen can be read.

    COLUMNS and LINES are removed, as in a user's shell (which does not export them): the
    detached tmux started from a test has them at 80x24, and Textual reads them when it
    takes the terminal back from a viewer."""
    assignments = " ".join(f"{name}={shlex.quote(value)}" for name, value in env.items())
    line = " ".join(shlex.quote(part) for part in command)
    return f"env -u COLUMNS -u LINES {assignments} {line}; echo PAIL-EXITED $?; sleep {linger}"
