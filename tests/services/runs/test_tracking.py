"""The tracking server client (pail.services.runs.tracking) against real servers:
FastTrackML 0.6.0 and MLflow 2.22's own server, each with runs logged by MLflow's client and
artifacts in moto's S3 (tests/support/fasttrackml.py); a second FastTrackML with basic auth
for credentials and run deletion; a loopback server of canned answers for what the real
ones will not do on demand (transient errors, a redirect, a page token that repeats, no
registry)."""

from __future__ import annotations

import base64
import json
import logging
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.runs import tracking
from pail.services.runs.detect import detect_runs
from pail.services.runs.model import MetricPoint, Run, RunSet
from pail.services.runs.tracking import TrackingError, TrackingServer
from support.canned_http import Reply, canned_server
from support.fasttrackml import (
    FASTTRACKML,
    MODEL,
    REGISTERED_RUN,
    TrackedStore,
    fasttrackml_fixture,  # noqa: F401  (the fixture "fasttrackml")
    mlflow_server_fixture,  # noqa: F401  (the fixture "mlflow_server")
    start_fasttrackml,
    stop,
)
from support.servers import free_port, moto_api, s3_client

USER, PASSWORD, TOKEN = "alice", "pw-Zq81-never-shown", "tok-Hx42-never-shown"
UNKNOWN_RUN = "0123456789abcdef0123456789abcdef"


def _last(points: list[list[float]]) -> float:
    return max(points, key=lambda p: p[0])[1]


def _runset(store: TrackedStore, *extra: Run) -> RunSet:
    """The runs as the MLflow layout names them: id, experiment id folder, prefix."""
    runs = [
        Run(r.id, r.id[:8], "mlflow", (f"{store.root}{r.experiment_id}/{r.id}/",), r.experiment_id)
        for r in store.runs
    ]
    return RunSet("s3", store.bucket, store.root, "mlflow", runs=[*runs, *extra])


# -- from the environment --------------------------------------------------------------


def test_from_env_takes_http_servers_only() -> None:
    assert TrackingServer.from_env({}) is None
    for uri in (
        "",
        "file:///tmp/mlruns",
        "./mlruns",
        "databricks",
        "databricks://p",
        "sqlite:///x",
    ):
        assert TrackingServer.from_env({"MLFLOW_TRACKING_URI": uri}) is None, uri
    plain = TrackingServer.from_env({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000/"})
    assert plain is not None and (plain.uri, plain.auth) == ("http://127.0.0.1:5000", "none")
    token = TrackingServer.from_env(
        {"MLFLOW_TRACKING_URI": "HTTPS://mlflow.example:8443/p/", "MLFLOW_TRACKING_TOKEN": TOKEN}
    )
    assert token is not None and (token.uri, token.auth) == (
        "https://mlflow.example:8443/p",
        "token",
    )
    basic = TrackingServer.from_env(
        {
            "MLFLOW_TRACKING_URI": "https://mlflow.example",
            "MLFLOW_TRACKING_USERNAME": USER,
            "MLFLOW_TRACKING_PASSWORD": PASSWORD,
            "MLFLOW_TRACKING_INSECURE_TLS": "true",
        }
    )
    assert basic is not None and basic.auth == "basic"
    in_uri = TrackingServer.from_env({"MLFLOW_TRACKING_URI": f"http://{USER}:{PASSWORD}@h:5000"})
    assert in_uri is not None and (in_uri.uri, in_uri.auth) == ("http://h:5000", "basic")
    for server in (token, basic, in_uri):
        assert PASSWORD not in repr(server) and TOKEN not in repr(server)
        assert PASSWORD not in server.uri and TOKEN not in server.uri


# -- FastTrackML: the REST calls -------------------------------------------------------


def test_experiments_and_runs(fasttrackml: TrackedStore) -> None:
    server = TrackingServer(fasttrackml.uri)
    experiments = {e.name: e for e in server.experiments()}
    assert {"Default", "mnist-cnn", "bert-finetune"} <= set(experiments)
    for name, experiment_id in fasttrackml.experiments.items():
        assert experiments[name].id == experiment_id
        assert experiments[name].artifact_location == f"{fasttrackml.artifact_root}/{experiment_id}"
    runs = {r.id: r for r in server.runs(list(fasttrackml.experiments.values()))}
    assert set(runs) == {r.id for r in fasttrackml.runs}
    for written in fasttrackml.runs:
        run = runs[written.id]
        assert (run.name, run.status, run.experiment_id) == (
            written.name,
            written.status,
            written.experiment_id,
        )
        assert run.params == written.params
        assert written.tags.items() <= run.tags.items()
        assert {k: p.value for k, p in run.metrics.items()} == {
            k: _last(v) for k, v in written.metrics.items()
        }
        assert run.artifact_uri == (
            f"{fasttrackml.artifact_root}/{written.experiment_id}/{written.id}/artifacts"
        )
        assert run.start is not None and run.start.tzinfo is not None
        assert (run.end is None) == (written.status == "RUNNING")
        assert run.end is None or run.end >= run.start
        assert run.lifecycle_stage == "active"


def test_paging_follows_page_tokens(fasttrackml: TrackedStore, monkeypatch) -> None:
    """Pages of 2 runs and 1 experiment: the same answers as one page (FastTrackML sends
    a token after a full last page; the empty page after it ends the listing)."""
    server = TrackingServer(fasttrackml.uri)
    whole = sorted(r.id for r in server.runs(list(fasttrackml.experiments.values())))
    experiments = sorted(e.id for e in server.experiments())
    monkeypatch.setattr(tracking, "RUNS_PAGE", 2)
    monkeypatch.setattr(tracking, "EXPERIMENTS_PAGE", 1)
    monkeypatch.setattr(tracking, "EXPERIMENTS_PER_SEARCH", 1)
    assert sorted(r.id for r in server.runs(list(fasttrackml.experiments.values()))) == whole
    assert sorted(e.id for e in server.experiments()) == experiments
    assert len(whole) == len(fasttrackml.runs)


def test_metric_history_has_every_step(fasttrackml: TrackedStore) -> None:
    server = TrackingServer(fasttrackml.uri)
    for name, key in (
        ("baseline", "val_loss"),
        ("bert-base", "eval/loss"),
        ("lr-0.1", "train_loss"),
    ):
        written = fasttrackml.run(name)
        points = server.metric_history(written.id, key)
        assert [[p.step, p.value] for p in points] == written.metrics[key], (name, key)
        assert all(p.time is not None for p in points)
    assert len(server.metric_history(fasttrackml.run("bert-base").id, "eval/loss")) == 120
    assert server.metric_history(fasttrackml.run("baseline").id, "no-such-metric") == []
    with pytest.raises(TrackingError) as caught:
        server.metric_history(UNKNOWN_RUN, "val_loss")
    assert (caught.value.status, caught.value.code) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_fasttrackml_has_no_registry(fasttrackml: TrackedStore) -> None:
    assert fasttrackml.server == FASTTRACKML and not fasttrackml.registry
    server = TrackingServer(fasttrackml.uri)
    assert server.registered_runs() == {}
    assert server.notes == [
        f"tracking server {fasttrackml.uri} is {FASTTRACKML}, which has no model registry: "
        "no run backs a registered model version"
    ]


def test_merge_puts_the_server_on_the_runs(fasttrackml: TrackedStore) -> None:
    stranger = Run(UNKNOWN_RUN, UNKNOWN_RUN[:8], "mlflow", (f"mlflow/1/{UNKNOWN_RUN}/",), "1")
    lightning = Run("version_0", "version_0", "lightning", ("lightning_logs/version_0/",))
    result = _runset(fasttrackml, stranger, lightning)
    server = TrackingServer(fasttrackml.uri)
    server.merge(result)
    assert result.tracking == fasttrackml.uri
    for written in fasttrackml.runs:
        run = result.by_id(written.id)
        assert run is not None
        assert (run.name, run.status, run.params) == (written.name, written.status, written.params)
        assert written.tags.items() <= run.tags.items()
        assert {
            k: [[p.step, p.value] for p in v] for k, v in run.metrics.items()
        } == written.metrics
        assert run.sources == ["tracking server"] and run.protected is None
        assert run.start is not None and (run.end is None) == (written.status == "RUNNING")
    baseline = result.by_id(fasttrackml.run("baseline").id)
    assert baseline is not None and baseline.final("val_accuracy") == 0.91
    assert baseline.best("val_loss") == 0.34 and baseline.tags["pail.keep"] == "true"
    # Runs the server does not know, and other layouts, are left as they were.
    assert (stranger.name, stranger.sources, stranger.params, stranger.status) == (
        UNKNOWN_RUN[:8],
        [],
        {},
        None,
    )
    assert lightning.sources == [] and lightning.name == "version_0"
    assert result.warnings == [
        f"tracking server {fasttrackml.uri}: 1 MLflow run of {len(fasttrackml.runs) + 1} not "
        "known to the server (no name, status, params or metrics from it)"
    ]


def test_merge_skips_a_run_whose_artifacts_are_elsewhere(fasttrackml: TrackedStore) -> None:
    """The same run ids under another prefix (a copy of the artifact root): not the runs
    the server tracks, so nothing of theirs is merged."""
    copies = [
        Run(r.id, r.id[:8], "mlflow", (f"backup/{r.experiment_id}/{r.id}/",), r.experiment_id)
        for r in fasttrackml.runs[:2]
    ]
    result = RunSet("s3", fasttrackml.bucket, "backup/", "mlflow", runs=copies)
    TrackingServer(fasttrackml.uri).merge(result)
    assert result.tracking is None
    assert all(r.sources == [] and r.status is None for r in copies)
    assert len(result.warnings) == 1
    assert result.warnings[0].startswith(
        f"tracking server {fasttrackml.uri}: 2 runs share an id with a tracked run whose "
        f"artifacts are elsewhere ({fasttrackml.artifact_root}/"
    )


def test_merge_bounds_the_histories_read(fasttrackml: TrackedStore, monkeypatch) -> None:
    """Past the per-run metric budget a metric keeps only its last value, and says so."""
    monkeypatch.setattr(tracking, "MAX_HISTORIES_PER_RUN", 1)
    result = _runset(fasttrackml)
    TrackingServer(fasttrackml.uri).merge(result)
    baseline = result.by_id(fasttrackml.run("baseline").id)
    assert baseline is not None
    # Sorted names: train_loss's history is read; val_accuracy and val_loss keep the last.
    assert [len(baseline.metrics[k]) for k in ("train_loss", "val_accuracy", "val_loss")] == [
        5,
        1,
        1,
    ]
    assert baseline.metrics["val_loss"][0].step == 4 and baseline.final("val_loss") == 0.34
    assert result.warnings == [
        f"tracking server {fasttrackml.uri}: 3 runs logged more than 1 metrics; the others "
        "show their last value only"
    ]


def test_detect_runs_with_the_tracking_server(fasttrackml: TrackedStore, moto_server) -> None:
    """End to end: the bucket FastTrackML's client wrote, detected as MLflow runs, with
    names, statuses, params and metric histories from the server."""
    driver = S3Driver(client=s3_client(moto_server))
    server = TrackingServer(fasttrackml.uri)
    result = detect_runs(driver, fasttrackml.bucket, fasttrackml.root, tracking=server)
    assert result.layout == "mlflow" and result.tracking == fasttrackml.uri
    assert sorted(r.id for r in result.runs) == sorted(r.id for r in fasttrackml.runs)
    names = {experiment_id: name for name, experiment_id in fasttrackml.experiments.items()}
    for written in fasttrackml.runs:
        run = result.by_id(written.id)
        assert run is not None
        # the experiment's name from the server, not its id folder
        assert (run.name, run.status, run.experiment) == (
            written.name,
            written.status,
            names[written.experiment_id],
        )
        assert run.params == written.params
        assert {
            k: [[p.step, p.value] for p in v] for k, v in run.metrics.items()
        } == written.metrics
        assert run.objects == len(written.artifacts) and "tracking server" in run.sources
        assert run.groups["artifacts"] == (
            f"{fasttrackml.root}{written.experiment_id}/{written.id}/artifacts/"
        )
    assert result.warnings == []
    newest_first = [r.start for r in result.runs]
    assert newest_first == sorted(newest_first, reverse=True)


def test_the_bucket_comes_back_after_a_moto_reset(fasttrackml: TrackedStore, moto_server) -> None:
    """Another module's ``s3_endpoint`` resets moto; the fixture's bucket then puts the
    objects MLflow's client wrote back, byte for byte."""
    moto_api(moto_server, "reset")
    s3 = s3_client(moto_server)
    listed = s3.list_objects_v2(Bucket=fasttrackml.bucket, Prefix=fasttrackml.root)["Contents"]
    assert sorted(o["Key"] for o in listed) == fasttrackml.keys
    key = fasttrackml.keys[0]
    body = s3.get_object(Bucket=fasttrackml.bucket, Key=key)["Body"].read()
    assert body == fasttrackml.objects[key]
    assert fasttrackml.keys == sorted(
        f"{fasttrackml.root}{r.experiment_id}/{r.id}/artifacts/{path}"
        for r in fasttrackml.runs
        for path in r.artifacts
    )


# -- MLflow's own server: the model registry -------------------------------------------


def test_registered_runs_on_mlflow_server(mlflow_server: TrackedStore) -> None:
    server = TrackingServer(mlflow_server.uri)
    baseline = mlflow_server.run(REGISTERED_RUN)
    assert mlflow_server.registry
    assert server.registered_runs() == {baseline.id: f"model {MODEL} version 1"}
    assert server.notes == []


def test_merge_protects_the_run_behind_a_model_version(mlflow_server: TrackedStore) -> None:
    result = _runset(mlflow_server)
    TrackingServer(mlflow_server.uri).merge(result)
    protected = {r.name: r.protected for r in result.runs if r.protected}
    assert protected == {REGISTERED_RUN: f"backs registered model {MODEL} version 1"}
    assert result.tracking == mlflow_server.uri and result.warnings == []
    bert = result.by_id(mlflow_server.run("bert-base").id)
    assert bert is not None and bert.status == "KILLED" and len(bert.metrics["eval/loss"]) == 120


def test_detect_runs_with_mlflow_server(mlflow_server: TrackedStore, moto_server) -> None:
    driver = S3Driver(client=s3_client(moto_server))
    server = TrackingServer(mlflow_server.uri)
    result = detect_runs(driver, mlflow_server.bucket, mlflow_server.root, tracking=server)
    assert sorted(r.name for r in result.runs) == sorted(r.name for r in mlflow_server.runs)
    assert [r.name for r in result.runs if r.protected] == [REGISTERED_RUN]


# -- credentials and deletion (a FastTrackML of its own, basic auth on) ---------------


@dataclass
class AuthServer:
    uri: str
    experiment_id: str


def _post(uri: str, endpoint: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"{uri}/api/2.0/mlflow/{endpoint}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
        },
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory, moto_server) -> Iterator[AuthServer]:
    """FastTrackML with basic auth (alice / PASSWORD) and one experiment, no runs yet."""
    folder = tmp_path_factory.mktemp("fml-auth")
    uri, proc = start_fasttrackml(
        folder,
        artifact_root="s3://mlflow-artifacts/auth",
        s3_endpoint=moto_server,
        username=USER,
        password=PASSWORD,
    )
    try:
        experiment = _post(uri, "experiments/create", {"name": "deletions"})["experiment_id"]
        yield AuthServer(uri, experiment)
    finally:
        stop(proc)


def _new_run(server: AuthServer) -> str:
    run = _post(server.uri, "runs/create", {"experiment_id": server.experiment_id})
    return run["run"]["info"]["run_id"]


def test_basic_auth_and_delete_run(auth_server: AuthServer, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="pail")
    server = TrackingServer.from_env(
        {
            "MLFLOW_TRACKING_URI": auth_server.uri,
            "MLFLOW_TRACKING_USERNAME": USER,
            "MLFLOW_TRACKING_PASSWORD": PASSWORD,
        }
    )
    assert server is not None
    run_id = _new_run(auth_server)
    assert server.run(run_id).lifecycle_stage == "active"
    server.delete_run(run_id)
    assert server.run(run_id).lifecycle_stage == "deleted"
    assert server.runs([auth_server.experiment_id]) == []  # ACTIVE_ONLY
    assert [r.id for r in server.runs([auth_server.experiment_id], view="DELETED_ONLY")] == [run_id]
    server.delete_run(run_id)  # already deleted: still 200
    # Its artifacts would still be in the bucket: merged, it says it is deleted.
    prefix = f"auth/{auth_server.experiment_id}/{run_id}/"
    run = Run(run_id, run_id[:8], "mlflow", (prefix,), auth_server.experiment_id)
    result = RunSet("s3", "mlflow-artifacts", "auth/", "mlflow", runs=[run])
    server.merge(result)
    assert run.tags["mlflow.lifecycle_stage"] == "deleted" and run.sources == ["tracking server"]
    assert result.warnings == [
        f"tracking server {auth_server.uri}: 1 run deleted in the tracker; the artifacts are "
        "still here"
    ]
    with pytest.raises(TrackingError) as caught:
        server.delete_run(UNKNOWN_RUN)
    assert (caught.value.status, caught.value.code) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert str(caught.value) == (
        f"tracking server {auth_server.uri}: runs/delete failed: HTTP 404 "
        f"RESOURCE_DOES_NOT_EXIST: unable to find run '{UNKNOWN_RUN}'"
    )
    with pytest.raises(ValueError):
        server.delete_run("../../etc")
    assert "marked deleted" in caplog.text
    assert PASSWORD not in caplog.text


def test_wrong_credentials_say_so_without_the_secret(auth_server: AuthServer, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    run_id = _new_run(auth_server)
    wrong = [
        TrackingServer(auth_server.uri, username=USER, password=PASSWORD + "-wrong"),
        TrackingServer(auth_server.uri, token=TOKEN),
        TrackingServer(auth_server.uri.replace("://", f"://{USER}:{TOKEN}@")),
        TrackingServer(auth_server.uri),
    ]
    for server in wrong:
        with pytest.raises(TrackingError) as caught:
            server.delete_run(run_id)
        assert caught.value.status == 401
        assert str(caught.value) == (
            f"tracking server {auth_server.uri}: access denied (HTTP 401); set "
            "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD"
        )
        result = RunSet(
            "s3", "b", "", "mlflow", runs=[Run(run_id, "r", "mlflow", (f"1/{run_id}/",))]
        )
        server.merge(result)
        assert result.warnings == [str(caught.value)] and result.tracking is None
        for text in (str(caught.value), repr(server), *result.warnings, caplog.text):
            assert PASSWORD not in text and TOKEN not in text
            assert base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode() not in text
    right = TrackingServer(auth_server.uri, username=USER, password=PASSWORD)
    assert right.run(run_id).lifecycle_stage == "active"


# -- no server, and servers that misbehave ---------------------------------------------


def test_unreachable_server_is_one_warning(caplog) -> None:
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = TrackingServer(uri, token=TOKEN)
    run = Run(UNKNOWN_RUN, "mine", "mlflow", (f"mlflow/1/{UNKNOWN_RUN}/",), "1", status="X")
    result = RunSet("s3", "b", "mlflow/", "mlflow", runs=[run])
    server.merge(result)
    assert result.warnings == [f"tracking server {uri}: unreachable (connection refused)"]
    assert (run.name, run.status, run.sources, result.tracking) == ("mine", "X", [], None)
    with pytest.raises(TrackingError) as caught:
        server.delete_run(UNKNOWN_RUN)
    assert caught.value.status is None and str(caught.value) == result.warnings[0]
    with pytest.raises(TrackingError):
        server.registered_runs()
    assert TOKEN not in caplog.text


def _json(status: int, doc: dict, **headers: str) -> Reply:
    return Reply(status, json.dumps(doc).encode(), headers, "application/json")


def test_transient_answers_are_retried_a_bounded_number_of_times() -> None:
    ok = _json(200, {"experiments": [{"experiment_id": "7", "name": "e"}]})
    with canned_server([_json(503, {}), _json(429, {}), ok]) as canned:
        assert [e.id for e in TrackingServer(canned.url).experiments()] == ["7"]
        assert canned.count == 3
    busy = _json(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"})
    with canned_server([busy]) as canned:
        with pytest.raises(TrackingError) as caught:
            TrackingServer(canned.url).experiments()
        assert canned.count == 3  # the first try and two retries
    assert str(caught.value) == (
        f"tracking server {canned.url}: experiments/search failed: HTTP 503 "
        "TEMPORARILY_UNAVAILABLE: busy"
    )
    with canned_server(
        [_json(500, {"error_code": "INTERNAL_ERROR", "message": "db\nlocked"})]
    ) as c:
        with pytest.raises(TrackingError) as caught:
            TrackingServer(c.url).experiments()
        assert c.count == 1  # not transient: no retry
    assert str(caught.value).endswith("HTTP 500 INTERNAL_ERROR: db locked")


def test_answers_that_are_not_mlflow_are_errors() -> None:
    cases = [
        (Reply(200, b"<html>login</html>", content_type="text/html"), "not MLflow's JSON"),
        (Reply(302, b"", {"Location": "https://sso.example/?token=abc"}), "answered a redirect"),
        (Reply(404, b"<html>nope</html>", content_type="text/html"), "HTTP 404"),
    ]
    for reply, words in cases:
        with canned_server([reply]) as canned, pytest.raises(TrackingError) as caught:
            TrackingServer(canned.url).runs(["1"])
        assert words in str(caught.value) and "\n" not in str(caught.value)
        assert "sso.example" not in str(caught.value)


def test_a_repeated_page_token_ends_the_listing() -> None:
    page = _json(
        200, {"experiments": [{"experiment_id": "1", "name": "a"}], "next_page_token": "T"}
    )
    with canned_server([page]) as canned:
        assert [e.id for e in TrackingServer(canned.url).experiments()] == ["1", "1"]
        assert canned.count == 2
        assert canned.requests[0] == "POST /api/2.0/mlflow/experiments/search"


def test_registry_404_means_no_registry_and_sources_name_runs() -> None:
    with canned_server([_json(404, {"error_code": "ENDPOINT_NOT_FOUND"})]) as canned:
        server = TrackingServer(canned.url)
        assert server.registered_runs() == {}
        assert server.notes == [f"tracking server {canned.url} has no model registry (HTTP 404)"]
    # A bare 404 is "no registry" only where the tracking API answers; else an error.
    html_404 = Reply(404, b"<html>Not Found</html>", content_type="text/html")
    with canned_server([html_404, _json(200, {"experiments": []})]) as canned:
        assert TrackingServer(canned.url).registered_runs() == {}
        assert canned.count == 2
    with canned_server([html_404]) as canned:
        server = TrackingServer(canned.url)
        with pytest.raises(TrackingError, match="experiments/search failed: HTTP 404"):
            server.registered_runs()
        assert server.notes == []
    run_a, run_b = "a" * 32, "b" * 32
    versions = [
        {"name": "m", "version": "1", "run_id": run_a, "source": f"runs:/{run_a}/model"},
        {"name": "m", "version": "2", "run_id": "", "source": f"runs:/{run_b}/model"},
        {"name": "n", "version": "4", "source": f"s3://b/mlflow/3/{run_a}/artifacts/model"},
        {"name": "o", "version": "1", "source": "s3://b/models/o"},  # no run behind it
    ]
    first = _json(200, {"model_versions": versions[:2], "next_page_token": "p2"})
    second = _json(200, {"model_versions": versions[2:]})
    with canned_server([first, second]) as canned:
        assert TrackingServer(canned.url).registered_runs() == {
            run_a: "model m version 1, model n version 4",
            run_b: "model m version 2",
        }
        assert canned.requests[1].startswith("GET /api/2.0/mlflow/model-versions/search?")
        assert "page_token=p2" in canned.requests[1]


def test_metric_points_from_json() -> None:
    history = {
        "metrics": [
            {"key": "l", "value": "NaN", "timestamp": "1700000000000", "step": "3"},
            {"key": "l", "value": 0.5, "timestamp": 0},
            {"key": "l", "value": "x"},
        ]
    }
    with canned_server([_json(200, history)]) as canned:
        points = TrackingServer(canned.url).metric_history(UNKNOWN_RUN, "l")
    assert points[0].step == 3 and points[0].time is not None and points[0].value != points[0].value
    assert points[1:] == [MetricPoint(0, 0.5, None)]  # MLflow's step defaults to 0


def test_the_support_module_fails_without_the_binary(tmp_path: Path, monkeypatch) -> None:
    import support.fasttrackml as support

    monkeypatch.setattr(support, "FML", tmp_path / "fml")
    with pytest.raises(pytest.fail.Exception, match="run `make test`"):
        start_fasttrackml(tmp_path, artifact_root="s3://b/x", s3_endpoint="http://127.0.0.1:1")
