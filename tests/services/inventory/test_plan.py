"""Stale plans from an inventory report, re-checked live (pail.services.inventory.plan),
against moto's S3 server over HTTP.

Each test seeds a bucket, writes a report of it the way S3 Inventory does
(tests/support/inventory_reports.py, Parquet) and opens it, then changes the bucket after
the report: one key overwritten (new ETag and time), one deleted, one written. The plan
must leave the changed and gone keys alone with a reason, never include the new one, and
the Deleter then deletes exactly the unchanged keys.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.delete.engine import Deleter
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import PlanCancelled
from pail.services.inventory.model import InventoryError, Report, ReportFile
from pail.services.inventory.plan import InventoryPlan, plan_from_inventory
from pail.services.inventory.query import Inventory
from support.inventory_reports import S3_FIELDS, S3_VERSIONED_FIELDS, InvRow, write_s3_parquet
from support.run_stores import seed_resnet
from support.servers import moto_backend, s3_client, seed_keys

NOW = datetime.now(timezone.utc).replace(microsecond=0)
OLD = NOW - timedelta(days=40)
YOUNG = NOW - timedelta(days=5)
CREATED = NOW - timedelta(hours=1)


@dataclass
class Scene:
    """A bucket on moto (pail's driver and a boto3 client) and a report of it."""

    driver: S3Driver
    client: Any
    bucket: str
    inventory: Inventory | None = None
    work: Path | None = None

    def open(self, report: Report, paths: list[Path]) -> Inventory:
        """Open ``report`` (its data files at ``paths``) as the planner gets it."""
        if self.inventory is not None:
            self.inventory.close()
        assert self.work is not None
        self.inventory = Inventory(report, paths, work_dir=self.work / uuid.uuid4().hex)
        return self.inventory


@pytest.fixture
def store(s3_endpoint, bucket_name, tmp_path) -> Iterator[Scene]:
    client = s3_client(s3_endpoint)
    scene = Scene(S3Driver(client=client), client, bucket_name, work=tmp_path / "work")
    yield scene
    if scene.inventory is not None:
        scene.inventory.close()


def seed(bucket: str, objects: dict[str, tuple[bytes, datetime]]) -> None:
    """Objects with chosen bodies and last-modified times, straight into moto's backend."""
    seed_keys(bucket, {key: body for key, (body, _) in objects.items()})
    keys = moto_backend().buckets[bucket].keys
    for key, (_, when) in objects.items():
        keys[key].last_modified = when.astimezone(timezone.utc).replace(tzinfo=None)


def snapshot(scene: Scene, tmp_path: Path, *, fields=S3_FIELDS, created=CREATED) -> Inventory:
    """A Parquet S3 Inventory report of the bucket as it is now, opened."""
    rows = []
    pages = scene.client.get_paginator("list_objects_v2").paginate(Bucket=scene.bucket)
    for page in pages:
        for obj in page.get("Contents", []):
            when = obj["LastModified"].astimezone(timezone.utc)
            etag, cls = obj["ETag"].strip('"'), obj.get("StorageClass", "STANDARD")
            rows.append(InvRow(obj["Key"], obj["Size"], when, etag, cls, bucket=scene.bucket))
    written = write_s3_parquet(rows, tmp_path / "report", fields=fields)
    report = Report(
        provider="s3",
        source_bucket=scene.bucket,
        destination_bucket="inventory-dest",
        manifest_key=f"inv/{scene.bucket}/daily/2026-11-30T14-00Z/manifest.json",
        created=created,
        format="Parquet",
        fields=written.fields,
        source_fields=written.source_fields,
        files=tuple(ReportFile(p.name, p.stat().st_size) for p in written.paths),
        config_id="daily",
    )
    return scene.open(report, written.paths)


@pytest.fixture
def changed(store: Scene, tmp_path) -> Scene:
    """``data/``: four old objects in ``a/``, two in ``b/``, one old at the root of
    ``data/``, one young; the report; then ``a/2.bin`` overwritten, ``a/3.bin`` deleted,
    ``a/9.bin`` (old by its time, but written after the report) added, and ``b/2.bin``
    rewritten with the same size and its old time put back (only its ETag differs)."""
    seed(
        store.bucket,
        {
            "data/a/1.bin": (b"1" * 10, OLD),
            "data/a/2.bin": (b"2" * 10, OLD),
            "data/a/3.bin": (b"3" * 10, OLD),
            "data/a/4.bin": (b"4" * 10, OLD),
            "data/b/1.bin": (b"x" * 20, OLD),
            "data/b/2.bin": (b"y" * 20, OLD),
            "data/top.txt": (b"t" * 5, OLD),
            "data/a/young.bin": (b"y" * 10, YOUNG),
            "other/old.bin": (b"o" * 10, OLD),
        },
    )
    snapshot(store, tmp_path)
    store.client.put_object(Bucket=store.bucket, Key="data/a/2.bin", Body=b"changed, longer")
    store.client.delete_object(Bucket=store.bucket, Key="data/a/3.bin")
    seed(store.bucket, {"data/a/9.bin": (b"9" * 10, OLD), "data/b/2.bin": (b"z" * 20, OLD)})
    return store


def _plan(scene: Scene, base: str = "data/", **kw) -> InventoryPlan:
    filters = kw.pop("filters", None) or StaleFilters.parse(older_than="30d")
    return plan_from_inventory(
        scene.inventory, scene.driver, scene.bucket, base=base, filters=filters, **kw
    )


def _keys(result: InventoryPlan) -> list[str]:
    return [item.key for item in result.plan.items]


UNCHANGED = ["data/a/1.bin", "data/a/4.bin", "data/b/1.bin", "data/top.txt"]


@pytest.mark.parametrize("threshold", [1000, 0], ids=["head", "listing"])
def test_changed_and_gone_keys_are_left_alone_with_reasons_and_new_keys_never_planned(
    changed: Scene, threshold
):
    result = _plan(changed, head_threshold=threshold)
    assert result.candidates == 7  # every old object under data/ the report lists
    assert result.candidate_bytes == 4 * 10 + 2 * 20 + 5
    assert _keys(result) == UNCHANGED
    why = {c.key: c.why for c in result.changed}
    assert set(why) == {"data/a/2.bin", "data/a/3.bin", "data/b/2.bin"}
    assert why["data/a/3.bin"] == "gone"
    assert why["data/b/2.bin"] == "ETag differs"
    overwritten = why["data/a/2.bin"]
    assert overwritten.startswith("modified ") and ", after the report" in overwritten
    assert "size differs" in overwritten and "ETag differs" in overwritten
    assert result.plan.missing == ["data/a/3.bin"]
    assert "data/a/9.bin" not in _keys(result)  # written after the report
    # the items carry the live size and time, and no version id
    head = changed.driver.head(changed.bucket, "data/a/1.bin")
    item = result.plan.items[0]
    assert (item.size, item.last_modified, item.version_id) == (10, head.last_modified, None)
    if threshold == 0:
        # a/ and b/ hold two or more candidates: listed; data/top.txt alone: looked up
        assert result.recheck == "2 folders listed again, 1 key looked up"
    else:
        assert result.recheck == "7 keys looked up"


def test_the_plan_executed_deletes_exactly_the_unchanged_keys(changed: Scene):
    result = _plan(changed, head_threshold=0)
    report = Deleter(changed.driver, result.plan).run()
    assert report.ok and report.deleted == len(UNCHANGED)
    listed = changed.client.list_objects_v2(Bucket=changed.bucket)["Contents"]
    assert {o["Key"] for o in listed} == {
        "data/a/2.bin",  # changed since the report
        "data/b/2.bin",  # changed since the report (ETag only)
        "data/a/9.bin",  # written since the report
        "data/a/young.bin",  # too young
        "other/old.bin",  # outside base
    }


def test_ages_are_judged_against_now_not_the_report(store: Scene, tmp_path):
    # x: 29.5 days old at the report's time (10 days ago), 39.5 days old now; y: 12 days
    seed(
        store.bucket,
        {
            "data/x.bin": (b"x", NOW - timedelta(days=39.5)),
            "data/y.bin": (b"y", NOW - timedelta(days=12)),
        },
    )
    snapshot(store, tmp_path, created=NOW - timedelta(days=10))
    result = _plan(store)
    assert _keys(result) == ["data/x.bin"]
    # the report's query was narrowed by age at the report's time: y was never read
    assert result.plan.examined == 1


def test_glob_and_regex_match_keys_relative_to_base(changed: Scene):
    only_a = _plan(changed, filters=StaleFilters.parse(older_than="30d", include=["a/*"]))
    assert _keys(only_a) == ["data/a/1.bin", "data/a/4.bin"]
    not_a = _plan(changed, filters=StaleFilters.parse(regex=r"^(b/|top)"))
    assert _keys(not_a) == ["data/b/1.bin", "data/top.txt"]
    assert [c.key for c in not_a.changed] == ["data/b/2.bin"]
    sized = _plan(changed, filters=StaleFilters.parse(larger_than="15B"))
    assert _keys(sized) == ["data/b/1.bin"]


def test_lifecycle_is_offered_for_age_and_prefix_and_refused_for_a_glob(changed: Scene):
    offered = _plan(changed)
    assert offered.lifecycle is not None
    assert offered.lifecycle == [
        {
            "ID": offered.lifecycle[0]["ID"],
            "Filter": {"Prefix": "data/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
        }
    ]
    assert offered.lifecycle_refused == []
    refused = _plan(changed, filters=StaleFilters.parse(older_than="30d", include=["*.bin"]))
    assert refused.lifecycle is None
    assert refused.lifecycle_refused == [
        "include globs cannot be expressed in an S3 lifecycle rule"
    ]


def test_a_report_without_last_modified_times_is_refused(store: Scene, tmp_path):
    seed(store.bucket, {"data/x.bin": (b"x", OLD)})
    fields = tuple(f for f in S3_FIELDS if f != "last_modified")
    snapshot(store, tmp_path, fields=fields)
    with pytest.raises(InventoryError, match="no last-modified times: no key can be proven"):
        _plan(store, filters=StaleFilters.parse(larger_than="0B"))


def test_a_report_without_etags_relies_on_size_and_time(changed: Scene, tmp_path):
    # a fresh report without ETags of the bucket as it is, then one key rewritten
    fields = tuple(f for f in S3_FIELDS if f != "etag")
    snapshot(changed, tmp_path / "noetag", fields=fields)
    changed.client.put_object(Bucket=changed.bucket, Key="data/a/1.bin", Body=b"new")
    result = _plan(changed)
    assert "data/a/1.bin" in {c.key for c in result.changed}
    assert "data/b/2.bin" in _keys(result)  # unchanged since this report


def test_a_report_of_another_bucket_is_refused(changed: Scene):
    with pytest.raises(InventoryError, match="lists bucket"):
        plan_from_inventory(
            changed.inventory,
            changed.driver,
            "another",
            filters=StaleFilters.parse(older_than="1d"),
        )


def test_past_max_keys_the_plan_is_refused_and_the_lifecycle_rule_named(changed: Scene):
    with pytest.raises(InventoryError, match=r"too big to delete key by key.*lifecycle rule"):
        _plan(changed, max_keys=3)


@pytest.mark.parametrize("stage", ["report", "recheck"])
def test_cancel_stops_planning_at_the_next_batch(changed: Scene, stage):
    cancel = threading.Event()
    seen = []

    def progress(at, done, total):
        seen.append(at)
        if at == stage:
            cancel.set()

    with pytest.raises(PlanCancelled):
        _plan(changed, cancel=cancel, on_progress=progress, head_threshold=0)
    assert seen[-1] == stage


def test_run_rules_keep_last_plan_only_deleted_runs_and_hold_a_changed_run(store: Scene, tmp_path):
    ids = seed_resnet(store.bucket, NOW - timedelta(days=30))  # r0..r5, a day apart
    seed(store.bucket, {"mlruns/README.md": (b"readme", OLD)})
    snapshot(store, tmp_path)
    # r1 gets a file rewritten after the report: the whole run is left alone
    log = f"mlruns/1/{ids['r1']}/artifacts/logs/train.log"
    store.client.put_object(Bucket=store.bucket, Key=log, Body=b"more")
    result = _plan(store, base="mlruns/", filters=StaleFilters.parse(keep_last=2))
    plan = result.plan
    assert sorted(v.run.name for v in plan.deleted_runs) == ["r0", "r1", "r2", "r3"]
    assert result.candidates == 4 * 6
    assert {key.split("/")[2] for key in _keys(result)} == {ids["r0"], ids["r2"], ids["r3"]}
    assert plan.run_items[ids["r0"]].objects == 6 and ids["r1"] not in plan.run_items
    why = {c.key: c.why for c in result.changed}
    assert len(why) == 6
    assert "after the report" in why[log]
    assert why[f"mlruns/1/{ids['r1']}/meta.yaml"] == "run r1 changed since the report: left whole"
    # loose objects (the README, the experiment's meta.yaml) are never planned
    assert "mlruns/README.md" not in _keys(result) and plan.outside_runs == 2
    assert result.lifecycle is None
    assert any("keep-the-newest-N-runs" in r for r in result.lifecycle_refused)


def test_a_versioned_bucket_loses_current_versions_only(store: Scene, tmp_path):
    client, bucket = store.client, store.bucket
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        client.put_object(Bucket=bucket, Key="data/model.bin", Body=body)
    versions = client.list_object_versions(Bucket=bucket)["Versions"]
    current = next(v for v in versions if v["IsLatest"])
    rows = [
        InvRow(
            "data/model.bin",
            v["Size"],
            v["LastModified"].astimezone(timezone.utc),
            v["ETag"].strip('"'),
            version_id=v["VersionId"],
            is_latest=v["IsLatest"],
            bucket=bucket,
        )
        for v in versions
    ]
    written = write_s3_parquet(rows, tmp_path / "report", fields=S3_VERSIONED_FIELDS)
    files = tuple(ReportFile(p.name) for p in written.paths)
    report = Report(
        "s3", bucket, "inventory-dest", "inv/manifest.json", NOW, "Parquet",
        written.fields, written.source_fields, files, versions=True,
    )  # fmt: skip
    store.open(report, written.paths)
    result = _plan(store, filters=StaleFilters.parse(larger_than="0B"))
    assert [(i.key, i.version_id) for i in result.plan.items] == [("data/model.bin", None)]
    assert Deleter(store.driver, result.plan).run().deleted == 1
    after = client.list_object_versions(Bucket=bucket)
    assert [m["IsLatest"] for m in after["DeleteMarkers"]] == [True]
    assert {v["VersionId"] for v in after["Versions"]} == {v["VersionId"] for v in versions}
    assert current["VersionId"] in {v["VersionId"] for v in after["Versions"]}
