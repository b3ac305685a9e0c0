""" "This file exists" during a download: overwrite, skip or keep both, optionally for
every later conflict of the same download.

``ModalScreen[ConflictAnswer]``; escape answers skip (the safe choice). Asked by the
engine through :func:`pail.ui.download_ops.conflict_bridge`, one question at a time.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Static

from pail.core.text import one_line
from pail.core.units import size_with_bytes
from pail.services.download import ConflictAnswer, DownloadJob
from pail.services.download.engine import ConflictAction
from pail.ui.text import tilde

#: The answers by the name a button or binding gives them.
_ACTIONS: dict[str, ConflictAction] = {
    "overwrite": "overwrite",
    "skip": "skip",
    "keep-both": "keep-both",
}


class ConflictScreen(ModalScreen[ConflictAnswer]):
    """Ask what to do with an existing, different local file.

    Args:
        job: the engine's job (key, local path, object size).
    """

    BINDINGS = [
        Binding("o", "answer('overwrite')", "Overwrite", id="conflict.overwrite"),
        Binding("s,escape", "answer('skip')", "Skip", id="conflict.skip"),
        Binding("k", "answer('keep-both')", "Keep both", id="conflict.keep_both"),
        Binding("a", "toggle_all", "Apply to all", id="conflict.all"),
    ]

    def __init__(self, job: DownloadJob) -> None:
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        job = self.job
        try:
            local = size_with_bytes(os.path.getsize(job.path))
        except OSError:
            local = "unknown size"
        remote = size_with_bytes(job.size) if job.size is not None else "unknown size"
        with Vertical(id="conflict-box", classes="modal-box"):
            yield Static(Text("This file already exists", style="bold"), id="conflict-title")
            yield Static(
                Text.assemble(
                    ("Local   ", "bold"),
                    one_line(tilde(job.path)),
                    f"  ({local})\n",
                    ("Object  ", "bold"),
                    one_line(job.key),
                    f"  ({remote})",
                ),
                id="conflict-body",
            )
            yield Checkbox("Apply to all later conflicts of this download", id="conflict-all")
            with Horizontal(classes="modal-buttons"):
                yield Button("Overwrite", variant="error", id="conflict-overwrite")
                yield Button("Keep both", id="conflict-keep-both")
                yield Button("Skip", variant="primary", id="conflict-skip")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#conflict-skip", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        action = (event.button.id or "conflict-skip").removeprefix("conflict-")
        self.action_answer(action)

    def action_toggle_all(self) -> None:
        """Toggle "apply to all"."""
        box = self.query_one(Checkbox)
        box.value = not box.value

    def action_answer(self, action: str) -> None:
        """Close with ``action`` (overwrite, skip, keep-both) and the checkbox's state."""
        apply_all = self.query_one(Checkbox).value
        answer = _ACTIONS.get(action, "skip")  # the names of the buttons and bindings
        self.dismiss(ConflictAnswer(answer, apply_to_all=apply_all))
