"""The status bar: one line above the footer saying how the connection under the cursor
authenticates, and whether the OS keyring is usable.

Left: the connection's name, provider and credential source ("keyring", "profile NAME",
"environment", "default chain", "anonymous") with the identity masked (``AKIA…WXYZ`` or a
GCS client email), as :func:`pail.credentials.resolve` reported it. Never a secret.
Right: while anything is marked, how much (``3 marked · 1.2 GiB + 1 prefix``: a marked
prefix's size is unknown until it is listed); ``keyring: <backend>``, or ``keyring:
unavailable — see ?`` when secrets cannot be stored (the help screen and the connections
screen carry the full message).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from pail.core.text import one_line
from pail.core.units import plural, size_text
from pail.ui.access_text import identity_text
from pail.ui.nodes import Connection

if TYPE_CHECKING:
    from pail.credentials import KeyringStatus


def credential_text(conn: Connection) -> str:
    """``"keyring · AKIA…WXYZ"``, or what is known before the connection is opened."""
    resolved = conn.resolved
    if resolved is None:
        if conn.spec.provider == "local":
            return "local folder"
        return "credentials: resolved when opened"
    text = f"credentials: {resolved.source}"
    if resolved.identity:
        text += f" · {resolved.identity}"
    return text


def marks_text(count: int, size: int, prefixes: int) -> str:
    """What is marked, for the status bar ("" when nothing is).

    Args:
        count: marked items, objects and prefixes together.
        size: the marked objects' sizes added up, in bytes.
        prefixes: how many of ``count`` are prefixes (their size is unknown until they
            are listed, so it is not in ``size``).

    Returns:
        ``"3 marked · 1.2 GiB"``, ``"3 marked · 1.2 GiB + 1 prefix"``, ``"2 marked · 2
        prefixes"``, or ``""`` for ``count`` 0.
    """
    if count <= 0:
        return ""
    parts = []
    if count > prefixes:
        parts.append(size_text(size))
    if prefixes:
        parts.append(plural(prefixes, "prefix"))
    return f"{count:,} marked · " + " + ".join(parts)


def keyring_text(status: KeyringStatus | None) -> str:
    """Short keyring state for the status bar ("" while it is being checked)."""
    if status is None:
        return ""
    if status.usable:
        return f"keyring: {status.backend}"
    return "keyring: unavailable — see ?"


class StatusBar(Static):
    """Credential source of the connection under the cursor | marks, failing nodes,
    keyring state."""

    COMPONENT_CLASSES = {"status-bar--name", "status-bar--warning", "status-bar--marks"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._conn: Connection | None = None
        self._keyring: KeyringStatus | None = None
        self._failing = (0, False)
        self._marks = ""

    def show(self, conn: Connection | None) -> None:
        """Describe ``conn`` (``None``: nothing under the cursor)."""
        self._conn = conn
        self._draw()

    def set_failing(self, count: int, only: bool = False) -> None:
        """Count the tree's failing nodes ("2 failing"); ``only``: the F filter is on."""
        if (count, only) != self._failing:
            self._failing = (count, only)
            self._draw()

    def set_marks(self, count: int, size: int, prefixes: int) -> None:
        """Show what is marked (see :func:`marks_text`); ``count`` 0 shows nothing."""
        text = marks_text(count, size, prefixes)
        if text != self._marks:
            self._marks = text
            self._draw()

    def set_keyring(self, status: KeyringStatus | None) -> None:
        """Show the keyring's state on the right."""
        self._keyring = status
        self._draw()

    @property
    def plain(self) -> str:
        """The bar's text (for tests)."""
        left, right = self._parts()
        return f"{left.plain}  {right.plain}".strip()

    def _parts(self) -> tuple[Text, Text]:
        left = Text()
        conn = self._conn
        if conn is not None:
            name_style = self.get_component_rich_style("status-bar--name", partial=True)
            left.append(one_line(conn.spec.name), style=name_style)
            left.append(f"  {conn.spec.provider}  ")
            who = identity_text(conn)
            if who:
                left.append(f"{who} · ")
            left.append(one_line(credential_text(conn)))
        warning = self.get_component_rich_style("status-bar--warning", partial=True)
        right = Text(keyring_text(self._keyring))
        if self._keyring is not None and not self._keyring.usable:
            right.stylize(warning)
        extras: list[Text] = []
        if self._marks:
            marks = self.get_component_rich_style("status-bar--marks", partial=True)
            extras.append(Text(self._marks, style=marks))
        count, only = self._failing
        if count or only:
            extras.append(Text(f"{count} failing" + (" (F: only)" if only else ""), warning))
        if extras:  # two spaces apart, and from the left part
            right = Text("  ").join([Text(), *extras, right] if right else [Text(), *extras])
        return left, right

    def _draw(self) -> None:
        if not self.is_mounted:
            return
        left, right = self._parts()
        grid = Table.grid(expand=True)
        grid.add_column(no_wrap=True, overflow="ellipsis", ratio=1)
        grid.add_column(no_wrap=True, justify="right")
        grid.add_row(left, right)
        self.update(grid)

    def on_mount(self) -> None:
        self._draw()
