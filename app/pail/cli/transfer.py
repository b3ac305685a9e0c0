"""``pail put``, ``pail cp`` and ``pail mv``: writes through :mod:`pail.services.transfer`.

(Being built: issue 16. The commands exist so the group lists them.)
"""

from __future__ import annotations

from collections.abc import Callable

import click


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail put``, ``pail cp`` and ``pail mv`` to ``group``."""

    for name, text in (
        ("put", "Upload files (folders with -r), verified."),
        ("cp", "Copy objects within or across stores, verified."),
        ("mv", "Move or rename: copy, verify, then delete the source."),
    ):

        @group.command(name, short_help=text)
        def command() -> None:
            raise click.UsageError("not available yet")


__all__ = ["register"]
