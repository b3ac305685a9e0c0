"""The Transfers screen (``D``): the panel of the latest transfer (a download or a write:
copy, move, upload, rename), with cancel keys; ``[`` and ``]`` show the earlier ones.

Closing it (escape, ``q`` or ``D``) does not stop anything: transfers run on the engines' own
threads; opening it again shows where they are.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from pail.ui.download_ops import TransferTask
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.widgets.downloads_panel import DownloadsPanel
from pail.ui.widgets.footer import PailFooter


class DownloadsScreen(KeysExplained, Screen[None]):
    """Shows ``task`` (``None``: no transfer yet); ``[``/``]`` step through ``tasks``.

    Args:
        task: the transfer to show first.
        tasks: every transfer of the session, oldest first (``task`` among them).
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
        Binding(
            "left_square_bracket",
            "step(-1)",
            "Earlier",
            key_display="[",
            tooltip="Show the transfer started before this one",
            id="downloads.earlier",
        ),
        Binding(
            "right_square_bracket",
            "step(1)",
            "Later",
            key_display="]",
            tooltip="Show the transfer started after this one",
            id="downloads.later",
        ),
    ]

    WHY_NOT = {
        "cancel_file": "the transfer has finished (or not started)",
        "cancel_all": "the transfer has finished (or not started)",
        "step": "no other transfer that way",
    }

    def __init__(self, task: TransferTask | None, tasks: Sequence[TransferTask] = ()) -> None:
        super().__init__()
        self.download = task
        self.tasks = list(tasks) or ([task] if task is not None else [])

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        if self.download is None:
            text = "No transfers yet: press d (download), F5 (copy) or U (upload) on the tree."
            yield Static(Text(text), id="dl-none")
        else:
            yield DownloadsPanel(self.download, id="downloads")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Transfers"
        if self.download is not None:
            self.query_one("#dl-files").focus()

    def _index(self) -> int:
        task = self.download
        return self.tasks.index(task) if task is not None and task in self.tasks else -1

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Cancel keys only while the transfer runs; ``[``/``]`` while there is one that
        way."""
        if action in ("cancel_file", "cancel_all"):
            task = self.download
            return task is not None and task.downloader is not None and task.report is None
        if action == "step":
            index = self._index()
            step = parameters[0] if parameters else 0
            return index >= 0 and isinstance(step, int) and 0 <= index + step < len(self.tasks)
        return True

    def action_close(self) -> None:
        """Back to the tree."""
        self.dismiss(None)

    async def action_step(self, step: int) -> None:
        """Show the transfer ``step`` places later (negative: earlier) in the session."""
        index = self._index()
        if index < 0 or not 0 <= index + step < len(self.tasks):
            return
        self.download = self.tasks[index + step]
        await self.query_one(DownloadsPanel).remove()
        panel = DownloadsPanel(self.download, id="downloads")
        await self.mount(panel, before=self.query_one(PailFooter))
        panel.query_one("#dl-files").focus()
        self.refresh_bindings()

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
