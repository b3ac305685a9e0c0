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

``-r --yes`` without run rules: nobody reviews the plan, so it is not waited for. The
prefix is listed and each page's selected objects are deleted as the page arrives
(:func:`pail.services.delete.engine.plan_and_delete`: the same boundaries and filters),
several DeleteObjects in flight; stderr says so, then gives the outcome. If the listing
fails midway, what was confirmed deleted is reported, no further batch is sent, and pail
exits 1 (objects not listed yet were not deleted). Everything else (a terminal's question,
``--dry-run``, run rules, ``--tracking-delete``) plans whole first, as above.

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
new batch starts, pail waits at most :data:`pail.cli.cleanup.INTERRUPT_GRACE` seconds for
the batches in flight, then says how many keys were confirmed deleted, failed, unconfirmed (their
request had no answer yet: they may or may not be gone) and not attempted, and exits
without waiting for a hung request.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import click

from pail.cli.cleanup import (
    INTERRUPT_GRACE,
    SHOWN_RUNS,
    _delete_columns,
    _delete_figures,
    _outcome,
    _verify,
    confirm_delete,
    delete_options,
    execute_delete,
    failure_lines,
    filters_of,
    run_label,
    run_lines,
    stale_filter_options,
    summary_lines,
    usage,
)
from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_FOUND, CliError
from pail.cli.progress import LiveProgress
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location, format_uri
from pail.drivers.base import StorageDriver
from pail.services.delete.engine import Deleter, plan_and_delete
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import DeletePlan, RunsSource, build_plan, normalize_prefix
from pail.services.locations import open_location
from pail.services.runs.detect import TooManyObjects
from pail.services.runs.model import NoRunsFound
from pail.services.runs.retention import RetentionError
from pail.services.runs.tracker_sync import (
    TrackerMarks,
    mark_deleted,
    partially_planned,
    tracker_runs,
)
from pail.services.runs.tracking import TrackingServer


def rm_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options of ``pail rm`` (connection flags are added by the caller)."""
    func = delete_options(func)
    for option in reversed(
        [
            click.option(
                "--tracking-delete",
                is_flag=True,
                help="Also mark the deleted MLflow runs deleted on MLFLOW_TRACKING_URI.",
            ),
            click.option("--dry-run", is_flag=True, help="List what would go; delete nothing."),
        ]
    ):
        func = option(func)
    func = stale_filter_options(func)
    for option in reversed(
        [
            click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]"),
            click.option("-r", "--recursive", is_flag=True, help="Everything under the prefix."),
        ]
    ):
        func = option(func)
    return func


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
        raise usage(str(exc)) from None
    except (RetentionError, TooManyObjects) as exc:
        raise usage(f"refusing to plan by runs: {exc}") from None


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
            raise usage(f"{printable(location.uri)} is a prefix; use -r to delete what is under it")
        return plan(key, prefixes=[key]), key
    if recursive:
        prefix = normalize_prefix(key)
        found = plan(prefix, prefixes=[prefix])
        if found.examined:
            return found, prefix
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return plan(folder, keys=[key]), folder


def run_rm(
    flags: Flags,
    uri: str,
    recursive: bool,
    dry_run: bool,
    yes: bool,
    jobs: int,
    verify: bool = False,
    tracking_delete: bool = False,
    **filter_options: Any,
) -> None:
    """``pail rm``: plan, summarise, confirm, delete, report (see the module doc).
    ``filter_options``: the stale filter options as
    :func:`pail.cli.cleanup.stale_filter_options` passes them."""
    filters = filters_of(filter_options)
    if tracking_delete and filters.retention is None:
        raise usage(
            "--tracking-delete marks the runs a run rule deletes: give --keep-last, "
            "--keep-best, --keep-tag or --keep-name"
        )
    # With run rules and MLFLOW_TRACKING_URI, the server's registered model versions protect
    # their runs (and name them); --tracking-delete needs it.
    tracking = TrackingServer.from_env() if filters.retention is not None else None
    if tracking_delete and tracking is None:
        raise usage(
            "--tracking-delete needs MLFLOW_TRACKING_URI: the http(s) URI of an MLflow or "
            "FastTrackML tracking server"
        )
    driver, location = open_location(uri, flags)
    # Nothing to review: list and delete at once. False: nothing was under the prefix, so
    # the URI may name one object (planned below, as without --yes).
    streamed = recursive and yes and not dry_run and filters.retention is None
    if streamed and _stream_rm(driver, location, filters, jobs, verify):
        return
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
        names = ", ".join(run_label(v) for v in partial[:SHOWN_RUNS])
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
    also = ""
    if marking and tracking is not None:
        also = f" and mark {plural(len(marking), 'run')} deleted on {printable(tracking.uri)}"
    confirm_delete(plan, location, under, yes=yes, also=also)
    done = execute_delete(driver, plan, jobs, location, verify)
    lines = done.lines
    if marking and tracking is not None:
        lines += tracker_lines(mark_deleted(tracking, plan, done.report, marking))
    if lines:
        raise CliError(lines, EXIT_ERROR)


def _stream_rm(
    driver: StorageDriver, location: Location, filters: StaleFilters, jobs: int, verify: bool
) -> bool:
    """``pail rm -r --yes`` without run rules: plan and delete at once (see the module
    doc). Returns False when nothing was under the prefix and the URI has no trailing
    slash (it may name an object: the caller plans that); True when done.

    Raises:
        CliError / click.exceptions.Exit: exit 1 when a key failed, the listing failed or
            ``--verify`` found a key; 130 on Ctrl-C (:data:`INTERRUPT_GRACE`).
    """
    key = location.key
    under = normalize_prefix(key)  # "" stays "" (the whole bucket); runs/run-1 -> runs/run-1/
    where = format_uri(location.provider, location.bucket, under, location.root)
    deleter = plan_and_delete(
        driver, location.bucket, base=under, prefixes=[under], filters=filters, jobs=jobs
    )
    click.echo(
        f"Deleting what is under {printable(where)}"
        + (" and matches the filters" if filters.active else "")
        + " as it is listed (--yes: no review)",
        err=True,
    )
    deleter.start()
    interrupted = False
    with LiveProgress(_delete_columns, lambda: _delete_figures(deleter)):
        try:
            while deleter.wait(0.1) is None:
                pass
        except KeyboardInterrupt:
            interrupted = True
            deleter.cancel()  # no new batch, no new page
            with contextlib.suppress(KeyboardInterrupt):
                deleter.wait(INTERRUPT_GRACE)
    report, plan = deleter.report(), deleter.plan
    lines = failure_lines(report)
    unlisted = (
        ""
        if report.plan_complete
        else "; the listing did not finish: objects not listed yet were not deleted"
    )
    if interrupted:
        click.echo("pail: interrupted: " + _outcome(report) + unlisted, err=True)
        raise (
            CliError(lines, EXIT_INTERRUPTED) if lines else click.exceptions.Exit(EXIT_INTERRUPTED)
        )
    if report.plan_error is not None:
        lines.insert(
            0,
            f"pail: error: listing {printable(where)} failed: "
            f"{printable(report.plan_error.message or str(report.plan_error))}",
        )
    if not plan.count and report.plan_complete:
        if not plan.examined and key and not key.endswith("/"):
            return False  # nothing under KEY/: KEY may be an object
        click.echo(
            f"pail: nothing to delete ({plural(plan.examined, 'object')} examined)", err=True
        )
        return True
    click.echo("pail: " + _outcome(report) + unlisted, err=True)
    if verify:
        lines += _verify(driver, plan, report, location)
    if lines:
        raise CliError(lines, EXIT_ERROR)
    return True


def tracker_lines(marks: TrackerMarks) -> list[str]:
    """Print what :func:`pail.services.runs.tracker_sync.mark_deleted` did (the runs marked,
    unknown to the server, not marked because their objects are not all gone); return the
    error lines for the runs the server refused or could not be asked about."""
    where = printable(marks.server)
    if marks.marked:
        names = ", ".join(run_label(v) for v in marks.marked)
        click.echo(
            f"pail: marked {plural(len(marks.marked), 'run')} deleted on {where}: {names}",
            err=True,
        )
    if marks.unknown:
        click.echo(
            f"pail: {plural(len(marks.unknown), 'run')} unknown to {where}, nothing to mark: "
            + ", ".join(run_label(v) for v in marks.unknown),
            err=True,
        )
    waiting = [
        f"{run_label(w.verdict)} ({plural(w.left, 'object')} not confirmed deleted)"
        for w in marks.waiting
    ]
    if waiting:
        click.echo(
            f"pail: not marked deleted on {where}, their objects are not all gone: "
            + "; ".join(waiting),
            err=True,
        )
    errors = [f"  {run_label(e.verdict)}: {printable(e.message)}" for e in marks.errors]
    if errors:
        verb = "was" if len(errors) == 1 else "were"
        errors.insert(
            0, f"pail: error: {plural(len(errors), 'run')} {verb} not marked deleted on {where}"
        )
    return errors


__all__ = ["make_plan", "register", "rm_options", "run_rm", "tracker_lines"]


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
