"""Exit codes and error output of the command line, against real servers (no mocks)."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from pail.cli.main import (
    EXIT_BROKEN_PIPE,
    EXIT_CREDENTIALS,
    EXIT_DENIED,
    EXIT_NOT_FOUND,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
)
from support.cli import pail_exe, run, s3_args
from support.servers import free_port, seed_keys


def assert_clean_error(result, code: int) -> list[str]:
    """The exit code is ``code``, stdout is empty and stderr holds no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    return result.stderr.splitlines()


def test_missing_bucket_exits_3_with_fields_and_hint(s3_endpoint):
    result = run(["ls", *s3_args(s3_endpoint), "s3://pail-no-such-bucket/"])
    lines = assert_clean_error(result, EXIT_NOT_FOUND)
    assert lines[0].startswith("pail: error: ListObjectsV2 pail-no-such-bucket")
    assert "  Code: NoSuchBucket" in lines
    assert "  HTTP status: 404" in lines
    assert f"  Endpoint: {s3_endpoint}" in lines
    assert any(line.startswith("  Hint: Check the bucket name") for line in lines)


def test_missing_key_exits_3(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["present.txt"])
    result = run(["ls", *s3_args(s3_endpoint), f"s3://{bucket_name}/absent.txt"])
    assert_clean_error(result, EXIT_NOT_FOUND)


def test_missing_local_folder_exits_3(tmp_path):
    assert_clean_error(run(["ls", str(tmp_path / "nope")]), EXIT_NOT_FOUND)


def _as_user(store, role: str) -> dict[str, str]:
    user = store.users[role]
    return {
        "AWS_ENDPOINT_URL": store.endpoint,
        "AWS_ACCESS_KEY_ID": user.access_key_id,
        "AWS_SECRET_ACCESS_KEY": user.secret_access_key,
    }


def test_access_denied_exits_4(moto_iam_server):
    # "nolist" may read objects but not list the bucket: a real 403 from the server.
    result = run(["ls", f"s3://{moto_iam_server.bucket}/"], env=_as_user(moto_iam_server, "nolist"))
    lines = assert_clean_error(result, EXIT_DENIED)
    assert "  Code: AccessDenied" in lines and "  HTTP status: 403" in lines
    assert any("s3:ListBucket" in line for line in lines if line.startswith("  Hint:"))


def test_reader_lists_but_cannot_list_buckets(moto_iam_server):
    env = _as_user(moto_iam_server, "reader")
    ok = run(["ls", "-r", f"s3://{moto_iam_server.bucket}/"], env=env)
    assert ok.exit_code == 0, ok.stderr
    assert "data/a.txt" in ok.stdout
    denied = run(["ls", "s3://"], env=env)
    lines = assert_clean_error(denied, EXIT_DENIED)
    assert "  Operation: ListBuckets" in lines


def test_unknown_access_key_exits_5_and_never_prints_the_secret(moto_iam_server):
    env = {
        "AWS_ENDPOINT_URL": moto_iam_server.endpoint,
        "AWS_ACCESS_KEY_ID": "AKIAPAILUNKNOWNKEY01",
        "AWS_SECRET_ACCESS_KEY": "pail-secret-never-shown",
    }
    result = run(["ls", f"s3://{moto_iam_server.bucket}/"], env=env)
    lines = assert_clean_error(result, EXIT_CREDENTIALS)
    assert "  Code: InvalidAccessKeyId" in lines
    assert "pail-secret-never-shown" not in result.stderr


def test_unreachable_endpoint_exits_6(bucket_name):
    endpoint = f"http://127.0.0.1:{free_port()}"
    result = run(["ls", "--endpoint-url", endpoint, f"s3://{bucket_name}/"])
    lines = assert_clean_error(result, EXIT_UNREACHABLE)
    assert "  Error: EndpointUnreachable" in lines
    assert any(line.startswith("  Hint: Could not reach") for line in lines)


@pytest.mark.parametrize(
    "uri, words",
    [
        ("s3://bad bucket/x", "bucket name"),
        ("ftp://host/x", "unsupported scheme"),
        ("s3:/bucket", "two slashes"),
        ("s3:///key", "missing bucket"),
    ],
)
def test_bad_uri_exits_2_with_one_line(uri, words):
    result = run(["ls", uri])
    lines = assert_clean_error(result, EXIT_USAGE)
    assert len(lines) == 1 and lines[0].startswith("pail: error: ") and words in lines[0]


def test_bad_uri_for_the_app_exits_2_before_any_screen():
    lines = assert_clean_error(run(["gs://"]), EXIT_USAGE)
    assert len(lines) == 1 and "missing bucket" in lines[0]


def test_unknown_option_is_click_usage_error():
    result = run(["ls", "--no-such-flag", "s3://b/"])
    assert result.exit_code == EXIT_USAGE
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_version():
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"pail {importlib.metadata.version('pail')}"


def test_installed_executable_closed_pipe_exits_quietly(s3_endpoint, bucket_name):
    """`pail ls … | head -1` with the real console script: no BrokenPipeError traceback."""
    seed_keys(bucket_name, [f"k/{i:05d}" for i in range(3000)])
    proc = subprocess.Popen(
        [pail_exe(), "ls", *s3_args(s3_endpoint), f"s3://{bucket_name}/k/"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.readline()
    proc.stdout.close()  # what `head -1` does after one line
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert first.endswith(b" k/00000\n") or first.rstrip().endswith(b"00000")
    assert proc.returncode == EXIT_BROKEN_PIPE, err
    assert err == b""


def test_installed_executable_lists_and_fails_like_the_module(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"a.txt": b"abc"})
    ok = subprocess.run(
        [pail_exe(), "ls", *s3_args(s3_endpoint), f"s3://{bucket_name}/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith(" 3 a.txt")
    missing = subprocess.run(
        [sys.executable, "-m", "pail", "ls", *s3_args(s3_endpoint), "s3://pail-nope-nope/"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == EXIT_NOT_FOUND
    assert "Traceback" not in missing.stderr and "NoSuchBucket" in missing.stderr


def test_ls_does_not_import_textual(tmp_path):
    """`pail ls` stays fast: the app's toolkit is imported only when the app opens."""
    code = (
        "import sys\n"
        "from pail.cli.main import main\n"
        "try:\n"
        f"    main(['ls', {str(tmp_path)!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
