"""``pail du`` against moto over HTTP (seeded in-process) and a folder."""

from __future__ import annotations

import json

import pytest

from support.cli import run, s3_args
from support.servers import seed_keys
from support.stores import seed_aged


def _seed(bucket):
    seed_aged(
        bucket,
        {
            "runs/small/a": (10, 3),
            "runs/big/a": (5000, 20),
            "runs/big/b/c": (5000, 10),
            "runs/many/1": (1, 1),
            "runs/many/2": (1, 1),
            "runs/many/3": (1, 2),
            "runs/readme.md": (3, 30),
            "runs-2/x": (7, 1),
        },
    )


def test_table_sorted_by_size_with_totals(s3_endpoint, bucket_name):
    _seed(bucket_name)
    result = run(["du", *s3_args(s3_endpoint), f"s3://{bucket_name}/runs"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["OBJECTS", "SIZE", "NEWEST", "PREFIX"]
    names = [line.split()[-1] for line in lines[1:4]]
    assert names == ["big/", "small/", "many/"]
    assert "(objects directly here)" in lines[4]
    total = lines[5]
    assert total.split()[:2] == ["7", "10016"]  # exact bytes, as `pail ls`
    assert f"total s3://{bucket_name}/runs/" in total
    assert "oldest" in lines[6]


@pytest.mark.parametrize("flag", ["-h", "--human-readable", "--human"])
def test_human_readable_sizes_like_ls(s3_endpoint, bucket_name, flag):
    _seed(bucket_name)
    result = run(["du", flag, *s3_args(s3_endpoint), f"s3://{bucket_name}/runs"])
    assert result.exit_code == 0, result.stderr
    total = result.stdout.splitlines()[5]
    assert total.split()[:3] == ["7", "9.8", "KiB"]
    ls = run(["ls", flag, *s3_args(s3_endpoint), f"s3://{bucket_name}/runs/big/"])
    assert ls.exit_code == 0 and "KiB" in ls.stdout, ls.stderr


def test_help_shows_one_spelling_of_the_human_flag():
    for command in ("ls", "du", "versions", "get"):
        text = run([command, "--help"]).stdout
        assert "-h, --human-readable" in text, command
        assert "--human " not in text and "--human\n" not in text, command


def test_sort_by_count_and_newest(s3_endpoint, bucket_name):
    _seed(bucket_name)
    by_count = run(["du", *s3_args(s3_endpoint), "--sort", "count", f"s3://{bucket_name}/runs/"])
    assert [ln.split()[-1] for ln in by_count.stdout.splitlines()[1:4]] == [
        "many/",
        "big/",
        "small/",
    ]
    by_new = run(["du", *s3_args(s3_endpoint), "--sort", "newest", f"s3://{bucket_name}/runs/"])
    assert [ln.split()[-1] for ln in by_new.stdout.splitlines()[1:4]] == [
        "many/",
        "small/",
        "big/",
    ]


def test_json_is_exact(s3_endpoint, bucket_name):
    _seed(bucket_name)
    result = run(["du", *s3_args(s3_endpoint), "--json", f"s3://{bucket_name}/runs/"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["objects"], doc["bytes"], doc["complete"]) == (7, 10016, True)
    assert doc["uri"] == f"s3://{bucket_name}/runs/"
    assert doc["oldest"] == "2026-05-02T12:00:00Z"
    assert doc["direct"]["objects"] == 1
    big = doc["children"][0]
    assert big["prefix"] == "runs/big/" and big["bytes"] == 10000 and big["objects"] == 2
    assert big["newest"] == "2026-05-22T12:00:00Z"


def test_whole_bucket_and_missing_bucket(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["a/1", "b/1", "b/2"])
    result = run(["du", *s3_args(s3_endpoint), "--json", f"s3://{bucket_name}"])
    doc = json.loads(result.stdout)
    assert doc["objects"] == 3 and [c["prefix"] for c in doc["children"]] == ["b/", "a/"]
    missing = run(["du", *s3_args(s3_endpoint), "s3://no-such-bucket-du"])
    assert missing.exit_code == 3
    assert "NoSuchBucket" in missing.stderr and "Traceback" not in missing.stderr


def test_local_folder(tmp_path):
    for key in ("r/a/1", "r/a/2", "r/b/1"):
        path = tmp_path / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"abcd")
    result = run(["du", "--json", str(tmp_path / "r")])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["bytes"] == 12 and {c["prefix"]: c["objects"] for c in doc["children"]} == {
        "a/": 2,
        "b/": 1,
    }
