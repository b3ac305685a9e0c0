"""The demo store's contents: the bucket layout and the local folder (see :mod:`pail.demo.server`).

Objects go straight into moto's in-process S3 backend (20,000 keys in well under a second,
versus ~5 ms per HTTP PUT), with last-modified times spread over the past months so ages
differ between experiments and runs.
"""

from __future__ import annotations

import json
import mimetypes
import os
import pickle
import random
import shutil
from datetime import datetime, timedelta
from typing import Any

from pail.demo import artifacts as art

REGION = "us-east-1"
BUCKET = "ml-artifacts"
SECOND_BUCKET = "team-models"

# experiment id -> (name, model, number of runs, age of the first run in days)
EXPERIMENTS = {
    "1": ("resnet50-imagenet", "resnet50", 4, 75),
    "2": ("vit-small-cifar100", "vit-small-patch16", 3, 34),
    "3": ("llama3-8b-lora-support", "llama-3-8b", 3, 8),
}
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
    for exp_id, (name, model, runs, first_age) in EXPERIMENTS.items():
        for n in range(runs):
            started = now - timedelta(days=first_age - n * 2.5, hours=rng.uniform(0, 10))
            big = large_object_bytes if (exp_id == "3" and n == 0) else 0
            _mlflow_run(s, exp_id, name, model, started, big)
    _zenml(s, now - timedelta(days=12))
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


def _mlflow_run(
    s: _Seeder, exp_id: str, exp_name: str, model: str, started: datetime, big_bytes: int
) -> None:
    """One MLflow/FastTrackML run: ``mlflow/<experiment>/<run id>/artifacts/...``."""
    rng = s.rng
    run_id = s.hex(32)
    base = f"mlflow/{exp_id}/{run_id}/artifacts/"
    steps = rng.randint(260, 340)
    losses = art.loss_curve(rng, steps)
    val = [round(v + 0.05 + rng.gauss(0, 0.01), 4) for v in losses]
    lr = rng.choice([1e-4, 3e-4, 1e-3])
    finished = started + timedelta(minutes=steps * 3.2 / 60)
    meta = {"mlflow-run-id": run_id, "experiment": exp_name}

    def put(key: str, body: bytes, minutes: float = 0.0, **kw: Any) -> None:
        kw.setdefault("metadata", meta)
        s.put(BUCKET, base + key, body, finished + timedelta(minutes=minutes), **kw)

    params = {
        "model": model,
        "learning_rate": lr,
        "batch_size": rng.choice([32, 64, 128]),
        "epochs": 10,
        "optimizer": "adamw",
        "weight_decay": 0.05,
        "seed": 42,
    }
    put("params.json", json.dumps(params, indent=2).encode())
    metrics = {
        "loss": losses[-1],
        "val_loss": val[-1],
        "accuracy": round(min(0.99, 1.05 - losses[-1] / 2.5), 4),
        "epoch": 10,
        "step": steps,
    }
    put("metrics.json", json.dumps(metrics, indent=2).encode())
    put("train.log", art.train_log(rng, run_id[:8], started, losses, lr))
    put("plots/loss_curve.png", art.line_chart_png([losses, val]), 0.5)
    history = art.history_columns(losses)
    put("metrics/history.csv", art.csv_table(history))
    put("metrics/history.parquet", art.parquet_table(history))
    put("model/MLmodel", _mlmodel(run_id, finished).encode(), 1)
    put("model/requirements.txt", b"mlflow==2.16.0\ntorch==2.4.0\nsafetensors==0.4.5\n", 1)
    put("model/conda.yaml", b"name: mlflow-env\ndependencies:\n  - python=3.11.9\n", 1)
    weights = {"fc.weight": [256, 128], "fc.bias": [256], "embed.weight": [512, 128]}
    put("model/data/model.safetensors", art.safetensors_file(weights, rng), 1)
    top5 = {"top1": round(rng.uniform(0.6, 0.8), 4), "top5": round(rng.uniform(0.85, 0.95), 4)}
    put("eval/per_class/val/top5/summary.json", json.dumps(top5).encode(), 2)
    if exp_id != "3":
        state = {"epoch": 9, "global_step": steps, "state_dict": {"fc.bias": [0.0] * 16}}
        put(f"checkpoints/epoch=09-step={steps}.ckpt", art.torch_like_checkpoint(state), -1)
    if big_bytes:  # one float16 tensor; the header adds ~100 bytes to the size
        tensor = {"base_model.lora_A.weight": [max(1, (big_bytes - 128) // 2)]}
        put("checkpoints/adapter_model.safetensors", art.safetensors_file(tensor, rng), -1)


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


def _zenml(s: _Seeder, when: datetime) -> None:
    """ZenML-style step outputs: ``zenml/<step>/<output>/<artifact uuid>/...``."""
    rng = s.rng
    losses = art.loss_curve(rng, 120)
    table = art.history_columns(losses)
    s.put(
        BUCKET, f"zenml/importer/dataset/{s.hex(32)}/data.parquet", art.parquet_table(table), when
    )
    weights = art.safetensors_file({"linear.weight": [64, 64]}, rng)
    s.put(BUCKET, f"zenml/trainer/model/{s.hex(32)}/model.safetensors", weights, when)
    body = json.dumps({"accuracy": 0.913, "f1": 0.897}).encode()
    s.put(BUCKET, f"zenml/evaluator/metrics/{s.hex(32)}/data.json", body, when)


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
    for version in ("1.0", "1.1"):
        vocab = "\n".join(f"tok{i}" for i in range(500)).encode()
        s.put(SECOND_BUCKET, f"modelkit/assets/tokenizer/{version}/vocab.txt", vocab,
              now - timedelta(days=60 if version == "1.0" else 20))  # fmt: skip


def seed_local_folder(root: str, rng: random.Random, now: datetime) -> None:
    """Write the local demo folder: ``lightning-logs/`` and ``hf-trainer/`` (each a bucket
    of the folder-of-buckets connection). Only those two sub-folders are replaced."""
    files: dict[str, bytes] = {}
    for version in (0, 1):
        base = f"lightning-logs/lightning_logs/version_{version}/"
        losses = art.loss_curve(rng, 200)
        files[base + "hparams.yaml"] = f"lr: 0.001\nbatch_size: 64\nversion: {version}\n".encode()
        files[base + "metrics.csv"] = art.csv_table(art.history_columns(losses))
        state = {"epoch": 4, "global_step": 500, "state_dict": {"layer.weight": [0.1] * 8}}
        files[base + "checkpoints/epoch=4-step=500.ckpt"] = art.torch_like_checkpoint(state)
    ckpt = "hf-trainer/checkpoint-500/"
    files[ckpt + "config.json"] = json.dumps({"model_type": "bert", "hidden_size": 256}).encode()
    state = {"global_step": 500, "log_history": [{"loss": v} for v in art.loss_curve(rng, 50)]}
    files[ckpt + "trainer_state.json"] = json.dumps(state, indent=2).encode()
    files[ckpt + "model.safetensors"] = art.safetensors_file({"w": [256, 256]}, rng)
    files[ckpt + "training_args.bin"] = pickle.dumps({"learning_rate": 5e-5, "num_epochs": 3})
    files["hf-trainer/README.md"] = b"# fine-tune output\n\nCheckpoints from the HF Trainer.\n"
    for top in ("lightning-logs", "hf-trainer"):
        shutil.rmtree(os.path.join(root, top), ignore_errors=True)
    for n, (rel, body) in enumerate(sorted(files.items())):
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(body)
        stamp = (now - timedelta(days=20 - n, hours=rng.uniform(0, 5))).timestamp()
        os.utime(path, (stamp, stamp))
