"""The demo store's S3 Inventory (pail.demo.inventory): the generated report, its cache, and
what the demo puts into the store (configuration, manifest, data files, live sample).

The report is generated small here (a few thousand rows); seeding runs against the session's
moto server (auth off) through the same in-process backend the demo uses, and one test starts
``pail demo --serve`` itself and asks it with boto3 and the demo's admin keys.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pail.demo import inventory as inv
from support.cli import pail_exe
from support.servers import moto_backend, s3_client

ROWS = 5_000
KINDS = ("datasets/", "features/", "hf/", "lightning_logs/", "mlflow/", "raw/", "tmp/")
HEX = re.compile(r"^[0-9a-f]{32}(-\d+)?$")


def _duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    con.execute("SET TimeZone = 'UTC'")
    return con


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> inv.CachedReport:
    return inv.cached_report(ROWS, root=tmp_path_factory.mktemp("demo-inventory"))


def test_report_rows_schema_and_key_order(report):
    assert report.rows == ROWS == sum(f.rows for f in report.files)
    tables = [pq.read_table(f.path) for f in report.files]
    table = pa.concat_tables(tables)
    assert len(table) == ROWS
    assert table.schema.names == [
        "bucket", "key", "size", "last_modified_date", "e_tag", "storage_class",
        "is_multipart_uploaded",
    ]  # fmt: skip
    assert table.schema.field("last_modified_date").type == pa.timestamp("ms", tz="UTC")
    # The Parquet types S3's fileSchema names: STRING, int64 TIMESTAMP(MILLIS, UTC), zstd.
    parquet = pq.ParquetFile(report.files[0].path)
    columns = {c.name: c for c in parquet.schema}
    assert str(columns["key"].logical_type) == "String"
    assert columns["last_modified_date"].physical_type == "INT64"
    assert "isAdjustedToUTC=true, timeUnit=milliseconds" in str(
        columns["last_modified_date"].logical_type
    )
    assert parquet.metadata.row_group(0).column(1).compression == "ZSTD"
    for name in columns:
        assert f" {name}" in inv.FILE_SCHEMA
    # Keys strictly increasing within and across files (files listed in key order).
    keys = table.column("key")
    assert pc.all(pc.less(keys.slice(0, ROWS - 1), keys.slice(1))).as_py()
    assert {k.split("/", 1)[0] + "/" for k in keys.to_pylist()} == set(KINDS)
    assert set(table.column("bucket").to_pylist()) == {inv.SOURCE_BUCKET}
    assert set(table.column("storage_class").to_pylist()) == set(inv.STORAGE_CLASSES)
    # ETags: MD5 hex; <md5>-<parts> exactly for the multipart uploads.
    etags = table.column("e_tag").to_pylist()
    multipart = table.column("is_multipart_uploaded").to_pylist()
    assert all(HEX.match(e) for e in etags)
    assert all(("-" in e) == m for e, m in zip(etags, multipart, strict=True))
    sizes = table.column("size").to_pylist()
    full = [e for e, size in zip(etags, sizes, strict=True) if size]
    assert len(set(full)) == len(full)  # unique
    assert {e for e, size in zip(etags, sizes, strict=True) if not size} == {
        "d41d8cd98f00b204e9800998ecf8427e"  # the MD5 of nothing (Spark's _SUCCESS files)
    }
    # Three years of history, nothing after the anchor; checkpoints in GB, logs in KB.
    con = _duck()
    con.register("t", table)
    newest, oldest = con.execute(
        "SELECT max(last_modified_date), min(last_modified_date) FROM t"
    ).fetchone()
    assert newest <= report.anchor
    assert report.anchor - oldest > timedelta(days=900)
    ckpt, logs = con.execute(
        "SELECT median(size) FILTER (key LIKE '%.ckpt'), median(size) FILTER (key LIKE '%.log')"
        " FROM t"
    ).fetchone()
    assert ckpt > 100 << 20 and logs < 10 << 20


def test_report_json_lists_each_file_with_its_size_and_md5(report):
    meta = json.loads((report.folder / "report.json").read_text())
    assert meta["rows"] == ROWS and meta["format"] == inv.FORMAT_TAG
    for entry, f in zip(meta["files"], report.files, strict=True):
        body = f.path.read_bytes()
        assert entry["name"] == f.path.name and entry["size"] == len(body) == f.size
        assert entry["md5"] == hashlib.md5(body).hexdigest() == f.md5


def test_the_cache_is_reused_and_regenerated_only_when_incomplete(tmp_path):
    (tmp_path / "v0-1000").mkdir()  # an older format's report: never read again, removed
    first = inv.cached_report(1_000, root=tmp_path)
    names = [f.path.name for f in first.files]
    assert first.folder == tmp_path / f"{inv.FORMAT_TAG}-1000"
    again = inv.cached_report(1_000, root=tmp_path)
    assert [f.path.name for f in again.files] == names  # the same files: not regenerated
    assert again.anchor == first.anchor
    other = inv.cached_report(2_000, root=tmp_path)  # another row count: its own folder
    assert other.folder != first.folder and other.rows == 2_000
    first.files[0].path.unlink()  # incomplete: generated again (new file names)
    redone = inv.cached_report(1_000, root=tmp_path)
    assert [f.path.name for f in redone.files] != names
    assert all(f.path.exists() for f in redone.files)
    (redone.folder / "report.json").unlink()  # not known complete: generated again
    assert inv.cached_report(1_000, root=tmp_path).files != redone.files
    tag = inv.FORMAT_TAG
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{tag}-1000", f"{tag}-2000"]


def test_rows_come_from_the_environment():
    assert inv.report_rows({}) == inv.DEFAULT_ROWS == 10_000_000
    assert inv.report_rows({inv.ROWS_ENV: "20_000"}) == 20_000
    assert inv.report_rows({inv.ROWS_ENV: "0"}) == 0  # no inventory
    for bad in ("lots", "10", "-5"):
        with pytest.raises(ValueError, match=inv.ROWS_ENV):
            inv.report_rows({inv.ROWS_ENV: bad})


@pytest.fixture
def seeded(s3_endpoint, report) -> tuple[str, inv.InventoryDemo, datetime]:
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return s3_endpoint, inv.seed_inventory(moto_backend(), s3_endpoint, now, report), now


def test_the_configuration_is_answered_back(seeded):
    endpoint, demo, _ = seeded
    s3 = s3_client(endpoint)
    listed = s3.list_bucket_inventory_configurations(Bucket=inv.SOURCE_BUCKET)
    [config] = listed["InventoryConfigurationList"]
    got = s3.get_bucket_inventory_configuration(Bucket=inv.SOURCE_BUCKET, Id=inv.CONFIG_ID)
    for answer in (config, got["InventoryConfiguration"]):
        assert answer["Id"] == demo.config_id == inv.CONFIG_ID
        assert answer["IsEnabled"] is True
        assert answer["Schedule"] == {"Frequency": "Daily"}
        assert answer["Destination"]["S3BucketDestination"] == {
            "Bucket": f"arn:aws:s3:::{inv.REPORT_BUCKET}",
            "Format": "Parquet",
            "Prefix": inv.REPORT_PREFIX,
        }
    # moto 5 answers the fields right only to GetBucketInventoryConfiguration (its listing
    # gives ["Field"]) and says IncludedObjectVersions "All" to both, whatever was put.
    assert got["InventoryConfiguration"]["OptionalFields"] == list(inv.OPTIONAL_FIELDS)


def test_the_manifest_is_as_s3_writes_it_and_its_checksum_verifies(seeded):
    endpoint, demo, _ = seeded
    s3 = s3_client(endpoint)
    base = f"{inv.REPORT_PREFIX}/{inv.SOURCE_BUCKET}/{inv.CONFIG_ID}/"
    stamp = demo.created.strftime("%Y-%m-%dT%H-%MZ")
    assert demo.manifest_key == f"{base}{stamp}/manifest.json"
    assert demo.manifest_uri == f"s3://{inv.REPORT_BUCKET}/{demo.manifest_key}"
    body = s3.get_object(Bucket=inv.REPORT_BUCKET, Key=demo.manifest_key)["Body"].read()
    checksum = s3.get_object(Bucket=inv.REPORT_BUCKET, Key=f"{base}{stamp}/manifest.checksum")
    assert checksum["Body"].read() == hashlib.md5(body).hexdigest().encode() + b"\n"
    manifest = json.loads(body)
    assert manifest["sourceBucket"] == inv.SOURCE_BUCKET
    assert manifest["destinationBucket"] == f"arn:aws:s3:::{inv.REPORT_BUCKET}"
    assert manifest["version"] == "2016-11-30"
    assert manifest["creationTimestamp"] == str(int(demo.created.timestamp() * 1000))
    assert manifest["fileFormat"] == "Parquet"
    assert manifest["fileSchema"].startswith("message s3.inventory {")
    assert [f["key"] for f in manifest["files"]] == list(demo.data_keys)
    for f in manifest["files"]:
        assert f["key"].startswith(f"{base}data/") and f["key"].endswith(".parquet")
        head = s3.head_object(Bucket=inv.REPORT_BUCKET, Key=f["key"])
        assert head["ContentLength"] == f["size"]
        assert head["ETag"].strip('"') == f["MD5checksum"]
    symlink = s3.get_object(
        Bucket=inv.REPORT_BUCKET,
        Key=f"{base}hive/dt={demo.created.strftime('%Y-%m-%d-%H-%M')}/symlink.txt",
    )["Body"].read()
    assert symlink.decode().split() == [f"s3://{inv.REPORT_BUCKET}/{k}" for k in demo.data_keys]


def test_live_rows_match_the_bucket_and_synthetic_ones_are_not_there(seeded, tmp_path):
    endpoint, demo, now = seeded
    s3 = s3_client(endpoint)
    paths = []
    for key in demo.data_keys:
        path = tmp_path / key.rsplit("/", 1)[1]
        path.write_bytes(s3.get_object(Bucket=inv.REPORT_BUCKET, Key=key)["Body"].read())
        paths.append(str(path))
    con = _duck()
    files = f"read_parquet({paths!r})"
    total, newest = con.execute(f"SELECT count(*), max(last_modified_date) FROM {files}").fetchone()
    assert total == demo.rows == ROWS + len(demo.live_keys)
    assert newest <= demo.created < now
    live = pq.read_table(io.BytesIO(s3.get_object(
        Bucket=inv.REPORT_BUCKET, Key=demo.data_keys[-1])["Body"].read()))  # fmt: skip
    assert live.column("key").to_pylist() == list(demo.live_keys)
    assert demo.changed_key in demo.live_keys
    for row in live.to_pylist():
        head = s3.head_object(Bucket=inv.SOURCE_BUCKET, Key=row["key"])
        same = (
            head["ContentLength"] == row["size"]
            and head["ETag"].strip('"') == row["e_tag"]
            and head["LastModified"] == row["last_modified_date"]
            and head.get("StorageClass", "STANDARD") == row["storage_class"]
        )
        # Only the pointer overwritten after the report differs from its row.
        assert same == (row["key"] != demo.changed_key), row
        if row["key"] == demo.changed_key:
            assert head["LastModified"] > demo.created
    for prefix in KINDS:  # the synthetic rows' prefixes exist only in the report
        assert s3.list_objects_v2(Bucket=inv.SOURCE_BUCKET, Prefix=prefix)["KeyCount"] == 0


def test_a_stale_plan_from_the_demo_report_is_rechecked_live(seeded, tmp_path):
    """What the demo is for: pail opens the report through the bucket's configuration, and
    a plan made from it keeps only keys unchanged live (the overwritten pointer is left
    alone, the synthetic keys are gone)."""
    from pail.core.connection import ConnectionSpec, Secrets
    from pail.drivers.registry import open_driver
    from pail.services.delete.filters import StaleFilters
    from pail.services.inventory.open import open_inventory
    from pail.services.inventory.plan import plan_from_inventory

    endpoint, demo, _ = seeded
    spec = ConnectionSpec(
        name="demo",
        provider="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        path_style=True,
        secrets=Secrets("testing", "testing"),
    )
    driver = open_driver(spec)
    with open_inventory(driver, inv.SOURCE_BUCKET, cache_dir=tmp_path) as inventory:
        assert inventory.report.manifest_key == demo.manifest_key
        top = inventory.level("")
        assert top.objects == demo.rows
        assert {row.key for row in top.rows} == {*KINDS, "eval/", "registry/"}
        stale = StaleFilters(older_than=timedelta(days=30))
        registry = plan_from_inventory(inventory, driver, inv.SOURCE_BUCKET, base="registry/",
                                       filters=stale)  # fmt: skip
        live = [k for k in demo.live_keys if k.startswith("registry/")]
        assert registry.candidates == len(live)
        assert [c.key for c in registry.changed] == [demo.changed_key]
        assert sorted(item.key for item in registry.plan.items) == sorted(
            k for k in live if k != demo.changed_key
        )
        gone = plan_from_inventory(inventory, driver, inv.SOURCE_BUCKET, base="tmp/",
                                   filters=stale)  # fmt: skip
        assert gone.candidates > 0 and not gone.plan.items
        assert {c.why for c in gone.changed} == {"gone"}


@pytest.mark.timeout(300)
def test_pail_demo_serves_the_inventory(tmp_path):
    """``pail demo --serve`` with a small report: the configuration and the manifest are
    there for the demo's admin user (auth on)."""
    env = {
        **os.environ,
        "PAIL_DEMO_SMALL": "1",
        inv.ROWS_ENV: "2000",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    proc = subprocess.Popen(
        [pail_exe(), "demo", "--serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("then:"):
                break
        text = "".join(lines)
        assert "then:" in text, (text, proc.poll())
        endpoint = re.search(r"pail demo store: (http://127\.0\.0\.1:\d+)", text).group(1)
        keys = dict(re.findall(r"export (AWS_[A-Z_]+)=(\S+)", text))
        uri = re.search(r"inventory: (s3://\S+) \(([\d,]+) rows of s3://ml-archive/\)", text)
        assert uri, text
        assert int(uri.group(2).replace(",", "")) > 2000
        s3 = s3_client(
            endpoint,
            aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        )
        [config] = s3.list_bucket_inventory_configurations(Bucket=inv.SOURCE_BUCKET)[
            "InventoryConfigurationList"
        ]
        assert config["Id"] == inv.CONFIG_ID
        bucket, key = uri.group(1).removeprefix("s3://").split("/", 1)
        manifest = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        assert manifest["sourceBucket"] == inv.SOURCE_BUCKET
        cache = tmp_path / "cache" / "pail" / "demo-inventory" / f"{inv.FORMAT_TAG}-2000"
        assert (cache / "report.json").exists()
    finally:
        proc.kill()
        proc.wait(timeout=10)
