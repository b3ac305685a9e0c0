"""``pail rm``: delete an object, or with ``-r`` what is stale under a prefix.

The same planner and deleter as the app (:mod:`pail.services.delete_plan`,
:mod:`pail.services.deleter`). Steps: plan (list and filter), show the plan's summary on
stderr, confirm, delete in batches, report.

Confirmation: ``--yes`` skips it. On a terminal pail asks ``[y/N]``; above 1,000 objects, or
when a whole prefix would be emptied, the bucket name must be typed instead. Without a
terminal and without ``--yes`` pail refuses (exit 2) and deletes nothing. ``--dry-run``
lists what would be deleted (stdout, one URI per line) and deletes nothing.

Exit status: 0 when everything planned was deleted (or nothing matched); 1 when any key
failed (each failed key is listed on stderr with its error code) or the user declined;
2 for bad usage (a prefix without ``-r``, a filter that does not parse, no confirmation
possible); 130 on Ctrl-C (batches in flight finish first).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

import click

from pail.cli_errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_FOUND, EXIT_USAGE, CliError
from pail.cli_get import open_location
from pail.cli_listing import iso_utc, printable, size_text
from pail.config import Flags
from pail.drivers.base import StorageDriver
from pail.services.delete_plan import DeletePlan, build_plan, normalize_prefix
from pail.services.deleter import DEFAULT_JOBS, Deleter, DeleteReport
from pail.services.stale_filters import FilterError, StaleFilters
from pail.uri import Location, format_uri

#: Prefixes named in the summary before "and N more".
_SHOWN_PREFIXES = 10


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
                type=click.IntRange(0),
                metavar="N",
                help="Keep the N newest runs (child prefixes, by newest object).",
            ),
            click.option("--dry-run", is_flag=True, help="List what would go; delete nothing."),
            click.option("-y", "--yes", is_flag=True, help="Do not ask (needed without a TTY)."),
            click.option(
                "-j",
                "--jobs",
                type=click.IntRange(1, 64),
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
    driver: StorageDriver, location: Location, recursive: bool, filters: StaleFilters
) -> tuple[DeletePlan, str]:
    """The plan for ``pail rm`` and the prefix it is "under" (for messages).

    A URI ending in ``/`` (or a bucket) is a prefix and needs ``-r``. With ``-r`` a URI
    without the slash names the prefix ``KEY/`` (never ``KEY*``: ``runs/run-1`` does not
    reach ``runs/run-10/``); if nothing is under it, the object ``KEY`` itself.
    """
    key, bucket = location.key, location.bucket
    if not key or key.endswith("/"):
        if not recursive:
            raise _usage(
                f"{printable(location.uri)} is a prefix; use -r to delete what is under it"
            )
        return build_plan(driver, bucket, base=key, prefixes=[key], filters=filters), key
    if recursive:
        prefix = normalize_prefix(key)
        plan = build_plan(driver, bucket, base=prefix, prefixes=[prefix], filters=filters)
        if plan.examined:
            return plan, prefix
    folder = key.rpartition("/")[0] + "/" if "/" in key else ""
    return build_plan(driver, bucket, base=folder, keys=[key], filters=filters), folder


def summary_lines(plan: DeletePlan, location: Location, under: str) -> list[str]:
    """The plan's summary for stderr: count, bytes, where, oldest/newest, prefixes."""
    where = format_uri(location.provider, plan.bucket, under, location.root)
    lines = [
        f"Delete {plan.count:,} objects ({size_text(plan.total_bytes, True)}) "
        f"under {printable(where)}",
    ]
    if plan.oldest is not None:
        lines.append(f"  oldest {iso_utc(plan.oldest)}, newest {iso_utc(plan.newest)}")
    names = [printable(p[len(under) :] or "(directly here)") for p in plan.prefixes]
    if names:
        more = len(names) - _SHOWN_PREFIXES
        shown = ", ".join(names[:_SHOWN_PREFIXES]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"  prefixes ({len(names)}): {shown}")
    for prefix in plan.whole_prefixes:
        whole = format_uri(location.provider, plan.bucket, prefix, location.root)
        lines.append(f"  empties the whole prefix {printable(whole)}")
    if plan.kept_runs:
        kept = ", ".join(printable(r.prefix[len(under) :]) for r in plan.kept_runs)
        lines.append(f"  kept (newest {len(plan.kept_runs)} runs): {kept}")
    return lines


def _confirm(plan: DeletePlan, location: Location, under: str) -> bool:
    """Ask on the terminal: y/N, or the bucket name typed for big or whole-prefix deletes."""
    where = printable(format_uri(location.provider, plan.bucket, under, location.root))
    size = size_text(plan.total_bytes, True)
    if plan.needs_typed_confirmation():
        answer = click.prompt(
            f"Delete {plan.count:,} objects ({size}) under {where}? "
            f"Type the bucket name ({printable(plan.bucket)}) to confirm",
            default="",
            show_default=False,
            err=True,
        )
        return answer.strip() == plan.bucket
    return click.confirm(
        f"Delete {plan.count:,} objects ({size}) under {where}?", default=False, err=True
    )


def _progress(deleter: Deleter, stop: threading.Event) -> None:
    width = 0
    while not stop.wait(0.2):
        snap = deleter.progress()
        line = (
            f"deleted {snap.deleted:,}/{snap.total:,}  failed {snap.failed:,}  "
            f"{snap.rate:,.0f} keys/s"
        )
        click.echo("\r" + line.ljust(width), nl=False, err=True)
        width = len(line)
    if width:
        click.echo("\r" + " " * width + "\r", nl=False, err=True)


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
        )
    except FilterError as exc:
        raise _usage(str(exc)) from None
    driver, location = open_location(uri, flags)
    plan, under = make_plan(driver, location, recursive, filters)
    if not plan.count:
        if plan.missing:
            raise CliError(
                [f"pail: error: no such object: {printable(location.uri)}"], EXIT_NOT_FOUND
            )
        click.echo(f"pail: nothing to delete ({plan.examined:,} objects examined)", err=True)
        return
    for line in summary_lines(plan, location, under):
        click.echo(line, err=True)
    if dry_run:
        for item in plan.items:
            click.echo(format_uri(location.provider, plan.bucket, item.key, location.root))
        report = Deleter(driver, plan, dry_run=True).run()
        click.echo(
            f"pail: dry run: {report.deleted:,} objects ({size_text(plan.total_bytes, True)}) "
            "would be deleted; nothing was deleted",
            err=True,
        )
        return
    if not yes:
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise _usage(
                f"refusing to delete {plan.count:,} objects without confirmation: not a "
                "terminal. Pass --yes to delete, or --dry-run to list them."
            )
        if not _confirm(plan, location, under):
            raise CliError(["pail: aborted; nothing was deleted"], EXIT_ERROR)
    _execute(driver, plan, jobs)


def _execute(driver: StorageDriver, plan: DeletePlan, jobs: int) -> None:
    deleter = Deleter(driver, plan, jobs=jobs)
    stop = threading.Event()
    painter = None
    if sys.stderr.isatty():
        painter = threading.Thread(target=_progress, args=(deleter, stop), daemon=True)
    deleter.start()
    if painter is not None:
        painter.start()
    interrupted = False
    try:
        while deleter.wait(0.1) is None:
            pass
    except KeyboardInterrupt:
        interrupted = True
        deleter.cancel()
        deleter.wait()
    finally:
        stop.set()
        if painter is not None:
            painter.join()
    report = deleter.report()
    _summarise(plan, report)
    if interrupted:
        raise click.exceptions.Exit(EXIT_INTERRUPTED)
    if report.failed:
        lines = [f"pail: error: {len(report.failed):,} objects were not deleted"]
        lines += [
            f"  failed {printable(f.key)}: {printable(f.code)}: {printable(f.message)}"
            for f in report.failed
        ]
        raise CliError(lines, EXIT_ERROR)


def _summarise(plan: DeletePlan, report: DeleteReport) -> None:
    parts = [f"deleted {report.deleted:,} objects ({size_text(report.deleted_bytes, True)})"]
    if report.failed:
        codes = ", ".join(f"{n:,} {code}" for code, n in sorted(report.failure_codes().items()))
        parts.append(f"{len(report.failed):,} failed ({printable(codes)})")
    if report.not_attempted:
        parts.append(f"{report.not_attempted:,} not attempted (cancelled)")
    click.echo("pail: " + ", ".join(parts), err=True)


__all__ = ["make_plan", "register", "rm_options", "run_rm", "summary_lines"]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail rm`` to ``group`` (``connection_options``/``flags_of`` from pail.cli)."""

    @group.command("rm", short_help="Delete an object, or stale objects under a prefix (-r).")
    @connection_options
    @rm_options
    @click.pass_context
    def rm_command(ctx: click.Context, **options: Any) -> None:
        """Delete URI (an object; with -r what is under the prefix, narrowed by the
        filters). Shows the count, bytes and prefixes first and asks on a terminal; typing
        the bucket name is required above 1,000 objects or for a whole prefix. Without a
        terminal, --yes is required. Exit status 1 if any object was not deleted."""
        run_rm(flags_of(ctx), **options)
