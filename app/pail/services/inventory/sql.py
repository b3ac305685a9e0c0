"""The inventory questions as SQL, for where the data lives: Athena (Presto/Trino SQL) over
an S3 Inventory table, BigQuery (GoogleSQL) over a GCS Storage Insights inventory.

When a report is too big for one machine, the same questions the in-process queries
answer (:mod:`pail.services.inventory.query`: a level, ``du``, search, ages, storage
classes, a stale selection) can run on the store's own query service. This module writes
that SQL, reads the rows back into the same result types (:mod:`.model`), and runs it on
Athena with the user's go-ahead (:func:`run_athena`; the front-ends ask first, since
Athena bills the data a query scans). BigQuery SQL is printed only: no BigQuery client is
a dependency of pail (see :func:`bigquery_table`).

The tables, as the stores document them:

* **Athena** ("Querying Amazon S3 Inventory with Amazon Athena", S3 User Guide): a
  ``CREATE EXTERNAL TABLE`` with the report's fields (documented names and types; CSV
  declares ``size`` and the dates as strings), ``PARTITIONED BY (dt string)``, the SerDe of
  the report's format (``OrcSerde``, ``ParquetHiveSerDe``, ``OpenCSVSerde``) over
  ``SymlinkTextInputFormat``, ``LOCATION`` the configuration's ``hive/`` folder (S3 writes
  ``<dest prefix>/<source bucket>/<config id>/hive/dt=YYYY-MM-DD-HH-MM/symlink.txt`` beside
  each report, "Locating your inventory list"), then ``MSCK REPAIR TABLE`` to load the
  partitions. Every query reads one report: ``dt = 'YYYY-MM-DD-HH-MM'``. CSV keys are
  URL-encoded ("the key name is URL-encoded and must be decoded"): ``url_decode(key)``;
  CSV dates are ISO 8601 text: ``from_iso8601_timestamp(last_modified_date)``.
* **BigQuery** (Cloud Storage docs, "Inventory reports"; BigQuery docs, "Create Cloud
  Storage external tables"): ``CREATE EXTERNAL TABLE`` with ``format = 'CSV'`` (the
  shards' header row skipped: ``skip_leading_rows = 1``, columns declared in the shards'
  order) or ``'PARQUET'`` (schema from the files), ``uris`` the report's shards
  ``gs://dest/<prefix>/<config>_<snapshot>_*.csv`` (the wildcard stops at the extension so
  the report's ``..._manifest.json`` beside them is not read as data). Columns keep GCS's
  names (``name``, ``size``, ``updated``, ``storageClass``, ``etag``, ``generation``).

Quoting: every value that comes from a user or a report (prefixes, search text, globs,
regexes, locations, partition values) is a SQL string literal, never spliced: Athena's
with single quotes doubled and each character that is not printable written as
``chr(N)`` (so a printed statement is terminal-safe and one key with a newline stays one
value); BigQuery's with backslash escapes. ``LIKE`` patterns escape ``%``, ``_`` and the
escape character, with ``ESCAPE '\\'`` (Athena). Identifiers are quoted (Athena ``"x"``
in queries and ```x``` in DDL; BigQuery ```x```) and checked against the catalog's rules.

What SQL here cannot ask is refused with the reason (:class:`SqlRefused`): the run rules
of a stale filter (keep the last/best N runs, kept tags or names) need the runs detected
from the keys and their metadata files, which SQL over the report cannot read; a regex
using constructs whose meaning differs between Python's ``re`` and Java's/RE2's engines.

Globs follow :func:`fnmatch.fnmatchcase` (``*`` also matches ``/``), regexes
:func:`re.search` on the key relative to the prefix (as :mod:`pail.services.delete.filters`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Generic, Literal, TypeVar

from pail.drivers.base import Entry
from pail.drivers.errors import NotSupported
from pail.services.delete.filters import StaleFilters
from pail.services.inventory.model import (
    AgeBucket,
    ClassShare,
    InventoryError,
    Level,
    LevelRow,
    Report,
    SearchQuery,
    SearchResult,
    Usage,
)
from pail.services.inventory.query import DEFAULT_AGE_EDGES, UNKNOWN_CLASS

__all__ = [
    "DEFAULT_AGE_EDGES",
    "DEFAULT_DATABASE",
    "UNKNOWN_CLASS",
    "Dialect",
    "InventoryTable",
    "SqlQuery",
    "SqlRefused",
    "age_label",
    "ages_sql",
    "athena_table",
    "bigquery_table",
    "classes_sql",
    "du_sql",
    "inventory_table",
    "level_sql",
    "run_athena",
    "search_sql",
    "stale_sql",
]

Dialect = Literal["athena", "bigquery"]
T = TypeVar("T")

#: The Athena database (BigQuery dataset) pail's tables go in unless told otherwise.
DEFAULT_DATABASE = "pail_inventory"


class SqlRefused(InventoryError):
    """pail will not write this as SQL (a question SQL over the report cannot answer the
    way pail does, or a name or value the service cannot take safely); ``str()`` says why
    in one plain line."""


# -- the tables ---------------------------------------------------------------------------

# S3 Inventory fields: CSV fileSchema name -> (Athena column, ORC/Parquet type, CSV type),
# from "Querying Amazon S3 Inventory with Amazon Athena" (S3 User Guide).
_S3_COLUMNS: dict[str, tuple[str, str, str]] = {
    "Bucket": ("bucket", "string", "string"),
    "Key": ("key", "string", "string"),
    "VersionId": ("version_id", "string", "string"),
    "IsLatest": ("is_latest", "boolean", "boolean"),
    "IsDeleteMarker": ("is_delete_marker", "boolean", "boolean"),
    "Size": ("size", "bigint", "string"),
    "LastModifiedDate": ("last_modified_date", "timestamp", "string"),
    "ETag": ("e_tag", "string", "string"),
    "StorageClass": ("storage_class", "string", "string"),
    "IsMultipartUploaded": ("is_multipart_uploaded", "boolean", "boolean"),
    "ReplicationStatus": ("replication_status", "string", "string"),
    "EncryptionStatus": ("encryption_status", "string", "string"),
    "ObjectLockRetainUntilDate": ("object_lock_retain_until_date", "bigint", "string"),
    "ObjectLockMode": ("object_lock_mode", "string", "string"),
    "ObjectLockLegalHoldStatus": ("object_lock_legal_hold_status", "string", "string"),
    "IntelligentTieringAccessTier": ("intelligent_tiering_access_tier", "string", "string"),
    "BucketKeyStatus": ("bucket_key_status", "string", "string"),
    "ChecksumAlgorithm": ("checksum_algorithm", "string", "string"),
    "ObjectAccessControlList": ("object_access_control_list", "string", "string"),
    "ObjectOwner": ("object_owner", "string", "string"),
    "LifecycleExpirationDate": ("lifecycle_expiration_date", "timestamp", "string"),
}
_S3_BY_COLUMN = {column: (column, orc, csv) for column, orc, csv in _S3_COLUMNS.values()}

_SERDES = {
    "ORC": "org.apache.hadoop.hive.ql.io.orc.OrcSerde",
    "Parquet": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "CSV": "org.apache.hadoop.hive.serde2.OpenCSVSerde",
}

# GCS inventory fields (the object resource's names) whose BigQuery type is not STRING.
_GCS_TYPES = {
    "size": "INT64",
    "generation": "INT64",
    "metageneration": "INT64",
    "componentCount": "INT64",
    "updated": "TIMESTAMP",
    "timeCreated": "TIMESTAMP",
    "timeDeleted": "TIMESTAMP",
    "timeStorageClassUpdated": "TIMESTAMP",
    "retentionExpirationTime": "TIMESTAMP",
    "softDeleteTime": "TIMESTAMP",
    "hardDeleteTime": "TIMESTAMP",
    "customTime": "TIMESTAMP",
}

_ATHENA_NAME = re.compile(r"[a-z0-9_]{1,255}")  # Athena/Glue: lower case, digits, underscore
_BQ_PROJECT = re.compile(r"(?:[a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_BQ_NAME = re.compile(r"[A-Za-z0-9_]{1,1024}")
_S3_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})Z")


@dataclass(frozen=True)
class InventoryTable:
    """A report as a table of the store's query service.

    Attributes:
        dialect: ``"athena"`` (S3 reports) or ``"bigquery"`` (GCS reports).
        report: the report the table reads.
        database: Athena database; BigQuery dataset (``"dataset"`` or
            ``"project.dataset"``).
        name: the table's name (a default one names the source bucket, the configuration
            and a digest of the format, fields and location, so a table made for one layout
            is never reused for another).
        location: Athena: the ``LOCATION`` (``s3://dest/.../<config id>/hive/``); BigQuery:
            the first of ``uris``.
        partition: Athena: the report's ``dt`` partition value (``YYYY-MM-DD-HH-MM``, from
            the report's folder name or else its ``created`` time); BigQuery: ``None``.
        uris: BigQuery: the shard URIs (one wildcard URI when the shards share a name
            stem); Athena: ``(location,)``.
    """

    dialect: Dialect
    report: Report
    database: str
    name: str
    location: str
    partition: str | None = None
    uris: tuple[str, ...] = ()
    # pail field -> the column's SQL expression for it (provider types handled there).
    _exprs: dict[str, str] = field(default_factory=dict, repr=False, compare=False)
    _ddl: tuple[str, ...] = field(default=(), repr=False, compare=False)

    @property
    def ref(self) -> str:
        """The quoted, qualified name queries use: ``"db"."table"`` / ```p`.`ds`.`t```."""
        if self.dialect == "athena":
            return f"{_athena_ident(self.database)}.{_athena_ident(self.name)}"
        return ".".join(_bq_ident(p) for p in (*self.database.split("."), self.name))

    def create_statements(self) -> list[str]:
        """The statements that make the table, in order, each runnable on its own.

        Athena: ``CREATE DATABASE IF NOT EXISTS``, ``CREATE EXTERNAL TABLE IF NOT EXISTS``,
        ``MSCK REPAIR TABLE`` (loads the ``dt=...`` partitions S3 wrote under ``hive/``).
        BigQuery: ``CREATE OR REPLACE EXTERNAL TABLE`` (the dataset must exist, in the
        bucket's location: BigQuery reads external data only from its own region).
        """
        return list(self._ddl)


def inventory_table(
    report: Report, *, database: str | None = None, name: str | None = None
) -> InventoryTable:
    """:func:`athena_table` for an S3 report, :func:`bigquery_table` for a GCS one.

    Raises:
        SqlRefused: as those do.
    """
    if report.provider == "gcs":
        return bigquery_table(report, dataset=database or DEFAULT_DATABASE, name=name)
    return athena_table(report, database=database or DEFAULT_DATABASE, name=name)


def athena_table(
    report: Report, *, database: str = DEFAULT_DATABASE, name: str | None = None
) -> InventoryTable:
    """The Athena table over an S3 Inventory report's configuration (all its reports;
    queries pick this one by ``dt``).

    Args:
        report: an S3 report (``provider == "s3"``).
        database: the Athena database (created if missing): lower-case letters, digits,
            ``_``.
        name: the table's name (same rules); default
            ``<source bucket>_<config id>_<digest>`` cleaned to those characters.

    Raises:
        SqlRefused: not an S3 report; a name Athena would refuse; a field whose column is
            unknown and not a plain name; a destination whose characters Athena's DDL
            cannot take in a string (``'``, ``\\``, controls).
    """
    if report.provider != "s3":
        raise SqlRefused(f"Athena reads S3 Inventory reports, not a {report.provider} report")
    _check_athena_name(database, "database")
    location = _hive_location(report)
    fields = _athena_fields(report)
    if name is None:
        digest = _digest(report.format, "|".join(c for c, _ in fields), location)
        stem = f"{report.source_bucket}_{report.config_id or 'inventory'}"
        name = (re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")[:200] or "inv") + "_" + digest
    _check_athena_name(name, "table")
    partition = _partition(report)
    exprs = _athena_exprs(report, {column for column, _ in fields})
    columns = ",\n".join(f"  {_hive_ident(c)} {t}" for c, t in fields)
    table = f"{_hive_ident(database)}.{_hive_ident(name)}"
    ddl = (
        f"CREATE DATABASE IF NOT EXISTS {_hive_ident(database)}",
        f"CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{columns}\n)\n"
        f"PARTITIONED BY ({_hive_ident('dt')} string)\n"
        f"ROW FORMAT SERDE '{_SERDES[report.format]}'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.IgnoreKeyTextOutputFormat'\n"
        f"LOCATION '{location}'",
        f"MSCK REPAIR TABLE {table}",
    )
    return InventoryTable(
        dialect="athena",
        report=report,
        database=database,
        name=name,
        location=location,
        partition=partition,
        uris=(location,),
        _exprs=exprs,
        _ddl=ddl,
    )


def bigquery_table(
    report: Report, *, dataset: str = DEFAULT_DATABASE, name: str | None = None
) -> InventoryTable:
    """The BigQuery external table over one GCS inventory report's shards.

    Printed only: running it needs a BigQuery client, which pail does not carry for code
    no test can run. Of the BigQuery emulators on PyPI, ``bqemulator`` downloads a DuckDB
    extension when it starts (no start offline), ``local-bigquery`` needs Python 3.13, and
    ``crucible-emulator`` starts on loopback in seconds but takes ``CREATE EXTERNAL TABLE``
    as an empty table (it reads no Cloud Storage data), so an inventory query could not be
    run end to end against any of them.

    Args:
        report: a GCS report (``provider == "gcs"``), CSV or Parquet.
        dataset: ``"dataset"`` or ``"project.dataset"`` (letters, digits, ``_``; a project
            id as Google Cloud spells them).
        name: the table's name (letters, digits, ``_``); default
            ``<source bucket>_<config id>_<snapshot>`` cleaned to those characters.

    Raises:
        SqlRefused: not a GCS report; an ORC report; a name BigQuery would refuse.
    """
    if report.provider != "gcs":
        raise SqlRefused(f"BigQuery SQL here reads GCS inventory reports, not {report.provider}")
    if report.format not in ("CSV", "Parquet"):
        raise SqlRefused(f"GCS inventory reports are CSV or Parquet, not {report.format}")
    parts = dataset.split(".")
    if len(parts) > 2 or not _BQ_NAME.fullmatch(parts[-1]):
        raise SqlRefused(f"{dataset!r} is not a BigQuery dataset name (letters, digits, _)")
    if len(parts) == 2 and not _BQ_PROJECT.fullmatch(parts[0]):
        raise SqlRefused(f"{parts[0]!r} is not a Google Cloud project id")
    if name is None:
        stamp = report.created.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        stem = f"{report.source_bucket}_{report.config_id or 'inventory'}_{stamp}"
        name = re.sub(r"[^A-Za-z0-9]+", "_", stem).strip("_")[:1000] or "inventory"
    if not _BQ_NAME.fullmatch(name):
        raise SqlRefused(f"{name!r} is not a BigQuery table name pail writes (letters, digits, _)")
    uris = _gcs_uris(report)
    source = dict(zip(report.fields, report.source_fields, strict=False))
    exprs = {
        "key": _bq_ident(source.get("key", "name")),
        "size": _bq_ident(source["size"]) if "size" in source else "CAST(NULL AS INT64)",
        "last_modified": (
            _bq_ident(source["last_modified"])
            if "last_modified" in source
            else "CAST(NULL AS TIMESTAMP)"
        ),
        "etag": _bq_ident(source["etag"]) if "etag" in source else "CAST(NULL AS STRING)",
        "storage_class": (
            _bq_ident(source["storage_class"])
            if "storage_class" in source
            else "CAST(NULL AS STRING)"
        ),
        "version_id": (
            f"CAST({_bq_ident(source['generation'])} AS STRING)"
            if "generation" in source
            else "CAST(NULL AS STRING)"
        ),
    }
    ref = ".".join(_bq_ident(p) for p in (*parts, name))
    options = [f"format = '{'CSV' if report.format == 'CSV' else 'PARQUET'}'"]
    options.append("uris = [" + ", ".join(_bq_literal(u) for u in uris) + "]")
    columns = ""
    if report.format == "CSV":
        options.append("skip_leading_rows = 1")
        for column in report.source_fields:
            if not _BQ_NAME.fullmatch(column):
                raise SqlRefused(f"the report's column {column!r} is no BigQuery column name")
        columns = (
            " (\n"
            + ",\n".join(
                f"  {_bq_ident(c)} {_GCS_TYPES.get(c, 'STRING')}" for c in report.source_fields
            )
            + "\n)"
        )
    ddl = (
        f"CREATE OR REPLACE EXTERNAL TABLE {ref}{columns}\nOPTIONS (\n  "
        + ",\n  ".join(options)
        + "\n)",
    )
    return InventoryTable(
        dialect="bigquery",
        report=report,
        database=dataset,
        name=name,
        location=uris[0],
        partition=None,
        uris=uris,
        _exprs=exprs,
        _ddl=ddl,
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:8]


def _check_athena_name(name: str, what: str) -> None:
    if not _ATHENA_NAME.fullmatch(name):
        raise SqlRefused(
            f"{name!r} is not an Athena {what} name: lower-case letters, digits and _ only"
        )


def _hive_location(report: Report) -> str:
    """``s3://dest/<prefix>/<source>/<config id>/hive/``: beside the report's timestamp
    folder (``.../<config id>/<YYYY-MM-DDTHH-MMZ>/manifest.json``)."""
    parts = report.manifest_key.split("/")
    config_dir = "/".join(parts[:-2])
    key = f"{config_dir}/hive/" if config_dir else "hive/"
    location = f"s3://{report.destination_bucket}/{key}"
    if any(c in location for c in "'\\") or not location.isprintable():
        raise SqlRefused(
            "the report's destination holds a quote, a backslash or a control character, "
            "which Athena's DDL cannot take in a LOCATION: make the table by hand"
        )
    return location


def _partition(report: Report) -> str:
    """The ``dt`` S3 gives the report's ``hive/dt=.../`` folder: its timestamp folder's
    name (``2026-11-28T02-00Z`` -> ``2026-11-28-02-00``), else its creation time."""
    parts = report.manifest_key.split("/")
    if len(parts) >= 2:
        match = _S3_STAMP.fullmatch(parts[-2])
        if match:
            return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"
    return report.created.astimezone(timezone.utc).strftime("%Y-%m-%d-%H-%M")


def _athena_fields(report: Report) -> list[tuple[str, str]]:
    """(column, type) for each of the report's fields, in the files' order (ORC and CSV
    columns are read by position)."""
    csv = report.format == "CSV"
    out: list[tuple[str, str]] = []
    for spelled in report.source_fields:
        known = _S3_COLUMNS.get(spelled) or _S3_BY_COLUMN.get(spelled)
        if known is None:
            column = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", spelled).lower()
            if not _ATHENA_NAME.fullmatch(column):
                raise SqlRefused(f"the report's field {spelled!r} has no Athena column name")
            known = (column, "string", "string")
        column, orc_type, csv_type = known
        out.append((column, csv_type if csv else orc_type))
    return out


def _athena_exprs(report: Report, columns: set[str]) -> dict[str, str]:
    """pail field -> Athena expression over the table's columns (documented types: CSV
    keys URL-encoded, CSV sizes and dates text)."""
    csv = report.format == "CSV"

    def col(name: str) -> str:
        return _athena_ident(name)

    exprs = {
        "key": f"url_decode({col('key')})" if csv else col("key"),
        "size": "CAST(NULL AS bigint)",
        "last_modified": "CAST(NULL AS timestamp)",
        "etag": "CAST(NULL AS varchar)",
        "storage_class": "CAST(NULL AS varchar)",
        "version_id": "CAST(NULL AS varchar)",
    }
    if "size" in columns:
        exprs["size"] = f"CAST(NULLIF({col('size')}, '') AS bigint)" if csv else col("size")
    if "last_modified_date" in columns:
        lm = col("last_modified_date")
        exprs["last_modified"] = f"from_iso8601_timestamp(NULLIF({lm}, ''))" if csv else lm
    if "e_tag" in columns:
        exprs["etag"] = col("e_tag")
    if "storage_class" in columns:
        exprs["storage_class"] = col("storage_class")
    if "version_id" in columns:
        exprs["version_id"] = f"NULLIF({col('version_id')}, '')"
    if "is_latest" in columns:
        exprs["is_latest"] = col("is_latest")
    if "is_delete_marker" in columns:
        exprs["is_delete_marker"] = col("is_delete_marker")
    return exprs


def _gcs_uris(report: Report) -> tuple[str, ...]:
    """``gs://dest/<stem>_*<ext>`` when every shard is ``<stem>_<n><ext>`` (GCS names them
    ``<config>_<snapshot>_<shard>.csv``); else every shard's URI."""
    keys = [f.key for f in report.files]
    if not keys:
        raise SqlRefused("the report lists no data files")
    stems = {k.rpartition("_")[0] for k in keys}
    exts = {"." + k.rpartition(".")[2] if "." in k.rpartition("_")[2] else "" for k in keys}
    if len(stems) == 1 and len(exts) == 1 and "_" in keys[0]:
        stem, ext = stems.pop(), exts.pop()
        if "*" not in stem:
            return (f"gs://{report.destination_bucket}/{stem}_*{ext}",)
    return tuple(f"gs://{report.destination_bucket}/{k}" for k in keys)


# -- literals and identifiers -------------------------------------------------------------


def _athena_literal(value: str) -> str:
    """An Athena (Trino) string literal for ``value``: ``'...'`` with ``'`` doubled; a
    character that is not printable becomes ``chr(N)``, concatenated (``'a' || chr(10)``),
    so the statement prints safely and the value survives exactly.

    Raises:
        SqlRefused: a lone surrogate (not a character SQL strings can hold).
    """
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise SqlRefused("the text holds an undecodable character: it cannot be a SQL string")
    parts: list[str] = []
    run: list[str] = []
    for ch in value:
        if ch.isprintable():
            run.append("''" if ch == "'" else ch)
            continue
        if run:
            parts.append("'" + "".join(run) + "'")
            run = []
        parts.append(f"chr({ord(ch)})")
    if run or not parts:
        parts.append("'" + "".join(run) + "'")
    return parts[0] if len(parts) == 1 else "(" + " || ".join(parts) + ")"


_BQ_ESCAPES = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _bq_literal(value: str) -> str:
    """A GoogleSQL string literal: ``'...'`` with ``\\``, ``'``, newline, CR, TAB escaped
    and every other character that is not printable as ``\\uXXXX``/``\\UXXXXXXXX``
    ("Lexical structure and syntax", GoogleSQL: escape sequences).

    Raises:
        SqlRefused: a lone surrogate.
    """
    out: list[str] = []
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            raise SqlRefused("the text holds an undecodable character: it cannot be a SQL string")
        if ch in _BQ_ESCAPES:
            out.append(_BQ_ESCAPES[ch])
        elif not ch.isprintable():
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def _athena_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hive_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _bq_ident(name: str) -> str:
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


class _Dialect:
    """What differs between the two dialects, for one table."""

    def __init__(self, table: InventoryTable) -> None:
        self.table = table
        self.athena = table.dialect == "athena"

    def literal(self, value: str) -> str:
        return _athena_literal(value) if self.athena else _bq_literal(value)

    def starts_with(self, column: str, prefix: str) -> str:
        if self.athena:
            return f"{column} LIKE {self.literal(_like_escape(prefix) + '%')} ESCAPE '\\'"
        return f"STARTS_WITH({column}, {self.literal(prefix)})"

    def like(self, column: str, pattern: str) -> str:
        """``column LIKE pattern`` (pattern already escaped with ``\\``)."""
        if self.athena:
            return f"{column} LIKE {self.literal(pattern)} ESCAPE '\\'"
        return f"{column} LIKE {self.literal(pattern)}"  # GoogleSQL: \ escapes by default

    def regex(self, column: str, pattern: str) -> str:
        if self.athena:
            return f"regexp_like({column}, {self.literal(pattern)})"
        return f"REGEXP_CONTAINS({column}, {self.literal(pattern)})"

    def not_folder_marker(self, column: str) -> str:
        """``column`` does not end in ``/`` (Trino has no ``ends_with``)."""
        if self.athena:
            return f"{column} NOT LIKE '%/'"
        return f"NOT ENDS_WITH({column}, '/')"

    def contains(self, column: str, text: str) -> str:
        return f"strpos({column}, {self.literal(text)}) > 0"

    def timestamp(self, when: datetime) -> str:
        """A UTC time as the dialect's timestamp, comparable with ``obj_time``
        (milliseconds: S3 and GCS times have no finer precision)."""
        when = when.astimezone(timezone.utc)
        text = when.strftime("%Y-%m-%d %H:%M:%S.") + f"{when.microsecond // 1000:03d}"
        if not self.athena:
            return f"TIMESTAMP '{text}+00'"
        if self.table.report.format == "CSV":  # from_iso8601_timestamp: with time zone
            iso = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
            return f"from_iso8601_timestamp('{iso}')"
        return f"TIMESTAMP '{text}'"  # the ORC/Parquet column: UTC wall time

    def page(self, limit: int, offset: int = 0) -> str:
        if self.athena:  # Trino: OFFSET before LIMIT
            return f"OFFSET {offset} LIMIT {limit}" if offset else f"LIMIT {limit}"
        return f"LIMIT {limit} OFFSET {offset}" if offset else f"LIMIT {limit}"

    def objects_cte(self) -> str:
        """``objects``: the report's current objects, one row each, pail's columns."""
        e = self.table._exprs
        where: list[str] = []
        if self.athena:
            where.append(f"{_athena_ident('dt')} = {self.literal(self.table.partition or '')}")
            if "is_latest" in e:
                where.append(f"{e['is_latest']} = true")
            if "is_delete_marker" in e:
                where.append(f"coalesce({e['is_delete_marker']}, false) = false")
        lines = [
            "objects AS (",
            f"  SELECT {e['key']} AS obj_key,",
            f"    {e['size']} AS obj_size,",
            f"    {e['last_modified']} AS obj_time,",
            f"    {e['etag']} AS obj_etag,",
            f"    {e['storage_class']} AS obj_class,",
            f"    {e['version_id']} AS obj_version",
            f"  FROM {self.table.ref}",
        ]
        if where:
            lines.append("  WHERE " + "\n    AND ".join(where))
        lines.append(")")
        return "\n".join(lines)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _relative(prefix: str) -> str:
    """The key relative to ``prefix`` (positions count characters in all three engines)."""
    return f"substr(obj_key, {len(prefix) + 1})" if prefix else "obj_key"


def _floor_ms(when: datetime) -> datetime:
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def _ceil_ms(when: datetime) -> datetime:
    floor = _floor_ms(when)
    return floor if floor == when else floor + timedelta(milliseconds=1)


def _before(d: _Dialect, when: datetime) -> str:
    """``obj_time < when``, exact for times of millisecond precision."""
    return f"obj_time < {d.timestamp(_ceil_ms(when))}"


def _after(d: _Dialect, when: datetime) -> str:
    """``obj_time > when``, exact for times of millisecond precision."""
    return f"obj_time > {d.timestamp(_floor_ms(when))}"


# -- globs and regexes --------------------------------------------------------------------

_ANY = object()
_ONE = object()
_RE_META = set("\\.^$|?*+()[]{}")
_CLASS_META = set("\\[]^-&")


def _glob_tokens(glob: str) -> list[Any]:
    """``glob`` as :func:`fnmatch.fnmatchcase` reads it: literal text, ``_ANY`` (``*``),
    ``_ONE`` (``?``) and classes ``(negated, [(lo, hi), ...])``.

    Raises:
        SqlRefused: a class fnmatch reads in a surprising way (a reversed range, ranges
            sharing an end, a ``-`` between two ranges): write it plainly.
    """
    out: list[Any] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        i += 1
        if c == "*":
            if not out or out[-1] is not _ANY:
                out.append(_ANY)
        elif c == "?":
            out.append(_ONE)
        elif c == "[":
            j = i  # where fnmatch looks for the closing bracket
            if j < n and glob[j] == "!":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                out.append("[")
                continue
            body = glob[i:j]
            i = j + 1
            negated = body.startswith("!")
            if negated:
                body = body[1:]
            out.append((negated, _class_ranges(body, glob)))
        else:
            out.append(c)
    return out


def _class_ranges(body: str, glob: str) -> list[tuple[str, str]]:
    if not body:
        raise SqlRefused(f"the glob {glob!r} has an empty class")
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(body):
        c = body[k]
        if k + 2 < len(body) and body[k + 1] == "-" and not (c == "-" and k > 0):
            lo, hi = c, body[k + 2]
            if lo > hi or (k + 4 < len(body) and body[k + 3] == "-"):
                raise SqlRefused(
                    f"the glob {glob!r} has a class range fnmatch reads in a surprising way "
                    "(reversed, or chained): write the characters plainly"
                )
            ranges.append((lo, hi))
            k += 3
        elif c == "-" and 0 < k < len(body) - 1:
            raise SqlRefused(
                f"the glob {glob!r} has a '-' between ranges in a class: put it first or last"
            )
        else:
            ranges.append((c, c))
            k += 1
    return ranges


def _glob_condition(d: _Dialect, column: str, glob: str) -> str:
    """``column`` matches ``glob`` (whole string, fnmatchcase rules): ``LIKE`` when the
    glob has no class, else an anchored regex."""
    tokens = _glob_tokens(glob)
    if not any(isinstance(t, tuple) for t in tokens):
        pattern = "".join(
            "%" if t is _ANY else "_" if t is _ONE else _like_escape(str(t)) for t in tokens
        )
        return d.like(column, pattern)
    parts = ["^"]
    for t in tokens:
        if t is _ANY:
            parts.append(r"[\s\S]*")
        elif t is _ONE:
            parts.append(r"[\s\S]")
        elif isinstance(t, tuple):
            negated, ranges = t
            items = "".join(
                _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}"
                for lo, hi in ranges
            )
            parts.append("[" + ("^" if negated else "") + items + "]")
        else:
            parts.append(_re_char(str(t)))
    parts.append(r"\z")
    return d.regex(column, "".join(parts))


def _re_char(c: str) -> str:
    return "\\" + c if c in _RE_META else c


def _class_char(c: str) -> str:
    return "\\" + c if c in _CLASS_META else c


_RE_CLASS_ESCAPES = set("dDwWsSbB")
_RE_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f"}


def _portable_regex(regex: str) -> str:
    """``regex`` (Python :mod:`re` syntax, used with :func:`re.search`) rewritten so that
    Athena's (Java syntax) and BigQuery's (RE2) engines match exactly the same keys.

    Accepted: literal characters, ``\\`` + punctuation, ``\\n \\t \\r \\f``,
    ``\\xhh \\uhhhh \\Uhhhhhhhh``, ``\\A`` and ``\\Z``, ``.`` (as
    ``[^\\n]``, Python's meaning: Java's ``.`` also stops at ``\\r`` and U+2028),
    ``* + ? {m} {m,} {m,n}`` and their lazy forms, ``|``, ``( )``, ``(?: )``, classes of
    characters and ranges (``[^...]`` too), ``^`` at the start, ``$`` where a branch ends
    (as ``\\n?\\z``: Python's ``$`` also matches before a final newline).

    Raises:
        SqlRefused: anything else, with what and why: ``\\d \\w \\s \\b`` (Unicode-aware in
            Python, ASCII in RE2 and Java), back-references, look-arounds, named groups,
            inline flags, possessive quantifiers.
    """
    out: list[str] = []
    i, n = 0, len(regex)
    depth = 0
    quantifiable = False

    def refuse(what: str) -> SqlRefused:
        return SqlRefused(
            f"the regex {regex!r} uses {what}, which Athena's and BigQuery's regex engines "
            "read differently from Python's: rewrite it with plain characters, classes, "
            "groups and quantifiers"
        )

    while i < n:
        c = regex[i]
        if c == "\\":
            if i + 1 >= n:
                raise refuse("a trailing backslash")
            e = regex[i + 1]
            i += 2
            code = _hex_escape(regex, i - 2)
            if code is not None:
                char, i = code
                out.append(_re_char(char))
            elif e in _RE_SIMPLE_ESCAPES:
                out.append(_RE_SIMPLE_ESCAPES[e])
            elif e in "AZ":  # Python's absolute start and end
                out.append("^" if e == "A" else "\\z")
                quantifiable = False
                continue
            elif e in _RE_CLASS_ESCAPES:
                raise refuse(f"\\{e}")
            elif e.isascii() and not e.isalnum() and e.isprintable():
                out.append(_re_char(e) if e in _RE_META else e)
            else:
                raise refuse(f"the escape \\{e}")
            quantifiable = True
        elif c == "[":
            j, body = _regex_class(regex, i, refuse)
            out.append(body)
            i = j
            quantifiable = True
        elif c == "(":
            if regex.startswith("(?:", i):
                out.append("(?:")
                i += 3
            elif regex.startswith("(?", i):
                raise refuse("a '(?' group (flags, look-around, named group)")
            else:
                out.append("(")
                i += 1
            depth += 1
            quantifiable = False
        elif c == ")":
            depth -= 1
            out.append(")")
            i += 1
            quantifiable = True
        elif c == "|":
            out.append("|")
            i += 1
            quantifiable = False
        elif c == ".":
            out.append("[^\n]")
            i += 1
            quantifiable = True
        elif c == "^":
            out.append("^")
            i += 1
            quantifiable = False
        elif c == "$":
            rest = regex[i + 1 :]
            if not (rest.strip(")") == "" or (depth == 0 and rest.startswith("|"))):
                raise refuse("'$' before more of the pattern")
            out.append("\\n?\\z")
            i += 1
            quantifiable = False
        elif c in "*+?{":
            if not quantifiable:
                raise refuse(f"{c!r} with nothing to repeat")
            if c == "{":
                match = re.compile(r"\{(\d*)(?:(,)(\d*))?\}").match(regex, i)
                if match is None:  # Python reads a '{' that starts no quantifier literally
                    out.append("\\{")
                    i += 1
                    continue
                low, comma, high = match.groups()
                if not low and not comma:
                    raise refuse("'{}'")
                low = low or "0"
                if high and int(high) < int(low):
                    raise refuse("a reversed repeat count")
                if max(int(low), int(high or 0)) > 1000:
                    raise refuse("a repeat count over 1000")
                out.append("{" + low + ("," + high if comma else "") + "}")
                i = match.end()
            else:
                out.append(c)
                i += 1
            if i < n and regex[i] == "?":
                out.append("?")
                i += 1
            if i < n and regex[i] in "*+?{":
                raise refuse("a possessive or doubled quantifier")
            quantifiable = False
        else:
            out.append(c)
            i += 1
            quantifiable = True
    return "".join(out)


def _regex_class(regex: str, start: int, refuse: Callable[[str], SqlRefused]) -> tuple[int, str]:
    """A ``[...]`` class of a Python regex from ``start``: (index after it, its portable
    form with every special character escaped)."""
    i = start + 1
    negated = regex.startswith("^", i)
    if negated:
        i += 1
    items: list[str] = []
    first = True
    while True:
        if i >= len(regex):
            raise refuse("an unclosed '['")
        c = regex[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[" and regex.startswith(("[:", "[=", "[."), i):
            raise refuse("a POSIX class")
        char, i = _class_atom(regex, i, refuse)
        if regex.startswith("-", i) and i + 1 < len(regex) and regex[i + 1] != "]":
            high, i = _class_atom(regex, i + 1, refuse)
            if high < char:
                raise refuse("a reversed range")
            items.append(f"{_class_char(char)}-{_class_char(high)}")
        else:
            items.append(_class_char(char))
    return i, "[" + ("^" if negated else "") + "".join(items) + "]"


_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _hex_escape(regex: str, i: int) -> tuple[str, int] | None:
    """``\\xhh``, ``\\uhhhh``, ``\\Uhhhhhhhh`` at ``i`` (Python's): (the character,
    index after it); ``None`` for anything else."""
    digits = _HEX_ESCAPES.get(regex[i + 1 : i + 2])
    if digits is None:
        return None
    text = regex[i + 2 : i + 2 + digits]
    if len(text) != digits or not all(c in "0123456789abcdefABCDEF" for c in text):
        return None
    code = int(text, 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), i + 2 + digits


def _class_atom(regex: str, i: int, refuse: Callable[[str], SqlRefused]) -> tuple[str, int]:
    c = regex[i]
    if c != "\\":
        return c, i + 1
    if i + 1 >= len(regex):
        raise refuse("a trailing backslash")
    e = regex[i + 1]
    code = _hex_escape(regex, i)
    if code is not None:
        return code
    if e in _RE_SIMPLE_ESCAPES:
        return _RE_SIMPLE_ESCAPES[e], i + 2
    if e.isascii() and not e.isalnum() and e.isprintable():
        return e, i + 2
    raise refuse(f"the escape \\{e} in a class")


# -- the questions ------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlQuery(Generic[T]):
    """One question as SQL text, and how its rows read back.

    Attributes:
        question: ``"level"``, ``"du"``, ``"classes"``, ``"ages"``, ``"search"``,
            ``"stale"``.
        sql: the statement (no trailing ``;``).
        table: the table it reads (:meth:`InventoryTable.create_statements` makes it).
    """

    question: str
    sql: str
    table: InventoryTable
    _read: Callable[[list[dict[str, str | None]]], T] = field(repr=False, compare=False)

    def read(self, rows: list[dict[str, str | None]]) -> T:
        """The answer from the statement's rows (column label -> text as the service
        returns it, ``None`` for NULL): the same type the in-process query returns.

        Raises:
            InventoryError: a row that does not read (a value of the wrong kind).
        """
        try:
            return self._read(rows)
        except (KeyError, ValueError, TypeError) as exc:
            raise InventoryError(f"the {self.question} rows could not be read: {exc}") from exc

    def script(self) -> str:
        """The whole thing to paste into a console: the table's statements, then the
        question, each ending in ``;``."""
        return "\n\n".join(s + ";" for s in (*self.table.create_statements(), self.sql))


def _with(d: _Dialect, *ctes: str) -> str:
    return "WITH " + ",\n".join((d.objects_cte(), *ctes))


def level_sql(
    table: InventoryTable, prefix: str = "", *, limit: int = 1000, offset: int = 0
) -> SqlQuery[Level]:
    """One level under ``prefix`` as a ``Delimiter="/"`` listing sees it: its prefixes
    (with the objects and bytes under each, recursively, and their time range) and
    objects, prefixes first, each group by key; ``limit`` rows from ``offset``, with the
    level's child count and totals.

    Raises:
        ValueError: a negative ``limit`` or ``offset``.
    """
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be 0 or more")
    d = _Dialect(table)
    rel = _relative(prefix)
    where = f"\n  WHERE {d.starts_with('obj_key', prefix)}" if prefix else ""
    cut = "strpos(rel_key, '/')"
    sql = _with(
        d,
        f"under AS (\n  SELECT obj_key, obj_size, obj_time, obj_etag, obj_class, {rel} AS rel_key"
        f"\n  FROM objects{where}\n)",
        "children AS (\n"
        f"  SELECT CASE WHEN {cut} > 0 THEN substr(obj_key, 1, {len(prefix)} + {cut})"
        " ELSE obj_key END AS child,\n"
        f"    {cut} > 0 AS is_prefix, obj_size, obj_time, obj_etag, obj_class\n"
        "  FROM under\n)",
        "grouped AS (\n"
        "  SELECT child, is_prefix, count(*) AS objects, coalesce(sum(obj_size), 0) AS bytes,\n"
        "    max(obj_time) AS newest, min(obj_time) AS oldest,\n"
        "    max(obj_class) AS storage_class, max(obj_etag) AS etag\n"
        "  FROM children\n  GROUP BY child, is_prefix\n)",
        "totals AS (\n"
        "  SELECT count(*) AS children, coalesce(sum(objects), 0) AS total_objects,\n"
        "    coalesce(sum(bytes), 0) AS total_bytes\n  FROM grouped\n)",
        "page AS (\n  SELECT * FROM grouped\n  ORDER BY is_prefix DESC, child\n"
        f"  {d.page(limit, offset)}\n)",
    )
    sql += (
        "\nSELECT t.children, t.total_objects, t.total_bytes, p.child, p.is_prefix,"
        " p.objects, p.bytes,\n  p.newest, p.oldest, p.storage_class, p.etag\n"
        "FROM totals t LEFT JOIN page p ON true\nORDER BY p.is_prefix DESC, p.child"
    )

    def read(rows: list[dict[str, str | None]]) -> Level:
        if not rows:
            raise ValueError("no totals row")
        first = rows[0]
        out = []
        for r in rows:
            if r.get("child") is None:
                continue
            is_prefix = _bool(r["is_prefix"])
            out.append(
                LevelRow(
                    key=str(r["child"]),
                    is_prefix=is_prefix,
                    objects=_int(r["objects"]),
                    bytes=_int(r["bytes"]),
                    newest=_time(r.get("newest")),
                    oldest=_time(r.get("oldest")),
                    storage_class=None if is_prefix else r.get("storage_class"),
                    etag=None if is_prefix else _etag(r.get("etag")),
                )
            )
        return Level(
            prefix=prefix,
            rows=out,
            children=_int(first["children"]),
            objects=_int(first["total_objects"]),
            bytes=_int(first["total_bytes"]),
            offset=offset,
        )

    return SqlQuery("level", sql, table, read)


def _classes_statement(d: _Dialect, prefix: str) -> str:
    where = f"\nWHERE {d.starts_with('obj_key', prefix)}" if prefix else ""
    return (
        _with(d) + "\nSELECT obj_class AS storage_class, count(*) AS objects,"
        " coalesce(sum(obj_size), 0) AS bytes,\n  min(obj_time) AS oldest, max(obj_time) AS newest"
        f"\nFROM objects{where}\nGROUP BY obj_class"
        "\nORDER BY bytes DESC, objects DESC, storage_class"
    )


def _shares(rows: list[dict[str, str | None]]) -> list[ClassShare]:
    shares = [
        ClassShare(r.get("storage_class") or UNKNOWN_CLASS, _int(r["objects"]), _int(r["bytes"]))
        for r in rows
    ]
    return sorted(shares, key=lambda s: (-s.bytes, -s.objects, s.storage_class))


def du_sql(table: InventoryTable, prefix: str = "") -> SqlQuery[Usage]:
    """``du`` of ``prefix``: objects and bytes under it, their time range and the split
    by storage class (largest first: bytes, then objects). A class the report leaves empty
    is :data:`UNKNOWN_CLASS`."""
    d = _Dialect(table)

    def read(rows: list[dict[str, str | None]]) -> Usage:
        shares = _shares(rows)
        oldest = [t for t in (_time(r.get("oldest")) for r in rows) if t is not None]
        newest = [t for t in (_time(r.get("newest")) for r in rows) if t is not None]
        return Usage(
            prefix=prefix,
            objects=sum(s.objects for s in shares),
            bytes=sum(s.bytes for s in shares),
            oldest=min(oldest) if oldest else None,
            newest=max(newest) if newest else None,
            classes=shares,
        )

    return SqlQuery("du", _classes_statement(d, prefix), table, read)


def classes_sql(table: InventoryTable, prefix: str = "") -> SqlQuery[list[ClassShare]]:
    """Objects and bytes per storage class under ``prefix``, largest first (bytes, then
    objects); a class the report leaves empty is :data:`UNKNOWN_CLASS`."""
    return SqlQuery("classes", _classes_statement(_Dialect(table), prefix), table, _shares)


def age_label(lower: int, upper: int | None) -> str:
    """``"30–90 d"``; ``"730+ d"`` for the open-ended last bucket (as the in-process
    queries label them)."""
    return f"{lower}+ d" if upper is None else f"{lower}–{upper} d"


def ages_sql(
    table: InventoryTable, prefix: str = "", edges: Sequence[int] = DEFAULT_AGE_EDGES
) -> SqlQuery[list[AgeBucket]]:
    """Objects and bytes by age (the report's time - last_modified) in the buckets
    ``[0, e1)``, ``[e1, e2)`` ... ``[en, ∞)`` days; objects without a time are left out.

    Raises:
        ValueError: edges that are not positive and increasing.
    """
    edges = [int(e) for e in edges]
    if any(e <= 0 for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
        raise ValueError("age edges must be positive days in increasing order")
    d = _Dialect(table)
    created = table.report.created.astimezone(timezone.utc)
    # age < e days  <=>  obj_time > created - e days
    cases = "\n".join(
        f"    WHEN {_after(d, created - timedelta(days=e))} THEN {i}" for i, e in enumerate(edges)
    )
    where = ["obj_time IS NOT NULL"]
    if prefix:
        where.insert(0, d.starts_with("obj_key", prefix))
    sql = (
        _with(d) + f"\nSELECT CASE\n{cases}\n    ELSE {len(edges)}\n  END AS age_bucket,"
        " count(*) AS objects, coalesce(sum(obj_size), 0) AS bytes"
        f"\nFROM objects\nWHERE {' AND '.join(where)}\nGROUP BY 1\nORDER BY 1"
    )
    bounds = list(zip([0, *edges], [*edges, None], strict=True))

    def read(rows: list[dict[str, str | None]]) -> list[AgeBucket]:
        found = {_int(r["age_bucket"]): r for r in rows}
        out = []
        for i, (lower, upper) in enumerate(bounds):
            r = found.get(i)
            out.append(
                AgeBucket(
                    label=age_label(lower, upper),
                    lower=lower,
                    upper=upper,
                    objects=_int(r["objects"]) if r else 0,
                    bytes=_int(r["bytes"]) if r else 0,
                )
            )
        return out

    return SqlQuery("ages", sql, table, read)


def _listing(
    d: _Dialect, conditions: list[str], limit: int
) -> tuple[str, Callable[[list[dict[str, str | None]]], SearchResult]]:
    """Matching objects by key (``limit`` of them), with the count and bytes of all."""
    where = "\n  WHERE " + "\n    AND ".join(conditions) if conditions else ""
    sql = _with(
        d,
        f"matches AS (\n  SELECT * FROM objects{where}\n)",
        "totals AS (\n  SELECT count(*) AS matched, coalesce(sum(obj_size), 0) AS total_bytes"
        "\n  FROM matches\n)",
        f"page AS (\n  SELECT * FROM matches\n  ORDER BY obj_key\n  {d.page(limit)}\n)",
    )
    sql += (
        "\nSELECT t.matched, t.total_bytes, p.obj_key, p.obj_size, p.obj_time, p.obj_etag,"
        " p.obj_class,\n  p.obj_version\nFROM totals t LEFT JOIN page p ON true\nORDER BY p.obj_key"
    )

    def read(rows: list[dict[str, str | None]]) -> SearchResult:
        if not rows:
            raise ValueError("no totals row")
        entries = [
            Entry(
                key=str(r["obj_key"]),
                type="object",
                size=_int(r["obj_size"]) if r.get("obj_size") is not None else None,
                last_modified=_time(r.get("obj_time")),
                etag=_etag(r.get("obj_etag")),
                storage_class=r.get("obj_class"),
                version_id=r.get("obj_version"),
            )
            for r in rows
            if r.get("obj_key") is not None
        ]
        return SearchResult(
            rows=entries, matched=_int(rows[0]["matched"]), bytes=_int(rows[0]["total_bytes"])
        )

    return sql, read


def search_sql(table: InventoryTable, query: SearchQuery) -> SqlQuery[SearchResult]:
    """A :class:`~.model.SearchQuery`: keys under ``prefix`` whose part after it contains
    ``text`` and matches ``glob`` (as the in-process search reads them: case-insensitive,
    both lower-cased), sizes within
    ``min_size``..``max_size`` (inclusive), older than ``older_than`` / newer than
    ``newer_than`` seconds at the report's time, of ``storage_class`` (:data:`UNKNOWN_CLASS`:
    none); folder markers (keys ending in ``/``) never match, as in the live search; by
    key, ``limit`` rows, the count and bytes of all matches.

    Raises:
        SqlRefused: a glob fnmatch reads in a surprising way (see :func:`_glob_tokens`).
        ValueError: a negative ``limit``.
    """
    if query.limit < 0:
        raise ValueError("limit must be 0 or more")
    d = _Dialect(table)
    created = table.report.created.astimezone(timezone.utc)
    conditions: list[str] = []
    if query.prefix:
        conditions.append(d.starts_with("obj_key", query.prefix))
    conditions.append(d.not_folder_marker("obj_key"))  # as the live search: objects only
    # Case-insensitive, as the in-process and the live search: both sides lower-cased.
    if query.text:
        conditions.append(d.contains(f"lower({_relative(query.prefix)})", query.text.lower()))
    if query.glob is not None:
        relative = f"lower({_relative(query.prefix)})"
        conditions.append(_glob_condition(d, relative, query.glob.lower()))
    if query.min_size is not None:
        conditions.append(f"obj_size >= {int(query.min_size)}")
    if query.max_size is not None:
        conditions.append(f"obj_size <= {int(query.max_size)}")
    if query.older_than is not None:
        conditions.append(_before(d, created - _seconds(query.older_than)))
    if query.newer_than is not None:
        conditions.append(_after(d, created - _seconds(query.newer_than)))
    if query.storage_class == UNKNOWN_CLASS:
        conditions.append("obj_class IS NULL")
    elif query.storage_class is not None:
        conditions.append(f"obj_class = {d.literal(query.storage_class)}")
    sql, read = _listing(d, conditions, query.limit)
    return SqlQuery("search", sql, table, read)


def stale_sql(
    table: InventoryTable,
    filters: StaleFilters,
    *,
    base: str = "",
    limit: int = 1000,
    now: datetime | None = None,
) -> SqlQuery[SearchResult]:
    """The objects under ``base`` that :class:`~pail.services.delete.filters.StaleFilters`
    selects, as :meth:`StaleFilters.matches` decides per object: last_modified before the
    cutoff (``filters.now`` or ``now`` or the current time, minus ``older_than``), size
    strictly above ``larger_than`` / below ``smaller_than`` (no size counts as 0), the key
    relative to ``base`` matching an ``include`` glob (when any), no ``exclude`` glob, and
    ``regex`` (searched). By key, ``limit`` rows, the count and bytes of all.

    What this selects is the report's view: a plan made from it is re-checked live before
    anything is deleted (:mod:`pail.services.inventory.plan`); this SQL deletes nothing.

    Raises:
        SqlRefused: run rules (``keep_last``, ``keep_best``, ``keep_tags``, ``keep_names``:
            they need the runs detected from the keys and their metadata files, which SQL
            over the report cannot read); a regex or glob outside the portable subset.
        ValueError: a negative ``limit``.
    """
    if limit < 0:
        raise ValueError("limit must be 0 or more")
    if filters.retention is not None:
        raise SqlRefused(
            "run rules (keep the last or best N runs, kept tags or names) cannot be written "
            "as SQL over an inventory: they need the runs detected from the keys and their "
            "metadata files (params, metrics, tags), which the report does not hold. Plan "
            "with them in pail, or leave them out of the SQL"
        )
    d = _Dialect(table)
    rel = _relative(base)
    conditions: list[str] = []
    if base:
        conditions.append(d.starts_with("obj_key", base))
    cutoff = filters.cutoff(now)
    if cutoff is not None:
        conditions.append(_before(d, cutoff))
    if filters.larger_than is not None:
        conditions.append(f"coalesce(obj_size, 0) > {int(filters.larger_than)}")
    if filters.smaller_than is not None:
        conditions.append(f"coalesce(obj_size, 0) < {int(filters.smaller_than)}")
    if filters.include:
        ors = [_glob_condition(d, rel, g) for g in filters.include]
        conditions.append(ors[0] if len(ors) == 1 else "(" + " OR ".join(ors) + ")")
    for glob in filters.exclude:
        conditions.append(f"NOT ({_glob_condition(d, rel, glob)})")
    if filters.regex is not None:
        conditions.append(d.regex(rel, _portable_regex(filters.regex)))
    sql, read = _listing(d, conditions, limit)
    return SqlQuery("stale", sql, table, read)


def _seconds(value: float) -> timedelta:
    if not math.isfinite(value) or value < 0:
        raise ValueError("an age must be a finite number of seconds, 0 or more")
    return timedelta(seconds=value)


# -- reading values -----------------------------------------------------------------------

_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(\.\d{1,9})?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?"
)


def _etag(value: str | None) -> str | None:
    return None if value is None else value.strip('"')


def _int(value: str | None) -> int:
    if value is None:
        return 0
    return int(str(value).split(".", 1)[0]) if "e" not in str(value).lower() else int(float(value))


def _bool(value: str | None) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false"):
        raise ValueError(f"not a boolean: {value!r}")
    return text == "true"


def _time(value: str | None) -> datetime | None:
    """A UTC time from the text Athena (``2026-01-01 10:00:00.000``, ``... UTC``) or
    BigQuery (seconds since the epoch, ``1.7672256E9``) gives."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    match = _TIME.fullmatch(text)
    if match is None:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    day, clock, fraction, zone = match.groups()
    micro = int((fraction or ".0")[1:7].ljust(6, "0"))
    when = datetime.fromisoformat(f"{day}T{clock}").replace(microsecond=micro)
    if zone and zone not in ("Z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return (when - sign * offset).replace(tzinfo=timezone.utc)
    return when.replace(tzinfo=timezone.utc)


# -- running on Athena --------------------------------------------------------------------


def run_athena(
    driver: object,
    query: SqlQuery[T],
    *,
    output_location: str,
    workgroup: str | None = None,
    endpoint_url: str | None = None,
    setup: bool = True,
    cancel: threading.Event | None = None,
    on_start: Callable[[str], None] | None = None,
    poll_interval: float = 0.5,
    timeout: float | None = None,
) -> T:
    """Run ``query`` on Athena with ``driver``'s connection and read its answer back.

    Only with the user's go-ahead: Athena bills the data each statement scans.

    Args:
        driver: an S3 driver (anything with ``service_client(service, endpoint_url=)``,
            :meth:`pail.drivers.s3.S3Driver.service_client`).
        query: an Athena question (:func:`level_sql` ... over :func:`athena_table`).
        output_location: ``s3://bucket/prefix/`` for Athena's result files.
        workgroup: the Athena workgroup (``None``: ``primary``).
        endpoint_url: a non-AWS Athena endpoint (a test server).
        setup: first run :meth:`InventoryTable.create_statements` (database, table,
            ``MSCK REPAIR TABLE``); ``False`` when they ran already.
        cancel, on_start, poll_interval: as :func:`pail.drivers.s3.athena.run_query`
            (``on_start`` is called for each statement).
        timeout: seconds per statement (default
            :data:`pail.drivers.s3.athena.DEFAULT_TIMEOUT`).

    Returns:
        The question's answer (:class:`~.model.Level`, :class:`~.model.Usage`...).

    Raises:
        NotSupported: ``driver`` cannot make Athena clients (a GCS or local connection).
        SqlRefused: a BigQuery question, or an ``output_location`` that is no ``s3://`` URI.
        pail.drivers.s3.athena.AthenaQueryFailed: a statement failed (``AthenaAccessDenied``
            for permissions); ``AthenaQueryCancelled``: stopped.
        pail.drivers.errors.StorageError: the Athena calls failed otherwise.
        InventoryError: the rows did not read.
    """
    from pail.drivers.s3 import athena

    table = query.table
    if table.dialect != "athena":
        raise SqlRefused(
            "pail runs Athena queries only; print the BigQuery SQL and run it with bq or the "
            "BigQuery console"
        )
    make_client = getattr(driver, "service_client", None)
    if not callable(make_client):
        provider = str(getattr(driver, "provider", "") or "this")
        raise NotSupported(
            f"Athena runs with AWS credentials: a {provider} connection cannot start Athena "
            "queries. Open the bucket with an S3 connection, or print the SQL instead",
            operation="StartQueryExecution",
            provider=provider,
            code="NotSupported",
        )
    if not output_location.startswith("s3://") or len(output_location) <= len("s3://"):
        raise SqlRefused(
            f"the Athena result location must be an s3:// URI, not {output_location!r}"
        )
    client = make_client("athena", endpoint_url=endpoint_url)
    options: dict[str, Any] = {
        "output_location": output_location,
        "workgroup": workgroup,
        "cancel": cancel,
        "on_start": on_start,
        "poll_interval": poll_interval,
        "timeout": athena.DEFAULT_TIMEOUT if timeout is None else timeout,
    }
    if setup:
        statements = table.create_statements()
        # CREATE DATABASE runs before the database exists: in the catalog's "default".
        athena.run_query(client, statements[0], database="default", **options)
        for statement in statements[1:]:
            athena.run_query(client, statement, database=table.database, **options)
    rows = athena.run_query(client, query.sql, database=table.database, **options)
    return query.read(rows)
