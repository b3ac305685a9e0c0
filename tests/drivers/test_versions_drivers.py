"""Versions and lifecycle capabilities of the drivers, against real stores: moto and
SeaweedFS over HTTP (a versioned bucket written through a real boto3 client), the GCS
emulator, a folder."""

from __future__ import annotations

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import AccessDenied, InvalidRequest, NotSupported
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from support.seaweed import S3_SERVERS, s3_endpoint_for
from support.servers import gcs_client, s3_client


@pytest.fixture(params=S3_SERVERS)
def s3_endpoint(request):
    """Every S3 test here runs on moto and on SeaweedFS."""
    return s3_endpoint_for(request, request.param)


def _s3(endpoint: str):
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return open_driver(spec)


@pytest.fixture
def versioned(s3_endpoint, bucket_name):
    """(driver, bucket, boto3 client) on a versioned moto bucket holding:
    ``a/x`` written 3 times (v0, v1, v2), ``a/y`` written then deleted, ``b/z`` once."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        raw.put_object(Bucket=bucket_name, Key="a/x", Body=b"v%d" % n)
    raw.put_object(Bucket=bucket_name, Key="a/y", Body=b"y-data")
    raw.delete_object(Bucket=bucket_name, Key="a/y")
    raw.put_object(Bucket=bucket_name, Key="b/z", Body=b"z")
    return _s3(s3_endpoint), bucket_name, raw


def _all_pages(driver, bucket, prefix="", **kwargs):
    token, pages = None, []
    while True:
        page = driver.list_versions_page(bucket, prefix, token=token, **kwargs)
        pages.append(page)
        if page.next_token is None:
            return pages
        token = page.next_token


def test_versioning_status(versioned, s3_endpoint):
    driver, bucket, raw = versioned
    assert driver.versioning_status(bucket) == "Enabled"
    plain = f"{bucket}-plain"  # never versioned (SeaweedFS keeps buckets across tests)
    raw.create_bucket(Bucket=plain)
    assert driver.versioning_status(plain) is None
    raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert driver.versioning_status(bucket) == "Suspended"


def test_list_versions_merges_markers_and_pages(versioned):
    driver, bucket, _ = versioned
    pages = _all_pages(driver, bucket, page_size=2)
    assert len(pages) >= 3  # 6 entries, 2 per page
    entries = [e for p in pages for e in p.entries]
    assert [e.key for e in entries] == ["a/x"] * 3 + ["a/y"] * 2 + ["b/z"]
    assert len({(e.key, e.version_id) for e in entries}) == 6  # no entry repeated or lost
    x = [e for e in entries if e.key == "a/x"]
    assert x[0].is_latest and not any(e.is_latest for e in x[1:])
    assert all(e.size == 2 and e.etag and e.storage_class for e in x)
    y = [e for e in entries if e.key == "a/y"]
    assert y[0].is_delete_marker and y[0].is_latest and y[0].size == 0
    assert not y[1].is_delete_marker and y[1].size == 6 and not y[1].is_latest
    assert all(
        e.last_modified is not None and e.last_modified.utcoffset().total_seconds() == 0
        for e in entries
    )


def test_list_versions_with_delimiter_rolls_up_prefixes(versioned):
    driver, bucket, _ = versioned
    page = driver.list_versions_page(bucket, "", delimiter="/")
    assert page.prefixes == ("a/", "b/") and page.entries == () and page.is_last


def test_bad_token_is_invalid_request(versioned):
    driver, bucket, _ = versioned
    with pytest.raises(InvalidRequest):
        driver.list_versions_page(bucket, token="not-a-token!")


def test_old_version_read_head_and_download(versioned, tmp_path):
    driver, bucket, _ = versioned
    entries = _all_pages(driver, bucket, "a/x")[0].entries
    oldest = entries[-1]
    assert driver.read_range(bucket, "a/x", version_id=oldest.version_id) == b"v0"
    assert driver.read_range(bucket, "a/x") == b"v2"
    assert driver.head(bucket, "a/x", version_id=oldest.version_id).version_id == oldest.version_id
    chunks: list[bytes] = []
    driver.stream_range(bucket, "a/x", 0, 2, chunks.append, version_id=entries[1].version_id)
    assert b"".join(chunks) == b"v1"
    # the data of a deleted key is still readable by version id
    y_data = [e for e in _all_pages(driver, bucket, "a/y")[0].entries if not e.is_delete_marker]
    assert driver.read_range(bucket, "a/y", version_id=y_data[0].version_id) == b"y-data"


def test_delete_version_removes_only_that_version(versioned):
    driver, bucket, _ = versioned
    entries = _all_pages(driver, bucket, "a/x")[0].entries
    driver.delete_version(bucket, "a/x", entries[1].version_id)
    left = [e.version_id for e in _all_pages(driver, bucket, "a/x")[0].entries]
    assert left == [entries[0].version_id, entries[2].version_id]
    assert driver.read_range(bucket, "a/x") == b"v2"


def test_delete_marker_removal_brings_the_object_back(versioned):
    driver, bucket, _ = versioned
    marker = _all_pages(driver, bucket, "a/y")[0].entries[0]
    assert marker.is_delete_marker
    driver.delete_version(bucket, "a/y", marker.version_id)
    assert driver.read_range(bucket, "a/y") == b"y-data"


def test_s3_lifecycle_round_trip(versioned):
    driver, bucket, _ = versioned
    assert driver.get_lifecycle(bucket) == []
    rules = [
        {
            "ID": "keep-logs",
            "Filter": {"Prefix": "logs/"},
            "Status": "Enabled",
            "Expiration": {"Days": 30},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        }
    ]
    driver.put_lifecycle(bucket, rules)
    got = driver.get_lifecycle(bucket)
    assert [r["ID"] for r in got] == ["keep-logs"]
    assert got[0]["Expiration"] == {"Days": 30}
    assert got[0]["Filter"] == {"Prefix": "logs/"}
    driver.put_lifecycle(bucket, [])  # DeleteBucketLifecycle
    assert driver.get_lifecycle(bucket) == []


def test_read_only_identity_cannot_put_lifecycle(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    raw = s3_client(
        store.endpoint,
        aws_access_key_id=reader.access_key_id,
        aws_secret_access_key=reader.secret_access_key,
    )
    from pail.drivers.s3 import S3Driver

    driver = S3Driver(client=raw)
    with pytest.raises(AccessDenied) as info:
        driver.put_lifecycle(
            store.bucket,
            [{"ID": "x", "Filter": {"Prefix": ""}, "Status": "Enabled", "Expiration": {"Days": 1}}],
        )
    assert info.value.operation == "PutBucketLifecycleConfiguration"
    assert info.value.status == 403
    assert "s3:PutLifecycleConfiguration" in info.value.hint


def test_local_folder_has_no_versions(tmp_path):
    (tmp_path / "bkt").mkdir()
    driver = LocalDriver(str(tmp_path))
    assert driver.versioning_status("bkt") is None
    for call in (
        lambda: driver.list_versions_page("bkt"),
        lambda: driver.delete_version("bkt", "k", "1"),
        lambda: driver.get_lifecycle("bkt"),
        lambda: driver.put_lifecycle("bkt", []),
    ):
        with pytest.raises(NotSupported) as info:
            call()
        assert "local folders have no object versions" in str(info.value)
        assert info.value.code == "NotSupported" and info.value.hint


# --- GCS emulator -------------------------------------------------------------------


@pytest.fixture
def gcs(gcs_emulator, bucket_name):
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    return open_driver(ConnectionSpec(name="g", provider="gcs")), bucket_name, raw


def test_gcs_versioning_status(gcs):
    driver, bucket, raw = gcs
    assert driver.versioning_status(bucket) is None
    raw.versioning_enabled = True
    raw.patch()
    assert driver.versioning_status(bucket) == "Enabled"


def test_gcs_lists_live_generations(gcs):
    driver, bucket, raw = gcs
    raw.blob("runs/a.txt").upload_from_string(b"one")
    raw.blob("runs/b.txt").upload_from_string(b"two!")
    page = driver.list_versions_page(bucket, "runs/")
    assert [e.key for e in page.entries] == ["runs/a.txt", "runs/b.txt"]
    assert all(
        e.is_latest and not e.is_delete_marker and int(e.version_id) > 0 for e in page.entries
    )
    assert [e.size for e in page.entries] == [3, 4]
    assert driver.read_range(bucket, "runs/a.txt", version_id=page.entries[0].version_id) == b"one"


# Not tested here: GCS noncurrent generations. gcp-storage-emulator keeps only the latest
# generation of an object, so there is no old generation to list or read.


def test_gcs_delete_version(gcs):
    driver, bucket, raw = gcs
    raw.blob("k").upload_from_string(b"data")
    (entry,) = driver.list_versions_page(bucket, "k").entries
    driver.delete_version(bucket, "k", entry.version_id)
    assert driver.list_versions_page(bucket, "k").entries == ()
    with pytest.raises(InvalidRequest):
        driver.delete_version(bucket, "k", "not-a-generation")


def test_gcs_lifecycle_round_trip(gcs):
    driver, bucket, raw = gcs
    assert driver.get_lifecycle(bucket) == []
    rules = [{"action": {"type": "Delete"}, "condition": {"age": 30, "matchesPrefix": ["logs/"]}}]
    driver.put_lifecycle(bucket, rules)
    assert driver.get_lifecycle(bucket) == rules
    raw.reload()
    assert raw.location == "US"  # the patch touched only the lifecycle field
    assert [dict(r) for r in raw.lifecycle_rules] == rules
