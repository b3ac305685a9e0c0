"""The delete confirmation: the exact count, bytes and location, and what a delete means
on this bucket.

Above :data:`~pail.services.delete.plan.DEFAULT_CONFIRM_THRESHOLD` objects, or when a
whole prefix would be emptied (:meth:`DeletePlan.needs_typed_confirmation`), the delete
button stays disabled until the bucket name is typed exactly. On a versioned bucket the
dialog explains that a delete adds delete markers
(:func:`pail.services.versions.delete_explanation`) and offers the permanent deletion of
noncurrent versions under the same prefix as a separate choice: its own checkbox and its
own typed confirmation (``permanently``), never implied by the first.

With run rules and a tracking server (``MLFLOW_TRACKING_URI``) that knows the runs, it also
offers to mark the deleted MLflow runs deleted on the server (MLflow's ``runs/delete``,
:mod:`pail.services.runs.tracker_sync`), unticked by default: each run only once the store
confirmed all its objects deleted, so the tracker and the store agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Footer, Input, Static

from pail.core.text import one_line
from pail.core.units import plural, size_text
from pail.services.delete.plan import DeletePlan
from pail.services.runs.tracker_sync import partially_planned, tracker_runs
from pail.services.runs.tracking import TrackingServer
from pail.services.versions import delete_explanation

#: What must be typed to also delete noncurrent versions for good.
PURGE_WORD = "permanently"


@dataclass(frozen=True)
class DeleteDecision:
    """The user confirmed the delete; ``purge_noncurrent`` when they also chose (and
    typed the confirmation for) the permanent deletion of noncurrent versions;
    ``mark_tracker`` when they chose to mark the deleted MLflow runs deleted on the
    tracking server."""

    purge_noncurrent: bool = False
    mark_tracker: bool = False


class DeleteConfirmScreen(ModalScreen[DeleteDecision | None]):
    """Ask before deleting ``plan``.

    Args:
        plan: what would be deleted.
        where: the location shown (a URI; plain text).
        versioning: the bucket's versioning status (``"Enabled"``, ``"Suspended"``,
            ``None``).
        tracking: the tracking server the run rules consulted; with it, run rules and
            runs the server knows (``plan.runs.tracking``), marking the deleted MLflow runs
            deleted on it is offered (:func:`~pail.services.runs.tracker_sync.tracker_runs`).

    Dismisses with a :class:`DeleteDecision`, or ``None`` (escape, Cancel). The focus
    starts on the bucket-name field when one is needed, else on Cancel.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="delete_confirm.cancel")]

    def __init__(
        self,
        plan: DeletePlan,
        where: str,
        versioning: str | None,
        tracking: TrackingServer | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self.tracking = tracking
        tracked = (
            tracking is not None
            and plan.retention is not None
            and plan.runs is not None
            and bool(plan.runs.tracking)
        )
        #: The deleted MLflow runs that may be marked deleted on the tracking server
        #: (empty: nothing offered), and those the filters keep objects of (stay active).
        self.marking = tracker_runs(plan) if tracked else []
        self.partial = partially_planned(plan, self.marking) if tracked else []
        self._where = where
        self._versioning = versioning
        self.typed_needed = plan.needs_typed_confirmation()
        # The permanent purge works on the whole prefix: with run rules it would also take
        # the older versions of the runs the rules keep, so it is not offered then.
        self.versioned = versioning in ("Enabled", "Suspended") and plan.retention is None
        self.purge_withheld = versioning in ("Enabled", "Suspended") and not self.versioned

    def compose(self) -> ComposeResult:
        plan = self.plan
        with Vertical(id="delete-confirm-box", classes="modal-box"):
            title = Text(
                f"Delete {plural(plan.count, 'object')} ({size_text(plan.total_bytes)}, "
                f"{plan.total_bytes:,} bytes)?",
                style="bold",
            )
            yield Static(title, id="delete-confirm-title")
            where = Text.assemble("from ", (one_line(self._where), "bold"))
            where.append(f"\nbucket {one_line(plan.bucket)}")
            for prefix in plan.whole_prefixes[:3]:
                where.append(f"\nempties the whole prefix {one_line(prefix) or '(bucket root)'}")
            yield Static(where, id="delete-confirm-where")
            yield Static(Text(delete_explanation(self._versioning)), id="delete-confirm-explain")
            if self.typed_needed:
                reason = (
                    "more than 1,000 objects" if plan.count > 1000 else "a whole prefix is emptied"
                )
                yield Static(
                    Text(f"Type the bucket name to confirm ({reason}):"),
                    id="delete-confirm-ask",
                )
                yield Input(placeholder=plan.bucket, id="delete-confirm-bucket")
            if self.purge_withheld:
                yield Static(
                    Text(
                        "Noncurrent versions are not offered for deletion for good here: it "
                        "works on the whole prefix and would take the kept runs' older "
                        "versions too."
                    ),
                    id="delete-confirm-purge-withheld",
                )
            if self.marking and self.tracking is not None:
                # A checkbox label is one line: the server's URI and the rule go below it.
                label = Text(
                    f"Also mark the {plural(len(self.marking), 'MLflow run')} deleted on the "
                    "tracking server"
                )
                yield Checkbox(label, id="delete-confirm-tracker")
                yield Static(
                    Text(
                        f"{one_line(self.tracking.uri)} (runs/delete): each run once the store "
                        "confirmed all its objects deleted",
                        style="dim",
                    ),
                    id="delete-confirm-tracker-note",
                )
            if self.partial:
                verb = "stays" if len(self.partial) == 1 else "stay"
                yield Static(
                    Text(
                        f"{plural(len(self.partial), 'MLflow run')} {verb} active in the "
                        "tracker: the filters keep some of their objects.",
                        style="dim",
                    ),
                    id="delete-confirm-tracker-partial",
                )
            if self.versioned:
                yield Checkbox(
                    "Also delete the noncurrent versions under it for good (cannot be undone)",
                    id="delete-confirm-purge",
                )
                yield Input(
                    placeholder=f"type {PURGE_WORD} to confirm",
                    id="delete-confirm-purge-word",
                    disabled=True,
                )
            with Horizontal(classes="modal-buttons"):
                yield Button("Delete", variant="error", id="delete-confirm-yes")
                yield Button("Cancel", id="delete-confirm-no")
        yield Footer()

    def on_mount(self) -> None:
        self._update()
        if self.typed_needed:
            self.query_one("#delete-confirm-bucket", Input).focus()
        else:
            self.query_one("#delete-confirm-no", Button).focus()

    @property
    def purge_chosen(self) -> bool:
        """The permanent-deletion checkbox is ticked."""
        return self.versioned and self.query_one("#delete-confirm-purge", Checkbox).value

    @property
    def mark_chosen(self) -> bool:
        """The box to mark the deleted runs deleted on the tracking server is ticked."""
        if not self.marking or self.tracking is None:
            return False
        return self.query_one("#delete-confirm-tracker", Checkbox).value

    def _allowed(self) -> bool:
        typed = self.query_one("#delete-confirm-bucket", Input).value if self.typed_needed else ""
        if self.typed_needed and typed != self.plan.bucket:
            return False
        if self.purge_chosen:
            word = self.query_one("#delete-confirm-purge-word", Input).value.strip()
            return word == PURGE_WORD
        return True

    def _update(self) -> None:
        self.query_one("#delete-confirm-yes", Button).disabled = not self._allowed()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._update()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._allowed():
            self._confirm()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.checkbox.id != "delete-confirm-purge":
            self._update()
            return
        word = self.query_one("#delete-confirm-purge-word", Input)
        word.disabled = not event.value
        if event.value:
            word.focus()
        self._update()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "delete-confirm-yes":
            self._confirm()
        else:
            self.dismiss(None)

    def _confirm(self) -> None:
        if self._allowed():  # a disabled button cannot be pressed; enter is checked here
            self.dismiss(
                DeleteDecision(purge_noncurrent=self.purge_chosen, mark_tracker=self.mark_chosen)
            )

    def action_cancel(self) -> None:
        """Close without deleting."""
        self.dismiss(None)
