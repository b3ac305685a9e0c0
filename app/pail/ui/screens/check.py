"""The check screen (``=`` on the tree): a prefix compared with a local folder or another
prefix (:func:`pail.services.compare.compare`), and the differences copied either way.

The comparison runs in a thread worker (it lists both sides, HEADs same-size pairs and
hashes local files); the screen shows a progress line while it goes, then a table of every
path that is not proven identical (outcome, path, size on each side, why) under a line of
counts. ``>`` dismisses with a :class:`CheckChoice` to copy A's differences to B (objects
only in A and those that differ), ``<`` B's to A (only in B and differ); the caller runs the
transfer. ``r`` runs the comparison again, ``x`` stops it, escape or ``q`` goes back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from pail.core.text import one_line
from pail.core.units import size_text
from pail.drivers.base import Entry
from pail.services.compare import (
    CompareCancelled,
    CompareEntry,
    CompareReport,
    base_prefix,
    compare,
)
from pail.services.transfer import Side
from pail.ui.failure import as_storage_error
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.text import tilde
from pail.ui.widgets.footer import PailFooter

#: How each outcome is shown in the table (plain words, the command line's).
OUTCOME_LABELS = {
    "only_a": "only in A",
    "only_b": "only in B",
    "differ": "differs",
    "unproven": "unproven",
    "identical": "identical",
}
_OUTCOME_STYLES = {
    "only_a": "green",
    "only_b": "cyan",
    "differ": "bold red",
    "unproven": "yellow",
}


#: Widest the path and why columns are made (longer text is cut by the table).
MAX_PATH_WIDTH = 60
MAX_WHY_WIDTH = 60


def _add_columns(table: DataTable[Text | str], entries: list[CompareEntry]) -> None:
    """The table's columns, the path and why ones as wide as their widest text (measured
    here, once, rather than by the table while idle: the widths are final when drawn)."""
    path = max([4, *(cell_len(one_line(e.rel)) for e in entries)])
    why = max([3, *(cell_len(one_line(e.reason)) for e in entries)])
    table.add_column("outcome", key="outcome", width=10)
    table.add_column("path", key="path", width=min(path, MAX_PATH_WIDTH))
    table.add_column("size A", key="size_a", width=11)
    table.add_column("size B", key="size_b", width=11)
    table.add_column("why", key="why", width=min(why, MAX_WHY_WIDTH))


@dataclass(frozen=True)
class CheckChoice:
    """What the user chose to copy.

    Attributes:
        direction: ``"a_to_b"`` (copy A's objects to B) or ``"b_to_a"``.
        rels: the paths below both bases (``/``-separated), in path order: for ``a_to_b``
            the objects only in A and those that differ; for ``b_to_a`` only in B and differ.
    """

    direction: Literal["a_to_b", "b_to_a"]
    rels: tuple[str, ...]

    def keys(self, source: Side) -> tuple[str, ...]:
        """The source keys to copy: each rel below ``source``'s compared prefix
        (:func:`pail.services.compare.base_prefix`: ``s3://b/p`` compared ``p/``)."""
        base = base_prefix(source)
        return tuple(base + rel for rel in self.rels)


class CheckScreen(KeysExplained, Screen[CheckChoice | None]):
    """A compared with B (see the module doc).

    Args:
        a / b: the sides (a local folder or a prefix; their ``uri`` is shown).
        one_way: only A's objects matter (nothing only in B is listed).

    Dismisses with a :class:`CheckChoice`, or ``None`` (back).
    """

    DEFAULT_CSS = """
    CheckScreen #check-title { padding: 1 2 0 2; height: auto; }
    CheckScreen #check-status { padding: 0 2; height: auto; margin-bottom: 1; }
    CheckScreen #check-table { height: 1fr; margin: 0 2; }
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="check.close"),
        Binding(
            "greater_than_sign",
            "copy('a_to_b')",
            "Copy A→B",
            key_display=">",
            tooltip="Copy the differences from A to B (only in A, and those that differ)",
            id="check.copy_a_to_b",
        ),
        Binding(
            "less_than_sign",
            "copy('b_to_a')",
            "Copy B→A",
            key_display="<",
            tooltip="Copy the differences from B to A (only in B, and those that differ)",
            id="check.copy_b_to_a",
        ),
        Binding("r", "rerun", "Re-run", tooltip="Compare again", id="check.rerun"),
        Binding("x", "stop", "Stop", tooltip="Stop comparing", id="check.cancel"),
    ]

    WHY_NOT = {
        "stop": "the comparison is not running",
        "rerun": "the comparison is running",
    }

    def __init__(self, a: Side, b: Side, *, one_way: bool = False) -> None:
        super().__init__()
        self.a, self.b, self.one_way = a, b, one_way
        #: The last finished comparison (``None`` while running, stopped or failed).
        self.report: CompareReport | None = None
        #: True while a comparison runs.
        self.running = False
        #: Plain text of why the last comparison ended without a report, else ``""``.
        self.failure = ""
        self._cancel = threading.Event()
        self._generation = 0
        self._listed = 0
        self._checked = 0

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="check-title")
        yield Static(id="check-status")
        table: DataTable[Text | str] = DataTable(id="check-table", cursor_type="row")
        _add_columns(table, [])
        yield table
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Check"
        title = Text.assemble(
            ("A ", "bold"),
            one_line(tilde(self.a.uri)),
            ("\nB ", "bold"),
            one_line(tilde(self.b.uri)),
            (" (one way: only A's objects)" if self.one_way else "", "dim"),
        )
        self.query_one("#check-title", Static).update(title)
        self.query_one(DataTable).focus()
        self.start()

    # -- running ---------------------------------------------------------------------------

    def start(self) -> None:
        """(Re)start the comparison in a thread worker; the table empties."""
        self._cancel.set()
        self._cancel = threading.Event()
        self._generation += 1
        self.report, self.failure, self.running = None, "", True
        self._listed = self._checked = 0
        self.query_one(DataTable).clear()
        self._show_status()
        self.refresh_bindings()
        self._run(self._generation, self._cancel)

    @work(thread=True, exclusive=True, exit_on_error=False, group="check")
    def _run(self, generation: int, cancel: threading.Event) -> None:
        def progress(phase: str, n: int) -> None:
            if phase == "listed":
                self._listed = n
            else:
                self._checked = n
            self.app.call_from_thread(self._progress, generation)

        try:
            report = compare(
                self.a, self.b, one_way=self.one_way, on_progress=progress, cancel=cancel
            )
        except CompareCancelled:
            self.app.call_from_thread(self._ended, generation, None, "stopped")
        except Exception as exc:  # every failure is shown, never a traceback
            error = as_storage_error(exc)
            self.app.call_from_thread(self._ended, generation, None, f"failed: {error}")
        else:
            self.app.call_from_thread(self._ended, generation, report, "")

    def _progress(self, generation: int) -> None:
        if generation == self._generation and self.running:
            self._show_status()

    def _ended(self, generation: int, report: CompareReport | None, failure: str) -> None:
        if generation != self._generation or not self.is_mounted:
            return
        self.running, self.report, self.failure = False, report, failure
        if report is not None:
            self._fill(report)
        self._show_status()
        self.refresh_bindings()

    # -- drawing ---------------------------------------------------------------------------

    def _show_status(self) -> None:
        status = self.query_one("#check-status", Static)
        if self.running:
            line = f"comparing… {self._listed:,} objects listed"
            if self._checked:
                line += f", {self._checked:,} pairs checked"
            status.update(Text(line, style="dim"))
        elif self.report is not None:
            text = Text(one_line(self.report.summary()))
            if self.report.all_identical:
                text.append("  everything is identical", style="bold green")
            for error in self.report.errors[:3]:
                text.append(f"\n{one_line(error)}", style="red")
            status.update(text)
        else:
            status.update(Text(f"comparison {one_line(self.failure)}", style="bold red"))

    def _fill(self, report: CompareReport) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        _add_columns(table, report.differences)
        for entry in report.differences:
            table.add_row(*self._cells(entry), key=entry.rel)
        if table.row_count:
            table.move_cursor(row=0)

    @staticmethod
    def _cells(entry: CompareEntry) -> tuple[Text, ...]:
        def size(e: Entry | None) -> Text:
            return Text(size_text(e.size or 0) if e is not None else "-", justify="right")

        label = Text(OUTCOME_LABELS[entry.outcome], style=_OUTCOME_STYLES.get(entry.outcome, ""))
        return (
            label,
            Text(one_line(entry.rel)),
            size(entry.a),
            size(entry.b),
            Text(one_line(entry.reason)),
        )

    # -- keys ------------------------------------------------------------------------------

    def choice(self, direction: Literal["a_to_b", "b_to_a"]) -> CheckChoice | None:
        """What ``>`` (``a_to_b``) or ``<`` (``b_to_a``) would copy, or ``None`` when
        there is nothing to copy that way (or no finished comparison)."""
        if self.report is None:
            return None
        one_side = "only_a" if direction == "a_to_b" else "only_b"
        rels = tuple(e.rel for e in self.report.entries if e.outcome in (one_side, "differ"))
        return CheckChoice(direction, rels) if rels else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copies need a finished comparison with something to copy; stop only while
        running; re-run only when not."""
        if action == "copy":
            direction = parameters[0] if parameters else "a_to_b"
            return self.choice(direction) is not None  # type: ignore[arg-type]
        if action == "stop":
            return self.running
        if action == "rerun":
            return not self.running
        return True

    def why_not(self, action: str) -> str:
        """Why a key does nothing now (plain text)."""
        if action == "copy":
            if self.running:
                return "the comparison is running"
            if self.report is None:
                return "no finished comparison (r runs it again)"
            return "nothing to copy that way"
        return super().why_not(action)

    def action_copy(self, direction: Literal["a_to_b", "b_to_a"]) -> None:
        """Back to the caller with the paths to copy in ``direction``."""
        chosen = self.choice(direction)
        if chosen is not None:
            self.dismiss(chosen)

    def action_rerun(self) -> None:
        """Compare again from the start."""
        self.start()

    def action_stop(self) -> None:
        """Stop the comparison (listings and lookups in flight are abandoned)."""
        self._cancel.set()

    def action_close(self) -> None:
        """Back, copying nothing (a running comparison is stopped)."""
        self._cancel.set()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()


__all__ = ["OUTCOME_LABELS", "CheckChoice", "CheckScreen"]
