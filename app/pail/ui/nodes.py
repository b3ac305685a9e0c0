"""What each tree node stands for, kept apart from the widget that draws it.

A :class:`NodeData` is the truth about one node: its kind, where it points (connection,
bucket, key), and for a *level* (connection, bucket, prefix) what has been listed so far,
the pager that fetches further pages, the filter and the last error. The tree widget
renders nodes from this data, so a filter can rebuild the visible children without losing
what was listed or expanded below them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pail.core.connection import ConnectionSpec
from pail.core.uri import PROVIDER_SCHEME
from pail.drivers.base import Bucket, Entry, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.listing import LevelPager
from pail.services.locations import location_in

if TYPE_CHECKING:
    from textual.widgets.tree import NodeID

    from pail.credentials import Resolved
    from pail.drivers.identity import Identity

NodeKind = Literal["connection", "bucket", "prefix", "object", "loading", "more", "note", "list"]

#: Kinds whose children are listed (expandable levels).
LEVEL_KINDS = ("connection", "bucket", "prefix")
#: Kinds of the synthetic rows at the end of a level ("list": the row that opens a big
#: level's entries in the level list, pail.ui.widgets.level_list).
PLACEHOLDER_KINDS = ("loading", "more", "note", "list")


@dataclass(eq=False)
class Connection:
    """One connection: its settings and, once opened (in a worker), its driver and the
    credentials in use (source and masked identity; the secrets stay on ``resolved.spec``
    in memory and are never drawn)."""

    spec: ConnectionSpec
    driver: StorageDriver | None = None
    resolved: Resolved | None = None
    #: Pinned locations are expanded once, on the first listing of the connection.
    pins_opened: bool = False
    #: The credential-failure modal was shown since the connection was (re)opened.
    alerted: bool = False
    #: Who the requests are signed as (STS GetCallerIdentity / GCS credentials), or why
    #: that is unknown; both ``None`` until asked (pail.ui.screens.access_actions).
    identity: Identity | None = None
    identity_error: StorageError | None = None
    #: Sizes found by usage scans (``s``): ``(bucket, prefix)`` -> text drawn after the
    #: prefix's name in the tree ("1.2 GiB · 40 obj · 3d").
    usage: dict[tuple[str, str], str] = field(default_factory=dict)

    def reset(self, spec: ConnectionSpec) -> None:
        """Forget the driver and credentials so the next listing reopens with ``spec``."""
        self.spec = spec
        self.driver = None
        self.resolved = None
        self.pins_opened = False
        self.alerted = False
        self.identity = None
        self.identity_error = None


@dataclass(frozen=True)
class LevelTotals:
    """What a level has listed so far: counts, bytes (sum of object sizes) and state."""

    objects: int
    bytes: int
    prefixes: int
    buckets: int
    has_more: bool


@dataclass(eq=False)
class NodeData:
    """State of one tree node (see the module doc).

    Attributes:
        kind: connection, bucket, prefix, object, or a placeholder (loading, more, note).
        conn: the connection the node belongs to.
        name: label text, raw (sanitised when drawn).
        bucket, key: where the node points; ``key`` is a prefix ending in ``/`` for a
            prefix, the object key for an object, ``""`` (or a pinned prefix) for a bucket.
        entry, bucket_info: the listing row the node came from, if any.
        parent: the level this node is a child of.
        pinned: a location named on the command line / in the connection.
        loaded: a listing of this level was started (children exist or are coming).
        loading: a page request is in flight.
        generation: bumped on every (re)load or reset; results from older generations
            are dropped.
        pager: fetches the next page of a bucket/prefix level.
        children: child nodes' data in listing order (filtered when drawn).
        has_more: the listing has further pages.
        filter: case-insensitive substring filter on children names.
        error: the last error of this node's own listing/lookup.
        expanded: the node is expanded in the tree.
        marked: the user marked it (space) for a multi-object download.
        node_id: the Textual ``TreeNode`` id currently drawing this data, if any.
    """

    kind: NodeKind
    conn: Connection
    name: str
    bucket: str | None = None
    key: str = ""
    entry: Entry | None = None
    bucket_info: Bucket | None = None
    parent: NodeData | None = None
    pinned: bool = False
    loaded: bool = False
    loading: bool = False
    generation: int = 0
    pager: LevelPager | None = None
    children: list[NodeData] = field(default_factory=list)
    has_more: bool = False
    filter: str = ""
    error: StorageError | None = None
    expanded: bool = False
    marked: bool = False
    node_id: NodeID | None = None

    def __repr__(self) -> str:  # short: the default would print every child
        return f"NodeData({self.kind!r}, {self.uri!r}, generation={self.generation})"

    @property
    def is_level(self) -> bool:
        """True for nodes with children to list (connection, bucket, prefix)."""
        return self.kind in LEVEL_KINDS

    @property
    def is_placeholder(self) -> bool:
        """True for the synthetic "loading…", "load more…" and note rows."""
        return self.kind in PLACEHOLDER_KINDS

    @property
    def uri(self) -> str:
        """URI of what the node points to (``s3://bucket/key``, ``file:///path``); a
        placeholder gives its level's URI."""
        if self.is_placeholder and self.parent is not None:
            return self.parent.uri
        spec = self.conn.spec
        if self.kind == "connection" or self.bucket is None:
            if spec.provider == "local":
                return "file://" + (spec.root or "")
            return f"{PROVIDER_SCHEME.get(spec.provider, spec.provider)}://"
        return location_in(spec, self.bucket, self.key).uri

    def is_under(self, level: NodeData) -> bool:
        """True if ``level`` is this node's parent, grandparent, ..."""
        node = self.parent
        while node is not None:
            if node is level:
                return True
            node = node.parent
        return False

    def visible_children(self) -> list[NodeData]:
        """Children whose name contains the filter (case-insensitive), in listing order."""
        if not self.filter:
            return list(self.children)
        needle = self.filter.casefold()
        return [c for c in self.children if needle in c.name.casefold()]

    def totals(self) -> LevelTotals:
        """Counts and bytes of what this level has listed so far."""
        objects = bytes_ = prefixes = buckets = 0
        for child in self.children:
            if child.kind == "object":
                objects += 1
                bytes_ += (child.entry.size or 0) if child.entry else 0
            elif child.kind == "prefix":
                prefixes += 1
            elif child.kind == "bucket":
                buckets += 1
        return LevelTotals(objects, bytes_, prefixes, buckets, self.has_more)

    def child_for_entry(self, entry: Entry) -> NodeData:
        """The node data for one listing row of this level."""
        kind: NodeKind = "prefix" if entry.is_prefix else "object"
        return NodeData(kind, self.conn, entry.name, self.bucket, entry.key, entry, parent=self)

    def placeholder(self, kind: NodeKind, name: str) -> NodeData:
        """A synthetic child row ("loading…", "load more…", a note)."""
        return NodeData(kind, self.conn, name, self.bucket, self.key, parent=self)


def connection_children(conn: Connection, root: NodeData, buckets: list[Bucket]) -> list[NodeData]:
    """Children of a connection: its pinned locations first (``spec.locations()``), then
    the listed buckets not already pinned. A pinned prefix shows as ``bucket/prefix``."""
    out: list[NodeData] = []
    pinned_buckets = set()
    listed = {b.name: b for b in buckets}
    for bucket, prefix in conn.spec.locations():
        if prefix:
            data = NodeData("prefix", conn, f"{bucket}/{prefix}", bucket, prefix, parent=root)
        else:
            pinned_buckets.add(bucket)
            data = NodeData("bucket", conn, bucket, bucket, bucket_info=listed.get(bucket))
            data.parent = root
        data.pinned = True
        out.append(data)
    for b in buckets:
        if b.name not in pinned_buckets:
            out.append(NodeData("bucket", conn, b.name, b.name, bucket_info=b, parent=root))
    return out
