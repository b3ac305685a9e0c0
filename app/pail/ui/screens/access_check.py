"""The access check screen (``a`` on a bucket or prefix): what this identity may do here.

One row per capability (:func:`pail.services.access.check.check_access`), probed live in a
worker; each row appears as its probe answers: ✔ allowed, ✘ denied, ? not checked,
! error. Write probes (PutObject/DeleteObject on a probe key under the prefix, always
removed; reported with its full key when the delete is denied) run only after the user
allows them with ``w``, which re-runs the check.

Below the table, the row at the cursor: error code, HTTP status, request id, the IAM
action and resource a policy must grant, what the failure usually means
(:mod:`pail.services.explain`) and the policy statement that grants exactly that action
on exactly this bucket/prefix (:mod:`pail.services.access.policy`). ``c`` copies that policy (on
a row that is not denied: the policy for every missing action), ``y`` copies the whole
plain-text report (:func:`pail.services.access.report.report_text`), ``ctrl+s`` saves it.
Neither the screen nor the report ever holds a secret.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Static

from pail.core.text import one_line
from pail.core.units import plural
from pail.credentials import Resolved
from pail.drivers.base import StorageDriver
from pail.services.access.check import (
    AccessReport,
    Capability,
    ProbeRow,
    check_access,
    s3_capabilities,
)
from pail.services.access.policy import report_policy_text
from pail.services.access.report import credentials_line, identity_line, report_text
from pail.services.explain import explain, explain_report
from pail.ui.access_text import (
    explanation_text,
    report_filename,
    row_fields,
    row_policy_text,
    save_report,
)
from pail.ui.clipboard import copy_text
from pail.ui.messages import AccessChecked, ProbeAnswered, WorkFailed
from pail.ui.text import literal, literal_block
from pail.ui.widgets.access_table import AccessTable
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

WRITE_NOTE = (
    "Write probes put one small object {key}.pail-probe-… under the prefix and always "
    "delete it again; if DeleteObject is denied, the key left behind is reported in full."
)


@dataclass(frozen=True)
class AccessTarget:
    """Where to check and with what.

    Attributes:
        uri: what the heading shows (``s3://bucket/prefix``).
        bucket, prefix: the probed location (``prefix`` may be ``""``).
        driver: the connection's open driver.
        resolved: the credentials in use (source and masked key id), if known.
        connection: the connection's name.
    """

    uri: str
    bucket: str
    prefix: str
    driver: StorageDriver
    resolved: Resolved | None
    connection: str


def capabilities_for(provider: str, bucket: str, prefix: str) -> list[Capability]:
    """The rows an access check will fill, in display order ([] for local folders)."""
    if provider == "s3":
        return s3_capabilities(bucket, prefix)
    if provider == "gcs":
        from pail.services.access.gcs import gcs_capabilities

        return gcs_capabilities(bucket, prefix)
    return []


def policy_renderable(policy: str, provider: str) -> RenderableType:
    """The policy as drawn: highlighted, indented JSON for S3; plain lines for GCS."""
    if provider == "s3":
        return Syntax(policy, "json", theme="ansi_dark", word_wrap=True, background_color="default")
    return literal_block(policy)


class AccessCheckScreen(Screen[None]):
    """See the module doc. ``report`` holds the last finished check."""

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="access.close"),
        Binding("w", "toggle_writes", "Write probes", id="access.write_probes"),
        Binding("r", "rerun", "Re-run", id="access.rerun"),
        Binding("c", "copy_policy", "Copy policy", id="access.copy_policy"),
        Binding("y", "copy_report", "Copy report", id="access.copy_report"),
        Binding("ctrl+s", "save_report", "Save report", id="access.save_report"),
    ]

    def __init__(self, target: AccessTarget) -> None:
        super().__init__()
        self.target = target
        self.report: AccessReport | None = None
        self.saved_path: str | None = None
        self._run = 0
        self._running = False
        self._shown: tuple[RenderableType, RenderableType] = (Text(""), Text(""))

    @property
    def provider(self) -> str:
        return self.target.driver.provider

    def compose(self) -> ComposeResult:
        yield Static(id="access-title")
        yield Static(id="access-who")
        yield Checkbox("Allow write probes (w)", False, id="access-writes")
        yield Static(id="access-write-note")
        yield AccessTable(id="access-table")
        with Horizontal(id="access-detail"):
            with VerticalScroll(id="access-row-pane"):
                yield Static(id="access-row")
            with VerticalScroll(id="access-policy-pane"):
                yield Static(id="access-policy")
        yield PailFooter()

    def on_mount(self) -> None:
        t = self.target
        title = Text.assemble(("Access check  ", "bold"), literal(t.uri))
        title.append(f"   connection {one_line(t.connection)}")
        self.query_one("#access-title", Static).update(title)
        note = self.query_one("#access-write-note", Static)
        writes = self.query_one("#access-writes", Checkbox)
        if self.provider == "s3":
            note.update(literal_block(WRITE_NOTE.format(key=t.prefix)))
        else:
            writes.display = False
            note.update(Text("testIamPermissions: no probe writes anything.", style="dim"))
        self.query_one(AccessTable).focus()
        self.start_check()

    # -- running ---------------------------------------------------------------------

    @property
    def write_probes(self) -> bool:
        """Whether write probes are allowed (the checkbox)."""
        return self.query_one("#access-writes", Checkbox).value

    def start_check(self) -> None:
        """(Re)run the whole check in a worker; rows fill in as probes answer."""
        t = self.target
        self._run += 1
        run, writes = self._run, self.write_probes
        self._running = True
        self.report = None
        self.query_one(AccessTable).reset(capabilities_for(self.provider, t.bucket, t.prefix))
        self._draw_who(None)
        self._draw_row()

        def on_row(row: ProbeRow) -> None:  # called in the worker thread
            self.post_message(ProbeAnswered(run, row))

        def work() -> AccessChecked:
            report = check_access(
                t.driver,
                t.bucket,
                t.prefix,
                write_probes=writes,
                resolved=t.resolved,
                on_row=on_row,
            )
            return AccessChecked(run, report)

        start_io(self, work, target=self, generation=run, group="access-check")

    def on_probe_answered(self, message: ProbeAnswered) -> None:
        message.stop()
        if message.run == self._run:
            self.query_one(AccessTable).put(message.row)
            self._draw_row()

    def on_access_checked(self, message: AccessChecked) -> None:
        message.stop()
        if message.run != self._run:
            return
        self._running = False
        self.report = message.report
        table = self.query_one(AccessTable)
        for row in message.report.rows:  # final rows (a denied delete names its key)
            table.put(row)
        self._draw_who(message.report)
        self._draw_row()
        if message.report.leftover:
            left = ", ".join(message.report.leftover)
            self.notify(
                f"Probe object left behind: {one_line(left)}", severity="warning", markup=False
            )

    def show_failure(self, message: WorkFailed) -> None:
        """The check itself failed (called by the app's error route): every row still
        "checking…" becomes an error row carrying the failure, so nothing is left pending."""
        if message.generation == self._run:
            self._running = False
            error = message.error
            table = self.query_one(AccessTable)
            for cap in table.capabilities:
                if cap.name not in table.rows_by_name:
                    table.put(ProbeRow(cap, "error", f"the check stopped: {error.message}", error))
            text = Text.assemble(("The check failed: ", "bold"), literal(error.badge))
            text.append("\n" + one_line(error.message))
            self.query_one("#access-who", Static).update(text)
            self._draw_row()

    # -- drawing ---------------------------------------------------------------------

    def _draw_who(self, report: AccessReport | None) -> None:
        t = self.target
        if report is None:
            probe = AccessReport(provider=self.provider, bucket=t.bucket, prefix=t.prefix)
            if t.resolved is not None:
                probe.credential_source = t.resolved.source
                probe.credential_id = t.resolved.identity
            lines = ["Identity: asking…", credentials_line(probe) or ""]
        else:
            lines = [identity_line(report), credentials_line(report) or ""]
            if report.region or report.bucket_region:
                lines.append(
                    f"Region: {report.region or '?'} (bucket: {report.bucket_region or '?'})"
                )
            lines.extend(f"Note: {n}" for n in report.notes)
        text = Text("\n".join(one_line(line) for line in lines if line))
        self.query_one("#access-who", Static).update(text)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._draw_row()

    def _draw_row(self) -> None:
        """The row at the cursor, in full (see the module doc)."""
        if not self.is_mounted:
            return
        selected = self.query_one(AccessTable).selected
        parts: list[RenderableType] = []
        if isinstance(selected, Capability):
            parts.append(Text(f"{selected.name}: checking…", style="dim"))
        elif isinstance(selected, ProbeRow):
            parts.extend(self._row_parts(selected))
        leftover = self.report.leftover if self.report else []
        if leftover:
            parts.append(Text("\nProbe objects left behind (delete them as an identity that may):"))
            parts.extend(literal(f"  {self.target.bucket}/{key}") for key in leftover)
        self._shown = (Group(*parts), Group(*self._policy_parts(selected)))
        self.query_one("#access-row", Static).update(self._shown[0])
        self.query_one("#access-policy", Static).update(self._shown[1])

    def _row_parts(self, row: ProbeRow) -> list[RenderableType]:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in row_fields(row):
            grid.add_row(Text(label), Text(value))
        parts: list[RenderableType] = [Text(f"{row.symbol} {row.name}", style="bold"), grid]
        if row.error is not None and row.failed:
            item = explain(
                row.error,
                spec=self.target.resolved.spec if self.target.resolved else None,
                list_allowed=self._list_allowed(),
                resource=row.capability.resource,
            )
            parts += [Text(""), explanation_text(item)]
        return parts

    def _policy_parts(self, row: ProbeRow | Capability | None) -> list[RenderableType]:
        policy = row_policy_text(row, self.report) if isinstance(row, ProbeRow) else None
        if policy is None or not isinstance(row, ProbeRow):
            return [Text("Select a denied row (✘) for the policy that grants it.", "dim")]
        title = f"Policy that grants {row.capability.action} here (c copies):"
        return [Text(title, "bold"), policy_renderable(policy, self.provider)]

    def _list_allowed(self) -> bool | None:
        for row in self.query_one(AccessTable).rows_by_name.values():
            if row.capability.action in ("s3:ListBucket", "storage.objects.list"):
                return {"allowed": True, "denied": False}.get(row.state)
        return None

    # -- commands --------------------------------------------------------------------

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.start_check()

    def action_toggle_writes(self) -> None:
        """Allow (or stop) the PutObject/DeleteObject probes, and re-run the check."""
        if self.provider == "s3":
            box = self.query_one("#access-writes", Checkbox)
            box.value = not box.value  # Checkbox.Changed re-runs the check

    def action_rerun(self) -> None:
        """Run the check again (after fixing a policy)."""
        self.start_check()

    def _full_text(self) -> str | None:
        report = self.report
        if report is None:
            self.notify("The check is still running.", markup=False)
            return None
        spec = self.target.resolved.spec if self.target.resolved else None
        return report_text(report, explain_report(report, spec), spec)

    def action_copy_policy(self) -> None:
        """Copy the policy of the denied row at the cursor, else of every missing action."""
        selected = self.query_one(AccessTable).selected
        text = None
        if isinstance(selected, ProbeRow):
            text = row_policy_text(selected, self.report)
            what = selected.capability.action
        if text is None and self.report is not None:
            text = report_policy_text(self.report)
            what = plural(len(self.report.denied), "missing action")
        if not text:
            self.notify("Nothing is denied: no policy to copy.", markup=False)
            return
        copy_text(self.app, text, f"the policy for {what}")

    def action_copy_report(self) -> None:
        """Copy the plain-text report (no secrets in it)."""
        text = self._full_text()
        if text is not None:
            copy_text(self.app, text, "the access report")

    def action_save_report(self) -> None:
        """Save the plain-text report in the current folder (or pail's data folder)."""
        text = self._full_text()
        if text is None or self.report is None:
            return
        try:
            path = save_report(text, report_filename(self.report))
        except OSError as exc:
            self.notify(f"Not saved: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.saved_path = path
        self.notify(f"Saved the report to {path}", markup=False, timeout=10)

    def action_close(self) -> None:
        """Back to the tree (a running check is cancelled)."""
        self.workers.cancel_group(self, "access-check")
        self.dismiss(None)

    def row_text(self, width: int = 100) -> str:
        """The row at the cursor and its policy, as drawn, in plain text (for tests)."""
        console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
        for part in self._shown:
            console.print(part)
        return console.export_text()
