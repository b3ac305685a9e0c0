"""What an inventory report is, and what the queries over one answer (no I/O here).

An inventory report is the store's own daily listing of a bucket, written as data files
next to a manifest:

* S3 Inventory (S3 User Guide, "Cataloging and analyzing your data with S3 Inventory"):
  ``<dest prefix>/<source bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json`` with
  ``manifest.checksum`` (the MD5 of manifest.json, hex), data files in CSV (gzip), ORC or
  Parquet holding the fields the configuration lists.
* GCS Storage Insights inventory reports (Cloud Storage docs, "Inventory reports"):
  ``<REPORT_CONFIG_ID>_<SNAPSHOT_TIME>_manifest.json`` naming CSV or Parquet shards.

Every query result carries the report it came from: a report is a snapshot, and the
front-ends say so ("inventory of 2026-11-28 02:00 UTC") wherever they show one.

Field names are normalised (:data:`FIELD_NAMES`) so that the query layer, the plans and the
front-ends never see a provider's spelling (S3 CSV ``LastModifiedDate``, S3 Parquet
``last_modified_date``, GCS ``updated`` are all ``last_modified``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pail.drivers.base import Entry
from pail.services.search import parse_query

__all__ = [
    "FIELD_NAMES",
    "AgeBucket",
    "ClassShare",
    "InventoryError",
    "InventoryFormat",
    "Level",
    "LevelRow",
    "ManifestInvalid",
    "NoInventory",
    "OpenProgress",
    "Report",
    "ReportFile",
    "SearchQuery",
    "SearchResult",
    "Usage",
    "report_label",
    "search_query",
]

#: The data files' format, as S3's manifest ``fileFormat`` spells it (GCS: CSV, Parquet).
InventoryFormat = Literal["CSV", "ORC", "Parquet"]

#: pail's names for the fields a report can hold. ``key`` is always there; the others when
#: the report's configuration lists them. Unknown fields are kept, lower-cased, and unused.
FIELD_NAMES = (
    "bucket",
    "key",
    "version_id",
    "is_latest",
    "is_delete_marker",
    "size",
    "last_modified",
    "etag",
    "storage_class",
    "md5",  # GCS md5Hash (base64, as GCS gives it)
    "crc32c",  # GCS crc32c (base64)
    "generation",  # GCS object generation (its version id)
    "created",  # GCS timeCreated
)


class InventoryError(Exception):
    """An inventory cannot be used; ``str()`` is one plain line saying why."""


class NoInventory(InventoryError):
    """The bucket has no inventory configuration, or no complete report under the
    configured destination (the message says what was looked at)."""


class ManifestInvalid(InventoryError):
    """A manifest that cannot be trusted: its checksum does not match
    (``manifest.checksum`` is not the MD5 of ``manifest.json``), it does not parse, it
    lacks a required field, or a data file's size or MD5 differs from what it lists."""


@dataclass(frozen=True)
class ReportFile:
    """One data file of a report.

    Attributes:
        key: its key in the destination bucket.
        size: bytes, as the manifest lists it (S3 ``size``); ``None`` when not listed.
        md5: hex MD5 the manifest lists (S3 ``MD5checksum``); ``None`` when not listed
            (GCS shards: the download is verified with the store's own checksum).
    """

    key: str
    size: int | None = None
    md5: str | None = None


@dataclass(frozen=True)
class Report:
    """One complete inventory report, as its manifest describes it.

    Attributes:
        provider: ``"s3"`` or ``"gcs"`` (the store holding the report).
        source_bucket: the bucket the report lists.
        destination_bucket: the bucket holding the manifest and data files.
        manifest_key: the manifest's key in ``destination_bucket``.
        created: when the store took the snapshot (UTC): S3 ``creationTimestamp``
            (milliseconds since the epoch), GCS ``snapshot_time``.
        format: the data files' format.
        fields: the data files' columns in order, as pail names them (:data:`FIELD_NAMES`).
        source_fields: the same columns as the manifest spells them.
        files: the data files.
        config_id: the inventory configuration's id (S3 ``Id``, GCS report config name),
            when known.
        versions: ``True`` when the rows are object versions (S3
            ``IncludedObjectVersions=All``: ``version_id``/``is_latest`` columns).
        rows: the number of rows when the manifest says (GCS ``records_processed``).
    """

    provider: str
    source_bucket: str
    destination_bucket: str
    manifest_key: str
    created: datetime
    format: InventoryFormat
    fields: tuple[str, ...]
    source_fields: tuple[str, ...]
    files: tuple[ReportFile, ...]
    config_id: str | None = None
    versions: bool = False
    rows: int | None = None

    @property
    def total_bytes(self) -> int:
        """Bytes of all data files the manifest sizes (0 for those it does not)."""
        return sum(f.size or 0 for f in self.files)

    @property
    def label(self) -> str:
        """``"inventory of 2026-11-28 02:00 UTC"``: how every front-end names it."""
        return report_label(self.created)

    @property
    def manifest_uri(self) -> str:
        """``s3://dest/key`` / ``gs://dest/key``."""
        scheme = "gs" if self.provider == "gcs" else "s3"
        return f"{scheme}://{self.destination_bucket}/{self.manifest_key}"


def report_label(created: datetime) -> str:
    """``"inventory of 2026-11-28 02:00 UTC"`` for a snapshot taken at ``created`` (UTC)."""
    return f"inventory of {created.strftime('%Y-%m-%d %H:%M')} UTC"


@dataclass(frozen=True)
class OpenProgress:
    """Where opening a report is (passed to ``on_progress`` from the worker's thread).

    Attributes:
        stage: ``"locating"`` (reading configurations and manifests), ``"downloading"``
            (data files, verified), ``"preparing"`` (CSV/ORC converted to Parquet once,
            cached), ``"ready"``.
        done / total: bytes downloaded of the data files' total (0/0 outside downloading);
            files converted / to convert while preparing.
        detail: one plain line (the manifest URI, the file being fetched).
    """

    stage: Literal["locating", "downloading", "preparing", "ready"]
    done: int = 0
    total: int = 0
    detail: str = ""


# -- query results -----------------------------------------------------------------------


@dataclass(frozen=True)
class LevelRow:
    """One child of a level: a prefix (with its recursive totals) or an object.

    Attributes:
        key: the full key (``"runs/run-1/"`` for a prefix).
        is_prefix: ``True`` for a common prefix.
        objects: objects under the prefix, recursively (1 for an object).
        bytes: their total size in bytes.
        newest / oldest: last_modified range (UTC) of those objects; ``None`` if unknown.
        storage_class / etag: the object's (``None`` for prefixes).
    """

    key: str
    is_prefix: bool
    objects: int
    bytes: int
    newest: datetime | None = None
    oldest: datetime | None = None
    storage_class: str | None = None
    etag: str | None = None

    @property
    def name(self) -> str:
        """The last segment: ``"run-1/"`` for ``"runs/run-1/"``."""
        trimmed = self.key[:-1] if self.key.endswith("/") else self.key
        base = trimmed.rsplit("/", 1)[-1]
        return base + "/" if self.is_prefix else base


@dataclass(frozen=True)
class Level:
    """One level of the report's key space (as a ``Delimiter="/"`` listing would give).

    Attributes:
        prefix: the level's prefix (``""`` = the bucket's root).
        rows: children, prefixes first, each group by name (as :attr:`order` says), at
            most the ``limit`` asked for, from ``offset``.
        children: how many children the level has in all.
        objects / bytes: everything under ``prefix``, recursively.
        offset: index of ``rows[0]`` among all children.
    """

    prefix: str
    rows: list[LevelRow]
    children: int
    objects: int
    bytes: int
    offset: int = 0

    @property
    def truncated(self) -> bool:
        """More children than ``rows`` holds."""
        return self.offset + len(self.rows) < self.children


@dataclass(frozen=True)
class ClassShare:
    """Objects and bytes of one storage class (``"STANDARD"``, ``"GLACIER"``...)."""

    storage_class: str
    objects: int
    bytes: int


@dataclass(frozen=True)
class AgeBucket:
    """Objects whose age (report time - last_modified) is in ``[lower, upper)`` days;
    ``upper`` ``None`` = no upper bound. ``label`` is e.g. ``"30–90 d"``."""

    label: str
    lower: int
    upper: int | None
    objects: int
    bytes: int


@dataclass(frozen=True)
class Usage:
    """``du`` of a prefix in the report.

    Attributes:
        prefix: the prefix (``""`` = whole bucket).
        objects / bytes: totals, recursive.
        oldest / newest: last_modified range (UTC), ``None`` with no objects.
        classes: per storage class, largest first.
    """

    prefix: str
    objects: int
    bytes: int
    oldest: datetime | None = None
    newest: datetime | None = None
    classes: list[ClassShare] = field(default_factory=list)


@dataclass(frozen=True)
class SearchQuery:
    """A search over every key of a report; every given criterion must hold.

    Attributes:
        prefix: only keys under it.
        text: a substring of the key relative to ``prefix``, case-insensitive (as the
            live search, :mod:`pail.services.search`); ``""`` = any.
        glob: a glob on the key relative to ``prefix`` (:func:`fnmatch.fnmatchcase`
            rules: ``*`` also matches ``/``), case-insensitive too.
        min_size / max_size: bytes, inclusive.
        older_than / newer_than: age in seconds at the report's time.
        storage_class: exactly this class.
        limit: most rows returned (the count of all matches is exact anyway).
    """

    prefix: str = ""
    text: str = ""
    glob: str | None = None
    min_size: int | None = None
    max_size: int | None = None
    older_than: float | None = None
    newer_than: float | None = None
    storage_class: str | None = None
    limit: int = 1000


@dataclass(frozen=True)
class SearchResult:
    """Matches of a :class:`SearchQuery`: ``rows`` (listing entries, by key, at most
    ``limit``), ``matched`` (all matches) and their total ``bytes``."""

    rows: list[Entry]
    matched: int
    bytes: int

    @property
    def truncated(self) -> bool:
        """More matches than ``rows`` holds."""
        return self.matched > len(self.rows)


def search_query(
    text: str, *, prefix: str = "", storage_class: str | None = None, limit: int = 1000
) -> SearchQuery:
    """A :class:`SearchQuery` from the live search's syntax (:func:`pail.services.search.
    parse_query`: ``"*.ckpt size>1GB age>90d"``), so the app's and the CLI's searches read
    one language whether they list the store or query a report. A glob goes to ``glob``,
    other words to ``text``; ``size>N`` is ``min_size=N+1`` (bounds here are inclusive),
    ``age>D`` is ``older_than`` (seconds).

    Raises:
        pail.services.search.QueryError: a ``size``/``age`` term that does not parse.
    """
    parsed = parse_query(text)
    min_size: int | None = None
    max_size: int | None = None
    older: float | None = None
    newer: float | None = None
    for cond in parsed.conditions:
        value = cond.value
        if isinstance(value, int):  # size, bytes
            if cond.op in (">", ">="):
                low = value + 1 if cond.op == ">" else value
                min_size = low if min_size is None else max(min_size, low)
            else:
                high = value - 1 if cond.op == "<" else value
                max_size = high if max_size is None else min(max_size, high)
        else:  # age: a timedelta
            seconds = value.total_seconds()
            if cond.op in (">", ">="):
                older = seconds if older is None else max(older, seconds)
            else:
                newer = seconds if newer is None else min(newer, seconds)
    return SearchQuery(
        prefix=prefix,
        text="" if parsed.is_glob else parsed.pattern,
        glob=parsed.pattern if parsed.is_glob else None,
        min_size=min_size,
        max_size=max_size,
        older_than=older,
        newer_than=newer,
        storage_class=storage_class,
        limit=limit,
    )
