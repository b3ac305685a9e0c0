"""Answers that are not the store's API, and the 5xx split, at the driver boundary.

Real HTTP servers on loopback (tests/support/canned_http.py; the fault proxy in front of
moto) answer the S3 and GCS drivers with a web app's HTML page, a filer's JSON, a store
without STS's plain-text 404, XML cut short, and 500/501/502/504/505. Every answer leaves
the driver as a :class:`~pail.drivers.errors.StorageError` subclass (never botocore's
``ResponseParserError`` or a ``KeyError``), with a message that names the status and the
content type and never copies the body's markup; 501 and 505 are sent once and never
called temporary; a 500 on every attempt says how many attempts it had.
"""

from __future__ import annotations

import pytest

from pail.drivers.errors import (
    BadResponse,
    InvalidCredentials,
    NotFound,
    NotStorageEndpoint,
    ServerError,
    StorageError,
    Transient,
)
from pail.drivers.gcs import GcsDriver
from pail.drivers.retry import RetryPolicy
from pail.drivers.s3 import S3Driver
from support.canned_http import Reply, canned_server
from support.fault_proxy import Rule
from support.servers import REGION, gcs_client, seed_keys

FAST = RetryPolicy(attempts=3, base=0.001, cap=0.002, total=10.0)
PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head>"
    b"<body><h1>Welcome</h1></body></html>"
)
MARKUP = ("<html", "<!DOCTYPE", "<h1>", "Welcome", "<body")


def _s3(endpoint: str, **kwargs) -> S3Driver:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("access_key_id", "testing")
    kwargs.setdefault("secret_access_key", "testing")
    return S3Driver(endpoint_url=endpoint, region=REGION, path_style=True, **kwargs)


def _shown(error: StorageError) -> str:
    """Everything a front-end prints of an error: summary, fields and hint."""
    return "\n".join([str(error), *(f.value for f in error.fields()), error.hint])


def _no_markup(error: StorageError) -> None:
    shown = _shown(error)
    assert not any(m in shown for m in MARKUP), shown


# -- S3: a web app, a filer, a store without STS ------------------------------------------


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda d: d.list_buckets(), "ListBuckets"),
        (lambda d: d.bucket_region("bkt"), "GetBucketLocation"),
        (lambda d: d.caller_identity(), "GetCallerIdentity"),
    ],
)
def test_a_web_page_answering_200_is_not_s3(call, operation) -> None:
    with (
        canned_server([Reply(200, PAGE, content_type="text/html; charset=utf-8")]) as srv,
        pytest.raises(NotStorageEndpoint) as err,
    ):
        call(_s3(srv.url))
    assert srv.count == 1  # a web app answers the same way every time: not retried
    exc = err.value
    assert (exc.operation, exc.status, exc.code) == (operation, 200, "NotS3")
    assert exc.content_type == "text/html; charset=utf-8"
    assert "answered HTTP 200 with an HTML page (text/html), not S3 XML" in exc.message
    assert "does not speak S3" in exc.hint and srv.url in exc.hint
    _no_markup(exc)


def test_a_web_page_listing_never_reads_as_an_empty_bucket() -> None:
    # Well-formed XHTML parses as XML: without the check the page was an empty listing.
    xhtml = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
    with (
        canned_server([Reply(200, xhtml, content_type="application/xhtml+xml")]) as srv,
        pytest.raises(NotStorageEndpoint) as err,
    ):
        _s3(srv.url).list_page("bkt", "runs/")
    assert (err.value.status, err.value.bucket, err.value.key) == (200, "bkt", "runs/")


@pytest.mark.parametrize(
    ("reply", "described"),
    [
        (Reply(200, b'{"Path":"/","Entries":null}', content_type="application/json"), "JSON"),
        (Reply(404, PAGE, content_type="text/html"), "an HTML page (text/html)"),
        (Reply(404, b"404 page not found\n", content_type="text/plain"), "plain text"),
        (Reply(405, PAGE, content_type="text/html"), "an HTML page"),
    ],
)
def test_a_filer_or_web_server_answer_is_not_s3_and_sent_once(reply, described) -> None:
    with canned_server([reply]) as srv, pytest.raises(NotStorageEndpoint) as err:
        _s3(srv.url).list_buckets()
    assert srv.count == 1
    exc = err.value
    assert exc.status == reply.status and described in exc.message
    assert not isinstance(exc, (NotFound, Transient))  # not "check the bucket", not "retry"
    assert "Check the bucket name" not in exc.hint
    _no_markup(exc)


def test_sts_answering_plain_text_404_is_an_error_not_a_parser_crash() -> None:
    # s3rver and other stores without STS: GetCallerIdentity (POST /) gets "Not Found".
    with (
        canned_server([Reply(404, b"Not Found", content_type="text/plain")]) as srv,
        pytest.raises(NotStorageEndpoint) as err,
    ):
        _s3(srv.url).caller_identity()
    assert (err.value.operation, err.value.status) == ("GetCallerIdentity", 404)
    assert "plain text (text/plain)" in err.value.message


def test_a_proxy_html_502_is_retried_and_then_says_what_came_back() -> None:
    with (
        canned_server([Reply(502, PAGE, content_type="text/html")]) as srv,
        pytest.raises(Transient) as err,
    ):
        _s3(srv.url).list_buckets()
    assert srv.count == 3  # 502 is retryable, page or not
    exc = err.value
    assert exc.status == 502 and exc.attempts == 3
    assert "an HTML page (text/html)" in exc.message
    assert "the same answer on all 3 attempts" in str(exc)
    _no_markup(exc)


def test_xml_cut_short_is_retried_then_a_bad_response() -> None:
    cut = b'<?xml version="1.0"?><ListAllMyBucketsResult><Buckets><Bucket><Name>a</Na'
    with canned_server([Reply(200, cut)]) as srv, pytest.raises(BadResponse) as err:
        _s3(srv.url).list_buckets()
    assert srv.count == 3  # like botocore, a cut-short 200 is retried
    exc = err.value
    assert not isinstance(exc, NotStorageEndpoint)
    assert exc.status == 200 and exc.attempts == 3
    assert "not a whole S3 XML document" in exc.message
    assert "<Name>" not in _shown(exc)


def test_sts_xml_cut_short_is_a_bad_response() -> None:
    cut = b"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::1:user/x</A"
    with (
        canned_server([Reply(200, cut, content_type="text/xml")]) as srv,
        pytest.raises(BadResponse) as err,
    ):
        _s3(srv.url).caller_identity()
    assert err.value.operation == "GetCallerIdentity"
    assert "arn:aws" not in _shown(err.value)


def test_objects_that_are_web_pages_still_read(s3_endpoint, bucket_name) -> None:
    # The check judges API answers, never an object's own bytes or Content-Type.
    seed_keys(bucket_name, {"site/index.html": PAGE, "data.json": b'{"a": 1}'})
    driver = _s3(s3_endpoint)
    assert driver.read_range(bucket_name, "site/index.html") == PAGE
    assert driver.read_range(bucket_name, "data.json") == b'{"a": 1}'
    assert driver.head(bucket_name, "site/index.html").size == len(PAGE)


# -- the 5xx split, through the fault proxy in front of moto -------------------------------


@pytest.mark.parametrize(("status", "code"), [(501, "NotImplemented"), (505, "HTTPVersion")])
def test_501_and_505_are_sent_once_and_not_temporary(
    s3_endpoint, bucket_name, faults, status, code
) -> None:
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=status, code=code))
    with pytest.raises(ServerError) as err:
        _s3(faults.url, retry=RetryPolicy(attempts=5, base=0.001, cap=0.002)).read_range(
            bucket_name, "k.txt"
        )
    exc = err.value
    assert not isinstance(exc, Transient) and exc.status == status and exc.attempts is None
    assert sum(1 for r in faults.requests if r.path == f"/{bucket_name}/k.txt") == 1
    assert "temporar" not in exc.hint.lower() and "retry" not in exc.hint.lower()


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_500_502_503_504_are_retried(s3_endpoint, bucket_name, faults, status) -> None:
    seed_keys(bucket_name, {"k.txt": b"retried"})
    code = "InternalError" if status != 503 else "ServiceUnavailable"
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=2, status=status, code=code))
    assert _s3(faults.url).read_range(bucket_name, "k.txt") == b"retried"
    assert sum(1 for r in faults.requests if r.path == f"/{bucket_name}/k.txt") == 3


def test_a_500_on_every_attempt_says_how_often_not_temporary(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=500))
    policy = RetryPolicy(attempts=4, base=0.001, cap=0.002)
    with pytest.raises(Transient) as err:
        _s3(faults.url, retry=policy).read_range(bucket_name, "k.txt")
    exc = err.value
    assert exc.status == 500 and exc.attempts == 4
    assert str(exc).endswith("(the same answer on all 4 attempts)")
    assert "every one of the 4 attempts" in exc.hint
    assert "temporary" not in exc.hint and "Press" not in exc.hint
    assert ("Attempts", "4") in [(f.label, f.value) for f in exc.fields()]


# -- ASIA… keys without a session token ----------------------------------------------------


def test_a_temporary_key_without_its_token_gets_the_session_token_hint(moto_iam_server) -> None:
    iam = moto_iam_server
    temporary = _s3(iam.endpoint, access_key_id="ASIAPAILTEMP00000001", secret_access_key="x" * 40)
    with pytest.raises(InvalidCredentials) as err:
        temporary.list_page(iam.bucket)
    assert err.value.code == "InvalidAccessKeyId" and err.value.session_token_missing
    assert "AWS_SESSION_TOKEN" in err.value.hint and "ASIA" in err.value.hint
    with pytest.raises(InvalidCredentials) as err:
        temporary.caller_identity()  # STS says InvalidClientTokenId
    assert err.value.session_token_missing
    # With a token, or with a long-term key id, the hint is the usual one.
    with_token = _s3(
        iam.endpoint,
        access_key_id="ASIAPAILTEMP00000001",
        secret_access_key="x" * 40,
        session_token="pail-token",
    )
    long_term = _s3(iam.endpoint, access_key_id="AKIAPAILLONG00000001", secret_access_key="x" * 40)
    for driver in (with_token, long_term):
        with pytest.raises(InvalidCredentials) as err:
            driver.list_page(iam.bucket)
        assert not err.value.session_token_missing
        assert "AWS_SESSION_TOKEN" not in err.value.hint


# -- GCS: answers that are not the JSON API -------------------------------------------------


def _gcs(url: str) -> GcsDriver:
    return GcsDriver(client=gcs_client(url), retry=FAST)


@pytest.mark.parametrize("status", [200, 404])
def test_gcs_html_is_not_the_json_api(status) -> None:
    with (
        canned_server([Reply(status, PAGE, content_type="text/html")]) as srv,
        pytest.raises(NotStorageEndpoint) as err,
    ):
        _gcs(srv.url).list_page("bkt", "runs/")
    assert srv.count == 1
    exc = err.value
    assert exc.provider == "gcs" and exc.code == "NotGCS"
    assert "an HTML page" in exc.message and "not GCS JSON" in exc.message
    assert "does not speak the GCS JSON API" in exc.hint
    _no_markup(exc)


def test_gcs_json_cut_short_is_a_bad_response() -> None:
    cut = b'{"kind": "storage#objects", "items": [{"name": "runs/a.txt", "si'
    with (
        canned_server([Reply(200, cut, content_type="application/json")]) as srv,
        pytest.raises(BadResponse) as err,
    ):
        _gcs(srv.url).list_page("bkt")
    assert not isinstance(err.value, NotStorageEndpoint)
    assert "not a whole JSON document" in err.value.message
    assert "runs/a.txt" not in _shown(err.value)


def test_gcs_plain_text_404_stays_not_found() -> None:
    # fake-gcs-server answers a missing object's media download with a plain-text 404.
    with (
        canned_server([Reply(404, b"Not Found\n", content_type="text/plain")]) as srv,
        pytest.raises(NotFound) as err,
    ):
        _gcs(srv.url).head("bkt", "missing.txt")
    assert err.value.message == "Not Found"


@pytest.mark.parametrize(("status", "sent"), [(505, 1), (501, 1), (504, 3)])
def test_gcs_5xx_split(status, sent) -> None:
    with (
        canned_server([Reply(status, b"", content_type="text/plain")]) as srv,
        pytest.raises(StorageError) as err,
    ):
        _gcs(srv.url).list_page("bkt")
    assert srv.count == sent
    assert isinstance(err.value, Transient) == (sent > 1)
    if sent > 1:
        assert err.value.attempts == sent and "every one of the 3 attempts" in err.value.hint
    else:
        assert isinstance(err.value, ServerError) and "temporar" not in err.value.hint
