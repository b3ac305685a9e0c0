"""``pail diff``: what differs between two runs.

Two forms:

* ``pail diff RUN_A RUN_B``: each a URI of a run's folder (``s3://b/mlflow/1/<run_id>/``,
  ``./logs/lightning_logs/version_3/``); the runs are detected at the folder's parent (or
  a level or two higher) and the run owning that folder is taken
  (:func:`pail.services.runs.diff.resolve_run`). The two may be in different buckets or
  stores.
* ``pail diff LOCATION ID_A ID_B``: two runs, by id or name, among the runs detected at
  LOCATION.

stdout gets sections: the two runs, Params (changed, added in b, removed in b), Metrics
(final and best values side by side, deltas b - a, whether b is better), Files (only in
one, sizes differ, checksums differ, same size but not comparable; ``--all`` also lists
the identical ones), Tensors (of ``.safetensors``/``.npy`` files in both), Config (JSON and
YAML files in both, key by key) and Notes (limits reached). Sizes are bytes; ``-h`` shows
KiB/MiB/GiB. ``--json`` prints the whole :class:`~pail.services.runs.diff.RunDiff` as one
document instead (:func:`pail.services.runs.diff.diff_json`).

Exit status: 0 when the runs were compared (whatever differs); 1 when a run's objects could
not all be listed (the Files section is then partial and says so); 2 when a folder is not
a run's, LOCATION has no runs, an id names no run there, or the arguments are not two or
three; storage errors as every command (3 not found, 4 denied, 6 unreachable...); 130 on
Ctrl-C.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import click

from pail.cli.common import human_option
from pail.cli.errors import EXIT_ERROR, EXIT_USAGE, CliError
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location
from pail.drivers.base import StorageDriver
from pail.services.locations import open_location
from pail.services.runs.detect import TooManyObjects
from pail.services.runs.diff import (
    FILE_STATES,
    ConfigFileDiff,
    FileComparison,
    KeyedDiff,
    RunDiff,
    TensorChange,
    TensorFileDiff,
    UnknownRun,
    diff_json,
    diff_runs,
    resolve_run,
    runs_by_id,
)
from pail.services.runs.model import LAYOUT_NAMES, NoRunsFound, Run
from pail.services.runs.tracking import TrackingServer

#: Headings of the file states, in the order the Files section lists them.
_STATE_WORDS = {
    "only_a": "only in a",
    "only_b": "only in b",
    "size_differs": "size differs",
    "checksum_differs": "checksum differs",
    "not_comparable": "same size, checksum not comparable",
    "identical": "identical",
}
#: One mark per file state, at the start of its row.
_STATE_MARKS = {
    "only_a": "-",
    "only_b": "+",
    "size_differs": "~",
    "checksum_differs": "!",
    "not_comparable": "?",
    "identical": "=",
}


def _size(size: int | None, human: bool) -> str:
    """``"1.5 KiB"`` with ``-h``, else ``"1,536 bytes"``."""
    if size is None:
        return "-"
    return size_text(size, True) if human else plural(size, "byte")


def _usage(message: str) -> CliError:
    return CliError([f"pail: error: {printable(message)}"], EXIT_USAGE)


# --- which runs ---------------------------------------------------------------------------


def _open_folder(text: str, flags: Flags) -> tuple[StorageDriver, str, str]:
    """The driver, bucket and prefix of a run's folder as typed. A local folder opens as
    its own bucket (key ``""``), which leaves no parent to detect runs in: it is opened
    from two folders up instead, with the rest as the prefix."""
    driver, location = open_location(text, flags)
    if location.provider == "local" and not location.key and location.root:
        path = os.path.abspath(location.root)
        top = path
        for _ in range(2):
            up = os.path.dirname(top)
            if up == top:
                break
            top = up
        if top != path:
            driver, outer = open_location(top, flags)
            rel = os.path.relpath(path, top).replace(os.sep, "/")
            return driver, outer.bucket, rel + "/"
    return driver, location.bucket, _folder(location)


def _folder(location: Location) -> str:
    key = location.key
    return key if not key or key.endswith("/") else key + "/"


def _runs(args: tuple[str, ...], flags: Flags, warnings: list[str]) -> tuple[Any, ...]:
    """``(driver_a, bucket_a, run_a, driver_b, bucket_b, run_b)`` for the arguments."""
    # MLFLOW_TRACKING_URI: names, params and metrics of artifact-root runs from the server
    tracking = TrackingServer.from_env()
    try:
        if len(args) == 2:
            driver_a, bucket_a, prefix_a = _open_folder(args[0], flags)
            driver_b, bucket_b, prefix_b = _open_folder(args[1], flags)
            run_a = resolve_run(driver_a, bucket_a, prefix_a, warnings=warnings, tracking=tracking)
            run_b = resolve_run(driver_b, bucket_b, prefix_b, warnings=warnings, tracking=tracking)
            return driver_a, bucket_a, run_a, driver_b, bucket_b, run_b
        driver, location = open_location(args[0], flags)
        run_a, run_b = runs_by_id(
            driver,
            location.bucket,
            _folder(location),
            [args[1], args[2]],
            warnings=warnings,
            tracking=tracking,
        )
        return driver, location.bucket, run_a, driver, location.bucket, run_b
    except (NoRunsFound, UnknownRun, TooManyObjects) as exc:
        raise _usage(str(exc)) from None


# --- text output --------------------------------------------------------------------------


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.6g}" if signed else f"{value:.6g}"


def _run_line(label: str, run: Run, uri: str, human: bool) -> str:
    layout = LAYOUT_NAMES.get(run.layout, run.layout)
    facts = [printable(run.name), layout]
    if run.objects:
        facts.append(f"{plural(run.objects, 'object')}, {_size(run.bytes, human)}")
    if run.status:
        facts.append(printable(run.status))
    return f"{label}: {printable(uri)}  ({', '.join(facts)})"


def _keyed_lines(keys: KeyedDiff, indent: str) -> list[str]:
    rows = [("~", c.name, f"{c.a} -> {c.b}") for c in keys.changed]
    rows += [("+", c.name, str(c.b)) for c in keys.added]
    rows += [("-", c.name, str(c.a)) for c in keys.removed]
    width = min(40, max((len(printable(name)) for _, name, _ in rows), default=0))
    return [
        f"{indent}{mark} {printable(name) or '(whole file)':<{width}}  {printable(text)}"
        for mark, name, text in rows
    ]


def _params_section(diff: RunDiff) -> list[str]:
    p = diff.params
    head = (
        f"Params ({len(p.changed):,} changed, {len(p.added):,} added in b, "
        f"{len(p.removed):,} removed in b, {p.same:,} the same)"
    )
    return [head, *_keyed_lines(p, "  ")]


def _metrics_section(diff: RunDiff) -> list[str]:
    if not diff.metrics:
        return ["Metrics (none logged)"]
    names = [printable(m.name) for m in diff.metrics]
    width = min(40, max(len("METRIC"), *(len(n) for n in names)))
    head = (
        f"  {'METRIC':<{width}} {'MODE':4} {'FINAL A':>11} {'FINAL B':>11} {'DELTA':>11}"
        f" {'BEST A':>11} {'BEST B':>11} {'DELTA':>11}  B BETTER"
    )
    lines = ["Metrics (final and best values; DELTA = b - a; best by MODE)", head]
    for name, m in zip(names, diff.metrics, strict=True):
        better = "-" if m.b_better is None else ("yes" if m.b_better else "no")
        lines.append(
            f"  {name:<{width}} {m.mode or '-':4} {_number(m.final_a):>11} {_number(m.final_b):>11}"
            f" {_number(m.delta_final, True):>11} {_number(m.best_a):>11}"
            f" {_number(m.best_b):>11} {_number(m.delta_best, True):>11}  {better}"
        )
    return lines


def _file_detail(item: FileComparison, human: bool) -> str:
    if item.state == "only_a":
        return _size(item.size_a, human)
    if item.state == "only_b":
        return _size(item.size_b, human)
    if item.state == "size_differs":
        return f"{_size(item.size_a, human)} -> {_size(item.size_b, human)}"
    size = _size(item.size_a, human)
    if item.state == "not_comparable":
        return f"{size}, {item.note or 'checksum not comparable'}"
    how = f" by {item.checksum}" if item.checksum else ""
    note = f"; {item.note}" if item.note else ""
    return f"{size}, {_STATE_WORDS[item.state]}{how}{note}"


def _files_section(diff: RunDiff, human: bool, show_all: bool) -> list[str]:
    files = diff.files
    counts = [
        f"{files.count(state):,} {_STATE_WORDS[state]}"
        for state in FILE_STATES
        if files.count(state) or state == "identical"
    ]
    totals = (
        f"a: {plural(files.objects_a, 'object')}, {_size(files.bytes_a, human)}; "
        f"b: {plural(files.objects_b, 'object')}, {_size(files.bytes_b, human)}"
    )
    partial = "" if files.complete else "; partial"
    lines = [f"Files ({', '.join(counts)}; {totals}{partial})"]
    shown = [e for e in files.entries if show_all or e.state != "identical"]
    shown.sort(key=lambda e: (FILE_STATES.index(e.state), e.path))
    paths = [printable(item.path) for item in shown]
    width = min(60, max((len(p) for p in paths), default=0))
    for path, item in zip(paths, shown, strict=True):
        detail = printable(_file_detail(item, human))
        lines.append(f"  {_STATE_MARKS[item.state]} {path:<{width}}  {detail}")
    identical = files.count("identical")
    if identical and not show_all:
        lines.append(f"  ({plural(identical, 'identical file')} not listed; --all lists them)")
    return lines


def _tensor_text(dtype: str | None, shape: tuple[int, ...] | None) -> str:
    dims = "[" + ", ".join(str(d) for d in shape) + "]" if shape is not None else "[]"
    return f"{dtype} {dims}"


def _tensor_lines(change: TensorChange, mark: str) -> str:
    if mark == "+":
        text = _tensor_text(change.dtype_b, change.shape_b)
    elif mark == "-":
        text = _tensor_text(change.dtype_a, change.shape_a)
    else:
        a = _tensor_text(change.dtype_a, change.shape_a)
        text = f"{a} -> {_tensor_text(change.dtype_b, change.shape_b)}"
    return f"    {mark} {printable(change.name)}  {printable(text)}"


def _tensors_section(tensors: list[TensorFileDiff]) -> list[str]:
    if not tensors:
        return []
    lines = ["Tensors (headers of .safetensors/.npy files in both runs, not identical)"]
    for t in tensors:
        if t.note and not (t.differs or t.same):
            lines.append(f"  {printable(t.path)}: {printable(t.note)}")
            continue
        summary = (
            f"{t.format}; {plural(t.tensors_a, 'tensor')} in a, {t.tensors_b:,} in b; "
            f"{len(t.changed):,} changed, {len(t.only_b):,} only in b, "
            f"{len(t.only_a):,} only in a, {t.same:,} the same"
        )
        lines.append(f"  {printable(t.path)} ({summary})")
        lines += [_tensor_lines(c, "~") for c in t.changed]
        lines += [_tensor_lines(c, "+") for c in t.only_b]
        lines += [_tensor_lines(c, "-") for c in t.only_a]
        if t.note:
            lines.append(f"    note: {printable(t.note)}")
    return lines


def _config_section(configs: list[ConfigFileDiff]) -> list[str]:
    if not configs:
        return []
    lines = ["Config (JSON/YAML files in both runs, not identical; key by key)"]
    for c in configs:
        if c.note:
            lines.append(f"  {printable(c.path)}: {printable(c.note)}")
            continue
        k = c.keys
        lines.append(
            f"  {printable(c.path)} ({len(k.changed):,} changed, {len(k.added):,} added in b,"
            f" {len(k.removed):,} removed in b, {k.same:,} the same)"
        )
        lines += _keyed_lines(k, "    ")
    return lines


def print_diff(diff: RunDiff, human: bool, show_all: bool, warnings: list[str]) -> None:
    """The sections on stdout (every name and value made printable)."""
    blocks = [
        [
            _run_line("a", diff.a, diff.uri_a, human),
            _run_line("b", diff.b, diff.uri_b, human),
        ],
        _params_section(diff),
        _metrics_section(diff),
        _files_section(diff, human, show_all),
        _tensors_section(diff.tensors),
        _config_section(diff.configs),
    ]
    notes = warnings + diff.notes + diff.files.notes + diff.files.errors
    if notes:
        blocks.append(["Notes", *(f"  {printable(n)}" for n in notes)])
    click.echo("\n\n".join("\n".join(b) for b in blocks if b))


# --- the command --------------------------------------------------------------------------


def run_diff(
    flags: Flags, args: tuple[str, ...], as_json: bool, human: bool, show_all: bool
) -> None:
    """``pail diff``: find the two runs, compare them, print; exit 1 when a listing
    failed (the Files section is then partial)."""
    if len(args) not in (2, 3):
        raise _usage(
            f"expected RUN_A RUN_B (two run folders) or LOCATION ID_A ID_B, got "
            f"{plural(len(args), 'argument')}"
        )
    warnings: list[str] = []
    found = _runs(args, flags, warnings)
    diff = diff_runs(*found)
    if as_json:
        click.echo(json.dumps({**diff_json(diff), "warnings": warnings}, indent=2))
    else:
        print_diff(diff, human, show_all, warnings)
    if diff.files.errors:
        lines = ["pail: error: some objects could not be listed; the Files section is partial"]
        lines += [f"  {printable(e)}" for e in diff.files.errors]
        raise CliError(lines, EXIT_ERROR)


__all__ = ["print_diff", "register", "run_diff"]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail diff`` to ``group`` (``connection_options``/``flags_of`` from pail.cli.main)."""

    @group.command("diff", short_help="What differs between two runs.")
    @connection_options
    @click.argument("args", nargs=-1, metavar="RUN_A RUN_B | LOCATION ID_A ID_B")
    @click.option("--json", "as_json", is_flag=True, help="One JSON document: the whole diff.")
    @human_option
    @click.option("--all", "show_all", is_flag=True, help="List identical files too.")
    @click.pass_context
    def diff_command(ctx: click.Context, **options: Any) -> None:
        """Compare two runs: params, metrics (final and best, deltas b - a), files (only
        in one, size or checksum differs; identical only when a checksum proves it),
        tensors of .safetensors/.npy files (dtype, shape) and JSON/YAML config files key by
        key.

        RUN_A and RUN_B are URIs of run folders (s3://b/mlflow/1/RUN_ID/,
        ./lightning_logs/version_3/), or give a LOCATION and two run ids or names there.
        Exit status 2 when a folder is not a run's; 1 when a run's objects could not all
        be listed."""
        run_diff(flags_of(ctx), **options)
