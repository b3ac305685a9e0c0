"""Keep the tracking server in step with a delete by runs: mark the MLflow runs a plan
deleted as deleted on the tracker (MLflow's ``runs/delete``).

One use-case for every front-end (``pail rm --tracking-delete``, the app's delete
confirmation): :func:`tracker_runs` says which deleted runs may be marked (before the
delete, to ask the user), :func:`partially_planned` which MLflow runs may not because the
filters keep some of their objects, and :func:`mark_deleted` marks them after the delete.

The rules (fail closed: a run stays active in the tracker unless its artifacts are
provably gone):

* only runs of the MLflow layout with a 32-hex MLflow run id, deleted by the run rules,
  whose every object is planned (per-object filters that keep some of a run's objects keep
  it active in the tracker);
* a run is marked only once the store confirmed every one of its planned objects deleted
  (:attr:`DeleteReport.confirmed`); a failed, unanswered or not-attempted object leaves it
  waiting, with the count of objects not confirmed;
* a run the server does not know (``RESOURCE_DOES_NOT_EXIST``) is reported as unknown, not
  as an error; any other refusal or failure is an error for that run, and the other runs
  are still tried.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from pail.services.delete.engine import DeleteReport
from pail.services.delete.plan import DeletePlan
from pail.services.runs.layouts.base import RUN_ID
from pail.services.runs.model import RunIndex
from pail.services.runs.retention import RunVerdict
from pail.services.runs.tracking import TrackingError, TrackingServer

#: MLflow's error code for a run the server does not know.
UNKNOWN_RUN = "RESOURCE_DOES_NOT_EXIST"


@dataclass(frozen=True)
class WaitingRun:
    """A run not marked because the store did not confirm all its planned objects
    deleted: ``left`` of them (failed, unanswered or not attempted; >= 1)."""

    verdict: RunVerdict
    left: int


@dataclass(frozen=True)
class MarkError:
    """A run the server refused to mark, or could not be asked about: ``message`` is one
    plain line without credentials (``"tracking server http://host:5000: unreachable
    (connection refused)"``)."""

    verdict: RunVerdict
    message: str


@dataclass
class TrackerMarks:
    """What :func:`mark_deleted` did, each list in the order of the runs given.

    Attributes:
        server: the tracking server's URI (without credentials: safe to show).
        marked: runs now marked deleted on the server.
        unknown: runs the server does not know (``RESOURCE_DOES_NOT_EXIST``): nothing to
            mark.
        waiting: runs not marked: some planned objects not confirmed deleted.
        errors: runs the server refused or that could not be asked about.
        not_asked: runs not asked about because the marking was cancelled.
    """

    server: str
    marked: list[RunVerdict] = field(default_factory=list)
    unknown: list[RunVerdict] = field(default_factory=list)
    waiting: list[WaitingRun] = field(default_factory=list)
    errors: list[MarkError] = field(default_factory=list)
    not_asked: list[RunVerdict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No run failed to be marked for the server's sake (waiting or unknown runs are
        not errors)."""
        return not self.errors


def tracker_runs(plan: DeletePlan) -> list[RunVerdict]:
    """The deleted runs of ``plan`` that may be marked deleted on the tracking server, in
    the plan's order (newest first): MLflow runs (32-hex ids) whose every object is planned.
    Empty without run rules."""
    found = []
    for verdict in plan.deleted_runs:
        run = verdict.run
        planned = plan.run_items.get(run.id)
        if run.layout != "mlflow" or not RUN_ID.fullmatch(run.id) or planned is None:
            continue
        if planned.objects >= run.objects:
            found.append(verdict)
    return found


def partially_planned(
    plan: DeletePlan, marking: list[RunVerdict] | None = None
) -> list[RunVerdict]:
    """The deleted MLflow runs of ``plan`` not in ``marking`` (default:
    :func:`tracker_runs` of ``plan``): the filters keep some of their objects (or none is
    planned), so they stay active in the tracker. In the plan's order."""
    if marking is None:
        marking = tracker_runs(plan)
    marked_ids = {v.run.id for v in marking}
    return [v for v in plan.deleted_runs if v.run.layout == "mlflow" and v.run.id not in marked_ids]


def unconfirmed_per_run(
    plan: DeletePlan, report: DeleteReport, runs: list[RunVerdict]
) -> dict[str, int]:
    """Run id -> how many of its planned objects the store did not confirm deleted (runs
    with none left are absent). A key counts by its run's prefixes."""
    confirmed = {item.key for item in report.confirmed}
    owners = RunIndex([v.run for v in runs])
    left_of: dict[str, int] = {}
    for item in plan.items:
        owner = owners.prefix_owner(item.key)
        if owner is not None and item.key not in confirmed:
            left_of[owner.id] = left_of.get(owner.id, 0) + 1
    return left_of


def mark_deleted(
    tracking: TrackingServer,
    plan: DeletePlan,
    report: DeleteReport,
    runs: list[RunVerdict],
    *,
    cancel: threading.Event | None = None,
) -> TrackerMarks:
    """Mark each of ``runs`` (from :func:`tracker_runs`) deleted on ``tracking`` once the
    store confirmed every one of its planned objects deleted (``report`` of the delete of
    ``plan``). One ``runs/delete`` request per run, in order, blocking (call it from a
    worker thread); ``cancel`` set stops before the next request (the runs left are
    :attr:`TrackerMarks.not_asked`).

    A dry-run ``report`` confirms nothing deleted: no request is made and every run is
    :attr:`TrackerMarks.not_asked`.

    Never raises for the server's sake: a refusal or failure is a :class:`MarkError`.
    """
    marks = TrackerMarks(server=tracking.uri)
    if report.dry_run:
        marks.not_asked = list(runs)
        return marks
    left_of = unconfirmed_per_run(plan, report, runs)
    for verdict in runs:
        run = verdict.run
        left = left_of.get(run.id, 0)
        if left:
            marks.waiting.append(WaitingRun(verdict, left))
            continue
        if cancel is not None and cancel.is_set():
            marks.not_asked.append(verdict)
            continue
        try:
            tracking.delete_run(run.id)
        except TrackingError as exc:
            if exc.code == UNKNOWN_RUN:
                marks.unknown.append(verdict)
            else:
                marks.errors.append(MarkError(verdict, str(exc)))
            continue
        except ValueError as exc:  # not an MLflow run id (tracker_runs never gives one)
            marks.errors.append(MarkError(verdict, str(exc)))
            continue
        marks.marked.append(verdict)
    return marks


__all__ = [
    "UNKNOWN_RUN",
    "MarkError",
    "TrackerMarks",
    "WaitingRun",
    "mark_deleted",
    "partially_planned",
    "tracker_runs",
    "unconfirmed_per_run",
]
