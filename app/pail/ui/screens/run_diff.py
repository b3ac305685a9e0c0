"""The run diff screen (``=`` in the runs view): what differs between run A and run B.

:func:`pail.services.runs.diff.diff_runs` runs in a worker (``x`` stops it); the screen
then shows, top to bottom: the two runs and their URIs; params changed, only in A, only
in B; every metric side by side (final and best values, the deltas B − A, which run is
better by the metric's direction); the files (counts only in A / only in B / differing /
not comparable / identical, then each path that is not identical); the tensors whose
name, dtype or shape differ in checkpoint files of both; config keys that differ; notes
about limits reached. ``y`` copies the ``pail diff`` command line that prints the same;
escape or ``q`` goes back.

Everything from the store (names, params, paths, values) is shown as plain text.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, Static

from pail.core.connection import ConnectionSpec
from pail.core.text import clip, one_line, shell_quote
from pail.core.units import plural, size_text
from pail.services.locations import location_in
from pail.services.runs.diff import (
    DiffCancelled,
    DiffLimits,
    KeyedDiff,
    MetricComparison,
    RunDiff,
    ValueChange,
    diff_runs,
)
from pail.services.runs.model import Run
from pail.ui.clipboard import copy_text
from pail.ui.messages import WorkFailed
from pail.ui.nodes import Connection
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter
from pail.ui.widgets.run_table import number_text
from pail.ui.workers import start_io

#: Rows listed at most per section (params, files, tensors and keys of one file).
ROWS_SHOWN = 200
#: Characters of a value kept in a cell.
VALUE_CHARS = 60

_STATE_WORDS = {
    "only_a": "only in A",
    "only_b": "only in B",
    "size_differs": "size differs",
    "checksum_differs": "checksum differs",
    "not_comparable": "not comparable",
    "identical": "identical",
}


@dataclass(eq=False)
class DiffReady(Message):
    """The diff finished: ``diff`` (``None`` when stopped) for request ``generation``."""

    diff: RunDiff | None
    generation: int


def diff_command(spec: ConnectionSpec, bucket: str, location: str, a: Run, b: Run) -> str:
    """The ``pail diff LOCATION ID_A ID_B`` command line that compares runs ``a`` and ``b``
    as detected at ``location`` (a prefix) in ``bucket`` of connection ``spec``: a saved
    connection by name (``pail diff lab:bucket/logs/ version_1 version_2``), else by URI,
    with ``--endpoint-url`` for an S3-compatible endpoint. Every word is shell-quoted; no
    secret is ever in it."""
    if spec.saved:
        where = f"{spec.name}:{bucket}/{location}"
    else:
        where = location_in(spec, bucket, location).uri
    command = ["pail", "diff", *(shell_quote(w) for w in (where, a.id, b.id))]
    if not spec.saved and spec.provider == "s3" and spec.endpoint_url:
        command += ["--endpoint-url", shell_quote(spec.endpoint_url)]
    return " ".join(command)


def _value(text: str | None) -> Text:
    if text is None:
        return Text("(absent)", style="dim")
    return Text(clip(text, VALUE_CHARS))


def _table(*headers: str, right: Sequence[int] = ()) -> Table:
    table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False, expand=False)
    for number, header in enumerate(headers):
        table.add_column(
            Text(header, style="bold"),
            justify="right" if number in right else "left",
            overflow="fold",
        )
    return table


def _keyed_rows(diff: KeyedDiff) -> list[ValueChange]:
    return [*diff.changed, *diff.removed, *diff.added]


def keyed_summary(diff: KeyedDiff) -> str:
    """``"2 changed, 1 only in A, 1 only in B, 5 the same"`` (parts with 0 left out;
    ``"no difference"`` when nothing differs)."""
    parts = []
    if diff.changed:
        parts.append(f"{len(diff.changed):,} changed")
    if diff.removed:
        parts.append(f"{len(diff.removed):,} only in A")
    if diff.added:
        parts.append(f"{len(diff.added):,} only in B")
    if diff.same:
        parts.append(f"{diff.same:,} the same")
    if not diff.differs:
        parts.insert(0, "no difference")
    return ", ".join(parts)


def _keyed_table(diff: KeyedDiff, what: str) -> RenderableType:
    table = _table(what, "A", "B")
    rows = _keyed_rows(diff)
    for change in rows[:ROWS_SHOWN]:
        table.add_row(Text(one_line(change.name)), _value(change.a), _value(change.b))
    if len(rows) > ROWS_SHOWN:
        table.add_row(Text(f"… {len(rows) - ROWS_SHOWN:,} more", style="dim"), "", "")
    return table


def better_text(metric: MetricComparison) -> Text:
    """Which run's best value is better: ``"B"``, ``"A"``, ``"same"``, or ``""`` when
    either is unknown."""
    if metric.b_better is None:
        return Text("")
    if metric.b_better:
        return Text("B", style="bold green")
    if metric.best_a == metric.best_b:
        return Text("same", style="dim")
    return Text("A", style="bold green")


def _delta(value: float | None) -> Text:
    if value is None:
        return Text("")
    text = number_text(value)
    return Text(("+" if value > 0 else "") + text)


def _section(title: str, summary: str = "") -> Text:
    text = Text("\n" + title, style="bold underline")
    if summary:
        text.append(f"  {summary}", style="bold")
    return text


def diff_renderables(diff: RunDiff) -> list[RenderableType]:
    """The diff screen's body, top to bottom (plain text from the store throughout)."""
    out: list[RenderableType] = []
    for label, run, uri in (("A", diff.a, diff.uri_a), ("B", diff.b, diff.uri_b)):
        line = Text(f"{label}  ", style="bold reverse")
        line.append(" ")
        line.append(one_line(run.name), style="bold")
        line.append("  ")
        line.append(one_line(uri), style="dim")
        out.append(line)

    out.append(_section("Params", keyed_summary(diff.params)))
    if diff.params.differs:
        out.append(_keyed_table(diff.params, "param"))

    metrics = diff.metrics
    out.append(_section("Metrics", plural(len(metrics), "metric") if metrics else "none logged"))
    if metrics:
        table = _table(
            "metric",
            "A final",
            "B final",
            "Δ final",
            "A best",
            "B best",
            "Δ best",
            "better",
            right=(1, 2, 3, 4, 5, 6),
        )
        for metric in metrics:
            name = Text(one_line(metric.name))
            if metric.mode is not None:  # a learning rate or a timing has no better way
                name.append(" ↓" if metric.mode == "min" else " ↑", style="dim")
            table.add_row(
                name,
                number_text(metric.final_a),
                number_text(metric.final_b),
                _delta(metric.delta_final),
                number_text(metric.best_a),
                number_text(metric.best_b),
                _delta(metric.delta_best),
                better_text(metric),
            )
        out.append(table)
        out.append(Text("↓ lower is better, ↑ higher; Δ is B − A", style="dim"))

    files = diff.files
    differing = files.count("size_differs") + files.count("checksum_differs")
    counts = (
        f"{files.count('only_a'):,} only in A · {files.count('only_b'):,} only in B · "
        f"{differing:,} differing · {files.count('not_comparable'):,} not comparable · "
        f"{files.count('identical'):,} identical"
    )
    out.append(_section("Files", "" if files.complete else "(partial)"))
    sides = Text(
        f"A: {plural(files.objects_a, 'object')}, {size_text(files.bytes_a)} · "
        f"B: {plural(files.objects_b, 'object')}, {size_text(files.bytes_b)}"
    )
    out.append(sides)
    out.append(Text(counts))
    listed = [e for e in files.entries if e.state != "identical"]
    if listed:
        table = _table("path", "state", "A size", "B size", "how", right=(2, 3))
        for entry in listed[:ROWS_SHOWN]:
            style = "yellow" if entry.state in ("size_differs", "checksum_differs") else ""
            how = entry.note or entry.checksum or ""
            table.add_row(
                Text(one_line(entry.path)),
                Text(_STATE_WORDS.get(entry.state, entry.state), style=style),
                size_text(entry.size_a),
                size_text(entry.size_b),
                Text(clip(how, VALUE_CHARS), style="dim"),
            )
        if len(listed) > ROWS_SHOWN:
            table.add_row(Text(f"… {len(listed) - ROWS_SHOWN:,} more", style="dim"), "", "", "", "")
        out.append(table)
    for note in [*files.errors, *files.notes]:
        out.append(Text(one_line(note), style="yellow"))

    differ = [t for t in diff.tensors if t.differs or t.note]
    summary = (
        f"{plural(len(diff.tensors), 'file')} compared, {len(differ):,} with differences"
        if diff.tensors
        else "no .safetensors or .npy file in both runs differs"
    )
    out.append(_section("Tensors", summary))
    for tensors in differ:
        head = Text(one_line(tensors.path), style="bold")
        head.append(
            f" ({tensors.format}): {len(tensors.changed):,} changed, "
            f"{len(tensors.only_a):,} only in A, {len(tensors.only_b):,} only in B, "
            f"{tensors.same:,} the same",
        )
        out.append(head)
        if tensors.note:
            out.append(Text(one_line(tensors.note), style="yellow"))
        rows = [*tensors.changed, *tensors.only_a, *tensors.only_b]
        if rows:
            table = _table("tensor", "A", "B")
            for change in rows[:ROWS_SHOWN]:
                table.add_row(
                    Text(one_line(change.name)),
                    _tensor(change.dtype_a, change.shape_a),
                    _tensor(change.dtype_b, change.shape_b),
                )
            if len(rows) > ROWS_SHOWN:
                table.add_row(Text(f"… {len(rows) - ROWS_SHOWN:,} more", style="dim"), "", "")
            out.append(table)

    differ_configs = [c for c in diff.configs if c.keys.differs or c.note]
    summary = (
        f"{plural(len(diff.configs), 'file')} compared, {len(differ_configs):,} with differences"
        if diff.configs
        else "no JSON or YAML file in both runs differs"
    )
    out.append(_section("Config keys", summary))
    for config in differ_configs:
        head = Text(one_line(config.path), style="bold")
        if config.keys.differs:
            head.append(f": {keyed_summary(config.keys)}")
        out.append(head)
        if config.note:
            out.append(Text(one_line(config.note), style="yellow"))
        if config.keys.differs:
            out.append(_keyed_table(config.keys, "key"))

    if diff.notes:
        out.append(_section("Notes"))
        for note in diff.notes:
            out.append(Text(one_line(note), style="yellow"))
    return out


def _tensor(dtype: str | None, shape: tuple[int, ...] | None) -> Text:
    if dtype is None and shape is None:
        return Text("(absent)", style="dim")
    shown = "[" + ", ".join(str(n) for n in shape) + "]" if shape is not None else "?"
    return Text(f"{one_line(dtype or '?')} {shown}")


class RunDiffScreen(KeysExplained, Screen[None]):
    """The diff of run ``a`` and run ``b``, both in ``bucket`` of ``conn`` (open).

    Args:
        conn: the connection (its driver lists and reads both runs).
        bucket: the bucket both runs are in.
        location: the prefix where both were detected (for ``y``'s command line).
        a / b: the runs, as detection returned them.
        limits: how far the diff goes (:class:`DiffLimits`).

    Attributes:
        diff: the result once computed (``None`` before, or when it failed or stopped).
        computing: the diff is running.
    """

    CSS_PATH = "../styles/runs.tcss"

    BINDINGS = [
        Binding(
            "escape,q",
            "close",
            "Back",
            key_display="esc",
            tooltip="Back to the runs",
            id="diff.close",
        ),
        Binding("x", "cancel", "Stop", tooltip="Stop comparing", id="diff.cancel"),
        Binding(
            "y",
            "copy_command",
            "Copy command",
            tooltip="Copy the pail diff command line that prints this comparison",
            id="diff.copy_command",
        ),
    ]

    WHY_NOT = {"cancel": "the comparison has finished"}

    def __init__(
        self,
        conn: Connection,
        bucket: str,
        location: str,
        a: Run,
        b: Run,
        *,
        limits: DiffLimits | None = None,
    ) -> None:
        super().__init__()
        assert conn.driver is not None
        self.conn = conn
        self.bucket = bucket
        self.location = location
        self.a, self.b = a, b
        self.limits = limits or DiffLimits()
        self.diff: RunDiff | None = None
        self.computing = False
        self._cancel = threading.Event()
        self._generation = 0

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="diff-title")
        with VerticalScroll(id="diff-box"):
            yield Static(id="diff-body")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Run diff"
        title = Text("Diff of ", style="bold")
        title.append(one_line(self.a.name), style="bold")
        title.append(" (A) and ", style="bold")
        title.append(one_line(self.b.name), style="bold")
        title.append(" (B)", style="bold")
        self.query_one("#diff-title", Static).update(title)
        self.query_one("#diff-box").focus()
        self._start()

    def _start(self) -> None:
        self._generation += 1
        generation = self._generation
        self._cancel = cancel = threading.Event()
        self.computing = True
        driver, bucket, a, b, limits = self.conn.driver, self.bucket, self.a, self.b, self.limits
        assert driver is not None

        def work() -> DiffReady:
            try:
                found = diff_runs(
                    driver, bucket, a, driver, bucket, b, limits=limits, cancel=cancel
                )
            except DiffCancelled:
                return DiffReady(None, generation)
            return DiffReady(found, generation)

        self._body(Text("Comparing… (listing both runs, reading headers and configs)"))
        start_io(self, work, target=(a.id, b.id), generation=generation, group="run-diff")
        self.refresh_bindings()

    def _body(self, renderable: RenderableType) -> None:
        self.query_one("#diff-body", Static).update(renderable)

    def on_diff_ready(self, message: DiffReady) -> None:
        if message.generation != self._generation:
            return
        self.computing = False
        self.diff = message.diff
        if message.diff is None:
            self._body(Text("Comparison stopped."))
        else:
            self._body(Group(*diff_renderables(message.diff)))
        self.refresh_bindings()

    def show_failure(self, message: WorkFailed) -> None:
        """The comparison failed (called by the app's error route)."""
        if message.generation != self._generation:
            return
        self.computing = False
        error = message.error
        what = f"{error.code}: {error.message}" if error.code else (error.message or error.badge)
        self._body(Text(f"Not compared: {one_line(what)}"))
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop only while comparing."""
        if action == "cancel":
            return self.computing
        return True

    def action_cancel(self) -> None:
        """Stop the comparison (requests in flight finish)."""
        self._cancel.set()

    def command(self) -> str:
        """The ``pail diff`` command line of this comparison."""
        return diff_command(self.conn.spec, self.bucket, self.location, self.a, self.b)

    def action_copy_command(self) -> None:
        """Copy the ``pail diff`` command line."""
        command = self.command()
        copy_text(self.app, command, f"the command {one_line(command)}")

    def action_close(self) -> None:
        """Back to the runs (a running comparison is stopped)."""
        self._cancel.set()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()
