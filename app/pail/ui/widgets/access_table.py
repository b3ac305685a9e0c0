"""The access check's table: one row per capability, updated as each probe answers.

Columns: the mark (✔ allowed, ✘ denied, ? not checked, ! error, … while waiting), the
capability, its state, the IAM action (or GCS permission) and the resource a policy must
name. Rows are keyed by capability name, so a probe's answer replaces its row in place.
Every cell is a :class:`rich.text.Text` (server text never becomes markup).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from pail.core.text import one_line
from pail.services.access.check import SYMBOLS, Capability, ProbeRow

#: Mark of a row whose probe has not answered yet.
PENDING = "…"

_COLUMNS = (("mark", " "), ("name", "Capability"), ("state", "State"))
#: The state column is as wide as its longest value ("not checked"; "checking…" while
#: pending), set up front: a width grown from the first (shorter) values cut it.
_STATE_WIDTH = max(len(s) for s in (*SYMBOLS, "checking…"))
_COLUMNS_WIDE = (("action", "IAM action"), ("resource", "Resource"))


class AccessTable(DataTable):
    """Capabilities and their states. :meth:`reset` lays out the rows still to be
    probed; :meth:`put` fills one in. ``rows_by_name`` holds the answered rows."""

    COMPONENT_CLASSES = {
        "access-table--allowed",
        "access-table--denied",
        "access-table--unchecked",
        "access-table--error",
        "access-table--pending",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.rows_by_name: dict[str, ProbeRow] = {}
        self.capabilities: list[Capability] = []

    def on_mount(self) -> None:
        for key, label in (*_COLUMNS, *_COLUMNS_WIDE):
            self.add_column(label, key=key, width=_STATE_WIDTH if key == "state" else None)

    def _style(self, state: str):
        name = {"not checked": "unchecked"}.get(state, state)
        return self.get_component_rich_style(f"access-table--{name}", partial=True)

    def reset(self, capabilities: list[Capability]) -> None:
        """Show ``capabilities`` as pending rows (a new run), keeping the cursor's row."""
        row = self.cursor_row
        self.clear()
        self.rows_by_name = {}
        self.capabilities = list(capabilities)
        for cap in capabilities:
            self.add_row(
                Text(PENDING, style=self._style("pending")),
                Text(cap.name),
                Text("checking…", style=self._style("pending")),
                Text(cap.action),
                Text(one_line(cap.resource)),
                key=cap.name,
            )
        if capabilities:
            self.move_cursor(row=min(max(row, 0), len(capabilities) - 1), animate=False)

    def put(self, row: ProbeRow) -> None:
        """Show the answer of one probe (a row not laid out yet is appended)."""
        self.rows_by_name[row.name] = row
        style = self._style(row.state)
        cells = {
            "mark": Text(row.symbol, style=style),
            "name": Text(row.name),
            "state": Text(row.state, style=style),
            "action": Text(row.capability.action),
            "resource": Text(one_line(row.capability.resource)),
        }
        if row.name not in self.rows:
            self.add_row(*cells.values(), key=row.name)
            return
        for column, value in cells.items():
            self.update_cell(row.name, column, value, update_width=True)

    @property
    def selected(self) -> ProbeRow | Capability | None:
        """The answered row at the cursor, or its capability while it is pending."""
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        if key in self.rows_by_name:
            return self.rows_by_name[key]
        return next((c for c in self.capabilities if c.name == key), None)

    def select(self, name: str) -> None:
        """Move the cursor to capability ``name``."""
        if name in self.rows:
            self.move_cursor(row=self.get_row_index(name), animate=False)

    def plain_rows(self) -> dict[str, str]:
        """``{capability: state}`` of the rows as shown (``"checking…"`` while pending)."""
        out: dict[str, str] = {}
        for cap_key in self.rows:
            name = str(cap_key.value)
            row = self.rows_by_name.get(name)
            out[name] = row.state if row is not None else "checking…"
        return out
