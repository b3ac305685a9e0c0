"""Writers of inventory data files as the stores document them, from a list of rows.

For the inventory tests (query, open, demo): every writer takes the same rows and writes
them in one provider's format, returning the files and the column names *as the manifest
lists them* (what :class:`pail.services.inventory.model.Report` keeps in ``source_fields``).

* S3 Inventory (S3 User Guide, "Cataloging and analyzing your data with S3 Inventory",
  "Amazon S3 Inventory list"):

  - CSV: gzip'd, no header row, every value quoted, columns in the configuration's field
    order; the manifest's ``fileSchema`` is ``"Bucket, Key, Size, LastModifiedDate, ..."``.
    "When you're using the CSV file format, the key name is URL-encoded and must be
    decoded before you can use it": S3 form-encodes it (a space is ``+``, a ``+`` is
    ``%2B``, ``/`` stays), so :func:`urllib.parse.unquote_plus` / Athena's ``url_decode``
    give the key back. ``LastModifiedDate`` is ISO 8601 with milliseconds and ``Z``;
    ``ETag`` has no quotes; ``IsLatest``/``IsDeleteMarker`` are ``true``/``false``; a
    delete marker has empty ``Size``/``ETag``/``StorageClass``.
  - ORC: ``struct<bucket:string,key:string,version_id:string,is_latest:boolean,
    is_delete_marker:boolean,size:bigint,last_modified_date:timestamp,e_tag:string,
    storage_class:string,...>`` (the ``fileSchema``); keys not encoded.
  - Parquet: ``message s3.inventory { required binary bucket (STRING); required binary
    key (STRING); optional binary version_id (STRING); optional boolean is_latest; ...
    optional int64 size; optional int64 last_modified_date (TIMESTAMP(MILLIS,true));
    optional binary e_tag (STRING); optional binary storage_class (STRING); ...}``.

* GCS Storage Insights inventory reports (Cloud Storage docs, "Inventory reports"): CSV
  shards with a header row of the metadata field names, or Parquet shards; the field names
  are the object resource's (``bucket``, ``name``, ``size``, ``updated``, ``storageClass``,
  ``etag``, ``md5Hash``, ``crc32c``, ``generation``, ``timeCreated``); shard files are named
  ``<REPORT_CONFIG_ID>_<SNAPSHOT_TIME>_<SHARD>.csv`` / ``.parquet``.

Use::

    rows = [InvRow("a/b.txt", 10, datetime(2026, 1, 1, tzinfo=timezone.utc)), ...]
    written = write_s3_csv(rows, tmp_path / "data", fields=S3_FIELDS)
    written.paths          # [Path(.../data/<uuid>.csv.gz)]
    written.source_fields  # ("Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass")
    written.fields         # pail names: ("bucket", "key", "size", "last_modified", ...)
    written.file_schema    # the manifest's fileSchema string
"""

from __future__ import annotations

import csv
import gzip
import io
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import fields as dc_fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pyarrow as pa
import pyarrow.orc as pa_orc
import pyarrow.parquet as pq

__all__ = [
    "GCS_FIELDS",
    "S3_FIELDS",
    "S3_VERSIONED_FIELDS",
    "InvRow",
    "Written",
    "as_rows",
    "s3_csv_key",
    "write_gcs_csv",
    "write_gcs_parquet",
    "write_s3_csv",
    "write_s3_orc",
    "write_s3_parquet",
]

EMPTY_MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@dataclass(frozen=True)
class InvRow:
    """One row of a report (one object, or one version of one in a versioned report).

    ``last_modified`` is UTC (a naive value is taken as UTC); ``etag`` has no quotes;
    ``version_id`` is S3's version id (GCS: the generation, as a decimal string).
    """

    key: str
    size: int = 0
    last_modified: datetime = datetime(2026, 1, 1, tzinfo=timezone.utc)
    etag: str = EMPTY_MD5
    storage_class: str = "STANDARD"
    version_id: str | None = None
    is_latest: bool = True
    is_delete_marker: bool = False
    bucket: str = "src-bucket"
    md5: str | None = None  # GCS md5Hash, base64
    crc32c: str | None = None  # GCS crc32c, base64
    created: datetime | None = None  # GCS timeCreated


_ROW_FIELDS = {f.name for f in dc_fields(InvRow)}


def as_rows(rows: Iterable[InvRow | Mapping[str, Any]]) -> list[InvRow]:
    """Rows given as :class:`InvRow` or dicts with the same names, as ``InvRow``."""
    out: list[InvRow] = []
    for row in rows:
        if isinstance(row, InvRow):
            out.append(row)
        else:
            unknown = set(row) - _ROW_FIELDS
            if unknown:
                raise ValueError(f"unknown row fields: {sorted(unknown)}")
            out.append(InvRow(**row))
    return out


@dataclass(frozen=True)
class Written:
    """What a writer wrote: ``paths`` (data files, in order), ``fields`` (pail's names),
    ``source_fields`` (as the manifest lists them) and ``file_schema`` (S3 manifest
    ``fileSchema``; GCS: the field names joined by ``", "``)."""

    paths: list[Path]
    fields: tuple[str, ...]
    source_fields: tuple[str, ...]
    file_schema: str


#: The usual non-versioned S3 configuration (Size, LastModifiedDate, ETag, StorageClass).
S3_FIELDS = ("bucket", "key", "size", "last_modified", "etag", "storage_class")
#: ``IncludedObjectVersions=All``: VersionId, IsLatest, IsDeleteMarker follow Key.
S3_VERSIONED_FIELDS = (
    "bucket",
    "key",
    "version_id",
    "is_latest",
    "is_delete_marker",
    "size",
    "last_modified",
    "etag",
    "storage_class",
)
#: A GCS report's usual metadata fields (pail names).
GCS_FIELDS = (
    "bucket",
    "key",
    "size",
    "last_modified",
    "storage_class",
    "etag",
    "md5",
    "crc32c",
    "generation",
    "created",
)

# pail name -> (S3 CSV name, S3 ORC/Parquet name, arrow type)
_S3 = {
    "bucket": ("Bucket", "bucket", pa.string()),
    "key": ("Key", "key", pa.string()),
    "version_id": ("VersionId", "version_id", pa.string()),
    "is_latest": ("IsLatest", "is_latest", pa.bool_()),
    "is_delete_marker": ("IsDeleteMarker", "is_delete_marker", pa.bool_()),
    "size": ("Size", "size", pa.int64()),
    "last_modified": ("LastModifiedDate", "last_modified_date", None),
    "etag": ("ETag", "e_tag", pa.string()),
    "storage_class": ("StorageClass", "storage_class", pa.string()),
}
_ORC_TYPES = {"string": "string", "bool": "boolean", "int64": "bigint"}

# pail name -> (GCS name, arrow type)
_GCS = {
    "bucket": ("bucket", pa.string()),
    "key": ("name", pa.string()),
    "size": ("size", pa.int64()),
    "last_modified": ("updated", pa.timestamp("ms", tz="UTC")),
    "storage_class": ("storageClass", pa.string()),
    "etag": ("etag", pa.string()),
    "md5": ("md5Hash", pa.string()),
    "crc32c": ("crc32c", pa.string()),
    "generation": ("generation", pa.int64()),
    "created": ("timeCreated", pa.timestamp("ms", tz="UTC")),
}


def _utc(value: datetime) -> datetime:
    return (
        value.replace(tzinfo=timezone.utc)
        if value.tzinfo is None
        else value.astimezone(timezone.utc)
    )


def _iso_ms(value: datetime) -> str:
    """``2026-01-01T10:00:00.000Z`` (S3 CSV LastModifiedDate, GCS CSV timestamps)."""
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%S.") + f"{_utc(value).microsecond // 1000:03d}Z"


def s3_csv_key(key: str) -> str:
    """A key as S3 Inventory writes it in CSV: form URL-encoded (space ``+``, ``/`` kept)."""
    return quote_plus(key, safe="/")


def _value(row: InvRow, name: str) -> Any:
    if name == "generation":
        if row.version_id is not None and not row.version_id.isdigit():
            raise ValueError(f"a GCS generation is a decimal number: {row.version_id!r}")
        return int(row.version_id) if row.version_id is not None else None
    if name in ("size", "etag", "storage_class") and row.is_delete_marker:
        return None  # a delete marker has no size, ETag or class (S3 inventory list)
    if name == "last_modified":
        return _utc(row.last_modified)
    if name == "created":
        return _utc(row.created or row.last_modified)
    return getattr(row, name)


def _split(rows: list[InvRow], shards: int) -> list[list[InvRow]]:
    shards = max(1, shards)
    step = max(1, -(-len(rows) // shards))
    parts = [rows[i : i + step] for i in range(0, len(rows), step)] or [[]]
    return parts


def _check(fields: Sequence[str], known: Mapping[str, Any]) -> None:
    unknown = [f for f in fields if f not in known]
    if unknown or "key" not in fields:
        raise ValueError(f"fields must include key and be among {sorted(known)}: {unknown}")


def write_s3_csv(
    rows: Iterable[InvRow | Mapping[str, Any]],
    out_dir: Path,
    *,
    fields: Sequence[str] = S3_FIELDS,
    files: int = 1,
) -> Written:
    """S3 Inventory CSV: ``<out_dir>/<uuid>.csv.gz`` files (``files`` of them), gzip'd, no
    header, every value quoted, keys form URL-encoded, times ``...T..:..:..mmmZ``."""
    _check(fields, _S3)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for part in _split(as_rows(rows), files):
        buf = io.StringIO()
        writer = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row in part:
            out: list[str] = []
            for name in fields:
                value = _value(row, name)
                if value is None:
                    out.append("")
                elif name == "key":
                    out.append(s3_csv_key(value))
                elif name == "last_modified":
                    out.append(_iso_ms(value))
                elif isinstance(value, bool):
                    out.append("true" if value else "false")
                else:
                    out.append(str(value))
            writer.writerow(out)
        path = out_dir / f"{uuid.uuid4()}.csv.gz"
        path.write_bytes(gzip.compress(buf.getvalue().encode("utf-8")))
        paths.append(path)
    source = tuple(_S3[f][0] for f in fields)
    return Written(paths, tuple(fields), source, ", ".join(source))


def _s3_table(part: list[InvRow], fields: Sequence[str], ts: pa.DataType) -> pa.Table:
    columns = {}
    for name in fields:
        typ = _S3[name][2] or ts
        columns[_S3[name][1]] = pa.array([_value(r, name) for r in part], type=typ)
    return pa.table(columns)


def write_s3_orc(
    rows: Iterable[InvRow | Mapping[str, Any]],
    out_dir: Path,
    *,
    fields: Sequence[str] = S3_FIELDS,
    files: int = 1,
) -> Written:
    """S3 Inventory ORC: ``<out_dir>/<uuid>.orc`` files; ``last_modified_date`` an ORC
    ``timestamp`` (UTC wall time), keys as they are."""
    _check(fields, _S3)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    rows = as_rows(rows)
    for part in _split(rows, files):
        naive = [
            InvRow(**{**r.__dict__, "last_modified": _utc(r.last_modified).replace(tzinfo=None)})
            for r in part
        ]
        table = _s3_table(naive, fields, pa.timestamp("ms"))
        path = out_dir / f"{uuid.uuid4()}.orc"
        pa_orc.write_table(table, str(path))
        paths.append(path)
    source = tuple(_S3[f][1] for f in fields)
    parts = []
    for name in fields:
        typ = _S3[name][2]
        parts.append(f"{_S3[name][1]}:{'timestamp' if typ is None else _ORC_TYPES[str(typ)]}")
    return Written(paths, tuple(fields), source, "struct<" + ",".join(parts) + ">")


def write_s3_parquet(
    rows: Iterable[InvRow | Mapping[str, Any]],
    out_dir: Path,
    *,
    fields: Sequence[str] = S3_FIELDS,
    files: int = 1,
    row_group_size: int | None = None,
) -> Written:
    """S3 Inventory Parquet: ``<out_dir>/<uuid>.parquet`` files; ``last_modified_date``
    ``TIMESTAMP(MILLIS, UTC)``, keys as they are."""
    _check(fields, _S3)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for part in _split(as_rows(rows), files):
        table = _s3_table(part, fields, pa.timestamp("ms", tz="UTC"))
        path = out_dir / f"{uuid.uuid4()}.parquet"
        pq.write_table(table, path, row_group_size=row_group_size)
        paths.append(path)
    source = tuple(_S3[f][1] for f in fields)
    lines = []
    for name in fields:
        col = _S3[name][1]
        req = "required" if name in ("bucket", "key") else "optional"
        typ = _S3[name][2]
        if typ is None:
            lines.append(f"{req} int64 {col} (TIMESTAMP(MILLIS,true));")
        elif typ == pa.string():
            lines.append(f"{req} binary {col} (STRING);")
        elif typ == pa.bool_():
            lines.append(f"{req} boolean {col};")
        else:
            lines.append(f"{req} int64 {col};")
    return Written(paths, tuple(fields), source, "message s3.inventory { " + " ".join(lines) + "}")


def _gcs_names(report_config_id: str, snapshot: datetime, shards: int, ext: str) -> list[str]:
    stamp = _utc(snapshot).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [f"{report_config_id}_{stamp}_{i}.{ext}" for i in range(shards)]


def write_gcs_csv(
    rows: Iterable[InvRow | Mapping[str, Any]],
    out_dir: Path,
    *,
    fields: Sequence[str] = GCS_FIELDS,
    files: int = 1,
    report_config_id: str = "cfg-1",
    snapshot: datetime = datetime(2026, 1, 2, tzinfo=timezone.utc),
) -> Written:
    """GCS inventory CSV shards: a header row of GCS field names, ``,`` separated, ``\\n``
    lines, timestamps RFC 3339 UTC (``...mmmZ``), keys as they are (quoted when needed)."""
    _check(fields, _GCS)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = _split(as_rows(rows), files)
    names = _gcs_names(report_config_id, snapshot, len(parts), "csv")
    source = tuple(_GCS[f][0] for f in fields)
    paths: list[Path] = []
    for part, name in zip(parts, names, strict=True):
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(source)
        for row in part:
            out = []
            for f in fields:
                value = _value(row, f)
                out.append(
                    ""
                    if value is None
                    else _iso_ms(value)
                    if isinstance(value, datetime)
                    else str(value)
                )
            writer.writerow(out)
        path = out_dir / name
        path.write_text(buf.getvalue(), encoding="utf-8")
        paths.append(path)
    return Written(paths, tuple(fields), source, ", ".join(source))


def write_gcs_parquet(
    rows: Iterable[InvRow | Mapping[str, Any]],
    out_dir: Path,
    *,
    fields: Sequence[str] = GCS_FIELDS,
    files: int = 1,
    report_config_id: str = "cfg-1",
    snapshot: datetime = datetime(2026, 1, 2, tzinfo=timezone.utc),
) -> Written:
    """GCS inventory Parquet shards with GCS field names; timestamps UTC (millis)."""
    _check(fields, _GCS)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = _split(as_rows(rows), files)
    names = _gcs_names(report_config_id, snapshot, len(parts), "parquet")
    source = tuple(_GCS[f][0] for f in fields)
    paths: list[Path] = []
    for part, name in zip(parts, names, strict=True):
        table = pa.table(
            {_GCS[f][0]: pa.array([_value(r, f) for r in part], type=_GCS[f][1]) for f in fields}
        )
        path = out_dir / name
        pq.write_table(table, path)
        paths.append(path)
    return Written(paths, tuple(fields), source, ", ".join(source))
