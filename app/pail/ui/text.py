"""Show user- and server-supplied strings literally and safely, as Rich text.

Which characters are neutralised, and how, is :mod:`pail.core.text`'s decision
(:func:`~pail.core.text.one_line`, :func:`~pail.core.text.safe_text`): ESC shows as ``␛``,
a bidi override as ``<U+202E>``. This module only wraps the result in
:class:`rich.text.Text` (never parsed as markup) and shortens home-folder paths.
"""

from __future__ import annotations

import os

from rich.style import Style
from rich.text import Text

from pail.core.text import one_line, safe_text


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
