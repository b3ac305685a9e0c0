"""The PyTorch Lightning layout: version_N folders of CSVLogger / TensorBoardLogger with
hparams.yaml, metrics.csv and checkpoints, written as Lightning writes them
(tests/support/run_layouts.py), recognised from a listing and read from a real folder and
a moto bucket."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.runs.detect import detect_runs, require_runs, runs_from_objects
from pail.services.runs.layouts.lightning import LIGHTNING
from pail.services.runs.model import MetricPoint, NoRunsFound
from support.run_layouts import (
    T0,
    entries,
    lightning_metrics_csv,
    lightning_rows,
    lightning_version,
    write_folder,
)
from support.servers import s3_client, seed_keys

HPARAMS = {
    "lr": 0.001,
    "batch_size": 32,
    "model": {"hidden": 128, "layers": 2},
    "betas": (0.9, 0.999),
    "name": "resnet",
}


def save_dir(prefix: str = "") -> dict[str, bytes]:
    """Two runs of the default logger: version_0 (CSVLogger with checkpoints) and
    version_1 (CSVLogger and TensorBoardLogger together), plus the loose things a project
    keeps beside them."""
    files = {}
    files |= lightning_version(
        f"{prefix}lightning_logs/version_0/",
        hparams=HPARAMS,
        rows=lightning_rows(),
        checkpoints=[(1, 7)],
    )
    files |= lightning_version(
        f"{prefix}lightning_logs/version_1/",
        hparams=HPARAMS | {"lr": 0.01},
        rows=lightning_rows(seed=0.05),
        checkpoints=[(0, 3), (1, 7)],
        last=True,
        events=True,
    )
    files[f"{prefix}README.md"] = b"# experiments\n"
    files[f"{prefix}data/train.csv"] = b"x,y\n1,2\n"
    return files


TIMES = {
    "lightning_logs/version_0/": T0,
    "lightning_logs/version_1/": T0 + timedelta(hours=2),
}


def test_metrics_csv_is_written_as_csvlogger_writes_it():
    body = lightning_metrics_csv(
        [{"train_loss": 0.5, "epoch": 0, "step": 0}, {"val_acc": 0.7, "epoch": 0, "step": 0}]
    )
    assert body == b"epoch,step,train_loss,val_acc\r\n0,0,0.5,\r\n0,0,,0.7\r\n"


@pytest.mark.parametrize("base", ["", "lightning_logs/", "lightning_logs/version_1/"])
def test_version_folders_are_runs_from_any_location_above_or_at_them(base):
    files = {k: v for k, v in save_dir().items() if k.startswith(base)}
    found = LIGHTNING.find(base, entries(files, TIMES))
    assert found is not None
    expected = ["version_0", "version_1"] if base != "lightning_logs/version_1/" else ["version_1"]
    assert [run.id for run in found.runs] == expected
    run = found.runs[-1]
    assert run.prefixes == ("lightning_logs/version_1/",)
    assert run.experiment == "lightning_logs"
    assert run.groups == {
        "checkpoints": "lightning_logs/version_1/checkpoints/",
        "hparams.yaml": "lightning_logs/version_1/hparams.yaml",
        "metrics.csv": "lightning_logs/version_1/metrics.csv",
    }
    noun = "folders" if len(expected) > 1 else "folder"
    assert found.evidence == (
        f"{len(expected)} version_N {noun} of the Lightning logger lightning_logs"
    )


def test_runs_from_objects_counts_each_version_and_leaves_the_rest_loose():
    files = save_dir()
    result = runs_from_objects("local", "b", "", entries(files, TIMES))
    assert result.layout == "lightning"
    assert [run.id for run in result.runs] == ["version_1", "version_0"]  # newest first
    newest, oldest = result.runs
    assert newest.objects == 6  # hparams, metrics, 3 checkpoints, 1 event file
    assert oldest.objects == 3
    assert newest.bytes == sum(len(v) for k, v in files.items() if "version_1/" in k)
    assert newest.start == newest.end == T0 + timedelta(hours=2)
    assert result.loose == 2  # README.md and data/train.csv
    assert result.examined == len(files)


def test_two_loggers_with_the_same_version_get_ids_that_tell_them_apart():
    files = lightning_version("logs/bert/version_0/", rows=lightning_rows())
    files |= lightning_version("logs/gpt/version_0/", rows=lightning_rows())
    files |= lightning_version("logs/gpt/version_1/", rows=lightning_rows())
    found = LIGHTNING.find("logs/", entries(files))
    assert found is not None
    assert [(r.id, r.name, r.experiment) for r in found.runs] == [
        ("bert/version_0", "bert/version_0", "bert"),
        ("gpt/version_0", "gpt/version_0", "gpt"),
        ("version_1", "version_1", "gpt"),
    ]
    assert found.evidence == "3 version_N folders of the Lightning loggers bert, gpt"


def test_same_logger_name_in_two_save_dirs_stays_two_experiments():
    files = lightning_version("a/lightning_logs/version_0/", rows=lightning_rows())
    files |= lightning_version("b/lightning_logs/version_0/", rows=lightning_rows())
    found = LIGHTNING.find("", entries(files))
    assert found is not None
    assert [(r.id, r.experiment) for r in found.runs] == [
        ("a/lightning_logs/version_0", "a/lightning_logs"),
        ("b/lightning_logs/version_0", "b/lightning_logs"),
    ]


@pytest.mark.parametrize(
    "keys",
    [
        ["runs/run-1/model.pt", "runs/run-2/model.pt", "runs/run-2/metrics.csv"],
        ["data/train.csv", "data/val.csv"],
        # version-like folders without a Lightning file in them
        ["exp/version_0/notes.txt", "exp/version_1/model.pt", "exp/version_1/sub/hparams.yaml"],
        # Lightning file names in folders that are not version_N
        ["exp/version_x/hparams.yaml", "exp/v1/metrics.csv", "exp/checkpoints/epoch=0-step=9.ckpt"],
        ["exp/version_0/checkpoints/notes.txt", "exp/version_0/checkpoints/.ckpt"],
    ],
)
def test_ordinary_folders_are_not_runs(keys):
    listing = entries(dict.fromkeys(keys, b"x"))
    assert LIGHTNING.find("", listing) is None
    result = runs_from_objects("local", "b", "", listing)
    assert result.runs == [] and result.layout is None
    assert result.loose == len(keys)
    with pytest.raises(NoRunsFound):
        require_runs(result)


def test_a_location_inside_a_run_folder_claims_nothing():
    # Claiming version_0/ from inside its checkpoints/ would reach above the location.
    files = lightning_version("lightning_logs/version_0/", checkpoints=[(0, 3)])
    base = "lightning_logs/version_0/checkpoints/"
    assert LIGHTNING.find(base, entries(files)) is None


def test_detect_runs_on_a_folder_reads_params_and_metrics(tmp_path):
    write_folder(tmp_path / "bucket", save_dir("exp/"), {"exp/" + k: t for k, t in TIMES.items()})
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "exp/")
    assert result.warnings == []
    assert [run.id for run in result.runs] == ["version_1", "version_0"]
    run = result.runs[0]
    assert run.params == {
        "batch_size": "32",
        "betas": "[0.9, 0.999]",
        "lr": "0.01",
        "model.hidden": "128",
        "model.layers": "2",
        "name": "resnet",
    }
    assert run.sources == ["hparams.yaml", "metrics.csv"]
    assert sorted(run.metrics) == ["train_loss", "val_acc", "val_loss"]
    rows = lightning_rows(seed=0.05)
    expected = [MetricPoint(r["step"], r["train_loss"]) for r in rows if "train_loss" in r]
    assert run.metrics["train_loss"] == expected
    assert run.final("val_loss") == pytest.approx(0.9 / 2 + 0.05)
    assert run.best("val_acc") == pytest.approx(0.7 - 0.05)
    assert run.status is None
    assert run.start == T0 + timedelta(hours=2)
    assert result.loose == 2


def test_unreadable_metadata_is_a_warning_and_the_rest_is_kept(tmp_path):
    files = lightning_version("lightning_logs/version_0/", hparams={"lr": 0.1})
    files |= lightning_version("lightning_logs/version_1/", rows=lightning_rows())
    files["lightning_logs/version_0/metrics.csv"] = b"epoch,step,loss\r\n0,0,oops\r\n0,1,0.5\r\n"
    files["lightning_logs/version_1/hparams.yaml"] = b"lr: [0.1\n"
    write_folder(tmp_path / "bucket", files)
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "")
    by_id = {run.id: run for run in result.runs}
    assert by_id["version_0"].params == {"lr": "0.1"}
    assert by_id["version_0"].metrics == {"loss": [MetricPoint(1, 0.5)]}
    assert by_id["version_1"].params == {}
    assert len(by_id["version_1"].metrics["train_loss"]) == 8
    assert sorted(result.warnings) == [
        "version_0: metrics.csv: 1 cell not a number, left out",
        "version_1: hparams.yaml is not valid YAML (while parsing a flow sequence)",
    ]


def test_a_metrics_file_over_the_limit_is_a_warning_and_params_still_load(tmp_path):
    rows = lightning_rows(epochs=50, steps_per_epoch=40)
    files = lightning_version("lightning_logs/version_0/", hparams={"lr": 0.1}, rows=rows)
    write_folder(tmp_path / "bucket", files)
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "", max_metadata_bytes=4096)
    (run,) = result.runs
    assert run.params == {"lr": "0.1"}
    assert run.metrics == {}
    (warning,) = result.warnings
    assert warning.startswith(
        "version_0: metrics.csv not read: lightning_logs/version_0/metrics.csv is"
    )
    assert "read up to 4,096 bytes" in warning


def test_nan_and_inf_cells_are_logged_values():
    from pail.services.runs.model import Run

    body = lightning_metrics_csv(
        [
            {"val_loss": float("nan"), "epoch": 0, "step": 9},
            {"val_loss": float("inf"), "epoch": 1, "step": 19},
            {"val_loss": 0.25, "epoch": 2, "step": 29},
        ]
    ).decode()
    run = Run("version_0", "version_0", "lightning", ("v/",), groups={"metrics.csv": "m"})
    assert LIGHTNING.load(run, lambda key: body) == []
    values = [p.value for p in run.metrics["val_loss"]]
    assert math.isnan(values[0]) and values[1:] == [math.inf, 0.25]
    assert run.best("val_loss") == 0.25


def test_detect_runs_on_a_moto_bucket(s3_endpoint, bucket_name):
    seed_keys(bucket_name, save_dir("team/"))
    driver = S3Driver(client=s3_client(s3_endpoint))
    result = detect_runs(driver, bucket_name, "team/lightning_logs/")
    assert [run.id for run in result.runs] != []
    assert sorted(run.id for run in result.runs) == ["version_0", "version_1"]
    assert all(run.experiment == "lightning_logs" for run in result.runs)
    assert {run.params["lr"] for run in result.runs} == {"0.001", "0.01"}
    assert result.loose == 0 and result.warnings == []
