"""Snapshots of the cleanup screens: the usage summary, the review (keeping runs by
rules, with the runs kept and why) and the result of a delete refused per key
(pytest-textual-snapshot; SVGs in ``__snapshots__/``).

Deterministic: last-modified times are set on moto's backend relative to the app's fixed
clock, ages are counted from that clock, and finished screens show no rate or duration.
"""

from __future__ import annotations

from datetime import timedelta

from pail.core.connection import Secrets
from pail.ui.screens.usage import UsageScreen
from support.run_stores import seed_resnet
from support.ui import (
    NOW,
    SIZE,
    confirm,
    find,
    make_app,
    open_node,
    review_ready,
    s3_spec,
    seed_aged,
    select,
    settle,
    until,
)

RUNS = {
    "exp/run-01/model.ckpt": (48_000, 40),
    "exp/run-01/train.log": (3_000, 40),
    "exp/run-02/model.ckpt": (52_000, 30),
    "exp/run-02/train.log": (2_500, 30),
    "exp/run-03/model.ckpt": (50_000, 12),
    "exp/run-04/model.ckpt": (51_000, 3),
    "exp/run-04/metrics.json": (300, 2),
    "exp/notes.md": (120, 1),
}


async def _to_exp(pilot):
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", "art"))
    await select(pilot, find(app, "moto", "art", "exp/"))


def test_usage_screen(snap_compare, s3_endpoint):
    seed_aged("art", RUNS)

    async def run_before(pilot):
        await _to_exp(pilot)
        await pilot.press("s")
        app = pilot.app
        await until(pilot, lambda: isinstance(app.screen, UsageScreen), "usage")
        await until(pilot, lambda: app.screen.finished, "scan finished")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_review_screen(snap_compare, s3_endpoint):
    """Issue 14's "done when": keep the best 3 by val_loss and the last 2 on six MLflow
    runs; the runs section says which are kept and why, and what goes of the one deleted."""
    seed_resnet("art", NOW - timedelta(days=30), root="exp/")

    async def run_before(pilot):
        await _to_exp(pilot)
        await pilot.press("z")
        await settle(pilot)
        screen = pilot.app.screen
        screen.query_one("#stale-keep_last").value = "2"
        screen.query_one("#stale-keep_best").value = "3"
        screen.query_one("#stale-metric").value = "val_loss"
        await pilot.pause()
        await pilot.click("#stale-ok")
        await review_ready(pilot)
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_result_screen_with_denied_keys(snap_compare, moto_iam_server):
    reader = moto_iam_server.users["reader"]
    spec = s3_spec(
        moto_iam_server.endpoint,
        name="read-only",
        bucket=moto_iam_server.bucket,
        secrets=Secrets(reader.access_key_id, reader.secret_access_key),
    )
    bucket = moto_iam_server.bucket

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "read-only", bucket))
        await select(pilot, find(app, "read-only", bucket, "data/"))
        await pilot.press("X")
        await review_ready(pilot)
        await confirm(pilot, typed=bucket)  # a whole prefix: the bucket name is typed
        await settle(pilot)

    app = make_app([spec])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
