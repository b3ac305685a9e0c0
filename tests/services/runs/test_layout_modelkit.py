"""The modelkit layout: asset versions ``<prefix>/<name>/<version>`` (one object or a
folder) with ``<version>.meta`` and ``<name>.versions``, as modelkit's StorageProvider
writes them (tests/support/run_layouts.py), recognised from a listing and read from a
real folder and a moto bucket."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.runs.detect import detect_runs, require_runs, runs_from_objects
from pail.services.runs.layouts.modelkit import MODELKIT
from pail.services.runs.model import NoRunsFound
from support.run_layouts import T0, entries, modelkit_asset, modelkit_meta, write_folder
from support.servers import s3_client, seed_keys

PREFIX = "modelkit-assets"
DAY = timedelta(days=1)


def storage(prefix: str = PREFIX) -> dict[str, bytes]:
    """Three assets: a classifier with two file versions and a folder version, embeddings
    whose versions 0.1 and 0.10 share a key prefix, and a date-versioned ranker."""
    files = modelkit_asset(
        prefix,
        "sentiment/classifier",
        {
            "0.0": b"weights-0",
            "0.1": b"weights-1",
            "1.0": {"model.onnx": b"onnx" * 8, "vocab/tokens.txt": b"a\nb\n"},
        },
        {"0.0": T0, "0.1": T0 + DAY, "1.0": T0 + 2 * DAY},
    )
    files |= modelkit_asset(
        prefix,
        "embeddings",
        {"0.1": b"e" * 10, "0.10": b"e" * 100},
        {"0.1": T0, "0.10": T0 + 3 * DAY},
    )
    ranker = f"{prefix}/ranker/2024-06-20T10-11-12Z"
    files[ranker] = b"r"
    files[ranker + ".meta"] = modelkit_meta(T0 - DAY)
    files[f"{prefix}/ranker.versions"] = json.dumps({"versions": ["2024-06-20T10-11-12Z"]}).encode()
    return files


def test_meta_and_versions_are_written_as_modelkit_writes_them():
    files = modelkit_asset(
        "p", "a", {"0.0": b"x", "0.1": {"b/c.txt": b"y"}}, {"0.0": T0, "0.1": T0}
    )
    assert (
        files["p/a/0.0.meta"]
        == b'{"push_date": "2026-05-04T09:00:00+00:00", "is_directory": false}'
    )
    assert files["p/a/0.1.meta"] == (
        b'{"push_date": "2026-05-04T09:00:00+00:00", "is_directory": true, "contents": ["b/c.txt"]}'
    )
    assert files["p/a.versions"] == b'{"versions": ["0.1", "0.0"]}'


def test_each_version_is_a_run_owning_its_object_and_meta():
    found = MODELKIT.find(PREFIX + "/", entries(storage()))
    assert found is not None
    by_id = {run.id: run for run in found.runs}
    assert sorted(by_id) == [
        "embeddings/0.1",
        "embeddings/0.10",
        "ranker/2024-06-20T10-11-12Z",
        "sentiment/classifier/0.0",
        "sentiment/classifier/0.1",
        "sentiment/classifier/1.0",
    ]
    small = by_id["embeddings/0.1"]
    assert small.name == "embeddings 0.1" and small.experiment == "embeddings"
    assert small.prefixes == ()
    assert small.keys == (f"{PREFIX}/embeddings/0.1", f"{PREFIX}/embeddings/0.1.meta")
    assert small.groups == {
        "data": f"{PREFIX}/embeddings/0.1",
        "meta": f"{PREFIX}/embeddings/0.1.meta",
        "versions": f"{PREFIX}/embeddings.versions",
    }
    assert not small.owns(f"{PREFIX}/embeddings/0.10")
    assert not small.owns(f"{PREFIX}/embeddings/0.10.meta")
    folder = by_id["sentiment/classifier/1.0"]
    assert folder.prefixes == (f"{PREFIX}/sentiment/classifier/1.0/",)
    assert folder.keys == (f"{PREFIX}/sentiment/classifier/1.0.meta",)
    assert folder.groups["data"] == f"{PREFIX}/sentiment/classifier/1.0/"
    assert folder.experiment == "sentiment/classifier"
    assert found.evidence == (
        "6 versions of 3 modelkit assets (embeddings, ranker, sentiment/classifier), "
        "each with its <version>.meta"
    )


def test_runs_from_objects_counts_exact_keys_and_leaves_the_versions_files_loose():
    files = storage("team/" + PREFIX)
    result = runs_from_objects("local", "b", "team/", entries(files))
    assert result.layout == "modelkit"
    by_id = {run.id: run for run in result.runs}
    assert "modelkit-assets/embeddings/0.1" in by_id  # the path below the location
    small = by_id["modelkit-assets/embeddings/0.1"]
    assert (small.objects, small.bytes) == (
        2,
        10 + len(files[f"team/{PREFIX}/embeddings/0.1.meta"]),
    )
    assert by_id["modelkit-assets/embeddings/0.10"].objects == 2
    assert by_id["modelkit-assets/sentiment/classifier/1.0"].objects == 3
    assert result.loose == 3  # the three .versions objects


def test_the_asset_folder_as_the_location_finds_versions_without_the_versions_file():
    base = f"{PREFIX}/sentiment/classifier/"
    files = {k: v for k, v in storage().items() if k.startswith(base)}
    found = MODELKIT.find(base, entries(files))
    assert found is not None
    assert [run.id for run in found.runs] == ["classifier/0.0", "classifier/0.1", "classifier/1.0"]
    assert all("versions" not in run.groups for run in found.runs)
    assert (
        found.evidence
        == "3 versions of 1 modelkit asset (classifier), each with its <version>.meta"
    )


@pytest.mark.parametrize(
    ("base", "keys"),
    [
        ("", ["runs/run-1/model.pt", "runs/run-1/model.meta", "data/train.csv"]),
        # a .meta beside its data, but no .versions object: not provably modelkit's
        ("", ["assets/model/0.1", "assets/model/0.1.meta"]),
        # the folder as the location, names that are no modelkit version
        ("assets/model/", ["assets/model/latest", "assets/model/latest.meta"]),
        ("assets/model/", ["assets/model/v1.meta", "assets/model/a b.meta"]),
        # versions at the bucket's root (an asset always has a name)
        ("", ["0.1", "0.1.meta"]),
        # data without its .meta: an unfinished push
        ("p/", ["p/a.versions", "p/a/0.1", "p/a/0.2/part"]),
    ],
)
def test_ordinary_folders_are_not_runs(base, keys):
    listing = entries(dict.fromkeys(keys, b"{}"))
    assert MODELKIT.find(base, listing) is None
    result = runs_from_objects("local", "b", base, listing)
    assert result.runs == [] and result.loose == len(keys)
    with pytest.raises(NoRunsFound):
        require_runs(result)


def test_a_mixed_location_claims_only_the_versions():
    files = storage() | {"datasets/train.csv": b"x", "runs/run-1/model.pt": b"y"}
    result = runs_from_objects("local", "b", "", entries(files))
    assert len(result.runs) == 6
    assert {run.layout for run in result.runs} == {"modelkit"}
    assert result.loose == 3 + 2


def test_detect_runs_on_a_folder_reads_the_meta(tmp_path):
    write_folder(tmp_path / "bucket", storage(), {"": T0 + 10 * DAY})
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", PREFIX + "/")
    assert result.warnings == []
    # newest push first
    assert [run.id for run in result.runs][:2] == ["embeddings/0.10", "sentiment/classifier/1.0"]
    by_id = {run.id: run for run in result.runs}
    folder = by_id["sentiment/classifier/1.0"]
    assert folder.params == {
        "push_date": "2026-05-06T09:00:00+00:00",
        "is_directory": "True",
        "files": "2",
    }
    assert folder.start == T0 + 2 * DAY  # push_date, not the object times
    assert folder.end == T0 + 10 * DAY
    assert folder.sources == [".meta"]
    assert by_id["embeddings/0.1"].params == {
        "push_date": "2026-05-04T09:00:00+00:00",
        "is_directory": "False",
    }
    assert all(run.metrics == {} and run.status is None for run in result.runs)


def test_an_unreadable_meta_is_a_warning(tmp_path):
    files = storage()
    files[f"{PREFIX}/embeddings/0.1.meta"] = b'{"push_date": '
    files[f"{PREFIX}/embeddings/0.10.meta"] = b'{"push_date": "last tuesday"}'
    write_folder(tmp_path / "bucket", files, {"": T0 + 10 * DAY})
    result = detect_runs(LocalDriver(str(tmp_path)), "bucket", "")
    assert len(result.runs) == 6
    bad_date, bad_json = sorted(result.warnings)  # "0.10:" sorts before "0.1:"
    assert bad_json.startswith("modelkit-assets/embeddings/0.1: .meta is not valid JSON (")
    assert bad_date == "modelkit-assets/embeddings/0.10: .meta: push_date is not an ISO 8601 time"
    by_id = {run.id: run for run in result.runs}
    assert by_id["modelkit-assets/embeddings/0.10"].start == T0 + 10 * DAY  # object time kept


def test_detect_runs_on_a_moto_bucket(s3_endpoint, bucket_name):
    seed_keys(bucket_name, storage())
    driver = S3Driver(client=s3_client(s3_endpoint))
    result = detect_runs(driver, bucket_name, PREFIX + "/")
    assert len(result.runs) == 6
    assert result.runs[0].id == "embeddings/0.10"  # pushed last
    assert result.loose == 3 and result.warnings == []
