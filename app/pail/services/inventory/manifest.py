"""Reading and verifying inventory manifests (no I/O here: bytes in, a Report out).

S3 Inventory (S3 User Guide, "Locating your inventory list" and "Inventory manifest"):
``manifest.json`` next to ``manifest.checksum`` (the hex MD5 of ``manifest.json``)::

    {"sourceBucket": "src", "destinationBucket": "arn:aws:s3:::dest",
     "version": "2016-11-30", "creationTimestamp": "1514944800000",
     "fileFormat": "CSV",
     "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag, StorageClass",
     "files": [{"key": "inv/src/cfg/data/1.csv.gz", "size": 2147, "MD5checksum": "f111..."}]}

``creationTimestamp`` is milliseconds since the epoch (a string); ``fileFormat`` is ``CSV``,
``ORC`` or ``Parquet``; ``fileSchema`` lists the data files' columns: for CSV a comma
separated list of names, for ORC ``struct<bucket:string,key:string,...>``, for Parquet
``message s3.inventory { required binary bucket (STRING); ... }``. pail never uses a
manifest whose checksum is missing or does not match (:func:`verify_checksum`): a report
that cannot be proven complete and unaltered is refused, not guessed at.

GCS Storage Insights inventory reports (Cloud Storage docs, "Inventory reports"):
``<REPORT_CONFIG_ID>_<SNAPSHOT_TIME>_manifest.json`` beside the shards it names::

    {"report_config": {..., "object_metadata_report_options": {"metadata_fields": [...],
        "storage_filters": {"bucket": "src"}, ...}, "name": "projects/.../reportConfigs/ID"},
     "records_processed": 1500, "snapshot_time": "2026-11-28T02:00:00Z", "shard_count": 1,
     "report_shards_file_names": ["ID_2026-11-28T02:00_0.csv"]}

GCS writes no checksum of its manifest. Its shards are proven instead by the store's own
checksum of each object (CRC32C / MD5 from ``objects.get``), which pail's download engine
checks on every download (:mod:`pail.services.inventory.fetch`); the manifest itself is
only trusted as far as its shard count matches the names it lists.

Field names are normalised to :data:`pail.services.inventory.model.FIELD_NAMES` (S3 CSV
``LastModifiedDate``, ORC/Parquet ``last_modified_date`` and GCS ``updated`` are all
``last_modified``); a field pail does not know is kept in snake case
(``IsMultipartUploaded`` -> ``is_multipart_uploaded``, GCS ``contentType`` ->
``content_type``), so every format spells it the same way.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from pail.core.text import printable
from pail.services.inventory.model import InventoryFormat, ManifestInvalid, Report, ReportFile

__all__ = [
    "GCS_MANIFEST",
    "S3_FOLDER",
    "field_name",
    "gcs_field_name",
    "gcs_manifest_name",
    "is_gcs_manifest",
    "manifest_md5",
    "parse_gcs_manifest",
    "parse_s3_manifest",
    "s3_folder_time",
    "schema_fields",
    "verify_checksum",
]

#: An S3 report's folder name: ``YYYY-MM-DDTHH-MMZ`` (S3 User Guide, "Locating your
#: inventory list": the time the report's scan began, UTC).
S3_FOLDER = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})Z$")
#: A GCS manifest's file name: ``<REPORT_CONFIG_ID>_<SNAPSHOT_TIME>_manifest.json``; the
#: snapshot time is written ``YYYY-MM-DDTHH:MM`` (seconds and a zone accepted too).
GCS_MANIFEST = re.compile(
    r"^(?P<config>.+)_(?P<time>\d{4}-\d{2}-\d{2}T\d{2}[:-]\d{2}(?:[:-]\d{2}(?:\.\d+)?)?Z?)"
    r"_manifest\.json$"
)

_MD5_HEX = re.compile(r"^[0-9a-fA-F]{32}$")
_MULTIPART_ETAG = re.compile(r"^[0-9a-fA-F]{32}-\d+$")

# S3 field spellings (CSV ``LastModifiedDate``, ORC/Parquet ``last_modified_date``, the
# Parquet/ORC ETag ``e_tag``), compared without case or underscores.
_S3_FIELDS = {
    "bucket": "bucket",
    "key": "key",
    "versionid": "version_id",
    "islatest": "is_latest",
    "isdeletemarker": "is_delete_marker",
    "size": "size",
    "lastmodifieddate": "last_modified",
    "lastmodified": "last_modified",
    "etag": "etag",
    "storageclass": "storage_class",
}
# GCS object metadata field names (JSON API ``objects`` resource) as inventory reports
# spell them in ``metadata_fields``, CSV headers and Parquet columns.
_GCS_FIELDS = {
    "bucket": "bucket",
    "name": "key",
    "size": "size",
    "updated": "last_modified",
    "storageclass": "storage_class",
    "etag": "etag",
    "md5hash": "md5",
    "crc32c": "crc32c",
    "generation": "generation",
    "timecreated": "created",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _snake(name: str) -> str:
    return _CAMEL.sub("_", name.strip()).lower()


def field_name(source: str) -> str:
    """pail's name for an S3 Inventory field as a manifest's ``fileSchema`` spells it:
    ``"LastModifiedDate"``/``"last_modified_date"`` -> ``"last_modified"``, ``"ETag"``/
    ``"e_tag"`` -> ``"etag"``; an unknown field in snake case (``"IsMultipartUploaded"``
    -> ``"is_multipart_uploaded"``)."""
    known = _S3_FIELDS.get(source.strip().replace("_", "").lower())
    return known or _snake(source)


def gcs_field_name(source: str) -> str:
    """pail's name for a GCS inventory field (``"name"`` -> ``"key"``, ``"updated"`` ->
    ``"last_modified"``, ``"md5Hash"`` -> ``"md5"``, ``"timeCreated"`` -> ``"created"``);
    an unknown field in snake case (``"contentType"`` -> ``"content_type"``)."""
    known = _GCS_FIELDS.get(source.strip().replace("_", "").lower())
    return known or _snake(source)


# -- checksums ---------------------------------------------------------------------------


def manifest_md5(data: bytes) -> str:
    """Hex MD5 of the manifest's bytes, as ``manifest.checksum`` holds it."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def verify_checksum(data: bytes, checksum: bytes | None, *, where: str) -> str:
    """Check an S3 ``manifest.json`` against its ``manifest.checksum`` and return the MD5.

    Args:
        data: the bytes of ``manifest.json``, exactly as stored.
        checksum: the bytes of ``manifest.checksum`` (hex MD5; surrounding whitespace and a
            trailing newline are allowed), or ``None`` when it is missing.
        where: the manifest's URI, for the message.

    Raises:
        ManifestInvalid: the checksum is missing, is not a hex MD5, or differs. The
            manifest is never used then (fail closed: a report that cannot be proven
            whole is refused).
    """
    uri = printable(where)
    if checksum is None:
        raise ManifestInvalid(f"{uri}: manifest.checksum is missing; the manifest is not used")
    try:
        want = checksum.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        want = ""
    if not _MD5_HEX.match(want):
        raise ManifestInvalid(f"{uri}: manifest.checksum is not an MD5 (32 hex digits)")
    got = manifest_md5(data)
    if got != want:
        raise ManifestInvalid(
            f"{uri}: checksum mismatch (manifest.checksum says {want}, manifest.json has "
            f"MD5 {got}); the manifest is not used"
        )
    return got


# -- S3 ----------------------------------------------------------------------------------


def _split_top(text: str) -> list[str]:
    """``text`` split at commas outside ``<...>`` (ORC struct members may nest)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


_PARQUET_FIELD = re.compile(
    r"^(?:required|optional|repeated)\s+\w+\s+(?P<name>[^\s(;]+)(?:\s*\(.*\))?$"
)


def schema_fields(file_format: InventoryFormat, schema: str) -> tuple[str, ...]:
    """The column names of a manifest's ``fileSchema``, in order, as spelled there.

    CSV: ``"Bucket, Key, Size"``; ORC: ``"struct<bucket:string,key:string>"``; Parquet:
    ``"message s3.inventory { required binary bucket (STRING); ... }"``.

    Raises:
        ValueError: the schema does not have that shape (the message says what is wrong).
    """
    text = schema.strip()
    if file_format == "CSV":
        names = [n.strip() for n in text.split(",")]
        if not all(names):
            raise ValueError("an empty name in the CSV fileSchema")
        return tuple(names)
    if file_format == "ORC":
        if not (text.lower().startswith("struct<") and text.endswith(">")):
            raise ValueError("the ORC fileSchema is not struct<...>")
        out = []
        for member in _split_top(text[len("struct<") : -1]):
            name, colon, _type = member.partition(":")
            if not colon or not name.strip():
                raise ValueError(f"ORC member {member!r} is not name:type")
            out.append(name.strip())
        return tuple(out)
    start, end = text.find("{"), text.rfind("}")
    if not text.startswith("message") or start < 0 or end < start:
        raise ValueError("the Parquet fileSchema is not 'message NAME { ... }'")
    out = []
    for member in text[start + 1 : end].split(";"):
        member = " ".join(member.split())
        if not member:
            continue
        found = _PARQUET_FIELD.match(member)
        if found is None:
            raise ValueError(f"Parquet field {member!r} is not 'repetition type name'")
        out.append(found.group("name"))
    return tuple(out)


_FORMATS: dict[str, InventoryFormat] = {"csv": "CSV", "orc": "ORC", "parquet": "Parquet"}


def s3_folder_time(name: str) -> datetime | None:
    """The UTC time of an S3 report folder named ``YYYY-MM-DDTHH-MMZ``, else ``None``."""
    found = S3_FOLDER.match(name)
    if found is None:
        return None
    year, month, day, hour, minute = (int(g) for g in found.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)
    except ValueError:  # 2026-13-40T...: the shape, not a time
        return None


def _bucket_from_arn(value: Any) -> str | None:
    """``arn:aws:s3:::name`` (any partition) -> ``name``."""
    if not isinstance(value, str):
        return None
    found = re.match(r"^arn:[^:]+:s3:::([^/]+)$", value.strip())
    return found.group(1) if found else None


def _config_id_from_key(key: str, source_bucket: str) -> str | None:
    """``<prefix>/<source>/<config-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json`` -> config id."""
    parts = key.split("/")
    if len(parts) >= 4 and s3_folder_time(parts[-2]) and parts[-4] == source_bucket:
        return parts[-3]
    return None


def _invalid(uri: str, why: str) -> ManifestInvalid:
    return ManifestInvalid(f"{printable(uri)}: {why}")


def _s3_files(raw: Any, uri: str) -> tuple[ReportFile, ...]:
    if not isinstance(raw, list) or not raw:
        raise _invalid(uri, "'files' is missing or empty")
    files, seen = [], set()
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("key"), str):
            raise _invalid(uri, "a 'files' entry has no key")
        key = item["key"]
        if not key or key in seen:
            raise _invalid(uri, f"data file key {printable(key)!s} is empty or listed twice")
        seen.add(key)
        size = item.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise _invalid(uri, f"data file {printable(key)}: 'size' is not a byte count")
        md5 = item.get("MD5checksum")
        if not isinstance(md5, str) or not (_MD5_HEX.match(md5) or _MULTIPART_ETAG.match(md5)):
            raise _invalid(uri, f"data file {printable(key)}: 'MD5checksum' is not an MD5")
        files.append(ReportFile(key, size, md5.lower()))
    return tuple(files)


def parse_s3_manifest(data: bytes, *, bucket: str, key: str, checksum: bytes | None) -> Report:
    """An S3 Inventory ``manifest.json`` as a :class:`Report`, after its checksum.

    Args:
        data: the manifest's bytes. checksum: ``manifest.checksum``'s bytes (``None`` when
            the object is missing: refused).
        bucket / key: where the manifest was read. ``bucket`` becomes the report's
            destination bucket: the data files are read next to the manifest, never from a
            bucket the manifest names elsewhere (its ``destinationBucket`` must be an S3
            ARN but may differ when reports were copied).

    Returns:
        the report; ``fields`` normalised (:func:`field_name`), ``source_fields`` as the
        manifest spells them, ``created`` from ``creationTimestamp`` (UTC), ``config_id``
        from the key's ``<source>/<config-id>/<timestamp>/`` folders when it has that
        shape, ``versions`` when the schema has ``VersionId``/``IsLatest``.

    Raises:
        ManifestInvalid: the checksum (see :func:`verify_checksum`), JSON that does not
            parse, a required field missing or malformed, a schema without ``Key``.
    """
    uri = f"s3://{bucket}/{key}"
    verify_checksum(data, checksum, where=uri)
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(uri, f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise _invalid(uri, "not a JSON object")
    source = doc.get("sourceBucket")
    if not isinstance(source, str) or not source:
        raise _invalid(uri, "'sourceBucket' is missing")
    if _bucket_from_arn(doc.get("destinationBucket")) is None:
        raise _invalid(uri, "'destinationBucket' is not an S3 bucket ARN (arn:aws:s3:::name)")
    stamp = doc.get("creationTimestamp")
    if isinstance(stamp, bool) or not (
        isinstance(stamp, int) or (isinstance(stamp, str) and stamp.strip().isdigit())
    ):
        raise _invalid(uri, "'creationTimestamp' is not milliseconds since the epoch")
    try:
        created = datetime.fromtimestamp(int(stamp) / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise _invalid(uri, "'creationTimestamp' is out of range") from None
    fmt = _FORMATS.get(str(doc.get("fileFormat", "")).strip().lower())
    if fmt is None:
        raise _invalid(uri, "'fileFormat' is not CSV, ORC or Parquet")
    schema = doc.get("fileSchema")
    if not isinstance(schema, str):
        raise _invalid(uri, "'fileSchema' is missing")
    try:
        source_fields = schema_fields(fmt, schema)
    except ValueError as exc:
        raise _invalid(uri, f"'fileSchema': {printable(exc)}") from None
    fields = tuple(field_name(name) for name in source_fields)
    if "key" not in fields:
        raise _invalid(uri, "'fileSchema' has no Key field")
    if len(set(fields)) != len(fields):
        raise _invalid(uri, "'fileSchema' names a field twice")
    return Report(
        provider="s3",
        source_bucket=source,
        destination_bucket=bucket,
        manifest_key=key,
        created=created,
        format=fmt,
        fields=fields,
        source_fields=source_fields,
        files=_s3_files(doc.get("files"), uri),
        config_id=_config_id_from_key(key, source),
        versions="version_id" in fields or "is_latest" in fields,
    )


# -- GCS ---------------------------------------------------------------------------------


def _gcs_time(text: str) -> datetime | None:
    """``2026-11-28T02:00:00Z`` / ``2026-11-28T02:00`` / ``...T02-00`` (file names) -> UTC."""
    value = text.strip()
    found = re.match(
        r"^(\d{4}-\d{2}-\d{2})T(\d{2})[:-](\d{2})(?:[:-](\d{2}(?:\.\d+)?))?(.*)$", value
    )
    if found is None:
        return None
    day, hour, minute, second, zone = found.groups()
    iso = f"{day}T{hour}:{minute}:{second or '00'}"
    zone = zone.strip()
    if zone in ("", "Z", "z"):
        zone = "+00:00"
    try:
        when = datetime.fromisoformat(iso + zone)
    except ValueError:
        return None
    return when.astimezone(timezone.utc)


def is_gcs_manifest(name: str) -> bool:
    """``True`` for a GCS manifest's file name (``<ID>_<SNAPSHOT_TIME>_manifest.json``)."""
    return GCS_MANIFEST.match(posixpath.basename(name)) is not None


def gcs_manifest_name(name: str) -> tuple[str, datetime] | None:
    """``(report config id, snapshot time UTC)`` from a GCS manifest's file name, else
    ``None``."""
    found = GCS_MANIFEST.match(posixpath.basename(name))
    if found is None:
        return None
    when = _gcs_time(found.group("time"))
    return (found.group("config"), when) if when is not None else None


def _pick(mapping: Any, *names: str) -> Any:
    """The first of ``names`` (snake_case or camelCase spellings) present in ``mapping``."""
    if not isinstance(mapping, Mapping):
        return None
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def _gcs_shards(raw: Any, bucket: str, folder: str, uri: str) -> tuple[ReportFile, ...]:
    if not isinstance(raw, list) or not raw:
        raise _invalid(uri, "'report_shards_file_names' is missing or empty")
    files, seen = [], set()
    for item in raw:
        if not isinstance(item, str) or not item.strip():
            raise _invalid(uri, "a shard name is empty")
        if item.startswith("gs://"):
            shard_bucket, _, key = item[len("gs://") :].partition("/")
            if shard_bucket != bucket or not key:
                raise _invalid(uri, f"shard {printable(item)} is not in gs://{printable(bucket)}")
        else:  # a file name beside the manifest (the documented form)
            key = f"{folder}/{item}" if folder else item
        if key in seen:
            raise _invalid(uri, f"shard {printable(item)} is listed twice")
        seen.add(key)
        files.append(ReportFile(key))
    return tuple(files)


def _gcs_format(report_config: Any, files: Sequence[ReportFile], uri: str) -> InventoryFormat:
    kinds = set()
    for f in files:
        name = f.key.lower()
        if name.endswith(".parquet"):
            kinds.add("Parquet")
        elif name.endswith((".csv", ".csv.gz")):
            kinds.add("CSV")
    if len(kinds) > 1:
        raise _invalid(uri, "the shards mix CSV and Parquet")
    if kinds:
        return "Parquet" if "Parquet" in kinds else "CSV"
    if _pick(report_config, "parquet_options", "parquetOptions") is not None:
        return "Parquet"
    if _pick(report_config, "csv_options", "csvOptions") is not None:
        return "CSV"
    raise _invalid(uri, "the shards' format (CSV or Parquet) cannot be told")


def parse_gcs_manifest(
    data: bytes,
    *,
    bucket: str,
    key: str,
    shard_fields: Callable[[ReportFile, InventoryFormat], Sequence[str]] | None = None,
    source_bucket: str | None = None,
) -> Report:
    """A GCS Storage Insights inventory manifest as a :class:`Report`.

    GCS writes no manifest checksum: this checks the shard count against the names listed
    and leaves the shards' bytes to the store's own checksums at download
    (:mod:`pail.services.inventory.fetch`).

    Args:
        data: the manifest's bytes. bucket / key: where it was read (the shards are read
            from the same bucket, beside it).
        shard_fields: ``(first shard, format) -> column names`` (its CSV header row, its
            Parquet schema), called only when the manifest's report config does not list
            ``metadata_fields``; what it raises passes through.
        source_bucket: the inventoried bucket when the manifest does not name it
            (``storage_filters.bucket``).

    Raises:
        ManifestInvalid: not JSON, no shards, a shard count that differs from the names,
            no snapshot time, no fields or no ``name`` field, no source bucket.
    """
    uri = f"gs://{bucket}/{key}"
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _invalid(uri, f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict):
        raise _invalid(uri, "not a JSON object")
    config = _pick(doc, "report_config", "reportConfig")
    options = _pick(config, "object_metadata_report_options", "objectMetadataReportOptions")
    folder = posixpath.dirname(key)
    files = _gcs_shards(
        _pick(doc, "report_shards_file_names", "reportShardsFileNames"), bucket, folder, uri
    )
    count = _pick(doc, "shard_count", "shardCount")
    if count is not None and (isinstance(count, bool) or count != len(files)):
        raise _invalid(uri, f"shard_count is {printable(count)} but {len(files)} are named")
    from_name = gcs_manifest_name(key)
    snapshot = _pick(doc, "snapshot_time", "snapshotTime")
    created = _gcs_time(snapshot) if isinstance(snapshot, str) else None
    if created is None and from_name is not None:
        created = from_name[1]
    if created is None:
        raise _invalid(uri, "'snapshot_time' is missing or not a time")
    fmt = _gcs_format(config, files, uri)
    listed = _pick(options, "metadata_fields", "metadataFields")
    if isinstance(listed, list) and listed and all(isinstance(f, str) for f in listed):
        source_fields = tuple(listed)
    elif shard_fields is not None:
        source_fields = tuple(shard_fields(files[0], fmt))
    else:
        source_fields = ()
    if not source_fields:
        raise _invalid(uri, "the report's metadata fields are not known")
    names = tuple(gcs_field_name(f) for f in source_fields)
    if "key" not in names:
        raise _invalid(uri, "the report has no 'name' field")
    filters = _pick(options, "storage_filters", "storageFilters")
    source = _pick(filters, "bucket") or source_bucket
    if not isinstance(source, str) or not source:
        raise _invalid(uri, "the inventoried bucket is not named")
    config_name = _pick(config, "name")
    config_id = from_name[0] if from_name else None
    if isinstance(config_name, str) and "/reportConfigs/" in config_name:
        config_id = config_name.rsplit("/", 1)[-1]
    rows = _pick(doc, "records_processed", "recordsProcessed")
    return Report(
        provider="gcs",
        source_bucket=source,
        destination_bucket=bucket,
        manifest_key=key,
        created=created,
        format=fmt,
        fields=names,
        source_fields=source_fields,
        files=files,
        config_id=config_id,
        versions=False,
        rows=rows if isinstance(rows, int) and not isinstance(rows, bool) else None,
    )
