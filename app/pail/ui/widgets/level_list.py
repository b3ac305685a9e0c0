"""The level list: one big bucket/prefix level as a virtual, sortable, filterable list.

A level that turns out to have more than one page (the point where the tree used to show
"load more…") is kept in a :class:`LevelListing` (the compact column store of
:mod:`pail.services.level`: ``LevelRows`` + ``LevelView`` + ``Marks``), not in tree nodes.
The tree shows one row for it ("▤ 1,000+ keys — open list"); enter on that row shows
:class:`LevelPanel` in the right-hand pane, above the detail pane.

:class:`LevelList` is a :class:`textual.scroll_view.ScrollView` whose
:meth:`~LevelList.render_line` builds a :class:`textual.strip.Strip` for the visible rows
only, as Textual's own ``Log`` and ``DataTable`` do: drawing cost depends on the pane's
height, never on the number of keys. Sorting and filtering change index arrays in the
view (no widget is rebuilt per keystroke).

Keys (the list has focus): ↑ ↓ pgup pgdn home; ``End``/``G`` load every remaining page
(progress line: keys, pages, keys/s; escape or ctrl+c cancels after the page in flight);
``S`` cycles the sort field (name, size, modified, class), ``R`` reverses it; ``/``
filters (substring, or a glob with ``* ? [``) as you type; space marks, ``+`` marks every
row the filter shows, ``u`` clears the marks; enter shows an object in the detail pane or
opens a prefix in the tree; escape (nothing loading) goes back to the tree. Scrolling to
within a screen of the end fetches the next page by itself.

Pages are fetched by the level's :class:`~pail.services.listing.LevelPager` in thread
workers, one fetch at a time per level (the pager consumes its continuation token, so a
fetch is never cancelled half-way: a cancelled load-all stops *between* pages).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input

from pail.core.text import one_line
from pail.core.units import plural, size_text
from pail.drivers.base import Entry, Page
from pail.drivers.errors import StorageError
from pail.services.jobs import start_daemon
from pail.services.level import LevelRows, LevelView, LoadAll, LoadProgress, Marks
from pail.services.listing import LevelPager
from pail.ui.failure import as_storage_error
from pail.ui.formatting import plural_so_far
from pail.ui.messages import WorkFailed
from pail.ui.nodes import NodeData
from pail.ui.workers import start_io

SortField = Literal["name", "size", "modified", "class"]
#: ``S`` cycles through these, in this order.
SORT_FIELDS: tuple[SortField, ...] = ("name", "size", "modified", "class")

#: Column widths in cells (name takes the rest).
_MARK_W, _SIZE_W, _TIME_W, _CLASS_W = 2, 10, 17, 14
#: Seconds between two takes of load-all pages into the list. The listing thread needs the
#: interpreter to parse the store's answers; taking each page in as it came (rows, view,
#: layout, frame, detail and tree redrawn) cost the main thread ~0.15 s a page and slowed
#: the load to ~1.8x the raw paginator on a fast store. Pages wait in order meanwhile.
LOAD_BATCH_SECONDS = 1.0


@dataclass(eq=False)
class LevelListing:
    """What one big level has listed, in compact columns, and how it is shown.

    Attributes:
        level: the tree's bucket/prefix node data the rows belong to.
        pager: fetches the next page (shared with the tree's first request).
        generation: ``level.generation`` when the listing was made; pages of another
            generation (the level was listed again) are dropped.
        rows, view, marks: the column store, its order + filter, the marked keys.
        sort_by, descending, filter: the view's current settings.
        fetching: a page request is in flight (at most one per level).
        load_all: a load-all is in progress or asked for (End while a page was in flight).
        job: the running :class:`~pail.services.level.LoadAll`, if any.
        cancelled: the last load-all was cancelled (the progress line says so).
        error: the last page request's failure, if any.
        cursor: the cursor's position in the view.
        waiting: load-all pages arrived but not yet taken in (see LOAD_BATCH_SECONDS).
    """

    level: NodeData
    pager: LevelPager
    generation: int
    rows: LevelRows = field(init=False)
    view: LevelView = field(init=False)
    marks: Marks = field(default_factory=Marks)
    sort_by: SortField = "name"
    descending: bool = False
    filter: str = ""
    fetching: bool = False
    load_all: bool = False
    job: LoadAll | None = None
    cancelled: bool = False
    error: StorageError | None = None
    cursor: int = 0
    waiting: list[tuple[Entry, ...]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = LevelRows(self.level.key)
        self.view = LevelView(self.rows)

    @property
    def has_more(self) -> bool:
        """True while the pager has further pages."""
        return self.pager.has_more

    @property
    def current(self) -> bool:
        """False once the level was listed again (this listing is then stale)."""
        return self.generation == self.level.generation

    def add_page(self, entries: Iterable[Entry]) -> None:
        """Append a page (as listed) and take it into the view (incremental)."""
        self.rows.extend(entries)
        self.view.update()

    def node_for_row(self, row: int) -> NodeData:
        """Node data (as the tree would make it) for row ``row`` of :attr:`rows`."""
        return self.level.child_for_entry(self.rows.entry(row))

    def marked_nodes(self) -> list[NodeData]:
        """The marked keys as node data (for the download and delete flows), in listing
        order. Built on demand: marks themselves are only keys and sizes."""
        out: list[NodeData] = []
        if not self.marks.count:
            return out
        for row in range(len(self.rows)):
            if self.rows.key(row) in self.marks:
                out.append(self.node_for_row(row))
        return out

    def status_text(self) -> str:
        """The line under the list: rows shown of listed, marks, loading state."""
        shown, listed = len(self.view), len(self.rows)
        keys = plural_so_far(listed, "key", self.has_more)
        parts = [f"{shown:,} of {keys}" if self.filter else keys]
        order = "↓" if self.descending else "↑"
        parts.append(f"sort: {self.sort_by} {order}")
        if self.marks.count:
            parts.append(f"{self.marks.count:,} marked ({size_text(self.marks.total_bytes)})")
        if self.load_all:
            job = self.job
            rate = job.progress().keys_per_second if job is not None else 0.0
            cancelling = " cancelling…" if job is not None and job.cancelled else " (esc cancels)"
            parts.append(
                f"loading all: {plural(listed, 'key')}, {plural(self.pager.pages_loaded, 'page')}, "
                f"{rate:,.0f} keys/s{cancelling}"
            )
        elif self.fetching:
            parts.append("loading…")
        elif self.cancelled and self.has_more:
            parts.append("load-all cancelled (End: resume)")
        if self.error is not None:
            parts.append(f"failed: {one_line(self.error.badge)} (End: retry)")
        return "  ·  ".join(parts)


class PageArrived(Message):
    """A page of a big level was listed (posted to the :class:`LevelList`)."""

    def __init__(
        self, listing: LevelListing, generation: int, entries: tuple[Entry, ...], last: bool
    ) -> None:
        super().__init__()
        self.listing = listing
        self.generation = generation
        self.entries = entries
        #: No further page will come from this worker (load-all ended, or a single fetch).
        self.last = last


class LoadEnded(Message):
    """A load-all job of a big level ended (last page, cancel or failure)."""

    def __init__(self, listing: LevelListing, generation: int, progress: LoadProgress) -> None:
        super().__init__()
        self.listing = listing
        self.generation = generation
        self.progress = progress


class LevelList(ScrollView, can_focus=True):
    """The virtual list of one :class:`LevelListing` (see the module doc)."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "home", "First", show=False),
        Binding(
            "end,G",
            "load_all",
            "Load all",
            key_display="G",
            tooltip="Load every page (progress: keys, pages, keys/s)",
            id="list.load_all",
        ),
        Binding(
            "escape,ctrl+c",
            "cancel",
            "Cancel / back",
            key_display="esc",
            tooltip="Stop loading all (after the page in flight); else back to the tree",
            id="list.cancel",
        ),
        Binding(
            "S",
            "cycle_sort",
            "Sort",
            key_display="S",
            tooltip="Sort by the next field: name, size, modified, class",
            id="list.sort",
        ),
        Binding(
            "R",
            "reverse",
            "Reverse",
            key_display="R",
            show=False,
            tooltip="Reverse the order",
            id="list.reverse",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            tooltip="Filter as you type (substring; glob with * ? [)",
            id="list.filter",
        ),
        Binding("space", "toggle_mark", "Mark", tooltip="Mark / unmark the row", id="list.mark"),
        Binding(
            "plus",
            "mark_shown",
            "Mark all",
            key_display="+",
            tooltip="Mark every row shown",
            id="list.mark_all",
        ),
        Binding(
            "asterisk",
            "invert_shown",
            "Invert marks",
            show=False,
            tooltip="Invert the marks of the rows shown",
            id="list.invert",
        ),
        Binding(
            "u",
            "clear_marks",
            "Unmark all",
            show=False,
            tooltip="Clear the marks",
            id="list.clear_marks",
        ),
        Binding(
            "enter",
            "choose",
            "Open",
            tooltip="Object: detail and preview; prefix: open it in the tree",
            id="list.open",
        ),
    ]

    COMPONENT_CLASSES = {
        "level-list--cursor",
        "level-list--prefix",
        "level-list--meta",
        "level-list--mark",
    }

    DEFAULT_CSS = """
    LevelList { height: 1fr; overflow-x: hidden; }
    LevelList > .level-list--cursor { background: $accent 40%; }
    LevelList:focus > .level-list--cursor { background: $accent; color: $text; }
    LevelList > .level-list--prefix { color: $secondary; text-style: bold; }
    LevelList > .level-list--meta { color: $text-muted; }
    LevelList > .level-list--mark { color: $warning; text-style: bold; }
    """

    class Chosen(Message):
        """Enter on a row: ``data`` is an object or prefix of the listing's level."""

        def __init__(self, data: NodeData) -> None:
            super().__init__()
            self.data = data

    class FilterRequested(Message):
        """``/`` was pressed: the panel opens its filter input."""

    class Closed(Message):
        """Escape with nothing to cancel: back to the tree."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.listing: LevelListing | None = None

    # -- showing a listing ---------------------------------------------------------------

    def show(self, listing: LevelListing | None) -> None:
        """Show ``listing`` (keeps its own cursor, sort and filter)."""
        self.listing = listing
        self._changed(scroll=True)
        self._maybe_fetch()

    def _changed(self, *, scroll: bool = False) -> None:
        listing = self.listing
        count = len(listing.view) if listing is not None else 0
        self.virtual_size = Size(self.scrollable_content_region.width, count)
        if listing is not None:
            listing.cursor = max(0, min(listing.cursor, count - 1))
            if scroll:
                self._scroll_to_cursor()
        self.refresh()

    def on_resize(self, event: Resize) -> None:
        self._changed()
        if self.listing is not None:  # the header's columns follow the width
            self.post_message(ListingChanged(self.listing))

    # -- drawing -------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        """Row ``y`` of the visible region: built from the column store on demand."""
        width = self.scrollable_content_region.width
        listing = self.listing
        position = self.scroll_offset.y + y
        base = self.rich_style
        if listing is None or position >= len(listing.view):
            return Strip.blank(width, base)
        row = listing.view.index(position)
        rows = listing.rows
        key = rows.key(row)
        prefix = rows.is_prefix(row)
        name = one_line(rows.name(row) or key)
        style = base
        if position == listing.cursor:
            style = base + self.get_component_rich_style("level-list--cursor")
        meta = style + self.get_component_rich_style("level-list--meta", partial=True)
        name_style = style
        if prefix:
            name_style = style + self.get_component_rich_style("level-list--prefix", partial=True)
        marked = key in listing.marks
        mark_style = style + self.get_component_rich_style("level-list--mark", partial=True)
        size = rows.size(row)
        modified = rows.modified(row)
        klass = rows.storage_class(row)
        name_w = max(8, width - _MARK_W - _SIZE_W - _TIME_W - _CLASS_W - 3)
        segments = [
            Segment("● " if marked else "  ", mark_style),
            Segment(_fit(name, name_w), name_style),
            Segment(" " + _right("" if size is None else size_text(size), _SIZE_W), meta),
            Segment(" " + _fit(_stamp(modified), _TIME_W), meta),
            Segment(" " + _fit(one_line(klass or ""), _CLASS_W), meta),
        ]
        return Strip(segments).crop_extend(0, width, style)

    # -- cursor and scrolling --------------------------------------------------------------

    def _scroll_to_cursor(self) -> None:
        listing = self.listing
        if listing is None:
            return
        top, height = self.scroll_offset.y, max(1, self.size.height)
        if listing.cursor < top:
            self.scroll_to(y=listing.cursor, animate=False, immediate=True)
        elif listing.cursor >= top + height:
            self.scroll_to(y=listing.cursor - height + 1, animate=False, immediate=True)

    def move_to(self, position: int) -> None:
        """Put the cursor on view position ``position`` (clamped) and scroll to it."""
        listing = self.listing
        if listing is None or not len(listing.view):
            return
        listing.cursor = max(0, min(position, len(listing.view) - 1))
        listing.cancelled = False  # the user moves on: scrolling fetches again
        self._scroll_to_cursor()
        self.refresh()
        self._maybe_fetch()

    def action_cursor(self, step: int) -> None:
        if self.listing is not None:
            self.move_to(self.listing.cursor + step)

    def action_page(self, direction: int) -> None:
        if self.listing is not None:
            self.move_to(self.listing.cursor + direction * max(1, self.size.height - 1))

    def action_home(self) -> None:
        self.move_to(0)

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._maybe_fetch()

    def on_click(self, event: Click) -> None:  # a row click moves the cursor there
        self.move_to(self.scroll_offset.y + event.y)

    # -- loading -------------------------------------------------------------------------

    def _maybe_fetch(self) -> None:
        """Fetch the next page when the screen shows (or nearly shows) the last rows."""
        listing = self.listing
        if listing is None or not listing.has_more or listing.fetching or listing.load_all:
            return
        if not listing.current or listing.error is not None or listing.cancelled:
            return  # after a failure or a cancel, only a key the user presses goes on
        height = max(1, self.size.height)
        if self.scroll_offset.y + 2 * height >= len(listing.view):
            self._fetch(listing)

    def _fetch(self, listing: LevelListing) -> None:
        """Fetch the next page (one request, in a thread worker)."""
        listing.fetching = True
        listing.error = None
        pager, generation = listing.pager, listing.generation

        def work() -> PageArrived:
            page = pager.fetch_next()
            return PageArrived(listing, generation, page.entries, True)

        group = f"level-list-{id(listing):x}"
        start_io(self, work, target=listing, generation=generation, group=group)
        self._changed()

    def _load_all(self, listing: LevelListing) -> None:
        """Run :class:`~pail.services.level.LoadAll` on the level's pager: each page is
        posted here as it arrives, then :class:`LoadEnded`. Both come from daemon threads
        (the job's, and one that waits for it), so quitting never waits for a load."""
        listing.fetching = listing.load_all = True
        listing.error = None
        listing.cancelled = False
        generation = listing.generation

        def on_page(page: Page) -> None:  # on the job's thread, in listing order
            self.post_message(PageArrived(listing, generation, page.entries, False))

        job = LoadAll(listing.pager, on_page)
        listing.job = job

        def wait() -> None:
            try:
                progress = job.run()
            except Exception as exc:  # a bug in the job: the error route, no traceback
                self.post_message(WorkFailed(self, listing, generation, as_storage_error(exc)))
                return
            self.post_message(LoadEnded(listing, generation, progress))

        start_daemon(wait, "pail-load-all-wait")
        self._changed()

    def on_page_arrived(self, message: PageArrived) -> None:
        listing = message.listing
        if message.generation != listing.generation or not listing.current:
            return
        if not message.last:  # a load-all page: taken in with the others in a moment
            if not listing.waiting:
                self.set_timer(LOAD_BATCH_SECONDS, lambda: self._take_waiting(listing))
            listing.waiting.append(message.entries)
            return
        self._take(listing, message.entries, last=True)

    def _take_waiting(self, listing: LevelListing) -> None:
        """Take in the load-all pages that arrived since the last take, in order."""
        pages, listing.waiting = listing.waiting, []
        if pages and listing.current:
            self._take(listing, tuple(e for page in pages for e in page), last=False)

    def _take(self, listing: LevelListing, entries: tuple[Entry, ...], *, last: bool) -> None:
        key = self._cursor_key(listing)
        # A cursor on the last row follows the rows as they arrive (End, then reading).
        at_end = len(listing.view) > 0 and listing.cursor >= len(listing.view) - 1
        listing.add_page(entries)
        follow = at_end and listing.load_all and listing.sort_by == "name"
        if follow and not listing.descending:
            key = self._last_key(listing)
        if last:  # a single fetch ended
            listing.fetching = False
            if listing.load_all and listing.has_more:
                self._load_all(listing)  # End was pressed while it was in flight
            else:
                listing.load_all = False
        self._after_rows(listing, key, scroll=follow)

    def on_load_ended(self, message: LoadEnded) -> None:
        listing = message.listing
        if message.generation != listing.generation or not listing.current:
            return
        self._take_waiting(listing)  # the last pages (the ended message comes after them)
        progress = message.progress
        listing.fetching = listing.load_all = False
        listing.job = None
        listing.error = progress.error
        listing.cancelled = progress.cancelled and listing.has_more
        self._after_rows(listing, self._cursor_key(listing))

    def _after_rows(self, listing: LevelListing, key: str | None, *, scroll: bool = False) -> None:
        if listing is self.listing:
            self._keep_cursor(listing, key)
            self._changed(scroll=scroll)
            self._maybe_fetch()
        self.post_message(ListingChanged(listing))

    def show_failure(self, message: WorkFailed) -> None:
        """A page request failed (the app's error route): say so in the status line; End
        retries from the same page (the pager did not move)."""
        listing = message.target
        if not isinstance(listing, LevelListing) or message.generation != listing.generation:
            return
        listing.fetching = listing.load_all = False
        listing.job = None
        listing.error = message.error
        self._changed()
        self.post_message(ListingChanged(listing))

    def action_load_all(self) -> None:
        """Load every remaining page (or, all loaded, go to the last row)."""
        listing = self.listing
        if listing is None:
            return
        if listing.has_more and not listing.load_all:
            if listing.fetching:  # a single page is in flight: go on once it is in
                listing.load_all = True
                self._changed()
            else:
                self._load_all(listing)
        self.move_to(len(listing.view) - 1)

    def action_cancel(self) -> None:
        """Cancel a load-all in progress (after the page in flight), else back to the tree."""
        listing = self.listing
        if listing is not None and listing.load_all:
            if listing.job is not None:
                listing.job.cancel()  # stops after the page in flight
            else:  # End pressed while a single page was in flight: just do not go on
                listing.load_all = False
                listing.cancelled = listing.has_more
            self._changed()
            self.post_message(ListingChanged(listing))
            return
        self.post_message(self.Closed())

    # -- sort and filter -----------------------------------------------------------------

    def action_cycle_sort(self) -> None:
        """``S``: the next sort field (name → size → modified → class → name)."""
        listing = self.listing
        if listing is None:
            return
        index = SORT_FIELDS.index(listing.sort_by)
        self.sort(SORT_FIELDS[(index + 1) % len(SORT_FIELDS)], listing.descending)

    def action_reverse(self) -> None:
        """``R``: reverse the current order."""
        if self.listing is not None:
            self.sort(self.listing.sort_by, not self.listing.descending)

    def sort(self, by: SortField, descending: bool = False) -> None:
        """Order the rows by ``by``; the cursor stays on its key."""
        listing = self.listing
        if listing is None:
            return
        key = self._cursor_key(listing)
        listing.sort_by, listing.descending = by, descending
        listing.view.set_sort(by, descending)
        self._keep_cursor(listing, key)
        self._changed(scroll=True)
        self.post_message(ListingChanged(listing))

    def set_filter(self, text: str) -> None:
        """Show only rows whose name matches ``text`` (see ``LevelView.set_filter``)."""
        listing = self.listing
        if listing is None or listing.filter == text:
            return
        key = self._cursor_key(listing)
        listing.filter = text
        listing.view.set_filter(text)
        self._keep_cursor(listing, key)
        self._changed(scroll=True)
        self.post_message(ListingChanged(listing))

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested())

    @staticmethod
    def _cursor_key(listing: LevelListing) -> str | None:
        if not len(listing.view):
            return None
        return listing.rows.key(listing.view.index(min(listing.cursor, len(listing.view) - 1)))

    @staticmethod
    def _last_key(listing: LevelListing) -> str | None:
        count = len(listing.view)
        return listing.rows.key(listing.view.index(count - 1)) if count else None

    @staticmethod
    def _keep_cursor(listing: LevelListing, key: str | None) -> None:
        position = listing.view.position_of(key) if key is not None else None
        if position is not None:
            listing.cursor = position

    # -- marks and enter -----------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark / unmark the row at the cursor and move down a row."""
        listing = self.listing
        if listing is None or not len(listing.view):
            return
        row = listing.view.index(listing.cursor)
        listing.marks.toggle(listing.rows.key(row), listing.rows.size(row))
        self.post_message(ListingChanged(listing))
        self.move_to(listing.cursor + 1)
        self._changed()

    def action_mark_shown(self) -> None:
        """``+``: mark every row the filter shows (all rows without a filter)."""
        listing = self.listing
        if listing is None:
            return
        view, rows = listing.view, listing.rows
        listing.marks.add_all(
            (rows.key(view.index(p)), rows.size(view.index(p))) for p in range(len(view))
        )
        self._changed()
        self.post_message(ListingChanged(listing))

    def action_invert_shown(self) -> None:
        """``*``: invert the marks of the rows the filter shows."""
        listing = self.listing
        if listing is None:
            return
        view, rows = listing.view, listing.rows
        for position in range(len(view)):
            row = view.index(position)
            listing.marks.toggle(rows.key(row), rows.size(row))
        self._changed()
        self.post_message(ListingChanged(listing))

    def action_clear_marks(self) -> None:
        if self.listing is not None:
            self.listing.marks.clear()
            self._changed()
            self.post_message(ListingChanged(self.listing))

    def action_choose(self) -> None:
        """Enter: the row's object (detail pane) or prefix (opened in the tree)."""
        listing = self.listing
        if listing is None or not len(listing.view):
            return
        self.post_message(self.Chosen(listing.node_for_row(listing.view.index(listing.cursor))))

    def cursor_data(self) -> NodeData | None:
        """Node data of the row at the cursor (built on demand), if any."""
        listing = self.listing
        if listing is None or not len(listing.view):
            return None
        return listing.node_for_row(listing.view.index(listing.cursor))


class ListingChanged(Message):
    """Rows, order, filter, marks or loading state of ``listing`` changed. ``redraw``:
    sent from outside the level list (the tree's ``u``), so the list must repaint too."""

    def __init__(self, listing: LevelListing, *, redraw: bool = False) -> None:
        super().__init__()
        self.listing = listing
        self.redraw = redraw


class OpenListing(Message):
    """Show ``listing`` in the level list (enter on a big level's "open list" row)."""

    def __init__(self, listing: LevelListing) -> None:
        super().__init__()
        self.listing = listing


class LevelFilter(Input):
    """The list's filter input: narrows as you type; enter keeps, escape clears."""

    BINDINGS = [Binding("escape", "clear", "Clear filter", id="list_filter.clear")]

    class Done(Message):
        """The filter input closed (``cleared``: by escape)."""

        def __init__(self, cleared: bool) -> None:
            super().__init__()
            self.cleared = cleared

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done(cleared=False))

    def action_clear(self) -> None:
        self.value = ""
        self.post_message(self.Done(cleared=True))


class PanelLine(Widget):
    """One line of plain text (the panel's title, column header and status line). Setting
    it repaints the line only: a ``Static``'s update asks for a new layout of the whole
    screen (about 70 ms with the tree and detail beside it), and the status line changes
    with every page of a load."""

    DEFAULT_CSS = "PanelLine { height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text()

    def show(self, text: Text) -> None:
        """Show ``text`` (never markup); nothing is repainted when it did not change."""
        if text.plain == self._text.plain and text.spans == self._text.spans:
            return
        self._text = text
        self.refresh()

    def render(self) -> Text:
        return self._text


class LevelPanel(Vertical):
    """Title, column header, the list, its filter input and its status line."""

    DEFAULT_CSS = """
    LevelPanel { height: 3fr; border-bottom: solid $primary; }
    LevelPanel > #level-title { height: 1; text-style: bold; }
    LevelPanel > #level-head { height: 1; color: $text-muted; }
    LevelPanel > #level-filter { height: 3; }
    LevelPanel > #level-status { height: 1; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield PanelLine(id="level-title")
        yield PanelLine(id="level-head")
        yield LevelList(id="level-list")
        yield LevelFilter(placeholder="filter the list… (glob: * ? [)", id="level-filter")
        yield PanelLine(id="level-status")

    def on_mount(self) -> None:
        self.query_one(LevelFilter).display = False

    @property
    def level_list(self) -> LevelList:
        """The list widget."""
        return self.query_one(LevelList)

    def show(self, listing: LevelListing) -> None:
        """Show ``listing`` and focus the list."""
        filt = self.query_one(LevelFilter)
        filt.display = bool(listing.filter)
        filt.value = listing.filter
        self.level_list.show(listing)
        self.query_one("#level-title", PanelLine).show(Text(one_line(listing.level.uri)))
        self._redraw_lines(listing)
        self.level_list.focus()

    def _redraw_lines(self, listing: LevelListing) -> None:
        width = max(20, self.level_list.scrollable_content_region.width or self.size.width)
        name_w = max(8, width - _MARK_W - _SIZE_W - _TIME_W - _CLASS_W - 3)
        head = (
            " " * _MARK_W
            + _fit("name", name_w)
            + " "
            + _right("size", _SIZE_W)
            + " "
            + _fit("modified (UTC)", _TIME_W)
            + " "
            + _fit("class", _CLASS_W)
        )
        self.query_one("#level-head", PanelLine).show(Text(head))
        self.query_one("#level-status", PanelLine).show(Text(listing.status_text()))

    def on_listing_changed(self, message: ListingChanged) -> None:
        if message.listing is self.level_list.listing:
            self._redraw_lines(message.listing)

    def on_level_list_filter_requested(self, message: LevelList.FilterRequested) -> None:
        message.stop()
        filt = self.query_one(LevelFilter)
        filt.display = True
        filt.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "level-filter":
            event.stop()
            self.level_list.set_filter(event.value)

    def on_level_filter_done(self, message: LevelFilter.Done) -> None:
        message.stop()
        if message.cleared:
            self.level_list.set_filter("")
            self.query_one(LevelFilter).display = False
        self.level_list.focus()


def _fit(text: str, width: int) -> str:
    """``text`` cut with "…" or padded to ``width`` cells (wide characters count two)."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    return set_cell_size(text, width)


def _right(text: str, width: int) -> str:
    return text[:width].rjust(width)


def _stamp(when: datetime | None) -> str:
    return "" if when is None else when.strftime("%Y-%m-%d %H:%M")
