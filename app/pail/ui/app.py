"""The Textual app: bindings, screens and the one route every worker error takes.

Usage (what the CLI does)::

    from pail.ui.app import PailApp
    PailApp(connections, title="pail").run()

The tree's roots are the given connections (opened at start) followed by the saved
connections of the config file not among them (opened when expanded). Opening a connection
resolves its credentials (:func:`pail.credentials.resolve`: keyring, profile, environment,
default chain) in a worker, then builds its driver from the resolved spec.

Quitting (``q``, ``ctrl+q``) never waits for I/O: while downloads or deletes run it asks
first (:class:`~pail.ui.screens.quit_confirm.QuitScreen`), then cancels them and exits;
the app's own requests run on daemon threads (:mod:`pail.ui.executor`), and the CLI ends
the process if an engine's thread would still hold it
(:func:`pail.ui.executor.exit_if_threads_linger`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from textual.app import App
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec
from pail.core.text import one_line
from pail.credentials import KeyringStatus
from pail.drivers.base import StorageDriver
from pail.drivers.errors import InvalidCredentials
from pail.drivers.registry import open_driver
from pail.services.search import ListingCache
from pail.ui.executor import DaemonPool
from pail.ui.formatting import plural
from pail.ui.messages import DetailJob, KeyringChecked, WorkFailed
from pail.ui.nodes import Connection, NodeData
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.help import HelpScreen
from pail.ui.screens.main import MainScreen
from pail.ui.screens.quit_confirm import QuitScreen
from pail.ui.settings import load_settings
from pail.ui.viewer import ViewerOutcome, ViewerPlan, ViewerRunner, run_in_terminal, try_viewers
from pail.ui.widgets.bucket_tree import BucketTree, Resolver
from pail.ui.widgets.tree_marks import MarkedTree


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Transfer:
    """A download or delete still running when ``q`` is pressed.

    Attributes:
        kind: ``"download"`` or ``"delete"``.
        line: what it is, one plain-text line for the quit question.
        cancel: stops it without waiting (callable from the event loop).
    """

    kind: str
    line: str
    cancel: Callable[[], None]


class PailApp(App[None]):
    """Browse the given connections in a tree | detail screen.

    Args:
        connections: one tree root per connection, opened (in workers) at start.
        driver_factory: builds a connection's driver from its *resolved* spec (credentials
            filled in by :func:`pail.credentials.resolve`); may be slow or raise (the error
            is shown on the connection node). Defaults to
            :func:`pail.drivers.registry.open_driver`.
        title: header title (default ``"pail"``).
        clock: returns "now" as an aware UTC datetime, for ages in the detail pane
            (tests pass a fixed clock).
        store: the saved connections (default: ``ConnectionStore()``, the file at
            :func:`pail.config.env.default_config_path`); they become further tree roots and
            the connections screen (``C``) edits them.
        resolver: finds a connection's credentials before its driver is built (default
            :func:`pail.credentials.resolve`; runs in a worker: a keyring may block).
        viewer: runs one viewer argv for ``o`` and returns its exit status (default
            :func:`pail.ui.viewer.run_in_terminal`: the terminal is handed over with
            ``App.suspend``); tests pass a runner that needs no terminal.
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

    #: The keyring's state, checked once at start in a worker (``None`` until then).
    keyring: var[KeyringStatus | None] = var(None)

    def __init__(
        self,
        connections: list[ConnectionSpec],
        *,
        driver_factory: Callable[[ConnectionSpec], StorageDriver] = open_driver,
        title: str | None = None,
        clock: Callable[[], datetime] = _utc_now,
        store: ConnectionStore | None = None,
        resolver: Resolver = credentials.resolve,
        viewer: ViewerRunner | None = None,
    ) -> None:
        super().__init__()
        self.settings = load_settings()
        self._viewer = viewer or run_in_terminal
        self._connections = list(connections)
        self._driver_factory = driver_factory
        self._clock = clock
        self.store = store if store is not None else ConnectionStore()
        self._resolver = resolver
        self._config_error = ""
        #: Complete walks of this session, reused by searches (``ctrl+f``); in memory,
        #: bounded by keys held (pail.services.search.ListingCache).
        self.listing_cache = ListingCache()
        if title:
            self.title = title

    def get_default_screen(self) -> Screen:
        given = {spec.name for spec in self._connections}
        try:
            saved = [spec for spec in self.store.load() if spec.name not in given]
        except ConfigError as exc:  # shown once mounted; the given connections still open
            saved, self._config_error = [], str(exc)
        self.main_screen = MainScreen(
            self._connections,
            self._driver_factory,
            self._clock,
            store=self.store,
            saved=saved,
            resolver=self._resolver,
            settings=self.settings,
        )
        return self.main_screen

    def on_load(self) -> None:
        # Daemon I/O threads: quitting never waits for a hung request (see executor.py).
        asyncio.get_running_loop().set_default_executor(DaemonPool())

    def on_mount(self) -> None:
        if self._config_error:
            self.notify(self._config_error, title="Config file", severity="error", markup=False)
        for name in self.settings.problems:
            self.notify(f"{name} is not a byte count: the default is used.", markup=False)

        def check() -> None:  # a Secret Service probe talks D-Bus: not on the event loop
            self.post_message(KeyringChecked(credentials.keyring_status()))

        self.run_worker(check, thread=True, exit_on_error=False, group="keyring-status")

    def on_keyring_checked(self, message: KeyringChecked) -> None:
        self.keyring = message.status

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
        if isinstance(message.error, InvalidCredentials):
            conn = _connection_of(message)
            if conn is not None:
                self.main_screen.credentials_failed(conn, message.error)

    def open_in_viewer(self, plan: ViewerPlan) -> ViewerOutcome:
        """Try ``plan``'s viewers in order (each gets the terminal and gives it back) until
        one exits 0; returns which one did and every problem met. Never raises for a
        viewer's failure; the app is always resumed and redrawn."""
        return try_viewers(self, plan, self._viewer)

    # -- quitting ------------------------------------------------------------------------

    def running_transfers(self) -> list[Transfer]:
        """Downloads (planning or transferring) and deletes still running, in the order
        they were started."""
        running: list[Transfer] = []
        main = getattr(self, "main_screen", None)
        for task in getattr(main, "downloads", []):
            if task.running:
                running.append(Transfer("download", task.describe(), task.cancel))
        for screen in self.screen_stack:
            if isinstance(screen, DeleteProgressScreen) and not screen.finished:
                plan = screen.request.plan
                where = one_line(screen.request.where)
                line = f"Delete of {plural(plan.count, 'object')} from {where}"
                running.append(Transfer("delete", line, screen.action_cancel))
        return running

    async def action_quit(self) -> None:
        """Quit at once; while transfers run, ask first (y/enter quit, n/escape stay)."""
        if isinstance(self.screen, QuitScreen):
            return
        running = self.running_transfers()
        if not running:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.quit_now()

        kinds = {transfer.kind for transfer in running}
        notes = []
        if "download" in kinds:
            notes.append("Partial downloads stay and resume next time.")
        if "delete" in kinds:
            notes.append(
                "A delete stops: keys not yet sent stay in the bucket; a batch already sent "
                "may or may not be applied by the store."
            )
        lines = [transfer.line for transfer in running]
        self.push_screen(QuitScreen(lines, " ".join(notes)), callback=answered)

    def quit_now(self) -> None:
        """Cancel every running transfer and exit without waiting for any I/O thread (a
        cancelled transfer keeps its resumable state; threads still in a request are
        abandoned: the app's own are daemons, and the CLI ends the process if an
        engine's would hold it)."""
        for transfer in self.running_transfers():
            try:
                transfer.cancel()
            except Exception as exc:  # an engine that cannot cancel must not stop the quit
                self.log.warning("cancel failed:", exc)
        self.exit()

    def action_help(self) -> None:
        """Show the keys."""
        if isinstance(self.screen, HelpScreen):
            return
        keys = []
        for owner in (MarkedTree, BucketTree, MainScreen, PailApp):
            for binding in owner.BINDINGS:
                if isinstance(binding, Binding):
                    description = binding.tooltip or binding.description
                    keys.append((binding.key_display or binding.key, description))
        self.push_screen(HelpScreen(keys, keyring=self.keyring))


def _connection_of(message: WorkFailed) -> Connection | None:
    """The connection whose request failed: a tree level's, or the detail pane's node's."""
    if isinstance(message.target, NodeData):
        return message.target.conn
    if isinstance(message.target, DetailJob):
        data = getattr(message.origin, "data", None)
        if isinstance(data, NodeData):
            return data.conn
    return None
