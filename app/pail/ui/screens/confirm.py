"""A yes/no question as a modal: ``ModalScreen[bool]``, True only on an explicit yes."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class ConfirmScreen(ModalScreen[bool]):
    """Ask before doing something that cannot be undone.

    Args:
        title: the question, e.g. "Remove connection lab?" (plain text, never markup).
        body: what will happen, as plain text.
        confirm: label of the yes button.

    Dismisses with True for the yes button or ``y``; False for the other button,
    ``n`` or escape. The focus starts on the safe answer.
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, *, confirm: str = "Yes") -> None:
        super().__init__()
        self._title = title
        self._body = body
        self._confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="modal-box"):
            yield Static(Text(self._title, style="bold"), id="confirm-title")
            yield Static(Text(self._body), id="confirm-body")
            with Horizontal(classes="modal-buttons"):
                yield Button(self._confirm, variant="error", id="confirm-yes")
                yield Button("Cancel", id="confirm-no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        """Close with ``yes``."""
        self.dismiss(yes)
