"""The delete planner's retention by runs, on runs detected in a real store (moto over
HTTP, seeded in-process): MLflow file-store runs and Lightning logger versions as the
tools write them (tests/support/run_stores.py). Only objects of deleted runs are planned;
loose objects and kept runs are counted, never planned; a location without runs is
refused (NoRunsFound) instead of treating its folders as runs."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from pail.drivers.s3 import S3Driver
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import PlanCancelled, build_plan
from pail.services.runs.detect import detect_runs
from pail.services.runs.model import NoRunsFound, RunSet
from pail.services.runs.retention import MetricNotLogged
from support.run_stores import (
    RESNET_BEST,
    RUNNING,
    lightning_version,
    mlflow_experiment,
    mlflow_run,
    run_id,
    seed_dated,
    seed_resnet,
)
from support.servers import s3_client
from support.stores import NOW, seed_aged

BEST = RESNET_BEST
_rid = run_id


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


@pytest.fixture
def mlflow(s3):
    """``mlruns/1/`` (experiment "resnet"): six runs, a README beside them; ``mlruns/2/``
    ("bert"): two runs."""
    driver, bucket = s3
    start = NOW - timedelta(days=30)
    seed_resnet(bucket, start)
    seed_dated(bucket, mlflow_experiment("mlruns/", "2", "bert", start), start)
    for i, name in enumerate(("b0", "b1")):
        when = start + timedelta(days=i)
        files = mlflow_run(
            "mlruns/", "2", _rid(name), name=name, start=when, metrics={"val_loss": [0.5 - i]}
        )
        seed_dated(bucket, files, when)
    seed_aged(bucket, {"mlruns/README.md": (50, 60)})
    return driver, bucket


def _plan(store, base="mlruns/", prefixes=None, **filters):
    driver, bucket = store
    filters.setdefault("now", NOW)
    return build_plan(
        driver,
        bucket,
        base=base,
        prefixes=[base] if prefixes is None else prefixes,
        filters=StaleFilters.parse(**filters),
    )


def _runs(verdicts) -> list[str]:
    return sorted(v.run.name for v in verdicts)


def _planned_runs(plan) -> set[str]:
    return {key.split("/")[2] for key in (i.key for i in plan.items)}


def test_keep_best_3_by_val_loss_and_the_last_2_keeps_exactly_those_and_says_why(mlflow):
    plan = _plan(mlflow, prefixes=["mlruns/1/"], keep_best=3, metric="val_loss", keep_last=2)
    assert _runs(plan.kept_runs) == ["r0", "r1", "r3", "r4", "r5"]
    assert _runs(plan.deleted_runs) == ["r2"]
    # only r2's objects (meta.yaml, a param, a metric, a tag, two artifacts) are planned
    assert _planned_runs(plan) == {_rid("r2")}
    assert plan.count == 6 and plan.run_items[_rid("r2")].objects == 6
    reasons = {v.run.name: v.reasons for v in plan.retention.verdicts}
    assert reasons["r1"] == ("best 3 by val_loss (min) of experiment resnet: 0.31, rank 1",)
    assert reasons["r5"] == (
        "among the last 2 runs of experiment resnet (started 2026-05-07 12:00 UTC)",
    )
    assert reasons["r2"] == (
        "not among the last 2 runs of experiment resnet: 4th newest (started 2026-05-04 12:00 UTC)",
        "not in the best 3 by val_loss (min) of experiment resnet: 0.52, rank 5",
    )
    # the experiment's meta.yaml is in no run: counted, never planned
    assert plan.outside_runs == 1 and "mlruns/1/meta.yaml" not in {i.key for i in plan.items}
    assert plan.kept_objects == 5 * 6
    assert plan.runs is not None and plan.runs.layout == "mlflow"


def test_counting_is_per_experiment_and_loose_objects_are_never_planned(mlflow):
    plan = _plan(mlflow, keep_last=1)
    assert _runs(plan.kept_runs) == ["b1", "r5"]
    assert _runs(plan.deleted_runs) == ["b0", "r0", "r1", "r2", "r3", "r4"]
    assert "mlruns/README.md" not in {i.key for i in plan.items}
    assert plan.outside_runs == 3  # README.md and the two experiments' meta.yaml
    assert plan.whole_prefixes == []  # mlruns/ keeps objects: no whole prefix emptied


def test_keep_last_zero_deletes_every_run_but_nothing_outside_them(mlflow):
    plan = _plan(mlflow, keep_last=0)
    assert len(plan.deleted_runs) == 8 and not plan.kept_runs
    assert plan.outside_runs == 3
    assert all(i.key.split("/")[2] in {_rid(n) for n in (*BEST, "b0", "b1")} for i in plan.items)


def test_per_object_filters_still_narrow_the_deleted_runs(mlflow):
    # Runs r0..r2 are older than 26 days; of them keep the last 1 of each experiment
    # leaves r0..r4 of resnet deleted, and only their objects older than 26 days planned.
    plan = _plan(mlflow, prefixes=["mlruns/1/"], keep_last=1, older_than="26d", include=["*.pt"])
    assert _runs(plan.deleted_runs) == ["r0", "r1", "r2", "r3", "r4"]
    assert sorted(i.key for i in plan.items) == sorted(
        f"mlruns/1/{_rid(n)}/artifacts/model/model.pt" for n in ("r0", "r1", "r2", "r3")
    )
    assert _rid("r4") not in plan.run_items  # decided deleted, but nothing of it matches


def test_tags_and_names_keep_runs(s3):
    bucket = s3[1]
    for i, (name, tags) in enumerate(
        [("baseline", {}), ("sweep-1", {"pail.keep": "yes"}), ("sweep-2", {}), ("sweep-3", {})]
    ):
        when = NOW - timedelta(days=10 - i)
        seed_dated(
            bucket, mlflow_run("mlruns/", "0", _rid(f"{i}"), name=name, start=when, tags=tags), when
        )
    plan = _plan(s3, keep_tags=["pail.keep"], keep_names=["base*"])
    assert _runs(plan.kept_runs) == ["baseline", "sweep-1"]
    assert _runs(plan.deleted_runs) == ["sweep-2", "sweep-3"]
    kept = {v.run.name: v.reasons for v in plan.kept_runs}
    assert kept == {"baseline": ("name matches 'base*'",), "sweep-1": ("tag pail.keep",)}


def test_running_and_protected_runs_are_never_planned(s3):
    driver, bucket = s3
    for i, (name, status) in enumerate([("old", 3), ("live", RUNNING), ("new", 3)]):
        when = NOW - timedelta(days=10 - i)
        files = mlflow_run("mlruns/", "0", _rid(f"{i}"), name=name, start=when, status=status)
        seed_dated(bucket, files, when)
    detected = detect_runs(driver, bucket, "mlruns/")
    detected.by_id(_rid("2")).protected = "backs registered model resnet version 2"
    plan = build_plan(
        driver,
        bucket,
        base="mlruns/",
        prefixes=["mlruns/"],
        filters=StaleFilters(keep_last=0),
        runs=detected,  # a RunSet given by the caller (the app, a tracking server's merge)
    )
    assert _runs(plan.deleted_runs) == ["old"]
    assert {v.run.name: v.reasons for v in plan.kept_runs} == {
        "live": ("status RUNNING: it may still be writing",),
        "new": ("backs registered model resnet version 2",),
    }
    assert _planned_runs(plan) == {_rid("0")}


def test_marked_runs_are_ranked_among_the_marked_ones(mlflow):
    driver, bucket = mlflow
    marked = [f"mlruns/1/{_rid(n)}/" for n in ("r0", "r1", "r2")]
    plan = build_plan(
        driver,
        bucket,
        base="mlruns/1/",
        prefixes=marked,
        filters=StaleFilters(keep_last=1),
    )
    # r2 is the newest of the three marked: kept; r3..r5 are not in the selection at all
    assert _runs(plan.kept_runs) == ["r2"]
    assert _runs(plan.deleted_runs) == ["r0", "r1"]
    assert sorted(plan.whole_prefixes) == marked[:2]


def test_lightning_versions_are_runs_and_their_logger_folder_the_experiment(s3):
    bucket = s3[1]
    for n, losses in enumerate([[0.9, 0.5], [0.8, 0.3], [0.7, 0.6], [0.95, 0.94]]):
        when = NOW - timedelta(days=10 - n)
        files = lightning_version("logs/", n, metrics={"val_loss": losses, "train_loss": losses})
        seed_dated(bucket, files, when)
    seed_aged(bucket, {"logs/lightning_logs/notes.txt": (5, 1)})
    plan = _plan(s3, base="logs/", keep_best=1, metric="val_loss", keep_last=1)
    assert _runs(plan.kept_runs) == ["version_1", "version_3"]
    assert _runs(plan.deleted_runs) == ["version_0", "version_2"]
    keys = sorted(i.key for i in plan.items)
    assert keys == sorted(
        f"logs/lightning_logs/version_{n}/{f}"
        for n in (0, 2)
        for f in ("hparams.yaml", "metrics.csv", "checkpoints/epoch=1-step=199.ckpt")
    )
    assert plan.outside_runs == 1


# -- refusals ------------------------------------------------------------------------------


def test_child_prefixes_are_not_runs_a_location_without_runs_is_refused(s3):
    # ZenML-like step folders and loose logs: the old planner took them for runs.
    bucket = s3[1]
    seed_aged(
        bucket,
        {
            "pipe/make_data/output/data.parquet": (100, 40),
            "pipe/train/model/model.pkl": (100, 30),
            "pipe/logs/step-01.log": (10, 20),
            "pipe/logs/step-02.log": (10, 10),
        },
    )
    for base in ("pipe/", "pipe/logs/"):
        with pytest.raises(NoRunsFound) as info:
            _plan(s3, base=base, keep_last=3, older_than="7d")
        assert info.value.where == f"s3://{bucket}/{base}"
        assert str(info.value).startswith(f"no runs found under s3://{bucket}/{base} (")
    # Without run rules the same selection plans as before.
    assert _plan(s3, base="pipe/logs/").count == 2


def test_a_metric_no_run_logged_is_refused_naming_the_logged_ones(mlflow):
    with pytest.raises(MetricNotLogged, match="the runs logged 1 metric: val_loss"):
        _plan(mlflow, keep_best=2, metric="val_acc")


def test_an_empty_selection_plans_nothing_without_detecting(s3):
    driver, bucket = s3
    seed_aged(bucket, {"elsewhere/x": (1, 1)})

    def never() -> RunSet:
        raise AssertionError("no detection for an empty selection")

    plan = build_plan(
        driver,
        bucket,
        base="logs/",
        prefixes=["logs/"],
        filters=StaleFilters(keep_last=2),
        runs=never,
    )
    assert plan.count == 0 and plan.retention is None


def test_loose_objects_marked_beside_runs_plan_nothing(mlflow):
    driver, bucket = mlflow
    plan = build_plan(
        driver, bucket, base="mlruns/", keys=["mlruns/README.md"], filters=StaleFilters(keep_last=0)
    )
    assert plan.count == 0 and plan.outside_runs == 1 and plan.retention is not None
    assert plan.retention.verdicts == []


def test_cancel_during_detection_stops_planning(mlflow):
    driver, bucket = mlflow
    cancel = threading.Event()

    def detect() -> RunSet:
        cancel.set()
        return detect_runs(driver, bucket, "mlruns/", cancel=cancel)

    with pytest.raises(PlanCancelled):
        build_plan(
            driver,
            bucket,
            base="mlruns/",
            prefixes=["mlruns/"],
            filters=StaleFilters(keep_last=1),
            runs=detect,
        )


def test_progress_counts_detection_then_planning(mlflow):
    seen: list[int] = []
    driver, bucket = mlflow
    plan = build_plan(
        driver,
        bucket,
        base="mlruns/",
        prefixes=["mlruns/"],
        filters=StaleFilters(keep_last=1),
        on_listed=seen.append,
    )
    assert seen == sorted(seen) and seen[-1] == 2 * plan.examined  # listed twice


def test_rules_without_run_rules_leave_the_plan_as_before(mlflow):
    plan = _plan(mlflow, older_than="45d")
    assert plan.retention is None and plan.runs is None
    assert [i.key for i in plan.items] == ["mlruns/README.md"]
    assert replace(plan.filters, now=None).retention is None
