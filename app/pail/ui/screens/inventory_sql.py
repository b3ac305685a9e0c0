"""The SQL of an inventory view (``y`` in the inventory view or its search): the same
questions as Athena SQL over the S3 Inventory table, or BigQuery SQL over a GCS inventory
table, to run where the report lives when it is too big for this machine.

The statements come from :mod:`pail.services.inventory.sql`; this modal only shows them
(plain text, scrollable) and copies them (``y``, as every screen copies a command).
Running them is left to the command line or the service's console: a query there is
billed by the data it scans.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from pail.core.text import one_line
from pail.services.inventory.model import InventoryError, Report, SearchQuery
from pail.ui.clipboard import copy_text
from pail.ui.text import literal_block


def view_sql(report: Report, prefix: str, search: SearchQuery | None = None) -> tuple[str, str]:
    """``(dialect, statements)`` for a view (:mod:`pail.services.inventory.sql`): the
    table's definition (once per report), then the level of ``prefix`` (its prefixes with
    their totals, a page), its ``du``, storage classes and ages; or the ``search``.

    Raises:
        InventoryError: the report cannot be written as a table (SqlRefused: why).
    """
    from pail.services.inventory import sql

    table = sql.inventory_table(report)
    dialect = "Athena" if table.dialect == "athena" else "BigQuery"
    questions: list[tuple[str, str]]
    where = f"under {prefix}" if prefix else "in the whole bucket"
    if search is not None:
        questions = [(f"the search {where}", sql.search_sql(table, search).sql)]
    else:
        questions = [
            (f"the level {prefix or '(bucket root)'}", sql.level_sql(table, prefix).sql),
            (f"du {where}", sql.du_sql(table, prefix).sql),
            (f"storage classes {where}", sql.classes_sql(table, prefix).sql),
            (f"ages {where} (at the report's time)", sql.ages_sql(table, prefix).sql),
        ]
    parts = [f"-- {report.label}: the table (make it once)"]
    parts += [statement + ";" for statement in table.create_statements()]
    parts += [f"-- {what}\n{statement};" for what, statement in questions]
    return dialect, "\n\n".join(parts)


class InventorySqlScreen(ModalScreen[None]):
    """Shows (and copies) the SQL of an inventory view.

    Args:
        report: the report shown.
        prefix: the level of the view.
        search: the search of the view, if it is one.

    Attributes:
        dialect: ``"Athena"`` or ``"BigQuery"`` (``""`` when no SQL could be made).
        sql: the statements (``""`` when none could be made).
    """

    BINDINGS = [
        Binding("escape,q", "close", "Close", key_display="esc", id="inventory_sql.close"),
        Binding("y", "copy", "Copy", tooltip="Copy the SQL", id="inventory_sql.copy"),
    ]

    DEFAULT_CSS = """
    InventorySqlScreen { align: center middle; }
    #isql-box { width: 90%; height: 85%; border: round $accent; background: $surface;
                padding: 0 1; }
    #isql-scroll { height: 1fr; }
    """

    def __init__(self, report: Report, prefix: str, *, search: SearchQuery | None = None) -> None:
        super().__init__()
        self.report = report
        self.prefix = prefix
        self.search = search
        self.dialect = ""
        self.sql = ""
        self.problem = ""
        try:
            self.dialect, self.sql = view_sql(report, prefix, search)
        except InventoryError as exc:  # SqlRefused: why, in one line
            self.problem = str(exc)

    def compose(self) -> ComposeResult:
        what = "the search" if self.search is not None else "this level"
        title = Text(f"{self.dialect or 'SQL'} for {what} of the {self.report.label}", "bold")
        note = Text(
            "Run it where the report is (Athena / BigQuery bill by the data scanned); y copies it.",
            style="dim",
        )
        body = (
            literal_block(self.sql)
            if self.sql
            else Text(f"No SQL: {one_line(self.problem)}", style="bold red")
        )
        with Vertical(id="isql-box"):
            yield Static(title, id="isql-title")
            yield Static(note, id="isql-note")
            with VerticalScroll(id="isql-scroll"):
                yield Static(body, id="isql-sql")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copy only when there is SQL."""
        if action == "copy":
            return bool(self.sql)
        return True

    def action_copy(self) -> None:
        """Copy the statements."""
        if self.sql:
            copy_text(self.app, self.sql, f"the {self.dialect} SQL")

    def action_close(self) -> None:
        """Close."""
        self.dismiss(None)


__all__ = ["InventorySqlScreen", "view_sql"]
