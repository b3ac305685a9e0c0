"""Versions (``v``): an object's versions and delete markers, or the deleted objects under
a prefix, with preview and download of old versions and restore (undo of a delete).

* On an object: every version and delete marker, latest first (S3 ListObjectVersions,
  GCS generations; :func:`pail.services.versions.object_versions`): latest flag, kind,
  size, time (UTC), version id. Enter previews the version under the cursor (read by
  range with its version id, :func:`pail.services.previews.build_preview`); ``d`` downloads
  it into the download folder (the download engine pins the version id).
* On a prefix or bucket: delete markers hide keys from listings, so the screen lists
  the keys under it whose latest version is a delete marker ("deleted objects here").
* ``U`` restores the object (or the deleted object under the cursor), ``A`` every deleted
  object under the prefix: the delete markers above the newest data are removed
  (:func:`pail.services.versions.restore`) after a confirmation showing the plan.

Dismisses with True when something was restored (the tree lists the level again).
"""

from __future__ import annotations

import os

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Header, Static

from pail.core.text import one_line
from pail.core.units import size_text
from pail.drivers.base import Entry
from pail.drivers.errors import StorageError
from pail.drivers.versions import VersionEntry
from pail.services import versions as svc
from pail.services.download import Downloader, plan_keys
from pail.services.metadata import object_info
from pail.services.previews import build_preview
from pail.ui.cleanup_ops import WHEN_CELL_WIDTH, Clock, when_cell
from pail.ui.formatting import plural
from pail.ui.messages import (
    RestoreFinished,
    RestorePlanned,
    VersionPreviewLoaded,
    VersionSaved,
    VersionsListed,
    WorkFailed,
)
from pail.ui.nodes import NodeData
from pail.ui.preview_render import preview_body, summary_line
from pail.ui.screens.confirm import ConfirmScreen
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.settings import UISettings, load_settings
from pail.ui.text import tilde
from pail.ui.widgets.footer import PailFooter
from pail.ui.workers import start_io


def deleted_objects(driver, bucket: str, prefix: str) -> list[VersionEntry]:
    """The latest entry (a delete marker) of every key under ``prefix`` that is deleted,
    with the newest data version's size copied onto it (bytes a restore brings back)."""
    found = []
    for _key, versions in svc.by_key(svc.iter_versions(driver, bucket, prefix)):
        top = versions[0]
        if top.is_latest and top.is_delete_marker:
            data = [v for v in versions if not v.is_delete_marker]
            size = data[0].size if data else 0
            found.append(VersionEntry(top.key, top.version_id, True, True, size, top.last_modified))
    return found


def listed_text(rows: list[VersionEntry]) -> str:
    """What an object's versions table lists, counted from its rows: ``"2 versions and 1
    delete marker"``, ``"1 version"``, ``"no versions or delete markers"``."""
    markers = sum(1 for v in rows if v.is_delete_marker)
    parts = [plural(len(rows) - markers, "version")] if len(rows) > markers else []
    if markers:
        parts.append(plural(markers, "delete marker"))
    return " and ".join(parts) or "no versions or delete markers"


class VersionsScreen(KeysExplained, Screen[bool]):
    """See the module doc.

    Args:
        data: the object, prefix or bucket node (its connection open).
        clock: "now" (UTC) for ages.
    """

    BINDINGS = [
        Binding("escape,q", "close", "Back", key_display="esc", id="versions.close"),
        Binding(
            "U",
            "restore",
            "Restore",
            key_display="U",
            tooltip="Restore (undelete) the version or object at the cursor",
            id="versions.restore",
        ),
        Binding("A", "restore_all", "Restore all", key_display="A", id="versions.restore_all"),
        Binding("d", "download", "Download version", id="versions.download"),
    ]

    WHY_NOT = {
        "download": "downloads a version of an object (once listed)",
        "restore_all": "restores the deleted objects under a prefix",
        "restore": "the versions are not listed (yet, or this store keeps none)",
    }

    def __init__(self, data: NodeData, clock: Clock) -> None:
        super().__init__()
        assert data.conn.driver is not None and data.bucket is not None
        self.data = data
        self.driver = data.conn.driver
        self.bucket = data.bucket
        self.is_object = data.kind == "object"
        self._clock = clock
        self.rows: list[VersionEntry] = []
        self.loaded = False
        self.changed = False
        self.result: Text | None = None
        self._ticket = 0

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="ver-title")
        table: DataTable[Text | str] = DataTable(id="ver-table", cursor_type="row")
        if self.is_object:
            # Widths of the longest value: "latest", "delete marker", "1023.9 KiB", a
            # when_cell; the version id (32+ characters) takes the rest.
            columns = (("", 6), ("kind", 13), ("size", 10), ("modified (UTC)", WHEN_CELL_WIDTH))
            for label, width in columns:
                table.add_column(label, width=width)
            table.add_column("version id")
        else:
            table.add_column("deleted object")
            table.add_column("size", width=10)
            table.add_column("deleted (UTC)", width=WHEN_CELL_WIDTH)
        yield table
        yield Static(id="ver-status")
        yield Static(id="ver-preview")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Versions"
        what = "Versions of " if self.is_object else "Deleted objects under "
        self.query_one("#ver-title", Static).update(
            Text.assemble((what, "bold"), one_line(self.data.uri))
        )
        self.load()

    def load(self) -> None:
        """List (again) in a worker."""
        self._ticket += 1
        ticket, driver, bucket, key = self._ticket, self.driver, self.bucket, self.data.key
        is_object = self.is_object

        def work() -> VersionsListed:
            if is_object:
                return VersionsListed(ticket, svc.object_versions(driver, bucket, key))
            return VersionsListed(ticket, deleted_objects(driver, bucket, key))

        self._status("Listing versions…")
        start_io(self, work, target=self.data, generation=ticket, group="versions-list")

    def _settings(self) -> UISettings:
        """The app's settings (PailApp keeps them); read from the environment in another
        app (a test's)."""
        found = getattr(self.app, "settings", None)
        return found if isinstance(found, UISettings) else load_settings()

    def _status(self, text: str | Text) -> None:
        self.query_one("#ver-status", Static).update(text if isinstance(text, Text) else Text(text))

    def on_versions_listed(self, message: VersionsListed) -> None:
        message.stop()
        if message.ticket != self._ticket:
            return
        self.rows, self.loaded = message.rows, True
        now = self._clock()
        table = self.query_one(DataTable)
        table.clear()
        for v in self.rows:
            size = Text(
                "-" if v.is_delete_marker and self.is_object else size_text(v.size), justify="right"
            )
            when = when_cell(v.last_modified, now)
            if self.is_object:
                kind = Text("delete marker", style="red") if v.is_delete_marker else "version"
                table.add_row(
                    "latest" if v.is_latest else "", kind, size, when, Text(one_line(v.version_id))
                )
            else:
                table.add_row(Text(one_line(v.key[len(self.data.key) :])), size, when)
        if self.is_object:
            note = f"{listed_text(self.rows)} · enter previews, d downloads"
            if not self.rows:
                note = "No versions or delete markers: nothing by this name is stored."
        elif self.rows:
            note = f"{plural(len(self.rows), 'deleted object')} · U restores one, A all"
        else:
            note = "No deleted objects here (none whose latest version is a delete marker)."
        self._status(self.result or Text(note))
        self.refresh_bindings()
        table.focus()

    def _selected(self) -> VersionEntry | None:
        table = self.query_one(DataTable)
        if not self.rows or not table.row_count:
            return None
        return self.rows[min(table.cursor_row, len(self.rows) - 1)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Download only on an object's data version; restore-all only on a prefix; no
        restore until the versions were listed (a store without versions never lists)."""
        if action == "restore":
            return self.loaded
        if action == "download":
            return self.is_object and self.loaded
        if action == "restore_all":
            return not self.is_object and bool(self.rows)
        return True

    # -- preview and download ------------------------------------------------------------

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        v = self._selected()
        if v is None or not self.is_object:
            return
        if v.is_delete_marker:
            self.query_one("#ver-preview", Static).update(Text("A delete marker has no content."))
            return
        driver, bucket = self.driver, self.bucket
        self._ticket += 1
        ticket = self._ticket

        settings = self._settings()

        def work() -> VersionPreviewLoaded:
            # The same format-aware, byte-bounded preview as the detail pane, of this version.
            info = object_info(driver, bucket, v.key, version_id=v.version_id)
            preview = build_preview(
                driver,
                info,
                limit=settings.preview_limit,
                image_limit=settings.image_limit,
                window=settings.window,
            )
            return VersionPreviewLoaded(ticket, preview)

        self.query_one("#ver-preview", Static).update(Text("Reading…"))
        start_io(self, work, target=v, generation=ticket, group="versions-preview")

    def on_version_preview_loaded(self, message: VersionPreviewLoaded) -> None:
        message.stop()
        if message.ticket != self._ticket:
            return  # the cursor has moved on to another version
        p = message.preview
        head = Text(f"Version preview ({p.kind}, {summary_line(p)})", style="bold")
        body = preview_body(p, self.data.key, lambda _name: Style(bold=True))
        self.query_one("#ver-preview", Static).update(Group(head, body))

    def action_download(self) -> None:
        """Download the version under the cursor into the download folder."""
        v = self._selected()
        if v is None or v.is_delete_marker:
            return
        driver, bucket = self.driver, self.bucket
        folder = os.path.join(self._settings().download_dir, "versions", v.version_id[:16])
        entry = Entry(v.key, "object", v.size, v.last_modified, v.etag, version_id=v.version_id)

        def work() -> VersionSaved:
            plan = plan_keys(driver, bucket, [entry], folder)
            report = Downloader(driver, plan, conflict="overwrite").run()
            if report.failed:
                failure = report.failed[0]
                if isinstance(failure.error, StorageError):
                    raise failure.error
                raise StorageError(f"{failure.code}: {failure.message}")
            return VersionSaved(plan.jobs[0].path if plan.jobs else folder)

        self._status("Downloading the version…")
        start_io(self, work, target=v, generation=0, group="versions-download")

    def on_version_saved(self, message: VersionSaved) -> None:
        message.stop()
        self._status(Text(f"Saved to {tilde(message.path)}", style="green"))

    # -- restore -------------------------------------------------------------------------

    def action_restore(self) -> None:
        """Plan restoring the object (or the deleted object under the cursor)."""
        if self.is_object:
            key = self.data.key
        else:
            v = self._selected()
            if v is None:
                return
            key = v.key
        self._plan_restore(key, recursive=False)

    def action_restore_all(self) -> None:
        """Plan restoring every deleted object under the prefix."""
        self._plan_restore(self.data.key, recursive=True)

    def _plan_restore(self, key: str, *, recursive: bool) -> None:
        driver, bucket = self.driver, self.bucket

        def work() -> RestorePlanned:
            return RestorePlanned(svc.plan_restore(driver, bucket, key, recursive=recursive))

        self._status("Finding the delete markers…")
        start_io(self, work, target=key, generation=0, group="versions-restore")

    def on_restore_planned(self, message: RestorePlanned) -> None:
        message.stop()
        plan = message.plan
        if not plan.keys:
            self._status("Nothing to restore: no delete marker on top of a version.")
            return
        body = (
            f"Remove {plural(plan.markers, 'delete marker')} so {plural(plan.keys, 'object')} "
            f"({size_text(plan.bytes)}) become current again under "
            f"{one_line(plan.prefix) or '(bucket root)'} in bucket {one_line(plan.bucket)}."
        )
        if plan.unrecoverable:
            body += (
                f" {plural(len(plan.unrecoverable), 'key')} with only delete markers stay deleted."
            )

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_restore(plan)
            else:
                self._status("Not restored.")

        title = f"Restore {plural(plan.keys, 'object')}?"
        self.app.push_screen(ConfirmScreen(title, body, confirm="Restore"), callback=answered)

    def _run_restore(self, plan) -> None:
        driver = self.driver

        def work() -> RestoreFinished:
            return RestoreFinished(svc.restore(driver, plan))

        self._status("Restoring…")
        start_io(self, work, target=plan, generation=0, group="versions-restore")

    def on_restore_finished(self, message: RestoreFinished) -> None:
        message.stop()
        report = message.report
        self.changed = self.changed or bool(report.restored)
        text = Text(f"Restored {plural(len(report.restored), 'object')}.", style="bold green")
        for failure in report.failed[:10]:
            text.append(
                f"\nnot restored {one_line(failure.key)}: {one_line(failure.code)}",
                style="bold red",
            )
        self.result = text
        self.load()

    def show_failure(self, message: WorkFailed) -> None:
        """A listing, preview, download or restore failed (the app's error route)."""
        error = message.error
        self._status(
            Text(
                f"{one_line(error.badge)} {one_line(error.operation)}: {one_line(error.message)}",
                style="bold red",
            )
        )

    def action_close(self) -> None:
        """Back to the tree."""
        self.dismiss(self.changed)
