"""Retention by runs (pail.services.runs.retention): every rule, the reasons it gives, and
the fail-closed cases (no metric, no start time, protected and live runs).

The runs are the records detection returns (:class:`pail.services.runs.model.Run`), built
here directly: retention does no I/O, and detection has its own tests. The planner's tests
(tests/services/delete/test_delete_plan.py) run it on runs detected in a real store.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pail.services.runs.model import MetricPoint, Run, RunSet
from pail.services.runs.retention import (
    MetricNotLogged,
    RetentionError,
    RetentionRules,
    ordinal,
    plan_retention,
)

T0 = datetime(2026, 11, 20, 10, 2, tzinfo=timezone.utc)


def _run(
    rid: str,
    hours: float | None,
    *,
    experiment: str | None = "1",
    loss: list[float] | None = None,
    tags: dict[str, str] | None = None,
    name: str | None = None,
    status: str | None = "FINISHED",
    protected: str | None = None,
) -> Run:
    """A run started ``hours`` after T0 (``None``: start unknown) that logged val_loss
    ``loss`` at steps 0, 1, 2..."""
    metrics = {}
    if loss is not None:
        metrics["val_loss"] = [MetricPoint(i, v) for i, v in enumerate(loss)]
    return Run(
        id=rid,
        name=name or rid,
        layout="mlflow",
        prefixes=(f"mlflow/{experiment}/{rid}/",),
        experiment=experiment,
        start=None if hours is None else T0 + timedelta(hours=hours),
        status=status,
        metrics=metrics,
        tags=tags or {},
        protected=protected,
    )


def _set(*runs: Run) -> RunSet:
    ordered = sorted(runs, key=lambda r: r.start or T0, reverse=True)
    return RunSet("s3", "b", "mlflow/", layout="mlflow", runs=ordered)


def _fate(decision) -> dict[str, bool]:
    return {v.run.id: v.keep for v in decision.verdicts}


def _why(decision, rid: str) -> tuple[str, ...]:
    verdict = decision.verdict(rid)
    assert verdict is not None
    return verdict.reasons


# -- keep the last N ----------------------------------------------------------------------


def test_keep_last_keeps_each_experiments_newest_runs_by_start_time():
    runs = _set(
        _run("a1", 0),
        _run("a2", 1),
        _run("a3", 2),
        _run("b1", 0, experiment="2"),
        _run("b2", 5, experiment="2"),
    )
    decision = plan_retention(runs, RetentionRules(keep_last=2))
    assert _fate(decision) == {"a1": False, "a2": True, "a3": True, "b1": True, "b2": True}
    assert _why(decision, "a3") == (
        "among the last 2 runs of experiment 1 (started 2026-11-20 12:02 UTC)",
    )
    assert _why(decision, "a1") == (
        "not among the last 2 runs of experiment 1: 3rd newest (started 2026-11-20 10:02 UTC)",
    )
    assert [v.run.id for v in decision.deleted] == ["a1"]
    assert len(decision.kept) == 4


def test_keep_last_zero_keeps_none_and_runs_tied_at_the_boundary_are_all_kept():
    runs = _set(_run("a", 0), _run("b", 3), _run("c", 3), _run("d", 1))
    none = plan_retention(runs, RetentionRules(keep_last=0))
    assert not any(_fate(none).values())
    assert _why(none, "a") == ("keep last 0: no run is kept for being recent",)
    # b and c started at the same time: both are "the last 1" (rank 1), d is 3rd.
    decision = plan_retention(runs, RetentionRules(keep_last=1))
    assert _fate(decision) == {"a": False, "b": True, "c": True, "d": False}
    assert "3rd newest" in _why(decision, "d")[0]


def test_a_run_without_a_start_time_is_kept_by_keep_last():
    runs = _set(_run("a", 0), _run("b", 1), _run("undated", None))
    decision = plan_retention(runs, RetentionRules(keep_last=1))
    assert _fate(decision) == {"a": False, "b": True, "undated": True}
    assert _why(decision, "undated") == ("no start time: kept (cannot tell how recent it is)",)


def test_runs_without_an_experiment_are_counted_together():
    runs = _set(_run("x", 0, experiment=None), _run("y", 1, experiment=None))
    decision = plan_retention(runs, RetentionRules(keep_last=1))
    assert _fate(decision) == {"x": False, "y": True}
    assert "the last 1 run of the runs without an experiment" in _why(decision, "y")[0]


# -- keep the best N by a metric ----------------------------------------------------------


def test_keep_best_ranks_by_the_best_ever_value_in_the_metrics_mode():
    runs = _set(
        # a peaked at 0.2 and degraded: its best-ever value ranks it first
        _run("a", 0, loss=[0.9, 0.2, 0.7]),
        _run("b", 1, loss=[0.8, 0.412]),
        _run("c", 2, loss=[0.6, 0.5]),
        _run("d", 3, loss=[0.95]),
    )
    decision = plan_retention(runs, RetentionRules(keep_best=2, metric="val_loss"))
    assert decision.mode == "min"  # "loss" in the name: lower is better
    assert _fate(decision) == {"a": True, "b": True, "c": False, "d": False}
    assert _why(decision, "b") == ("best 2 by val_loss (min) of experiment 1: 0.412, rank 2",)
    assert _why(decision, "d") == (
        "not in the best 2 by val_loss (min) of experiment 1: 0.95, rank 4",
    )
    # By the final value instead, a (0.7) falls behind c (0.5).
    final = plan_retention(runs, RetentionRules(keep_best=2, metric="val_loss", value="final"))
    assert _fate(final) == {"a": False, "b": True, "c": True, "d": False}
    assert "best 2 by final val_loss (min)" in _why(final, "c")[0]


def test_keep_best_mode_max_given_by_the_user():
    runs = _set(_run("a", 0, loss=[0.1]), _run("b", 1, loss=[0.9]), _run("c", 2, loss=[0.5]))
    decision = plan_retention(runs, RetentionRules(keep_best=1, metric="val_loss", mode="max"))
    assert _fate(decision) == {"a": False, "b": True, "c": False}
    assert _why(decision, "b") == ("best 1 by val_loss (max) of experiment 1: 0.9, rank 1",)


def test_a_run_without_the_metric_is_kept_not_deleted_for_lack_of_it():
    runs = _set(
        _run("a", 0, loss=[0.3]),
        _run("b", 1, loss=[0.1]),
        _run("nolog", 2),
        _run("nan", 3, loss=[float("nan")]),
    )
    decision = plan_retention(runs, RetentionRules(keep_best=1, metric="val_loss"))
    assert _fate(decision) == {"a": False, "b": True, "nolog": True, "nan": True}
    assert _why(decision, "nolog") == ("no val_loss logged: kept (cannot rank)",)
    assert _why(decision, "nan") == ("no val_loss logged: kept (cannot rank)",)


def test_keep_best_is_counted_per_experiment_and_ties_are_kept():
    runs = _set(
        _run("a1", 0, loss=[0.5]),
        _run("a2", 1, loss=[0.5]),
        _run("a3", 2, loss=[0.7]),
        _run("b1", 0, experiment="2", loss=[0.9]),
    )
    decision = plan_retention(runs, RetentionRules(keep_best=1, metric="val_loss"))
    assert _fate(decision) == {"a1": True, "a2": True, "a3": False, "b1": True}
    assert "0.7, rank 3" in _why(decision, "a3")[0]  # two runs share rank 1


def test_a_metric_no_run_logged_is_an_error_naming_the_metrics_there_are():
    runs = _set(_run("a", 0, loss=[0.3]), _run("b", 1))
    runs.runs[1].metrics["accuracy"] = [MetricPoint(0, 0.8)]
    with pytest.raises(MetricNotLogged) as info:
        plan_retention(runs, RetentionRules(keep_best=3, metric="val_los"))
    assert str(info.value) == (
        "no run logged the metric 'val_los'; the runs logged 2 metrics: accuracy, val_loss"
    )
    assert info.value.available == ["accuracy", "val_loss"]
    with pytest.raises(MetricNotLogged, match="logged no metric at all"):
        plan_retention(_set(_run("a", 0)), RetentionRules(keep_best=1, metric="val_loss"))


# -- tags, names, protection, live runs --------------------------------------------------


def test_keep_tags_by_name_or_name_and_value():
    runs = _set(
        _run("a", 0, tags={"pail.keep": ""}),
        _run("b", 1, tags={"keep": "True"}),
        _run("c", 2, tags={"keep": "false"}),
        _run("d", 3),
    )
    decision = plan_retention(runs, RetentionRules(keep_tags=("pail.keep", "keep=true")))
    assert _fate(decision) == {"a": True, "b": True, "c": False, "d": False}
    assert _why(decision, "a") == ("tag pail.keep",)
    assert _why(decision, "b") == ("tag keep=True",)
    assert _why(decision, "c") == ("no keep tag (pail.keep, keep=true)",)


def test_a_run_whose_metadata_was_not_read_is_kept_by_a_tag_rule():
    runs = _set(_run("a", 0), _run("b", 1))
    runs.warnings.append("a: metadata not read: AccessDenied")
    decision = plan_retention(runs, RetentionRules(keep_tags=("pail.keep",)))
    assert _fate(decision) == {"a": True, "b": False}
    assert _why(decision, "a")[0] == "metadata not read: kept (cannot check its tags)"
    # without a tag rule the warning changes nothing
    assert _fate(plan_retention(runs, RetentionRules(keep_last=0))) == {"a": False, "b": False}


def test_keep_names_match_the_run_name_or_its_id():
    runs = _set(
        _run("0f" * 16, 0, name="baseline-lr3"),
        _run("ab" * 16, 1, name="sweep-7"),
        _run("cd" * 16, 2, name="sweep-8"),
    )
    decision = plan_retention(runs, RetentionRules(keep_names=("baseline*", "cdcd*")))
    assert [v.run.name for v in decision.kept] == ["sweep-8", "baseline-lr3"]
    assert _why(decision, "0f" * 16) == ("name matches 'baseline*'",)
    assert _why(decision, "cd" * 16) == ("id matches 'cdcd*'",)
    assert _why(decision, "ab" * 16) == ("name matches no keep pattern ('baseline*', 'cdcd*')",)


def test_protected_and_running_runs_are_kept_whatever_the_rules():
    runs = _set(
        _run("reg", 0, protected="backs registered model resnet version 2"),
        _run("live", 1, status="RUNNING"),
        _run("old", 2),
        _run("new", 3),
    )
    decision = plan_retention(runs, RetentionRules(keep_last=1))
    assert _fate(decision) == {"reg": True, "live": True, "old": False, "new": True}
    assert _why(decision, "reg") == ("backs registered model resnet version 2",)
    assert _why(decision, "live") == ("status RUNNING: it may still be writing",)


def test_every_rule_that_keeps_a_run_is_a_reason_and_deleted_runs_say_why_each_failed():
    runs = _set(
        _run("a", 0, loss=[0.2], tags={"pail.keep": "1"}),
        _run("b", 1, loss=[0.9]),
        _run("c", 2, loss=[0.5]),
    )
    rules = RetentionRules(keep_last=1, keep_best=1, metric="val_loss", keep_tags=("pail.keep",))
    decision = plan_retention(runs, rules)
    assert _fate(decision) == {"a": True, "b": False, "c": True}
    assert _why(decision, "a") == (
        "best 1 by val_loss (min) of experiment 1: 0.2, rank 1",
        "tag pail.keep",
    )
    assert _why(decision, "b") == (
        "not among the last 1 run of experiment 1: 2nd newest (started 2026-11-20 11:02 UTC)",
        "not in the best 1 by val_loss (min) of experiment 1: 0.9, rank 3",
        "no keep tag (pail.keep)",
    )


def test_no_rule_deletes_every_unprotected_run():
    runs = _set(_run("a", 0), _run("b", 1, protected="the Trainer's best_model_checkpoint"))
    decision = plan_retention(runs, RetentionRules())
    assert _fate(decision) == {"a": False, "b": True}
    assert _why(decision, "a") == ("no rule keeps it",)


# -- the rules themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keep_best": 3}, "keep best needs the metric"),
        ({"keep_best": 3, "metric": "  "}, "keep best needs the metric"),
        ({"metric": "val_loss"}, "only used to keep the best"),
        ({"keep_last": 2, "mode": "min"}, "only used to keep the best"),
        ({"keep_best": 1, "metric": "m", "mode": "lowest"}, "min or max"),
        ({"keep_last": -1}, "from 0 to 1,000,000"),
        ({"keep_best": 1_000_001, "metric": "m"}, "from 0 to 1,000,000"),
        ({"keep_tags": ("=x",)}, "a tag name or name=value"),
        ({"keep_names": ("",)}, "empty pattern"),
        ({"keep_best": 1, "metric": "learning_rate"}, "learning_rate has no better direction"),
        ({"keep_best": 1, "metric": "train/epoch"}, "give the mode"),
    ],
)
def test_rules_that_cannot_be_applied_are_refused(kwargs, message):
    with pytest.raises(RetentionError, match=message):
        RetentionRules(**kwargs)


def test_a_metric_with_no_direction_is_ranked_with_the_users_mode():
    rules = RetentionRules(keep_best=1, metric="learning_rate", mode="max")
    assert rules.resolved_mode == "max"


def test_rules_describe_themselves_and_say_when_they_are_active():
    assert not RetentionRules().active
    assert RetentionRules(keep_last=0).active
    rules = RetentionRules(
        keep_last=2, keep_best=3, metric="val_loss", keep_tags=("pail.keep",), keep_names=("b*",)
    )
    assert rules.describe() == (
        "keep the last 2 runs and the best 3 by val_loss (min) of each experiment; "
        "keep runs tagged pail.keep or named b*"
    )
    assert RetentionRules(keep_tags=("k",)).describe() == "keep runs tagged k"
    assert RetentionRules().describe() == ""
    assert RetentionRules(keep_best=1, metric="accuracy").resolved_mode == "max"


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 111, 1002)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "111th",
        "1,002nd",
    ]
