"""``pail inventory`` against moto's server over HTTP: a source bucket seeded in-process,
its inventory configuration set through moto's S3 API, and a report of it (B's data file
writers, A's manifests) published under the destination as S3 lays it out; one key is
overwritten after the report (the plan must leave it alone). GCS reports on
gcp-storage-emulator for the BigQuery SQL. In-process with click's CliRunner.

The tests that change nothing share one store and one download cache (``shared``); every
bucket has a name of its own, and nothing here resets the server, so they stay apart."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from support.cli import pail_exe, run, s3_args
from support.fault_proxy import Rule
from support.inventory_manifests import gcs_put, moto_put, publish_gcs, publish_s3
from support.inventory_reports import (
    S3_FIELDS,
    InvRow,
    write_gcs_parquet,
    write_s3_csv,
    write_s3_parquet,
)
from support.servers import gcs_client, moto_backend, s3_client, seed_keys

NOW = datetime.now(timezone.utc).replace(microsecond=0)
#: key -> (size in bytes, age in days, storage class the report lists)
OBJECTS = {
    "runs/old-1/model.ckpt": (100, 200, "STANDARD"),
    "runs/old-1/log.txt": (10, 200, "STANDARD"),
    "runs/old-2/model.ckpt": (100, 150, "STANDARD"),
    "runs/new/model.ckpt": (100, 2, "STANDARD"),
    "data/a.parquet": (1000, 40, "STANDARD"),
    "data/b.parquet": (2000, 400, "GLACIER"),
    "README.md": (5, 10, "STANDARD"),
}
#: Overwritten after the report was taken: the report's row no longer describes it.
CHANGED = "runs/old-2/model.ckpt"
LABEL = re.compile(r"^inventory of \d{4}-\d\d-\d\d \d\d:\d\d UTC — a snapshot, not a live listing$")


@dataclass
class Store:
    endpoint: str
    source: str
    dest: str
    created: datetime
    manifest_key: str
    cache: Path

    def args(self, *more: str) -> list[str]:
        return ["inventory", *s3_args(self.endpoint), *more]

    def env(self) -> dict[str, str]:
        return {"XDG_CACHE_HOME": str(self.cache)}

    def keys(self) -> list[str]:
        pages = (
            s3_client(self.endpoint).get_paginator("list_objects_v2").paginate(Bucket=self.source)
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def _seed(source: str) -> list[InvRow]:
    """The source's objects with their ages, and the report's rows describing them (size,
    ETag, last-modified as the store has them)."""
    seed_keys(source, {key: b"x" * size for key, (size, _, _) in OBJECTS.items()})
    found = moto_backend().buckets[source].keys
    rows = []
    for key, (size, age, storage_class) in OBJECTS.items():
        when = NOW - timedelta(days=age)
        found[key].last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC
        etag = found[key].etag.strip('"')
        rows.append(InvRow(key, size, when, etag, storage_class, bucket=source))
    return rows


def _configure(endpoint: str, source: str, dest: str) -> None:
    s3_client(endpoint).put_bucket_inventory_configuration(
        Bucket=source,
        Id="daily",
        InventoryConfiguration={
            "Destination": {
                "S3BucketDestination": {
                    "Bucket": f"arn:aws:s3:::{dest}",
                    "Format": "CSV",
                    "Prefix": "inventory",
                }
            },
            "IsEnabled": True,
            "Id": "daily",
            "IncludedObjectVersions": "Current",
            "Schedule": {"Frequency": "Daily"},
        },
    )


def _store(endpoint: str, folder: Path) -> Store:
    """A fresh source bucket with its configuration, its report (taken an hour ago) and
    one key written again since, on the session's moto server."""
    source = f"pail-{uuid.uuid4().hex[:12]}"
    dest = source + "-inv"
    rows = _seed(source)
    seed_keys(dest, {})
    _configure(endpoint, source, dest)
    created = NOW - timedelta(hours=1)
    written = write_s3_csv(rows, folder / "written", fields=S3_FIELDS)
    published = publish_s3(
        moto_put(dest), written, source_bucket=source, dest_bucket=dest, created=created
    )
    # After the report: one key written again (new size, ETag and time).
    seed_keys(source, {CHANGED: b"y" * 150}, create=False)
    return Store(endpoint, source, dest, created, published.manifest_key, folder / "cache")


@pytest.fixture(scope="module")
def shared(moto_server, tmp_path_factory) -> Store:
    """One store (and one download cache) for the tests that change nothing in it."""
    return _store(moto_server, tmp_path_factory.mktemp("inventory"))


@pytest.fixture
def store(moto_server, tmp_path) -> Store:
    """A store of the test's own, for tests that delete or write rules."""
    return _store(moto_server, tmp_path)


def _label_first(stderr: str) -> None:
    assert LABEL.match(stderr.splitlines()[0]), stderr


# --- SQL ------------------------------------------------------------------------------------


def test_sql_athena_prints_the_table_and_the_question(shared):
    result = run(shared.args("--sql", "athena", f"s3://{shared.source}/runs/"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    out = result.stdout
    assert "CREATE EXTERNAL TABLE IF NOT EXISTS" in out and "MSCK REPAIR TABLE" in out
    assert f"s3://{shared.dest}/inventory/{shared.source}/daily/hive/" in out
    assert "LIKE 'runs/%'" in out and "url_decode" in out  # CSV keys are URL-encoded
    assert not (shared.cache / "pail").exists()  # no data file was downloaded


def test_the_stale_question_as_sql_and_run_rules_refused(shared):
    uri = f"s3://{shared.source}/runs/"
    stale = run(shared.args("--sql", "athena", "--stale", "--older-than", "90d", uri))
    assert stale.exit_code == 0, stale.stderr
    assert "CREATE EXTERNAL TABLE" in stale.stdout and "obj_time" in stale.stdout
    runs = run(shared.args("--sql", "athena", "--stale", "--keep-last", "1", uri))
    assert runs.exit_code == 2 and "run rules" in runs.stderr
    # In pail itself run rules plan by detected runs: none here, so it refuses (as rm).
    none = run(shared.args("--stale", "--keep-last", "1", uri), env=shared.env())
    assert none.exit_code == 2 and "no runs found" in none.stderr and not none.stdout
    engine = run(shared.args("--sql", "bigquery", uri))
    assert engine.exit_code == 2 and "GCS inventory reports" in engine.stderr
    assert "Traceback" not in engine.stderr + runs.stderr


def test_sql_json(shared):
    result = run(shared.args("--sql", "athena", "--du", "--json", f"s3://{shared.source}/"))
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["engine"] == "athena" and len(doc["setup"]) == 3
    assert [q["question"] for q in doc["questions"]] == ["du", "ages"]
    assert doc["report"]["source_bucket"] == shared.source
    assert doc["report"]["created"] == shared.created.strftime("%Y-%m-%dT%H:%M:%SZ")


def _queue_athena(*results: list[list[str | None]]) -> None:
    """Result sets moto's Athena (in this process, behind the server) hands out in order;
    a SELECT's first row is its header, as Athena sends it."""
    from moto.athena.models import QueryResults, athena_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    queue = athena_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].query_results_queue
    for rows in results:
        cells = [{"Data": [{} if v is None else {"VarCharValue": v} for v in r]} for r in rows]
        labels = [{"Name": v, "Label": v} for v in (rows[0] if rows else [])]
        queue.append(QueryResults(rows=cells, column_info=labels))


def test_run_on_athena_prints_the_answer(shared):
    header = ["matched", "total_bytes", "obj_key", "obj_size", "obj_time", "obj_etag"]
    header += ["obj_class", "obj_version"]
    row = ["2", "110", "runs/old-1/log.txt", "10", "2026-05-14 16:01:11.000 UTC", "e1"]
    row += ["STANDARD", None]
    more = ["2", "110", "runs/old-1/model.ckpt", "100", "2026-05-14 16:01:11.000 UTC", "e2"]
    more += ["STANDARD", None]
    # The table's three statements (no rows), then the question's rows.
    _queue_athena([], [], [["partitions added"]], [header, row, more])
    args = ["--sql", "athena", "--stale", "--older-than", "90d", "--run"]
    args += ["--athena-output", "s3://athena-results/pail/", "--athena-database", "inv"]
    args += ["--athena-endpoint", shared.endpoint, "--json"]
    result = run(shared.args(*args, f"s3://{shared.source}/runs/"))
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("Athena query") == 4  # each statement's id, on stderr
    doc = json.loads(result.stdout)
    assert [r["key"] for r in doc["rows"]] == ["runs/old-1/log.txt", "runs/old-1/model.ckpt"]
    assert (doc["matched"], doc["bytes"]) == (2, 110)
    assert doc["rows"][0]["last_modified"] == "2026-05-14T16:01:11Z"


def test_a_gcs_report_as_bigquery_sql_and_as_a_level(gcs_emulator, bucket_name, tmp_path):
    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name)
    dest = client.create_bucket(bucket_name + "-inv")
    rows = [InvRow("runs/a.bin", 10, bucket=bucket_name), InvRow("b.txt", 3, bucket=bucket_name)]
    written = write_gcs_parquet(rows, tmp_path / "w")
    published = publish_gcs(gcs_put(dest), written, source_bucket=bucket_name)
    manifest = f"gs://{dest.name}/{published.manifest_key}"
    uri = f"gs://{bucket_name}/runs/"
    result = run(
        ["inventory", "--sql", "bigquery", "--manifest", manifest, "--search", "*.bin", uri]
    )
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    assert "CREATE OR REPLACE EXTERNAL TABLE" in result.stdout
    assert f"gs://{dest.name}/reports/" in result.stdout and "format = 'PARQUET'" in result.stdout
    athena = run(["inventory", "--sql", "athena", "--manifest", manifest, uri])
    assert athena.exit_code == 2 and "S3 Inventory" in athena.stderr
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    level = run(["inventory", "--manifest", manifest, f"gs://{bucket_name}/"], env=env)
    assert level.exit_code == 0, level.stderr
    assert _rows(level.stdout) == [("10", "1", "runs/"), ("3", "", "b.txt")]


# --- errors ----------------------------------------------------------------------------------


def test_no_inventory_is_exit_3_with_a_hint(moto_server, bucket_name):
    seed_keys(bucket_name, ["a.txt"])
    result = run(["inventory", *s3_args(moto_server), f"s3://{bucket_name}/"])
    assert result.exit_code == 3, result.stderr
    assert "no inventory configuration" in result.stderr and "--manifest" in result.stderr
    assert "Traceback" not in result.stderr and not result.stdout


def test_a_bad_manifest_checksum_is_refused(moto_server, bucket_name, tmp_path):
    dest = bucket_name + "-inv"
    rows = _seed(bucket_name)
    written = write_s3_parquet(rows, tmp_path / "w")
    published = publish_s3(
        moto_put(dest), written, source_bucket=bucket_name, dest_bucket=dest,
        created=NOW, checksum=b"0" * 32 + b"\n",
    )  # fmt: skip
    manifest = f"s3://{dest}/{published.manifest_key}"
    args = ["inventory", *s3_args(moto_server), "--manifest", manifest, f"s3://{bucket_name}/"]
    result = run(args, env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.exit_code == 1, result.stderr
    assert "checksum" in result.stderr and "refused" in result.stderr
    assert "Traceback" not in result.stderr and not result.stdout
    assert not (tmp_path / "cache" / "pail").exists()  # nothing was downloaded


def test_options_that_do_not_go_together(shared):
    uri = f"s3://{shared.source}/"
    cases = [
        (["--du", "--stale", "--older-than", "1d"], "separate questions"),
        (["--older-than", "1d"], "--older-than goes with --stale"),
        (["--stale", "--delete"], "--stale needs a filter"),
        (["--delete"], "--delete goes with --stale"),
        (["--run"], "--run runs Athena SQL"),
        (["--sql", "athena", "--run"], "--run needs --athena-output and --athena-database"),
        (["--offset", "5", "--du"], "--offset pages the level"),
        (["--stale", "--older-than", "soon"], "soon"),
    ]
    for extra, message in cases:
        result = run(shared.args(*extra, uri))
        assert result.exit_code == 2, (extra, result.stderr)
        assert message in result.stderr, (extra, result.stderr)


# --- the level, du, search --------------------------------------------------------------------

ROW = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +(\S+(?: \S+)?) +([\d,]*) (\S+)$")


def _rows(stdout: str) -> list[tuple[str, str, str]]:
    """(size, objects, name) of each level row."""
    found = []
    for line in stdout.splitlines():
        match = ROW.match(line)
        assert match, line
        found.append(match.group(2, 3, 4))
    return found


def test_level_rows_are_like_ls_with_recursive_totals(shared):
    result = run(shared.args(f"s3://{shared.source}/"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    # Prefixes first, with the objects and bytes under them (the report's view: old-2 at
    # its old size), then the objects.
    assert _rows(result.stdout) == [
        ("3000", "2", "data/"),
        ("310", "4", "runs/"),
        ("5", "", "README.md"),
    ]
    assert "7 objects" in result.stderr
    human = run(shared.args("-h", f"s3://{shared.source}/"), env=shared.env())
    assert [r[0] for r in _rows(human.stdout)] == ["2.9 KiB", "310 B", "5 B"]


def test_level_pages_with_limit_and_offset(shared):
    uri = f"s3://{shared.source}/runs/"
    first = run(shared.args("--limit", "2", uri), env=shared.env())
    assert first.exit_code == 0, first.stderr
    assert [r[2] for r in _rows(first.stdout)] == ["new/", "old-1/"]
    assert "rows 1-2 of 3" in first.stderr and "--offset 2" in first.stderr
    second = run(shared.args("--limit", "2", "--offset", "2", uri), env=shared.env())
    assert [r[2] for r in _rows(second.stdout)] == ["old-2/"]
    assert "rows 3-3 of 3" in second.stderr and "--offset" not in second.stderr.split("\n", 2)[2]


def test_a_prefix_the_report_does_not_hold(shared):
    result = run(shared.args(f"s3://{shared.source}/nope/"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    assert not result.stdout and "no such prefix in the report" in result.stderr


def test_level_json(shared):
    result = run(shared.args("--json", "--limit", "2", f"s3://{shared.source}"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    report = doc["report"]
    assert report["label"].startswith("inventory of ") and report["snapshot"] is True
    assert report["source_bucket"] == shared.source and report["format"] == "CSV"
    assert report["manifest"] == f"s3://{shared.dest}/{shared.manifest_key}"
    assert (doc["prefix"], doc["objects"], doc["bytes"]) == ("", 7, 3315)
    assert (doc["children"], doc["truncated"], doc["limit"]) == (3, True, 2)
    data, runs = doc["rows"]
    assert data == {
        "key": "data/",
        "uri": f"s3://{shared.source}/data/",
        "type": "prefix",
        "objects": 2,
        "bytes": 3000,
        "newest": (NOW - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "oldest": (NOW - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "storage_class": None,
        "etag": None,
    }
    assert runs["key"] == "runs/" and runs["objects"] == 4


def test_du_draws_classes_and_ages(shared):
    result = run(shared.args("--du", f"s3://{shared.source}/"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    out = result.stdout
    assert out.startswith(f"s3://{shared.source}/: 7 objects, 3315 bytes\n")
    lines = out.splitlines()
    glacier = next(line for line in lines if line.split()[:1] == ["GLACIER"])
    assert glacier.split()[1:3] == ["1", "2000"] and glacier.endswith("60.3%")
    assert "█" * 18 in glacier  # 60 % of a 30-cell bar
    assert any(line.split()[:3] == ["365–730", "d", "1"] for line in lines), out
    doc = json.loads(run(shared.args("--du", "--json", f"s3://{shared.source}/runs/")).stdout)
    assert (doc["prefix"], doc["objects"], doc["bytes"]) == ("runs/", 4, 310)
    assert doc["classes"] == [{"storage_class": "STANDARD", "objects": 4, "bytes": 310}]
    assert sum(a["objects"] for a in doc["ages"]) == 4
    assert {"label", "lower", "upper", "objects", "bytes"} <= set(doc["ages"][0])


def test_search_in_the_live_search_syntax(shared):
    result = run(shared.args("--search", "*.ckpt", f"s3://{shared.source}/"), env=shared.env())
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    names = [line.split()[-1] for line in result.stdout.splitlines()]
    assert names == ["runs/new/model.ckpt", "runs/old-1/model.ckpt", "runs/old-2/model.ckpt"]
    assert "3 matches (300 B)" in result.stderr
    sized = run(shared.args("--json", "--search", "size>500", f"s3://{shared.source}/"))
    doc = json.loads(sized.stdout)
    assert [r["key"] for r in doc["rows"]] == ["data/a.parquet", "data/b.parquet"]
    assert (doc["matched"], doc["bytes"], doc["truncated"]) == (2, 3000, False)
    assert doc["rows"][1]["storage_class"] == "GLACIER"
    assert doc["rows"][1]["uri"] == f"s3://{shared.source}/data/b.parquet"
    limited = run(shared.args("--search", "age>90d", "--limit", "1", f"s3://{shared.source}/"))
    assert len(limited.stdout.splitlines()) == 1 and "the first 1 shown" in limited.stderr
    bad = run(shared.args("--search", "size>lots", f"s3://{shared.source}/"))
    assert bad.exit_code == 2 and "--search" in bad.stderr and "Traceback" not in bad.stderr


# --- stale plans ------------------------------------------------------------------------------


def test_stale_plan_leaves_the_changed_key_alone(shared):
    uri = f"s3://{shared.source}/runs/"
    result = run(shared.args("--stale", "--older-than", "90d", uri), env=shared.env())
    assert result.exit_code == 0, result.stderr
    _label_first(result.stderr)
    assert result.stdout.splitlines() == [
        f"s3://{shared.source}/runs/old-1/log.txt",
        f"s3://{shared.source}/runs/old-1/model.ckpt",
    ]
    err = result.stderr
    assert "From the report: 3 objects" in err and "1 left alone" in err
    changed = next(line for line in err.splitlines() if CHANGED in line)
    assert "ETag differs" in changed and "after the report" in changed
    assert "Delete 2 objects" in err and "nothing was deleted" in err
    assert "expire after 90 days" in err  # the lifecycle rule doing the same
    assert shared.keys() == sorted(OBJECTS)


def test_stale_delete_deletes_only_unchanged_keys(store):
    uri = f"s3://{store.source}/"
    refused = run(store.args("--stale", "--older-than", "90d", "--delete", uri), env=store.env())
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert store.keys() == sorted(OBJECTS)
    result = run(
        store.args("--stale", "--older-than", "90d", "--delete", "--yes", "--verify", uri),
        env=store.env(),
    )
    assert result.exit_code == 0, result.stderr
    assert not result.stdout
    assert "deleted 3 objects" in result.stderr and "verified" in result.stderr
    gone = {"runs/old-1/log.txt", "runs/old-1/model.ckpt", "data/b.parquet"}
    assert store.keys() == sorted(set(OBJECTS) - gone)  # CHANGED is still there
    body = s3_client(store.endpoint).get_object(Bucket=store.source, Key=CHANGED)["Body"]
    assert body.read() == b"y" * 150


def test_stale_json(shared):
    uri = f"s3://{shared.source}/runs/"
    result = run(shared.args("--stale", "--older-than", "90d", "--json", uri), env=shared.env())
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["candidates"], doc["candidate_bytes"]) == (3, 210)
    assert doc["planned"]["objects"] == 2 and doc["planned"]["bytes"] == 110
    assert [k["key"] for k in doc["planned"]["keys"]] == [
        "runs/old-1/log.txt",
        "runs/old-1/model.ckpt",
    ]
    (changed,) = doc["changed"]
    assert changed["key"] == CHANGED and "ETag differs" in changed["why"]
    rule = doc["lifecycle"]["rules"][0]
    assert rule["Filter"] == {"Prefix": "runs/"} and rule["Expiration"] == {"Days": 90}
    assert doc["lifecycle_refused"] == []
    refused = run(shared.args("--stale", "--regex", "ckpt$", "--json", uri), env=shared.env())
    doc = json.loads(refused.stdout)
    assert doc["lifecycle"] is None and any(
        "regular expression" in r for r in doc["lifecycle_refused"]
    )


def test_stale_lifecycle_prints_and_applies_the_rule(store):
    uri = f"s3://{store.source}/runs/"
    printed = run(store.args("--stale", "--older-than", "30d", "--lifecycle", uri))
    assert printed.exit_code == 0, printed.stderr
    (rule,) = json.loads(printed.stdout)["Rules"]
    assert rule["Filter"] == {"Prefix": "runs/"} and rule["Expiration"] == {"Days": 30}
    refused = run(store.args("--stale", "--regex", "x", "--lifecycle", uri))
    assert refused.exit_code == 2 and "regular expression" in refused.stderr
    applied = run(store.args("--stale", "--older-than", "30d", "--apply-lifecycle", "--yes", uri))
    assert applied.exit_code == 0, applied.stderr
    assert "lifecycle rules written" in applied.stderr
    stored = s3_client(store.endpoint).get_bucket_lifecycle_configuration(Bucket=store.source)
    assert [r["Expiration"]["Days"] for r in stored["Rules"]] == [30]


def test_ctrl_c_while_the_report_downloads_exits_130_at_once(faults, shared, tmp_path):
    faults.add(Rule(method="GET", path="/data/", action="hang", times=None))
    args = [pail_exe(), "inventory", *s3_args(faults.url), f"s3://{shared.source}/"]
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 60
        while not faults.rules[0].hits and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert faults.rules[0].hits, "the data file was never asked for"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)  # a functional bound: the GET never answers
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err and not out
