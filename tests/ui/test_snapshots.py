"""Snapshots of the main states (pytest-textual-snapshot; SVGs in ``__snapshots__/``).

Deterministic on purpose: fixed object bodies and last-modified times (set on moto's
in-process backend after seeding), a fixed clock for ages, TZ=UTC for local times, and for
the IAM server (random port, random request ids) a wrapper around pail's driver that
rewrites those two fields of the errors it raises before they reach the screen.

Update with ``pytest tests/ui/test_snapshots.py --snapshot-update`` and inspect the SVGs.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

import pytest

from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.registry import open_driver
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.screens.credential_failure import CredentialFailureScreen
from support.servers import moto_backend, s3_client, seed_keys
from support.ui import (
    SIZE,
    StableErrors,
    find,
    make_app,
    open_connections,
    open_node,
    run,
    s3_spec,
    save,
    screen_text,
    select,
    settle,
    stable_resolver,
    store_at,
    submit_form,
    type_into,
    until,
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


def test_403_node(snap_compare, moto_iam_server, utc):
    keys = moto_iam_server.users["nolist"]
    spec = s3_spec(
        moto_iam_server.endpoint,
        name="read-only",
        bucket=moto_iam_server.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
    )

    def factory(s):
        return StableErrors(open_driver(s), moto_iam_server.endpoint)

    async def run_before(pilot):
        await settle(pilot)
        await select(pilot, find(pilot.app, "read-only", moto_iam_server.bucket))

    app = make_app([spec], factory, resolver=stable_resolver)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_paged_large_prefix(snap_compare, s3_endpoint, utc):
    """A level of several pages: one "open list" row in the tree, its keys in the level
    list above the detail pane (the list's own snapshots: tests/ui/test_level_list.py)."""
    seed_keys("artifacts", {f"sweep/trial-{i:05d}.json": b'{"score": 0.5}' for i in range(3000)})
    seed_keys("artifacts", ["sweep/summary/best.json"])
    _pin_times("artifacts")

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "artifacts"))
        sweep = await open_node(pilot, find(app, "moto", "artifacts", "sweep/"))
        await select(pilot, sweep.children[-1])  # "▤ 1,000+ keys — open list"
        await pilot.press("enter")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _saved_connections(store) -> None:
    """Four saved connections whose rows draw the same on every machine."""
    save(
        store,
        ConnectionSpec(
            name="lab-minio",
            provider="s3",
            endpoint_url="http://minio.lab.internal:9000",
            path_style=True,
            bucket="artifacts",
            prefix="runs/",
        ),
        Secrets("AKIAEXAMPLELAB0WXYZ", "snapshot-secret-never-shown"),
    )
    save(store, ConnectionSpec(name="aws-prod", provider="s3", region="eu-west-1", profile="prod"))
    save(store, ConnectionSpec(name="gcs-team", provider="gcs", project="ml-team", anonymous=True))
    save(store, ConnectionSpec(name="scratch", provider="local", root="/nonexistent/pail-scratch"))


def test_connections_screen(snap_compare, tmp_path, monkeypatch, utc):
    monkeypatch.chdir(tmp_path)  # the header shows the file's path: keep it relative
    store = ConnectionStore("connections.toml")
    _saved_connections(store)

    async def run_before(pilot):
        await settle(pilot)
        await open_connections(pilot)
        await pilot.press("down", "down", "down", "t")  # "scratch": its folder is missing
        # The test runs in a worker: wait for its answer, not for a fixed number of frames.
        await until(pilot, lambda: "no such folder" in screen_text(pilot.app), "the test's answer")
        await settle(pilot)

    app = make_app([], store=store)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_credential_failure_modal(snap_compare, moto_iam_server, tmp_path, monkeypatch, utc):
    admin = moto_iam_server.users["admin"]
    # The detail pane behind the modal shows the file's path: relative, so that it is the
    # same in every run (pytest's numbered folder, and xdist's worker folder, vary).
    monkeypatch.chdir(tmp_path)
    store = ConnectionStore("connections.toml")
    # The server's port is random: the connection says 9000 (a valid endpoint, as saving
    # checks), the driver gets the real one; errors show PORT (StableErrors).
    spec = ConnectionSpec(
        name="lab", provider="s3", endpoint_url="http://127.0.0.1:9000", path_style=True
    )
    spec = save(store, spec, Secrets(admin.access_key_id, "wrong-secret-for-the-snapshot"))

    def factory(s):
        real = replace(s, endpoint_url=moto_iam_server.endpoint)
        return StableErrors(open_driver(real), moto_iam_server.endpoint)

    async def run_before(pilot):
        await settle(pilot)
        await until(pilot, lambda: isinstance(pilot.app.screen, CredentialFailureScreen), "modal")
        await settle(pilot)

    app = make_app([spec], factory, store=store, resolver=stable_resolver)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_secrets_never_reach_a_screenshot(moto_iam_server, tmp_path):
    """Render every screen that handles secrets, with secrets typed, and grep the SVGs."""
    admin = moto_iam_server.users["admin"]
    wrong, token = "wrong-Secret-in-svg-test", "session-Token-in-svg-test"
    store = store_at(tmp_path)
    spec = ConnectionSpec(
        name="lab", provider="s3", endpoint_url=moto_iam_server.endpoint, path_style=True
    )
    spec = save(store, spec, Secrets(admin.access_key_id, wrong))
    secrets = (wrong, token, admin.secret_access_key)
    svgs: list[str] = []

    async def body():
        app = make_app([spec], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(pilot, lambda: isinstance(app.screen, CredentialFailureScreen), "modal")
            svgs.append(app.export_screenshot())
            await pilot.press("e")  # re-enter secrets
            await until(pilot, lambda: isinstance(app.screen, ConnectionForm), "form")
            await type_into(pilot, "access_key_id", admin.access_key_id)
            await type_into(pilot, "secret_access_key", admin.secret_access_key)
            await type_into(pilot, "session_token", token)
            svgs.append(app.export_screenshot())
            await type_into(pilot, "session_token", "")
            await submit_form(pilot)
            await settle(pilot)
            svgs.append(app.export_screenshot())  # the tree, status bar, detail
            await open_connections(pilot)
            await pilot.press("t")
            await settle(pilot)
            svgs.append(app.export_screenshot())

    run(body())
    assert len(svgs) == 4
    for i, svg in enumerate(svgs):
        for secret in secrets:
            assert secret not in svg, i
        if i != 1:  # the form shows the access key id as typed (an id, not a secret)
            assert admin.access_key_id not in svg, i
    assert "AKIA" in svgs[3] and "keyring" in svgs[3]  # the masked identity is shown
