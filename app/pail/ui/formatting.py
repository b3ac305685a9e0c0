"""Plain-text wording of counts and times for the tree and the detail pane.

Sizes and ages are :mod:`pail.core.units`' (``size_text``, ``size_with_bytes``, ``ago``);
times are shown in the local time zone with their age relative to an injectable "now".
"""

from __future__ import annotations

from datetime import datetime

from pail.core.units import ago
from pail.core.units import plural as plural  # re-exported: the UI's modules import it here


def plural_so_far(count: int, noun: str, more: bool, nouns: str | None = None) -> str:
    """A count still growing: ``"1,000+ keys"`` while ``more`` may follow (always the
    plural), else :func:`plural` (``"1 key"``, ``"3,000 keys"``)."""
    if not more:
        return plural(count, noun, nouns)
    words = plural(2, noun, nouns)[2:]  # the plural form: "1+" is more than one
    return f"{count:,}+ {words}"


def format_time(value: datetime | None, now: datetime) -> str:
    """Local time with zone, and the age: ``"2024-05-01 12:00:00 CEST (3 days ago)"``."""
    if value is None:
        return ""
    local = value.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({ago(value, now)})"
