"""``pail runs``: the runs of a local folder (Lightning's CSVLogger versions, written as
Lightning writes them) and of S3 (moto: an MLflow file store, and the demo store); the
table, the summary, sorting, ``--params``/``-m``, ``--json`` and the exit statuses."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from pail.core.units import size_text
from pail.demo.seed import seed_local_folder, seed_store
from support.cli import run, s3_args
from support.fasttrackml import (
    TrackedStore,
    fasttrackml_fixture,  # noqa: F401  (the fixture "fasttrackml")
)
from support.pty import run_on_pty
from support.run_layouts import T0, lightning_rows, lightning_version, write_folder
from support.servers import moto_backend, seed_keys

#: Three Lightning versions: (lr, seed of the curves, hours after T0). version_2 is the
#: newest, version_1 has the lowest final val_loss (0.45 + seed).
VERSIONS = {
    "version_0": ("0.001", 0.1, 0),
    "version_1": ("0.0003", 0.0, 2),
    "version_2": ("0.01", 0.3, 5),
}


@pytest.fixture
def logs(tmp_path) -> Path:
    """``<tmp>/logs/lightning_logs/version_{0,1,2}/`` (hparams.yaml, metrics.csv, one
    checkpoint each) and a README beside them; version N written N hours apart."""
    files: dict[str, bytes] = {}
    times = {}
    for name, (lr, seed, hours) in VERSIONS.items():
        folder = f"lightning_logs/{name}/"
        files |= lightning_version(
            folder,
            hparams={"lr": float(lr), "batch_size": 32, "optimizer": "adam"},
            rows=lightning_rows(seed=seed),
            checkpoints=[(1, 7)],
        )
        times[folder] = T0 + timedelta(hours=hours)
    files["README.md"] = b"# experiments\n"
    root = tmp_path / "logs"
    write_folder(root, files, times)
    return root


def _rows(out: str) -> list[list[str]]:
    """The table's rows (split on whitespace), header first, up to the blank line."""
    table = out.split("\n\n", 1)[0]
    return [line.split() for line in table.splitlines()]


def test_table_newest_first_with_each_metrics_final_value_and_a_summary(logs):
    result = run(["runs", str(logs)])
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows[0] == [
        "NAME", "EXPERIMENT", "START", "(UTC)", "DURATION", "OBJECTS", "SIZE", "STATUS",
        "train_loss", "val_acc", "val_loss",
    ]  # fmt: skip
    assert [r[0] for r in rows[1:]] == ["version_2", "version_1", "version_0"]
    newest = rows[1]
    assert newest[2] == (T0 + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert newest[4] == "3"  # hparams.yaml, metrics.csv, one checkpoint
    assert newest[6] == "-"  # Lightning records no status
    # final values: val_loss 0.9/2 + seed, val_acc 0.7 - seed, train_loss 1/9 + seed
    assert newest[-3:] == ["0.411111", "0.4", "0.75"]
    summary = result.stdout.split("\n\n", 1)[1].splitlines()
    assert summary[0].startswith("3 runs (PyTorch Lightning): ")
    assert summary[1] == "10 objects examined; 1 object in no run"


def test_sort_by_a_metric_is_best_first_and_reverse_flips_it(logs):
    by_loss = run(["runs", "--sort", "val_loss", str(logs)])
    assert by_loss.exit_code == 0, by_loss.stderr
    assert [r[0] for r in _rows(by_loss.stdout)[1:]] == ["version_1", "version_0", "version_2"]
    by_acc = run(["runs", "--sort", "metric:val_acc", str(logs)])  # higher is better
    assert [r[0] for r in _rows(by_acc.stdout)[1:]] == ["version_1", "version_0", "version_2"]
    worst = run(["runs", "--sort", "val_loss", "-r", str(logs)])
    assert [r[0] for r in _rows(worst.stdout)[1:]] == ["version_2", "version_0", "version_1"]


def test_sort_by_a_param_reads_numbers_and_by_name(logs):
    by_lr = run(["runs", "--sort", "lr", str(logs)])
    assert by_lr.exit_code == 0, by_lr.stderr
    # 0.0003 < 0.001 < 0.01 as numbers (as text "0.0003" < "0.001" < "0.01" too, so -r)
    assert [r[0] for r in _rows(by_lr.stdout)[1:]] == ["version_1", "version_0", "version_2"]
    by_name = run(["runs", "--sort", "name", "-r", str(logs)])
    assert [r[0] for r in _rows(by_name.stdout)[1:]] == ["version_2", "version_1", "version_0"]
    oldest = run(["runs", "--sort", "start", "-r", str(logs)])
    assert [r[0] for r in _rows(oldest.stdout)[1:]] == ["version_0", "version_1", "version_2"]


def test_params_that_differ_become_columns_and_the_rest_one_line(logs):
    result = run(["runs", "--params", "-m", "val_loss", str(logs)])
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows[0][-2:] == ["lr", "val_loss"]  # only lr differs; only val_loss asked for
    assert rows[1][-2:] == ["0.01", "0.75"]
    assert "the same in every run: batch_size=32, optimizer=adam" in result.stdout


def test_unknown_sort_field_or_metric_exits_2_naming_what_there_is(logs):
    result = run(["runs", "--sort", "accuracy", str(logs)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "--sort 'accuracy': no such field" in result.stderr
    assert "metrics: train_loss, val_acc, val_loss" in result.stderr
    assert "params: batch_size, lr, optimizer" in result.stderr
    missing = run(["runs", "-m", "bleu", str(logs)])
    assert missing.exit_code == 2 and "--metric 'bleu': no run logged it" in missing.stderr


def test_json_is_the_whole_run_set(logs):
    result = run(["runs", "--json", "--sort", "val_loss", str(logs)])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["uri"] == f"file://{logs}/"
    assert doc["layout"] == "lightning" and doc["layouts"] == ["lightning"]
    assert (doc["examined"], doc["loose"], doc["warnings"]) == (10, 1, [])
    assert doc["sort"] == {"field": "metric:val_loss", "descending": False}
    assert [r["id"] for r in doc["runs"]] == ["version_1", "version_0", "version_2"]
    best = doc["runs"][0]
    assert best["uri"] == f"file://{logs}/lightning_logs/version_1/"
    assert best["params"] == {"batch_size": "32", "lr": "0.0003", "optimizer": "adam"}
    assert best["start"] == (T0 + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert best["objects"] == 3 and best["bytes"] > 0 and best["status"] is None
    val = best["metrics"]["val_loss"]
    assert val == {"final": 0.45, "best": 0.45, "mode": "min", "points": 2, "last_step": 7}
    assert best["metrics"]["val_acc"]["mode"] == "max"
    assert "history" not in val
    full = json.loads(run(["runs", "--json", "--history", str(logs)]).stdout)
    points = full["runs"][1]["metrics"]["val_loss"]["history"]  # version_1, second newest
    assert [(p["step"], p["value"]) for p in points] == [(3, 0.9), (7, 0.45)]


def test_a_folder_without_runs_exits_2_and_a_missing_one_3(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_bytes(b"x,y\n1,2\n")
    result = run(["runs", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"pail: error: no runs found under file://{tmp_path}/data/")
    assert run(["runs", "--json", str(tmp_path / "data")]).exit_code == 2
    gone = run(["runs", str(tmp_path / "nope")])
    assert gone.exit_code == 3 and "no such folder" in gone.stderr


# --- S3 -----------------------------------------------------------------------------------

STATUSES = {"FINISHED", "FAILED", "KILLED", "RUNNING", "SCHEDULED"}
RUN_A = "0123456789abcdef0123456789abcdef"
RUN_B = "fedcba9876543210fedcba9876543210"


def _mlflow_run(run_id: str, name: str, status: int, start_ms: int, loss: list[float]) -> dict:
    """One run of MLflow's file store under ``mlruns/1/`` (the bytes FileStore writes)."""
    prefix = f"mlruns/1/{run_id}/"
    meta = {"artifact_uri": f"s3://bkt/{prefix}artifacts", "end_time": start_ms + 600_000,
            "entry_point_name": "", "experiment_id": "1", "lifecycle_stage": "active",
            "run_id": run_id, "run_name": name, "run_uuid": run_id, "source_name": "",
            "source_type": 4, "source_version": "", "start_time": start_ms,
            "status": status, "tags": [], "user_id": "ana"}  # fmt: skip
    lines = "".join(f"{start_ms + i * 1000} {v} {i}\n" for i, v in enumerate(loss))
    return {
        f"{prefix}meta.yaml": yaml.safe_dump(meta).encode(),
        f"{prefix}params/lr": b"0.001" if status == 3 else b"0.1",
        f"{prefix}metrics/val_loss": lines.encode(),
        f"{prefix}tags/mlflow.runName": name.encode(),
        f"{prefix}artifacts/model.bin": bytes(2048 if status == 3 else 10),
    }


def test_mlflow_runs_in_s3_with_status_experiment_and_human_sizes(s3_endpoint, bucket_name):
    start = 1767225600000  # 2026-01-01T00:00:00Z
    good = _mlflow_run(RUN_A, "good-owl-1", 3, start, [1.0, 0.5, 0.4])
    seed_keys(
        bucket_name,
        {
            **good,
            **_mlflow_run(RUN_B, "bad-fox-2", 4, start + 3_600_000, [1.0, 9.5]),
            "mlruns/1/meta.yaml": yaml.safe_dump({"experiment_id": "1", "name": "exp"}).encode(),
        },
    )
    size = size_text(sum(len(body) for body in good.values()), True).split()
    uri = f"s3://{bucket_name}/mlruns/"
    result = run(["runs", "-h", "--sort", "size", *s3_args(s3_endpoint), uri])
    assert result.exit_code == 0, result.stderr
    rows = _rows(result.stdout)
    assert rows[1][:3] == ["good-owl-1", "exp", "2026-01-01T00:00:00Z"]
    assert rows[1][3:] == ["10m", "00s", "5", *size, "FINISHED", "0.4"]
    assert size[1] == "KiB"
    assert rows[2][0] == "bad-fox-2" and rows[2][-2:] == ["FAILED", "9.5"]
    assert "2 runs (MLflow / FastTrackML): " in result.stdout
    assert "1 object in no run" in result.stdout  # the experiment's meta.yaml
    by_status = run(["runs", "--sort", "status", *s3_args(s3_endpoint), uri])
    assert [r[0] for r in _rows(by_status.stdout)[1:]] == ["bad-fox-2", "good-owl-1"]
    elsewhere = run(["runs", *s3_args(s3_endpoint), f"s3://{bucket_name}/other/"])
    assert elsewhere.exit_code == 2
    assert f"no runs found under s3://{bucket_name}/other/" in elsewhere.stderr


def test_the_demo_stores_mlflow_runs(s3_endpoint):
    seed_store(
        moto_backend(), random.Random(7), T0, large_prefix_keys=10, large_object_bytes=1 << 10
    )
    result = run(["runs", "--json", *s3_args(s3_endpoint), "s3://ml-artifacts/mlflow/"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    runs = doc["runs"]
    assert doc["layout"] == "mlflow" and len(runs) == 11 and doc["warnings"] == []
    assert doc["loose"] == 4  # the experiments' meta.yaml, Default's among them
    experiments = {r["experiment"] for r in runs}
    assert experiments == {"resnet50-imagenet", "vit-small-cifar100", "llama3-8b-lora-support"}
    assert sorted(r["status"] for r in runs).count("FAILED") == 1
    assert [r["tags"].get("pail.keep") for r in runs].count("true") == 1
    for r in runs:
        assert {"loss", "val_loss", "accuracy", "learning_rate"} <= set(r["metrics"])
        assert r["metrics"]["loss"]["points"] > 100  # a value every step
        schedule = r["metrics"]["learning_rate"]  # no better direction: no best value
        assert schedule["mode"] is None and schedule["best"] is None
        assert {"learning_rate", "batch_size", "model"} <= set(r["params"])
    assert len({(r["params"]["learning_rate"], r["params"]["batch_size"]) for r in runs}) > 5
    finished = [r for r in runs if r["status"] == "FINISHED"]
    # the validation loss turns up late in some runs: its best is not its final value
    assert any(
        r["metrics"]["val_loss"]["best"] < r["metrics"]["val_loss"]["final"] for r in finished
    )
    # "keep the best 3 by val_loss and the last 2" has a run to delete in experiments 1 and 2:
    # the worst is neither among the best 3 nor among the 2 newest (runs are newest first)
    for name in ("resnet50-imagenet", "vit-small-cifar100"):
        members = [r for r in runs if r["experiment"] == name]
        worst = max(members, key=lambda r: r["metrics"]["val_loss"]["best"])
        assert len(members) == 4 and worst not in members[:2], name


def test_on_a_terminal_the_listing_count_is_drawn_then_erased(logs):
    status, out = run_on_pty(["runs", str(logs)], {}, term="xterm")
    assert status == 0, out
    assert "finding runs: " in out and " listed" in out
    left = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out[out.rfind("\x1b[2K") :])
    assert "finding runs" not in left and "version_2" in left and "3 runs" in left


def test_every_layout_of_the_demo_has_runs(s3_endpoint, tmp_path):
    rng = random.Random(7)
    seed_store(moto_backend(), rng, T0, large_prefix_keys=10, large_object_bytes=1 << 10)
    seed_local_folder(str(tmp_path), rng, T0)

    def runs(uri: str, *flags: str) -> dict:
        result = run(["runs", "--json", *flags, uri])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    zenml = runs("s3://ml-artifacts/zenml/", *s3_args(s3_endpoint))
    assert zenml["layout"] == "zenml" and len(zenml["runs"]) == 4  # pipeline runs days apart
    modelkit = runs("s3://team-models/modelkit/assets/", *s3_args(s3_endpoint))
    assert modelkit["layout"] == "modelkit"
    assert sorted(r["name"] for r in modelkit["runs"]) == [
        "sentiment-classifier 0.0", "sentiment-classifier 0.1", "sentiment-classifier 0.2",
        "sentiment-classifier 0.3", "tokenizer 0.0", "tokenizer 1.0", "tokenizer 1.1",
    ]  # fmt: skip
    lightning = runs(str(tmp_path / "lightning-logs"))
    assert lightning["layout"] == "lightning" and len(lightning["runs"]) == 5
    assert len({(r["params"]["lr"], r["params"]["batch_size"]) for r in lightning["runs"]}) == 4
    for r in lightning["runs"]:
        assert {"train_loss", "val_loss", "val_acc"} <= set(r["metrics"])
        assert r["metrics"]["train_loss"]["points"] >= 8  # every 50 steps
    hf = runs(str(tmp_path / "hf-trainer"), "--sort", "eval_loss")
    assert hf["layout"] == "hf-trainer"
    # the lowest eval_loss is the checkpoint the Trainer kept as its best: protected
    best = hf["runs"][0]
    assert best["protected"] and best["name"] == "checkpoint-750"
    assert all(r["metrics"]["loss"]["points"] >= 10 for r in hf["runs"])


def test_a_tracking_server_names_the_runs_and_gives_their_status(fasttrackml: TrackedStore):
    """MLFLOW_TRACKING_URI set: the artifact folders in S3 (which hold no params, metrics
    or statuses) get the server's run names, statuses, params and metrics."""
    uri = f"s3://{fasttrackml.bucket}/{fasttrackml.root}"
    env = {"MLFLOW_TRACKING_URI": fasttrackml.uri}
    args = ["runs", "--sort", "name", *s3_args(fasttrackml.endpoint), uri]
    result = run(args, env=env)
    assert result.exit_code == 0, result.stderr
    rows = {r[0]: r for r in _rows(result.stdout)[1:]}
    assert set(rows) == {r.name for r in fasttrackml.runs}
    statuses = {name: next(c for c in row if c in STATUSES) for name, row in rows.items()}
    assert statuses == {r.name: r.status for r in fasttrackml.runs}
    assert f"tracking server: {fasttrackml.uri}" in result.stdout
    doc = json.loads(run([*args[:-1], "--json", uri], env=env).stdout)
    baseline = next(r for r in doc["runs"] if r["name"] == "baseline")
    assert baseline["params"]["lr"] == "0.01" and baseline["tags"]["pail.keep"] == "true"
    assert baseline["metrics"]["val_accuracy"]["points"] == 5
    alone = run(args, env={"MLFLOW_TRACKING_URI": None})
    assert alone.exit_code == 0, alone.stderr
    assert "tracking server: " not in alone.stdout  # run ids only, no statuses
    assert not {"FINISHED", "FAILED", "KILLED", "RUNNING"} & set(alone.stdout.split())
