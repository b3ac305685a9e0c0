"""What a run is, whatever tool wrote it: the records run detection returns.

A *run* is one unit of training output as its tool defines it: an MLflow/FastTrackML run
(``<experiment_id>/<run_id>/``), a Lightning logger version (``version_N/``), a Hugging Face
Trainer checkpoint (``checkpoint-<step>/``), a ZenML pipeline run (the step outputs written
together), a modelkit asset version. Every run owns one or more key prefixes, and a few
exact keys where the tool stores a run as single objects (a modelkit version's data object
and its ``.meta``); every object under those prefixes and those keys belongs to the run
(:meth:`Run.owns`), and nothing else does. Retention, diff and the runs view
work on these records only; a location whose layout is not recognised has no runs, and
every run-based action says so (:class:`NoRunsFound`) instead of guessing.

Times are timezone-aware UTC; sizes are bytes; metric values are floats as logged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

#: Layout names (``Run.layout``, ``RunSet.layout``).
Layout = Literal["mlflow", "zenml", "modelkit", "lightning", "hf-trainer"]

#: Human names of the layouts, for messages and the runs view's title.
LAYOUT_NAMES: dict[str, str] = {
    "mlflow": "MLflow / FastTrackML",
    "zenml": "ZenML",
    "modelkit": "modelkit",
    "lightning": "PyTorch Lightning",
    "hf-trainer": "Hugging Face Trainer",
}

MetricMode = Literal["min", "max"]

#: Metric name fragments that mean "lower is better" (loss, error rates, perplexity,
#: distances); every other metric is "higher is better" unless the user says ``--mode``.
_LOWER_IS_BETTER = ("loss", "error", "err", "perplexity", "ppl", "mae", "mse", "rmse", "wer", "cer")


#: Name fragments of what a run logs that has no better direction: schedules, counters,
#: timings and throughput (``learning_rate``, ``epoch``, ``grad_norm``,
#: ``train_samples_per_second``). A diff judges none of them better; ranking by one needs
#: the user's ``--mode``.
_NO_DIRECTION = (
    "learning_rate",
    "lr",
    "epoch",
    "step",
    "grad_norm",
    "runtime",
    "per_second",
    "flos",
    "momentum",
    "weight_decay",
    "num_tokens",
    "time",
)


def known_mode(metric: str) -> MetricMode | None:
    """The metric's better direction when its name says one (:func:`default_mode`), or
    ``None`` for a schedule, counter or timing (:data:`_NO_DIRECTION`, matched on the
    name's segments split at ``/ . _ -``: ``lr`` matches ``train/lr`` but not ``clr_acc``)."""
    lowered = metric.lower()
    parts = set(re.split(r"[/._\-]", lowered))
    for fragment in _NO_DIRECTION:
        if "_" in fragment and fragment in lowered:
            return None
        if "_" not in fragment and fragment in parts:
            return None
    return default_mode(metric)


def default_mode(metric: str) -> MetricMode:
    """``"min"`` for a metric whose name says lower is better (``val_loss``,
    ``eval/perplexity``, ``wer``), else ``"max"`` (accuracy, f1, bleu, ...)."""
    lowered = metric.lower()
    return "min" if any(part in lowered for part in _LOWER_IS_BETTER) else "max"


@dataclass(frozen=True, slots=True)
class MetricPoint:
    """One logged value: ``step`` (training step, ``None`` when the tool logged none),
    ``value`` and ``time`` (UTC, ``None`` when unknown)."""

    step: int | None
    value: float
    time: datetime | None = None


@dataclass
class Run:
    """One run and what is known about it.

    Attributes:
        id: the tool's id for the run (MLflow run id, ``version_3``, ``checkpoint-500``,
            modelkit ``asset/version``, a ZenML run's first step-run id); unique in a RunSet.
        name: what people call it (MLflow's run name tag, ``version_3``, ...).
        layout: which tool's layout it was recognised in.
        experiment: the group it belongs to (MLflow experiment id or name, Lightning
            logger name, HF output folder, modelkit asset, ZenML artifact store root), or
            ``None``. "Keep the last N" counts runs per experiment.
        prefixes: the key prefixes the run owns (each ends in ``/``; a ZenML pipeline run
            owns several step-output prefixes). Deleting a run deletes what is under them.
        start / end: UTC times from the tool's metadata, else the oldest / newest object.
        objects / bytes: objects under ``prefixes`` and their total size in bytes.
        status: the tool's status (``FINISHED``, ``FAILED``, ``RUNNING``, ``KILLED``) or
            ``None`` when the layout does not record one.
        params: parameter name -> value as text.
        metrics: metric name -> every logged point, in logging order.
        tags: tag name -> value (MLflow tags, ``pail.keep`` and the like).
        groups: artifact group name -> key prefix or key (``"artifacts"``,
            ``"checkpoints"``, ``"model"``, ``"metrics.csv"``, ...), for the detail pane.
        sources: where params and metrics came from, in order of precedence (``"meta.yaml"``,
            ``"metrics.csv"``, ``"trainer_state.json"``, ``"tracking server"``).
        protected: why this run must never be in a delete plan, or ``None`` (a registered
            model version backs it; the tool marks it as its best checkpoint).
        meta_keys: keys of the run's metadata files that ``load`` reads (params, metrics,
            tags files), found by the listing.
        keys: single objects the run owns besides everything under ``prefixes`` (a
            modelkit version stored as one object ``<asset>/<version>`` and its
            ``<version>.meta``, which no ``/``-ended prefix can cover without also taking
            ``<version>0``); deleting the run deletes them too. Ask :meth:`owns`.
    """

    id: str
    name: str
    layout: str
    prefixes: tuple[str, ...]
    experiment: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    objects: int = 0
    bytes: int = 0
    status: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, list[MetricPoint]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    protected: str | None = None
    meta_keys: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()

    @property
    def home(self) -> str:
        """Where the run is, for a URI or a jump in the tree: its first prefix, or its
        first single object when it owns no prefix (a modelkit version stored as one
        object)."""
        return self.prefixes[0] if self.prefixes else (self.keys[0] if self.keys else "")

    def owns(self, key: str) -> bool:
        """True when ``key`` is one of :attr:`keys` or lies under one of :attr:`prefixes`
        (the test every consumer uses to tell which objects are the run's)."""
        return key in self.keys or any(key.startswith(p) for p in self.prefixes)

    @property
    def duration(self) -> float | None:
        """``end - start`` in seconds, or ``None`` when either is unknown."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()

    def final(self, metric: str) -> float | None:
        """The last logged value of ``metric`` (the highest step; ties: the last logged),
        or ``None`` when the run did not log it or only logged NaN."""
        points = [p for p in self.metrics.get(metric, ()) if not math.isnan(p.value)]
        if not points:
            return None
        last = max(range(len(points)), key=lambda i: (points[i].step or 0, i))
        return points[last].value

    def best(self, metric: str, mode: MetricMode | None = None) -> float | None:
        """The best logged value of ``metric``: the minimum for ``mode="min"``, the
        maximum for ``"max"`` (default: :func:`default_mode`); NaN values are ignored."""
        values = [p.value for p in self.metrics.get(metric, ()) if not math.isnan(p.value)]
        if not values:
            return None
        return min(values) if (mode or default_mode(metric)) == "min" else max(values)

    def finals(self) -> dict[str, float]:
        """Every metric's final value (metrics with no finite value left out)."""
        out = {}
        for name in self.metrics:
            value = self.final(name)
            if value is not None:
                out[name] = value
        return out


@dataclass
class RunSet:
    """The runs found under one location.

    Attributes:
        provider / bucket / prefix: the location examined (``prefix`` ends in ``/`` or is
            ``""``).
        layout: the layout recognised, or ``None`` when none was (then ``runs`` is empty).
        evidence: one plain sentence saying what was seen ("32-hex run folders with
            artifacts/ under experiment folders", "version_N folders with hparams.yaml"),
            or why nothing was recognised.
        runs: the runs, newest start first.
        examined: objects listed.
        loose: objects under the location that belong to no run (never touched by a
            run-based action).
        warnings: plain lines about metadata that could not be read (a metrics file too
            large, a malformed meta.yaml); the run is still listed.
        tracking: the tracking server's URI when one added names, statuses, params or
            metrics, else ``None``.
        where: the location as a URI for messages (``s3://b/mlflow/``,
            ``file:///data/logs/``).
    """

    provider: str
    bucket: str
    prefix: str
    layout: str | None = None
    evidence: str = ""
    runs: list[Run] = field(default_factory=list)
    examined: int = 0
    loose: int = 0
    warnings: list[str] = field(default_factory=list)
    tracking: str | None = None
    where: str = ""

    def by_id(self, run_id: str) -> Run | None:
        """The run whose ``id`` (or ``name``, when unique) is ``run_id``."""
        for run in self.runs:
            if run.id == run_id:
                return run
        named = [run for run in self.runs if run.name == run_id]
        return named[0] if len(named) == 1 else None

    def metric_names(self) -> list[str]:
        """Every metric any run logged, sorted."""
        return sorted({name for run in self.runs for name in run.metrics})

    def param_names(self) -> list[str]:
        """Every param any run logged, sorted."""
        return sorted({name for run in self.runs for name in run.params})


def key_folders(key: str) -> list[str]:
    """Every prefix ending in ``/`` that holds ``key``, shortest first:
    ``"a/b/c"`` -> ``["", "a/", "a/b/"]``."""
    out = [""]
    slash = key.find("/")
    while slash != -1:
        out.append(key[: slash + 1])
        slash = key.find("/", slash + 1)
    return out


class RunIndex:
    """``runs`` by the prefixes and single keys they own, so a key's runs are found by its
    folders (objects x depth, not objects x runs)."""

    def __init__(self, runs: Sequence[Run]) -> None:
        self._by_prefix: dict[str, list[Run]] = {}
        self._by_key: dict[str, list[Run]] = {}
        for run in runs:
            for prefix in run.prefixes:
                self._by_prefix.setdefault(prefix, []).append(run)
            for key in run.keys:
                self._by_key.setdefault(key, []).append(run)

    def owners(self, key: str) -> list[Run]:
        """Every run owning ``key`` (:meth:`Run.owns`), each once."""
        found = list(self._by_key.get(key, ()))
        for folder in key_folders(key):
            found.extend(self._by_prefix.get(folder, ()))
        return list({id(run): run for run in found}.values())

    def prefix_owner(self, key: str) -> Run | None:
        """The run whose prefix (the shortest, never ``""``) holds ``key``, or ``None``;
        single keys (:attr:`Run.keys`) are not looked at."""
        for folder in key_folders(key)[1:]:
            runs = self._by_prefix.get(folder)
            if runs:
                return runs[0]
        return None


class NoRunsFound(ValueError):
    """A run-based action (keep the last N, keep the best N, diff, the runs view) was asked
    at a location whose layout pail does not recognise: it refuses rather than treat
    folders as runs. ``where`` is the location as a URI, ``evidence`` why nothing matched.
    """

    def __init__(self, where: str, evidence: str = "") -> None:
        self.where = where
        self.evidence = evidence
        detail = f" ({evidence})" if evidence else ""
        super().__init__(
            f"no runs found under {where}{detail}: pail recognises MLflow/FastTrackML, ZenML, "
            "modelkit, PyTorch Lightning and Hugging Face Trainer layouts"
        )
