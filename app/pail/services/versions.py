"""Object versions: history of a key, undo of deletes, and purging noncurrent versions.

Built on the optional driver capability :class:`pail.drivers.versions.Versioned` (S3
ListObjectVersions; GCS ``versions=true`` listings) and the driver's ``delete_objects``
with version ids (S3 DeleteObjects; GCS ``storage.objects.delete`` with ``generation``).
Functions take any :class:`~pail.drivers.base.StorageDriver`: one without versions raises
NotSupported at the first listing (:func:`pail.drivers.versions.versions_of`).

* :func:`object_versions` - every version and delete marker of one key, newest first.
* :func:`plan_restore` / :func:`restore` - "undo" on a versioned bucket: a deleted key is one
  whose latest version is a delete marker; removing the markers above its newest real
  version makes that version current again (S3 User Guide, "Working with delete markers").
  GCS has no delete markers: a deleted key has only noncurrent generations, and the newest
  is copied back to live (``restore_version``; Cloud Storage docs, "Restore noncurrent
  object versions").
* :func:`plan_noncurrent` / :func:`delete_noncurrent` - permanent deletion of every
  noncurrent version and non-latest delete marker under a prefix; current data stays.
* :func:`delete_explanation` - what a delete does on a bucket with this versioning status.

Plans are computed first (a listing, nothing changes) so a UI or CLI can show them and ask;
executing reports each key restored / deleted or failed with the provider's error code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby

from pail.drivers.base import DEFAULT_PAGE_SIZE, MAX_DELETE_KEYS, StorageDriver
from pail.drivers.delete import NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE
from pail.drivers.errors import StorageError
from pail.drivers.versions import Versioned, VersionEntry, versions_of
from pail.services.jobs import DaemonPool

#: Batches of version deletes in flight at once.
DELETE_WORKERS = 4
#: Restore re-checks the keys it restored at most this many times (a safety net: the plan
#: already orders tied markers by the store's listing, :func:`listed_order`).
RESTORE_ROUNDS = 4
#: Entries of one key :func:`listed_order` reads at most (one request each).
ORDER_WALK_LIMIT = 1_000


def iter_versions(
    driver: StorageDriver, bucket: str, prefix: str = "", *, page_size: int = DEFAULT_PAGE_SIZE
) -> Iterator[VersionEntry]:
    """Every version and delete marker under ``prefix`` (no delimiter), page by page,
    ordered by key and, within a key, newest first.

    Raises:
        StorageError: from the driver (NotSupported on a local folder).
    """
    versioned = versions_of(driver, "ListObjectVersions", bucket)
    token: str | None = None
    while True:
        page = versioned.list_versions_page(
            bucket, prefix, delimiter="", token=token, page_size=page_size
        )
        yield from page.entries
        if page.next_token is None:
            return
        token = page.next_token


def _scope(driver: StorageDriver, bucket: str, key: str, recursive: bool, page_size: int):
    """Entries of exactly ``key`` or, recursively, of every key under it."""
    if recursive:
        return iter_versions(driver, bucket, key, page_size=page_size)
    return (e for e in iter_versions(driver, bucket, key, page_size=page_size) if e.key == key)


def _stamp(entry: VersionEntry) -> float:
    return entry.last_modified.timestamp() if entry.last_modified else 0.0


def _newest_first(entries: Iterable[VersionEntry]) -> list[VersionEntry]:
    # A stable sort: entries with the same time keep the driver's order.
    return sorted(entries, key=lambda e: (not e.is_latest, -_stamp(e)))


def ties_above_data(versions: list[VersionEntry]) -> bool:
    """True when one listing cannot tell which delete markers of a key lie above its
    newest data version: a marker other than the latest has the same timestamp as that
    version (S3 times have a second or millisecond resolution, and S3-compatible stores
    such as moto list ``Versions`` and ``DeleteMarkers`` as two arrays, so the order
    between a version and a marker of the same second is lost). ``versions``: one key's
    entries, newest first (:func:`_newest_first`)."""
    data = next((v for v in versions if not v.is_delete_marker), None)
    if data is None:
        return False
    stamp = _stamp(data)
    return any(v.is_delete_marker and not v.is_latest and _stamp(v) == stamp for v in versions)


def listed_order(
    driver: StorageDriver, bucket: str, key: str, *, whole: bool = False
) -> list[VersionEntry]:
    """``key``'s entries from its latest down to its newest data version (``whole``: all
    of them), in the store's own order: one ListObjectVersions page of one entry at a time
    (``MaxKeys=1``), since pages follow the store's order, newest first (S3 API reference,
    ListObjectVersions), whatever the timestamps. At most :data:`ORDER_WALK_LIMIT`
    requests.

    Raises:
        StorageError: from the driver.
    """
    versioned = versions_of(driver, "ListObjectVersions", bucket)
    out: list[VersionEntry] = []
    token: str | None = None
    for _ in range(ORDER_WALK_LIMIT):
        page = versioned.list_versions_page(bucket, key, delimiter="", token=token, page_size=1)
        for entry in page.entries:
            if entry.key != key:  # "a" sorts before "a/b" and "ab": the key's own are first
                return out
            out.append(entry)
            if not entry.is_delete_marker and not whole:
                return out
        if page.next_token is None:
            return out
        token = page.next_token
    return out


def _in_store_order(
    driver: StorageDriver,
    bucket: str,
    key: str,
    versions: list[VersionEntry],
    *,
    whole: bool = False,
) -> list[VersionEntry]:
    """``versions`` (one key, newest first) with the part above the newest data version
    (``whole``: every entry) in the store's order when a marker's time ties with a data
    version's (:func:`ties_above_data`; ``whole``: anywhere in the history)."""
    if whole:
        stamps = {_stamp(v) for v in versions if not v.is_delete_marker}
        tied = any(v.is_delete_marker and _stamp(v) in stamps for v in versions)
    else:
        tied = ties_above_data(versions)
    if not tied:
        return versions
    top = listed_order(driver, bucket, key, whole=whole)
    if not top or not top[0].is_latest:  # the walk disagrees with the listing: keep it
        return versions
    seen = {(e.version_id, e.is_delete_marker) for e in top}
    return top + [v for v in versions if (v.version_id, v.is_delete_marker) not in seen]


def object_versions(
    driver: StorageDriver, bucket: str, key: str, *, page_size: int = DEFAULT_PAGE_SIZE
) -> list[VersionEntry]:
    """All versions and delete markers of ``key``, the latest first, then newest first;
    when a marker's time ties with a version's, all in the store's listing order
    (:func:`listed_order`, one request per entry).

    Empty when the key has no version at all. Raises StorageError from the driver.
    """
    versions = _newest_first(_scope(driver, bucket, key, False, page_size))
    return _in_store_order(driver, bucket, key, versions, whole=True)


def by_key(entries: Iterable[VersionEntry]) -> Iterator[tuple[str, list[VersionEntry]]]:
    """Group a key-ordered listing into ``(key, versions newest first)``."""
    for key, group in groupby(entries, key=lambda e: e.key):
        yield key, _newest_first(group)


# --- restore (undo a delete) -----------------------------------------------------------


@dataclass(frozen=True)
class MarkerRemoval:
    """How one deleted key comes back.

    Attributes:
        key: the object's key.
        marker_ids: version ids of the delete markers to remove (the latest first).
        restores: version id of the version that becomes current again.
        size: that version's size in bytes.
    """

    key: str
    marker_ids: tuple[str, ...]
    restores: str
    size: int


@dataclass(frozen=True)
class RestorePlan:
    """What :func:`restore` would do.

    Attributes:
        bucket, prefix: the scope (``prefix`` is the key itself when not recursive).
        recursive: every key under ``prefix`` rather than exactly that key.
        removals: one per deleted key that has a version to bring back.
        unrecoverable: deleted keys with no version under their markers (nothing to restore).
    """

    bucket: str
    prefix: str
    recursive: bool
    removals: tuple[MarkerRemoval, ...] = ()
    unrecoverable: tuple[str, ...] = ()

    @property
    def keys(self) -> int:
        """Number of keys that would be restored."""
        return len(self.removals)

    @property
    def markers(self) -> int:
        """Number of delete markers that would be removed."""
        return sum(len(r.marker_ids) for r in self.removals)

    @property
    def bytes(self) -> int:
        """Bytes that would be current again."""
        return sum(r.size for r in self.removals)


def _removal(key: str, versions: list[VersionEntry]) -> MarkerRemoval | str | None:
    """The removal for a key whose latest entry is a delete marker; ``None`` when the key
    is not deleted; the key itself when nothing lies under the markers. ``versions`` is
    the key's entries in the store's order (latest first; :func:`_in_store_order`): the
    markers to remove are those before the first data version, which comes back."""
    if versions and not any(v.is_latest or v.is_delete_marker for v in versions):
        # GCS: no delete markers; a deleted object has only noncurrent generations, and
        # the newest comes back by a copy (GcsDriver.restore_version).
        return MarkerRemoval(key, (), versions[0].version_id, versions[0].size)
    if not versions or not versions[0].is_latest or not versions[0].is_delete_marker:
        return None
    first = next((i for i, v in enumerate(versions) if not v.is_delete_marker), None)
    if first is None:
        return key
    newest = versions[first]
    markers = tuple(v.version_id for v in versions[:first])
    return MarkerRemoval(key, markers, newest.version_id, newest.size)


def plan_restore(
    driver: StorageDriver,
    bucket: str,
    key: str,
    *,
    recursive: bool = False,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> RestorePlan:
    """Find the deleted keys (latest version is a delete marker) of ``key`` - or, with
    ``recursive``, of every key under the prefix ``key`` - and the markers to remove.

    The markers of a key are those above its newest data version in the store's listing
    order; where a marker's time ties with that version's, the key's top entries are read
    again one per page (:func:`listed_order`), never guessed from the times.

    Nothing is changed. Raises StorageError from the driver.
    """
    removals: list[MarkerRemoval] = []
    lost: list[str] = []
    for name, versions in by_key(_scope(driver, bucket, key, recursive, page_size)):
        if versions and versions[0].is_latest and versions[0].is_delete_marker:
            versions = _in_store_order(driver, bucket, name, versions)
        found = _removal(name, versions)
        if isinstance(found, MarkerRemoval):
            removals.append(found)
        elif found is not None:
            lost.append(found)
    return RestorePlan(bucket, key, recursive, tuple(removals), tuple(lost))


@dataclass(frozen=True)
class VersionFailure:
    """A version or marker the store did not delete: ``key``, ``version_id``, provider
    error ``code`` (``AccessDenied``...) and a plain-text ``message``."""

    key: str
    version_id: str
    code: str
    message: str


@dataclass
class RestoreReport:
    """Outcome of :func:`restore`: keys whose data is current again, and failures (a key
    is in one list only)."""

    restored: list[str] = field(default_factory=list)
    failed: list[VersionFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed


def restore(
    driver: StorageDriver, plan: RestorePlan, *, page_size: int = DEFAULT_PAGE_SIZE
) -> RestoreReport:
    """Remove the plan's delete markers, then re-list the planned keys and remove any
    marker still on top (bounded by :data:`RESTORE_ROUNDS`), so stacked markers with
    tied timestamps are undone too.

    A key counts as restored only when its latest version is data again. Per-key
    failures carry the provider's code; a failure of the whole listing raises.
    """
    report = RestoreReport()
    pending = {r.key: r for r in plan.removals}
    failed: dict[str, VersionFailure] = {}
    for removal in [r for r in pending.values() if not r.marker_ids]:
        failure = _copy_back(driver, plan.bucket, removal)
        if failure is not None:
            failed.setdefault(removal.key, failure)
            pending.pop(removal.key, None)
    for _ in range(RESTORE_ROUNDS):
        pairs = [(r.key, m) for r in pending.values() for m in r.marker_ids]
        _, failures = delete_versions(driver, plan.bucket, pairs)
        for failure in failures:
            failed.setdefault(failure.key, failure)
            pending.pop(failure.key, None)
        if not pending:
            break
        again = plan_restore(
            driver, plan.bucket, plan.prefix, recursive=plan.recursive, page_size=page_size
        )
        pending = {r.key: r for r in again.removals if r.key in pending}
        if not pending:
            break
    done = set(pending) | set(failed)
    report.restored = [r.key for r in plan.removals if r.key not in done]
    report.failed = list(failed.values())
    for key in pending:  # still hidden after every round
        report.failed.append(VersionFailure(key, "", "StillDeleted", "a delete marker remains"))
    return report


def _copy_back(driver: StorageDriver, bucket: str, removal: MarkerRemoval) -> VersionFailure | None:
    """Make ``removal.restores`` live again on a store without delete markers (GCS:
    ``restore_version``, a copy of the generation); the failure, or ``None``."""
    copy = getattr(driver, "restore_version", None)
    if copy is None:
        return VersionFailure(
            removal.key, removal.restores, "NotSupported", "this store cannot restore a version"
        )
    try:
        copy(bucket, removal.key, removal.restores)
    except StorageError as exc:
        return _failure(removal.key, removal.restores, exc)
    return None


# --- permanent deletion of noncurrent versions ----------------------------------------


@dataclass(frozen=True)
class NoncurrentPlan:
    """Noncurrent versions and non-latest delete markers under a prefix.

    Attributes:
        bucket, prefix: the scope.
        entries: what would be deleted, key-ordered.
    """

    bucket: str
    prefix: str
    entries: tuple[VersionEntry, ...] = ()

    @property
    def count(self) -> int:
        """Versions and markers that would be deleted."""
        return len(self.entries)

    @property
    def versions(self) -> int:
        """Noncurrent versions holding data."""
        return sum(1 for e in self.entries if not e.is_delete_marker)

    @property
    def markers(self) -> int:
        """Non-latest delete markers."""
        return sum(1 for e in self.entries if e.is_delete_marker)

    @property
    def bytes(self) -> int:
        """Bytes the noncurrent versions hold (billed storage that would be freed)."""
        return sum(e.size for e in self.entries)

    @property
    def keys(self) -> int:
        """Distinct keys affected."""
        return len({e.key for e in self.entries})


def plan_noncurrent(
    driver: StorageDriver, bucket: str, prefix: str = "", *, page_size: int = DEFAULT_PAGE_SIZE
) -> NoncurrentPlan:
    """Every noncurrent version and non-latest delete marker under ``prefix``. Latest
    versions (current data, and the markers that keep deleted keys deleted) stay out.

    Nothing is changed. Raises StorageError from the driver.
    """
    entries = tuple(
        e for e in iter_versions(driver, bucket, prefix, page_size=page_size) if not e.is_latest
    )
    return NoncurrentPlan(bucket, prefix, entries)


@dataclass
class PurgeReport:
    """Outcome of :func:`delete_noncurrent`: ``deleted`` (key, version id) pairs with the
    bytes they held, and ``failed`` ones (never counted as deleted)."""

    deleted: list[tuple[str, str]] = field(default_factory=list)
    failed: list[VersionFailure] = field(default_factory=list)
    bytes_deleted: int = 0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        """True when nothing failed and nothing was cancelled."""
        return not self.failed and not self.cancelled


def delete_noncurrent(
    driver: StorageDriver,
    plan: NoncurrentPlan,
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Permanently delete the plan's versions and markers, in batches of up to 1,000
    (the driver's ``delete_objects`` with version ids: S3 DeleteObjects), several batches
    in flight. ``cancel`` stops after the batches in flight; ``progress(n)`` is
    called with each batch's count of deleted entries.
    """
    sizes = {(e.key, e.version_id): e.size for e in plan.entries}
    pairs = list(sizes)
    deleted, failed = delete_versions(driver, plan.bucket, pairs, cancel=cancel, progress=progress)
    report = PurgeReport(deleted=deleted, failed=failed)
    report.bytes_deleted = sum(sizes.get(p, 0) for p in deleted)
    report.cancelled = len(deleted) + len(failed) < len(pairs)
    return report


def delete_versions(
    driver: StorageDriver,
    bucket: str,
    pairs: list[tuple[str, str]],
    *,
    cancel: threading.Event | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[tuple[str, str]], list[VersionFailure]]:
    """Delete ``(key, version_id)`` pairs for good: ``(deleted, failures)``, with the
    driver's batched ``delete_objects`` (up to :data:`MAX_DELETE_KEYS` pairs a call). A
    pair is deleted only when the store confirmed it; one its reply did not name is a
    failure with code ``NotConfirmed``. Pairs skipped because of ``cancel`` are in neither
    list."""
    batches = [pairs[i : i + MAX_DELETE_KEYS] for i in range(0, len(pairs), MAX_DELETE_KEYS)]
    deleted: list[tuple[str, str]] = []
    failures: list[VersionFailure] = []
    lock = threading.Lock()

    def run(batch: list[tuple[str, str]]) -> None:
        if cancel is not None and cancel.is_set():
            return
        done, bad = _delete_batch(driver, bucket, batch)
        with lock:
            deleted.extend(done)
            failures.extend(bad)
        if progress is not None and done:
            progress(len(done))

    # Daemon threads (pail.services.jobs): an interrupt (Ctrl-C) cancels the
    # batches not started yet and returns without waiting for a hung request; an
    # executor would go on sending every queued batch before it let the process end.
    with DaemonPool(DELETE_WORKERS, name="pail-purge") as pool:
        for future in [pool.submit(run, batch) for batch in batches]:
            future.result()
    return deleted, failures


def _delete_batch(
    driver: StorageDriver, bucket: str, batch: list[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[VersionFailure]]:
    try:
        result = driver.delete_objects(bucket, batch)
    except StorageError as exc:
        return [], [_failure(k, v, exc) for k, v in batch]
    # S3 echoes VersionId in each per-key Error; a store that omits it (moto does) gets
    # every version of that key in the batch counted as refused: never as deleted.
    refused: dict[tuple[str, str], VersionFailure] = {}
    for error in result.errors:
        hit = [p for p in batch if p[0] == error.key and error.version_id in (None, "", p[1])]
        for key, version_id in hit or [(error.key, error.version_id or "")]:
            refused.setdefault(
                (key, version_id), VersionFailure(key, version_id, error.code, error.message)
            )
    # Only what the store confirmed counts (pail.drivers.delete): a pair the result does
    # not name as deleted is a failure, never assumed gone.
    confirmed = {(d.key, d.version_id) for d in result.deleted}
    deleted = []
    for pair in batch:
        if pair in refused:
            continue
        if pair in confirmed:
            deleted.append(pair)
        else:
            refused[pair] = VersionFailure(pair[0], pair[1], NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE)
    return deleted, list(refused.values())


def _failure(key: str, version_id: str, exc: StorageError) -> VersionFailure:
    return VersionFailure(key, version_id, exc.code or type(exc).__name__, exc.message)


# --- the delete dialog -----------------------------------------------------------------


def versioning_status(driver: StorageDriver, bucket: str) -> str | None:
    """The bucket's versioning state, for saying what a delete will do: ``"Enabled"``,
    ``"Suspended"`` or ``None`` (never enabled; also, with no request made, a store
    without versions such as a local folder). S3 GetBucketVersioning, GCS
    ``versioning.enabled``.

    Raises:
        StorageError: the request failed (AccessDenied without s3:GetBucketVersioning ...).
    """
    if not isinstance(driver, Versioned):
        return None
    return driver.versioning_status(bucket)


def delete_explanation(versioning_status: str | None) -> str:
    """What deleting does on a bucket with this versioning status (for the delete dialog
    and ``pail rm``), as one plain-text paragraph.

    ``"Enabled"``/``"Suspended"``: a delete adds a delete marker and the data stays,
    recoverable and still billed, until noncurrent versions are deleted (S3 User Guide,
    "Deleting object versions"). ``None``: a delete is final.
    """
    if versioning_status == "Enabled":
        return (
            "This bucket keeps versions: deleting adds a delete marker and hides the "
            "objects, but their data stays (recoverable with restore, and still billed) "
            "until the noncurrent versions are deleted permanently, a separate choice."
        )
    if versioning_status == "Suspended":
        return (
            "Versioning is suspended on this bucket: deleting adds a delete marker (it "
            'replaces the "null" version), and versions written while versioning was on '
            "stay, recoverable and billed, until the noncurrent versions are deleted."
        )
    return "This bucket keeps no versions: deleted objects are gone for good."
