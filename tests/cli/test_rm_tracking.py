"""``pail rm`` retention with a tracking server (MLFLOW_TRACKING_URI): runs behind a
registered model version are kept (MLflow's own server, runs logged by MLflow's client:
tests/support/fasttrackml.py); an unreadable registry refuses the plan; ``--tracking-delete``
marks the deleted runs deleted in the tracker (a FastTrackML of this test's own, so the
shared servers keep their runs)."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from support.cli import run, s3_args
from support.fasttrackml import (
    REGISTERED_RUN,
    TrackedStore,
    mlflow_server_fixture,  # noqa: F401  (the fixture "mlflow_server")
    start_fasttrackml,
    stop,
)
from support.run_stores import seed_dated, seed_resnet
from support.servers import free_port, s3_client
from support.stores import NOW


def _keys(endpoint, bucket):
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _api(uri: str, endpoint: str, body: dict | None = None, query: str = "") -> dict:
    """One call of MLflow's REST API 2.0 (POST with ``body``, else GET with ``query``)."""
    url = f"{uri}/api/2.0/mlflow/{endpoint}{query}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read() or b"{}")


def test_registered_and_running_runs_are_kept(mlflow_server: TrackedStore):
    bucket = mlflow_server.bucket  # puts the client's objects back after a moto reset
    before = _keys(mlflow_server.endpoint, bucket)
    env = {"MLFLOW_TRACKING_URI": mlflow_server.uri}
    args = ["rm", *s3_args(mlflow_server.endpoint), "-r", f"s3://{bucket}/{mlflow_server.root}"]
    result = run([*args, "--keep-last", "0", "--dry-run"], env=env)
    assert result.exit_code == 0, result.stderr
    baseline = mlflow_server.run(REGISTERED_RUN)
    assert (
        f"keep   {REGISTERED_RUN} ({baseline.id}): backs registered "
        f"{mlflow_server.registered[baseline.id]}"
    ) in result.stderr
    running = mlflow_server.run("bert-large")
    assert f"keep   bert-large ({running.id}): status RUNNING" in result.stderr
    assert "2 kept, 3 to delete" in result.stderr
    deleted = [r for r in mlflow_server.runs if r.name not in (REGISTERED_RUN, "bert-large")]
    listed = result.stdout.split()
    assert listed and not [u for u in listed if baseline.id in u or running.id in u]
    assert {u.split("/")[-1] for u in listed} <= {k.split("/")[-1] for k in before}
    assert any(r.id in u for r in deleted for u in listed)
    assert f"tracking server {mlflow_server.uri}: runs behind a registered" in result.stderr
    assert _keys(mlflow_server.endpoint, bucket) == before


def test_an_unreadable_registry_refuses_the_plan(s3_endpoint, bucket_name):
    seed_resnet(bucket_name, NOW - timedelta(days=30))
    before = _keys(s3_endpoint, bucket_name)
    nobody = f"http://127.0.0.1:{free_port()}"
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/mlruns/"]
    result = run([*args, "--keep-last", "1"], env={"MLFLOW_TRACKING_URI": nobody})
    assert result.exit_code == 2
    message = result.stderr.strip()
    assert message.startswith(f"pail: error: refusing to plan by runs: tracking server {nobody}")
    assert message.endswith(
        "its registered model versions were not read, and a run behind one is never deleted: "
        "refusing (unset MLFLOW_TRACKING_URI to plan without it)"
    )
    assert _keys(s3_endpoint, bucket_name) == before


def test_tracking_delete_needs_a_tracking_server(s3_endpoint, bucket_name):
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/mlruns/"]
    result = run([*args, "--keep-last", "1", "--tracking-delete"], env={"MLFLOW_TRACKING_URI": ""})
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "pail: error: --tracking-delete needs MLFLOW_TRACKING_URI: the http(s) URI of an "
        "MLflow or FastTrackML tracking server"
    )


@pytest.fixture
def own_fasttrackml(tmp_path, s3_endpoint, bucket_name):
    """A FastTrackML of this test's own, its artifact root ``s3://BUCKET/ft``; three runs
    of experiment "sweep" created through its REST API (started a day apart, "old" first)
    with their artifacts put where the server says they are. Yields (uri, {name: run id})."""
    s3_client(s3_endpoint).create_bucket(Bucket=bucket_name)
    uri, proc = start_fasttrackml(
        tmp_path, artifact_root=f"s3://{bucket_name}/ft", s3_endpoint=s3_endpoint
    )
    try:
        experiment = _api(uri, "experiments/create", {"name": "sweep"})["experiment_id"]
        ids = {}
        for i, name in enumerate(("old", "mid", "new")):
            start = datetime.now(timezone.utc) - timedelta(days=3 - i)
            body = {
                "experiment_id": experiment,
                "run_name": name,
                "start_time": int(start.timestamp() * 1000),
            }
            info = _api(uri, "runs/create", body)["run"]["info"]
            _api(
                uri,
                "runs/update",
                {"run_id": info["run_id"], "status": "FINISHED", "end_time": body["start_time"]},
            )
            ids[name] = info["run_id"]
            prefix = info["artifact_uri"].removeprefix(f"s3://{bucket_name}/")
            files = {f"{prefix}/model.bin": b"w" * 100, f"{prefix}/config.json": b"{}"}
            seed_dated(bucket_name, files, start)
        yield uri, ids
    finally:
        stop(proc)


def test_tracking_delete_marks_the_deleted_runs_deleted_in_the_tracker(
    s3_endpoint, bucket_name, own_fasttrackml
):
    uri, ids = own_fasttrackml
    args = ["rm", *s3_args(s3_endpoint), "-r", f"s3://{bucket_name}/ft/", "--keep-last", "1"]
    env = {"MLFLOW_TRACKING_URI": uri}
    dry = run([*args, "--tracking-delete", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.stderr
    assert f"then marks 2 MLflow runs deleted on {uri}" in dry.stderr
    assert "pail: dry run: no run was marked deleted on the tracking server" in dry.stderr

    def stage(name: str) -> str:
        return _api(uri, "runs/get", query=f"?run_id={ids[name]}")["run"]["info"]["lifecycle_stage"]

    assert [stage(n) for n in ("old", "mid", "new")] == ["active"] * 3
    result = run([*args, "--tracking-delete", "--yes"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "keep   new (" in result.stderr and "delete old (" in result.stderr
    assert (
        f"pail: marked 2 runs deleted on {uri}: mid ({ids['mid']}), old ({ids['old']})"
    ) in result.stderr
    assert [stage(n) for n in ("old", "mid", "new")] == ["deleted", "deleted", "active"]
    left = _keys(s3_endpoint, bucket_name)
    assert left and all(ids["new"] in key for key in left)


def test_without_tracking_delete_the_tracker_is_left_alone(
    s3_endpoint, bucket_name, own_fasttrackml
):
    uri, ids = own_fasttrackml
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/ft/"]
    result = run([*args, "--keep-last", "2"], env={"MLFLOW_TRACKING_URI": uri})
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr and "marked" not in result.stderr
    info = _api(uri, "runs/get", query=f"?run_id={ids['old']}")["run"]["info"]
    assert info["lifecycle_stage"] == "active"


def test_runs_the_filters_keep_objects_of_are_not_marked_deleted(
    s3_endpoint, bucket_name, own_fasttrackml
):
    uri, ids = own_fasttrackml
    args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/ft/"]
    options = ["--keep-last", "1", "--include", "*.bin", "--tracking-delete"]
    result = run([*args, *options], env={"MLFLOW_TRACKING_URI": uri})
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr  # old's and mid's model.bin
    assert (
        "not marked deleted in the tracker (the filters keep some of their objects): "
        f"mid ({ids['mid']}), old ({ids['old']})"
    ) in result.stderr
    assert "marked 0" not in result.stderr and "pail: marked" not in result.stderr
    for name in ("old", "mid", "new"):
        info = _api(uri, "runs/get", query=f"?run_id={ids[name]}")["run"]["info"]
        assert info["lifecycle_stage"] == "active"
