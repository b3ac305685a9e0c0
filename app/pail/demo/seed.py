"""The demo store's contents: the bucket layout and the local folder (see :mod:`pail.demo.server`).

Objects go straight into moto's in-process S3 backend (20,000 keys in well under a second,
versus ~5 ms per HTTP PUT), with last-modified times spread over the past months so ages
differ between experiments and runs.

Every layout pail recognises as runs is here, written as its tool writes it, with params
and per-step metrics that differ from run to run (so the runs view, its curves, diff and
retention have something real to show):

* ``ml-artifacts/mlflow/``: an MLflow file store synced to the bucket (what ``aws s3 sync
  mlruns s3://ml-artifacts/mlflow`` leaves, for a tracking server whose artifact root is the
  same prefix): ``<experiment id>/meta.yaml`` and, per run, ``<run id>/meta.yaml``,
  ``params/``, ``metrics/``, ``tags/`` and ``artifacts/``. One run failed (diverged); one is
  tagged ``pail.keep=true``.
* ``ml-artifacts/zenml/``: a ZenML artifact store, four pipeline runs days apart:
  ``<step>/<output>/<step run id>/<8 hex>/<materializer file>`` and ``logs/<log id>/``.
* ``team-models/modelkit/assets/``: modelkit assets, each version's object(s) with its
  ``<version>.meta`` and the asset's ``<name>.versions``.
* the local folder: ``lightning-logs/lightning_logs/version_N/`` (CSVLogger) and
  ``hf-trainer/checkpoint-<step>/`` (the Trainer's checkpoints).

Every value comes from the ``random.Random`` passed in: the same seed gives the same store.
"""

from __future__ import annotations

import json
import math
import mimetypes
import os
import pickle
import random
import shutil
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from pail.demo import artifacts as art

REGION = "us-east-1"
BUCKET = "ml-artifacts"
SECOND_BUCKET = "team-models"


@dataclass(frozen=True)
class _Plan:
    """One MLflow run's hyperparameters and fate."""

    learning_rate: float
    batch_size: int
    status: str = "FINISHED"  # MLflow's RunStatus name; "FAILED": the loss diverged
    keep: bool = False  # tagged pail.keep=true
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Experiment:
    """An MLflow experiment and how its runs learn.

    The training loss falls from ``start`` to a floor: ``floor`` raised the further a run's
    learning rate is from ``best_lr`` (in decades) and its batch size from ``best_batch`` (in
    octaves). The validation loss sits a little above it and rises late by up to ``overfit``
    (so a run's best and final values differ); accuracy is ``acc_top - acc_slope *
    val_loss``. ``evals`` validations per run; runs start 2.5 days apart, the first
    ``age_days`` ago.
    """

    name: str
    model: str
    age_days: float
    user: str
    script: str
    start: float
    floor: float
    best_lr: float
    best_batch: int
    overfit: float
    acc_top: float
    acc_slope: float
    evals: int
    params: dict[str, Any]
    plans: tuple[_Plan, ...]


EXPERIMENTS = {
    "1": _Experiment(
        "resnet50-imagenet", "resnet50", 75, "ana", "train.py",
        start=6.9, floor=0.95, best_lr=1e-3, best_batch=256, overfit=0.06,
        acc_top=1.02, acc_slope=0.26, evals=10,
        params={"epochs": 10, "optimizer": "adamw", "weight_decay": 0.05,
                "label_smoothing": 0.1, "seed": 42},
        plans=(
            _Plan(1e-3, 256, keep=True),  # the baseline the team compares against
            _Plan(1e-4, 128),  # too slow: the worst; "keep the best 3 and the last 2" drops it
            _Plan(3e-3, 256),
            _Plan(1e-3, 512),
        ),
    ),
    "2": _Experiment(
        "vit-small-cifar100", "vit-small-patch16", 34, "ben", "train.py",
        start=4.6, floor=1.05, best_lr=5e-4, best_batch=128, overfit=0.3,
        acc_top=0.98, acc_slope=0.24, evals=10,
        params={"epochs": 10, "optimizer": "adamw", "weight_decay": 0.05, "drop_path": 0.1,
                "seed": 42},
        plans=(
            _Plan(5e-4, 128),
            _Plan(3e-3, 256, status="FAILED"),  # diverged: no model, the worst val_loss
            _Plan(2e-4, 128),
            _Plan(1e-3, 128),
        ),
    ),
    "3": _Experiment(
        "llama3-8b-lora-support", "llama-3-8b", 8, "chen", "finetune_lora.py",
        start=2.2, floor=0.92, best_lr=2e-4, best_batch=16, overfit=0.12,
        acc_top=0.93, acc_slope=0.2, evals=12,
        params={"epochs": 3, "optimizer": "paged_adamw_8bit", "lora_dropout": 0.05,
                "max_seq_length": 2048, "seed": 42},
        plans=(
            _Plan(2e-4, 16, extra={"lora_r": 16, "lora_alpha": 32}),
            _Plan(1e-4, 16, extra={"lora_r": 8, "lora_alpha": 16}),
            _Plan(3e-4, 32, extra={"lora_r": 32, "lora_alpha": 64}),
        ),
    ),
}  # fmt: skip

#: MLflow's RunStatus numbers as its FileStore writes them in meta.yaml.
_STATUS = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
#: Words for run names the way MLflow makes them (``<adjective>-<animal>-<number>``).
_ADJECTIVES = ("bold", "calm", "clever", "gentle", "honest", "lucky", "nimble", "quiet",
               "rare", "sassy", "sincere", "wise")  # fmt: skip
_ANIMALS = ("bass", "crane", "fox", "gull", "hare", "lark", "moth", "owl", "seal", "shrew",
            "stork", "wren")  # fmt: skip


_TYPES = {
    ".log": "text/plain",
    ".safetensors": "application/octet-stream",
    ".parquet": "application/vnd.apache.parquet",
    ".ckpt": "application/zip",
    ".jsonl": "application/jsonl",
    ".yaml": "application/yaml",
    ".md": "text/markdown",
    # No entry for names without an extension (MLmodel, Llama Stack's file-<id>): MLflow and
    # Llama Stack send no content type for them, so S3 keeps binary/octet-stream.
}


class _Seeder:
    """Puts objects into one moto backend with a chosen last-modified time."""

    def __init__(self, backend: Any, rng: random.Random, now: datetime) -> None:
        self.backend, self.rng, self.now = backend, rng, now

    def bucket(self, name: str, days_ago: float) -> None:
        self.backend.create_bucket(name, REGION)
        self.backend.buckets[name].creation_date = self.now - timedelta(days=days_ago)

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        when: datetime,
        *,
        storage: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> None:
        fake = self.backend.put_object(
            bucket, key, body, storage=storage, disable_notification=True
        )
        fake.last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC times
        ext = os.path.splitext(key)[1]
        ctype = _TYPES.get(ext) or mimetypes.guess_type(key)[0] or "binary/octet-stream"
        meta = {"Content-Type": ctype}
        meta.update({f"x-amz-meta-{k}": v for k, v in (metadata or {}).items()})
        fake.set_metadata(meta)

    def hex(self, n: int) -> str:
        return self.rng.randbytes(n // 2).hex()


def seed_store(
    backend: Any,
    rng: random.Random,
    now: datetime,
    *,
    large_prefix_keys: int,
    large_object_bytes: int,
) -> None:
    """Create and fill ``ml-artifacts`` and ``team-models`` in ``backend`` (a moto
    ``S3Backend``); ``now`` is a timezone-aware UTC time that ages are counted back from."""
    s = _Seeder(backend, rng, now)
    s.bucket(BUCKET, 120)
    s.bucket(SECOND_BUCKET, 200)
    default = now - timedelta(days=119)
    _mlflow_experiment(s, "0", "Default", default, default + timedelta(minutes=3))
    for exp_id, exp in EXPERIMENTS.items():
        for n, plan in enumerate(exp.plans):
            started = now - timedelta(days=exp.age_days - n * 2.5, hours=rng.uniform(0, 10))
            big = large_object_bytes if (exp_id == "3" and n == 0) else 0
            synced = _mlflow_run(s, exp_id, exp, plan, started, big)
            if n == 0:  # the experiment was made just before its first run
                created = started - timedelta(minutes=rng.uniform(5, 50))
                _mlflow_experiment(s, exp_id, exp.name, created, synced)
    _zenml(s, now)
    _dataset(s, now - timedelta(days=110), large_prefix_keys)
    archived = now - timedelta(days=190)
    for i in range(5):
        key = f"archive/2025-q2/resnet50-sweep/run-{s.hex(12)}.tar.zst"
        s.put(BUCKET, key, rng.randbytes(4096 + i * 512), archived, storage="GLACIER")
    notes = now - timedelta(days=3)
    s.put(
        BUCKET, "notes/README.md", b"# Team notes\n\nSee experiment 3 for the LoRA runs.\n", notes
    )
    s.put(
        BUCKET,
        "notes/[draft] ablation results.md",
        b"# [draft] Ablation\n\n| lr | val_loss |\n|----|----|\n| 3e-4 | 0.41 |\n| 1e-3 | 0.47 |\n",
        notes,
    )
    _team_models(s, now)


def _uuid4(rng: random.Random) -> uuid.UUID:
    """A UUID4 from ``rng`` (what ``uuid.uuid4()`` makes, reproducibly)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def _from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _descent(rng: random.Random, steps: int, start: float, floor: float) -> list[float]:
    """The noise-free loss of ``steps`` steps: exponential decay from ``start`` to ``floor``."""
    rate = rng.uniform(4.0, 6.0) / steps
    return [floor + (start - floor) * math.exp(-rate * i) for i in range(steps)]


def _floor(exp: _Experiment, plan: _Plan, rng: random.Random) -> float:
    off = abs(math.log10(plan.learning_rate / exp.best_lr))
    octaves = math.log2(plan.batch_size / exp.best_batch)
    return exp.floor * (1 + 0.22 * off + 0.03 * octaves**2) * rng.uniform(0.985, 1.015)


@dataclass
class _History:
    """One MLflow run's logged values: per step (1-based) ``loss`` and ``lr``; per
    validation ``(step, val_loss, accuracy)``; ``times[i]`` is step i+1's time (ms)."""

    loss: list[float]
    lr: list[float]
    evals: list[tuple[int, float, float]]
    times: list[int]
    end_ms: int


def _history(
    rng: random.Random, exp: _Experiment, plan: _Plan, steps: int, started: datetime
) -> _History:
    smooth = _descent(rng, steps, exp.start, _floor(exp, plan, rng))
    noise = 0.012 * exp.start
    loss = [max(0.01, v + rng.gauss(0, noise)) for v in smooth]
    done = steps
    if plan.status == "FAILED":  # diverged: the loss blows up for 40 steps, then the job dies
        done = int(steps * 0.42)
        for j, i in enumerate(range(done - 40, done)):
            loss[i] *= math.exp(0.035 * j)
            smooth[i] *= math.exp(0.035 * j)
    loss = loss[:done]
    warmup = max(1, steps // 20)
    lr = [
        plan.learning_rate * min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * i / steps))
        for i in range(done)
    ]
    every = steps // exp.evals
    evals = []
    for k in range(every, done + 1, every):
        val = smooth[k - 1] + 0.02 * exp.start + exp.overfit * (k / steps) ** 3
        val += rng.gauss(0, 0.004 * exp.start)
        acc = min(0.999, max(0.01, exp.acc_top - exp.acc_slope * val + rng.gauss(0, 0.002)))
        evals.append((k, val, acc))
    period = rng.uniform(2800, 3600)  # ms a step
    t0 = _ms(started) + rng.randint(0, 999)
    times = [t0 + round((i + 1) * period) + rng.randint(0, 400) for i in range(done)]
    return _History(loss, lr, evals, times, times[-1] + rng.randint(15_000, 60_000))


def _mlflow_experiment(
    s: _Seeder, exp_id: str, name: str, created: datetime, synced: datetime
) -> None:
    """``mlflow/<exp id>/meta.yaml`` as MLflow's FileStore writes an experiment's."""
    record = {
        "artifact_location": f"s3://{BUCKET}/mlflow/{exp_id}",
        "creation_time": _ms(created),
        "experiment_id": exp_id,
        "last_update_time": _ms(created),
        "lifecycle_stage": "active",
        "name": name,
    }
    s.put(BUCKET, f"mlflow/{exp_id}/meta.yaml", art.mlflow_yaml(record), synced)


def _mlflow_run(
    s: _Seeder, exp_id: str, exp: _Experiment, plan: _Plan, started: datetime, big_bytes: int
) -> datetime:
    """One MLflow run: its file-store metadata (``meta.yaml``, ``params/``, ``metrics/``,
    ``tags/``) and its ``artifacts/``. Returns when the metadata was synced to the bucket."""
    rng = s.rng
    run_id = _uuid4(rng).hex
    run_name = f"{rng.choice(_ADJECTIVES)}-{rng.choice(_ANIMALS)}-{rng.randint(1, 999)}"
    steps = rng.randint(260, 340)
    h = _history(rng, exp, plan, steps, started)
    failed = plan.status == "FAILED"
    finished = _from_ms(h.end_ms)
    base = f"mlflow/{exp_id}/{run_id}/"
    meta = {"mlflow-run-id": run_id, "experiment": exp.name}

    def put(key: str, body: bytes, minutes: float = 0.0, **kw: Any) -> None:
        kw.setdefault("metadata", meta)
        s.put(BUCKET, base + "artifacts/" + key, body, finished + timedelta(minutes=minutes), **kw)

    params: dict[str, Any] = {
        "model": exp.model,
        "learning_rate": plan.learning_rate,
        "batch_size": plan.batch_size,
        **exp.params,
        **plan.extra,
    }
    losses = [round(v, 4) for v in h.loss]
    put("params.json", json.dumps(params, indent=2).encode())
    failure = f"loss is nan at step {len(losses) + 1}" if failed else None
    log = art.train_log(
        rng,
        run_name,
        started,
        losses,
        h.lr,
        times=[_from_ms(t) for t in h.times],
        evals={k: (val, acc) for k, val, acc in h.evals},
        failure=failure,
    )
    put("train.log", log)
    last_epoch = len(h.evals) - 1
    if failed:  # the last epoch checkpoint before the loss blew up; no model
        state = {"epoch": last_epoch, "global_step": h.evals[-1][0], "state_dict": {}}
        put(f"checkpoints/epoch={last_epoch:02d}-step={h.evals[-1][0]}.ckpt",
            art.torch_like_checkpoint(state), -5)  # fmt: skip
    else:
        val_loss, accuracy = h.evals[-1][1], h.evals[-1][2]
        metrics = {
            "loss": losses[-1],
            "val_loss": round(val_loss, 4),
            "accuracy": round(accuracy, 4),
            "epoch": exp.params["epochs"],
            "step": steps,
        }
        put("metrics.json", json.dumps(metrics, indent=2).encode())
        put("plots/loss_curve.png", art.line_chart_png([losses, [v for _, v, _ in h.evals]]), 0.5)
        # training accuracy: the validation mapping, a little above it (no label smoothing)
        train_acc = [min(0.999, max(0.0, exp.acc_top + 0.02 - exp.acc_slope * v)) for v in losses]
        history = art.history_columns(losses, train_acc)
        put("metrics/history.csv", art.csv_table(history))
        put("metrics/history.parquet", art.parquet_table(history))
        put("model/MLmodel", _mlmodel(run_id, finished).encode(), 1)
        put("model/requirements.txt", b"mlflow==2.16.0\ntorch==2.4.0\nsafetensors==0.4.5\n", 1)
        put("model/conda.yaml", b"name: mlflow-env\ndependencies:\n  - python=3.11.9\n", 1)
        weights = {"fc.weight": [256, 128], "fc.bias": [256], "embed.weight": [512, 128]}
        put("model/data/model.safetensors", art.safetensors_file(weights, rng), 1)
        top5 = {"top1": round(accuracy, 4), "top5": round(min(0.999, accuracy + 0.17), 4)}
        put("eval/per_class/val/top5/summary.json", json.dumps(top5).encode(), 2)
        if exp_id != "3":
            state = {
                "epoch": last_epoch,
                "global_step": steps,
                "state_dict": {"fc.bias": [0.0] * 16},
            }
            put(f"checkpoints/epoch={last_epoch:02d}-step={steps}.ckpt",
                art.torch_like_checkpoint(state), -1)  # fmt: skip
        if big_bytes:  # one float16 tensor; the header adds ~100 bytes to the size
            tensor = {"base_model.lora_A.weight": [max(1, (big_bytes - 128) // 2)]}
            put("checkpoints/adapter_model.safetensors", art.safetensors_file(tensor, rng), -1)
    synced = finished + timedelta(minutes=rng.uniform(3, 9))  # aws s3 sync mlruns ...
    _mlflow_file_store(s, base, exp_id, run_id, run_name, exp, plan, params, h, started, synced)
    return synced


def _mlflow_file_store(
    s: _Seeder,
    base: str,
    exp_id: str,
    run_id: str,
    run_name: str,
    exp: _Experiment,
    plan: _Plan,
    params: dict[str, Any],
    h: _History,
    started: datetime,
    synced: datetime,
) -> None:
    """The run's FileStore files, byte for byte as ``mlflow.store.tracking.file_store``
    writes them (checked against mlflow-skinny 2.22's own FileStore): ``meta.yaml`` is
    ``yaml.safe_dump`` of the RunInfo record (status as a number, times in ms), a param or
    tag file holds its value with no newline, a metric file one line per value."""

    def put(rel: str, body: bytes) -> None:
        s.put(BUCKET, base + rel, body, synced)

    record = {
        "artifact_uri": f"s3://{BUCKET}/{base}artifacts",
        "end_time": h.end_ms,
        "entry_point_name": "",
        "experiment_id": exp_id,
        "lifecycle_stage": "active",
        "run_id": run_id,
        "run_name": run_name,
        "run_uuid": run_id,
        "source_name": "",
        "source_type": 4,  # SourceType.LOCAL
        "source_version": "",
        "start_time": _ms(started),
        "status": _STATUS[plan.status],
        "tags": [],
        "user_id": exp.user,
    }
    put("meta.yaml", art.mlflow_yaml(record))
    for name, value in params.items():  # mlflow.log_params sends str(value)
        put(f"params/{name}", str(value).encode())
    steps = range(1, len(h.loss) + 1)
    losses = [(t, art.float32(v), n) for t, v, n in zip(h.times, h.loss, steps, strict=True)]
    put("metrics/loss", art.mlflow_metric_file(losses))
    rates = [(t, v, n) for t, v, n in zip(h.times, h.lr, steps, strict=True)]
    put("metrics/learning_rate", art.mlflow_metric_file(rates))
    evals = [(h.times[k - 1] + 4000, k, val, acc) for k, val, acc in h.evals]
    put(
        "metrics/val_loss", art.mlflow_metric_file([(t, art.float32(v), k) for t, k, v, _ in evals])
    )
    put(
        "metrics/accuracy", art.mlflow_metric_file([(t, art.float32(a), k) for t, k, _, a in evals])
    )
    tags = {
        "mlflow.runName": run_name,
        "mlflow.source.git.commit": s.hex(40),
        "mlflow.source.name": exp.script,
        "mlflow.source.type": "LOCAL",
        "mlflow.user": exp.user,
    }
    if plan.keep:
        tags["pail.keep"] = "true"
    for name, value in tags.items():
        put(f"tags/{name}", value.encode())


def _mlmodel(run_id: str, when: datetime) -> str:
    return (
        "artifact_path: model\n"
        "flavors:\n"
        "  python_function:\n"
        "    loader_module: mlflow.pytorch\n"
        "    python_version: 3.11.9\n"
        "  pytorch:\n"
        "    model_data: data\n"
        "    pytorch_version: 2.4.0\n"
        "mlflow_version: 2.16.0\n"
        f"run_id: {run_id}\n"
        f"utc_time_created: '{when:%Y-%m-%d %H:%M:%S.%f}'\n"
    )


#: ZenML pipeline runs of ``training_pipeline``: (days ago, rows of data, learning rate,
#: epochs); each run's steps write their outputs minutes apart, runs are days apart.
_ZENML_RUNS = (
    (12.0, 1800, 1e-3, 5),
    (9.3, 2000, 3e-4, 5),
    (5.1, 2400, 3e-4, 8),
    (1.4, 2400, 1e-4, 8),
)


def _zenml(s: _Seeder, now: datetime) -> None:
    """A ZenML artifact store at ``zenml/``, laid out as ``generate_artifact_uri`` (ZenML's
    ``orchestrators/output_utils.py``) makes it: ``<step name>/<output name>/<step run
    id>/<first 8 characters of a uuid4>/``, holding what the output's materializer writes
    (pandas with pyarrow: ``metadata.txt`` with the row count, ``df.parquet_0`` and the
    ``describe.csv`` visualization; built-in types: ``data.json``; PyTorch modules:
    ``entire_model.pt`` and ``checkpoint.pt``). Each step's log is where
    ``step_logging.prepare_logs_uri`` puts it on an object store,
    ``<step name>/logs/<uuid4>/``, merged at the step's end into one
    ``<time.time()>_merged.log`` of ``[YYYY-MM-DD HH:MM:SS UTC] message`` lines."""
    rng = s.rng
    root = "zenml/"

    def output(step: str, name: str, step_run: uuid.UUID, files: dict[str, bytes], t: datetime):
        folder = f"{root}{step}/{name}/{step_run}/{str(_uuid4(rng))[:8]}/"
        for rel, body in files.items():
            s.put(BUCKET, folder + rel, body, t)

    def logs(step: str, began: datetime, t: datetime, messages: list[str]) -> None:
        span = (t - began) / max(1, len(messages) - 1)
        lines = [f"[{began + span * i:%Y-%m-%d %H:%M:%S} UTC] {m}" for i, m in enumerate(messages)]
        key = f"{root}{step}/logs/{_uuid4(rng)}/{t.timestamp():.6f}_merged.log"
        s.put(BUCKET, key, ("\n".join(lines) + "\n").encode(), t)

    for days, rows, lr, epochs in _ZENML_RUNS:
        t = now - timedelta(days=days, hours=rng.uniform(0, 6))
        step_run = _uuid4(rng)
        began, t = t, t + timedelta(seconds=rng.uniform(20, 60))
        split = int(rows * 0.8)
        for name, n in (("dataset_trn", split), ("dataset_tst", rows - split)):
            table: dict[str, list[Any]] = {
                "feature_a": [round(rng.gauss(0, 1), 4) for _ in range(n)],
                "feature_b": [round(rng.gauss(5, 2), 4) for _ in range(n)],
                "target": [rng.randint(0, 1) for _ in range(n)],
            }
            frame = {
                "describe.csv": _describe_csv(table),
                "df.parquet_0": art.parquet_table(table),
                "metadata.txt": str(n).encode(),
            }
            output("make_data", name, step_run, frame, t)
        logs("make_data", began, t, ["Step make_data has started.", f"Loaded {rows} rows.",
                                     "Step make_data has finished."])  # fmt: skip
        step_run = _uuid4(rng)
        began, t = t, t + timedelta(minutes=rng.uniform(6, 20))
        weights = {"linear.weight": [round(rng.gauss(0, 0.1), 4) for _ in range(64)]}
        state = {"epoch": epochs, "lr": lr, "state_dict": weights}
        model = {
            "entire_model.pt": art.torch_like_checkpoint(state),
            "checkpoint.pt": art.torch_like_checkpoint(weights),
        }
        output("train_model", "model", step_run, model, t)
        losses = art.loss_curve(rng, epochs, start=0.69, floor=0.2 + lr * 80)
        logs("train_model", began, t, ["Step train_model has started.", f"lr={lr}"]
             + [f"epoch {e + 1}/{epochs} loss={v:.4f}" for e, v in enumerate(losses)]
             + ["Step train_model has finished."])  # fmt: skip
        step_run = _uuid4(rng)
        began, t = t, t + timedelta(seconds=rng.uniform(30, 90))
        accuracy = round(0.96 - losses[-1] * 0.25 + rng.gauss(0, 0.004), 4)
        report = {"accuracy": accuracy, "f1": round(accuracy - 0.015, 4),
                  "val_loss": round(losses[-1] + 0.03, 4)}  # fmt: skip
        output("evaluate_model", "metrics", step_run, {"data.json": json.dumps(report).encode()}, t)
        output(
            "evaluate_model", "test_acc", step_run, {"data.json": json.dumps(accuracy).encode()}, t
        )
        logs("evaluate_model", began, t, ["Step evaluate_model has started.",
             f"Test accuracy: {accuracy}", "Step evaluate_model has finished."])  # fmt: skip


def _describe_csv(table: dict[str, list[Any]]) -> bytes:
    """``df.describe().to_csv()`` of a frame of numeric columns: count, mean, std (n - 1),
    min, the quartiles (linear interpolation) and max per column."""
    import statistics

    def quantile(values: list[float], q: float) -> float:
        ordered = sorted(values)
        pos = (len(ordered) - 1) * q
        low = int(pos)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)

    stats: dict[str, list[float]] = {}
    for name, column in table.items():
        values = [float(v) for v in column]
        stats[name] = [
            float(len(values)),
            statistics.fmean(values),
            statistics.stdev(values),
            min(values),
            quantile(values, 0.25),
            quantile(values, 0.5),
            quantile(values, 0.75),
            max(values),
        ]
    lines = ["," + ",".join(table)]
    for i, label in enumerate(("count", "mean", "std", "min", "25%", "50%", "75%", "max")):
        lines.append(label + "," + ",".join(repr(stats[name][i]) for name in table))
    return ("\n".join(lines) + "\n").encode()


def _dataset(s: _Seeder, when: datetime, shards: int) -> None:
    """A dataset with ``shards`` keys under one prefix, to show paging."""
    base = "datasets/imagenet-mini/"
    s.put(
        BUCKET, base + "README.md", b"# imagenet-mini\n\n1,000 classes, webdataset shards.\n", when
    )
    labels = "class_id,label\n" + "".join(f"{i},n{i:08d}\n" for i in range(1000))
    s.put(BUCKET, base + "labels.csv", labels.encode(), when)
    pool = s.rng.randbytes(4096)
    for i in range(shards):
        body = pool[: 256 + (i * 37) % 3800]
        s.put(BUCKET, f"{base}shards/shard-{i:05d}.tar", body, when, storage="STANDARD_IA")


def _team_models(s: _Seeder, now: datetime) -> None:
    """The model registry bucket. It is versioned, with an overwritten pointer and one
    deleted model (a delete marker on top of its data), so restore can be tried."""
    rng = s.rng
    s.backend.put_bucket_versioning(SECOND_BUCKET, "Enabled")
    for v in (1, 2, 3):
        when = now - timedelta(days=100 - v * 30)
        weights = art.safetensors_file({"fc.weight": [1000, 256], "fc.bias": [1000]}, rng)
        s.put(SECOND_BUCKET, f"registry/resnet50/v{v}/model.safetensors", weights, when)
    for v in (1, 2, 3):  # each release overwrote the pointer: three versions of one key
        pointer = json.dumps({"version": v, "uri": f"s3://team-models/registry/resnet50/v{v}/"})
        when = now - timedelta(days=100 - v * 30)
        s.put(SECOND_BUCKET, "registry/resnet50/latest.json", pointer.encode(), when)
    # v1 was deleted by mistake: on a versioned bucket that only adds a delete marker.
    s.backend.delete_object(SECOND_BUCKET, "registry/resnet50/v1/model.safetensors")
    when = now - timedelta(days=2)
    adapter = {"r": 16, "lora_alpha": 32, "target_modules": ["q_proj", "v_proj"]}
    s.put(SECOND_BUCKET, "registry/llama3-8b-support/v1/adapter_config.json",
          json.dumps(adapter, indent=2).encode(), when)  # fmt: skip
    for i in range(3):  # Llama Stack's S3 files provider stores uploads by file id
        rows = "".join(
            json.dumps({"prompt": f"q{j}", "completion": f"a{j}"}) + "\n" for j in range(20)
        )
        s.put(SECOND_BUCKET, f"llama-stack/files/file-{s.hex(24)}", rows.encode(),
              now - timedelta(days=5 - i), metadata={"filename": f"support-{i}.jsonl"})  # fmt: skip
    _modelkit(s, now)


def _modelkit(s: _Seeder, now: datetime) -> None:
    """modelkit assets under ``modelkit/assets/`` as its ``StorageProvider`` pushes them
    (``modelkit/assets/remote.py``): a version's object is ``<prefix>/<name>/<version>``
    (a file asset) or the files under it (a directory asset), ``<version>.meta`` is
    ``json.dump`` of ``{"push_date": <UTC isoformat>, "is_directory": …}`` (plus the sorted
    ``contents`` of a directory), and ``<name>.versions`` lists the versions, newest first,
    rewritten at every push (the bucket is versioned, so its old copies stay)."""
    rng = s.rng
    prefix = "modelkit/assets/"
    assets = {  # name -> [(version, days ago)], oldest first
        "tokenizer": [("0.0", 150), ("1.0", 60), ("1.1", 20)],
        "sentiment-classifier": [("0.0", 90), ("0.1", 45), ("0.2", 12), ("0.3", 4)],
    }
    for name, versions in assets.items():
        pushed: list[str] = []
        for version, days in versions:
            when = now - timedelta(days=days, hours=rng.uniform(0, 8))
            obj = f"{prefix}{name}/{version}"
            meta: dict[str, Any] = {
                "push_date": when.isoformat(),
                "is_directory": name == "tokenizer",
            }
            if name == "tokenizer":
                size = 500 + 250 * len(pushed)
                files = {
                    "vocab.txt": "\n".join(f"tok{i}" for i in range(size)).encode(),
                    "special_tokens.json": json.dumps(
                        {"pad": 0, "unk": 1, "bos": 2, "eos": 3}
                    ).encode(),
                }
                meta["contents"] = sorted(files)
                for n, (rel, body) in enumerate(files.items()):  # uploaded after push_date
                    s.put(SECOND_BUCKET, f"{obj}/{rel}", body, when + timedelta(seconds=1 + n))
            else:
                hidden = 64 + 32 * len(pushed)
                weights = {
                    "dense.weight": [hidden, 128],
                    "dense.bias": [hidden],
                    "out.weight": [3, hidden],
                }
                body = art.safetensors_file(
                    weights, rng, metadata={"format": "pt", "version": version}
                )
                s.put(SECOND_BUCKET, obj, body, when + timedelta(seconds=1))
            s.put(
                SECOND_BUCKET, f"{obj}.meta", json.dumps(meta).encode(), when + timedelta(seconds=3)
            )
            pushed.insert(0, version)
            listing = json.dumps({"versions": pushed}).encode()
            s.put(SECOND_BUCKET, f"{prefix}{name}.versions", listing, when + timedelta(seconds=4))


#: Lightning logger versions: (learning rate, batch size, hidden units, dropout, epochs run,
#: days ago). The last one was stopped by hand after 4 of 10 epochs.
_LIGHTNING = (
    (1e-3, 64, 256, 0.1, 10, 20),
    (3e-3, 64, 256, 0.1, 10, 17),
    (1e-3, 128, 512, 0.2, 10, 13),
    (3e-4, 32, 512, 0.2, 10, 9),
    (1e-3, 128, 512, 0.3, 4, 2),
)
#: The Hugging Face Trainer's run: steps, checkpoint every, log every, epoch length in steps.
_HF_STEPS, _HF_SAVE, _HF_LOG, _HF_EPOCH = 1000, 250, 25, 334


def seed_local_folder(root: str, rng: random.Random, now: datetime) -> None:
    """Write the local demo folder: ``lightning-logs/`` and ``hf-trainer/`` (each a bucket
    of the folder-of-buckets connection). Only those two sub-folders are replaced; each
    file's modification time is when its tool would have written it."""
    files: dict[str, tuple[bytes, datetime]] = {}
    _lightning(files, rng, now)
    _hf_trainer(files, rng, now - timedelta(days=6, hours=rng.uniform(0, 6)))
    for top in ("lightning-logs", "hf-trainer"):
        shutil.rmtree(os.path.join(root, top), ignore_errors=True)
    for rel, (body, when) in sorted(files.items()):
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(body)
        stamp = when.timestamp()
        os.utime(path, (stamp, stamp))


def _lightning(files: dict[str, tuple[bytes, datetime]], rng: random.Random, now: datetime) -> None:
    """``lightning_logs/version_N/`` as Lightning's CSVLogger and ModelCheckpoint(monitor=
    "val_loss", save_top_k=2) leave them: ``hparams.yaml``, ``metrics.csv`` (``train_loss``
    every 50 steps, ``val_loss``/``val_acc`` at each epoch's end) and
    ``checkpoints/epoch=E-step=S.ckpt`` for the two best epochs."""
    samples = 12_800
    for version, (lr, batch, hidden, dropout, epochs, days) in enumerate(_LIGHTNING):
        base = f"lightning-logs/lightning_logs/version_{version}/"
        started = now - timedelta(days=days, hours=rng.uniform(0, 8))
        per_epoch = samples // batch
        steps = per_epoch * 10
        off = abs(math.log10(lr / 1e-3)) + 0.15 * abs(math.log2(batch / 64))
        floor = (
            (0.28 - 0.00008 * hidden + 0.1 * dropout) * (1 + 0.6 * off) * rng.uniform(0.97, 1.03)
        )
        smooth = _descent(rng, steps, 2.3, floor)
        second = rng.uniform(0.3, 0.5)  # seconds a step
        hparams = {"batch_size": batch, "dropout": dropout, "hidden_dim": hidden, "lr": lr,
                   "max_epochs": 10, "optimizer": "adam"}  # fmt: skip
        files[base + "hparams.yaml"] = (art.lightning_hparams_yaml(hparams), started)
        rows: list[dict[str, Any]] = []
        vals: list[tuple[float, int, int]] = []
        for step in range(per_epoch * epochs):
            epoch = step // per_epoch
            if (step + 1) % 50 == 0:
                loss = max(0.01, smooth[step] + rng.gauss(0, 0.03))
                rows.append({"epoch": epoch, "step": step, "train_loss": art.float32(loss)})
            if (step + 1) % per_epoch == 0:
                val = smooth[step] + 0.04 + 0.05 * (step / steps) ** 3 + rng.gauss(0, 0.008)
                acc = min(0.999, 1.0 - 0.42 * val + rng.gauss(0, 0.004))
                rows.append({"epoch": epoch, "step": step, "val_acc": art.float32(acc),
                             "val_loss": art.float32(val)})  # fmt: skip
                vals.append((val, epoch, step + 1))
        ended = started + timedelta(seconds=per_epoch * epochs * second + 5)
        files[base + "metrics.csv"] = (art.lightning_metrics_csv(rows), ended)
        for _val, epoch, global_step in sorted(vals)[:2]:
            state = {"epoch": epoch, "global_step": global_step,
                     "state_dict": {"layer.weight": [round(rng.gauss(0, 0.1), 4)] * hidden},
                     "hyper_parameters": hparams}  # fmt: skip
            when = started + timedelta(seconds=global_step * second + 1)
            name = f"checkpoints/epoch={epoch}-step={global_step}.ckpt"
            files[base + name] = (art.torch_like_checkpoint(state), when)


def _hf_trainer(
    files: dict[str, tuple[bytes, datetime]], rng: random.Random, started: datetime
) -> None:
    """A Hugging Face Trainer's output folder (``output_dir="hf-trainer"``, eval and save
    every 250 steps, log every 25, ``load_best_model_at_end`` on ``eval_loss``): one
    ``checkpoint-<step>/`` per save with the TrainerState of that moment
    (``trainer_state.json``: ``log_history`` with the training and evaluation logs so far,
    ``best_metric``/``best_model_checkpoint``), the model, optimizer and scheduler; the best
    model saved at the top at the end."""
    second = 0.45  # a step
    smooth = _descent(rng, _HF_STEPS, 0.69, 0.21)
    config = {
        "_name_or_path": "distilbert-base-uncased", "activation": "gelu",
        "architectures": ["DistilBertForSequenceClassification"], "attention_dropout": 0.1,
        "dim": 768, "dropout": 0.1, "hidden_dim": 3072,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02, "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "max_position_embeddings": 512, "model_type": "distilbert", "n_heads": 12, "n_layers": 6,
        "pad_token_id": 0, "problem_type": "single_label_classification", "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False, "tie_weights_": True,
        "torch_dtype": "float32", "transformers_version": "4.52.4", "vocab_size": 30522,
    }  # fmt: skip
    config_json = (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()
    args = {"output_dir": "hf-trainer", "learning_rate": 5e-5, "per_device_train_batch_size": 32,
            "max_steps": _HF_STEPS, "eval_strategy": "steps", "eval_steps": _HF_SAVE,
            "save_steps": _HF_SAVE, "logging_steps": _HF_LOG, "load_best_model_at_end": True,
            "metric_for_best_model": "eval_loss", "seed": 42}  # fmt: skip
    history: list[dict[str, Any]] = []
    best: tuple[float, int] | None = None
    weights = {
        "distilbert.embeddings.word_embeddings.weight": [256, 64],
        "pre_classifier.weight": [64, 64],
        "classifier.weight": [2, 64],
        "classifier.bias": [2],
    }
    model = b""
    for step in range(_HF_LOG, _HF_STEPS + 1, _HF_LOG):
        window = smooth[step - _HF_LOG : step]
        history.append({
            "epoch": step / _HF_EPOCH,
            "grad_norm": art.float32(rng.uniform(1.5, 6.0) * (1.2 - step / _HF_STEPS)),
            "learning_rate": 5e-5 * (_HF_STEPS - step) / _HF_STEPS,
            "loss": round(sum(window) / len(window) + rng.gauss(0, 0.01), 4),
            "step": step,
        })  # fmt: skip
        if step % _HF_SAVE:
            continue
        eval_loss = smooth[step - 1] + 0.03 + 0.06 * (step / _HF_STEPS) ** 3 + rng.gauss(0, 0.003)
        runtime = round(rng.uniform(4.0, 4.6), 4)
        history.append({
            "epoch": step / _HF_EPOCH,
            "eval_accuracy": round(min(0.999, 1.02 - 0.4 * eval_loss), 4),
            "eval_loss": art.float32(eval_loss),
            "eval_runtime": runtime,
            "eval_samples_per_second": round(872 / runtime, 3),
            "eval_steps_per_second": round(109 / runtime, 3),
            "step": step,
        })  # fmt: skip
        if best is None or eval_loss < best[0]:
            best = (eval_loss, step)
        when = started + timedelta(seconds=step * second + 6)
        state = {
            "best_global_step": best[1],
            "best_metric": art.float32(best[0]),
            "best_model_checkpoint": f"hf-trainer/checkpoint-{best[1]}",
            "epoch": step / _HF_EPOCH,
            "eval_steps": _HF_SAVE,
            "global_step": step,
            "is_hyper_param_search": False,
            "is_local_process_zero": True,
            "is_world_process_zero": True,
            "log_history": history,
            "logging_steps": _HF_LOG,
            "max_steps": _HF_STEPS,
            "num_input_tokens_seen": 0,
            "num_train_epochs": 3,
            "save_steps": _HF_SAVE,
            "stateful_callbacks": {"TrainerControl": {"args": {
                "should_epoch_stop": False, "should_evaluate": False, "should_log": False,
                "should_save": True, "should_training_stop": step == _HF_STEPS,
            }, "attributes": {}}},
            "total_flos": float(round(1_655_724_000_000_000 * step / _HF_STEPS)),
            "train_batch_size": 32,
            "trial_name": None,
            "trial_params": None,
        }  # fmt: skip
        ckpt = f"hf-trainer/checkpoint-{step}/"
        body = art.safetensors_file(weights, rng)
        if best[1] == step:
            model = body
        optimizer: dict[str, Any] = {
            "state": {0: {"step": step, "exp_avg": [0.0] * 64}},
            "param_groups": [{"lr": 5e-5}],
        }
        # _save_checkpoint's order: the model, the optimizer and scheduler, the trainer
        # state, the RNG states; seconds apart.
        written = [
            ("config.json", config_json),
            ("model.safetensors", body),
            ("training_args.bin", pickle.dumps(args)),
            ("optimizer.pt", art.torch_like_checkpoint(optimizer)),
            ("scheduler.pt", art.torch_like_checkpoint({"last_epoch": step})),
            ("trainer_state.json", art.trainer_state_json(state)),
            ("rng_state.pth", art.torch_like_checkpoint({"python": rng.getrandbits(32)})),
        ]
        for n, (name, data) in enumerate(written):
            files[ckpt + name] = (data, when + timedelta(seconds=0.4 * n))
    end = started + timedelta(seconds=_HF_STEPS * second + 20)
    files["hf-trainer/config.json"] = (config_json, end)
    files["hf-trainer/model.safetensors"] = (model, end)
    files["hf-trainer/training_args.bin"] = (pickle.dumps(args), end)
    files["hf-trainer/README.md"] = (
        b"# distilbert-sst2\n\nFine-tuned with the HF Trainer; the best checkpoint "
        b"(by eval_loss) is saved at the top.\n", end)  # fmt: skip
