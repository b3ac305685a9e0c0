"""MLflow runs: a file store written by MLflow's own client (mlflow-skinny's FileStore),
read through the local-folder driver and, copied byte for byte, through S3 (moto); and
the key patterns the detector must and must not claim."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import Entry
from pail.drivers.local import LocalDriver
from pail.drivers.registry import open_driver
from pail.services.runs.detect import detect_runs, require_runs, runs_from_objects
from pail.services.runs.model import NoRunsFound
from support.servers import seed_keys

RUN_A = "0123456789abcdef0123456789abcdef"
RUN_B = "fedcba9876543210fedcba9876543210"

#: Logged with MLflow's client into a file store (a subprocess: mlflow's import and its
#: tracking-URI state stay out of the test process).
_WRITER = textwrap.dedent(
    """
    import sys
    import mlflow

    mlflow.set_tracking_uri("file:" + sys.argv[1])
    mlflow.set_experiment("resnet50-imagenet")
    with mlflow.start_run(run_name="lr-3e-4"):
        mlflow.log_params({"learning_rate": 3e-4, "batch_size": 64})
        for step, value in enumerate([2.1, 1.4, 0.9, 0.95]):
            mlflow.log_metric("val_loss", value, step=step)
        mlflow.log_metric("eval/accuracy", 0.81)
        mlflow.set_tag("pail.keep", "true")
        mlflow.log_text("epoch 1 loss 2.1\\n", "logs/train.log")
    with mlflow.start_run(run_name="lr-1e-3"):
        mlflow.log_params({"learning_rate": 1e-3, "batch_size": 64})
        mlflow.log_metric("val_loss", 1.2, step=0)
        mlflow.log_dict({"layers": 50}, "model/config.json")
        mlflow.end_run(status="FAILED")
    """
)


@pytest.fixture(scope="module")
def file_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``<root>/bkt/mlruns/``: two runs and the Default experiment, as MLflow wrote them."""
    root = tmp_path_factory.mktemp("mlflow")
    store = root / "bkt" / "mlruns"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    subprocess.run([sys.executable, "-c", _WRITER, str(store)], check=True, env=env, timeout=120)
    return root


def _check(result, provider: str) -> None:
    require_runs(result)
    assert result.layout == "mlflow" and result.provider == provider
    assert [run.name for run in result.runs] == ["lr-1e-3", "lr-3e-4"]  # newest first
    failed, good = result.runs
    assert (failed.status, good.status) == ("FAILED", "FINISHED")
    assert good.experiment == failed.experiment == "resnet50-imagenet"
    assert good.params == {"learning_rate": "0.0003", "batch_size": "64"}
    assert [(p.step, p.value) for p in good.metrics["val_loss"]] == [
        (0, 2.1),
        (1, 1.4),
        (2, 0.9),
        (3, 0.95),
    ]
    assert good.final("val_loss") == 0.95 and good.best("val_loss") == 0.9
    assert good.final("eval/accuracy") == 0.81
    assert good.tags["pail.keep"] == "true"
    assert good.start is not None and good.end is not None and good.start <= good.end
    assert good.groups["artifacts"] == good.prefixes[0] + "artifacts/"
    assert len(good.id) == 32 and good.prefixes[0].endswith(good.id + "/")
    assert "MLflow file store" in good.sources
    # the experiments' own meta.yaml files belong to no run
    assert result.loose == 2 and not result.warnings


def test_file_store_written_by_mlflow_read_from_a_folder(file_store: Path) -> None:
    result = detect_runs(LocalDriver(str(file_store)), "bkt", "mlruns/")
    _check(result, "local")
    # the same runs seen from the bucket root and from one experiment folder
    assert len(detect_runs(LocalDriver(str(file_store)), "bkt", "").runs) == 2
    experiment = result.runs[0].prefixes[0].rsplit("/", 2)[0] + "/"
    assert len(detect_runs(LocalDriver(str(file_store)), "bkt", experiment).runs) == 2


def test_file_store_synced_to_s3(file_store: Path, moto_server: str) -> None:
    objects = {
        path.relative_to(file_store / "bkt").as_posix(): path.read_bytes()
        for path in (file_store / "bkt").rglob("*")
        if path.is_file()
    }
    seed_keys("synced-mlruns", objects)
    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=moto_server, region="us-east-1", path_style=True
    )
    result = detect_runs(open_driver(spec), "synced-mlruns", "mlruns/")
    _check(result, "s3")


def test_one_run_folder_is_a_run_and_a_folder_inside_it_is_not(file_store: Path) -> None:
    driver = LocalDriver(str(file_store))
    runs = detect_runs(driver, "bkt", "mlruns/").runs
    one = detect_runs(driver, "bkt", runs[1].prefixes[0])
    assert [run.id for run in one.runs] == [runs[1].id] and one.runs[0].name == "lr-3e-4"
    inside = detect_runs(driver, "bkt", runs[1].prefixes[0] + "artifacts/")
    assert inside.runs == [] and inside.layout is None
    with pytest.raises(NoRunsFound, match="no runs found under"):
        require_runs(inside)


def _objects(*keys: str) -> list[Entry]:
    when = datetime(2026, 11, 1, tzinfo=timezone.utc)
    return [Entry(key, "object", 10, when) for key in keys]


def test_artifact_root_runs_without_metadata() -> None:
    result = runs_from_objects(
        "s3",
        "b",
        "mlflow/",
        _objects(
            f"mlflow/1/{RUN_A}/artifacts/model/MLmodel",
            f"mlflow/1/{RUN_A}/artifacts/plots/loss.png",
            f"mlflow/2/{RUN_B}/artifacts/train.log",
            "mlflow/README.md",
        ),
    )
    assert {run.id: (run.experiment, run.objects) for run in result.runs} == {
        RUN_A: ("1", 2),
        RUN_B: ("2", 1),
    }
    assert result.loose == 1 and "artifact folders" in result.evidence


@pytest.mark.parametrize(
    "keys",
    [
        ("runs/run-1/model.ckpt", "runs/run-2/model.ckpt"),  # ordinary folders
        (f"x/{RUN_A[:31]}/artifacts/a.txt",),  # 31 hex digits
        (f"x/{RUN_A.upper()}/artifacts/a.txt",),  # MLflow's ids are lowercase
        (f"x/{RUN_A}/notes.txt", f"x/{RUN_A}/params"),  # no run folder below the id
    ],
)
def test_not_mlflow(keys: tuple[str, ...]) -> None:
    result = runs_from_objects("s3", "b", "", _objects(*keys))
    assert [run for run in result.runs if run.layout == "mlflow"] == []


class _RecordingFolder(LocalDriver):
    """pail's local-folder driver, recording the key of every ranged read."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.read_keys: list[str] = []

    def read_range(self, bucket, key, start=0, length=None, *, suffix=None, version_id=None):
        self.read_keys.append(key)
        return super().read_range(bucket, key, start, length, suffix=suffix, version_id=version_id)


def test_metadata_reads_are_bounded_and_shared_files_read_once(file_store: Path) -> None:
    driver = _RecordingFolder(str(file_store))
    result = detect_runs(driver, "bkt", "mlruns/", max_metadata_bytes=300)
    # the experiment's meta.yaml serves both runs: fetched once
    experiment_meta = [k for k in driver.read_keys if k.count("/") == 2]
    assert len(experiment_meta) == 1 and experiment_meta[0].endswith("/meta.yaml")
    # the runs' meta.yaml files (over 300 bytes in the listing) are not read at all; their
    # params and metrics are
    assert not [k for k in driver.read_keys if k.count("/") == 3 and k.endswith("meta.yaml")]
    assert len(result.runs) == 2 and all(run.params and run.metrics for run in result.runs)
    assert sum("metadata not read" in w and "meta.yaml" in w for w in result.warnings) == 2
