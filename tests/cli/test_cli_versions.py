"""`pail versions` and `pail restore` against a versioned bucket on moto and SeaweedFS: listing
(text and JSON), restore with --dry-run / --yes, refusal off a terminal, asking on a real
pty, permanent deletion of noncurrent versions."""

from __future__ import annotations

import json

import pytest

from support.cli import run, s3_args
from support.pty import run_on_pty
from support.seaweed import S3_SERVERS, s3_endpoint_for
from support.servers import s3_client


@pytest.fixture(params=S3_SERVERS)
def s3_endpoint(request):
    """Every test here runs on moto and on SeaweedFS."""
    return s3_endpoint_for(request, request.param)


@pytest.fixture
def bucket(s3_endpoint, bucket_name):
    """A versioned bucket: runs/r1/model.ckpt written twice then deleted, runs/r1/log.txt
    live, runs/r10/x deleted."""
    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket=bucket_name)
    raw.put_bucket_versioning(Bucket=bucket_name, VersioningConfiguration={"Status": "Enabled"})
    raw.put_object(Bucket=bucket_name, Key="runs/r1/model.ckpt", Body=b"old")
    raw.put_object(Bucket=bucket_name, Key="runs/r1/model.ckpt", Body=b"newer")
    raw.delete_object(Bucket=bucket_name, Key="runs/r1/model.ckpt")
    raw.put_object(Bucket=bucket_name, Key="runs/r1/log.txt", Body=b"log")
    raw.put_object(Bucket=bucket_name, Key="runs/r10/x", Body=b"x")
    raw.delete_object(Bucket=bucket_name, Key="runs/r10/x")
    return bucket_name, raw


def _body(raw, bucket, key):
    return raw.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_versions_of_an_object(s3_endpoint, bucket):
    name, _ = bucket
    result = run(["versions", *s3_args(s3_endpoint), f"s3://{name}/runs/r1/model.ckpt"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[-1] == "latest,delete-marker" and " - " in lines[0]
    assert lines[1].split()[2] == "5" and lines[2].split()[2] == "3"


def test_versions_json_of_a_prefix(s3_endpoint, bucket):
    name, _ = bucket
    result = run(["versions", "-r", "--json", *s3_args(s3_endpoint), f"s3://{name}/runs/r1/"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["key"], r["is_latest"], r["is_delete_marker"]) for r in rows] == [
        ("runs/r1/log.txt", True, False),
        ("runs/r1/model.ckpt", True, True),
        ("runs/r1/model.ckpt", False, False),
        ("runs/r1/model.ckpt", False, False),
    ]
    assert rows[0]["uri"] == f"s3://{name}/runs/r1/log.txt" and rows[0]["size"] == 3
    assert rows[0]["last_modified"].endswith("Z")


def test_versions_of_a_missing_key(s3_endpoint, bucket):
    name, _ = bucket
    result = run(["versions", *s3_args(s3_endpoint), f"s3://{name}/nope"])
    assert result.exit_code == 3 and "has no versions" in result.stderr


def test_restore_dry_run_then_yes(s3_endpoint, bucket):
    name, raw = bucket
    uri = f"s3://{name}/runs/r1/"
    dry = run(["restore", "-r", "--dry-run", *s3_args(s3_endpoint), uri])
    assert dry.exit_code == 0, dry.stderr
    assert len(dry.stdout.splitlines()) == 1
    assert dry.stdout.startswith("would restore runs/r1/model.ckpt (version ")
    assert "would restore 1 object (5 B) by removing 1 delete marker" in dry.stderr
    assert raw.list_objects_v2(Bucket=name, Prefix="runs/r1/model")["KeyCount"] == 0
    done = run(["restore", "-r", "--yes", *s3_args(s3_endpoint), uri])
    assert done.exit_code == 0, done.stderr
    assert "restored 1 object" in done.stderr
    assert _body(raw, name, "runs/r1/model.ckpt") == b"newer"
    assert raw.list_objects_v2(Bucket=name, Prefix="runs/r10/")["KeyCount"] == 0  # untouched


@pytest.mark.parametrize("s3_endpoint", ["moto"], indirect=True)  # the terminal, not S3
def test_restore_refuses_without_yes_off_a_terminal(s3_endpoint, bucket):
    name, raw = bucket
    result = run(["restore", *s3_args(s3_endpoint), f"s3://{name}/runs/r1/model.ckpt"])
    assert result.exit_code == 2
    assert "refusing to restore without --yes" in result.stderr
    assert raw.list_objects_v2(Bucket=name, Prefix="runs/r1/model")["KeyCount"] == 0


@pytest.mark.parametrize("s3_endpoint", ["moto"], indirect=True)  # the terminal, not S3
def test_restore_asks_on_a_terminal(s3_endpoint, bucket):
    name, raw = bucket
    args = ["restore", *s3_args(s3_endpoint), f"s3://{name}/runs/r10/x"]
    status, out = run_on_pty(args, {"[y/N]:": "y"})
    assert status == 0, out
    assert "Restore 1 object (1 B) by removing 1 delete marker? [y/N]:" in out
    assert _body(raw, name, "runs/r10/x") == b"x"


@pytest.mark.parametrize("s3_endpoint", ["moto"], indirect=True)  # the terminal, not S3
def test_restore_declined_on_a_terminal_changes_nothing(s3_endpoint, bucket):
    name, raw = bucket
    args = ["restore", *s3_args(s3_endpoint), f"s3://{name}/runs/r10/x"]
    status, out = run_on_pty(args, {"[y/N]:": "n"})
    assert status == 1 and "nothing changed" in out
    assert raw.list_objects_v2(Bucket=name, Prefix="runs/r10/")["KeyCount"] == 0


def test_restore_nothing_to_do(s3_endpoint, bucket):
    name, _ = bucket
    result = run(["restore", "--yes", *s3_args(s3_endpoint), f"s3://{name}/runs/r1/log.txt"])
    assert result.exit_code == 0 and "nothing to restore" in result.stderr


def test_delete_noncurrent(s3_endpoint, bucket):
    name, raw = bucket
    uri = f"s3://{name}/runs/r1/"
    refused = run(["versions", "--delete-noncurrent", *s3_args(s3_endpoint), uri])
    assert refused.exit_code == 2 and "without --yes" in refused.stderr
    dry = run(["versions", "--delete-noncurrent", "--dry-run", *s3_args(s3_endpoint), uri])
    assert dry.exit_code == 0 and dry.stdout.count("would delete runs/r1/model.ckpt") == 2
    assert "2 noncurrent versions (8 B)" in dry.stderr
    done = run(["versions", "--delete-noncurrent", "--yes", *s3_args(s3_endpoint), uri])
    assert done.exit_code == 0, done.stderr
    assert "deleted 2 versions (8 B)" in done.stderr
    left = raw.list_object_versions(Bucket=name, Prefix="runs/r1/")
    assert [v["Key"] for v in left.get("Versions", [])] == ["runs/r1/log.txt"]
    assert [m["Key"] for m in left.get("DeleteMarkers", [])] == ["runs/r1/model.ckpt"]


def test_local_folder_has_no_versions(tmp_path):
    (tmp_path / "f.txt").write_text("x")
    result = run(["versions", str(tmp_path / "f.txt")])
    assert result.exit_code == 1
    assert "local folders have no object versions" in result.stderr
    assert "Traceback" not in result.stderr
