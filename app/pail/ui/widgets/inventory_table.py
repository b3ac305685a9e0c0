"""The inventory view's level table: one row per child of a level of the report's key
space (a prefix with its recursive totals, or an object), loaded a page at a time.

Columns: name (a prefix ends in ``/``), objects (recursive; blank for an object), size,
newest (UTC, with its age at the report's time: a report is a snapshot, so ages count
from when it was taken), storage class (blank for a prefix: the detail pane breaks it
down). Rows come in the query's order (prefixes first, each group by name) and pages are
appended; :func:`sorted_rows` sorts them by another field once the whole level is loaded
(a sort of the rows loaded so far would hide the rest).

Every key and storage class is shown as plain text (:func:`pail.core.text.one_line`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from rich.text import Text
from textual.widgets import DataTable

from pail.core.text import one_line
from pail.core.units import size_text
from pail.services.inventory.model import Level, LevelRow
from pail.ui.cleanup_ops import WHEN_CELL_WIDTH, when_cell

SortKey = Literal["name", "size", "objects", "newest"]

#: The sort order ``S`` steps through, and how the foot names each.
SORTS: dict[SortKey, str] = {
    "name": "name",
    "size": "size",
    "objects": "objects",
    "newest": "newest change",
}


def sorted_rows(rows: Sequence[LevelRow], key: SortKey, *, descending: bool) -> list[LevelRow]:
    """``rows`` sorted by ``key``; ``"name"`` keeps prefixes first (as a listing does) and
    ``descending`` reverses within each group. Ties keep name order."""
    by_name = sorted(rows, key=lambda r: (not r.is_prefix, r.key))
    if key == "name":
        if not descending:
            return by_name
        prefixes = [r for r in by_name if r.is_prefix]
        objects = [r for r in by_name if not r.is_prefix]
        return prefixes[::-1] + objects[::-1]
    if key == "size":
        return sorted(by_name, key=lambda r: r.bytes, reverse=descending)
    if key == "objects":
        return sorted(by_name, key=lambda r: r.objects, reverse=descending)

    def newest(row: LevelRow) -> float:
        return row.newest.timestamp() if row.newest is not None else float("-inf")

    return sorted(by_name, key=newest, reverse=descending)


def row_cells(row: LevelRow, created: datetime) -> tuple[Text, Text, Text, str, Text]:
    """The cells of ``row``: name, objects, size, newest (age at ``created``, the report's
    time), storage class."""
    name = Text(one_line(row.name), style="bold" if row.is_prefix else "")
    objects = Text(f"{row.objects:,}" if row.is_prefix else "", justify="right")
    size = Text(size_text(row.bytes), justify="right")
    storage = Text(one_line(row.storage_class or ""), style="dim")
    return name, objects, size, when_cell(row.newest, created), storage


class InventoryTable(DataTable[Text | str]):
    """The rows of one level (see the module doc).

    Attributes:
        level: the level shown (its first page's totals), or ``None``.
        rows_loaded: the rows loaded so far, in the query's order.
        sort_key / descending: the order drawn.
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.level: Level | None = None
        self.rows_loaded: list[LevelRow] = []
        self._by_key: dict[str, LevelRow] = {}
        self._created: datetime | None = None
        self.sort_key: SortKey = "name"
        self.descending = False

    def on_mount(self) -> None:
        self.add_column("name", key="name")
        self.add_column("objects", key="objects", width=11)
        self.add_column("size", key="size", width=10)
        self.add_column("newest (age at report)", key="newest", width=WHEN_CELL_WIDTH)
        self.add_column("class", key="class", width=12)

    @property
    def complete(self) -> bool:
        """Every child of the level is loaded."""
        return self.level is not None and len(self.rows_loaded) >= self.level.children

    def show_level(self, level: Level, created: datetime) -> None:
        """Replace the rows with ``level``'s first page (``created``: the report's time)."""
        self.level = level
        self._created = created
        self.rows_loaded = []
        self._by_key = {}
        self.sort_key, self.descending = "name", False
        self.clear()
        self.add_page(level)

    def add_page(self, page: Level) -> None:
        """Append the rows of a further page of the same level (pages come in name order,
        so they are loaded only while the table is in name order)."""
        created = self._created
        assert created is not None, "show_level first"
        for row in page.rows:
            if row.key in self._by_key:  # a page asked for twice: each row once
                continue
            self._by_key[row.key] = row
            self.rows_loaded.append(row)
            self.add_row(*row_cells(row, created), key=row.key)

    def cursor_level_row(self) -> LevelRow | None:
        """The row at the cursor, or ``None`` when the table is empty."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self._by_key.get(key or "")

    def row_of(self, key: str) -> int | None:
        """The index of the row of ``key`` as drawn, or ``None`` when it is not loaded."""
        if key not in self._by_key:
            return None
        return self.get_row_index(key)

    def sort_by(self, key: SortKey, *, descending: bool | None = None) -> None:
        """Draw the loaded rows sorted by ``key`` (size, objects, newest: largest or newest
        first unless ``descending`` says otherwise; name: A to Z), the cursor staying on
        its row."""
        if descending is None:
            descending = key != "name"
        self.sort_key, self.descending = key, descending
        self._redraw()

    def next_sort(self) -> None:
        """Sort by the next field: name, size, objects, newest change, name..."""
        order = list(SORTS)
        self.sort_by(order[(order.index(self.sort_key) + 1) % len(order)])

    def reverse(self) -> None:
        """Reverse the order drawn."""
        self.sort_by(self.sort_key, descending=not self.descending)

    def sort_words(self) -> str:
        """``"sorted by size"`` / ``"sorted by name, reversed"``."""
        natural = self.sort_key != "name"
        reversed_ = self.descending != natural
        return f"sorted by {SORTS[self.sort_key]}{', reversed' if reversed_ else ''}"

    def _redraw(self) -> None:
        created = self._created
        if created is None:
            return
        current = self.cursor_level_row()
        self.clear()
        for row in sorted_rows(self.rows_loaded, self.sort_key, descending=self.descending):
            self.add_row(*row_cells(row, created), key=row.key)
        if current is not None:
            self.move_cursor(row=self.get_row_index(current.key), animate=False)


__all__ = ["SORTS", "InventoryTable", "SortKey", "row_cells", "sorted_rows"]
