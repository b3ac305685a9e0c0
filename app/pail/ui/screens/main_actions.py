"""The main screen's download and object commands (a mixin of
:class:`~pail.ui.screens.main.MainScreen`, whose ``BINDINGS`` include
:data:`ACTION_BINDINGS`).

* ``d``: download the marks, or the object / prefix / bucket at the cursor, into a folder
  asked for in a modal; the plan and the transfers run off the event loop, the Transfers
  screen (``D``) shows their progress (and every write's: :mod:`pail.ui.transfer_ops`).
* ``p``: copy a presigned URL (lifetime chosen in a modal; signing runs in a worker).
* ``y``: copy a ready ``aws s3 cp`` / ``gcloud storage cp`` / ``cp`` command.
* ``o``: download the object to the cache and open it in the first viewer that works:
  ``$PAGER``, ``$EDITOR``, ``less``, the system opener (:mod:`pail.ui.viewer`); each one
  that fails is reported, and when none works the detail pane's built-in preview gets the
  focus instead.
* ``e``: the runs view of the bucket/prefix at the cursor (:mod:`pail.ui.screens.runs`).
* ``i``: the inventory view of the bucket/prefix at the cursor, from the bucket's inventory
  report (:mod:`pail.ui.screens.inventory`).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.notifications import SeverityLevel

from pail.core.text import one_line
from pail.core.units import plural
from pail.drivers.base import StorageDriver
from pail.drivers.errors import StorageError
from pail.services.download import Downloader, plan_keys
from pail.services.locations import location_in
from pail.services.object_links import EXPIRY_CHOICES, copy_command, presigned_url
from pail.ui.clipboard import copy_text
from pail.ui.download_ops import (
    DownloadTask,
    Selection,
    SelectionError,
    conflict_bridge,
    plan_selection,
    selection_for,
    unverified_bridge,
)
from pail.ui.messages import (
    DownloadFinished,
    DownloadStarted,
    ObjectJob,
    PresignReady,
    ViewerReady,
    WorkFailed,
)
from pail.ui.nodes import NodeData
from pail.ui.screens.conflict import ConflictScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.inventory import open_inventory_view
from pail.ui.screens.presign import PresignScreen
from pail.ui.screens.runs import open_runs_view
from pail.ui.screens.unverified import UnverifiedScreen
from pail.ui.text import tilde
from pail.ui.viewer import plan_viewers
from pail.ui.workers import start_io

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost as _Host
else:
    _Host = object  # a plain mixin at run time: see pail.ui.screens.main_host

ACTION_BINDINGS = [
    Binding(
        "d",
        "download",
        "Download",
        tooltip="Download the marked items, or the object / prefix at the cursor, into a folder",
        id="node.download",
    ),
    Binding(
        "D",
        "downloads",
        "Transfers",
        key_display="D",
        # The id stays app.downloads: saved [keymap] tables name it.
        tooltip="Show the Transfers panel (downloads and writes): progress, cancel, "
        "summary (shift+d)",
        id="app.downloads",
    ),
    Binding(
        "p",
        "presign",
        "Presigned URL",
        show=False,
        tooltip="Copy a presigned URL of the object (choose how long it works)",
        id="object.presign",
    ),
    Binding(
        "y",
        "copy_command",
        "Copy command",
        show=False,
        tooltip="Copy an aws s3 cp / gcloud storage cp command for the object",
        id="object.copy_command",
    ),
    Binding(
        "o",
        "open_object",
        "Open",
        show=False,
        tooltip="Download the object to the cache and open it ($PAGER, $EDITOR or the system)",
        id="object.open",
    ),
    Binding(
        "e",
        "runs",
        "Runs",
        show=False,  # the footer keeps room for the commands; ? lists it
        tooltip="Runs in the bucket/prefix: table, params, metric curves, compare two",
        id="node.runs",
    ),
    Binding(
        "i",
        "inventory",
        "Inventory",
        show=False,  # the footer keeps room for the commands; ? lists it
        tooltip="The bucket from its inventory report (a snapshot): browse, du, search, plan",
        id="node.inventory",
    ),
]

_OBJECT_ACTIONS = ("presign", "copy_command", "open_object")
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _open(driver: StorageDriver | None) -> StorageDriver:
    """The driver a command captured. Raises StorageError when there was none: the
    connection was reopened between the key and the answer to its question."""
    if driver is None:
        raise StorageError("the connection is not open (it was reopened meanwhile)")
    return driver


class MainActions(_Host):
    """Download and object commands; see the module doc. Mixed into MainScreen; what it
    uses of the screen is :class:`~pail.ui.screens.main_host.MainHost`."""

    def _cursor(self) -> NodeData | None:
        return self.cursor_data()

    def _cursor_object(self) -> NodeData | None:
        data = self._cursor()
        if data is None or data.kind != "object" or data.conn.driver is None:
            return None
        return data

    def check_main_action(self, action: str) -> bool | None:
        """Footer visibility of these commands (see ``MainScreen.check_action``)."""
        if action in _OBJECT_ACTIONS:
            return self._cursor_object() is not None
        if action == "download":
            data = self._cursor()
            return self.has_marks() or (
                data is not None and data.kind in ("object", "prefix", "bucket")
            )
        if action == "downloads":
            return bool(self.downloads)
        if action == "runs":
            return self._runs_level() is not None
        if action == "inventory":
            level = self._runs_level()
            return level is not None and level.conn.spec.provider != "local"
        return True

    def _runs_level(self) -> NodeData | None:
        """The bucket/prefix at the cursor, or the one holding the object at the cursor
        (its connection open), for ``e``."""
        data = self._cursor()
        if data is not None and data.kind == "object":
            data = data.parent
        if data is None or data.kind not in ("bucket", "prefix") or data.conn.driver is None:
            return None
        return data

    def action_runs(self) -> None:
        """Open the runs view of the bucket/prefix at the cursor (pail.ui.screens.runs)."""
        open_runs_view(self, self._runs_level())

    def action_inventory(self) -> None:
        """Open the inventory view of the bucket/prefix at the cursor
        (pail.ui.screens.inventory)."""
        open_inventory_view(self, self._runs_level())

    # -- downloads ---------------------------------------------------------------------

    def action_download(self) -> None:
        """Ask for a folder, then download the marks or the node at the cursor."""
        try:
            selection = selection_for(self.marked_items(), self._cursor())
        except SelectionError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        if any(task.running and task.kind == "download" for task in self.downloads):
            message = "A download is running: wait for it or cancel it (D) first."
            self.notify(message, severity="warning", markup=False)
            return
        default = selection.default_folder(self.settings.download_dir)

        def chosen(folder: str | None) -> None:
            if folder:
                self.start_download(selection, folder)

        screen = DownloadTargetScreen(selection.describe(), default)
        self.app.push_screen(screen, callback=chosen)

    def start_download(self, selection: Selection, dest: str) -> DownloadTask:
        """Plan and start downloading ``selection`` into ``dest`` (in a worker), and show
        the downloads screen."""
        task = DownloadTask(len(self.downloads) + 1, selection.uri, dest)
        self.downloads.append(task)
        driver = selection.conn.driver
        app = self.app
        resolver = conflict_bridge(app, ConflictScreen)
        allow = unverified_bridge(app, UnverifiedScreen)

        def work() -> DownloadFinished | None:
            store = _open(driver)
            plan = plan_selection(store, selection, dest)
            if task.cancel_requested:  # quit while planning: start nothing
                return None
            downloader = Downloader(
                store, plan, conflict="ask", resolve_conflict=resolver, allow_unverified=allow
            )
            downloader.start()
            task.bind(downloader)  # cancelled at once if a quit came meanwhile
            self.post_message(DownloadStarted(task, downloader))
            return DownloadFinished(task, downloader.run())

        group = f"download-{task.number}"
        start_io(self, work, target=task, generation=0, group=group)
        app.push_screen(DownloadsScreen(task, self.downloads))
        return task

    def on_download_started(self, message: DownloadStarted) -> None:
        message.task.downloader = message.downloader

    def on_download_finished(self, message: DownloadFinished) -> None:
        task, report = message.task, message.report
        task.report = report
        if isinstance(self.app.screen, DownloadsScreen):
            self.app.screen.download_finished()
        problems = len(report.failed) + len(report.refused)
        text = f"Download {task.number}: {plural(len(report.done), 'file')} to {tilde(task.dest)}"
        if report.skipped:
            text += f", {len(report.skipped):,} skipped"
        if problems or report.cancelled:
            text += f"; {problems:,} failed or refused, {len(report.cancelled):,} cancelled (D)"
        severity: SeverityLevel = "warning" if problems else "information"
        self.notify(text, title="Download finished", severity=severity, markup=False)
        self.refresh_bindings()

    def action_downloads(self) -> None:
        """Show the latest transfer's panel (``[``/``]`` there: the earlier ones)."""
        task = self.downloads[-1] if self.downloads else None
        self.app.push_screen(DownloadsScreen(task, self.downloads))

    # -- object links ------------------------------------------------------------------

    def action_presign(self) -> None:
        """Ask for a lifetime, then copy a presigned URL of the object at the cursor."""
        data = self._cursor_object()
        if data is None:
            return
        labels = {seconds: label for label, seconds in EXPIRY_CHOICES.items()}

        def chosen(seconds: int | None) -> None:
            if seconds is None:
                return
            driver, bucket, key = data.conn.driver, data.bucket or "", data.key
            version = data.entry.version_id if data.entry else None
            label = labels.get(seconds, f"{seconds} s")

            def work() -> PresignReady:
                url = presigned_url(_open(driver), bucket, key, seconds, version_id=version)
                return PresignReady(url, label)

            job = ObjectJob("presign", data.uri)
            start_io(self, work, target=job, generation=0, group="presign")

        self.app.push_screen(PresignScreen(data.uri), callback=chosen)

    def on_presign_ready(self, message: PresignReady) -> None:
        copy_text(self.app, message.url, f"a presigned URL (works for {message.label})")

    def action_copy_command(self) -> None:
        """Copy a command that downloads the object with the provider's own CLI."""
        data = self._cursor_object()
        if data is None or data.bucket is None:
            return
        spec = data.conn.spec
        root = location_in(spec, data.bucket, data.key).root  # a local bucket's folder
        try:
            command = copy_command(
                spec.provider, data.bucket, data.key, endpoint_url=spec.endpoint_url, root=root
            )
        except ValueError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        copy_text(self.app, command, f"the command {one_line(command)}")

    def action_open_object(self) -> None:
        """Download the object to the cache (in a worker), then open it in a viewer."""
        data = self._cursor_object()
        if data is None or data.bucket is None:
            return
        driver, bucket = data.conn.driver, data.bucket
        folder = os.path.join(
            self.settings.open_cache_dir,
            _SAFE.sub("_", data.conn.spec.name) or "connection",
            _SAFE.sub("_", bucket) or "bucket",
        )
        item = data.entry or data.key

        def work() -> ViewerReady:
            store = _open(driver)
            plan = plan_keys(store, bucket, [item], folder, base="")
            report = Downloader(store, plan, conflict="overwrite").run()
            if plan.refused:
                reason = plan.refused[0].reason
                raise StorageError(f"not opened: the key is unsafe as a path ({reason})")
            if report.failed:
                failure = report.failed[0]
                if isinstance(failure.error, StorageError):
                    raise failure.error
                raise StorageError(f"{failure.code}: {failure.message}")
            return ViewerReady(data, plan_viewers(plan.jobs[0].path))

        self.notify(f"Opening {one_line(data.uri)}…", markup=False)
        job = ObjectJob("open", data.uri)
        start_io(self, work, target=job, generation=0, group="open")

    def on_viewer_ready(self, message: ViewerReady) -> None:
        outcome = self.pail_app.open_in_viewer(message.plan)
        problems = "; ".join(outcome.problems)
        if outcome.opened is not None:
            if problems:  # say why the first choice was not the one that opened
                text = f"Opened with {outcome.opened.describe()}; {problems}"
                self.notify(text, severity="warning", markup=False, timeout=10)
            return
        self.show_builtin_preview(message.data)
        text = "No external viewer: showing the built-in preview (tab: back to the tree)."
        if problems:
            text += f"\n{problems}"
        self.notify(text, severity="warning", markup=False, timeout=10)

    def show_builtin_preview(self, data: NodeData) -> None:
        """Put the cursor back on ``data`` if it moved, and focus the detail pane, scrolled
        to the preview, so the keys scroll it."""
        detail = self.detail
        node = self.bucket_tree.node_for(data)
        if node is not None and self.bucket_tree.cursor_node is not node:
            self.bucket_tree.move_cursor(node)  # the detail pane follows the cursor
        elif node is None and detail.data is not data:  # its level was re-listed meanwhile
            detail.show(data)
        detail.focus()
        detail.scroll_to_widget(detail.query_one("#detail-preview"), animate=False, top=True)

    # -- failures ----------------------------------------------------------------------

    def show_failure(self, message: WorkFailed) -> None:
        """A download plan, presign or open failed (called by the app's error route)."""
        error = message.error
        target = message.target
        if isinstance(target, DownloadTask):
            target.error = error
            what = f"Download {target.number} could not start"
        elif isinstance(target, ObjectJob):
            what = {"presign": "No presigned URL", "open": "Not opened"}.get(target.action, "")
        else:
            what = "Failed"
        text = f"{what}: {one_line(error.message or error.badge)}"
        if error.code:
            text = f"{what}: {error.code}: {one_line(error.message)}"
        self.notify(text, severity="error", markup=False, timeout=10)
        self.refresh_bindings()
