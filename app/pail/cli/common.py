"""Helpers shared by several commands (not a command: command modules never import each
other, so what two of them need lives here, in :mod:`pail.cli.output`,
:mod:`pail.cli.errors` or :mod:`pail.cli.values`)."""

from __future__ import annotations

import sys

import click

from pail.cli.errors import EXIT_ERROR, EXIT_USAGE, CliError


def confirm_or_refuse(question: str, yes: bool, what: str) -> None:
    """Go ahead with ``--yes``; on a terminal ask ``question`` (default no); without a
    terminal refuse with exit status 2 (``what`` names the change: ``"restore"``, ...).

    Raises:
        CliError: refused (exit 2: no terminal and no ``--yes``) or answered no (exit 1,
            ``pail: nothing changed``).
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(
            [
                f"pail: error: refusing to {what} without --yes: stdin is not a terminal",
                "  Hint: check the plan with --dry-run, then run again with --yes.",
            ],
            EXIT_USAGE,
        )
    if not click.confirm(question, default=False, err=True):
        raise CliError(["pail: nothing changed"], EXIT_ERROR)


__all__ = ["confirm_or_refuse"]
