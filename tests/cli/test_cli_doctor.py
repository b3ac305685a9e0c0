"""``pail doctor`` against moto with IAM enforcement: the table, explanations and policy
snippet, exit statuses (0 list+read allowed, 4 denied, 5 bad keys), --json, saved
connections (NAME:bucket/prefix, keyring secrets), and no secret in any output."""

from __future__ import annotations

import json

from pail.cli.errors import EXIT_CREDENTIALS, EXIT_DENIED, EXIT_USAGE
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.credentials import store_secrets
from support.cli import run, s3_args
from support.servers import IamStore, s3_client


def _env(store: IamStore, role: str, secret: str | None = None) -> dict[str, str]:
    user = store.users[role]
    return {
        "AWS_ACCESS_KEY_ID": user.access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret or user.secret_access_key,
    }


def _doctor(store: IamStore, role: str, *args: str, secret: str | None = None):
    uri = f"s3://{store.bucket}/data/"
    return run(["doctor", *s3_args(store.endpoint), *args, uri], env=_env(store, role, secret))


def test_reader_table_policy_and_exit_0(moto_iam_server: IamStore) -> None:
    result = _doctor(moto_iam_server, "reader")
    assert result.exit_code == 0, result.output
    out = result.stdout
    reader = moto_iam_server.users["reader"]
    assert "Identity: arn:aws:iam::123456789012:user/reader (user, account 123456789012)" in out
    masked = f"{reader.access_key_id[:4]}…{reader.access_key_id[-4:]}"
    assert f"Credentials: environment, {masked}" in out
    lines = out.splitlines()
    assert any(line.startswith("  ✔ ListBucket ") and "s3:ListBucket" in line for line in lines)
    assert any(line.startswith("  ✘ GetBucketVersioning ") for line in lines)
    assert any(line.startswith("  ? PutObject ") for line in lines)
    assert "GetBucketVersioning | HTTP 403 | AccessDenied | request id " in out
    policy_text = out.split("Policy that grants exactly the missing actions:\n", 1)[1]
    policy = json.loads(policy_text.split("\n\nResult:", 1)[0])
    assert policy["Version"] == "2012-10-17"
    actions = {
        a
        for s in policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation",
        "s3:GetBucketVersioning",
        "s3:ListBucketVersions",
        "s3:GetLifecycleConfiguration",
    }
    assert reader.secret_access_key not in result.output


def test_nolist_exits_4_with_an_explanation(moto_iam_server: IamStore) -> None:
    result = _doctor(moto_iam_server, "nolist")
    assert result.exit_code == EXIT_DENIED
    assert "  ✘ ListBucket " in result.stdout
    assert "Access denied: the identity lacks s3:ListBucket" in result.stdout
    assert "Result: a needed capability failed" in result.stdout


def test_json_form(moto_iam_server: IamStore) -> None:
    result = _doctor(moto_iam_server, "nolist", "--json")
    assert result.exit_code == EXIT_DENIED
    data = json.loads(result.stdout)
    rows = {r["name"]: r for r in data["rows"]}
    assert rows["ListBucket"]["state"] == "denied"
    assert rows["ListBucket"]["error"]["status"] == 403
    assert rows["ListBucket"]["error"]["code"] == "AccessDenied"
    assert rows["ListBucket"]["error"]["request_id"]
    assert rows["ListBucket"]["action"] == "s3:ListBucket"
    assert rows["ListBucket"]["resource"] == "arn:aws:s3:::pail-iam"
    assert rows["ListBucket"]["condition"] == {"StringLike": {"s3:prefix": ["data/*"]}}
    assert rows["GetObject"]["state"] == "not checked"
    assert data["identity"]["arn"] == "arn:aws:iam::123456789012:user/nolist"
    assert data["ok"] is False
    statements = data["policy"]["Statement"]
    listing = next(s for s in statements if s.get("Condition"))
    assert listing["Resource"] == "arn:aws:s3:::pail-iam"
    assert "s3:ListBucket" in listing["Action"]


def test_write_probes_writer_reports_the_leftover_key(moto_iam_server: IamStore) -> None:
    result = _doctor(moto_iam_server, "writer", "--write-probes", "--json")
    data = json.loads(result.stdout)
    key = data["probe_key"]
    try:
        assert result.exit_code == 0
        rows = {r["name"]: r["state"] for r in data["rows"]}
        assert (rows["PutObject"], rows["DeleteObject"]) == ("allowed", "denied")
        assert data["leftover"] == [key]
        text = _doctor(moto_iam_server, "writer").stdout  # no write probes: nothing left
        assert "left behind" not in text
    finally:
        admin = moto_iam_server.users["admin"]
        s3_client(
            moto_iam_server.endpoint,
            aws_access_key_id=admin.access_key_id,
            aws_secret_access_key=admin.secret_access_key,
        ).delete_object(Bucket=moto_iam_server.bucket, Key=key)


def test_wrong_secret_exits_5_and_never_prints_it(moto_iam_server: IamStore) -> None:
    secret = "pail-doctor-wrong-secret-value"
    result = _doctor(moto_iam_server, "reader", secret=secret)
    assert result.exit_code == EXIT_CREDENTIALS
    assert "Identity: identity call unavailable (GetCallerIdentity: 403 SignatureDoesNotMatch)" in (
        result.stdout
    )
    assert "The request signature did not match" in result.stdout
    assert secret not in result.output


def test_saved_connection_target_and_report_has_no_secret(moto_iam_server: IamStore) -> None:
    reader = moto_iam_server.users["reader"]
    spec = ConnectionSpec(
        name="lab",
        provider="s3",
        endpoint_url=moto_iam_server.endpoint,
        region="us-east-1",
        path_style=True,
        saved=True,
    )
    ConnectionStore().save(spec)
    store_secrets("lab", Secrets(reader.access_key_id, reader.secret_access_key, "tok-never-shown"))
    result = run(["doctor", "lab:pail-iam/data/"])
    # A session token on a long-term IAM user is rejected; that is an error, not a crash,
    # and neither the secret nor the token may be printed.
    assert "pail access check: s3://pail-iam/data/" in result.stdout
    assert "Credentials: keyring" in result.stdout
    assert reader.secret_access_key not in result.output
    assert "tok-never-shown" not in result.output


def test_no_bucket_is_a_usage_error() -> None:
    result = run(["doctor", "s3://"])
    assert result.exit_code == EXIT_USAGE
