"""What ``d`` downloads and how a download runs for the UI.

* :func:`selection_for` turns the marks (or the node at the cursor) into a
  :class:`Selection`: one connection, one bucket, a list of objects and prefixes.
* :func:`plan_selection` (in a worker thread) lists marked prefixes recursively and builds
  one :class:`~pail.services.download.DownloadPlan` for the lot, keeping key paths relative
  to the selection's common folder; a single prefix downloads its contents into the target.
* :class:`TransferTask` (alias ``DownloadTask``) is one transfer as the Transfers panel sees
  it, a download or a write (copy, move, upload, rename): planning, running (its engine, a
  :class:`~pail.services.download.Downloader` or a ``pail.services.transfer.Transfer``:
  both give :class:`~pail.services.download.progress.DownloadProgress` snapshots),
  finished (its report) or failed to start.
* :func:`conflict_bridge` and :func:`unverified_bridge` answer an engine's questions
  ("this file/key exists", "this cannot be verified"), asked from a transfer thread about
  one of its items (a download's ``DownloadJob``, a write's ``TransferItem``),
  with a modal on the event loop; the transfer thread waits for the answer on a
  :class:`concurrent.futures.Future`, the event loop never waits, and once the app has
  stopped the question gets its safe answer (skip; keep aside): a quit never leaves a
  thread waiting for a modal that is gone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from pail.core.text import one_line
from pail.core.units import plural
from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.drivers.errors import StorageError
from pail.services.download import (
    ConflictAnswer,
    DownloadPlan,
    DownloadReport,
    plan_keys,
    plan_prefix,
)
from pail.services.download.progress import DownloadProgress
from pail.ui.nodes import Connection, NodeData
from pail.ui.text import tilde

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen


#: Seconds between two checks that the app still runs while a conflict question waits.
_ANSWER_POLL = 0.25
T = TypeVar("T")
#: An engine's item a question is about (a download's DownloadJob, a write's TransferItem).
Item = TypeVar("Item")

#: What a task's ``kind`` is called in titles (``"Copy 2"``) and the summary's verb.
KIND_TITLES = {
    "download": ("Download", "downloaded"),
    "copy": ("Copy", "copied"),
    "move": ("Move", "moved"),
    "upload": ("Upload", "uploaded"),
    "rename": ("Rename", "renamed"),
}


class TransferEngine(Protocol):
    """What the Transfers panel needs of an engine (a ``Downloader`` or a ``Transfer``)."""

    def progress(self) -> DownloadProgress:
        """A snapshot (any thread, never blocks)."""
        ...  # pragma: no cover

    def cancel(self, key: str | None = None) -> None:
        """Cancel one item (by its source key) or, with ``None``, every item."""
        ...  # pragma: no cover


class SelectionError(ValueError):
    """The marks cannot be downloaded together (``str()`` says why, for a notification)."""


@dataclass(frozen=True)
class Selection:
    """Objects and prefixes of one bucket of one connection, to download together.

    Attributes:
        conn, bucket: where they are.
        items: the marked (or cursor) nodes' data: objects and prefixes; a bucket node
            stands for its whole content (prefix ``""``).
        uri: the level or object URI shown in the dialog and the panel.
    """

    conn: Connection
    bucket: str
    items: tuple[NodeData, ...]
    uri: str

    @property
    def single_prefix(self) -> NodeData | None:
        """The one prefix/bucket when that is the whole selection."""
        if len(self.items) == 1 and self.items[0].kind in ("prefix", "bucket"):
            return self.items[0]
        return None

    def describe(self) -> str:
        """E.g. ``"3 objects and 1 prefix (recursively) from s3://bucket"``."""
        prefix = self.single_prefix
        if prefix is not None:
            return f"everything under {self.uri} (recursively)"
        objects = sum(1 for d in self.items if d.kind == "object")
        prefixes = len(self.items) - objects
        parts = []
        if objects:
            parts.append(plural(objects, "object"))
        if prefixes:
            parts.append(plural(prefixes, "prefix") + " (recursively)")
        return " and ".join(parts) + f" from {self.uri}"

    def default_folder(self, base: str) -> str:
        """The folder proposed below the configured download folder ``base``: a single
        prefix or bucket gets a subfolder named after it."""
        prefix = self.single_prefix
        if prefix is None:
            return base
        name = prefix.key.rstrip("/").rpartition("/")[2] if prefix.key else self.bucket
        safe = "".join(ch for ch in name if ch.isprintable() and ch not in "/\\:")
        return os.path.join(base, safe) if safe.strip(". ") else base


def selection_for(marks: list[NodeData], cursor: NodeData | None) -> Selection:
    """The marks if any, else the cursor's object, prefix or bucket.

    Raises:
        SelectionError: nothing downloadable, marks across buckets, connection not open.
    """
    items = list(marks) if marks else ([cursor] if cursor is not None else [])
    items = [d for d in items if d.kind in ("object", "prefix", "bucket") and d.bucket]
    if not items:
        raise SelectionError("Move to an object, prefix or bucket (or mark some with space).")
    first = items[0]
    if any(d.conn is not first.conn or d.bucket != first.bucket for d in items):
        raise SelectionError("The marks are in several buckets: download one bucket at a time.")
    if first.conn.driver is None:
        raise SelectionError("The connection is not open yet.")
    bucket = first.bucket or ""
    if len(items) == 1:
        uri = first.uri
    else:
        root = NodeData("bucket", first.conn, bucket, bucket)
        uri = root.uri
    return Selection(first.conn, bucket, tuple(items), uri)


def _common_folder(paths: list[str]) -> str:
    """Longest ``/``-ended run of whole leading segments shared by every path's folder."""
    folders = [p.split("/")[:-1] for p in paths]
    if not folders:
        return ""
    common = folders[0]
    for folder in folders[1:]:
        n = 0
        while n < min(len(common), len(folder)) and common[n] == folder[n]:
            n += 1
        common = common[:n]
    return "".join(segment + "/" for segment in common)


def plan_selection(driver: StorageDriver, selection: Selection, dest: str) -> DownloadPlan:
    """The plan for ``selection`` into ``dest`` (lists prefixes: call it in a worker).

    A single prefix (or bucket) lands as its contents in ``dest``, like
    ``aws s3 cp --recursive``. Several items keep their paths relative to their common
    folder, so a marked prefix ``runs/7/`` lands in ``dest/7/...`` beside marked objects.

    Raises:
        StorageError: a listing or HeadObject failed.
    """
    bucket = selection.bucket
    prefix = selection.single_prefix
    if prefix is not None:
        return plan_prefix(driver, bucket, prefix.key, dest)
    entries: list[Entry] = []
    anchors: list[str] = []
    for data in selection.items:
        if data.kind == "object":
            entries.append(data.entry or Entry(data.key, "object"))
            anchors.append(data.key)
            continue
        anchors.append(data.key.rstrip("/"))  # the prefix's own name is kept
        for page in iter_pages(driver, bucket, data.key, delimiter=""):
            for entry in page.entries:
                if not entry.is_prefix and not (entry.key.endswith("/") and not entry.size):
                    entries.append(entry)
    items: list[Entry | str] = [e if e.size is not None else e.key for e in entries]
    return plan_keys(driver, bucket, items, dest, base=_common_folder(anchors))


@dataclass(eq=False)
class TransferTask:
    """One transfer started from the UI: a download or a write.

    Attributes:
        number: 1, 2, ... in this session (downloads and writes counted together).
        source: what (a URI). dest: the folder (a download) or the destination URI.
        kind: ``download``, ``copy``, ``move``, ``upload`` or ``rename``
            (:data:`KIND_TITLES`).
        provider: a write's destination provider (``s3``, ``gcs``, ``local``), for the
            quit question (only S3 uploads in parts resume).
        downloader: the engine (a Downloader or a Transfer), set once the plan is made,
            confirmed and the transfers started.
        report: set once every item is final (a DownloadReport; a write's TransferReport
            is one too).
        error: the plan could not be made (listing failed), or the engine could not start:
            nothing was transferred.

    :meth:`cancel` may come before the downloader exists (while planning): the worker
    then starts nothing (:meth:`bind` cancels the downloader it is given).
    """

    number: int
    source: str
    dest: str
    kind: str = "download"
    provider: str = ""
    downloader: TransferEngine | None = None
    report: DownloadReport | None = None
    error: StorageError | None = None
    closed: bool = field(default=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        """Planning or transferring."""
        return self.report is None and self.error is None

    @property
    def cancel_requested(self) -> bool:
        """:meth:`cancel` was called."""
        return self._stop.is_set()

    @property
    def title(self) -> str:
        """``"Download"``, ``"Copy"``, ``"Move"``, ``"Upload"`` or ``"Rename"``."""
        return KIND_TITLES.get(self.kind, (self.kind.title(), ""))[0]

    @property
    def verb(self) -> str:
        """What a finished item was: ``"downloaded"``, ``"copied"``..."""
        return KIND_TITLES.get(self.kind, ("", "done"))[1]

    def bind(self, downloader: TransferEngine) -> bool:
        """Called by the worker (any thread) once ``downloader`` has started: it becomes
        the task's engine, and is cancelled at once if :meth:`cancel` came first.
        Returns False in that case."""
        with self._lock:
            self.downloader = downloader
            stopped = self._stop.is_set()
        if stopped:
            downloader.cancel()
        return not stopped

    def cancel(self) -> None:
        """Cancel every file not finished yet (any thread; never waits). Files being
        transferred stop at their next chunk; what is on disk stays resumable."""
        with self._lock:
            self._stop.set()
            downloader = self.downloader
        if downloader is not None:
            downloader.cancel()

    def describe(self) -> str:
        """One plain-text line: ``"Download 2: s3://b/runs/ → ~/Downloads/runs"``."""
        return f"{self.title} {self.number}: {one_line(self.source)} → {one_line(tilde(self.dest))}"


#: The name the rest of the app has known it by.
DownloadTask = TransferTask


def ask_from_thread(app: App, screen: Screen[Any], fallback: T) -> T:
    """Push ``screen`` (a ``ModalScreen``) from a transfer thread and wait for its answer.
    If the app cannot ask, or stops before the answer (a quit), returns ``fallback`` (the
    safe answer), so no transfer thread waits forever."""
    answer: Future[Any] = Future()

    def push() -> None:
        app.push_screen(screen, callback=answer.set_result)

    try:
        app.call_from_thread(push)
        while True:
            try:
                return answer.result(timeout=_ANSWER_POLL)
            except FutureTimeout:
                if not app.is_running:  # the modal went with the app
                    return fallback
    except Exception:
        return fallback


def conflict_bridge(
    app: App, ask: Callable[[Item], Screen[Any]]
) -> Callable[[Item], ConflictAnswer]:
    """A ``resolve_conflict`` for an engine: the modal made by ``ask(item)`` (a
    ``ModalScreen[ConflictAnswer]``; ``item`` a download's DownloadJob or a write's
    TransferItem), asked from the transfer thread; skip when it cannot be answered."""

    def resolve(job: Item) -> ConflictAnswer:
        result = ask_from_thread(app, ask(job), ConflictAnswer("skip"))
        return result if isinstance(result, ConflictAnswer) else ConflictAnswer("skip")

    return resolve


def unverified_bridge(
    app: App, ask: Callable[[Item, str], Screen[Any]]
) -> Callable[[Item, str], bool]:
    """An ``allow_unverified`` for an engine: the modal made by ``ask(item, reason)`` (a
    ``ModalScreen[bool]``), asked from the transfer thread; refuse (False: the download
    keeps the file aside, a write reports it unverified) when it cannot be answered."""

    def allow(job: Item, reason: str) -> bool:
        return ask_from_thread(app, ask(job, reason), False) is True

    return allow
