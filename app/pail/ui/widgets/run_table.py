"""The runs table: one row per run of a :class:`~pail.services.runs.model.RunSet`, sortable by
any column, with up to two marked runs (``A`` and ``B``, for compare).

Columns: the mark, name, experiment (when the runs are in several), start (UTC), duration,
objects, size, status, then
each param and each metric (final value) that *varies* between the runs (a column where
every run says the same tells nothing; with a single run every param and metric is shown),
at most :data:`MAX_VARYING` of each. The pure parts (:func:`table_columns`,
:func:`sorted_runs`, :func:`cells`) carry the logic; :class:`RunTable` draws them.

Every value from the store (names, params, statuses) is shown as plain text
(:func:`pail.core.text.one_line`), never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Literal

from rich.text import Text
from textual.widgets import DataTable

from pail.core.text import clip, one_line
from pail.core.units import clock_span, metric_text, size_text
from pail.services.runs.model import Run, RunSet, known_mode
from pail.services.runs.table import FieldKind, natural_descending, varying_metrics, varying_params
from pail.services.runs.table import sorted_runs as ordered_runs

ColumnKind = Literal["mark", "fixed", "param", "metric"]

#: Params (and, apart, metrics) shown as columns at most; the detail pane lists them all.
MAX_VARYING = 12
#: Characters of a param value kept in its cell.
PARAM_CHARS = 16
#: Mark labels, in marking order.
MARK_LABELS = ("A", "B")

#: Status -> style of its cell.
STATUS_STYLES = {
    "FINISHED": "green",
    "FAILED": "bold red",
    "KILLED": "red",
    "RUNNING": "yellow",
    "SCHEDULED": "dim",
}


@dataclass(frozen=True)
class Column:
    """One column of the runs table.

    Attributes:
        key: ``"name"``, ``"start"``, ... for the fixed columns, ``"param:NAME"`` and
            ``"metric:NAME"`` for the varying ones, ``"mark"`` for the mark.
        label: the header text.
        kind: ``"mark"``, ``"fixed"``, ``"param"`` or ``"metric"``.
        name: the param or metric name (``""`` for the others).
    """

    key: str
    label: str
    kind: ColumnKind
    name: str = ""

    @property
    def sortable(self) -> bool:
        """Every column but the mark sorts."""
        return self.kind != "mark"


FIXED_COLUMNS = (
    Column("mark", " ", "mark"),
    Column("name", "name", "fixed"),
    Column("experiment", "experiment", "fixed"),
    Column("start", "start (UTC)", "fixed"),
    Column("duration", "duration", "fixed"),
    Column("objects", "objects", "fixed"),
    Column("size", "size", "fixed"),
    Column("status", "status", "fixed"),
)


def table_columns(runs: Sequence[Run], max_varying: int = MAX_VARYING) -> list[Column]:
    """The table's columns for ``runs``: the fixed ones (experiment only when the runs
    are in more than one: the runs view names a single one above the table), then up to
    ``max_varying`` varying params and as many varying metrics."""
    columns = [c for c in FIXED_COLUMNS if c.key != "experiment"]
    if len({run.experiment for run in runs}) > 1:
        columns.insert(2, FIXED_COLUMNS[2])
    for name in varying_params(runs)[:max_varying]:
        columns.append(Column(f"param:{name}", clip(name, 20), "param", name))
    for name in varying_metrics(runs)[:max_varying]:
        columns.append(Column(f"metric:{name}", clip(name, 20), "metric", name))
    return columns


def default_descending(column: Column) -> bool:
    """The order a column sorts in first (:func:`pail.services.runs.table.natural_descending`)."""
    return natural_descending(_field_kind(column), column.name or column.key)


def sorted_runs(runs: Sequence[Run], column: Column, descending: bool) -> list[Run]:
    """``runs`` ordered by ``column`` (:func:`pail.services.runs.table.sorted_runs`)."""
    return ordered_runs(runs, _field_kind(column), column.name or column.key, descending)


def _field_kind(column: Column) -> FieldKind:
    return "metric" if column.kind == "metric" else "param" if column.kind == "param" else "fixed"


def start_text(when: datetime | None) -> str:
    """``"2025-05-20 09:30"`` in UTC; ``""`` when unknown."""
    if when is None:
        return ""
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


#: A run's length (``""`` when unknown) and a metric value, as every runs screen draws them.
duration_text = clock_span
number_text = metric_text


def status_text(status: str | None) -> Text:
    """The status as plain text, coloured by what it means."""
    if not status:
        return Text("")
    return Text(one_line(status), style=STATUS_STYLES.get(status.upper(), ""))


def cells(run: Run, columns: Sequence[Column], mark: str = "") -> list[Text]:
    """The row of ``run`` under ``columns`` (``mark``: its mark label, or ``""``)."""
    out: list[Text] = []
    for column in columns:
        key = column.key
        if key == "mark":
            out.append(Text(mark, style="bold reverse" if mark else ""))
        elif key == "name":
            name = Text(one_line(run.name))
            if run.protected:
                name.append(" ⚑", style="bold yellow")
            out.append(name)
        elif key == "experiment":
            out.append(Text(one_line(run.experiment or "")))
        elif key == "start":
            out.append(Text(start_text(run.start)))
        elif key == "duration":
            out.append(Text(duration_text(run.duration), justify="right"))
        elif key == "objects":
            out.append(Text(f"{run.objects:,}", justify="right"))
        elif key == "size":
            out.append(Text(size_text(run.bytes), justify="right"))
        elif key == "status":
            out.append(status_text(run.status))
        elif column.kind == "param":
            value = run.params.get(column.name)
            out.append(Text(clip(value, PARAM_CHARS) if value is not None else ""))
        elif column.kind == "metric":
            out.append(Text(number_text(run.final(column.name)), justify="right"))
        else:
            out.append(Text(""))
    return out


class RunTable(DataTable[Text]):
    """The runs of one RunSet as rows (row key: the run's id). See the module doc.

    Attributes:
        runset: the runs shown (``None`` until :meth:`show_runs`).
        columns_shown: the columns, in order.
        sort_key / descending: the current sort.
        marks: marked run ids, in marking order (``A`` first, then ``B``).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.runset: RunSet | None = None
        self.columns_shown: list[Column] = []
        self.sort_key = "start"
        self.descending = True
        self.marks: list[str] = []
        self.order: list[Run] = []

    # -- contents --------------------------------------------------------------------------

    def show_runs(self, runset: RunSet) -> None:
        """Show ``runset``'s runs, newest first; marks of runs no longer there drop."""
        self.runset = runset
        self.columns_shown = table_columns(runset.runs)
        ids = {run.id for run in runset.runs}
        self.marks = [m for m in self.marks if m in ids]
        if self.sort_key not in {c.key for c in self.columns_shown}:
            self.sort_key, self.descending = "start", True
        self.clear(columns=True)
        for column in self.columns_shown:
            self.add_column(Text(column.label, no_wrap=True), key=column.key)
        self._fill()

    def _fill(self) -> None:
        runset = self.runset
        if runset is None:
            return
        current = self.cursor_run()
        self.clear()
        self.order = sorted_runs(runset.runs, self.column(self.sort_key), self.descending)
        for run in self.order:
            self.add_row(*cells(run, self.columns_shown, self.mark_of(run)), key=run.id)
        if current is not None and current in self.order:
            self.move_cursor(row=self.order.index(current))

    def column(self, key: str) -> Column:
        """The shown column whose key is ``key`` (start when there is none)."""
        for column in self.columns_shown:
            if column.key == key:
                return column
        return FIXED_COLUMNS[3]

    def cursor_run(self) -> Run | None:
        """The run at the cursor, or ``None`` when there are no rows."""
        if not self.order or not self.row_count:
            return None
        row = min(max(self.cursor_row, 0), len(self.order) - 1)
        return self.order[row]

    # -- sorting -----------------------------------------------------------------------------

    def sort_by(self, key: str, descending: bool | None = None) -> None:
        """Sort by the column ``key`` (``descending``: default its natural order, see
        :func:`default_descending`); the cursor stays on its run."""
        column = self.column(key)
        if not column.sortable:
            return
        self.sort_key = column.key
        self.descending = default_descending(column) if descending is None else descending
        self._fill()

    def next_sort(self) -> None:
        """Sort by the next sortable column (after the last, the first again)."""
        keys = [c.key for c in self.columns_shown if c.sortable]
        if not keys:
            return
        index = keys.index(self.sort_key) if self.sort_key in keys else -1
        self.sort_by(keys[(index + 1) % len(keys)])

    def reverse(self) -> None:
        """Reverse the current order."""
        self.sort_by(self.sort_key, not self.descending)

    def sort_words(self) -> str:
        """``"sorted by start (UTC), newest first"``-like words for the status line."""
        column = self.column(self.sort_key)
        natural = self.descending == default_descending(column)
        if column.kind == "metric":
            mode = known_mode(column.name)
            if mode is None:  # a learning rate or a timing: no best
                how = "high to low" if self.descending else "low to high"
                return f"sorted by {one_line(column.name)} (final), {how}"
            best = (mode == "max") == self.descending
            how = "best first" if best else "worst first"
            return f"sorted by {one_line(column.name)} (final), {how}"
        label = column.label if column.kind == "fixed" else one_line(column.name)
        return f"sorted by {label}" + ("" if natural else ", reversed")

    # -- marks -------------------------------------------------------------------------------

    def mark_of(self, run: Run) -> str:
        """``"A"``, ``"B"`` or ``""``."""
        if run.id in self.marks:
            return MARK_LABELS[self.marks.index(run.id)]
        return ""

    def toggle_mark(self, run: Run) -> bool:
        """Mark ``run`` (or unmark it). Returns False, changing nothing, when two other
        runs are marked already."""
        if run.id in self.marks:
            self.marks.remove(run.id)
        elif len(self.marks) >= len(MARK_LABELS):
            return False
        else:
            self.marks.append(run.id)
        self._redraw_marks()
        return True

    def clear_marks(self) -> None:
        """Unmark every run."""
        self.marks = []
        self._redraw_marks()

    def marked_runs(self) -> list[Run]:
        """The marked runs, ``A`` first."""
        if self.runset is None:
            return []
        found = {run.id: run for run in self.runset.runs}
        return [found[m] for m in self.marks if m in found]

    def _redraw_marks(self) -> None:
        for run in self.order:
            self.update_cell(run.id, "mark", Text(self.mark_of(run), style="bold reverse"))
