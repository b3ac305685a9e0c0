"""Retention by runs in the app, against moto server with MLflow file-store runs
(tests/support/run_stores.py): the stale filter's run fields checked as typed, the review
listing the runs kept and why and the runs to delete, the delete removing exactly the
deleted run's objects, and a metric no run logged refused with the metrics there are."""

from __future__ import annotations

from datetime import timedelta

from textual.widgets import Button, Static

from pail.core.units import size_text
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.lifecycle import LifecycleScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from support.run_stores import seed_resnet
from support.servers import free_port, s3_client
from support.ui import (
    NOW,
    SIZE,
    confirm,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    stale_filter,
    until,
)


def _keys(endpoint: str, bucket: str) -> list[str]:
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


async def _to_mlruns(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", "art"))
    await select(pilot, find(app, "moto", "art", "mlruns/"))


def test_keep_the_best_3_by_val_loss_and_the_last_2_review_and_delete(s3_endpoint):
    ids = seed_resnet("art", NOW - timedelta(days=30))
    before = _keys(s3_endpoint, "art")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            review = await stale_filter(pilot, keep_best="3", metric="val_loss", keep_last="2")
            plan = review.plan
            assert plan is not None and plan.retention is not None
            assert sorted(v.run.name for v in plan.retention.kept) == ["r0", "r1", "r3", "r4", "r5"]
            assert [v.run.name for v in plan.retention.deleted] == ["r2"]
            text = screen_text(app)
            assert (
                "filter: keep the last 2 runs and the best 3 by val_loss (min) of each experiment"
            ) in text
            assert "Runs (MLflow / FastTrackML): 5 kept, 1 to delete" in text
            assert (
                "keep   r1 a1a1a1a1… · best 3 by val_loss (min) of experiment resnet: 0.31" in text
            )
            size = size_text(plan.total_bytes)
            assert f"delete r2 a2a2a2a2… · 6 objects, {size} · not among the last 2 runs" in text
            progress = await confirm(pilot)
            assert progress.report.deleted == 6 and not progress.report.failed

    run(body())
    gone = sorted(set(before) - set(_keys(s3_endpoint, "art")))
    assert gone == [k for k in before if k.startswith(f"mlruns/1/{ids['r2']}/")]


def test_run_fields_are_checked_as_typed(s3_endpoint):
    seed_resnet("art", NOW - timedelta(days=30))

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            await pilot.press("z")
            await until(pilot, lambda: isinstance(app.screen, StaleFilterScreen), "form")
            form = app.screen
            ok = form.query_one("#stale-ok", Button)

            def message() -> str:
                return str(form.query_one("#stale-message", Static).render())

            for fields, words in [
                ({"keep_best": "3"}, "keep best needs the metric to rank the runs by"),
                ({"metric": "val_loss", "mode": "avg"}, "mode: min or max"),
                ({"mode": "", "keep_best": "x"}, "keep best runs: a whole number, not 'x'"),
                ({"keep_best": "", "metric": "val_loss"}, "only used to keep the best N runs"),
            ]:
                for name, value in fields.items():
                    form.query_one(f"#stale-{name}").value = value
                await pilot.pause()
                assert ok.disabled and words in message(), (fields, message())
            form.query_one("#stale-keep_best").value = "3"
            form.query_one("#stale-mode").value = "MAX"
            await pilot.pause()
            assert not ok.disabled
            assert message() == "Deletes only runs no rule keeps; never objects outside runs."

    run(body())


def test_a_metric_no_run_logged_is_refused_in_the_review(s3_endpoint):
    seed_resnet("art", NOW - timedelta(days=30))
    before = _keys(s3_endpoint, "art")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            review = await stale_filter(pilot, keep_best="2", metric="val_acc")
            assert review.plan is None
            assert review.refusal == (
                "no run logged the metric 'val_acc'; the runs logged 1 metric: val_loss"
            )
            assert "Nothing will be deleted" in screen_text(app)
            assert review.query_one("#review-delete").disabled

    run(body())
    assert _keys(s3_endpoint, "art") == before


def test_an_unreadable_tracking_registry_is_refused_in_the_review(s3_endpoint, monkeypatch):
    seed_resnet("art", NOW - timedelta(days=30))
    nobody = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", nobody)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            review = await stale_filter(pilot, keep_last="1")
            assert review.plan is None and review.refusal is not None
            assert review.refusal.startswith(f"tracking server {nobody}")
            assert "registered model versions were not read" in review.refusal
            assert review.query_one("#review-delete").disabled

    run(body())


def test_the_lifecycle_screen_carries_the_run_rules_and_refuses_them(s3_endpoint):
    # A lifecycle rule cannot keep runs: carried over from the stale filter, on screen and
    # refused, never silently dropped (the rule would expire the runs the filter kept).
    seed_resnet("art", NOW - timedelta(days=30))

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            await stale_filter(pilot, older_than="7d", keep_best="3", metric="val_loss")
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, DeleteReviewScreen), "back")
            await pilot.press("L")
            await until(pilot, lambda: isinstance(app.screen, LifecycleScreen), "lifecycle")
            await settle(pilot)
            screen = app.screen
            assert screen.query_one("#lc-keep_best").value == "3"
            assert screen.query_one("#lc-metric").value == "val_loss"
            text = screen_text(app)
            assert "Not expressible" in text and "keeping the best N runs by a metric" in text
            assert screen.export is None

    run(body())


def test_with_run_rules_no_permanent_purge_is_offered_on_a_versioned_bucket(s3_endpoint):
    """The purge of noncurrent versions works on the whole prefix: with run rules it would
    take the kept runs' older versions too, so the confirmation withholds it."""
    seed_resnet("art", NOW - timedelta(days=30))
    s3_client(s3_endpoint).put_bucket_versioning(
        Bucket="art", VersioningConfiguration={"Status": "Enabled"}
    )

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await _to_mlruns(pilot)
            review = await stale_filter(pilot, keep_last="2")
            assert review.plan is not None and review.plan.retention is not None
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirm")
            dialog = app.screen
            assert not dialog.query("#delete-confirm-purge")
            withheld = str(dialog.query_one("#delete-confirm-purge-withheld", Static).render())
            assert "would take the kept runs' older versions too" in " ".join(withheld.split())

    run(body())
