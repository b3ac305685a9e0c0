"""Endpoint URLs checked before any request (pail.core.endpoint): what is wrong, the
endpoint to use, the bucket to name, and where the endpoint came from."""

from __future__ import annotations

import pytest

from pail.core.endpoint import BadEndpoint, check_endpoint, diagnose, safe_endpoint
from pail.core.uri import InvalidURI


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000",
        "https://minio.lab:9000/",
        "https://s3.eu-west-1.amazonaws.com",
        "https://s3.amazonaws.com",
        "https://acct.r2.cloudflarestorage.com",
        "https://nyc3.digitaloceanspaces.com",
        "https://storage.googleapis.com",
        "https://proj.supabase.co/storage/v1/s3",  # an S3 API mounted under a path
        # A host that merely starts like a bucket on another domain is not refused here.
        "http://artifacts.lab.internal:9000",
    ],
)
def test_plain_endpoints_pass(url: str) -> None:
    assert diagnose(url) is None
    check_endpoint(url, "--endpoint-url")


@pytest.mark.parametrize(
    ("url", "use", "bucket", "prefix", "region"),
    [
        ("127.0.0.1:9000", "http://127.0.0.1:9000", None, "", None),
        ("minio:9000", "http://minio:9000", None, "", None),
        ("http://host:9000/mybucket", "http://host:9000", "mybucket", "", None),
        ("http://host:9000/mybucket/runs/1/", "http://host:9000", "mybucket", "runs/1/", None),
        (
            "https://bucket.s3.eu-west-1.amazonaws.com",
            "https://s3.eu-west-1.amazonaws.com",
            "bucket",
            "",
            "eu-west-1",
        ),
        ("https://bucket.s3.amazonaws.com", "https://s3.amazonaws.com", "bucket", "", "us-east-1"),
        (
            "https://my.b.s3-us-west-2.amazonaws.com",
            "https://s3-us-west-2.amazonaws.com",
            "my.b",
            "",
            "us-west-2",
        ),
        (
            "https://s3.eu-central-1.amazonaws.com/bucket",
            "https://s3.eu-central-1.amazonaws.com",
            "bucket",
            "",
            "eu-central-1",
        ),
        # No scheme and the bucket in the path: an AWS host gets https.
        (
            "s3.us-west-2.amazonaws.com/bucket",
            "https://s3.us-west-2.amazonaws.com",
            "bucket",
            "",
            "us-west-2",
        ),
        (
            "https://b1.nyc3.digitaloceanspaces.com",
            "https://nyc3.digitaloceanspaces.com",
            "b1",
            "",
            None,
        ),
        ("https://b2.storage.googleapis.com", "https://storage.googleapis.com", "b2", "", None),
        ("http://h:9000?x=1", "http://h:9000", None, "", None),
    ],
)
def test_mistakes_are_named_with_the_endpoint_and_bucket_to_use(
    url: str, use: str, bucket: str | None, prefix: str, region: str | None
) -> None:
    found = diagnose(url)
    assert found is not None
    assert (found.use, found.bucket, found.prefix, found.region) == (use, bucket, prefix, region)
    message = found.message("MLFLOW_S3_ENDPOINT_URL")
    assert use in message
    if bucket:
        assert f"s3://{bucket}/{prefix}" in message
    assert "the endpoint came from MLFLOW_S3_ENDPOINT_URL" in message
    assert f"set MLFLOW_S3_ENDPOINT_URL={use}" in message


def test_the_fix_is_said_where_the_endpoint_was_set() -> None:
    with pytest.raises(BadEndpoint) as flag:
        check_endpoint("127.0.0.1:9000", "--endpoint-url")
    assert isinstance(flag.value, InvalidURI)  # the command line exits 2 for it
    assert "pass --endpoint-url http://127.0.0.1:9000" in str(flag.value)
    with pytest.raises(BadEndpoint) as saved:
        check_endpoint("http://h:1/b", "connection lab (/tmp/c.toml)")
    assert 'give connection lab endpoint_url = "http://h:1"' in str(saved.value)


def test_a_bucket_uri_given_as_the_endpoint() -> None:
    found = diagnose("s3://mybucket/runs")
    assert found is not None and found.use is None and found.bucket == "mybucket"
    assert "is a bucket location" in found.message()


def test_a_password_in_the_endpoint_is_never_repeated() -> None:
    found = diagnose("http://alice:hunter2@h:9000/b")
    assert found is not None
    message = found.message("S3_ENDPOINT")
    assert "hunter2" not in message and "alice" not in message
    assert "user name or password" in message and found.use == "http://h:9000"
    assert safe_endpoint("http://u:p@h:1/x") == "http://h:1/x"


@pytest.mark.parametrize("url", ["http://", "http://h:port/"])
def test_unreadable_endpoints_have_no_suggestion(url: str) -> None:
    found = diagnose(url)
    assert found is not None and found.use is None
