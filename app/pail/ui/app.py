"""The Textual app: bindings, screens and the one route every worker error takes.

Usage (what the CLI does)::

    from pail.ui.app import PailApp
    PailApp(connections, driver_factory=open_driver, title="pail").run()
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen

from pail.config import ConnectionSpec
from pail.drivers.base import StorageDriver
from pail.drivers.registry import open_driver
from pail.ui.executor import DaemonPool
from pail.ui.messages import WorkFailed
from pail.ui.screens.help import HelpScreen
from pail.ui.screens.main import MainScreen
from pail.ui.text import one_line
from pail.ui.widgets.bucket_tree import BucketTree


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class PailApp(App[None]):
    """Browse the given connections in a tree | detail screen.

    Args:
        connections: one tree root per connection; their drivers are opened lazily, in a
            worker, when the connection node is first expanded.
        driver_factory: builds a connection's driver; may be slow or raise (the error is
            shown on the connection node). Defaults to :func:`pail.drivers.registry.open_driver`.
        title: header title (default ``"pail"``).
        clock: returns "now" as an aware UTC datetime, for ages in the detail pane
            (tests pass a fixed clock).
    """

    CSS_PATH = "styles/app.tcss"
    TITLE = "pail"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = [
        Binding(
            "question_mark", "help", "Help", key_display="?", tooltip="Show the keys", id="app.help"
        ),
        Binding("q", "quit", "Quit", tooltip="Quit pail", id="app.quit"),
    ]

    def __init__(
        self,
        connections: list[ConnectionSpec],
        *,
        driver_factory: Callable[[ConnectionSpec], StorageDriver] = open_driver,
        title: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__()
        self._connections = list(connections)
        self._driver_factory = driver_factory
        self._clock = clock
        if title:
            self.title = title

    def get_default_screen(self) -> Screen:
        return MainScreen(self._connections, self._driver_factory, self._clock)

    def on_load(self) -> None:
        # Daemon I/O threads: quitting never waits for a hung request (see executor.py).
        asyncio.get_running_loop().set_default_executor(DaemonPool())

    def on_work_failed(self, message: WorkFailed) -> None:
        """The one error route: every worker failure comes here and goes back to the
        widget that started the work, which shows it where it happened (a node badge, the
        detail pane). Errors with no widget left to show them become a notification."""
        message.stop()
        self.log.warning("worker failed:", message.error)
        show = getattr(message.origin, "show_failure", None)
        if show is not None and getattr(message.origin, "is_attached", False):
            show(message)
        else:
            self.notify(one_line(message.error), severity="error", markup=False)

    def action_help(self) -> None:
        """Show the keys."""
        if isinstance(self.screen, HelpScreen):
            return
        keys = []
        for owner in (BucketTree, MainScreen, PailApp):
            for binding in owner.BINDINGS:
                if isinstance(binding, Binding):
                    description = binding.tooltip or binding.description
                    keys.append((binding.key_display or binding.key, description))
        self.push_screen(HelpScreen(keys))
