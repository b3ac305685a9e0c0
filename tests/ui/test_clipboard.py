"""Copying says "Copied" only when a desktop clipboard tool took the text (exit 0); the
tools are real executables on PATH here (a script standing in for xclip), fed on stdin."""

from __future__ import annotations

import os
import stat

from pail.ui.clipboard import clipboard_tools, copied_message, system_copy


def _tool(folder, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_an_x11_tool_takes_the_text_on_stdin(tmp_path, monkeypatch):
    out = tmp_path / "clipboard.txt"
    _tool(tmp_path, "xclip", f'cat > "{out}"\n')
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    env = {"DISPLAY": ":0"}
    assert clipboard_tools(env)[0][0] == "xclip"
    assert system_copy("s3://b/k ünï", env) == "xclip"
    assert out.read_text(encoding="utf-8") == "s3://b/k ünï"
    assert (
        copied_message("the URI s3://b/k", "xclip") == "Copied the URI s3://b/k (clipboard: xclip)."
    )


def test_a_failing_tool_or_no_desktop_is_not_called_copied(tmp_path, monkeypatch):
    _tool(tmp_path, "xclip", "exit 1\n")  # e.g. no X server answering
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ["PATH"])
    assert system_copy("x", {"DISPLAY": ":0"}) is None
    assert clipboard_tools({}) == []  # over SSH: no desktop session, no tool tried
    assert system_copy("x", {}) is None
    message = copied_message("the report", None)
    assert not message.startswith("Copied") and "OSC 52" in message
