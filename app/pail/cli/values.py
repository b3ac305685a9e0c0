"""Numbers from the command line, refused in one line when out of range.

click's own ``IntRange`` reports a bad value as a usage block (usage line, hint, blank
line, error); pail's rule for bad input is one line and exit status 2. The types here
raise :class:`pail.cli.errors.CliError` from ``convert`` instead, which click passes
through unchanged: ``pail: error: --jobs: 0 is out of range: use 1 to 64``.
"""

from __future__ import annotations

import re
from typing import Any

import click

from pail.cli.errors import EXIT_USAGE, CliError
from pail.core.text import printable

#: Longest presigned URL lifetime: SigV4 query authentication allows 7 days (604,800 s).
MAX_EXPIRES = 604800

_WHOLE = re.compile(r"[+-]?[0-9]+")


def usage_error(message: str) -> CliError:
    """``pail: error: MESSAGE`` (made printable), exit status 2."""
    return CliError([f"pail: error: {printable(message)}"], EXIT_USAGE)


class Count(click.ParamType):
    """A whole number from ``low`` to ``high`` (``high=None``: no upper bound).

    ASCII digits only (``"٣"`` and ``"²"`` are refused, where ``int()`` would accept
    the first); more than 30 significant digits is out of range without being converted.
    """

    name = "integer"

    def __init__(self, low: int, high: int | None = None, unit: str = "") -> None:
        self.low = low
        self.high = high
        self.unit = unit

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        """``value`` as an int. Raises CliError (exit 2) with one line."""
        name = _name(param)
        if isinstance(value, bool):
            raise usage_error(f"{name}: a whole number, not {value!r}")
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            if not _WHOLE.fullmatch(text):
                raise usage_error(f"{name}: a whole number, not {str(value)[:40]!r}")
            digits = text.lstrip("+-").lstrip("0") or "0"
            if len(digits) > 30:  # never convert a huge spelling
                raise usage_error(f"{name}: {text[:12]}… is out of range: {self.range_text()}")
            number = -int(digits) if text.startswith("-") else int(digits)
        if number < self.low or (self.high is not None and number > self.high):
            raise usage_error(f"{name}: {_short(number)} is out of range: {self.range_text()}")
        return number

    def range_text(self) -> str:
        """``"use 1 to 64"``, ``"use 0 or more"`` (with the unit)."""
        unit = f" {self.unit}" if self.unit else ""
        if self.high is None:
            return f"use {self.low:,} or more{unit}"
        return f"use {self.low:,} to {self.high:,}{unit}"


def expires() -> Count:
    """The ``--expires`` type of ``pail url``: 1 to 604,800 seconds (7 days, the SigV4
    and GCS V4 signed URL maximum)."""
    return Count(1, MAX_EXPIRES, "seconds (7 days at most)")


def _name(param: click.Parameter | None) -> str:
    if param is None:
        return "value"
    opts = getattr(param, "opts", None) or []
    longest = max(opts, key=len) if opts else (param.name or "value")
    return longest


def _short(number: int) -> str:
    text = str(number)
    return text if len(text) <= 24 else text[:12] + "…"


__all__ = ["MAX_EXPIRES", "Count", "expires", "usage_error"]
