"""The stale filter (``z``): which objects under the selection are stale.

Fields, all optional and combined (every given one must hold): older than a duration
(``30d``, ``12h``), larger / smaller than a size (``100MB``, ``1GiB``), include and exclude
globs, a regex (matched against the key relative to the selection), and "keep the newest
N runs" (a run is a child prefix, ordered by its newest object). Each field is checked as
it is typed with the services' own parsers (:mod:`pail.services.delete.filters`), ranges
included (a duration up to 100 years, a size up to 8 EiB); the button stays disabled while
any field is wrong, and the message says why. Whether there are runs to keep is known only
once the prefix is listed: the review screen refuses "keep newest N runs" on a prefix
without runs (:class:`pail.services.delete.plan.NoRunsToKeep`).

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
    ("keep_last", "Keep newest runs", "3"),
]


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

    keep = value("keep_last")
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
    if keep is not None and not re.fullmatch(r"[0-9]+", keep):
        raise FilterError(f"keep newest runs: a whole number, not {keep!r}")
    if keep is not None:
        keep = keep.lstrip("0") or "0"  # int() refuses more than 4,300 digits, zeros too
        if len(keep) > 30 or int(keep) > MAX_KEEP_LAST:
            raise FilterError(f"keep newest runs: at most {MAX_KEEP_LAST:,}, not {keep[:20]!r}")
    return StaleFilters.parse(
        older_than=value("older_than"),
        larger_than=value("larger_than"),
        smaller_than=value("smaller_than"),
        include=globs("include"),
        exclude=globs("exclude"),
        regex=value("regex"),
        keep_last=int(keep) if keep is not None else None,
    )


class StaleFilterScreen(ModalScreen[FilterChoice | None]):
    """The filter form. See the module doc.

    Args:
        where: the selection the filter applies to (shown in the title, plain text).
        texts: initial field texts (the last filter used).
    """

    #: "-short" below 32 rows: the form drops its blank lines (see app.tcss).
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="stale.cancel")]

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
            for name, label, hint in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    # compact: one line, no border (a bordered Input needs 3 rows)
                    yield Input(
                        self._texts.get(name, ""),
                        placeholder=hint,
                        id=f"stale-{name}",
                        compact=True,
                    )
            yield Static(id="stale-message")
            with Horizontal(classes="modal-buttons"):
                yield Button("Review…", variant="warning", id="stale-ok")
                yield Button("Cancel", id="stale-cancel")
        yield Footer()

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
        note = "" if filters.active else "No criterion: every object under it is selected."
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
