"""Driver-level identity and probe calls: ARN shapes, STS on a store without STS, probes
whose "failure" proves the permission (416 on a 0-byte object, no lifecycle rules)."""

from __future__ import annotations

import pytest

from pail.drivers.errors import StorageError
from pail.drivers.identity import identity_from_arn
from pail.drivers.s3 import S3Driver
from pail.services.access.check import check_access
from pail.services.access.report import report_text
from support.canned_http import canned_server, s3_error
from support.servers import s3_client


def _s3(endpoint: str, **kw) -> S3Driver:
    return S3Driver(endpoint_url=endpoint, path_style=True, region="us-east-1", **kw)


@pytest.mark.parametrize(
    ("arn", "kind", "name", "session"),
    [
        ("arn:aws:iam::111122223333:user/ml/ci", "user", "ci", None),
        (
            "arn:aws:sts::111122223333:assumed-role/Trainer/job-42",
            "assumed-role",
            "Trainer",
            "job-42",
        ),
        ("arn:aws:iam::111122223333:root", "root", None, None),
        ("arn:aws:sts::111122223333:federated-user/bob", "federated-user", "bob", None),
        ("arn:aws:something::111122223333:else", "unknown", None, None),
    ],
)
def test_arn_shapes(arn: str, kind: str, name: str | None, session: str | None) -> None:
    identity = identity_from_arn(arn)
    assert (identity.kind, identity.name, identity.session_name) == (kind, name, session)
    assert identity.account == "111122223333" and identity.principal == arn


def test_identity_on_the_auth_off_server(s3_endpoint: str) -> None:
    identity = _s3(
        s3_endpoint, access_key_id="testing", secret_access_key="testing"
    ).caller_identity()
    assert identity.account == "123456789012" and identity.arn


def test_anonymous_identity_sends_nothing() -> None:
    with canned_server([s3_error(500, "InternalError")]) as srv:
        identity = _s3(srv.url, anonymous=True).caller_identity()
        assert srv.count == 0
    assert identity.kind == "anonymous"


def test_store_without_sts_is_reported_and_the_check_carries_on() -> None:
    # An S3-compatible store without STS: its answer to GetCallerIdentity is an error.
    script = [s3_error(501, "NotImplemented", "A header you provided implies functionality")]
    with canned_server(script) as srv:
        driver = _s3(
            srv.url,
            access_key_id="AKIAPAILNOSTS0000001",
            secret_access_key="pail-no-sts-secret",
            max_attempts=1,
        )
        with pytest.raises(StorageError) as err:
            driver.caller_identity()
        assert err.value.operation == "GetCallerIdentity" and err.value.status == 501
        report = check_access(driver, "bkt", "")
    assert report.identity is None and report.identity_error is not None
    # The 501 was remembered (pail.drivers.quirks): the check does not ask STS again, and
    # says why in the error's message.
    assert "Identity: identity call unavailable (GetCallerIdentity: NotSupported)" in (
        report_text(report)
    )
    assert "earlier in this run GetCallerIdentity answered 501" in report.identity_error.message


def test_unknown_probe_is_a_value_error(s3_endpoint: str) -> None:
    with pytest.raises(ValueError):
        _s3(s3_endpoint).probe("DeleteBucket", "b")


def test_probes_that_prove_a_permission_by_failing(s3_endpoint: str) -> None:
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="pail-probes")
    raw.put_object(Bucket="pail-probes", Key="empty.txt", Body=b"")
    driver = _s3(s3_endpoint, access_key_id="testing", secret_access_key="testing")
    assert driver.probe("GetObject", "pail-probes", "empty.txt") == {"bytes": 0}  # 416
    assert driver.probe("GetBucketLifecycleConfiguration", "pail-probes") == {"rules": 0}
    assert driver.probe("ListObjectsV2", "pail-probes", "nothing/") == {"key": None}
    assert driver.probe("GetBucketLocation", "pail-probes")["region"] == "us-east-1"
