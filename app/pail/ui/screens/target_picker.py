"""Where a copy, move or comparison goes: the target picker.

``ModalScreen[Side | None]``. The user types ``NAME:bucket/prefix`` (an open or saved
connection), ``s3://bucket/prefix``, ``gs://bucket/prefix`` or a local folder path, or picks
one of the open connections' roots and their buckets from the list (enter there fills the
field, to go on typing a prefix). Enter in the field (or the button) reads the text with
the ``resolve`` function given (the caller's: the open connections first, then
``pail.services.transfer.side_for``) in a worker, never on the event loop; a text that does
not read stays, with the reason shown under it as plain text. Escape: ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from pail.core.text import one_line
from pail.services.transfer import Side
from pail.ui.messages import WorkFailed
from pail.ui.workers import start_io


@dataclass(frozen=True)
class PickChoice:
    """One row of the list: ``text`` goes into the field (``"moto:art/"``), ``label``
    is what the row shows (plain text)."""

    text: str
    label: str


@dataclass(eq=False)
class TargetRead(Message):
    """The worker read the typed text ``text`` as ``side``."""

    text: str
    side: Side


class TargetPickerScreen(ModalScreen[Side | None]):
    """Ask where to copy, move or compare to.

    Args:
        title: e.g. ``"Copy to"``.
        what: plain-text description of the source ("3 objects from s3://art").
        choices: the open connections' roots and buckets, in tree order.
        resolve: reads a typed text as a :class:`Side` (blocking: called in a worker);
            raises ``InvalidURI`` / ``StorageError`` / ``ValueError`` with a plain-text
            message when it cannot.
        value: the field's first text.
    """

    CSS_PATH = "../styles/transfers.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", key_display="esc", id="target.cancel")]

    def __init__(
        self,
        title: str,
        what: str,
        choices: Sequence[PickChoice],
        resolve: Callable[[str], Side],
        value: str = "",
    ) -> None:
        super().__init__()
        self._title = title
        self._what = what
        self._choices = list(choices)
        self._resolve = resolve
        self._value = value
        self.reading = False

    def compose(self) -> ComposeResult:
        with Vertical(id="target-box", classes="modal-box"):
            yield Static(Text(self._title, style="bold"), id="target-title")
            yield Static(Text(one_line(self._what)), id="target-what")
            yield Static(
                Text("Target: NAME:bucket/prefix, s3://bucket/prefix, gs://... or a folder")
            )
            yield Input(self._value, id="target-input", placeholder="NAME:bucket/prefix/")
            yield Static("", id="target-error")
            yield Static(Text("Open connections (enter fills the field):"), id="target-hint")
            yield OptionList(
                *(Option(Text(one_line(c.label)), id=str(i)) for i, c in enumerate(self._choices)),
                id="target-list",
            )
            with Horizontal(classes="modal-buttons"):
                yield Button("OK", variant="primary", id="target-go")
                yield Button("Cancel", id="target-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#target-list").display = bool(self._choices)
        self.query_one("#target-hint").display = bool(self._choices)
        self.query_one(Input).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = self._choices[int(event.option_id or 0)]
        field = self.query_one(Input)
        field.value = choice.text
        field.cursor_position = len(choice.text)
        field.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "target-go":
            self._submit()
        else:
            self.dismiss(None)

    def _error(self, text: str) -> None:
        self.query_one("#target-error", Static).update(Text(one_line(text), style="red"))

    def _submit(self) -> None:
        text = self.query_one(Input).value.strip()
        if not text:
            self._error("Enter a target, or pick one from the list.")
            return
        self.reading = True
        self.query_one("#target-error", Static).update(Text(f"Reading {one_line(text)}…"))
        resolve = self._resolve

        def work() -> TargetRead:
            return TargetRead(text, resolve(text))

        start_io(self, work, target=text, generation=0, group="target-read")

    def on_target_read(self, message: TargetRead) -> None:
        self.reading = False
        if message.text == self.query_one(Input).value.strip():
            self.dismiss(message.side)

    def show_failure(self, message: WorkFailed) -> None:
        """The text did not read (called by the app's error route): say why, inline."""
        self.reading = False
        error = message.error
        self._error(error.message or error.badge or "not a target")

    def action_cancel(self) -> None:
        """Close without a target."""
        self.dismiss(None)
