"""The Hugging Face Trainer layout: checkpoint-<step> folders with trainer_state.json,
written as the Trainer writes them (tests/support/run_layouts.py), recognised from a
listing and read from a real folder and a moto bucket."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.runs.detect import detect_runs, require_runs, runs_from_objects
from pail.services.runs.layouts.hf_trainer import HF_TRAINER
from pail.services.runs.model import MetricPoint, NoRunsFound, Run
from support.run_layouts import (
    T0,
    entries,
    hf_checkpoint,
    hf_config_json,
    hf_log_history,
    trainer_state_json,
    write_folder,
)
from support.servers import s3_client, seed_keys
from support.stores import safetensors

OUT = "outputs/bert-imdb/"
#: eval_loss is lowest at step 200: the Trainer's best checkpoint from then on.
BEST = {100: 100, 200: 200, 300: 200}


def output_dir(prefix: str = OUT) -> dict[str, bytes]:
    """Three checkpoints of one training, plus what the Trainer leaves at the output
    folder's top after ``trainer.save_model()`` and ``save_state()``, and TensorBoard's
    ``runs/`` folder."""
    files: dict[str, bytes] = {}
    for step, best in BEST.items():
        files |= hf_checkpoint(prefix, step, best_step=best, best_metric=0.36)
    files[prefix + "config.json"] = hf_config_json()
    files[prefix + "model.safetensors"] = safetensors({"w": ("F32", [4, 4])})
    files[prefix + "trainer_state.json"] = trainer_state_json(
        global_step=300, log_history=hf_log_history(300)
    )
    files[prefix + "runs/May04_09-00-00_gpu-node-1/events.out.tfevents.1777885200.gpu.1.0"] = b"x"
    return files


def times(prefix: str = OUT) -> dict[str, object]:
    return {f"{prefix}checkpoint-{s}/": T0 + timedelta(minutes=s) for s in BEST}


@pytest.mark.parametrize(
    "base", ["", "outputs/", OUT, OUT + "checkpoint-200/"], ids=["root", "parent", "out", "one"]
)
def test_checkpoints_are_runs_from_any_location_above_or_at_them(base):
    files = {k: v for k, v in output_dir().items() if k.startswith(base)}
    found = HF_TRAINER.find(base, entries(files, times()))
    assert found is not None
    steps = [200] if base.endswith("checkpoint-200/") else [100, 200, 300]
    assert [run.id for run in found.runs] == [f"checkpoint-{s}" for s in steps]
    run = found.runs[steps.index(200)]
    assert run.prefixes == (OUT + "checkpoint-200/",)
    assert run.experiment == ("bert-imdb" if base != "" else "outputs/bert-imdb")
    assert run.groups == {
        "config.json": OUT + "checkpoint-200/config.json",
        "model": OUT + "checkpoint-200/model.safetensors",
        "optimizer": OUT + "checkpoint-200/optimizer.pt",
        "trainer_state.json": OUT + "checkpoint-200/trainer_state.json",
    }
    folders = "1 checkpoint-<step> folder" if len(steps) == 1 else "3 checkpoint-<step> folders"
    assert (
        found.evidence == f"{folders} with trainer_state.json in the output folder {run.experiment}"
    )


def test_runs_from_objects_counts_each_checkpoint_and_leaves_the_top_files_loose():
    files = output_dir()
    result = runs_from_objects("local", "b", OUT, entries(files, times()))
    assert result.layout == "hf-trainer"
    assert [run.id for run in result.runs] == ["checkpoint-300", "checkpoint-200", "checkpoint-100"]
    for run in result.runs:
        assert run.objects == 7
        assert run.bytes == sum(len(v) for k, v in files.items() if k.startswith(run.prefixes[0]))
    assert result.runs[0].start == T0 + timedelta(minutes=300)
    assert result.loose == 4  # config.json, model, trainer_state.json, runs/ event file


def test_checkpoints_of_two_output_folders_get_ids_that_tell_them_apart():
    files = (
        hf_checkpoint("out/a/", 100) | hf_checkpoint("out/b/", 100) | hf_checkpoint("out/b/", 200)
    )
    found = HF_TRAINER.find("out/", entries(files))
    assert found is not None
    assert [(r.id, r.experiment) for r in found.runs] == [
        ("a/checkpoint-100", "a"),
        ("b/checkpoint-100", "b"),
        ("checkpoint-200", "b"),
    ]
    assert (
        found.evidence
        == "3 checkpoint-<step> folders with trainer_state.json in the output folders a, b"
    )


def test_checkpoints_are_ordered_by_step_not_by_key():
    files = hf_checkpoint(OUT, 1000) | hf_checkpoint(OUT, 500)
    found = HF_TRAINER.find(OUT, entries(files))
    assert found is not None
    assert [run.id for run in found.runs] == ["checkpoint-500", "checkpoint-1000"]


@pytest.mark.parametrize(
    "keys",
    [
        ["runs/run-1/model.pt", "runs/run-2/trainer_state.json"],
        ["data/train.csv"],
        # checkpoint folders without the Trainer's state
        ["out/checkpoint-100/model.safetensors", "out/checkpoint-100/config.json"],
        # names the Trainer does not give a checkpoint (its own temporary folder included)
        ["out/checkpoint-best/trainer_state.json", "out/tmp-checkpoint-100/trainer_state.json"],
        ["out/checkpoint-100/sub/trainer_state.json", "out/trainer_state.json"],
    ],
)
def test_ordinary_folders_are_not_runs(keys):
    listing = entries(dict.fromkeys(keys, b"{}"))
    assert HF_TRAINER.find("", listing) is None
    result = runs_from_objects("local", "b", "", listing)
    assert result.runs == [] and result.loose == len(keys)
    with pytest.raises(NoRunsFound):
        require_runs(result)


def test_a_mixed_location_claims_only_the_checkpoints():
    files = output_dir() | {"datasets/imdb/train.parquet": b"PAR1", "notes/run-1/readme.md": b"#"}
    result = runs_from_objects("local", "b", "", entries(files))
    assert len(result.runs) == 3
    assert result.loose == 6


def test_detect_runs_on_a_folder_reads_metrics_params_and_the_best_checkpoint(tmp_path):
    write_folder(tmp_path / "bucket", output_dir(), times())
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", OUT)
    assert result.warnings == []
    by_id = {run.id: run for run in result.runs}
    run = by_id["checkpoint-300"]
    assert run.sources == ["trainer_state.json", "config.json"]
    assert sorted(run.metrics) == [
        "eval_accuracy",
        "eval_loss",
        "grad_norm",
        "learning_rate",
        "loss",
    ]
    history = hf_log_history(300)
    assert run.metrics["loss"] == [
        MetricPoint(e["step"], e["loss"]) for e in history if "loss" in e
    ]
    assert [p.step for p in run.metrics["eval_loss"]] == [100, 200, 300]
    assert run.best("eval_loss") == pytest.approx(0.36)
    assert run.final("eval_loss") == pytest.approx(0.4)
    assert run.params["global_step"] == "300"
    assert run.params["epoch"] == "3.0"
    assert run.params["num_train_epochs"] == "3"
    assert run.params["train_batch_size"] == "8"
    assert run.params["best_metric"] == "0.36"
    assert run.params["best_global_step"] == "200"
    assert run.params["hidden_size"] == "768"
    assert run.params["model_type"] == "bert"
    assert not any(name.startswith(("id2label", "label2id", "log_history")) for name in run.params)
    assert "classifier_dropout" not in run.params  # null is not a scalar param
    assert run.status is None
    # Only the checkpoint the newest state names is protected: checkpoint-100 was the best
    # when it was written, and the Trainer's rotation no longer keeps it for that.
    assert by_id["checkpoint-200"].protected == "the Trainer's best_model_checkpoint"
    assert by_id["checkpoint-100"].protected is None
    assert run.protected is None


def test_without_the_newest_state_every_self_named_best_stays_protected(tmp_path):
    files = dict(output_dir())
    files[OUT + "checkpoint-300/trainer_state.json"] = b"{not json"
    write_folder(tmp_path / "bucket", files, times())
    by_id = {r.id: r for r in detect_runs(LocalDriver(str(tmp_path)), "bucket", OUT).runs}
    assert by_id["checkpoint-200"].protected == "the Trainer's best_model_checkpoint"
    assert by_id["checkpoint-100"].protected == "the Trainer's best_model_checkpoint"


def test_protection_follows_best_model_checkpoint_whatever_path_the_trainer_wrote():
    state = {"global_step": 500, "best_model_checkpoint": "C:\\work\\out\\checkpoint-500"}
    run = Run("checkpoint-500", "checkpoint-500", "hf-trainer", ("x/checkpoint-500/",))
    run.groups = {"trainer_state.json": "x/checkpoint-500/trainer_state.json"}
    assert HF_TRAINER.load(run, lambda key: json.dumps(state)) == []
    assert run.protected == "the Trainer's best_model_checkpoint"

    other = Run("checkpoint-50", "checkpoint-50", "hf-trainer", ("x/checkpoint-50/",))
    other.groups = dict(run.groups)
    assert HF_TRAINER.load(other, lambda key: json.dumps(state)) == []
    assert other.protected is None  # checkpoint-500 is not checkpoint-50


def test_hyperparameter_search_trials_carry_their_params():
    files = hf_checkpoint("hp/run-0/", 100, trial_params={"learning_rate": 3e-05, "seed": 7})
    files |= hf_checkpoint("hp/run-1/", 100, trial_params={"learning_rate": 1e-04, "seed": 7})
    found = HF_TRAINER.find("hp/", entries(files))
    assert found is not None
    assert [(r.id, r.experiment) for r in found.runs] == [
        ("run-0/checkpoint-100", "run-0"),
        ("run-1/checkpoint-100", "run-1"),
    ]
    run = found.runs[1]
    assert HF_TRAINER.load(run, lambda key: files[key].decode()) == []
    assert run.params["learning_rate"] == "0.0001"
    assert run.params["seed"] == "7"


def test_config_params_are_bounded():
    config = {f"field_{i:03d}": i for i in range(100)} | {"nested": {"a": 1}, "list": [1, 2]}
    run = Run("checkpoint-1", "checkpoint-1", "hf-trainer", ("c/checkpoint-1/",))
    run.groups = {"config.json": "c/checkpoint-1/config.json"}
    assert HF_TRAINER.load(run, lambda key: json.dumps(config)) == []
    assert len(run.params) == 40
    assert "field_000" in run.params and "field_039" in run.params and "list" not in run.params


def test_unreadable_state_is_a_warning_and_the_config_still_loads(tmp_path):
    files = hf_checkpoint(OUT, 100) | hf_checkpoint(OUT, 200)
    files[OUT + "checkpoint-100/trainer_state.json"] = b'{"global_step": 100, "log_hist'
    state = json.loads(files[OUT + "checkpoint-200/trainer_state.json"])
    state["log_history"] = ["not an entry", {"loss": 0.5, "step": 200}, {"loss": "n/a", "step": 1}]
    files[OUT + "checkpoint-200/trainer_state.json"] = json.dumps(state).encode()
    write_folder(tmp_path / "bucket", files)
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "")
    by_id = {run.id: run for run in result.runs}
    assert by_id["checkpoint-100"].params["model_type"] == "bert"
    assert by_id["checkpoint-100"].metrics == {}
    assert by_id["checkpoint-100"].sources == ["config.json"]
    assert by_id["checkpoint-200"].metrics == {"loss": [MetricPoint(200, 0.5)]}
    assert len(result.warnings) == 2
    assert result.warnings[0].startswith("checkpoint-100: trainer_state.json is not valid JSON (")
    assert result.warnings[1] == (
        "checkpoint-200: trainer_state.json: 1 log_history entry not an object, left out"
    )


def test_detect_runs_on_a_moto_bucket(s3_endpoint, bucket_name):
    seed_keys(bucket_name, output_dir())
    driver = S3Driver(client=s3_client(s3_endpoint))
    result = detect_runs(driver, bucket_name, "outputs/")
    assert sorted(run.id for run in result.runs) == [
        "checkpoint-100",
        "checkpoint-200",
        "checkpoint-300",
    ]
    assert {run.experiment for run in result.runs} == {"bert-imdb"}
    protected = sorted(run.id for run in result.runs if run.protected)
    assert protected == ["checkpoint-200"]  # the one the newest state names
    assert result.loose == 4 and result.warnings == []
