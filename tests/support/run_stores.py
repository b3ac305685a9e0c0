"""Runs as the tools write them, for the retention tests (planner, ``pail rm``, the app).

* :func:`mlflow_run`: one run of MLflow's file store (``mlflow.store.tracking.file_store.
  FileStore``): ``<root>/<exp>/<run_id>/meta.yaml`` (``yaml.safe_dump`` of the persisted
  RunInfo dict, as ``FileStore._make_persisted_run_info_dict`` builds it), ``metrics/<name>``
  (``"<timestamp ms> <value> <step>\\n"`` lines), ``params/<name>``, ``tags/<name>`` (the
  value, no newline) and ``artifacts/…``; :func:`mlflow_experiment` the experiment's
  ``meta.yaml``. The layout's own test (tests/services/runs/test_layout_mlflow.py) checks
  these shapes against a store written by MLflow's client.
* :func:`lightning_version`: a Lightning logger's ``<save_dir>/<name>/version_N/`` with
  ``hparams.yaml`` (``yaml.dump``), ``metrics.csv`` (``csv.DictWriter`` over ``epoch``,
  ``step`` and the metric names, sorted) and ``checkpoints/epoch=E-step=S.ckpt``.
* :func:`seed_dated`: put the objects into the in-process moto backend with chosen
  last-modified times (each run's objects at its own time).
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import yaml

from support.servers import moto_backend, seed_keys

#: FileStore's RunStatus numbers.
FINISHED, RUNNING, FAILED = 3, 1, 4


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def mlflow_experiment(root: str, experiment: str, name: str, created: datetime) -> dict[str, bytes]:
    """``<root>/<experiment>/meta.yaml`` as FileStore writes it."""
    meta = {
        "artifact_location": f"s3://bucket/{root}{experiment}",
        "creation_time": _ms(created),
        "experiment_id": experiment,
        "last_update_time": _ms(created),
        "lifecycle_stage": "active",
        "name": name,
    }
    return {f"{root}{experiment}/meta.yaml": yaml.safe_dump(meta).encode()}


def mlflow_run(
    root: str,
    experiment: str,
    run_id: str,
    *,
    name: str,
    start: datetime,
    minutes: float = 30,
    status: int = FINISHED,
    params: dict[str, str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    tags: dict[str, str] | None = None,
    artifacts: dict[str, int] | None = None,
) -> dict[str, bytes]:
    """One file-store run under ``root`` (``"mlruns/"``): key -> bytes. ``metrics`` values
    are logged at steps 0, 1, 2... a minute apart; ``artifacts`` maps a path under
    ``artifacts/`` to its size in bytes."""
    prefix = f"{root}{experiment}/{run_id}/"
    end = start + timedelta(minutes=minutes)
    info = {
        "artifact_uri": f"s3://bucket/{prefix}artifacts",
        "end_time": None if status == RUNNING else _ms(end),
        "entry_point_name": "",
        "experiment_id": experiment,
        "lifecycle_stage": "active",
        "run_id": run_id,
        "run_name": name,
        "run_uuid": run_id,
        "source_name": "",
        "source_type": 4,
        "source_version": "",
        "start_time": _ms(start),
        "status": status,
        "tags": [],
        "user_id": "trainer",
    }
    files = {f"{prefix}meta.yaml": yaml.safe_dump(info).encode()}
    for key, value in (params or {}).items():
        files[f"{prefix}params/{key}"] = value.encode()
    for key, value in {"mlflow.runName": name, **(tags or {})}.items():
        files[f"{prefix}tags/{key}"] = value.encode()
    for key, values in (metrics or {}).items():
        lines = [
            f"{_ms(start + timedelta(minutes=step))} {value} {step}\n"
            for step, value in enumerate(values)
        ]
        files[f"{prefix}metrics/{key}"] = "".join(lines).encode()
    for rel, size in (artifacts or {"model/model.pkl": 100}).items():
        files[f"{prefix}artifacts/{rel}"] = b"m" * size
    return files


def lightning_version(
    save_dir: str,
    n: int,
    *,
    name: str = "lightning_logs",
    hparams: dict[str, object] | None = None,
    metrics: dict[str, list[float]] | None = None,
    checkpoint_bytes: int = 200,
) -> dict[str, bytes]:
    """``<save_dir><name>/version_<n>/``: hparams.yaml, metrics.csv (one row per epoch,
    each metric logged once an epoch) and the last epoch's checkpoint."""
    prefix = f"{save_dir}{name}/version_{n}/"
    metrics = metrics or {}
    epochs = max((len(v) for v in metrics.values()), default=1)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["epoch", "step", *sorted(metrics)])
    writer.writeheader()
    for epoch in range(epochs):
        row: dict[str, object] = {"epoch": epoch, "step": 100 * epoch + 99}
        for key, values in metrics.items():
            if epoch < len(values):
                row[key] = values[epoch]
        writer.writerow(row)
    step = 100 * epochs - 1
    return {
        f"{prefix}hparams.yaml": yaml.dump(hparams or {"lr": 0.001}).encode(),
        f"{prefix}metrics.csv": buf.getvalue().encode(),
        f"{prefix}checkpoints/epoch={epochs - 1}-step={step}.ckpt": b"c" * checkpoint_bytes,
    }


def seed_dated(bucket: str, objects: dict[str, bytes], when: datetime) -> None:
    """Put ``objects`` into the in-process moto backend, each last modified at ``when``
    (UTC)."""
    seed_keys(bucket, objects)
    keys = moto_backend().buckets[bucket].keys
    for key in objects:
        keys[key].last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC


#: The retention scenario of issue 14: six runs of the experiment "resnet", started a day
#: apart (r0 first), and the best val_loss each logged. Keeping "the best 3 by val_loss
#: and the last 2" keeps r1 (0.31), r3 (0.35), r0 (0.40) and r4, r5; it deletes r2.
RESNET_BEST = {"r0": 0.40, "r1": 0.31, "r2": 0.52, "r3": 0.35, "r4": 0.61, "r5": 0.45}


def run_id(name: str) -> str:
    """A 32-hex MLflow run id made from a short name (``"r2"`` -> ``"a2a2…"``)."""
    return (name * 32)[:32].replace("r", "a")


def seed_resnet(bucket: str, start: datetime, root: str = "mlruns/") -> dict[str, str]:
    """Experiment 1 ("resnet") of :data:`RESNET_BEST` under ``root``, run ``i`` started
    ``start + i days``, each run's val_loss logged as ``best + 0.3, best, best + 0.05``
    and two artifacts (``model/model.pt`` of 1,000 + i bytes, ``logs/train.log``).
    Returns run name -> run id."""
    seed_dated(bucket, mlflow_experiment(root, "1", "resnet", start), start)
    ids = {}
    for i, (name, best) in enumerate(RESNET_BEST.items()):
        when = start + timedelta(days=i)
        ids[name] = run_id(name)
        files = mlflow_run(
            root,
            "1",
            ids[name],
            name=name,
            start=when,
            params={"lr": f"{0.001 * (i + 1):g}"},
            metrics={"val_loss": [best + 0.3, best, best + 0.05]},
            artifacts={"model/model.pt": 1000 + i, "logs/train.log": 10},
        )
        seed_dated(bucket, files, when)
    return ids
