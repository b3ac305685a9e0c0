"""Inventory mode (``i`` on a bucket or prefix): the bucket as its inventory report lists it.

An inventory report is the store's own daily listing of a bucket (S3 Inventory, GCS
Storage Insights inventory reports): this screen opens the newest complete report of the
bucket (:func:`pail.services.inventory.open.open_inventory`: the configurations and
manifests located, the manifest's checksum verified, the data files downloaded and
verified, CSV/ORC prepared once) in a worker, with its progress ("locating…",
"downloading 12.0 MiB of 40.0 MiB", "preparing…"; ``x`` stops), then browses it at the
prefix the cursor was on. Everything the screen shows is a snapshot, and says so: the
title reads "s3://bucket/runs/ · inventory of 2026-11-28 02:00 UTC · snapshot · 1,234
objects · 5.6 GiB".

* The level table (:class:`~pail.ui.widgets.inventory_table.InventoryTable`): the level's
  prefixes with their recursive totals, then its objects, by name, a page of
  :data:`PAGE_ROWS` at a time (the next page loads as the cursor or the scroll nears the
  end); enter opens a prefix, backspace or ← goes up. ``S`` sorts by the next field (name,
  size, objects, newest change), ``R`` reverses, once the whole level is loaded.
* Beside it, ``du`` of the row at the cursor (a prefix; for an object its fields and the
  level's figures), its age histogram (age at the report's time) and its storage-class
  breakdown, drawn (:class:`~pail.ui.widgets.inventory_charts.BarChart`).
* ``/`` or ``ctrl+f``: search every key under the level in the live search's syntax
  (:class:`~pail.ui.screens.inventory_search.InventorySearchScreen`); enter on a match
  comes back to its level, on it.
* ``z``: the stale filter (the main screen's modal), then a plan from the report
  re-checked live (:class:`~pail.ui.screens.inventory_plan.InventoryPlanScreen`): the keys
  unchanged since the report go to the usual delete review; a lifecycle rule is offered
  when one can do the same.
* ``y``: the Athena or BigQuery SQL of the view, to run where the report lives
  (:class:`~pail.ui.screens.inventory_sql.InventorySqlScreen`).

Every query runs in a worker (never on the event loop): the level's pages in one group,
the detail in another, one detail query at a time with the latest cursor position winning
(a fast scroll does not queue a query per row); ``x`` interrupts the report's running
queries (:meth:`Inventory.interrupt <pail.services.inventory.query.Inventory.interrupt>`).
A bucket without an inventory says what was looked at; a manifest whose checksum does not
match is refused; either way a manifest URI (or a prefix holding reports) can be typed and
opened instead. Nothing the store or the report supplied is shown as markup.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Header, Input, Static

from pail.core.text import clip, one_line
from pail.core.units import plural, short_age, size_text
from pail.drivers.base import StorageDriver
from pail.services.inventory.model import (
    InventoryError,
    LevelRow,
    ManifestInvalid,
    NoInventory,
    OpenProgress,
    Report,
    Usage,
)
from pail.services.locations import location_in
from pail.ui.cleanup_ops import Clock, DeleteTarget, when_cell
from pail.ui.messages import (
    DeleteRequest,
    InventoryDetailLoaded,
    InventoryLevelLoaded,
    InventoryOpened,
    WorkFailed,
)
from pail.ui.nodes import NodeData
from pail.ui.screens.keys_explained import KeysExplained
from pail.ui.screens.quiet_footer import QuietFooterScreen
from pail.ui.screens.stale_filter import FilterChoice, StaleFilterScreen
from pail.ui.widgets.footer import PailFooter
from pail.ui.widgets.inventory_charts import BarChart, age_bars, class_bars
from pail.ui.widgets.inventory_table import InventoryTable
from pail.ui.workers import start_io

if TYPE_CHECKING:  # DuckDB is imported when a report is opened, not with the app
    from pail.services.inventory.query import Inventory
    from pail.ui.screens.main_host import MainHost

log = logging.getLogger(__name__)

#: Rows of a level loaded per query (the next page loads near the end of the table).
PAGE_ROWS = 1000
#: Rows from the end of the loaded rows at which the next page is asked for.
PAGE_AHEAD = 50
#: Seconds between two redraws of the opening's progress.
POLL_SECONDS = 0.2
#: Prefixes whose detail (du, ages, classes) is kept, to come back to them at once.
DETAIL_CACHE = 256

#: ``open_inventory``'s signature: (driver, bucket, manifest=, cache_dir=, cancel=,
#: on_progress=) -> Inventory. Tests pass the real one wrapped (a gate before it).
Opener = Callable[..., "Inventory"]
#: Runs a reviewed delete: the main screen's ``run_delete`` (progress screen, then the
#: tree's affected levels listed again).
RunDelete = Callable[[DeleteRequest, DeleteTarget], Any]

_STAGES = {
    "locating": "locating the report",
    "downloading": "downloading",
    "preparing": "preparing",
    "ready": "ready",
}


def parent_prefix(prefix: str) -> str:
    """The level above ``prefix``: ``"a/b/"`` -> ``"a/"``, ``"a/"`` -> ``""``."""
    trimmed = prefix[:-1] if prefix.endswith("/") else prefix
    cut = trimmed.rfind("/")
    return trimmed[: cut + 1] if cut >= 0 else ""


def progress_text(progress: OpenProgress | None) -> str:
    """The opening's progress in one plain line: ``"downloading 12.0 MiB of 40.0 MiB
    (30%) · <file>"``."""
    if progress is None:
        return "opening the inventory…"
    stage = _STAGES.get(progress.stage, progress.stage)
    line = f"{stage}…"
    if progress.stage == "downloading" and progress.total:
        share = 100 * progress.done // max(1, progress.total)
        line = f"downloading {size_text(progress.done)} of {size_text(progress.total)} ({share}%)"
    elif progress.stage == "preparing" and progress.total:
        line = f"preparing {progress.done:,} of {plural(progress.total, 'file')}…"
    if progress.detail:
        line += f" · {one_line(progress.detail)}"
    return line


def report_line(report: Report) -> str:
    """Where the report is and what it holds: ``"s3://dest/…/manifest.json · Parquet, 3
    files, 12.0 MiB"``."""
    files = plural(len(report.files), "file")
    size = f", {size_text(report.total_bytes)}" if report.total_bytes else ""
    versions = " · object versions" if report.versions else ""
    return f"{report.manifest_uri} · {report.format}, {files}{size}{versions}"


def usage_text(usage: Usage, created: datetime, title: str) -> Text:
    """``du`` of a prefix in the report, plain text: objects and bytes, oldest and newest
    (ages at the report's time ``created``), and per storage class its share of the bytes
    and its bytes."""
    out = Text()
    out.append(one_line(title) + "\n", style="bold")
    out.append(f"{plural(usage.objects, 'object')} · {size_text(usage.bytes)}\n")
    out.append(f"oldest {_day(usage.oldest, created)}\n")
    out.append(f"newest {_day(usage.newest, created)}\n")
    width = max((len(one_line(s.storage_class or "(none)")) for s in usage.classes), default=0)
    for share in usage.classes:
        part = 100 * share.bytes / usage.bytes if usage.bytes else 0.0
        name = one_line(share.storage_class or "(none)")
        out.append(f"{name:<{width}}", style="bold")
        out.append(f" {part:3.0f}% {size_text(share.bytes)}\n")
    out.append("ages at the report's time", style="dim")
    return out


def _day(when: datetime | None, created: datetime) -> str:
    """``"2025-05-01 (30d)"``: the day (UTC) and the age at the report's time."""
    if when is None:
        return "-"
    return f"{when:%Y-%m-%d} ({short_age(when, created)})"


def object_text(row: LevelRow, created: datetime) -> Text:
    """An object row's fields as the report lists them (plain text)."""
    out = Text()
    out.append(one_line(row.name) + "\n", style="bold")
    out.append(f"size  {size_text(row.bytes)}")
    if row.bytes >= 1024:
        out.append(f" ({row.bytes:,} bytes)", style="dim")
    out.append(f"\ndate  {when_cell(row.newest, created)}\n")
    if row.storage_class:
        out.append(f"class {one_line(row.storage_class)}\n")
    if row.etag:
        out.append(f"ETag  {one_line(row.etag)}\n")
    out.append("as the report lists it; the store may differ now", style="dim")
    return out


class InventoryScreen(KeysExplained, QuietFooterScreen):
    """The report of ``level``'s bucket, browsed from ``level`` (see the module doc).

    Args:
        level: a bucket or prefix node whose connection is open.
        clock: "now" (UTC) for the stale filter's ages.
        manifest: a manifest URI (or a prefix holding reports) to open instead of the
            bucket's configured inventory.
        cache_dir: where reports are downloaded (default: pail's cache folder).
        opener: opens the report (default
            :func:`~pail.services.inventory.open.open_inventory`; called in the worker).
        run_delete: runs a reviewed delete (the main screen's); ``None``: deleting from
            here is not offered.
        stale_texts: the stale filter's fields to start with (the last filter used).

    Attributes:
        inventory: the opened report, or ``None`` (opening, or it failed).
        prefix: the level shown (``""`` = the bucket's root).
        opening: the report is being opened.
        problem: why nothing is shown (plain text), or ``""``.
    """

    BINDINGS = [
        Binding(
            "escape,q",
            "close",
            "Back",
            key_display="esc",
            tooltip="Back to the tree",
            id="inventory.close",
        ),
        Binding(
            "x",
            "cancel",
            "Stop",
            tooltip="Stop opening the report, or the query running",
            id="inventory.cancel",
        ),
        Binding(
            "r",
            "reopen",
            "Open again",
            show=False,
            tooltip="Open the bucket's newest complete report again",
            id="inventory.reopen",
        ),
        Binding(
            "enter",
            "open_prefix",
            "Open",
            tooltip="Open the prefix at the cursor",
            id="inventory.open",
        ),
        Binding(
            "backspace,left",
            "up",
            "Up",
            key_display="⌫",
            priority=True,  # the table would take ← (scroll left)
            tooltip="Go up one level (backspace or ←)",
            id="inventory.up",
        ),
        Binding(
            "slash,ctrl+f",
            "search",
            "Search",
            key_display="/",
            tooltip="Search every key under this level: substring, glob, size>…, age>…",
            id="inventory.search",
        ),
        Binding(
            "z",
            "stale_filter",
            "Stale…",
            tooltip="Stale filter -> a plan from the report, re-checked live -> review",
            id="inventory.stale",
        ),
        Binding(
            "y",
            "sql",
            "SQL",
            tooltip="The Athena / BigQuery SQL of this view, to run where the report is",
            id="inventory.sql",
        ),
        Binding(
            "S",
            "next_sort",
            "Sort",
            key_display="S",
            show=False,
            tooltip="Sort by the next field: name, size, objects, newest (whole level loaded)",
            id="inventory.sort",
        ),
        Binding(
            "R",
            "reverse",
            "Reverse",
            key_display="R",
            show=False,
            tooltip="Reverse the order (whole level loaded)",
            id="inventory.reverse",
        ),
        Binding(
            "c",
            "copy_uri",
            "Copy URI",
            show=False,
            tooltip="Copy the URI of the row at the cursor",
            id="inventory.copy_uri",
        ),
    ]

    DEFAULT_CSS = """
    InventoryScreen {
        #inv-title, #inv-info, #inv-foot { padding: 0 1; height: auto; }
        #inv-info { max-height: 2; }
        #inv-message { padding: 1 2; height: auto; }
        #inv-manifest { margin: 0 2; width: 1fr; }
        #inv-body { height: 1fr; }
        #inv-table { height: 1fr; min-height: 4; margin: 0 1; }
        #inv-bottom { height: 15; }
        #inv-du-box { width: 1fr; padding: 0 1; border-top: solid $primary 50%; }
        #inv-ages, #inv-classes { width: 1fr; min-width: 24; }
        #inv-foot { height: 1; }
    }
    InventoryScreen.-short {
        #inv-bottom { height: 10; }
        #inv-info { max-height: 1; }
    }
    """

    #: "-short" below 32 rows: the charts get 9 rows (a title and 8 age bars) and the
    #: information one line.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]

    def __init__(
        self,
        level: NodeData,
        clock: Clock,
        *,
        manifest: str | None = None,
        cache_dir: Path | None = None,
        opener: Opener | None = None,
        run_delete: RunDelete | None = None,
        stale_texts: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        assert level.conn.driver is not None and level.bucket is not None
        self.level = level
        self._driver: StorageDriver = level.conn.driver
        self.bucket: str = level.bucket
        self._clock = clock
        self.manifest = manifest
        self._cache_dir = cache_dir
        self._opener = opener
        self._run_delete = run_delete
        self.stale_texts = dict(stale_texts or {})
        self.last_query = ""
        self.inventory: Inventory | None = None
        self.prefix = level.key if level.kind != "object" else parent_prefix(level.key)
        self.opening = False
        self.problem = ""
        self._open_generation = 0
        self._cancel = threading.Event()
        self._progress: OpenProgress | None = None
        self._lock = threading.Lock()
        self._owned: list[Inventory] = []
        self._closed = False
        self._level_generation = 0
        self._level_loading = False
        self._page_loading = False
        self._come_back_to: str | None = None  # the row to put the cursor on once loaded
        self._detail_want: str | None = None
        self._detail_show_usage = True
        self._detail_running: str | None = None
        self._details: dict[str, InventoryDetailLoaded] = {}

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="◆")
        yield Static(id="inv-title")
        yield Static(id="inv-info")
        yield Static(id="inv-message")
        yield Input(
            placeholder="s3://dest/prefix/…/manifest.json, or a prefix holding reports: enter",
            id="inv-manifest",
            disabled=True,  # hidden, and never focused, until opening fails
        )
        with Vertical(id="inv-body"):
            yield InventoryTable(id="inv-table")
            with Horizontal(id="inv-bottom"):
                with VerticalScroll(id="inv-du-box"):
                    yield Static(id="inv-du")
                yield BarChart("age", id="inv-ages")
                yield BarChart("storage class", id="inv-classes")
        yield Static(id="inv-foot")
        yield PailFooter()

    def on_mount(self) -> None:
        self.sub_title = "Inventory (a snapshot)"
        self.query_one("#inv-body").display = False
        self.query_one("#inv-message").display = False
        self._show_manifest_field(False)
        self.set_interval(POLL_SECONDS, self._show_progress)
        self.watch(self.table, "scroll_y", self._scrolled, init=False)
        self._draw_title()
        self.action_reopen()

    @property
    def table(self) -> InventoryTable:
        """The level table."""
        return self.query_one(InventoryTable)

    @property
    def report(self) -> Report | None:
        """The opened report, or ``None``."""
        return self.inventory.report if self.inventory is not None else None

    def uri(self, key: str = "") -> str:
        """The URI of ``key`` in this bucket (``s3://bucket/key``)."""
        return location_in(self.level.conn.spec, self.bucket, key).uri

    @property
    def busy(self) -> bool:
        """Opening, or a query of the report is running."""
        return (
            self.opening
            or self._level_loading
            or self._page_loading
            or self._detail_running is not None
        )

    # -- opening ---------------------------------------------------------------------------

    def action_reopen(self) -> None:
        """Open the report (again): the newest complete one, or :attr:`manifest`."""
        if self.opening:
            return
        self._open_generation += 1
        generation = self._open_generation
        self._cancel = cancel = threading.Event()
        self._progress = None
        self.opening = True
        self.problem = ""
        self.query_one("#inv-message").display = False
        self._show_manifest_field(False)
        driver, bucket, manifest = self._driver, self.bucket, self.manifest
        opener, cache_dir = self._opener, self._cache_dir

        def progress(update: OpenProgress) -> None:
            self._progress = update  # read by the poll timer on the event loop

        def work() -> InventoryOpened | None:
            if opener is None:
                from pail.services.inventory.open import open_inventory as opener_
            else:
                opener_ = opener
            try:
                inventory = opener_(
                    driver,
                    bucket,
                    manifest=manifest,
                    cache_dir=cache_dir,
                    cancel=cancel,
                    on_progress=progress,
                )
            except NoInventory as exc:
                return InventoryOpened(None, generation, str(exc), "none")
            except ManifestInvalid as exc:
                return InventoryOpened(None, generation, str(exc), "refused")
            except InventoryError as exc:  # FetchCancelled among them
                kind = "cancelled" if cancel.is_set() else "error"
                return InventoryOpened(None, generation, str(exc), kind)
            if cancel.is_set():  # x came after the last check: not shown, so not kept
                inventory.close()
                return InventoryOpened(None, generation, "stopped", "cancelled")
            if not self._adopt(inventory):
                return None  # the screen has closed
            return InventoryOpened(inventory, generation)

        start_io(self, work, target=self.level, generation=generation, group="inventory-open")
        self._show_progress()
        self.refresh_bindings()

    def _adopt(self, inventory: Inventory) -> bool:
        """Keep ``inventory`` to close it with the screen (worker thread); ``False`` (and
        closed at once) when the screen has closed meanwhile."""
        with self._lock:
            if not self._closed:
                self._owned.append(inventory)
                return True
        inventory.close()
        return False

    def _show_progress(self) -> None:
        if not self.opening:
            return
        line = Text(progress_text(self._progress))
        line.append("   x stops", style="dim")
        self.query_one("#inv-info", Static).update(line)

    def on_inventory_opened(self, message: InventoryOpened) -> None:
        message.stop()
        if message.generation != self._open_generation:
            if message.inventory is not None:
                self._release(message.inventory)
            return
        self.opening = False
        if message.inventory is None:
            if self.inventory is not None:  # r failed: the old report goes with its view
                self._release(self.inventory)
                self.inventory = None
                self.table.level = None
            self._say_not_opened(message.problem, message.kind)
            self.refresh_bindings()
            return
        again = self.inventory is not None
        if self.inventory is not None:
            self._release(self.inventory)
        self.inventory = message.inventory
        if again:  # r: say it happened (the view may look the same)
            self.notify(f"Opened again: the {message.inventory.report.label}.", markup=False)
        self._details.clear()
        self.query_one("#inv-body").display = True
        self._draw_title()
        self.load_level(self.prefix)
        self.table.focus()

    def _release(self, inventory: Inventory) -> None:
        """Stop and close ``inventory`` off the event loop (a query may be running)."""
        with self._lock:
            if inventory in self._owned:
                self._owned.remove(inventory)
        _close_later(inventory)

    def _say_not_opened(self, problem: str, kind: str) -> None:
        where = self.uri()
        if kind == "none":
            head = Text(f"No inventory for {one_line(where)}", style="bold")
            hint = (
                "An inventory report is the store's own daily listing of a bucket (S3 "
                "Inventory, GCS Storage Insights). r looks again; tab, then type a "
                "manifest's URI (or a prefix holding reports) to open that instead."
            )
        elif kind == "refused":
            head = Text("Refused: the report's manifest cannot be trusted", style="bold red")
            hint = "Nothing is shown from it. r looks again (a newer report may be complete)."
        elif kind == "cancelled":
            head = Text("Opening stopped.", style="bold")
            hint = "r opens the report again (what was downloaded is kept)."
            problem = ""
        else:
            head = Text("The inventory was not opened", style="bold red")
            hint = "r tries again; tab, then type a manifest's URI to open that instead."
        self._say(head, problem, hint, manifest=kind != "cancelled")

    def _say(self, head: Text, detail: str, hint: str, *, manifest: bool = False) -> None:
        """Show ``head`` (and ``detail``, ``hint``: plain text) instead of the table."""
        self.problem = head.plain + (f": {detail}" if detail else "")
        self.query_one("#inv-body").display = False
        body = head.copy()
        if detail:
            body.append("\n" + one_line(detail))
        if hint:
            body.append("\n" + hint, style="dim")
        message = self.query_one("#inv-message", Static)
        message.update(body)
        message.display = True
        self._show_manifest_field(manifest)
        self.query_one("#inv-info", Static).update("")
        self.query_one("#inv-foot", Static).update("")

    def _show_manifest_field(self, shown: bool) -> None:
        """The manifest field: shown (not focused: r and q keep working, tab goes to it)
        or hidden and disabled (a hidden field would still take the focus and the keys)."""
        field = self.query_one("#inv-manifest", Input)
        field.display = shown
        field.disabled = not shown
        if shown:
            field.value = self.manifest or ""
        elif field.has_focus:
            self.set_focus(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        self.manifest = text or None
        self.action_reopen()

    def show_failure(self, message: WorkFailed) -> None:
        """A worker failed (the app's error route): the store refused a request while
        opening, or a query failed."""
        error = message.error
        what = f"{error.code}: {error.message}" if error.code else (error.message or error.badge)
        target = message.target
        if target == "detail":
            self._detail_running = None
            self.query_one("#inv-du", Static).update(
                Text(f"Not answered: {one_line(what)}", style="bold red")
            )
        elif target in ("inventory-level", "inventory-page"):
            if message.generation == self._level_generation:
                self._level_loading = self._page_loading = False
                self._level_not_shown(what)
        elif message.generation == self._open_generation:
            self.opening = False
            self._say_not_opened(what, "error")
        self.refresh_bindings()

    # -- levels ----------------------------------------------------------------------------

    def load_level(self, prefix: str, *, come_back_to: str | None = None) -> None:
        """Show the level ``prefix``: its first page is queried in a worker (the level
        shown stays until it answers); the cursor goes to the row of ``come_back_to`` when
        it is in that page."""
        if self.inventory is None:
            return
        self.prefix = prefix
        self._come_back_to = come_back_to
        self._level_generation += 1
        self._level_loading = True
        self._page_loading = False
        self._draw_title()
        self.query_one("#inv-info", Static).update(
            Text.assemble("querying the report…", ("   x stops", "dim"))
        )
        self._query_level(prefix, 0)

    def _load_page(self) -> None:
        """Query the level's next page (in a worker) when more rows exist."""
        table = self.table
        if (
            self.inventory is None
            or table.level is None
            or table.level.prefix != self.prefix
            or self._page_loading
            or self._level_loading
            or table.complete
            or table.sort_key != "name"
        ):
            return
        self._page_loading = True
        self._query_level(self.prefix, len(table.rows_loaded))
        self._draw_info()

    def _query_level(self, prefix: str, offset: int) -> None:
        """``level(prefix)`` from ``offset`` (a page of :data:`PAGE_ROWS`) in a worker."""
        inventory, generation = self.inventory, self._level_generation
        assert inventory is not None
        first = offset == 0

        def work() -> InventoryLevelLoaded:
            from pail.services.inventory.query import QueryCancelled

            try:
                level = inventory.level(prefix, limit=PAGE_ROWS, offset=offset)
            except QueryCancelled:
                return InventoryLevelLoaded(prefix, None, generation, first, stopped=True)
            except InventoryError as exc:  # the query failed: said, never a traceback
                return InventoryLevelLoaded(prefix, None, generation, first, problem=str(exc))
            return InventoryLevelLoaded(prefix, level, generation, first)

        group = "inventory-level" if first else "inventory-page"
        start_io(self, work, target=group, generation=generation, group=group)
        self.refresh_bindings()

    def on_inventory_level_loaded(self, message: InventoryLevelLoaded) -> None:
        message.stop()
        if message.generation != self._level_generation or message.prefix != self.prefix:
            return
        if message.first:
            self._level_loading = False
        else:
            self._page_loading = False
        level, report, table = message.level, self.report, self.table
        if level is None or report is None:
            self._level_not_shown(message.problem or "stopped")
        elif message.first:
            table.show_level(level, report.created)
            target = self._come_back_to
            index = table.row_of(target) if target is not None else None
            table.move_cursor(row=index or 0, animate=False)
            self._draw_title()
            self._draw_info()
            self._follow_cursor()
        else:
            table.add_page(level)
            self._draw_info()
        self.refresh_bindings()

    def _level_not_shown(self, why: str) -> None:
        """A level's query was stopped or failed: the level shown before stays, and says
        so."""
        shown = self.table.level
        if shown is not None:
            self.prefix = shown.prefix  # what the table shows, still
            self._draw_title()
            self._draw_info(one_line(why))
        else:
            self.query_one("#inv-info", Static).update(
                Text(f"Not shown: {one_line(why)}. r opens the report again.", style="bold")
            )
        if why != "stopped":
            self.notify(
                f"The report's query failed: {one_line(why)}", severity="error", markup=False
            )

    def _draw_title(self) -> None:
        title = Text(one_line(self.uri(self.prefix)), style="bold")
        report = self.report
        if report is not None:
            title.append(f" · {report.label} · ", style="bold")
            title.append("snapshot", style="bold reverse")
            level = self.table.level if self.is_mounted else None
            if level is not None and level.prefix == self.prefix:
                title.append(f" · {plural(level.objects, 'object')} · {size_text(level.bytes)}")
        self.query_one("#inv-title", Static).update(title)

    def _draw_info(self, state: str = "") -> None:
        table, report = self.table, self.report
        level = table.level
        if level is None or report is None:
            return
        info = Text()
        loaded = len(table.rows_loaded)
        info.append(plural(level.children, "entry", "entries") + " at this level")
        if not table.complete:
            info.append(f", {loaded:,} loaded")
            info.append(" (more as you scroll)" if not self._page_loading else " (loading…)")
        if state:
            info.append(f" · {state}", style="bold")
        info.append(f"\nreport {one_line(report_line(report))}", style="dim")
        self.query_one("#inv-info", Static).update(info)
        self._draw_foot()

    def _draw_foot(self) -> None:
        table = self.table
        foot = Text(table.sort_words(), style="dim")
        if not table.complete and table.level is not None:
            foot.append(" (S sorts once the level is loaded)", style="dim")
        foot.append(
            " · a snapshot: changes since it was taken are not seen; a plan (z) re-checks "
            "every key live",
            style="dim",
        )
        self.query_one("#inv-foot", Static).update(foot)

    # -- the row at the cursor -------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._follow_cursor()
        table = self.table
        if table.cursor_row >= table.row_count - PAGE_AHEAD:
            self._load_page()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_prefix()

    def _scrolled(self, _old: float, _new: float) -> None:
        """The table scrolled (wheel, scrollbar): the next page when its end nears."""
        table = self.table
        if table.scroll_offset.y + 2 * max(1, table.size.height) >= table.row_count:
            self._load_page()

    def _follow_cursor(self) -> None:
        """Show the row at the cursor: a prefix's du and charts, or an object's fields
        beside the level's charts."""
        row = self.table.cursor_level_row()
        report = self.report
        if report is None:
            return
        key = self.prefix if row is None or not row.is_prefix else row.key
        box = self.query_one("#inv-du-box")
        if row is not None and not row.is_prefix:
            box.border_title = Text("object, as the report lists it")
            self.query_one("#inv-du", Static).update(object_text(row, report.created))
        else:
            box.border_title = Text("du")
        self._want_detail(key, show_usage=row is None or row.is_prefix)

    def _want_detail(self, prefix: str, *, show_usage: bool = True) -> None:
        self._detail_show_usage = show_usage
        self._detail_want = prefix
        cached = self._details.get(prefix)
        if cached is not None:
            self._draw_detail(cached)
            return
        if show_usage:
            self.query_one("#inv-du", Static).update(
                Text.assemble((one_line(prefix or "(bucket root)"), "bold"), "\nquerying…")
            )
        if self._detail_running is None:
            self._start_detail(prefix)

    def _start_detail(self, prefix: str) -> None:
        inventory = self.inventory
        if inventory is None:
            return
        self._detail_running = prefix

        def work() -> InventoryDetailLoaded:
            from pail.services.inventory.query import QueryCancelled

            try:
                usage = inventory.du(prefix)
                ages = inventory.ages(prefix)
                classes = inventory.storage_classes(prefix)
            except QueryCancelled:
                return InventoryDetailLoaded(prefix, None, None, None, stopped=True)
            except InventoryError as exc:  # the query failed: said, never a traceback
                return InventoryDetailLoaded(prefix, None, None, None, problem=str(exc))
            return InventoryDetailLoaded(prefix, usage, ages, classes)

        start_io(self, work, target="detail", generation=0, group="inventory-detail")
        self.refresh_bindings()

    def on_inventory_detail_loaded(self, message: InventoryDetailLoaded) -> None:
        message.stop()
        self._detail_running = None
        want = self._detail_want
        if message.usage is not None:
            self._details[message.prefix] = message
            while len(self._details) > DETAIL_CACHE:
                self._details.pop(next(iter(self._details)))
        if message.prefix == want:
            self._draw_detail(message)
        elif want is not None and not message.stopped:
            self._start_detail(want)  # the cursor moved on meanwhile: the latest wins
        self.refresh_bindings()

    def _draw_detail(self, detail: InventoryDetailLoaded) -> None:
        report = self.report
        ages = self.query_one("#inv-ages", BarChart)
        classes = self.query_one("#inv-classes", BarChart)
        if detail.usage is None or report is None:
            why = f"not answered: {detail.problem}" if detail.problem else "stopped"
            if self._detail_show_usage:
                self.query_one("#inv-du", Static).update(Text(one_line(why), style="dim"))
            ages.clear_bars(one_line(why))
            classes.clear_bars(one_line(why))
            return
        title = detail.prefix or f"{self.bucket} (whole bucket)"
        if self._detail_show_usage:
            self.query_one("#inv-du", Static).update(
                usage_text(detail.usage, report.created, title)
            )
        if self._detail_show_usage:  # the charts are the row's, beside its du
            ages.what, classes.what = "ages", "storage classes"
        else:  # the cursor is on an object: the charts are its level's, and say so
            name = LevelRow(detail.prefix, True, 0, 0).name if detail.prefix else "the bucket"
            ages.what, classes.what = f"ages in {clip(name, 24)}", f"classes in {clip(name, 24)}"
        ages.show(age_bars(detail.ages or []))
        classes.show(class_bars(detail.classes or []), empty_reason="no classes in the report")

    # -- commands --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Keys that do nothing now are hidden (and say why when pressed)."""
        if not self.is_mounted:
            return True
        if action == "close":
            return True
        if action == "cancel":
            return self.busy
        if action == "reopen":
            return not self.opening
        if self.inventory is None or self.opening:
            return False
        if action == "open_prefix":
            row = self.table.cursor_level_row()
            return row is not None and row.is_prefix
        if action == "up":
            return bool(self.prefix)
        if action in ("next_sort", "reverse"):
            return self.table.complete and self.table.row_count > 1
        if action == "stale_filter":
            return self._run_delete is not None
        return True

    def why_not(self, action: str) -> str:
        """Why ``action`` does nothing now (plain text)."""
        if action == "cancel":
            return "nothing is running"
        if action == "reopen":
            return "the report is being opened (x stops)"
        if self.opening:
            return "the report is being opened"
        if self.inventory is None:
            return "no report is open (r opens it again)"
        if action == "open_prefix":
            return "the cursor is not on a prefix"
        if action == "up":
            return "this is the bucket's root"
        if action in ("next_sort", "reverse"):
            table = self.table
            if table.level is not None and not table.complete:
                return (
                    f"{plural(table.level.children, 'entry', 'entries')}, "
                    f"{len(table.rows_loaded):,} loaded: rows come in name order; "
                    "scroll to the end to load them all first"
                )
            return "nothing to sort"
        if action == "stale_filter":
            return "deleting is not offered here"
        return super().why_not(action)

    def action_cancel(self) -> None:
        """Stop opening, or interrupt the report's running queries."""
        self._cancel.set()
        if self.inventory is not None:
            self.inventory.interrupt()

    def action_open_prefix(self) -> None:
        """Open the prefix at the cursor."""
        row = self.table.cursor_level_row()
        if row is None or not row.is_prefix or self.inventory is None:
            return
        self.load_level(row.key)

    def action_up(self) -> None:
        """Go up one level, the cursor on the prefix left."""
        if not self.prefix or self.inventory is None:
            return
        left = self.prefix
        self.load_level(parent_prefix(left), come_back_to=left)

    def action_next_sort(self) -> None:
        """Sort by the next field (the whole level is loaded)."""
        self.table.next_sort()
        self._draw_foot()

    def action_reverse(self) -> None:
        """Reverse the order."""
        self.table.reverse()
        self._draw_foot()

    def action_copy_uri(self) -> None:
        """Copy the URI of the row at the cursor (or of the level)."""
        from pail.ui.clipboard import copy_text

        row = self.table.cursor_level_row()
        uri = self.uri(row.key if row is not None else self.prefix)
        copy_text(self.app, uri, f"the URI {one_line(uri)}")

    def action_search(self) -> None:
        """Search every key under the level (its own screen); enter on a match comes back
        to the match's level, on it."""
        from pail.ui.screens.inventory_search import InventorySearchScreen, SearchChoice

        inventory = self.inventory
        if inventory is None:
            return

        def chosen(choice: SearchChoice | None) -> None:
            if choice is None:
                return
            self.last_query = choice.query
            if choice.key:
                self.load_level(parent_prefix(choice.key), come_back_to=choice.key)

        screen = InventorySearchScreen(inventory, self.prefix, self.uri, query=self.last_query)
        self.app.push_screen(screen, callback=chosen)

    def action_stale_filter(self) -> None:
        """The stale filter, then a plan from the report re-checked live (its own screen)."""
        from pail.ui.screens.inventory_plan import InventoryPlanScreen

        inventory, run_delete = self.inventory, self._run_delete
        if inventory is None or run_delete is None:
            return
        prefix = self.prefix

        def chosen(choice: FilterChoice | None) -> None:
            if choice is None:
                return
            self.stale_texts = choice.texts
            screen = InventoryPlanScreen(
                inventory, self.level, prefix, choice, self._clock, run_delete=run_delete
            )
            self.app.push_screen(screen)

        where = f"{self.uri(prefix)} (from the {inventory.report.label})"
        self.app.push_screen(StaleFilterScreen(where, self.stale_texts), callback=chosen)

    def action_sql(self) -> None:
        """Show the Athena / BigQuery SQL of this level (and copy it from there)."""
        from pail.ui.screens.inventory_sql import InventorySqlScreen

        report = self.report
        if report is not None:
            self.app.push_screen(InventorySqlScreen(report, self.prefix))

    def action_close(self) -> None:
        """Back to the tree (opening and queries are stopped)."""
        self.dismiss(None)

    def on_unmount(self) -> None:
        self._cancel.set()
        with self._lock:
            self._closed = True
            owned, self._owned = self._owned, []
        for inventory in owned:
            _close_later(inventory)
        self.inventory = None


def _close_later(inventory: Inventory) -> None:
    """Interrupt ``inventory``'s queries and close it on a thread of its own (closing
    waits for DuckDB; never on the event loop). A close that fails is logged: the
    screen is gone, nobody is left to tell."""

    def close() -> None:
        try:
            inventory.close()
        except Exception as exc:  # the database goes with the process anyway
            log.warning("inventory not closed: %s", exc)

    inventory.interrupt()
    threading.Thread(target=close, name="inventory-close", daemon=True).start()


def _level_of(data: NodeData | None) -> NodeData | None:
    """The bucket/prefix at ``data``, or the one holding the object at ``data``."""
    if data is not None and data.kind == "object":
        data = data.parent
    if data is None or data.kind not in ("bucket", "prefix") or data.conn.driver is None:
        return None
    return data


def open_inventory_view(host: MainHost, data: NodeData | None) -> None:
    """``i`` on the main screen: push the inventory view of the bucket/prefix at ``data``
    (or of the level holding the object there)."""
    level = _level_of(data)
    if level is None:
        text = "Move to an open bucket or prefix to see its inventory."
        host.notify(text, severity="warning", markup=False)
        return
    screen = InventoryScreen(
        level,
        host._clock,
        run_delete=getattr(host, "run_delete", None),
        stale_texts=getattr(host, "_stale_texts", None),
    )
    host.app.push_screen(screen)


__all__ = [
    "PAGE_ROWS",
    "InventoryScreen",
    "open_inventory_view",
    "parent_prefix",
    "progress_text",
]
