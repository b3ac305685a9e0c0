"""The filter bar: an Input under the tree that narrows one level's loaded children.

Typing filters as you go (case-insensitive substring of the child's name); Enter keeps
the filter and returns to the tree; Escape clears it and closes the bar.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from pail.ui.messages import FilterChanged, FilterClosed


class FilterBar(Input):
    """Single-line filter input; posts :class:`FilterChanged` and :class:`FilterClosed`."""

    BINDINGS = [
        Binding("escape", "clear", "Clear filter", id="filter.clear"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(placeholder="filter this level…", id=id)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(FilterChanged(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(FilterClosed(cleared=False))

    def action_clear(self) -> None:
        """Escape: clear the filter and close the bar."""
        if self.value:
            self.value = ""  # posts Input.Changed -> FilterChanged("")
        self.post_message(FilterClosed(cleared=True))
