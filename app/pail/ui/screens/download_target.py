"""The download dialog: what will be downloaded, and an editable target folder.

``ModalScreen[str | None]``: dismisses with the absolute folder (``~`` expanded) on
enter or the Download button, ``None`` on escape or Cancel. The folder need not exist
(the engine creates it).
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Static

from pail.ui.text import tilde


class DownloadTargetScreen(ModalScreen[str | None]):
    """Ask for the folder to download into.

    Args:
        what: plain-text description of the selection ("3 objects from s3://b").
        default: the folder proposed (shown with ``~`` for the home folder).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="download_target.cancel")]

    def __init__(self, what: str, default: str) -> None:
        super().__init__()
        self._what = what
        self._default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="download-box", classes="modal-box"):
            yield Static(Text("Download", style="bold"), id="download-title")
            yield Static(Text(self._what), id="download-what")
            yield Static(Text("Into the folder (key paths are kept below it):"))
            yield Input(tilde(self._default), id="download-folder")
            yield Static("", id="download-error")
            with Horizontal(classes="modal-buttons"):
                yield Button("Download", variant="primary", id="download-go")
                yield Button("Cancel", id="download-cancel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "download-go":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        raw = self.query_one(Input).value.strip()
        if not raw:
            self.query_one("#download-error", Static).update(Text("Enter a folder."))
            return
        folder = os.path.abspath(os.path.expanduser(raw))
        if os.path.exists(folder) and not os.path.isdir(folder):
            message = Text(f"{raw} is a file, not a folder.")
            self.query_one("#download-error", Static).update(message)
            return
        self.dismiss(folder)

    def action_cancel(self) -> None:
        """Close without downloading."""
        self.dismiss(None)
