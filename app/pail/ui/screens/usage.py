"""The usage summary (``s`` on a bucket or prefix): where the bytes are, like ncdu.

A :class:`pail.services.du.UsageScan` lists the level and each child prefix concurrently
on its own threads; this screen only reads its snapshot every :data:`POLL_SECONDS` (cheap,
never blocks), so the table fills in while the scan goes, with a running count of keys
scanned. ``x`` stops the scan (pages in flight finish); ``S`` sorts by the next field (size,
count, newest change, name) and ``R`` reverses, as in the level list; enter opens the child
prefix in the tree; escape or ``q`` goes back. When the scan stops,
each child's totals (exact, or "≥" when partial) are kept on the connection and drawn in
the tree after the prefix's name.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from pail.core.text import one_line
from pail.core.units import plural, short_age, size_text
from pail.services.du import SortKey, UsageScan, UsageSnapshot, sorted_children
from pail.ui.cleanup_ops import Clock, usage_label, when_text
from pail.ui.nodes import NodeData
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter

#: Seconds between two reads of the scan's snapshot.
POLL_SECONDS = 0.2

_SORTS: dict[str, str] = {
    "size": "size",
    "count": "objects",
    "newest": "newest change",
    "name": "name",
}


class UsageScreen(KeysExplained, Screen[str | None]):
    """Sizes of ``level`` (a bucket or prefix node) and of its child prefixes.

    Args:
        level: the node scanned (its connection must be open).
        clock: "now" for ages (UTC).
        scan: the scan to show (default: a new :class:`UsageScan` of the level, started
            on mount); tests pass one to control it.

    Dismisses with the child prefix chosen with enter (its full key), or ``None``.
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="usage.close"),
        Binding("x", "cancel_scan", "Cancel scan", tooltip="Stop listing", id="usage.cancel"),
        Binding(
            "S",
            "next_sort",
            "Sort",
            key_display="S",
            tooltip="Sort by the next field: size, count, newest change, name",
            id="usage.sort",
        ),
        Binding(
            "R",
            "reverse",
            "Reverse",
            key_display="R",
            show=False,
            tooltip="Reverse the order",
            id="usage.reverse",
        ),
        Binding("enter", "open_child", "Open", tooltip="Open it in the tree", id="usage.open"),
    ]

    WHY_NOT = {"cancel_scan": "the scan has finished"}

    def __init__(self, level: NodeData, clock: Clock, *, scan: UsageScan | None = None) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.level = level
        self._clock = clock
        self.scan = scan or UsageScan(level.conn.driver, level.bucket, level.key)
        self.sort: SortKey = "size"
        self.descending = True
        self._final = False
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="usage-title")
        yield Static(id="usage-stats")
        table: DataTable[Text | str] = DataTable(id="usage-table", cursor_type="row")
        table.add_column("prefix", key="prefix")
        table.add_column("size", key="size", width=11)
        table.add_column("objects", key="objects", width=10)
        table.add_column("share", key="share", width=7)
        table.add_column("newest", key="newest", width=7)
        table.add_column("oldest", key="oldest", width=7)
        yield table
        yield Static(id="usage-foot")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Sizes"
        self.scan.start()
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)
        self.query_one(DataTable).focus()

    @property
    def finished(self) -> bool:
        """The scan stopped and its final figures are drawn."""
        return self._final

    def poll(self) -> None:
        """Redraw from the scan's latest snapshot (called by the timer)."""
        if self._final:
            return
        snap = self.scan.progress()
        self._draw(snap)
        if snap.done:
            self._final = True
            self._remember(snap)
            self.refresh_bindings()

    def _draw(self, snap: UsageSnapshot) -> None:
        now = self._clock()
        title = Text.assemble(("Usage of ", "bold"), one_line(self.level.uri))
        self.query_one("#usage-title", Static).update(title)
        total = snap.total
        state = "scanning…"
        if snap.done:
            state = (
                "complete"
                if snap.complete
                else ("cancelled: partial" if snap.cancelled else "partial")
            )
        lines = [
            f"{plural(total.objects, 'key')} scanned · {size_text(total.bytes)} "
            f"({total.bytes:,} bytes)"
            f" · {plural(len(snap.children), 'child prefix', 'child prefixes')} · {state}",
            f"oldest {when_text(total.oldest, now)}   newest {when_text(total.newest, now)}",
        ]
        if snap.direct.objects:
            lines.append(
                f"{plural(snap.direct.objects, 'object')} directly here: "
                f"{size_text(snap.direct.bytes)}"
            )
        stats = Text("\n".join(lines))
        for error in snap.errors[:3]:
            stats.append(
                f"\n{one_line(error.badge)} {one_line(error.key or '')}: {one_line(error.message)}",
                style="bold red",
            )
        self.query_one("#usage-stats", Static).update(stats)
        self._draw_table(snap, now)
        order = "" if self.descending == (self.sort != "name") else ", reversed"
        foot = f"sorted by {_SORTS[self.sort]}{order} · S next sort · R reverse · enter opens"
        self.query_one("#usage-foot", Static).update(Text(foot, style="dim"))

    def _draw_table(self, snap: UsageSnapshot, now) -> None:
        table = self.query_one(DataTable)
        children = sorted_children(snap.children, self.sort, descending=self.descending)
        order = [c.prefix for c in children]
        grand = max(1, snap.total.bytes)
        if order != self._shown:
            cursor = table.cursor_row
            table.clear()
            for child in children:
                table.add_row(*self._cells(child, grand, now), key=child.prefix)
            self._shown = order
            if children:
                table.move_cursor(row=min(cursor, len(children) - 1))
            if not snap.done:
                return
        for child in children:
            for column, value in zip(
                ("prefix", "size", "objects", "share", "newest", "oldest"),
                self._cells(child, grand, now),
                strict=True,
            ):
                # Widths only grow as rows change; once the scan is done, the names lose
                # their "…" and the prefix column is measured again (it may shrink).
                fit = snap.done and column == "prefix"
                table.update_cell(child.prefix, column, value, update_width=fit)

    @staticmethod
    def _cells(child, grand: int, now) -> tuple[Text | str, ...]:
        t = child.totals
        name = Text(one_line(child.name))
        if child.error is not None:
            name.append(f"  {one_line(child.error.badge)}", style="bold red")
        elif not child.done:
            name.append("  …", style="dim")
        share = f"{t.bytes * 100 / grand:4.1f}%"
        return (
            name,
            Text(size_text(t.bytes), justify="right"),
            Text(f"{t.objects:,}", justify="right"),
            Text(share, justify="right"),
            short_age(t.newest, now),
            short_age(t.oldest, now),
        )

    def _remember(self, snap: UsageSnapshot) -> None:
        """Keep the figures for the tree (exact only when the listing was complete)."""
        now = self._clock()
        usage = self.level.conn.usage
        bucket = self.level.bucket or ""
        usage[(bucket, self.level.key)] = usage_label(snap.total, now, exact=snap.complete)
        for child in snap.children:
            exact = child.done and child.error is None
            usage[(bucket, child.prefix)] = usage_label(child.totals, now, exact=exact)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel only while scanning."""
        if action == "cancel_scan":
            return not self._final
        return True

    def action_cancel_scan(self) -> None:
        """Stop the scan after the pages in flight; the figures stay (partial)."""
        self.scan.cancel()

    def action_sort(self, by: SortKey) -> None:
        """Sort the table by ``by`` (size, count, newest: largest or newest first; name:
        A to Z)."""
        self.sort = by
        self.descending = by != "name"
        self._shown = []
        self._draw(self.scan.progress())

    def action_next_sort(self) -> None:
        """Sort by the next field: size, count, newest change, name, size..."""
        order: list[SortKey] = ["size", "count", "newest", "name"]
        self.action_sort(order[(order.index(self.sort) + 1) % len(order)])

    def action_reverse(self) -> None:
        """Reverse the current order."""
        self.descending = not self.descending
        self._shown = []
        self._draw(self.scan.progress())

    def action_open_child(self) -> None:
        """Back to the tree, at the child prefix under the cursor."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.scan.cancel()
        self.dismiss(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_child()

    def action_close(self) -> None:
        """Back to the tree (a running scan is cancelled; its figures are kept)."""
        self.scan.cancel()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self.scan.cancel()
        if not self._final:  # never wait here: the figures so far are kept, marked partial
            self._remember(self.scan.progress())
