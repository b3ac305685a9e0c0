"""What SeaweedFS showed about pail, checked against the server itself: the capability
table's SeaweedFS entry (pail.drivers.quirks) holds for SeaweedFS 4.48, part sizes are
read right on both servers (SeaweedFS sends ``PartsCount: 1`` for a single-part object),
and the filer's port given as the endpoint is recognised as not S3, without a traceback.
"""

from __future__ import annotations

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from support.cli import run
from support.seaweed import S3_SERVERS, SEAWEEDFS, S3Server, s3_server

#: A multipart object's first part: 5 MiB, S3's minimum for every part but the last.
PART = 5 * 1024 * 1024


@pytest.fixture(params=S3_SERVERS)
def server(request: pytest.FixtureRequest) -> S3Server:
    """moto or SeaweedFS (started once per session)."""
    return s3_server(request, request.param)


def pail(args: list[str]):
    """``pail ARGS`` in-process; no traceback may reach either stream."""
    result = run(args)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return result


def _spec(endpoint: str) -> ConnectionSpec:
    return ConnectionSpec(
        name="quirks", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )


def _multipart_put(client, bucket: str, key: str, parts: list[bytes]) -> None:
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        etag = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )


def test_part_sizes_single_and_multipart(server: S3Server) -> None:
    bucket = server.new_bucket({"single.bin": b"s" * 2048})
    _multipart_put(server.client, bucket, "multi.bin", [b"a" * PART, b"b" * 1000])
    driver = open_driver(_spec(server.endpoint))
    assert driver.part_sizes(bucket, "multi.bin", 2) == [PART, 1000]
    assert driver.part_size(bucket, "multi.bin", part_number=2) == 1000
    # S3 sends PartsCount only for multipart uploads; SeaweedFS 4.48 sends 1 here too.
    assert driver.part_size(bucket, "single.bin") is None


def test_seaweedfs_filer_port_is_not_s3(seaweedfs) -> None:
    """The filer's HTTP port (a web UI and file API, not S3) given as the endpoint: every
    command says so in its own words, without a traceback."""
    args = ["--endpoint-url", seaweedfs.filer_url, "--path-style", "--region", "us-east-1"]
    listed = pail(["ls", *args, "s3://"])
    assert listed.exit_code != 0
    assert "not S3" in listed.stderr, listed.stderr
    doctor = pail(["doctor", *args, "s3://pail-ready/"])
    assert doctor.exit_code != 0
    assert "not S3" in doctor.stdout, doctor.stdout
    # botocore parses GetBucketLocation's body itself, even the filer's empty 404: that is
    # an unreadable answer, not a bug to report.
    assert "please report" not in doctor.stdout, doctor.stdout
    assert "could not be read as S3 XML" in doctor.stdout
    ls_bucket = pail(["ls", *args, "s3://pail-ready/"])
    assert ls_bucket.exit_code != 0 and ls_bucket.stderr


def test_identity_call_on_seaweedfs_is_asked_once(seaweedfs, make_fault_proxy) -> None:
    """GetCallerIdentity as a connection's first request: SeaweedFS answers 503 (no STS);
    its Server header names the flavour, so pail stops there instead of retrying a 503
    for seconds, and says the store does not offer it."""
    from pail.drivers.errors import NotSupported

    proxy = make_fault_proxy(seaweedfs.endpoint)  # records every request it forwards
    driver = open_driver(_spec(proxy.url))
    with pytest.raises(NotSupported) as off:
        driver.caller_identity()
    assert off.value.operation == "GetCallerIdentity"
    assert "seaweedfs does not offer it" in str(off.value)
    assert [r.method for r in proxy.requests] == ["POST"]
    with pytest.raises(NotSupported):
        driver.caller_identity()  # known now: not asked again
    assert len(proxy.requests) == 1


def test_seaweedfs_quirks_match_the_server(seaweedfs) -> None:
    """pail's capability table for SeaweedFS (pail.drivers.quirks) against the server
    itself: each capability the table claims works, and STS, which it says is missing,
    fails. The flavour is detected from the ``Server`` header."""
    from botocore.exceptions import ClientError

    from pail.drivers.quirks import FLAVOURS

    caps = FLAVOURS["seaweedfs"]
    raw = seaweedfs.client()
    server = S3Server("seaweedfs", seaweedfs.endpoint, raw, SEAWEEDFS)
    bucket = server.new_bucket([f"p/k{i}" for i in range(5)])
    driver = open_driver(_spec(seaweedfs.endpoint))
    driver.list_buckets()
    assert driver.quirks.flavour == "seaweedfs"

    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=seaweedfs.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(ClientError) as no_sts:
        sts.get_caller_identity()
    assert caps.sts is False and no_sts.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503

    assert caps.list_version == 1  # rclone's choice; ListObjects (V1) pages by marker here
    first = raw.list_objects(Bucket=bucket, Prefix="p/", MaxKeys=2)
    rest = raw.list_objects(Bucket=bucket, Prefix="p/", Marker="p/k1")
    assert first["IsTruncated"] and [o["Key"] for o in first["Contents"]] == ["p/k0", "p/k1"]
    assert [o["Key"] for o in rest["Contents"]] == ["p/k2", "p/k3", "p/k4"]

    assert caps.batch_delete
    gone = raw.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "p/k4"}]})
    assert [d["Key"] for d in gone["Deleted"]] == ["p/k4"]

    assert caps.versioning and caps.lifecycle
    raw.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert raw.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rule = {"ID": "r", "Filter": {"Prefix": "p/"}, "Status": "Enabled", "Expiration": {"Days": 1}}
    raw.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [rule]})
    assert raw.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"] == "r"

    assert caps.head_part_number and caps.object_attributes
    _multipart_put(raw, bucket, "mp", [b"a" * PART, b"b" * 10])
    assert raw.head_object(Bucket=bucket, Key="mp", PartNumber=2)["ContentLength"] == 10
    attributes = raw.get_object_attributes(
        Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"]
    )
    assert [p["Size"] for p in attributes["ObjectParts"]["Parts"]] == [PART, 10]
