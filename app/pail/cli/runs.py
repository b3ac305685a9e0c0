"""``pail runs``: the runs under a location, one row each.

Detection (:func:`pail.services.runs.detect.detect_runs`) lists every object under the
location, recognises the tool's layout (MLflow/FastTrackML, ZenML, modelkit, PyTorch
Lightning, Hugging Face Trainer) and reads each run's small metadata files; with
``MLFLOW_TRACKING_URI`` set to an http(s) server, the server's names, statuses, params and
metrics are merged in (:class:`pail.services.runs.tracking.TrackingServer`).

stdout gets one row per run: name, experiment (when any run has one), start (UTC, ISO
8601), duration, objects, size (bytes; ``-h`` KiB/MiB/GiB), status, the final value of
each metric (``-m`` picks which) and, with ``--params``, each param whose value differs
between the runs; then a summary line (how many runs, the layout and the evidence for it,
objects in no run, the tracking server) and any warnings about metadata that could not be
read. ``--json`` prints the whole run set as one document instead: every run with its
params, tags, artifact groups and each metric's final and best value (``--history`` adds
every logged point).

``--sort`` orders the rows: ``start`` (default, newest first), ``duration``, ``size``,
``objects`` (largest first), ``name``, ``experiment``, ``status`` (A to Z), a metric
(best first: lower first for a loss or error, higher first else; low to high for one
with no better direction, a learning rate or an epoch: see
:func:`pail.services.runs.model.known_mode`) or a param (as numbers when every value is
one); ``metric:NAME`` / ``param:NAME`` when a name is ambiguous. ``-r`` reverses. Runs
without the value come last either way.

On a terminal, stderr shows a transient count of the objects listed while detection runs
(:mod:`pail.cli.progress`).

Exit status: 0 with runs listed; 2 when no layout is recognised there (no runs: nothing is
guessed), when the location holds more objects than detection lists, or when ``--sort`` or
``--metric`` names nothing the runs have; storage errors as every command (3 not found, 4
denied, 6 unreachable...); 130 on Ctrl-C.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from pail.cli.common import human_option
from pail.cli.errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError
from pail.cli.output import iso_utc
from pail.cli.progress import text_column, wait_for
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import clock_span, metric_text, plural, size_text
from pail.drivers.base import StorageDriver
from pail.services.locations import open_location
from pail.services.runs.model import LAYOUT_NAMES, MetricPoint, Run, RunSet, known_mode
from pail.services.runs.table import (
    FIXED_FIELDS,
    FieldKind,
    natural_descending,
    sorted_runs,
    varying_params,
)

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

#: Fields ``--sort`` takes besides metrics and params, and whether each sorts descending
#: first (newest, longest, largest first; text A to Z).
SORT_FIELDS = FIXED_FIELDS


class RunsError(ValueError):
    """``--sort`` or ``--metric`` names nothing the runs have (exit 2); one line."""


# --- sorting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortField:
    """What ``--sort`` named: ``kind`` ``"fixed"`` (``name`` one of :data:`SORT_FIELDS`),
    ``"metric"`` or ``"param"`` (``name`` the metric's or param's)."""

    kind: FieldKind
    name: str

    @property
    def label(self) -> str:
        """``"start"``, ``"metric:val_loss"``, ``"param:lr"``."""
        return self.name if self.kind == "fixed" else f"{self.kind}:{self.name}"

    def descending(self) -> bool:
        """The order this field sorts in without ``-r``: newest, longest, largest first;
        text and params A to Z / low to high; a metric best first (higher first when
        :func:`known_mode` says ``max``), low to high when it has no better direction."""
        return natural_descending(self.kind, self.name)


def sort_field(text: str, runs: RunSet) -> SortField:
    """The field ``text`` names among the fixed ones, the metrics and the params the runs
    logged (in that order; ``metric:NAME`` / ``param:NAME`` say which).

    Raises:
        RunsError: nothing of that name (the message lists what there is).
    """
    metrics, params = runs.metric_names(), runs.param_names()
    kind, _, rest = text.partition(":")
    if rest and kind in ("metric", "param"):
        if kind == "metric" and rest in metrics:
            return SortField("metric", rest)
        if kind == "param" and rest in params:
            return SortField("param", rest)
    elif text in SORT_FIELDS:
        return SortField("fixed", text)
    elif text in metrics:
        return SortField("metric", text)
    elif text in params:
        return SortField("param", text)
    known = [", ".join(SORT_FIELDS)]
    if metrics:
        known.append("metrics: " + ", ".join(metrics))
    if params:
        known.append("params: " + ", ".join(params))
    raise RunsError(f"--sort {text!r}: no such field; fields: {'; '.join(known)}")


def sort_runs(runs: Sequence[Run], field: SortField, reverse: bool = False) -> list[Run]:
    """``runs`` in ``field``'s order (:meth:`SortField.descending`, flipped by
    ``reverse``), by :func:`pail.services.runs.table.sorted_runs`'s rules."""
    descending = field.descending() != reverse
    return sorted_runs(runs, field.kind, field.name, descending)


# --- text ---------------------------------------------------------------------------------


def _columns(
    result: RunSet, metrics: list[str], params: list[str], human: bool
) -> tuple[list[str], list[bool], list[list[str]]]:
    """Headers, right-alignment per column, and the rows' cells (made printable)."""
    runs = result.runs
    experiment = any(run.experiment for run in runs)
    heads = ["NAME", *(["EXPERIMENT"] if experiment else []), "START (UTC)", "DURATION"]
    heads += ["OBJECTS", "SIZE", "STATUS", *params, *metrics]
    right = [False, *([False] if experiment else []), False, True, True, True, False]
    right += [False] * len(params) + [True] * len(metrics)
    rows = []
    for run in runs:
        cells = [run.name, *([run.experiment or "-"] if experiment else [])]
        cells += [iso_utc(run.start) or "-", clock_span(run.duration) or "-", f"{run.objects:,}"]
        cells += [size_text(run.bytes, human), run.status or "-"]
        cells += [run.params.get(name, "-") for name in params]
        cells += [metric_text(run.final(name)) or "-" for name in metrics]
        rows.append([printable(c) for c in cells])
    return [printable(h) for h in heads], right, rows


def table_lines(
    result: RunSet, metrics: list[str], params: list[str], human: bool = False
) -> list[str]:
    """The table: a header and one row per run, in ``result.runs``' order; columns as
    wide as their widest cell (two spaces apart), numbers right-aligned."""
    heads, right, rows = _columns(result, metrics, params, human)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def line(cells: list[str]) -> str:
        out = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        ]
        return "  ".join(out).rstrip()

    return [line(heads), *(line(r) for r in rows)]


#: Params listed at most on the "same in every run" line.
_SAME_PARAMS = 12


def summary_lines(result: RunSet, shown_params: list[str] | None = None) -> list[str]:
    """What was recognised and how: run count, layouts and evidence, objects in no run,
    (with ``shown_params``, the params' columns) the params every run has the same value
    of, the tracking server, warnings."""
    layouts = dict.fromkeys(run.layout for run in result.runs)
    title = " + ".join(LAYOUT_NAMES.get(name, name) for name in layouts)
    lines = [
        f"{plural(len(result.runs), 'run')} ({printable(title)}): {printable(result.evidence)}",
    ]
    loose = (
        f"{plural(result.loose, 'object')} in no run" if result.loose else "every object in a run"
    )
    lines.append(f"{plural(result.examined, 'object')} examined; {loose}")
    if shown_params is not None and len(result.runs) > 1:
        same = [n for n in result.param_names() if n not in shown_params]
        if same:
            first = result.runs[0].params
            items = [f"{n}={first.get(n, '')}" for n in same[:_SAME_PARAMS]]
            more = f" and {len(same) - _SAME_PARAMS:,} more" if len(same) > _SAME_PARAMS else ""
            lines.append(f"the same in every run: {printable(', '.join(items))}{more}")
    if result.tracking:
        lines.append(f"tracking server: {printable(result.tracking)}")
    lines += [f"warning: {printable(w)}" for w in result.warnings]
    return lines


# --- JSON ---------------------------------------------------------------------------------


def _finite(value: float) -> float | str:
    """A float JSON can carry; ``"nan"``, ``"inf"``, ``"-inf"`` for the others (as ``pail
    diff --json``)."""
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _point(point: MetricPoint) -> dict[str, Any]:
    return {"step": point.step, "value": _finite(point.value), "time": iso_utc(point.time)}


def run_json(run: Run, uri: str, history: bool = False) -> dict[str, Any]:
    """One run for ``--json``: id, name, layout, experiment, uri (of its first prefix, or
    its first single object: :attr:`Run.home`), prefixes and single-object keys,
    start/end (ISO 8601 UTC), duration (seconds), objects, bytes, status, params, tags,
    groups, sources, protected, and per metric its final value, its mode
    (:func:`known_mode`: ``"min"``, ``"max"``, or ``None`` for a learning rate, an epoch,
    a timing) and best value by it (``None`` without a mode), points logged and last
    step; ``history`` adds every point (step, value, time)."""
    metrics: dict[str, Any] = {}
    for name, points in sorted(run.metrics.items()):
        steps = [p.step for p in points if p.step is not None]
        mode = known_mode(name)
        item: dict[str, Any] = {
            "final": run.final(name),
            "best": run.best(name, mode) if mode else None,
            "mode": mode,
            "points": len(points),
            "last_step": max(steps) if steps else None,
        }
        if history:
            item["history"] = [_point(p) for p in points]
        metrics[name] = item
    return {
        "id": run.id,
        "name": run.name,
        "layout": run.layout,
        "experiment": run.experiment,
        "uri": uri,
        "prefixes": list(run.prefixes),
        "keys": list(run.keys),
        "start": iso_utc(run.start),
        "end": iso_utc(run.end),
        "duration": run.duration,
        "objects": run.objects,
        "bytes": run.bytes,
        "status": run.status,
        "params": dict(run.params),
        "metrics": metrics,
        "tags": dict(run.tags),
        "groups": dict(run.groups),
        "sources": list(run.sources),
        "protected": run.protected,
    }


def runs_json(
    result: RunSet,
    uri_of: Callable[[str], str],
    field: SortField,
    reverse: bool,
    history: bool = False,
) -> dict[str, Any]:
    """The ``--json`` document: the location (uri, provider, bucket, prefix), layout and
    evidence, objects examined and loose, warnings, tracking server, the sort, and the
    runs in the sort's order (:func:`run_json`; ``uri_of(key)`` names where a run is)."""
    return {
        "uri": result.where or uri_of(result.prefix),
        "provider": result.provider,
        "bucket": result.bucket,
        "prefix": result.prefix,
        "layout": result.layout,
        "layouts": list(dict.fromkeys(run.layout for run in result.runs)),
        "evidence": result.evidence,
        "examined": result.examined,
        "loose": result.loose,
        "warnings": list(result.warnings),
        "tracking": result.tracking,
        "sort": {"field": field.label, "descending": field.descending() != reverse},
        "runs": [run_json(run, uri_of(run.home), history) for run in result.runs],
    }


# --- the command --------------------------------------------------------------------------


def _open(uri: str, flags: Flags) -> tuple[StorageDriver, str, str]:
    """The driver, bucket and prefix to detect runs at. A local folder opens as its own
    bucket (key ``""``), which would hide its name from the layouts (``version_3``, a
    run id): it is opened from its parent folder instead, with its name as the prefix."""
    driver, location = open_location(uri, flags)
    key = location.key
    prefix = key if not key or key.endswith("/") else key + "/"
    if location.provider == "local" and not key and location.root:
        path = os.path.abspath(location.root)
        up = os.path.dirname(path)
        if up != path and os.path.isdir(path):  # a missing folder fails as itself (exit 3)
            driver, outer = open_location(up, flags)
            return driver, outer.bucket, os.path.basename(path) + "/"
    return driver, location.bucket, prefix


def _listing_columns() -> list[ProgressColumn]:
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    return [SpinnerColumn(), text_column("{task.fields[listed]}"), TimeElapsedColumn()]


def _detect(driver: StorageDriver, bucket: str, prefix: str) -> RunSet:
    """Detection in a worker thread, with the objects listed counted on stderr (on a
    terminal); Ctrl-C cancels it and exits 130."""
    from pail.services.runs.detect import DetectCancelled, detect_runs
    from pail.services.runs.tracking import TrackingServer

    tracking = TrackingServer.from_env()
    cancel = threading.Event()
    listed = [0]

    def counted(n: int) -> None:
        listed[0] = n

    def figures() -> dict[str, Any]:
        return {"listed": f"finding runs: {plural(listed[0], 'object')} listed"}

    try:
        return wait_for(
            lambda: detect_runs(
                driver, bucket, prefix, tracking=tracking, cancel=cancel, on_listed=counted
            ),
            stop=cancel.set,
            columns=_listing_columns,
            poll=figures,
            name="pail-runs-cli",
        )
    except DetectCancelled:
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None


def run_runs(
    flags: Flags,
    uri: str,
    as_json: bool,
    sort: str,
    reverse: bool,
    metric: tuple[str, ...] = (),
    params: bool = False,
    history: bool = False,
    human: bool = False,
) -> None:
    """``pail runs``: detect, sort, print (see the module doc for the exit statuses)."""
    from pail.drivers.errors import StorageError
    from pail.services.runs.detect import TooManyObjects, location_uri, require_runs
    from pail.services.runs.model import NoRunsFound

    driver, bucket, prefix = _open(uri, flags)
    try:
        result = require_runs(_detect(driver, bucket, prefix))
        field = sort_field(sort, result)
        shown = _metrics_shown(result, metric)
    except (NoRunsFound, TooManyObjects, RunsError) as exc:
        raise CliError([f"pail: error: {printable(str(exc))}"], EXIT_USAGE) from None
    except StorageError as exc:
        raise CliError.from_exception(exc) from None
    result.runs = sort_runs(result.runs, field, reverse)
    if as_json:
        doc = runs_json(result, lambda p: location_uri(driver, bucket, p), field, reverse, history)
        click.echo(json.dumps(doc, indent=2))
        return
    param_names = varying_params(result.runs) if params else []
    lines = table_lines(result, shown, param_names, human)
    summary = summary_lines(result, param_names if params else None)
    click.echo("\n".join([*lines, "", *summary]))


def _metrics_shown(result: RunSet, chosen: tuple[str, ...]) -> list[str]:
    """The metric columns: those ``-m`` named (in that order), else every metric logged.

    Raises:
        RunsError: ``-m`` named a metric no run logged.
    """
    known = result.metric_names()
    if not chosen:
        return known
    missing = [name for name in chosen if name not in known]
    if missing:
        logged = ", ".join(known) if known else "none"
        raise RunsError(f"--metric {missing[0]!r}: no run logged it; metrics logged: {logged}")
    return list(dict.fromkeys(chosen))


__all__ = [
    "SORT_FIELDS",
    "RunsError",
    "SortField",
    "register",
    "run_json",
    "run_runs",
    "runs_json",
    "sort_field",
    "sort_runs",
]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail runs`` to ``group`` (``connection_options``/``flags_of`` from pail.cli.main)."""

    @group.command("runs", short_help="The runs under a location: params, metrics, sizes.")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document: every run.")
    @click.option(
        "--sort",
        default="start",
        show_default=True,
        metavar="FIELD",
        help="start, duration, size, objects, name, experiment, status, a metric (best "
        "first; low to high without a better direction) or a param; metric:NAME / "
        "param:NAME when ambiguous.",
    )
    @click.option("-r", "--reverse", is_flag=True, help="Reverse the order.")
    @click.option(
        "-m",
        "--metric",
        multiple=True,
        metavar="NAME",
        help="Show this metric's column (repeat for more); default: every metric.",
    )
    @click.option("--params", is_flag=True, help="Show the params that differ between runs.")
    @click.option("--history", is_flag=True, help="With --json: every logged metric value.")
    @human_option
    @click.pass_context
    def runs_command(ctx: click.Context, **options: Any) -> None:
        """List the runs under URI (MLflow/FastTrackML, ZenML, modelkit, PyTorch
        Lightning or Hugging Face Trainer layouts): name, experiment, start (UTC),
        duration, objects, size, status and each metric's final value, then what was
        recognised. Sizes are bytes; -h shows KiB/MiB/GiB. With MLFLOW_TRACKING_URI set,
        the tracking server's names, statuses, params and metrics are merged in.

        Exit status 2 when no runs are found there (nothing is guessed)."""
        run_runs(flags_of(ctx), **options)
