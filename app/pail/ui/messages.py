"""The app's messages: small dataclasses that carry worker results to the event loop.

Workers run in threads and never touch widgets or reactives; they post one of these to
the widget that started them (``post_message`` is thread-safe). Each result carries the
``generation`` (tree levels) or ``ticket`` (detail pane) it was started with, so a result
made stale by a refresh, a collapse or a cursor move is dropped on arrival.

Failures of every worker travel as :class:`WorkFailed` and bubble to the app's one error
route (:meth:`pail.ui.app.PailApp.on_work_failed`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from textual.message import Message

from pail.core.connection import ConnectionSpec
from pail.drivers.base import Bucket, Entry, ObjectInfo, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.previews import PreviewResult

if TYPE_CHECKING:
    from pail.credentials import KeyringStatus, Resolved
    from pail.drivers.identity import Identity
    from pail.services.access.check import AccessReport, ProbeRow
    from pail.services.delete.plan import DeletePlan
    from pail.services.download import Downloader, DownloadReport
    from pail.services.inventory.model import AgeBucket, ClassShare, Level, SearchResult, Usage
    from pail.services.inventory.plan import InventoryPlan
    from pail.services.inventory.query import Inventory
    from pail.services.runs.tracker_sync import TrackerMarks
    from pail.services.runs.tracking import TrackingServer
    from pail.ui.connection_ops import SaveOutcome, TestOutcome
    from pail.ui.download_ops import DownloadTask
    from pail.ui.nodes import Connection, NodeData
    from pail.ui.viewer import ViewerPlan


@dataclass(eq=False)
class ConnectionResolved(Message):
    """A connection's credentials were resolved (``credentials.resolve(spec)`` returned):
    which source is in use and the masked identity, never a secret."""

    target: NodeData
    generation: int
    resolved: Resolved


@dataclass(eq=False)
class CredentialsFailed(Message):
    """A request of ``conn`` failed with InvalidCredentials / ExpiredCredentials /
    NoCredentials; the main screen offers to fix it (once per opening)."""

    conn: Connection
    error: StorageError


@dataclass(eq=False)
class KeyringChecked(Message):
    """``credentials.keyring_status()`` answered (checked once, in a worker, at start)."""

    status: KeyringStatus


@dataclass(eq=False)
class DriverOpened(Message):
    """A connection's driver was built (``driver_factory(spec)`` returned)."""

    target: NodeData
    generation: int
    driver: StorageDriver


@dataclass(eq=False)
class BucketsListed(Message):
    """ListBuckets answered for a connection node."""

    target: NodeData
    generation: int
    buckets: tuple[Bucket, ...]


@dataclass(eq=False)
class PageListed(Message):
    """One page of a level (bucket or prefix) arrived; ``has_more`` if another exists."""

    target: NodeData
    generation: int
    entries: tuple[Entry, ...]
    has_more: bool


@dataclass(eq=False)
class LevelUpdated(Message):
    """A level's state changed (loading, a page arrived, failed, filtered): the detail
    pane redraws if it shows that level."""

    target: NodeData


DetailPart = Literal["head", "preview", "region"]


@dataclass(eq=False)
class FilterChanged(Message):
    """The filter bar's text changed (``text`` may be empty)."""

    text: str


@dataclass(eq=False)
class FilterClosed(Message):
    """The filter bar closed: ``cleared`` when Escape removed the filter."""

    cleared: bool


@dataclass(frozen=True)
class DetailJob:
    """What a detail-pane worker was fetching: ``part`` of the node shown under ``ticket``."""

    ticket: int
    part: DetailPart


@dataclass(eq=False)
class ObjectHeadLoaded(Message):
    """HeadObject (or the backend's equivalent) answered for the object on show."""

    ticket: int
    info: ObjectInfo


@dataclass(eq=False)
class PreviewLoaded(Message):
    """A preview of the object on show was built (or extended by "load more").
    ``picture`` is a decoded image to draw (a PIL image) or ``None``; ``problem`` says
    why an image could not be decoded."""

    ticket: int
    preview: PreviewResult
    picture: Any = None
    problem: str = ""


@dataclass(eq=False)
class RegionLoaded(Message):
    """GetBucketLocation (or equivalent) answered; ``region`` is ``None`` if not given."""

    ticket: int
    region: str | None


@dataclass(eq=False)
class WorkFailed(Message):
    """A worker raised. ``origin`` is the widget that started it and gets the error back
    from the app's error route; ``target``/``generation`` say what the work was for."""

    origin: Any
    target: Any
    generation: int
    error: StorageError


@dataclass(eq=False)
class ConnectionSaveFinished(Message):
    """The connection form's save worker finished (see :class:`SaveOutcome`)."""

    outcome: SaveOutcome


@dataclass(eq=False)
class ConnectionTested(Message):
    """A connection test finished on the connections screen."""

    outcome: TestOutcome


@dataclass(eq=False)
class ConnectionRemoved(Message):
    """A saved connection was removed (``note`` says what could not be done, or "")."""

    name: str
    removed: bool
    note: str


@dataclass(eq=False)
class ConnectionsLoaded(Message):
    """The connections screen read the config file and each connection's credential
    source: ``sources`` maps name -> "keyring · AKIA…WXYZ"; ``error`` is a broken file."""

    specs: tuple[ConnectionSpec, ...]
    sources: dict[str, str]
    error: str


@dataclass(eq=False)
class DownloadStarted(Message):
    """A download's plan is made and its transfers started by ``downloader``."""

    task: DownloadTask
    downloader: Downloader


@dataclass(eq=False)
class DownloadFinished(Message):
    """Every file of a download is final; ``report`` lists every outcome."""

    task: DownloadTask
    report: DownloadReport


@dataclass(frozen=True)
class ObjectJob:
    """What an object action's worker was doing (``action``: presign, open) and for which
    URI: the ``target`` of its :class:`WorkFailed`."""

    action: str
    uri: str


@dataclass(eq=False)
class PresignReady(Message):
    """A presigned URL was made; ``label`` is its lifetime ("1 hour")."""

    url: str
    label: str


@dataclass(eq=False)
class ViewerReady(Message):
    """An object was downloaded to the cache for viewing (``o``): try ``plan``'s viewers
    on it; ``data`` is the object's node, whose built-in preview is the last resort."""

    data: NodeData
    plan: ViewerPlan


@dataclass(eq=False)
class IdentityChecked(Message):
    """Who a connection's requests are signed as (STS GetCallerIdentity, the GCS
    credentials), or why that is unavailable; ``driver`` is the driver that was asked."""

    conn: Connection
    driver: StorageDriver
    identity: Identity | None
    error: StorageError | None


@dataclass(eq=False)
class ProbeAnswered(Message):
    """One access-check probe answered; ``run`` numbers the check it belongs to."""

    run: int
    row: ProbeRow


@dataclass(eq=False)
class AccessChecked(Message):
    """An access check finished; ``report`` holds every row, the identity and leftovers."""

    run: int
    report: AccessReport


@dataclass(eq=False)
class RegionReopened(Message):
    """A connection was reopened in ``region``: credentials resolved and a driver built
    for the adjusted spec; ``target`` is the node to list again."""

    target: NodeData
    region: str
    resolved: Resolved
    driver: StorageDriver


# -- cleanup screens (usage, review, delete, versions, lifecycle) ---------------------------


@dataclass(eq=False)
class PlanReady(Message):
    """A delete plan was built; ``versioning`` is the bucket's versioning status
    (``"Enabled"``, ``"Suspended"``, ``None``) and ``versioning_note`` says why it is
    unknown ("" when it was read); ``tracking`` is the tracking server the run rules
    consulted (``None`` without run rules or without ``MLFLOW_TRACKING_URI``)."""

    plan: DeletePlan
    versioning: str | None
    versioning_note: str
    tracking: TrackingServer | None = None


@dataclass(frozen=True)
class DeleteRequest:
    """What the review screen asks for: run ``plan`` on ``driver`` (``dry_run``: report
    only), then, when ``purge_noncurrent``, permanently delete the noncurrent versions
    under ``plan.base``. ``where`` is the location shown (a URI). ``mark_tracker``: the
    tracking server on which to mark the plan's deleted MLflow runs deleted once the delete
    is over (:mod:`pail.services.runs.tracker_sync`); ``None`` when the user did not choose
    it."""

    driver: StorageDriver
    plan: DeletePlan
    where: str
    dry_run: bool = False
    purge_noncurrent: bool = False
    mark_tracker: TrackingServer | None = None


@dataclass(eq=False)
class PurgeFinished(Message):
    """The permanent deletion of noncurrent versions finished (``report``: a
    :class:`pail.services.versions.PurgeReport`)."""

    report: Any


@dataclass(eq=False)
class TrackerMarked(Message):
    """The deleted runs were marked deleted on the tracking server (``marks``: what was
    marked, unknown, waiting, refused)."""

    marks: TrackerMarks


@dataclass(eq=False)
class VersionsListed(Message):
    """A versions listing answered: ``rows`` (VersionEntry list) for ``ticket``."""

    ticket: int
    rows: list[Any]


@dataclass(eq=False)
class VersionPreviewLoaded(Message):
    """A preview of one old version was read (``preview``: a ``PreviewResult``)."""

    ticket: int
    preview: Any


@dataclass(eq=False)
class RestoreFinished(Message):
    """A restore finished (``report``: pail.services.versions.RestoreReport)."""

    report: Any


@dataclass(eq=False)
class LifecycleLoaded(Message):
    """The bucket's lifecycle rules were read (``rules``) and its versioning status."""

    rules: list[dict[str, Any]]


@dataclass(eq=False)
class LifecycleApplied(Message):
    """Rules were written (``result``: pail.services.lifecycle.ApplyResult)."""

    result: Any


@dataclass(eq=False)
class RestorePlanned(Message):
    """What a restore would do (``plan``: pail.services.versions.RestorePlan)."""

    plan: Any


@dataclass(eq=False)
class VersionSaved(Message):
    """An old version was downloaded to ``path``."""

    path: str


@dataclass(eq=False)
class MarksChanged(Message):
    """The bucket tree's marks changed (a node was marked or unmarked): the main screen's
    status bar recounts them. A level list's marks travel as ``ListingChanged``."""


# -- inventory mode (pail.ui.screens.inventory*) ------------------------------------------


@dataclass(eq=False)
class InventoryOpened(Message):
    """Opening a bucket's inventory finished: ``inventory`` is the opened report, or
    ``None`` with ``problem`` (one plain line) and ``kind``: ``"none"`` (no inventory:
    the line says what was looked at), ``"refused"`` (a manifest that cannot be trusted),
    ``"cancelled"`` (``x``) or ``"error"``."""

    inventory: Inventory | None
    generation: int
    problem: str = ""
    kind: str = ""


@dataclass(eq=False)
class InventoryLevelLoaded(Message):
    """A page of a level of the report arrived (``level.offset`` 0: the first page), or
    ``level`` is ``None``: ``stopped`` (interrupted, ``x``) or ``problem`` (the query
    failed: one plain line). ``first``: the level's first page was asked for."""

    prefix: str
    level: Level | None
    generation: int
    first: bool = True
    stopped: bool = False
    problem: str = ""


@dataclass(eq=False)
class InventoryDetailLoaded(Message):
    """``du``, the age histogram and the storage-class breakdown of ``prefix`` in the
    report; all ``None`` when the query was interrupted (``stopped``) or failed
    (``problem``: one plain line)."""

    prefix: str
    usage: Usage | None
    ages: list[AgeBucket] | None
    classes: list[ClassShare] | None
    stopped: bool = False
    problem: str = ""


@dataclass(eq=False)
class InventorySearched(Message):
    """A search of the report finished: ``result``, or ``None`` with ``problem`` (one
    plain line; ``"stopped"`` after ``x``)."""

    result: SearchResult | None
    generation: int
    problem: str = ""


@dataclass(eq=False)
class InventoryPlanned(Message):
    """A stale plan from the report, re-checked live: ``outcome``, or ``None`` with
    ``problem`` (one plain line: refused, or stopped)."""

    outcome: InventoryPlan | None
    problem: str = ""
