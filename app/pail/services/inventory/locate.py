"""Finding a bucket's newest complete inventory report and reading its manifest.

S3 (S3 User Guide, "Locating your inventory list"): a bucket's inventory configurations
(ListBucketInventoryConfigurations, :mod:`pail.drivers.inventory`) name a destination
bucket and prefix; each report is a folder
``<prefix>/<source bucket>/<config id>/<YYYY-MM-DDTHH-MMZ>/`` holding ``manifest.json``
and ``manifest.checksum`` (the data files live in ``.../<config id>/data/``; ``hive/``
holds Hive symlink manifests, which pail skips). A report is *complete* when both
manifest files are there (S3 writes the checksum last); the newest complete one by its
folder's time is taken, and a newer incomplete one is skipped with a note.

GCS (Cloud Storage docs, "Inventory reports"): report configurations live in the Storage
Insights API, which pail does not call; a GCS inventory is opened from a manifest's URI
(``gs://dest/path/<ID>_<SNAPSHOT_TIME>_manifest.json``) or a prefix holding such
manifests (GCS writes the manifest once every shard is written, so a manifest means a
complete report). Destination paths may contain date folders, so a prefix is searched a
few folder levels deep.

The same driver (the connection that opened the source bucket) reads the destination: a
destination this connection may not read raises its storage error (AccessDenied) as it
is, never a guess.
"""

from __future__ import annotations

import io
import posixpath
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from pail.core.text import printable
from pail.core.uri import InvalidURI, parse_uri
from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.drivers.errors import NotFound, NotSupported
from pail.drivers.inventory import inventory_of
from pail.services.inventory.manifest import (
    gcs_manifest_name,
    is_gcs_manifest,
    manifest_md5,
    parse_gcs_manifest,
    parse_s3_manifest,
    s3_folder_time,
)
from pail.services.inventory.model import (
    InventoryError,
    InventoryFormat,
    ManifestInvalid,
    NoInventory,
    Report,
    ReportFile,
)

__all__ = [
    "MANIFEST_LIMIT",
    "InventoryConfig",
    "Located",
    "configurations",
    "find_newest",
    "load_manifest",
    "locate",
    "newest_report",
    "read_manifest",
]

#: Largest manifest read, in bytes (a manifest listing 100,000 data files is ~20 MB).
MANIFEST_LIMIT = 64 * 1024 * 1024
#: Folder levels searched below a prefix the user gives.
SEARCH_DEPTH = 4
#: Most folders listed while searching below a prefix (each is at least one request).
SEARCH_FOLDERS = 500
#: Most GCS manifests read while looking for one of the source bucket.
GCS_READS = 20
_S3_MANIFEST = "manifest.json"
_S3_CHECKSUM = "manifest.checksum"
_SKIPPED_FOLDERS = ("data/", "hive/")


@dataclass(frozen=True)
class InventoryConfig:
    """One S3 inventory configuration (S3 ``InventoryConfiguration``).

    Attributes:
        id: its ``Id`` (the report folders' ``config id``).
        source_bucket: the bucket it inventories.
        destination_bucket: the bucket name from ``Destination.S3BucketDestination.Bucket``
            (an ARN, ``arn:aws:s3:::name``).
        destination_prefix: its ``Prefix`` (``""`` when none).
        format: ``CSV``, ``ORC`` or ``Parquet`` as configured.
        fields: ``OptionalFields`` as configured (the report's own columns come from its
            manifest, which is authoritative).
        frequency: ``Daily`` or ``Weekly``.
        versions: ``IncludedObjectVersions`` is ``All``.
        enabled: ``IsEnabled``.
        account_id: the destination's ``AccountId``, when given.
    """

    id: str
    source_bucket: str
    destination_bucket: str
    destination_prefix: str = ""
    format: str = "CSV"
    fields: tuple[str, ...] = ()
    frequency: str = ""
    versions: bool = False
    enabled: bool = True
    account_id: str | None = None

    @property
    def reports_prefix(self) -> str:
        """``<prefix>/<source bucket>/<config id>/``: the folder holding the dated report
        folders (a trailing ``/`` of the configured prefix is not doubled)."""
        head = self.destination_prefix.rstrip("/")
        tail = f"{self.source_bucket}/{self.id}/"
        return f"{head}/{tail}" if head else tail

    @property
    def destination_uri(self) -> str:
        """``s3://dest/<prefix>/<source>/<id>/``."""
        return f"s3://{self.destination_bucket}/{self.reports_prefix}"


@dataclass(frozen=True)
class Located:
    """A report found and its manifest read.

    Attributes:
        report: the report.
        manifest_md5: hex MD5 of the manifest's bytes (S3: the value ``manifest.checksum``
            vouched for); names the report in the download cache.
        notes: plain lines about what was passed over (a newer incomplete report, a report
            of another source bucket).
        config: the S3 configuration it came from, when found through one.
    """

    report: Report
    manifest_md5: str
    notes: tuple[str, ...] = ()
    config: InventoryConfig | None = None


# -- configurations ----------------------------------------------------------------------


def _bucket_of(arn: Any) -> str:
    text = str(arn or "")
    return text.split(":::", 1)[1] if text.startswith("arn:") and ":::" in text else text


def _config(bucket: str, raw: Mapping[str, Any]) -> InventoryConfig:
    dest = (raw.get("Destination") or {}).get("S3BucketDestination") or {}
    fields = raw.get("OptionalFields") or []
    return InventoryConfig(
        id=str(raw.get("Id") or ""),
        source_bucket=bucket,
        destination_bucket=_bucket_of(dest.get("Bucket")),
        destination_prefix=str(dest.get("Prefix") or ""),
        format=str(dest.get("Format") or "CSV"),
        fields=tuple(str(f) for f in fields) if isinstance(fields, list) else (),
        frequency=str((raw.get("Schedule") or {}).get("Frequency") or ""),
        versions=raw.get("IncludedObjectVersions") == "All",
        enabled=bool(raw.get("IsEnabled", True)),
        account_id=dest.get("AccountId"),
    )


def configurations(driver: StorageDriver, bucket: str) -> list[InventoryConfig]:
    """The bucket's inventory configurations (S3 ListBucketInventoryConfigurations, every
    page), ordered by id.

    Raises:
        NotSupported: the driver has none to list (GCS: Storage Insights is another API;
            local folders); StorageError: the request failed (AccessDenied without
            ``s3:GetInventoryConfiguration``...).
    """
    lister = inventory_of(driver, "ListBucketInventoryConfigurations", bucket)
    found = [_config(bucket, raw) for raw in lister.list_inventory_configurations(bucket)]
    return sorted(found, key=lambda c: c.id)


# -- reading manifests -------------------------------------------------------------------


def _read_small(driver: StorageDriver, bucket: str, key: str) -> bytes:
    """The whole object, refused past :data:`MANIFEST_LIMIT` bytes."""
    data = driver.read_range(bucket, key, 0, MANIFEST_LIMIT + 1)
    if len(data) > MANIFEST_LIMIT:
        uri = printable(f"{driver.provider}://{bucket}/{key}")
        raise ManifestInvalid(f"{uri}: larger than {MANIFEST_LIMIT} bytes; not a manifest")
    return data


def _shard_fields(
    driver: StorageDriver, bucket: str
) -> Callable[[ReportFile, InventoryFormat], Sequence[str]]:
    """A ``(shard, format) -> column names`` reader for :func:`parse_gcs_manifest`: the
    header row of a CSV shard (its first 64 KiB) or a Parquet shard's schema (its footer,
    read by two ranged requests)."""

    def read(shard: ReportFile, fmt: InventoryFormat) -> Sequence[str]:
        if fmt == "CSV":
            import csv
            import zlib

            head = driver.read_range(bucket, shard.key, 0, 64 * 1024)
            if head[:2] == b"\x1f\x8b":  # a gzip'd shard: its first line, decompressed
                head = zlib.decompressobj(wbits=31).decompress(head, 64 * 1024)
            line = head.split(b"\n", 1)[0].decode("utf-8", "replace").strip("\r\ufeff")
            return next(csv.reader([line]), [])
        import pyarrow.parquet as pq

        tail = driver.read_range(bucket, shard.key, suffix=8)
        if len(tail) != 8 or tail[4:] != b"PAR1":
            raise ManifestInvalid(f"{printable(shard.key)}: not a Parquet file")
        (length,) = struct.unpack("<I", tail[:4])
        footer = driver.read_range(bucket, shard.key, suffix=length + 8)
        try:
            return pq.read_schema(io.BytesIO(b"PAR1" + footer)).names
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for a bad footer
            raise ManifestInvalid(f"{printable(shard.key)}: unreadable Parquet footer") from exc

    return read


def load_manifest(
    driver: StorageDriver, bucket: str, key: str, *, source_bucket: str | None = None
) -> Located:
    """Read and verify the manifest at ``bucket``/``key``: an S3 ``manifest.json`` (with
    its ``manifest.checksum`` beside it) or a GCS ``<ID>_<TIME>_manifest.json``, told apart
    by the name, else by the content.

    Args:
        source_bucket: the inventoried bucket, for a GCS manifest that does not name it.

    Raises:
        ManifestInvalid: see :func:`~pail.services.inventory.manifest.parse_s3_manifest`
            and :func:`~pail.services.inventory.manifest.parse_gcs_manifest`; a missing
            ``manifest.checksum`` too. NotFound: no manifest at ``key``. StorageError: as
            the reads.
    """
    data = _read_small(driver, bucket, key)
    if is_gcs_manifest(key) or (
        posixpath.basename(key) != _S3_MANIFEST and b"report_shards_file_names" in data
    ):
        report = parse_gcs_manifest(
            data,
            bucket=bucket,
            key=key,
            shard_fields=_shard_fields(driver, bucket),
            source_bucket=source_bucket,
        )
        return Located(report, manifest_md5(data))
    folder = posixpath.dirname(key)
    checksum_key = f"{folder}/{_S3_CHECKSUM}" if folder else _S3_CHECKSUM
    try:
        checksum: bytes | None = _read_small(driver, bucket, checksum_key)
    except NotFound:
        checksum = None
    report = parse_s3_manifest(data, bucket=bucket, key=key, checksum=checksum)
    return Located(report, manifest_md5(data))


def read_manifest(
    driver: StorageDriver, bucket: str, key: str, *, source_bucket: str | None = None
) -> Report:
    """The :class:`Report` of the manifest at ``bucket``/``key`` (see :func:`load_manifest`,
    which also gives the manifest's MD5)."""
    return load_manifest(driver, bucket, key, source_bucket=source_bucket).report


# -- finding the newest complete report ------------------------------------------------------


@dataclass
class _Search:
    """What a search saw: for the messages."""

    listed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    folders: int = 0


def _level(driver: StorageDriver, bucket: str, prefix: str, search: _Search) -> Iterator[Entry]:
    search.folders += 1
    if search.folders > SEARCH_FOLDERS:
        raise NoInventory(
            f"more than {SEARCH_FOLDERS} folders below "
            f"{printable(f'{driver.provider}://{bucket}/{search.listed[0]}')} were searched "
            "without finding a report; give the report's folder or manifest"
        )
    for page in iter_pages(driver, bucket, prefix, delimiter="/"):
        yield from page.entries


def _uri(driver: StorageDriver, bucket: str, key: str) -> str:
    scheme = "gs" if driver.provider == "gcs" else driver.provider
    return f"{scheme}://{bucket}/{key}"


#: The time of a report folder whose name is not a time (a copy the user named).
_UNDATED = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class _Candidate:
    when: datetime
    folder: str  # S3: the report folder (ends with "/"); GCS: the manifest key
    source: str | None  # the source bucket its path names (S3), when it has that shape


def _s3_candidates(
    driver: StorageDriver, bucket: str, prefix: str, depth: int, search: _Search
) -> list[_Candidate]:
    """Report folders (``.../<source>/<config id>/<YYYY-MM-DDTHH-MMZ>/``) at or below
    ``prefix``, ``depth`` folder levels deep; ``data/`` and ``hive/`` are not entered."""
    name = posixpath.basename(prefix.rstrip("/"))
    when = s3_folder_time(name)
    if when is not None and prefix.endswith("/"):
        return [_Candidate(when, prefix, _source_of(prefix))]
    found: list[_Candidate] = []
    below: list[str] = []
    for entry in _level(driver, bucket, prefix, search):
        if not entry.is_prefix:
            if entry.key == prefix + _S3_MANIFEST:  # a report folder without a dated name
                found.append(_Candidate(_UNDATED, prefix, _source_of(prefix)))
            continue
        folder_time = s3_folder_time(posixpath.basename(entry.key.rstrip("/")))
        if folder_time is not None:
            found.append(_Candidate(folder_time, entry.key, _source_of(entry.key)))
        elif depth > 1 and not entry.key.endswith(_SKIPPED_FOLDERS):
            below.append(entry.key)
    for sub in below:
        found.extend(_s3_candidates(driver, bucket, sub, depth - 1, search))
    return found


def _source_of(folder: str) -> str | None:
    parts = folder.rstrip("/").split("/")
    return parts[-3] if len(parts) >= 3 else None


def _complete(driver: StorageDriver, bucket: str, folder: str) -> str | None:
    """``None`` when ``folder`` holds manifest.json and manifest.checksum, else what is
    missing."""
    names = {
        e.key[len(folder) :]
        for page in iter_pages(driver, bucket, folder, delimiter="/")
        for e in page.entries
        if not e.is_prefix
    }
    missing = [n for n in (_S3_MANIFEST, _S3_CHECKSUM) if n not in names]
    return " and ".join(missing) if missing else None


def _prefer_source(
    candidates: list[_Candidate], source_bucket: str | None, where: str, search: _Search
) -> list[_Candidate]:
    if source_bucket is None:
        return candidates
    own = [c for c in candidates if c.source == source_bucket]
    if own:
        return own
    others = sorted({c.source for c in candidates if c.source})
    if others:
        search.notes.append(
            f"no report of bucket {printable(source_bucket)} below {printable(where)}; "
            f"the reports there list {', '.join(printable(o) for o in others)}"
        )
    return candidates


def _newest_s3(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    source_bucket: str | None,
    search: _Search,
    depth: int,
) -> Located | None:
    search.listed.append(_uri(driver, bucket, prefix))
    where = _uri(driver, bucket, prefix)
    found = _s3_candidates(driver, bucket, prefix, depth, search)
    found = _prefer_source(found, source_bucket, where, search)
    for cand in sorted(found, key=lambda c: (c.when, c.folder), reverse=True):
        missing = _complete(driver, bucket, cand.folder)
        if missing is not None:
            search.notes.append(
                f"skipped {printable(_uri(driver, bucket, cand.folder))}: no {missing} "
                "(the report is incomplete, perhaps still being written)"
            )
            continue
        located = load_manifest(driver, bucket, cand.folder + _S3_MANIFEST)
        return Located(located.report, located.manifest_md5, tuple(search.notes))
    return None


def _gcs_candidates(
    driver: StorageDriver, bucket: str, prefix: str, depth: int, search: _Search
) -> list[_Candidate]:
    found: list[_Candidate] = []
    below: list[str] = []
    for entry in _level(driver, bucket, prefix, search):
        if entry.is_prefix:
            if depth > 1:
                below.append(entry.key)
            continue
        named = gcs_manifest_name(entry.key)
        if named is not None:
            found.append(_Candidate(named[1], entry.key, None))
    for sub in below:
        found.extend(_gcs_candidates(driver, bucket, sub, depth - 1, search))
    return found


def _newest_gcs(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    source_bucket: str | None,
    search: _Search,
    depth: int,
) -> Located | None:
    search.listed.append(_uri(driver, bucket, prefix))
    found = _gcs_candidates(driver, bucket, prefix, depth, search)
    first: Located | None = None
    for n, cand in enumerate(sorted(found, key=lambda c: (c.when, c.folder), reverse=True)):
        if n >= GCS_READS:
            break
        located = load_manifest(driver, bucket, cand.folder, source_bucket=source_bucket)
        if source_bucket is None or located.report.source_bucket == source_bucket:
            return Located(located.report, located.manifest_md5, tuple(search.notes))
        first = first or located
    if first is not None:
        search.notes.append(
            f"no report of bucket {printable(source_bucket)} below "
            f"{printable(_uri(driver, bucket, prefix))}; the newest there lists "
            f"{printable(first.report.source_bucket)}"
        )
        return Located(first.report, first.manifest_md5, tuple(search.notes))
    return None


def find_newest(
    driver: StorageDriver,
    where: InventoryConfig | str,
    *,
    source_bucket: str | None = None,
) -> Located:
    """The newest complete report of an S3 configuration, or at or below a prefix.

    Args:
        where: an :class:`InventoryConfig` (its ``<prefix>/<source>/<id>/`` folder is
            listed), or a URI ``s3://dest/prefix/`` / ``gs://dest/prefix/`` (searched
            :data:`SEARCH_DEPTH` folder levels deep: a report folder, a configuration's
            folder, or a folder above several).
        source_bucket: the inventoried bucket: below a shared prefix its reports are
            preferred (a note says when only other buckets' reports were there).

    Raises:
        NoInventory: no complete report (the message names the prefixes listed and the
            incomplete reports skipped). ManifestInvalid: the newest complete report's
            manifest fails its checksum or does not parse (an older report is not used in
            its place: give that report's manifest URI to open it). InventoryError: a URI
            for another kind of store than the driver's. StorageError: as the listings and
            reads (AccessDenied on a destination this connection may not read).
    """
    search = _Search()
    if isinstance(where, InventoryConfig):
        located = _newest_s3(
            driver, where.destination_bucket, where.reports_prefix, where.source_bucket, search, 1
        )
        if located is None:
            raise NoInventory(_nothing(search, f"configuration {printable(where.id)}"))
        return Located(located.report, located.manifest_md5, located.notes, where)
    bucket, prefix = _split(driver, where)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    newest = _newest_gcs if driver.provider == "gcs" else _newest_s3
    located = newest(driver, bucket, prefix, source_bucket, search, SEARCH_DEPTH)
    if located is None:
        raise NoInventory(_nothing(search, printable(where)))
    return located


def newest_report(
    driver: StorageDriver, where: InventoryConfig | str, *, source_bucket: str | None = None
) -> Report:
    """The :class:`Report` of :func:`find_newest` (same arguments and errors)."""
    return find_newest(driver, where, source_bucket=source_bucket).report


def _nothing(search: _Search, what: str) -> str:
    listed = ", ".join(printable(p) for p in search.listed) or "nothing"
    text = f"no complete inventory report for {what}: listed {listed}"
    if search.notes:
        text += "; " + "; ".join(search.notes)
    return text


def _split(driver: StorageDriver, uri: str) -> tuple[str, str]:
    """``(bucket, key)`` of an ``s3://`` / ``gs://`` URI for this driver's store."""
    try:
        loc = parse_uri(uri)
    except InvalidURI as exc:
        raise InventoryError(str(exc)) from None
    if loc.provider != driver.provider:
        raise InventoryError(
            f"{printable(uri)} is not on this connection's store ({driver.provider}): the "
            "connection that opens the bucket reads its inventory"
        )
    return loc.bucket, loc.key


def _is_manifest_key(key: str) -> bool:
    return posixpath.basename(key) == _S3_MANIFEST or is_gcs_manifest(key)


def locate(driver: StorageDriver, bucket: str, *, manifest: str | None = None) -> Located:
    """The report :func:`~pail.services.inventory.open.open_inventory` opens for ``bucket``.

    Args:
        manifest: ``None``: the bucket's inventory configurations (S3), the newest
            complete report of any of them. A manifest URI
            (``s3://dest/.../manifest.json``, ``gs://dest/.../ID_TIME_manifest.json``): that
            report. A prefix URI: the newest complete report at or below it
            (:func:`find_newest`). Text without a scheme is a key or prefix in ``bucket``.

    Raises:
        NoInventory: no configuration (or GCS / a local folder, which have no listable
            configurations, without ``manifest``), or no complete report; the message says
            what was looked at. ManifestInvalid, InventoryError, StorageError: as
            :func:`find_newest` and :func:`load_manifest`.
    """
    if manifest is not None:
        uri = manifest if "://" in manifest else _uri(driver, bucket, manifest.lstrip("/"))
        dest, key = _split(driver, uri)
        if _is_manifest_key(key):
            located = load_manifest(driver, dest, key, source_bucket=bucket)
            notes: tuple[str, ...] = ()
            if located.report.source_bucket != bucket:
                notes = (
                    f"the report lists bucket {printable(located.report.source_bucket)}, "
                    f"not {printable(bucket)}",
                )
            return Located(located.report, located.manifest_md5, notes)
        return find_newest(driver, uri, source_bucket=bucket)
    try:
        configs = configurations(driver, bucket)
    except NotSupported as exc:
        raise NoInventory(
            f"{printable(_uri(driver, bucket, ''))}: {exc.message}; give the manifest's URI "
            "or a prefix holding reports"
        ) from None
    if not configs:
        raise NoInventory(
            f"{printable(_uri(driver, bucket, ''))} has no inventory configuration "
            "(ListBucketInventoryConfigurations returned none); give a manifest's URI or a "
            "prefix holding reports"
        )
    search = _Search()
    best: Located | None = None
    for config in configs:
        found = _newest_s3(
            driver, config.destination_bucket, config.reports_prefix, bucket, search, 1
        )
        if found is not None and (best is None or found.report.created > best.report.created):
            best = Located(found.report, found.manifest_md5, (), config)
    if best is None:
        ids = ", ".join(printable(c.id) for c in configs)
        raise NoInventory(
            _nothing(search, f"{printable(_uri(driver, bucket, ''))} (configurations: {ids})")
        )
    return Located(best.report, best.manifest_md5, tuple(search.notes), best.config)
