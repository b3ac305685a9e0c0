"""The delete progress screen: a bar with the rate while batches run, then the outcome.

It runs a :class:`pail.services.delete.engine.Deleter` (DeleteObjects batches of up to 1,000
keys, several in flight, on the deleter's own threads) and reads its progress snapshot
every :data:`POLL_SECONDS`. ``x`` cancels: no new batch starts, the batches in flight
finish and are reported. When it is over the rate goes and a summary stays: keys deleted
(only those the store confirmed: named in S3's ``Deleted`` list), every failed key with
its error code (S3 answers DeleteObjects with 200 and per-key AccessDenied errors: those
keys are failures, never counted as deleted; a key the reply did not name is
``NotConfirmed``), keys not attempted after a cancel. A dry run says that nothing was
deleted. When the permanent deletion of noncurrent versions was chosen it runs after the
delete, in a worker, and its result is added. When marking the deleted MLflow runs
deleted on the tracking server was chosen (:mod:`pail.services.runs.tracker_sync`), it runs
after a delete that was not cancelled, in a worker: each run once the store confirmed all
its objects deleted; the runs marked, unknown to the server, not marked and why, and those
the server refused are added. ``r`` then asks the store again whether
the keys reported deleted are gone (:func:`pail.services.delete.verify.verify_deleted`)
and lists any still present.

Escape returns to the tree, which lists the affected levels again.
"""

from __future__ import annotations

import threading

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, ProgressBar, Static

from pail.core.text import one_line
from pail.core.units import plural, size_text
from pail.services.delete.engine import Deleter, DeleteReport
from pail.services.delete.verify import VerifyCancelled, VerifyResult, verify_deleted
from pail.services.runs.retention import RunVerdict
from pail.services.runs.tracker_sync import TrackerMarks, mark_deleted, tracker_runs
from pail.services.versions import delete_noncurrent, plan_noncurrent
from pail.ui.messages import DeleteRequest, PurgeFinished, TrackerMarked, WorkFailed
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

#: Seconds between two reads of the progress snapshot.
POLL_SECONDS = 0.2
#: Runs named in each line of the tracker's result before "and N more".
SHOWN_MARKED = 20


class DeleteProgressScreen(KeysExplained, Screen[DeleteReport | None]):
    """Runs and shows one delete.

    Args:
        request: the plan, the driver, dry run and purge choices.
        deleter: the engine to run (default: a new :class:`Deleter` for the request);
            tests pass one.

    Dismisses with the :class:`DeleteReport` (``None`` if it never ran).
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="delete_progress.close"),
        Binding(
            "x",
            "cancel",
            "Cancel",
            tooltip="Stop after the batches in flight",
            id="delete_progress.cancel",
        ),
        Binding(
            "r",
            "verify",
            "Re-check",
            tooltip="Ask the store again whether the deleted keys are gone",
            id="delete_progress.verify",
        ),
    ]

    DEFAULT_CSS = """
    #del-tracker {
        padding: 0 2;
        height: auto;
        margin-bottom: 1;
    }
    """

    WHY_NOT = {
        "cancel": "the delete has finished",
        "verify": "once a delete (not a dry run) has confirmed keys, and not while re-checking",
    }

    def __init__(self, request: DeleteRequest, *, deleter: Deleter | None = None) -> None:
        super().__init__()
        self.request = request
        self.deleter = deleter or Deleter(request.driver, request.plan, dry_run=request.dry_run)
        self.report: DeleteReport | None = None
        self.purge = None
        self.purge_error = ""
        self._purge_cancel = threading.Event()
        self.marks: TrackerMarks | None = None
        self.mark_error = ""
        self._marking = False
        self._mark_cancel = threading.Event()
        self.verify_result: VerifyResult | None = None
        self._verifying = False
        self._verify_cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="del-title")
        yield ProgressBar(show_eta=False, id="del-bar")
        yield Static(id="del-stats")
        yield Static(id="del-summary")
        yield Static(id="del-tracker")
        yield Static(id="del-verify")
        table: DataTable[Text | str] = DataTable(id="del-failures", cursor_type="row")
        table.add_column("failed key", key="key")
        table.add_column("code", key="code")  # as wide as the longest (SignatureDoesNotMatch)
        table.add_column("message", key="message")
        yield table
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Dry run" if self.request.dry_run else "Deleting"
        self._title("Dry run of deleting" if self.request.dry_run else "Deleting")
        self.query_one(DataTable).display = False
        self.query_one("#del-verify", Static).display = False  # shown once r is pressed
        self.query_one("#del-tracker", Static).display = False  # shown once runs are marked
        # The timer first: a dry run (or a fast store) may be finished by the first poll,
        # which stops it.
        self._timer = self.set_interval(POLL_SECONDS, self.poll)
        self.deleter.start()
        self.poll()

    def _title(self, verb: str) -> None:
        plan = self.request.plan
        title = Text.assemble(
            (
                f"{verb} {plural(plan.count, 'object')} ({size_text(plan.total_bytes)}) from ",
                "bold",
            ),
            one_line(self.request.where),
        )
        self.query_one("#del-title", Static).update(title)

    @property
    def finished(self) -> bool:
        """Everything (delete, and the purge or the tracker's marking if chosen) is over
        and drawn."""
        purging = self.request.purge_noncurrent and not self.request.dry_run
        done_purge = self.purge is not None or bool(self.purge_error)
        if self.report is None or (purging and not done_purge):
            return False
        return not self._marking

    def poll(self) -> None:
        """Redraw from the deleter's snapshot (called by the timer)."""
        if self.report is not None:
            return
        p = self.deleter.progress()
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, p.total), progress=p.deleted + p.failed)
        if not p.finished:
            text = (
                f"{p.deleted:,} deleted · {p.failed:,} failed · of {p.total:,} · "
                f"{p.rate:,.0f} keys/s · batch {p.batches_done:,}/{p.batches_total:,}"
            )
            if p.cancelled:
                text += f" · cancelling: {plural(p.in_flight, 'key')} in flight…"
            self.query_one("#del-stats", Static).update(Text(text))
            return
        self.report = self.deleter.report()
        self._timer.stop()
        self.sub_title = "Dry run result" if self.request.dry_run else "Delete result"
        self._title("Dry run of deleting" if self.request.dry_run else "Delete of")
        self._draw_report(self.report)
        self.refresh_bindings()
        if self.request.purge_noncurrent and not self.request.dry_run and not p.cancelled:
            self._start_purge()
        if self.request.mark_tracker is not None and not self.request.dry_run:
            self._start_marking(cancelled=p.cancelled)

    def _draw_report(self, report: DeleteReport) -> None:
        plan = self.request.plan
        if report.dry_run:
            head = Text(
                f"Dry run: {plural(report.deleted, 'object')} "
                f"({size_text(report.deleted_bytes)}) would be deleted. Nothing was deleted.",
                style="bold",
            )
        else:
            head = Text(
                f"Deleted {report.deleted:,} of {plural(plan.count, 'object')} "
                f"({size_text(report.deleted_bytes)}).",
                style="bold green" if report.ok else "bold",
            )
        stats = []
        if report.failed:
            codes = ", ".join(f"{n:,} {c}" for c, n in sorted(report.failure_codes().items()))
            stats.append(
                Text(f"{len(report.failed):,} failed: {one_line(codes)}", style="bold red")
            )
        if report.in_flight:
            stats.append(
                Text(
                    f"{report.in_flight:,} unconfirmed (no answer yet: they may or may not be "
                    "deleted)",
                    style="yellow",
                )
            )
        if report.not_attempted:
            stats.append(Text(f"{report.not_attempted:,} not attempted (cancelled)"))
        self.query_one("#del-stats", Static).update(Text("\n").join([head, *stats]))
        if report.failed:
            table = self.query_one(DataTable)
            table.display = True
            for failure in report.failed:
                table.add_row(
                    Text(one_line(failure.key)),
                    Text(one_line(failure.code), style="bold red"),
                    Text(one_line(failure.message)),
                )

    def _start_purge(self) -> None:
        request, cancel = self.request, self._purge_cancel
        self.query_one("#del-summary", Static).update(
            Text("Deleting noncurrent versions for good…")
        )

        def work() -> PurgeFinished:
            driver = request.driver
            plan = plan_noncurrent(driver, request.plan.bucket, request.plan.base)
            return PurgeFinished(delete_noncurrent(driver, plan, cancel=cancel))

        start_io(self, work, target=request, generation=0, group="delete-purge")

    def on_purge_finished(self, message: PurgeFinished) -> None:
        message.stop()
        report = message.report
        self.purge = report
        text = Text(
            f"Noncurrent versions deleted for good: {len(report.deleted):,} "
            f"({size_text(report.bytes_deleted)})"
        )
        if report.failed:
            text.append(f", {len(report.failed):,} failed", style="bold red")
            for failure in report.failed[:20]:
                text.append(
                    f"\n  {one_line(failure.key)} {one_line(failure.version_id)}: "
                    f"{one_line(failure.code)}",
                    style="red",
                )
        self.query_one("#del-summary", Static).update(text)
        self.refresh_bindings()

    def _start_marking(self, *, cancelled: bool) -> None:
        """Mark the plan's deleted MLflow runs deleted on the tracking server (in a worker);
        after a cancelled delete, say that none was marked."""
        request, cancel = self.request, self._mark_cancel
        tracking, report = request.mark_tracker, self.report
        runs = tracker_runs(request.plan)
        shown = self.query_one("#del-tracker", Static)
        if tracking is None or report is None or not runs:
            return
        shown.display = True
        where = one_line(tracking.uri)
        if cancelled:
            shown.update(Text(f"No run was marked deleted on {where}: the delete was cancelled."))
            return
        self._marking = True
        shown.update(Text(f"Marking {plural(len(runs), 'MLflow run')} deleted on {where}…"))

        def work() -> TrackerMarked:
            return TrackerMarked(mark_deleted(tracking, request.plan, report, runs, cancel=cancel))

        start_io(self, work, target=request, generation=0, group="delete-tracker")

    def on_tracker_marked(self, message: TrackerMarked) -> None:
        message.stop()
        self._marking = False
        self.marks = message.marks
        self.query_one("#del-tracker", Static).update(marks_text(message.marks))
        self.refresh_bindings()

    def show_failure(self, message: WorkFailed) -> None:
        """The noncurrent-version listing, or the tracker's marking, failed (called by
        the app's error route)."""
        error = message.error
        if self._marking:  # mark_deleted never raises for the server: a bug, still shown
            self._marking = False
            self.mark_error = f"{error.badge} {error.operation}: {error.message}"
            text = Text(f"Runs not marked deleted: {one_line(self.mark_error)}", style="red")
            self.query_one("#del-tracker", Static).update(text)
            self.refresh_bindings()
            return
        self.purge_error = f"{error.badge} {error.operation}: {error.message}"
        text = Text(f"Noncurrent versions not deleted: {one_line(self.purge_error)}", style="red")
        self.query_one("#del-summary", Static).update(text)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel only while running; verify once a real delete confirmed keys."""
        if action == "cancel":
            return self.report is None
        if action == "verify":
            report = self.report
            return (
                report is not None
                and not report.dry_run
                and bool(report.confirmed)
                and not self._verifying
            )
        return True

    def action_verify(self) -> None:
        """Ask the store again whether every key reported deleted is gone (in a worker)."""
        report = self.report
        if report is None or report.dry_run or not report.confirmed or self._verifying:
            return
        self._verifying = True
        self.refresh_bindings()
        shown = self.query_one("#del-verify", Static)
        shown.display = True
        shown.update(Text("Verifying with the store…"))
        driver, bucket, cancel = self.request.driver, self.request.plan.bucket, self._verify_cancel
        keys = list(report.confirmed)

        def work() -> None:
            try:
                result = verify_deleted(driver, bucket, keys, cancel=cancel)
            except VerifyCancelled:
                return None
            except Exception as exc:  # shown here, never routed as a purge failure
                result = VerifyResult(errors=[f"{type(exc).__name__}: {exc}"], unchecked=len(keys))
            self.app.call_from_thread(self.show_verify, result)
            return None

        start_io(self, work, target=self.request, generation=0, group="delete-verify")

    def show_verify(self, result: VerifyResult) -> None:
        """Draw the verification's outcome (keys still present listed, plain text)."""
        if not self.is_attached:
            return
        self._verifying = False
        self.verify_result = result
        if result.ok:
            verb = "is" if result.checked == 1 else "are"
            text = Text(
                f"Verified: the {plural(result.checked, 'key')} reported deleted {verb} gone.",
                style="bold green",
            )
        else:
            text = Text()
            if result.present:
                verb = "is" if len(result.present) == 1 else "are"
                text.append(
                    f"{len(result.present):,} of {plural(result.checked, 'key')} reported "
                    f"deleted {verb} still present:",
                    style="bold red",
                )
                for item in result.present[:20]:
                    text.append(f"\n  {one_line(item.key)}")
                    if item.rewritten:
                        text.append(" (written again after the plan)", style="dim")
                if len(result.present) > 20:
                    text.append(f"\n  and {len(result.present) - 20:,} more")
            if result.errors:
                if text:
                    text.append("\n")
                text.append(
                    f"{plural(result.unchecked, 'key')} could not be checked: "
                    f"{one_line(result.errors[0])}",
                    style="yellow",
                )
        self.query_one("#del-verify", Static).update(text)
        self.refresh_bindings()

    def action_cancel(self) -> None:
        """Start no further batch; those in flight finish and are reported."""
        self.deleter.cancel()
        self._purge_cancel.set()
        self._mark_cancel.set()

    def action_close(self) -> None:
        """Back to the tree (a running delete is cancelled first)."""
        if self.report is None:
            self.deleter.cancel()
        self._purge_cancel.set()
        self._verify_cancel.set()
        self._mark_cancel.set()
        self.dismiss(self.report)


def _names(verdicts: list[RunVerdict]) -> str:
    """``"old (a1b2…), mid"``: the runs' names, each with its id's start when it differs;
    at most :data:`SHOWN_MARKED`, then "and N more"."""
    names = []
    for verdict in verdicts[:SHOWN_MARKED]:
        run = verdict.run
        short = run.id if len(run.id) <= 8 else run.id[:8] + "…"
        names.append(
            one_line(run.name) if run.id == run.name else f"{one_line(run.name)} ({short})"
        )
    if len(verdicts) > SHOWN_MARKED:
        names.append(f"and {len(verdicts) - SHOWN_MARKED:,} more")
    return ", ".join(names)


def marks_text(marks: TrackerMarks) -> Text:
    """The tracker's part of the result (plain text from the store and the server): runs
    marked deleted, unknown to the server, not marked because their objects are not all
    gone (with how many), not asked (cancelled), and refused (with the server's words)."""
    where = one_line(marks.server)
    lines: list[Text] = []
    if marks.marked:
        lines.append(
            Text(
                f"Marked {plural(len(marks.marked), 'run')} deleted on {where}: "
                + _names(marks.marked),
                style="bold green",
            )
        )
    if marks.unknown:
        lines.append(
            Text(
                f"{plural(len(marks.unknown), 'run')} unknown to {where}, nothing to mark: "
                + _names(marks.unknown)
            )
        )
    if marks.waiting:
        waiting = "; ".join(
            f"{_names([w.verdict])} ({plural(w.left, 'object')} not confirmed deleted)"
            for w in marks.waiting[:SHOWN_MARKED]
        )
        if len(marks.waiting) > SHOWN_MARKED:
            waiting += f"; and {len(marks.waiting) - SHOWN_MARKED:,} more"
        lines.append(
            Text(
                f"Not marked deleted on {where}, their objects are not all gone: {waiting}",
                style="yellow",
            )
        )
    if marks.not_asked:
        lines.append(
            Text(
                f"Not marked deleted on {where} (cancelled): " + _names(marks.not_asked),
                style="yellow",
            )
        )
    if marks.errors:
        verb = "was" if len(marks.errors) == 1 else "were"
        lines.append(
            Text(
                f"{plural(len(marks.errors), 'run')} {verb} not marked deleted on {where}:",
                style="bold red",
            )
        )
        for error in marks.errors[:SHOWN_MARKED]:
            lines.append(
                Text(f"  {_names([error.verdict])}: {one_line(error.message)}", style="red")
            )
    if not lines:
        lines.append(Text(f"No run to mark deleted on {where}."))
    return Text("\n").join(lines)
