"""The delete planner and the stale filters, against moto over HTTP (seeded in-process)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from pail.core.units import MAX_DURATION, MAX_SIZE
from pail.drivers.base import Entry
from pail.drivers.s3 import S3Driver
from pail.services.delete.filters import MAX_KEEP_LAST, FilterError, StaleFilters
from pail.services.delete.plan import (
    PlanCancelled,
    build_plan,
    first_level,
    normalize_prefix,
)
from support.servers import s3_client, seed_keys
from support.stores import NOW, seed_aged


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def _keys(plan):
    return sorted(item.key for item in plan.items)


# -- parsing (the rules themselves: tests/core/test_units.py) ------------------------------


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("older_than", "30x"),
        ("older_than", "36526d"),
        ("older_than", "0d"),
        ("larger_than", "10XB"),
        ("smaller_than", "9223372036854775808"),
        ("larger_than", "-1MB"),
    ],
)
def test_bad_filter_text_is_a_filter_error_in_one_line(field, text):
    with pytest.raises(FilterError) as info:
        StaleFilters.parse(**{field: text})
    assert "\n" not in str(info.value) and repr(text) in str(info.value)


def test_filters_read_sizes_and_ages_with_the_shared_rules():
    filters = StaleFilters.parse(older_than="1d12h", larger_than="10MB", smaller_than="1 GiB")
    assert filters.older_than == timedelta(hours=36)
    assert (filters.larger_than, filters.smaller_than) == (10_000_000, 1024**3)


def test_the_longest_duration_is_100_years():
    filters = StaleFilters.parse(older_than="36525d")
    assert filters.older_than == MAX_DURATION
    # ... and planning with it works (no date arithmetic overflows).
    filters.cutoff()


def test_the_largest_size_is_a_signed_64_bit_count():
    assert StaleFilters.parse(larger_than=str(MAX_SIZE)).larger_than == MAX_SIZE
    with pytest.raises(FilterError):
        StaleFilters(larger_than=MAX_SIZE + 1)
    with pytest.raises(FilterError, match="keep-last"):
        StaleFilters(keep_last=MAX_KEEP_LAST + 1)
    with pytest.raises(FilterError, match="100 years"):
        StaleFilters(older_than=MAX_DURATION + timedelta(seconds=1))


def test_bad_regex_and_negative_keep_last_are_filter_errors():
    with pytest.raises(FilterError, match="regex"):
        StaleFilters(regex="(unclosed")
    with pytest.raises(FilterError, match="keep-last"):
        StaleFilters(keep_last=-1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"keep_best": 3}, "keep best needs the metric"),
        ({"metric": "val_loss"}, "only used to keep the best"),
        ({"keep_best": 3, "metric": "val_loss", "mode": "lowest"}, "mode: min or max"),
        ({"keep_best": 3, "metric": "val_loss", "metric_value": "last"}, "best or final"),
        ({"keep_tags": ["=true"]}, "a tag name or name=value"),
    ],
)
def test_run_rules_that_cannot_apply_are_filter_errors(kwargs, message):
    with pytest.raises(FilterError, match=message):
        StaleFilters.parse(**kwargs)


def test_run_rules_make_the_retention_rules():
    assert StaleFilters.parse(older_than="7d").retention is None
    filters = StaleFilters.parse(
        keep_last=2, keep_best=3, metric=" val_loss ", mode="min", keep_tags=["pail.keep"]
    )
    rules = filters.retention
    assert rules is not None and filters.active
    assert (rules.keep_last, rules.keep_best, rules.metric, rules.mode) == (2, 3, "val_loss", "min")
    assert rules.keep_tags == ("pail.keep",) and rules.value == "best"
    assert StaleFilters(keep_names=("base*",)).active


def test_prefix_helpers():
    assert normalize_prefix("") == ""
    assert normalize_prefix("runs/run-1") == "runs/run-1/"
    assert normalize_prefix("runs/") == "runs/"
    assert first_level("runs/", "runs/run-1/a/b") == "runs/run-1/"
    assert first_level("runs/", "runs/top.txt") == "runs/"
    assert first_level("", "a.txt") == ""


# -- prefix boundaries ------------------------------------------------------------------


def test_prefix_boundary_is_exact(s3):
    driver, bucket = s3
    seed_keys(
        bucket,
        ["runs/run-1/a", "runs/run-1/b/c", "runs/run-10/a", "runs/run-1", "runs/run-1x", "runs/"],
    )
    for given in ("runs/run-1/", "runs/run-1"):
        plan = build_plan(driver, bucket, base="runs/", prefixes=[given])
        assert _keys(plan) == ["runs/run-1/a", "runs/run-1/b/c"]
        assert plan.whole_prefixes == ["runs/run-1/"]


def test_prefix_plan_includes_a_folder_marker_equal_to_the_prefix(s3):
    driver, bucket = s3
    seed_keys(bucket, ["runs/run-1/", "runs/run-1/a", "runs/run-1"])
    plan = build_plan(driver, bucket, prefixes=["runs/run-1/"])
    assert _keys(plan) == ["runs/run-1/", "runs/run-1/a"]


def test_empty_prefix_means_every_object_and_is_a_whole_prefix(s3):
    driver, bucket = s3
    seed_keys(bucket, ["a", "b/c"])
    plan = build_plan(driver, bucket, prefixes=[""])
    assert _keys(plan) == ["a", "b/c"]
    assert plan.whole_prefixes == [""]
    assert plan.needs_typed_confirmation()


def test_marked_keys_and_prefixes_are_deduplicated_and_missing_keys_reported(s3):
    driver, bucket = s3
    seed_aged(bucket, {"runs/r1/a": (5, 1), "runs/r2/b": (7, 2), "top": (3, 3)})
    entry = Entry("runs/r1/a", "object", 5, NOW)
    plan = build_plan(
        driver,
        bucket,
        base="runs/",
        prefixes=["runs/r1/"],
        keys=[entry, "runs/r2/b", "runs/r1/a", "runs/nope"],
    )
    assert _keys(plan) == ["runs/r1/a", "runs/r2/b"]
    assert plan.missing == ["runs/nope"]
    assert plan.count == 2 and plan.total_bytes == 12
    assert plan.prefixes == ["runs/r1/", "runs/r2/"]
    assert not plan.needs_typed_confirmation() or plan.whole_prefixes == ["runs/r1/"]


def test_summary_and_threshold(s3):
    driver, bucket = s3
    seed_aged(bucket, {f"x/{i}": (i, i) for i in range(1, 6)})
    plan = build_plan(driver, bucket, keys=[f"x/{i}" for i in range(1, 6)])
    assert plan.count == 5 and plan.total_bytes == 15
    assert plan.oldest == NOW - timedelta(days=5)
    assert plan.newest == NOW - timedelta(days=1)
    assert not plan.includes_whole_prefix
    assert not plan.needs_typed_confirmation()
    assert plan.needs_typed_confirmation(threshold=4)


# -- filters ----------------------------------------------------------------------------


@pytest.fixture
def mixed(s3):
    driver, bucket = s3
    seed_aged(
        bucket,
        {
            "runs/r1/model.ckpt": (5000, 40),
            "runs/r1/log.txt": (10, 40),
            "runs/r2/model.ckpt": (8000, 10),
            "runs/r2/eval/metrics.json": (100, 10),
            "runs/r3/model.ckpt": (200, 1),
            "runs/notes.md": (50, 60),
        },
    )
    return driver, bucket


def _plan(mixed, **filters):
    driver, bucket = mixed
    return build_plan(
        driver, bucket, base="runs/", prefixes=["runs/"], filters=StaleFilters.parse(**filters)
    )


def test_older_than_is_relative_to_now(mixed):
    plan = _plan(mixed, older_than="30d", now=NOW)
    assert _keys(plan) == ["runs/notes.md", "runs/r1/log.txt", "runs/r1/model.ckpt"]
    assert plan.whole_prefixes == []
    assert _keys(_plan(mixed, older_than="61d", now=NOW)) == []


def test_size_filters(mixed):
    assert _keys(_plan(mixed, larger_than="1kB")) == ["runs/r1/model.ckpt", "runs/r2/model.ckpt"]
    assert _keys(_plan(mixed, smaller_than="100")) == ["runs/notes.md", "runs/r1/log.txt"]
    assert _keys(_plan(mixed, larger_than="50", smaller_than="5000")) == [
        "runs/r2/eval/metrics.json",
        "runs/r3/model.ckpt",
    ]


def test_globs_match_the_key_relative_to_the_selection(mixed):
    assert _keys(_plan(mixed, include=["*.ckpt"])) == [
        "runs/r1/model.ckpt",
        "runs/r2/model.ckpt",
        "runs/r3/model.ckpt",
    ]
    assert _keys(_plan(mixed, include=["r2/*"], exclude=["*.json"])) == ["runs/r2/model.ckpt"]
    assert _keys(_plan(mixed, include=["runs/*"])) == []  # relative, not the full key
    assert "runs/notes.md" not in _keys(_plan(mixed, exclude=["*.md"]))


def test_regex_is_searched_in_the_relative_key(mixed):
    assert _keys(_plan(mixed, regex=r"^r[12]/.*\.ckpt$")) == [
        "runs/r1/model.ckpt",
        "runs/r2/model.ckpt",
    ]


def test_filters_combine(mixed):
    plan = _plan(mixed, older_than="7d", larger_than="1kB", include=["*.ckpt"], now=NOW)
    assert _keys(plan) == ["runs/r1/model.ckpt", "runs/r2/model.ckpt"]


# -- retention by runs: tests/services/delete/test_delete_plan_runs.py ------------------


# -- progress and cancel ----------------------------------------------------------------


def test_planning_reports_progress_and_can_be_cancelled(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{i:05d}" for i in range(2500)])
    seen = []
    plan = build_plan(driver, bucket, prefixes=["p/"], on_listed=seen.append)
    assert seen == [1000, 2000, 2500] and plan.count == 2500
    cancel = threading.Event()

    def stop(n):
        cancel.set()

    with pytest.raises(PlanCancelled):
        build_plan(driver, bucket, prefixes=["p/"], cancel=cancel, on_listed=stop)
