"""The ZenML layout: step outputs ``<root>/<step>/<output>/<step run id>/<8 hex>/`` as
ZenML places them (tests/support/run_layouts.py), grouped into inferred pipeline runs by
time, recognised from a listing and read from a real folder and a moto bucket."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from pail.drivers.base import Entry
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.runs.detect import detect_runs, layout_title, require_runs, runs_from_objects
from pail.services.runs.layouts.zenml import ZENML
from pail.services.runs.model import NoRunsFound
from support.run_layouts import (
    T0,
    entries,
    hf_checkpoint,
    write_folder,
    zenml_builtin,
    zenml_dataframe,
    zenml_output,
    zenml_step_log,
)
from support.servers import s3_client, seed_keys

ROOT = "zenml-store/"
STEPS = ("load_data", "trainer", "evaluator")
#: Minutes after each run's start at which each step's outputs were written.
WRITTEN = {"load_data": 1, "trainer": 20, "evaluator": 22}
#: Pipeline runs: A at T0, B three hours later, C right after B (within 30 minutes).
STARTS = {"A": T0, "B": T0 + timedelta(hours=3), "C": T0 + timedelta(hours=3, minutes=30)}


def step_run(run: str, step: str) -> str:
    """A fixed step run id (``str(uuid)``) per pipeline run and step."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/{step}"))


def store(root: str = ROOT) -> tuple[dict[str, bytes], dict]:
    """Three pipeline runs of load_data -> trainer -> evaluator, with step logs, a manual
    ``save_artifact`` and a run log beside them; returns (files, times)."""
    files: dict[str, bytes] = {}
    times: dict = {}
    for run, start in STARTS.items():
        outputs = {
            ("load_data", "output"): zenml_dataframe(),
            ("trainer", "model"): zenml_builtin({"weights": [0.1, 0.2]}),
            ("trainer", "history"): zenml_builtin({"loss": [0.9, 0.5]}),
            ("evaluator", "accuracy"): zenml_builtin(0.91),
        }
        for (step, output), body in outputs.items():
            sid = step_run(run, step)
            written = zenml_output(root, step, output, sid, body, version=sid[-8:])
            files |= written
            times[f"{root}{step}/{output}/{sid}/"] = start + timedelta(minutes=WRITTEN[step])
        log = zenml_step_log(root, "trainer", step_run(run, "log"))
        files |= log
        times.update(dict.fromkeys(log, start + timedelta(minutes=21)))
    files[f"{root}custom_artifacts/report/{step_run('x', 'report')}/data.json"] = b'"ok"'
    files[f"{root}logs/{step_run('x', 'runlog')}.log"] = b"pipeline started\n"
    return files, times


def prefixes_of(run: str, root: str = ROOT) -> tuple[str, ...]:
    """Run ``run``'s step-output prefixes in the order the grouping lists them (newest
    object time, then key)."""
    order = [
        ("load_data", "output"),
        ("trainer", "history"),
        ("trainer", "model"),
        ("evaluator", "accuracy"),
    ]
    return tuple(f"{root}{s}/{o}/{step_run(run, s)}/" for s, o in order)


def test_step_outputs_are_grouped_into_pipeline_runs_by_time_and_repeated_steps():
    files, times = store()
    found = ZENML.find(ROOT, entries(files, times))
    assert found is not None
    assert [run.id for run in found.runs] == [step_run(r, "load_data") for r in "ABC"]
    for run, letter in zip(found.runs, "ABC", strict=True):
        assert run.prefixes == prefixes_of(letter)
        assert run.experiment == "zenml-store"
        assert run.params == {"steps": "load_data, trainer, evaluator"}
        assert run.groups["trainer/model"] == f"{ROOT}trainer/model/{step_run(letter, 'trainer')}/"
        assert (
            run.name == f"pipeline run {STARTS[letter] + timedelta(minutes=1):%Y-%m-%d %H:%M} UTC"
        )
    assert found.evidence == (
        "12 step outputs of ZenML steps (load_data, trainer, evaluator) in the artifact store "
        "zenml-store, grouped by time into 3 pipeline runs (a new run after 30 minutes "
        "without output or when a step repeats)"
    )


def test_runs_from_objects_leaves_logs_and_manual_artifacts_loose():
    files, times = store()
    result = runs_from_objects("local", "b", ROOT, entries(files, times))
    assert result.layout == "zenml"
    assert [run.name for run in result.runs] == [
        "pipeline run 2026-05-04 12:31 UTC",
        "pipeline run 2026-05-04 12:01 UTC",
        "pipeline run 2026-05-04 09:01 UTC",
    ]
    run = result.runs[-1]
    assert run.objects == 6  # 3 pandas files + 3 data.json
    assert run.start == T0 + timedelta(minutes=1) and run.end == T0 + timedelta(minutes=22)
    assert result.loose == 3 + 1 + 1  # three step logs, the manual artifact, the run log


@pytest.mark.parametrize("base", ["", "team/"])
def test_a_location_above_the_artifact_store_finds_it(base):
    files, times = store(f"team/{ROOT}")
    found = ZENML.find(base, entries(files, times))
    assert found is not None
    assert len(found.runs) == 3
    expected = "zenml-store" if base else "team/zenml-store"
    assert {run.experiment for run in found.runs} == {expected}
    assert f"in the artifact store {expected}," in found.evidence


def test_a_step_folder_or_one_output_as_the_location():
    files, times = store()
    listing = entries(files, times)
    step = ZENML.find(
        ROOT + "trainer/", [e for e in listing if e.key.startswith(ROOT + "trainer/")]
    )
    assert step is not None
    # Only the trainer's outputs: runs B and C still differ (trainer repeats).
    assert [run.id for run in step.runs] == [step_run(r, "trainer") for r in "ABC"]
    assert step.runs[0].params == {"steps": "trainer"}
    one = f"{ROOT}trainer/model/{step_run('B', 'trainer')}/"
    single = ZENML.find(one, [e for e in listing if e.key.startswith(one)])
    assert single is not None
    assert [run.prefixes for run in single.runs] == [(one,)]
    inside = one + step_run("B", "trainer")[-8:] + "/"
    assert ZENML.find(inside, [e for e in listing if e.key.startswith(inside)]) is None


def test_a_long_quiet_time_splits_a_run():
    files: dict[str, bytes] = {}
    times = {}
    for step, minutes in (("prepare", 0), ("train", 45)):
        sid = step_run("long", step)
        files |= zenml_output(ROOT, step, "output", sid, zenml_builtin(1), version=sid[:8])
        times[f"{ROOT}{step}/"] = T0 + timedelta(minutes=minutes)
    found = ZENML.find(ROOT, entries(files, times))
    assert found is not None
    assert [run.params["steps"] for run in found.runs] == ["prepare", "train"]


@pytest.mark.parametrize(
    "keys",
    [
        ["runs/run-1/model.pt", "runs/run-2/model.pt"],
        ["data/train.csv", "data/events/2026/05/part-0.parquet"],
        # a UUID folder under two names but no 8-hex version folder (a data lake's layout,
        # and older ZenML releases)
        [f"data/events/{uuid.uuid4()}/part-0.parquet"],
        # 32-hex ids (MLflow's) are not ZenML step run ids
        [f"exp/step/{uuid.uuid4().hex}/abcdef12/data.json"],
        # the id in capitals, a version folder that is not 8 hex
        [f"s/o/{str(uuid.uuid4()).upper()}/abcdef12/data.json", f"s/o/{uuid.uuid4()}/xyz/d"],
        # step logs on an object store, a manual save_artifact, an empty version folder
        [f"trainer/logs/{uuid.uuid4()}/1714815600.1.log", f"custom_artifacts/r/{uuid.uuid4()}/a"],
        [f"only/one/{uuid.uuid4()}/abcdef12"],
    ],
)
def test_ordinary_and_zenml_like_folders_are_not_runs(keys):
    listing = entries(dict.fromkeys(keys, b"x"))
    assert ZENML.find("", listing) is None
    result = runs_from_objects("local", "b", "", listing)
    assert result.runs == [] and result.loose == len(keys)
    with pytest.raises(NoRunsFound):
        require_runs(result)


def test_outputs_with_an_object_of_unknown_time_stay_loose():
    files, times = store()
    listing = [
        Entry(e.key, "object", size=e.size, last_modified=None)
        if e.key.startswith(prefixes_of("A")[0])
        else e
        for e in entries(files, times)
    ]
    result = runs_from_objects("local", "b", ROOT, listing)
    assert len(result.runs) == 3
    assert all(prefixes_of("A")[0] not in run.prefixes for run in result.runs)
    assert result.loose == 5 + 3  # as before, plus load_data's three files of run A


def test_a_mixed_location_offers_zenml_only_what_the_other_layouts_left():
    files, times = store("pipelines/")
    files |= hf_checkpoint("hf/bert/", 100) | hf_checkpoint("hf/bert/", 200)
    files["README.md"] = b"#"
    result = runs_from_objects("local", "b", "", entries(files, times))
    assert sorted(run.layout for run in result.runs) == ["hf-trainer"] * 2 + ["zenml"] * 3
    assert result.layout == "zenml"
    assert layout_title(result) in ("ZenML + Hugging Face Trainer", "Hugging Face Trainer + ZenML")
    assert result.loose == 5 + 1
    assert "checkpoint-<step> folders" in result.evidence and "ZenML steps" in result.evidence


def test_detect_runs_on_a_folder(tmp_path):
    files, times = store()
    write_folder(tmp_path / "bucket", files, times)
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "")
    assert result.warnings == []
    assert [run.id for run in result.runs] == [step_run(r, "load_data") for r in "CBA"]
    run = result.runs[0]
    assert run.metrics == {} and run.status is None
    assert run.params == {"steps": "load_data, trainer, evaluator"}
    assert run.objects == 6 and run.start == STARTS["C"] + timedelta(minutes=1)
    assert result.loose == 5


def test_outputs_written_at_the_same_time_stay_one_run():
    # A store copied with `aws s3 sync` (or concurrent runs): nothing tells the runs apart,
    # so they stay together rather than be cut into halves of runs.
    files, _ = store()
    found = ZENML.find(ROOT, entries(files))
    assert found is not None
    (run,) = found.runs
    assert len(run.prefixes) == 12
    assert run.params == {"steps": "evaluator, load_data, trainer"}  # by key at equal times


def test_detect_runs_on_a_moto_bucket(s3_endpoint, bucket_name):
    files, _ = store()
    seed_keys(bucket_name, files)  # all written within a second: one inferred run
    driver = S3Driver(client=s3_client(s3_endpoint))
    result = detect_runs(driver, bucket_name, ROOT)
    (run,) = result.runs
    assert len(run.prefixes) == 12 and run.objects == 18
    assert run.experiment == "zenml-store"
    assert result.loose == 5 and result.warnings == []
