"""``pail inventory``: browse, size, search and clean a bucket from its inventory report.

The report is the store's own listing of the bucket (S3 Inventory, GCS Storage Insights
inventory reports): found from the bucket's inventory configurations, or from
``--manifest`` (a ``manifest.json`` URI, or a prefix holding reports: the newest complete
one), its manifest verified (S3 ``manifest.checksum``), its data files downloaded once
into pail's cache (verified, resumed after an interruption) and queried with DuckDB on this
machine (:mod:`pail.services.inventory`). A report is a snapshot, and every output says
so: the first line on stderr is its label, ``inventory of 2026-11-28 02:00 UTC — a
snapshot, not a live listing``; ``--json`` documents carry it under ``"report"``.

What stdout gets (one question per run; ``--json``: one JSON document instead):

* default: the level at the URI's prefix, as ``pail ls`` rows: last-modified time (UTC;
  a prefix's newest object), size in bytes (``-h`` KiB/MiB/GiB; a prefix's recursive
  total), objects (a prefix's recursive count) and name. At most ``--limit`` rows from
  ``--offset``; stderr says how many there are and how to page on.
* ``--du``: the prefix's objects and bytes, oldest and newest object, then per storage
  class and per age (at the report's time) with text bars of the bytes' shares.
* ``--search QUERY``: keys under the prefix matching the live search's syntax
  (``"*.ckpt size>1GB age>90d"``: :func:`pail.services.inventory.model.search_query`), as
  ``pail ls -r`` rows, at most ``--limit``; stderr gives the count and bytes of all matches.
* ``--stale`` with ``pail rm``'s stale filter and run retention options: the plan made
  from the report and re-checked live (:func:`pail.services.inventory.plan.
  plan_from_inventory`): stdout lists the keys planned (one URI per line, as ``pail rm
  --dry-run``); stderr the candidates the report selected, every key left alone with why
  (changed since the report, gone), the plan's summary as ``pail rm`` shows it, and the
  lifecycle rule that would do the same (or why none can). ``--delete`` then deletes the
  plan exactly as ``pail rm`` does (same confirmation, ``--yes`` without a terminal,
  ``--verify``, ``--jobs``; :mod:`pail.cli.cleanup`). ``--lifecycle`` prints the rule
  JSON instead (as ``pail lifecycle export``), ``--apply-lifecycle`` adds it to the
  bucket (as ``pail lifecycle apply``); neither needs the re-check.
* ``--sql athena|bigquery``: the same question as SQL to run where the report lives, for
  a report too big for this machine (the inventory table's statements first, then the
  question; :mod:`pail.services.inventory.sql`); only the manifest is read. ``--run``
  runs it on Athena (``--athena-output``, ``--athena-database``; ``--run`` is the
  go-ahead: Athena bills the data each statement scans), each query id on stderr, and
  prints the answer as the question above would. BigQuery SQL is printed only.

``--stale`` needs a filter: unlike ``pail rm -r``, it never plans every key of a prefix.

On a terminal, stderr shows a transient display while the report downloads (bytes) and is
prepared, while a query runs and while the plan is re-checked (:mod:`pail.cli.progress`).

Exit status: 0 success (a prefix with nothing under it in the report says so on stderr);
1 a report that cannot be used (its manifest refused: checksum, sizes or MD5s that do not
match, a field missing; or another inventory error, said in one line), keys that failed to
delete or the user declined, an Athena query that failed; 2 bad usage (options that do
not go together, a filter or search that does not parse, run rules where no runs are
recognised, filters no lifecycle rule or SQL can express, no confirmation possible);
3 no inventory (no configuration, no complete report under the
destination) or no such bucket/key; 4 access denied; 5 credentials; 6 unreachable; 130
Ctrl-C (what was downloaded is kept: the next run resumes it; nothing is deleted unless the
delete had started, and then as ``pail rm`` reports it).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import click

from pail.cli.cleanup import (
    apply_rules,
    confirm_delete,
    delete_options,
    execute_delete,
    filters_of,
    given_filters,
    lifecycle_rules,
    rule_notes,
    run_lines,
    stale_filter_options,
    summary_lines,
    usage,
)
from pail.cli.common import human_option
from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_USAGE, CliError
from pail.cli.output import entry_json, entry_line, iso_utc
from pail.cli.progress import bar_column, text_column, wait_for
from pail.cli.values import Count
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location, format_uri
from pail.drivers.base import StorageDriver
from pail.services.inventory.model import (
    AgeBucket,
    InventoryError,
    Level,
    LevelRow,
    ManifestInvalid,
    NoInventory,
    OpenProgress,
    Report,
    SearchQuery,
    SearchResult,
    Usage,
)
from pail.services.runs.tracking import TrackingServer

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

    from pail.services.delete.filters import StaleFilters
    from pail.services.inventory.locate import Located
    from pail.services.inventory.plan import InventoryPlan
    from pail.services.inventory.query import Inventory
    from pail.services.inventory.sql import InventoryTable, SqlQuery
    from pail.services.lifecycle import RuleExport

T = TypeVar("T")

#: What follows the report's label wherever it is shown.
SNAPSHOT = "a snapshot, not a live listing"
#: Rows of a level or matches of a search shown by default.
DEFAULT_LIMIT = 1000
#: Most rows ``--limit`` takes (a level or a search's page, held in memory).
MAX_LIMIT = 1_000_000
#: Seconds pail waits after Ctrl-C for a running Athena query to be stopped
#: (StopQueryExecution) before it exits: Athena bills a query that runs on.
ATHENA_STOP_GRACE = 5.0
#: Width of the text bars of ``--du`` (characters).
BAR_WIDTH = 30
#: Width of the SIZE column: 15 digits of bytes (up to 999 TB) or "1023.9 KiB".
_SIZE_WIDTH = 15

#: The questions, at most one a run (the level when none is given).
_QUESTIONS = ("du", "search", "stale")
#: Options that only go with ``--stale``.
_STALE_ONLY = ("delete", "lifecycle", "apply_lifecycle", "replace", "verify")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def inventory_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The argument and the options of ``pail inventory`` (the connection flags are added
    by the caller), in ``--help``'s order: the questions, ``pail rm``'s stale filter
    (:func:`pail.cli.cleanup.stale_filter_options`), what to do with a plan (with
    :func:`pail.cli.cleanup.delete_options`), SQL, output."""
    questions = [
        click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]"),
        click.option(
            "--manifest",
            metavar="URI",
            help="The report to read: its manifest.json (s3://dest/.../manifest.json, "
            "gs://.../ID_TIME_manifest.json) or a prefix holding reports (the newest "
            "complete one). Default: the bucket's inventory configurations.",
        ),
        click.option("--du", is_flag=True, help="Totals, per storage class and per age."),
        click.option(
            "--search",
            metavar="QUERY",
            help="Keys matching QUERY, as the app's search reads it: '*.ckpt size>1GB age>90d'.",
        ),
        click.option(
            "--storage-class", metavar="CLASS", help="With --search: only this storage class."
        ),
        click.option(
            "--stale",
            is_flag=True,
            help="The stale filter's plan from the report, re-checked live (filters as pail rm).",
        ),
    ]
    acting = [
        click.option(
            "--delete", is_flag=True, help="With --stale: delete the plan (asks, as pail rm)."
        ),
        click.option(
            "--lifecycle",
            is_flag=True,
            help="With --stale: print the lifecycle rule JSON doing the same by the store.",
        ),
        click.option(
            "--apply-lifecycle",
            is_flag=True,
            help="With --stale: add that rule to the bucket (asks, as pail lifecycle apply).",
        ),
        click.option(
            "--replace",
            is_flag=True,
            help="With --apply-lifecycle: replace an existing rule with the same ID.",
        ),
    ]
    sql = [
        click.option(
            "--sql",
            type=click.Choice(["athena", "bigquery"]),
            help="Print the question as SQL over the inventory table (with its DDL).",
        ),
        click.option(
            "--run",
            "run_sql",
            is_flag=True,
            help="With --sql athena: run it on Athena and print the rows.",
        ),
        click.option(
            "--athena-output",
            metavar="S3URI",
            help="Where Athena writes the results (s3://bucket/prefix/).",
        ),
        click.option(
            "--athena-database",
            metavar="NAME",
            help="With --sql athena: the database of the inventory table (default pail_inventory).",
        ),
        click.option(
            "--bigquery-dataset",
            metavar="NAME",
            help="With --sql bigquery: the dataset ([project.]dataset) of the table "
            "(default pail_inventory).",
        ),
        click.option("--athena-workgroup", metavar="NAME", help="The Athena workgroup."),
        click.option(
            "--athena-endpoint", metavar="URL", help="Athena's endpoint (default: the region's)."
        ),
    ]
    output = [
        click.option(
            "--limit",
            type=Count(1, MAX_LIMIT, "rows"),
            metavar="N",
            default=DEFAULT_LIMIT,
            show_default=True,
            help="Rows of the level, or matches of --search, shown.",
        ),
        click.option(
            "--offset",
            type=Count(0),
            metavar="N",
            default=0,
            help="The level's rows from this one on (the next page: --offset 1000).",
        ),
        click.option("--json", "as_json", is_flag=True, help="One JSON document, exact."),
        human_option,
    ]
    for options in (output, sql):
        func = _add(func, options)
    func = delete_options(func)
    func = _add(func, acting)
    func = stale_filter_options(func)
    return _add(func, questions)


def _add(func: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


# --- options that go together ---------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """What one run of ``pail inventory`` asks: ``kind`` (``"level"``, ``"du"``,
    ``"search"``, ``"stale"``) and its inputs: the search as typed and as a report search
    (its prefix set when the URI is read), the stale filters."""

    kind: str
    search: str | None = None
    wanted: SearchQuery | None = None
    filters: StaleFilters | None = None


def read_question(opts: dict[str, Any]) -> Question:
    """The question the options ask, or a usage error (exit 2) for options that do not
    go together: two questions, a stale option without ``--stale``, ``--run`` without
    ``--sql athena``..."""
    asked = [q for q in _QUESTIONS if opts.get(q)]
    if len(asked) > 1:
        raise usage(f"{' and '.join(_flag(q) for q in asked)} are separate questions: ask one")
    kind = asked[0] if asked else "level"
    stale_given = [n for n in _STALE_ONLY if opts.get(n)] + given_filters(opts)
    if kind != "stale" and stale_given:
        raise usage(f"{_flag(stale_given[0])} goes with --stale")
    if opts.get("storage_class") and kind != "search":
        raise usage("--storage-class goes with --search")
    if opts.get("offset") and kind != "level":
        raise usage("--offset pages the level: it does not go with " + _flag(kind))
    deciding = [n for n in ("delete", "lifecycle", "apply_lifecycle") if opts.get(n)]
    if len(deciding) > 1:
        raise usage(f"{' and '.join(_flag(n) for n in deciding)}: choose one")
    if opts.get("replace") and not opts.get("apply_lifecycle"):
        raise usage("--replace goes with --apply-lifecycle")
    if opts.get("verify") and not opts.get("delete"):
        raise usage("--verify goes with --delete")
    if opts.get("sql") and deciding:
        raise usage(f"--sql prints SQL; it does not go with {_flag(deciding[0])}")
    if opts.get("athena_database") and opts.get("sql") != "athena":
        raise usage("--athena-database goes with --sql athena")
    if opts.get("bigquery_dataset") and opts.get("sql") != "bigquery":
        raise usage("--bigquery-dataset goes with --sql bigquery")
    if opts.get("run_sql"):
        if opts.get("sql") != "athena":
            raise usage("--run runs Athena SQL: give --sql athena")
        missing = [n for n in ("athena_output", "athena_database") if not opts.get(n)]
        if missing:
            raise usage(f"--run needs {' and '.join(_flag(n) for n in missing)}")
    else:
        runs = [n for n in ("athena_output", "athena_workgroup", "athena_endpoint") if opts.get(n)]
        if runs:
            raise usage(f"{_flag(runs[0])} goes with --run")
    filters = None
    if kind == "stale":
        filters = filters_of(opts)
        if not filters.active:
            raise usage(
                "--stale needs a filter (--older-than, --larger-than, ..., or a run rule): "
                "it never plans every key"
            )
        if filters.retention is not None and (opts.get("lifecycle") or opts.get("apply_lifecycle")):
            raise usage("run rules cannot be a lifecycle rule: the store does not know runs")
    wanted = None
    if kind == "search":
        wanted = _search_query(opts["search"], opts.get("storage_class"), opts["limit"])
    return Question(kind, opts.get("search"), wanted, filters)


# --- errors ---------------------------------------------------------------------------


def inventory_error(exc: InventoryError) -> CliError:
    """The command line's report of an inventory that cannot be used: exit 3 for no
    inventory, 2 for a question SQL cannot ask, 130 for a cancelled open or query, 1
    otherwise; one line, and a hint where one helps."""
    from pail.services.inventory.fetch import FetchCancelled
    from pail.services.inventory.query import QueryCancelled
    from pail.services.inventory.sql import SqlRefused

    message = f"pail: error: {printable(str(exc))}"
    if isinstance(exc, NoInventory):
        hint = (
            "  Hint: --manifest URI reads a given report: its manifest.json, or a prefix "
            "holding reports."
        )
        return CliError([message, hint], EXIT_NOT_FOUND)
    if isinstance(exc, ManifestInvalid):
        hint = "  Hint: the report was refused; nothing was read from it. Wait for the next one."
        return CliError([message, hint], EXIT_ERROR)
    if isinstance(exc, SqlRefused):
        return CliError([message], EXIT_USAGE)
    if isinstance(exc, (FetchCancelled, QueryCancelled)):
        return CliError(["pail: interrupted"], EXIT_INTERRUPTED)
    return CliError([message], EXIT_ERROR)


# --- running in a worker thread ---------------------------------------------------------


def _spinner_columns() -> list[ProgressColumn]:
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    return [SpinnerColumn(), text_column("{task.fields[what]}"), TimeElapsedColumn()]


def _bar_columns() -> list[ProgressColumn]:
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    return [
        SpinnerColumn(),
        text_column("{task.fields[what]}"),
        bar_column(),
        text_column("{task.fields[amount]}"),
        TimeElapsedColumn(),
    ]


def _open_figures(progress: OpenProgress) -> dict[str, Any]:
    """The open's figures for the live display: bytes downloaded move the bar."""
    detail = printable(progress.detail)[:60]
    if progress.stage == "downloading":
        return {
            "completed": progress.done,
            "total": progress.total or None,
            "what": "downloading the report",
            "amount": f"{size_text(progress.done)} of {size_text(progress.total)}",
        }
    if progress.stage == "preparing":
        return {
            "completed": progress.done,
            "total": progress.total or None,
            "what": "preparing the report (once)",
            "amount": f"{progress.done:,} of {plural(progress.total, 'file')}",
        }
    return {
        "completed": 0,
        "total": None,
        "what": "finding the report" if progress.stage == "locating" else "opening",
        "amount": detail,
    }


def open_report(
    driver: StorageDriver, bucket: str, manifest: str | None
) -> tuple[Inventory, list[str]]:
    """The bucket's report opened (:func:`pail.services.inventory.open.open_inventory`),
    with its download's progress on stderr, and the notes about reports passed over;
    Ctrl-C cancels it (what arrived is kept).

    Raises:
        InventoryError (NoInventory, ManifestInvalid...), StorageError: as
            ``open_inventory``.
    """
    from pail.services.inventory.open import open_inventory

    cancel = threading.Event()
    seen = [OpenProgress("locating")]
    located: list[str] = []  # the locating stage's details: notes among them

    def on_progress(progress: OpenProgress) -> None:
        seen[0] = progress
        if progress.stage == "locating" and progress.detail:
            located.append(progress.detail)

    inventory = wait_for(
        lambda: open_inventory(
            driver, bucket, manifest=manifest, cancel=cancel, on_progress=on_progress
        ),
        stop=cancel.set,
        columns=_bar_columns,
        poll=lambda: _open_figures(seen[0]),
        interrupted="pail: interrupted; what was downloaded is kept, the next run resumes it",
        name="pail-inventory-open",
    )
    # open_inventory passes a note about a report passed over (a newer incomplete one) as
    # a locating detail, between where it looked and the manifest it read.
    plain = {printable(manifest or f"{driver.provider}://{bucket}/")}
    plain.add(printable(inventory.report.manifest_uri))
    return inventory, [note for note in dict.fromkeys(located) if note not in plain]


def query(inventory: Inventory, call: Callable[[], T], what: str) -> T:
    """A query of the report on a worker thread, with a spinner saying ``what`` on
    stderr; Ctrl-C interrupts DuckDB (:meth:`Inventory.interrupt`) and exits 130."""
    return wait_for(
        call,
        stop=inventory.interrupt,
        columns=_spinner_columns,
        poll=lambda: {"what": what},
        interrupted="pail: interrupted",
        name="pail-inventory-query",
    )


# --- JSON -------------------------------------------------------------------------------


def report_json(report: Report) -> dict[str, Any]:
    """The report's details: label, snapshot time (ISO 8601 UTC), provider, the bucket it
    lists, its manifest URI, format, configuration id, whether rows are versions, data
    files and their bytes, rows (when the manifest says)."""
    return {
        "label": report.label,
        "snapshot": True,
        "created": iso_utc(report.created),
        "provider": report.provider,
        "source_bucket": report.source_bucket,
        "manifest": report.manifest_uri,
        "format": report.format,
        "config_id": report.config_id,
        "versions": report.versions,
        "files": len(report.files),
        "data_bytes": report.total_bytes,
        "rows": report.rows,
    }


def _uri(location: Location, key: str) -> str:
    return format_uri(location.provider, location.bucket, key, location.root)


def level_row_json(location: Location, row: LevelRow) -> dict[str, Any]:
    """One row of the level: key, uri, type (prefix|object), objects and bytes (recursive
    for a prefix), newest and oldest last-modified (ISO 8601 UTC), storage_class, etag."""
    return {
        "key": row.key,
        "uri": _uri(location, row.key),
        "type": "prefix" if row.is_prefix else "object",
        "objects": row.objects,
        "bytes": row.bytes,
        "newest": iso_utc(row.newest),
        "oldest": iso_utc(row.oldest),
        "storage_class": row.storage_class,
        "etag": row.etag,
    }


def level_json(location: Location, report: Report, level: Level, limit: int) -> dict[str, Any]:
    """The level's document: report, uri, bucket, prefix, objects and bytes under it,
    children in all, offset, limit, truncated, rows."""
    return {
        "report": report_json(report),
        "uri": _uri(location, level.prefix),
        "bucket": location.bucket,
        "prefix": level.prefix,
        "objects": level.objects,
        "bytes": level.bytes,
        "children": level.children,
        "offset": level.offset,
        "limit": limit,
        "truncated": level.truncated,
        "rows": [level_row_json(location, row) for row in level.rows],
    }


def _share_json(objects: int, size: int) -> dict[str, Any]:
    return {"objects": objects, "bytes": size}


def du_json(
    location: Location, report: Report, totals: Usage, ages: list[AgeBucket]
) -> dict[str, Any]:
    """The ``--du`` document: report, uri, prefix, objects, bytes, oldest, newest,
    classes (storage_class, objects, bytes; largest first), ages (label, lower and upper
    in days, ``upper`` null for no bound, objects, bytes)."""
    return {
        "report": report_json(report),
        "uri": _uri(location, totals.prefix),
        "bucket": location.bucket,
        "prefix": totals.prefix,
        "objects": totals.objects,
        "bytes": totals.bytes,
        "oldest": iso_utc(totals.oldest),
        "newest": iso_utc(totals.newest),
        "classes": [
            {"storage_class": c.storage_class, **_share_json(c.objects, c.bytes)}
            for c in totals.classes
        ],
        "ages": [
            {
                "label": a.label,
                "lower": a.lower,
                "upper": a.upper,
                **_share_json(a.objects, a.bytes),
            }
            for a in ages
        ],
    }


def search_json(
    location: Location, report: Report, prefix: str, text: str, result: SearchResult
) -> dict[str, Any]:
    """The ``--search`` document: report, uri, prefix, query (as typed), matched (all
    matches), bytes (theirs), truncated, rows (``pail ls --json`` rows)."""
    return {
        "report": report_json(report),
        "uri": _uri(location, prefix),
        "bucket": location.bucket,
        "prefix": prefix,
        "query": text,
        "matched": result.matched,
        "bytes": result.bytes,
        "truncated": result.truncated,
        "rows": [entry_json(location, entry) for entry in result.rows],
    }


def stale_json(location: Location, base: str, found: InventoryPlan) -> dict[str, Any]:
    """The ``--stale`` document: report, uri, prefix, candidates and candidate_bytes (what
    the report selected), recheck (how), planned (objects, bytes, keys: key, uri, size,
    last_modified: the live values), changed (key, uri, why: left alone), lifecycle
    (provider, rules, notes; null when none can) and lifecycle_refused (why not)."""
    plan = found.plan
    lifecycle = None
    if found.lifecycle is not None:
        lifecycle = {
            "provider": plan.provider,
            "rules": found.lifecycle,
            "notes": found.lifecycle_notes,
        }
    return {
        "report": report_json(found.report),
        "uri": _uri(location, base),
        "bucket": location.bucket,
        "prefix": base,
        "candidates": found.candidates,
        "candidate_bytes": found.candidate_bytes,
        "recheck": found.recheck,
        "planned": {
            "objects": plan.count,
            "bytes": plan.total_bytes,
            "keys": [
                {
                    "key": item.key,
                    "uri": _uri(location, item.key),
                    "size": item.size,
                    "last_modified": iso_utc(item.last_modified),
                }
                for item in plan.items
            ],
        },
        "changed": [
            {"key": c.key, "uri": _uri(location, c.key), "why": c.why} for c in found.changed
        ],
        "lifecycle": lifecycle,
        "lifecycle_refused": found.lifecycle_refused,
    }


def _dump(doc: dict[str, Any]) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


# --- text -------------------------------------------------------------------------------


def _stamp(when: datetime | None) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if when else ""


def level_line(row: LevelRow, human: bool) -> str:
    """One text row: last-modified time (UTC; a prefix's newest object), size (a prefix's
    recursive bytes), objects (a prefix's recursive count; blank for an object), name
    (made printable; prefixes end in ``/``)."""
    count = f"{row.objects:,}" if row.is_prefix else ""
    size = size_text(row.bytes, human)
    return f"{_stamp(row.newest):19} {size:>{_SIZE_WIDTH}} {count:>12} {printable(row.name)}"


#: Eighths of a character cell, for bars finer than one character.
_EIGHTHS = " ▏▎▍▌▋▊▉"


def text_bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """``fraction`` (0..1) of ``width`` cells as a bar of full blocks and one partial
    block (eighths), padded with spaces to ``width``."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    return bar.ljust(width)


def _share_table(
    title: str, rows: list[tuple[str, int, int]], total_bytes: int, human: bool, width: int
) -> Iterator[str]:
    """A header and ``label  objects  size  bar  percent`` rows (the bar and the percent:
    the row's share of ``total_bytes``)."""
    yield f"  {title:<{width}} {'OBJECTS':>12} {'SIZE':>{_SIZE_WIDTH}}  SHARE OF THE BYTES"
    for label, objects, size in rows:
        share = size / total_bytes if total_bytes else 0.0
        yield (
            f"  {label:<{width}} {objects:>12,} {size_text(size, human):>{_SIZE_WIDTH}}  "
            f"{text_bar(share)} {share * 100:5.1f}%"
        )


def print_du(location: Location, totals: Usage, ages: list[AgeBucket], human: bool) -> None:
    """The ``--du`` text: totals, then the storage classes and the ages (at the report's
    time) as tables with text bars of their shares of the bytes."""
    where = printable(_uri(location, totals.prefix))
    size = size_text(totals.bytes, human) + ("" if human else " bytes")
    click.echo(f"{where}: {plural(totals.objects, 'object')}, {size}")
    if totals.oldest is not None:
        click.echo(f"  oldest {iso_utc(totals.oldest)}, newest {iso_utc(totals.newest)}")
    classes = [(printable(c.storage_class or "(none)"), c.objects, c.bytes) for c in totals.classes]
    aged = [(printable(a.label), a.objects, a.bytes) for a in ages]
    titles = ("STORAGE CLASS", "AGE AT THE REPORT")
    width = max(len(label) for label, _, _ in [*classes, *aged, *((t, 0, 0) for t in titles)])
    for title, rows in zip(titles, (classes, aged), strict=True):
        click.echo("")
        for line in _share_table(title, rows, totals.bytes, human, width):
            click.echo(line)


# --- the questions ----------------------------------------------------------------------


def _prefix(key: str) -> str:
    """The URI's key as a prefix: ``""`` (the bucket) or ending in ``/``."""
    return key if not key or key.endswith("/") else key + "/"


def label_line(report: Report, notes: Sequence[str] = ()) -> None:
    """``inventory of 2026-11-28 02:00 UTC — a snapshot, not a live listing`` on stderr,
    then the ``notes`` (reports passed over), one ``pail: note:`` line each."""
    click.echo(f"{report.label} — {SNAPSHOT}", err=True)
    for note in notes:
        click.echo(f"pail: note: {printable(note)}", err=True)


def ask_level(inventory: Inventory, location: Location, prefix: str, opts: dict[str, Any]) -> None:
    """The level at ``prefix`` (:func:`print_level`)."""
    limit, offset = opts["limit"], opts["offset"]
    level = query(
        inventory,
        lambda: inventory.level(prefix, limit=limit, offset=offset),
        "reading the level",
    )
    print_level(location, inventory.report, prefix, level, opts)


def print_level(
    location: Location, report: Report, prefix: str, level: Level, opts: dict[str, Any]
) -> None:
    """The level's rows on stdout, how many and how to page on stderr (``--json``: the
    document)."""
    if opts["as_json"]:
        _dump(level_json(location, report, level, opts["limit"]))
        return
    human = opts["human"]
    click.echo("".join(level_line(row, human) + "\n" for row in level.rows), nl=False)
    where = printable(_uri(location, prefix))
    if not level.children:
        if prefix:
            click.echo(f"pail: no such prefix in the report: {where}", err=True)
        return
    shown = (
        f"rows {level.offset + 1:,}-{level.offset + len(level.rows):,} of {level.children:,}"
        if level.truncated or level.offset
        else plural(level.children, "row")
    )
    click.echo(
        f"pail: {shown}; {plural(level.objects, 'object')} "
        f"({size_text(level.bytes, True)}) under {where}",
        err=True,
    )
    if level.truncated:
        click.echo(
            f"pail: more with --offset {level.offset + len(level.rows)} (--limit {opts['limit']})",
            err=True,
        )


def ask_du(inventory: Inventory, location: Location, prefix: str, opts: dict[str, Any]) -> None:
    """``--du``: totals, storage classes and ages of ``prefix``."""

    def both() -> tuple[Usage, list[AgeBucket]]:
        found = inventory.du(prefix)
        if not found.classes:
            found = replace(found, classes=inventory.storage_classes(prefix))
        return found, inventory.ages(prefix)

    found, ages = query(inventory, both, "summing up")
    if opts["as_json"]:
        _dump(du_json(location, inventory.report, found, ages))
    else:
        print_du(location, found, ages, opts["human"])


def _search_query(text: str, storage_class: str | None, limit: int) -> SearchQuery:
    """``--search``'s text as a report search (the live search's syntax; the prefix is
    set once the URI is read); exit 2 when it does not parse."""
    from pail.services.inventory.model import search_query
    from pail.services.search import QueryError

    try:
        return search_query(text, storage_class=storage_class, limit=limit)
    except QueryError as exc:
        raise usage(f"--search: {printable(str(exc))}") from None


def ask_search(
    inventory: Inventory, location: Location, prefix: str, question: Question, opts: dict[str, Any]
) -> None:
    """``--search``: the matching keys (:func:`print_matches`)."""
    assert question.wanted is not None
    wanted = replace(question.wanted, prefix=prefix)
    result = query(inventory, lambda: inventory.search(wanted), "searching")
    print_matches(location, inventory.report, prefix, question.search or "", result, opts)


def print_matches(
    location: Location,
    report: Report,
    prefix: str,
    text: str,
    result: SearchResult,
    opts: dict[str, Any],
) -> None:
    """Matching keys on stdout as ``pail ls -r`` rows, how many on stderr (``--json``:
    the document)."""
    if opts["as_json"]:
        _dump(search_json(location, report, prefix, text, result))
        return
    click.echo(
        "".join(entry_line(e, opts["human"], full_key=True) + "\n" for e in result.rows), nl=False
    )
    where = printable(_uri(location, prefix))
    click.echo(
        f"pail: {plural(result.matched, 'match', 'matches')} "
        f"({size_text(result.bytes, True)}) under {where}",
        err=True,
    )
    if result.truncated:
        click.echo(f"pail: the first {len(result.rows):,} shown (--limit)", err=True)


def _plan(
    inventory: Inventory,
    driver: StorageDriver,
    location: Location,
    base: str,
    filters: StaleFilters,
) -> InventoryPlan:
    """The plan, made on a worker thread with its stage on stderr; Ctrl-C cancels it
    (nothing is deleted) and exits 130."""
    from pail.services.delete.plan import PlanCancelled
    from pail.services.inventory.plan import plan_from_inventory
    from pail.services.runs.detect import TooManyObjects
    from pail.services.runs.model import NoRunsFound
    from pail.services.runs.retention import RetentionError

    cancel = threading.Event()
    state: list[tuple[str, int, int]] = [("report", 0, 0)]

    def on_progress(stage: str, done: int, total: int) -> None:
        state[0] = (stage, done, total)  # one assignment: the display reads it whole

    def figures() -> dict[str, Any]:
        stage, done, total = state[0]
        if stage == "recheck":
            return {
                "completed": done,
                "total": total or None,
                "what": "re-checking live",
                "amount": f"{done:,} of {plural(total, 'key')}",
            }
        return {
            "completed": 0,
            "total": None,
            "what": "reading the report",
            "amount": plural(done, "row"),
        }

    def stop() -> None:
        cancel.set()
        inventory.interrupt()

    try:
        return wait_for(
            lambda: plan_from_inventory(
                inventory,
                driver,
                location.bucket,
                base=base,
                filters=filters,
                cancel=cancel,
                on_progress=on_progress,
                # As pail rm: runs behind a registered model version are kept.
                tracking=TrackingServer.from_env() if filters.retention is not None else None,
            ),
            stop=stop,
            columns=_bar_columns,
            poll=figures,
            interrupted="pail: interrupted; nothing was deleted",
            name="pail-inventory-plan",
        )
    except PlanCancelled:
        raise CliError(["pail: interrupted; nothing was deleted"], EXIT_INTERRUPTED) from None
    except NoRunsFound as exc:
        raise usage(printable(str(exc))) from None
    except (RetentionError, TooManyObjects) as exc:
        raise usage(f"refusing to plan by runs: {printable(str(exc))}") from None


def stale_lines(location: Location, base: str, found: InventoryPlan) -> list[str]:
    """What the plan is made of, for stderr: the report's candidates, the re-check and
    every key left alone with why, then the plan's summary (as ``pail rm`` shows it)."""
    where = printable(_uri(location, base))
    lines = [
        f"From the report: {plural(found.candidates, 'object')} "
        f"({size_text(found.candidate_bytes, True)}) selected under {where}",
    ]
    if found.candidates:
        left = len(found.changed)
        lines.append(
            f"Re-checked live ({printable(found.recheck)}): "
            f"{plural(found.plan.count, 'object')} unchanged since the report, "
            f"{left:,} left alone"
        )
    if found.changed:
        lines.append(f"Left alone, changed since the {found.report.label}:")
        lines += [
            f"  {printable(_uri(location, c.key))}: {printable(c.why)}" for c in found.changed
        ]
    return lines


def lifecycle_lines(found: InventoryPlan) -> list[str]:
    """The lifecycle offer, for stderr: the rule that would do the same by the store
    (one summary line each; ``--lifecycle`` prints the JSON), or why none can."""
    from pail.services import lifecycle as lc

    if found.lifecycle is not None:
        lines = ["A lifecycle rule can do the same by the store, at any scale (--lifecycle):"]
        lines += [f"  {printable(lc.rule_summary(rule))}" for rule in found.lifecycle]
        return lines
    lines = ["No lifecycle rule can do the same:"]
    lines += [f"  {printable(why)}" for why in found.lifecycle_refused]
    return lines


def ask_stale(
    inventory: Inventory,
    driver: StorageDriver,
    location: Location,
    base: str,
    filters: StaleFilters,
    opts: dict[str, Any],
) -> None:
    """``--stale``: plan from the report, re-check, print; ``--delete`` deletes it as
    ``pail rm`` does."""
    found = _plan(inventory, driver, location, base, filters)
    plan = found.plan
    if opts["as_json"]:
        _dump(stale_json(location, base, found))
    for line in stale_lines(location, base, found):
        click.echo(line, err=True)
    if not plan.count:
        for line in run_lines(plan):
            click.echo(line, err=True)
        click.echo("pail: nothing to delete", err=True)
        for line in lifecycle_lines(found):
            click.echo(line, err=True)
        return
    for line in summary_lines(plan, location, base):
        click.echo(line, err=True)
    for line in lifecycle_lines(found):
        click.echo(line, err=True)
    if not opts["delete"]:
        if not opts["as_json"]:
            for item in plan.items:
                click.echo(_uri(location, item.key))
        click.echo("pail: nothing was deleted (--delete deletes the plan)", err=True)
        return
    confirm_delete(plan, location, base, yes=opts["yes"], listing="leave out --delete to list them")
    done = execute_delete(driver, plan, opts["jobs"], location, opts["verify"])
    if done.lines:
        raise CliError(done.lines, EXIT_ERROR)


def ask_lifecycle(
    report: Report,
    driver: StorageDriver,
    location: Location,
    base: str,
    export: RuleExport,
    opts: dict[str, Any],
) -> None:
    """``--stale --lifecycle`` prints the rule JSON (as ``pail lifecycle export``),
    ``--apply-lifecycle`` adds it to the bucket (as ``pail lifecycle apply``). No re-check:
    the store judges each object itself when the rule runs."""
    from pail.services import lifecycle as lc

    if opts["apply_lifecycle"]:
        apply_rules(driver, location.bucket, base, export, opts["replace"], opts["yes"])
        return
    if opts["as_json"]:
        _dump(
            {
                "report": report_json(report),
                "provider": export.provider,
                "bucket": location.bucket,
                "prefix": base,
                "rules": export.rules,
                "notes": export.notes,
            }
        )
    else:
        click.echo(lc.export_json(export.provider, export.rules))
    rule_notes(base, export)


# --- SQL --------------------------------------------------------------------------------


def _sql_questions(
    table: InventoryTable, prefix: str, question: Question, opts: dict[str, Any]
) -> list[SqlQuery[Any]]:
    """The question as SQL statements over ``table`` (``--du``: usage, then ages)."""
    from pail.services.inventory import sql

    if question.kind == "du":
        return [sql.du_sql(table, prefix), sql.ages_sql(table, prefix)]
    if question.kind == "search":
        assert question.wanted is not None
        return [sql.search_sql(table, replace(question.wanted, prefix=prefix))]
    if question.kind == "stale":
        assert question.filters is not None
        return [sql.stale_sql(table, question.filters, base=prefix, limit=opts["limit"])]
    return [sql.level_sql(table, prefix, limit=opts["limit"], offset=opts["offset"])]


def _sql_table(report: Report, opts: dict[str, Any]) -> InventoryTable:
    from pail.services.inventory import sql

    if opts["sql"] == "athena":
        database = opts["athena_database"] or sql.DEFAULT_DATABASE
        return sql.athena_table(report, database=database)
    return sql.bigquery_table(report, dataset=opts["bigquery_dataset"] or sql.DEFAULT_DATABASE)


def locate_report(driver: StorageDriver, bucket: str, manifest: str | None) -> Located:
    """The report ``pail inventory`` would open, its manifest read and verified but no
    data file downloaded (:func:`pail.services.inventory.locate.locate`)."""
    from pail.services.inventory.locate import locate

    cancel = threading.Event()  # nothing to cancel in the calls; Ctrl-C leaves them
    located = wait_for(
        lambda: locate(driver, bucket, manifest=manifest),
        stop=cancel.set,
        columns=_spinner_columns,
        poll=lambda: {"what": "finding the report"},
        interrupted="pail: interrupted",
        name="pail-inventory-locate",
    )
    return located


def ask_sql(
    driver: StorageDriver, location: Location, prefix: str, question: Question, opts: dict[str, Any]
) -> None:
    """``--sql``: the question as Athena or BigQuery SQL, the table's statements first
    (stdout; ``--json``: engine, statements, questions); ``--run`` runs them on Athena and
    prints the answer as the local query would."""
    located = locate_report(driver, location.bucket, opts["manifest"])
    report = located.report
    label_line(report, located.notes)
    table = _sql_table(report, opts)
    questions = _sql_questions(table, prefix, question, opts)
    if not opts["run_sql"]:
        if opts["as_json"]:
            _dump(
                {
                    "report": report_json(report),
                    "engine": opts["sql"],
                    "table": table.ref,
                    "setup": table.create_statements(),
                    "questions": [{"question": q.question, "sql": q.sql} for q in questions],
                }
            )
            return
        click.echo(questions[0].script())
        for more in questions[1:]:
            click.echo("\n" + more.sql + ";")
        return
    answers = _run_athena(driver, questions, opts)
    show_answer(location, report, prefix, question, answers, opts)


def _run_athena(
    driver: StorageDriver, questions: list[SqlQuery[Any]], opts: dict[str, Any]
) -> list[Any]:
    """Each statement run on Athena in turn (the table's statements before the first),
    the query id on stderr; Ctrl-C stops the running one (StopQueryExecution), exit 130."""
    from pail.drivers.s3.athena import AthenaQueryCancelled
    from pail.services.inventory.sql import run_athena

    cancel = threading.Event()
    running = [""]
    stopped = [False]

    def started(query_id: str) -> None:
        running[0] = query_id
        click.echo(f"pail: Athena query {printable(query_id)} started", err=True)

    def run_all() -> list[Any]:
        try:
            return [
                run_athena(
                    driver,
                    q,
                    output_location=opts["athena_output"],
                    workgroup=opts["athena_workgroup"],
                    endpoint_url=opts["athena_endpoint"],
                    setup=i == 0,
                    cancel=cancel,
                    on_start=started,
                )
                for i, q in enumerate(questions)
            ]
        except AthenaQueryCancelled:
            stopped[0] = True
            raise

    def interrupted() -> str:
        if stopped[0] or not running[0]:
            return "pail: interrupted; no Athena query is left running"
        return (
            f"pail: interrupted; Athena query {printable(running[0])} may still be running: "
            "stop it in the Athena console"
        )

    return wait_for(
        run_all,
        stop=cancel.set,
        columns=_spinner_columns,
        poll=lambda: {"what": f"running on Athena {printable(running[0])}"},
        interrupted=interrupted,
        grace=ATHENA_STOP_GRACE,
        name="pail-inventory-athena",
    )


def show_answer(
    location: Location,
    report: Report,
    prefix: str,
    question: Question,
    answers: list[Any],
    opts: dict[str, Any],
) -> None:
    """Print an answer computed elsewhere (Athena) as the local query's is printed."""
    if question.kind == "du":
        totals, ages = answers
        if opts["as_json"]:
            _dump(du_json(location, report, totals, ages))
        else:
            print_du(location, totals, ages, opts["human"])
    elif question.kind in ("search", "stale"):
        print_matches(location, report, prefix, question.search or "", answers[0], opts)
    else:
        print_level(location, report, prefix, answers[0], opts)


# --- the command ------------------------------------------------------------------------


@contextmanager
def _inventory_errors() -> Iterator[None]:
    """Inventory errors as the command line reports them (:func:`inventory_error`)."""
    try:
        yield
    except InventoryError as exc:
        raise inventory_error(exc) from None


def run_inventory(flags: Flags, uri: str, **opts: Any) -> None:
    """``pail inventory``: read the options, open the report, answer (see the module doc).

    Raises:
        CliError: the exit statuses in the module doc. StorageError: as every command
            (the group maps it).
    """
    from pail.services.locations import open_location

    question = read_question(opts)
    driver, location = open_location(uri, flags)
    prefix = _prefix(location.key)
    export = None
    if opts["lifecycle"] or opts["apply_lifecycle"]:  # refused before anything is read
        assert question.filters is not None
        export = lifecycle_rules(
            driver.provider,
            prefix,
            question.filters,
            instead="--delete deletes the plan key by key instead",
        )
    with _inventory_errors():
        if opts["sql"]:
            ask_sql(driver, location, prefix, question, opts)
            return
        if export is not None:  # a rule needs the report's manifest, not its rows
            located = locate_report(driver, location.bucket, opts["manifest"])
            label_line(located.report, located.notes)
            ask_lifecycle(located.report, driver, location, prefix, export, opts)
            return
        inventory, notes = open_report(driver, location.bucket, opts["manifest"])
        with inventory:
            label_line(inventory.report, notes)
            if question.kind == "du":
                ask_du(inventory, location, prefix, opts)
            elif question.kind == "search":
                ask_search(inventory, location, prefix, question, opts)
            elif question.kind == "stale":
                assert question.filters is not None
                ask_stale(inventory, driver, location, prefix, question.filters, opts)
            else:
                ask_level(inventory, location, prefix, opts)


__all__ = [
    "DEFAULT_LIMIT",
    "SNAPSHOT",
    "Question",
    "inventory_error",
    "inventory_options",
    "level_json",
    "level_line",
    "read_question",
    "register",
    "report_json",
    "run_inventory",
    "text_bar",
]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail inventory`` to ``group`` (``connection_options``/``flags_of`` from
    pail.cli.main)."""

    @group.command("inventory", short_help="Browse, size, search, clean a bucket from its report.")
    @connection_options
    @inventory_options
    @click.pass_context
    def inventory_command(ctx: click.Context, **options: Any) -> None:
        """Answer from URI's inventory report (S3 Inventory, GCS Storage Insights), a
        snapshot, not a live listing: the level at the prefix (objects and bytes of each
        prefix, recursively), --du, --search QUERY, or --stale with pail rm's filters
        (a plan re-checked live; --delete deletes it as pail rm does, --lifecycle prints
        the rule doing the same). --sql athena|bigquery prints the question as SQL over
        the inventory table instead; --run runs it on Athena. Exit status 3 when the
        bucket has no inventory, 1 when its manifest is refused, 130 on Ctrl-C."""
        run_inventory(flags_of(ctx), **options)
