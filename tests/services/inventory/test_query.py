"""Inventory queries (pail.services.inventory.query) over reports written the way S3 and
GCS document them (tests/support/inventory_reports.py), checked against a plain-Python
reading of the same rows: every format gives the same answers."""

from __future__ import annotations

import fnmatch
import gzip
import os
import random
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from pail.drivers.base import Entry
from pail.services.inventory import query as query_module
from pail.services.inventory.model import InventoryError, Report, ReportFile, SearchQuery, Usage
from pail.services.inventory.query import (
    UNKNOWN_CLASS,
    Inventory,
    QueryCancelled,
    glob_regex,
)
from support.inventory_reports import (
    GCS_FIELDS,
    S3_FIELDS,
    S3_VERSIONED_FIELDS,
    InvRow,
    Written,
    s3_csv_key,
    write_gcs_csv,
    write_gcs_parquet,
    write_s3_csv,
    write_s3_orc,
    write_s3_parquet,
)

UTC = timezone.utc
CREATED = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
CLASSES = ("STANDARD", "STANDARD_IA", "GLACIER")

# Keys a CSV, a URL-decoder or a LIKE pattern could get wrong.
HOSTILE = [
    "a b/c d.txt",
    "a b/x+y.txt",
    "plus+dir/1+1=2.txt",
    "pct%41/100%.csv",
    "pct%41/%2B.txt",
    "under_score/x_1.txt",
    "underXscore/decoy.txt",
    "ünïcødé/ファイル.txt",
    'quote\'"dir/it\'s "here".txt',
    "comma,dir/a,b.csv",
    "dir/",
    "dir/inside.txt",
    "dir//double.txt",
    "dir//",
    "top-level.txt",
    "new\nline/tab\tkey.txt",
]


def _rows() -> list[InvRow]:
    rnd = random.Random(7)
    keys = set(HOSTILE)
    while len(keys) < 1500:
        top = rnd.choice(["data", "models", "logs", "a b", "plus+dir", "pct%41", "ünïcødé"])
        depth = rnd.randint(0, 3)
        parts = [top] + [f"d{rnd.randint(0, 6)}" for _ in range(depth)]
        keys.add(
            "/".join(parts) + f"/f{rnd.randint(0, 10**6)}.{rnd.choice(['bin', 'json', 'ckpt'])}"
        )
    rows = []
    for key in sorted(keys):
        ms = rnd.randint(0, 900 * 86_400_000)
        rows.append(
            InvRow(
                key=key,
                size=0 if key.endswith("/") else rnd.randint(0, 10**9),
                last_modified=CREATED - timedelta(milliseconds=ms),
                etag=f"{rnd.getrandbits(128):032x}",
                storage_class=rnd.choice(CLASSES),
            )
        )
    return rows


ROWS = _rows()


def _versioned(rows: list[InvRow]) -> list[InvRow]:
    """The same current objects as ``rows`` plus older versions and delete markers (and
    keys whose latest version is a delete marker, so not current)."""
    rnd = random.Random(11)
    out = []
    for n, row in enumerate(rows):
        current = replace(row, version_id=f"v{n}-cur", is_latest=True)
        out.append(current)
        if n % 3 == 0:
            out.append(
                replace(row, version_id=f"v{n}-old", is_latest=False, size=rnd.randint(0, 99))
            )
        if n % 7 == 0:
            out.append(
                InvRow(
                    key=row.key, version_id=f"v{n}-dm-old", is_latest=False, is_delete_marker=True
                )
            )
    for n in range(50):  # deleted keys: a delete marker is the latest version
        key = f"data/deleted-{n}.bin"
        out.append(InvRow(key=key, size=5, version_id=f"d{n}", is_latest=False))
        out.append(InvRow(key=key, version_id=f"d{n}-dm", is_latest=True, is_delete_marker=True))
    rnd.shuffle(out)
    return out


def _report(provider: str, fmt: str, written: Written, *, versions: bool = False) -> Report:
    return Report(
        provider=provider,
        source_bucket="src-bucket",
        destination_bucket="dest",
        manifest_key="inv/manifest.json",
        created=CREATED,
        format=fmt,  # type: ignore[arg-type]
        fields=written.fields,
        source_fields=written.source_fields,
        files=tuple(ReportFile(p.name, p.stat().st_size) for p in written.paths),
        versions=versions,
    )


WRITERS = {
    "s3-csv": ("s3", "CSV", write_s3_csv, S3_FIELDS),
    "s3-orc": ("s3", "ORC", write_s3_orc, S3_FIELDS),
    "s3-parquet": ("s3", "Parquet", write_s3_parquet, S3_FIELDS),
    "gcs-csv": ("gcs", "CSV", write_gcs_csv, GCS_FIELDS),
    "gcs-parquet": ("gcs", "Parquet", write_gcs_parquet, GCS_FIELDS),
}


def _open(tmp: Path, kind: str, rows: list[InvRow], *, versioned: bool = False) -> Inventory:
    provider, fmt, writer, fields = WRITERS[kind]
    if versioned:
        fields = S3_VERSIONED_FIELDS
    written = writer(rows, tmp / "data", fields=fields, files=3)
    return Inventory(
        _report(provider, fmt, written, versions=versioned),
        written.paths,
        work_dir=tmp / "work",
        memory_limit="256MB",
        threads=1,
    )


@pytest.fixture(scope="module", params=sorted(WRITERS))
def inv(request, tmp_path_factory):
    inventory = _open(tmp_path_factory.mktemp(request.param), request.param, ROWS)
    yield inventory
    inventory.close()


@pytest.fixture(scope="module", params=["s3-csv", "s3-orc", "s3-parquet"])
def versioned_inv(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("v-" + request.param)
    inventory = _open(tmp, request.param, _versioned(ROWS), versioned=True)
    yield inventory
    inventory.close()


# -- the reference: the same questions answered in plain Python -----------------------


def _entry(row: InvRow, versions: bool = False) -> Entry:
    return Entry(
        key=row.key,
        type="object",
        size=row.size,
        last_modified=row.last_modified,
        etag=row.etag,
        storage_class=row.storage_class,
        version_id=row.version_id if versions else None,
    )


def _children(rows: list[InvRow], prefix: str) -> tuple[list[tuple], list[InvRow]]:
    """(prefix children as (key, objects, bytes, newest, oldest)), direct objects."""
    groups: dict[str, list[InvRow]] = {}
    direct = []
    for row in rows:
        if not row.key.startswith(prefix):
            continue
        rest = row.key[len(prefix) :]
        if "/" in rest:
            groups.setdefault(prefix + rest[: rest.index("/") + 1], []).append(row)
        else:
            direct.append(row)
    prefixes = [
        (
            child,
            len(rs),
            sum(r.size for r in rs),
            max(r.last_modified for r in rs),
            min(r.last_modified for r in rs),
        )
        for child, rs in sorted(groups.items())
    ]
    return prefixes, sorted(direct, key=lambda r: r.key)


def _level_rows(inv: Inventory, prefix: str, **kw) -> list[tuple]:
    level = inv.level(prefix, **kw)
    return [
        (r.key, r.is_prefix, r.objects, r.bytes, r.newest, r.oldest, r.storage_class, r.etag)
        for r in level.rows
    ]


def _expected_level(rows: list[InvRow], prefix: str) -> list[tuple]:
    prefixes, direct = _children(rows, prefix)
    out = [(k, True, n, b, new, old, None, None) for k, n, b, new, old in prefixes]
    out += [
        (r.key, False, 1, r.size, r.last_modified, r.last_modified, r.storage_class, r.etag)
        for r in direct
    ]
    return out


def _under(rows: list[InvRow], prefix: str) -> list[InvRow]:
    return [r for r in rows if r.key.startswith(prefix)]


# -- every format, the same answers ----------------------------------------------------

LEVELS = ["", "data/", "a b/", "dir/", "dir//", "plus+dir/", "pct%41/", "ünïcødé/", "nothing/"]


def test_level_lists_children_with_recursive_totals(inv):
    for prefix in LEVELS:
        level = inv.level(prefix, limit=10_000)
        expected = _expected_level(ROWS, prefix)
        assert _level_rows(inv, prefix, limit=10_000) == expected, prefix
        under = _under(ROWS, prefix)
        assert (level.objects, level.bytes) == (len(under), sum(r.size for r in under)), prefix
        assert level.children == len(expected)
        assert not level.truncated


def test_level_root_names_keys_ending_in_slash_as_prefixes(inv):
    root = {r.key: r for r in inv.level("").rows}
    assert root["dir/"].is_prefix and root["dir/"].objects == 4  # dir/, inside, //double, //
    assert root["top-level.txt"].is_prefix is False
    inner = {r.key: r for r in inv.level("dir/").rows}
    assert inner["dir/"].is_prefix is False  # the marker object itself
    assert inner["dir//"].is_prefix and inner["dir//"].objects == 2


def test_level_pages_across_prefixes_and_objects(inv):
    prefix = "data/"
    everything = _expected_level(ROWS, prefix)
    for offset, limit in [(0, 3), (3, 4), (5, 10), (6, 1), (40, 5), (0, 0), (10**6, 5)]:
        level = inv.level(prefix, offset=offset, limit=limit)
        got = _level_rows(inv, prefix, offset=offset, limit=limit)
        assert got == everything[offset : offset + limit], (offset, limit)
        assert level.children == len(everything)
        assert level.offset == offset
        assert level.truncated == (offset + len(level.rows) < len(everything))


def test_level_with_more_prefixes_than_kept_pages_by_name(inv, monkeypatch):
    monkeypatch.setattr(query_module, "_LEVEL_WHOLE", 2)
    prefix = "models/"  # d0..d6 and objects: more prefix children than 2
    inv._levels.clear()
    everything = _expected_level(ROWS, prefix)
    for offset in (0, 2, 5, 7, 9):
        got = _level_rows(inv, prefix, offset=offset, limit=3)
        assert got == everything[offset : offset + 3], offset
    assert inv.level(prefix, limit=3).objects == len(_under(ROWS, prefix))
    inv._levels.clear()


def test_du_totals_times_and_classes(inv):
    inv.level("")  # kept: du of the root and of its children answer from it
    for prefix in ["", "data/", "data/d1/", "dir/", "a b/", "data/d", "zzz/"]:
        under = _under(ROWS, prefix)
        usage = inv.du(prefix)
        assert (usage.objects, usage.bytes) == (len(under), sum(r.size for r in under))
        assert usage.oldest == (min(r.last_modified for r in under) if under else None)
        assert usage.newest == (max(r.last_modified for r in under) if under else None)
        expected: dict[str, tuple[int, int]] = {}
        for r in under:
            n, b = expected.get(r.storage_class, (0, 0))
            expected[r.storage_class] = (n + 1, b + r.size)
        assert {c.storage_class: (c.objects, c.bytes) for c in usage.classes} == expected
        by_bytes = sorted((c.bytes for c in usage.classes), reverse=True)
        assert [c.bytes for c in usage.classes] == by_bytes
        assert inv.storage_classes(prefix) == usage.classes


def test_du_from_a_kept_level_equals_a_scan(inv):
    inv.level("data/")
    kept = inv.du("data/d2/")
    inv._levels.clear()
    inv._usage.clear()
    assert inv.du("data/d2/") == kept


def test_ages_histogram(inv):
    prefix = "logs/"
    edges = (1, 7, 30, 90, 180, 365, 730)
    buckets = inv.ages(prefix)
    lows = (0, *edges)
    assert [(b.lower, b.upper) for b in buckets] == list(zip(lows, (*edges, None), strict=True))
    assert buckets[2].label == "7–30 d" and buckets[-1].label == "730+ d"
    for b in buckets:
        inside = [
            r
            for r in _under(ROWS, prefix)
            if (CREATED - r.last_modified) >= timedelta(days=b.lower)
            and (b.upper is None or (CREATED - r.last_modified) < timedelta(days=b.upper))
        ]
        assert (b.objects, b.bytes) == (len(inside), sum(r.size for r in inside)), b.label
    assert sum(b.objects for b in buckets) == len(_under(ROWS, prefix))


def test_ages_custom_edges_and_bad_edges(inv):
    buckets = inv.ages("", edges=[100])
    assert [b.objects for b in buckets] == [
        sum(1 for r in ROWS if CREATED - r.last_modified < timedelta(days=100)),
        sum(1 for r in ROWS if CREATED - r.last_modified >= timedelta(days=100)),
    ]
    with pytest.raises(ValueError):
        inv.ages("", edges=[7, 7])


def _search_expected(q: SearchQuery) -> list[InvRow]:
    out = []
    for r in ROWS:
        if not r.key.startswith(q.prefix) or r.key.endswith("/"):
            continue
        rel = r.key[len(q.prefix) :]
        age = (CREATED - r.last_modified).total_seconds()
        if q.text and q.text.lower() not in rel.lower():  # case-insensitive, as live
            continue
        if q.glob is not None and not fnmatch.fnmatchcase(rel.lower(), q.glob.lower()):
            continue
        if q.min_size is not None and r.size < q.min_size:
            continue
        if q.max_size is not None and r.size > q.max_size:
            continue
        if q.older_than is not None and not age > q.older_than:
            continue
        if q.newer_than is not None and not age < q.newer_than:
            continue
        if q.storage_class is not None and r.storage_class != q.storage_class:
            continue
        out.append(r)
    return sorted(out, key=lambda r: r.key)


SEARCHES = [
    SearchQuery(text="d3/f1"),
    SearchQuery(text="%"),
    SearchQuery(text="_"),
    SearchQuery(text="+"),
    SearchQuery(text="'"),
    SearchQuery(text="D3"),  # case-insensitive: as d3
    SearchQuery(text="D3/F1"),  # "3/" is looked for as is first, then the whole lower-cased
    SearchQuery(prefix="data/", text="D3/F1"),
    SearchQuery(glob="*.CKPT"),
    SearchQuery(prefix="data/", text="d1"),
    SearchQuery(prefix="data/", text="data"),  # relative to the prefix: nothing
    SearchQuery(glob="*.ckpt"),
    SearchQuery(glob="data/*/f?[0-4]*.json"),
    SearchQuery(prefix="a b/", glob="*.txt"),
    SearchQuery(glob="*[!a-z]"),
    SearchQuery(glob="\\*"),
    SearchQuery(min_size=500_000_000, max_size=600_000_000),
    SearchQuery(older_than=365 * 86_400, storage_class="GLACIER"),
    SearchQuery(newer_than=30 * 86_400, prefix="logs/"),
    SearchQuery(text=".bin", limit=5),
    SearchQuery(text=".bin", limit=0),
    SearchQuery(storage_class="DEEP_ARCHIVE"),
]


def test_search(inv):
    for query in SEARCHES:
        expected = _search_expected(query)
        result = inv.search(query)
        assert result.matched == len(expected), query
        assert result.bytes == sum(r.size for r in expected), query
        assert result.rows == [_entry(r) for r in expected[: query.limit]], query
        assert result.truncated == (len(expected) > query.limit)


def test_objects_stream_in_batches_by_key(inv):
    batches = list(inv.objects("data/", batch=100))
    assert all(0 < len(b) <= 100 for b in batches)
    got = [e for b in batches for e in b]
    assert got == [_entry(r) for r in sorted(_under(ROWS, "data/"), key=lambda r: r.key)]
    narrowed = [
        e for b in inv.objects("", older_than=400 * 86_400, min_size=10, max_size=10**8) for e in b
    ]
    assert narrowed == [
        _entry(r)
        for r in ROWS
        if (CREATED - r.last_modified).total_seconds() > 400 * 86_400 and 10 <= r.size <= 10**8
    ]
    assert [e.key for b in inv.objects("dir/") for e in b] == [
        "dir/",
        "dir//",
        "dir//double.txt",
        "dir/inside.txt",
    ]


def test_a_prefix_with_like_metacharacters_is_literal(inv):
    assert [r.key for r in inv.level("under_score/").rows] == ["under_score/x_1.txt"]
    assert inv.du("under_").objects == 1  # not underXscore/
    assert inv.du("pct%").objects == len(_under(ROWS, "pct%"))
    assert inv.du("quote'\"dir/").objects == 1
    assert [e.key for b in inv.objects("new\nline/") for e in b] == ["new\nline/tab\tkey.txt"]


# -- versioned reports -------------------------------------------------------------------


def test_versioned_report_counts_current_versions_only(versioned_inv):
    inv = versioned_inv
    assert _level_rows(inv, "", limit=10_000) == _expected_level(ROWS, "")
    assert _level_rows(inv, "data/", limit=10_000) == _expected_level(ROWS, "data/")
    assert inv.du("").objects == len(ROWS)
    assert inv.du("data/").bytes == sum(r.size for r in _under(ROWS, "data/"))
    found = inv.search(SearchQuery(text="d2/", limit=10))
    assert [e.version_id for e in found.rows] == [
        f"v{ROWS.index(r)}-cur" for r in _search_expected(SearchQuery(text="d2/"))[:10]
    ]
    keys = [e.key for b in inv.objects("data/") for e in b]
    assert keys == [r.key for r in _under(ROWS, "data/")]  # no deleted-* key


# -- formats -----------------------------------------------------------------------------


def test_s3_csv_keys_are_form_url_encoded_as_s3_writes_them(tmp_path):
    rows = [InvRow("a b/c+d%.txt", 1)]
    written = write_s3_csv(rows, tmp_path)
    line = gzip.decompress(written.paths[0].read_bytes()).decode()
    assert '"a+b/c%2Bd%25.txt"' in line and s3_csv_key("a b") == "a+b"
    inv = Inventory(_report("s3", "CSV", written), written.paths, work_dir=tmp_path / "w")
    with inv:
        assert [e.key for b in inv.objects() for e in b] == ["a b/c+d%.txt"]


def test_gcs_csv_without_a_header_row(tmp_path):
    written = write_gcs_csv(ROWS[:20], tmp_path)
    body = written.paths[0].read_text(encoding="utf-8").split("\n", 1)[1]
    written.paths[0].write_text(body, encoding="utf-8")
    with Inventory(_report("gcs", "CSV", written), written.paths, work_dir=tmp_path / "w") as inv:
        assert inv.du("").objects == 20


def test_report_without_optional_fields(tmp_path):
    written = write_s3_parquet(ROWS, tmp_path, fields=("bucket", "key"))
    with Inventory(
        _report("s3", "Parquet", written), written.paths, work_dir=tmp_path / "w"
    ) as inv:
        usage = inv.du("data/")
        assert usage.objects == len(_under(ROWS, "data/"))
        assert usage.bytes == 0 and usage.newest is None
        assert [c.storage_class for c in usage.classes] == [UNKNOWN_CLASS]
        assert sum(b.objects for b in inv.ages("")) == 0  # no times: no ages
        assert inv.level("dir/").rows[0].newest is None


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_empty_report(tmp_path, kind):
    inv = _open(tmp_path, kind, [])
    with inv:
        level = inv.level("")
        assert (level.rows, level.children, level.objects, level.bytes) == ([], 0, 0, 0)
        assert inv.du("") == Usage(prefix="", objects=0, bytes=0)
        assert inv.du("x/").objects == 0
        assert inv.search(SearchQuery()).matched == 0
        assert list(inv.objects()) == []
        assert sum(b.objects for b in inv.ages()) == 0


def test_report_with_no_data_files(tmp_path):
    written = Written(
        [], S3_FIELDS, ("Bucket", "Key", "Size", "LastModifiedDate", "ETag", "StorageClass"), ""
    )
    with Inventory(_report("s3", "CSV", written), [], work_dir=tmp_path / "w") as inv:
        assert inv.level("").children == 0 and inv.du("").objects == 0


def test_missing_or_unreadable_files_are_refused(tmp_path):
    from pail.services.inventory.model import InventoryError

    written = write_s3_parquet(ROWS[:5], tmp_path / "d")
    report = _report("s3", "Parquet", written)
    with pytest.raises(InventoryError, match="missing"):
        Inventory(report, [tmp_path / "nope.parquet"], work_dir=tmp_path / "w")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(InventoryError):
        Inventory(report, [bad], work_dir=tmp_path / "w")
    orc = write_s3_orc(ROWS[:5], tmp_path / "o")
    wrong = replace(
        _report("s3", "ORC", orc),
        source_fields=("bucket", "key", "size", "nope", "e_tag", "storage_class"),
    )
    with pytest.raises(InventoryError, match="no column"):
        Inventory(wrong, orc.paths, work_dir=tmp_path / "w2")


def test_file_names_with_glob_characters_are_read_as_names(tmp_path):
    written = write_s3_parquet(ROWS[:10], tmp_path / "d")
    report = _report("s3", "Parquet", written)
    odd = tmp_path / "d" / "part[1]*.parquet"
    written.paths[0].rename(odd)
    decoy = write_s3_parquet(ROWS[10:30], tmp_path / "d")  # would match the glob "part1..."
    decoy.paths[0].rename(tmp_path / "d" / "part1x.parquet")
    with Inventory(report, [odd], work_dir=tmp_path / "w") as inv:
        assert inv.du("").objects == 10


@pytest.mark.parametrize("kind", ["s3-csv", "s3-orc"])
def test_conversion_is_done_once_and_redone_when_a_file_changes(tmp_path, kind):
    provider, fmt, writer, fields = WRITERS[kind]
    written = writer(ROWS[:200], tmp_path / "data", fields=fields, files=2)
    report = _report(provider, fmt, written)
    progress = []
    with Inventory(
        report, written.paths, work_dir=tmp_path / "w", on_progress=progress.append
    ) as first:
        assert first.converted == 2
        answer = first.du("")
    assert [(p.stage, p.done, p.total) for p in progress] == [
        ("preparing", 0, 2),
        ("preparing", 1, 2),
        ("preparing", 2, 2),
    ]
    with Inventory(report, written.paths, work_dir=tmp_path / "w") as again:
        assert again.converted == 0
        assert again.du("") == answer
    os.utime(written.paths[1], ns=(1, 1))
    with Inventory(report, written.paths, work_dir=tmp_path / "w") as changed:
        assert changed.converted == 2


def test_conversion_can_be_cancelled(tmp_path):
    written = write_s3_csv(ROWS, tmp_path / "data", files=2)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(QueryCancelled):
        Inventory(
            _report("s3", "CSV", written), written.paths, work_dir=tmp_path / "w", cancel=cancel
        )
    with Inventory(_report("s3", "CSV", written), written.paths, work_dir=tmp_path / "w") as inv:
        assert inv.converted == 2  # nothing half-done was kept


def test_no_extension_is_installed_or_loaded(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    inv = _open(tmp_path, "s3-csv", ROWS[:100])
    with inv:
        inv.level("")
        inv.search(SearchQuery(glob="*.bin"))
        inv.ages("")
        cur = inv._db.cursor()
        assert cur.execute("SELECT current_setting('autoinstall_known_extensions')").fetchone() == (
            False,
        )
        assert cur.execute("SELECT current_setting('autoload_known_extensions')").fetchone() == (
            False,
        )
        # Nothing is drawn on the terminal (the app owns it).
        assert cur.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)
        with pytest.raises(duckdb.Error):  # the configuration is locked
            cur.execute("SET autoinstall_known_extensions = true")
        with pytest.raises(duckdb.Error):  # httpfs is not built in and is never fetched
            cur.execute(
                "SELECT * FROM read_parquet('https://example.invalid/x.parquet')"
            ).fetchall()
        cur.close()
    assert not (tmp_path / "work" / "duckdb-extensions").exists()
    assert list(home.iterdir()) == []


def test_timestamps_are_aware_utc(inv):
    row = inv.level("", limit=1).rows[0]
    assert row.newest is not None and row.newest.utcoffset() == timedelta(0)
    entry = next(inv.objects("data/", batch=1))[0]
    assert entry.last_modified is not None and entry.last_modified.tzinfo is not None


# -- cancelling --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("big")
    path = tmp / "big.parquet"
    # 200,000 rows in S3's Parquet layout, written by DuckDB (quicker than Python strings).
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'b' AS bucket, "
        "printf('p%02d/q%03d/obj-%07d.bin', i % 50, i % 997, i) AS key, i AS size, "
        "make_timestamptz(1_700_000_000_000_000 + i * 1000) AS last_modified_date, "
        "printf('%032x', i) AS e_tag, 'STANDARD' AS storage_class FROM range(200000) t(i)) "
        f"TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 20000)"
    )
    con.close()
    columns = ("bucket", "key", "size", "last_modified_date", "e_tag", "storage_class")
    written = Written([path], S3_FIELDS, columns, "")
    inventory = Inventory(_report("s3", "Parquet", written), [path], work_dir=tmp / "w", threads=1)
    yield inventory
    inventory.close()


def test_interrupt_from_another_thread_cancels_a_running_query(big):
    outcome: list[object] = []
    started = threading.Event()

    def run() -> None:
        started.set()
        try:
            outcome.append(big.search(SearchQuery(glob="*[!0-9]?[0-9]*x*[a-z]??*.bin*")))
        except QueryCancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    while worker.is_alive() and not big._calls:  # until the query is running
        threading.Event().wait(0.001)
    threading.Thread(target=big.interrupt).start()
    worker.join()
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled)
    assert big.du("p01/").objects == 4_000  # the next query runs


def test_interrupt_stops_a_stream_between_batches(big):
    stream = big.objects("", batch=1000)
    assert len(next(stream)) == 1000
    helper = threading.Thread(target=big.interrupt)
    helper.start()
    helper.join()
    with pytest.raises(QueryCancelled):
        next(stream)
    assert big.du("").objects == 200_000


def test_calls_from_several_threads_at_once(big):
    results: dict[str, object] = {}

    def ask(name: str, fn) -> None:
        results[name] = fn()

    threads = [
        threading.Thread(target=ask, args=(f"du{i}", lambda i=i: big.du(f"p{i:02d}/").objects))
        for i in range(6)
    ] + [
        threading.Thread(
            target=ask, args=("search", lambda: big.search(SearchQuery(text="obj-00000")).matched)
        )
    ]  # obj-0000000..99
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {**{f"du{i}": 4_000 for i in range(6)}, "search": 100}


# -- globs -------------------------------------------------------------------------------


def test_glob_regex_matches_fnmatchcase_in_duckdb():
    """Random patterns over the characters that matter, compared in DuckDB itself.
    DuckDB's own GLOB differs (a backslash escapes there; an unclosed '[' never matches)."""
    rnd = random.Random(3)
    alphabet = "ab/-![]*?^\\:\n"
    cases = []
    for _ in range(2000):
        pattern = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 7)))
        text = "".join(rnd.choice("ab/-![]^\\:\n") for _ in range(rnd.randint(0, 5)))
        cases.append((pattern, glob_regex(pattern), text, fnmatch.fnmatchcase(text, pattern)))
    cases += [
        ("a*c", glob_regex("a*c"), "a/b/c", True),
        ("[", glob_regex("["), "[", True),
        ("\\", glob_regex("\\"), "\\", True),
        ("[z-a]", glob_regex("[z-a]"), "a", False),
        ("[!z-a]", glob_regex("[!z-a]"), "q", True),
    ]
    table = pa.table({k: [c[i] for c in cases] for i, k in enumerate(["p", "r", "s", "e"])})
    con = duckdb.connect()
    con.register("cases", table)
    wrong = con.execute("SELECT p, s, e FROM cases WHERE regexp_full_match(s, r) != e").fetchall()
    assert wrong == []
    assert con.execute("SELECT '\\' GLOB '\\', '[' GLOB '['").fetchone() == (False, False)


def test_close_waits_for_a_running_query_then_closes(tmp_path):
    """close() while a query runs on another thread (DuckDB refuses to close a busy
    connection) and while a stream is parked between batches: the query raises
    QueryCancelled, close returns once it has, and nothing runs afterwards."""
    path = tmp_path / "big.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'b' AS bucket, printf('p%02d/q%03d/obj-%07d.bin', i % 50, i % 997, i) "
        "AS key, i AS size, make_timestamptz(1_700_000_000_000_000 + i * 1000) AS "
        "last_modified_date, printf('%032x', i) AS e_tag, 'STANDARD' AS storage_class "
        f"FROM range(200000) t(i)) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 20000)"
    )
    con.close()
    columns = ("bucket", "key", "size", "last_modified_date", "e_tag", "storage_class")
    written = Written([path], S3_FIELDS, columns, "")
    inv = Inventory(_report("s3", "Parquet", written), [path], work_dir=tmp_path / "w", threads=1)
    parked = inv.objects("", batch=100)
    assert len(next(parked)) == 100
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(1000):
                inv.search(SearchQuery(glob="*[!0-9]?[0-9]*x*[a-z]??*.bin*"))
        except Exception as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    while worker.is_alive() and len(inv._calls) < 2:  # until the search is running
        threading.Event().wait(0.001)
    inv.close()
    assert not any(not c.parked for c in inv._calls)  # close returned after the search
    worker.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], QueryCancelled | InventoryError)
    with pytest.raises((QueryCancelled, InventoryError)):
        next(parked)
    with pytest.raises(InventoryError):
        inv.du("")
