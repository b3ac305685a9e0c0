"""One set of rules for what users type, and command modules that stand alone.

Every command that reads objects opens its location through
:func:`pail.services.locations.open_location`, so they all treat a saved connection the
same way; the command modules never import one another (shared helpers live in
pail.cli.common, errors, output, values and secrets), and no saved connection can be named
like a command.
"""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest

from pail.cli.main import EXIT_USAGE, cli
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec
from pail.services.connections import RESERVED_NAMES
from support.cli import run

CLI = Path(__file__).resolve().parents[2] / "app" / "pail" / "cli"
#: Modules of pail.cli that are not commands: what commands may share.
HELPERS = {"__init__", "cleanup", "common", "errors", "output", "progress", "secrets", "values"}


@pytest.mark.parametrize(
    "module", sorted(p.stem for p in CLI.glob("*.py") if p.stem not in HELPERS | {"main"})
)
def test_command_modules_never_import_each_other(module):
    tree = ast.parse((CLI / f"{module}.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    commands = {m for m in imported if m.startswith("pail.cli.")} - {
        f"pail.cli.{h}" for h in HELPERS
    }
    assert not commands, f"pail.cli.{module} imports {sorted(commands)}"


def test_no_saved_connection_can_be_named_like_a_command():
    names = set(cli.list_commands(click.Context(cli)))
    assert names and names <= RESERVED_NAMES, sorted(names - RESERVED_NAMES)


@pytest.mark.parametrize(
    "args",
    [
        ["get", "lab"],
        ["url", "lab"],
        ["du", "lab"],
        ["rm", "--dry-run", "lab"],
        ["versions", "lab"],
        ["restore", "--dry-run", "lab"],
        ["lifecycle", "show", "lab"],
        ["doctor", "lab"],
        ["cp", "lab", "s3://b/"],
        ["mv", "lab", "s3://b/"],
        ["put", __file__, "lab"],
    ],
    ids=lambda args: args[0],
)
def test_a_saved_connection_without_a_bucket_is_refused_alike(args):
    ConnectionStore().save(ConnectionSpec(name="lab", provider="s3", endpoint_url="http://h:1"))
    result = run(args)
    assert result.exit_code == EXIT_USAGE, result.output
    first = result.stderr.splitlines()[0]
    assert first.startswith("pail: error: lab names no bucket"), first
    assert "Traceback" not in result.stderr
