"""The footer every full screen shows: Textual's, with ``?`` first.

Textual's footer lists the focused widget's keys first and the app's last, so on an
80-column terminal the app's ``? Help`` was cut off. Here the help key leads, whatever else
does not fit.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

#: The key that leads the footer (Textual's name for ``?``).
HELP_KEY = "question_mark"


class PailFooter(Footer):
    """:class:`textual.widgets.Footer` with the ``?`` key first.

    pail's bindings use no binding groups, so the footer's children are a flat list of
    keys that can be reordered; a group (a container of keys) would keep its place."""

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        keys.sort(key=lambda widget: not (isinstance(widget, FooterKey) and widget.key == HELP_KEY))
        yield from keys
