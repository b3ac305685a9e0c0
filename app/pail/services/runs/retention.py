"""Retention by runs: which runs of a :class:`~pail.services.runs.model.RunSet` a set of
rules keeps, which it would delete, and why.

Rules (:class:`RetentionRules`), each one a reason to *keep* a run; a run is deleted only
when no rule keeps it:

* **keep the last N** (``keep_last``): per experiment (``Run.experiment``), the N runs that
  started last. A run whose start time is unknown cannot be ordered: it is kept.
* **keep the best N** (``keep_best`` by ``metric``, ``mode`` ``"min"``/``"max"``; default
  :func:`~pail.services.runs.model.default_mode` of the metric's name): per experiment,
  the N runs with the best value of the metric. The value compared is the run's
  **best-ever** value of the metric (the minimum over every logged point for ``"min"``,
  the maximum for ``"max"``; NaN ignored), so a run that peaked early and then degraded
  still ranks by its peak, the checkpoint people keep; ``value="final"`` ranks by the
  last logged value instead. A run that did not log the metric cannot be ranked: it is
  **kept** ("no val_loss logged: kept (cannot rank)"), never deleted on that account.
* **keep tagged** (``keep_tags``): a tag name (``pail.keep``: the run has that tag, any
  value) or ``name=value`` (the value compared without regard to case: ``keep=true``
  also matches ``keep=True``).
* **keep named** (``keep_names``): :func:`fnmatch.fnmatchcase` globs on the run's name or
  id (``baseline*``).

A run a detection warning names (its metadata could not be read) is kept when keep-tag
rules are given: its tags are unknown. And always, whatever the rules: a run with
``Run.protected`` (it backs a registered model
version; the tool marks it as its best checkpoint) is kept, and so is a run whose status
says it is still being written (``RUNNING``, ``SCHEDULED``).

Ranks are counted the way sport counts them: a run's rank is 1 + the runs of its
experiment strictly newer (keep-last) or strictly better (keep-best), so runs tied at the
boundary are all kept. Nothing here does I/O.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pail.core.units import metric_text, plural
from pail.services.runs.model import MetricMode, Run, RunSet, default_mode, known_mode

#: Most runs a keep-last or keep-best rule takes.
MAX_KEEP_RUNS = 1_000_000
#: Statuses of a run that may still be writing: never deleted.
LIVE_STATUSES = frozenset({"RUNNING", "SCHEDULED"})
#: Metric names listed at most in :class:`MetricNotLogged`'s message.
_SHOWN_METRICS = 20

MetricValue = Literal["best", "final"]


class RetentionError(ValueError):
    """Rules that cannot be applied (a usage error); the message is one plain line."""


class RegistryUnread(RetentionError):
    """A tracking server is configured but its registered model versions could not be
    read: a run behind one must never be deleted, and none can be told apart, so retention
    refuses. ``reason`` is the server's error (one plain line, no credentials)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"{reason}; its registered model versions were not read, and a run behind one "
            "is never deleted: refusing (unset MLFLOW_TRACKING_URI to plan without it)"
        )


class MetricNotLogged(RetentionError):
    """``keep_best`` ranks by a metric that no run logged. ``metric`` is the name asked,
    ``available`` every metric some run logged (sorted; maybe empty)."""

    def __init__(self, metric: str, available: list[str]) -> None:
        self.metric = metric
        self.available = available
        if available:
            shown = ", ".join(available[:_SHOWN_METRICS])
            more = len(available) - _SHOWN_METRICS
            if more > 0:
                shown += f" and {more:,} more"
            logged = f"the runs logged {plural(len(available), 'metric')}: {shown}"
        else:
            logged = "the runs logged no metric at all"
        super().__init__(f"no run logged the metric {metric!r}; {logged}")


@dataclass(frozen=True)
class RetentionRules:
    """What to keep (see the module doc). Every field is optional; a run is deleted only
    when no given rule keeps it.

    Attributes:
        keep_last: keep each experiment's N newest runs (by start time, UTC).
        keep_best: keep each experiment's N best runs by ``metric``.
        metric: the metric ``keep_best`` ranks by (needed with it, refused without it).
        mode: ``"min"`` (lower is better) or ``"max"``; ``None``: from the metric's name.
        keep_tags: tag names (``pail.keep``) or ``name=value`` pairs that keep a run.
        keep_names: globs on a run's name or id that keep it.
        value: ``"best"`` (the default: the best value the run ever logged) or
            ``"final"`` (its last logged value) for ``keep_best``.

    Raises:
        RetentionError: a count out of ``0..MAX_KEEP_RUNS``, ``keep_best`` without a
            metric, a metric or mode without ``keep_best``, a mode other than min/max,
            an empty tag or name pattern.
    """

    keep_last: int | None = None
    keep_best: int | None = None
    metric: str | None = None
    mode: MetricMode | None = None
    keep_tags: tuple[str, ...] = ()
    keep_names: tuple[str, ...] = ()
    value: MetricValue = "best"

    def __post_init__(self) -> None:
        for name, count in (("keep last", self.keep_last), ("keep best", self.keep_best)):
            if count is not None and not 0 <= count <= MAX_KEEP_RUNS:
                raise RetentionError(
                    f"{name}: a number of runs from 0 to {MAX_KEEP_RUNS:,}, not {count}"
                )
        metric = (self.metric or "").strip()
        if self.keep_best is not None and not metric:
            raise RetentionError("keep best needs the metric to rank the runs by")
        if self.metric is not None and self.keep_best is None:
            raise RetentionError("a metric is only used to keep the best N runs: give keep best")
        if self.mode not in (None, "min", "max"):
            raise RetentionError(f"mode: min or max, not {self.mode!r}")
        if self.mode is not None and self.keep_best is None:
            raise RetentionError("a mode is only used to keep the best N runs: give keep best")
        if self.value not in ("best", "final"):
            raise RetentionError(f"metric value: best or final, not {self.value!r}")
        if self.keep_best is not None and self.mode is None and known_mode(metric) is None:
            # A learning rate or an epoch count has no better way: guessing one would
            # rank runs at random.
            raise RetentionError(
                f"{metric} has no better direction pail can tell from its name: give the "
                "mode, min (lower is better) or max"
            )
        for tag in self.keep_tags:
            if not tag.partition("=")[0].strip():
                raise RetentionError(f"keep tag: a tag name or name=value, not {tag!r}")
        for pattern in self.keep_names:
            if not pattern.strip():
                raise RetentionError("keep name: an empty pattern")

    @property
    def active(self) -> bool:
        """True when any rule is given (then only runs are planned, never loose objects)."""
        return (
            self.keep_last is not None
            or self.keep_best is not None
            or bool(self.keep_tags)
            or bool(self.keep_names)
        )

    @property
    def resolved_mode(self) -> MetricMode | None:
        """``mode``, or the metric's default mode; ``None`` without a metric."""
        if self.metric is None:
            return None
        return self.mode or default_mode(self.metric)

    def describe(self) -> str:
        """The rules in one plain line: ``"keep the last 2 runs and the best 3 by val_loss
        (min) of each experiment; keep runs tagged pail.keep or named baseline*"``; ``""``
        without rules."""
        counts, marks = [], []
        if self.keep_last is not None:
            counts.append(f"the last {plural(self.keep_last, 'run')}")
        if self.keep_best is not None:
            final = ", final value" if self.value == "final" else ""
            counts.append(
                f"the best {self.keep_best:,} by {self.metric} ({self.resolved_mode}{final})"
            )
        if self.keep_tags:
            marks.append("tagged " + ", ".join(self.keep_tags))
        if self.keep_names:
            marks.append("named " + ", ".join(self.keep_names))
        parts = []
        if counts:
            parts.append("keep " + " and ".join(counts) + " of each experiment")
        if marks:
            parts.append("keep runs " + " or ".join(marks))
        return "; ".join(parts)


@dataclass(frozen=True)
class RunVerdict:
    """One run's fate: ``keep`` and ``reasons`` (plain phrases, in rule order). A kept
    run's reasons are every rule that keeps it; a deleted run's say why each given rule
    does not."""

    run: Run
    keep: bool
    reasons: tuple[str, ...]


@dataclass
class RetentionDecision:
    """The verdict on every run examined, in the RunSet's order (newest start first).

    Attributes:
        rules: the rules applied.
        verdicts: one per run.
        mode: the metric's mode used for ``keep_best`` (``None`` without it).
    """

    rules: RetentionRules
    verdicts: list[RunVerdict] = field(default_factory=list)
    mode: MetricMode | None = None

    @property
    def kept(self) -> list[RunVerdict]:
        """Verdicts of the runs kept."""
        return [v for v in self.verdicts if v.keep]

    @property
    def deleted(self) -> list[RunVerdict]:
        """Verdicts of the runs to delete."""
        return [v for v in self.verdicts if not v.keep]

    def verdict(self, run_id: str) -> RunVerdict | None:
        """The verdict on the run with id ``run_id``, or ``None``."""
        for verdict in self.verdicts:
            if verdict.run.id == run_id:
                return verdict
        return None


def when_utc(when: datetime | None) -> str:
    """``"2026-11-20 10:02 UTC"``; ``"unknown"`` without a time."""
    return f"{when:%Y-%m-%d %H:%M} UTC" if when is not None else "unknown"


def ordinal(n: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n:,}{suffix}"


def plan_retention(runset: RunSet, rules: RetentionRules) -> RetentionDecision:
    """Decide, for every run of ``runset``, whether ``rules`` keep it, and why.

    Args:
        runset: the runs (the caller passes only those a delete would touch).
        rules: what to keep; with no rule given every unprotected run is deleted.

    Returns:
        The decision: a :class:`RunVerdict` per run, in ``runset.runs`` order.

    Raises:
        MetricNotLogged: ``rules.keep_best`` is given and no run of ``runset`` logged
            ``rules.metric`` (the message names the metrics that were logged).
    """
    runs = runset.runs
    mode = rules.resolved_mode
    metric = rules.metric
    if (
        runs
        and rules.keep_best
        and metric is not None
        and all(_value(run, metric, mode, rules.value) is None for run in runs)
    ):
        raise MetricNotLogged(metric, runset.metric_names())
    groups: dict[str | None, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.experiment, []).append(run)
    keeps: dict[str, list[str]] = {run.id: [] for run in runs}
    misses: dict[str, list[str]] = {run.id: [] for run in runs}
    for run in runs:
        if run.protected:
            keeps[run.id].append(run.protected)
        if run.status is not None and run.status.upper() in LIVE_STATUSES:
            keeps[run.id].append(f"status {run.status}: it may still be writing")
    if rules.keep_last is not None:
        for experiment, members in groups.items():
            _keep_last(members, experiment, rules.keep_last, keeps, misses)
    if rules.keep_best is not None and rules.metric is not None and mode is not None:
        for experiment, members in groups.items():
            _keep_best(members, experiment, rules, mode, keeps, misses)
    unread = _unread(runset) if rules.keep_tags else set()
    for run in runs:
        if run.id in unread:
            # Its tags may hold a keep tag that was not read: keep it rather than guess.
            keeps[run.id].append("metadata not read: kept (cannot check its tags)")
        _keep_marked(run, rules, keeps, misses)
    decision = RetentionDecision(rules, mode=mode)
    for run in runs:
        kept = bool(keeps[run.id])
        reasons = keeps[run.id] if kept else misses[run.id] or ["no rule keeps it"]
        decision.verdicts.append(RunVerdict(run, kept, tuple(reasons)))
    return decision


def _of(experiment: str | None) -> str:
    return (
        f"of experiment {experiment}"
        if experiment is not None
        else "of the runs without an experiment"
    )


def _keep_last(
    members: list[Run],
    experiment: str | None,
    n: int,
    keeps: dict[str, list[str]],
    misses: dict[str, list[str]],
) -> None:
    dated = [run.start for run in members if run.start is not None]
    last = f"the last {plural(n, 'run')} {_of(experiment)}"
    for run in members:
        if not n:
            misses[run.id].append("keep last 0: no run is kept for being recent")
            continue
        if run.start is None:
            # Cannot be ordered: keeping it is the side that loses no data.
            keeps[run.id].append("no start time: kept (cannot tell how recent it is)")
            continue
        start = run.start
        rank = 1 + sum(1 for other in dated if other > start)
        started = f"started {when_utc(start)}"
        if rank <= n:
            keeps[run.id].append(f"among {last} ({started})")
        else:
            misses[run.id].append(f"not among {last}: {ordinal(rank)} newest ({started})")


def _keep_best(
    members: list[Run],
    experiment: str | None,
    rules: RetentionRules,
    mode: MetricMode,
    keeps: dict[str, list[str]],
    misses: dict[str, list[str]],
) -> None:
    metric, n = rules.metric or "", rules.keep_best or 0
    values = {run.id: _value(run, metric, mode, rules.value) for run in members}
    ranked = [v for v in values.values() if v is not None]
    which = "final " if rules.value == "final" else ""
    best = f"best {n:,} by {which}{metric} ({mode})"
    if experiment is not None:
        best += f" {_of(experiment)}"
    for run in members:
        value = values[run.id]
        if value is None:
            if n:  # a rule keeping no run ranks nothing, so it has nothing to fail on
                keeps[run.id].append(f"no {metric} logged: kept (cannot rank)")
            continue
        better = sum(1 for other in ranked if (other < value if mode == "min" else other > value))
        rank = better + 1
        shown = f"{metric_text(value)}, rank {rank:,}"
        if rank <= n:
            keeps[run.id].append(f"{best}: {shown}")
        else:
            misses[run.id].append(f"not in the {best}: {shown}")


def _value(run: Run, metric: str, mode: MetricMode | None, which: MetricValue) -> float | None:
    value = run.final(metric) if which == "final" else run.best(metric, mode)
    return None if value is None or math.isnan(value) else value


def _keep_marked(
    run: Run, rules: RetentionRules, keeps: dict[str, list[str]], misses: dict[str, list[str]]
) -> None:
    if rules.keep_tags:
        matched = _matching_tags(run.tags, rules.keep_tags)
        if matched:
            keeps[run.id].extend(f"tag {tag}" for tag in matched)
        else:
            misses[run.id].append("no keep tag (" + ", ".join(rules.keep_tags) + ")")
    if rules.keep_names:
        matched_names = [
            f"{label} matches {pattern!r}"
            for pattern in rules.keep_names
            for label, text in (("name", run.name), ("id", run.id))
            if fnmatch.fnmatchcase(text, pattern)
        ]
        # A name equal to the id would say the same thing twice.
        matched_names = list(dict.fromkeys(m for m in matched_names if not _repeats(m, run)))
        if matched_names:
            keeps[run.id].extend(matched_names)
        else:
            misses[run.id].append(
                "name matches no keep pattern ("
                + ", ".join(repr(p) for p in rules.keep_names)
                + ")"
            )


def _unread(runset: RunSet) -> set[str]:
    """Ids of runs a detection warning names (``"NAME: metadata not read: ..."``; the name
    may be the one the run had before its metadata renamed it, such as the first eight
    digits of an MLflow run id)."""
    heads = {w.partition(": ")[0] for w in runset.warnings if ": " in w}
    return {
        run.id
        for run in runset.runs
        if run.name in heads
        or run.id in heads
        or any(len(head) >= 8 and run.id.startswith(head) for head in heads)
    }


def _repeats(phrase: str, run: Run) -> bool:
    return phrase.startswith("id ") and run.id == run.name


def _matching_tags(tags: dict[str, str], wanted: Iterable[str]) -> list[str]:
    found = []
    for tag in wanted:
        name, eq, value = tag.partition("=")
        name = name.strip()
        if name not in tags:
            continue
        if not eq:
            found.append(name)
        elif tags[name].strip().casefold() == value.strip().casefold():
            found.append(f"{name}={tags[name]}")
    return found


__all__ = [
    "LIVE_STATUSES",
    "MAX_KEEP_RUNS",
    "MetricNotLogged",
    "RegistryUnread",
    "RetentionDecision",
    "RetentionError",
    "RetentionRules",
    "RunVerdict",
    "ordinal",
    "plan_retention",
    "when_utc",
]
