"""Helpers shared by several commands (not a command: command modules never import each
other, so what two of them need lives here, in :mod:`pail.cli.output`,
:mod:`pail.cli.errors` or :mod:`pail.cli.values`)."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from pail.cli.errors import EXIT_ERROR, EXIT_USAGE, CliError

F = TypeVar("F", bound=Callable[..., Any])


def human_option(func: F) -> F:
    """``-h``/``--human-readable``: sizes as KiB/MiB/GiB instead of exact bytes, the
    same flag on every command that prints sizes (``ls``, ``du``, ``versions``, ``get``).

    The command receives it as ``human``. The older spelling ``--human`` still works
    (hidden from ``--help``) so scripts written for it keep running.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, human_alias: bool = False, **kwargs: Any) -> Any:
        kwargs["human"] = bool(kwargs.get("human")) or human_alias
        return func(*args, **kwargs)

    # functools.wraps copied the click params list; give the wrapper its own.
    wrapper.__click_params__ = list(getattr(func, "__click_params__", []))  # type: ignore[attr-defined]
    wrapper = click.option("--human", "human_alias", is_flag=True, hidden=True)(wrapper)
    wrapper = click.option(
        "-h", "--human-readable", "human", is_flag=True, help="Sizes as KiB/MiB/GiB."
    )(wrapper)
    return wrapper  # type: ignore[return-value]


def yes_option(help_text: str = "Do not ask (needed without a terminal).") -> Callable[[F], F]:
    """``-y``/``--yes``: go ahead without asking, the same flag on every command that asks
    before changing something (``rm``, ``restore``, ``versions --delete-noncurrent``,
    ``lifecycle apply``). The command receives it as ``yes``."""
    return click.option("-y", "--yes", "yes", is_flag=True, help=help_text)


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


__all__ = ["confirm_or_refuse", "human_option", "yes_option"]
