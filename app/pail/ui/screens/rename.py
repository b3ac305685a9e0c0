"""A one-field question: the new name for ``F2`` (rename), the local path for ``U`` (upload).

``ModalScreen[str | None]``: dismisses with the text typed (stripped; never empty) on enter
or OK, ``None`` on escape or Cancel. ``check`` (optional, pure: no I/O, it runs on the
event loop) refuses a text with a plain-text reason shown under the field.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from pail.core.text import one_line


class TextInputScreen(ModalScreen[str | None]):
    """Ask for one line of text.

    Args:
        title: e.g. ``"Rename"``. what: the thing it is about (plain text, one line).
        prompt: the field's label. value: the field's first text (selected).
        check: returns why a text is refused (``""``: accepted); pure.
        ok: the OK button's label.
    """

    CSS_PATH = "../styles/transfers.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", key_display="esc", id="text_input.cancel")]

    def __init__(
        self,
        title: str,
        what: str,
        prompt: str,
        value: str = "",
        *,
        check: Callable[[str], str] | None = None,
        ok: str = "OK",
    ) -> None:
        super().__init__()
        self._title = title
        self._what = what
        self._prompt = prompt
        self._value = value
        self._check = check
        self._ok = ok

    def compose(self) -> ComposeResult:
        with Vertical(id="text-input-box", classes="modal-box"):
            yield Static(Text(self._title, style="bold"), id="text-input-title")
            yield Static(Text(one_line(self._what)), id="text-input-what")
            yield Static(Text(self._prompt))
            yield Input(self._value, id="text-input-field")
            yield Static("", id="text-input-error")
            with Horizontal(classes="modal-buttons"):
                yield Button(self._ok, variant="primary", id="text-input-go")
                yield Button("Cancel", id="text-input-cancel")
        yield Footer()

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.focus()
        field.cursor_position = len(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "text-input-go":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        text = self.query_one(Input).value.strip()
        problem = "Enter a value." if not text else (self._check(text) if self._check else "")
        if problem:
            self.query_one("#text-input-error", Static).update(Text(one_line(problem), "red"))
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        """Close without an answer."""
        self.dismiss(None)
