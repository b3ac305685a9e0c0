"""The help modal (``?``): every key binding of the main screen, with its description."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pail.credentials import KeyringStatus

#: Keys handled by the tree itself (Textual's Tree bindings), shown for completeness.
TREE_KEYS = [
    ("↑ ↓", "Move the cursor"),
    ("enter", "Expand / collapse; on “load more…”, list the next page"),
    ("shift+←", "Go to the parent"),
]

#: Keys of the level list (a level of more than one page: enter on "▤ … open list").
LIST_KEYS = [
    ("list: ↑ ↓ pgup pgdn home", "Move the cursor (near the end, the next page loads)"),
    ("list: G / end", "Load every page (progress: keys, pages, keys/s)"),
    ("list: esc / ctrl+c", "Cancel loading all (after the page in flight); else back"),
    ("list: S / R", "Sort by the next field (name, size, modified, class) / reverse"),
    ("list: /", "Filter as you type (substring; glob with * ? [)"),
    ("list: space + * u", "Mark / mark all shown / invert shown / clear marks"),
    ("list: enter", "Object: detail and preview; prefix: open it in the tree"),
]


class HelpScreen(ModalScreen[None]):
    """Lists keys; any of escape, ``?`` or ``q`` closes it.

    Args:
        bindings: ``(key, description)`` pairs of the app and main screen bindings.
        keyring: the keyring's state; when it cannot store secrets its message (why, and
            what fixes it) is shown here (the status bar says "see ?").
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(
        self, bindings: list[tuple[str, str]], *, keyring: KeyringStatus | None = None
    ) -> None:
        super().__init__()
        self._keys = bindings
        self._keyring = keyring

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 3))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for key, description in [*TREE_KEYS, *self._keys, *LIST_KEYS]:
            table.add_row(Text(key), Text(description))
        with Vertical(id="help-box"):
            yield Static(Text("pail — keys", style="bold"), id="help-title")
            # The keys may outgrow the screen: they scroll, the keyring note stays in view.
            with VerticalScroll(id="help-scroll"):
                yield Static(table, id="help-keys")
            status = self._keyring
            if status is not None:
                if status.usable:
                    note = Text(f"Keyring: {status.backend}: secrets are kept there.")
                else:
                    note = Text.assemble(("Keyring unavailable: ", "bold"), status.message)
                yield Static(note, id="help-keyring")
            yield Static(Text("escape / ? / q close this help", style="dim"), id="help-foot")
