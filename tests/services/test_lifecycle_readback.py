"""lifecycle.apply reads the configuration back: a store that answers success but keeps
other rules, or loses versioning, is an error naming what differs (fake-gcs-server drops
``lifecycle`` and resets ``versioning`` on storage.buckets.patch); stores that keep them
(moto, gcp-storage-emulator) pass."""

from __future__ import annotations

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services import lifecycle as lc
from support.servers import gcs_client, s3_client

GCS_RULE = {"action": {"type": "Delete"}, "condition": {"age": 30, "matchesPrefix": ["runs/"]}}
S3_RULE = {
    "ID": "pail-runs-30d",
    "Filter": {"Prefix": "runs/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
}


def _gcs_versioned_bucket(endpoint: str, name: str):
    client = gcs_client(endpoint)
    bucket = client.bucket(name)
    bucket.versioning_enabled = True
    return client.create_bucket(bucket)


def test_fake_gcs_server_drops_the_rules_and_versioning(fake_gcs_server, bucket_name):
    _gcs_versioned_bucket(fake_gcs_server, bucket_name)
    spec = ConnectionSpec(name="fake", provider="gcs", endpoint_url=fake_gcs_server)
    driver = open_driver(spec)
    assert driver.versioning_status(bucket_name) == "Enabled"

    with pytest.raises(lc.LifecycleNotStored) as err:
        lc.apply(driver, bucket_name, [GCS_RULE])

    differences = err.value.differences
    assert len(differences) == 2
    assert "was not stored" in differences[0] and "matchesPrefix" in differences[0]
    assert "versioning was Enabled, it is now off" in differences[1]
    assert err.value.code == "LifecycleNotStored" and err.value.bucket == bucket_name
    assert err.value.operation == "storage.buckets.get"
    assert "\n" not in str(err.value)


def test_gcp_storage_emulator_keeps_them(gcs_emulator, bucket_name):
    gcs_client(gcs_emulator).create_bucket(bucket_name)
    driver = open_driver(ConnectionSpec(name="gcs", provider="gcs", endpoint_url=gcs_emulator))
    result = lc.apply(driver, bucket_name, [GCS_RULE])
    assert result.written and lc.current_rules(driver, bucket_name) == [GCS_RULE]


def test_moto_keeps_them_and_versioning(s3_endpoint, bucket_name):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    driver = open_driver(spec)
    result = lc.apply(driver, bucket_name, [S3_RULE])
    assert result.written
    assert [r["ID"] for r in lc.current_rules(driver, bucket_name)] == ["pail-runs-30d"]
    assert driver.versioning_status(bucket_name) == "Enabled"


def test_stored_differences_names_each_difference():
    assert lc.stored_differences([S3_RULE], [S3_RULE]) == []
    # A store may add fields (defaults) and quote numbers; it may not change one.
    padded = {**S3_RULE, "Expiration": {"Days": "30"}, "Extra": {}}
    assert lc.stored_differences([S3_RULE], [padded]) == []
    changed = {**S3_RULE, "Expiration": {"Days": 7}}
    other = {**S3_RULE, "ID": "someone-elses"}
    assert lc.stored_differences([S3_RULE], [changed, other]) == [
        "rule [pail-runs-30d: prefix 'runs/', expire after 30 days] was stored as "
        "[pail-runs-30d: prefix 'runs/', expire after 7 days]",
        "the bucket has an unexpected rule [someone-elses: prefix 'runs/', expire after 30 days]",
    ]
    assert lc.stored_differences([S3_RULE], []) == [
        "rule [pail-runs-30d: prefix 'runs/', expire after 30 days] was not stored"
    ]
