"""Lifecycle rules from stale filters: building (S3 and GCS shapes), refusing what a rule
cannot express, JSON export, merging without silent replacement, and applying to real
buckets (moto over HTTP, the GCS emulator, the IAM server's read-only identity)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import AccessDenied, NotSupported
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from pail.drivers.s3 import S3Driver
from pail.services import lifecycle as lc
from pail.services.delete.filters import StaleFilters
from support.servers import gcs_client, s3_client

EXISTING = {
    "ID": "team-logs",
    "Filter": {"Prefix": "logs/"},
    "Status": "Enabled",
    "Expiration": {"Days": 90},
}


def test_s3_rule_from_age_and_noncurrent():
    out = lc.build_rules("s3", "runs/", StaleFilters.parse(older_than="30d"), noncurrent_days=7)
    (rule,) = out.rules
    assert rule == {
        "ID": "pail-runs-30d-nc7d",
        "Filter": {"Prefix": "runs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 30},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
    }
    assert not any("versioned" in n for n in out.notes)


def test_s3_rule_with_sizes_uses_and():
    flt = StaleFilters.parse(older_than="2w", larger_than="100MB")
    (rule,) = lc.build_rules("s3", "ckpt/", flt).rules
    assert rule["Filter"] == {"And": {"Prefix": "ckpt/", "ObjectSizeGreaterThan": 100_000_000}}
    assert rule["Expiration"] == {"Days": 14}
    (whole,) = lc.build_rules(
        "s3", "", StaleFilters(older_than=timedelta(days=1), smaller_than=5)
    ).rules
    assert whole["Filter"] == {"ObjectSizeLessThan": 5}  # one predicate: no And
    (both,) = lc.build_rules(
        "s3", "", StaleFilters(older_than=timedelta(days=1), larger_than=1, smaller_than=9)
    ).rules
    assert both["Filter"] == {"And": {"ObjectSizeGreaterThan": 1, "ObjectSizeLessThan": 9}}


def test_noncurrent_only_and_keep_newer():
    (rule,) = lc.build_rules("s3", "m/", None, noncurrent_days=3, keep_noncurrent=2).rules
    assert "Expiration" not in rule
    assert rule["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 3,
        "NewerNoncurrentVersions": 2,
    }


def test_hours_round_up_to_days_with_a_note():
    out = lc.build_rules("s3", "", StaleFilters.parse(older_than="36h"))
    assert out.rules[0]["Expiration"] == {"Days": 2}
    assert any("rounded up to 2 day" in n for n in out.notes)
    assert any("--noncurrent-days" in n for n in out.notes)


def test_gcs_rules():
    flt = StaleFilters.parse(older_than="30d", include=["*.ckpt"])
    rules = lc.build_rules("gcs", "runs/", flt, noncurrent_days=7, keep_noncurrent=1).rules
    assert rules == [
        {
            "action": {"type": "Delete"},
            "condition": {
                "age": 30,
                "isLive": True,
                "matchesPrefix": ["runs/"],
                "matchesSuffix": [".ckpt"],
            },
        },
        {
            "action": {"type": "Delete"},
            "condition": {
                "daysSinceNoncurrentTime": 7,
                "isLive": False,
                "numNewerVersions": 1,
                "matchesPrefix": ["runs/"],
                "matchesSuffix": [".ckpt"],
            },
        },
    ]


@pytest.mark.parametrize(
    ("provider", "filters", "kwargs", "reason"),
    [
        ("s3", StaleFilters.parse(older_than="1d", include=["*.ckpt"]), {}, "include globs"),
        ("gcs", StaleFilters.parse(older_than="1d", include=["run-*/x"]), {}, "*SUFFIX"),
        ("s3", StaleFilters.parse(older_than="1d", exclude=["*.json"]), {}, "exclude"),
        ("s3", StaleFilters.parse(older_than="1d", regex="x$"), {}, "regular expressions"),
        ("s3", StaleFilters.parse(older_than="1d", keep_last=3), {}, "newest-N-runs"),
        ("s3", StaleFilters.parse(older_than="1d", keep_tags=["pail.keep"]), {}, "tagged or named"),
        ("gcs", StaleFilters.parse(older_than="1d", larger_than="1MB"), {}, "no size"),
        ("s3", StaleFilters.parse(larger_than="1MB"), {}, "needs an age"),
        ("s3", None, {"noncurrent_days": 0}, "1 or more"),
        (
            "s3",
            StaleFilters.parse(older_than="1d"),
            {"keep_noncurrent": 2},
            "needs --noncurrent-days",
        ),
    ],
)
def test_not_expressible(provider, filters, kwargs, reason):
    with pytest.raises(lc.NotExpressible) as info:
        lc.build_rules(provider, "p/", filters, **kwargs)
    assert reason in str(info.value)


def test_export_json_shapes():
    rules = lc.build_rules("s3", "a/", StaleFilters.parse(older_than="1d")).rules
    assert json.loads(lc.export_json("s3", rules)) == {"Rules": rules}
    g = lc.build_rules("gcs", "a/", StaleFilters.parse(older_than="1d")).rules
    assert json.loads(lc.export_json("gcs", g)) == {"lifecycle": {"rule": g}}


def test_merge_keeps_existing_and_flags_overlaps():
    new = lc.build_rules("s3", "logs/old/", StaleFilters.parse(older_than="7d")).rules
    result = lc.merge([EXISTING], new)
    assert result.rules == [EXISTING, new[0]]
    assert [c.kind for c in result.changes] == ["added"] and result.changed
    assert len(result.warnings) == 1 and "team-logs" in result.warnings[0]
    same = lc.merge(result.rules, new)
    assert [c.kind for c in same.changes] == ["unchanged"] and not same.changed
    assert (
        lc.merge(
            [EXISTING], lc.build_rules("s3", "data/", StaleFilters.parse(older_than="7d")).rules
        ).warnings
        == []
    )


def test_merge_same_id_needs_replace():
    changed = dict(EXISTING, Expiration={"Days": 30})
    with pytest.raises(lc.LifecycleConflict) as info:
        lc.merge([EXISTING], [changed])
    assert info.value.ids == ["team-logs"] and "--replace" in str(info.value)
    result = lc.merge(
        [EXISTING, {"ID": "other", "Filter": {"Prefix": "z/"}, "Status": "Enabled"}],
        [changed],
        replace=True,
    )
    assert [r["ID"] for r in result.rules] == ["team-logs", "other"]
    assert result.rules[0]["Expiration"] == {"Days": 30}
    assert result.changes[0].kind == "replaced" and result.changes[0].old == EXISTING


def test_gcs_identity_ignores_ages():
    a = {
        "action": {"type": "Delete"},
        "condition": {"age": 30, "isLive": True, "matchesPrefix": ["r/"]},
    }
    b = {
        "action": {"type": "Delete"},
        "condition": {"age": 10, "isLive": True, "matchesPrefix": ["r/"]},
    }
    with pytest.raises(lc.LifecycleConflict):
        lc.merge([a], [b])
    assert lc.merge([a], [b], replace=True).rules == [b]


# --- applying to real buckets ----------------------------------------------------------


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec), bucket_name, raw


def test_apply_merges_with_existing_rules(s3):
    driver, bucket, raw = s3
    raw.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [EXISTING]}
    )
    rules = lc.build_rules(
        "s3", "runs/", StaleFilters.parse(older_than="30d"), noncurrent_days=7
    ).rules
    result = lc.apply(driver, bucket, rules)
    assert result.written and result.before == [EXISTING]
    assert [r["ID"] for r in driver.get_lifecycle(bucket)] == ["team-logs", "pail-runs-30d-nc7d"]
    again = lc.apply(driver, bucket, rules)
    assert not again.written and [c.kind for c in again.merge.changes] == ["unchanged"]


def test_apply_refuses_a_silent_replacement(s3):
    driver, bucket, raw = s3
    raw.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [EXISTING]}
    )
    with pytest.raises(lc.LifecycleConflict):
        lc.apply(driver, bucket, [dict(EXISTING, Expiration={"Days": 1})])
    assert driver.get_lifecycle(bucket)[0]["Expiration"] == {"Days": 90}
    lc.apply(driver, bucket, [dict(EXISTING, Expiration={"Days": 1})], replace=True)
    assert driver.get_lifecycle(bucket)[0]["Expiration"] == {"Days": 1}


def test_apply_to_a_bucket_without_rules(s3):
    driver, bucket, _ = s3
    rules = lc.build_rules("s3", "", StaleFilters.parse(older_than="1d")).rules
    result = lc.apply(driver, bucket, rules)
    assert result.before == [] and result.written
    assert driver.get_lifecycle(bucket) == rules


def test_gcs_apply_round_trip(gcs_emulator, bucket_name):
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    old = {"action": {"type": "Delete"}, "condition": {"age": 365}}
    raw.lifecycle_rules = [old]
    raw.patch()
    driver = open_driver(ConnectionSpec(name="g", provider="gcs"))
    rules = lc.build_rules(
        "gcs", "runs/", StaleFilters.parse(older_than="30d"), noncurrent_days=7
    ).rules
    result = lc.apply(driver, bucket_name, rules)
    assert result.written and len(result.merge.warnings) == 2  # the old rule covers everything
    assert driver.get_lifecycle(bucket_name) == [old, *rules]


def test_read_only_identity_gets_access_denied(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    driver = S3Driver(
        client=s3_client(
            store.endpoint,
            aws_access_key_id=reader.access_key_id,
            aws_secret_access_key=reader.secret_access_key,
        )
    )
    rules = lc.build_rules("s3", "data/", StaleFilters.parse(older_than="30d")).rules
    with pytest.raises(AccessDenied) as info:
        lc.apply(driver, store.bucket, rules)
    assert info.value.status == 403
    assert info.value.operation in (
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
    )
    assert "LifecycleConfiguration" in info.value.hint


def test_local_folder_is_not_supported(tmp_path):
    (tmp_path / "b").mkdir()
    with pytest.raises(NotSupported):
        lc.apply(LocalDriver(str(tmp_path)), "b", [])
