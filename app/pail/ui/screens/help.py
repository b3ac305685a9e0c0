"""The help modal (``?``): the keys of the screen it was opened on, by section.

What each screen has is gathered by :func:`pail.ui.keymap.screen_keys` (the app passes it
in, with the user's keymap applied); this module only draws it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from pail.credentials import KeyringStatus

if TYPE_CHECKING:
    from pail.ui.keymap import KeyRow


class HelpScreen(ModalScreen[None]):
    """Lists a screen's keys; any of escape, ``?`` or ``q`` closes it.

    Args:
        sections: ``[(title, rows)]`` from :func:`pail.ui.keymap.screen_keys`; each row
            has ``key`` and ``description`` (plain text, never markup).
        title: the screen's name (``"Sizes (s)"``).
        keyring: the keyring's state (main screen only); when it cannot store secrets its
            message (why, and what fixes it) is shown here (the status bar says "see ?").
    """

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close help", id="help.close"),
    ]

    def __init__(
        self,
        sections: Sequence[tuple[str, Sequence[KeyRow]]],
        *,
        title: str = "This screen",
        keyring: KeyringStatus | None = None,
    ) -> None:
        super().__init__()
        self._sections = list(sections)
        self._title = title
        self._keyring = keyring

    def compose(self) -> ComposeResult:
        parts: list[RenderableType] = []
        for number, (section, rows) in enumerate(self._sections):
            # One grid per section: a long key in one part does not widen the others.
            title = Text(section, style="bold underline")
            parts.append(Text.assemble("\n" if number else "", title))
            table = Table.grid(padding=(0, 3))
            table.add_column(style="bold", no_wrap=True, max_width=26)
            table.add_column()
            for row in rows:
                table.add_row(Text(row.key), Text(row.description))
            parts.append(table)
        with Vertical(id="help-box"):
            yield Static(Text(f"pail — keys: {self._title}", style="bold"), id="help-title")
            # The keys may outgrow the screen: they scroll, the keyring note stays in view.
            with VerticalScroll(id="help-scroll"):
                yield Static(Group(*parts), id="help-keys")
            status = self._keyring
            if status is not None:
                if status.usable:
                    note = Text(f"Keyring: {status.backend}: secrets are kept there.")
                else:
                    note = Text.assemble(("Keyring unavailable: ", "bold"), status.message)
                yield Static(note, id="help-keyring")
            yield Static(Text("escape / ? / q close this help", style="dim"), id="help-foot")
