"""Run layouts written byte for byte the way each tool writes them, for the run detection
tests (tests/services/runs/test_layout_*.py).

PyTorch Lightning and Hugging Face transformers need torch, which does not install within
the test budget, so their files are reproduced here from their source with the library
call the tool itself makes; modelkit and ZenML likewise (their clients pull in servers and
cloud SDKs). Each generator says which source file it follows. Binary payloads that
detection never reads (torch pickles, TFRecords, parquet) are stand-ins of the right kind
(a zip as ``torch.save`` writes one) or plain bytes; their names and places are exact.

Every generator returns ``{key: bytes}``; :func:`entries` turns that into the listing a
driver would return (for ``runs_from_objects``) and :func:`write_folder` into a folder the
local driver serves (for ``detect_runs``), with chosen object times.
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from pail.drivers.base import Entry
from support.stores import checkpoint, safetensors

Files = dict[str, bytes]

#: Object times of the tests (UTC).
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


# -- listings ---------------------------------------------------------------------------------


def time_of(key: str, times: Mapping[str, datetime], default: datetime = T0) -> datetime:
    """The time for ``key``: ``times`` maps a key or key prefix to a time; the longest one
    that ``key`` starts with wins, else ``default``."""
    best = ""
    for prefix in times:
        if key.startswith(prefix) and len(prefix) >= len(best):
            best = prefix
    return times.get(best, default)


def entries(files: Mapping[str, bytes], times: Mapping[str, datetime] | None = None) -> list[Entry]:
    """``files`` as a recursive listing returns them: objects in UTF-8 key order, with
    sizes and last-modified times (:func:`time_of`)."""
    times = times or {}
    keys = sorted(files, key=lambda k: k.encode("utf-8"))
    return [
        Entry(key, "object", size=len(files[key]), last_modified=time_of(key, times))
        for key in keys
    ]


def write_folder(
    root: Path, files: Mapping[str, bytes], times: Mapping[str, datetime] | None = None
) -> None:
    """Write ``files`` under the folder ``root`` (a local driver's bucket) and set each
    file's modification time (:func:`time_of`)."""
    times = times or {}
    for key, data in files.items():
        path = root.joinpath(*key.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stamp = time_of(key, times).timestamp()
        os.utime(path, (stamp, stamp))


# -- PyTorch Lightning --------------------------------------------------------------------------


def lightning_hparams_yaml(hparams: Mapping[str, Any]) -> bytes:
    """``hparams.yaml`` as ``lightning.pytorch.core.saving.save_hparams_to_yaml`` writes it
    without OmegaConf: ``yaml.dump(hparams, fp)`` (PyYAML's defaults: sorted keys, block
    style; a tuple becomes ``!!python/tuple``)."""
    return yaml.dump(dict(hparams)).encode()


def lightning_metrics_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """``metrics.csv`` as CSVLogger's ``_ExperimentWriter.save`` writes it
    (``lightning/fabric/loggers/csv_logs.py``): the file is opened with ``newline=""``,
    the header is every key logged so far, sorted (``_record_new_keys``), and
    ``csv.DictWriter`` writes one row per ``log_metrics`` call with empty cells for keys a
    call did not log, lines ending in ``\\r\\n`` (the csv module's default)."""
    keys = sorted(set().union(*rows)) if rows else []
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


def lightning_rows(epochs: int = 2, steps_per_epoch: int = 4, *, seed: float = 0.0) -> list[dict]:
    """What a LightningModule logging ``train_loss`` every step and ``val_loss`` /
    ``val_acc`` once an epoch hands CSVLogger: the Trainer adds ``epoch`` to each call and
    passes the global step as ``step``; values are float32 tensors' ``.item()``."""
    rows: list[dict] = []
    step = 0
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            loss = 1.0 / (step + 2) + seed
            rows.append({"train_loss": loss, "epoch": epoch, "step": step})
            step += 1
        rows.append(
            {
                "val_loss": 0.9 / (epoch + 1) + seed,
                "val_acc": 0.6 + 0.1 * epoch - seed,
                "epoch": epoch,
                "step": step - 1,
            }
        )
    return rows


def lightning_version(
    folder: str,
    *,
    hparams: Mapping[str, Any] | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
    checkpoints: Sequence[tuple[int, int]] = (),
    last: bool = False,
    events: bool = False,
) -> Files:
    """One ``version_N/`` folder (``folder`` ends in ``/``): ``hparams.yaml`` and
    ``metrics.csv`` (CSVLogger) when given, ``checkpoints/epoch=E-step=S.ckpt`` per
    ``(E, S)`` (ModelCheckpoint's default ``{epoch}-{step}`` name; ``last.ckpt`` with
    ``last``), and a TensorBoardLogger event file named as tensorboard's
    ``EventFileWriter`` names it (``events.out.tfevents.%010d.%s.%s.%s``; stand-in bytes)."""
    files: Files = {}
    if hparams is not None:
        files[folder + "hparams.yaml"] = lightning_hparams_yaml(hparams)
    if rows is not None:
        files[folder + "metrics.csv"] = lightning_metrics_csv(rows)
    for epoch, step in checkpoints:
        files[f"{folder}checkpoints/epoch={epoch}-step={step}.ckpt"] = _torch_save()
    if last:
        files[f"{folder}checkpoints/last.ckpt"] = _torch_save()
    if events:
        stamp = int(T0.timestamp())
        files[f"{folder}events.out.tfevents.{stamp:010d}.gpu-node-1.4242.0"] = b"\x18\x00" * 8
    return files


def _torch_save() -> bytes:
    # torch.save's zip container (stored members under "archive/"); the pickle is a stand-in.
    return checkpoint({"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n"})


# -- Hugging Face Trainer -----------------------------------------------------------------------


def hf_log_history(
    upto: int, *, logging_steps: int = 50, eval_steps: int = 100, steps_per_epoch: int = 100
) -> list[dict]:
    """``TrainerState.log_history`` up to global step ``upto``: a training entry every
    ``logging_steps`` (``loss`` rounded to 4 places by ``_maybe_log_save_evaluate``,
    ``grad_norm``, ``learning_rate``, ``epoch`` = ``state.epoch``, ``step``) and an
    evaluation entry every ``eval_steps`` (``eval_*`` metrics; ``speed_metrics`` rounds
    runtime to 4 places and the rates to 3)."""
    history: list[dict] = []
    for step in range(1, upto + 1):
        epoch = step / steps_per_epoch
        if step % logging_steps == 0:
            history.append(
                {
                    "epoch": epoch,
                    "grad_norm": 4.0 / (1 + step / 100),
                    "learning_rate": 5e-05 * (1 - step / 1000),
                    "loss": round(0.7 / (1 + step / 200), 4),
                    "step": step,
                }
            )
        if step % eval_steps == 0:
            history.append(
                {
                    "epoch": epoch,
                    "eval_accuracy": round(0.7 + step / 2000, 4),
                    "eval_loss": 0.6 / (1 + step / 300) + (0.1 if step == 300 else 0.0),
                    "eval_runtime": 1.2345,
                    "eval_samples_per_second": 810.046,
                    "eval_steps_per_second": 101.256,
                    "step": step,
                }
            )
    return history


def trainer_state_json(
    *,
    global_step: int,
    log_history: list[dict],
    best_model_checkpoint: str | None = None,
    best_metric: float | None = None,
    best_global_step: int | None = None,
    steps_per_epoch: int = 100,
    max_steps: int = 300,
    trial_params: dict | None = None,
) -> bytes:
    """``trainer_state.json`` as ``TrainerState.save_to_json`` writes it
    (``transformers/trainer_callback.py``): ``json.dumps(dataclasses.asdict(self),
    indent=2, sort_keys=True) + "\\n"``, with every field of the current dataclass."""
    state = {
        "epoch": global_step / steps_per_epoch,
        "global_step": global_step,
        "max_steps": max_steps,
        "logging_steps": 50,
        "eval_steps": 100,
        "save_steps": 100,
        "train_batch_size": 8,
        "num_train_epochs": max_steps // steps_per_epoch,
        "num_input_tokens_seen": 0,
        "total_flos": 105353170944000.0 * global_step / max_steps,
        "log_history": log_history,
        "best_metric": best_metric,
        "best_global_step": best_global_step,
        "best_model_checkpoint": best_model_checkpoint,
        "is_local_process_zero": True,
        "is_world_process_zero": True,
        "is_hyper_param_search": trial_params is not None,
        "trial_name": None,
        "trial_params": trial_params,
        "stateful_callbacks": {
            "TrainerControl": {
                "args": {
                    "should_epoch_stop": False,
                    "should_evaluate": False,
                    "should_log": False,
                    "should_save": True,
                    "should_training_stop": False,
                },
                "attributes": {},
            }
        },
    }
    return (json.dumps(state, indent=2, sort_keys=True) + "\n").encode()


def hf_config_json() -> bytes:
    """A BERT classifier's ``config.json`` as ``PretrainedConfig.to_json_file`` writes it
    (``configuration_utils.py``: ``json.dumps(config_dict, indent=2, sort_keys=True) +
    "\\n"``)."""
    config = {
        "_name_or_path": "bert-base-uncased",
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "gradient_checkpointing": False,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": 768,
        "id2label": {"0": "NEGATIVE", "1": "POSITIVE"},
        "initializer_range": 0.02,
        "intermediate_size": 3072,
        "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 512,
        "model_type": "bert",
        "num_attention_heads": 12,
        "num_hidden_layers": 12,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "problem_type": "single_label_classification",
        "torch_dtype": "float32",
        "transformers_version": "4.46.3",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": 30522,
    }
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()


def hf_checkpoint(
    output_dir: str,
    step: int,
    *,
    local_output_dir: str = "outputs/bert-imdb",
    best_step: int | None = None,
    best_metric: float | None = None,
    max_steps: int = 300,
    trial_params: dict | None = None,
) -> Files:
    """One ``checkpoint-<step>/`` folder under ``output_dir`` (a key prefix ending in
    ``/``) as ``Trainer._save_checkpoint`` fills it: the model (``config.json``,
    ``generation_config.json`` is absent for an encoder, ``model.safetensors``),
    ``training_args.bin``, ``optimizer.pt``, ``scheduler.pt``, ``rng_state.pth`` (torch
    pickles: stand-ins) and ``trainer_state.json``. ``best_model_checkpoint`` is the local
    path the Trainer wrote, ``os.path.join(local_output_dir, "checkpoint-<best_step>")``."""
    folder = f"{output_dir}checkpoint-{step}/"
    best = f"{local_output_dir}/checkpoint-{best_step}" if best_step is not None else None
    return {
        folder + "config.json": hf_config_json(),
        folder + "model.safetensors": safetensors(
            {"bert.embeddings.word_embeddings.weight": ("F32", [16, 8])},
            metadata={"format": "pt"},
        ),
        folder + "optimizer.pt": _torch_save(),
        folder + "rng_state.pth": _torch_save(),
        folder + "scheduler.pt": _torch_save(),
        folder + "trainer_state.json": trainer_state_json(
            global_step=step,
            log_history=hf_log_history(step),
            best_model_checkpoint=best,
            best_metric=best_metric,
            best_global_step=best_step,
            max_steps=max_steps,
            trial_params=trial_params,
        ),
        folder + "training_args.bin": _torch_save(),
    }


# -- modelkit -----------------------------------------------------------------------------------


def modelkit_meta(push_date: datetime, contents: Sequence[str] | None = None) -> bytes:
    """``<version>.meta`` as ``StorageProvider.push`` writes it (modelkit/assets/remote.py):
    ``json.dump(meta, f)`` of ``{"push_date": datetime.now(tz.UTC).isoformat(),
    "is_directory": ...}`` plus ``"contents"`` (sorted relative paths) for a folder."""
    meta: dict[str, Any] = {
        "push_date": push_date.isoformat(),
        "is_directory": contents is not None,
    }
    if contents is not None:
        meta["contents"] = sorted(contents)
    return json.dumps(meta).encode()


def modelkit_versions(versions: Sequence[str]) -> bytes:
    """``<name>.versions`` as ``StorageProvider.new`` / ``update`` write it:
    ``json.dump({"versions": versions}, f)``, latest first."""
    return json.dumps({"versions": list(versions)}).encode()


def modelkit_asset(
    prefix: str,
    name: str,
    versions: Mapping[str, bytes | Mapping[str, bytes]],
    push_dates: Mapping[str, datetime],
) -> Files:
    """One asset under the storage prefix ``prefix`` (``"modelkit-assets"``, no trailing
    slash): per version either one data object ``<prefix>/<name>/<version>`` (bytes) or a
    folder of parts ``<prefix>/<name>/<version>/<part>`` (a mapping), its
    ``<version>.meta`` beside it, and ``<prefix>/<name>.versions`` listing the versions
    latest first (major.minor order, as ``MajorMinorAssetsVersioningSystem.sort_versions``)."""
    files: Files = {}
    base = f"{prefix}/{name}"
    for version, data in versions.items():
        object_name = f"{base}/{version}"
        if isinstance(data, Mapping):
            for part, body in data.items():
                files[f"{object_name}/{part}"] = body
            meta = modelkit_meta(push_dates[version], list(data))
        else:
            files[object_name] = data
            meta = modelkit_meta(push_dates[version])
        files[object_name + ".meta"] = meta
    ordered = sorted(versions, key=_major_minor, reverse=True)
    files[base + ".versions"] = modelkit_versions(ordered)
    return files


def _major_minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


# -- ZenML --------------------------------------------------------------------------------------


def zenml_output(
    root: str,
    step: str,
    output: str,
    step_run_id: str,
    files: Mapping[str, bytes],
    *,
    version: str | None = None,
) -> Files:
    """One step output as ``generate_artifact_uri`` places it
    (src/zenml/orchestrators/output_utils.py): ``<root>/<step run name>/<output name>/
    <step run id>/<str(uuid4())[:8]>/`` (``root`` ends in ``/``), the materializer's
    ``files`` inside. ``version`` defaults to a fresh 8-hex id."""
    folder = f"{root}{step}/{output}/{step_run_id}/{version or str(uuid.uuid4())[:8]}/"
    return {folder + name: body for name, body in files.items()}


def zenml_builtin(value: Any) -> Mapping[str, bytes]:
    """BuiltInMaterializer's ``data.json``: ``yaml_utils.write_json`` =
    ``json.dumps(contents)``."""
    return {"data.json": json.dumps(value).encode()}


def zenml_dataframe(rows: int = 3) -> Mapping[str, bytes]:
    """PandasMaterializer's files with pyarrow installed: ``metadata.txt`` (the row count),
    ``df.parquet_0`` (one chunk; stand-in bytes) and the ``describe.csv`` visualization."""
    return {
        "describe.csv": b",x\ncount,3.0\nmean,1.0\n",
        "df.parquet_0": b"PAR1" + bytes(16) + b"PAR1",
        "metadata.txt": str(rows).encode(),
    }


def zenml_step_log(root: str, step: str, log_key: str | None = None) -> Files:
    """A step's log as ``prepare_logs_uri`` places it on an immutable (object store)
    filesystem: ``<root>/<step>/logs/<uuid4>/<time>.log``."""
    key = log_key or str(uuid.uuid4())
    return {f"{root}{step}/logs/{key}/1714815600.123.log": b"Step started\nStep finished\n"}
