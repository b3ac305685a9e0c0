"""Start-up imports only what the command line asked for (issue 17: ``pail --version`` in a
tenth of a second, the app's first frame before any SDK import).

Not timed (machines are noisy): each check runs a fresh interpreter and reads which modules
it imported (its ``sys.modules`` at exit, the console script's own imports included, or an
audit hook's record), never this test process's, which has long since imported everything.
``python -X importtime`` would miss modules loaded by ``importlib.import_module``, which is
how the group loads a command.

- ``pail --version``: no click, no package metadata, no pail module beyond
  :mod:`pail.cli.main`;
- ``pail --help``: click and the group, no command module, no metadata, and the same text
  as when every command is imported;
- ``pail CMD --help``: that command's module only;
- the app: importing it loads no SDK, and the first frame is drawn before boto3/botocore
  start importing (in a worker thread, never on the event loop's).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import click
import pytest

import pail
import pail.cli.group as group_module
from pail.cli.main import LAZY_COMMANDS, cli
from pail.config.flags import Flags
from support.cli import pail_exe

#: Top-level packages no start-up path here may import (SDKs, the TUI toolkit).
SDKS_AND_TOOLKITS = {"boto3", "botocore", "s3transfer", "google", "textual", "rich", "keyring"}

#: The command modules :data:`pail.cli.main.LAZY_COMMANDS` names (``ls`` is in the group's).
COMMAND_MODULES = {lazy.module for lazy in LAZY_COMMANDS.values()} - {"pail.cli.group"}


#: Runs a script (``-m`` a module) as ``python`` would, and writes ``sys.modules`` to stderr
#: at exit. What the runner itself needs (runpy, importlib.util...) is in the list too.
_RUNNER = textwrap.dedent(
    """
    import atexit, json, runpy, sys

    def report():
        sys.__stderr__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")

    atexit.register(report)
    target, sys.argv = sys.argv[1], sys.argv[1:]
    if target == "-m":
        sys.argv = sys.argv[1:]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        runpy.run_path(target, run_name="__main__")
    """
)


def _imported(*args: str) -> tuple[list[str], str, int]:
    """Modules a fresh ``python ARGS`` (a script or ``-m MODULE``, then its arguments) had
    loaded when it exited, its stdout and its exit status."""
    out = subprocess.run(
        [sys.executable, "-c", _RUNNER, *args], capture_output=True, text=True, timeout=120
    )
    line = next((x for x in out.stderr.splitlines() if x.startswith("MODULES ")), None)
    assert line is not None, out.stderr
    return json.loads(line.removeprefix("MODULES ")), out.stdout, out.returncode


def _top_level(names: list[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def _pail_modules(names: list[str]) -> set[str]:
    return {name for name in names if name == "pail" or name.startswith("pail.")}


# --- pail --version ---------------------------------------------------------------------


def test_version_through_the_console_script_imports_neither_click_nor_metadata() -> None:
    names, stdout, code = _imported(pail_exe(), "--version")
    assert (code, stdout) == (0, f"pail {pail.__version__}\n")
    assert "importlib.metadata" not in names
    assert not _top_level(names) & (SDKS_AND_TOOLKITS | {"click"})
    assert _pail_modules(names) == {"pail", "pail.cli", "pail.cli.main"}


def test_version_through_python_m_pail_is_the_same() -> None:
    names, stdout, code = _imported("-m", "pail", "--version")
    assert (code, stdout) == (0, f"pail {pail.__version__}\n")
    assert "click" not in _top_level(names)
    assert _pail_modules(names) == {"pail", "pail.cli", "pail.cli.main"}  # + __main__


def test_version_with_other_arguments_still_goes_through_click() -> None:
    """Only ``pail --version`` alone takes the short path; ``--version`` among other
    options is click's (eager: printed before the other options are checked)."""
    out = subprocess.run(
        [pail_exe(), "--region", "x", "--version"], capture_output=True, text=True, timeout=60
    )
    assert (out.returncode, out.stdout) == (0, f"pail {pail.__version__}\n")


# --- pail --help ------------------------------------------------------------------------


def test_help_imports_no_command_module_no_metadata_no_sdk() -> None:
    names, stdout, code = _imported(pail_exe(), "--help")
    assert code == 0 and stdout.startswith("Usage: pail [OPTIONS]")
    assert "importlib.metadata" not in names
    assert not _top_level(names) & SDKS_AND_TOOLKITS
    assert _pail_modules(names) == {"pail", "pail.cli", "pail.cli.main", "pail.cli.group"}


@pytest.mark.parametrize("columns", ["80", "40"])
def test_help_lists_every_command_as_when_all_are_imported(columns: str, monkeypatch) -> None:
    """The lazy "Commands" section is click's own, word for word: this process imports
    every command first and renders the help click's way, the child renders it from
    LAZY_COMMANDS (at two terminal widths: click wraps to the terminal, 78 or 50 here)."""
    monkeypatch.setenv("COLUMNS", columns)
    with click.Context(cli, info_name="pail") as ctx:
        for name in LAZY_COMMANDS:
            cli.get_command(ctx, name)
        assert set(cli.commands) == {"open", "demo", *LAZY_COMMANDS}
        loaded = cli.get_help(ctx) + "\n"  # what click's --help echoes
    lazy = subprocess.run(
        [pail_exe(), "--help"], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert lazy.returncode == 0, lazy.stderr
    assert lazy.stdout == loaded
    for name in LAZY_COMMANDS:
        assert re.search(rf"^  {re.escape(name)} ", lazy.stdout, re.M), name


@pytest.mark.parametrize("name", sorted(LAZY_COMMANDS))
def test_each_lazy_short_help_is_the_commands_own(name: str) -> None:
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, name)
    assert command is not None
    assert LAZY_COMMANDS[name].short_help == command.get_short_help_str()


# --- pail CMD --help --------------------------------------------------------------------


@pytest.mark.parametrize("args", [["ls", "--help"], ["ls", "-h"], ["get", "--help"]])
def test_a_commands_help_imports_that_command_only(args: list[str]) -> None:
    names, _, code = _imported(pail_exe(), *args)
    assert code == (2 if args == ["ls", "-h"] else 0)  # `ls -h` is --human-readable, no URI
    assert not _top_level(names) & SDKS_AND_TOOLKITS
    mine = {"pail.cli.get"} if args[0] == "get" else set()
    assert COMMAND_MODULES & set(names) == mine
    if args[0] == "ls":  # the URI rules, the config file and the listing wait for the run
        assert not {n for n in names if n.startswith(("pail.services", "pail.config.store"))}


def test_ls_of_a_folder_imports_no_sdk_and_no_other_command(tmp_path) -> None:
    (tmp_path / "a.txt").write_text("x")
    names, stdout, code = _imported(pail_exe(), "ls", str(tmp_path))
    assert code == 0 and stdout.rstrip().endswith("a.txt")
    assert not _top_level(names) & SDKS_AND_TOOLKITS
    assert not COMMAND_MODULES & set(names)


# --- the group's names, now defined in pail.cli.group -----------------------------------


def test_connection_flags_are_exactly_the_flags_fields_on_every_command() -> None:
    """connection_options tells its params from the command's own by identity (not by
    importing Flags): what it marks must still be Flags' fields and -v, nothing else."""
    expected = {*Flags.__dataclass_fields__, "verbose"}
    with click.Context(cli) as ctx:
        commands = [cli] + [cli.get_command(ctx, n) for n in cli.list_commands(ctx)]
    checked = 0
    for command in commands:
        assert command is not None
        marked = {p.name for p in command.params if p.callback is group_module._remember_flag}
        if marked:
            assert marked == expected, command.name
            checked += 1
    assert checked >= 10


def test_main_offers_the_group_and_the_exit_codes_and_nothing_else() -> None:
    import pail.cli.errors
    import pail.cli.main

    assert pail.cli.main.cli is group_module.cli
    assert pail.cli.main.EXIT_USAGE == pail.cli.errors.EXIT_USAGE == 2
    assert pail.cli.main.CliError is pail.cli.errors.CliError
    with pytest.raises(AttributeError):
        pail.cli.main.no_such_name  # noqa: B018


# --- the app ----------------------------------------------------------------------------

_SDK_ROOTS = ("boto3", "botocore", "google")


def test_importing_the_app_imports_no_sdk() -> None:
    program = "import json, sys, pail.ui.app\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    names = json.loads(out.stdout)
    assert "pail.ui.app" in names and "textual" in names
    assert not _top_level(names) & {"boto3", "botocore", "s3transfer", "google"}


#: Runs the app (headless) on an S3 connection whose endpoint refuses connections, and
#: prints, in order, each frame drawn and each SDK import started (and on which thread).
_APP_PROGRAM = textwrap.dedent(
    """
    import asyncio, json, sys, threading

    events = []
    SDK = {sdk!r}

    def hook(event, args):
        if event == "import" and args[0].split(".")[0] in SDK:
            main = threading.current_thread() is threading.main_thread()
            events.append(["import", args[0], "main" if main else "worker"])

    sys.addaudithook(hook)

    import pail.ui.app as app_module
    from pail.core.connection import ConnectionSpec

    app_module.FIRST_FRAME_WAIT = 120.0  # the order is under test, not the time-out
    display = app_module.PailApp._display

    def drawn(self, screen, renderable):
        if renderable is not None:
            events.append(["frame"])
        return display(self, screen, renderable)

    app_module.PailApp._display = drawn
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url="http://127.0.0.1:9", region="us-east-1",
        path_style=True,
    )

    async def run():
        app = app_module.PailApp([spec])
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(1200):
                await pilot.pause(0.05)
                if any(e[0] == "import" for e in events):
                    break

    asyncio.run(run())
    sys.__stdout__.write("EVENTS " + json.dumps(events) + "\\n")
    """
).format(sdk=_SDK_ROOTS)


def test_the_first_frame_is_drawn_before_any_sdk_import_starts(tmp_path) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    out = subprocess.run(
        [sys.executable, "-c", _APP_PROGRAM], capture_output=True, text=True, timeout=240, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("EVENTS "))
    events = json.loads(line.removeprefix("EVENTS "))
    kinds = [e[0] for e in events]
    assert "import" in kinds, events  # opening the S3 connection imported the SDK
    assert "frame" in kinds[: kinds.index("import")], events
    assert all(e[2] == "worker" for e in events if e[0] == "import"), events
