"""The delete engine under faults: DeleteObjects answered through the fault-injecting proxy
(tests/support/fault_proxy.py) in front of moto. Every test compares the report with what is
really left in the bucket, listed from moto directly (not through the proxy): a key
reported deleted must be gone, a key still there must be reported as failed."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.delete.engine import Deleter
from pail.services.delete.plan import PlannedKey, build_plan
from pail.services.delete.verify import parent_prefixes, verify_deleted
from support.fault_proxy import Rule
from support.servers import moto_backend, s3_client, seed_keys


def _left(endpoint: str, bucket: str) -> set[str]:
    """Keys in the bucket, listed from moto itself."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {obj["Key"] for page in pages for obj in page.get("Contents", [])}


def _driver(url: str) -> S3Driver:
    return S3Driver(endpoint_url=url, region="us-east-1", path_style=True)


def _run(faults, bucket: str, keys: list[str], **kwargs):
    seed_keys(bucket, keys)
    driver = _driver(faults.url)
    plan = build_plan(driver, bucket, prefixes=["p/"])
    assert plan.count == len(keys)
    return Deleter(driver, plan, **kwargs).run()


def _assert_report_is_the_truth(report, keys: list[str], left: set[str]) -> None:
    failed = {f.key for f in report.failed}
    assert failed == left, "every key still present is reported failed, and only those"
    assert report.deleted == len(keys) - len(left)
    assert report.deleted + len(report.failed) == len(keys)
    assert not ({item.key for item in report.confirmed} & left)


KEYS = [f"p/{i:05d}" for i in range(1500)]


def test_reply_omitting_keys_counts_them_not_confirmed(faults, s3_endpoint, bucket_name):
    omitted = KEYS[100:400]  # 300 keys, in the first batch
    rule = faults.add(
        Rule(method="POST", query="delete", action="delete-omit", keys=omitted, times=None)
    )
    report = _run(faults, bucket_name, KEYS, jobs=2)
    left = _left(s3_endpoint, bucket_name)
    assert rule.hits == 2 and left == set(omitted)
    _assert_report_is_the_truth(report, KEYS, left)
    assert report.failure_codes() == {"NotConfirmed": 300}
    assert report.failed[0].message == "not confirmed: the store's reply did not name this key"
    assert not report.ok


def test_reply_omitting_every_key_of_every_batch(faults, s3_endpoint, bucket_name):
    faults.add(Rule(method="POST", query="delete", action="delete-omit", times=None))
    keys = KEYS[:1000]
    report = _run(faults, bucket_name, keys)
    left = _left(s3_endpoint, bucket_name)
    assert left == set(keys)
    _assert_report_is_the_truth(report, keys, left)
    assert report.deleted == 0 and report.failure_codes() == {"NotConfirmed": 1000}


def test_per_key_errors_are_failures(faults, s3_endpoint, bucket_name):
    denied = KEYS[1200:1210]
    faults.add(Rule(method="POST", query="delete", action="delete-errors", keys=denied, times=None))
    report = _run(faults, bucket_name, KEYS)
    left = _left(s3_endpoint, bucket_name)
    assert left == set(denied)
    _assert_report_is_the_truth(report, KEYS, left)
    assert report.failure_codes() == {"AccessDenied": 10}


def test_empty_reply_confirms_nothing(faults, s3_endpoint, bucket_name):
    faults.add(Rule(method="POST", query="delete", action="delete-empty", times=1))
    report = _run(faults, bucket_name, KEYS, jobs=1)
    left = _left(s3_endpoint, bucket_name)
    assert left == set(KEYS[:1000])  # the first batch was never forwarded
    _assert_report_is_the_truth(report, KEYS, left)
    assert report.failure_codes() == {"NotConfirmed": 1000}


def test_empty_reply_from_a_store_that_did_delete_still_counts_nothing(
    faults, s3_endpoint, bucket_name
):
    # The store deleted the keys but its reply is empty: pail cannot prove it, so the keys
    # are failures (NotConfirmed), never "deleted"; --verify would find them gone.
    faults.add(
        Rule(method="POST", query="delete", action="delete-empty", really_delete=True, times=1)
    )
    keys = KEYS[:50]
    report = _run(faults, bucket_name, keys)
    assert _left(s3_endpoint, bucket_name) == set()
    assert report.deleted == 0 and report.failure_codes() == {"NotConfirmed": 50}


def test_a_500_then_success_is_retried_and_counted_once(faults, s3_endpoint, bucket_name):
    rule = faults.add(Rule(method="POST", query="delete", action="status", status=500, times=1))
    report = _run(faults, bucket_name, KEYS)
    left = _left(s3_endpoint, bucket_name)
    assert rule.hits == 1
    _assert_report_is_the_truth(report, KEYS, left)
    assert report.ok and left == set()
    posts = [r for r in faults.requests if r.method == "POST" and "delete" in r.query]
    assert len(posts) == 3  # two batches, one of them sent twice


def test_cancel_while_a_batch_hangs_reports_it_in_flight_and_does_not_wait(
    faults, s3_endpoint, bucket_name
):
    # First batch forwarded, second one hangs; one batch at a time.
    faults.add(Rule(method="POST", query="delete", action="latency", delay=0.0, times=1))
    faults.add(Rule(method="POST", query="delete", action="hang", times=None))
    seed_keys(bucket_name, KEYS)
    driver = _driver(faults.url)
    plan = build_plan(driver, bucket_name, prefixes=["p/"])
    deleter = Deleter(driver, plan, jobs=1, batch_size=500)
    deleter.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        hung = [r for r in faults.requests if r.action == "hang"]
        if hung:
            break
        time.sleep(0.05)
    assert hung, "the second batch never reached the proxy"
    deleter.cancel()
    assert deleter.wait(0.5) is None  # the hung batch is still out: not finished
    report = deleter.report()
    assert report.cancelled
    assert (report.deleted, len(report.failed)) == (500, 0)
    assert report.in_flight == 500 and report.not_attempted == 500
    assert not report.ok
    snap = deleter.progress()
    assert snap.in_flight == 500 and snap.cancelled and not snap.finished
    # Nothing was deleted of what was reported unconfirmed or not attempted.
    assert _left(s3_endpoint, bucket_name) == set(KEYS[500:])
    workers = [t for t in threading.enumerate() if t.name.startswith("pail-rm")]
    assert workers and all(t.daemon for t in workers)  # never holds up the process exit


# -- verify ------------------------------------------------------------------------------


def test_verify_finds_keys_still_present(s3_endpoint, bucket_name):
    keys = [f"runs/r{i}/deep/{j}.bin" for i in range(3) for j in range(40)]  # 120: listing
    seed_keys(bucket_name, [*keys, "runs/keep.txt"])
    driver = _driver(s3_endpoint)
    plan = build_plan(driver, bucket_name, prefixes=["runs/r0/", "runs/r1/", "runs/r2/"])
    report = Deleter(driver, plan).run()
    assert report.ok and len(report.confirmed) == 120
    seed_keys(bucket_name, ["runs/r1/deep/7.bin"])  # written again after the delete
    # moto keeps whole seconds: make the new write visibly later than the planned one.
    planned = next(i for i in report.confirmed if i.key == "runs/r1/deep/7.bin")
    again = moto_backend().buckets[bucket_name].keys["runs/r1/deep/7.bin"]
    again.last_modified = (planned.last_modified + timedelta(seconds=5)).replace(tzinfo=None)
    result = verify_deleted(driver, bucket_name, report.confirmed)
    assert result.method == "list" and result.checked == 120 and result.complete
    assert [p.key for p in result.present] == ["runs/r1/deep/7.bin"]
    assert result.present[0].rewritten
    assert not result.ok
    # Few keys: one HEAD each.
    few = [item for item in report.confirmed if item.key.startswith("runs/r1/deep/7")]
    result = verify_deleted(driver, bucket_name, few)
    assert result.method == "head" and [p.key for p in result.present] == ["runs/r1/deep/7.bin"]
    gone = [item for item in report.confirmed if item.key.startswith("runs/r2/")]
    assert verify_deleted(driver, bucket_name, gone).ok


def test_verify_of_a_store_that_lies_about_a_delete():
    # A store answering HEAD 200 for a key it said it deleted: still present.
    from support.canned_http import Reply, canned_server

    head = Reply(200, b"", {"Last-Modified": "Mon, 01 Jun 2026 12:00:00 GMT"})
    with canned_server([head]) as server:
        driver = S3Driver(client=s3_client(server.url))
        result = verify_deleted(driver, "bkt", [PlannedKey("a/b", 1)])
    assert [p.key for p in result.present] == ["a/b"] and not result.ok


def test_verify_that_cannot_check_is_not_complete(faults, s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["x/a"])
    faults.add(Rule(method="HEAD", action="status", status=403, times=None))
    result = verify_deleted(_driver(faults.url), bucket_name, [PlannedKey("x/a")])
    assert not result.complete and result.unchecked == 1 and result.present == []
    assert not result.ok


def test_versioned_keys_are_checked_by_version(s3_endpoint, bucket_name):
    client = s3_client(s3_endpoint)
    seed_keys(bucket_name, [])
    client.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    v1 = client.put_object(Bucket=bucket_name, Key="k", Body=b"1")["VersionId"]
    v2 = client.put_object(Bucket=bucket_name, Key="k", Body=b"2")["VersionId"]
    client.delete_object(Bucket=bucket_name, Key="k", VersionId=v1)
    driver = _driver(s3_endpoint)
    result = verify_deleted(driver, bucket_name, [PlannedKey("k", version_id=v1)])
    assert result.ok and result.method == "head"
    result = verify_deleted(driver, bucket_name, [PlannedKey("k", version_id=v2)])
    assert [(p.key, p.version_id) for p in result.present] == [("k", v2)]


@pytest.mark.parametrize(
    ("keys", "folders"),
    [
        (["a/b/c", "a/b/d", "a/e", "f"], [""]),  # a key at the root: list it all
        (["a/b/c", "a/b/d", "x/y"], ["a/b/", "x/"]),
        (["a/b/c", "a/d"], ["a/"]),
    ],
)
def test_parent_prefixes_drop_nested_folders(keys, folders):
    assert parent_prefixes(keys) == folders


def test_purging_versions_counts_only_confirmed_ones(faults, s3_endpoint, bucket_name):
    from pail.services.versions import delete_versions

    client = s3_client(s3_endpoint)
    seed_keys(bucket_name, [])
    client.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    pairs = []
    for key in ("a", "b"):
        for body in (b"1", b"2"):
            pairs.append(
                (key, client.put_object(Bucket=bucket_name, Key=key, Body=body)["VersionId"])
            )
    faults.add(Rule(method="POST", query="delete", action="delete-omit", keys=["b"]))
    deleted, failures = delete_versions(_driver(faults.url), bucket_name, pairs)
    left = {
        (v["Key"], v["VersionId"])
        for v in client.list_object_versions(Bucket=bucket_name).get("Versions", [])
    }
    assert sorted(deleted) == sorted(p for p in pairs if p[0] == "a")
    assert {(f.key, f.version_id) for f in failures} == left == {p for p in pairs if p[0] == "b"}
    assert {f.code for f in failures} == {"NotConfirmed"}
