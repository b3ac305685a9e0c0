"""The inventory questions as Athena and BigQuery SQL (pail.services.inventory.sql) and
running Athena statements (pail.drivers.s3.athena) against moto's server over HTTP.

The SQL is checked two ways:

* as text (the table statements as the S3 and BigQuery docs write them);
* by meaning: report files written the way S3 and GCS write them
  (tests/support/inventory_reports.py) are loaded into DuckDB under the documented
  Athena/BigQuery column names, and the generated statements run there, where the dialects
  agree. The few functions DuckDB spells differently get a macro (``regexp_like``,
  ``from_iso8601_timestamp``, ``REGEXP_CONTAINS``); Athena's ``url_decode`` decodes ``+`` as
  a space (Java's URLDecoder) where DuckDB's keeps it, so the statement's ``url_decode`` is
  pointed at a macro doing Athena's; a BigQuery statement's backtick identifiers and
  backslash-escaped literals are rewritten token by token into DuckDB's. Every answer is
  compared with a plain-Python reading of the same rows (the model's and
  StaleFilters.matches's semantics), keys with quotes, ``%``, ``_``, backslashes, ``+``,
  newlines, ESC, a bidi override and non-ASCII included.

moto implements Athena in server mode without running SQL: its results are queued through
``/moto-api/static/athena/query-results``; a FAILED or externally CANCELLED state is set on
the in-process backend when the statement starts, and the state manager holds a query
QUEUED for the cancel and timeout tests.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import random
import re
import threading
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.orc as pa_orc
import pytest

from pail.drivers.base import Entry
from pail.drivers.errors import AccessDenied, BadResponse, InvalidRequest, NotSupported
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.drivers.s3.athena import (
    AthenaAccessDenied,
    AthenaQueryCancelled,
    AthenaQueryFailed,
    run_query,
)
from pail.services.delete.filters import StaleFilters
from pail.services.inventory import sql
from pail.services.inventory.model import (
    AgeBucket,
    ClassShare,
    Level,
    LevelRow,
    Report,
    ReportFile,
    SearchQuery,
    SearchResult,
    Usage,
)
from pail.services.inventory.sql import SqlRefused
from support.inventory_reports import (
    GCS_FIELDS,
    S3_FIELDS,
    S3_VERSIONED_FIELDS,
    InvRow,
    write_gcs_csv,
    write_gcs_parquet,
    write_s3_csv,
    write_s3_orc,
    write_s3_parquet,
)
from support.servers import REGION, s3_client

CREATED = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
#: "Now" for the stale plans: three days after the report.
NOW = CREATED + timedelta(days=3)

#: Prefixes (and keys under them) no SQL text may mangle.
HOSTILE = [
    "it's/",
    "100%_done/",
    "back\\slash/",
    "new\nline/",
    "caf\u00e9 \u65e5\u672c/",
    "a+b c/",
    "esc\x1b[31m/",
    "bidi\u202egnp/",
    "''/",
    "\U0001f600/",
]


def _rows() -> list[InvRow]:
    """The bucket: hostile folders with a few objects each, a plain tree, a key that is
    its prefix's folder marker, sizes, ages and classes spread out."""
    rows: list[InvRow] = []
    classes = ["STANDARD", "GLACIER", "STANDARD_IA"]
    ages = [0.5, 3, 20, 60, 120, 400, 1000]
    n = 0
    for folder in [*HOSTILE, "runs/", "runs/a/", "runs/a/b/", "x/"]:
        for name in ["f.ckpt", "g.txt", "sub/h.ckpt", "it's_%.bin", "a\\b?.ckpt"]:
            rows.append(
                InvRow(
                    key=folder + name,
                    size=(n * 7919) % 5000,
                    last_modified=CREATED - timedelta(days=ages[n % len(ages)], seconds=n),
                    etag=f"{n:032x}",
                    storage_class=classes[n % len(classes)],
                )
            )
            n += 1
    rows.append(InvRow(key="runs/", size=0, last_modified=CREATED - 2 * DAY))
    # On the edges: an age of exactly 7 and 30 days, a stale cutoff (NOW - 30 d) exactly,
    # and a millisecond either side of it.
    ms = timedelta(milliseconds=1)
    for name, when in [
        ("7d", CREATED - 7 * DAY),
        ("30d", CREATED - 30 * DAY),
        ("cut", NOW - 30 * DAY),
        ("cut-1ms", NOW - 30 * DAY - ms),
        ("cut+1ms", NOW - 30 * DAY + ms),
    ]:
        rows.append(InvRow(key=f"edge/{name}", size=1, last_modified=when, storage_class="GLACIER"))
    rows.append(InvRow(key="top.txt", size=11, last_modified=CREATED + timedelta(minutes=5)))
    return rows


def _versioned(rows: list[InvRow]) -> list[InvRow]:
    """The same objects as current versions, plus older versions and delete markers
    (which no question may count)."""
    out: list[InvRow] = []
    for i, row in enumerate(rows):
        out.append(InvRow(**{**row.__dict__, "version_id": f"v{i}-2", "is_latest": True}))
        out.append(
            InvRow(
                **{
                    **row.__dict__,
                    "version_id": f"v{i}-1",
                    "is_latest": False,
                    "size": 999_999,
                }
            )
        )
    out.append(InvRow(key="runs/deleted.txt", version_id="dm", is_delete_marker=True))
    out.append(InvRow(key="runs/deleted.txt", version_id="old", is_latest=False, size=5))
    return out


# -- DuckDB: the generated statements where the dialects agree ----------------------------


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    con.execute("CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p)")
    con.execute("CREATE MACRO regexp_contains(s, p) AS regexp_matches(s, p)")
    con.execute("CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)")
    # Athena's url_decode is Java's URLDecoder: '+' is a space ('+' itself is %2B).
    con.execute("CREATE MACRO athena_url_decode(s) AS url_decode(replace(s, '+', ' '))")
    return con


def _athena_for_duckdb(text: str) -> str:
    return text.replace("url_decode(", "athena_url_decode(")


_BQ_TOKEN = re.compile(
    r"`(?:[^`\\]|\\.)*`|TIMESTAMP '[^']*'|(?:LIKE )?'(?:[^'\\]|\\.)*'", re.DOTALL
)


def _bigquery_for_duckdb(text: str) -> str:
    """A GoogleSQL statement in DuckDB's spelling: ```x``` -> ``"x"``, ``'...'`` with
    backslash escapes -> a DuckDB literal of the same value (decoded as GoogleSQL's escape
    rules, which Python's literal rules include), ``LIKE`` with GoogleSQL's default escape
    character (``\\``) made explicit, ``TIMESTAMP '...+00'`` -> TIMESTAMPTZ."""

    def swap(match: re.Match[str]) -> str:
        token = match.group()
        if token.startswith("TIMESTAMP '"):
            return "TIMESTAMPTZ " + token[len("TIMESTAMP ") :]
        if token.startswith("`"):
            name = re.sub(r"\\(.)", r"\1", token[1:-1])
            return '"' + name.replace('"', '""') + '"'
        if token.startswith("LIKE "):  # GoogleSQL's LIKE escapes with a backslash
            return f"LIKE {sql._athena_literal(ast.literal_eval(token[5:]))} ESCAPE '\\'"
        return sql._athena_literal(ast.literal_eval(token))

    return _BQ_TOKEN.sub(swap, text)


def _athena_csv_table(con: Any, paths: list[Path], fields: Sequence[str]) -> str:
    csv_types = {"is_latest": "BOOLEAN", "is_delete_marker": "BOOLEAN"}
    columns = [sql._S3_COLUMNS[s][0] for s in fields]
    spec = ", ".join(f"'{c}': '{csv_types.get(c, 'VARCHAR')}'" for c in columns)
    files = ", ".join(f"'{p}'" for p in paths)
    return (
        f"SELECT * FROM read_csv([{files}], header = false, quote = '\"', escape = '\"',"
        f" columns = {{{spec}}}, compression = 'gzip')"
    )


def _load(con: Any, table: sql.InventoryTable, relation: str, decoy: str | None) -> None:
    """``table``'s rows into DuckDB under its qualified name (plus a ``dt`` column for
    Athena, with a decoy partition that every question must ignore)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {sql._athena_ident(table.database.split('.')[-1])}")
    name = f"{sql._athena_ident(table.database.split('.')[-1])}.{sql._athena_ident(table.name)}"
    if table.dialect == "athena":
        con.execute(f"CREATE TABLE {name} AS SELECT *, '{table.partition}' AS dt FROM ({relation})")
        assert decoy is not None
        con.execute(f"INSERT INTO {name} SELECT *, 'decoy' FROM ({decoy})")
    else:
        con.execute(f"CREATE TABLE {name} AS {relation}")


def _duckdb_rows(
    con: Any, table: sql.InventoryTable, statement: str
) -> list[dict[str, str | None]]:
    """Run ``statement`` and give its rows as the service would: text, None for NULL."""
    if table.dialect == "athena":
        text = _athena_for_duckdb(statement)
    else:  # DuckDB's three-part names are catalog.schema.table: drop the project
        text = _bigquery_for_duckdb(statement).replace('"my-project".', "")
    cursor = con.execute(text)
    labels = [d[0] for d in cursor.description]
    out = []
    for values in cursor.fetchall():
        out.append({k: _as_text(v) for k, v in zip(labels, values, strict=True)})
    return out


def _as_text(value: Any) -> str | None:
    """A DuckDB value as Athena's GetQueryResults writes it."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        text = value.astimezone(timezone.utc) if value.tzinfo else value
        stamp = text.strftime("%Y-%m-%d %H:%M:%S.") + f"{text.microsecond // 1000:03d}"
        return stamp + (" UTC" if value.tzinfo else "")
    return str(value)


class Scene:
    """A report in one provider format, its SQL table and a DuckDB holding its rows."""

    def __init__(self, tmp: Path, dialect: str, fmt: str, rows: list[InvRow], *, versioned: bool):
        self.rows = rows
        self.con = _connect()
        data = tmp / "data"
        if dialect == "athena":
            fields = S3_VERSIONED_FIELDS if versioned else S3_FIELDS
            writer = {"CSV": write_s3_csv, "ORC": write_s3_orc, "Parquet": write_s3_parquet}[fmt]
            written = writer(rows, data, fields=fields, files=2)
            decoy = writer([InvRow(key="runs/decoy.txt", size=10**9)], tmp / "decoy", fields=fields)
            self.report = _report("s3", fmt, written.fields, written.source_fields, written.paths)
            self.paths = written.paths
            self.table = sql.athena_table(self.report)
            relations = []
            for paths in (written.paths, decoy.paths):
                if fmt == "CSV":
                    relations.append(_athena_csv_table(self.con, paths, written.source_fields))
                elif fmt == "Parquet":
                    files = ", ".join(f"'{p}'" for p in paths)
                    relations.append(f"SELECT * FROM read_parquet([{files}])")
                else:
                    import pyarrow as pa

                    arrow = pa.concat_tables([pa_orc.read_table(str(p)) for p in paths])
                    view = f"orc_{len(relations)}"
                    self.con.register(view, arrow)
                    relations.append(f"SELECT * FROM {view}")
            _load(self.con, self.table, relations[0], relations[1])
        else:
            writer = {"CSV": write_gcs_csv, "Parquet": write_gcs_parquet}[fmt]
            written = writer(rows, data, fields=GCS_FIELDS, files=2)
            self.report = _report("gcs", fmt, written.fields, written.source_fields, written.paths)
            self.paths = written.paths
            self.table = sql.bigquery_table(self.report, dataset="my-project.inv")
            files = ", ".join(f"'{p}'" for p in written.paths)
            if fmt == "CSV":
                spec = ", ".join(
                    f"'{c}': '{_duck_type(sql._GCS_TYPES.get(c, 'STRING'))}'"
                    for c in written.source_fields
                )
                relation = (
                    f"SELECT * FROM read_csv([{files}], header = true, quote = '\"',"
                    f" escape = '\"', columns = {{{spec}}})"
                )
            else:
                relation = f"SELECT * FROM read_parquet([{files}])"
            _load(self.con, self.table, relation, None)

    def ask(self, query: sql.SqlQuery[Any]) -> Any:
        assert query.table is self.table
        return query.read(_duckdb_rows(self.con, self.table, query.sql))

    @property
    def current(self) -> list[InvRow]:
        return [r for r in self.rows if r.is_latest and not r.is_delete_marker]


def _duck_type(bq: str) -> str:
    return {"INT64": "BIGINT", "TIMESTAMP": "TIMESTAMPTZ"}.get(bq, "VARCHAR")


def _report(
    provider: str, fmt: str, fields: Sequence[str], source: Sequence[str], paths: list[Path]
) -> Report:
    if provider == "s3":
        key = "inv/src-bucket/cfg1/2026-11-28T02-00Z/manifest.json"
        files = tuple(ReportFile(f"inv/src-bucket/cfg1/data/{p.name}") for p in paths)
    else:
        key = "inv/cfg-1_2026-11-28T02:00:00Z_manifest.json"
        files = tuple(ReportFile(f"inv/{p.name}") for p in paths)
    return Report(
        provider=provider,
        source_bucket="src-bucket",
        destination_bucket="dest-bucket",
        manifest_key=key,
        created=CREATED,
        format=fmt,  # type: ignore[arg-type]
        fields=tuple(fields),
        source_fields=tuple(source),
        files=files,
        config_id="cfg1",
        versions="version_id" in fields,
    )


# -- the reference: the model's meaning, in plain Python ----------------------------------


def _ms(when: datetime) -> datetime:
    when = when.astimezone(timezone.utc)
    return when.replace(microsecond=when.microsecond // 1000 * 1000)


def ref_level(rows: list[InvRow], prefix: str, limit: int, offset: int) -> Level:
    groups: dict[tuple[str, bool], list[InvRow]] = {}
    for r in rows:
        if not r.key.startswith(prefix):
            continue
        rest = r.key[len(prefix) :]
        cut = rest.find("/")
        child = prefix + rest[: cut + 1] if cut >= 0 else r.key
        groups.setdefault((child, cut >= 0), []).append(r)
    children = []
    for (child, is_prefix), members in groups.items():
        times = [_ms(m.last_modified) for m in members]
        children.append(
            LevelRow(
                key=child,
                is_prefix=is_prefix,
                objects=len(members),
                bytes=sum(m.size for m in members),
                newest=max(times),
                oldest=min(times),
                storage_class=None if is_prefix else members[0].storage_class,
                etag=None if is_prefix else members[0].etag,
            )
        )
    children.sort(key=lambda c: (not c.is_prefix, c.key))
    return Level(
        prefix=prefix,
        rows=children[offset : offset + limit],
        children=len(children),
        objects=sum(c.objects for c in children),
        bytes=sum(c.bytes for c in children),
        offset=offset,
    )


def ref_du(rows: list[InvRow], prefix: str) -> Usage:
    under = [r for r in rows if r.key.startswith(prefix)]
    classes: dict[str, list[InvRow]] = {}
    for r in under:
        classes.setdefault(r.storage_class, []).append(r)
    shares = sorted(
        (ClassShare(c, len(m), sum(x.size for x in m)) for c, m in classes.items()),
        key=lambda s: (-s.bytes, -s.objects, s.storage_class),
    )
    times = [_ms(r.last_modified) for r in under]
    return Usage(
        prefix=prefix,
        objects=len(under),
        bytes=sum(r.size for r in under),
        oldest=min(times) if times else None,
        newest=max(times) if times else None,
        classes=shares,
    )


def ref_ages(rows: list[InvRow], prefix: str, edges: Sequence[int]) -> list[AgeBucket]:
    bounds = list(zip([0, *edges], [*edges, None], strict=True))
    counts = [[0, 0] for _ in bounds]
    for r in rows:
        if not r.key.startswith(prefix):
            continue
        age = CREATED - _ms(r.last_modified)
        i = next(
            (i for i, (_, up) in enumerate(bounds) if up is not None and age < timedelta(days=up)),
            len(bounds) - 1,
        )
        counts[i][0] += 1
        counts[i][1] += r.size
    return [
        AgeBucket(sql.age_label(lo, up), lo, up, c[0], c[1])
        for (lo, up), c in zip(bounds, counts, strict=True)
    ]


def _entry(r: InvRow, versioned: bool) -> Entry:
    return Entry(
        key=r.key,
        type="object",
        size=r.size,
        last_modified=_ms(r.last_modified),
        etag=r.etag,
        storage_class=r.storage_class,
        version_id=r.version_id if versioned else None,
    )


def _result(matches: list[InvRow], limit: int, versioned: bool) -> SearchResult:
    matches = sorted(matches, key=lambda r: r.key)
    return SearchResult(
        rows=[_entry(r, versioned) for r in matches[:limit]],
        matched=len(matches),
        bytes=sum(r.size for r in matches),
    )


def ref_search(rows: list[InvRow], q: SearchQuery, versioned: bool) -> SearchResult:
    def ok(r: InvRow) -> bool:
        age = (CREATED - _ms(r.last_modified)).total_seconds()
        rel = r.key[len(q.prefix) :]
        return (
            r.key.startswith(q.prefix)
            and not r.key.endswith("/")
            and q.text.lower() in rel.lower()  # case-insensitive, as the live search
            and (q.glob is None or fnmatch.fnmatchcase(rel.lower(), q.glob.lower()))
            and (q.min_size is None or r.size >= q.min_size)
            and (q.max_size is None or r.size <= q.max_size)
            and (q.older_than is None or age > q.older_than)
            and (q.newer_than is None or age < q.newer_than)
            and (q.storage_class is None or r.storage_class == q.storage_class)
        )

    return _result([r for r in rows if ok(r)], q.limit, versioned)


def ref_stale(
    rows: list[InvRow], f: StaleFilters, base: str, now: datetime, limit: int, versioned: bool
) -> SearchResult:
    cutoff = f.cutoff(now)
    picked = [
        r
        for r in rows
        if r.key.startswith(base) and f.matches(_entry(r, versioned), r.key[len(base) :], cutoff)
    ]
    return _result(picked, limit, versioned)


# -- SQL text -----------------------------------------------------------------------------


def test_athena_csv_table_is_the_documented_one(tmp_path):
    scene = Scene(tmp_path, "athena", "CSV", _rows()[:3], versioned=False)
    table = scene.table
    assert table.partition == "2026-11-28-02-00"  # hive/dt=... beside 2026-11-28T02-00Z
    assert table.location == "s3://dest-bucket/inv/src-bucket/cfg1/hive/"
    assert table.create_statements() == [
        "CREATE DATABASE IF NOT EXISTS `pail_inventory`",
        f"CREATE EXTERNAL TABLE IF NOT EXISTS `pail_inventory`.`{table.name}` (\n"
        "  `bucket` string,\n"
        "  `key` string,\n"
        "  `size` string,\n"
        "  `last_modified_date` string,\n"
        "  `e_tag` string,\n"
        "  `storage_class` string\n"
        ")\n"
        "PARTITIONED BY (`dt` string)\n"
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.OpenCSVSerde'\n"
        "STORED AS INPUTFORMAT 'org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat'\n"
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.IgnoreKeyTextOutputFormat'\n"
        "LOCATION 's3://dest-bucket/inv/src-bucket/cfg1/hive/'",
        f"MSCK REPAIR TABLE `pail_inventory`.`{table.name}`",
    ]
    assert re.fullmatch(r"src_bucket_cfg1_[0-9a-f]{8}", table.name)
    query = sql.du_sql(table, "runs/")
    assert 'url_decode("key")' in query.sql
    assert "from_iso8601_timestamp(NULLIF(\"last_modified_date\", ''))" in query.sql
    assert "CAST(NULLIF(\"size\", '') AS bigint)" in query.sql
    assert f'FROM "pail_inventory"."{table.name}"\n  WHERE "dt" = \'2026-11-28-02-00\'' in (
        query.sql
    )
    assert query.script().endswith(query.sql + ";")


@pytest.mark.parametrize(
    ("fmt", "serde"),
    [
        ("ORC", "org.apache.hadoop.hive.ql.io.orc.OrcSerde"),
        ("Parquet", "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
    ],
)
def test_athena_orc_and_parquet_tables_are_typed(tmp_path, fmt, serde):
    scene = Scene(tmp_path, "athena", fmt, _rows()[:3], versioned=True)
    create = scene.table.create_statements()[1]
    for line in (
        "`key` string",
        "`version_id` string",
        "`is_latest` boolean",
        "`is_delete_marker` boolean",
        "`size` bigint",
        "`last_modified_date` timestamp",
        f"ROW FORMAT SERDE '{serde}'",
        "PARTITIONED BY (`dt` string)",
    ):
        assert line in create
    # Columns in the files' order (ORC is read by position).
    assert create.index("`key`") < create.index("`version_id`") < create.index("`size`")
    text = sql.level_sql(scene.table).sql
    assert "url_decode" not in text and '"key" AS obj_key' in text
    assert '"is_latest" = true' in text and 'coalesce("is_delete_marker", false) = false' in text


def test_bigquery_external_table_over_the_shards(tmp_path):
    scene = Scene(tmp_path, "bigquery", "CSV", _rows()[:3], versioned=False)
    assert scene.table.create_statements() == [
        "CREATE OR REPLACE EXTERNAL TABLE `my-project`.`inv`.`src_bucket_cfg1_20261128T020000Z` (\n"
        "  `bucket` STRING,\n"
        "  `name` STRING,\n"
        "  `size` INT64,\n"
        "  `updated` TIMESTAMP,\n"
        "  `storageClass` STRING,\n"
        "  `etag` STRING,\n"
        "  `md5Hash` STRING,\n"
        "  `crc32c` STRING,\n"
        "  `generation` INT64,\n"
        "  `timeCreated` TIMESTAMP\n"
        ")\n"
        "OPTIONS (\n"
        "  format = 'CSV',\n"
        "  uris = ['gs://dest-bucket/inv/cfg-1_2026-01-02T00:00:00Z_*.csv'],\n"
        "  skip_leading_rows = 1\n"
        ")"
    ]
    parquet = Scene(tmp_path / "p", "bigquery", "Parquet", _rows()[:3], versioned=False)
    (create,) = parquet.table.create_statements()
    assert "format = 'PARQUET'" in create and "skip_leading_rows" not in create
    assert "`size` INT64" not in create  # the schema comes from the Parquet files
    text = sql.search_sql(parquet.table, SearchQuery(prefix="it's/")).sql
    assert "STARTS_WITH(obj_key, 'it\\'s/')" in text
    assert "`storageClass` AS obj_class" in text
    assert "CAST(`generation` AS STRING) AS obj_version" in text
    unknown = sql.search_sql(parquet.table, SearchQuery(storage_class=sql.UNKNOWN_CLASS)).sql
    assert "obj_class IS NULL" in unknown


def test_wrong_provider_and_bad_names_are_refused(tmp_path):
    s3 = Scene(tmp_path, "athena", "Parquet", _rows()[:2], versioned=False).report
    gcs = Scene(tmp_path / "g", "bigquery", "Parquet", _rows()[:2], versioned=False).report
    with pytest.raises(SqlRefused, match="Athena reads S3"):
        sql.athena_table(gcs)
    with pytest.raises(SqlRefused, match="GCS inventory"):
        sql.bigquery_table(s3)
    with pytest.raises(SqlRefused, match="Athena database name"):
        sql.athena_table(s3, database='x"; DROP TABLE y; --')
    with pytest.raises(SqlRefused, match="Athena table name"):
        sql.athena_table(s3, name="Mixed-Case")
    with pytest.raises(SqlRefused, match="dataset"):
        sql.bigquery_table(gcs, dataset="a.b.c")
    assert sql.inventory_table(gcs).dialect == "bigquery"
    assert sql.inventory_table(s3).dialect == "athena"


# -- literals -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [*HOSTILE, "", "'", "\\'", "%_%", "a\r\n\tb", "\x00z"])
def test_literals_round_trip(value):
    con = _connect()
    athena = sql._athena_literal(value)
    assert con.execute(f"SELECT {athena}").fetchone() == (value,)
    bigquery = sql._bq_literal(value)
    assert ast.literal_eval(bigquery) == value  # GoogleSQL's escapes are Python's too
    for text in (athena, bigquery):  # printed statements cannot drive a terminal
        assert text.isprintable(), text
    # A LIKE prefix matches exactly the keys under it, with no wildcard leaking.
    cond = sql._Dialect.__new__(sql._Dialect)
    cond.athena = True
    like = cond.starts_with("k", value)
    keys = [value, value + "x", "X" + value, value[:-1] + "?" if value else "?", "other"]
    matched = con.execute(f"SELECT k FROM unnest(?) t(k) WHERE {like} ORDER BY k", [keys])
    assert sorted(k for (k,) in matched.fetchall()) == sorted(
        k for k in keys if k.startswith(value)
    )


def test_lone_surrogates_are_refused():
    with pytest.raises(SqlRefused, match="undecodable"):
        sql._athena_literal("a\udcffb")
    with pytest.raises(SqlRefused, match="undecodable"):
        sql._bq_literal("a\udcffb")


# -- the questions, by meaning, on DuckDB -------------------------------------------------

SCENES = [
    ("athena", "CSV", False),
    ("athena", "ORC", False),
    ("athena", "Parquet", True),
    ("bigquery", "CSV", False),
    ("bigquery", "Parquet", False),
]


@pytest.fixture(scope="module", params=SCENES, ids=lambda p: f"{p[0]}-{p[1]}")
def scene(request, tmp_path_factory) -> Iterator[Scene]:
    dialect, fmt, versioned = request.param
    rows = _rows()
    if versioned:
        rows = _versioned(rows)
    made = Scene(tmp_path_factory.mktemp("scene"), dialect, fmt, rows, versioned=versioned)
    yield made
    made.con.close()


@pytest.mark.parametrize("prefix", ["", "runs/", "runs/a/", "nothing/", *HOSTILE])
def test_level_du_classes_ages(scene, prefix):
    rows = scene.current
    for limit, offset in ((1000, 0), (2, 1)):
        got = scene.ask(sql.level_sql(scene.table, prefix, limit=limit, offset=offset))
        assert got == ref_level(rows, prefix, limit, offset)
    usage = scene.ask(sql.du_sql(scene.table, prefix))
    assert usage == ref_du(rows, prefix)
    assert scene.ask(sql.classes_sql(scene.table, prefix)) == usage.classes
    assert scene.ask(sql.ages_sql(scene.table, prefix)) == ref_ages(
        rows, prefix, sql.DEFAULT_AGE_EDGES
    )


def test_level_of_the_root_lists_the_hostile_folders(scene):
    level = scene.ask(sql.level_sql(scene.table))
    names = [r.key for r in level.rows if r.is_prefix]
    assert set(HOSTILE) <= set(names)
    assert [r.key for r in level.rows if not r.is_prefix] == ["top.txt"]
    assert level.objects == len(scene.current)


SEARCHES = [
    SearchQuery(),
    SearchQuery(text="'"),
    SearchQuery(text="%_"),
    SearchQuery(text="\\"),
    SearchQuery(text="\n"),
    SearchQuery(prefix="runs/", glob="*.ckpt"),
    SearchQuery(prefix="it's/", glob="it's_%.bin"),
    SearchQuery(glob="*/a\\b?.ckpt"),
    SearchQuery(glob="[!r]*/[fg].*"),
    SearchQuery(glob="*[]_%]*"),
    SearchQuery(prefix="new\nline/", glob="sub/*", min_size=1, max_size=4000),
    SearchQuery(older_than=30 * 86400, storage_class="GLACIER"),
    SearchQuery(newer_than=86400),
    SearchQuery(prefix="edge/", older_than=30 * 86400),
    SearchQuery(prefix="edge/", newer_than=7 * 86400),
    SearchQuery(prefix="runs/", limit=3),
    SearchQuery(prefix="it's/", text="it's"),  # the text is looked for after the prefix
    SearchQuery(limit=0, text="ckpt"),
    SearchQuery(text="CKPT"),  # case-insensitive
    SearchQuery(glob="*.CKPT"),
]


@pytest.mark.parametrize("query", SEARCHES, ids=range(len(SEARCHES)))
def test_search(scene, query):
    versioned = scene.report.versions
    expected = ref_search(scene.current, query, versioned)
    got = scene.ask(sql.search_sql(scene.table, query))
    if scene.table.dialect == "bigquery":  # GCS: the generation is the version id
        expected = SearchResult(
            rows=[replace(e, version_id=None) for e in expected.rows],
            matched=expected.matched,
            bytes=expected.bytes,
        )
    assert got == expected


STALES = [
    ("", StaleFilters(older_than=timedelta(days=30))),
    ("edge/", StaleFilters(older_than=timedelta(days=30))),
    ("runs/", StaleFilters(larger_than=1000, smaller_than=4000)),
    ("", StaleFilters(include=("*.ckpt",), exclude=("runs/*", "*[0-9]*"))),
    ("it's/", StaleFilters(regex=r"^sub/|\.bin$")),
    ("", StaleFilters(regex=r"(?:a\\b|caf.)[?/]", older_than=timedelta(hours=1))),
    ("", StaleFilters(regex=r"^[^/]*[^\x01-\x7f][^/]*/f", include=("*",))),
    ("back\\slash/", StaleFilters(include=("a\\b?.ckpt", "g.*"))),
    ("", StaleFilters(regex="w\nl", now=NOW - DAY, older_than=timedelta(days=2))),
]


@pytest.mark.parametrize(("base", "filters"), STALES, ids=range(len(STALES)))
def test_stale(scene, base, filters):
    versioned = scene.report.versions
    got = scene.ask(sql.stale_sql(scene.table, filters, base=base, now=NOW, limit=5))
    expected = ref_stale(scene.current, filters, base, NOW, 5, versioned)
    if scene.table.dialect == "bigquery":
        expected = SearchResult(
            rows=[replace(e, version_id=None) for e in expected.rows],
            matched=expected.matched,
            bytes=expected.bytes,
        )
    assert got == expected
    assert expected.matched > 0  # each case selects something: a dropped filter would show


@pytest.mark.parametrize("prefix", ["", "runs/", "it's/", "new\nline/", "a+b c/"])
def test_the_same_answers_as_the_in_process_queries(scene, prefix, tmp_path):
    """SQL on the service and pail's own DuckDB queries over the same files agree."""
    from pail.services.inventory.query import Inventory

    with Inventory(scene.report, scene.paths, work_dir=tmp_path) as local:
        table = scene.table
        assert scene.ask(sql.level_sql(table, prefix)) == local.level(prefix)
        assert scene.ask(sql.level_sql(table, prefix, limit=2, offset=1)) == local.level(
            prefix, limit=2, offset=1
        )
        assert scene.ask(sql.du_sql(table, prefix)) == local.du(prefix)
        assert scene.ask(sql.classes_sql(table, prefix)) == local.storage_classes(prefix)
        assert scene.ask(sql.ages_sql(table, prefix)) == local.ages(prefix)
        for query in SEARCHES:
            query = replace(query, prefix=query.prefix or prefix)
            assert scene.ask(sql.search_sql(table, query)) == local.search(query), query


def test_stale_run_rules_are_refused(tmp_path):
    table = Scene(tmp_path, "athena", "Parquet", _rows()[:2], versioned=False).table
    with pytest.raises(SqlRefused, match="run rules"):
        sql.stale_sql(table, StaleFilters(keep_last=2))
    with pytest.raises(SqlRefused, match="run rules"):
        sql.stale_sql(table, StaleFilters(keep_best=1, metric="val_loss"))


# -- globs and regexes, against fnmatch and re --------------------------------------------

GLOB_ALPHABET = ["a", "b", "/", ".", "*", "?", "[", "]", "!", "-", "\\", "%", "_", "é", "\n", "^"]


def test_globs_match_as_fnmatch_does():
    rng = random.Random(15)
    keys = [
        "".join(rng.choice("ab/.-]![\\%_é\n^") for _ in range(rng.randint(0, 6))) for _ in range(60)
    ]
    keys += ["a", "ab", "a/b", "[a]", "a-b", "!", "]", "%", "_", "\\", "é", "\n"]
    globs = [
        "".join(rng.choice(GLOB_ALPHABET) for _ in range(rng.randint(1, 6))) for _ in range(300)
    ]
    globs += ["[a-b]*", "[!a]", "[]a]", "[!]a]", "[a-]", "[-a]", "[--a]", "*[\\]", "a[", "[!]"]
    con = _connect()
    d = sql._Dialect.__new__(sql._Dialect)
    d.athena = True
    checked = refused = 0
    for glob in globs:
        try:
            cond = sql._glob_condition(d, "k", glob)
        except SqlRefused:
            refused += 1
            continue
        got = {
            k
            for (k,) in con.execute(f"SELECT k FROM unnest(?) t(k) WHERE {cond}", [keys]).fetchall()
        }
        want = {k for k in keys if fnmatch.fnmatchcase(k, glob)}
        assert got == want, (glob, cond)
        checked += 1
    assert checked > 250 and refused < 40


def test_regexes_match_as_re_search_does():
    keys = [
        "a",
        "ab",
        "a\n",
        "a\nb",
        "a\rb",
        "x/a.bin",
        "sub/a",
        "1",
        "é",
        "a$",
        "a.b",
        "a{b",
        "[x]",
        "a\u2028b",
        "caf\u00e9/f",
        "aaa",
        "",
        "b\\a",
    ]
    regexes = [
        "a",
        "^a",
        "a$",
        "^a$",
        "a.b",
        "a|^b",
        "(a|b)$",
        "[^a]",
        "[a-c]+",
        "a{2}",
        "a{,2}b",
        "a{1,}",
        "a*?b",
        r"\.bin$",
        r"\$",
        r"a\{b",
        r"\[x\]",
        "[]x]",
        "[^]x]",
        r"[\\]",
        "(?:ab)+",
        "a.?b",
        r"\Aa",
        r"a\Z",
        "[\n]",
        r"\n",
        "é",
        "a{b",
        "(a)(b)?",
    ]
    # Python's '.' stops only at '\n'; Java's (Athena) also at '\r', U+0085, U+2028/9.
    assert sql._portable_regex("a.b") == "a[^\n]b"
    con = _connect()
    for regex in regexes:
        portable = sql._portable_regex(regex)
        got = {
            k
            for (k,) in con.execute(
                "SELECT k FROM unnest(?) t(k) WHERE regexp_matches(k, ?)", [keys, portable]
            ).fetchall()
        }
        want = {k for k in keys if re.search(regex, k)}
        assert got == want, (regex, portable)
    for regex, why in [
        (r"\d", r"\\d"),
        (r"\bx", r"\\b"),
        ("(?i)a", "'\\(\\?' group"),
        ("(?P<n>a)", "'\\(\\?' group"),
        ("(?=a)", "'\\(\\?' group"),
        (r"(a)\1", "escape"),
        ("a$b", "'\\$' before"),
        ("a*+", "possessive"),
    ]:
        with pytest.raises(SqlRefused, match=why):
            sql._portable_regex(regex)


# -- reading rows -------------------------------------------------------------------------


def test_times_read_in_each_services_spelling():
    want = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    for text in (
        "2026-01-02 03:04:05.678",
        "2026-01-02 03:04:05.678 UTC",
        "2026-01-02T03:04:05.678Z",
        "2026-01-02 05:04:05.678+02:00",
        "1767323045.678",
        "1.767323045678E9",
    ):
        assert sql._time(text) == want, text
    assert sql._time(None) is None


def test_rows_that_do_not_read_are_an_inventory_error(tmp_path):
    table = Scene(tmp_path, "athena", "Parquet", _rows()[:2], versioned=False).table
    query = sql.du_sql(table)
    with pytest.raises(sql.InventoryError, match="du rows could not be read"):
        query.read([{"storage_class": "STANDARD", "objects": "many", "bytes": "1"}])
    with pytest.raises(sql.InventoryError, match="level rows"):
        sql.level_sql(table).read([])


# -- running on Athena (moto over HTTP) ---------------------------------------------------

OUTPUT = "s3://athena-results/pail/"


def _queue_results(endpoint: str, *results: list[list[str | None]]) -> None:
    """Queue result sets on moto's Athena (each a list of rows; a SELECT's first row is
    its header, as Athena sends it)."""
    body = {
        "region": REGION,
        "results": [
            {
                "rows": [
                    {"Data": [{} if v is None else {"VarCharValue": v} for v in row]}
                    for row in rows
                ],
                "column_info": [
                    {"Name": str(v), "Label": str(v), "Type": "varchar"} for v in rows[0]
                ]
                if rows
                else [],
            }
            for rows in results
        ],
    }
    request = urllib.request.Request(
        f"{endpoint}/moto-api/static/athena/query-results",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


def _state_manager(endpoint: str, path: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{endpoint}/moto-api/state-manager/{path}",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


def _backend():
    from moto.athena.models import athena_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return athena_backends[DEFAULT_ACCOUNT_ID][REGION]


def _executions():
    return _backend().executions


@pytest.fixture
def athena_endpoint(moto_server) -> str:
    """The session's moto server with no Athena results queued (cleared in-process:
    cheaper than resetting every service)."""
    _backend().query_results_queue.clear()
    return moto_server


@pytest.fixture(scope="module")
def athena_client(moto_server) -> Any:
    """A boto3 Athena client from pail's own S3 driver, on moto (made once: a client
    loads botocore's service model)."""
    driver = S3Driver(client=s3_client(moto_server))
    return driver.service_client("athena", endpoint_url=moto_server)


@pytest.fixture
def athena(athena_endpoint, athena_client) -> Any:
    """:func:`athena_client` with no results queued."""
    return athena_client


@pytest.fixture
def held(athena_endpoint) -> Iterator[None]:
    """Queries stay QUEUED (moto's state manager) until the test is over."""
    _state_manager(
        athena_endpoint,
        "set-transition",
        {
            "model_name": "athena::execution",
            "transition": {"progression": "manual", "times": 10**9},
        },
    )
    yield
    _state_manager(athena_endpoint, "unset-transition", {"model_name": "athena::execution"})


def test_run_athena_end_to_end(athena_endpoint, tmp_path):
    """The table's statements, then the question, through pail's driver; the answer is
    read from Athena's rows (moto returns what DuckDB computed for the same statement)."""
    scene = Scene(tmp_path, "athena", "CSV", _rows(), versioned=False)
    query = sql.level_sql(scene.table, "runs/")
    computed = _duckdb_rows(scene.con, scene.table, query.sql)
    labels = list(computed[0])
    _queue_results(
        athena_endpoint,
        [],
        [],
        [["partitions added"]],
        [labels] + [[r[k] for k in labels] for r in computed],
    )
    driver = S3Driver(client=s3_client(athena_endpoint))
    started: list[str] = []
    level = sql.run_athena(
        driver,
        query,
        output_location=OUTPUT,
        endpoint_url=athena_endpoint,
        on_start=started.append,
        poll_interval=0.01,
    )
    assert level == ref_level(scene.current, "runs/", 1000, 0)
    sent = [_executions()[qid] for qid in started]
    assert [e.query for e in sent] == [*scene.table.create_statements(), query.sql]
    assert [e.context["Database"] for e in sent] == ["default"] + ["pail_inventory"] * 3
    assert all(e.config["OutputLocation"].startswith(OUTPUT) for e in sent)
    # Without setup only the question runs.
    _queue_results(athena_endpoint, [labels] + [[r[k] for k in labels] for r in computed])
    again = sql.run_athena(
        driver,
        query,
        output_location=OUTPUT,
        endpoint_url=athena_endpoint,
        setup=False,
        on_start=started.append,
        poll_interval=0.01,
    )
    assert again == level and len(started) == 5


def test_run_query_rows_and_nulls(athena, athena_endpoint):
    _queue_results(athena_endpoint, [["k", "n"], ["a'b", "1"], ["x\ny", None]])
    rows = run_query(athena, "SELECT 1", database="db", output_location=OUTPUT, poll_interval=0.01)
    assert rows == [{"k": "a'b", "n": "1"}, {"k": "x\ny", "n": None}]


def test_a_select_whose_first_row_is_not_its_header_is_refused(athena):
    from moto.athena.models import QueryResults

    _backend().query_results_queue.append(
        QueryResults(
            rows=[{"Data": [{"VarCharValue": "a"}]}], column_info=[{"Name": "k", "Label": "k"}]
        )
    )
    with pytest.raises(BadResponse, match="not its column labels"):
        run_query(athena, "SELECT k", database="db", output_location=OUTPUT, poll_interval=0.01)


def test_failed_query(athena):
    def fail(query_id: str) -> None:
        _executions()[query_id].status = "FAILED"

    with pytest.raises(AthenaQueryFailed) as caught:
        run_query(
            athena,
            "SELECT nope",
            database="db",
            output_location=OUTPUT,
            on_start=fail,
            poll_interval=0.01,
        )
    error = caught.value
    assert not isinstance(error, AccessDenied)
    assert error.state == "FAILED" and error.query_execution_id in _executions()
    assert "failed: no reason given" in str(error)


def test_cancelled_query_is_stopped(athena, held):
    cancel = threading.Event()
    started: list[str] = []

    def start(query_id: str) -> None:
        started.append(query_id)
        cancel.set()

    with pytest.raises(AthenaQueryCancelled) as caught:
        run_query(
            athena,
            "SELECT 1",
            database="db",
            output_location=OUTPUT,
            cancel=cancel,
            on_start=start,
            poll_interval=0.01,
        )
    assert caught.value.requested and caught.value.operation == "StopQueryExecution"
    assert _executions()[started[0]].status == "CANCELLED"  # StopQueryExecution reached moto


def test_query_cancelled_elsewhere(athena):
    def cancel_elsewhere(query_id: str) -> None:
        _executions()[query_id].status = "CANCELLED"

    with pytest.raises(AthenaQueryCancelled) as caught:
        run_query(
            athena,
            "SELECT 1",
            database="db",
            output_location=OUTPUT,
            on_start=cancel_elsewhere,
            poll_interval=0.01,
        )
    assert not caught.value.requested


def test_timeout_stops_the_query(athena, held):
    started: list[str] = []
    with pytest.raises(AthenaQueryFailed) as caught:
        run_query(
            athena,
            "SELECT 1",
            database="db",
            output_location=OUTPUT,
            on_start=started.append,
            poll_interval=0.01,
            timeout=0.05,
        )
    assert caught.value.code == "Timeout"
    assert _executions()[started[0]].status == "CANCELLED"


def test_api_errors_are_translated(athena):
    with pytest.raises(InvalidRequest, match="WorkGroup does not exist"):
        run_query(athena, "SELECT 1", database="db", output_location=OUTPUT, workgroup="nope")


def test_access_denied_stays_access_denied(moto_iam_server):
    reader = moto_iam_server.users["reader"]
    driver = S3Driver(
        client=s3_client(moto_iam_server.endpoint),
        access_key_id=reader.access_key_id,
        secret_access_key=reader.secret_access_key,
        region=REGION,
    )
    client = driver.service_client("athena", endpoint_url=moto_iam_server.endpoint)
    with pytest.raises(AthenaAccessDenied) as caught:
        run_query(client, "SELECT 1", database="db", output_location=OUTPUT)
    error = caught.value
    assert isinstance(error, AccessDenied) and isinstance(error, PermissionError)
    assert error.code == "AccessDenied" and error.status == 403
    assert "athena:StartQueryExecution" in str(error)
    assert "athena:GetQueryResults" in error.hint


def test_run_athena_needs_an_s3_connection(tmp_path):
    scene = Scene(tmp_path, "athena", "Parquet", _rows()[:2], versioned=False)
    query = sql.du_sql(scene.table)
    with pytest.raises(NotSupported, match="cannot start Athena"):
        sql.run_athena(LocalDriver(tmp_path), query, output_location=OUTPUT)
    with pytest.raises(SqlRefused, match="s3:// URI"):
        sql.run_athena(object.__new__(S3Driver), query, output_location="/tmp/out")
    gcs = Scene(tmp_path / "g", "bigquery", "Parquet", _rows()[:2], versioned=False)
    with pytest.raises(SqlRefused, match="print the BigQuery SQL"):
        sql.run_athena(object.__new__(S3Driver), sql.du_sql(gcs.table), output_location=OUTPUT)
