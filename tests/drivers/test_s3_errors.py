"""S3 errors as users meet them: real 403s from moto's IAM enforcement, bad keys, a dead
endpoint, a missing bucket, and the retry policy (transient errors retried, bounded; 403
and 404 never), checked by counting the requests that really go out."""

from __future__ import annotations

import pytest

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    ExpiredCredentials,
    InvalidCredentials,
    InvalidRequest,
    NoCredentials,
    NotFound,
    StorageError,
    Throttled,
    Transient,
    WrongRegion,
)
from pail.drivers.retry import RetryPolicy
from pail.drivers.s3 import S3Driver
from support.canned_http import Reply, canned_server, s3_error
from support.servers import IamStore, free_port, s3_client


def _driver(endpoint: str, **kwargs) -> S3Driver:
    kwargs.setdefault("region", "us-east-1")
    return S3Driver(endpoint_url=endpoint, path_style=True, **kwargs)


def _as(iam: IamStore, user: str, **kwargs) -> S3Driver:
    keys = iam.users[user]
    return _driver(
        iam.endpoint,
        access_key_id=keys.access_key_id,
        secret_access_key=keys.secret_access_key,
        **kwargs,
    )


def _count_sends(driver: S3Driver) -> list[str]:
    """Record every HTTP request the driver's real client sends (botocore's event hook)."""
    sent: list[str] = []
    driver.client.meta.events.register(
        "before-send.s3.*", lambda request, **_: sent.append(request.method)
    )
    return sent


# -- real 403s from IAM ----------------------------------------------------------------


def test_reader_denied_list_buckets_but_reads_the_bucket(moto_iam_server: IamStore) -> None:
    reader = _as(moto_iam_server, "reader")
    with pytest.raises(AccessDenied) as err:
        reader.list_buckets()
    exc = err.value
    assert isinstance(exc, PermissionError)
    assert (exc.status, exc.code, exc.operation) == (403, "AccessDenied", "ListBuckets")
    assert exc.provider == "s3" and exc.endpoint == moto_iam_server.endpoint
    assert exc.request_id  # moto answers with an x-amzn-requestid
    assert exc.badge == "403 AccessDenied"
    assert "s3:ListAllMyBuckets" in exc.hint
    labels = [f.label for f in exc.fields()]
    assert {"Operation", "HTTP status", "Code", "Request id", "Endpoint"} <= set(labels)

    page = reader.list_page(moto_iam_server.bucket, "data/")
    assert [e.key for e in page.entries] == ["data/a.txt", "data/b.json"]
    assert reader.read_range(moto_iam_server.bucket, "data/a.txt") == b"hello\n"
    assert reader.head(moto_iam_server.bucket, "data/b.json").size == 8


def test_nolist_denied_list_objects(moto_iam_server: IamStore) -> None:
    nolist = _as(moto_iam_server, "nolist")
    with pytest.raises(AccessDenied) as err:
        nolist.list_page(moto_iam_server.bucket, "data/")
    exc = err.value
    assert (exc.operation, exc.bucket, exc.key) == ("ListObjectsV2", "pail-iam", "data/")
    assert (exc.status, exc.code) == (403, "AccessDenied")
    assert "s3:ListBucket" in exc.hint
    # GetObject is still allowed.
    assert nolist.read_range(moto_iam_server.bucket, "data/a.txt", 0, 4) == b"hell"


def test_access_denied_is_not_retried(moto_iam_server: IamStore) -> None:
    reader = _as(moto_iam_server, "reader")
    sent = _count_sends(reader)
    with pytest.raises(AccessDenied):
        reader.list_buckets()
    assert sent == ["GET"]


def test_unknown_access_key_id(moto_iam_server: IamStore) -> None:
    secret = "S3cr3tValueThatMustNeverBeShown0000000000"
    driver = _driver(
        moto_iam_server.endpoint, access_key_id="AKIAUNKNOWNKEY000000", secret_access_key=secret
    )
    sent = _count_sends(driver)
    with pytest.raises(InvalidCredentials) as err:
        driver.list_page(moto_iam_server.bucket)
    exc = err.value
    assert isinstance(exc, PermissionError)
    assert (exc.status, exc.code, exc.operation) == (403, "InvalidAccessKeyId", "ListObjectsV2")
    assert secret not in str(exc) and all(secret not in f.value for f in exc.fields())
    assert sent == ["GET"]


def test_wrong_secret(moto_iam_server: IamStore) -> None:
    reader = moto_iam_server.users["reader"]
    secret = "wrong-secret-wrong-secret-wrong-secret-00"
    driver = _driver(
        moto_iam_server.endpoint, access_key_id=reader.access_key_id, secret_access_key=secret
    )
    with pytest.raises(InvalidCredentials) as err:
        driver.list_page(moto_iam_server.bucket)
    exc = err.value
    assert (exc.status, exc.code) == (403, "SignatureDoesNotMatch")
    assert "secret access key" in exc.hint
    text = str(exc) + repr(exc.args) + "".join(f.value for f in exc.fields())
    assert secret not in text and reader.secret_access_key not in text


# -- transport and not-found -----------------------------------------------------------


def test_dead_endpoint_is_unreachable() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    driver = _driver(endpoint, max_attempts=1, connect_timeout=2, read_timeout=2)
    with pytest.raises(EndpointUnreachable) as err:
        driver.list_page("bucket")
    exc = err.value
    assert isinstance(exc, ConnectionError)
    assert exc.status is None and exc.endpoint == endpoint
    assert exc.code == "EndpointConnectionError" and exc.badge == "unreachable"
    assert endpoint in exc.hint


def test_missing_bucket_is_no_such_bucket(s3_endpoint: str) -> None:
    driver = _driver(s3_endpoint)
    sent = _count_sends(driver)
    with pytest.raises(NotFound) as err:
        driver.list_page("pail-no-such-bucket", "runs/")
    exc = err.value
    assert isinstance(exc, FileNotFoundError)
    assert (exc.status, exc.code, exc.bucket) == (404, "NoSuchBucket", "pail-no-such-bucket")
    assert exc.request_id and exc.endpoint == s3_endpoint
    assert "path-style" in exc.hint
    assert sent == ["GET"]


def test_head_404_has_no_body_but_is_not_found(s3_endpoint: str) -> None:
    s3_client(s3_endpoint).create_bucket(Bucket="pail-head")
    with pytest.raises(NotFound) as err:
        _driver(s3_endpoint).head("pail-head", "missing.json")
    assert (err.value.status, err.value.code, err.value.operation) == (
        404,
        "NotFound",
        "HeadObject",
    )


def test_anonymous_requests_are_unsigned(s3_endpoint: str) -> None:
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="pail-public")
    raw.put_object(Bucket="pail-public", Key="open.txt", Body=b"public", ACL="public-read")
    driver = _driver(s3_endpoint, anonymous=True)
    headers: list[dict] = []
    driver.client.meta.events.register(
        "before-send.s3.*", lambda request, **_: headers.append(dict(request.headers))
    )
    assert driver.read_range("pail-public", "open.txt") == b"public"
    assert "Authorization" not in headers[0]


def test_missing_profile_is_no_credentials(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "aws-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    driver = S3Driver(profile="pail-no-such-profile", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(NoCredentials) as err:
        driver.list_buckets()
    assert err.value.code == "ProfileNotFound" and "pail-no-such-profile" in str(err.value)


def test_no_credentials_anywhere(tmp_path, monkeypatch) -> None:
    empty = tmp_path / "aws-config"
    empty.write_text("")
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    driver = _driver(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(NoCredentials) as err:
        driver.list_buckets()
    assert err.value.code == "NoCredentialsError" and "--no-sign-request" in err.value.hint


def test_negative_range_is_invalid(s3_endpoint: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        _driver(s3_endpoint).read_range("b", "k", -1, 10)
    assert isinstance(err.value, ValueError)


# -- retry policy, against a canned HTTP server ----------------------------------------


def test_transient_500_is_retried_then_raised() -> None:
    failing = s3_error(500, "InternalError", "We encountered an internal error")
    with canned_server([failing]) as srv, pytest.raises(Transient) as err:
        _driver(srv.url, max_attempts=3).list_page("bkt")
    assert srv.count == 3  # bounded: pail's policy with max_attempts=3, 3 attempts in all
    assert (err.value.status, err.value.code) == (500, "InternalError")
    assert err.value.request_id == "canned-req-1"


def test_default_policy_is_five_attempts() -> None:
    failing = s3_error(500, "InternalError")
    fast = RetryPolicy(base=0.001, cap=0.002)  # the default attempts, short back-off
    with canned_server([failing]) as srv, pytest.raises(Transient):
        _driver(srv.url, retry=fast).list_page("bkt")
    assert srv.count == 5


def test_transient_500_then_success() -> None:
    ok = Reply(
        200,
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<Name>bkt</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>"
        b"<IsTruncated>false</IsTruncated><Contents><Key>a.txt</Key>"
        b"<LastModified>2024-05-01T12:00:00.000Z</LastModified><ETag>&quot;abc&quot;</ETag>"
        b"<Size>3</Size><StorageClass>STANDARD</StorageClass></Contents></ListBucketResult>",
    )
    with canned_server([s3_error(500, "InternalError"), ok]) as srv:
        page = _driver(srv.url).list_page("bkt")
    assert srv.count == 2
    assert [(e.key, e.size, e.etag) for e in page.entries] == [("a.txt", 3, "abc")]


def test_slow_down_is_throttled() -> None:
    slow_down = s3_error(503, "SlowDown", "Please reduce your request rate.")
    with canned_server([slow_down]) as srv, pytest.raises(Throttled) as err:
        _driver(srv.url, max_attempts=2).list_page("bkt")
    assert srv.count == 2
    assert isinstance(err.value, Transient) and err.value.code == "SlowDown"


def test_bare_429_is_throttled() -> None:
    with canned_server([Reply(429)]) as srv, pytest.raises(Throttled) as err:
        _driver(srv.url, max_attempts=2).list_page("bkt")
    assert srv.count == 2 and err.value.status == 429 and err.value.badge == "429"


@pytest.mark.parametrize(
    "reply",
    [s3_error(403, "AccessDenied"), s3_error(404, "NoSuchKey"), s3_error(400, "InvalidArgument")],
    ids=["403", "404", "400"],
)
def test_client_errors_are_sent_once(reply: Reply) -> None:
    with canned_server([reply]) as srv, pytest.raises((AccessDenied, NotFound, InvalidRequest)):
        _driver(srv.url, max_attempts=3).read_range("bkt", "k", 0, 10)
    assert srv.count == 1


def test_wrong_region_names_the_region() -> None:
    redirect = Reply(
        301, s3_error(301, "PermanentRedirect").body, {"x-amz-bucket-region": "eu-west-1"}
    )
    with canned_server([redirect]) as srv, pytest.raises(WrongRegion) as err:
        _driver(srv.url).list_page("bkt")
    exc = err.value
    assert (exc.status, exc.code, exc.region) == (301, "PermanentRedirect", "eu-west-1")
    assert "--region eu-west-1" in exc.hint


def test_authorization_header_malformed_is_wrong_region() -> None:
    reply = s3_error(400, "AuthorizationHeaderMalformed", "region is wrong", Region="eu-west-2")
    with canned_server([reply]) as srv, pytest.raises(WrongRegion) as err:
        _driver(srv.url).list_page("bkt")
    assert err.value.region == "eu-west-2"


def test_head_in_wrong_region_uses_the_header() -> None:
    reply = Reply(400, b"", {"x-amz-bucket-region": "ap-south-1"})
    with canned_server([reply]) as srv, pytest.raises(WrongRegion) as err:
        _driver(srv.url).head("bkt", "k")
    assert (err.value.status, err.value.region, err.value.operation) == (
        400,
        "ap-south-1",
        "HeadObject",
    )


@pytest.mark.parametrize(
    ("constraint", "region"),
    [("EU", "eu-west-1"), ("ap-south-1", "ap-south-1"), ("", "us-east-1")],
)
def test_bucket_location_constraint(constraint: str, region: str) -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><LocationConstraint '
        f'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{constraint}</LocationConstraint>'
    ).encode()
    with canned_server([Reply(200, body)]) as srv:
        assert _driver(srv.url).bucket_region("bkt") == region


def test_invalid_bucket_name_is_invalid_request(s3_endpoint: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        _driver(s3_endpoint).list_page("not a/valid:name")
    assert err.value.bucket == "not a/valid:name" and err.value.operation == "ListObjectsV2"


def test_endpoint_without_scheme_is_invalid_request() -> None:
    with pytest.raises(InvalidRequest) as err:
        S3Driver(endpoint_url="localhost:9000").list_buckets()
    assert err.value.code == "InvalidEndpoint" and "localhost:9000" in str(err.value)


@pytest.mark.parametrize(
    ("reply", "expected", "not_expected"),
    [
        (s3_error(400, "ExpiredToken"), ExpiredCredentials, None),
        (s3_error(403, "TokenRefreshRequired"), ExpiredCredentials, None),
        (s3_error(400, "InvalidToken"), InvalidCredentials, ExpiredCredentials),
        (s3_error(403, "AllAccessDisabled"), AccessDenied, None),
        (s3_error(403, "InvalidObjectState"), StorageError, PermissionError),
        (s3_error(400, "InvalidBucketName"), InvalidRequest, None),
        (s3_error(400, "IllegalLocationConstraintException"), WrongRegion, None),
        (Reply(502), Transient, Throttled),
        (s3_error(418, "Teapot"), StorageError, Transient),
    ],
    ids=lambda v: getattr(v, "__name__", None) or str(getattr(v, "status", "")),
)
def test_error_code_table(reply: Reply, expected: type, not_expected: type | None) -> None:
    with canned_server([reply]) as srv, pytest.raises(expected) as err:
        _driver(srv.url, max_attempts=1).read_range("bkt", "k", 0, 10)
    if not_expected is not None:
        assert not isinstance(err.value, not_expected)
    assert err.value.status == reply.status and err.value.operation == "GetObject"
