"""Snapshots of the main states (pytest-textual-snapshot; SVGs in ``__snapshots__/``).

Deterministic on purpose: fixed object bodies and last-modified times (set on moto's
in-process backend after seeding), a fixed clock for ages, TZ=UTC for local times, and for
the IAM server (random port, random request ids) a wrapper around pail's driver that
rewrites those two fields of the errors it raises before they reach the screen.

Update with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and inspect the SVGs.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from conftest import moto_backend, s3_client, seed_keys
from pail.config import Secrets
from pail.drivers.errors import StorageError
from pail.drivers.registry import open_driver
from ui.ui_helpers import (
    SIZE,
    find,
    make_app,
    open_node,
    s3_spec,
    select,
    settle,
    stable_resolver,
    tree_of,
)

MODIFIED = datetime(2025, 5, 20, 9, 30, 0)  # naive UTC, as moto keeps it
PARAMS = b"""{
  "experiment": "resnet-sweep",
  "learning_rate": 0.001,
  "batch_size": 64,
  "epochs": 12,
  "optimizer": {"name": "adamw", "weight_decay": 0.01},
  "tags": ["[bold red]not markup[/]", "baseline"]
}
"""


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _pin_times(bucket: str) -> None:
    backend = moto_backend()
    for key in backend.buckets[bucket].keys.values():
        key.last_modified = MODIFIED


def test_object_detail_with_preview(snap_compare, s3_endpoint, utc):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="artifacts")
    client.put_object(
        Bucket="artifacts",
        Key="runs/run-1/params.json",
        Body=PARAMS,
        ContentType="application/json",
        Metadata={"mlflow-run-id": "4f1c2d", "stage": "train"},
    )
    seed_keys(
        "artifacts",
        {
            "runs/run-1/metrics.json": b'{"loss": 0.21}\n',
            "runs/run-1/train.log": b"epoch 1 loss 0.9\n" * 200,
            "runs/run-1/model.ckpt": bytes(range(256)) * 64,
            "runs/run-2/params.json": b"{}",
            "README.md": b"# artifacts\n",
        },
    )
    _pin_times("artifacts")

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "artifacts"))
        await open_node(pilot, find(app, "moto", "artifacts", "runs/"))
        await open_node(pilot, find(app, "moto", "artifacts", "runs/", "run-1/"))
        await select(pilot, find(app, "moto", "artifacts", "runs/", "run-1/", "params.json"))

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


class _StableErrors:
    """Wraps pail's S3 driver: errors keep every field except the endpoint's random port
    and the random request id, which would change the snapshot on every run."""

    def __init__(self, inner: Any, endpoint: str) -> None:
        self._inner = inner
        self._endpoint = endpoint

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except StorageError as exc:
                exc.endpoint = "http://127.0.0.1:PORT" if exc.endpoint else None
                exc.request_id = "REQUEST-ID" if exc.request_id else None
                raise

        return call


def test_403_node(snap_compare, moto_iam_server, utc):
    keys = moto_iam_server.users["nolist"]
    spec = s3_spec(
        moto_iam_server.endpoint,
        name="read-only",
        bucket=moto_iam_server.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
    )

    def factory(s):
        return _StableErrors(open_driver(s), moto_iam_server.endpoint)

    async def run_before(pilot):
        await settle(pilot)
        await select(pilot, find(pilot.app, "read-only", moto_iam_server.bucket))

    app = make_app([spec], factory, resolver=stable_resolver)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_paged_large_prefix(snap_compare, s3_endpoint, utc):
    seed_keys("artifacts", {f"sweep/trial-{i:05d}.json": b'{"score": 0.5}' for i in range(3000)})
    seed_keys("artifacts", ["sweep/summary/best.json"])

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "artifacts"))
        sweep = await open_node(pilot, find(app, "moto", "artifacts", "sweep/"))
        await select(pilot, sweep.children[-1])  # "load more…"
        tree_of(app).scroll_end(animate=False)
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
