"""Run the installed ``pail`` on a real pseudo-terminal (stdin, stdout and stderr all a
tty), answering its prompts: for the paths that only happen on a terminal."""

from __future__ import annotations

import os
import select
import subprocess

from support.cli import pail_exe


def run_on_pty(
    args: list[str], answers: dict[str, str], limit: float = 60.0, *, term: str = "dumb"
) -> tuple[int, str]:
    """Run ``pail ARGS`` on a pty; whenever the output so far ends with a prompt text that
    is a key of ``answers`` (checked in order of appearance), type that answer.
    Returns (exit status, everything printed). ``limit`` only guards against a hang.
    ``term`` is ``TERM``: ``dumb`` (no redrawn progress) or e.g. ``xterm`` (rich draws)."""
    master, slave = os.openpty()
    env = dict(os.environ, COLUMNS="200", TERM=term)
    proc = subprocess.Popen([pail_exe(), *args], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    pending = dict(answers)
    try:
        while True:
            ready, _, _ = select.select([master], [], [], limit)
            if not ready:
                proc.kill()
                raise AssertionError(f"pail hung; output so far: {out.decode(errors='replace')}")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            text = out.decode(errors="replace")
            for prompt in list(pending):
                if text.rstrip().endswith(prompt):
                    os.write(master, pending.pop(prompt).encode() + b"\n")
    finally:
        os.close(master)
    return proc.wait(timeout=limit), out.decode(errors="replace").replace("\r\n", "\n")
