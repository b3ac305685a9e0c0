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

from textual.screen import Screen

from pail.ui.widgets.bucket_tree import BucketTree, DriverFactory, Resolver
from pail.ui.widgets.detail import Clock, DetailPane
from pail.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from pail.config.store import ConnectionStore
    from pail.ui.app import PailApp
    from pail.ui.download_ops import DownloadTask
    from pail.ui.settings import UISettings


class MainHost(Screen[None]):
    """The widgets and state the main screen's mixins use (set by MainScreen's
    ``__init__`` and ``compose``).

    Attributes:
        settings: preview limits and folders.
        downloads: the downloads started this session, oldest first.
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
