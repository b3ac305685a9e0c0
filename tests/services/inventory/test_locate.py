"""Finding the newest complete report: moto's server over HTTP for S3 (inventory
configurations through its own API, reports seeded in-process), gcp-storage-emulator for
GCS, and the IAM-enforcing moto server for a destination the connection may not read."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import AccessDenied
from pail.drivers.inventory import HasInventory, inventory_of
from pail.drivers.registry import open_driver
from pail.drivers.s3 import S3Driver
from pail.services.inventory.locate import (
    InventoryConfig,
    configurations,
    find_newest,
    locate,
    newest_report,
    read_manifest,
)
from pail.services.inventory.model import InventoryError, ManifestInvalid, NoInventory
from support.inventory_manifests import gcs_put, moto_put, publish_gcs, publish_s3
from support.inventory_reports import (
    S3_FIELDS,
    InvRow,
    write_gcs_csv,
    write_gcs_parquet,
    write_s3_csv,
    write_s3_parquet,
)
from support.servers import gcs_client, s3_client

DAY1 = datetime(2026, 11, 27, 2, 0, tzinfo=timezone.utc)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = DAY2 + timedelta(days=1)
ROWS = [InvRow("runs/a.bin", 10), InvRow("runs/b.bin", 20)]


def _config(raw, source: str, dest: str, config_id: str, prefix: str | None = "inventory"):
    destination = {"Bucket": f"arn:aws:s3:::{dest}", "Format": "CSV"}
    if prefix is not None:
        destination["Prefix"] = prefix
    raw.put_bucket_inventory_configuration(
        Bucket=source,
        Id=config_id,
        InventoryConfiguration={
            "Destination": {"S3BucketDestination": destination},
            "IsEnabled": True,
            "Id": config_id,
            "IncludedObjectVersions": "Current",
            "Schedule": {"Frequency": "Daily"},
        },
    )


@pytest.fixture
def s3(s3_endpoint):
    """(driver, boto3 client, source bucket, destination bucket) on a reset moto server."""
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="src")
    raw.create_bucket(Bucket="dest")
    return open_driver(spec), raw, "src", "dest"


def test_configurations_through_moto(s3):
    driver, raw, src, dest = s3
    assert isinstance(driver, HasInventory)
    assert configurations(driver, src) == []
    _config(raw, src, dest, "weekly", prefix=None)
    _config(raw, src, dest, "daily", prefix="inventory/")
    found = configurations(driver, src)
    assert [c.id for c in found] == ["daily", "weekly"]
    daily, weekly = found
    assert (daily.destination_bucket, daily.destination_prefix) == ("dest", "inventory/")
    assert daily.reports_prefix == "inventory/src/daily/"  # the trailing "/" not doubled
    assert weekly.reports_prefix == "src/weekly/"
    assert daily.destination_uri == "s3://dest/inventory/src/daily/"
    assert daily.frequency == "Daily" and daily.enabled and daily.format == "CSV"


def test_newest_complete_report_wins_incomplete_newer_skipped(s3, tmp_path):
    driver, raw, src, dest = s3
    _config(raw, src, dest, "daily")
    written = write_s3_csv(ROWS, tmp_path / "w")
    put = moto_put(dest)
    publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY1)
    second = publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY2)
    # The newest has its manifest.json but no manifest.checksum yet: being written.
    publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY3, checksum=False)
    put("inventory/src/daily/hive/dt=2026-11-29-02-00/symlink.txt", b"x")
    located = locate(driver, src)
    report = located.report
    assert report.manifest_key == second.manifest_key and report.created == DAY2
    assert located.config is not None and located.config.id == "daily"
    assert len(located.manifest_md5) == 32
    (note,) = located.notes
    assert "2026-11-29T02-00Z" in note and "manifest.checksum" in note
    assert report.fields == S3_FIELDS and [f.key for f in report.files] == second.data_keys


def test_newest_across_configurations(s3, tmp_path):
    driver, raw, src, dest = s3
    _config(raw, src, dest, "a-old")
    _config(raw, src, dest, "b-new", prefix="other")
    written = write_s3_parquet(ROWS, tmp_path / "w")
    put = moto_put(dest)
    publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY3, config_id="a-old")
    publish_s3(
        put, written, source_bucket=src, dest_bucket=dest, created=DAY1,
        config_id="b-new", prefix="other",
    )  # fmt: skip
    located = locate(driver, src)
    assert located.config.id == "a-old" and located.report.format == "Parquet"
    b_new = next(c for c in configurations(driver, src) if c.id == "b-new")
    assert newest_report(driver, b_new).created == DAY1


def test_bad_checksum_is_refused_not_replaced_by_an_older_report(s3, tmp_path):
    driver, raw, src, dest = s3
    _config(raw, src, dest, "daily")
    written = write_s3_csv(ROWS, tmp_path / "w")
    put = moto_put(dest)
    older = publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY1)
    publish_s3(
        put, written, source_bucket=src, dest_bucket=dest, created=DAY2,
        checksum=b"0123456789abcdef0123456789abcdef\n",
    )  # fmt: skip
    with pytest.raises(ManifestInvalid, match="checksum mismatch"):
        locate(driver, src)
    # The older one can still be opened by its URI.
    uri = f"s3://{dest}/{older.manifest_key}"
    assert locate(driver, src, manifest=uri).report.created == DAY1


def test_no_inventory_messages_say_what_was_looked_at(s3, tmp_path):
    driver, raw, src, dest = s3
    with pytest.raises(NoInventory, match=r"s3://src/ has no inventory configuration"):
        locate(driver, src)
    _config(raw, src, dest, "daily")
    with pytest.raises(NoInventory) as caught:
        locate(driver, src)
    text = str(caught.value)
    assert "s3://dest/inventory/src/daily/" in text and "configurations: daily" in text
    publish_s3(
        moto_put(dest), write_s3_csv(ROWS, tmp_path / "w"),
        source_bucket=src, dest_bucket=dest, created=DAY1, checksum=False,
    )  # fmt: skip
    with pytest.raises(NoInventory, match=r"skipped .*2026-11-27T02-00Z.*manifest\.checksum"):
        locate(driver, src)


def test_manifest_uri_and_prefixes(s3, tmp_path):
    driver, _, src, dest = s3
    written = write_s3_csv(ROWS, tmp_path / "w")
    put = moto_put(dest)
    publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY1)
    mine = publish_s3(put, written, source_bucket=src, dest_bucket=dest, created=DAY2)
    # Another bucket's newer report under the same destination prefix.
    theirs = publish_s3(put, written, source_bucket="other", dest_bucket=dest, created=DAY3)
    # No configuration needed when a URI is given.
    by_uri = locate(driver, src, manifest=f"s3://{dest}/{mine.manifest_key}")
    assert by_uri.report.manifest_key == mine.manifest_key and by_uri.notes == ()
    assert read_manifest(driver, dest, mine.manifest_key) == by_uri.report
    for prefix in ("inventory/", "inventory", "inventory/src/", "inventory/src/daily/"):
        found = locate(driver, src, manifest=f"s3://{dest}/{prefix}")
        assert found.report.manifest_key == mine.manifest_key, prefix
    # A report folder itself.
    assert locate(driver, src, manifest=f"s3://{dest}/{mine.folder}").report.created == DAY2
    # Below a shared prefix the source bucket's own reports are preferred.
    assert find_newest(driver, f"s3://{dest}/", source_bucket="other").report.manifest_key == (
        theirs.manifest_key
    )
    fallback = find_newest(driver, f"s3://{dest}/", source_bucket="gone")
    assert fallback.report.created == DAY3 and "no report of bucket gone" in fallback.notes[0]
    # Without a scheme: a key or prefix in the bucket being opened.
    with pytest.raises(NoInventory, match="s3://src/somewhere/"):
        locate(driver, src, manifest="somewhere/")
    other = locate(driver, src, manifest=f"s3://{dest}/{theirs.manifest_key}")
    assert "lists bucket other, not src" in other.notes[0]
    with pytest.raises(InventoryError, match="not on this connection's store"):
        locate(driver, src, manifest=f"gs://{dest}/x/")
    with pytest.raises(NoInventory, match="s3://dest/nothing/"):
        locate(driver, src, manifest=f"s3://{dest}/nothing/")


def test_hostile_keys_in_the_manifest(s3, tmp_path):
    driver, _, src, dest = s3
    written = write_s3_csv(ROWS, tmp_path / "w")
    names = ["a file with spaces ünïcødé %2F+.csv.gz"]
    pub = publish_s3(
        moto_put(dest), written, source_bucket=src, dest_bucket=dest, created=DAY1,
        data_names=names, prefix="inv\u202e/x y",
    )  # fmt: skip
    report = locate(driver, src, manifest=f"s3://{dest}/{pub.manifest_key}").report
    assert [f.key for f in report.files] == [f"inv\u202e/x y/src/daily/data/{names[0]}"]


def test_gcs_has_no_listable_configurations(gcs_emulator, tmp_path):
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    raw = gcs_client(gcs_emulator).create_bucket(bucket)
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"))
    with pytest.raises(Exception, match="Storage Insights"):
        inventory_of(driver, "ListBucketInventoryConfigurations", bucket)
    with pytest.raises(NoInventory, match=r"gs://.*manifest's URI or a prefix"):
        locate(driver, bucket)
    written = write_gcs_csv(ROWS, tmp_path / "w", files=2)
    older = publish_gcs(
        gcs_put(raw), written, source_bucket="src", path="reports/2026-01-01",
        snapshot=DAY1, metadata_fields=False,
    )  # fmt: skip
    newer = publish_gcs(
        gcs_put(raw), write_gcs_parquet(ROWS, tmp_path / "p"), source_bucket="src",
        path="reports/2026-01-02", snapshot=DAY2, metadata_fields=False,
    )  # fmt: skip
    found = locate(driver, "src", manifest=f"gs://{bucket}/reports/")
    assert found.report.manifest_key == newer.manifest_key and found.report.format == "Parquet"
    # Fields from the Parquet shard's footer and the CSV shard's header row.
    assert found.report.fields[:3] == ("bucket", "key", "size")
    by_uri = locate(driver, "src", manifest=f"gs://{bucket}/{older.manifest_key}").report
    assert by_uri.format == "CSV" and by_uri.source_fields == written.source_fields
    assert [f.key for f in by_uri.files] == older.data_keys


def test_destination_this_connection_cannot_read_is_access_denied(moto_iam_server, tmp_path):
    store = moto_iam_server
    admin, full = store.users["admin"], store.users["full"]
    admin_raw = s3_client(
        store.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )
    dest = f"pail-iam-inv-{uuid.uuid4().hex[:8]}"
    # moto cannot delete an inventory configuration (DeleteBucketInventoryConfiguration
    # is taken for DeleteBucket): one fixed id is overwritten, never piled up.
    config_id = "pail-denied-destination"
    admin_raw.create_bucket(Bucket=dest)
    try:
        _config(admin_raw, store.bucket, dest, config_id)
        written = write_s3_csv(ROWS, tmp_path / "w")

        def put(key: str, body: bytes) -> None:
            admin_raw.put_object(Bucket=dest, Key=key, Body=body)

        publish_s3(put, written, source_bucket=store.bucket, dest_bucket=dest, created=DAY1,
                   config_id=config_id)  # fmt: skip
        driver = S3Driver(
            client=s3_client(
                store.endpoint,
                aws_access_key_id=full.access_key_id,
                aws_secret_access_key=full.secret_access_key,
            )
        )
        ids = [c.id for c in configurations(driver, store.bucket)]
        assert config_id in ids
        with pytest.raises(AccessDenied) as caught:
            locate(driver, store.bucket)
        assert caught.value.bucket == dest
    finally:
        for item in admin_raw.list_objects_v2(Bucket=dest).get("Contents", []):
            admin_raw.delete_object(Bucket=dest, Key=item["Key"])
        admin_raw.delete_bucket(Bucket=dest)


def test_config_from_json_shape():
    assert InventoryConfig("i", "s", "d").reports_prefix == "s/i/"
    assert json.dumps(InventoryConfig("i", "s", "d", "p//").reports_prefix) == '"p/s/i/"'
