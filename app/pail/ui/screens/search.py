"""The search screen (``ctrl+f`` on a bucket or prefix): find keys anywhere below it.

A :class:`pail.services.search.BucketSearch` walks the bucket/prefix on its own daemon
threads, child prefixes listed concurrently; this screen reads its snapshot and its new
matches every :data:`POLL_SECONDS` (cheap, never blocks) and appends them to the list, so
matches show while the rest is still being listed.

Keys: type a query in the box and press enter (syntax in :data:`QUERY_HELP`); once a
prefix has been walked this session the list follows the query as you type (answered
from the listing cache, whose age the progress line shows; ``r`` walks again). In the
list: enter jumps to the match in the tree (its prefixes are expanded) and shows its
detail; space marks it; ``+`` marks every match (also those beyond the list's cap);
``u`` clears the marks; ``d`` downloads and ``X`` reviews deleting the marked matches;
``x`` stops the search; ``/`` goes back to the query; escape goes back to the tree.
Marks made here become marks of the tree when the screen closes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Static

from pail.core.text import one_line
from pail.core.units import short_age, size_text
from pail.drivers.base import Entry
from pail.services.level import Marks
from pail.services.search import (
    BucketSearch,
    ListingCache,
    QueryError,
    SearchProgress,
    parse_query,
    source_of,
)
from pail.ui.cleanup_ops import Clock
from pail.ui.formatting import plural
from pail.ui.nodes import NodeData
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.footer import PailFooter

#: Seconds between two reads of the search's progress and new matches.
POLL_SECONDS = 0.1
#: Matches drawn in the list at most (marking all still marks every match).
MAX_SHOWN = 10_000

QUERY_HELP = (
    "query: words match the key (below this prefix) as a substring, or as a glob with * ? [ ]"
    " (case-insensitive); size>10MB size<=1GiB: bytes; age>7d: older than; age<12h: newer than"
)


def _matches(count: int) -> str:
    return plural(count, "match")


#: The query syntax as (term, meaning) rows for the help (``?``).
SYNTAX_HELP = [
    ("model", "keys containing “model” below this prefix (case-insensitive)"),
    ("*.ckpt  run-0?/*", "a glob over the key below this prefix (* also crosses /)"),
    ("size>10MB  size<=1GiB", "object size in bytes (> >= < <=; kB/MB/GB x1000, KiB/MiB x1024)"),
    ("age>7d  age<12h", "last modified longer ago than / within (s m h d w)"),
    ("*.ckpt size>1GB age>30d", "terms combine: every one must hold"),
]

OutcomeAction = Literal["back", "jump", "download", "delete"]


@dataclass(frozen=True)
class SearchOutcome:
    """What the search screen was closed with.

    Attributes:
        action: ``"back"`` (escape), ``"jump"`` (enter on a match), ``"download"`` (``d``)
            or ``"delete"`` (``X``).
        key: the match to jump to (``"jump"`` only).
        marked: the marked matches, in the order they were found.
        query: the query in the box (to start with next time).
    """

    action: OutcomeAction
    key: str | None = None
    marked: tuple[Entry, ...] = ()
    query: str = ""


class SearchScreen(KeysExplained, Screen[SearchOutcome]):
    """Search ``level`` (a bucket or prefix node whose connection is open).

    Args:
        level: where to search.
        clock: "now" (aware UTC) for ages and the cache's timestamps.
        cache: the session's listing cache.
        query: the query to start with (run at once when not empty).
    """

    CSS_PATH = "../styles/search.tcss"
    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="search.close"),
        Binding("enter", "jump", "Jump", tooltip="Show the match in the tree", id="search.jump"),
        Binding(
            "space", "toggle_mark", "Mark", tooltip="Mark / unmark the match", id="search.mark"
        ),
        Binding(
            "plus",
            "mark_all",
            "Mark all",
            key_display="+",
            tooltip="Mark every match found (also those not drawn)",
            id="search.mark_all",
        ),
        Binding("u", "clear_marks", "Unmark all", tooltip="Clear the marks", id="search.unmark"),
        Binding(
            "d", "download", "Download", tooltip="Download the marked matches", id="search.download"
        ),
        Binding(
            "X",
            "delete",
            "Delete…",
            key_display="X",
            tooltip="Review deleting the marked matches (shift+x)",
            id="search.delete",
        ),
        Binding(
            "r",
            "refresh",
            "Re-list",
            tooltip="Walk the prefix again (not from the cache)",
            id="search.refresh",
        ),
        Binding("x", "cancel_search", "Stop", tooltip="Stop listing", id="search.cancel"),
        Binding(
            "slash",
            "edit_query",
            "Query",
            key_display="/",
            tooltip="Edit the query",
            id="search.query",
        ),
    ]

    WHY_NOT = {
        "cancel_search": "the search has finished",
        "download": "mark matches first (space or +), in the list",
        "delete": "mark matches first (space or +), in the list",
        "clear_marks": "nothing is marked",
    }

    def __init__(
        self, level: NodeData, clock: Clock, cache: ListingCache, *, query: str = ""
    ) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.level = level
        self._clock = clock
        self.cache = cache
        self._initial = query
        self.search: BucketSearch | None = None
        self.marks = Marks()
        self._shown = 0  # matches taken from the search (drawn up to MAX_SHOWN)
        self._final = not query.strip()  # a query given: not finished until searched
        self._problem = ""

    @property
    def source(self) -> str:
        """The connection's name in the listing cache."""
        return source_of(self.level.conn.spec)

    @property
    def prefix(self) -> str:
        """The searched prefix (``""``: the whole bucket), ending in ``/``."""
        key = self.level.key
        return key if not key or key.endswith("/") else key + "/"

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(
            Text.assemble(("Search ", "bold"), one_line(self.level.uri)), id="search-title"
        )
        yield Input(value=self._initial, placeholder="*.ckpt size>10MB age>7d", id="search-input")
        yield Static(Text(QUERY_HELP, style="dim"), id="search-help")
        yield Static(id="search-progress")
        table: DataTable[Text | str] = DataTable(id="search-results", cursor_type="row")
        table.add_column(" ", key="mark", width=1)
        table.add_column("key", key="key")
        table.add_column("size", key="size", width=10)
        table.add_column("age", key="age", width=5)
        yield table
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Search"
        self.set_interval(POLL_SECONDS, self.poll)
        if self._initial.strip() and self.start():
            self.query_one(DataTable).focus()  # the last query again: the list's keys work
        else:
            self._final = True
            self.query_one(Input).focus()
            self._draw_progress()

    # -- running -----------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """No search runs and every match found is drawn."""
        return self._final

    def start(self, *, refresh: bool = False) -> bool:
        """Search for the query in the box (cancelling a running search); returns False
        when the query does not parse (the reason shows in the progress line)."""
        text = self.query_one(Input).value
        try:
            query = parse_query(text)
        except QueryError as exc:
            self._problem = str(exc)
            self._draw_progress()
            return False
        self._problem = ""
        if self.search is not None:
            self.search.cancel()
        driver, bucket = self.level.conn.driver, self.level.bucket
        assert driver is not None and bucket is not None
        self.search = BucketSearch(
            driver,
            bucket,
            self.prefix,
            query,
            cache=self.cache,
            source=self.source,
            refresh=refresh,
            clock=self._clock,
        )
        self._shown = 0
        self._final = False
        self.query_one(DataTable).clear()
        self.search.start()
        self.poll()
        self.refresh_bindings()
        return True

    def poll(self) -> None:
        """Append the new matches and redraw the progress line (called by the timer)."""
        search = self.search
        if search is None or self._final:
            return
        done = search.finished  # read first: once done, every match is in
        fresh = search.matches_since(self._shown)
        self._add_rows(fresh)
        self._shown += len(fresh)
        self._draw_progress()
        if done:
            self._final = True
            self.refresh_bindings()

    def _add_rows(self, entries: list[Entry]) -> None:
        table = self.query_one(DataTable)
        room = MAX_SHOWN - table.row_count
        if room <= 0 or not entries:
            return
        now = self._clock()
        cut = len(self.prefix)
        for entry in entries[:room]:
            mark = "●" if entry.key in self.marks else ""
            table.add_row(
                mark,
                Text(one_line(entry.key[cut:])),
                Text(size_text(entry.size), justify="right"),
                short_age(entry.last_modified, now),
                key=entry.key,
            )

    def _draw_progress(self) -> None:
        line = Text()
        if self._problem:
            line.append(one_line(self._problem), style="bold red")
        elif self.search is None:
            line.append("type a query, then enter", style="dim")
        else:
            line.append(self._progress_text(self.search.progress()))
        if self.marks.count:
            line.append(
                f"   marked: {_matches(self.marks.count)}, {size_text(self.marks.total_bytes)}",
                style="bold",
            )
        self.query_one("#search-progress", Static).update(line)

    def _progress_text(self, snap: SearchProgress) -> Text:
        text = Text()
        matches = _matches(snap.matches)
        examined = plural(snap.keys_examined, "key")
        if snap.from_cache:
            assert snap.listed_at is not None
            age = short_age(snap.listed_at, self._clock())
            text.append(f"{matches} among {examined} listed {age} ago (cached; r re-lists)")
        else:
            text.append(f"{matches} · {examined} examined")
            if snap.prefixes_total:
                text.append(f" · prefixes {snap.prefixes_done:,}/{snap.prefixes_total:,}")
                if not snap.level_done:
                    text.append("+")
        if not snap.done:
            text.append(f" · {snap.keys_per_second:,.0f} keys/s · searching…")
        elif snap.error is not None:
            text.append(f" · stopped: {one_line(snap.error.badge)}", style="bold red")
            text.append(f" {one_line(snap.error.message)}")
        elif snap.cancelled:
            text.append(" · stopped: partial", style="bold")
        elif snap.child_errors:
            first = snap.child_errors[0]
            text.append(
                f" · {plural(len(snap.child_errors), 'prefix')} failed"
                f" ({one_line(first.badge)} {one_line(first.key or '')}): partial",
                style="bold red",
            )
        else:
            text.append(" · complete")
        if snap.matches > MAX_SHOWN:
            text.append(f" · the first {MAX_SHOWN:,} are listed (+ marks all)")
        return text

    # -- query box ---------------------------------------------------------------------

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.start():
            self.query_one(DataTable).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """Follow the query as it is typed once the prefix is in the listing cache (no
        request); before that, enter starts the walk."""
        event.stop()
        if self.cache.get(self.source, self.level.bucket or "", self.prefix) is not None:
            self.start()

    # -- the list ----------------------------------------------------------------------

    def _cursor_key(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return key

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """List keys only while the list has the focus; stop only while searching."""
        if action in ("close", "edit_query", "help"):
            return True
        if action == "cancel_search":
            return not self._final
        if action in ("download", "delete", "clear_marks"):
            return bool(self.marks.count) and self._list_focused()
        return self._list_focused()

    def _list_focused(self) -> bool:
        return self.is_mounted and isinstance(self.focused, DataTable)

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    def action_jump(self) -> None:
        """Back to the tree, on the match under the cursor."""
        key = self._cursor_key()
        if key is not None:
            self._leave("jump", key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_jump()

    def _entry_of(self, key: str) -> Entry | None:
        search = self.search
        if search is None:
            return None
        row = search.rows.find(key)  # whole rows only, even while the search appends
        return search.rows.entry(row) if row is not None else None

    def action_toggle_mark(self) -> None:
        """Mark / unmark the match under the cursor and move down a row."""
        key = self._cursor_key()
        if key is None:
            return
        table = self.query_one(DataTable)
        entry = self._entry_of(key)
        self.marks.toggle(key, entry.size if entry is not None else None)
        table.update_cell(key, "mark", "●" if key in self.marks else "")
        table.action_cursor_down()
        self._marks_changed()

    def action_mark_all(self) -> None:
        """Mark every match found so far (those beyond the list's cap too)."""
        if self.search is None:
            return
        found = self.search.matches_since(0)
        self.marks.add_all((entry.key, entry.size) for entry in found)
        self._redraw_marks()

    def action_clear_marks(self) -> None:
        """Clear every mark."""
        self.marks.clear()
        self._redraw_marks()

    def _redraw_marks(self) -> None:
        table = self.query_one(DataTable)
        for row_key in list(table.rows):
            key = row_key.value
            if key is not None:
                table.update_cell(row_key, "mark", "●" if key in self.marks else "")
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._draw_progress()
        self.refresh_bindings()

    def action_download(self) -> None:
        """Back to the tree and download the marked matches."""
        if self.marks.count:
            self._leave("download")

    def action_delete(self) -> None:
        """Back to the tree and review deleting the marked matches."""
        if self.marks.count:
            self._leave("delete")

    def action_refresh(self) -> None:
        """Walk the prefix again, replacing its cached listing."""
        self.start(refresh=True)

    def action_cancel_search(self) -> None:
        """Stop the walk after the pages in flight; the matches so far stay."""
        if self.search is not None:
            self.search.cancel()

    def action_edit_query(self) -> None:
        """Focus the query box."""
        self.query_one(Input).focus()

    def action_close(self) -> None:
        """Back to the tree (a running search stops; marks go to the tree)."""
        self._leave("back")

    def marked_entries(self) -> tuple[Entry, ...]:
        """The marked matches, in the order they were found."""
        if self.search is None or not self.marks.count:
            return ()
        return tuple(e for e in self.search.matches_since(0) if e.key in self.marks)

    def _leave(self, action: OutcomeAction, key: str | None = None) -> None:
        if self.search is not None:
            self.search.cancel()
        query = self.query_one(Input).value
        self.dismiss(SearchOutcome(action, key, self.marked_entries(), query))

    def on_unmount(self) -> None:
        if self.search is not None:
            self.search.cancel()


__all__ = ["QUERY_HELP", "SearchOutcome", "SearchScreen"]
