"""The GCS access check: testIamPermissions on the emulator (a stub that grants all), on a
canned HTTP server answering with a subset (what real GCS does for a narrower role), and
on a store without the method (live read probes instead); identity from real google-auth
credentials objects; the role suggestions."""

from __future__ import annotations

import json

from pail.drivers.gcs import GcsDriver
from pail.drivers.identity import identity_from_google
from pail.services.access.check import check_access
from pail.services.access.policy import gcs_roles, report_policy
from support.canned_http import Reply, canned_server, gcs_error
from support.servers import gcs_client

PERMS = [
    "storage.buckets.get",
    "storage.objects.list",
    "storage.objects.get",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.buckets.getIamPolicy",
    "storage.buckets.update",
]


def _json(data: dict) -> Reply:
    return Reply(200, json.dumps(data).encode(), content_type="application/json")


def test_emulator_grants_everything_and_says_so(gcs_emulator: str, bucket_name: str) -> None:
    client = gcs_client(gcs_emulator)
    client.create_bucket(bucket_name)
    driver = GcsDriver(client=client)
    report = check_access(driver, bucket_name, "runs/")
    assert report.states == dict.fromkeys(PERMS, "allowed")
    assert report.identity is not None and report.identity.kind == "anonymous"
    assert report.identity.project == "pail-test"
    assert any("gcp-storage-emulator" in note for note in report.notes)
    assert report_policy(report) is None
    get_row = report.row("storage.objects.get")
    assert get_row.capability.resource == f"projects/_/buckets/{bucket_name}/objects/runs/*"


def test_missing_bucket_on_the_emulator(gcs_emulator: str) -> None:
    driver = GcsDriver(client=gcs_client(gcs_emulator))
    report = check_access(driver, "pail-no-such-bucket", "")
    assert report.row("storage.objects.list").state == "error"
    assert report.row("storage.objects.list").error.status == 404
    assert not report.ok


def test_subset_granted_gives_denied_rows_and_roles() -> None:
    granted = {"permissions": ["storage.objects.list", "storage.objects.get"]}
    with canned_server([_json(granted)]) as srv:
        report = check_access(GcsDriver(client=gcs_client(srv.url)), "bkt", "runs/")
    assert srv.requests[0].startswith("GET /storage/v1/b/bkt/iam/testPermissions?")
    assert report.states == {
        "storage.buckets.get": "denied",
        "storage.objects.list": "allowed",
        "storage.objects.get": "allowed",
        "storage.objects.create": "denied",
        "storage.objects.delete": "denied",
        "storage.buckets.getIamPolicy": "denied",
        "storage.buckets.update": "denied",
    }
    assert report.ok  # list and get are allowed
    policy = report_policy(report)
    assert policy["permissions"] == [
        "storage.buckets.get",
        "storage.objects.create",
        "storage.objects.delete",
        "storage.buckets.getIamPolicy",
        "storage.buckets.update",
    ]
    assert policy["roles"] == ["roles/storage.legacyBucketOwner"]
    assert policy["commands"] == [
        "gcloud storage buckets add-iam-policy-binding gs://bkt --member=MEMBER "
        "--role=roles/storage.legacyBucketOwner"
    ]


def test_denied_listing_is_a_failure() -> None:
    with canned_server([_json({"permissions": []})]) as srv:
        report = check_access(GcsDriver(client=gcs_client(srv.url)), "bkt", "")
    assert set(report.states.values()) == {"denied"}
    assert [r.name for r in report.needed_failures] == [
        "storage.objects.list",
        "storage.objects.get",
    ]
    assert report_policy(report)["roles"][0] == "roles/storage.legacyBucketOwner"


def test_store_without_test_permissions_falls_back_to_live_reads() -> None:
    listing = _json({"kind": "storage#objects", "items": [{"name": "runs/a.txt", "size": "3"}]})
    media = Reply(206, b"a", {"Content-Range": "bytes 0-0/3"}, content_type="text/plain")
    # 501 is never retried (asking again cannot add the method): "no such method here".
    script = [gcs_error(501, "notImplemented", "not implemented"), listing, media]
    with canned_server(script) as srv:
        report = check_access(GcsDriver(client=gcs_client(srv.url)), "bkt", "runs/")
    assert report.row("storage.objects.list").state == "allowed"
    assert report.row("storage.objects.get").state == "allowed"
    assert report.row("storage.objects.get").detail == "live probe: key runs/a.txt"
    create = report.row("storage.objects.create")
    assert create.state == "not checked" and "testIamPermissions" in create.detail
    assert "501" in create.detail


def test_store_without_test_permissions_and_listing_denied() -> None:
    script = [
        gcs_error(405, "methodNotAllowed"),
        gcs_error(403, "forbidden", "x does not have storage.objects.list access"),
    ]
    with canned_server(script) as srv:
        report = check_access(GcsDriver(client=gcs_client(srv.url)), "bkt", "runs/")
    assert report.row("storage.objects.list").state == "denied"
    assert report.row("storage.objects.get").state == "not checked"
    assert not report.ok


def test_identity_of_a_service_account_key() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from google.oauth2 import service_account

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "client_email": "runner@pail-test.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
        "project_id": "pail-test",
    }
    creds = service_account.Credentials.from_service_account_info(info)
    identity = identity_from_google(creds, "pail-test")
    assert (identity.kind, identity.email) == (
        "service-account",
        "runner@pail-test.iam.gserviceaccount.com",
    )
    assert identity.member == "serviceAccount:runner@pail-test.iam.gserviceaccount.com"


def test_identity_of_gcloud_user_credentials() -> None:
    from google.oauth2.credentials import Credentials

    creds = Credentials(token=None, refresh_token="r", client_id="c", client_secret="s")
    identity = identity_from_google(creds, "proj")
    assert (identity.kind, identity.project) == ("gcloud user", "proj")


def test_role_choice() -> None:
    assert gcs_roles(["storage.objects.get"]) == ("roles/storage.objectViewer",)
    assert gcs_roles(["storage.objects.create"]) == ("roles/storage.objectCreator",)
    assert gcs_roles(["storage.objects.delete"]) == ("roles/storage.objectUser",)
    assert gcs_roles(["storage.buckets.get", "storage.objects.get"]) == (
        "roles/storage.objectViewer",
        "roles/storage.legacyBucketReader",
    )
    assert gcs_roles([]) == ()
