"""Copying text: to the terminal's clipboard (OSC 52) and, where one runs, the desktop's.

Textual's :meth:`~textual.app.App.copy_to_clipboard` writes the OSC 52 escape; a terminal
may ignore it (many do by default, tmux needs ``set-clipboard on``) and nothing tells the
app. So "Copied" is only said when a desktop clipboard tool took the text and exited 0:
``wl-copy`` (Wayland), ``xclip``/``xsel`` (X11), ``pbcopy`` (macOS), ``clip.exe`` (WSL).
Otherwise the message says the text was sent to the terminal and may not have arrived.
The text goes to the tool on stdin, never in argv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping

from textual.app import App

#: Seconds a clipboard tool may take (xclip forks and returns at once).
TOOL_TIMEOUT = 3.0


def clipboard_tools(environ: Mapping[str, str] | None = None) -> list[list[str]]:
    """The desktop clipboard commands worth trying here, best first (argv lists; the text
    goes on stdin). Empty without a desktop session (a server over SSH)."""
    env = os.environ if environ is None else environ
    tools: list[list[str]] = []
    if sys.platform == "darwin":
        tools.append(["pbcopy"])
    if env.get("WAYLAND_DISPLAY"):
        tools.append(["wl-copy"])
    if env.get("DISPLAY"):
        tools += [["xclip", "-selection", "clipboard"], ["xsel", "--clipboard", "--input"]]
    if "microsoft" in os.uname().release.lower() if hasattr(os, "uname") else False:
        tools.append(["clip.exe"])
    return [argv for argv in tools if shutil.which(argv[0])]


def system_copy(text: str, environ: Mapping[str, str] | None = None) -> str | None:
    """Give ``text`` to the first desktop clipboard tool that takes it (blocking: call it
    in a worker). Returns the tool's name, or None when none is installed or all failed.
    Never raises."""
    for argv in clipboard_tools(environ):
        try:
            done = subprocess.run(
                argv,
                input=text.encode("utf-8"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=TOOL_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return argv[0]
    return None


def copied_message(what: str, tool: str | None) -> str:
    """What to tell the user after copying ``what`` ("the URI s3://b/k")."""
    if tool:
        return f"Copied {what} (clipboard: {tool})."
    return (
        f"Sent {what} to the terminal's clipboard (OSC 52); a terminal that does not allow "
        "OSC 52 copies nothing."
    )


def copy_text(app: App, text: str, what: str) -> None:
    """Copy ``text`` (OSC 52 at once, a desktop clipboard tool in a worker) and notify
    honestly whether it arrived; ``what`` names it in the message ("the URI s3://b/k",
    plain text, never markup)."""
    app.copy_to_clipboard(text)

    def give() -> None:
        tool = system_copy(text)
        app.call_from_thread(app.notify, copied_message(what, tool), markup=False)

    app.run_worker(give, thread=True, exit_on_error=False, group="clipboard")
