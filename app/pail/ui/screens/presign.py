"""Choose a presigned URL's lifetime: ``ModalScreen[int | None]`` (seconds, or ``None``).

The choices are :data:`pail.services.object_links.EXPIRY_CHOICES` (15 minutes to 7 days,
SigV4's maximum); escape cancels.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from pail.core.text import one_line
from pail.services.object_links import EXPIRY_CHOICES


class PresignScreen(ModalScreen[int | None]):
    """Ask how long the URL for ``uri`` should work.

    Args:
        uri: the object's URI (shown as plain text).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="presign.cancel")]

    def __init__(self, uri: str) -> None:
        super().__init__()
        self._uri = uri

    def compose(self) -> ComposeResult:
        with Vertical(id="presign-box", classes="modal-box"):
            yield Static(Text("Copy a presigned URL", style="bold"), id="presign-title")
            yield Static(Text(one_line(self._uri)))
            yield Static(Text("Anyone with the URL can read the object until it expires."))
            options = [Option(label, id=str(seconds)) for label, seconds in EXPIRY_CHOICES.items()]
            yield OptionList(*options, id="presign-choices")
        yield Footer()

    def on_mount(self) -> None:
        choices = self.query_one(OptionList)
        choices.highlighted = 1  # 1 hour, like `aws s3 presign`
        choices.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or "3600"))

    def action_cancel(self) -> None:
        """Close without a URL."""
        self.dismiss(None)
