"""``pail rm`` against moto over HTTP (seeded in-process), the IAM server's read-only user
and folders; confirmations on a real pseudo-terminal (the installed ``pail`` in a pty)."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import time
from datetime import datetime, timezone

import pytest

from support.cli import pail_exe, run, s3_args
from support.servers import s3_client, seed_keys
from support.stores import runs, seed_aged


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


def test_filters(s3_endpoint, bucket_name):
    # Retention by runs (--keep-last, --keep-best, ...): tests/cli/test_rm_runs.py.
    runs(bucket_name, {"a": 400, "b": 300, "c": 200, "d": 2})
    seed_aged(bucket_name, {"runs/c/big.ckpt": (5000, 200)})
    base = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/runs/"]
    result = run([*base, "--older-than", "30d", "--larger-than", "1KB", "--include", "*.ckpt"])
    assert result.exit_code == 0, result.stderr
    assert "runs/c/big.ckpt" not in _keys(s3_endpoint, bucket_name)
    result = run([*base, "--older-than", "30d", "--exclude", "*f0.bin", "--exclude", "d/*"])
    assert result.exit_code == 0, result.stderr
    assert _keys(s3_endpoint, bucket_name) == [
        "runs/a/f0.bin",
        "runs/b/f0.bin",
        "runs/c/f0.bin",
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


# -- retention by runs: tests/cli/test_rm_runs.py -----------------------------------------


# -- only confirmed deletes count; --verify ------------------------------------------------


def test_keys_the_reply_omits_are_failures_and_stay(faults, s3_endpoint, bucket_name):
    from support.fault_proxy import Rule

    keys = [f"p/{i:04d}" for i in range(1500)]
    seed_keys(bucket_name, keys)
    omitted = keys[10:310]  # 300 keys the store neither deleted nor named
    faults.add(Rule(method="POST", query="delete", action="delete-omit", keys=omitted, times=None))
    args = ["rm", *s3_args(faults.url), "-r", "--yes", f"s3://{bucket_name}/p/"]
    result = run(args)
    assert result.exit_code == 1
    left = _keys(s3_endpoint, bucket_name)  # from moto itself, not through the proxy
    assert left == sorted(omitted)
    assert "deleted 1,200 objects" in result.stderr
    assert "300 failed (300 NotConfirmed)" in result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("  failed ")]
    assert sorted(line.split()[1].rstrip(":") for line in failed) == left
    assert "not confirmed: the store's reply did not name this key" in failed[0]


def test_verify_after_a_clean_delete(s3_endpoint, bucket_name):
    seed_keys(bucket_name, BOUNDARY)
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", "--verify"]
    result = run([*args, f"s3://{bucket_name}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert "verified by HEAD: the 2 objects reported deleted are gone" in result.stderr
    many = [f"big/{i:03d}/x" for i in range(120)]
    seed_keys(bucket_name, many)
    result = run([*args, f"s3://{bucket_name}/big/"])
    assert result.exit_code == 0, result.stderr
    assert "verified by listing: the 120 objects reported deleted are gone" in result.stderr


def test_verify_finds_a_key_still_present(faults, s3_endpoint, bucket_name):
    # A writer puts one key back right after the delete: the HEADs of --verify (slowed
    # down by the proxy) find it, and pail lists it and exits 1.
    import threading

    from support.fault_proxy import Rule

    seed_keys(bucket_name, ["w/a", "w/b", "w/c"])
    faults.add(Rule(method="HEAD", action="latency", delay=1.0, times=None))
    args = ["rm", *s3_args(faults.url), "-r", "--yes", "--verify", f"s3://{bucket_name}/w/"]
    done = threading.Event()

    def writer() -> None:
        while not done.wait(0.01):
            posts = [r for r in faults.requests if r.method == "POST" and r.status == 200]
            if posts:
                seed_keys(bucket_name, ["w/b"])
                return

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        result = run(args)
    finally:
        done.set()
        thread.join(5)
    assert result.exit_code == 1
    assert "deleted 3 objects" in result.stderr
    assert "verify: 1 of 3 objects reported deleted is still present" in result.stderr
    assert f"still present s3://{bucket_name}/w/b (1 B" in result.stderr
    assert _keys(s3_endpoint, bucket_name) == ["w/b"]


def test_verify_in_a_dry_run_checks_nothing(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["d/a"])
    args = ["rm", *s3_args(s3_endpoint), "-r", "--dry-run", "--verify", f"s3://{bucket_name}/d/"]
    result = run(args)
    assert result.exit_code == 0 and "nothing to check in a dry run" in result.stderr


# -- Ctrl-C while a batch hangs -------------------------------------------------------------


def test_ctrl_c_while_delete_objects_hangs_exits_130_at_once(faults, s3_endpoint, bucket_name):
    import signal

    from support.fault_proxy import Rule

    keys = [f"h/{i:04d}" for i in range(3000)]
    seed_keys(bucket_name, keys)
    # Batch 1 goes through, batch 2 hangs for ever, batch 3 must never be sent.
    faults.add(Rule(method="POST", query="delete", action="latency", delay=0.0, times=1))
    hang = faults.add(Rule(method="POST", query="delete", action="hang", times=None))
    args = ["rm", *s3_args(faults.url), "-r", "--yes", "-j", "1", f"s3://{bucket_name}/h/"]
    proc = subprocess.Popen(
        [pail_exe(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while hang.hits == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert hang.hits == 1, "the second batch never reached the proxy"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)  # a generous functional bound
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert took < 10
    assert "Traceback" not in err
    # -r --yes deletes while it lists, so the third batch is planned (not attempted) only
    # if the listing got that far before Ctrl-C; if not, pail says the listing stopped.
    said = re.search(
        r"pail: interrupted: deleted 1,000 objects \(1000 B\), 0 failed, 1,000 unconfirmed "
        r"\(their request had no answer yet: they may or may not be deleted\), "
        r"(1,000|[0-9]{1,3}) not attempted(; the listing did not finish)?",
        err,
    )
    assert said, err
    assert said.group(1) == "1,000" or said.group(2)
    assert hang.hits == 1  # no batch was started after the interrupt
    left = _keys(s3_endpoint, bucket_name)
    assert len(left) == 2000 and set(left) < set(keys)  # the hung batch was never forwarded
