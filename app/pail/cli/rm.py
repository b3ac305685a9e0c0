"""``pail rm``: delete an object, or with ``-r`` what is stale under a prefix.

The same planner and deleter as the app (:mod:`pail.services.delete.plan`,
:mod:`pail.services.delete.engine`). Steps: plan (list and filter), show the plan's summary on
stderr, confirm, delete in batches (on a terminal, stderr shows a transient
:mod:`rich.progress` bar meanwhile: keys deleted and failed, keys/s, ETA;
:mod:`pail.cli.progress`), report.

Confirmation: ``--yes`` skips it. On a terminal pail asks ``[y/N]``; above 1,000 objects, or
when a whole prefix would be emptied, the bucket name must be typed instead. Without a
terminal and without ``--yes`` pail refuses (exit 2) and deletes nothing. ``--dry-run``
lists what would be deleted (stdout, one URI per line) and deletes nothing.

A key counts as deleted only when the store confirmed it (:mod:`pail.services.delete.engine`);
a key its reply did not name is a failure (``NotConfirmed``). ``--verify`` asks the store
again afterwards (a HEAD per key when few, else a listing of their folders:
:mod:`pail.services.delete.verify`) and lists every key reported deleted that is still
there.

Retention by runs (:mod:`pail.services.runs.retention`): ``--keep-last N`` (each
experiment's N newest runs), ``--keep-best N --metric NAME [--mode min|max]
[--metric-value best|final]`` (each experiment's N best; a run that did not log the metric
is kept), ``--keep-tag TAG`` (``pail.keep``, ``keep=true``) and ``--keep-name GLOB``
(repeatable). The runs are those detected under the URI's prefix
(:func:`pail.services.runs.detect.detect_runs`; with ``MLFLOW_TRACKING_URI`` the tracking
server's registered model versions protect their runs). Only objects of the runs no rule
keeps are deleted, never objects outside any run; the summary lists every run kept and
why, and every run deleted and why. Where no runs are recognised pail refuses (exit 2).
``--tracking-delete`` also marks each deleted MLflow run as deleted on the tracking
server (MLflow's ``runs/delete``: :mod:`pail.services.runs.tracker_sync`), once the store
confirmed every object of the run deleted; the same confirmation covers it, and a run the
server refuses is listed.

Exit status: 0 when everything planned was deleted (or nothing matched); 1 when any key
failed (each failed key is listed on stderr with its error code), ``--verify`` found a key
still present or could not check it, or the user declined; 2 for bad usage (a prefix
without ``-r``, a filter that does not parse or is out of range, a run rule where there
are no runs or by a metric no run logged, no confirmation possible); 130 on Ctrl-C: no
new batch starts, pail waits at most :data:`INTERRUPT_GRACE` seconds for the batches in
flight, then says how many keys were confirmed deleted, failed, unconfirmed (their
request had no answer yet: they may or may not be gone) and not attempted, and exits
without waiting for a hung request.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_USAGE, CliError
from pail.cli.output import iso_utc
from pail.cli.progress import LiveProgress, bar_column, clock, text_column
from pail.cli.values import Count
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location, format_uri
from pail.drivers.base import StorageDriver
from pail.services.delete.engine import DEFAULT_JOBS, Deleter, DeleteReport
from pail.services.delete.filters import MAX_KEEP_LAST, FilterError, StaleFilters
from pail.services.delete.plan import DeletePlan, RunsSource, build_plan, normalize_prefix
from pail.services.delete.verify import VerifyResult, verify_deleted
from pail.services.locations import open_location
from pail.services.runs.detect import TooManyObjects
from pail.services.runs.model import LAYOUT_NAMES, NoRunsFound
from pail.services.runs.retention import RetentionError, RunVerdict
from pail.services.runs.tracker_sync import (
    TrackerMarks,
    mark_deleted,
    partially_planned,
    tracker_runs,
)
from pail.services.runs.tracking import TrackingServer

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

#: Prefixes named in the summary before "and N more".
_SHOWN_PREFIXES = 10
#: Runs listed in the summary, kept and deleted each, before "and N more".
SHOWN_RUNS = 100
#: Seconds pail waits after Ctrl-C for the batches in flight to answer before it reports
#: and exits (a hung request is abandoned, never waited for).
INTERRUPT_GRACE = 1.0


def rm_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options of ``pail rm`` (connection flags are added by the caller)."""
    for option in reversed(
        [
            click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]"),
            click.option("-r", "--recursive", is_flag=True, help="Everything under the prefix."),
            click.option("--older-than", metavar="AGE", help="Last modified before AGE ago: 30d."),
            click.option("--larger-than", metavar="SIZE", help="Bigger than SIZE: 100MB, 1GiB."),
            click.option("--smaller-than", metavar="SIZE", help="Smaller than SIZE."),
            click.option(
                "--include", multiple=True, metavar="GLOB", help="Only keys matching (relative)."
            ),
            click.option("--exclude", multiple=True, metavar="GLOB", help="Never keys matching."),
            click.option("--regex", metavar="RE", help="Only keys where RE is found (relative)."),
            click.option(
                "--keep-last",
                type=Count(0, MAX_KEEP_LAST, "runs"),
                metavar="N",
                help="Keep each experiment's N newest runs (detected runs, by start time).",
            ),
            click.option(
                "--keep-best",
                type=Count(0, MAX_KEEP_LAST, "runs"),
                metavar="N",
                help="Keep each experiment's N best runs by --metric.",
            ),
            click.option("--metric", metavar="NAME", help="The metric --keep-best ranks by."),
            click.option(
                "--mode",
                type=click.Choice(["min", "max"]),
                help="Lower (min) or higher (max) is better; default from the metric's name.",
            ),
            click.option(
                "--metric-value",
                type=click.Choice(["best", "final"]),
                default="best",
                show_default=True,
                help="Rank by the run's best logged value or its last one.",
            ),
            click.option(
                "--keep-tag",
                multiple=True,
                metavar="TAG",
                help="Keep runs with this tag (NAME or NAME=VALUE).",
            ),
            click.option(
                "--keep-name",
                multiple=True,
                metavar="GLOB",
                help="Keep runs whose name or id matches.",
            ),
            click.option(
                "--tracking-delete",
                is_flag=True,
                help="Also mark the deleted MLflow runs deleted on MLFLOW_TRACKING_URI.",
            ),
            click.option("--dry-run", is_flag=True, help="List what would go; delete nothing."),
            click.option(
                "--verify",
                is_flag=True,
                help="Afterwards, ask the store again; list keys still present (exit 1).",
            ),
            click.option("-y", "--yes", is_flag=True, help="Do not ask (needed without a TTY)."),
            click.option(
                "-j",
                "--jobs",
                type=Count(1, 64),
                default=DEFAULT_JOBS,
                show_default=True,
                help="Batches of 1,000 keys in flight.",
            ),
        ]
    ):
        func = option(func)
    return func


def _usage(message: str) -> CliError:
    return CliError([f"pail: error: {message}"], EXIT_USAGE)


def make_plan(
    driver: StorageDriver,
    location: Location,
    recursive: bool,
    filters: StaleFilters,
    runs: RunsSource | None = None,
    tracking: TrackingServer | None = None,
) -> tuple[DeletePlan, str]:
    """The plan for ``pail rm`` and the prefix it is "under" (for messages).

    A URI ending in ``/`` (or a bucket) is a prefix and needs ``-r``. With ``-r`` a URI
    without the slash names the prefix ``KEY/`` (never ``KEY*``: ``runs/run-1`` does not
    reach ``runs/run-10/``); if nothing is under it, the object ``KEY`` itself.
    ``runs``: where run rules get the runs (default: detected under the prefix, with
    ``tracking``'s names, metrics and registered model versions).

    Raises:
        CliError: exit 2 for a prefix without ``-r``; for run rules where no runs are
            found (:class:`NoRunsFound`), that cannot apply (a metric no run logged), or
            where detection gave up (too many objects).
    """
    try:
        return _make_plan(driver, location, recursive, filters, runs, tracking)
    except NoRunsFound as exc:
        raise _usage(str(exc)) from None
    except (RetentionError, TooManyObjects) as exc:
        raise _usage(f"refusing to plan by runs: {exc}") from None


def _make_plan(
    driver: StorageDriver,
    location: Location,
    recursive: bool,
    filters: StaleFilters,
    runs: RunsSource | None,
    tracking: TrackingServer | None,
) -> tuple[DeletePlan, str]:
    key, bucket = location.key, location.bucket

    def plan(base: str, **what: Any) -> DeletePlan:
        return build_plan(
            driver, bucket, base=base, filters=filters, runs=runs, tracking=tracking, **what
        )

    if not key or key.endswith("/"):
        if not recursive:
            raise _usage(
                f"{printable(location.uri)} is a prefix; use -r to delete what is under it"
            )
        return plan(key, prefixes=[key]), key
    if recursive:
        prefix = normalize_prefix(key)
        found = plan(prefix, prefixes=[prefix])
        if found.examined:
            return found, prefix
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return plan(folder, keys=[key]), folder


def _run_label(verdict: RunVerdict) -> str:
    run = verdict.run
    label = run.name if run.name == run.id else f"{run.name} ({run.id})"
    return printable(label)


def run_lines(plan: DeletePlan) -> list[str]:
    """The runs part of the summary (empty without run rules): the layout, the rules,
    every run kept and why, every run deleted with what goes of it and why, objects in no
    run. At most :data:`SHOWN_RUNS` runs of each kind are named."""
    decision, runset = plan.retention, plan.runs
    if decision is None or runset is None:
        return []
    layouts = dict.fromkeys(v.run.layout for v in decision.verdicts)
    title = " + ".join(LAYOUT_NAMES.get(n, n) for n in layouts) or "none in the selection"
    kept, deleted = decision.kept, decision.deleted
    lines = [
        f"  runs ({printable(title)}): {len(kept):,} kept, {len(deleted):,} to delete; "
        f"{printable(decision.rules.describe() or 'no rule: every run goes')}"
    ]
    for verdict in kept[:SHOWN_RUNS]:
        lines.append(f"    keep   {_run_label(verdict)}: {printable('; '.join(verdict.reasons))}")
    if len(kept) > SHOWN_RUNS:
        lines.append(f"    and {len(kept) - SHOWN_RUNS:,} more runs kept")
    for verdict in deleted[:SHOWN_RUNS]:
        planned = plan.run_items.get(verdict.run.id)
        what = (
            f"{plural(planned.objects, 'object')}, {size_text(planned.bytes, True)}"
            if planned is not None
            else "nothing of it matches the filters"
        )
        lines.append(
            f"    delete {_run_label(verdict)} ({what}): {printable('; '.join(verdict.reasons))}"
        )
    if len(deleted) > SHOWN_RUNS:
        lines.append(f"    and {len(deleted) - SHOWN_RUNS:,} more runs to delete")
    if plan.outside_runs:
        verb = "belongs" if plan.outside_runs == 1 else "belong"
        lines.append(
            f"  {plural(plan.outside_runs, 'object')} {verb} to no run: never deleted by run rules"
        )
    for warning in runset.warnings[:SHOWN_RUNS]:
        lines.append(f"  warning: {printable(warning)}")
    return lines


def summary_lines(plan: DeletePlan, location: Location, under: str) -> list[str]:
    """The plan's summary for stderr: count, bytes, where, oldest/newest, prefixes."""
    where = format_uri(location.provider, plan.bucket, under, location.root)
    lines = [
        f"Delete {plural(plan.count, 'object')} ({size_text(plan.total_bytes, True)}) "
        f"under {printable(where)}",
    ]
    if plan.oldest is not None:
        lines.append(f"  oldest {iso_utc(plan.oldest)}, newest {iso_utc(plan.newest)}")
    names = [printable(p[len(under) :] or "(directly here)") for p in plan.prefixes]
    if names:
        more = len(names) - _SHOWN_PREFIXES
        shown = ", ".join(names[:_SHOWN_PREFIXES]) + (f" and {more:,} more" if more > 0 else "")
        lines.append(f"  prefixes ({len(names):,}): {shown}")
    for prefix in plan.whole_prefixes:
        whole = format_uri(location.provider, plan.bucket, prefix, location.root)
        lines.append(f"  empties the whole prefix {printable(whole)}")
    lines += run_lines(plan)
    return lines


def _confirm(plan: DeletePlan, location: Location, under: str, also: str = "") -> bool:
    """Ask on the terminal: y/N, or the bucket name typed for big or whole-prefix deletes
    (``also``: what else the answer allows, ``" and mark 2 runs deleted on URI"``).
    Ctrl-C at the question exits 130 with nothing deleted."""
    try:
        return _ask(plan, location, under, also)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("", err=True)
        raise CliError(["pail: interrupted; nothing was deleted"], EXIT_INTERRUPTED) from None


def _ask(plan: DeletePlan, location: Location, under: str, also: str) -> bool:
    where = printable(format_uri(location.provider, plan.bucket, under, location.root))
    size = size_text(plan.total_bytes, True)
    if plan.needs_typed_confirmation():
        answer = click.prompt(
            f"Delete {plural(plan.count, 'object')} ({size}) under {where}{also}? "
            f"Type the bucket name ({printable(plan.bucket)}) to confirm",
            default="",
            show_default=False,
            err=True,
        )
        return answer.strip() == plan.bucket
    return click.confirm(
        f"Delete {plural(plan.count, 'object')} ({size}) under {where}{also}?",
        default=False,
        err=True,
    )


def _delete_figures(deleter: Deleter) -> dict[str, Any]:
    """The delete's figures for the live display: keys finished move the bar."""
    snap = deleter.progress()
    finished = snap.deleted + snap.failed
    eta = (snap.total - finished) / snap.rate if snap.rate > 0 else None
    return {
        "completed": finished,
        "total": snap.total or None,
        "counts": f"deleted {snap.deleted:,}/{snap.total:,}  failed {snap.failed:,}",
        "rate": f"{snap.rate:,.0f} keys/s",
        "eta": f"ETA {clock(eta)}",
        "note": "(interrupted: waiting for the batches in flight)" if snap.cancelled else "",
    }


def _delete_columns() -> list[ProgressColumn]:
    return [
        bar_column(),
        text_column("{task.fields[counts]}"),
        text_column("{task.fields[rate]}"),
        text_column("{task.fields[eta]}"),
        text_column("{task.fields[note]}"),
    ]


def run_rm(
    flags: Flags,
    uri: str,
    recursive: bool,
    older_than: str | None,
    larger_than: str | None,
    smaller_than: str | None,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    regex: str | None,
    keep_last: int | None,
    dry_run: bool,
    yes: bool,
    jobs: int,
    verify: bool = False,
    keep_best: int | None = None,
    metric: str | None = None,
    mode: str | None = None,
    metric_value: str = "best",
    keep_tag: tuple[str, ...] = (),
    keep_name: tuple[str, ...] = (),
    tracking_delete: bool = False,
) -> None:
    """``pail rm``: plan, summarise, confirm, delete, report (see the module doc)."""
    try:
        filters = StaleFilters.parse(
            older_than=older_than,
            larger_than=larger_than,
            smaller_than=smaller_than,
            include=include,
            exclude=exclude,
            regex=regex,
            keep_last=keep_last,
            keep_best=keep_best,
            metric=metric,
            mode=mode,
            metric_value=metric_value,
            keep_tags=keep_tag,
            keep_names=keep_name,
        )
    except FilterError as exc:
        raise _usage(_option_words(str(exc))) from None
    if tracking_delete and filters.retention is None:
        raise _usage(
            "--tracking-delete marks the runs a run rule deletes: give --keep-last, "
            "--keep-best, --keep-tag or --keep-name"
        )
    # With run rules and MLFLOW_TRACKING_URI, the server's registered model versions protect
    # their runs (and name them); --tracking-delete needs it.
    tracking = TrackingServer.from_env() if filters.retention is not None else None
    if tracking_delete and tracking is None:
        raise _usage(
            "--tracking-delete needs MLFLOW_TRACKING_URI: the http(s) URI of an MLflow or "
            "FastTrackML tracking server"
        )
    driver, location = open_location(uri, flags)
    try:
        plan, under = make_plan(driver, location, recursive, filters, tracking=tracking)
    except KeyboardInterrupt:
        raise CliError(["pail: interrupted; nothing was deleted"], EXIT_INTERRUPTED) from None
    if not plan.count:
        if plan.missing:
            raise CliError(
                [f"pail: error: no such object: {printable(location.uri)}"], EXIT_NOT_FOUND
            )
        for line in run_lines(plan):
            click.echo(line, err=True)
        click.echo(
            f"pail: nothing to delete ({plural(plan.examined, 'object')} examined)", err=True
        )
        return
    for line in summary_lines(plan, location, under):
        click.echo(line, err=True)
    if tracking is not None:
        click.echo(
            f"  tracking server {printable(tracking.uri)}: runs behind a registered model "
            "version are kept",
            err=True,
        )
    marking = tracker_runs(plan) if tracking_delete else []
    if marking and tracking is not None:
        click.echo(
            f"  then marks {plural(len(marking), 'MLflow run')} deleted on "
            f"{printable(tracking.uri)}, each once the store confirmed all its objects deleted",
            err=True,
        )
    partial = partially_planned(plan, marking) if tracking_delete else []
    if partial:
        names = ", ".join(_run_label(v) for v in partial[:SHOWN_RUNS])
        click.echo(
            f"  not marked deleted in the tracker (the filters keep some of their objects): "
            f"{names}",
            err=True,
        )
    if dry_run:
        for item in plan.items:
            click.echo(format_uri(location.provider, plan.bucket, item.key, location.root))
        report = Deleter(driver, plan, dry_run=True).run()
        click.echo(
            f"pail: dry run: {plural(report.deleted, 'object')} "
            f"({size_text(plan.total_bytes, True)}) would be deleted; nothing was deleted",
            err=True,
        )
        if verify:
            click.echo("pail: --verify: nothing to check in a dry run", err=True)
        if marking:
            click.echo("pail: dry run: no run was marked deleted on the tracking server", err=True)
        return
    if not yes:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise _usage(
                f"refusing to delete {plural(plan.count, 'object')} without confirmation: not a "
                "terminal. Pass --yes to delete, or --dry-run to list them."
            )
        also = ""
        if marking and tracking is not None:
            also = f" and mark {plural(len(marking), 'run')} deleted on {printable(tracking.uri)}"
        if not _confirm(plan, location, under, also):
            raise CliError(["pail: aborted; nothing was deleted"], EXIT_ERROR)
    done = _execute(driver, plan, jobs, location, verify)
    lines = done.lines
    if marking and tracking is not None:
        lines += tracker_lines(mark_deleted(tracking, plan, done.report, marking))
    if lines:
        raise CliError(lines, EXIT_ERROR)


#: The run rules' words in the services' messages -> the options that set them.
_OPTION_WORDS = (
    ("keep best needs the metric", "--keep-best needs --metric"),
    ("a metric is only used to keep the best N runs: give keep best", "--metric needs --keep-best"),
    ("a mode is only used to keep the best N runs: give keep best", "--mode needs --keep-best"),
)


def _option_words(message: str) -> str:
    for words, option in _OPTION_WORDS:
        if message.startswith(words):
            return option + message[len(words) :]
    return message


@dataclass
class _Executed:
    """A delete that ran to its end: the ``report`` and the error ``lines`` so far (failed
    keys, --verify's findings); empty when all went well."""

    report: DeleteReport
    lines: list[str]


def _execute(
    driver: StorageDriver, plan: DeletePlan, jobs: int, location: Location, verify: bool
) -> _Executed:
    """Run the delete with the live display; Ctrl-C exits 130 (:data:`INTERRUPT_GRACE`)."""
    deleter = Deleter(driver, plan, jobs=jobs)
    deleter.start()
    interrupted = False
    with LiveProgress(_delete_columns, lambda: _delete_figures(deleter)):
        try:
            while deleter.wait(0.1) is None:
                pass
        except KeyboardInterrupt:
            interrupted = True
            deleter.cancel()  # no new batch starts; the display says it waits
            # Batches answering within the grace period are counted; hung ones are not.
            with contextlib.suppress(KeyboardInterrupt):
                deleter.wait(INTERRUPT_GRACE)
    report = deleter.report()
    lines = failure_lines(report)
    if interrupted:
        click.echo("pail: interrupted: " + _outcome(report), err=True)
        raise (
            CliError(lines, EXIT_INTERRUPTED) if lines else click.exceptions.Exit(EXIT_INTERRUPTED)
        )
    click.echo("pail: " + _outcome(report), err=True)
    if verify:
        lines += _verify(driver, plan, report, location)
    return _Executed(report, lines)


def tracker_lines(marks: TrackerMarks) -> list[str]:
    """Print what :func:`pail.services.runs.tracker_sync.mark_deleted` did (the runs marked,
    unknown to the server, not marked because their objects are not all gone); return the
    error lines for the runs the server refused or could not be asked about."""
    where = printable(marks.server)
    if marks.marked:
        names = ", ".join(_run_label(v) for v in marks.marked)
        click.echo(
            f"pail: marked {plural(len(marks.marked), 'run')} deleted on {where}: {names}",
            err=True,
        )
    if marks.unknown:
        click.echo(
            f"pail: {plural(len(marks.unknown), 'run')} unknown to {where}, nothing to mark: "
            + ", ".join(_run_label(v) for v in marks.unknown),
            err=True,
        )
    waiting = [
        f"{_run_label(w.verdict)} ({plural(w.left, 'object')} not confirmed deleted)"
        for w in marks.waiting
    ]
    if waiting:
        click.echo(
            f"pail: not marked deleted on {where}, their objects are not all gone: "
            + "; ".join(waiting),
            err=True,
        )
    errors = [f"  {_run_label(e.verdict)}: {printable(e.message)}" for e in marks.errors]
    if errors:
        verb = "was" if len(errors) == 1 else "were"
        errors.insert(
            0, f"pail: error: {plural(len(errors), 'run')} {verb} not marked deleted on {where}"
        )
    return errors


def failure_lines(report: DeleteReport) -> list[str]:
    """``pail: error: N objects were not deleted`` and one line per failed key (empty when
    nothing failed)."""
    if not report.failed:
        return []
    failed = len(report.failed)
    lines = [
        f"pail: error: {plural(failed, 'object')} {'was' if failed == 1 else 'were'} not deleted"
    ]
    lines += [
        f"  failed {printable(f.key)}"
        + (f" (version {printable(f.version_id)})" if f.version_id else "")
        + f": {printable(f.code)}: {printable(f.message)}"
        for f in report.failed
    ]
    return lines


def _outcome(report: DeleteReport) -> str:
    """``deleted N objects (SIZE), F failed (codes), U unconfirmed..., A not attempted``."""
    parts = [
        f"deleted {plural(report.deleted, 'object')} ({size_text(report.deleted_bytes, True)})"
    ]
    if report.failed:
        codes = ", ".join(f"{n:,} {code}" for code, n in sorted(report.failure_codes().items()))
        parts.append(f"{len(report.failed):,} failed ({printable(codes)})")
    elif report.cancelled:
        parts.append("0 failed")
    if report.in_flight:
        parts.append(
            f"{report.in_flight:,} unconfirmed (their request had no answer yet: they may or "
            "may not be deleted)"
        )
    if report.not_attempted or report.cancelled:
        parts.append(f"{report.not_attempted:,} not attempted")
    return ", ".join(parts)


def _verify(
    driver: StorageDriver, plan: DeletePlan, report: DeleteReport, location: Location
) -> list[str]:
    """Check the confirmed keys again; print the outcome, return the error lines."""
    if not report.confirmed:
        click.echo("pail: verify: no object was reported deleted; nothing to check", err=True)
        return []
    try:
        result = verify_deleted(driver, plan.bucket, report.confirmed)
    except KeyboardInterrupt:
        raise CliError(
            ["pail: interrupted while verifying; the delete itself had finished"],
            EXIT_INTERRUPTED,
        ) from None
    return verify_lines(result, plan, location)


def verify_lines(result: VerifyResult, plan: DeletePlan, location: Location) -> list[str]:
    """Print the verification's success line, or return its error lines."""
    how = {"head": "by HEAD", "list": "by listing", "head+list": "by HEAD and listing"}
    method = how.get(result.method, "")
    if result.ok:
        click.echo(
            f"pail: verified {method}: the {plural(result.checked, 'object')} reported deleted "
            f"{'is' if result.checked == 1 else 'are'} gone",
            err=True,
        )
        return []
    lines: list[str] = []
    if result.present:
        lines.append(
            f"pail: error: verify: {len(result.present):,} of "
            f"{plural(result.checked, 'object')} reported deleted "
            f"{'is' if len(result.present) == 1 else 'are'} still present"
        )
        for item in result.present:
            uri = format_uri(location.provider, plan.bucket, item.key, location.root)
            detail = [size_text(item.size or 0, True)]
            if item.version_id:
                detail.insert(0, f"version {printable(item.version_id)}")
            if item.last_modified is not None:
                detail.append(f"modified {iso_utc(item.last_modified)}")
            if item.rewritten:
                detail.append("written again after the plan")
            lines.append(f"  still present {printable(uri)} ({', '.join(detail)})")
    if result.errors:
        lines.append(
            f"pail: error: verify: {plural(result.unchecked, 'object')} could not be checked; "
            f"{'it' if result.unchecked == 1 else 'they'} may still be present"
        )
        lines += [f"  {printable(error)}" for error in result.errors]
    return lines


__all__ = [
    "INTERRUPT_GRACE",
    "failure_lines",
    "make_plan",
    "register",
    "rm_options",
    "run_lines",
    "run_rm",
    "summary_lines",
    "tracker_lines",
    "verify_lines",
]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail rm`` to ``group`` (``connection_options``/``flags_of`` from pail.cli.main)."""

    @group.command("rm", short_help="Delete an object, or stale objects under a prefix (-r).")
    @connection_options
    @rm_options
    @click.pass_context
    def rm_command(ctx: click.Context, **options: Any) -> None:
        """Delete URI (an object; with -r what is under the prefix, narrowed by the
        filters). Shows the count, bytes and prefixes first and asks on a terminal; typing
        the bucket name is required above 1,000 objects or for a whole prefix. Without a
        terminal, --yes is required. Only keys the store confirmed count as deleted;
        --verify checks again afterwards. Exit status 1 if any object was not deleted (or
        --verify found one still present), 130 on Ctrl-C."""
        run_rm(flags_of(ctx), **options)
