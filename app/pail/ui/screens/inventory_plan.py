"""A stale plan from an inventory report, re-checked live (``z`` in the inventory view).

The report narrows; the store decides. :func:`pail.services.inventory.plan.
plan_from_inventory` runs in a worker with its progress on screen ("reading the report:
120,000 rows", "re-checking 1,200 of 3,400 keys live…"; ``x`` stops, and no plan is made
from half a check). Then the screen gives the short outcome:

* what the report alone selected (keys, bytes), and how the candidates were re-checked;
* the keys planned: unchanged since the report, with their live size and time;
* the keys left alone, each with why ("gone", "ETag differs", "modified … after the
  report"), listed below;
* a lifecycle rule that does the same by the store at any scale, when one can (``L``
  opens the lifecycle screen filled with it), or why none can.

``X`` reviews the planned keys in the usual delete review
(:class:`InventoryReviewScreen`: the same screen, given the plan instead of listing);
the confirmation and the progress are the usual ones, so the tree's levels are listed
again afterwards. Nothing here deletes.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from pail.core.text import one_line
from pail.core.units import plural, size_text
from pail.drivers.errors import StorageError
from pail.services import lifecycle as lc
from pail.services.delete.plan import DeletePlan, PlanCancelled
from pail.services.inventory.model import InventoryError
from pail.services.inventory.plan import InventoryPlan, plan_from_inventory
from pail.services.locations import location_in
from pail.services.runs.detect import TooManyObjects
from pail.services.runs.model import NoRunsFound
from pail.services.runs.retention import RetentionError
from pail.services.runs.tracking import TrackingServer
from pail.services.versions import versioning_status
from pail.ui.cleanup_ops import Clock, DeleteTarget
from pail.ui.messages import DeleteRequest, InventoryPlanned, PlanReady, WorkFailed
from pail.ui.nodes import NodeData
from pail.ui.screens.delete_review import DeleteReviewScreen, filters_text
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.screens.lifecycle import LifecycleScreen
from pail.ui.screens.stale_filter import FilterChoice
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

if TYPE_CHECKING:  # DuckDB is imported when a report is opened, not with the app
    from pail.services.inventory.query import Inventory
    from pail.ui.screens.inventory import RunDelete

#: Seconds between two redraws of the progress.
POLL_SECONDS = 0.2
#: Keys left alone listed at most (all are counted).
SHOWN_CHANGED = 2000

_STAGES = {"report": "reading the report", "recheck": "re-checking"}


def progress_line(stage: str, done: int, total: int) -> str:
    """``"re-checking 1,200 of 3,400 keys live…"``, ``"reading the report: 120,000
    rows…"``."""
    if stage == "recheck":
        return f"re-checking {done:,} of {plural(total, 'key')} live…"
    if stage == "report":
        return f"reading the report: {plural(done, 'row')}…"
    if not stage:
        return "planning…"
    counts = f" {done:,} of {total:,}" if total else f" {done:,}" if done else ""
    return f"{_STAGES.get(stage, one_line(stage))}{counts}…"


def outcome_text(outcome: InventoryPlan, uri: str) -> Text:
    """The plan's short outcome (plain text from the store): selected, planned, left
    alone, the lifecycle offer."""
    plan = outcome.plan
    text = Text()
    text.append("The report selects ", style="bold")
    text.append(f"{plural(outcome.candidates, 'object')} · {size_text(outcome.candidate_bytes)}")
    text.append(f" under {one_line(uri)}")
    if outcome.recheck:
        text.append(f"\nre-checked live: {one_line(outcome.recheck)}", style="dim")
    text.append("\n")
    text.append("Planned: ", style="bold green")
    text.append(
        f"{plural(plan.count, 'key')} unchanged since the report · {size_text(plan.total_bytes)}"
        " (live sizes)"
    )
    changed = len(outcome.changed)
    text.append("\n")
    if changed:
        text.append("Left alone: ", style="bold yellow")
        verb = "has" if changed == 1 else "have"
        text.append(f"{plural(changed, 'key')} {verb} changed since the report (listed below)")
    else:
        text.append("Left alone: none: every candidate is as the report says", style="dim")
    text.append("\n")
    if outcome.lifecycle:
        text.append("Lifecycle: ", style="bold")
        text.append("a rule does the same by the store, at any scale (L): ")
        text.append("; ".join(one_line(lc.rule_summary(rule)) for rule in outcome.lifecycle))
        for note in outcome.lifecycle_notes:
            text.append(f"\n  {one_line(note)}", style="dim")
    elif outcome.lifecycle_refused:
        text.append("No lifecycle rule: ", style="bold")
        text.append("; ".join(one_line(why) for why in outcome.lifecycle_refused))
    return text


class InventoryPlanScreen(KeysExplained, Screen[None]):
    """Plan from ``inventory`` under ``base`` with ``choice``'s filters, re-checked live
    against ``level``'s connection (see the module doc).

    Args:
        inventory: the opened report of ``level``'s bucket.
        level: the tree node the inventory view was opened on (its connection open).
        base: the prefix planned from.
        choice: the stale filter (parsed filters and the texts typed).
        clock: "now" (UTC): ages count from it, as a live plan's do.
        run_delete: runs a reviewed delete (the main screen's).

    Attributes:
        outcome: the plan, once made (``None`` before, or when refused).
        problem: why there is no plan (plain text), or ``""``.
        sent: the plan was handed to a delete (or a dry run).
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="inventory_plan.close"),
        Binding(
            "x",
            "cancel",
            "Stop",
            tooltip="Stop planning (no plan is made from half a check)",
            id="inventory_plan.cancel",
        ),
        Binding(
            "X",
            "delete",
            "Delete…",
            key_display="X",
            tooltip="Review deleting the keys planned (unchanged since the report)",
            id="inventory_plan.delete",
        ),
        Binding(
            "L",
            "lifecycle",
            "Lifecycle…",
            key_display="L",
            tooltip="Open the lifecycle screen with the rule that does the same",
            id="inventory_plan.lifecycle",
        ),
    ]

    DEFAULT_CSS = """
    InventoryPlanScreen {
        #iplan-title, #iplan-stats, #iplan-foot { padding: 0 1; height: auto; }
        #iplan-changed { height: 1fr; margin: 0 1; }
    }
    """

    def __init__(
        self,
        inventory: Inventory,
        level: NodeData,
        base: str,
        choice: FilterChoice,
        clock: Clock,
        *,
        run_delete: RunDelete,
    ) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.inventory = inventory
        self.level = level
        self.bucket = level.bucket
        self.base = base
        self.choice = choice
        filters = choice.filters
        self.filters = filters if filters.now is not None else replace(filters, now=clock())
        self._clock = clock
        self._run_delete = run_delete
        self.outcome: InventoryPlan | None = None
        self.problem = ""
        self.planning = False
        self.sent = False
        self._cancel = threading.Event()
        self._progress: tuple[str, int, int] = ("", 0, 0)

    @property
    def uri(self) -> str:
        """The URI of the prefix planned from."""
        return location_in(self.level.conn.spec, self.bucket, self.base).uri

    def compose(self) -> ComposeResult:
        report = self.inventory.report
        title = Text.assemble(
            ("Stale plan under ", "bold"),
            one_line(self.uri),
            (f" from the {report.label} · ", "bold"),
            ("snapshot, re-checked live", "bold reverse"),
        )
        title.append(f"\nfilter: {one_line(filters_text(self.filters))}", style="dim")
        yield Header(icon="◆")
        yield Static(title, id="iplan-title")
        yield Static(id="iplan-stats")
        table: DataTable[Text | str] = DataTable(id="iplan-changed", cursor_type="row")
        table.add_column("left alone", key="key")
        table.add_column("why", key="why")
        yield table
        yield Static(id="iplan-foot")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Plan from the inventory"
        self.query_one(DataTable).display = False
        self._timer = self.set_interval(POLL_SECONDS, self._poll)
        inventory, driver = self.inventory, self.level.conn.driver
        assert driver is not None
        bucket, base, filters, cancel = self.bucket, self.base, self.filters, self._cancel

        def progress(stage: str, done: int, total: int) -> None:
            self._progress = (stage, done, total)  # read by the poll timer

        def work() -> InventoryPlanned:
            try:
                # As the live plan: runs behind a registered model version are kept.
                tracking = TrackingServer.from_env() if filters.retention is not None else None
                outcome = plan_from_inventory(
                    inventory,
                    driver,
                    bucket,
                    base=base,
                    filters=filters,
                    cancel=cancel,
                    on_progress=progress,
                    tracking=tracking,
                )
            except PlanCancelled:
                return InventoryPlanned(None, "stopped")
            except (InventoryError, NoRunsFound, RetentionError, TooManyObjects) as exc:
                return InventoryPlanned(None, str(exc))  # refused: say why, plan nothing
            return InventoryPlanned(outcome)

        self.planning = True
        start_io(self, work, target=self.level, generation=0, group="inventory-plan")
        self._poll()

    def _poll(self) -> None:
        if not self.planning:
            return
        line = Text(progress_line(*self._progress))
        line.append("   x stops", style="dim")
        self.query_one("#iplan-stats", Static).update(line)

    def on_inventory_planned(self, message: InventoryPlanned) -> None:
        message.stop()
        self.planning = False
        self._timer.stop()
        if message.outcome is None:
            self._refuse(message.problem)
        else:
            self._show(message.outcome)
        self.refresh_bindings()

    def show_failure(self, message: WorkFailed) -> None:
        """A live lookup or listing failed (the app's error route): no plan at all."""
        self.planning = False
        self._timer.stop()
        error = message.error
        what = f"{error.badge} {error.operation}: {error.message}"
        self._refuse(f"the live re-check failed: {what}")
        self.refresh_bindings()

    def _refuse(self, problem: str) -> None:
        self.problem = problem
        if problem == "stopped":
            text = Text("Stopped: no plan is made from part of a check.", style="bold")
        else:
            text = Text("Nothing will be deleted: ", style="bold red")
            text.append(one_line(problem))
        self.query_one("#iplan-stats", Static).update(text)

    def _show(self, outcome: InventoryPlan) -> None:
        self.outcome = outcome
        self.query_one("#iplan-stats", Static).update(outcome_text(outcome, self.uri))
        table = self.query_one(DataTable)
        table.clear()
        cut = len(self.base)
        for changed in outcome.changed[:SHOWN_CHANGED]:
            rel = changed.key[cut:] if changed.key.startswith(self.base) else changed.key
            table.add_row(Text(one_line(rel)), Text(one_line(changed.why)), key=changed.key)
        table.display = bool(outcome.changed)
        foot = Text(style="dim")
        if len(outcome.changed) > SHOWN_CHANGED:
            foot.append(f"the first {SHOWN_CHANGED:,} of {len(outcome.changed):,} are listed · ")
        keys = []
        if outcome.plan.count:
            keys.append("X reviews the delete")
        if outcome.lifecycle:
            keys.append("L opens the lifecycle rule")
        foot.append(" · ".join(keys) or "nothing to delete")
        self.query_one("#iplan-foot", Static).update(foot)
        if outcome.changed:
            table.focus()

    # -- commands --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Stop while planning; review a non-empty plan once; lifecycle when offered."""
        if action == "cancel":
            return self.planning
        if action == "delete":
            return self.outcome is not None and self.outcome.plan.count > 0 and not self.sent
        if action == "lifecycle":
            return self.outcome is not None and bool(self.outcome.lifecycle)
        return True

    def why_not(self, action: str) -> str:
        """Why ``action`` does nothing now (plain text)."""
        if action == "cancel":
            return "planning has finished"
        if self.planning:
            return "the plan is being made (x stops)"
        if self.outcome is None:
            return "there is no plan"
        if action == "delete":
            if self.sent:
                return "this plan was handed to a delete already: z plans again"
            return "no key is planned"
        if action == "lifecycle":
            return "no lifecycle rule can do this (the reason is above)"
        return super().why_not(action)

    def action_cancel(self) -> None:
        """Stop planning (the report's query is interrupted too)."""
        self._cancel.set()
        self.inventory.interrupt()

    def action_delete(self) -> None:
        """The usual delete review, with the keys planned."""
        outcome = self.outcome
        if outcome is None or not outcome.plan.count or self.sent:
            return
        target = DeleteTarget(
            conn=self.level.conn,
            bucket=self.bucket,
            base=self.base,
            prefixes=(),
            objects=(),
            items=(self.level,),
            uri=self.uri,
        )
        review = InventoryReviewScreen(target, outcome, self._clock)

        def reviewed(request: DeleteRequest | None) -> None:
            if request is None:
                return
            self.sent = True
            what = "Dry run of" if request.dry_run else "Deleting"
            note = Text(f"\n{what} the planned keys: ", style="bold")
            note.append(
                "the report is a snapshot and still lists them until the store's next report.",
                style="dim",
            )
            stats = self.query_one("#iplan-stats", Static)
            stats.update(outcome_text(outcome, self.uri) + note)
            self.refresh_bindings()
            self._run_delete(request, target)

        self.app.push_screen(review, callback=reviewed)

    def action_lifecycle(self) -> None:
        """The lifecycle screen, filled with the stale filter under the planned prefix."""
        if self.outcome is None or not self.outcome.lifecycle:
            return
        texts = {**self.choice.texts, "prefix": self.base}
        self.app.push_screen(LifecycleScreen(self.level, texts))

    def action_close(self) -> None:
        """Back to the inventory view (planning is stopped)."""
        self.action_cancel()
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()


class InventoryReviewScreen(DeleteReviewScreen):
    """The delete review (:class:`~pail.ui.screens.delete_review.DeleteReviewScreen`,
    same keys and confirmation) of a plan made from an inventory report and re-checked
    live: it shows ``outcome.plan`` as it is instead of listing the store again.

    The review plans its target in a worker when it mounts; the target here names no
    prefix and no key, so that plan is empty at once (nothing is listed), and when it
    arrives it is replaced by ``outcome.plan``, after the bucket's versioning status is
    read (in a worker, as the review does).

    Args:
        target: where (``target.uri`` in the title; the tree's levels listed again after).
        outcome: the plan from the report.
        clock: "now" (UTC) for ages.
    """

    def __init__(self, target: DeleteTarget, outcome: InventoryPlan, clock: Clock) -> None:
        assert not target.prefixes and not target.objects, "the plan is given: nothing to list"
        super().__init__(target, outcome.plan.filters, clock, tracking=lambda: None)
        self.outcome = outcome

    def on_plan_ready(self, message: PlanReady) -> None:
        plan = self.outcome.plan
        if message.plan is plan:
            return  # DeleteReviewScreen.on_plan_ready draws it
        message.prevent_default()  # the empty plan of nothing is not drawn
        message.stop()
        self._poll_timer.stop()
        title = Text.assemble(("Delete from ", "bold"), one_line(self.target.uri))
        title.append(f"\nfilter: {filters_text(self.filters)}", style="dim")
        changed = plural(len(self.outcome.changed), "changed key")
        title.append(
            f"\nplanned from the {self.outcome.report.label}, every key re-checked live; "
            f"{changed} left alone",
            style="dim",
        )
        self.query_one("#review-title", Static).update(title)
        self.query_one("#review-stats", Static).update(Text("Reading the bucket's versioning…"))
        driver, bucket = self.target.conn.driver, self.target.bucket
        assert driver is not None

        def work() -> PlanReady:
            return PlanReady(plan, *_versioning(driver, bucket, plan))

        start_io(self, work, target=self.target, generation=0, group="inventory-review")


def _versioning(driver, bucket: str, plan: DeletePlan) -> tuple[str | None, str]:
    """The bucket's versioning status (``None`` and why when it cannot be read)."""
    if not plan.count:
        return None, ""
    try:
        return versioning_status(driver, bucket), ""
    except StorageError as exc:  # the delete still works; say it is unknown
        return None, f"versioning unknown ({exc.badge})"


__all__ = [
    "InventoryPlanScreen",
    "InventoryReviewScreen",
    "outcome_text",
    "progress_line",
]
