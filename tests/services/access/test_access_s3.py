"""The S3 access check against moto with IAM enforcement: each user's probe table exactly,
write probes always cleaned up (and reported with their key when DeleteObject is denied),
the identity from STS GetCallerIdentity, rejected keys, and a bucket in another region."""

from __future__ import annotations

import pytest

from pail.drivers.errors import InvalidCredentials, WrongRegion
from pail.drivers.s3 import S3Driver
from pail.services.access.check import check_access
from support.servers import IamStore, s3_client

PREFIX = "data/"
ALLOWED, DENIED, UNCHECKED, ERROR = "allowed", "denied", "not checked", "error"


def _driver(endpoint: str, key: str, secret: str, region: str = "us-east-1") -> S3Driver:
    return S3Driver(
        endpoint_url=endpoint,
        path_style=True,
        region=region,
        access_key_id=key,
        secret_access_key=secret,
    )


def _as(iam: IamStore, user: str) -> S3Driver:
    keys = iam.users[user]
    return _driver(iam.endpoint, keys.access_key_id, keys.secret_access_key)


def _keys(iam: IamStore, prefix: str = "") -> list[str]:
    admin = iam.users["admin"]
    raw = s3_client(
        iam.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )
    return [
        o["Key"] for o in raw.list_objects_v2(Bucket=iam.bucket, Prefix=prefix).get("Contents", [])
    ]


def _table(report) -> dict[str, str]:
    return report.states


def test_reader_table_without_write_probes(moto_iam_server: IamStore) -> None:
    report = check_access(_as(moto_iam_server, "reader"), moto_iam_server.bucket, PREFIX)
    assert _table(report) == {
        "ListAllMyBuckets": DENIED,
        "GetBucketLocation": DENIED,
        "ListBucket": ALLOWED,
        "GetObject": ALLOWED,
        "HeadObject": ALLOWED,
        "PutObject": UNCHECKED,
        "DeleteObject": UNCHECKED,
        "GetBucketVersioning": DENIED,
        "ListBucketVersions": DENIED,
        "GetLifecycleConfiguration": DENIED,
    }
    assert report.ok and report.probe_key is None
    assert report.row("ListBucket").detail == "sample key data/a.txt"
    denied = report.row("GetBucketVersioning")
    assert denied.error is not None
    assert (denied.error.status, denied.error.code) == (403, "AccessDenied")
    assert denied.error.request_id
    assert denied.capability.action == "s3:GetBucketVersioning"
    assert denied.capability.resource == "arn:aws:s3:::pail-iam"
    assert report.row("ListAllMyBuckets").capability.resource == "*"
    assert report.row("GetObject").capability.resource == "arn:aws:s3:::pail-iam/data/*"
    assert report.row("ListBucket").capability.condition == {
        "StringLike": {"s3:prefix": ["data/*"]}
    }
    assert "--write-probes" in report.row("PutObject").detail


def test_reader_identity_from_sts(moto_iam_server: IamStore) -> None:
    identity = _as(moto_iam_server, "reader").caller_identity()
    assert identity.arn == "arn:aws:iam::123456789012:user/reader"
    assert (identity.kind, identity.account, identity.name) == ("user", "123456789012", "reader")
    assert identity.user_id


def test_reader_write_probes_are_denied_and_leave_nothing(moto_iam_server: IamStore) -> None:
    before = _keys(moto_iam_server)
    report = check_access(
        _as(moto_iam_server, "reader"), moto_iam_server.bucket, PREFIX, write_probes=True
    )
    assert report.row("PutObject").state == DENIED
    # Versioning status unknown (GetBucketVersioning denied): a delete on the missing probe
    # key could leave a delete marker, so it is not tried.
    assert report.row("DeleteObject").state == UNCHECKED
    assert report.probe_key and report.probe_key.startswith("data/.pail-probe-")
    assert report.leftover == []
    assert _keys(moto_iam_server) == before


def test_nolist_table(moto_iam_server: IamStore) -> None:
    report = check_access(_as(moto_iam_server, "nolist"), moto_iam_server.bucket, PREFIX)
    states = _table(report)
    assert states["ListBucket"] == DENIED
    assert states["GetObject"] == UNCHECKED and states["HeadObject"] == UNCHECKED
    assert report.row("GetObject").detail == "not checked: no sample key (listing is denied)"
    assert [s for s in states.values() if s == ALLOWED] == []
    assert not report.ok
    assert [r.name for r in report.needed_failures] == ["ListBucket"]


def test_nolist_reads_a_named_object_without_listing(moto_iam_server: IamStore) -> None:
    report = check_access(_as(moto_iam_server, "nolist"), moto_iam_server.bucket, "data/a.txt")
    assert report.row("ListBucket").state == DENIED
    assert report.row("GetObject").state == ALLOWED
    assert report.row("HeadObject").state == ALLOWED


def test_writer_delete_denied_reports_the_probe_key_left_behind(moto_iam_server: IamStore) -> None:
    report = check_access(
        _as(moto_iam_server, "writer"), moto_iam_server.bucket, PREFIX, write_probes=True
    )
    key = report.probe_key
    try:
        assert report.row("PutObject").state == ALLOWED
        delete = report.row("DeleteObject")
        assert delete.state == DENIED and delete.error is not None
        assert delete.error.code == "AccessDenied" and delete.error.key == key
        assert key in delete.detail
        assert report.leftover == [key]
        assert key in _keys(moto_iam_server, PREFIX)  # really there: nothing else was tried
    finally:
        admin = moto_iam_server.users["admin"]
        s3_client(
            moto_iam_server.endpoint,
            aws_access_key_id=admin.access_key_id,
            aws_secret_access_key=admin.secret_access_key,
        ).delete_object(Bucket=moto_iam_server.bucket, Key=key)
    assert key not in _keys(moto_iam_server, PREFIX)


def test_full_user_every_bucket_action_and_probe_key_removed(moto_iam_server: IamStore) -> None:
    before = _keys(moto_iam_server)
    report = check_access(
        _as(moto_iam_server, "full"), moto_iam_server.bucket, PREFIX, write_probes=True
    )
    expected = dict.fromkeys(report.states, ALLOWED)
    expected["ListAllMyBuckets"] = DENIED  # s3:* on the bucket only
    assert report.states == expected
    assert report.leftover == []
    assert report.bucket_region == "us-east-1" and report.region_error is None
    assert report.row("GetLifecycleConfiguration").detail == "no lifecycle configuration"
    assert _keys(moto_iam_server) == before


def test_admin_everything_allowed(moto_iam_server: IamStore) -> None:
    report = check_access(
        _as(moto_iam_server, "admin"), moto_iam_server.bucket, "", write_probes=True
    )
    assert set(report.states.values()) == {ALLOWED}
    assert report.probe_key and report.probe_key.startswith(".pail-probe-")
    assert report.row("ListBucket").capability.condition is None
    assert report.row("GetObject").capability.resource == "arn:aws:s3:::pail-iam/*"


@pytest.mark.parametrize(
    ("which", "code", "sts_code"),
    [
        ("secret", "SignatureDoesNotMatch", "SignatureDoesNotMatch"),
        ("key id", "InvalidAccessKeyId", "InvalidClientTokenId"),
    ],
)
def test_rejected_keys(moto_iam_server: IamStore, which: str, code: str, sts_code: str) -> None:
    reader = moto_iam_server.users["reader"]
    if which == "secret":
        driver = _driver(moto_iam_server.endpoint, reader.access_key_id, "not-the-secret")
    else:
        driver = _driver(moto_iam_server.endpoint, "AKIAUNKNOWNKEY000000", "whatever")
    report = check_access(driver, moto_iam_server.bucket, PREFIX)
    assert report.identity is None
    assert isinstance(report.identity_error, InvalidCredentials)
    assert report.identity_error.code == sts_code
    list_row = report.row("ListBucket")
    assert list_row.state == ERROR and list_row.error.code == code
    assert isinstance(list_row.error, InvalidCredentials)
    assert not report.ok


def test_bucket_in_another_region(s3_endpoint: str) -> None:
    raw = s3_client(s3_endpoint)
    raw.create_bucket(
        Bucket="pail-euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    raw.put_object(Bucket="pail-euro", Key="runs/x.txt", Body=b"x")
    report = check_access(_driver(s3_endpoint, "testing", "testing"), "pail-euro", "runs/")
    assert isinstance(report.region_error, WrongRegion)
    assert report.region_error.region == "eu-west-1"
    assert (report.region, report.bucket_region) == ("us-east-1", "eu-west-1")
    same = check_access(
        _driver(s3_endpoint, "testing", "testing", region="eu-west-1"), "pail-euro", "runs/"
    )
    assert same.region_error is None


def test_versioned_bucket_probe_leaves_no_version(s3_endpoint: str) -> None:
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="pail-versioned")
    raw.put_bucket_versioning(
        Bucket="pail-versioned", VersioningConfiguration={"Status": "Enabled"}
    )
    report = check_access(
        _driver(s3_endpoint, "testing", "testing"), "pail-versioned", "a/", write_probes=True
    )
    assert report.row("PutObject").state == ALLOWED
    assert report.row("DeleteObject").state == ALLOWED
    assert report.row("GetBucketVersioning").detail == "versioning Enabled"
    assert report.leftover == []
    listed = raw.list_object_versions(Bucket="pail-versioned")
    assert listed.get("Versions", []) == [] and listed.get("DeleteMarkers", []) == []


def test_missing_bucket_rows_are_errors(s3_endpoint: str) -> None:
    report = check_access(_driver(s3_endpoint, "testing", "testing"), "pail-nope", "")
    assert report.row("ListBucket").state == ERROR
    assert report.row("ListBucket").error.code == "NoSuchBucket"
    assert not report.ok


def test_rows_are_reported_as_they_come(moto_iam_server: IamStore) -> None:
    seen: list[str] = []
    report = check_access(
        _as(moto_iam_server, "reader"),
        moto_iam_server.bucket,
        PREFIX,
        on_row=lambda row: seen.append(row.name),
    )
    assert sorted(seen) == sorted(report.states)


def test_report_text_and_json_hold_no_secret(moto_iam_server: IamStore) -> None:
    import json

    from pail.core.connection import ConnectionSpec, Secrets
    from pail.credentials import resolve
    from pail.drivers.registry import open_driver
    from pail.services.access.report import report_json, report_text

    reader = moto_iam_server.users["reader"]
    token = "pail-session-token-never-shown"
    for secrets in (
        Secrets(reader.access_key_id, reader.secret_access_key),
        Secrets(reader.access_key_id, reader.secret_access_key, token),
    ):
        spec = ConnectionSpec(
            name="t",
            provider="s3",
            endpoint_url=moto_iam_server.endpoint,
            region="us-east-1",
            path_style=True,
            secrets=secrets,
        )
        resolved = resolve(spec)
        report = check_access(
            open_driver(resolved.spec), moto_iam_server.bucket, PREFIX, resolved=resolved
        )
        text = report_text(report, spec=resolved.spec)
        data = json.dumps(report_json(report, spec=resolved.spec))
        masked = f"{reader.access_key_id[:4]}…{reader.access_key_id[-4:]}"
        assert f"Credentials: in memory, {masked}" in text
        for blob in (text, data):
            assert reader.secret_access_key not in blob
            assert token not in blob
            assert reader.access_key_id not in blob  # only the masked form
