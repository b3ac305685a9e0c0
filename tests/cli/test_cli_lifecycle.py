"""`pail lifecycle export|show|apply` against moto and SeaweedFS over HTTP (and their
read-only identities): JSON shape, refusals, merging with existing rules, --replace,
refusal off a terminal and the question on a real pty."""

from __future__ import annotations

import json

import pytest

from support.cli import run, s3_args
from support.pty import run_on_pty
from support.seaweed import READER, S3_SERVERS, s3_endpoint_for
from support.servers import s3_client

EXISTING = {
    "ID": "team-logs",
    "Filter": {"Prefix": "logs/"},
    "Status": "Enabled",
    "Expiration": {"Days": 90},
}


@pytest.fixture(params=S3_SERVERS)
def s3_endpoint(request):
    """Every test here that touches a store runs on moto and on SeaweedFS."""
    return s3_endpoint_for(request, request.param)


@pytest.fixture
def bucket(s3_endpoint, bucket_name):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_lifecycle_configuration(
        Bucket=bucket_name, LifecycleConfiguration={"Rules": [EXISTING]}
    )
    return bucket_name, raw


def _ids(raw, bucket):
    return [r["ID"] for r in raw.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]]


def test_export_prints_the_rule_json():
    result = run(
        [
            "lifecycle",
            "export",
            "s3://any-bucket/runs/",
            "--older-than",
            "30d",
            "--noncurrent-days",
            "7",
        ]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "Rules": [
            {
                "ID": "pail-runs-30d-nc7d",
                "Filter": {"Prefix": "runs/"},
                "Status": "Enabled",
                "Expiration": {"Days": 30},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            }
        ]
    }
    assert result.stderr == ""


def test_export_json_wrapper_and_gcs_shape():
    result = run(
        [
            "lifecycle",
            "export",
            "--json",
            "gs://b/ckpt/",
            "--older-than",
            "12h",
            "--include",
            "*.pt",
        ]
    )
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["provider"] == "gcs" and doc["bucket"] == "b" and doc["prefix"] == "ckpt/"
    assert doc["rules"] == [
        {
            "action": {"type": "Delete"},
            "condition": {
                "age": 1,
                "isLive": True,
                "matchesPrefix": ["ckpt/"],
                "matchesSuffix": [".pt"],
            },
        }
    ]
    assert any("rounded up" in n for n in doc["notes"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "30d", "--include", "*.ckpt"], "include globs cannot be expressed"),
        (["--older-than", "30d", "--keep-last", "3"], "newest-N-runs"),
        (["--larger-than", "1GB"], "needs an age"),
        (["--older-than", "soon"], "not a duration"),
    ],
)
def test_export_refuses_what_a_rule_cannot_say(args, message):
    result = run(["lifecycle", "export", "s3://b/runs/", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_show(s3_endpoint, bucket):
    name, _ = bucket
    result = run(["lifecycle", "show", *s3_args(s3_endpoint), f"s3://{name}"])
    assert result.exit_code == 0, result.stderr
    assert "team-logs: prefix 'logs/', expire after 90 days" in result.stdout
    as_json = run(["lifecycle", "show", "--json", *s3_args(s3_endpoint), f"s3://{name}"])
    assert json.loads(as_json.stdout)["Rules"][0]["ID"] == "team-logs"


def test_apply_merges_and_keeps_existing_rules(s3_endpoint, bucket):
    name, raw = bucket
    args = [
        "lifecycle",
        "apply",
        *s3_args(s3_endpoint),
        f"s3://{name}/runs/",
        "--older-than",
        "30d",
    ]
    result = run([*args, "--yes"])
    assert result.exit_code == 0, result.stderr
    assert "Existing rules" in result.stdout and "team-logs" in result.stdout
    assert "added: pail-runs-30d: prefix 'runs/', expire after 30 days" in result.stdout
    assert "the bucket now has 2 rules" in result.stderr
    assert _ids(raw, name) == ["team-logs", "pail-runs-30d"]
    again = run([*args, "--yes"])
    assert again.exit_code == 0 and "nothing to write" in again.stderr


@pytest.mark.parametrize("s3_endpoint", ["moto"], indirect=True)  # the terminal, not S3
def test_apply_refuses_without_yes_off_a_terminal(s3_endpoint, bucket):
    name, raw = bucket
    result = run(
        ["lifecycle", "apply", *s3_args(s3_endpoint), f"s3://{name}/runs/", "--older-than", "30d"]
    )
    assert (
        result.exit_code == 2
        and "refusing to change lifecycle rules without --yes" in result.stderr
    )
    assert _ids(raw, name) == ["team-logs"]


def test_apply_same_id_needs_replace(s3_endpoint, bucket):
    name, raw = bucket
    args = ["lifecycle", "apply", *s3_args(s3_endpoint), f"s3://{name}/runs/", "--yes"]
    assert run([*args, "--older-than", "30d"]).exit_code == 0
    raw_rules = raw.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
    # Same ID, other content: a rule written by someone else under pail's ID.
    raw_rules[1]["Expiration"] = {"Days": 5}
    raw.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": raw_rules})
    conflict = run([*args, "--older-than", "30d"])
    assert conflict.exit_code == 1 and "'pail-runs-30d'" in conflict.stderr
    assert "--replace" in conflict.stderr
    assert raw.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][1]["Expiration"] == {
        "Days": 5
    }
    replaced = run([*args, "--older-than", "30d", "--replace"])
    assert replaced.exit_code == 0 and "replaced" in replaced.stdout
    assert raw.get_bucket_lifecycle_configuration(Bucket=name)["Rules"][1]["Expiration"] == {
        "Days": 30
    }


@pytest.mark.parametrize("s3_endpoint", ["moto"], indirect=True)  # the terminal, not S3
def test_apply_asks_on_a_terminal(s3_endpoint, bucket):
    name, raw = bucket
    args = ["lifecycle", "apply", *s3_args(s3_endpoint), f"s3://{name}/ckpt/", "--older-than", "7d"]
    status, out = run_on_pty(args, {"[y/N]:": "n"})
    assert status == 1 and "Write 2 lifecycle rules to" in out and "nothing changed" in out
    assert _ids(raw, name) == ["team-logs"]
    status, out = run_on_pty(args, {"[y/N]:": "y"})
    assert status == 0, out
    assert _ids(raw, name) == ["team-logs", "pail-ckpt-7d"]


def test_read_only_identity_is_denied(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    env = {
        "AWS_ACCESS_KEY_ID": reader.access_key_id,
        "AWS_SECRET_ACCESS_KEY": reader.secret_access_key,
    }
    result = run(
        [
            "lifecycle",
            "apply",
            *s3_args(store.endpoint),
            f"s3://{store.bucket}/data/",
            "--older-than",
            "30d",
            "--yes",
        ],
        env=env,
    )
    assert result.exit_code == 4, result.stderr
    assert "AccessDenied" in result.stderr and "LifecycleConfiguration" in result.stderr
    assert reader.secret_access_key not in result.stderr + result.stdout


def test_read_only_identity_is_denied_on_seaweedfs(seaweedfs, bucket_name):
    seaweedfs.client().create_bucket(Bucket=bucket_name)
    result = run(
        [
            "lifecycle",
            "apply",
            *s3_args(seaweedfs.endpoint),
            f"s3://{bucket_name}/data/",
            "--older-than",
            "30d",
            "--yes",
        ],
        env=READER.env(),
    )
    assert result.exit_code == 4, result.stderr
    assert "AccessDenied" in result.stderr and "LifecycleConfiguration" in result.stderr
    assert "Traceback" not in result.stderr
    assert READER.secret_access_key not in result.stderr + result.stdout
