"""MLflow tracking servers with runs written by MLflow's own client, artifacts in moto's S3.

* ``fasttrackml`` (fixture, session): FastTrackML 0.6.0, the Go server from its PyPI wheel
  (``.venv/bin/fml``, installed by ``make test``), on 127.0.0.1 with a SQLite database in a
  temporary folder and its default artifact root ``s3://`` :data:`BUCKET` ``/mlflow`` on the
  session's moto server. MLflow's client (``mlflow-skinny``, fluent API) then logs the
  experiments and runs of :data:`PLAN` to it: params, metric histories with steps, tags,
  text/dict/file artifacts, runs ended FINISHED, FAILED and KILLED and one left RUNNING.
  The client uploads the artifacts itself (boto3, ``MLFLOW_S3_ENDPOINT_URL``), so the
  bucket holds what the tool writes: ``mlflow/<experiment_id>/<run_id>/artifacts/<path>``.
  FastTrackML has no model registry, so no model version is registered there.
* ``mlflow_server`` (fixture, session): MLflow's own tracking server (``mlflow.server``'s
  Flask app, file store for runs and model registry, run by werkzeug) with the same plan
  logged to it, artifacts in ``s3://`` :data:`BUCKET` ``/mlflow-server``, and one model
  version registered for the run named :data:`REGISTERED_RUN`.

Import the fixtures into a test module: ``from support.fasttrackml import
fasttrackml_fixture  # noqa: F401`` gives the fixture ``fasttrackml`` (importing the name
``fasttrackml`` works too, but ruff then reports F811 on every test taking it). Import
through ``support.`` (the tests folder is on the path), not ``tests.support.``: another
module object would start its own servers. Each server starts once per test session (per
xdist worker) whichever module asks first, and stops at the session's end;
:func:`start_fasttrackml` starts one more of your own (basic auth, a clean database).

MLflow's client runs in one child process for the session (this file with the argument
``child``; commands and answers as JSON lines), in an environment of its own: the test
process never imports mlflow, never gets its global tracking URI or its
``MLFLOW_*``/``AWS_*`` variables. The child imports mlflow once (~3.5 s on an idle
machine); FastTrackML starts in ~0.1 s; each plan is logged in ~1 s.

moto's ``reset`` (the ``s3_endpoint`` fixture) empties every bucket of the session's moto
server; :attr:`TrackedStore.bucket` puts the tool's objects back (the same keys and bytes,
kept when they were written) when a reset took them, so read the bucket name from it in
each test.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

#: The bucket both servers' artifact roots are in.
BUCKET = "mlflow-artifacts"
#: The FastTrackML binary the Makefile installs (``pip install --no-deps FastTrackML==0.6.0``).
FML = Path(sys.executable).parent / "fml"
#: What ``Server:`` FastTrackML answers with.
FASTTRACKML = "FastTrackML/0.6.0"
#: The run that gets a registered model version (model :data:`MODEL`, version 1) where
#: the server has a registry.
REGISTERED_RUN = "baseline"
MODEL = "mnist-classifier"


def _curve(start: float, end: float, steps: int) -> list[list[float]]:
    """``[[step, value], ...]``: a smooth decay (or rise) from ``start`` to ``end``."""
    return [
        [step, round(start + (end - start) * (1 - 0.6 ** (step + 1)) / (1 - 0.6**steps), 6)]
        for step in range(steps)
    ]


#: The runs logged, in order: experiment name, run name, how it ends, params, metric
#: histories (``[[step, value], ...]``), tags, artifacts (path -> text, dict or bytes size).
PLAN: list[dict[str, Any]] = [
    {
        "experiment": "mnist-cnn",
        "name": "baseline",
        "status": "FINISHED",
        "params": {"lr": "0.01", "batch_size": "64", "optimizer": "adam", "epochs": "5"},
        "metrics": {
            "train_loss": _curve(2.1, 0.21, 5),
            "val_loss": _curve(1.9, 0.34, 5),
            "val_accuracy": _curve(0.42, 0.91, 5),
        },
        "tags": {"team": "vision", "pail.keep": "true"},
        "artifacts": {
            "config.yaml": {"model": {"layers": 4, "dropout": 0.1}, "data": "mnist"},
            "notes.txt": "baseline run\n",
            "model/weights.bin": 4096,
        },
    },
    {
        "experiment": "mnist-cnn",
        "name": "lr-0.1",
        "status": "FAILED",
        "params": {"lr": "0.1", "batch_size": "64", "optimizer": "adam", "epochs": "5"},
        "metrics": {"train_loss": [[0, 2.3], [1, 8.7]], "val_loss": [[0, 2.2]]},
        "tags": {"team": "vision"},
        "artifacts": {"train.log": "epoch 1: loss diverged (nan)\n"},
    },
    {
        "experiment": "mnist-cnn",
        "name": "lr-0.001",
        "status": "FINISHED",
        "params": {"lr": "0.001", "batch_size": "128", "optimizer": "sgd", "epochs": "5"},
        "metrics": {
            "train_loss": _curve(2.2, 0.45, 5),
            "val_loss": _curve(2.0, 0.52, 5),
            "val_accuracy": _curve(0.38, 0.84, 5),
        },
        "tags": {"team": "vision"},
        "artifacts": {"config.yaml": {"model": {"layers": 4, "dropout": 0.2}, "data": "mnist"}},
    },
    {
        "experiment": "bert-finetune",
        "name": "bert-base",
        "status": "KILLED",
        "params": {"model": "bert-base-uncased", "lr": "2e-05", "warmup_steps": "100"},
        # A longer history, logged in one batch per 50 steps.
        "metrics": {"eval/loss": [[s * 10, round(1.2 - s * 0.004, 6)] for s in range(120)]},
        "tags": {},
        "artifacts": {"checkpoint-1000/config.json": {"hidden_size": 768}},
    },
    {
        "experiment": "bert-finetune",
        "name": "bert-large",
        "status": "RUNNING",
        "params": {"model": "bert-large-uncased", "lr": "1e-05", "warmup_steps": "100"},
        "metrics": {"eval/loss": [[0, 1.31], [10, 1.27]]},
        "tags": {},
        "artifacts": {"train.log": "step 10\n"},
    },
]


@dataclass(frozen=True)
class WrittenRun:
    """A run as the MLflow client logged it (ids from the server)."""

    id: str
    name: str
    experiment: str
    experiment_id: str
    status: str
    params: dict[str, str]
    metrics: dict[str, list[list[float]]]
    tags: dict[str, str]
    artifacts: list[str]


@dataclass
class TrackedStore:
    """A running tracking server and what was logged to it.

    Attributes:
        uri: ``http://127.0.0.1:P`` (MLFLOW_TRACKING_URI).
        endpoint: the moto server's URL. root: key prefix of the artifact root
            (``"mlflow/"``); artifact_root: ``s3://mlflow-artifacts/mlflow``.
        experiments: name -> experiment id. runs: in logging order.
        registry: whether the server has a model registry; registered: run id ->
            ``"model NAME version N"`` registered there.
        keys: every object key the client wrote, sorted.
        server: the ``Server`` header it answers with.
    """

    uri: str
    endpoint: str
    root: str
    experiments: dict[str, str]
    runs: list[WrittenRun]
    registry: bool
    registered: dict[str, str]
    server: str = ""
    objects: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def artifact_root(self) -> str:
        return f"s3://{BUCKET}/{self.root.rstrip('/')}"

    @property
    def keys(self) -> list[str]:
        return sorted(self.objects)

    @property
    def bucket(self) -> str:
        """:data:`BUCKET`, its objects put back first if a moto reset took them (same
        keys and bytes; the last-modified times become now)."""
        from support.servers import moto_backend, seed_keys

        backend = moto_backend()
        present = backend.buckets.get(BUCKET)
        missing = {
            k: v for k, v in self.objects.items() if present is None or k not in present.keys
        }
        if missing:
            seed_keys(BUCKET, missing)
        return BUCKET

    def run(self, name: str) -> WrittenRun:
        """The run logged as ``name``."""
        return next(r for r in self.runs if r.name == name)


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="session", name="fasttrackml")
def fasttrackml_fixture(request: pytest.FixtureRequest, moto_server: str) -> TrackedStore:
    """FastTrackML with :data:`PLAN` logged to it (see the module docstring). Fails, not
    skips, when the ``fml`` binary is missing: ``make test`` installs it."""
    return _shared(
        request, "fasttrackml", lambda folder: _start_fasttrackml(request, folder, moto_server)
    )


@pytest.fixture(scope="session", name="mlflow_server")
def mlflow_server_fixture(request: pytest.FixtureRequest, moto_server: str) -> TrackedStore:
    """MLflow's own tracking server with :data:`PLAN` logged to it and model
    :data:`MODEL` version 1 registered from run :data:`REGISTERED_RUN`."""
    return _shared(request, "mlflow", lambda folder: _start_mlflow(request, folder, moto_server))


# The fixtures under their own names too (``from support.fasttrackml import fasttrackml``);
# importing the ``*_fixture`` names instead spares a test module ruff's F811 on every test
# that takes the fixture as an argument.
fasttrackml = fasttrackml_fixture
mlflow_server = mlflow_server_fixture

_LOCK = threading.RLock()


def _started(request: pytest.FixtureRequest) -> dict[str, Any]:
    """What this session started (servers by name, ``"child"``), kept on the session's
    config: shared even by a second copy of this module (imported under another name)."""
    return request.config.__dict__.setdefault("_pail_tracking_servers", {})


def _shared(request: pytest.FixtureRequest, name: str, start: Any) -> TrackedStore:
    """One server per session even when several modules import the fixture (pytest makes
    each importing module its own fixture definition): kept here, stopped by the
    session's config cleanup."""
    with _LOCK:
        started = _started(request)
        found = started.get(name)
        if found is None:
            folder = request.getfixturevalue("tmp_path_factory").mktemp(name)
            found, stop = start(folder)
            started[name] = found

            def cleanup() -> None:
                started.pop(name, None)
                stop()

            request.config.add_cleanup(cleanup)
        return found


def start_fasttrackml(
    folder: Path,
    *,
    artifact_root: str,
    s3_endpoint: str,
    username: str | None = None,
    password: str | None = None,
) -> tuple[str, subprocess.Popen[bytes]]:
    """Start ``fml server`` on a free loopback port with ``folder/fasttrackml.db``;
    basic auth when ``username``/``password`` are given. Returns its URI and process once
    ``/health`` answers 200 (stop it with :func:`stop`).

    Raises:
        pytest.fail.Exception: the binary is missing or the server did not start.
    """
    from support.servers import free_port

    if not FML.exists():
        pytest.fail(
            f"{FML} is missing: run `make test`, which installs FastTrackML 0.6.0 "
            "(pip install --no-deps FastTrackML==0.6.0)",
            pytrace=False,
        )
    port = free_port()
    args = [str(FML), "server", "--listen-address", f"127.0.0.1:{port}", "--log-level", "warn"]
    args += ["--database-uri", f"sqlite://{folder / 'fasttrackml.db'}"]
    args += ["--default-artifact-root", artifact_root, "--s3-endpoint-uri", s3_endpoint]
    if username is not None:
        args += ["--auth-username", username, "--auth-password", password or ""]
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    log = (folder / f"fml-{port}.log").open("wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder)
    log.close()
    uri = f"http://127.0.0.1:{port}"
    health = urllib.request.Request(uri + "/health")
    if username is not None:  # with auth on, /health asks for it too
        pair = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
        health.add_header("Authorization", f"Basic {pair}")
    deadline = time.monotonic() + 20
    while True:
        if proc.poll() is not None:
            text = (folder / f"fml-{port}.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"fml server exited with {proc.returncode}:\n{text}", pytrace=False)
        try:
            with urllib.request.urlopen(health, timeout=1) as reply:
                if reply.status == 200:
                    return uri, proc
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            stop(proc)
            pytest.fail("fml server did not answer /health within 20 s", pytrace=False)
        time.sleep(0.02)


def stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate a server process (kill it after 10 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _start_fasttrackml(
    request: pytest.FixtureRequest, folder: Path, endpoint: str
) -> tuple[TrackedStore, Any]:
    _ensure_bucket()
    root = "mlflow/"
    uri, proc = start_fasttrackml(
        folder, artifact_root=f"s3://{BUCKET}/{root.rstrip('/')}", s3_endpoint=endpoint
    )
    try:
        written = _client(request, endpoint).ask("write", uri)
        store = _store(uri, endpoint, root, written)
        store.server = _server_header(uri)
    except BaseException:
        stop(proc)
        raise
    return store, lambda: stop(proc)


def _start_mlflow(
    request: pytest.FixtureRequest, folder: Path, endpoint: str
) -> tuple[TrackedStore, Any]:
    _ensure_bucket()
    root = "mlflow-server/"
    answer = _client(request, endpoint).ask(
        "serve-mlflow", str(folder), f"s3://{BUCKET}/{root.rstrip('/')}"
    )
    store = _store(answer["uri"], endpoint, root, answer["written"])
    return store, lambda: None  # it lives in the client process, which ends last


class _MlflowChild:
    """The child process where MLflow's client (and MLflow's server) run, started once:
    mlflow is imported once for both fixtures. Commands go as JSON lines on its stdin,
    answers come back the same way; closing stdin ends it."""

    def __init__(self, endpoint: str, folder: Path) -> None:
        self.log = folder / "mlflow-child.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, __file__, "child"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                env=_child_env(endpoint),
            )

    def ask(self, *command: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write((json.dumps(command) + "\n").encode())
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except OSError:
            line = b""
        answer = json.loads(line) if line else {"error": "the process ended"}
        if "error" in answer:
            tail = self.log.read_text(errors="replace")[-3000:]
            pytest.fail(f"MLflow's client failed at {command[0]}: {answer['error']}\n{tail}")
        return answer["ok"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            stop(self.proc)


def _client(request: pytest.FixtureRequest, endpoint: str) -> _MlflowChild:
    with _LOCK:
        started = _started(request)
        child = started.get("child")
        if child is None:
            folder = request.getfixturevalue("tmp_path_factory").mktemp("mlflow-client")
            child = _MlflowChild(endpoint, folder)
            started["child"] = child

            def cleanup() -> None:
                started.pop("child", None)
                child.close()

            # Cleanups run last-registered first: registered before any server's, so the
            # child (holding MLflow's server) ends after the servers.
            request.config.add_cleanup(cleanup)
        return child


def _ensure_bucket() -> None:
    from support.servers import moto_backend

    backend = moto_backend()
    if BUCKET not in backend.buckets:
        backend.create_bucket(BUCKET, "us-east-1")


def _child_env(endpoint: str) -> dict[str, str]:
    """The child's environment: the test process's, minus any MLFLOW_/AWS_ variable, plus
    what MLflow's client and boto3 need to reach moto."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "AWS_"))}
    env.update(
        MLFLOW_S3_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
        GIT_PYTHON_REFRESH="quiet",
    )
    return env


def _store(uri: str, endpoint: str, root: str, written: dict[str, Any]) -> TrackedStore:
    from support.servers import s3_client

    s3 = s3_client(endpoint)
    objects = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=root):
        for item in page.get("Contents", []):
            objects[item["Key"]] = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
    return TrackedStore(
        uri=uri,
        endpoint=endpoint,
        root=root,
        experiments=written["experiments"],
        runs=[WrittenRun(**run) for run in written["runs"]],
        registry=written["registry"],
        registered=written["registered"],
        objects=objects,
    )


def _server_header(uri: str) -> str:
    with urllib.request.urlopen(uri + "/health", timeout=5) as reply:
        return str(reply.headers.get("Server") or "")


# -- the child process: MLflow's client (and MLflow's server) -------------------------------


def write_plan(uri: str) -> dict[str, Any]:
    """Log :data:`PLAN` to the server at ``uri`` with MLflow's fluent API; register
    :data:`MODEL` from :data:`REGISTERED_RUN` where the server has a registry. Returns
    what was written (JSON-able). Runs in the child process only."""
    import mlflow
    from mlflow import MlflowClient

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri, uri)
    experiments: dict[str, str] = {}
    runs = []
    scratch = Path(tempfile.mkdtemp(prefix="pail-mlflow-files-"))
    try:
        runs = _write_runs(mlflow, client, scratch, experiments)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    registry, registered = True, {}
    chosen = next(r for r in runs if r["name"] == REGISTERED_RUN)
    try:
        client.create_registered_model(MODEL)
    except Exception:  # FastTrackML: 404 ENDPOINT_NOT_FOUND
        registry = False
    if registry:
        version = client.create_model_version(
            MODEL, f"runs:/{chosen['id']}/model", chosen["id"], await_creation_for=0
        )
        registered[chosen["id"]] = f"model {MODEL} version {version.version}"
    return {
        "experiments": experiments,
        "runs": runs,
        "registry": registry,
        "registered": registered,
    }


def _write_runs(
    mlflow: Any, client: Any, scratch: Path, experiments: dict[str, str]
) -> list[dict[str, Any]]:
    """Log :data:`PLAN`; fill ``experiments`` (name -> id); the runs as JSON-able dicts."""
    runs = []
    for spec in PLAN:
        experiment = mlflow.set_experiment(spec["experiment"])
        experiments[spec["experiment"]] = experiment.experiment_id
        if spec["status"] == "RUNNING":
            # Never ended: made through MlflowClient, so no fluent run is left open (the
            # fluent API ends an open run at exit).
            run_id = client.create_run(experiment.experiment_id, run_name=spec["name"]).info.run_id
            _log_client(client, run_id, spec, scratch / run_id)
        else:
            run_id = mlflow.start_run(run_name=spec["name"]).info.run_id
            _log_fluent(mlflow, spec, scratch / run_id)
            mlflow.end_run(status=spec["status"])
        runs.append(
            {
                "id": run_id,
                "name": spec["name"],
                "experiment": spec["experiment"],
                "experiment_id": experiment.experiment_id,
                "status": spec["status"],
                "params": spec["params"],
                "metrics": spec["metrics"],
                "tags": spec["tags"],
                "artifacts": sorted(spec["artifacts"]),
            }
        )
    return runs


def _log_fluent(mlflow: Any, spec: dict[str, Any], scratch: Path) -> None:
    """Log ``spec`` to the active run the way training scripts do (fluent API)."""
    from mlflow.entities import Metric

    mlflow.log_params(spec["params"])
    for key, points in spec["metrics"].items():
        if len(points) > 20:  # a long history goes in batches, as autologging does
            now = int(time.time() * 1000)
            client, run_id = mlflow.MlflowClient(), mlflow.active_run().info.run_id
            for at in range(0, len(points), 50):
                batch = [Metric(key, v, now + int(s), int(s)) for s, v in points[at : at + 50]]
                client.log_batch(run_id, metrics=batch)
        else:
            for step, value in points:
                mlflow.log_metric(key, value, step=int(step))
    if spec["tags"]:
        mlflow.set_tags(spec["tags"])
    for path, body in spec["artifacts"].items():
        if isinstance(body, dict):
            mlflow.log_dict(body, path)
        elif isinstance(body, str):
            mlflow.log_text(body, path)
        else:
            mlflow.log_artifact(
                str(_local_file(scratch, path, body)), os.path.dirname(path) or None
            )


def _log_client(client: Any, run_id: str, spec: dict[str, Any], scratch: Path) -> None:
    """Log ``spec`` to run ``run_id`` through ``MlflowClient`` (a run no script ended)."""
    for key, value in spec["params"].items():
        client.log_param(run_id, key, value)
    for key, points in spec["metrics"].items():
        for step, value in points:
            client.log_metric(run_id, key, value, step=int(step))
    for key, value in spec["tags"].items():
        client.set_tag(run_id, key, value)
    for path, body in spec["artifacts"].items():
        if isinstance(body, dict):
            client.log_dict(run_id, body, path)
        elif isinstance(body, str):
            client.log_text(run_id, body, path)
        else:
            local = _local_file(scratch, path, body)
            client.log_artifact(run_id, str(local), os.path.dirname(path) or None)


def _local_file(scratch: Path, path: str, size: int) -> Path:
    local = scratch / path
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_bytes(bytes(range(256)) * (size // 256))
    return local


def _serve_mlflow(folder: str, artifact_root: str) -> dict[str, Any]:
    """Start MLflow's tracking server in this (child) process: its Flask app on a free
    port (werkzeug, a thread), file store for runs and registry, artifact root
    ``artifact_root`` (set through mlflow-skinny 2.22's private ``_MLFLOW_SERVER_*``
    settings, as ``mlflow server`` does); log the plan to it. Returns ``{"uri", "written"}``."""
    store = Path(folder, "mlruns").as_uri()
    os.environ.update(
        _MLFLOW_SERVER_FILE_STORE=store,
        _MLFLOW_SERVER_REGISTRY_STORE=store,
        _MLFLOW_SERVER_ARTIFACT_ROOT=artifact_root,
        _MLFLOW_SERVER_SERVE_ARTIFACTS="false",
    )
    import logging

    from mlflow.server import app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_port}"
    # The server's first request of each store sets this process's tracking and registry
    # URIs to its file store: make those requests before the client sets its URI.
    for path in ("experiments/search?max_results=1", "registered-models/search?max_results=1"):
        with urllib.request.urlopen(f"{uri}/api/2.0/mlflow/{path}", timeout=30):
            pass
    return {"uri": uri, "written": write_plan(uri)}


def _child_main() -> None:
    """Answer the test process's commands (JSON lines) until stdin closes. Whatever
    mlflow prints goes to stderr (the log file); stdout carries the answers only."""
    import traceback

    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    import mlflow  # noqa: F401  (imported once, before the first command)

    commands = {"write": write_plan, "serve-mlflow": _serve_mlflow}
    for line in sys.stdin:
        name, *args = json.loads(line)
        try:
            answer = {"ok": commands[name](*args)}
        except Exception as exc:
            traceback.print_exc()
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__" and sys.argv[1:] == ["child"]:
    _child_main()
