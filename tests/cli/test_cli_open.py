"""How the group tells URIs (`pail [URI ...]` opens the app) from subcommand names. What
the app opens for them is tested in tests/services/test_locations.py; the app itself runs
in test_tmux."""

from __future__ import annotations

import click

from pail.cli.main import cli


def _resolve(args: list[str]) -> str | None:
    ctx = click.Context(cli)
    name, _, _ = cli.resolve_command(ctx, args)
    return name


def test_first_argument_is_a_subcommand_or_a_uri():
    assert _resolve(["ls", "s3://b/"]) == "ls"
    assert _resolve(["demo"]) == "demo"
    assert _resolve(["s3://b/"]) == "open"
    assert _resolve(["./runs"]) == "open"
    assert _resolve(["open", "s3://b/"]) == "open"
