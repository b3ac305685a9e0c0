"""``pail rm`` retention by runs, against moto over HTTP (seeded in-process) with MLflow
file-store runs and Lightning versions as the tools write them
(tests/support/run_stores.py): the summary lists the runs kept and why and the runs to
delete; only their objects go; a location without runs is refused (exit 2)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from support.cli import run, s3_args
from support.run_stores import lightning_version, run_id, seed_dated, seed_resnet
from support.servers import s3_client
from support.stores import NOW, seed_aged

START = NOW - timedelta(days=30)


def _keys(endpoint, bucket):
    pages = s3_client(endpoint).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


@pytest.fixture
def resnet(s3_endpoint, bucket_name):
    ids = seed_resnet(bucket_name, START)
    seed_aged(bucket_name, {"mlruns/README.md": (50, 60)})
    return ids


def _rm(endpoint, bucket, *args):
    return run(["rm", *s3_args(endpoint), "-r", f"s3://{bucket}/mlruns/", *args])


def test_keep_best_3_by_val_loss_and_the_last_2(s3_endpoint, bucket_name, resnet):
    before = _keys(s3_endpoint, bucket_name)
    args = ["--keep-best", "3", "--metric", "val_loss", "--keep-last", "2"]
    result = _rm(s3_endpoint, bucket_name, *args, "--yes")
    assert result.exit_code == 0, result.stderr
    r = {name: f"{name} ({rid})" for name, rid in resnet.items()}
    lines = result.stderr.splitlines()
    assert lines[0] == f"Delete 6 objects (1.5 KiB) under s3://{bucket_name}/mlruns/"
    runs_at = lines.index(
        "  runs (MLflow / FastTrackML): 5 kept, 1 to delete; keep the last 2 runs and the best "
        "3 by val_loss (min) of each experiment"
    )
    assert lines[runs_at + 1 : runs_at + 8] == [
        f"    keep   {r['r5']}: among the last 2 runs of experiment resnet "
        "(started 2026-05-07 12:00 UTC)",
        f"    keep   {r['r4']}: among the last 2 runs of experiment resnet "
        "(started 2026-05-06 12:00 UTC)",
        f"    keep   {r['r3']}: best 3 by val_loss (min) of experiment resnet: 0.35, rank 2",
        f"    keep   {r['r1']}: best 3 by val_loss (min) of experiment resnet: 0.31, rank 1",
        f"    keep   {r['r0']}: best 3 by val_loss (min) of experiment resnet: 0.4, rank 3",
        f"    delete {r['r2']} (6 objects, 1.5 KiB): not among the last 2 runs of experiment "
        "resnet: 4th newest (started 2026-05-04 12:00 UTC); not in the best 3 by val_loss (min) "
        "of experiment resnet: 0.52, rank 5",
        "  2 objects belong to no run: never deleted by run rules",
    ]
    assert "deleted 6 objects" in lines[-1]
    gone = sorted(set(before) - set(_keys(s3_endpoint, bucket_name)))
    assert gone == sorted(k for k in before if k.startswith(f"mlruns/1/{resnet['r2']}/"))


def test_dry_run_lists_only_the_deleted_runs_objects(s3_endpoint, bucket_name, resnet):
    before = _keys(s3_endpoint, bucket_name)
    result = _rm(s3_endpoint, bucket_name, "--keep-last", "5", "--dry-run")
    assert result.exit_code == 0, result.stderr
    prefix = f"s3://{bucket_name}/mlruns/1/{resnet['r0']}/"
    assert result.stdout.split() and all(u.startswith(prefix) for u in result.stdout.split())
    assert len(result.stdout.split()) == 6
    assert "nothing was deleted" in result.stderr
    assert _keys(s3_endpoint, bucket_name) == before


def test_tags_and_names_are_repeatable(s3_endpoint, bucket_name, resnet):
    result = _rm(
        s3_endpoint,
        bucket_name,
        "--keep-name",
        "r1",
        "--keep-name",
        f"{run_id('r2')[:6]}*",
        "--keep-tag",
        "mlflow.runName=R3",  # values compare without regard to case
        "--dry-run",
    )
    assert result.exit_code == 0, result.stderr
    assert "3 kept, 3 to delete" in result.stderr
    assert f"keep   r3 ({resnet['r3']}): tag mlflow.runName=r3" in result.stderr
    assert f"keep   r2 ({resnet['r2']}): id matches 'a2a2a2*'" in result.stderr
    assert "name matches no keep pattern ('r1', 'a2a2a2*'); no keep tag" not in result.stderr
    assert "no keep tag (mlflow.runName=R3); name matches no keep pattern" in result.stderr


def test_nothing_to_delete_still_says_which_runs_are_kept(s3_endpoint, bucket_name, resnet):
    result = _rm(s3_endpoint, bucket_name, "--keep-last", "6", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "6 kept, 0 to delete" in result.stderr
    assert "pail: nothing to delete" in result.stderr


def test_lightning_versions_with_an_age_filter(s3_endpoint, bucket_name):
    now = datetime.now(timezone.utc)  # pail rm counts ages from the clock
    for n in range(4):
        when = now - timedelta(days=40 - 10 * n)
        seed_dated(bucket_name, lightning_version("tb/", n, metrics={"val_acc": [0.5 + n]}), when)
    args = ["rm", *s3_args(s3_endpoint), "-r", f"s3://{bucket_name}/tb/", "--yes"]
    result = run([*args, "--keep-best", "1", "--metric", "val_acc", "--older-than", "25d"])
    assert result.exit_code == 0, result.stderr
    assert "best 1 by val_acc (max) of experiment lightning_logs: 3.5, rank 1" in result.stderr
    # version_0 (40 days) and version_1 (30 days) go; version_2 is deleted by the rule but
    # is 20 days old, so nothing of it matches the age filter.
    assert "delete version_2 (nothing of it matches the filters)" in result.stderr
    assert sorted({k.split("/")[2] for k in _keys(s3_endpoint, bucket_name)}) == [
        "version_2",
        "version_3",
    ]


# -- refusals -------------------------------------------------------------------------------


def test_a_location_without_runs_is_refused(s3_endpoint, bucket_name):
    logs = {f"logs/step-{i:02d}.log": (10, 100 + i) for i in range(13)}  # ZenML's logs/
    folders = {"steps/make_data/out.parquet": (10, 50), "steps/train/model.pkl": (10, 40)}
    seed_aged(bucket_name, {**logs, **folders})
    before = _keys(s3_endpoint, bucket_name)
    for where, count in (("logs/", 13), ("logs", 13), ("steps/", 2)):
        args = ["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/{where}"]
        result = run([*args, "--older-than", "7d", "--keep-last", "3"])
        assert result.exit_code == 2, result.stderr
        prefix = where if where.endswith("/") else where + "/"
        assert result.stderr.strip().splitlines() == [
            f"pail: error: no runs found under s3://{bucket_name}/{prefix} "
            f"({count} objects, none in a layout pail knows): pail recognises MLflow/FastTrackML, "
            "ZenML, modelkit, PyTorch Lightning and Hugging Face Trainer layouts"
        ]
    assert _keys(s3_endpoint, bucket_name) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keep-best", "3"], "pail: error: --keep-best needs --metric to rank the runs by"),
        (["--metric", "val_loss"], "pail: error: --metric needs --keep-best"),
        (["--keep-last", "2", "--mode", "max"], "pail: error: --mode needs --keep-best"),
        (["--keep-tag", "=x"], "pail: error: keep tag: a tag name or name=value, not '=x'"),
        (
            ["--tracking-delete"],
            "pail: error: --tracking-delete marks the runs a run rule deletes: give "
            "--keep-last, --keep-best, --keep-tag or --keep-name",
        ),
    ],
)
def test_run_rules_that_cannot_apply_are_usage_errors(s3_endpoint, bucket_name, args, message):
    result = run(["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/x/", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[0].startswith(message), result.stderr


def test_a_metric_no_run_logged_is_refused_naming_the_logged_ones(s3_endpoint, bucket_name, resnet):
    before = _keys(s3_endpoint, bucket_name)
    result = _rm(s3_endpoint, bucket_name, "--keep-best", "3", "--metric", "val_acc", "--yes")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "pail: error: refusing to plan by runs: no run logged the metric 'val_acc'; the runs "
        "logged 1 metric: val_loss"
    )
    assert _keys(s3_endpoint, bucket_name) == before
