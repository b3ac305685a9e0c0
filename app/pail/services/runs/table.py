"""Runs as a table: which params and metrics tell runs apart, and ordering runs by a field.

One set of rules for ``pail runs --sort`` and the runs view's columns. A field is a fixed
one (:data:`FIXED_FIELDS`), a metric (its final value) or a param (as numbers when every
value present reads as one, else as text). Runs without a value sort last in either
direction; ties go by name, then id.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from pail.services.runs.model import Run, known_mode

FieldKind = Literal["fixed", "metric", "param"]

#: The fixed fields, and whether each sorts descending first (newest, longest, largest).
FIXED_FIELDS: dict[str, bool] = {
    "start": True,
    "duration": True,
    "size": True,
    "objects": True,
    "name": False,
    "experiment": False,
    "status": False,
}


def varying_params(runs: Sequence[Run]) -> list[str]:
    """Param names whose value differs between ``runs`` (absent counts as a value),
    sorted; every param name when there is at most one run."""
    names = sorted({name for run in runs for name in run.params})
    return _varying(runs, names, lambda run, name: run.params.get(name))


def varying_metrics(runs: Sequence[Run]) -> list[str]:
    """Metric names whose final value differs between ``runs`` (absent counts), sorted;
    every metric name when there is at most one run."""
    names = sorted({name for run in runs for name in run.metrics})
    return _varying(runs, names, lambda run, name: run.final(name))


def natural_descending(kind: FieldKind, name: str) -> bool:
    """The order a field sorts in first: newest, longest, largest first; text and params
    A to Z / low to high; a metric best first (:func:`known_mode`), low to high when it
    has no better direction."""
    if kind == "metric":
        return known_mode(name) == "max"
    return kind == "fixed" and FIXED_FIELDS.get(name, False)


def sort_value(run: Run, kind: FieldKind, name: str) -> Any:
    """What ``run`` sorts by in the field (``None``: unknown, sorted last)."""
    if kind == "metric":
        return run.final(name)
    if kind == "param":
        return run.params.get(name)
    if name in ("name", "experiment", "status"):
        text = getattr(run, name)
        return text.lower() if text else None
    if name == "start":
        return run.start
    if name == "duration":
        return run.duration
    if name == "objects":
        return run.objects
    return run.bytes if name == "size" else None


def sorted_runs(runs: Sequence[Run], kind: FieldKind, name: str, descending: bool) -> list[Run]:
    """``runs`` ordered by the field (see the module docstring for the rules)."""
    values = {id(run): sort_value(run, kind, name) for run in runs}
    if kind == "param":
        present = [v for v in values.values() if v is not None]
        if present and all(_number(v) is not None for v in present):
            values = {k: (None if v is None else _number(v)) for k, v in values.items()}

    def by_name(run: Run) -> tuple[str, str]:
        return (run.name.lower(), run.id)

    known = sorted((run for run in runs if values[id(run)] is not None), key=by_name)
    unknown = sorted((run for run in runs if values[id(run)] is None), key=by_name)
    known.sort(key=lambda run: values[id(run)], reverse=descending)
    return known + unknown


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _varying(
    runs: Sequence[Run], names: Sequence[str], value: Callable[[Run, str], object]
) -> list[str]:
    if len(runs) <= 1:
        return list(names)
    return [name for name in names if len({_same_key(value(run, name)) for run in runs}) > 1]


def _same_key(value: object) -> object:
    # NaN != NaN: every run without a finite value compares as "absent".
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
