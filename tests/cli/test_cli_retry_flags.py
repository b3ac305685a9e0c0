"""--connect-timeout, --read-timeout and --retries (and PAIL_* and the connections file):
they reach the driver of every command, bad values are one line and exit 2, and a hung
request ends with exit 6 naming the real endpoint. Requests are counted at the fault proxy
in front of moto."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from pail.cli.errors import EXIT_ERROR, EXIT_UNREACHABLE, EXIT_USAGE
from pail.config.flags import Flags
from pail.core.connection import ConnectionSpec
from support.cli import pail_exe, run, s3_args
from support.fault_proxy import Rule
from support.servers import seed_keys


def _lists(faults, bucket: str) -> int:
    return sum(1 for r in faults.requests if r.path == f"/{bucket}" and "list-type" in r.query)


def test_hung_listing_exits_6_naming_the_endpoint(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, ["a.txt"])
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=None, action="hang"))
    args = ["ls", *s3_args(faults.url), "--read-timeout", "1", "--retries", "1"]
    started = time.monotonic()
    proc = subprocess.run(
        [pail_exe(), *args, f"s3://{bucket_name}/"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PAIL_RETRIES": "", "PAIL_READ_TIMEOUT": ""},
    )
    assert time.monotonic() - started < 30  # two 1 s stalls, not 15 tries of 60 s
    assert proc.returncode == EXIT_UNREACHABLE, proc.stderr
    assert "Traceback" not in proc.stderr and "None" not in proc.stderr
    assert faults.url in proc.stderr
    assert _lists(faults, bucket_name) == 2  # --retries 1: two attempts


def test_env_vars_set_the_policy(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, ["a.txt"])
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=None, status=500))
    result = run(["ls", *s3_args(faults.url), f"s3://{bucket_name}/"], env={"PAIL_RETRIES": "0"})
    assert result.exit_code == EXIT_ERROR
    assert _lists(faults, bucket_name) == 1


def test_retries_flag_after_the_subcommand_and_before(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, ["a.txt"])
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=2, status=503))
    result = run(["--retries", "2", "ls", *s3_args(faults.url), f"s3://{bucket_name}/"])
    assert result.exit_code == 0, result.stderr
    assert "a.txt" in result.stdout and _lists(faults, bucket_name) == 3
    faults.reset()
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=2, status=503))
    result = run(
        ["--retries", "2", "ls", "--retries", "1", *s3_args(faults.url), f"s3://{bucket_name}/"]
    )
    assert result.exit_code == EXIT_ERROR  # the subcommand's value wins: 2 attempts
    assert _lists(faults, bucket_name) == 2


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--read-timeout", "0"], {}, "--read-timeout must be a number of seconds"),
        (["--connect-timeout", "1e9"], {}, "--connect-timeout must be"),
        (["--retries", "-1"], {}, "--retries must be a whole number from 0 to 19"),
        (["--retries", "1.5"], {}, "--retries must be a whole number"),
        ([], {"PAIL_READ_TIMEOUT": "soon"}, "PAIL_READ_TIMEOUT (--read-timeout) must be"),
        ([], {"PAIL_RETRIES": "100"}, "PAIL_RETRIES (--retries) must be"),
    ],
)
def test_out_of_range_values_are_one_line_and_exit_2(args, env, words, bucket_name):
    result = run(["ls", *args, f"s3://{bucket_name}/"], env=env)
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.count("\n") == 1 and words in result.stderr
    assert result.stderr.startswith("pail: error: ")


def test_flags_go_into_client_options_of_s3_and_gcs_only() -> None:
    flags = Flags(connect_timeout=2.0, read_timeout=5.0, retries=0)
    s3 = flags.apply(ConnectionSpec("lab", "s3", client_options={"max_attempts": 4, "x": 1}))
    assert s3.client_options == {
        "max_attempts": 1,
        "x": 1,
        "connect_timeout": 2.0,
        "read_timeout": 5.0,
    }
    gcs = flags.apply(ConnectionSpec("g", "gcs"))
    assert gcs.client_options["read_timeout"] == 5.0
    local = ConnectionSpec("here", "local", root="/tmp")
    assert flags.apply(local) == local
    assert Flags().apply(s3) is s3


def test_a_saved_connections_attempts_and_the_flag_that_beats_them(
    s3_endpoint, bucket_name, faults
):
    seed_keys(bucket_name, ["a.txt"])
    with open(os.environ["PAIL_CONFIG"], "w", encoding="utf-8") as fh:
        fh.write(
            '[connections.lab]\nprovider = "s3"\n'
            f'endpoint_url = "{faults.url}"\npath_style = true\nregion = "us-east-1"\n'
            "[connections.lab.client]\nmax_attempts = 2\nread_timeout = 5\n"
        )
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=None, status=500))
    assert run(["ls", f"lab:{bucket_name}/"]).exit_code == EXIT_ERROR
    assert _lists(faults, bucket_name) == 2
    faults.reset()
    faults.add(Rule(path=f"^/{bucket_name}$", query="list-type", times=None, status=500))
    assert run(["ls", "--retries", "0", f"lab:{bucket_name}/"]).exit_code == EXIT_ERROR
    assert _lists(faults, bucket_name) == 1


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("read_timeout = 0", "client.read_timeout: must be from 0.1 to 600 seconds"),
        ("max_attempts = 50", "client.max_attempts: must be from 1 to 20"),
        ('retry_mode = "eager"', "client.retry_mode: must be standard, legacy or adaptive"),
    ],
)
def test_out_of_range_in_the_connections_file(line, words) -> None:
    path = os.environ["PAIL_CONFIG"]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f'[connections.lab]\nprovider = "s3"\n[connections.lab.client]\n{line}\n')
    result = run(["ls", "lab:bucket/"])
    assert result.exit_code == EXIT_USAGE
    assert f"{path}:4:" in result.stderr and words in result.stderr


def test_connection_add_refuses_an_out_of_range_client_option() -> None:
    result = run(
        [
            "connection",
            "add",
            "lab",
            "--provider",
            "s3",
            "--no-secrets",
            "--client",
            "max_attempts=0",
        ]
    )
    assert result.exit_code == EXIT_USAGE and "max_attempts" in result.stderr
    assert not os.path.exists(os.environ["PAIL_CONFIG"])
