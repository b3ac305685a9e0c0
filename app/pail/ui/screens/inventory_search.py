"""Search an inventory report (``/`` or ``ctrl+f`` in the inventory view): every key under
the level, in the live search's syntax (:func:`pail.services.inventory.model.search_query`
reads it: ``*.ckpt size>1GB age>90d``), answered by the report's query engine in a worker.

The list holds the first :data:`SHOWN` matches by key; the line above it counts every
match and their bytes exactly. Ages are at the report's time (a report is a snapshot, and
the screen says whose). Enter on a match goes back to the inventory view, at the match's
level with the cursor on it; ``c`` copies its URI; ``x`` interrupts a running search;
``/`` goes back to the query; ``y`` shows the SQL of the search; escape goes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from pail.core.text import one_line
from pail.core.units import plural, short_age, size_text
from pail.services.inventory.model import SearchQuery, SearchResult, search_query
from pail.services.search import QueryError
from pail.ui.clipboard import copy_text
from pail.ui.messages import InventorySearched, WorkFailed
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.screens.search import SYNTAX_HELP
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io

if TYPE_CHECKING:  # DuckDB is imported when a report is opened, not with the app
    from pail.services.inventory.query import Inventory

#: Matches listed at most (every match is counted).
SHOWN = 1000

#: The query syntax as (term, meaning) rows for the help (``?``): the live search's
#: (:data:`pail.ui.screens.search.SYNTAX_HELP`), with ages at the report's time.
INVENTORY_SYNTAX = [
    (term, f"{meaning}, at the report's time" if term.startswith("age") else meaning)
    for term, meaning in SYNTAX_HELP
]

QUERY_HELP = (
    "words match the key (below this prefix) as a substring, or as a glob with * ? [ ]"
    " (case-insensitive); size>10MB size<=1GiB: bytes; age>7d age<12h: at the report's time"
)


@dataclass(frozen=True)
class SearchChoice:
    """How the search screen closed: ``key`` chosen with enter (``None``: escape) and the
    ``query`` in the box (to start with next time)."""

    key: str | None
    query: str


class InventorySearchScreen(KeysExplained, Screen[SearchChoice]):
    """Search ``inventory`` under ``prefix``; dismisses with a :class:`SearchChoice`.

    Args:
        inventory: the opened report.
        prefix: the level searched (``""``: the whole bucket).
        uri_of: the URI of a key (for the title).
        query: the query to start with (run at once when not empty).

    Attributes:
        result: the last search's answer, or ``None``.
        searching: a search is running.
        problem: why there is no answer (plain text), or ``""``.
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="inventory_search.close"),
        Binding(
            "enter",
            "jump",
            "Show",
            tooltip="Back to the inventory view, at the match's level, on it",
            id="inventory_search.open",
        ),
        Binding("x", "cancel", "Stop", tooltip="Stop the search", id="inventory_search.cancel"),
        Binding(
            "slash",
            "edit_query",
            "Query",
            key_display="/",
            tooltip="Edit the query",
            id="inventory_search.query",
        ),
        Binding(
            "c",
            "copy_uri",
            "Copy URI",
            tooltip="Copy the URI of the match at the cursor",
            id="inventory_search.copy_uri",
        ),
        Binding(
            "y",
            "sql",
            "SQL",
            tooltip="The Athena / BigQuery SQL of this search",
            id="inventory_search.sql",
        ),
    ]

    DEFAULT_CSS = """
    InventorySearchScreen {
        #isearch-title, #isearch-help, #isearch-progress { padding: 0 1; height: auto; }
        #isearch-input { margin: 0 1; }
        #isearch-results { height: 1fr; margin: 0 1; }
    }
    """

    WHY_NOT = {"cancel": "no search is running", "sql": "type a query that parses first"}

    def __init__(
        self, inventory: Inventory, prefix: str, uri_of: Callable[[str], str], *, query: str = ""
    ) -> None:
        super().__init__()
        self.inventory = inventory
        self.prefix = prefix
        self._uri_of = uri_of
        self._initial = query
        self.result: SearchResult | None = None
        self.searching = False
        self.problem = ""
        self.asked: SearchQuery | None = None
        self._generation = 0

    def compose(self) -> ComposeResult:
        report = self.inventory.report
        title = Text.assemble(
            ("Search ", "bold"),
            one_line(self._uri_of(self.prefix)),
            (f" · {report.label} · ", "bold"),
            ("snapshot", "bold reverse"),
        )
        yield Header(icon="◆")
        yield Static(title, id="isearch-title")
        yield Input(self._initial, placeholder="*.ckpt size>1GB age>90d", id="isearch-input")
        yield Static(Text(QUERY_HELP, style="dim"), id="isearch-help")
        yield Static(id="isearch-progress")
        table: DataTable[Text | str] = DataTable(id="isearch-results", cursor_type="row")
        table.add_column("key", key="key")
        table.add_column("size", key="size", width=10)
        table.add_column("age", key="age", width=5)
        table.add_column("class", key="class", width=12)
        yield table
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Search the inventory (a snapshot)"
        if self._initial.strip() and self.start():
            self.query_one(DataTable).focus()
        else:
            self.query_one(Input).focus()
            self._draw_progress()

    # -- running ---------------------------------------------------------------------------

    def start(self) -> bool:
        """Search for the query in the box (in a worker); ``False`` when it does not
        parse (the reason shows above the list)."""
        text = self.query_one(Input).value
        try:
            asked = search_query(text, prefix=self.prefix, limit=SHOWN)
        except QueryError as exc:
            self.problem = str(exc)
            self._draw_progress()
            return False
        if self.searching:
            self.inventory.interrupt()  # the previous search's answer is not wanted
        self.asked = asked
        self.problem = ""
        self._generation += 1
        generation = self._generation
        self.searching = True
        inventory = self.inventory

        def work() -> InventorySearched:
            from pail.services.inventory.query import QueryCancelled

            try:
                return InventorySearched(inventory.search(asked), generation)
            except QueryCancelled:
                return InventorySearched(None, generation, "stopped")

        start_io(self, work, target="search", generation=generation, group="inventory-search")
        self._draw_progress()
        self.refresh_bindings()
        return True

    def on_inventory_searched(self, message: InventorySearched) -> None:
        message.stop()
        if message.generation != self._generation:
            return
        self.searching = False
        self.result = message.result
        self.problem = message.problem
        self._draw_rows()
        self._draw_progress()
        self.refresh_bindings()

    def show_failure(self, message: WorkFailed) -> None:
        """The query failed (the app's error route)."""
        if message.generation != self._generation:
            return
        self.searching = False
        error = message.error
        self.problem = f"the search failed: {error.message or error.badge}"
        self._draw_progress()
        self.refresh_bindings()

    def _draw_rows(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        result = self.result
        if result is None:
            return
        created = self.inventory.report.created
        cut = len(self.prefix)
        for entry in result.rows:
            rel = entry.key[cut:] if entry.key.startswith(self.prefix) else entry.key
            table.add_row(
                Text(one_line(rel)),
                Text(size_text(entry.size), justify="right"),
                short_age(entry.last_modified, created),
                Text(one_line(entry.storage_class or ""), style="dim"),
                key=entry.key,
            )

    def _draw_progress(self) -> None:
        line = Text()
        result = self.result
        if self.searching:
            line.append("searching the report…")
            line.append("   x stops", style="dim")
        elif self.problem == "stopped":
            line.append("stopped", style="bold")
        elif self.problem:
            line.append(one_line(self.problem), style="bold red")
        elif result is None:
            line.append("type a query, then enter", style="dim")
        else:
            line.append(plural(result.matched, "match", "matches"), style="bold")
            line.append(f" · {size_text(result.bytes)}", style="bold")
            if result.bytes >= 1024:
                line.append(f" ({result.bytes:,} bytes)")
            if result.truncated:
                line.append(f" · the first {len(result.rows):,} by key are listed", style="dim")
            line.append(" · ages at the report's time", style="dim")
        self.query_one("#isearch-progress", Static).update(line)

    # -- keys ------------------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.start():
            self.query_one(DataTable).focus()

    def _cursor_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The list's keys only while the list has the focus; stop only while searching."""
        if not self.is_mounted or action in ("close", "edit_query"):
            return True
        if action == "cancel":
            return self.searching
        if action == "sql":
            return self.asked is not None
        return isinstance(self.focused, DataTable) and self._cursor_key() is not None

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def action_jump(self) -> None:
        """Back to the inventory view, on the match at the cursor."""
        key = self._cursor_key()
        if key is not None:
            self._leave(key)

    def action_copy_uri(self) -> None:
        """Copy the URI of the match at the cursor."""
        key = self._cursor_key()
        if key is not None:
            uri = self._uri_of(key)
            copy_text(self.app, uri, f"the URI {one_line(uri)}")

    def action_cancel(self) -> None:
        """Interrupt the running search."""
        if self.searching:
            self.inventory.interrupt()

    def action_edit_query(self) -> None:
        """Focus the query box."""
        self.query_one(Input).focus()

    def action_sql(self) -> None:
        """The SQL of the last search, to run where the report is."""
        from pail.ui.screens.inventory_sql import InventorySqlScreen

        if self.asked is not None:
            report = self.inventory.report
            self.app.push_screen(InventorySqlScreen(report, self.prefix, search=self.asked))

    def action_close(self) -> None:
        """Back to the inventory view (a running search is stopped)."""
        self._leave(None)

    def _leave(self, key: str | None) -> None:
        if self.searching:
            self.inventory.interrupt()
            self.searching = False
        self.dismiss(SearchChoice(key, self.query_one(Input).value))


__all__ = ["INVENTORY_SYNTAX", "QUERY_HELP", "SHOWN", "InventorySearchScreen", "SearchChoice"]
