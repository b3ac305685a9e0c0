""" "This file cannot be verified" during a download: accept it anyway, or keep it aside.

``ModalScreen[bool]``; escape and ``n`` keep it aside (the safe choice: the complete file
stays in the target's ``.pail/partials`` and the download reports it as not verified). Asked
by the engine through :func:`pail.ui.download_ops.unverified_bridge`, one question at a time.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static

from pail.core.text import one_line
from pail.core.units import size_with_bytes
from pail.services.download import DownloadJob
from pail.ui.text import tilde


class UnverifiedScreen(ModalScreen[bool]):
    """Ask whether a file that no checksum can prove may take its final name.

    Args:
        job: the engine's job (key, local path, object size).
        reason: why nothing could verify it (plain text from the engine).
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Accept unverified", id="unverified.accept"),
        Binding("n,escape", "answer(False)", "Keep aside", id="unverified.reject"),
    ]

    def __init__(self, job: DownloadJob, reason: str) -> None:
        super().__init__()
        self.job = job
        self.reason = reason

    def compose(self) -> ComposeResult:
        job = self.job
        size = size_with_bytes(job.size) if job.size is not None else "unknown size"
        with Vertical(id="unverified-box", classes="modal-box"):
            yield Static(Text("This file cannot be verified", style="bold"))
            yield Static(
                Text.assemble(
                    ("Object  ", "bold"),
                    one_line(job.key),
                    f"  ({size})\n",
                    ("File    ", "bold"),
                    one_line(tilde(job.path)),
                    "\n\n",
                    ("Why     ", "bold"),
                    one_line(self.reason),
                    "\n\nThe bytes arrived complete, but the store gives no checksum that "
                    "proves them. Kept aside, the file stays out of its name and the "
                    "download reports it; accepted, it takes its name unverified.",
                ),
                id="unverified-body",
            )
            with Horizontal(classes="modal-buttons"):
                yield Button("Accept unverified", variant="warning", id="unverified-accept")
                yield Button("Keep aside", variant="primary", id="unverified-reject")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#unverified-reject", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer(event.button.id == "unverified-accept")

    def action_answer(self, accept: bool) -> None:
        """Close with the answer: ``True`` accepts the file unverified."""
        self.dismiss(bool(accept))
