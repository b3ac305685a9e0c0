"""Show user- and server-supplied strings literally and safely.

Key names, metadata and file contents are never Rich markup and never reach the terminal
as control sequences: control characters become visible symbols (ESC shows as ``␛``,
via :func:`pail.services.previews.textutil.sanitize_text`), and bidirectional overrides (which can
make a key look like another, CVE-2021-42574 "Trojan Source") show as ``<U+202E>``.
"""

from __future__ import annotations

import os
import re

from rich.style import Style
from rich.text import Text

from pail.services.previews.textutil import sanitize_text

# Bidi embeddings/overrides/isolates and a few invisible format characters.
_BIDI_RE = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def safe_text(value: object) -> str:
    """``str(value)`` with controls replaced by visible symbols; TAB and LF are kept."""
    text = sanitize_text(str(value))
    return _BIDI_RE.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def one_line(value: object) -> str:
    """Like :func:`safe_text`, and also shows TAB as ``␉`` and LF as ``␊`` (for labels)."""
    return safe_text(value).replace("\t", "\u2409").replace("\n", "\u240a")


def literal(value: object, style: str | Style = "") -> Text:
    """A one-line :class:`rich.text.Text` of ``value``, never parsed as markup."""
    return Text(one_line(value), style=style, no_wrap=False)


def literal_block(value: object, style: str | Style = "") -> Text:
    """A multi-line :class:`rich.text.Text` of ``value`` (LF kept), never parsed as markup."""
    return Text(safe_text(value), style=style)


def tilde(path: str) -> str:
    """``path`` with the user's home folder shown as ``~`` (shorter, and it hides the
    user name in screenshots)."""
    home = os.path.expanduser("~")
    if home not in ("", "/") and (path == home or path.startswith(home + os.sep)):
        return "~" + path[len(home) :]
    return path
