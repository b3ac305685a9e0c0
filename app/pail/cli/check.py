"""``pail check A B``: compare a folder with a prefix, or two prefixes
(:mod:`pail.services.compare`).

(Being built: issue 16. The command exists so the group lists it.)
"""

from __future__ import annotations

from collections.abc import Callable

import click


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail check`` to ``group``."""

    @group.command("check", short_help="Compare a folder with a prefix, or two prefixes.")
    def check_command() -> None:
        raise click.UsageError("not available yet")


__all__ = ["register"]
