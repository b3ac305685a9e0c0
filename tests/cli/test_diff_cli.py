"""``pail diff``: two run folders, or a location and two run ids or names, in a local folder
and in S3 (moto); sections, ``--json``, ``-h``, ``--all`` and the exit statuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from support.cli import run, s3_args
from support.fasttrackml import (
    TrackedStore,
    fasttrackml_fixture,  # noqa: F401  (the fixture "fasttrackml")
)
from support.servers import seed_keys
from support.stores import safetensors

RUN_A = "0123456789abcdef0123456789abcdef"
RUN_B = "fedcba9876543210fedcba9876543210"


def _file_store_run(run_id: str, name: str, lr: str, loss: list[float], width: int):
    """One run of MLflow's file store under ``mlruns/1/``: meta.yaml, a param, a metric,
    a config and a checkpoint (key -> bytes)."""
    prefix = f"mlruns/1/{run_id}/"
    meta = {"run_id": run_id, "run_name": name, "status": 3, "start_time": 1767225600000,
            "end_time": 1767229200000, "experiment_id": "1"}  # fmt: skip
    lines = "".join(f"{1767225600000 + i} {v} {i}\n" for i, v in enumerate(loss))
    return {
        f"{prefix}meta.yaml": yaml.safe_dump(meta).encode(),
        f"{prefix}params/lr": lr.encode(),
        f"{prefix}metrics/val_loss": lines.encode(),
        f"{prefix}artifacts/config.json": json.dumps({"lr": float(lr), "depth": 4}).encode(),
        f"{prefix}artifacts/model.safetensors": safetensors({"w": ("F32", [4, width])}),
        f"{prefix}artifacts/tokenizer.txt": b"same in both",
    }


def _store() -> dict[str, bytes]:
    return {
        **_file_store_run(RUN_A, "small", "0.001", [1.0, 0.6], 4),
        **_file_store_run(RUN_B, "big", "0.01", [0.9, 0.5], 8),
        "mlruns/1/meta.yaml": yaml.safe_dump({"name": "exp", "experiment_id": "1"}).encode(),
    }


def _squeezed(text: str) -> str:
    """Each line's words joined by one space (columns are padded to their widest cell)."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    """The store as a local folder, the current directory."""
    for key, data in _store().items():
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_two_run_folders(folder):
    result = run(["diff", f"mlruns/1/{RUN_A}/", f"./mlruns/1/{RUN_B}"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert f"a: file://{folder}/mlruns/1/{RUN_A}/  (small, MLflow / FastTrackML" in out
    assert (
        "Params (1 changed, 0 added in b, 0 removed in b, 0 the same)\n  ~ lr  0.001 -> 0.01" in out
    )
    (row,) = [line for line in out.splitlines() if line.lstrip().startswith("val_loss")]
    assert row.split() == ["val_loss", "min", "0.6", "0.5", "-0.1", "0.6", "0.5", "-0.1", "yes"]
    assert "  ~ artifacts/model.safetensors  " in out  # sizes differ
    assert "(1 identical file not listed; --all lists them)" in out
    assert "  artifacts/model.safetensors (safetensors;" in out
    assert "    ~ w  F32 [4, 4] -> F32 [4, 8]" in out
    assert "  artifacts/config.json (1 changed" in out and "    ~ lr  0.001 -> 0.01" in out
    assert result.stderr == ""


def test_json_human_and_all(folder):
    result = run(["diff", "--json", f"mlruns/1/{RUN_A}/", f"mlruns/1/{RUN_B}/"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["a"]["id"], doc["b"]["name"]) == (RUN_A, "big")
    assert doc["params"]["changed"] == [{"name": "lr", "a": "0.001", "b": "0.01"}]
    assert doc["files"]["counts"]["identical"] == 1 and doc["warnings"] == []
    assert doc["tensors"][0]["changed"][0]["shape_b"] == [4, 8]
    human = run(["diff", "-h", "--all", f"mlruns/1/{RUN_A}/", f"mlruns/1/{RUN_B}/"])
    assert human.exit_code == 0, human.stderr
    assert "= artifacts/tokenizer.txt 12 B, identical by SHA256" in _squeezed(human.stdout)
    plain = run(["diff", f"mlruns/1/{RUN_A}/", f"mlruns/1/{RUN_B}/", "--all"])
    assert "= artifacts/tokenizer.txt 12 bytes, identical by SHA256" in _squeezed(plain.stdout)


def test_usage_errors_exit_2(folder):
    (folder / "plain" / "x" / "y").mkdir(parents=True)
    (folder / "plain" / "x" / "y" / "f.txt").write_text("x")
    cases = {
        ("diff", "plain/x/y/", f"mlruns/1/{RUN_B}/"): "no runs found under file://",
        # Runs two levels up, but this folder is none of theirs.
        ("diff", "plain/x/", f"mlruns/1/{RUN_B}/"): "plain/x/ is not a run's folder (runs at",
        ("diff", "mlruns/1/", f"mlruns/1/{RUN_B}/"): "is not a run's folder (it holds 2 runs",
        ("diff", "mlruns/", "small", "nope"): "no run 'nope' under file://",
        ("diff", f"mlruns/1/{RUN_A}/"): "expected RUN_A RUN_B",
    }
    for args, message in cases.items():
        result = run(list(args))
        assert result.exit_code == 2, (args, result.stderr)
        assert result.stderr.startswith("pail: error: ") and message in result.stderr, args
        assert "Traceback" not in result.stderr and result.stdout == ""


def test_location_and_two_names_in_s3(s3_endpoint, bucket_name):
    seed_keys(bucket_name, _store())
    result = run(["diff", f"s3://{bucket_name}/mlruns/", "small", RUN_B, *s3_args(s3_endpoint)])
    assert result.exit_code == 0, result.stderr
    assert f"a: s3://{bucket_name}/mlruns/1/{RUN_A}/  (small," in result.stdout
    assert "  ~ lr  0.001 -> 0.01" in result.stdout
    # Identical by the plain MD5 ETags S3 lists.
    base = f"s3://{bucket_name}/mlruns/1/"
    both = run(["diff", "--all", base + RUN_A, base + RUN_B, *s3_args(s3_endpoint)])
    assert "= artifacts/tokenizer.txt 12 bytes, identical by ETag (MD5)" in _squeezed(both.stdout)


def test_storage_errors(s3_endpoint, bucket_name, faults):
    from support.fault_proxy import Rule

    missing = run(["diff", f"s3://{bucket_name}/mlruns/", "a", "b", *s3_args(s3_endpoint)])
    assert missing.exit_code == 3, missing.stderr  # no such bucket, as every command
    seed_keys(bucket_name, _store())
    # Run a's own listing (only the diff lists that prefix) is refused: the Files section
    # is partial, and the exit status says so.
    faults.add(Rule(method="GET", query=f"prefix=mlruns/1/{RUN_A}/", status=403, times=None))
    result = run(["diff", f"s3://{bucket_name}/mlruns/", RUN_A, RUN_B, *s3_args(faults.url)])
    assert result.exit_code == 1, result.stderr
    assert "Params (1 changed" in result.stdout and "; partial)" in result.stdout
    assert "6 files of run b not compared: run a's listing is incomplete" in result.stdout
    assert result.stderr.startswith(
        "pail: error: some objects could not be listed; the Files section is partial\n"
        "  run a: listing s3://"
    )


def test_lightning_versions_end_to_end(tmp_path, monkeypatch):
    """Two Lightning logger versions written as CSVLogger and ModelCheckpoint write them."""
    from support.run_layouts import lightning_rows, lightning_version, write_folder

    files = {
        **lightning_version(
            "logs/lightning_logs/version_0/",
            hparams={"lr": 0.001, "betas": (0.9, 0.999), "layers": 4},
            rows=lightning_rows(seed=0.0),
            checkpoints=[(1, 7)],
        ),
        **lightning_version(
            "logs/lightning_logs/version_1/",
            hparams={"lr": 0.01, "betas": (0.9, 0.99), "layers": 4},
            rows=lightning_rows(seed=0.05),
            checkpoints=[(1, 7)],
            last=True,
        ),
    }
    write_folder(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result = run(
        ["diff", "logs/lightning_logs/version_0/", "./logs/lightning_logs/version_1", "--all"]
    )
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "(version_0, PyTorch Lightning," in out and "(version_1, PyTorch Lightning," in out
    rows = [line.split() for line in out.splitlines()]
    assert ["~", "lr", "0.001", "->", "0.01"] in rows
    assert ["~", "betas", "[0.9,", "0.999]", "->", "[0.9,", "0.99]"] in rows
    (loss,) = [row for row in rows if row[:1] == ["val_loss"]]
    assert loss[:2] == ["val_loss", "min"] and loss[-1] == "no"  # version_1 logged higher
    assert ["+", "checkpoints/last.ckpt", "244", "bytes"] in rows
    assert [
        "=",
        "checkpoints/epoch=1-step=7.ckpt",
        "244",
        "bytes,",
        "identical",
        "by",
        "SHA256",
    ] in rows
    assert "  hparams.yaml (2 changed" in out and ["~", "betas[1]", "0.999", "->", "0.99"] in rows


def test_artifact_root_runs_get_params_and_metrics_from_the_tracking_server(
    fasttrackml: TrackedStore,
):
    """Two runs FastTrackML's client wrote (artifact folders only in S3): with
    MLFLOW_TRACKING_URI the diff has their params and metrics; without it, none."""
    by_experiment: dict[str, list] = {}
    for written in fasttrackml.runs:
        by_experiment.setdefault(written.experiment_id, []).append(written)
    a, b = next(runs for runs in by_experiment.values() if len(runs) >= 2)[:2]
    changed = {k for k in a.params if a.params.get(k) != b.params.get(k)}
    assert changed, "the fixture's runs differ in a param"
    where = f"s3://{fasttrackml.bucket}/{fasttrackml.root}{a.experiment_id}/"
    args = ["diff", "--json", *s3_args(fasttrackml.endpoint), where, a.id, b.id]
    tracked = run(args, env={"MLFLOW_TRACKING_URI": fasttrackml.uri})
    assert tracked.exit_code == 0, tracked.stderr
    doc = json.loads(tracked.stdout)
    assert {c["name"] for c in doc["params"]["changed"]} >= changed
    assert {m["name"] for m in doc["metrics"]} >= set(a.metrics) | set(b.metrics)
    alone = run(args, env={"MLFLOW_TRACKING_URI": None})
    assert alone.exit_code == 0, alone.stderr
    bare = json.loads(alone.stdout)
    assert bare["params"]["changed"] == [] and bare["metrics"] == []
