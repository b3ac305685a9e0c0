"""The entry point: what `pail WORD ...` does with words that name nothing, missing folders,
saved names that do not exist, and no terminal; and the flags every command spells alike.

In-process runs (CliRunner) have no terminal, which is what the "needs a terminal" checks
are about; the app itself on a terminal runs in test_tmux.py and test_cli_open.py.
"""

from __future__ import annotations

import os
import select
import subprocess

import pytest

from pail.cli.main import EXIT_NOT_FOUND, EXIT_USAGE
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec
from support.cli import pail_exe, run, s3_args
from support.servers import seed_keys

TERMINAL_HINT = "pail: the app needs a terminal; for scripts use `pail ls URI`"


def _save(name: str, **kwargs) -> None:
    ConnectionStore().save(
        ConnectionSpec(name=name, provider=kwargs.pop("provider", "s3"), saved=True, **kwargs)
    )


# --- words that name nothing ------------------------------------------------------------


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no folder called "lss" here
    result = run(["lss", "s3://x"])
    assert result.exit_code == EXIT_USAGE
    assert "No such command 'lss'" in result.stderr
    assert "Did you mean 'ls'?" in result.stderr
    assert "Usage: " in result.stderr and result.stdout == ""


@pytest.mark.parametrize(("typed", "meant"), [("verions", "versions"), ("doctr", "doctor")])
def test_other_typos_suggest_their_command(tmp_path, monkeypatch, typed, meant):
    monkeypatch.chdir(tmp_path)
    result = run([typed])
    assert result.exit_code == EXIT_USAGE
    assert f"Did you mean {meant!r}?" in result.stderr


def test_an_unknown_name_says_no_saved_connection_and_lists_the_saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(["nope"])
    assert result.exit_code == EXIT_USAGE
    assert "no saved connection 'nope'" in result.stderr
    assert "there are no saved connections" in result.stderr
    assert "Did you mean" not in result.stderr  # "open" is not close enough to offer
    _save("lab", endpoint_url="http://127.0.0.1:9")
    _save("prod", endpoint_url="http://127.0.0.1:9")
    listed = run(["nope"])
    assert listed.exit_code == EXIT_USAGE
    assert "saved connections: lab, prod" in listed.stderr


def test_a_word_that_is_a_folder_or_a_saved_name_still_opens(tmp_path, monkeypatch):
    """The checks only refuse words that name nothing: a folder called like a typo, or a
    saved connection of that name, get as far as the terminal check."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lss").mkdir()
    folder = run(["lss"])
    assert folder.exit_code == EXIT_USAGE and folder.stderr.strip() == TERMINAL_HINT
    _save("lab", endpoint_url="http://127.0.0.1:9")
    saved = run(["lab"])
    assert saved.exit_code == EXIT_USAGE and saved.stderr.strip() == TERMINAL_HINT


def test_a_missing_folder_exits_3(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(["./nope"])
    assert result.exit_code == EXIT_NOT_FOUND
    assert result.stderr.strip() == f"pail: error: no such folder: {tmp_path / 'nope'}"
    deeper = run([str(tmp_path / "a" / "b")])
    assert deeper.exit_code == EXIT_NOT_FOUND and "no such folder" in deeper.stderr


def test_name_colon_path_names_a_saved_connection_not_a_scheme():
    result = run(["ls", "nope:x/"])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.strip() == (
        "pail: error: no saved connection 'nope'; there are no saved connections"
    )
    _save("lab", endpoint_url="http://127.0.0.1:9")
    listed = run(["ls", "nope:x/"])
    assert "no saved connection 'nope'; saved connections: lab" in listed.stderr
    assert "unsupported scheme" not in listed.stderr
    app = run(["nope:x/"])  # the app's arguments go through the same rule
    assert app.exit_code == EXIT_USAGE and "no saved connection 'nope'" in app.stderr


def test_real_schemes_and_odd_inputs_keep_their_messages():
    assert "unsupported scheme 'ftp'" in run(["ls", "ftp://host/x"]).stderr
    assert "two slashes" in run(["ls", "s3:bucket"]).stderr
    drive = run(["ls", "C:\\data"])  # a path (no such folder here), never a name or scheme
    assert drive.exit_code == EXIT_NOT_FOUND and "saved connection" not in drive.stderr


# --- no terminal -------------------------------------------------------------------------


def test_without_a_terminal_the_app_does_not_start(tmp_path):
    result = run([str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.strip() == TERMINAL_HINT and result.stdout == ""


def test_piped_stdout_gets_the_hint_from_the_real_executable(tmp_path):
    proc = subprocess.run(
        [pail_exe(), str(tmp_path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == EXIT_USAGE
    assert proc.stderr.strip() == TERMINAL_HINT and proc.stdout == ""


def test_demo_without_a_terminal_points_at_serve():
    result = run(["demo"])
    assert result.exit_code == EXIT_USAGE
    assert "`pail demo --serve`" in result.stderr


def test_a_terminal_gets_past_the_check(tmp_path):
    """On a pty the same arguments pass every check and the app starts: it switches to
    the alternate screen; q (sent again on each redraw until it lands) quits it, exit 0."""
    (tmp_path / "a.txt").write_text("x")
    master, slave = os.openpty()
    env = dict(os.environ, TERM="xterm", COLUMNS="100", LINES="30")
    proc = subprocess.Popen(
        [pail_exe(), str(tmp_path)], stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:  # a guard against a hang, not a measurement
                proc.kill()
                pytest.fail(f"pail hung: {out[-500:]!r}")
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
            if b"\x1b[?1049h" in out:  # the app is up
                os.write(master, b"q")
    finally:
        os.close(master)
    assert proc.wait(timeout=60) == 0
    assert b"\x1b[?1049h" in out and TERMINAL_HINT.encode() not in out


# --- flags spelled alike ------------------------------------------------------------------


def test_yes_has_a_short_form_everywhere_it_exists():
    for args in (["rm"], ["restore"], ["versions"], ["lifecycle", "apply"]):
        text = run([*args, "--help"]).stdout
        assert "-y, --yes" in text, args


def test_restore_and_versions_take_y(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["runs/a"])
    uri = f"s3://{bucket_name}/runs/"
    restore = run(["restore", "-r", "-y", *s3_args(s3_endpoint), uri])
    assert restore.exit_code == 0, restore.stderr
    purge = run(["versions", "--delete-noncurrent", "-y", *s3_args(s3_endpoint), uri])
    assert purge.exit_code == 0, purge.stderr


@pytest.mark.parametrize("flag", ["--no-sign-request", "--anonymous"])
def test_connection_add_takes_no_sign_request(flag):
    result = run(["connection", "add", "pub", "--provider", "s3", flag])
    assert result.exit_code == 0, result.stderr
    assert ConnectionStore().get("pub").anonymous
    help_text = run(["connection", "add", "--help"]).stdout
    assert "--no-sign-request" in help_text and "--anonymous" not in help_text


def test_demo_takes_no_connection_flags():
    help_text = run(["demo", "--help"]).stdout
    for flag in ("--endpoint-url", "--region", "--profile", "--retries", "--no-sign-request"):
        assert flag not in help_text
    after = run(["demo", "--region", "eu-west-1"])
    assert after.exit_code == EXIT_USAGE and "No such option '--region'" in after.stderr
    before = run(["--region", "eu-west-1", "demo", "--serve"])
    assert before.exit_code == EXIT_USAGE
    assert "pail demo makes its own connections; --region does nothing here" in before.stderr


def test_top_level_help_lists_every_connection_subcommand():
    text = run(["--help"]).stdout
    line = next(x for x in text.splitlines() if x.strip().startswith("connection"))
    for sub in ("add", "list", "show", "test", "remove", "import-env"):
        assert sub in line, sub


def test_help_and_version_stay_off_the_terminal_check():
    assert run(["--version"]).exit_code == 0
    assert run(["--help"]).exit_code == 0
    assert os.environ.get("PAIL_CONFIG")  # the autouse fixture's file, never the user's
