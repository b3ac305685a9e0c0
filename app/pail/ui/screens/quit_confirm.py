"""Asked when ``q`` is pressed while downloads or deletes run: quit anyway?

``ModalScreen[bool]``: True quits. Unlike :class:`~pail.ui.screens.confirm.ConfirmScreen`
(whose safe answer is "no"), quitting is what the user just asked for, so ``y`` and enter
quit and the focus starts on the quit button; ``n`` and escape stay.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Static


class QuitScreen(ModalScreen[bool]):
    """Quit while transfers run?

    Args:
        running: one plain-text line per running transfer ("Download 1: s3://a/b/ → ~/x");
            shown literally, never as markup.
        note: what quitting does to them (plain text).

    Dismisses with True for ``y``, enter or the quit button; False for ``n``, escape or
    the stay button.
    """

    # Self-contained (one modal, used by the app only); the shared .modal-box and
    # .modal-buttons rules come from styles/app.tcss.
    DEFAULT_CSS = """
    QuitScreen {
        align: center middle;
    }
    #quit-box {
        border: thick $warning;
    }
    #quit-body {
        margin-top: 1;
    }
    """

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Quit", id="quit_confirm.yes"),
        Binding("n,escape", "answer(False)", "Stay", id="quit_confirm.no"),
    ]

    def __init__(self, running: list[str], note: str = "") -> None:
        super().__init__()
        self._lines = list(running)  # not "_running": MessagePump uses that name
        self._note = note

    def compose(self) -> ComposeResult:
        count = len(self._lines)
        title = f"{count} transfer{'s' if count != 1 else ''} running: quit anyway?"
        body = Text("\n".join(self._lines))
        if self._note:
            body.append("\n\n" + self._note)
        with Vertical(id="quit-box", classes="modal-box"):
            yield Static(Text(title, style="bold"), id="quit-title")
            yield Static(body, id="quit-body")
            with Horizontal(classes="modal-buttons"):
                yield Button("Quit", variant="error", id="quit-yes")
                yield Button("Stay", id="quit-no")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#quit-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "quit-yes")

    def action_answer(self, yes: bool) -> None:
        """Close with ``yes``."""
        self.dismiss(yes)
