"""``delete_objects`` on every driver, against real stores: moto over HTTP (auth off, and
the IAM-enforcing server for per-key AccessDenied), the GCS emulator and folders."""

from __future__ import annotations

import os

import pytest

from conftest import gcs_client, s3_client, seed_keys
from pail.drivers.base import DeletedKey
from pail.drivers.errors import InvalidCredentials, NotFound
from pail.drivers.gcs import GcsDriver
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver


def _keys(driver, bucket, prefix=""):
    return sorted(e.key for e in _entries(driver, bucket, prefix))


def _entries(driver, bucket, prefix=""):
    from pail.drivers.base import iter_entries

    return list(iter_entries(driver, bucket, prefix, delimiter=""))


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def test_s3_deletes_keys_and_counts_missing_ones_as_deleted(s3):
    driver, bucket = s3
    seed_keys(bucket, ["a/1", "a/2", "b/1"])
    result = driver.delete_objects(bucket, ["a/1", ("a/2", None), "never-there"])
    assert sorted(result.deleted) == [
        DeletedKey("a/1"),
        DeletedKey("a/2"),
        DeletedKey("never-there"),
    ]
    assert result.errors == []
    assert _keys(driver, bucket) == ["b/1"]


def test_s3_verbose_mode_uses_the_deleted_list(s3):
    driver, bucket = s3
    seed_keys(bucket, ["a/1"])
    result = driver.delete_objects(bucket, ["a/1"], quiet=False)
    assert result.deleted == [DeletedKey("a/1")]
    assert _keys(driver, bucket) == []


def test_more_than_1000_keys_is_refused_before_any_request(s3):
    driver, bucket = s3
    seed_keys(bucket, ["keep"])
    calls = []
    driver.client.meta.events.register(
        "before-parameter-build.s3.DeleteObjects", lambda **kw: calls.append(1)
    )
    with pytest.raises(ValueError, match="at most 1000"):
        driver.delete_objects(bucket, [f"k{i}" for i in range(1001)])
    assert calls == []
    assert _keys(driver, bucket) == ["keep"]
    driver.delete_objects(bucket, [f"k{i}" for i in range(1000)])  # the limit itself is fine
    assert calls == [1]


def test_s3_missing_bucket_raises_not_found(s3):
    driver, _ = s3
    with pytest.raises(NotFound) as info:
        driver.delete_objects("no-such-bucket-here", ["x"])
    assert info.value.operation == "DeleteObjects"


def test_reader_gets_per_key_access_denied_and_nothing_counts_as_deleted(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    driver = S3Driver(
        client=s3_client(
            store.endpoint,
            aws_access_key_id=reader.access_key_id,
            aws_secret_access_key=reader.secret_access_key,
        )
    )
    for quiet in (True, False):
        result = driver.delete_objects(store.bucket, ["data/a.txt", "data/b.json"], quiet=quiet)
        assert result.deleted == []
        assert {(e.key, e.code) for e in result.errors} == {
            ("data/a.txt", "AccessDenied"),
            ("data/b.json", "AccessDenied"),
        }
    assert {"data/a.txt", "data/b.json"} <= set(_keys(driver, store.bucket))


def test_rejected_credentials_fail_the_whole_request(moto_iam_server):
    driver = S3Driver(
        client=s3_client(
            moto_iam_server.endpoint,
            aws_access_key_id="AKIAUNKNOWN000000000",
            aws_secret_access_key="nope",
        )
    )
    with pytest.raises(InvalidCredentials):
        driver.delete_objects(moto_iam_server.bucket, ["data/a.txt"])


def test_gcs_batches_deletes_and_treats_404_as_gone(gcs_emulator, bucket_name):
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    for i in range(230):  # three batch requests of at most 100
        raw.blob(f"r/{i:03d}").upload_from_string(b"x")
    raw.blob("keep/me").upload_from_string(b"x")
    driver = GcsDriver(client=client)
    keys = [f"r/{i:03d}" for i in range(230)] + ["r/missing"]
    result = driver.delete_objects(bucket_name, keys)
    assert result.errors == []
    assert len(result.deleted) == 231
    assert _keys(driver, bucket_name) == ["keep/me"]


def test_gcs_refuses_a_non_numeric_generation(gcs_emulator, bucket_name):
    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name).blob("a").upload_from_string(b"x")
    driver = GcsDriver(client=client)
    with pytest.raises(ValueError):
        driver.delete_objects(bucket_name, [("a", "not-a-generation")])
    assert _keys(driver, bucket_name) == ["a"]


def test_local_removes_files_and_empty_folders_but_never_the_bucket(tmp_path):
    bucket = tmp_path / "bkt"
    (bucket / "runs" / "run-1" / "deep").mkdir(parents=True)
    (bucket / "runs" / "run-1" / "deep" / "a.bin").write_bytes(b"a")
    (bucket / "runs" / "run-1" / "b.bin").write_bytes(b"b")
    (bucket / "runs" / "run-10").mkdir()
    (bucket / "runs" / "run-10" / "c.bin").write_bytes(b"c")
    driver = LocalDriver(str(tmp_path))
    result = driver.delete_objects("bkt", ["runs/run-1/deep/a.bin", "runs/run-1/b.bin", "gone"])
    assert result.errors == []
    assert len(result.deleted) == 3
    assert not (bucket / "runs" / "run-1").exists()
    assert (bucket / "runs" / "run-10" / "c.bin").exists()
    driver.delete_objects("bkt", ["runs/run-10/c.bin"])
    assert bucket.is_dir() and os.listdir(bucket) == []


def test_local_reports_folders_and_versions_as_errors(tmp_path):
    (tmp_path / "bkt" / "dir").mkdir(parents=True)
    (tmp_path / "bkt" / "f").write_bytes(b"x")
    driver = LocalDriver(str(tmp_path))
    result = driver.delete_objects("bkt", ["dir", ("f", "v1")])
    assert result.deleted == []
    assert {(e.key, e.code) for e in result.errors} == {("dir", "EISDIR"), ("f", "InvalidArgument")}
    assert (tmp_path / "bkt" / "f").exists() and (tmp_path / "bkt" / "dir").is_dir()


def test_local_missing_bucket_raises(tmp_path):
    with pytest.raises(NotFound):
        LocalDriver(str(tmp_path)).delete_objects("nope", ["x"])
