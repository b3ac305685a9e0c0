"""Out-of-range values on every command that takes a number, a duration, a size or an
expiry: one line on stderr, exit status 2, no traceback, nothing changed in the store.
Run in-process (click's runner re-raises anything that escapes) and, for the values that
used to crash, as the installed executable."""

from __future__ import annotations

import subprocess

import pytest

from support.cli import pail_exe, run, s3_args
from support.servers import s3_client, seed_keys


def _keys(endpoint, bucket):
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _assert_one_line_usage(result, *words):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pail: error: ")
    for word in words:
        assert word in lines[0]
    assert "Traceback" not in result.stderr


HUGE = "9" * 40


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--older-than", "99999999999d"], ["at most 100 years"]),
        (["--older-than", "36526d"], ["at most 100 years"]),
        (["--older-than", HUGE + "s"], ["at most 100 years"]),
        (["--older-than", "0d"], ["greater than zero"]),
        (["--older-than", "-3d"], ["not a duration"]),
        (["--larger-than", "99999999999999999999PiB"], ["at most"]),
        (["--smaller-than", HUGE], ["at most"]),
        (["--larger-than", "-1MB"], ["not a size"]),
        (["--keep-last", "99999999999"], ["--keep-last", "out of range", "0 to 1,000,000"]),
        (["--keep-last", HUGE], ["--keep-last", "out of range"]),
        (["--keep-last", "-1"], ["--keep-last", "out of range"]),
        (["--keep-last", "²"], ["--keep-last", "whole number"]),
        (["--keep-last", "three"], ["--keep-last", "whole number"]),
        (["--jobs", "0"], ["--jobs", "use 1 to 64"]),
        (["-j", "65"], ["--jobs", "use 1 to 64"]),
        (["-j", "0" * 5000 + "65"], ["--jobs", "use 1 to 64"]),  # int() refuses 4,300+ digits
    ],
)
def test_rm_refuses_out_of_range_values(s3_endpoint, bucket_name, options, words):
    seed_keys(bucket_name, ["runs/a/x"])
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", *options, f"s3://{bucket_name}/runs/"]
    _assert_one_line_usage(run(args), *words)
    assert _keys(s3_endpoint, bucket_name) == ["runs/a/x"]


def test_rm_accepts_the_limits(s3_endpoint, bucket_name):
    # --keep-last counts runs pail recognises: a Lightning logger version is one
    seed_keys(bucket_name, ["runs/lightning_logs/version_0/hparams.yaml"])
    args = ["rm", *s3_args(s3_endpoint), "-r", "--dry-run", f"s3://{bucket_name}/runs/"]
    result = run([*args, "--older-than", "36525d", "--keep-last", "1000000", "-j", "64"])
    assert result.exit_code == 0, result.stderr
    assert "nothing to delete" in result.stderr


def test_the_installed_rm_ends_cleanly_on_a_huge_age(s3_endpoint, bucket_name):
    # This used to end in OverflowError (timedelta) with a traceback.
    seed_keys(bucket_name, ["runs/a/x"])
    proc = subprocess.run(
        [
            pail_exe(),
            "rm",
            *s3_args(s3_endpoint),
            "-r",
            "--older-than",
            "99999999999d",
            f"s3://{bucket_name}/runs/",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "pail: error: a duration must be at most 100 years (36525d), not '99999999999d'"
    ]


@pytest.mark.parametrize("jobs", ["0", "65", HUGE, "x"])
def test_du_jobs(s3_endpoint, bucket_name, jobs):
    seed_keys(bucket_name, ["a/b"])
    result = run(["du", *s3_args(s3_endpoint), "--jobs", jobs, f"s3://{bucket_name}/"])
    _assert_one_line_usage(result, "--jobs")


@pytest.mark.parametrize("jobs", ["0", "65", HUGE])
def test_get_jobs(s3_endpoint, bucket_name, jobs, tmp_path):
    seed_keys(bucket_name, ["a/b"])
    args = ["get", *s3_args(s3_endpoint), "-r", "--jobs", jobs, f"s3://{bucket_name}/a/"]
    _assert_one_line_usage(run([*args, str(tmp_path)]), "--jobs")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("expires", "words"),
    [
        ("0", ["--expires", "use 1 to 604,800 seconds"]),
        ("-5", ["--expires", "out of range"]),
        ("604801", ["--expires", "out of range"]),
        (HUGE, ["--expires", "out of range"]),
        ("1h", ["--expires", "whole number"]),
    ],
)
def test_url_expires(s3_endpoint, bucket_name, expires, words):
    seed_keys(bucket_name, ["m/model.pt"])
    args = ["url", "--expires", expires, *s3_args(s3_endpoint), f"s3://{bucket_name}/m/model.pt"]
    _assert_one_line_usage(run(args), *words)


def test_url_expires_at_the_limit(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["m/model.pt"])
    args = ["url", "--expires", "604800", *s3_args(s3_endpoint), f"s3://{bucket_name}/m/model.pt"]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    assert "X-Amz-Expires=604800" in result.stdout


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--older-than", "99999999999d"], ["at most 100 years"]),
        (["--older-than", "30d", "--noncurrent-days", "0"], ["--noncurrent-days", "use 1 to"]),
        (["--older-than", "30d", "--noncurrent-days", HUGE], ["--noncurrent-days"]),
        (["--older-than", "30d", "--noncurrent-days", "36526"], ["out of range"]),
        (
            ["--noncurrent-days", "7", "--keep-noncurrent", "101"],
            ["--keep-noncurrent", "use 1 to 100"],
        ),
        (["--noncurrent-days", "7", "--keep-noncurrent", "-1"], ["--keep-noncurrent"]),
        (["--older-than", "30d", "--keep-last", "-2"], ["--keep-last"]),
        (["--larger-than", HUGE + "PiB", "--older-than", "1d"], ["at most"]),
    ],
)
def test_lifecycle_export_values(options, words):
    result = run(["lifecycle", "export", "s3://any-bucket/runs/", *options])
    _assert_one_line_usage(result, *words)
