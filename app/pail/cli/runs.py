"""Placeholder: ``pail runs`` (being written)."""

from __future__ import annotations

from collections.abc import Callable

import click


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail runs`` to ``group``."""

    @group.command("runs", short_help="The runs under a location: params, metrics, sizes.")
    def command() -> None:
        """The runs under a location: params, metrics, sizes."""
        raise click.UsageError("not built yet")
