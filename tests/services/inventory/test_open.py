"""open_inventory end to end: a report published the way the stores lay them out (moto's
server over HTTP for S3, gcp-storage-emulator for GCS), located, downloaded, verified and
queried through the query layer's Inventory."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.inventory.fetch import FetchCancelled
from pail.services.inventory.model import ManifestInvalid, NoInventory, OpenProgress
from pail.services.inventory.open import default_cache_dir, open_inventory
from support.inventory_manifests import gcs_put, moto_put, publish_gcs, publish_s3
from support.inventory_reports import (
    S3_VERSIONED_FIELDS,
    InvRow,
    write_gcs_csv,
    write_gcs_parquet,
    write_s3_csv,
    write_s3_orc,
    write_s3_parquet,
)
from support.servers import gcs_client, s3_client

CREATED = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)
OLD = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Keys as hostile as S3 allows: spaces, '+', '%', unicode, a bidi override, a newline.
KEYS = [
    "runs/a b/model+1.bin",
    "runs/a b/100%.json",
    "runs/ünïcødé/ß.txt",
    "runs/x\u202ey/z",
    "logs/line\nbreak.log",
    "top.txt",
]
ROWS = [InvRow(key, (i + 1) * 100, OLD) for i, key in enumerate(KEYS)]


class DataCalls:
    """pail's driver, counting the calls that fetch data files (head and ranged reads)."""

    def __init__(self, inner):
        self.inner = inner
        self.provider = inner.provider
        self.data_calls = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    @property
    def endpoint(self):
        return self.inner.endpoint

    def head(self, *args, **kw):
        self.data_calls += 1
        return self.inner.head(*args, **kw)

    def stream_range(self, *args, **kw):
        self.data_calls += 1
        return self.inner.stream_range(*args, **kw)


@pytest.fixture
def s3(s3_endpoint):
    """(driver, boto3 client): buckets ``src`` (with a daily inventory configuration to
    ``dest``/inventory) and ``dest`` on a reset moto server."""
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="src")
    raw.create_bucket(Bucket="dest")
    raw.put_bucket_inventory_configuration(
        Bucket="src",
        Id="daily",
        InventoryConfiguration={
            "Destination": {
                "S3BucketDestination": {
                    "Bucket": "arn:aws:s3:::dest",
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
    return open_driver(spec), raw


@pytest.mark.parametrize("writer", [write_s3_csv, write_s3_orc, write_s3_parquet])
def test_open_each_s3_format(s3, tmp_path, writer):
    driver, _ = s3
    written = writer(ROWS, tmp_path / "w", files=2)
    publish_s3(moto_put("dest"), written, source_bucket="src", dest_bucket="dest",
               created=CREATED)  # fmt: skip
    seen: list[OpenProgress] = []
    with open_inventory(
        driver, "src", cache_dir=tmp_path / "cache", on_progress=seen.append
    ) as inventory:
        assert inventory.report.created == CREATED
        assert inventory.report.label == "inventory of 2026-11-28 02:00 UTC"
        usage = inventory.du()
        assert (usage.objects, usage.bytes) == (len(ROWS), sum(r.size for r in ROWS))
        level = inventory.level("runs/")
        assert [row.key for row in level.rows] == ["runs/a b/", "runs/x\u202ey/", "runs/ünïcødé/"]
        everything = [e.key for batch in inventory.objects() for e in batch]
        assert sorted(everything) == sorted(KEYS)
    stages = [s.stage for s in seen]
    assert stages[0] == "locating" and stages[-1] == "ready"
    assert "downloading" in stages and "preparing" in stages
    assert stages.index("downloading") < stages.index("preparing")


def test_second_open_downloads_nothing(s3, tmp_path):
    driver, _ = s3
    written = write_s3_parquet(ROWS, tmp_path / "w", files=3)
    publish_s3(moto_put("dest"), written, source_bucket="src", dest_bucket="dest",
               created=CREATED)  # fmt: skip
    first = DataCalls(driver)
    with open_inventory(first, "src", cache_dir=tmp_path / "cache") as inventory:
        assert inventory.du().objects == len(ROWS)
    assert first.data_calls == 6  # a HeadObject and a GetObject per data file
    second = DataCalls(driver)
    seen: list[OpenProgress] = []
    with open_inventory(
        second, "src", cache_dir=tmp_path / "cache", on_progress=seen.append
    ) as inventory:
        assert inventory.du().objects == len(ROWS)
    assert second.data_calls == 0
    assert "downloading" not in [s.stage for s in seen]


def test_versioned_csv_report(s3, tmp_path):
    driver, _ = s3
    rows = [
        InvRow("k", 1, OLD, version_id="v1", is_latest=False),
        InvRow("k", 2, OLD, version_id="v2"),
        InvRow("gone", 3, OLD, version_id="v3", is_latest=False),
        InvRow("gone", 0, OLD, version_id="v4", is_delete_marker=True),
    ]
    written = write_s3_csv(rows, tmp_path / "w", fields=S3_VERSIONED_FIELDS)
    publish_s3(moto_put("dest"), written, source_bucket="src", dest_bucket="dest",
               created=CREATED)  # fmt: skip
    with open_inventory(driver, "src", cache_dir=tmp_path / "cache") as inventory:
        assert inventory.report.versions
        current = [e for batch in inventory.objects() for e in batch]
        assert [(e.key, e.size, e.version_id) for e in current] == [("k", 2, "v2")]


def test_refusals_and_cancel(s3, tmp_path):
    driver, _ = s3
    with pytest.raises(NoInventory, match="s3://dest/inventory/src/daily/"):
        open_inventory(driver, "src", cache_dir=tmp_path)
    written = write_s3_csv(ROWS, tmp_path / "w")
    publish_s3(moto_put("dest"), written, source_bucket="src", dest_bucket="dest",
               created=CREATED, checksum=b"d41d8cd98f00b204e9800998ecf8427e\n")  # fmt: skip
    with pytest.raises(ManifestInvalid, match="checksum mismatch"):
        open_inventory(driver, "src", cache_dir=tmp_path)
    publish_s3(moto_put("dest"), written, source_bucket="src", dest_bucket="dest",
               created=CREATED)  # fmt: skip
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(FetchCancelled):
        open_inventory(driver, "src", cache_dir=tmp_path, cancel=cancel)


def test_gcs_report_by_prefix(gcs_emulator, tmp_path):
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    raw = gcs_client(gcs_emulator).create_bucket(bucket)
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"))
    put = gcs_put(raw)
    publish_gcs(put, write_gcs_csv(ROWS[:2], tmp_path / "old"), source_bucket="src",
                snapshot=OLD, rows=2)  # fmt: skip
    for writer in (write_gcs_csv, write_gcs_parquet):
        publish_gcs(put, writer(ROWS, tmp_path / writer.__name__, files=2),
                    source_bucket="src", snapshot=CREATED, path=writer.__name__,
                    rows=len(ROWS))  # fmt: skip
        uri = f"gs://{bucket}/{writer.__name__}/"
        with open_inventory(driver, "src", manifest=uri, cache_dir=tmp_path / "c") as inv:
            assert inv.report.provider == "gcs" and inv.report.created == CREATED
            assert inv.du().objects == len(ROWS)
            assert sorted(e.key for b in inv.objects() for e in b) == sorted(KEYS)
    with open_inventory(driver, "src", manifest=f"gs://{bucket}/reports/",
                        cache_dir=tmp_path / "c") as inv:  # fmt: skip
        assert inv.report.created == OLD and inv.du().objects == 2


def test_default_cache_dir():
    path = default_cache_dir()
    assert path.name == "inventory" and path.parent.name == "pail"
