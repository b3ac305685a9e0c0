"""``pail inventory``: a bucket from its inventory report (being built)."""

from __future__ import annotations

from collections.abc import Callable

import click


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail inventory`` to ``group`` (``connection_options``/``flags_of`` from
    pail.cli.main)."""

    @group.command("inventory", short_help="A bucket from its inventory report.")
    @click.argument("uri", metavar="URI")
    def inventory(uri: str) -> None:
        raise click.UsageError("pail inventory is not built yet")
