"""Marking the runs a delete removed as deleted on the tracking server
(pail.services.runs.tracker_sync) against a real FastTrackML 0.6.0 of this module's own
(so the session's shared servers keep their runs), artifacts in moto's S3: the plan built
by the real planner with the server merged, the delete run by the real engine (a failed
key through the fault-injecting proxy), the runs' lifecycle stage read back from the
server."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.delete.engine import Deleter
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import DeletePlan, build_plan
from pail.services.runs.tracker_sync import (
    mark_deleted,
    partially_planned,
    tracker_runs,
)
from pail.services.runs.tracking import TrackingServer
from support.fasttrackml import start_fasttrackml, stop
from support.fault_proxy import Rule
from support.run_stores import seed_dated
from support.servers import free_port, s3_client

#: The bucket of this module's FastTrackML artifact root (``s3://BUCKET/ft``).
BUCKET = "tracker-sync"
#: A run id in the MLflow shape that no server knows.
GHOST = "0123456789abcdef0123456789abcdef"


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
    """This module's FastTrackML (a clean database); yields its URI."""
    folder = tmp_path_factory.mktemp("fml")
    uri, proc = start_fasttrackml(
        folder, artifact_root=f"s3://{BUCKET}/ft", s3_endpoint=moto_server
    )
    try:
        yield uri
    finally:
        stop(proc)


def _sweep(uri: str, *, ghost: bool = False) -> dict[str, str]:
    """A new experiment with runs "old", "mid", "new" (FINISHED, started a day apart) on
    the server, their artifacts (model.bin, config.json) put where the server says; with
    ``ghost`` also the artifacts of a run the server does not know (started before "old").
    Returns {name: run id} and "prefix" -> the experiment's folder."""
    experiment = _api(uri, "experiments/create", {"name": f"sweep-{uuid.uuid4().hex[:8]}"})
    ids: dict[str, str] = {}
    folder = ""
    for i, name in enumerate(("old", "mid", "new")):
        start = datetime.now(timezone.utc) - timedelta(days=3 - i)
        body = {
            "experiment_id": experiment["experiment_id"],
            "run_name": name,
            "start_time": int(start.timestamp() * 1000),
        }
        info = _api(uri, "runs/create", body)["run"]["info"]
        end = {"run_id": info["run_id"], "status": "FINISHED", "end_time": body["start_time"]}
        _api(uri, "runs/update", end)
        ids[name] = info["run_id"]
        prefix = info["artifact_uri"].removeprefix(f"s3://{BUCKET}/")
        folder = prefix.rsplit("/", 2)[0] + "/"  # ft/<experiment id>/
        files = {f"{prefix}/model.bin": b"w" * 100, f"{prefix}/config.json": b"{}"}
        seed_dated(BUCKET, files, start)
    if ghost:
        files = {f"{folder}{GHOST}/artifacts/model.bin": b"g" * 10}
        seed_dated(BUCKET, files, datetime.now(timezone.utc) - timedelta(days=5))
        ids["ghost"] = GHOST
    ids["prefix"] = folder
    return ids


@pytest.fixture
def store(s3_endpoint: str) -> str:
    """moto, reset, with the artifact root's bucket; returns the endpoint."""
    s3_client(s3_endpoint).create_bucket(Bucket=BUCKET)
    return s3_endpoint


def _plan(endpoint: str, uri: str, prefix: str, **rules: Any) -> DeletePlan:
    driver = S3Driver(endpoint_url=endpoint, region="us-east-1", path_style=True)
    return build_plan(
        driver,
        BUCKET,
        base=prefix,
        prefixes=[prefix],
        filters=StaleFilters(**rules),
        tracking=TrackingServer(uri),
    )


def _names(verdicts) -> list[str]:
    return [v.run.name for v in verdicts]


def _stage(server: TrackingServer, run_id: str) -> str:
    return server.run(run_id).lifecycle_stage


def test_runs_whose_objects_are_all_confirmed_deleted_are_marked(store: str, fml: str):
    ids = _sweep(fml, ghost=True)
    # The ghost is grouped by its experiment's id, the tracked runs by its name: a name
    # rule deletes all but "new" in both groups.
    plan = _plan(store, fml, ids["prefix"], keep_names=("new",))
    assert [v.run.id for v in plan.deleted_runs] == [ids["mid"], ids["old"], GHOST]
    runs = tracker_runs(plan)
    assert [v.run.id for v in runs] == [ids["mid"], ids["old"], GHOST]
    assert partially_planned(plan, runs) == []
    driver = S3Driver(endpoint_url=store, region="us-east-1", path_style=True)
    report = Deleter(driver, plan).run()
    assert report.ok and report.deleted == 5
    server = TrackingServer(fml)
    marks = mark_deleted(server, plan, report, runs)
    assert marks.server == fml and marks.ok
    assert [v.run.id for v in marks.marked] == [ids["mid"], ids["old"]]
    assert [v.run.id for v in marks.unknown] == [GHOST]  # RESOURCE_DOES_NOT_EXIST
    assert marks.waiting == [] and marks.errors == [] and marks.not_asked == []
    stages = [_stage(server, ids[n]) for n in ("old", "mid", "new")]
    assert stages == ["deleted", "deleted", "active"]


def test_a_run_with_an_object_not_confirmed_deleted_is_not_marked(store: str, fml: str, faults):
    ids = _sweep(fml)
    plan = _plan(store, fml, ids["prefix"], keep_last=1)
    runs = tracker_runs(plan)
    assert [v.run.id for v in runs] == [ids["mid"], ids["old"]]
    denied = [item.key for item in plan.items if ids["old"] in item.key][:1]
    faults.add(Rule(method="POST", query="delete", action="delete-errors", keys=denied, times=None))
    driver = S3Driver(endpoint_url=faults.url, region="us-east-1", path_style=True)
    report = Deleter(driver, plan).run()
    assert [f.key for f in report.failed] == denied
    server = TrackingServer(fml)
    marks = mark_deleted(server, plan, report, runs)
    assert [v.run.id for v in marks.marked] == [ids["mid"]]
    assert [(w.verdict.run.id, w.left) for w in marks.waiting] == [(ids["old"], 1)]
    assert marks.ok and marks.unknown == [] and marks.errors == []
    stages = [_stage(server, ids[n]) for n in ("old", "mid", "new")]
    assert stages == ["active", "deleted", "active"]


def test_a_run_the_filters_keep_objects_of_is_not_offered(store: str, fml: str):
    ids = _sweep(fml)
    plan = _plan(store, fml, ids["prefix"], keep_last=1, include=("*.bin",))
    assert plan.count == 2  # old's and mid's model.bin
    assert tracker_runs(plan) == []
    assert _names(partially_planned(plan)) == ["mid", "old"]


def test_a_server_that_cannot_be_reached_is_an_error_per_run(store: str, fml: str):
    ids = _sweep(fml)
    plan = _plan(store, fml, ids["prefix"], keep_last=2)
    runs = tracker_runs(plan)
    driver = S3Driver(endpoint_url=store, region="us-east-1", path_style=True)
    report = Deleter(driver, plan).run()
    nobody = f"http://127.0.0.1:{free_port()}"
    marks = mark_deleted(TrackingServer(nobody, retries=0), plan, report, runs)
    assert not marks.ok and marks.marked == []
    assert [e.verdict.run.id for e in marks.errors] == [ids["old"]]
    assert marks.errors[0].message.startswith(f"tracking server {nobody}: ")
    assert _stage(TrackingServer(fml), ids["old"]) == "active"


def test_a_dry_run_marks_nothing(store: str, fml: str):
    ids = _sweep(fml)
    plan = _plan(store, fml, ids["prefix"], keep_last=2)
    runs = tracker_runs(plan)
    driver = S3Driver(endpoint_url=store, region="us-east-1", path_style=True)
    report = Deleter(driver, plan, dry_run=True).run()
    marks = mark_deleted(TrackingServer(fml), plan, report, runs)
    assert marks.marked == [] and _names(marks.not_asked) == ["old"]
    assert _stage(TrackingServer(fml), ids["old"]) == "active"
