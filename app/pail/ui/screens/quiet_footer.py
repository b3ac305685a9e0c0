"""A screen that asks its footer to redraw only when the keys it shows changed."""

from __future__ import annotations

from textual.screen import Screen


class QuietFooterScreen(Screen[None]):
    """Textual's footer rebuilds every key widget on each ``refresh_bindings`` request
    (about 0.3 s of restyling per page while a 100,000-key level loads, and once per query
    in the inventory view). This screen passes a request on only when what the footer
    draws changed: the active bindings (key, action, description, enabled, tooltip),
    decided by the focused widget's ``check_action`` as before."""

    _shown_bindings: tuple[object, ...] | None = None

    def refresh_bindings(self) -> None:
        """Tell the footer (and ``?``) the keys changed, only when they did."""
        # The footer ignores requests while the terminal has no focus: asking again once
        # it has must not be skipped.
        keys = [
            (key, b.binding.action, b.binding.description, b.enabled, b.tooltip)
            for key, b in self.active_bindings.items()
        ]
        shown = (self.app.app_focus, *keys)
        if shown == self._shown_bindings:
            return
        self._shown_bindings = shown
        super().refresh_bindings()
