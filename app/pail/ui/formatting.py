"""Plain-text formatting of sizes, times and counts for the tree and the detail pane.

Sizes use binary units (KiB, MiB: IEC 80000-13) with exact byte counts where space allows;
times are shown in the local time zone with their age relative to an injectable "now".
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import humanize


def lexer_for(key: str) -> str:
    """Pygments lexer name for a key's file name (``"json"``, ``"python"``), else ``"text"``."""
    return _lexer_for_name(key.rsplit("/", 1)[-1])


@lru_cache(maxsize=256)
def _lexer_for_name(name: str) -> str:
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(name).aliases[0]
    except (ClassNotFound, IndexError):
        return "text"
    except Exception:  # a misbehaving pygments plugin must not break the preview
        return "text"


def format_size(size: int | None) -> str:
    """``"1.5 KiB (1,536 bytes)"``; below 1 KiB just ``"12 bytes"``."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size:,} bytes"
    return f"{humanize.naturalsize(size, binary=True)} ({size:,} bytes)"


def plural(count: int, noun: str) -> str:
    """``"1 prefix"``, ``"2 prefixes"``, ``"1,000 objects"``."""
    suffix = "es" if noun.endswith(("x", "s")) else "s"
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}{suffix}"


def format_time(value: datetime | None, now: datetime) -> str:
    """Local time with zone, and the age: ``"2024-05-01 12:00:00 CEST (3 days ago)"``."""
    if value is None:
        return ""
    local = value.astimezone()
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({humanize.naturaltime(now - value)})"


def short_size(size: int) -> str:
    """Compact size for a tree row: ``"204 B"``, ``"16.0 KiB"``."""
    return f"{size} B" if size < 1024 else humanize.naturalsize(size, binary=True)
