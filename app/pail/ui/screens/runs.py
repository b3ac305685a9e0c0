"""The runs view (``e`` on a bucket or prefix): the location seen as runs.

Detection (:func:`pail.services.runs.detect.detect_runs`) runs in a worker: the screen
shows "listing… N objects" while it walks (``x`` stops it, ``r`` starts it again), then

* a title with the layout recognised (:func:`~pail.services.runs.detect.layout_title`) and
  the location, what was seen (evidence), objects in no run, the tracking server and how
  many metadata warnings there were;
* the runs table (:class:`~pail.ui.widgets.run_table.RunTable`): ``S`` sorts by the next
  column, ``R`` reverses, ``O`` picks the column from a list (a click on a header sorts by
  it too); ``space`` marks a run (``A`` then ``B``; two at most), ``u`` clears the marks,
  ``=`` compares the two marked runs (or the marked one and the run at the cursor) in the
  diff screen (:class:`~pail.ui.screens.run_diff.RunDiffScreen`); enter goes back to the
  tree with its cursor on the run's first prefix (or its one object: a modelkit version),
  ``c`` copies its URI;
* beside it, the detail of the run at the cursor (id, prefixes as URIs, times, status,
  sources, why it is protected, params, final and best metrics, tags, warnings) and the
  curve of one metric (``M`` cycles) for that run, with the other marked run overlaid
  (:class:`~pail.ui.widgets.metric_plot.MetricPlot`).

A location with no runs says so, as every run-based action does
(:class:`~pail.services.runs.model.NoRunsFound`: which layouts pail knows), and shows no
table. Everything from the store or the tracking server is shown as plain text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, OptionList, Static
from textual.widgets.option_list import Option

from pail.core.text import clip, one_line
from pail.core.units import plural, size_text
from pail.drivers.base import StorageDriver
from pail.services.locations import location_in
from pail.services.runs.detect import DetectCancelled, TooManyObjects, detect_runs, layout_title
from pail.services.runs.model import NoRunsFound, Run, RunSet, known_mode
from pail.services.runs.tracking import TrackingServer
from pail.ui.clipboard import copy_text
from pail.ui.messages import WorkFailed
from pail.ui.nodes import NodeData
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter
from pail.ui.widgets.metric_plot import MetricPlot
from pail.ui.widgets.run_table import (
    RunTable,
    duration_text,
    number_text,
    start_text,
)
from pail.ui.workers import start_io

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost

#: Seconds between two redraws of the listing's progress.
POLL_SECONDS = 0.2
#: Metadata warnings shown under the title (all of them are in the detail pane).
WARNINGS_SHOWN = 2


@dataclass(eq=False)
class RunsDetected(Message):
    """Detection finished: ``runset`` (``None`` when cancelled) for request
    ``generation``; ``problem`` is a plain sentence when it stopped without a RunSet
    (too many objects)."""

    runset: RunSet | None
    generation: int
    problem: str = ""


_VALIDATION = ("val", "valid", "validation", "eval", "test")


def default_metric(names: Sequence[str]) -> str | None:
    """The metric plotted first: a validation loss (``val_loss``, ``eval/loss``,
    ``validation.loss``), else any loss, else the first name; ``None`` for no names."""

    def words(name: str) -> list[str]:
        return re.split(r"[/_.\- ]+", name.lower())

    for test in (
        lambda n: "loss" in words(n) and any(w in _VALIDATION for w in words(n)),
        lambda n: "loss" in n.lower(),
    ):
        for name in names:
            if test(name):
                return name
    return names[0] if names else None


def tracking_server() -> TrackingServer | None:
    """The tracking server the environment names (``MLFLOW_TRACKING_URI``, http(s)), or
    ``None``. No request is made here; detection merges what the server knows and turns
    a server that fails into a warning line."""
    return TrackingServer.from_env()


def run_detail(run: Run, uri_of: Callable[[str], str], warnings: Sequence[str] = ()) -> Text:
    """The detail pane's text for ``run`` (plain text throughout): id, layout and
    experiment, status, times, size, prefixes as URIs (``uri_of(prefix)``), sources,
    protection, params, metrics (final, best and the direction that is better), tags,
    artifact groups, and the ``warnings`` that name the run."""
    out = Text()

    def line(label: str, value: str, style: str = "") -> None:
        out.append(f"{label:<9}", style="bold")
        out.append(one_line(value) + "\n", style=style)

    out.append(one_line(run.name) + "\n", style="bold")
    if run.id != run.name:
        line("id", run.id)
    if run.experiment:
        line("exp.", run.experiment)
    if run.status:
        line("status", run.status)
    if run.start is not None:
        line("start", start_text(run.start) + " UTC")
    if run.end is not None:
        line("end", start_text(run.end) + " UTC")
    if run.duration is not None:
        line("duration", duration_text(run.duration))
    line("size", f"{plural(run.objects, 'object')}, {size_text(run.bytes)}")
    if run.protected:
        line("kept", run.protected, style="bold yellow")
    if run.sources:
        line("sources", ", ".join(run.sources))
    if run.prefixes:
        out.append("prefixes\n", style="bold")
        for prefix in run.prefixes:
            out.append(f"  {one_line(uri_of(prefix))}\n")
    if run.keys:
        out.append("objects\n", style="bold")
        for key in run.keys:
            out.append(f"  {one_line(uri_of(key))}\n")
    if run.params:
        out.append(f"params ({len(run.params):,})\n", style="bold")
        for name in sorted(run.params):
            out.append(f"  {one_line(name)} = ")
            out.append(clip(run.params[name], 200) + "\n")
    if run.metrics:
        out.append("metrics (final · best; ↓ lower is better, ↑ higher)\n", style="bold")
        for name in sorted(run.metrics):
            final = number_text(run.final(name))
            best = number_text(run.best(name, known_mode(name)))
            mode = known_mode(name)
            arrow = "" if mode is None else " ↓" if mode == "min" else " ↑"
            count = len(run.metrics[name])
            out.append(f"  {one_line(name)}{arrow}  ")
            out.append(f"{final or '–'} · {best or '–'}")
            out.append(f"  ({plural(count, 'point')})\n", style="dim")
    if run.tags:
        out.append("tags\n", style="bold")
        for name in sorted(run.tags):
            out.append(f"  {one_line(name)} = {clip(run.tags[name], 200)}\n")
    home = run.prefixes[0] if run.prefixes else ""
    groups: list[str] = []
    for name in sorted(run.groups):
        where = run.groups[name]
        if home and where.startswith(home) and where != home:
            where = where[len(home) :]  # relative to the run's folder: shorter
        if where.rstrip("/") != name:  # "metrics.csv: metrics.csv" says nothing
            groups.append(f"  {one_line(name)}: {one_line(where)}\n")
    if groups:
        out.append("artifacts\n", style="bold")
        for group in groups:
            out.append(group)
    mine = [w for w in warnings if w.startswith(f"{run.name}:") or run.id in w]
    if mine:
        out.append("warnings\n", style="bold yellow")
        for warning in mine:
            out.append(f"  {one_line(warning)}\n", style="yellow")
    out.rstrip()
    return out


class SortPicker(ModalScreen[str | None]):
    """Pick the runs table's sort column from a list: dismisses with its key, or
    ``None`` (escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="runs_sort.cancel")]

    DEFAULT_CSS = """
    SortPicker { align: center middle; }
    #runs-sort-box { width: 50; height: auto; max-height: 80%; border: round $accent;
                     background: $surface; padding: 0 1; }
    #runs-sort-list { height: auto; max-height: 20; }
    """

    def __init__(self, choices: list[tuple[str, str]], current: str) -> None:
        super().__init__()
        self._choices = choices
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="runs-sort-box"):
            yield Static(Text("Sort the runs by", style="bold"))
            options = [Option(Text(label), id=key) for key, label in self._choices]
            yield OptionList(*options, id="runs-sort-list")

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        keys = [key for key, _label in self._choices]
        if self._current in keys:
            option_list.highlighted = keys.index(self._current)
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without changing the sort."""
        self.dismiss(None)


class RunsScreen(KeysExplained, Screen[str | None]):
    """The runs under ``level`` (a bucket or prefix node whose connection is open).

    Args:
        level: where runs are detected.
        tracking: returns the tracking server to merge (called in the worker; default
            :func:`tracking_server`, from the environment).

    Dismisses with the key of the prefix to show in the tree (enter), or ``None``.

    Attributes:
        runset: the detection's result, once it finished (``None`` before, or when it
            stopped without one).
        detecting: detection is running.
        metric: the metric chosen for the plot (``M``), or ``None``; a run that did not
            log it plots its own (:meth:`plotted_metric`).
    """

    CSS_PATH = "../styles/runs.tcss"

    BINDINGS = [
        Binding(
            "escape,q",
            "close",
            "Back",
            key_display="esc",
            tooltip="Back to the tree",
            id="runs.close",
        ),
        Binding("x", "cancel", "Stop", tooltip="Stop detecting runs (listing)", id="runs.cancel"),
        Binding(
            "r",
            "detect",
            "Detect again",
            show=False,
            tooltip="List the location and detect its runs again",
            id="runs.refresh",
        ),
        Binding(
            "S",
            "next_sort",
            "Sort",
            key_display="S",
            tooltip="Sort by the next column (a click on a header sorts by it)",
            id="runs.sort",
        ),
        Binding(
            "R",
            "reverse",
            "Reverse",
            key_display="R",
            show=False,
            tooltip="Reverse the order",
            id="runs.reverse",
        ),
        Binding(
            "O",
            "pick_sort",
            "Sort by…",
            key_display="O",
            show=False,
            tooltip="Choose the sort column from a list (any param or metric)",
            id="runs.sort_by",
        ),
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            tooltip="Mark / unmark the run for compare (A, then B; two at most)",
            id="runs.mark",
        ),
        Binding(
            "u",
            "clear_marks",
            "Unmark all",
            show=False,
            tooltip="Clear the marks",
            id="runs.clear_marks",
        ),
        Binding(
            "equals_sign",
            "compare",
            "Compare",
            key_display="=",
            tooltip="Compare the marked runs (or the marked one and the run at the cursor)",
            id="runs.compare",
        ),
        Binding(
            "M",
            "next_metric",
            "Metric",
            key_display="M",
            tooltip="Plot the next metric",
            id="runs.metric",
        ),
        Binding(
            "enter",
            "open_run",
            "Show in tree",
            tooltip="Back to the tree, at the run (its first prefix, or its object)",
            id="runs.open",
        ),
        Binding(
            "c",
            "copy_uri",
            "Copy URI",
            show=False,
            tooltip="Copy the URI of the run (its first prefix, or its object)",
            id="runs.copy_uri",
        ),
    ]

    #: "-short" below 32 rows: the information under the title takes one line (runs.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        level: NodeData,
        *,
        tracking: Callable[[], TrackingServer | None] = tracking_server,
    ) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.level = level
        self._driver: StorageDriver = level.conn.driver
        self._bucket: str = level.bucket
        self._tracking = tracking
        self.runset: RunSet | None = None
        self.detecting = False
        self.metric: str | None = None
        self._listed = 0
        self._generation = 0
        self._cancel = threading.Event()
        self._state = ""

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="runs-title")
        yield Static(id="runs-info")
        yield Static(id="runs-message")
        with Vertical(id="runs-body"):
            yield RunTable(id="runs-table")
            with Horizontal(id="runs-bottom"):
                with VerticalScroll(id="runs-detail-box"):
                    yield Static(id="runs-detail")
                with Vertical(id="runs-plot-box"):
                    yield Static(id="runs-legend")
                    yield MetricPlot(id="runs-plot")
        yield Static(id="runs-foot")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Runs"
        self.query_one("#runs-body").display = False
        self.query_one("#runs-message").display = False
        self.set_interval(POLL_SECONDS, self._show_progress)
        self.action_detect()

    def uri(self, key: str = "") -> str:
        """The URI of ``key`` in this screen's bucket (a local folder: ``file://…``)."""
        return location_in(self.level.conn.spec, self._bucket, key).uri

    @property
    def table(self) -> RunTable:
        """The runs table."""
        return self.query_one(RunTable)

    @property
    def plot(self) -> MetricPlot:
        """The metric plot."""
        return self.query_one(MetricPlot)

    # -- detection -------------------------------------------------------------------------

    def action_detect(self) -> None:
        """List the location and detect its runs (in a worker)."""
        if self.detecting:
            return
        self._generation += 1
        generation = self._generation
        self._cancel = cancel = threading.Event()
        self._listed = 0
        self.detecting = True
        self._state = ""
        driver, bucket, prefix = self._driver, self._bucket, self.level.key
        make_tracking = self._tracking

        def counted(n: int) -> None:
            self._listed = n  # read by the progress timer on the event loop

        def work() -> RunsDetected:
            try:
                found = detect_runs(
                    driver,
                    bucket,
                    prefix,
                    tracking=make_tracking(),
                    cancel=cancel,
                    on_listed=counted,
                )
            except DetectCancelled:
                return RunsDetected(None, generation)
            except TooManyObjects as exc:
                return RunsDetected(None, generation, str(exc))
            return RunsDetected(found, generation)

        self._draw_title()
        self._show_progress()
        start_io(self, work, target=self.level, generation=generation, group="runs-detect")
        self.refresh_bindings()

    def _show_progress(self) -> None:
        if not self.detecting:
            return
        text = Text(f"listing… {plural(self._listed, 'object')}", style="bold")
        text.append("   x stops", style="dim")
        self.query_one("#runs-info", Static).update(text)

    def action_cancel(self) -> None:
        """Stop detecting (the listing ends after the pages in flight)."""
        self._cancel.set()

    def on_runs_detected(self, message: RunsDetected) -> None:
        if message.generation != self._generation:
            return
        self.detecting = False
        if message.runset is None:
            if message.problem:
                self._say(message.problem, "Narrow the location and press r to try again.")
            else:
                self._say(
                    f"Detection stopped after {plural(self._listed, 'object')} listed.",
                    "r detects again.",
                )
        else:
            self._show_runset(message.runset)
            if message.generation > 1:  # r: say it happened (the table may look the same)
                found = plural(len(message.runset.runs), "run")
                self.notify(f"Detected again: {found}.", markup=False)
        self.refresh_bindings()

    def show_failure(self, message: WorkFailed) -> None:
        """The listing failed (called by the app's error route)."""
        if message.generation != self._generation:
            return
        self.detecting = False
        error = message.error
        what = f"{error.code}: {error.message}" if error.code else (error.message or error.badge)
        self._say(f"Runs not detected: {what}", "r tries again.")
        self.refresh_bindings()

    def _say(self, text: str, hint: str = "") -> None:
        """Show ``text`` instead of the table (plain text)."""
        self.query_one("#runs-body").display = False
        self._state = text
        body = Text(one_line(text))
        if hint:
            body.append("\n" + hint, style="dim")
        message = self.query_one("#runs-message", Static)
        message.update(body)
        message.display = True
        self.query_one("#runs-info", Static).update("")
        self.query_one("#runs-foot", Static).update("")

    def _say_no_runs(self, refusal: NoRunsFound) -> None:
        """The refusal every run-based action gives, one part a line (plain text)."""
        self._say(f"No runs found under {refusal.where}")
        body = Text(f"No runs found under {one_line(refusal.where)}", style="bold")
        if refusal.evidence:
            body.append(f"\nSeen: {one_line(refusal.evidence)}.")
        known = str(refusal).rsplit(": ", 1)[-1]  # "pail recognises … layouts"
        body.append(f"\n{one_line(known)}.")
        body.append(
            "\nRun-based actions (this view, diff, keep the last or best N) refuse here "
            "rather than take folders for runs.",
            style="dim",
        )
        self.query_one("#runs-message", Static).update(body)

    def _show_runset(self, runset: RunSet) -> None:
        self.runset = runset
        self._draw_title()
        self._draw_info()
        if not runset.runs:
            where = runset.where or self.uri(runset.prefix)
            self._say_no_runs(NoRunsFound(where, runset.evidence))
            return
        self.query_one("#runs-message").display = False
        body = self.query_one("#runs-body")
        body.display = True
        table = self.table
        table.show_runs(runset)
        names = runset.metric_names()
        if self.metric not in names:
            self.metric = default_metric(names)
        table.focus()
        self._follow_cursor()

    def _draw_title(self) -> None:
        runset = self.runset
        title = Text("Runs", style="bold")
        if runset is not None and runset.runs:
            title.append(f" · {layout_title(runset)}", style="bold")
        title.append(" in ")
        title.append(one_line(self.uri(self.level.key)))
        self.query_one("#runs-title", Static).update(title)

    def _draw_info(self) -> None:
        runset = self.runset
        if runset is None:
            return
        info = Text()
        info.append(plural(len(runset.runs), "run"), style="bold")
        experiments = {run.experiment for run in runset.runs}
        if len(experiments) == 1 and None not in experiments:
            info.append(" of experiment ")
            info.append(one_line(next(iter(experiments))))
        info.append(f" · {plural(runset.examined, 'object')} listed")
        if runset.loose:
            info.append(f" · {plural(runset.loose, 'object')} in no run")
        if runset.tracking:
            info.append(" · tracking server ")
            info.append(one_line(runset.tracking))
        if runset.evidence and runset.runs:
            info.append("\nseen: ", style="dim")
            info.append(one_line(runset.evidence), style="dim")
        if runset.warnings:
            count = len(runset.warnings)
            info.append(f"\n{plural(count, 'warning')}: ", style="yellow")
            info.append(one_line(runset.warnings[0]), style="yellow")
            if count > 1:
                info.append(" (all in the detail pane of each run)", style="dim")
        self.query_one("#runs-info", Static).update(info)

    # -- the run at the cursor: detail and plot ----------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._follow_cursor()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_run()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = event.column_key.value or ""
        table = self.table
        if key == table.sort_key:
            table.reverse()
        else:
            table.sort_by(key)
        self._draw_foot()

    def plotted_runs(self) -> list[Run]:
        """The runs on the plot: the run at the cursor, then the first marked run that is
        not it."""
        table = self.table
        current = table.cursor_run()
        if current is None:
            return []
        others = [run for run in table.marked_runs() if run.id != current.id]
        return [current, *others[:1]]

    def _follow_cursor(self) -> None:
        runset = self.runset
        run = self.table.cursor_run()
        detail = self.query_one("#runs-detail", Static)
        if runset is None or run is None:
            detail.update("")
            return
        detail.update(run_detail(run, self.uri, runset.warnings))
        plot = self.plot
        plot.show(self.plotted_metric(), self.plotted_runs())
        if not run.metrics:
            plot.empty_reason = f"{clip(run.name, 30)} logged no metrics"
        plot.display = bool(plot.series)  # an empty frame says nothing: the reason does
        self.query_one("#runs-legend", Static).update(plot.legend())
        self._draw_foot()

    def plotted_metric(self) -> str | None:
        """The metric on the plot: the one chosen (``M``) when the run at the cursor
        logged it, else that run's own :func:`default_metric` (a run of another tool or
        experiment logs other names)."""
        run = self.table.cursor_run()
        if run is None or self.metric in run.metrics or not run.metrics:
            return self.metric
        return default_metric(sorted(run.metrics))

    def _draw_foot(self) -> None:
        table = self.table
        foot = Text(table.sort_words(), style="dim")
        for run in table.marked_runs():
            foot.append(f" · {table.mark_of(run)}: ", style="dim")
            foot.append(clip(run.name, 30), style="bold")
        metric = self.plotted_metric()
        if metric is not None:
            foot.append(" · plot: ", style="dim")
            foot.append(clip(metric, 30))
            runset = self.runset
            if runset is not None and len(runset.metric_names()) > 1:
                foot.append(" (M next)", style="dim")
        self.query_one("#runs-foot", Static).update(foot)

    # -- commands ----------------------------------------------------------------------------

    def _has_runs(self) -> bool:
        return self.runset is not None and bool(self.runset.runs) and not self.detecting

    def compare_pair(self) -> tuple[Run, Run] | None:
        """The runs ``=`` compares: the two marked (A, B), or the marked one (A) and the
        run at the cursor (B); ``None`` when that makes no pair."""
        if not self._has_runs():
            return None
        table = self.table
        marked = table.marked_runs()
        if len(marked) == 2:
            return marked[0], marked[1]
        current = table.cursor_run()
        if len(marked) == 1 and current is not None and current.id != marked[0].id:
            return marked[0], current
        return None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do nothing now are hidden (and say why when pressed)."""
        if not self.is_mounted:
            return True
        if action == "cancel":
            return self.detecting
        if action == "detect":
            return not self.detecting
        if action == "compare":
            return self.compare_pair() is not None
        if action == "next_metric":
            return self._has_runs() and len(self._metric_names()) > 1
        if action in (
            "next_sort",
            "reverse",
            "pick_sort",
            "toggle_mark",
            "open_run",
            "copy_uri",
        ):
            return self._has_runs()
        if action == "clear_marks":
            return self._has_runs() and bool(self.table.marks)
        return True

    def why_not(self, action: str) -> str:
        """Why ``action`` does nothing now (plain text)."""
        if action == "cancel":
            return "detection has finished"
        if action == "detect":
            return "detection is running (x stops it)"
        if self.detecting:
            return "runs are being detected"
        if not self._has_runs():
            return "no runs here"
        if action == "compare":
            return "mark two runs with space (or one, and move the cursor to another)"
        if action == "next_metric":
            return "the runs logged one metric or none"
        if action == "clear_marks":
            return "no run is marked"
        return super().why_not(action)

    def _metric_names(self) -> list[str]:
        return self.runset.metric_names() if self.runset is not None else []

    def action_next_sort(self) -> None:
        """Sort by the next column."""
        self.table.next_sort()
        self._draw_foot()

    def action_reverse(self) -> None:
        """Reverse the order."""
        self.table.reverse()
        self._draw_foot()

    def action_pick_sort(self) -> None:
        """Choose the sort column from a list."""
        table = self.table
        choices = []
        for column in table.columns_shown:
            if not column.sortable:
                continue
            what = {"param": "param ", "metric": "metric (final) "}.get(column.kind, "")
            choices.append((column.key, f"{what}{one_line(column.name or column.label)}"))

        def chosen(key: str | None) -> None:
            if key is not None:
                table.sort_by(key)
                self._draw_foot()

        self.app.push_screen(SortPicker(choices, table.sort_key), callback=chosen)

    def action_toggle_mark(self) -> None:
        """Mark or unmark the run at the cursor (two at most), then move down."""
        table = self.table
        run = table.cursor_run()
        if run is None:
            return
        if not table.toggle_mark(run):
            names = " and ".join(clip(r.name, 30) for r in table.marked_runs())
            self.notify(
                f"Two runs are marked ({names}): space on one of them unmarks it.",
                severity="warning",
                markup=False,
            )
            return
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)
        self._follow_cursor()
        self.refresh_bindings()

    def action_clear_marks(self) -> None:
        """Unmark every run."""
        self.table.clear_marks()
        self._follow_cursor()
        self.refresh_bindings()

    def action_next_metric(self) -> None:
        """Plot the next metric (in name order)."""
        names = self._metric_names()
        if not names:
            return
        shown = self.plotted_metric()
        index = names.index(shown) if shown in names else -1
        self.metric = names[(index + 1) % len(names)]
        self._follow_cursor()

    def action_compare(self) -> None:
        """Open the diff of the two runs :meth:`compare_pair` names."""
        pair = self.compare_pair()
        if pair is None:
            return
        from pail.ui.screens.run_diff import RunDiffScreen  # it imports this module's helpers

        a, b = pair
        self.app.push_screen(RunDiffScreen(self.level.conn, self._bucket, self.level.key, a, b))

    def _home(self) -> str | None:
        """Where the run at the cursor is: its first prefix, or its one object."""
        run = self.table.cursor_run()
        if run is None or not run.home:
            return None
        return run.home

    def action_open_run(self) -> None:
        """Back to the tree, its cursor on the run's first prefix (or its object)."""
        prefix = self._home()
        if prefix is None:
            return
        self._cancel.set()
        self.dismiss(prefix)

    def action_copy_uri(self) -> None:
        """Copy the URI of the run's first prefix (or its object)."""
        prefix = self._home()
        if prefix is None:
            return
        uri = self.uri(prefix)
        copy_text(self.app, uri, f"the URI {one_line(uri)}")

    def action_close(self) -> None:
        """Back to the tree (a running detection is stopped)."""
        self._cancel.set()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()


def open_runs_view(host: MainHost, level: NodeData | None) -> None:
    """``e`` on the main screen: push the runs view of ``level`` (a bucket or prefix with
    an open connection); enter there brings the tree's cursor to the run's prefix."""
    if level is None or level.kind not in ("bucket", "prefix") or level.conn.driver is None:
        text = "Move to an open bucket or prefix to see its runs."
        host.notify(text, severity="warning", markup=False)
        return

    def closed(key: str | None) -> None:
        if key is None:
            return
        reveal = getattr(host, "reveal_key", None)  # SearchActions, on MainScreen
        if reveal is not None and key != level.key:
            reveal(level, key)

    host.app.push_screen(RunsScreen(level), callback=closed)
