"""The downloads screen (``D``): the panel of the latest download, with cancel keys.

Closing it (escape, ``q`` or ``D``) does not stop anything: transfers run on the engine's own
threads; opening it again shows where they are.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from pail.ui.download_ops import DownloadTask
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.downloads_panel import DownloadsPanel
from pail.ui.widgets.footer import PailFooter


class DownloadsScreen(KeysExplained, Screen[None]):
    """Shows ``task`` (``None``: no download yet).

    Args:
        task: the download to show.
    """

    BINDINGS = [
        Binding("escape,q,D", "close", "Back", key_display="esc", id="downloads.close"),
        Binding(
            "x",
            "cancel_file",
            "Cancel file",
            tooltip="Cancel the file at the table's cursor",
            id="downloads.cancel_file",
        ),
        Binding(
            "ctrl+x",
            "cancel_all",
            "Cancel all",
            tooltip="Cancel every file not finished yet",
            id="downloads.cancel_all",
        ),
    ]

    WHY_NOT = {
        "cancel_file": "the download has finished (or not started)",
        "cancel_all": "the download has finished (or not started)",
    }

    def __init__(self, task: DownloadTask | None) -> None:
        super().__init__()
        self.download = task

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        if self.download is None:
            yield Static(Text("No downloads yet: press d on an object or prefix."), id="dl-none")
        else:
            yield DownloadsPanel(self.download, id="downloads")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Downloads"
        if self.download is not None:
            self.query_one("#dl-files").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel keys only while the download runs."""
        if action in ("cancel_file", "cancel_all"):
            task = self.download
            return task is not None and task.downloader is not None and task.report is None
        return True

    def action_close(self) -> None:
        """Back to the tree."""
        self.dismiss(None)

    def action_cancel_file(self) -> None:
        """Cancel the file under the table's cursor."""
        task = self.download
        if task is None or task.downloader is None:
            return
        key = self.query_one(DownloadsPanel).selected_key
        if key is not None:
            task.downloader.cancel(key)

    def action_cancel_all(self) -> None:
        """Cancel every file not finished yet."""
        task = self.download
        if task is not None and task.downloader is not None:
            task.downloader.cancel()

    def download_finished(self) -> None:
        """The task's report arrived: the cancel keys go away."""
        self.refresh_bindings()
