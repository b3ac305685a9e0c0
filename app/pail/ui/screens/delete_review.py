"""The review screen: exactly what a delete would remove, before anything is removed.

It builds the plan in a worker (:func:`pail.services.delete.plan.build_plan`: every object
under the selected prefixes is listed, child prefixes concurrently, then filtered), with a
running count of keys examined (escape cancels the listing). Then it shows the exact
count, total bytes, oldest and newest, the distinct prefixes affected, and the keys
themselves in a table (the first :data:`SHOWN_KEYS`; the screen says so when there are
more). With run rules (keep the last N runs, the best N by a metric, tagged or named
runs: :mod:`pail.services.runs.retention`) a section above the keys lists every run the
selection reaches: the runs kept and why, the runs to delete with what goes of them and
why, and the objects that belong to no run (never deleted by a run rule); with
``MLFLOW_TRACKING_URI`` the tracking server's registered model versions keep their runs.
Where no runs are recognised (:class:`~pail.services.runs.model.NoRunsFound`), the metric
was never logged, the tracking server's registry cannot be read, or detection gave up,
the screen says why and offers nothing to delete. The dry-run switch (``t``) makes the
delete report what would go and delete nothing.

``X`` (or the button) asks for confirmation (:class:`DeleteConfirmScreen`, which with a
tracking server also offers to mark the deleted MLflow runs deleted on it), then the
screen dismisses with a :class:`~pail.ui.messages.DeleteRequest`; a dry run needs
no confirmation. Nothing here deletes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Checkbox, DataTable, Header, Static

from pail.core.text import one_line
from pail.core.units import duration_words, plural, short_age, size_text
from pail.drivers.errors import StorageError
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import DeletePlan, build_plan
from pail.services.runs.detect import TooManyObjects
from pail.services.runs.model import LAYOUT_NAMES, NoRunsFound
from pail.services.runs.retention import RetentionError, RunVerdict
from pail.services.runs.tracking import TrackingServer
from pail.services.versions import versioning_status
from pail.ui.cleanup_ops import Clock, DeleteTarget, when_text
from pail.ui.messages import DeleteRequest, PlanReady, WorkFailed
from pail.ui.screens.delete_confirm import DeleteConfirmScreen, DeleteDecision
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

#: Keys listed in the table at most (a plan may hold 100,000 keys).
SHOWN_KEYS = 2000
#: Distinct prefixes named in the summary before "and N more".
SHOWN_PREFIXES = 8
#: Runs listed in the runs section, kept and deleted each, before "and N more".
SHOWN_RUNS = 500
#: Characters of a run id shown after its name (an MLflow run id has 32).
SHOWN_ID = 8


def filters_text(filters: StaleFilters) -> str:
    """The filter in one plain line: ``"older than 7 days; keep the last 3 runs of each
    experiment"``."""
    parts = []
    if filters.older_than is not None:
        parts.append(f"older than {duration_words(filters.older_than)}")
    if filters.larger_than is not None:
        parts.append(f"larger than {size_text(filters.larger_than)}")
    if filters.smaller_than is not None:
        parts.append(f"smaller than {size_text(filters.smaller_than)}")
    if filters.include:
        parts.append("include " + ", ".join(filters.include))
    if filters.exclude:
        parts.append("exclude " + ", ".join(filters.exclude))
    if filters.regex:
        parts.append(f"regex {filters.regex}")
    rules = filters.retention
    if rules is not None:
        return "; ".join([", ".join(parts), rules.describe()] if parts else [rules.describe()])
    return ", ".join(parts) or "no filter: everything selected"


def verdict_line(verdict: RunVerdict, plan: DeletePlan) -> Text:
    """One run of the runs section: ``keep r5 a5a5a5a5… · among the last 2 runs ...``
    (green) or ``delete r2 a2a2a2a2… · 5 objects, 5.1 kB · not among ...`` (red); the name,
    then the id's first :data:`SHOWN_ID` characters when it differs; plain text from the
    store."""
    run = verdict.run
    line = Text()
    if verdict.keep:
        line.append("keep   ", style="bold green")
    else:
        line.append("delete ", style="bold red")
    line.append(one_line(run.name), style="bold")
    if run.id != run.name:  # the id's start tells runs of one name apart; pail rm shows it all
        short = run.id if len(run.id) <= SHOWN_ID else run.id[:SHOWN_ID] + "…"
        line.append(f" {one_line(short)}", style="dim")
    if not verdict.keep:
        planned = plan.run_items.get(run.id)
        if planned is None:
            line.append(" · nothing of it matches the filters", style="dim")
        else:
            line.append(f" · {plural(planned.objects, 'object')}, {size_text(planned.bytes)}")
    line.append(" · ")
    line.append(one_line("; ".join(verdict.reasons)), style="green" if verdict.keep else "")
    return line


def runs_text(plan: DeletePlan) -> Text | None:
    """The runs section: a heading (layouts, counts, objects in no run), the runs to delete
    and why (first: what goes matters most), then the runs kept and why; ``None`` without
    run rules."""
    decision, runset = plan.retention, plan.runs
    if decision is None or runset is None:
        return None
    layouts = dict.fromkeys(v.run.layout for v in decision.verdicts)
    title = " + ".join(LAYOUT_NAMES.get(n, n) for n in layouts) or "none in the selection"
    kept, deleted = decision.kept, decision.deleted
    text = Text()
    text.append("Runs", style="bold")
    text.append(f" ({one_line(title)}): ")
    text.append(f"{len(kept):,} kept", style="bold green")
    text.append(", ")
    text.append(f"{len(deleted):,} to delete", style="bold red")
    if plan.outside_runs:
        verb = "belongs" if plan.outside_runs == 1 else "belong"
        text.append(
            f" · {plural(plan.outside_runs, 'object')} {verb} to no run: never deleted by run "
            "rules",
            style="yellow",
        )
    if runset.tracking:
        text.append(f" · tracking server {one_line(runset.tracking)}", style="dim")
    for group in (deleted, kept):
        for verdict in group[:SHOWN_RUNS]:
            text.append("\n")
            text.append_text(verdict_line(verdict, plan))
        if len(group) > SHOWN_RUNS:
            more = len(group) - SHOWN_RUNS
            text.append(f"\nand {more:,} more runs {'kept' if group is kept else 'to delete'}")
    for warning in runset.warnings[:SHOWN_RUNS]:
        text.append(f"\nwarning: {one_line(warning)}", style="yellow")
    return text


class DeleteReviewScreen(KeysExplained, Screen[DeleteRequest | None]):
    """Plan and review a delete of ``target`` narrowed by ``filters``.

    Args:
        target: the selection (see :class:`~pail.ui.cleanup_ops.DeleteTarget`).
        filters: the stale filter (``None``: everything selected).
        clock: "now" (UTC) for ages.
        tracking: with run rules, the tracking server whose names, metrics and registered
            model versions count (called in the worker; default: ``MLFLOW_TRACKING_URI``).
    """

    BINDINGS = [
        Binding("escape,q", "back", "Back", key_display="esc", id="review.back"),
        Binding("X", "delete", "Delete…", key_display="X", id="review.delete"),
        Binding("t", "toggle_dry_run", "Dry run", tooltip="Switch dry run", id="review.dry_run"),
    ]

    WHY_NOT = {"delete": "the plan is still being made, or selects nothing"}

    DEFAULT_CSS = """
    #review-runs {
        height: auto;
        max-height: 45%;
        margin: 0 2 1 2;
        display: none;
    }
    #review-runs.-shown {
        display: block;
    }
    """

    def __init__(
        self,
        target: DeleteTarget,
        filters: StaleFilters | None,
        clock: Clock,
        tracking: Callable[[], TrackingServer | None] = TrackingServer.from_env,
    ) -> None:
        super().__init__()
        self.target = target
        self._tracking = tracking
        self.filters = filters or StaleFilters()
        self._clock = clock
        self.plan: DeletePlan | None = None
        #: The tracking server the plan consulted (run rules with MLFLOW_TRACKING_URI).
        self.tracking: TrackingServer | None = None
        self.versioning: str | None = None
        self.versioning_note = ""
        self.error: StorageError | None = None
        self.refusal: str | None = None
        self._cancel = threading.Event()
        self._examined = 0

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="review-title")
        yield Static(id="review-stats")
        with VerticalScroll(id="review-runs"):
            yield Static(id="review-runs-text")
        table: DataTable[Text | str] = DataTable(id="review-keys", cursor_type="row")
        table.add_column("key", key="key")
        table.add_column("size", key="size", width=11)
        table.add_column("age", key="age", width=6)
        yield table
        yield Static(id="review-shown")
        with Horizontal(id="review-actions"):
            yield Checkbox("Dry run: report what would go, delete nothing", id="review-dry")
            yield Button("Delete…", variant="error", id="review-delete", disabled=True)
            yield Button("Back", id="review-back")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Review delete"
        title = Text.assemble(("Delete from ", "bold"), one_line(self.target.uri))
        title.append(f"\nfilter: {filters_text(self.filters)}", style="dim")
        self.query_one("#review-title", Static).update(title)
        self._poll_timer = self.set_interval(0.2, self._poll)
        self._poll()
        target, filters, cancel = self.target, self.filters, self._cancel
        driver = target.conn.driver
        # DeleteTarget.from_selection refuses a connection that is not open.
        assert driver is not None, "the review needs an open connection"

        def counted(n: int) -> None:
            self._examined = n

        make_tracking = self._tracking

        def work() -> PlanReady | None:
            tracking = make_tracking() if filters.retention is not None else None
            try:
                plan = build_plan(
                    driver,
                    target.bucket,
                    base=target.base,
                    prefixes=target.prefixes,
                    keys=target.objects,
                    filters=filters,
                    tracking=tracking,
                    cancel=cancel,
                    on_listed=counted,
                )
            except (NoRunsFound, RetentionError, TooManyObjects) as exc:
                # not a failure of the store: say why, plan nothing
                self.app.call_from_thread(self.show_refusal, str(exc))
                return None
            status, note = None, ""
            if plan.count:
                try:
                    status = versioning_status(driver, target.bucket)
                except StorageError as exc:  # the delete still works; say it is unknown
                    note = f"versioning unknown ({exc.badge})"
            return PlanReady(plan, status, note, tracking)

        start_io(self, work, target=target, generation=0, group="delete-plan")

    def _poll(self) -> None:
        if self.plan is None and self.error is None and self.refusal is None:
            text = f"Listing… {plural(self._examined, 'key')} examined (esc cancels)"
            self.query_one("#review-stats", Static).update(Text(text))

    @property
    def ready(self) -> bool:
        """The plan (or its failure, or the refusal) is on screen."""
        return self.plan is not None or self.error is not None or self.refusal is not None

    def show_refusal(self, reason: str) -> None:
        """The planner refused the filter (one plain line): nothing will be deleted."""
        if not self.is_attached:
            return
        self._poll_timer.stop()
        self.refusal = reason
        text = Text("Nothing will be deleted: ", style="bold red")
        text.append(one_line(reason))
        text.append(
            "\nGo back (esc) and clear the run rules, or select the folder that holds the runs."
        )
        self.query_one("#review-stats", Static).update(text)
        self.query_one("#review-shown", Static).update("")

    def on_plan_ready(self, message: PlanReady) -> None:
        message.stop()
        self._poll_timer.stop()
        self.plan, self.versioning = message.plan, message.versioning
        self.versioning_note = message.versioning_note
        self.tracking = message.tracking
        self._draw_plan(message.plan)

    def show_failure(self, message: WorkFailed) -> None:
        """Planning failed (called by the app's error route): nothing will be deleted."""
        self._poll_timer.stop()
        self.error = error = message.error
        text = Text("Nothing will be deleted: the listing failed.\n", style="bold red")
        text.append(f"{one_line(error.badge)} {one_line(error.operation)}: ")
        text.append(one_line(error.message))
        self.query_one("#review-stats", Static).update(text)

    def _draw_plan(self, plan: DeletePlan) -> None:
        now = self._clock()
        base = plan.base
        lines = Text()
        lines.append(plural(plan.count, "object"), style="bold")
        lines.append(f" · {size_text(plan.total_bytes)} ({plan.total_bytes:,} bytes)")
        lines.append(f" · {plan.examined:,} examined\n")
        lines.append(f"oldest {when_text(plan.oldest, now)}   newest {when_text(plan.newest, now)}")
        names = [one_line(p[len(base) :] or "(directly here)") for p in plan.prefixes]
        if names:
            more = len(names) - SHOWN_PREFIXES
            shown = ", ".join(names[:SHOWN_PREFIXES]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"\nprefixes affected ({len(names):,}): {shown}")
        for prefix in plan.whole_prefixes:
            lines.append(f"\nempties the whole prefix {one_line(prefix) or '(bucket root)'}")
        runs = runs_text(plan)
        if runs is not None:
            self.query_one("#review-runs-text", Static).update(runs)
            self.query_one("#review-runs", VerticalScroll).add_class("-shown")
        if plan.missing:
            verb = "exists" if len(plan.missing) == 1 else "exist"
            lines.append(f"\n{plural(len(plan.missing), 'marked key')} no longer {verb}")
        if self.versioning in ("Enabled", "Suspended"):
            lines.append(f"\nversioning {self.versioning}: deleting adds delete markers")
        elif self.versioning_note:
            lines.append(f"\n{self.versioning_note}", style="yellow")
        if not plan.count:
            lines.append("\nNothing matches: nothing to delete.", style="bold")
        self.query_one("#review-stats", Static).update(lines)
        table = self.query_one(DataTable)
        for item in plan.items[:SHOWN_KEYS]:
            rel = item.key[len(base) :] if item.key.startswith(base) else item.key
            table.add_row(
                Text(one_line(rel)),
                Text(size_text(item.size), justify="right"),
                short_age(item.last_modified, now),
            )
        if plan.count > SHOWN_KEYS:
            every = plural(plan.count, "key")
            shown = f"showing the first {SHOWN_KEYS:,} of {every} (all are deleted)"
        else:
            shown = f"{plural(plan.count, 'key')}, all shown" if plan.count else ""
        self.query_one("#review-shown", Static).update(Text(shown, style="dim"))
        self.query_one("#review-delete", Button).disabled = not plan.count
        self.refresh_bindings()
        table.focus()

    @property
    def dry_run(self) -> bool:
        """The dry-run switch."""
        return self.query_one("#review-dry", Checkbox).value

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Delete only once a non-empty plan is shown."""
        if action == "delete":
            return self.plan is not None and self.plan.count > 0
        return True

    def action_toggle_dry_run(self) -> None:
        """Switch dry run on or off."""
        box = self.query_one("#review-dry", Checkbox)
        box.value = not box.value

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        label = "Dry run…" if event.value else "Delete…"
        self.query_one("#review-delete", Button).label = label

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "review-delete":
            self.action_delete()
        else:
            self.action_back()

    def action_delete(self) -> None:
        """Confirm (not for a dry run), then hand the plan to the progress screen."""
        plan = self.plan
        if plan is None or not plan.count:
            return
        driver = self.target.conn.driver
        assert driver is not None
        where = self.target.uri
        if self.dry_run:
            self.dismiss(DeleteRequest(driver, plan, where, dry_run=True))
            return

        tracking = self.tracking

        def decided(decision: DeleteDecision | None) -> None:
            if decision is not None:
                request = DeleteRequest(
                    driver,
                    plan,
                    where,
                    purge_noncurrent=decision.purge_noncurrent,
                    mark_tracker=tracking if decision.mark_tracker else None,
                )
                self.dismiss(request)

        screen = DeleteConfirmScreen(plan, where, self.versioning, tracking)
        self.app.push_screen(screen, callback=decided)

    def action_back(self) -> None:
        """Back to the tree; a running listing is cancelled."""
        self._cancel.set()
        self.dismiss(None)
