"""GCS errors: 404s from the emulator, an unreachable endpoint, credential problems, and
the bounded retry policy (5xx/429 retried a fixed number of times; 403/404 sent once),
checked against a canned HTTP server that counts the requests that arrive."""

from __future__ import annotations

import json

import pytest

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    InvalidCredentials,
    InvalidRequest,
    NoCredentials,
    NotFound,
    Throttled,
    Transient,
)
from pail.drivers.gcs import GcsDriver
from pail.drivers.retry import RetryPolicy
from support.canned_http import Reply, canned_server, gcs_error
from support.servers import free_port, gcs_client


@pytest.fixture
def gcs_bucket(gcs_emulator: str, bucket_name: str) -> str:
    bucket = gcs_client(gcs_emulator).create_bucket(bucket_name)
    bucket.blob("runs/a.txt").upload_from_string(b"hello")
    return bucket_name


def test_missing_bucket_from_the_emulator(gcs_emulator: str) -> None:
    driver = GcsDriver()
    with pytest.raises(NotFound) as err:
        driver.list_page("pail-no-such-bucket", "runs/")
    exc = err.value
    assert isinstance(exc, FileNotFoundError)
    assert (exc.status, exc.code, exc.operation) == (404, "notFound", "storage.objects.list")
    assert (exc.bucket, exc.key, exc.provider) == ("pail-no-such-bucket", "runs/", "gcs")
    assert exc.endpoint == gcs_emulator
    assert exc.message == "The specified bucket does not exist."
    with pytest.raises(NotFound) as err:
        driver.bucket_region("pail-no-such-bucket")
    assert err.value.operation == "storage.buckets.get"


def test_missing_object_from_the_emulator(gcs_bucket: str) -> None:
    driver = GcsDriver()
    for call in (
        lambda: driver.head(gcs_bucket, "runs/missing.txt"),
        lambda: driver.read_range(gcs_bucket, "runs/missing.txt", 0, 10),
        lambda: driver.read_range(gcs_bucket, "runs/missing.txt", suffix=10),
    ):
        with pytest.raises(NotFound) as err:
            call()
        exc = err.value
        assert (exc.status, exc.operation, exc.key) == (
            404,
            "storage.objects.get",
            "runs/missing.txt",
        )
        assert "http://" not in exc.message  # the endpoint is its own field


def test_unreachable_emulator_port() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    driver = GcsDriver(client=gcs_client(endpoint), max_attempts=2)
    with pytest.raises(EndpointUnreachable) as err:
        driver.list_page("bucket")
    exc = err.value
    assert isinstance(exc, ConnectionError)
    assert exc.status is None and exc.endpoint == endpoint
    assert exc.operation == "storage.objects.list"


def test_non_numeric_version_id_is_invalid(gcs_bucket: str) -> None:
    with pytest.raises(InvalidRequest):
        GcsDriver().head(gcs_bucket, "runs/a.txt", version_id="not-a-generation")


def test_generation_reads_that_version(gcs_bucket: str) -> None:
    driver = GcsDriver()
    info = driver.head(gcs_bucket, "runs/a.txt")
    assert info.version_id is not None
    again = driver.head(gcs_bucket, "runs/a.txt", version_id=info.version_id)
    assert again.version_id == info.version_id
    assert driver.read_range(gcs_bucket, "runs/a.txt", version_id=info.version_id) == b"hello"


# -- credentials (no network: the client cannot even be built) --------------------------


def test_missing_credentials_file(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    driver = GcsDriver(credentials_file=str(tmp_path / "absent.json"))
    with pytest.raises(NoCredentials) as err:
        driver.list_page("bucket")
    assert "absent.json" in str(err.value)
    assert "GOOGLE_APPLICATION_CREDENTIALS" in err.value.hint


def test_malformed_credentials_file(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    path = tmp_path / "key.json"
    path.write_text(json.dumps({"type": "service_account", "private_key": "SECRET-KEY-TEXT"}))
    driver = GcsDriver(credentials_file=str(path))
    with pytest.raises(InvalidCredentials) as err:
        driver.list_buckets()
    assert "SECRET-KEY-TEXT" not in str(err.value)
    assert "SECRET-KEY-TEXT" not in "".join(f.value for f in err.value.fields())


# -- retry policy, against a canned HTTP server ----------------------------------------


def _driver(url: str, **kwargs) -> GcsDriver:
    return GcsDriver(client=gcs_client(url), **kwargs)


def test_forbidden_is_access_denied_and_sent_once() -> None:
    reply = gcs_error(403, "forbidden", "pail@x.iam does not have storage.objects.list access")
    with canned_server([reply]) as srv, pytest.raises(AccessDenied) as err:
        _driver(srv.url).list_page("bkt", "runs/")
    assert srv.count == 1
    exc = err.value
    assert isinstance(exc, PermissionError)
    assert (exc.status, exc.code) == (403, "forbidden")
    assert exc.message == "pail@x.iam does not have storage.objects.list access"
    assert "storage.objects.list" in exc.hint


def test_server_error_is_retried_then_raised() -> None:
    failing = gcs_error(500, "backendError")
    with canned_server([failing]) as srv, pytest.raises(Transient) as err:
        _driver(srv.url, max_attempts=3).list_page("bkt")
    assert srv.count == 3
    assert (err.value.status, err.value.code) == (500, "backendError")


def test_default_policy_is_five_attempts_and_501_is_not_retried() -> None:
    fast = RetryPolicy(base=0.001, cap=0.002)  # the default attempts, short back-off
    with canned_server([gcs_error(502, "backendError")]) as srv, pytest.raises(Transient):
        _driver(srv.url, retry=fast).list_page("bkt")
    assert srv.count == 5
    with canned_server([gcs_error(501, "notImplemented")]) as srv, pytest.raises(Exception) as err:
        _driver(srv.url, retry=fast).list_page("bkt")
    assert srv.count == 1 and not isinstance(err.value, Transient)


def test_rate_limit_is_throttled() -> None:
    with canned_server([gcs_error(429, "rateLimitExceeded")]) as srv, pytest.raises(Throttled):
        _driver(srv.url, max_attempts=2).head("bkt", "k")
    assert srv.count == 2


def test_transient_then_success() -> None:
    listing = {
        "kind": "storage#objects",
        "prefixes": ["runs/r1/"],
        "items": [
            {"name": "runs/a.txt", "size": "5", "updated": "2024-05-01T12:00:00Z", "etag": "E1"}
        ],
        "nextPageToken": "tok-2",
    }
    ok = Reply(200, json.dumps(listing).encode(), content_type="application/json")
    with canned_server([gcs_error(503, "backendError"), ok]) as srv:
        page = _driver(srv.url).list_page("bkt", "runs/", page_size=2)
    assert srv.count == 2  # no extra background request either
    assert "maxResults=2" in srv.requests[-1]
    assert [e.key for e in page.entries] == ["runs/a.txt", "runs/r1/"]
    # The server's token, then the greatest key listed (GcsDriver.list_page drops repeated
    # prefixes at a non-Google endpoint by it).
    assert page.next_token == "tok-2\nruns/r1/"


def test_range_not_satisfiable_reads_as_empty() -> None:
    # Real GCS answers 416 for a range starting at or past the end (the emulator does not).
    with canned_server([gcs_error(416, "requestedRangeNotSatisfiable")]) as srv:
        assert _driver(srv.url).read_range("bkt", "k", 100, 10) == b""
    assert srv.count == 1


def test_invalid_bucket_name_is_invalid_request(gcs_emulator: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        GcsDriver().list_page("-not_a valid name-")
    assert isinstance(err.value, ValueError)
    assert err.value.bucket == "-not_a valid name-"
    assert "\n" not in str(err.value)
