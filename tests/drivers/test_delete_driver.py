"""``delete_objects`` on every driver, against real stores: moto and SeaweedFS over HTTP
(auth off / admin, and a read-only identity for per-key AccessDenied), the GCS emulator
and folders."""

from __future__ import annotations

import os

import pytest

from pail.drivers.base import DeletedKey
from pail.drivers.errors import InvalidCredentials, NotFound, StorageError
from pail.drivers.gcs import GcsDriver
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from support.seaweed import READER, S3_SERVERS, put_many, s3_endpoint_for
from support.servers import gcs_client, s3_client


def _keys(driver, bucket, prefix=""):
    return sorted(e.key for e in _entries(driver, bucket, prefix))


def _entries(driver, bucket, prefix=""):
    from pail.drivers.base import iter_entries

    return list(iter_entries(driver, bucket, prefix, delimiter=""))


@pytest.fixture(params=S3_SERVERS)
def s3_endpoint(request):
    """Every S3 test here runs on moto and on SeaweedFS."""
    return s3_endpoint_for(request, request.param)


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket=bucket_name)
    return S3Driver(client=client), bucket_name


def seed_keys(driver: S3Driver, bucket: str, keys: list[str]) -> None:
    """Put ``keys`` into ``bucket`` over HTTP through the driver's own boto3 client."""
    put_many(driver.client, bucket, keys)


def test_s3_deletes_keys_and_counts_missing_ones_as_deleted(s3):
    driver, bucket = s3
    seed_keys(driver, bucket, ["a/1", "a/2", "b/1"])
    result = driver.delete_objects(bucket, ["a/1", ("a/2", None), "never-there"])
    assert sorted(result.deleted) == [
        DeletedKey("a/1"),
        DeletedKey("a/2"),
        DeletedKey("never-there"),
    ]
    assert result.errors == []
    assert _keys(driver, bucket) == ["b/1"]


def test_s3_sends_quiet_false_and_counts_the_deleted_list(s3):
    driver, bucket = s3
    seed_keys(driver, bucket, ["a/1"])
    sent = []
    driver.client.meta.events.register(
        "before-parameter-build.s3.DeleteObjects",
        lambda params, **_: sent.append(params["Delete"].get("Quiet")),
    )
    result = driver.delete_objects(bucket, ["a/1"])
    assert sent == [False]
    assert result.deleted == [DeletedKey("a/1")] and result.errors == []
    assert _keys(driver, bucket) == []


def test_s3_versioned_bucket_plain_and_versioned_deletes_are_confirmed(s3):
    driver, bucket = s3
    client = driver.client
    seed_keys(driver, bucket, [])
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = client.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    client.put_object(Bucket=bucket, Key="k", Body=b"2")
    # A plain-key delete adds a delete marker: the reply's Deleted entry has the key,
    # DeleteMarker and DeleteMarkerVersionId, no VersionId.
    result = driver.delete_objects(bucket, ["k"])
    assert result.deleted == [DeletedKey("k")] and result.errors == []
    marker = [
        m["VersionId"] for m in client.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])
    ]
    assert len(marker) == 1
    result = driver.delete_objects(bucket, [("k", v1), ("k", marker[0])])
    assert sorted(result.deleted) == sorted([DeletedKey("k", v1), DeletedKey("k", marker[0])])
    assert result.errors == []
    versions = client.list_object_versions(Bucket=bucket)
    left = [v["VersionId"] for v in versions.get("Versions", [])]
    assert v1 not in left and not versions.get("DeleteMarkers")


def test_more_than_1000_keys_is_refused_before_any_request(s3):
    driver, bucket = s3
    seed_keys(driver, bucket, ["keep"])
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
    result = driver.delete_objects(store.bucket, ["data/a.txt", "data/b.json"])
    assert result.deleted == []
    assert {(e.key, e.code) for e in result.errors} == {
        ("data/a.txt", "AccessDenied"),
        ("data/b.json", "AccessDenied"),
    }
    assert {"data/a.txt", "data/b.json"} <= set(_keys(driver, store.bucket))


def test_seaweedfs_reader_gets_per_key_access_denied(seaweedfs, bucket_name):
    admin = seaweedfs.client()
    admin.create_bucket(Bucket=bucket_name)
    put_many(admin, bucket_name, ["data/a.txt", "data/b.json"])
    driver = S3Driver(client=seaweedfs.client(READER))
    result = driver.delete_objects(bucket_name, ["data/a.txt", "data/b.json"])
    assert result.deleted == []
    assert {(e.key, e.code) for e in result.errors} == {
        ("data/a.txt", "AccessDenied"),
        ("data/b.json", "AccessDenied"),
    }
    assert _keys(driver, bucket_name) == ["data/a.txt", "data/b.json"]


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


# -- only what the store confirmed counts -------------------------------------------------


def _batch_reply(statuses: list[int]) -> bytes:
    """A GCS batch reply (multipart/mixed) with one sub-response per status."""
    parts = []
    for i, status in enumerate(statuses, start=1):
        parts.append(
            "--batch_pail\r\nContent-Type: application/http\r\n"
            f"Content-ID: <response-x+{i}>\r\n\r\n"
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\r\n{{}}\r\n"
        )
    return ("".join(parts) + "--batch_pail--\r\n").encode()


@pytest.mark.parametrize("statuses", [[204], [204, 204, 204, 204]])
def test_gcs_batch_reply_that_does_not_match_its_calls_confirms_nothing(statuses):
    from support.canned_http import Reply, canned_server

    reply = Reply(200, _batch_reply(statuses), content_type="multipart/mixed; boundary=batch_pail")
    with canned_server([reply]) as server:
        driver = GcsDriver(client=gcs_client(server.url))
        result = driver.delete_objects("bkt", ["a", "b", "c"])
    assert result.deleted == []
    assert [(e.key, e.code) for e in result.errors] == [
        ("a", "NotConfirmed"),
        ("b", "NotConfirmed"),
        ("c", "NotConfirmed"),
    ]
    assert all("did not name this key" in e.message for e in result.errors)


def test_gcs_batch_reply_per_call_statuses():
    from support.canned_http import Reply, canned_server

    reply = Reply(
        200, _batch_reply([204, 404, 403]), content_type="multipart/mixed; boundary=batch_pail"
    )
    with canned_server([reply]) as server:
        driver = GcsDriver(client=gcs_client(server.url))
        result = driver.delete_objects("bkt", ["a", "b", "c"])
    assert result.deleted == [DeletedKey("a"), DeletedKey("b")]
    assert [(e.key, e.code) for e in result.errors] == [("c", "403")]


@pytest.mark.parametrize(
    ("body", "deleted"),
    [
        (b"", []),  # an empty 200: nothing confirmed
        (
            b'<?xml version="1.0"?><DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>',
            ["a"],
        ),
    ],
)
def test_s3_reply_names_what_counts_the_rest_is_not_confirmed(body, deleted):
    from support.canned_http import Reply, canned_server

    with canned_server([Reply(200, body)]) as server:
        driver = S3Driver(client=s3_client(server.url))
        result = driver.delete_objects("bkt", ["a", "b", ("c", "v1")])
    assert [d.key for d in result.deleted] == deleted
    assert {(e.key, e.version_id, e.code) for e in result.errors} == {
        (k, v, "NotConfirmed")
        for k, v in [("a", None), ("b", None), ("c", "v1")]
        if k not in deleted
    }


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>not closed",
        b"<html><body>Welcome</body></html>",  # a web page, even one that parses as XML
    ],
)
def test_s3_reply_that_is_not_xml_fails_the_request(body):
    # A 200 that is not S3 XML (pail.drivers.s3.errors.check_answer) fails the request as
    # a whole, so the deleter reports every key of the batch as failed.
    from support.canned_http import Reply, canned_server

    with canned_server([Reply(200, body)]) as server:
        driver = S3Driver(client=s3_client(server.url))
        with pytest.raises(StorageError) as info:
            driver.delete_objects("bkt", ["a", "b"])
    assert info.value.operation == "DeleteObjects"


def test_s3_versioned_keys_need_their_version_named():
    from support.canned_http import Reply, canned_server

    body = (
        b'<?xml version="1.0"?><DeleteResult>'
        b"<Deleted><Key>k</Key><VersionId>v1</VersionId></Deleted>"
        b"<Deleted><Key>m</Key><DeleteMarker>true</DeleteMarker>"
        b"<DeleteMarkerVersionId>dm1</DeleteMarkerVersionId></Deleted>"
        b"<Deleted><Key>n</Key></Deleted>"
        b"<Error><Key>e</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
        b"</DeleteResult>"
    )
    with canned_server([Reply(200, body)]) as server:
        driver = S3Driver(client=s3_client(server.url))
        result = driver.delete_objects(
            "bkt", [("k", "v1"), ("k", "v2"), ("m", "dm1"), ("n", "v9"), ("e", "v1"), "e"]
        )
    assert sorted(result.deleted) == [DeletedKey("k", "v1"), DeletedKey("m", "dm1")]
    assert sorted((e.key, e.version_id or "", e.code) for e in result.errors) == [
        ("e", "", "AccessDenied"),
        ("e", "v1", "AccessDenied"),
        ("k", "v2", "NotConfirmed"),
        ("n", "v9", "NotConfirmed"),  # a Deleted entry without the version id we sent
    ]
