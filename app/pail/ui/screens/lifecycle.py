"""Lifecycle rules (``L``): let the storage service delete stale objects at any scale.

A small form (prefix, older than, larger/smaller than, noncurrent days), filled from the
last stale filter, builds the provider's rule (:func:`pail.services.lifecycle.build_rules`:
an S3 lifecycle configuration rule or a GCS Delete rule) and shows its JSON as typed,
next to the bucket's existing rules (read in a worker) and the merged result
(:func:`pail.services.lifecycle.merge`: existing rules are never replaced silently; a rule
with the same identity and other content is a conflict, shown, and nothing is written;
overlapping prefixes are warned about). Criteria a rule cannot express (exclude globs,
regexes, keep newest N runs; include globs on S3) are refused with the reason. The last
stale filter's other criteria (include, exclude, regex, keep newest N runs) get a field
of their own when they were given, so what the rule is built from is always on screen
and can be cleared. ``ctrl+w`` (or the button) writes the merged rules after a confirmation.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Header, Input, Label, Static

from pail.core.text import one_line
from pail.core.units import MAX_DURATION, plural
from pail.services import lifecycle as lc
from pail.services.delete.filters import FilterError
from pail.ui.messages import LifecycleApplied, LifecycleLoaded, WorkFailed
from pail.ui.nodes import NodeData
from pail.ui.screens.confirm import ConfirmScreen
from pail.ui.screens.stale_filter import FIELDS as STALE_FIELDS
from pail.ui.screens.stale_filter import parse_fields
from pail.ui.text import literal_block
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

_FIELDS = [
    ("prefix", "Prefix", "runs/ (exactly as typed)"),
    ("older_than", "Older than", "30d"),
    ("larger_than", "Larger than", "100MB (S3 only)"),
    ("smaller_than", "Smaller than", "1MB (S3 only)"),
    ("noncurrent_days", "Noncurrent days", "7 (delete old versions)"),
]
#: Stale filter fields the rule is also built from, shown only when the last filter gave
#: them (most of them a rule cannot express: the user clears them here).
_CARRIED_IDS = ("include", "exclude", "regex", "keep_last", "keep_best", "metric", "mode")
_CARRIED = [f for f in STALE_FIELDS if f[0] in (*_CARRIED_IDS, "keep_tags", "keep_names")]
#: The stale filter fields read from this form (the others are not shown: blank).
_FILTER_FIELDS = ("older_than", "larger_than", "smaller_than", *(f[0] for f in _CARRIED))


class LifecycleScreen(Screen[None]):
    """See the module doc.

    Args:
        level: the bucket/prefix node (its connection open); the prefix field starts
            with its key.
        texts: the last stale filter's field texts (``older_than``, ``larger_than``...).
    """

    #: "-short" below 32 rows: the form drops its blank lines (see app.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="lifecycle.close"),
        Binding(
            "ctrl+w",
            "apply",
            "Apply…",
            priority=True,  # the form's fields would take ctrl+w (delete a word)
            tooltip="Write the merged rules",
            id="lifecycle.apply",
        ),
    ]

    def __init__(self, level: NodeData, texts: dict[str, str]) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.level = level
        self.driver = level.conn.driver
        self.bucket = level.bucket
        self._texts = {"prefix": level.key, **{k: v for k, v in texts.items() if v}}
        self.existing: list[dict] | None = None
        self.merged: lc.MergeResult | None = None
        self.export: lc.RuleExport | None = None
        self.applied: lc.ApplyResult | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        carried = [field for field in _CARRIED if self._texts.get(field[0])]
        with Vertical(id="lc-form"):
            for name, label, hint in _FIELDS + carried:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    # compact: one line, no border (a bordered Input needs 3 rows)
                    yield Input(
                        self._texts.get(name, ""), placeholder=hint, id=f"lc-{name}", compact=True
                    )
            if carried:
                yield Static(
                    Text("↑ from the stale filter (z): clear what a rule cannot express"),
                    id="lc-carried",
                )
        with VerticalScroll(id="lc-body"):
            yield Static(id="lc-problem")
            yield Static(id="lc-merged")
            yield Static(id="lc-existing")
            yield Static(id="lc-new")
        with Horizontal(classes="modal-buttons"):
            yield Button("Apply…", variant="warning", id="lc-apply", disabled=True)
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = f"Lifecycle rules of {one_line(self.bucket)}"
        driver, bucket = self.driver, self.bucket

        def work() -> LifecycleLoaded:
            return LifecycleLoaded(lc.current_rules(driver, bucket))

        start_io(self, work, target=self.level, generation=0, group="lifecycle-read")
        self.query_one("#lc-existing", Static).update(Text("Reading the bucket's rules…"))
        self._rebuild()

    def _value(self, name: str) -> str:
        """A field's text, stripped; ``""`` for a carried-over field that is not shown."""
        found = self.query(f"#lc-{name}").results(Input)
        field = next(found, None)
        return field.value.strip() if field is not None else ""

    def _rebuild(self) -> None:
        """Build the rule from the form, and merge it with the existing rules."""
        problem = self.query_one("#lc-problem", Static)
        new = self.query_one("#lc-new", Static)
        self.export, self.merged = None, None
        try:
            days = self._value("noncurrent_days")
            if days and not (days.isascii() and days.isdigit()):  # "²" is a digit to Python
                raise FilterError(f"noncurrent days: a whole number, not {days!r}")
            days = days.lstrip("0") or ("0" if days else "")  # int() refuses 4,300+ digits
            if days and (len(days) > 6 or not 1 <= int(days) <= MAX_DURATION.days):
                raise FilterError(f"noncurrent days: 1 to {MAX_DURATION.days:,}, not {days[:20]}")
            # Only what the form shows: a criterion the user cannot see is never applied.
            filters = parse_fields({k: self._value(k) for k in _FILTER_FIELDS})
            self.export = lc.build_rules(
                self.driver.provider,
                self._value("prefix"),
                filters,
                noncurrent_days=int(days) if days else None,
            )
        except lc.NotExpressible as exc:
            problem.update(Text("Not expressible as a rule: " + "; ".join(exc.reasons), "bold red"))
        except FilterError as exc:
            problem.update(Text(str(exc), style="bold red"))
        else:
            notes = "\n".join(self.export.notes)
            problem.update(Text(notes, style="dim"))
        if self.export is not None:
            doc = lc.export_json(self.export.provider, self.export.rules)
            new.update(Text("New rule:\n", style="bold") + literal_block(doc))
        else:
            new.update("")
        self._draw_merge()

    def _draw_merge(self) -> None:
        merged = self.query_one("#lc-merged", Static)
        button = self.query_one("#lc-apply", Button)
        button.disabled = True
        if self.existing is None or self.export is None:
            merged.update("")
            return
        try:
            self.merged = lc.merge(self.existing, self.export.rules)
        except lc.LifecycleConflict as exc:
            merged.update(Text(f"Conflict: {exc}", style="bold red"))
            return
        text = Text("After merging:\n", style="bold")
        for change in self.merged.changes:
            text.append(f"  {change.kind}: {one_line(lc.rule_summary(change.rule))}\n")
        for warning in self.merged.warnings:
            text.append(f"  warning: {one_line(warning)}\n", style="yellow")
        if not self.merged.changed:
            text.append("  the bucket already has this rule: nothing to write\n", style="dim")
        merged.update(text)
        button.disabled = not self.merged.changed

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.is_mounted:
            self._rebuild()

    def on_lifecycle_loaded(self, message: LifecycleLoaded) -> None:
        message.stop()
        self.existing = message.rules
        text = Text(f"Existing rules of {one_line(self.bucket)}:\n", style="bold")
        for rule in message.rules or []:
            text.append(f"  {one_line(lc.rule_summary(rule))}\n")
        if not message.rules:
            text.append("  (none)\n")
        self.query_one("#lc-existing", Static).update(text)
        self._draw_merge()

    def show_failure(self, message: WorkFailed) -> None:
        """Reading or writing the rules failed (the app's error route)."""
        error = message.error
        self.query_one("#lc-existing", Static).update(
            Text(
                f"{one_line(error.badge)} {one_line(error.operation)}: {one_line(error.message)}",
                style="bold red",
            )
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_apply()

    def action_apply(self) -> None:
        """Confirm, then write the merged rules (read again and merged in the worker)."""
        if self.merged is None or not self.merged.changed or self.export is None:
            return
        rules, driver, bucket = self.export.rules, self.driver, self.bucket
        body = (
            f"Write {plural(len(self.merged.rules), 'lifecycle rule')} to bucket "
            f"{one_line(bucket)}: the "
            "storage service will then delete what they select, on its own schedule."
        )

        def answered(yes: bool | None) -> None:
            if not yes:
                return

            def work() -> LifecycleApplied:
                return LifecycleApplied(lc.apply(driver, bucket, rules))

            start_io(self, work, target=self.level, generation=0, group="lifecycle-write")

        self.app.push_screen(
            ConfirmScreen("Apply lifecycle rules?", body, confirm="Apply"), callback=answered
        )

    def on_lifecycle_applied(self, message: LifecycleApplied) -> None:
        message.stop()
        self.applied = result = message.result
        self.existing = result.merge.rules
        text = Text(
            f"Written: the bucket now has {plural(len(result.merge.rules), 'lifecycle rule')}.\n",
            style="bold green",
        )
        for rule in result.merge.rules:
            text.append(f"  {one_line(lc.rule_summary(rule))}\n")
        self.query_one("#lc-existing", Static).update(text)
        self._draw_merge()

    def action_close(self) -> None:
        """Back to the tree."""
        self.dismiss(None)
