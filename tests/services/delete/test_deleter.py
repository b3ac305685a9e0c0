"""The delete engine against real stores: moto over HTTP (requests counted with a botocore
event hook on the driver's own client), the IAM server's read-only user, the GCS emulator
and folders."""

from __future__ import annotations

import threading

import pytest

from pail.drivers.base import iter_entries
from pail.drivers.gcs import GcsDriver
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.delete.engine import Deleter
from pail.services.delete.plan import build_plan
from support.servers import gcs_client, s3_client, seed_keys


def _keys(driver, bucket, prefix=""):
    return sorted(e.key for e in iter_entries(driver, bucket, prefix, delimiter=""))


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def _count_requests(driver):
    calls: list[int] = []
    lock = threading.Lock()

    def hook(params, **_):
        with lock:
            calls.append(len(params["Delete"]["Objects"]))

    driver.client.meta.events.register("before-parameter-build.s3.DeleteObjects", hook)
    return calls


def test_2500_keys_go_in_three_batches_of_at_most_1000(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"runs/run-1/{i:05d}" for i in range(2500)] + ["runs/run-10/keep"])
    calls = _count_requests(driver)
    plan = build_plan(driver, bucket, base="runs/", prefixes=["runs/run-1"])
    deleter = Deleter(driver, plan, jobs=4)
    report = deleter.run()
    assert sorted(calls) == [500, 1000, 1000]
    assert report.ok and report.deleted == 2500 and report.deleted_bytes == 2500
    assert _keys(driver, bucket) == ["runs/run-10/keep"]
    snap = deleter.progress()
    assert (snap.deleted, snap.failed, snap.batches_done, snap.batches_total) == (2500, 0, 3, 3)
    assert snap.finished and snap.rate > 0


def test_dry_run_reports_the_same_and_deletes_nothing(s3):
    driver, bucket = s3
    keys = [f"p/{i:04d}" for i in range(1200)]
    seed_keys(bucket, keys)
    calls = _count_requests(driver)
    plan = build_plan(driver, bucket, prefixes=["p/"])
    report = Deleter(driver, plan, dry_run=True).run()
    assert report.dry_run and report.ok and report.deleted == 1200
    assert calls == []
    assert _keys(driver, bucket) == keys


def test_cancel_stops_after_the_batches_in_flight(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{i:05d}" for i in range(2500)])
    plan = build_plan(driver, bucket, prefixes=["p/"])
    holder: dict[str, Deleter] = {}
    batches = []

    def after_batch(deleted, failed):
        batches.append(len(deleted))
        holder["d"].cancel()  # cancel while the first batch finishes

    deleter = Deleter(driver, plan, jobs=1, on_batch=after_batch)
    holder["d"] = deleter
    report = deleter.run()
    assert batches == [1000]
    assert report.cancelled and report.deleted == 1000 and report.not_attempted == 1500
    assert not report.ok
    assert len(_keys(driver, bucket)) == 1500


def test_read_only_identity_reports_every_key_failed_and_nothing_deleted(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    driver = S3Driver(
        client=s3_client(
            store.endpoint,
            aws_access_key_id=reader.access_key_id,
            aws_secret_access_key=reader.secret_access_key,
        )
    )
    plan = build_plan(driver, store.bucket, prefixes=["data/"])
    assert plan.count >= 2
    report = Deleter(driver, plan).run()
    assert report.deleted == 0 and report.deleted_bytes == 0
    assert {f.key for f in report.failed} == {i.key for i in plan.items}
    assert report.failure_codes() == {"AccessDenied": plan.count}
    assert {"data/a.txt", "data/b.json"} <= set(_keys(driver, store.bucket))


def test_a_failed_request_fails_every_key_of_its_batch(moto_iam_server):
    store = moto_iam_server
    admin = store.users["admin"]
    good = S3Driver(
        client=s3_client(
            store.endpoint,
            aws_access_key_id=admin.access_key_id,
            aws_secret_access_key=admin.secret_access_key,
        )
    )
    plan = build_plan(good, store.bucket, prefixes=["data/"])
    bad = S3Driver(
        client=s3_client(
            store.endpoint, aws_access_key_id=admin.access_key_id, aws_secret_access_key="wrong"
        )
    )
    report = Deleter(bad, plan).run()
    assert report.deleted == 0
    assert report.failure_codes() == {"SignatureDoesNotMatch": plan.count}
    assert {"data/a.txt", "data/b.json"} <= set(_keys(good, store.bucket))


def test_gcs_delete_through_batches(gcs_emulator, bucket_name):
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    for i in range(150):
        raw.blob(f"runs/run-1/{i:03d}").upload_from_string(b"ab")
    raw.blob("runs/run-10/keep").upload_from_string(b"x")
    driver = GcsDriver(client=client)
    plan = build_plan(driver, bucket_name, base="runs/", prefixes=["runs/run-1/"])
    report = Deleter(driver, plan, batch_size=60).run()
    assert report.ok and report.deleted == 150 and report.deleted_bytes == 300
    assert _keys(driver, bucket_name) == ["runs/run-10/keep"]


def test_local_delete_never_removes_the_bucket_folder(tmp_path):
    bucket = tmp_path / "bkt"
    for name in ("runs/run-1/a", "runs/run-1/b/c", "runs/run-10/d"):
        (bucket / name).parent.mkdir(parents=True, exist_ok=True)
        (bucket / name).write_bytes(b"1")
    driver = LocalDriver(str(tmp_path))
    report = Deleter(driver, build_plan(driver, "bkt", prefixes=[""])).run()
    assert report.ok and report.deleted == 3
    assert bucket.is_dir() and list(bucket.iterdir()) == []
