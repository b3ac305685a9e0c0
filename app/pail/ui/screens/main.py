"""The main screen: the bucket tree beside the detail pane, header, status bar and footer.

The header shows the URI of the node under the cursor; the status bar how its connection
authenticates (credential source, masked identity) and the keyring's state; the footer the
key bindings. The screen wires the tree to the detail pane and owns the node commands:
refresh (``r``), filter (``/``), copy URI (``c``), more preview (``m``), the connections
screen (``C``), and through :class:`~pail.ui.screens.main_actions.MainActions` downloads
(``d``, ``D``) and object links (``p``, ``y``, ``o``), through
:class:`~pail.ui.transfer_ops.TransferActions` the writes (``F5`` copy, ``F6`` move, ``F2``
rename, ``U`` upload, ``=`` compare), and through
:class:`~pail.ui.screens.search_actions.SearchActions` the bucket search (``ctrl+f``). It
also keeps the tree in step with saved connections, and when a connection's credentials
fail it shows the credential-failure modal once per opening of that connection.

A level of more than one page is shown by the level list
(:mod:`pail.ui.widgets.level_list`) above the detail pane: enter on its "▤ … open list"
row in the tree (or ``/`` on that level) opens it; enter on an object there shows it in
the detail pane, on a prefix opens that prefix in the tree; escape goes back. Its marks
join the tree's for ``d``, ``F5``, ``F6``, ``z`` and ``X``
(:meth:`MainHost.marked_items`), and while the list has the focus the node commands act
on its row at the cursor.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Header, Tree
from textual.widgets.tree import TreeNode

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec
from pail.core.text import one_line
from pail.drivers.errors import StorageError
from pail.ui.clipboard import copy_text
from pail.ui.connection_ops import SaveOutcome, values_from_spec
from pail.ui.messages import (
    ConnectionResolved,
    FilterChanged,
    FilterClosed,
    LevelUpdated,
    MarksChanged,
    WorkFailed,
)
from pail.ui.nodes import Connection, NodeData
from pail.ui.screens.access_actions import ACCESS_ACTIONS, ACCESS_BINDINGS, AccessActions
from pail.ui.screens.cleanup_actions import CLEANUP_ACTIONS, CLEANUP_BINDINGS, CleanupActions
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.screens.connections import ConnectionsScreen
from pail.ui.screens.credential_failure import (
    CredentialChoice,
    CredentialFailureScreen,
    CredentialProblem,
)
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.screens.main_actions import ACTION_BINDINGS, MainActions
from pail.ui.screens.main_host import MainHost
from pail.ui.screens.search_actions import SEARCH_ACTIONS, SEARCH_BINDINGS, SearchActions
from pail.ui.settings import UISettings, load_settings
from pail.ui.transfer_ops import TRANSFER_ACTIONS, TRANSFER_BINDINGS, TransferActions
from pail.ui.widgets.bucket_tree import BucketTree, DriverFactory, Resolver
from pail.ui.widgets.detail import Clock, DetailPane
from pail.ui.widgets.filter_bar import FilterBar
from pail.ui.widgets.footer import PailFooter
from pail.ui.widgets.level_list import (
    LevelList,
    LevelListing,
    LevelPanel,
    ListingChanged,
    OpenListing,
)
from pail.ui.widgets.status_bar import StatusBar

#: Terminal columns below which the tree's guides narrow (see HORIZONTAL_BREAKPOINTS).
NARROW = 100


class MainScreen(
    KeysExplained,
    SearchActions,
    CleanupActions,
    AccessActions,
    TransferActions,
    MainActions,
    MainHost,
):
    """Tree | detail. See the module doc.

    Args:
        connections: connection specs, one tree root each, opened at start.
        driver_factory: builds a connection's driver (called in a worker thread).
        clock: "now" for ages in the detail pane.
        store: the saved connections' config file.
        saved: saved connections not among ``connections``: roots opened on demand.
        resolver: resolves credentials before the driver is built (in the same worker).
        settings: preview limits and folders (default: from the environment).
    """

    BINDINGS = [
        Binding(
            "q",
            "app.quit",
            "Quit",
            tooltip="Quit pail (asks first while transfers or deletes run)",
            id="main.quit",
        ),
        Binding(
            "r",
            "refresh_node",
            "Refresh",
            show=False,  # the footer keeps room for the commands; ? lists it
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
            show=False,
            tooltip="Copy the URI of the node at the cursor to the clipboard",
            id="node.copy_uri",
        ),
        Binding(
            "C",
            "connections",
            "Connections",
            key_display="C",
            tooltip="Saved connections: add, edit, remove, test, open (shift+c)",
            id="app.connections",
        ),
        Binding(
            "m",
            "more_preview",
            "More",
            tooltip="Preview: read the next window of text (a log: further back)",
            id="preview.more",
        ),
        *ACTION_BINDINGS,
        *TRANSFER_BINDINGS,
        *ACCESS_BINDINGS,
        *CLEANUP_BINDINGS,
        *SEARCH_BINDINGS,
    ]

    def __init__(
        self,
        connections: list[ConnectionSpec],
        driver_factory: DriverFactory,
        clock: Clock,
        *,
        store: ConnectionStore,
        saved: list[ConnectionSpec] | None = None,
        resolver: Resolver | None = None,
        settings: UISettings | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings if settings is not None else load_settings()
        self.downloads = []
        self._connections = connections
        self._saved = saved or []
        self._driver_factory = driver_factory
        self._resolver = resolver
        self._clock = clock
        self.store = store
        self._filter_level: TreeNode[NodeData] | None = None

    #: Below 100 columns "-narrow" (a 44-column tree with 2-cell guides), below 80 "-tiny"
    #: (the tree takes a share of the width): styles/app.tcss, #tree-pane.
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (80, "-narrow"), (NARROW, "-wide")]

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        with Horizontal(id="panes"):
            with Vertical(id="tree-pane"):
                tree = BucketTree(
                    self._connections,
                    self._driver_factory,
                    resolver=self._resolver,
                    saved=self._saved,
                    id="tree",
                )
                tree.driver_ready = self.identify  # before the tree opens connections
                yield tree
                yield FilterBar(id="filter")
            # A big level's list shows above the detail pane (enter on "▤ … open list").
            with Vertical(id="right-pane"):
                yield LevelPanel(id="level-panel")
                yield DetailPane(clock=self._clock, settings=self.settings, id="detail")
        yield StatusBar(id="status")
        yield PailFooter()

    def on_mount(self) -> None:
        self.query_one(FilterBar).display = False
        self.query_one(LevelPanel).display = False
        self.watch(self.app, "keyring", self.status.set_keyring)
        self.bucket_tree.focus()

    # -- tree -> detail --------------------------------------------------------------------

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        data = event.node.data
        self.sub_title = one_line(data.uri) if data is not None else ""
        self.refresh_bindings()
        self.status.show(data.conn if data is not None else None)
        if data is not self.detail.data:
            self.detail.show(data)

    def on_connection_resolved(self, message: ConnectionResolved) -> None:
        shown = self.detail.data
        if shown is not None and shown.conn is message.target.conn:
            self.status.show(shown.conn)
            if shown.kind == "connection":
                self.detail.redraw(preview=False)

    # -- big levels: the level list -----------------------------------------------------

    def on_open_listing(self, message: OpenListing) -> None:
        self.open_listing(message.listing)

    def open_listing(self, listing: LevelListing) -> LevelPanel:
        """Show the big level ``listing`` in the level list (focused) above the detail."""
        panel = self.query_one(LevelPanel)
        panel.display = True
        panel.show(listing)
        self.sub_title = one_line(listing.level.uri)
        self.refresh_bindings()
        return panel

    def on_level_list_chosen(self, message: LevelList.Chosen) -> None:
        """Enter in the list: an object's detail and preview; a prefix opens in the tree."""
        data = message.data
        if data.kind == "prefix" and data.parent is not None:
            self._close_level_list(focus_row=False)
            node = self.bucket_tree.open_child(data.parent, data)
            if node is not None:
                self.bucket_tree.focus()
            return
        self.sub_title = one_line(data.uri)
        self.detail.show(data)
        self.refresh_bindings()

    def on_level_list_closed(self, message: LevelList.Closed) -> None:
        self._close_level_list(focus_row=True)

    def _close_level_list(self, *, focus_row: bool) -> None:
        panel = self.query_one(LevelPanel)
        listing = panel.level_list.listing
        panel.display = False
        self.bucket_tree.focus()
        if focus_row and listing is not None:
            row = self.bucket_tree.list_row(listing.level)
            if row is not None:
                self.bucket_tree.move_cursor(row)
        self.refresh_bindings()

    def on_listing_changed(self, message: ListingChanged) -> None:
        panel = self.query_one(LevelPanel)
        if message.redraw and panel.display and panel.level_list.listing is message.listing:
            panel.level_list.refresh()  # marks cleared from the tree (u) show at once
            panel.on_listing_changed(message)
        self.bucket_tree.listing_changed(message.listing)
        self._show_marks()
        shown = self.detail.data
        level = message.listing.level
        if shown is not None and (
            shown is level or (shown.kind == "list" and shown.parent is level)
        ):
            self.detail.redraw(preview=False)  # its "Listed" line counts the pager's keys
        self.refresh_bindings()

    def on_level_updated(self, message: LevelUpdated) -> None:
        panel = self.query_one(LevelPanel)
        listing = panel.level_list.listing
        stale = (
            listing is not None and self.bucket_tree.listings.get(id(listing.level)) is not listing
        )
        if panel.display and stale:
            self._close_level_list(focus_row=False)  # its level was listed again
        self._show_marks()  # a level listed again drops its list's marks
        shown = self.detail.data
        if shown is not None and (shown is message.target or shown.parent is message.target):
            self.detail.redraw(preview=False)

    # -- marks: their count and size in the status bar -----------------------------------

    def on_marks_changed(self, message: MarksChanged) -> None:
        self._show_marks()

    def _show_marks(self) -> None:
        """Count every mark (tree and level lists) into the status bar: objects' sizes
        add up; a prefix's size is unknown until it is listed, so prefixes are counted."""
        tree = self.bucket_tree
        count = size = prefixes = 0
        for data in tree.marks.values():
            count += 1
            if data.kind == "prefix":
                prefixes += 1
            elif data.entry is not None and data.entry.size:
                size += data.entry.size
        for listing in tree.listings.values():
            marks = listing.marks
            if marks.count:
                count += marks.count
                size += marks.total_bytes  # a prefix counts 0 bytes
                delimiter = listing.pager.delimiter
                prefixes += sum(1 for key in marks if key.endswith(delimiter))
        self.status.set_marks(count, size, prefixes)

    # -- commands --------------------------------------------------------------------------

    def action_refresh_node(self) -> None:
        """Re-list the node at the cursor from its first page (a connection: resolve
        its credentials and identity again too)."""
        if not self.reopen_connection_at_cursor():
            self.bucket_tree.refresh_level()
        node = self.bucket_tree.cursor_node
        if node is not None and node.data is not None:
            self.detail.show(node.data)

    def action_filter(self) -> None:
        """Open the filter bar for the level at the cursor."""
        level = self.bucket_tree.filter_level()
        if level is None or level.data is None:
            self.notify("Move into a bucket or prefix to filter its entries.", markup=False)
            return
        listing = self.bucket_tree.listings.get(id(level.data))
        if listing is not None:  # a big level: its keys are filtered in the level list
            self.open_listing(listing).level_list.action_filter()
            return
        self._filter_level = level
        bar = self.query_one(FilterBar)
        bar.value = level.data.filter
        bar.display = True
        bar.focus()

    def on_filter_changed(self, message: FilterChanged) -> None:
        if self._filter_level is not None:
            self.bucket_tree.set_filter(self._filter_level, message.text)

    def on_filter_closed(self, message: FilterClosed) -> None:
        if message.cleared and self._filter_level is not None:
            self.bucket_tree.set_filter(self._filter_level, "")
        self.query_one(FilterBar).display = False
        self.bucket_tree.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that do nothing for the node at the cursor (the footer follows)."""
        if action == "more_preview":
            return self.is_mounted and self.detail.can_load_more
        if not self.is_mounted:
            return True
        if action in ACCESS_ACTIONS:
            return self.check_access_action(action)
        if action in CLEANUP_ACTIONS:
            return self.check_cleanup_action(action)
        if action in SEARCH_ACTIONS:
            return self.check_search_action(action)
        if action in TRANSFER_ACTIONS:
            return self.check_transfer_action(action)
        return self.check_main_action(action)

    def on_resize(self, event: events.Resize) -> None:
        # Narrow terminals: 2 cells of guide per level instead of 3, so run ids fit.
        self.bucket_tree.guide_depth = 2 if event.size.width < NARROW else 3

    def why_not(self, action: str) -> str:
        """Why ``action`` does nothing at the cursor now (``""``: it does something, or it
        is not one of this screen's commands); :class:`KeysExplained` says it."""
        data = self.bucket_tree.cursor_node.data if self.bucket_tree.cursor_node else None
        kind = getattr(data, "kind", "") or "nothing"
        if self.check_action(action, ()) is not False:
            return ""
        if action == "more_preview":
            if self.detail.data is None or self.detail.data.kind != "object":
                return "reads more of an object's text preview; the cursor is not on an object"
            if self.detail.loading_more:
                return "the next window is being read"
            return "the whole preview is shown (or it is not text)"
        if action in ("open_object", "presign", "copy_command"):
            return f"works on an object; the cursor is on a {kind}"
        if action == "reopen_region":
            return "only after a wrong-region error, or for a bucket located in another region"
        if action == "downloads":
            return "no transfers yet this session (d, F5, F6, F2 or U starts one)"
        if action in TRANSFER_ACTIONS:
            return self.transfer_why_not(action)
        if action in ("sizes", "lifecycle", "search"):
            return "move to an open bucket or prefix first"
        if action == "inventory":
            if data is not None and data.conn.spec.provider == "local":
                return "local folders have no inventory reports"
            return "move to an open bucket or prefix first"
        return f"does not apply to a {kind}"

    def show_failure(self, message: WorkFailed) -> None:
        """A worker of this screen failed (called by the app's error route): a write's
        failure is said by :class:`TransferActions`, the others by :class:`MainActions`."""
        if not self.show_write_failure(message):
            MainActions.show_failure(self, message)

    def action_more_preview(self) -> None:
        """Extend the text preview in the detail pane by one window."""
        self.detail.load_more()

    def action_copy_uri(self) -> None:
        """Copy the URI of the node at the cursor to the clipboard (OSC 52)."""
        node = self.bucket_tree.cursor_node
        if node is None or node.data is None:
            return
        uri = node.data.uri
        copy_text(self.app, uri, f"the URI {one_line(uri)}")

    # -- connections -----------------------------------------------------------------------

    def action_connections(self) -> None:
        """Open the connections screen."""
        self.app.push_screen(ConnectionsScreen(self.store, self, self._driver_factory))

    def connection_saved(self, outcome: SaveOutcome) -> None:
        """Bring the tree in step with a saved (added, edited or renamed) connection: a
        new root appears closed; an edited one is reopened with its new settings."""
        spec = outcome.spec
        if spec is None:
            return
        old = outcome.previous_name or spec.name
        if self.bucket_tree.connection_node(old) is not None:
            self.bucket_tree.reopen_connection(old, spec)
        else:
            self.bucket_tree.add_connection(spec)
        self._refresh_shown()

    def connection_removed(self, name: str) -> None:
        """Drop the root of a removed connection."""
        self.bucket_tree.remove_connection(name)
        self._refresh_shown()

    def open_connection(self, spec: ConnectionSpec) -> None:
        """Put the cursor on ``spec``'s root (adding it if missing) and open it."""
        tree = self.bucket_tree
        node = tree.connection_node(spec.name) or tree.add_connection(spec)
        if not node.is_expanded:
            node.expand()
        tree.move_cursor(node)
        tree.focus()

    def _refresh_shown(self) -> None:
        node = self.bucket_tree.cursor_node
        data = node.data if node is not None else None
        self.status.show(data.conn if data is not None else None)
        self.detail.show(data)
        self._show_marks()  # a removed connection took its marks along

    def credentials_failed(self, conn: Connection, error: StorageError) -> None:
        """Show the credential-failure modal for ``conn`` (once until it is reopened)."""
        if conn.alerted or conn.spec.provider == "local":
            return
        conn.alerted = True
        resolved = conn.resolved
        spec = resolved.spec if resolved is not None else conn.spec
        problem = CredentialProblem(
            connection=conn.spec.name,
            error=error,
            source=resolved.source if resolved is not None else "",
            identity=resolved.identity if resolved is not None else None,
            command=credentials.refresh_command(spec, error),
            can_reenter=not conn.spec.anonymous,
        )

        def chosen(choice: CredentialChoice | None) -> None:
            if choice is not None and choice.action == "reenter":
                self.reenter_secrets(conn)

        self.app.push_screen(CredentialFailureScreen(problem), chosen)

    def reenter_secrets(self, conn: Connection) -> None:
        """Open the form on ``conn``'s secrets; once saved, the connection reopens with
        them. An unsaved connection (from the command line) is saved by the form."""
        spec = conn.spec
        if spec.saved:
            form = ConnectionForm(
                self.store, editing=spec, focus_secrets=True, keyring=self.app_keyring
            )
        else:
            form = ConnectionForm(
                self.store,
                values=values_from_spec(spec),
                focus_secrets=True,
                keyring=self.app_keyring,
            )
        old_name = spec.name

        def saved(outcome: SaveOutcome | None) -> None:
            if outcome is not None and outcome.spec is not None:
                self.bucket_tree.reopen_connection(old_name, outcome.spec)
                self._refresh_shown()

        self.app.push_screen(form, saved)

    @property
    def app_keyring(self):
        """The keyring's state as the app last checked it (``None`` while checking)."""
        return getattr(self.app, "keyring", None)
