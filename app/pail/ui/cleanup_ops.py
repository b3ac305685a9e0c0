"""What the cleanup screens work on, and how they word sizes and ages.

* :class:`DeleteTarget` turns the marks (or the node at the cursor) into the arguments of
  :func:`pail.services.delete.plan.build_plan`: one bucket of one connection, the level
  the selection was made from (``base``), whole prefixes and single objects.
* :func:`usage_label` is the short text the tree draws after a sized prefix.
* :func:`when_text` words times against the app's clock, so screens draw the same on
  every run of a test (sizes and ages: :mod:`pail.core.units`); :func:`when_cell` is the
  same time in a table column of :data:`WHEN_CELL_WIDTH` characters.

Nothing here talks to a store; the screens call the services in workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pail.core.units import ago, short_age, size_text
from pail.drivers.base import Entry
from pail.services.du import Totals
from pail.ui.download_ops import SelectionError, selection_for
from pail.ui.nodes import Connection, NodeData

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class DeleteTarget:
    """What a delete (or a stale filter) applies to.

    Attributes:
        conn, bucket: where.
        base: the level the selection was made from (filters match keys relative to it;
            "keep the newest N runs" counts its child prefixes).
        prefixes: prefixes selected whole (a bucket node stands for ``""``).
        objects: single objects selected (listing entries, or bare keys).
        items: the selected nodes (to find the tree levels to list again afterwards).
        uri: the location shown in the dialogs.
    """

    conn: Connection
    bucket: str
    base: str
    prefixes: tuple[str, ...]
    objects: tuple[Entry | str, ...]
    items: tuple[NodeData, ...]
    uri: str

    @classmethod
    def from_selection(cls, marks: list[NodeData], cursor: NodeData | None) -> DeleteTarget:
        """The marks if any, else the cursor's object, prefix or bucket.

        Raises:
            SelectionError: nothing selectable, marks across buckets, connection not open.
        """
        selection = selection_for(marks, cursor)
        items = selection.items
        prefixes = tuple(d.key for d in items if d.kind in ("prefix", "bucket"))
        objects = tuple(d.entry or d.key for d in items if d.kind == "object")
        if len(items) == 1 and items[0].kind in ("prefix", "bucket"):
            base = items[0].key
        else:
            parents = {d.parent.key if d.parent is not None else "" for d in items}
            base = parents.pop() if len(parents) == 1 else ""
        return cls(selection.conn, selection.bucket, base, prefixes, objects, items, selection.uri)

    def levels_to_relist(self, emptied: list[str]) -> list[NodeData]:
        """The tree levels that changed: a selected prefix itself, or its parent when the
        delete emptied it (``emptied``: the plan's whole prefixes) or for an object;
        levels inside another listed level are left out (listing the outer one redraws
        them)."""
        found: list[NodeData] = []
        for data in self.items:
            level = data if data.is_level and data.key not in emptied else data.parent
            if level is not None and level.is_level and level not in found:
                found.append(level)
        return [d for d in found if not any(d.is_under(other) for other in found)]

    @property
    def whole_bucket(self) -> bool:
        """True when the selection is a whole bucket (prefix ``""``)."""
        return "" in self.prefixes


def when_text(when: datetime | None, now: datetime) -> str:
    """``"2025-05-20 09:30 UTC (12 days ago)"``; ``"-"`` without a time."""
    if when is None:
        return "-"
    return f"{when:%Y-%m-%d %H:%M} UTC ({ago(when, now)})"


#: The widest :func:`when_cell`: "2025-05-20 09:30 (100y)" (short ages are at most 4
#: characters: "59m", "364d", "100y").
WHEN_CELL_WIDTH = 23


def when_cell(when: datetime | None, now: datetime) -> str:
    """``"2025-05-20 09:30 (12d)"`` (UTC; the column's header says so) for a table cell of
    :data:`WHEN_CELL_WIDTH` characters: the age is :func:`~pail.core.units.short_age`, so
    the cell is never cut mid-word the way ``"(2 months ago)"`` was. ``"-"`` without a
    time."""
    if when is None:
        return "-"
    return f"{when:%Y-%m-%d %H:%M} ({short_age(when, now)})"


def usage_label(totals: Totals, now: datetime, *, exact: bool) -> str:
    """The tree's text after a sized prefix: ``"1.2 GiB · 40 obj · 3d"`` (newest change);
    a partial (cancelled or failed) scan says ``"≥"`` first."""
    parts = [size_text(totals.bytes), f"{totals.objects:,} obj"]
    if totals.newest is not None:
        parts.append(short_age(totals.newest, now))
    return ("" if exact else "≥ ") + " · ".join(parts)


__all__ = [
    "WHEN_CELL_WIDTH",
    "DeleteTarget",
    "SelectionError",
    "usage_label",
    "when_cell",
    "when_text",
]
