"""Sides on real stores for the transfer tests: pail's own drivers on moto (over HTTP,
optionally through the fault proxy), SeaweedFS, the GCS emulator and local folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec, Secrets
from pail.core.uri import format_uri
from pail.drivers.registry import open_driver
from pail.services.transfer import Side
from support.servers import seed_keys


def s3_spec(endpoint: str, **client_options) -> ConnectionSpec:
    """An S3 connection to ``endpoint`` (moto keys from the environment)."""
    return ConnectionSpec(
        name="s3",
        provider="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        path_style=True,
        client_options=dict(client_options),
    )


def s3_side(driver, bucket: str, key: str = "", connection: str | None = None) -> Side:
    """A Side on an S3 driver; another ``connection`` name than the other end's makes a
    copy between two drivers on one server streamed (it may sign as someone else)."""
    return Side(driver, bucket, key, format_uri("s3", bucket, key), connection)


def local_side(folder: Path, key: str = "") -> Side:
    """A Side on a local folder (the folder is the bucket)."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = ConnectionSpec(name="local", provider="local", root=str(folder), single_bucket=True)
    driver = open_driver(spec)
    return Side(driver, folder.name, key, os.path.join(str(folder), key))


@pytest.fixture
def moto_s3(s3_endpoint, bucket_name):
    """``(driver, bucket)``: pail's S3 driver on moto over HTTP, an empty bucket."""
    seed_keys(bucket_name, {})
    return open_driver(s3_spec(s3_endpoint)), bucket_name


@pytest.fixture
def proxied_s3(faults, bucket_name):
    """``(driver, bucket, faults)``: pail's S3 driver through the fault proxy (2 attempts
    per request, so an injected failure outlives the retries quickly)."""
    seed_keys(bucket_name, {})
    return open_driver(s3_spec(faults.url, max_attempts=2)), bucket_name, faults


def reader_driver(iam) -> object:
    """pail's S3 driver as the read-only ``reader`` of ``moto_iam_server``."""
    user = iam.users["reader"]
    spec = s3_spec(iam.endpoint)
    from dataclasses import replace

    spec = replace(spec, secrets=Secrets(user.access_key_id, user.secret_access_key))
    return open_driver(spec)


def files(root: Path, tree: dict[str, bytes]) -> Path:
    """Write ``{rel: bytes}`` below ``root``; returns ``root``."""
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


class Kit:
    """The helpers above, for tests (conftest modules are not importable)."""

    s3_spec = staticmethod(s3_spec)
    s3_side = staticmethod(s3_side)
    local_side = staticmethod(local_side)
    reader_driver = staticmethod(reader_driver)
    files = staticmethod(files)


@pytest.fixture
def kit() -> type[Kit]:
    """:class:`Kit`: ``s3_side``, ``local_side``, ``files``, ``reader_driver``, ``s3_spec``."""
    return Kit
