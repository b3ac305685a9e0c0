"""The Transfers panel: total and per-file progress of one transfer (a download, or a
write: copy, move, upload, rename), then its summary.

It polls the engine's ``progress()`` snapshot (a
:class:`~pail.services.download.Downloader`'s or a ``pail.services.transfer.Transfer``'s:
the same :class:`~pail.services.download.progress.DownloadProgress` shape; a write's
``FileProgress.path`` is the destination URI) every
:data:`POLL_SECONDS` (reading a snapshot is cheap and never blocks): a total
:class:`~textual.widgets.ProgressBar` with files, bytes, rate and ETA (worded by
:mod:`pail.core.units`); one bar per file in flight; a table of every file with its state.
When every file is final, rate and ETA give way to a summary that lists every failure
(with its code) and every refused key (with the reason); a write's summary adds the
sources a move deleted and those it kept (with why), and the first AccessDenied failure
gets its explanation (:func:`pail.services.explain.explain`: the action needed and the
grant to paste). The finished panel draws the same on every run.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, ProgressBar, Static

from pail.core.text import one_line
from pail.core.units import duration_words, size_text
from pail.drivers.errors import AccessDenied
from pail.services.download import DownloadReport
from pail.services.download.progress import DownloadProgress, FileProgress
from pail.services.explain import explain
from pail.ui.download_ops import TransferTask
from pail.ui.formatting import plural
from pail.ui.text import tilde

#: Seconds between two reads of the progress snapshot.
POLL_SECONDS = 0.2
#: Files shown with their own bar at once (the engine's default parallelism).
ACTIVE_ROWS = 8
_STATE = {
    "queued": "queued",
    "running": "…",
    "done": "done",
    "skipped": "skipped",
    "failed": "FAILED",
    "cancelled": "cancelled",
}


class DownloadsPanel(Vertical):
    """Progress of ``task`` (see the module doc).

    Args:
        task: the download or write to show (planning, running or finished).
    """

    def __init__(self, task: TransferTask, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.download = task
        self._rows: dict[str, tuple[str, int]] = {}
        self._final_drawn = False

    def compose(self) -> ComposeResult:
        yield Static(id="dl-title")
        yield ProgressBar(show_eta=False, id="dl-total")
        yield Static(id="dl-stats")
        with Vertical(id="dl-active"):
            for i in range(ACTIVE_ROWS):
                with Horizontal(classes="dl-file", id=f"dl-file-{i}"):
                    yield Static(classes="dl-file-name")
                    yield ProgressBar(show_eta=False, classes="dl-file-bar")
        table: DataTable[Text | str] = DataTable(id="dl-files", cursor_type="row")
        table.add_column("state", key="state", width=9)
        table.add_column("file", key="file")
        table.add_column("size", key="size", width=10)
        table.add_column("done", key="done", width=10)
        yield table
        # A long summary (every failure, an explanation's policy) scrolls (tab reaches it).
        with VerticalScroll(id="dl-summary"):  # app.tcss: height auto, at most half
            yield Static(id="dl-summary-text")

    def on_mount(self) -> None:
        for row in self.query(".dl-file"):
            row.display = False
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    @property
    def selected_key(self) -> str | None:
        """The key of the file row under the table's cursor."""
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return key.value

    def poll(self) -> None:
        """Redraw from the latest snapshot (called by the timer)."""
        if self._final_drawn:
            return
        task = self.download
        title = Text.assemble(
            (f"{task.title} {task.number}  ", "bold"),
            one_line(task.source),
            "  →  ",
            one_line(tilde(task.dest)),
        )
        self.query_one("#dl-title", Static).update(title)
        if task.error is not None:
            self._draw_error()
            return
        if task.downloader is None:
            waiting = "Listing the keys to download…" if task.kind == "download" else "Starting…"
            self.query_one("#dl-stats", Static).update(Text(waiting))
            return
        finished = task.report is not None
        progress = task.downloader.progress()
        self._draw_totals(progress, finished)
        self._draw_active(progress.files if not finished else ())
        self._draw_table(progress.files)
        if finished:
            self._draw_summary()
            self._final_drawn = True

    def _draw_error(self) -> None:
        error = self.download.error
        assert error is not None
        text = Text.assemble(
            (f"Nothing was {self.download.verb}: ", "bold"),
            f"{one_line(error.badge)} {one_line(error.operation)}: {one_line(error.message)}",
        )
        self.query_one("#dl-stats", Static).update(text)
        self._final_drawn = True

    def _draw_totals(self, p: DownloadProgress, finished: bool) -> None:
        bar = self.query_one("#dl-total", ProgressBar)
        if p.bytes_total:
            bar.update(total=p.bytes_total, progress=min(p.bytes_done, p.bytes_total))
        else:  # only empty files: count files instead
            bar.update(total=max(1, p.files_total), progress=p.files_finished)
        if finished and p.files_done + p.files_skipped == p.files_total and p.files_total:
            bar.update(progress=bar.total or 0)
        files = f"{p.files_finished:,} of {plural(p.files_total, 'file')}"
        parts = [files, f"{size_text(p.bytes_done)} of {size_text(p.bytes_total)}"]
        if not finished:
            # No rate until bytes move ("0 B/s" read as a stalled transfer).
            rate = int(p.rate) if p.bytes_done else 0
            parts.append(f"{size_text(rate)}/s" if rate > 0 else "– B/s")
            if p.eta is not None:
                parts.append(f"ETA {duration_words(p.eta)}")
        self.query_one("#dl-stats", Static).update(Text(" · ".join(parts)))

    def _draw_active(self, files: tuple[FileProgress, ...]) -> None:
        running = [f for f in files if f.state == "running"][:ACTIVE_ROWS]
        for i, row in enumerate(self.query(".dl-file")):
            if i >= len(running):
                row.display = False
                continue
            f = running[i]
            row.display = True
            row.query_one(".dl-file-name", Static).update(Text(one_line(self._rel(f))))
            row.query_one(ProgressBar).update(
                total=max(1, f.size or 1), progress=min(f.bytes_done, f.size or 0)
            )

    def _rel(self, f: FileProgress) -> str:
        dest = self.download.dest.rstrip("/") + "/"
        return f.path[len(dest) :] if f.path.startswith(dest) else f.key

    def _draw_table(self, files: tuple[FileProgress, ...]) -> None:
        table = self.query_one(DataTable)
        for f in files:
            percent = 100 if f.state in ("done", "skipped") else 0
            if f.size and f.state not in ("done", "skipped"):
                percent = min(100, f.bytes_done * 100 // f.size)
            state = (f.state, percent)
            if self._rows.get(f.key) == state:
                continue
            cells = (_STATE[f.state], f"{percent}%")
            if f.key not in self._rows:
                file = Text(one_line(self._rel(f)))
                table.add_row(cells[0], file, size_text(f.size), cells[1], key=f.key)
            else:
                table.update_cell(f.key, "state", cells[0])
                table.update_cell(f.key, "done", cells[1])
                if f.state == "done":
                    table.update_cell(f.key, "file", Text(one_line(self._rel(f))))
            self._rows[f.key] = state

    def _draw_summary(self) -> None:
        report = self.download.report
        assert report is not None
        self.query_one("#dl-summary-text", Static).update(
            Text("\n").join(summary_lines(report, self.download.verb))
        )


def summary_lines(report: DownloadReport, verb: str = "downloaded") -> list[Text]:
    """The finished summary of a download or a write (a ``TransferReport``, read by its
    ``deleted``/``kept``/``notes`` when present), every line plain :class:`Text`: counts,
    how the items were verified, then every skip, failure, refusal, cancellation, a move's
    kept sources, the engine's notes and the first AccessDenied's explanation."""
    done, skipped = len(report.done), len(report.skipped)
    unverified = report.unverified
    failed = [f for f in report.failed if f not in unverified]
    deleted: list[str] = list(getattr(report, "deleted", None) or [])
    kept: list = list(getattr(report, "kept", None) or [])
    notes: list[str] = list(getattr(report, "notes", None) or [])
    head = (
        f"Finished: {done:,} {verb}, {skipped:,} skipped, "
        f"{len(failed):,} failed, {len(unverified):,} not verified, "
        f"{len(report.refused):,} refused, {len(report.cancelled):,} cancelled"
    )
    if verb == "moved" or deleted or kept:
        head += f"; {len(deleted):,} sources deleted, {len(kept):,} kept"
    lines = [Text(head + ".", style="bold")]
    if report.done:
        lines.append(Text(f"  {report.verified_text()}"))
    for s in report.skipped:
        lines.append(Text(f"  skipped   {one_line(s.key)}: {s.reason}"))
    for failure in unverified:
        text = f"  not verified {one_line(failure.key)}: {failure.message}"
        lines.append(Text(one_line(text), style="yellow"))
    for failure in failed:
        text = f"  failed    {one_line(failure.key)}: {failure.code}: {failure.message}"
        lines.append(Text(one_line(text), style="red"))
    for refused in report.refused:
        lines.append(Text(f"  refused   {one_line(refused.key)}: {refused.reason}", style="red"))
    for cancelled in report.cancelled:
        lines.append(Text(f"  cancelled {one_line(cancelled.key)}"))
    for failure in kept:
        text = f"  kept      {one_line(failure.key)}: {failure.code}: {failure.message}"
        lines.append(Text(one_line(text), style="yellow"))
    for note in notes:
        lines.append(Text(f"  note      {one_line(note)}"))
    denied = next(
        (f.error for f in (*report.failed, *kept) if isinstance(f.error, AccessDenied)), None
    )
    if isinstance(denied, AccessDenied):
        lines.append(Text("Why access was denied:", style="bold"))
        # Explanation lines are plain text; keys and messages in them are made one line each.
        lines.extend(Text("  " + one_line(line)) for line in explain(denied).lines())
    return lines
