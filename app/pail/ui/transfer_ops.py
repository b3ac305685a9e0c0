"""The app's write side: copy (``F5``), move (``F6``), rename (``F2``), upload (``U``) and
compare (``=``), a mixin of :class:`~pail.ui.screens.main.MainScreen` (whose ``BINDINGS``
include :data:`TRANSFER_BINDINGS`).

Every write goes the same way, and nothing on the event loop does I/O:

1. what: the marks (tree and level lists) or the node at the cursor
   (:func:`pail.ui.download_ops.selection_for`), as a source :class:`Side` and explicit
   keys under its common folder (:func:`source_for`);
2. where: the target picker (:class:`~pail.ui.screens.target_picker.TargetPickerScreen`,
   its text read in a worker by :func:`open_resolver`: an open connection's own driver, so
   a copy inside one store is server-side, else ``side_for``), the new name (``F2``) or the
   local path (``U``) (:class:`~pail.ui.screens.rename.TextInputScreen`);
3. the plan, in a worker (``plan_transfer`` / ``plan_rename``), then the confirmation
   (:class:`~pail.ui.screens.transfer_confirm.TransferConfirmScreen`: summary, conflicts
   and their policy, refused keys, a move's "sources deleted only once verified");
4. the :class:`~pail.services.transfer.Transfer` job, started in a worker as a
   :class:`~pail.ui.download_ops.TransferTask` among the session's downloads: the
   Transfers screen (``D``) shows it; its conflict and unverified questions come through
   :func:`~pail.ui.download_ops.conflict_bridge` / :func:`~pail.ui.download_ops.unverified_bridge`.

``=`` compares the prefix at the cursor with a target on the check screen
(``pail.ui.screens.check.CheckScreen``); a choice made there (copy the differences one way)
is planned and run like ``F5``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.widgets.tree import TreeNode

from pail.core.text import one_line
from pail.core.units import plural
from pail.drivers.errors import StorageError
from pail.services.compare import base_prefix
from pail.services.download.engine import ConflictPolicy
from pail.services.transfer import (
    Side,
    Transfer,
    TransferPlan,
    TransferReport,
    plan_rename,
    plan_transfer,
    side_for,
)
from pail.ui.download_ops import (
    SelectionError,
    TransferTask,
    conflict_bridge,
    selection_for,
    unverified_bridge,
)
from pail.ui.messages import WorkFailed
from pail.ui.nodes import Connection, NodeData
from pail.ui.screens.check import CheckChoice, CheckScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.rename import TextInputScreen
from pail.ui.screens.target_picker import PickChoice, TargetPickerScreen
from pail.ui.screens.transfer_confirm import (
    TransferConfirmScreen,
    TransferConflictScreen,
    TransferUnverifiedScreen,
)
from pail.ui.workers import start_io

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost as _Host
else:
    _Host = object  # a plain mixin at run time: see pail.ui.screens.main_host

TRANSFER_BINDINGS = [
    Binding(
        "f5",
        "copy_to",
        "Copy to",
        key_display="F5",
        show=False,  # the footer keeps room for the commands; ? lists it
        tooltip="Copy the marked items, or the object / prefix at the cursor, to a target",
        id="node.copy_to",
    ),
    Binding(
        "f6",
        "move_to",
        "Move to",
        key_display="F6",
        show=False,
        tooltip="Move the marked items, or the node at the cursor, to a target (sources go "
        "once their copy is verified)",
        id="node.move_to",
    ),
    Binding(
        "f2",
        "rename",
        "Rename",
        key_display="F2",
        show=False,
        tooltip="Rename the object or prefix at the cursor (a prefix: every key under it)",
        id="node.rename",
    ),
    Binding(
        "U",
        "upload",
        "Upload",
        key_display="U",
        show=False,
        tooltip="Upload a local file or folder into the bucket / prefix at the cursor (shift+u)",
        id="node.upload",
    ),
    Binding(
        "equals_sign",
        "compare",
        "Compare",
        key_display="=",
        show=False,
        tooltip="Compare the bucket / prefix at the cursor with a target; copy the "
        "differences either way",
        id="node.compare",
    ),
]

TRANSFER_ACTIONS = frozenset({"copy_to", "move_to", "rename", "upload", "compare"})

#: Title of the confirmation / picker per kind of write.
_TITLES = {"copy": "Copy", "move": "Move", "upload": "Upload", "rename": "Rename"}


@dataclass(frozen=True)
class WriteRequest:
    """One write being prepared: what the worker plans and the confirmation shows.

    Attributes:
        kind: ``copy``, ``move``, ``upload`` or ``rename`` (the task's kind).
        source: where the objects are (its key is the common base of ``keys``).
        dest: where they go (``None`` for a rename: ``new_key`` says).
        keys: explicit keys and prefixes under ``source.key`` (``None``: ``source.key``
            itself, recursively when a prefix).
        new_key: a rename's new key or prefix.
    """

    kind: str
    source: Side
    dest: Side | None = None
    keys: tuple[str, ...] | None = None
    new_key: str = ""

    @property
    def title(self) -> str:
        """``"Copy"``, ``"Move"``, ``"Upload"`` or ``"Rename"``."""
        return _TITLES.get(self.kind, self.kind.title())


@dataclass(eq=False)
class WritePlanned(Message):
    """A write's plan is made (in a worker): next, the confirmation."""

    request: WriteRequest
    plan: TransferPlan


@dataclass(eq=False)
class TransferStarted(Message):
    """A write's Transfer job started (``engine``)."""

    task: TransferTask
    engine: Transfer


@dataclass(eq=False)
class TransferFinished(Message):
    """Every item of a write is final."""

    task: TransferTask
    report: TransferReport


def _common_folder(keys: Sequence[str]) -> str:
    """Longest ``/``-ended run of whole leading segments shared by every key's folder
    (a prefix ``a/b/`` counts as being in ``a/``: its own name is kept)."""
    folders = [k.rstrip("/").split("/")[:-1] for k in keys]
    if not folders:
        return ""
    common = folders[0]
    for folder in folders[1:]:
        n = 0
        while n < min(len(common), len(folder)) and common[n] == folder[n]:
            n += 1
        common = common[:n]
    return "".join(segment + "/" for segment in common)


def node_side(data: NodeData, key: str | None = None) -> Side:
    """The :class:`Side` of a tree node (its connection's driver, bucket and ``key``,
    default the node's own key).

    Raises:
        SelectionError: the connection is not open.
    """
    driver = data.conn.driver
    if driver is None or data.bucket is None:
        raise SelectionError("The connection is not open yet.")
    key = data.key if key is None else key
    level = NodeData("prefix", data.conn, key, data.bucket, key)
    return Side(driver, data.bucket, key, level.uri, connection=data.conn.spec.name)


def source_for(marks: list[NodeData], cursor: NodeData | None, verb: str) -> WriteRequest:
    """The source of a copy/move: one item -> that object or prefix (``keys`` None); several
    -> their common folder as the base and their keys.

    Raises:
        SelectionError: nothing to write, marks across buckets, connection not open.
    """
    try:
        selection = selection_for(marks, cursor)
    except SelectionError as exc:
        raise SelectionError(str(exc).replace("download", verb)) from exc
    items = selection.items
    first = items[0]
    if len(items) == 1:
        return WriteRequest(verb, node_side(first))
    keys = tuple(d.key for d in items)
    base = _common_folder(keys)
    side = node_side(first, base)
    return WriteRequest(verb, side, keys=keys)


def open_resolver(connections: dict[str, Connection]) -> Callable[[str], Side]:
    """Reads a typed target (in a worker): ``NAME:bucket/prefix`` of an open connection
    uses that connection's driver (the same object as the tree's: a copy inside the store
    is server-side); anything else goes to ``pail.services.transfer.side_for`` (URIs,
    saved connections, local folders; ``~`` expanded).

    Raises (from the returned function): StorageError, or ValueError (InvalidURI) with a
    plain message.
    """

    def resolve(text: str) -> Side:
        name, sep, rest = text.partition(":")
        conn = connections.get(name) if sep and not rest.startswith("//") else None
        if conn is not None and conn.driver is not None:
            bucket, _, key = rest.lstrip("/").partition("/")
            if not bucket:
                raise StorageError(f"{text} names no bucket: type {name}:bucket/prefix/")
            level = NodeData("prefix", conn, key or bucket, bucket, key)
            return Side(conn.driver, bucket, key, level.uri, connection=name)
        return side_for(os.path.expanduser(text))

    return resolve


def pick_choices(roots: Sequence[TreeNode[NodeData]]) -> list[PickChoice]:
    """The open connections' roots and their listed buckets, for the picker's list."""
    choices: list[PickChoice] = []
    for root in roots:
        data = root.data
        if data is None or data.kind != "connection" or data.conn.driver is None:
            continue
        name = data.conn.spec.name
        buckets = [c for c in data.children if c.kind == "bucket" and c.bucket]
        if not buckets:
            choices.append(PickChoice(f"{name}:", f"{name}  {data.uri}"))
        for bucket in buckets:
            choices.append(PickChoice(f"{name}:{bucket.bucket}/", f"{name}:{bucket.bucket}/"))
    return choices


class TransferActions(_Host):
    """``F5``, ``F6``, ``F2``, ``U`` and ``=``; see the module doc. Mixed into MainScreen."""

    def _open_connections(self) -> dict[str, Connection]:
        out: dict[str, Connection] = {}
        for root in self.bucket_tree.root.children:
            if root.data is not None and root.data.kind == "connection":
                out[root.data.conn.spec.name] = root.data.conn
        return out

    def _level_at_cursor(self) -> NodeData | None:
        """The bucket/prefix at the cursor, or the one holding the object there (open)."""
        data = self.cursor_data()
        if data is not None and data.kind == "object":
            data = data.parent
        if data is None or data.kind not in ("bucket", "prefix") or data.conn.driver is None:
            return None
        return data

    def check_transfer_action(self, action: str) -> bool | None:
        """Footer / key visibility of the write commands."""
        data = self.cursor_data()
        if action in ("copy_to", "move_to"):
            return self.has_marks() or (
                data is not None and data.kind in ("object", "prefix", "bucket")
            )
        if action == "rename":
            return (
                data is not None
                and data.kind in ("object", "prefix")
                and data.conn.driver is not None
            )
        if action in ("upload", "compare"):
            return self._level_at_cursor() is not None
        return True

    def transfer_why_not(self, action: str) -> str:
        """Why a write key does nothing at the cursor (plain text)."""
        if action in ("copy_to", "move_to"):
            return "move to an object, prefix or bucket (or mark some with space)"
        if action == "rename":
            return "works on an object or a prefix of an open connection"
        return "move to an open bucket or prefix first"

    def _warn(self, text: str) -> None:
        self.notify(text, severity="warning", markup=False)

    def _pick_target(self, title: str, what: str, chosen: Callable[[Side], None]) -> None:
        roots = list(self.bucket_tree.root.children)
        screen = TargetPickerScreen(
            title, what, pick_choices(roots), open_resolver(self._open_connections())
        )

        def picked(side: Side | None) -> None:
            if side is not None:
                chosen(side)

        self.app.push_screen(screen, callback=picked)

    # -- F5 / F6 ---------------------------------------------------------------------------

    def action_copy_to(self) -> None:
        """Copy the marks (or the node at the cursor) to a target picked next."""
        self._copy_or_move("copy")

    def action_move_to(self) -> None:
        """Move the marks (or the node at the cursor) to a target picked next."""
        self._copy_or_move("move")

    def _copy_or_move(self, kind: str) -> None:
        try:
            request = source_for(self.marked_items(), self.cursor_data(), kind)
        except SelectionError as exc:
            self._warn(str(exc))
            return
        what = request.source.uri
        if request.keys is not None:
            what = f"{plural(len(request.keys), 'marked item')} from {request.source.uri}"

        def chosen(side: Side) -> None:
            self.plan_write(WriteRequest(kind, request.source, side, request.keys))

        self._pick_target(f"{request.title} to", what, chosen)

    # -- F2 ----------------------------------------------------------------------------

    def action_rename(self) -> None:
        """Ask for the new name of the object / prefix at the cursor, then plan the move."""
        data = self.cursor_data()
        if data is None or data.kind not in ("object", "prefix") or data.conn.driver is None:
            return
        is_prefix = data.kind == "prefix"
        stem = data.key.rstrip("/") if is_prefix else data.key
        parent, _, name = stem.rpartition("/")
        parent = parent + "/" if parent else ""

        def check(text: str) -> str:
            if text.rstrip("/") == name:
                return "That is its name now."
            return ""

        def named(text: str | None) -> None:
            if not text:
                return
            new_key = parent + text.rstrip("/") + ("/" if is_prefix else "")
            self.plan_write(WriteRequest("rename", node_side(data), new_key=new_key))

        what = data.uri + ("  (every key under it is renamed)" if is_prefix else "")
        screen = TextInputScreen("Rename", what, "New name:", name, check=check, ok="Rename")
        self.app.push_screen(screen, callback=named)

    # -- U -----------------------------------------------------------------------------

    def action_upload(self) -> None:
        """Ask for a local file or folder, then plan its upload into the level at the
        cursor (a folder keeps its name under it)."""
        level = self._level_at_cursor()
        if level is None:
            return
        dest = node_side(level)

        def typed(path: str | None) -> None:
            if path:
                self.plan_upload(path, dest)

        screen = TextInputScreen(
            "Upload",
            f"into {dest.uri}",
            "Local file or folder (a folder keeps its name under the prefix):",
            "",
            ok="Upload",
        )
        self.app.push_screen(screen, callback=typed)

    def plan_upload(self, path: str, dest: Side) -> None:
        """Read ``path`` and plan its upload into ``dest`` (in a worker)."""
        request = WriteRequest("upload", dest, dest)

        def work() -> WritePlanned:
            local = os.path.abspath(os.path.expanduser(path))
            if not os.path.exists(local):
                raise StorageError(f"{path}: no such file or folder")
            source = side_for(local)
            target = dest
            if os.path.isdir(local):
                name = os.path.basename(local.rstrip(os.sep)) or "upload"
                key = dest.key + name + "/"
                level = f"{dest.uri.rstrip('/')}/{name}/"
                target = Side(dest.driver, dest.bucket, key, level, dest.connection)
            plan = plan_transfer(source, target, kind="copy", recursive=True)
            return WritePlanned(WriteRequest("upload", source, target), plan)

        self.notify(f"Planning the upload of {one_line(path)}…", markup=False)
        start_io(self, work, target=request, generation=0, group="write-plan")

    # -- = -----------------------------------------------------------------------------

    def action_compare(self) -> None:
        """Compare the level at the cursor with a target on the check screen; a choice
        made there is planned and run like a copy."""
        level = self._level_at_cursor()
        if level is None:
            return
        a = node_side(level)

        def chosen(b: Side) -> None:
            def decided(choice: CheckChoice | None) -> None:
                if choice is None or not choice.rels:
                    return
                source, dest = (a, b) if choice.direction == "a_to_b" else (b, a)
                # Both ends as the compared prefixes (s3://b/p compared p/): the keys are
                # below the source's, their rels land below the destination's.
                source = replace(source, key=base_prefix(source))
                dest = replace(dest, key=base_prefix(dest))
                self.plan_write(WriteRequest("copy", source, dest, choice.keys(source)))

            self.app.push_screen(CheckScreen(a, b), callback=decided)

        self._pick_target("Compare with", a.uri, chosen)

    # -- plan, confirm, run ------------------------------------------------------------

    def plan_write(self, request: WriteRequest) -> None:
        """Plan ``request`` in a worker; the confirmation follows (:meth:`on_write_planned`)."""

        def work() -> WritePlanned:
            if request.kind == "rename":
                return WritePlanned(request, plan_rename(request.source, request.new_key))
            assert request.dest is not None
            plan = plan_transfer(
                request.source,
                request.dest,
                kind="move" if request.kind == "move" else "copy",
                recursive=True,
                keys=list(request.keys) if request.keys is not None else None,
            )
            return WritePlanned(request, plan)

        what = f"Planning: {request.title.lower()} {one_line(request.source.uri)}…"
        self.notify(what, markup=False)
        start_io(self, work, target=request, generation=0, group="write-plan")

    def on_write_planned(self, message: WritePlanned) -> None:
        request, plan = message.request, message.plan

        def confirmed(policy: ConflictPolicy | None) -> None:
            if policy is not None:
                self.start_transfer(request, plan, policy)

        self.app.push_screen(TransferConfirmScreen(request.title, plan), callback=confirmed)

    def start_transfer(
        self, request: WriteRequest, plan: TransferPlan, policy: ConflictPolicy
    ) -> TransferTask:
        """Start ``plan`` (confirmed, with the conflict ``policy``) as a Transfer job in a
        worker, and show the Transfers screen."""
        number = len(self.downloads) + 1
        task = TransferTask(
            number, plan.source.uri, plan.dest.uri, kind=request.kind, provider=plan.dest.provider
        )
        self.downloads.append(task)
        app = self.app
        resolver = conflict_bridge(app, TransferConflictScreen)
        allow = unverified_bridge(app, TransferUnverifiedScreen)

        def work() -> TransferFinished | None:
            if task.cancel_requested:  # a quit came first: start nothing
                return None
            engine = Transfer(
                plan, conflict=policy, resolve_conflict=resolver, allow_unverified=allow
            )
            engine.start()
            task.bind(engine)  # cancelled at once if a quit came meanwhile
            self.post_message(TransferStarted(task, engine))
            return TransferFinished(task, engine.run())

        start_io(self, work, target=task, generation=0, group=f"transfer-{task.number}")
        app.push_screen(DownloadsScreen(task, self.downloads))
        return task

    def on_transfer_started(self, message: TransferStarted) -> None:
        message.task.downloader = message.engine

    def on_transfer_finished(self, message: TransferFinished) -> None:
        task, report = message.task, message.report
        task.report = report
        if isinstance(self.app.screen, DownloadsScreen):
            self.app.screen.download_finished()
        problems = len(report.failed) + len(report.refused) + len(report.kept)
        text = f"{task.title} {task.number}: {plural(len(report.done), 'object')} {task.verb}"
        text += f" to {one_line(task.dest)}"
        if report.skipped:
            text += f", {len(report.skipped):,} skipped"
        if report.deleted:
            text += f", {len(report.deleted):,} sources deleted"
        if problems or report.cancelled:
            text += (
                f"; {problems:,} failed, refused or kept, {len(report.cancelled):,} cancelled (D)"
            )
        severity: SeverityLevel = "warning" if problems else "information"
        self.notify(text, title=f"{task.title} finished", severity=severity, markup=False)
        self.refresh_bindings()

    def show_write_failure(self, message: WorkFailed) -> bool:
        """A write's plan or start failed: say so (True), or it was not a write's (False)."""
        target = message.target
        error = message.error
        if isinstance(target, WriteRequest):
            what = f"{target.title} not planned"
        elif isinstance(target, TransferTask) and target.kind != "download":
            target.error = error
            what = f"{target.title} {target.number} could not start"
        else:
            return False
        text = f"{what}: {one_line(error.message or error.badge)}"
        if error.code:
            text = f"{what}: {error.code}: {one_line(error.message)}"
        self.notify(text, severity="error", markup=False, timeout=10)
        self.refresh_bindings()
        return True
