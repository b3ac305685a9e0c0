"""The app keeps the tracking server in step with a delete by runs: with run rules and
``MLFLOW_TRACKING_URI`` (a real FastTrackML 0.6.0 of this module's own, artifacts in moto's
S3), the delete confirmation offers to mark the deleted MLflow runs deleted on the server
(unticked); ticked, the progress screen marks them after the delete and says so, and the
server's lifecycle stage shows it; unticked, nothing is marked."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from textual.widgets import Checkbox, Static

from pail.services.runs.tracking import TrackingServer
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from support.fasttrackml import start_fasttrackml, stop
from support.run_stores import seed_dated
from support.servers import s3_client
from support.ui import (
    SIZE,
    find,
    finished,
    make_app,
    open_node,
    run,
    s3_spec,
    select,
    settle,
    stale_filter,
    until,
)

#: The bucket of the FastTrackML artifact root (``s3://BUCKET/ft``) the app browses.
BUCKET = "art"


def _api(uri: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """One POST of MLflow's REST API 2.0."""
    request = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/{endpoint}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read() or b"{}")


@pytest.fixture(scope="module")
def fml(tmp_path_factory: pytest.TempPathFactory, moto_server: str) -> Iterator[str]:
    """This module's FastTrackML (a clean database, so the shared servers keep their
    runs); yields its URI."""
    folder = tmp_path_factory.mktemp("fml")
    uri, proc = start_fasttrackml(
        folder, artifact_root=f"s3://{BUCKET}/ft", s3_endpoint=moto_server
    )
    try:
        yield uri
    finally:
        stop(proc)


@pytest.fixture
def sweep(s3_endpoint: str, fml: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """moto reset with the bucket; a new experiment on ``fml`` with runs "old", "mid",
    "new" (FINISHED, started a day apart) and their artifacts where the server puts them;
    MLFLOW_TRACKING_URI names ``fml``. Returns {name: run id}."""
    s3_client(s3_endpoint).create_bucket(Bucket=BUCKET)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", fml)
    experiment = _api(fml, "experiments/create", {"name": f"sweep-{uuid.uuid4().hex[:8]}"})
    ids = {}
    for i, name in enumerate(("old", "mid", "new")):
        start = datetime.now(timezone.utc) - timedelta(days=3 - i)
        body = {
            "experiment_id": experiment["experiment_id"],
            "run_name": name,
            "start_time": int(start.timestamp() * 1000),
        }
        info = _api(fml, "runs/create", body)["run"]["info"]
        end = {"run_id": info["run_id"], "status": "FINISHED", "end_time": body["start_time"]}
        _api(fml, "runs/update", end)
        ids[name] = info["run_id"]
        prefix = info["artifact_uri"].removeprefix(f"s3://{BUCKET}/")
        files = {f"{prefix}/model.bin": b"w" * 100, f"{prefix}/config.json": b"{}"}
        seed_dated(BUCKET, files, start)
    return ids


def _stages(uri: str, ids: dict[str, str]) -> list[str]:
    server = TrackingServer(uri)
    return [server.run(ids[name]).lifecycle_stage for name in ("old", "mid", "new")]


def _plain(widget: Static) -> str:
    return " ".join(str(widget.render()).split())


async def _confirm_keep_last_1(pilot, tick: bool) -> DeleteConfirmScreen:
    """Browse to art/ft/, keep the last run, X; tick the tracker's box when ``tick``."""
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", BUCKET))
    await select(pilot, find(app, "moto", BUCKET, "ft/"))
    review = await stale_filter(pilot, keep_last="1")
    assert review.plan is not None and [v.run.name for v in review.plan.deleted_runs] == [
        "mid",
        "old",
    ]
    await pilot.press("X")
    await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirmation")
    dialog = app.screen
    assert isinstance(dialog, DeleteConfirmScreen)
    if tick:
        await pilot.click("#delete-confirm-tracker")
        await pilot.pause()
    return dialog


def test_ticked_the_deleted_runs_are_marked_deleted_on_the_server(s3_endpoint, sweep, fml):
    ids = sweep

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            dialog = await _confirm_keep_last_1(pilot, tick=True)
            box = dialog.query_one("#delete-confirm-tracker", Checkbox)
            assert box.value
            assert str(box.label) == "Also mark the 2 MLflow runs deleted on the tracking server"
            note = _plain(dialog.query_one("#delete-confirm-tracker-note", Static))
            assert (
                note
                == f"{fml} (runs/delete): each run once the store confirmed all its objects deleted"
            )
            await pilot.click("#delete-confirm-yes")
            progress = await finished(pilot)
            assert progress.report is not None and progress.report.deleted == 4
            marks = progress.marks
            assert marks is not None and [v.run.name for v in marks.marked] == ["mid", "old"]
            shown = _plain(progress.query_one("#del-tracker", Static))
            assert shown == (
                f"Marked 2 runs deleted on {fml}: mid ({ids['mid'][:8]}…), old ({ids['old'][:8]}…)"
            )

    run(body())
    assert _stages(fml, ids) == ["deleted", "deleted", "active"]


def test_unticked_nothing_is_marked(s3_endpoint, sweep, fml):
    ids = sweep

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            dialog = await _confirm_keep_last_1(pilot, tick=False)
            assert not dialog.query_one("#delete-confirm-tracker", Checkbox).value
            await pilot.click("#delete-confirm-yes")
            progress = await finished(pilot)
            assert progress.report is not None and progress.report.deleted == 4
            assert progress.marks is None
            assert not progress.query_one("#del-tracker", Static).display

    run(body())
    assert _stages(fml, ids) == ["active", "active", "active"]
