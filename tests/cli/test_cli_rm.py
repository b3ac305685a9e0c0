"""``pail rm`` against moto over HTTP (seeded in-process), the IAM server's read-only user
and folders; confirmations on a real pseudo-terminal (the installed ``pail`` in a pty)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from datetime import datetime, timezone

import pytest

from cli.cli_helpers import pail_exe, run, s3_args
from conftest import s3_client, seed_keys
from delete_stores import runs, seed_aged


def _keys(endpoint, bucket):
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


BOUNDARY = ["runs/run-1/a", "runs/run-1/b/c", "runs/run-10/a", "runs/run-1", "runs/run-1x"]


def test_a_prefix_needs_r(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "--yes", f"s3://{bucket_name}/runs/run-1/"])
    assert result.exit_code == 2
    assert "use -r" in result.stderr and "Traceback" not in result.stderr
    assert _keys(s3_endpoint, bucket_name) == sorted(BOUNDARY)


def test_without_a_terminal_and_without_yes_it_refuses(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "-r", f"s3://{bucket_name}/runs/run-1"])
    assert result.exit_code == 2
    assert "--yes" in result.stderr and "not a terminal" in result.stderr
    assert "Delete 2 objects" in result.stderr  # the plan was shown
    assert _keys(s3_endpoint, bucket_name) == sorted(BOUNDARY)


def test_yes_deletes_exactly_the_prefix(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr
    assert _keys(s3_endpoint, bucket_name) == ["runs/run-1", "runs/run-10/a", "runs/run-1x"]


def test_whole_bucket_contents_but_never_the_bucket(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}"])
    assert result.exit_code == 0, result.stderr
    assert _keys(s3_endpoint, bucket_name) == []
    s3_client(s3_endpoint).head_bucket(Bucket=bucket_name)  # still there


def test_one_object_without_r(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "--yes", f"s3://{bucket_name}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert "runs/run-1" not in _keys(s3_endpoint, bucket_name)
    assert len(_keys(s3_endpoint, bucket_name)) == 4
    missing = run(["rm", *s3_args(s3_endpoint), "--yes", f"s3://{bucket_name}/nope"])
    assert missing.exit_code == 3 and "no such object" in missing.stderr


def test_dry_run_lists_and_deletes_nothing(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    result = run(["rm", *s3_args(s3_endpoint), "-r", "--dry-run", f"s3://{bucket_name}/runs/"])
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.split()) == sorted(f"s3://{bucket_name}/{k}" for k in BOUNDARY)
    assert "nothing was deleted" in result.stderr
    assert _keys(s3_endpoint, bucket_name) == sorted(BOUNDARY)


def test_filters_and_keep_last(s3_endpoint, bucket_name):
    runs(bucket_name, {"a": 400, "b": 300, "c": 200, "d": 2})
    seed_aged(bucket_name, {"runs/c/big.ckpt": (5000, 200)})
    base = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/runs/"]
    result = run([*base, "--older-than", "30d", "--larger-than", "1KB", "--include", "*.ckpt"])
    assert result.exit_code == 0, result.stderr
    assert "runs/c/big.ckpt" not in _keys(s3_endpoint, bucket_name)
    result = run([*base, "--older-than", "30d", "--keep-last", "2", "--exclude", "*f0.bin"])
    assert result.exit_code == 0, result.stderr
    assert "kept (newest 2 runs): d/, c/" in result.stderr
    assert _keys(s3_endpoint, bucket_name) == [
        "runs/a/f0.bin",
        "runs/b/f0.bin",
        "runs/c/f0.bin",
        "runs/c/f1.bin",
        "runs/d/f0.bin",
        "runs/d/f1.bin",
    ]


def test_nothing_selected(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["runs/a"])
    result = run(
        ["rm", *s3_args(s3_endpoint), "-r", "--older-than", "3650d", f"s3://{bucket_name}/"]
    )
    assert result.exit_code == 0 and "nothing to delete" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--older-than", "soon", "not a duration"),
        ("--older-than", "3x", "unknown duration unit"),
        ("--larger-than", "big", "not a size"),
        ("--smaller-than", "10QB", "unknown size unit"),
        ("--regex", "(", "bad regex"),
    ],
)
def test_bad_filters_are_one_line_usage_errors(s3_endpoint, bucket_name, option, value, words):
    seed_keys(bucket_name, ["runs/a"])
    result = run(["rm", *s3_args(s3_endpoint), "-r", option, value, f"s3://{bucket_name}/runs/"])
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _keys(s3_endpoint, bucket_name) == ["runs/a"]


def test_denied_keys_are_listed_and_exit_1(moto_iam_server):
    store = moto_iam_server
    reader = store.users["reader"]
    env = {
        "AWS_ACCESS_KEY_ID": reader.access_key_id,
        "AWS_SECRET_ACCESS_KEY": reader.secret_access_key,
    }
    result = run(["rm", *s3_args(store.endpoint), "-r", "--yes", f"s3://{store.bucket}/data/"], env)
    assert result.exit_code == 1
    assert "deleted 0 objects" in result.stderr
    assert "failed data/a.txt: AccessDenied" in result.stderr
    assert "failed data/b.json: AccessDenied" in result.stderr


def test_local_folder_is_emptied_but_kept(tmp_path):
    # A plain path opens that folder as the bucket: its contents go, the folder stays.
    for key in ("b/runs/run-1/x", "b/runs/run-1/sub/z", "b/runs/run-10/y"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"1")
    result = run(["rm", "-r", "--yes", str(tmp_path / "b" / "runs" / "run-1")])
    assert result.exit_code == 0, result.stderr
    assert list((tmp_path / "b" / "runs" / "run-1").iterdir()) == []
    assert (tmp_path / "b" / "runs" / "run-10" / "y").exists()


# -- confirmations on a real terminal ---------------------------------------------------


def _pty_run(args: list[str], answer: str) -> tuple[int, str]:
    """Run the installed ``pail ARGS`` with a pseudo-terminal as stdin/stdout/stderr, type
    ``answer`` once a question appears, and return (exit status, everything shown)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [pail_exe(), *args], stdin=slave, stdout=slave, stderr=slave, close_fds=True
    )
    os.close(slave)
    shown = b""
    answered = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        if not answered and (b"[y/N]" in shown or b"to confirm" in shown):
            os.write(master, answer.encode() + b"\r")
            answered = True
        if proc.poll() is not None and not ready:
            break
    proc.wait(timeout=30)
    os.close(master)
    return proc.returncode, shown.decode(errors="replace")


def test_whole_prefix_needs_the_bucket_name_typed(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    args = ["rm", *s3_args(s3_endpoint), "-r", f"s3://{bucket_name}/runs/run-1/"]
    status, shown = _pty_run(args, "y")
    assert "Type the bucket name" in shown
    assert status == 1 and "nothing was deleted" in shown
    assert _keys(s3_endpoint, bucket_name) == sorted(BOUNDARY)
    status, shown = _pty_run(args, bucket_name)
    assert status == 0, shown
    assert _keys(s3_endpoint, bucket_name) == ["runs/run-1", "runs/run-10/a", "runs/run-1x"]


def test_a_small_selection_asks_y_or_n(s3_endpoint, bucket_name):
    now = datetime.now(timezone.utc)  # the command compares with the real clock
    seed_aged(bucket_name, {"runs/a/old": (1, 90), "runs/a/new": (1, 1)}, now)
    args = ["rm", *s3_args(s3_endpoint), "-r", "--older-than", "30d", f"s3://{bucket_name}/runs/"]
    status, shown = _pty_run(args, "n")
    assert "[y/N]" in shown and status == 1
    assert len(_keys(s3_endpoint, bucket_name)) == 2
    status, shown = _pty_run(args, "y")
    assert status == 0, shown
    assert _keys(s3_endpoint, bucket_name) == ["runs/a/new"]
