"""Placeholder: ``pail diff`` (being written)."""

from __future__ import annotations

from collections.abc import Callable

import click


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail diff`` to ``group``."""

    @group.command("diff", short_help="What differs between two runs.")
    def command() -> None:
        """What differs between two runs."""
        raise click.UsageError("not built yet")
