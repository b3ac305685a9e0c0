"""The main screen as its command mixins see it: :class:`MainHost`.

:class:`~pail.ui.screens.main.MainScreen` is assembled from
:class:`~pail.ui.screens.main_actions.MainActions` (downloads, object links),
:class:`~pail.ui.screens.access_actions.AccessActions` (identity, access check, regions)
and :class:`~pail.ui.screens.cleanup_actions.CleanupActions` (sizes, marks, delete,
versions, lifecycle) on top of this class, which holds what they share: the widgets, the
settings and the connection plumbing.

Each mixin names ``MainHost`` as its base for the type checker only (``if TYPE_CHECKING``):
at run time the mixins stay plain classes, so Textual's per-class set-up (bindings, CSS
type names) runs once, for MainScreen, exactly as before they were typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pail.ui.screens.quiet_footer import QuietFooterScreen
from pail.ui.widgets.bucket_tree import BucketTree, DriverFactory, Resolver
from pail.ui.widgets.detail import Clock, DetailPane
from pail.ui.widgets.level_list import LevelList
from pail.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from pail.config.store import ConnectionStore
    from pail.ui.app import PailApp
    from pail.ui.download_ops import DownloadTask
    from pail.ui.nodes import NodeData
    from pail.ui.settings import UISettings


class MainHost(QuietFooterScreen):
    """The widgets and state the main screen's mixins use (set by MainScreen's
    ``__init__`` and ``compose``).

    Attributes:
        settings: preview limits and folders.
        downloads: the transfers (downloads and writes) started this session, oldest
            first.
        store: the saved connections' config file.
    """

    settings: UISettings
    downloads: list[DownloadTask]
    store: ConnectionStore
    _clock: Clock
    _resolver: Resolver | None
    _driver_factory: DriverFactory

    @property
    def bucket_tree(self) -> BucketTree:
        """The bucket tree. (Not ``tree``: every Textual node has a ``tree`` property, a
        Rich tree of its DOM for debugging.)"""
        return self.query_one(BucketTree)

    @property
    def detail(self) -> DetailPane:
        """The detail pane."""
        return self.query_one(DetailPane)

    @property
    def level_list(self) -> LevelList:
        """The level list (shown above the detail pane while a big level is open)."""
        return self.query_one(LevelList)

    def cursor_data(self) -> NodeData | None:
        """What the commands act on: the level list's row at its cursor while the list
        has the focus, otherwise the tree's node at the cursor."""
        level_list = self.level_list
        if level_list.has_focus:
            return level_list.cursor_data()
        node = self.bucket_tree.cursor_node
        return node.data if node is not None else None

    def marked_items(self) -> list[NodeData]:
        """Every mark: the tree's (in marking order), then each big level's (in listing
        order; built from the level list's marks on demand)."""
        items = list(self.bucket_tree.marks.values())
        for listing in self.bucket_tree.listings.values():
            items.extend(listing.marked_nodes())
        return items

    def has_marks(self) -> bool:
        """True while anything is marked, in the tree or in a level list."""
        return bool(self.bucket_tree.marks) or any(
            listing.marks.count for listing in self.bucket_tree.listings.values()
        )

    @property
    def status(self) -> StatusBar:
        """The status bar."""
        return self.query_one(StatusBar)

    @property
    def pail_app(self) -> PailApp:
        """The app, typed as pail's: the main screen only runs in :class:`PailApp`."""
        return cast("PailApp", self.app)

    def action_refresh_node(self) -> None:
        """Re-list the node at the cursor (``r``); MainScreen defines it."""
        raise NotImplementedError
