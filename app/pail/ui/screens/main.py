"""The main screen: the bucket tree beside the detail pane, header and footer.

The header shows the URI of the node under the cursor; the footer the key bindings.
The screen wires the tree to the detail pane and owns the node commands: refresh (``r``),
filter (``/``) and copy URI (``c``).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, Tree
from textual.widgets.tree import TreeNode

from pail.config import ConnectionSpec
from pail.ui.messages import FilterChanged, FilterClosed, LevelUpdated
from pail.ui.nodes import NodeData
from pail.ui.text import one_line
from pail.ui.widgets.bucket_tree import BucketTree, DriverFactory
from pail.ui.widgets.detail import Clock, DetailPane
from pail.ui.widgets.filter_bar import FilterBar


class MainScreen(Screen[None]):
    """Tree | detail. See the module doc.

    Args:
        connections: connection specs, one tree root each.
        driver_factory: builds a connection's driver (called in a worker thread).
        clock: "now" for ages in the detail pane.
    """

    BINDINGS = [
        Binding(
            "r",
            "refresh_node",
            "Refresh",
            tooltip="Re-list the level at the cursor from its first page",
            id="node.refresh",
        ),
        Binding(
            "slash",
            "filter",
            "Filter",
            key_display="/",
            tooltip="Filter the loaded entries of this level by name (escape clears)",
            id="node.filter",
        ),
        Binding(
            "c",
            "copy_uri",
            "Copy URI",
            tooltip="Copy the URI of the node at the cursor to the clipboard",
            id="node.copy_uri",
        ),
    ]

    def __init__(
        self, connections: list[ConnectionSpec], driver_factory: DriverFactory, clock: Clock
    ) -> None:
        super().__init__()
        self._connections = connections
        self._driver_factory = driver_factory
        self._clock = clock
        self._filter_level: TreeNode[NodeData] | None = None

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="panes"):
            with Vertical(id="tree-pane"):
                yield BucketTree(self._connections, self._driver_factory, id="tree")
                yield FilterBar(id="filter")
            yield DetailPane(clock=self._clock, id="detail")
        yield Footer()

    @property
    def tree(self) -> BucketTree:
        """The bucket tree."""
        return self.query_one(BucketTree)

    @property
    def detail(self) -> DetailPane:
        """The detail pane."""
        return self.query_one(DetailPane)

    def on_mount(self) -> None:
        self.query_one(FilterBar).display = False
        self.tree.focus()

    # -- tree -> detail --------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        data = event.node.data
        self.sub_title = one_line(data.uri) if data is not None else ""
        if data is not self.detail.data:
            self.detail.show(data)

    def on_level_updated(self, message: LevelUpdated) -> None:
        shown = self.detail.data
        if shown is not None and (shown is message.target or shown.parent is message.target):
            self.detail.redraw(preview=False)

    # -- commands --------------------------------------------------------------------------

    def action_refresh_node(self) -> None:
        """Re-list the node at the cursor from its first page."""
        self.tree.refresh_level()
        node = self.tree.cursor_node
        if node is not None and node.data is not None:
            self.detail.show(node.data)

    def action_filter(self) -> None:
        """Open the filter bar for the level at the cursor."""
        level = self.tree.filter_level()
        if level is None or level.data is None:
            self.notify("Move into a bucket or prefix to filter its entries.", markup=False)
            return
        self._filter_level = level
        bar = self.query_one(FilterBar)
        bar.value = level.data.filter
        bar.display = True
        bar.focus()

    def on_filter_changed(self, message: FilterChanged) -> None:
        if self._filter_level is not None:
            self.tree.set_filter(self._filter_level, message.text)

    def on_filter_closed(self, message: FilterClosed) -> None:
        if message.cleared and self._filter_level is not None:
            self.tree.set_filter(self._filter_level, "")
        self.query_one(FilterBar).display = False
        self.tree.focus()

    def action_copy_uri(self) -> None:
        """Copy the URI of the node at the cursor to the clipboard (OSC 52)."""
        node = self.tree.cursor_node
        if node is None or node.data is None:
            return
        uri = node.data.uri
        self.app.copy_to_clipboard(uri)
        self.notify(f"Copied {one_line(uri)}", markup=False)
