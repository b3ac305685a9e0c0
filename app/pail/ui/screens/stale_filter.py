"""The stale filter (``z``): which objects under the selection are stale.

Fields, all optional and combined (every given one must hold): older than a duration
(``30d``, ``12h``), larger / smaller than a size (``100MB``, ``1GiB``), include and exclude
globs, a regex (matched against the key relative to the selection), and the run rules
(:mod:`pail.services.runs.retention`): keep the last N runs, keep the best N by a metric
(mode min or max; blank: from the metric's name), keep runs tagged (``pail.keep``,
``keep=true``) or named (globs on the run's name or id). With a run rule only the runs
detected under the selection that no rule keeps are deleted, never objects outside runs.
Each field is checked as it is typed with the services' own parsers
(:mod:`pail.services.delete.filters`), ranges included (a duration up to 100 years, a
size up to 8 EiB); the button stays disabled while any field is wrong, and the message
says why. Whether there are runs, and whether they logged the metric, is known only once
the selection is listed: the review screen says so
(:class:`pail.services.runs.model.NoRunsFound`).

Dismisses with a :class:`FilterChoice` (the parsed filters and the text as typed, which
the lifecycle screen reuses), or ``None``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from pail.services.delete.filters import MAX_KEEP_LAST, FilterError, StaleFilters

#: (field id, label, placeholder)
FIELDS = [
    ("older_than", "Older than", "30d, 12h, 2w"),
    ("larger_than", "Larger than", "100MB, 1GiB"),
    ("smaller_than", "Smaller than", "1MB"),
    ("include", "Include glob", "*.ckpt (comma-separated)"),
    ("exclude", "Exclude glob", "*/best/* (comma-separated)"),
    ("regex", "Regex", r"epoch-\d+"),
    ("keep_last", "Keep last runs", "2 (of each experiment)"),
    ("keep_best", "Keep best runs", "3"),
    ("metric", "by metric", "val_loss"),
    ("mode", "mode", "min/max"),
    ("keep_tags", "Keep tagged", "pail.keep, keep=true (comma-separated)"),
    ("keep_names", "Keep named", "baseline*, *-final (comma-separated)"),
]
#: Fields drawn after the row's first field, on its line: "Keep best runs [3] by metric
#: [val_loss] mode [min/max]".
_SAME_ROW = {"keep_best": ("metric", "mode")}
_INLINE = {name for names in _SAME_ROW.values() for name in names}


@dataclass(frozen=True)
class FilterChoice:
    """A stale filter: ``filters`` parsed, and ``texts`` (field id -> text as typed)."""

    filters: StaleFilters
    texts: dict[str, str]


def parse_fields(texts: dict[str, str]) -> StaleFilters:
    """Filters from the form's texts (blank fields are ignored).

    Raises:
        FilterError: a field does not parse (one plain line).
    """

    def value(name: str) -> str | None:
        text = texts.get(name, "").strip()
        return text or None

    def globs(name: str) -> tuple[str, ...]:
        return tuple(g.strip() for g in texts.get(name, "").split(",") if g.strip())

    mode = (value("mode") or "").lower() or None
    if mode is not None and mode not in ("min", "max"):
        raise FilterError(f"mode: min or max (blank: from the metric's name), not {mode!r}")
    return StaleFilters.parse(
        older_than=value("older_than"),
        larger_than=value("larger_than"),
        smaller_than=value("smaller_than"),
        include=globs("include"),
        exclude=globs("exclude"),
        regex=value("regex"),
        keep_last=_count(value("keep_last"), "keep last runs"),
        keep_best=_count(value("keep_best"), "keep best runs"),
        metric=value("metric"),
        mode=mode,
        keep_tags=globs("keep_tags"),
        keep_names=globs("keep_names"),
    )


def _count(text: str | None, label: str) -> int | None:
    """A number of runs as typed, or ``None`` for a blank field. Raises FilterError."""
    if text is None:
        return None
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
    if not re.fullmatch(r"[0-9]+", text):
        raise FilterError(f"{label}: a whole number, not {text!r}")
    digits = text.lstrip("0") or "0"  # int() refuses more than 4,300 digits, zeros too
    if len(digits) > 30 or int(digits) > MAX_KEEP_LAST:
        raise FilterError(f"{label}: at most {MAX_KEEP_LAST:,}, not {digits[:20]!r}")
    return int(digits)


class StaleFilterScreen(ModalScreen[FilterChoice | None]):
    """The filter form. See the module doc.

    Args:
        where: the selection the filter applies to (shown in the title, plain text).
        texts: initial field texts (the last filter used).
    """

    #: "-short" below 32 rows: the form drops its blank lines (see app.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="stale.cancel")]

    DEFAULT_CSS = """
    StaleFilterScreen .form-row {
        & #stale-keep_best {
            width: 8;
        }
        & #stale-mode {
            width: 11;
        }
        & .form-inline-label {
            width: auto;
            padding: 0 1;
            color: $text-secondary;
        }
    }
    """

    def __init__(self, where: str, texts: dict[str, str] | None = None) -> None:
        super().__init__()
        self._where = where
        self._texts = dict(texts or {})

    def compose(self) -> ComposeResult:
        with Vertical(id="stale-box", classes="modal-box"):
            yield Static(
                Text.assemble(("Select stale objects under ", "bold"), self._where),
                id="stale-title",
            )
            fields = {name: (label, hint) for name, label, hint in FIELDS}
            for name, label, hint in FIELDS:
                if name in _INLINE:
                    continue
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield self._input(name, hint)
                    for other in _SAME_ROW.get(name, ()):
                        other_label, other_hint = fields[other]
                        yield Label(other_label, classes="form-inline-label")
                        yield self._input(other, other_hint)
            yield Static(id="stale-message")
            with Horizontal(classes="modal-buttons"):
                yield Button("Review…", variant="warning", id="stale-ok")
                yield Button("Cancel", id="stale-cancel")
        yield Footer()

    def _input(self, name: str, hint: str) -> Input:
        # compact: one line, no border (a bordered Input needs 3 rows)
        return Input(self._texts.get(name, ""), placeholder=hint, id=f"stale-{name}", compact=True)

    def on_mount(self) -> None:
        self.query_one("#stale-older_than", Input).focus()
        self._check()

    def texts(self) -> dict[str, str]:
        """The fields' texts by field id."""
        return {name: self.query_one(f"#stale-{name}", Input).value for name, _, _ in FIELDS}

    def _check(self) -> StaleFilters | None:
        message = self.query_one("#stale-message", Static)
        try:
            filters = parse_fields(self.texts())
        except FilterError as exc:
            message.update(Text(str(exc), style="bold red"))
            self.query_one("#stale-ok", Button).disabled = True
            return None
        if filters.retention is not None:
            note = "Deletes only runs no rule keeps; never objects outside runs."
        elif not filters.active:
            note = "No criterion: every object under it is selected."
        else:
            note = ""
        message.update(Text(note, style="dim"))
        self.query_one("#stale-ok", Button).disabled = False
        return filters

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._check()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "stale-ok":
            self._submit()
        else:
            self.dismiss(None)

    def _submit(self) -> None:
        filters = self._check()
        if filters is not None:
            self.dismiss(FilterChoice(filters, self.texts()))

    def action_cancel(self) -> None:
        """Close without filtering."""
        self.dismiss(None)
