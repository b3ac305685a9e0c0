"""The cleanup flows several commands share: choosing stale objects, deleting a plan, and
writing lifecycle rules (moved out of :mod:`pail.cli.rm` and :mod:`pail.cli.lifecycle`,
so ``pail rm``, ``pail lifecycle`` and ``pail inventory`` ask, delete and report alike).

* :func:`stale_filter_options` / :func:`filters_of`: the stale filter and the run
  retention options (``--older-than``, ``--larger-than``, ``--smaller-than``,
  ``--include``, ``--exclude``, ``--regex``, ``--keep-last``, ``--keep-best``,
  ``--metric``, ``--mode``, ``--metric-value``, ``--keep-tag``, ``--keep-name``) and
  their :class:`~pail.services.delete.filters.StaleFilters`.
* :func:`delete_options`, :func:`summary_lines`, :func:`confirm_delete`,
  :func:`execute_delete`: a :class:`~pail.services.delete.plan.DeletePlan` shown on
  stderr, confirmed (``[y/N]``, the bucket name typed above 1,000 objects or for a whole
  prefix, ``--yes`` without a terminal), deleted by the
  :class:`~pail.services.delete.engine.Deleter` with a transient progress bar
  (:mod:`pail.cli.progress`), then reported (failed keys, ``--verify``'s findings).
  Ctrl-C: no new batch starts, pail waits at most :data:`INTERRUPT_GRACE` seconds for the
  batches in flight, says what was confirmed, failed, unconfirmed and not attempted, and
  exits 130.
* :func:`apply_rules`: lifecycle rules added to a bucket as ``pail lifecycle apply`` does
  (existing, new and merged rules shown, asked, written, read back).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from pail.cli.common import confirm_or_refuse
from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, CliError
from pail.cli.output import iso_utc
from pail.cli.progress import LiveProgress, bar_column, clock, text_column
from pail.cli.values import Count
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location, format_uri
from pail.drivers.base import StorageDriver
from pail.services import lifecycle as lc
from pail.services.delete.engine import DEFAULT_JOBS, Deleter, DeleteReport
from pail.services.delete.filters import MAX_KEEP_LAST, FilterError, StaleFilters
from pail.services.delete.plan import DeletePlan
from pail.services.delete.verify import VerifyResult, verify_deleted
from pail.services.runs.model import LAYOUT_NAMES
from pail.services.runs.retention import RunVerdict

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

#: Prefixes named in the summary before "and N more".
_SHOWN_PREFIXES = 10
#: Runs listed in the summary, kept and deleted each, before "and N more".
SHOWN_RUNS = 100
#: Seconds pail waits after Ctrl-C for the batches in flight to answer before it reports
#: and exits (a hung request is abandoned, never waited for).
INTERRUPT_GRACE = 1.0


def _add(func: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


def stale_filter_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The stale filter and run retention options (see the module doc); the command
    receives them under their own names and hands them to :func:`filters_of`."""
    return _add(
        func,
        [
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
        ],
    )


def delete_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--verify``, ``-y``/``--yes`` and ``-j``/``--jobs`` of a command that deletes."""
    return _add(
        func,
        [
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
        ],
    )


#: The parameters :func:`stale_filter_options` passes, each with its value when the option
#: is not given.
FILTER_DEFAULTS: dict[str, Any] = {
    "older_than": None,
    "larger_than": None,
    "smaller_than": None,
    "include": (),
    "exclude": (),
    "regex": None,
    "keep_last": None,
    "keep_best": None,
    "metric": None,
    "mode": None,
    "metric_value": "best",
    "keep_tag": (),
    "keep_name": (),
}


def given_filters(opts: dict[str, Any]) -> list[str]:
    """The stale filter options given among a command's ``opts`` (their parameter
    names, in :data:`FILTER_DEFAULTS`' order)."""
    return [name for name, unset in FILTER_DEFAULTS.items() if opts.get(name, unset) != unset]


def usage(message: str) -> CliError:
    """``pail: error: MESSAGE``, exit status 2 (``message`` already printable)."""
    return CliError([f"pail: error: {message}"], EXIT_USAGE)


def filters_of(opts: dict[str, Any]) -> StaleFilters:
    """The :class:`StaleFilters` of the stale filter options among a command's ``opts``
    (as :func:`stale_filter_options` passes them; those not given take
    :data:`FILTER_DEFAULTS`).

    Raises:
        CliError: exit 2, one line naming the option, when a value does not parse or the
            run rules do not fit together (``--keep-best needs --metric``).
    """
    values = {name: opts.get(name, unset) for name, unset in FILTER_DEFAULTS.items()}
    values["keep_tags"] = values.pop("keep_tag")
    values["keep_names"] = values.pop("keep_name")
    try:
        return StaleFilters.parse(**values)
    except FilterError as exc:
        raise usage(printable(_option_words(str(exc)))) from None


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


# --- the plan's summary ---------------------------------------------------------------


def run_label(verdict: RunVerdict) -> str:
    """A run as the summaries name it: ``name (id)``, or the id alone (printable)."""
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
        lines.append(f"    keep   {run_label(verdict)}: {printable('; '.join(verdict.reasons))}")
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
            f"    delete {run_label(verdict)} ({what}): {printable('; '.join(verdict.reasons))}"
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


# --- confirmation ---------------------------------------------------------------------


def confirm_delete(
    plan: DeletePlan,
    location: Location,
    under: str,
    *,
    yes: bool,
    also: str = "",
    listing: str = "--dry-run to list them",
) -> None:
    """Go ahead with ``yes``; on a terminal ask y/N, or for the bucket name typed for big
    or whole-prefix deletes (``also``: what else the answer allows, ``" and mark 2 runs
    deleted on URI"``; ``listing``: how the command lists the plan instead, for the hint).

    Raises:
        CliError: exit 2 without a terminal (``--yes`` needed), exit 1 when the answer is
            no, exit 130 on Ctrl-C at the question; nothing was deleted.
    """
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise usage(
            f"refusing to delete {plural(plan.count, 'object')} without confirmation: not a "
            f"terminal. Pass --yes to delete, or {listing}."
        )
    try:
        answer = _ask(plan, location, under, also)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("", err=True)
        raise CliError(["pail: interrupted; nothing was deleted"], EXIT_INTERRUPTED) from None
    if not answer:
        raise CliError(["pail: aborted; nothing was deleted"], EXIT_ERROR)


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


# --- the delete -----------------------------------------------------------------------


def _delete_figures(deleter: Deleter) -> dict[str, Any]:
    """The delete's figures for the live display: keys finished move the bar; while a
    plan is still being listed (``rm -r --yes`` deletes as it lists), a pulse and the
    keys listed so far, without an ETA."""
    snap = deleter.progress()
    finished = snap.deleted + snap.failed
    listing = f"listed {snap.examined:,}  " if snap.planning else ""
    eta = (snap.total - finished) / snap.rate if snap.rate > 0 else None
    return {
        "completed": finished,
        "total": None if snap.planning else (snap.total or None),
        "counts": f"{listing}deleted {snap.deleted:,}/{snap.total:,}  failed {snap.failed:,}",
        "rate": f"{snap.rate:,.0f} keys/s",
        "eta": "" if snap.planning else f"ETA {clock(eta)}",
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


@dataclass
class Executed:
    """A delete that ran to its end: the ``report`` and the error ``lines`` so far (failed
    keys, --verify's findings); empty when all went well."""

    report: DeleteReport
    lines: list[str]


def execute_delete(
    driver: StorageDriver, plan: DeletePlan, jobs: int, location: Location, verify: bool
) -> Executed:
    """Run the delete with the live display, print its outcome on stderr and, with
    ``verify``, check the confirmed keys again.

    Raises:
        CliError / click.exceptions.Exit: exit 130 on Ctrl-C (:data:`INTERRUPT_GRACE`),
            with the failed keys listed when there are any.
    """
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
    return Executed(report, lines)


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


# --- lifecycle rules ------------------------------------------------------------------


def rule_notes(prefix: str, export: lc.RuleExport) -> None:
    """The export's notes (rounding, versioned buckets) and a prefix without its slash,
    one ``pail: note:`` line each on stderr."""
    notes = list(export.notes)
    if prefix and not prefix.endswith("/"):
        notes.append(f"the prefix {prefix!r} also matches keys like {prefix + '-old/'!r}")
    for note in notes:
        click.echo(f"pail: note: {printable(note)}", err=True)


def rules_text(rules: list[dict[str, Any]]) -> list[str]:
    """One indented summary line per rule, ``(none)`` for none."""
    return [f"  {printable(lc.rule_summary(r))}" for r in rules] or ["  (none)"]


def lifecycle_rules(
    provider: str,
    prefix: str,
    filters: StaleFilters,
    *,
    noncurrent_days: int | None = None,
    keep_noncurrent: int | None = None,
    instead: str = "use `pail rm` with this filter instead, or drop those options",
) -> lc.RuleExport:
    """The lifecycle rules doing what ``filters`` select under ``prefix``
    (:func:`pail.services.lifecycle.build_rules`).

    Raises:
        CliError: exit 2, with every reason, when no rule can express the filters
            (``instead``: what to do then, for the hint).
    """
    try:
        return lc.build_rules(
            provider,
            prefix,
            filters,
            noncurrent_days=noncurrent_days,
            keep_noncurrent=keep_noncurrent,
        )
    except lc.NotExpressible as exc:
        lines = ["pail: error: this filter cannot be exported as a lifecycle rule"]
        lines += [f"  {printable(r)}" for r in exc.reasons]
        lines.append(f"  Hint: {instead}.")
        raise CliError(lines, EXIT_USAGE) from None


def apply_rules(
    driver: StorageDriver, bucket: str, prefix: str, export: lc.RuleExport, replace: bool, yes: bool
) -> None:
    """Add ``export``'s rules to ``bucket``: show the existing rules, the new ones and what
    merging changes, ask (:func:`pail.cli.common.confirm_or_refuse`), write, read back.

    Raises:
        CliError: exit 1 for a conflicting rule of the same ID (without ``replace``) or a
            no; exit 2 without a terminal and without ``yes``. StorageError: reading or
            writing failed, or the store kept other rules (:class:`lc.LifecycleNotStored`).
    """
    existing = lc.current_rules(driver, bucket)
    click.echo(f"Existing rules of {printable(bucket)}:")
    click.echo("\n".join(rules_text(existing)))
    click.echo("New rules:")
    click.echo(lc.export_json(export.provider, export.rules))
    rule_notes(prefix, export)
    try:
        merged = lc.merge(existing, export.rules, replace=replace)
    except lc.LifecycleConflict as exc:
        raise CliError([f"pail: error: {printable(str(exc))}"], EXIT_ERROR) from None
    click.echo("After merging:")
    for change in merged.changes:
        click.echo(f"  {change.kind}: {printable(lc.rule_summary(change.rule))}")
    for warning in merged.warnings:
        click.echo(f"pail: warning: {printable(warning)}", err=True)
    if not merged.changed:
        click.echo("pail: the bucket already has these rules; nothing to write", err=True)
        return
    confirm_or_refuse(
        f"Write {plural(len(merged.rules), 'lifecycle rule')} to {printable(bucket)}?",
        yes,
        "change lifecycle rules",
    )
    result = lc.apply(driver, bucket, export.rules, replace=replace)
    kinds = [c.kind for c in result.merge.changes if c.kind != "unchanged"]
    click.echo(
        f"pail: lifecycle rules written ({', '.join(kinds) or 'no change'}); "
        f"the bucket now has {plural(len(result.merge.rules), 'rule')}",
        err=True,
    )


__all__ = [
    "FILTER_DEFAULTS",
    "INTERRUPT_GRACE",
    "SHOWN_RUNS",
    "Executed",
    "apply_rules",
    "confirm_delete",
    "delete_options",
    "execute_delete",
    "failure_lines",
    "filters_of",
    "given_filters",
    "lifecycle_rules",
    "rule_notes",
    "rules_text",
    "run_label",
    "run_lines",
    "stale_filter_options",
    "summary_lines",
    "usage",
    "verify_lines",
]
