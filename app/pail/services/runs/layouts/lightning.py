"""PyTorch Lightning logger folders: ``<save_dir>/<name>/version_N/`` is one run.

What Lightning writes (``lightning.pytorch.loggers.csv_logs``, ``tensorboard``,
``lightning.pytorch.core.saving.save_hparams_to_yaml`` and ``callbacks.ModelCheckpoint``):

* ``CSVLogger`` and ``TensorBoardLogger`` both log to ``<save_dir>/<name>/version_N/``
  (``name`` defaults to ``lightning_logs``; ``N`` is the next free number);
* ``hparams.yaml``: ``yaml.dump(hparams)`` (or ``OmegaConf.save``), written by both loggers;
* ``metrics.csv`` (CSVLogger): ``csv.DictWriter`` over the sorted names of every key
  logged so far (``epoch``, ``step`` and one column per metric), one row per logging call,
  empty cells where a call did not log that metric;
* ``events.out.tfevents.<time>.<host>.<pid>.<n>`` (TensorBoardLogger): binary TFRecords,
  not read here;
* ``checkpoints/epoch=E-step=S.ckpt`` (ModelCheckpoint's default folder and file name
  when a logger is set; ``last.ckpt`` beside them with ``save_last``).

A folder is a run only when it is named ``version_N`` and holds at least one of
``hparams.yaml``, ``metrics.csv``, an ``events.out.tfevents.*`` file or a
``checkpoints/*.ckpt`` file; every object under it belongs to the run. The run's
experiment is the logger's name folder; its id is ``version_N``, or the shortest path
that tells two loggers' ``version_N`` apart (``lightning_logs/version_0``).

Params come from ``hparams.yaml`` (nested mappings flattened with dots, values as text;
Python-specific YAML tags such as ``!!python/tuple`` that ``yaml.dump`` writes are read as
plain lists and mappings, never as Python objects). Metrics come from ``metrics.csv``: one
point per non-empty cell, at that row's ``step`` (the ``epoch`` column is a counter, not a
metric). Lightning records no run status.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import yaml

from pail.core.units import plural
from pail.drivers.base import Entry
from pail.services.runs.layouts.base import Found, ReadText
from pail.services.runs.layouts.common import (
    flatten,
    folder_runs,
    read_text,
    without_nested,
)
from pail.services.runs.model import MetricPoint, Run

VERSION = re.compile(r"version_[0-9]+")
HPARAMS = "hparams.yaml"
METRICS = "metrics.csv"
EVENTS = "events.out.tfevents."
CHECKPOINTS = "checkpoints"
#: metrics.csv columns that are counters, not metrics.
_COUNTERS = ("step", "epoch")


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads ``yaml.dump``'s Python tags (``!!python/tuple``,
    ``!!python/object:...``) as the plain list, mapping or string under them."""


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _plain)


class _Layout:
    """The PyTorch Lightning layout (:data:`LIGHTNING`)."""

    name = "lightning"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        """Every ``version_N/`` folder at or below ``base`` holding a Lightning file
        (see the module's docstring); ``base`` may be the save_dir, the logger's folder,
        a folder above them or one ``version_N/`` folder. No I/O."""
        seen: dict[str, dict[str, str]] = {}
        for entry in objects:
            found = _marker(entry.key)
            if found is None:
                continue
            prefix, kind = found
            if not prefix.startswith(base):
                continue  # the version folder is above the location: not ours to claim
            groups = seen.setdefault(prefix, {})
            if kind == CHECKPOINTS:
                groups.setdefault(CHECKPOINTS, prefix + CHECKPOINTS + "/")
            elif kind in (HPARAMS, METRICS):
                groups.setdefault(kind, entry.key)
        if not seen:
            return None
        prefixes = without_nested(seen)
        runs, loggers = folder_runs(self.name, base, prefixes, seen)
        owner = ""
        if loggers:
            noun = "Lightning logger" if len(loggers) == 1 else "Lightning loggers"
            owner = f" of the {noun} {', '.join(loggers)}"
        evidence = f"{plural(len(runs), 'version_N folder')}{owner}"
        return Found(runs, evidence)

    def load(self, run: Run, read: ReadText) -> list[str]:
        """Params from ``hparams.yaml``, metrics from ``metrics.csv`` (when listed in
        ``run.groups``). Returns warning lines for files that could not be used."""
        warnings: list[str] = []
        key = run.groups.get(HPARAMS)
        if key:
            body = read_text(run, key, HPARAMS, read, warnings)
            if body is not None:
                params = _hparams(body, run, warnings)
                if params is not None:
                    run.params.update(params)
                    run.sources.append(HPARAMS)
        key = run.groups.get(METRICS)
        if key:
            body = read_text(run, key, METRICS, read, warnings)
            if body is not None:
                run.metrics.update(_metrics(body, run, warnings))
                run.sources.append(METRICS)
        return warnings


def _marker(key: str) -> tuple[str, str] | None:
    """``(version folder prefix, kind)`` when ``key`` is a Lightning file directly in a
    ``version_N/`` folder (or in its ``checkpoints/``), else ``None``."""
    segs = key.split("/")
    if len(segs) >= 2 and VERSION.fullmatch(segs[-2]):
        leaf = segs[-1]
        if leaf in (HPARAMS, METRICS):
            return "/".join(segs[:-1]) + "/", leaf
        if leaf.startswith(EVENTS):
            return "/".join(segs[:-1]) + "/", EVENTS
    if (
        len(segs) >= 3
        and segs[-2] == CHECKPOINTS
        and VERSION.fullmatch(segs[-3])
        and segs[-1].endswith(".ckpt")
        and len(segs[-1]) > len(".ckpt")
    ):
        return "/".join(segs[:-2]) + "/", CHECKPOINTS
    return None


def _hparams(body: str, run: Run, warnings: list[str]) -> dict[str, str] | None:
    try:
        data = yaml.load(body, Loader=_Loader)  # a SafeLoader subclass: no Python objects
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        warnings.append(f"{run.id}: {HPARAMS} is not valid YAML ({reason})")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        warnings.append(f"{run.id}: {HPARAMS} holds no mapping of hyperparameters")
        return None
    return flatten({str(k): v for k, v in data.items()})


def _metrics(body: str, run: Run, warnings: list[str]) -> dict[str, list[MetricPoint]]:
    reader = csv.DictReader(io.StringIO(body, newline=""))
    columns = [c for c in (reader.fieldnames or []) if c and c not in _COUNTERS]
    out: dict[str, list[MetricPoint]] = {}
    unreadable = 0
    try:
        for row in reader:
            step = _step(row.get("step"))
            for name in columns:
                cell = row.get(name)
                if cell is None or cell == "":
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    unreadable += 1
                    continue
                out.setdefault(name, []).append(MetricPoint(step, value))
    except csv.Error as exc:
        warnings.append(f"{run.id}: {METRICS} stops being CSV at line {reader.line_num} ({exc})")
    if unreadable:
        warnings.append(f"{run.id}: {METRICS}: {plural(unreadable, 'cell')} not a number, left out")
    return out


def _step(cell: str | None) -> int | None:
    if not cell:
        return None
    try:
        value = float(cell)
    except ValueError:
        return None
    return int(value) if math.isfinite(value) else None


#: The PyTorch Lightning layout.
LIGHTNING = _Layout()
