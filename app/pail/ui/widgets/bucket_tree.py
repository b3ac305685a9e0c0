"""The lazy tree: connections -> buckets -> prefixes -> objects, one level at a time.

Modelled on Textual's ``DirectoryTree``: a level is listed when its node is first
expanded, in a worker thread, with a "loading…" child meanwhile. Bucket and prefix levels
are paged through :class:`pail.services.listing.LevelPager` (1,000 keys a page): the first
page shows as soon as it arrives and a final "load more…" child fetches the next one, so
a level of 100,000 keys never has to be listed whole before rows show.

Every (re)load bumps the level's generation; results of older generations (a refresh or a
collapse happened meanwhile) are dropped on arrival. A failed listing leaves a badge on its
node ("403 AccessDenied"); the detail pane shows the rest. Labels are built from
:class:`rich.text.Text`, never markup, so key names show literally.

Marks (space) are drawn and kept by :class:`~pail.ui.widgets.tree_marks.MarkedTree`.

A level whose first page says more follow becomes a *big level*: its rows go into a
:class:`~pail.ui.widgets.level_list.LevelListing` (compact columns, no tree nodes) and the
node gets a single child row, "▤ 1,000+ keys — open list", whose enter posts
:class:`~pail.ui.widgets.level_list.OpenListing` (the screen shows the level list). Tree
rows cost Textual's ``Tree`` a rebuild of every line on each change, so a level of
thousands of keys is never drawn as nodes; prefixes opened from the list get nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode

from pail.core.connection import ConnectionSpec
from pail.core.text import one_line
from pail.drivers.base import StorageDriver
from pail.services.listing import LevelPager, list_buckets
from pail.ui.access_text import has_failure
from pail.ui.failure import UnexpectedError
from pail.ui.formatting import plural_so_far
from pail.ui.messages import (
    BucketsListed,
    ConnectionResolved,
    DriverOpened,
    LevelUpdated,
    PageListed,
    WorkFailed,
)
from pail.ui.nodes import Connection, NodeData, NodeKind, connection_children
from pail.ui.widgets.level_list import LevelListing, ListingChanged, OpenListing
from pail.ui.widgets.tree_marks import MarkedTree
from pail.ui.workers import start_io

if TYPE_CHECKING:
    from pail.credentials import Resolved

DriverFactory = Callable[[ConnectionSpec], StorageDriver]
Resolver = Callable[[ConnectionSpec], "Resolved"]

#: Keys fetched per page: S3's ListObjectsV2 maximum.
PAGE_SIZE = 1000


class BucketTree(MarkedTree):
    """Tree of connections, buckets, prefixes and objects, loaded lazily in workers.

    Args:
        connections: one root node per connection, in order; opened when the tree mounts.
        driver_factory: builds a driver for a connection; called in a worker thread the
            first time the connection is expanded (it may be slow or raise).
        resolver: resolves a connection's credentials first (``credentials.resolve``: it
            may block on a keyring unlock, so it runs in the same worker); the driver is
            built from the resolved spec. ``None``: the factory gets the spec as given.
        saved: further roots (saved connections) left closed until the user opens them,
            so their credentials are only resolved when needed.
    """

    # Like ranger/lf/mc's tree: right opens a level (or steps into it), left closes it
    # (or steps out to the parent).
    BINDINGS = [
        Binding(
            "right",
            "expand_or_enter",
            "Expand",
            key_display="→",
            show=False,
            tooltip="Expand, or step into an expanded node",
            id="tree.expand",
        ),
        Binding(
            "left",
            "collapse_or_parent",
            "Collapse",
            key_display="←",
            show=False,
            tooltip="Collapse, or step out to the parent",
            id="tree.collapse",
        ),
    ]

    COMPONENT_CLASSES = {
        "bucket-tree--connection",
        "bucket-tree--bucket",
        "bucket-tree--prefix",
        "bucket-tree--object",
        "bucket-tree--placeholder",
        "bucket-tree--more",
        "bucket-tree--meta",
        "bucket-tree--badge",
        "bucket-tree--mark",
    }

    def __init__(
        self,
        connections: list[ConnectionSpec],
        driver_factory: DriverFactory,
        *,
        resolver: Resolver | None = None,
        saved: Iterable[ConnectionSpec] = (),
        id: str | None = None,
    ) -> None:
        # node id -> (node._updates, width): rows are re-measured only when they change.
        self._widths: dict[NodeID, tuple[int, int]] = {}
        super().__init__("pail", id=id)
        self.show_root = False
        self.guide_depth = 3
        self._driver_factory = driver_factory
        self._resolver = resolver
        self._highlighted: TreeNode[NodeData] | None = None
        #: Big levels (more than one page), by ``id(level data)``.
        self.listings: dict[int, LevelListing] = {}
        #: Show only failing nodes and their ancestors (``F``; see :meth:`set_failing_only`).
        self.failing_only = False
        #: Called in the opening worker with ``(connection, driver)`` once a driver is
        #: built (the screen asks who the connection is; it must not raise).
        self.driver_ready: Callable[[Connection, StorageDriver], None] | None = None
        self._open_at_mount = [self.add_connection(spec) for spec in connections]
        for spec in saved:
            self.add_connection(spec)

    def on_mount(self) -> None:
        """Open the given connections (in workers) and put the cursor on the first row."""
        for node in self._open_at_mount:
            node.expand()
        if self.root.children:
            self.cursor_line = 0

    # -- connections (the roots) -----------------------------------------------------------

    def add_connection(self, spec: ConnectionSpec) -> TreeNode[NodeData]:
        """Add a root for ``spec`` (closed: it opens when expanded)."""
        return self._add_view(self.root, NodeData("connection", Connection(spec), spec.name))

    def connection_node(self, name: str) -> TreeNode[NodeData] | None:
        """The root of the connection called ``name``, if there is one."""
        for node in self.root.children:
            if node.data is not None and node.data.conn.spec.name == name:
                return node
        return None

    def remove_connection(self, name: str) -> None:
        """Remove the root of connection ``name`` and drop its in-flight listings."""
        node = self.connection_node(name)
        if node is None or node.data is None:
            return
        node.data.generation += 1
        self.workers.cancel_group(self, _group(node.data))
        node.remove()

    def reopen_connection(self, name: str, spec: ConnectionSpec) -> TreeNode[NodeData] | None:
        """Give connection ``name`` new settings (``spec``, maybe renamed) and, if it was
        open, open it again: credentials are resolved anew and a new driver is built."""
        node = self.connection_node(name)
        if node is None or node.data is None:
            return None
        data = node.data
        was_open = data.loaded or node.is_expanded
        data.conn.reset(spec)
        data.name = spec.name
        node.set_label(Text(one_line(spec.name)))
        self._reset_level(node)
        if was_open:
            if node.is_expanded:
                self._start_level(node)
            else:
                node.expand()
        return node

    def _add_view(self, parent: TreeNode[NodeData], data: NodeData) -> TreeNode[NodeData]:
        node = parent.add(
            Text(one_line(data.name)),
            data,
            expand=data.expanded,
            allow_expand=data.is_level,
        )
        data.node_id = node.id
        if data.loaded:
            self._render_children(node)
        return node

    def _render_children(self, node: TreeNode[NodeData]) -> None:
        """Rebuild the visible children of a level from its data (filter applied)."""
        data = node.data
        assert data is not None
        node.remove_children()
        for child in data.visible_children():
            if self.failing_only and not has_failure(child):
                continue
            self._add_view(node, child)
        self._render_tail(node)

    def _render_tail(self, node: TreeNode[NodeData]) -> None:
        """Replace the trailing placeholder rows of a level with the right one."""
        data = node.data
        assert data is not None
        for child in list(node.children):
            if child.data is not None and child.data.is_placeholder:
                child.remove()
        tail: tuple[NodeKind, str] | None = None
        listing = self.listings.get(id(data))
        if listing is not None:
            tail = ("list", _list_label(listing))
        elif data.loading:
            tail = ("loading", "loading…")
        elif data.has_more and data.children:
            tail = ("more", f"load more…  ({len(data.children):,} listed)")
        elif data.error is None and not node.children:
            tail = ("note", "(no match)" if data.children else "(empty)")
        if tail is not None:
            node.add_leaf(Text(tail[1]), data.placeholder(*tail))
        node.refresh()
        self.post_message(LevelUpdated(data))
        self.call_after_refresh(self._sync_highlight)

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        self._highlighted = event.node

    def _sync_highlight(self) -> None:
        """Announce the node under the cursor when rows changed beneath it.

        Tree only posts NodeHighlighted when the cursor *line* changes; when "load more…"
        is replaced by the next page, the line stays and the node under it changes.
        """
        node = self.cursor_node
        if node is not None and node is not self._highlighted:
            self.post_message(Tree.NodeHighlighted(node))

    # -- keys ------------------------------------------------------------------------------

    def action_expand_or_enter(self) -> None:
        """Expand the level under the cursor; if it is already open, move to its first row."""
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])

    def action_collapse_or_parent(self) -> None:
        """Collapse the open level under the cursor; otherwise move to the parent row."""
        node = self.cursor_node
        if node is None:
            return
        if node.allow_expand and node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    # -- loading ---------------------------------------------------------------------------

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NodeData]) -> None:
        data = event.node.data
        if data is None or not data.is_level:
            return
        data.expanded = True
        if not data.loaded:
            self._start_level(event.node)

    def on_tree_node_collapsed(self, event: Tree.NodeCollapsed[NodeData]) -> None:
        data = event.node.data
        if data is None or not data.is_level:
            return
        data.expanded = False
        if data.loading:  # drop the in-flight page; expanding again starts afresh
            self._reset_level(event.node)

    def on_tree_node_selected(self, event: Tree.NodeSelected[NodeData]) -> None:
        data = event.node.data
        if data is not None and data.kind == "more" and event.node.parent is not None:
            self.load_more(event.node.parent)
        if data is not None and data.kind == "list" and data.parent is not None:
            listing = self.listings.get(id(data.parent))
            if listing is not None:
                self.post_message(OpenListing(listing))

    def _reset_level(self, node: TreeNode[NodeData]) -> None:
        data = node.data
        assert data is not None
        data.generation += 1
        self.workers.cancel_group(self, _group(data))
        self._drop_marks_under(data)
        self._drop_listings(data)
        data.loaded = data.loading = data.has_more = False
        data.pager = None
        data.children = []
        node.remove_children()
        node.refresh()

    def _start_level(self, node: TreeNode[NodeData]) -> None:
        """(Re)list a level from its first page."""
        data = node.data
        assert data is not None
        data.generation += 1
        self._drop_marks_under(data)
        self._drop_listings(data)
        data.loaded = data.loading = True
        data.has_more = False
        data.error = None
        data.children = []
        data.pager = None
        node.remove_children()
        self._render_tail(node)
        generation = data.generation
        work: Callable[[], BucketsListed | PageListed]
        if data.kind == "connection":
            work = self._connection_work(data, generation)
        else:
            driver = data.conn.driver
            if driver is None or data.bucket is None:
                error = UnexpectedError(
                    "the connection is not open", provider=data.conn.spec.provider
                )
                self.post_message(WorkFailed(self, data, generation, error))
                return
            pager = LevelPager(driver, data.bucket, data.key, page_size=PAGE_SIZE)
            data.pager = pager
            work = self._page_work(data, generation, pager)
        start_io(self, work, target=data, generation=generation, group=_group(data))

    def load_more(self, node: TreeNode[NodeData]) -> None:
        """Fetch the next page of the level ``node`` and append it in place."""
        data = node.data
        if data is None or data.loading or data.pager is None or not data.has_more:
            return
        data.loading = True
        data.error = None
        self._render_tail(node)
        work = self._page_work(data, data.generation, data.pager)
        start_io(self, work, target=data, generation=data.generation, group=_group(data))

    def _connection_work(self, data: NodeData, generation: int) -> Callable[[], BucketsListed]:
        conn = data.conn
        factory, resolver = self._driver_factory, self._resolver

        def work() -> BucketsListed:
            driver = conn.driver
            if driver is None:
                spec = conn.spec
                if resolver is not None:
                    resolved = resolver(spec)
                    self.post_message(ConnectionResolved(data, generation, resolved))
                    spec = resolved.spec
                driver = factory(spec)
                self.post_message(DriverOpened(data, generation, driver))
                ready = self.driver_ready
                if ready is not None:  # who the connection is, before its first listing
                    ready(conn, driver)
            return BucketsListed(data, generation, tuple(list_buckets(driver)))

        return work

    def on_connection_resolved(self, message: ConnectionResolved) -> None:
        # Not stopped: the screen shows the source in the status bar too.
        if message.generation == message.target.generation:
            message.target.conn.resolved = message.resolved

    @staticmethod
    def _page_work(data: NodeData, generation: int, pager: LevelPager) -> Callable[[], PageListed]:
        def work() -> PageListed:
            page = pager.fetch_next()
            return PageListed(data, generation, page.entries, pager.has_more)

        return work

    def on_driver_opened(self, message: DriverOpened) -> None:
        if message.generation != message.target.generation:
            return  # the connection was reset (new secrets) while this one was opening
        if message.target.conn.driver is None:
            message.target.conn.driver = message.driver

    def on_buckets_listed(self, message: BucketsListed) -> None:
        data = message.target
        if message.generation != data.generation:
            return
        data.loading = False
        data.children = connection_children(data.conn, data, list(message.buckets))
        self._show_level(data)

    def on_page_listed(self, message: PageListed) -> None:
        data = message.target
        if message.generation != data.generation:
            return
        data.loading = False
        data.has_more = message.has_more
        if message.has_more and data.pager is not None and not data.children:
            # The first page of a big level: its rows go to the level list, not to nodes.
            listing = LevelListing(data, data.pager, data.generation)
            listing.add_page(message.entries)
            self.listings[id(data)] = listing
            self._show_level(data)
            return
        new = [data.child_for_entry(entry) for entry in message.entries]
        data.children.extend(new)
        node = self.node_for(data)
        if node is None:
            return
        needle = data.filter.casefold()
        for child in new:
            if needle in child.name.casefold() and not self.failing_only:
                self._add_view(node, child)
        self._render_tail(node)

    def show_failure(self, message: WorkFailed) -> None:
        """Badge the level whose listing failed (called by the app's error route)."""
        data = message.target
        if not isinstance(data, NodeData) or message.generation != data.generation:
            return
        data.loading = False
        data.error = message.error
        if data.kind == "connection" and not data.children and data.conn.driver is not None:
            # ListBuckets denied: the buckets named for this connection still open.
            data.children = connection_children(data.conn, data, [])
        self._show_level(data)

    def _show_level(self, data: NodeData) -> None:
        node = self.node_for(data)
        if node is None:
            return
        self._render_children(node)
        if data.kind == "connection" and not data.conn.pins_opened:
            data.conn.pins_opened = True
            for child in node.children:
                if child.data is not None and child.data.pinned:
                    child.expand()

    # -- commands --------------------------------------------------------------------------

    def refresh_level(self) -> None:
        """Re-list the level at the cursor (an object or placeholder: its parent) from page 1."""
        node = self.cursor_node
        if node is None or node.data is None:
            return
        if not node.data.is_level and node.parent is not None:
            node = node.parent
        if node.data is None or node.is_root:
            return
        self._start_level(node)
        if not node.is_expanded:
            node.expand()
        self.move_cursor(node)

    def filter_level(self) -> TreeNode[NodeData] | None:
        """The level a filter applies to: the cursor node if it is an expanded level,
        otherwise the level the cursor is in."""
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        if node.data.is_level and node.is_expanded:
            return node
        parent = node.parent
        return None if parent is None or parent.is_root else parent

    def set_filter(self, level: TreeNode[NodeData], text: str) -> None:
        """Show only children of ``level`` whose name contains ``text`` (case-insensitive)."""
        data = level.data
        if data is None or data.filter == text:
            return
        data.filter = text
        if data.loaded:
            self._render_children(level)
        target = level.children[0] if level.children else level
        # Lines are rebuilt on the next refresh; move the cursor once they exist.
        self.call_after_refresh(self.move_cursor, target)

    def relist(self, data: NodeData) -> None:
        """List the level ``data`` again from its first page (after a delete or restore),
        if it is on screen and was listed; its marks are dropped."""
        node = self.node_for(data)
        if node is not None and data.loaded and not node.is_root:
            self._start_level(node)

    def set_failing_only(self, on: bool) -> None:
        """Show only nodes whose last request failed and their ancestors (connection
        roots always show); ``False`` shows everything again. Nothing is re-listed."""
        self.failing_only = on
        for node in self.root.children:
            if node.data is not None and node.data.loaded:
                self._render_children(node)
        self.call_after_refresh(self._sync_highlight)

    # -- big levels ----------------------------------------------------------------------

    def _drop_listings(self, level: NodeData) -> None:
        """Forget the listings of ``level`` and of every level under it (it is listed
        again or closed): their pages in flight are dropped on arrival (generation)."""
        for key, listing in list(self.listings.items()):
            if listing.level is level or listing.level.is_under(level):
                del self.listings[key]

    def action_clear_marks(self) -> None:
        """``u`` in the tree: unmark everything, the big levels' lists included (``d`` and
        ``X`` take every mark, so "Unmark all" must leave none behind in a list)."""
        super().action_clear_marks()
        for listing in list(self.listings.values()):
            if len(listing.marks):
                listing.marks.clear()
                self.post_message(ListingChanged(listing, redraw=True))
        if self.is_attached:
            self.screen.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ "Unmark all" shows while anything is marked, in the tree or in a level list."""
        if action == "clear_marks":
            return bool(self.marks) or any(len(x.marks) for x in self.listings.values())
        return super().check_action(action, parameters)

    def listing_changed(self, listing: LevelListing) -> None:
        """Redraw the "open list" row of ``listing``'s level (its count changed)."""
        node = self.node_for(listing.level)
        if node is None or self.listings.get(id(listing.level)) is not listing:
            return
        for child in node.children:
            if child.data is not None and child.data.kind == "list":
                label = _list_label(listing)
                if child.data.name != label:
                    child.set_label(Text(label))
                    child.data.name = label

    def list_row(self, level: NodeData) -> TreeNode[NodeData] | None:
        """The "open list" row of the big level ``level``, if it is on screen."""
        node = self.node_for(level)
        if node is None:
            return None
        for child in node.children:
            if child.data is not None and child.data.kind == "list":
                return child
        return None

    def open_child(self, level: NodeData, child: NodeData) -> TreeNode[NodeData] | None:
        """Give the big level ``level`` a node for its prefix ``child`` (chosen in the
        level list), expand it and put the cursor on it."""
        node = self.node_for(level)
        if node is None:
            return None
        for existing in node.children:
            if existing.data is not None and existing.data.key == child.key:
                found = existing
                break
        else:
            level.children.append(child)
            self._render_children(node)
            found = next(c for c in node.children if c.data is child)
        if not node.is_expanded:
            node.expand()
        if found.allow_expand and not found.is_expanded:
            found.expand()
        self.call_after_refresh(self.move_cursor, found)
        return found


def _list_label(listing: LevelListing) -> str:
    """The "open list" row's text: keys listed so far ("+": more pages to come)."""
    return f"▤ {plural_so_far(len(listing.rows), 'key', listing.has_more)} — open list"


def _group(data: NodeData) -> str:
    """Worker group of a level: one in-flight listing per level (exclusive)."""
    return f"level-{id(data):x}"
