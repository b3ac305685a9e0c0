"""The detail pane: everything known about the node under the cursor.

* object: key, size (binary units and exact bytes), last modified (local time and age),
  ETag, content type, storage class, version id, encryption, user metadata (HeadObject),
  and a format-aware preview read by range (:func:`pail.services.previews.build_preview`,
  limits from :mod:`pail.ui.settings`), drawn by :class:`~pail.ui.widgets.preview_view.PreviewView`;
  a text preview grows by one window per :meth:`DetailPane.load_more` (a log tail backwards);
* prefix / bucket: what has been listed so far; a bucket also its region
  (GetBucketLocation);
* connection: provider, endpoint, region, profile, the credential source in use and the
  identity (access key id masked like ``AKIA…WXYZ``, or a client email); never a secret;
* any node whose request failed: every field of the error and its hint.

Lookups run in one exclusive worker group, so moving the cursor cancels the previous
node's request; each result carries the ticket it was started under and stale ones are
dropped. Every value is a :class:`rich.text.Text`, never markup.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from datetime import datetime

from rich.console import Console, Group, RenderableType
from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from pail.core.connection import mask
from pail.core.units import size_with_bytes
from pail.drivers.base import ObjectInfo, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.metadata import bucket_region, object_info
from pail.services.previews import (
    ImagePreview,
    PreviewResult,
    TextPreview,
    build_preview,
    load_more_text,
)
from pail.ui import image_support
from pail.ui.access_text import explanation_parts, identity_rows
from pail.ui.failure import app_hint, as_storage_error
from pail.ui.formatting import format_time, plural
from pail.ui.messages import (
    DetailJob,
    DetailPart,
    ObjectHeadLoaded,
    PreviewLoaded,
    RegionLoaded,
    WorkFailed,
)
from pail.ui.nodes import LevelTotals, NodeData
from pail.ui.settings import UISettings, load_settings
from pail.ui.text import literal, literal_block
from pail.ui.widgets.preview_view import PreviewView
from pail.ui.workers import start_io

Clock = Callable[[], datetime]
_PENDING = object()
_TITLES = {
    "connection": "Connection",
    "bucket": "Bucket",
    "prefix": "Prefix",
    "object": "Object",
    "loading": "Listing",
    "note": "Level",
}


class DetailPane(VerticalScroll):
    """Shows the node given to :meth:`show`; fetches object/bucket details in a worker.

    Args:
        clock: returns "now" as an aware UTC datetime (injectable so tests show fixed ages).
        settings: preview limits (default: :func:`pail.ui.settings.load_settings`).
    """

    COMPONENT_CLASSES = {
        "detail--title",
        "detail--label",
        "detail--error",
        "detail--dim",
    }

    def __init__(
        self, *, clock: Clock, settings: UISettings | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self._clock = clock
        self.settings = settings if settings is not None else load_settings()
        self._data: NodeData | None = None
        self._ticket = 0
        self._info: ObjectInfo | None = None
        self._preview: PreviewResult | None = None
        self._picture: object = None
        self._picture_problem = ""
        self._loading_more = False
        self._region: object = _PENDING
        self._errors: dict[str, StorageError] = {}

    def compose(self) -> ComposeResult:
        yield Static(id="detail-info")
        yield PreviewView(self._style, id="detail-preview")

    @property
    def preview(self) -> PreviewResult | None:
        """The preview on show (``None`` while loading or when there is none)."""
        return self._preview

    @property
    def info(self) -> ObjectInfo | None:
        """HeadObject of the object on show, once it answered."""
        return self._info

    @property
    def can_load_more(self) -> bool:
        """The preview is text that :meth:`load_more` can extend."""
        preview = self._preview
        return isinstance(preview, TextPreview) and preview.can_load_more and not self._loading_more

    @property
    def loading_more(self) -> bool:
        """A "load more" of the text preview is in flight."""
        return self._loading_more

    @property
    def data(self) -> NodeData | None:
        """The node data on show."""
        return self._data

    @property
    def bucket_region(self) -> str | None:
        """The region GetBucketLocation gave for the bucket on show (``None``: unknown)."""
        return self._region if isinstance(self._region, str) else None

    def show(self, data: NodeData | None) -> None:
        """Show ``data``, cancelling any lookup for the previous node."""
        self._ticket += 1
        self._data = data
        self._info = None
        self._preview = None
        self._picture, self._picture_problem = None, ""
        self._loading_more = False
        self._region = _PENDING
        self._errors = {}
        self.workers.cancel_group(self, "detail")
        driver = data.conn.driver if data is not None else None
        if data is not None and driver is not None and data.bucket is not None:
            if data.kind == "object":
                self._start(self._object_work(driver, data, self._ticket), "head")
            elif data.kind == "bucket":
                self._start(self._region_work(driver, data.bucket, self._ticket), "region")
        self.redraw()
        self.scroll_home(animate=False)

    def _start(self, work: Callable[[], Message | None], part: DetailPart) -> None:
        job = DetailJob(self._ticket, part)
        start_io(self, work, target=job, generation=self._ticket, group="detail")

    def _object_work(
        self, driver: StorageDriver, data: NodeData, ticket: int
    ) -> Callable[[], Message | None]:
        bucket, key = data.bucket or "", data.key
        version_id = data.entry.version_id if data.entry else None
        settings = self.settings

        def work() -> Message | None:
            info = object_info(driver, bucket, key, version_id=version_id)
            self.post_message(ObjectHeadLoaded(ticket, info))
            if get_current_worker().is_cancelled:
                return None
            try:
                preview = build_preview(
                    driver,
                    info,
                    limit=settings.preview_limit,
                    image_limit=settings.image_limit,
                    window=settings.window,
                )
            except Exception as exc:
                return WorkFailed(self, DetailJob(ticket, "preview"), ticket, as_storage_error(exc))
            picture, problem = None, ""
            if isinstance(preview, ImagePreview) and preview.data is not None:
                if get_current_worker().is_cancelled:
                    return None
                picture, problem = image_support.decode_thumbnail(preview.data)
            return PreviewLoaded(ticket, preview, picture, problem)

        return work

    def load_more(self) -> bool:
        """Extend the text preview by one window (a log tail: the window before it), in a
        worker. Returns False when there is nothing to load."""
        data, info, preview = self._data, self._info, self._preview
        if not self.can_load_more or data is None or info is None:
            return False
        driver = data.conn.driver
        if driver is None or not isinstance(preview, TextPreview):
            return False
        ticket, window = self._ticket, self.settings.window
        self._loading_more = True

        def work() -> Message:
            try:
                more = load_more_text(driver, info, preview, window=window)
            except Exception as exc:
                return WorkFailed(self, DetailJob(ticket, "preview"), ticket, as_storage_error(exc))
            return PreviewLoaded(ticket, more)

        self._start(work, "preview")
        self.screen.refresh_bindings()
        return True

    @staticmethod
    def _region_work(driver: StorageDriver, bucket: str, ticket: int) -> Callable[[], Message]:
        def work() -> RegionLoaded:
            return RegionLoaded(ticket, bucket_region(driver, bucket))

        return work

    def on_object_head_loaded(self, message: ObjectHeadLoaded) -> None:
        if message.ticket == self._ticket:
            self._info = message.info
            self.redraw(preview=False)

    def on_preview_loaded(self, message: PreviewLoaded) -> None:
        if message.ticket == self._ticket:
            extended = self._preview is not None
            self._preview = message.preview
            self._loading_more = False
            if not extended:
                self._picture, self._picture_problem = message.picture, message.problem
            from_end = self.max_scroll_y - self.scroll_y
            self.redraw()
            if isinstance(message.preview, TextPreview) and message.preview.is_tail:
                # A log tail: show its last lines; after reading further back, keep the
                # lines that were on screen where they were.
                keep = from_end if extended else 0
                self.call_after_refresh(self._scroll_from_end, keep)
            if self.is_attached:
                self.screen.refresh_bindings()

    def _scroll_from_end(self, distance: float) -> None:
        self.scroll_to(y=max(0, self.max_scroll_y - distance), animate=False)

    def on_region_loaded(self, message: RegionLoaded) -> None:
        if message.ticket == self._ticket:
            self._region = message.region
            self.redraw()

    def show_failure(self, message: WorkFailed) -> None:
        """Show a failed lookup inline (called by the app's error route)."""
        job = message.target
        if isinstance(job, DetailJob) and job.ticket == self._ticket:
            self._errors[job.part] = message.error
            self._loading_more = False
            self.redraw()

    # -- rendering -------------------------------------------------------------------------

    def as_text(self, width: int = 100) -> str:
        """What the pane shows, as plain text (for tests and for copying)."""
        console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
        console.print(self._info_renderable())
        self._draw_preview()
        console.print(self.query_one(PreviewView).renderable())
        return console.export_text()

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"detail--{name}", partial=True)

    def redraw(self, *, preview: bool = True) -> None:
        """Re-render from the current state (no new requests); ``preview=False`` keeps the
        preview as drawn (highlighting 64 KiB again on every level update would be waste)."""
        if not self.is_mounted:
            return
        self.query_one("#detail-info", Static).update(self._info_renderable())
        if preview:
            self._draw_preview()

    def _table(self, rows: Iterable[tuple[str, Text | str]]) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style=self._style("label"), no_wrap=True)
        table.add_column(overflow="fold")
        for label, value in rows:
            if value == "" or value is None:
                continue
            table.add_row(Text(label), value if isinstance(value, Text) else literal(value))
        return table

    def _error_block(self, error: StorageError, heading: str) -> RenderableType:
        title = Text.assemble(
            (f"{heading}: ", self._style("error")), (error.badge, self._style("error"))
        )
        rows = [(f.label, literal(f.value)) for f in error.fields()]
        parts: list[RenderableType] = [Text(""), title, self._table(rows)]
        hint = app_hint(error)  # the app's retry key added to the neutral hint
        if hint:
            parts.append(Text.assemble(("Hint: ", self._style("label")), literal_block(hint)))
        return Group(*parts)

    def _info_renderable(self) -> RenderableType:
        data = self._data
        if data is None:
            return Text("Select a connection, bucket, prefix or object.", style=self._style("dim"))
        kind = data.parent.kind if data.kind in ("more", "list") and data.parent else data.kind
        title = Text.assemble(
            (_TITLES.get(kind, ""), self._style("title")), "  ", literal(data.uri)
        )
        parts: list[RenderableType] = [title]
        if data.kind == "connection":
            parts.append(self._table(self._connection_rows(data)))
        elif data.kind == "object":
            parts.append(self._table(self._object_rows(data)))
        elif data.is_level:
            parts.append(self._table(self._level_rows(data)))
        elif data.kind == "more" and data.parent is not None:
            parts.append(self._table(self._level_rows(data.parent)))
            parts.append(Text("Press enter to list the next page.", style=self._style("dim")))
        elif data.kind == "list" and data.parent is not None:
            parts.append(self._table(self._level_rows(data.parent)))
            text = "A big level: press enter to open its keys in the list (sort, filter, load all)."
            parts.append(Text(text, style=self._style("dim")))
        elif data.kind == "loading":
            parts.append(Text("Waiting for the store to answer…", style=self._style("dim")))
        if data.error is not None:
            parts.append(self._error_block(data.error, "Listing failed"))
        if "head" in self._errors:
            parts.append(self._error_block(self._errors["head"], "Lookup failed"))
        errors = [e for e in (data.error, self._errors.get("head")) if e is not None]
        parts.extend(explanation_parts(data, errors, self.bucket_region, self._style))
        return Group(*parts)

    def _connection_rows(self, data: NodeData) -> list[tuple[str, Text | str]]:
        spec = data.conn.spec
        driver = data.conn.driver
        endpoint = spec.endpoint_url or (driver.endpoint if driver else None)
        secrets = spec.secrets
        resolved = data.conn.resolved
        if resolved is not None:
            source, identity = resolved.source, resolved.identity or ""
        else:
            source = "" if spec.provider == "local" else "resolved when opened"
            identity = (mask(secrets.access_key_id) or "") if secrets else ""
        state = "open" if driver is not None else "not opened yet"
        if data.loading:
            state += ", listing buckets…"
        rows: list[tuple[str, Text | str]] = [
            ("Name", spec.name),
            ("Provider", spec.provider),
            ("Endpoint", endpoint or ("" if spec.provider == "local" else "provider default")),
            ("Region", spec.region or ""),
            ("Profile", spec.profile or ""),
            ("Folder", spec.root or ""),
            ("Project", spec.project or ""),
            ("Credentials file", spec.credentials_file or ""),
            ("Credentials", source),
            ("Identity", identity),
            *identity_rows(data.conn),
            ("Path-style", "yes" if spec.path_style else ""),
            ("Anonymous", "yes (unsigned requests)" if spec.anonymous else ""),
            ("Store", _quirks_text(driver)),
            ("State", state),
        ]
        if data.loaded and not data.loading:
            rows.append(("Buckets", f"{data.totals().buckets:,} shown"))
        return rows

    def _level_rows(self, data: NodeData) -> list[tuple[str, Text | str]]:
        rows: list[tuple[str, Text | str]] = [("Bucket", data.bucket or "")]
        if data.key:
            rows.append(("Prefix", data.key))
        if data.kind == "bucket" and data is self._data:
            rows.append(("Region", self._region_text(data)))
            if data.bucket_info is not None and data.bucket_info.created is not None:
                rows.append(("Created", format_time(data.bucket_info.created, self._clock())))
        rows.append(("Listed", self._listed_text(data)))
        if data.filter:
            rows.append(("Filter", data.filter))
        return rows

    def _region_text(self, data: NodeData) -> Text | str:
        error = self._errors.get("region")
        if error is not None:
            text = Text.assemble(
                (error.badge, self._style("error")),
                " ",
                literal(error.operation),
                ": ",
                literal(error.message),
            )
            if data.error is None:  # else the listing error below carries the same hint
                text.append_text(Text.assemble("\n", literal_block(error.hint)))
            return text
        if self._region is _PENDING:
            return "…" if data.conn.driver is not None else ""
        if self._region is None:
            return "none (local folder)" if data.conn.spec.provider == "local" else "not given"
        return str(self._region)

    @staticmethod
    def _listed_text(data: NodeData) -> str:
        if not data.loaded:
            return "not listed yet (press enter to expand)"
        if data.loading and not data.children:
            return "listing…"
        if data.error is not None and not data.children:
            return "the listing failed (see below)"
        t = data.totals()
        pager = data.pager
        if pager is not None and pager.objects + pager.prefixes > len(data.children):
            # A big level: its rows are in the level list, not in child nodes.
            t = LevelTotals(pager.objects, pager.bytes, pager.prefixes, 0, pager.has_more)
        objects, prefixes = plural(t.objects, "object"), plural(t.prefixes, "prefix")
        text = f"{objects}, {size_with_bytes(t.bytes)}, {prefixes}"
        if data.loading:
            return text + "; listing the next page…"
        return text + ("; more pages not yet loaded" if t.has_more else "; complete")

    def _object_rows(self, data: NodeData) -> list[tuple[str, Text | str]]:
        now = self._clock()
        entry, info = data.entry, self._info
        size = info.size if info else (entry.size if entry else None)
        modified = info.last_modified if info else (entry.last_modified if entry else None)
        etag = (info.etag if info else None) or (entry.etag if entry else None)
        rows: list[tuple[str, Text | str]] = [
            ("Bucket", data.bucket or ""),
            ("Key", data.key),
            ("Size", size_with_bytes(size)),
            ("Last modified", format_time(modified, now)),
            ("ETag", etag or ""),
        ]
        if info is None:
            if "head" not in self._errors:
                rows.append(("Metadata", Text("loading…", style=self._style("dim"))))
            return rows
        storage_class = info.storage_class or (entry.storage_class if entry else None)
        rows += [
            ("Content type", info.content_type or ""),
            ("Storage class", storage_class or ""),
            ("Version id", info.version_id or ""),
            ("Encryption", info.encryption or ""),
        ]
        rows += [(name, value) for name, value in sorted(info.extra.items())]
        if info.metadata:
            meta = Text("\n").join(
                Text.assemble(literal(k), ": ", literal(v))
                for k, v in sorted(info.metadata.items())
            )
            rows.append(("User metadata", meta))
        return rows

    def _draw_preview(self) -> None:
        view = self.query_one(PreviewView)
        data = self._data
        if data is None or data.kind != "object":
            view.show(Text(""))
            return
        error = self._errors.get("preview")
        if error is not None:
            view.show(self._error_block(error, "Preview failed"))
            return
        preview = self._preview
        if preview is None:
            waiting = "" if "head" in self._errors else "Preview: reading the first bytes…"
            view.show(Text.assemble("\n", (waiting, self._style("dim"))))
            return
        if view.result is not preview:
            view.show_result(preview, data.key, self._picture, self._picture_problem)


def _quirks_text(driver: StorageDriver | None) -> Text | str:
    """What an S3 connection's store was found to lack in this run (pail.drivers.quirks):
    each capability remembered as failing and what is used instead, after the store's
    flavour. Empty while nothing failed (and for other drivers)."""
    state = getattr(driver, "quirks", None)
    found = state.remembered() if state is not None else []
    if state is None or not found:
        return ""
    lines = [f"{state.flavour} ({state.flavour_source()})"]
    lines += [item.note("this run").removeprefix("this run: ") for item in found]
    return literal_block("\n".join(lines))
