"""Explanations for each class of failure, from errors produced by real servers: moto with
IAM (403s, bad keys), a canned HTTP server for what moto cannot produce (301 redirects,
ExpiredToken, KMS and SCP denials), a dead port, an unresolvable host, plain HTTP spoken to
an https:// endpoint, and a TLS server with a self-signed certificate."""

from __future__ import annotations

import json
import ssl
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    ExpiredCredentials,
    InvalidCredentials,
    NotFound,
    StorageError,
    WrongRegion,
)
from pail.drivers.gcs import GcsDriver
from pail.drivers.s3 import S3Driver
from pail.services.access.check import check_access
from pail.services.explain import clock_skew, explain, explain_report
from support.canned_http import Reply, canned_server, gcs_error, s3_error
from support.servers import IamStore, free_port, gcs_client, s3_client


def _s3(endpoint: str, key: str = "testing", secret: str = "testing", **kw) -> S3Driver:
    kw.setdefault("path_style", True)
    return S3Driver(
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id=key,
        secret_access_key=secret,
        max_attempts=1,
        **kw,
    )


def _as(iam: IamStore, user: str) -> S3Driver:
    keys = iam.users[user]
    return _s3(iam.endpoint, keys.access_key_id, keys.secret_access_key)


def _fail(call) -> StorageError:
    with pytest.raises(StorageError) as err:
        call()
    return err.value


def _text(explanation) -> str:
    return "\n".join(explanation.lines())


# -- regions ---------------------------------------------------------------------------


def test_permanent_redirect_names_the_region() -> None:
    reply = Reply(
        301, s3_error(301, "PermanentRedirect").body, {"x-amz-bucket-region": "eu-west-1"}
    )
    with canned_server([reply]) as srv:
        error = _fail(lambda: _s3(srv.url).list_page("bkt"))
    assert isinstance(error, WrongRegion)
    result = explain(error)
    assert result.region == "eu-west-1"
    assert result.title == "The bucket lives in another region"
    assert "Reopen with --region eu-west-1." in result.actions


def test_authorization_header_malformed_names_the_region() -> None:
    reply = s3_error(
        400, "AuthorizationHeaderMalformed", "the region is wrong", Region="ap-south-1"
    )
    with canned_server([reply]) as srv:
        error = _fail(lambda: _s3(srv.url).list_page("bkt"))
    assert explain(error).region == "ap-south-1"


def test_region_mismatch_found_by_the_access_check(s3_endpoint: str) -> None:
    raw = s3_client(s3_endpoint)
    raw.create_bucket(
        Bucket="pail-euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    report = check_access(_s3(s3_endpoint), "pail-euro", "")
    first = explain_report(report)[0]
    assert first.region == "eu-west-1"
    assert "--region eu-west-1" in _text(first)


# -- 403s ------------------------------------------------------------------------------


def test_head_403_without_list_may_be_a_missing_key() -> None:
    # Real S3 answers a bodiless 403 to HEAD on a missing key when s3:ListBucket is not
    # granted; moto answers 404 regardless, so a canned server plays S3 here.
    with canned_server([Reply(403)]) as srv:
        error = _fail(lambda: _s3(srv.url).head("bkt", "data/no-such-key.txt"))
    assert isinstance(error, AccessDenied) and error.status == 403
    text = _text(explain(error))
    assert "s3:GetObject" in text
    assert "the key may simply be missing" in text
    assert "missing" not in _text(explain(error, list_allowed=True))


def test_access_check_explains_the_denied_rows(moto_iam_server: IamStore) -> None:
    report = check_access(_as(moto_iam_server, "nolist"), moto_iam_server.bucket, "data/")
    by_subject = {e.subject: e for e in explain_report(report)}
    listing = by_subject["ListObjectsV2 pail-iam/data/"]
    assert listing.title == "Access denied: the identity lacks s3:ListBucket"
    assert "A policy must allow s3:ListBucket on arn:aws:s3:::pail-iam." in listing.details
    assert "ListBuckets" in by_subject


def test_read_denied_while_listing_works_hints_ownership() -> None:
    error = AccessDenied(
        "Access Denied", operation="GetObject", provider="s3", bucket="b", key="k", status=403
    )
    text = _text(explain(error, list_allowed=True))
    assert "Object Ownership" in text and "missing" not in text


def test_kms_denial() -> None:
    message = (
        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:Decrypt "
        "on resource: arn:aws:kms:us-east-1:111122223333:key/abcd"
    )
    with canned_server([s3_error(403, "AccessDenied", message)]) as srv:
        error = _fail(lambda: _s3(srv.url).read_range("bkt", "model.pt", 0, 10))
    result = explain(error)
    assert result.title == "The object's KMS key refused this identity"
    assert any("kms:Decrypt" in a for a in result.actions)


def test_scp_denial_is_named() -> None:
    message = (
        "User: arn:aws:iam::111122223333:user/ci is not authorized to perform: s3:ListBucket "
        "on resource: arn:aws:s3:::bkt with an explicit deny in a service control policy"
    )
    with canned_server([s3_error(403, "AccessDenied", message)]) as srv:
        error = _fail(lambda: _s3(srv.url).list_page("bkt"))
    assert "AWS says an organization SCP explicitly denies it." in explain(error).details


def test_gcs_denial_names_the_permission() -> None:
    reply = gcs_error(403, "forbidden", "ci@x.iam does not have storage.objects.list access")
    with canned_server([reply]) as srv:
        error = _fail(lambda: GcsDriver(client=gcs_client(srv.url)).list_page("bkt"))
    result = explain(error)
    assert "storage.objects.list" in _text(result)
    assert result.title == "The identity lacks a Cloud Storage permission"


# -- credentials -----------------------------------------------------------------------


def test_wrong_secret_with_the_clock_in_step(moto_iam_server: IamStore) -> None:
    reader = moto_iam_server.users["reader"]
    driver = _s3(moto_iam_server.endpoint, reader.access_key_id, "not-the-secret")
    error = _fail(lambda: driver.list_page(moto_iam_server.bucket))
    assert isinstance(error, InvalidCredentials) and error.code == "SignatureDoesNotMatch"
    assert error.server_time is not None  # captured from the response's Date header
    result = explain(error)
    assert result.title == "The request signature did not match"
    assert any("secret access key" in a for a in result.actions)
    assert "not-the-secret" not in _text(result)


def test_clock_skew_is_shown() -> None:
    with canned_server([s3_error(403, "RequestTimeTooSkewed", "too skewed")]) as srv:
        error = _fail(lambda: _s3(srv.url).list_page("bkt"))
    assert clock_skew(error) is not None
    error.server_time = error.received_at + timedelta(minutes=20)  # as a far-off server says
    result = explain(error)
    assert result.title == "This machine's clock is too far off the server's"
    assert "The server's clock (Date header) is 1200 s ahead of this machine's." in result.details
    assert any("NTP" in a for a in result.actions)


def test_unknown_key_id(moto_iam_server: IamStore) -> None:
    driver = _s3(moto_iam_server.endpoint, "AKIAUNKNOWNKEY000000", "x")
    error = _fail(lambda: driver.list_page(moto_iam_server.bucket))
    assert error.code == "InvalidAccessKeyId"
    assert explain(error).title == "The access key id is unknown to this endpoint"
    identity_error = _fail(driver.caller_identity)
    assert identity_error.code == "InvalidClientTokenId"
    assert explain(identity_error).title == "The access key id is unknown to this endpoint"


def test_expired_sso_session_gives_the_refresh_command(tmp_path, monkeypatch) -> None:
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile lab]\nsso_start_url = https://example.awsapps.com/start\n"
        "sso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = ro\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with canned_server([s3_error(400, "ExpiredToken", "The provided token has expired.")]) as srv:
        error = _fail(lambda: _s3(srv.url).list_page("bkt"))
    assert isinstance(error, ExpiredCredentials)
    spec = ConnectionSpec(name="lab", provider="s3", profile="lab", endpoint_url=srv.url)
    result = explain(error, spec=spec)
    assert result.refresh_command == "aws sso login --profile lab"
    assert "Run `aws sso login --profile lab`, then retry." in result.actions


# -- endpoints -------------------------------------------------------------------------


def test_connection_refused_shows_the_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    error = _fail(lambda: _s3(endpoint).list_page("bkt"))
    assert isinstance(error, EndpointUnreachable)
    result = explain(error)
    assert result.title == "The endpoint refused the connection"
    assert f"Endpoint: {endpoint}" in result.details


def test_dns_failure() -> None:
    endpoint = "http://pail-no-such-host.invalid:9000"  # .invalid never resolves (RFC 6761)
    error = _fail(lambda: _s3(endpoint).list_page("bkt"))
    assert explain(error).title == "The endpoint's host name does not resolve (DNS)"


def test_virtual_hosted_request_suggests_path_style() -> None:
    endpoint = f"http://localhost:{free_port()}"
    driver = _s3(endpoint, path_style=False, client_options={"addressing_style": "virtual"})
    error = _fail(lambda: driver.list_page("pail-vhost"))
    result = explain(error)
    assert any("--path-style" in a for a in result.actions)


def test_http_spoken_to_https_endpoint() -> None:
    with canned_server([Reply(200)]) as srv:
        endpoint = srv.url.replace("http://", "https://")
        error = _fail(lambda: _s3(endpoint).list_page("bkt"))
    assert explain(error).title == "The TLS handshake with the endpoint failed"


def _self_signed(tmp_path) -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pail-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_untrusted_certificate(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("AWS_CA_BUNDLE", raising=False)
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        endpoint = f"https://127.0.0.1:{httpd.server_address[1]}"
        error = _fail(lambda: _s3(endpoint).list_page("bkt"))
    finally:
        httpd.shutdown()
        httpd.server_close()
    result = explain(error)
    assert result.title == "The endpoint's TLS certificate was not accepted"
    assert f"Endpoint: {endpoint}" in result.details


def test_bucket_name_inside_the_endpoint_url(s3_endpoint: str) -> None:
    s3_client(s3_endpoint).create_bucket(Bucket="pail-inurl")
    endpoint = f"{s3_endpoint}/pail-inurl"
    error = _fail(lambda: _s3(endpoint).list_page("pail-inurl", "x/"))
    text = _text(explain(error))
    assert "has a path /pail-inurl (the bucket name)" in text


def test_no_such_bucket_on_a_custom_endpoint(s3_endpoint: str) -> None:
    error = _fail(lambda: _s3(s3_endpoint).list_page("pail-absent"))
    assert isinstance(error, NotFound)
    result = explain(error)
    assert result.title == "No such bucket"


@pytest.mark.parametrize(
    "operation", ["PutObject", "CreateMultipartUpload", "UploadPart", "CopyObject"]
)
def test_a_denied_write_names_s3_put_object_and_gives_a_policy_for_the_keys_folder(operation):
    error = AccessDenied(
        "Access Denied",
        operation=operation,
        provider="s3",
        bucket="models",
        key="runs/7/model.pt",
        status=403,
        code="AccessDenied",
    )
    found = explain(error)
    assert found.title == "Access denied: the identity lacks s3:PutObject"
    policy = json.loads(found.policy or "")
    assert policy["Statement"] == [
        {
            "Sid": "WriteObjects",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": "arn:aws:s3:::models/runs/7/*",
        }
    ]
    lines = found.lines()
    assert "  Grant:" in lines and any('"s3:PutObject"' in line for line in lines)
    if operation == "CopyObject":
        assert "A copy also needs s3:GetObject on the source key." in found.details


def test_a_denied_read_has_no_policy_snippet():
    error = AccessDenied("Access Denied", operation="GetObject", provider="s3", bucket="b", key="k")
    assert explain(error).policy is None


def test_a_denied_gcs_write_names_the_smallest_role_and_the_gcloud_command():
    error = AccessDenied(
        "denied", operation="storage.objects.insert", provider="gcs", bucket="b", key="x"
    )
    policy = explain(error).policy or ""
    assert "roles/storage.objectCreator" in policy
    assert "gcloud storage buckets add-iam-policy-binding gs://b" in policy
