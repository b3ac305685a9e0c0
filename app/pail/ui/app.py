"""The Textual app: bindings, screens and the one route every worker error takes.

Usage (what the CLI does)::

    from pail.ui.app import PailApp
    PailApp(connections, title="pail").run()

The tree's roots are the given connections (opened at start) followed by the saved
connections of the config file not among them (opened when expanded). Opening a connection
resolves its credentials (:func:`pail.credentials.resolve`: keyring, profile, environment,
default chain) in a worker, then builds its driver from the resolved spec.

Keys: the keymap is :mod:`pail.ui.keymap` (``?`` lists the current screen's keys, ``ctrl+p``
finds its actions by name); a ``[keymap]`` table in the config file rebinds them by binding
id and ``[ui] theme`` remembers the theme chosen with ``ctrl+p`` (:mod:`pail.config.ui_prefs`).

Quitting (``ctrl+q`` anywhere, ``q`` on the main screen) never waits for I/O: while
downloads, writes (copy, move, upload, rename) or deletes run it asks first
(:class:`~pail.ui.screens.quit_confirm.QuitScreen`),
then cancels them and exits; the app's own requests run on daemon threads
(:mod:`pail.ui.executor`), and the CLI ends the process if an engine's thread would still
hold it (:func:`pail.ui.executor.exit_if_threads_linger`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from typing import TypeVar

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.reactive import var
from textual.screen import Screen

from pail import credentials
from pail.config import ui_prefs
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec
from pail.core.text import one_line
from pail.credentials import KeyringStatus
from pail.drivers.base import StorageDriver
from pail.drivers.errors import InvalidCredentials
from pail.drivers.registry import open_driver
from pail.services.search import ListingCache
from pail.ui import keymap
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
from pail.ui.widgets.bucket_tree import Resolver

_R = TypeVar("_R")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


#: Seconds a worker waits for the app's first frame before it opens a connection anyway:
#: the wait only puts the SDK import (boto3/botocore ~0.2 s, google-cloud-storage ~0.5 s of
#: CPU, which on another thread still holds the GIL against the first draw) after the first
#: frame; it never holds a connection back for longer than this.
FIRST_FRAME_WAIT = 2.0


@dataclass(frozen=True)
class Transfer:
    """A download, write or delete still running when ``q`` is pressed.

    Attributes:
        kind: ``"download"``, ``"write"``, ``"s3-write"`` (a write to S3, whose uploads in
            parts resume) or ``"delete"``.
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
    BINDINGS = [
        Binding(
            "question_mark",
            "help",
            "Help",
            key_display="?",
            tooltip="Show this screen's keys",
            id="app.help",
        ),
        # Priority: quits from a text field too (q there types a q).
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            show=False,
            priority=True,
            tooltip="Quit pail (asks first while transfers or deletes run)",
            id="app.quit",
        ),
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
        self.store = store if store is not None else ConnectionStore()
        self._prefs_error = ""
        try:
            self.prefs = ui_prefs.read_prefs(self.store)
        except ConfigError as exc:  # shown once mounted; the defaults are used
            self.prefs, self._prefs_error = ui_prefs.UIPrefs(), str(exc)
        self.set_keymap(dict(self.prefs.keymap))
        self._viewer = viewer or run_in_terminal
        self._connections = list(connections)
        #: Set once the first frame is drawn (on_mount's call_after_refresh). The connection
        #: workers resolve credentials and build drivers, which imports the SDKs: they wait
        #: for it, so the first frame comes before any SDK import starts.
        self._first_frame = threading.Event()
        self._loop_thread: int | None = None
        self._driver_factory = self._after_first_frame(driver_factory)
        self._clock = clock
        self._resolver = self._after_first_frame(resolver)
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

    def _after_first_frame(
        self, work: Callable[[ConnectionSpec], _R]
    ) -> Callable[[ConnectionSpec], _R]:
        """``work`` (a driver factory or a credentials resolver), waiting first in a worker
        thread until the first frame is drawn (at most :data:`FIRST_FRAME_WAIT` seconds;
        never on the event loop's thread)."""

        def gated(spec: ConnectionSpec) -> _R:
            self._wait_for_first_frame()
            return work(spec)

        return gated

    def _wait_for_first_frame(self) -> None:
        if threading.get_ident() != self._loop_thread:
            self._first_frame.wait(FIRST_FRAME_WAIT)

    def on_load(self) -> None:
        self._loop_thread = threading.get_ident()
        # Daemon I/O threads: quitting never waits for a hung request (see executor.py).
        asyncio.get_running_loop().set_default_executor(DaemonPool())

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame.set)
        if self._config_error:
            self.notify(self._config_error, title="Config file", severity="error", markup=False)
        self._apply_prefs()
        for name in self.settings.problems:
            self.notify(f"{name} is not a byte count: the default is used.", markup=False)

        def check() -> None:  # a Secret Service probe talks D-Bus: not on the event loop
            self._wait_for_first_frame()  # importing keyring reads package entry points
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
        """Downloads and writes (planning or transferring) and deletes still running, in
        the order they were started."""
        running: list[Transfer] = []
        main = getattr(self, "main_screen", None)
        for task in getattr(main, "downloads", []):
            if task.running:
                kind = "download" if task.kind == "download" else "write"
                if kind == "write" and task.provider == "s3":
                    kind = "s3-write"
                running.append(Transfer(kind, task.describe(), task.cancel))
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
        if "s3-write" in kinds:
            notes.append(
                "A write stops: objects already written stay; an S3 upload in parts resumes "
                "when the same copy runs again, other objects in flight are not written."
            )
        elif "write" in kinds:
            notes.append(
                "A write stops: objects already written stay; objects in flight are not written."
            )
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
        """Show the current screen's keys (with the user's keymap applied)."""
        if isinstance(self.screen, HelpScreen):
            return
        title = keymap.SCREENS.get(type(self.screen), ("This screen", ()))[0]
        sections = keymap.screen_keys(type(self.screen), self.prefs.keymap)
        keyring = self.keyring if isinstance(self.screen, MainScreen) else None
        self.push_screen(HelpScreen(sections, title=title, keyring=keyring))

    # -- preferences: keymap and theme ---------------------------------------------------

    def _apply_prefs(self) -> None:
        """Theme and keymap from the config file; problems become notifications (the
        defaults stay)."""
        if self._prefs_error:
            self.notify(self._prefs_error, title="Config file", severity="error", markup=False)
        theme = self.prefs.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        elif theme:
            self.notify(f"[ui] theme {theme!r} is not a theme: the default is used.", markup=False)
        unknown = sorted(set(self.prefs.keymap) - keymap.binding_ids())
        if unknown:
            names = ", ".join(unknown)
            self.notify(f"[keymap] names no such binding: {names} (see ?)", markup=False)
        for line in keymap.clashes(self.prefs.keymap):
            self.notify(f"[keymap] {line}", severity="warning", markup=False)
        self._theme_loaded = True

    _theme_loaded = False

    def watch_theme(self, theme: str) -> None:
        """Remember a theme chosen in the app (``ctrl+p`` → theme) in the config file, in
        a worker (the file's lock may wait)."""
        if not self._theme_loaded or theme == self.prefs.theme:
            return
        self.prefs = ui_prefs.UIPrefs(keymap=self.prefs.keymap, theme=theme)
        store = self.store

        def save() -> None:
            try:
                ui_prefs.save_theme(store, theme)
            except (ConfigError, OSError) as exc:
                self.call_from_thread(
                    self.notify, f"Theme not saved: {one_line(exc)}", markup=False
                )

        self.run_worker(save, thread=True, exit_on_error=False, group="save-theme")

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette (``ctrl+p``): every action the current screen offers now
        (pail's bindings, those with an id, from the focused widget up to the app; a key
        a widget shadows is still offered), with its key; then the theme and quit."""
        seen: set[str] = set()
        for node, bindings in screen._modal_binding_chain:
            for _key, binding in bindings:
                if not binding.id or binding.id in seen:
                    continue
                seen.add(binding.id)
                if not self._check_action_state(binding.action, node):
                    continue  # hidden or disabled here: the palette lists what works
                title = binding.description or binding.action
                help_text = f"{self.get_key_display(binding)} · {binding.tooltip or title}"
                yield SystemCommand(
                    title, help_text, partial(self.run_action, binding.action, node)
                )
        yield SystemCommand("Theme", "Change the theme (remembered)", self.action_change_theme)
        yield SystemCommand("Quit", "Quit pail (ctrl+q)", self.action_quit)

    def handle_bindings_clash(self, clashed_bindings: set[Binding], node: DOMNode) -> None:
        """Reported once at start (:func:`pail.ui.keymap.clashes`); Textual calls this on
        every key press, so nothing is done here."""


def _connection_of(message: WorkFailed) -> Connection | None:
    """The connection whose request failed: a tree level's, or the detail pane's node's."""
    if isinstance(message.target, NodeData):
        return message.target.conn
    if isinstance(message.target, DetailJob):
        data = getattr(message.origin, "data", None)
        if isinstance(data, NodeData):
            return data.conn
    return None
