"""MLflow and FastTrackML runs.

Two layouts share one shape, ``<experiment>/<run_id>/…`` with a 32-hex run id (a UUID4 as
MLflow's ``uuid.uuid4().hex``; FastTrackML makes the same):

* **Artifact roots**: ``<root>/<experiment_id>/<run_id>/artifacts/…``, where a tracking
  server's ``--default-artifact-root`` (or an experiment's artifact location) keeps each
  run's artifacts (``mlflow.store.artifact``; the run's ``artifact_uri`` is
  ``<root>/<experiment_id>/<run_id>/artifacts``). Params and metrics live in the server's
  database: with ``MLFLOW_TRACKING_URI`` set they come from the server
  (:mod:`pail.services.runs.tracking`); without it a run has its objects, times and sizes.
* **The file store** (``mlruns/``, and a copy of it synced to a bucket), written by
  ``mlflow.store.tracking.file_store.FileStore``:
  ``<exp>/meta.yaml`` (the experiment: ``name``, ``experiment_id``, ...),
  ``<exp>/<run>/meta.yaml`` (RunInfo: ``run_name``, ``status`` as an int 1 RUNNING,
  2 SCHEDULED, 3 FINISHED, 4 FAILED, 5 KILLED, ``start_time``/``end_time`` in ms since the
  epoch, ``lifecycle_stage``), ``params/<name>`` (the value), ``metrics/<name>`` (one line
  per logged value: ``<timestamp ms> <value> <step>``, older files without the step),
  ``tags/<name>`` (``mlflow.runName`` among them), ``artifacts/…``. Names with ``/`` are
  nested folders (``metrics/eval/loss``).

A run folder is recognised when a 32-hex segment is followed by ``artifacts/``,
``meta.yaml``, ``params/``, ``metrics/`` or ``tags/``; the location may be an artifact root,
an experiment folder or one run folder. A location inside a run (``…/artifacts/``) has no
runs: a run reaching above the location is never claimed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone

import yaml

from pail.drivers.base import Entry
from pail.drivers.errors import StorageError
from pail.services.runs.layouts.base import RUN_ID, Found, MetadataTooLarge, ReadText
from pail.services.runs.model import MetricPoint, Run

#: Folder or file names that follow the run id segment in MLflow's layouts.
_RUN_CHILDREN = frozenset({"artifacts", "meta.yaml", "params", "metrics", "tags"})
#: MLflow's RunStatus numbers (mlflow/protos/service.proto, RunStatus).
_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
#: Metadata files read at most per run (a run logging thousands of metrics is listed with
#: the first ones and a warning).
MAX_META_FILES = 400


class _MLflow:
    name = "mlflow"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        runs: dict[str, Run] = {}
        meta: dict[str, list[str]] = {}
        experiments: set[str] = set()
        for entry in objects:
            prefix, experiment, child = _run_of(entry.key, base)
            if prefix is None:
                continue
            run = runs.get(prefix)
            if run is None:
                run_id = prefix.rstrip("/").rsplit("/", 1)[-1]
                run = Run(run_id, run_id[:8], self.name, (prefix,), experiment=experiment)
                runs[prefix] = run
                meta[prefix] = []
                if experiment is not None:
                    experiments.add(experiment)
                    run.groups["experiment meta.yaml"] = prefix[: -len(run_id) - 1] + "meta.yaml"
            if child == "artifacts":
                run.groups.setdefault("artifacts", prefix + "artifacts/")
            elif child == "meta.yaml":
                run.groups["meta.yaml"] = entry.key
                meta[prefix].append(entry.key)
            else:
                meta[prefix].append(entry.key)
        if not runs:
            return None
        for prefix, run in runs.items():
            run.meta_keys = tuple(meta[prefix])
        stores = sum(1 for run in runs.values() if "meta.yaml" in run.groups)
        kind = (
            "file-store runs (meta.yaml, params/, metrics/)"
            if stores == len(runs)
            else f"runs ({stores} with file-store metadata)"
            if stores
            else "artifact folders (params and metrics are on the tracking server)"
        )
        where = f" in {len(experiments)} experiment folder{'s' if len(experiments) != 1 else ''}"
        return Found(
            list(runs.values()),
            f"{len(runs)} MLflow {kind}, named by 32-hex run ids" + (where if experiments else ""),
        )

    def load(self, run: Run, read: ReadText) -> list[str]:
        warnings: list[str] = []
        prefix = run.prefixes[0]
        keys = list(run.meta_keys)
        if len(keys) > MAX_META_FILES:
            warnings.append(
                f"{run.name}: {len(keys):,} params, metrics and tags files; the first "
                f"{MAX_META_FILES} were read"
            )
            keys = keys[:MAX_META_FILES]
        for key in keys:
            rel = key[len(prefix) :]
            folder, _, name = rel.partition("/")
            try:
                if rel == "meta.yaml":
                    _apply_meta(run, read(key), warnings)
                elif folder == "params" and name:
                    run.params[name] = read(key)
                elif folder == "tags" and name:
                    run.tags[name] = read(key)
                elif folder == "metrics" and name:
                    points, bad = _metric_lines(read(key))
                    run.metrics[name] = points
                    if bad:
                        warnings.append(
                            f"{run.name}: metrics/{name}: {bad} malformed line(s) skipped"
                        )
            except MetadataTooLarge as exc:  # the run keeps what else could be read
                warnings.append(f"{run.name}: metadata not read: {exc}")
        experiment_meta = run.groups.get("experiment meta.yaml")
        if experiment_meta is not None and "meta.yaml" in run.groups:
            try:
                info = yaml.safe_load(read(experiment_meta))
            except (yaml.YAMLError, StorageError, MetadataTooLarge):
                info = None  # the experiment keeps its id
            if isinstance(info, dict) and isinstance(info.get("name"), str):
                run.experiment = info["name"]
        if run.tags.get("mlflow.runName"):
            run.name = run.tags["mlflow.runName"]
        if run.meta_keys:
            run.sources.append("MLflow file store")
        return warnings


def _run_of(key: str, base: str) -> tuple[str | None, str | None, str]:
    """``(run prefix, experiment segment, the segment after the run id)`` for an object
    of an MLflow run at or under ``base``; ``(None, None, "")`` otherwise."""
    parts = key.split("/")
    floor = base.count("/")  # segments of base; the run id may be base's last one
    for i in range(max(0, floor - 1), len(parts) - 1):
        if RUN_ID.fullmatch(parts[i]) and parts[i + 1] in _RUN_CHILDREN:
            if parts[i + 1] in ("params", "metrics", "tags", "artifacts") and i + 2 >= len(parts):
                continue  # a file named "params" is not the folder
            prefix = "/".join(parts[: i + 1]) + "/"
            if not prefix.startswith(base):
                return None, None, ""  # base is inside the run
            experiment = parts[i - 1] if i >= 1 else None
            return prefix, experiment, parts[i + 1]
    return None, None, ""


def _apply_meta(run: Run, text: str, warnings: list[str]) -> None:
    try:
        info = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        warnings.append(f"{run.name}: meta.yaml is not YAML ({type(exc).__name__})")
        return
    if not isinstance(info, dict):
        warnings.append(f"{run.name}: meta.yaml holds no run info")
        return
    name = info.get("run_name")
    if isinstance(name, str) and name:
        run.name = name
    status = info.get("status")
    if isinstance(status, int):
        run.status = _STATUS.get(status)
    elif isinstance(status, str):
        run.status = status.upper()
    if info.get("lifecycle_stage") == "deleted":
        run.tags.setdefault("mlflow.lifecycle_stage", "deleted")
    start, end = _ms(info.get("start_time")), _ms(info.get("end_time"))
    if start is not None:
        run.start = start
    if end is not None:
        run.end = end
    experiment = info.get("experiment_id")
    if experiment is not None and run.experiment is None:
        run.experiment = str(experiment)


def _ms(value: object) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _metric_lines(text: str) -> tuple[list[MetricPoint], int]:
    """MLflow's metric file lines (``<timestamp ms> <value> [<step>]``, as
    ``FileStore._get_metric_from_line`` reads them) -> points in file order, and the count
    of lines that do not parse."""
    points: list[MetricPoint] = []
    bad = 0
    for line in text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if len(fields) not in (2, 3):
            bad += 1
            continue
        try:
            stamp = int(fields[0])
            value = float(fields[1])
            step = int(fields[2]) if len(fields) == 3 else 0
        except ValueError:
            bad += 1
            continue
        if math.isinf(value):
            value = math.copysign(math.inf, value)
        points.append(MetricPoint(step, value, _ms(stamp)))
    return points, bad


MLFLOW = _MLflow()
