"""Helpers for the command-line tests: run ``pail`` in-process (CliRunner) or as the
installed executable, against the session's real servers."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping

from click.testing import CliRunner, Result

from pail.cli.main import cli


def run(args: list[str], env: Mapping[str, str | None] | None = None) -> Result:
    """``pail ARGS`` in-process with stdout and stderr kept apart; exceptions that escape
    click are re-raised so a crash fails the test with its traceback."""
    return CliRunner(env=dict(env or {})).invoke(cli, args, catch_exceptions=False)


def s3_args(endpoint: str) -> list[str]:
    """Connection flags for the moto server (path-style, us-east-1)."""
    return ["--endpoint-url", endpoint, "--path-style", "--region", "us-east-1"]


def pail_exe() -> str:
    """The installed ``pail`` console script next to this interpreter."""
    exe = os.path.join(os.path.dirname(sys.executable), "pail")
    return exe if os.path.exists(exe) else (shutil.which("pail") or exe)
