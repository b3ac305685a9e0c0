"""Versions service against moto over HTTP: history of a key, restore (undo) of deleted
objects and prefixes, permanent deletion of noncurrent versions, the delete explanation.
A read-only identity on the IAM-enforcing server shows per-key failures."""

from __future__ import annotations

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import NotSupported
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from pail.drivers.s3 import S3Driver
from pail.services import versions as svc
from support.seaweed import S3_SERVERS, s3_endpoint_for
from support.servers import s3_client


@pytest.fixture
def store(s3_endpoint, bucket_name):
    """(driver, bucket, raw client) on a versioned moto bucket."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec), bucket_name, raw


def _put(raw, bucket, key, body):
    return raw.put_object(Bucket=bucket, Key=key, Body=body)["VersionId"]


def test_object_versions_newest_first(store):
    driver, bucket, raw = store
    ids = [_put(raw, bucket, "m/model.bin", b"%d" % n * (n + 1)) for n in range(3)]
    _put(raw, bucket, "m/model.bin.bak", b"other")  # shares the prefix, not the key
    raw.delete_object(Bucket=bucket, Key="m/model.bin")
    got = svc.object_versions(driver, bucket, "m/model.bin", page_size=2)
    assert got[0].is_delete_marker and got[0].is_latest
    assert [v.version_id for v in got[1:]] == ids[::-1]
    assert [v.size for v in got[1:]] == [3, 2, 1]
    assert all(v.key == "m/model.bin" for v in got)
    assert svc.object_versions(driver, bucket, "nope") == []


def test_restore_one_object(store):
    driver, bucket, raw = store
    _put(raw, bucket, "runs/r1/model.ckpt", b"old")
    _put(raw, bucket, "runs/r1/model.ckpt", b"new")
    raw.delete_object(Bucket=bucket, Key="runs/r1/model.ckpt")
    assert raw.list_objects_v2(Bucket=bucket).get("KeyCount") == 0
    plan = svc.plan_restore(driver, bucket, "runs/r1/model.ckpt")
    assert plan.keys == 1 and plan.markers == 1 and plan.bytes == 3
    report = svc.restore(driver, plan)
    assert report.ok and report.restored == ["runs/r1/model.ckpt"]
    assert driver.read_range(bucket, "runs/r1/model.ckpt") == b"new"


def test_restore_a_prefix_with_stacked_markers(store):
    driver, bucket, raw = store
    for key in ("runs/r1/a", "runs/r1/b", "runs/r10/c"):
        _put(raw, bucket, key, key.encode())
    _put(raw, bucket, "runs/r1/live", b"live")
    _put(raw, bucket, "runs/r1/gone", b"x")
    for key in ("runs/r1/a", "runs/r1/b", "runs/r10/c"):
        raw.delete_object(Bucket=bucket, Key=key)
    raw.delete_object(Bucket=bucket, Key="runs/r1/b")  # a second marker on top
    # a key with only a marker (its data was purged): nothing to bring back
    gone = svc.object_versions(driver, bucket, "runs/r1/gone")
    raw.delete_object(Bucket=bucket, Key="runs/r1/gone")
    raw.delete_object(Bucket=bucket, Key="runs/r1/gone", VersionId=gone[0].version_id)

    plan = svc.plan_restore(driver, bucket, "runs/r1/", recursive=True)
    assert sorted(r.key for r in plan.removals) == ["runs/r1/a", "runs/r1/b"]
    assert plan.unrecoverable == ("runs/r1/gone",)
    report = svc.restore(driver, plan)
    assert report.ok and sorted(report.restored) == ["runs/r1/a", "runs/r1/b"]
    assert driver.read_range(bucket, "runs/r1/a") == b"runs/r1/a"
    assert driver.read_range(bucket, "runs/r1/b") == b"runs/r1/b"
    # the prefix boundary is exact: runs/r10/ stays deleted
    assert svc.object_versions(driver, bucket, "runs/r10/c")[0].is_delete_marker
    assert svc.plan_restore(driver, bucket, "runs/r1/", recursive=True).keys == 0


def test_plan_restore_changes_nothing(store):
    driver, bucket, raw = store
    _put(raw, bucket, "k", b"v")
    raw.delete_object(Bucket=bucket, Key="k")
    before = svc.object_versions(driver, bucket, "k")
    svc.plan_restore(driver, bucket, "k")
    assert svc.object_versions(driver, bucket, "k") == before


def test_delete_noncurrent_keeps_current_data(store):
    driver, bucket, raw = store
    for n in range(3):
        _put(raw, bucket, "ckpt/a", b"a" * (10 + n))
    _put(raw, bucket, "ckpt/b", b"bb")
    _put(raw, bucket, "ckpt/gone", b"g" * 5)
    raw.delete_object(Bucket=bucket, Key="ckpt/gone")
    _put(raw, bucket, "other/a", b"o1")
    _put(raw, bucket, "other/a", b"o2")

    plan = svc.plan_noncurrent(driver, bucket, "ckpt/", page_size=3)
    assert plan.versions == 3 and plan.markers == 0
    assert plan.bytes == 10 + 11 + 5 and plan.keys == 2
    ticks: list[int] = []
    report = svc.delete_noncurrent(driver, plan, progress=ticks.append)
    assert report.ok and len(report.deleted) == 3 and report.bytes_deleted == 26
    assert sum(ticks) == 3
    assert driver.read_range(bucket, "ckpt/a") == b"a" * 12
    assert driver.read_range(bucket, "ckpt/b") == b"bb"
    assert [v.is_delete_marker for v in svc.object_versions(driver, bucket, "ckpt/gone")] == [True]
    assert len(svc.object_versions(driver, bucket, "other/a")) == 2  # outside the prefix
    assert svc.plan_noncurrent(driver, bucket, "ckpt/").count == 0


def test_noncurrent_plan_includes_old_markers(store):
    driver, bucket, raw = store
    _put(raw, bucket, "k", b"1")
    raw.delete_object(Bucket=bucket, Key="k")
    _put(raw, bucket, "k", b"22")  # the marker is now noncurrent
    plan = svc.plan_noncurrent(driver, bucket, "")
    assert plan.markers == 1 and plan.versions == 1 and plan.bytes == 1
    assert svc.delete_noncurrent(driver, plan).ok
    assert [v.size for v in svc.object_versions(driver, bucket, "k")] == [2]


@pytest.fixture
def iam_versioned(moto_iam_server):
    """(admin client, bucket) of a versioned bucket on the IAM server, removed afterwards:
    the server is shared by the session, and other tests list its buckets."""
    admin = moto_iam_server.users["admin"]
    admin_raw = s3_client(
        moto_iam_server.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )
    bucket = "pail-iam-versions"
    admin_raw.create_bucket(Bucket=bucket)
    yield admin_raw, bucket
    listing = admin_raw.list_object_versions(Bucket=bucket)
    for item in listing.get("Versions", []) + listing.get("DeleteMarkers", []):
        admin_raw.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    admin_raw.delete_bucket(Bucket=bucket)


def test_read_only_identity_failures_are_reported(moto_iam_server, iam_versioned):
    store = moto_iam_server
    reader = store.users["reader"]
    admin_raw, bucket = iam_versioned
    admin_raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    admin_raw.put_object(Bucket=bucket, Key="d/k", Body=b"1")
    admin_raw.put_object(Bucket=bucket, Key="d/k", Body=b"2")
    admin_raw.delete_object(Bucket=bucket, Key="d/k")
    admin_driver = S3Driver(client=admin_raw)
    reader_driver = S3Driver(
        client=s3_client(
            store.endpoint,
            aws_access_key_id=reader.access_key_id,
            aws_secret_access_key=reader.secret_access_key,
        )
    )
    plan = svc.plan_noncurrent(admin_driver, bucket, "d/")
    assert plan.count == 2
    report = svc.delete_noncurrent(reader_driver, plan)
    assert report.deleted == [] and report.bytes_deleted == 0
    assert {f.code for f in report.failed} == {"AccessDenied"} and len(report.failed) == 2
    restore_plan = svc.plan_restore(admin_driver, bucket, "d/k")
    result = svc.restore(reader_driver, restore_plan)
    assert result.restored == [] and [f.code for f in result.failed] == ["AccessDenied"]
    assert svc.object_versions(admin_driver, bucket, "d/k")[0].is_delete_marker


def test_delete_explanation():
    on = svc.delete_explanation("Enabled")
    assert "delete marker" in on and "restore" in on and "billed" in on
    assert "delete marker" in svc.delete_explanation("Suspended")
    assert "gone for good" in svc.delete_explanation(None)


def test_delete_explanation_on_real_buckets(store, tmp_path):
    driver, bucket, raw = store
    assert "delete marker" in svc.delete_explanation(driver.versioning_status(bucket))
    raw.create_bucket(Bucket="unversioned")
    assert "gone for good" in svc.delete_explanation(driver.versioning_status("unversioned"))
    (tmp_path / "b").mkdir()
    local = LocalDriver(str(tmp_path))
    assert "gone for good" in svc.delete_explanation(local.versioning_status("b"))
    with pytest.raises(NotSupported):
        svc.plan_noncurrent(local, "b", "")


def test_old_version_preview_and_download_through_the_services(store, tmp_path):
    """What the UI does for an old version: head it by version id, preview it, download it
    with the engine (an Entry carrying the version id)."""
    from pail.drivers.base import Entry
    from pail.services.download import Downloader, plan_keys
    from pail.services.previews.build import build_preview

    driver, bucket, raw = store
    _put(raw, bucket, "logs/train.log", b"epoch 1 loss 0.9\n")
    _put(raw, bucket, "logs/train.log", b"epoch 2 loss 0.5\n")
    old = svc.object_versions(driver, bucket, "logs/train.log")[-1]
    info = driver.head(bucket, "logs/train.log", version_id=old.version_id)
    preview = build_preview(driver, info)
    assert "epoch 1" in preview.text and "epoch 2" not in preview.text
    entry = Entry(
        "logs/train.log", "object", size=old.size, etag=old.etag, version_id=old.version_id
    )
    download = Downloader(driver, plan_keys(driver, bucket, [entry], str(tmp_path)))
    download.start()
    report = download.wait()
    assert report is not None and report.ok, report
    assert (tmp_path / "train.log").read_bytes() == b"epoch 1 loss 0.9\n"


# --- delete markers whose times tie (moto and SeaweedFS give LastModified to the second) -


@pytest.fixture(params=S3_SERVERS)
def tie_store(request, bucket_name):
    """(driver, bucket, raw client) on a versioned bucket of each S3 server in turn."""
    endpoint = s3_endpoint_for(request, request.param)
    raw = s3_client(endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec), bucket_name, raw


def _tied(raw, bucket, steps, attempts=5):
    """Run ``steps`` (("put", body) / ("delete", None)) on a fresh key until every version
    and marker of it has the same LastModified (moto's resolution is one second; a run that
    crosses a second boundary is tried again on a new key). Returns (key, version ids)."""
    for attempt in range(attempts):
        key = f"tied/{attempt}/model.ckpt"
        ids = []
        for op, body in steps:
            if op == "put":
                ids.append(_put(raw, bucket, key, body))
            else:
                ids.append(raw.delete_object(Bucket=bucket, Key=key)["VersionId"])
        listed = raw.list_object_versions(Bucket=bucket, Prefix=key)
        stamps = {v["LastModified"] for v in listed.get("Versions", [])}
        stamps |= {m["LastModified"] for m in listed.get("DeleteMarkers", [])}
        if len(stamps) == 1:
            return key, ids
    pytest.fail(f"no run of {len(steps)} requests stayed within one second")


def test_stacked_markers_of_the_same_second_are_all_counted(tie_store, monkeypatch):
    driver, bucket, raw = tie_store
    key, (data, *markers) = _tied(raw, bucket, [("put", b"v1")] + [("delete", None)] * 3)
    plan = svc.plan_restore(driver, bucket, key)
    assert plan.keys == 1 and plan.markers == 3
    (removal,) = plan.removals
    assert set(removal.marker_ids) == set(markers) and removal.restores == data
    assert [v.version_id for v in svc.object_versions(driver, bucket, key)] == [
        *markers[::-1],
        data,
    ]
    monkeypatch.setattr(svc, "RESTORE_ROUNDS", 1)  # the plan alone must be right
    report = svc.restore(driver, plan)
    assert report.ok and report.restored == [key]
    assert driver.read_range(bucket, key) == b"v1"


def test_a_marker_below_the_newest_data_of_the_same_second_stays(tie_store, monkeypatch):
    driver, bucket, raw = tie_store
    steps = [("put", b"v1"), ("delete", None), ("put", b"v2"), ("delete", None)]
    key, (v1, m1, v2, m2) = _tied(raw, bucket, steps)
    plan = svc.plan_restore(driver, bucket, key)
    (removal,) = plan.removals
    assert removal.marker_ids == (m2,) and removal.restores == v2 and plan.markers == 1
    monkeypatch.setattr(svc, "RESTORE_ROUNDS", 1)
    assert svc.restore(driver, plan).ok
    assert driver.read_range(bucket, key) == b"v2"
    assert [v.version_id for v in svc.object_versions(driver, bucket, key)] == [v2, m1, v1]
