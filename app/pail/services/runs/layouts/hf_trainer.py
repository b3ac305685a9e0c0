"""Hugging Face Trainer output folders: each ``checkpoint-<step>/`` is one run.

What the Trainer writes (``transformers/trainer.py`` ``_save_checkpoint``,
``trainer_callback.py`` ``TrainerState.save_to_json``): under ``output_dir`` (or
``output_dir/run-<trial>/`` in a hyperparameter search) one folder
``checkpoint-<global_step>/`` per save, holding the model (``config.json``,
``model.safetensors`` or ``pytorch_model.bin`` or shards, ``adapter_*`` for PEFT),
``training_args.bin``, ``optimizer.pt``, ``scheduler.pt``, ``rng_state.pth`` and
``trainer_state.json`` (``json.dumps(dataclasses.asdict(state), indent=2,
sort_keys=True) + "\\n"``: ``global_step``, ``epoch``, ``log_history``, ``best_metric``,
``best_model_checkpoint``, ...).

Why a checkpoint is the run: the Trainer's own retention (``save_total_limit``,
``_rotate_checkpoints``) works per checkpoint folder, each checkpoint's
``trainer_state.json`` holds the history up to it, and a checkpoint is what one keeps or
deletes. A folder is recognised only when it is named ``checkpoint-<digits>`` and holds
``trainer_state.json``; files at the output folder's top (the final model, its
``trainer_state.json``, ``runs/`` TensorBoard logs) stay loose. The experiment is the
output folder; the id is ``checkpoint-<step>``, or the shortest path that tells two
output folders' checkpoints apart (``bert-imdb/checkpoint-500``).

Metrics come from ``log_history``: every numeric key of every entry at that entry's
``step``, except counters and timings (``epoch``, ``step``, ``total_flos``,
``num_input_tokens_seen``, ``*_runtime``, ``*_per_second``). Params come from the
Trainer's scalar fields (``global_step``, ``epoch``, ``max_steps``, ``num_train_epochs``,
``train_batch_size``, ``best_metric``, ...), the hyperparameter search's
``trial_params`` and ``config.json`` (its first :data:`CONFIG_PARAMS` scalar fields,
nested ones flattened with dots; ``id2label``/``label2id`` left out). The Trainer records
no status; start and end are the checkpoint's oldest and newest object times.

Protection: the checkpoint the Trainer considers best is protected: its rotation
(``Trainer._sorted_checkpoints`` with ``save_total_limit``) never deletes it, and neither
does pail's retention. Which one that is comes from the **newest** checkpoint's
``trainer_state.json`` of each output folder (``best_model_checkpoint``, or
``best_global_step``), since each state records the best as of its own step; when the
newest state could not be read, every checkpoint whose own state named itself the best
stays protected (pail cannot prove which one the Trainer now prefers, and errs on the side
of keeping).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pail.core.units import plural
from pail.drivers.base import Entry
from pail.services.runs.layouts.base import Found, ReadText
from pail.services.runs.layouts.common import (
    flatten,
    folder_name,
    folder_runs,
    number,
    parent,
    read_text,
    text,
)
from pail.services.runs.model import MetricPoint, Run

CHECKPOINT = re.compile(r"checkpoint-([0-9]+)")
STATE = "trainer_state.json"
CONFIG = "config.json"
#: Model weight files, first found names the ``model`` group.
WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "adapter_model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
#: config.json params kept at most (a model config has dozens of fields).
CONFIG_PARAMS = 40
#: TrainerState fields shown as params.
STATE_PARAMS = (
    "global_step",
    "epoch",
    "max_steps",
    "num_train_epochs",
    "train_batch_size",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "best_metric",
    "best_global_step",
    "trial_name",
)
#: log_history keys that are counters or timings, not metrics.
_NOT_METRICS = frozenset({"epoch", "step", "total_flos", "num_input_tokens_seen"})
_TIMING_SUFFIXES = ("_runtime", "_per_second")
PROTECTED = "the Trainer's best_model_checkpoint"
#: The tag that records which checkpoint a state names as the best ("" for none).
BEST_TAG = "hf.best_model_checkpoint"


class _Layout:
    """The Hugging Face Trainer layout (:data:`HF_TRAINER`)."""

    name = "hf-trainer"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        """Every ``checkpoint-<step>/`` folder at or below ``base`` holding
        ``trainer_state.json``; ``base`` may be the output folder, a folder above it or
        one checkpoint folder. No I/O."""
        states: dict[str, str] = {}
        for entry in objects:
            segs = entry.key.split("/")
            if len(segs) >= 2 and segs[-1] == STATE and CHECKPOINT.fullmatch(segs[-2]):
                prefix = entry.key[: -len(STATE)]
                if prefix.startswith(base):
                    states[prefix] = entry.key
        if not states:
            return None
        groups: dict[str, dict[str, str]] = {p: {STATE: k} for p, k in states.items()}
        for entry in objects:
            folder, _, leaf = entry.key.rpartition("/")
            found = groups.get(folder + "/")
            if found is None:
                continue
            if leaf == CONFIG:
                found[CONFIG] = entry.key
            elif leaf in WEIGHTS and (
                "model" not in found
                or WEIGHTS.index(leaf) < WEIGHTS.index(found["model"].rsplit("/", 1)[-1])
            ):
                found["model"] = entry.key
            elif leaf == "optimizer.pt":
                found["optimizer"] = entry.key
        prefixes = sorted(states, key=_step_order)
        runs, outputs = folder_runs(self.name, base, prefixes, groups)
        where = ""
        if outputs:
            noun = "output folder" if len(outputs) == 1 else "output folders"
            where = f" in the {noun} {', '.join(outputs)}"
        folders = plural(len(runs), "checkpoint-<step> folder")
        return Found(runs, f"{folders} with trainer_state.json{where}")

    def settle(self, runs: list[Run]) -> None:
        """Protection by the newest state (:func:`settle`)."""
        settle(runs)

    def load(self, run: Run, read: ReadText) -> list[str]:
        """Metrics and params from ``trainer_state.json``, more params from
        ``config.json``, and the best-checkpoint protection (see the module's
        docstring). Returns warning lines for files that could not be used."""
        warnings: list[str] = []
        key = run.groups.get(CONFIG)
        if key:
            body = read_text(run, key, CONFIG, read, warnings)
            config = _json_object(body, run, CONFIG, warnings) if body is not None else None
            if config is not None:
                config = {k: v for k, v in config.items() if k not in ("id2label", "label2id")}
                run.params.update(flatten(config, scalars_only=True, limit=CONFIG_PARAMS))
                run.sources.append(CONFIG)
        key = run.groups.get(STATE)
        if key:
            body = read_text(run, key, STATE, read, warnings)
            state = _json_object(body, run, STATE, warnings) if body is not None else None
            if state is not None:
                _read_state(run, state, warnings)
                run.sources.insert(0, STATE)
        return warnings


def _step_order(prefix: str) -> tuple[str, int]:
    # checkpoint-500 before checkpoint-1000 within one output folder.
    match = CHECKPOINT.fullmatch(folder_name(prefix))
    return parent(prefix), int(match.group(1)) if match else 0


def _json_object(body: str, run: Run, label: str, warnings: list[str]) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError as exc:
        warnings.append(f"{run.id}: {label} is not valid JSON ({exc})")
        return None
    if not isinstance(data, dict):
        warnings.append(f"{run.id}: {label} holds no JSON object")
        return None
    return data


def _read_state(run: Run, state: dict[str, Any], warnings: list[str]) -> None:
    trial = state.get("trial_params")
    if isinstance(trial, dict):
        run.params.update(flatten(trial, scalars_only=True))
    for field in STATE_PARAMS:
        value = state.get(field)
        if isinstance(value, (str, int, float)):
            run.params[field] = text(value)
    history = state.get("log_history")
    if isinstance(history, list):
        skipped = 0
        for entry in history:
            if not isinstance(entry, dict):
                skipped += 1
                continue
            step = entry.get("step")
            at = step if isinstance(step, int) and not isinstance(step, bool) else None
            for name, value in entry.items():
                if name in _NOT_METRICS or name.endswith(_TIMING_SUFFIXES):
                    continue
                value = number(value)
                if value is not None:
                    run.metrics.setdefault(name, []).append(MetricPoint(at, value))
        if skipped:
            warnings.append(
                f"{run.id}: {STATE}: {plural(skipped, 'log_history entry', 'log_history entries')}"
                " not an object, left out"
            )
    elif history is not None:
        warnings.append(f"{run.id}: {STATE}: log_history is not a list")
    if _names_this_checkpoint(run, state):
        run.protected = PROTECTED
    run.tags[BEST_TAG] = _best_named(state) or ""


def _best_named(state: dict[str, Any]) -> str | None:
    """The checkpoint folder ``state`` names as the best (``checkpoint-N``), or ``None``."""
    best = state.get("best_model_checkpoint")
    if isinstance(best, str) and best.strip():
        return best.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    step = state.get("best_global_step")
    if isinstance(step, int) and not isinstance(step, bool):
        return f"checkpoint-{step}"
    return None


def _names_this_checkpoint(run: Run, state: dict[str, Any]) -> bool:
    folder = folder_name(run.prefixes[0])
    best = state.get("best_model_checkpoint")
    # The Trainer writes a local path (os.path.join(output_dir, "checkpoint-N")), maybe
    # from Windows: compare its last segment with this folder's name.
    if isinstance(best, str) and best.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] == folder:
        return True
    step = state.get("best_global_step")
    match = CHECKPOINT.fullmatch(folder)
    return isinstance(step, int) and match is not None and int(match.group(1)) == step


def settle(runs: list[Run]) -> None:
    """After every checkpoint's state was read: per output folder, only the checkpoint the
    newest state names as the best stays protected (see the module's docstring); when the
    newest state was not read, nothing changes."""
    by_folder: dict[str | None, list[Run]] = {}
    for run in runs:
        by_folder.setdefault(run.experiment, []).append(run)
    for checkpoints in by_folder.values():
        newest = max(checkpoints, key=lambda r: _step_of(r.home))
        named = newest.tags.get(BEST_TAG)
        if named is None:
            continue  # its state was not read: keep every self-named best
        for run in checkpoints:
            if run.protected == PROTECTED and folder_name(run.home) != named:
                run.protected = None
            elif named and folder_name(run.home) == named:
                run.protected = PROTECTED


def _step_of(prefix: str) -> int:
    match = CHECKPOINT.fullmatch(folder_name(prefix))
    return int(match.group(1)) if match else -1


#: The Hugging Face Trainer layout.
HF_TRAINER = _Layout()
