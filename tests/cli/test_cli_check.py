"""``pail check`` against moto over HTTP (seeded in-process) and local folders."""

from __future__ import annotations

import json
from pathlib import Path

from support.cli import run, s3_args
from support.servers import seed_keys


def folder(root: Path, tree: dict[str, bytes]) -> str:
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


A = {
    "same.txt": b"hello\n",
    "d/x.bin": b"\x00" * 100,
    "a-only": b"a",
    "size": b"123",
    "bytes": b"ab",
}
B = {
    "same.txt": b"hello\n",
    "d/x.bin": b"\x00" * 100,
    "b-only": b"bb",
    "size": b"1234",
    "bytes": b"ac",
}


def test_differences_summary_and_exit_1(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {f"p/{k}": v for k, v in B.items()})
    local = folder(tmp_path / "a", A)
    result = run(["check", *s3_args(s3_endpoint), local, f"s3://{bucket_name}/p/"])
    assert result.exit_code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "only in A: a-only (1)",
        "only in B: b-only (2)",
        "differs: bytes (checksum md5 differs)",
        "differs: size (size 3 vs 4)",
    ]
    assert lines[4] == "2 identical (md5 2); 2 differ; 1 only in A; 1 only in B"
    assert len(lines) == 5


def test_everything_identical_exit_0_and_one_way(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {"p/same.txt": b"hello\n", "p/extra": b"x"})
    local = folder(tmp_path / "a", {"same.txt": b"hello\n"})
    result = run(["check", *s3_args(s3_endpoint), "--one-way", local, f"s3://{bucket_name}/p/"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "1 identical (md5 1)\n"
    both = run(["check", *s3_args(s3_endpoint), local, f"s3://{bucket_name}/p/"])
    assert both.exit_code == 1 and both.stdout.startswith("only in B: extra (1)\n")


def test_json(s3_endpoint, bucket_name, tmp_path):
    seed_keys(bucket_name, {f"p/{k}": v for k, v in B.items()})
    local = folder(tmp_path / "a", A)
    result = run(["check", *s3_args(s3_endpoint), "--json", local, f"s3://{bucket_name}/p"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["counts"] == {
        "only_a": 1, "only_b": 1, "differ": 2, "unproven": 0, "identical": 2
    }  # fmt: skip
    assert data["methods"] == {"md5": 2} and data["all_identical"] is False
    assert {d["rel"]: d["outcome"] for d in data["differences"]} == {
        "a-only": "only_a", "b-only": "only_b", "bytes": "differ", "size": "differ"
    }  # fmt: skip


def test_no_checksum_says_unproven(tmp_path):
    a = folder(tmp_path / "a", {"x": b"same", "y": b"1"})
    b = folder(tmp_path / "b", {"x": b"same", "y": b"2"})
    result = run(["check", "--no-checksum", a, b])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "unproven: x (same size, checksums not compared)",
        "unproven: y (same size, checksums not compared)",
        "0 identical; 2 unproven",
        "checksums not compared (--no-checksum): equal sizes are unproven",
    ]
    proved = run(["check", a, b])
    assert proved.exit_code == 1
    assert proved.stdout.splitlines()[-1] == "1 identical (sha256 1); 1 differs"


def test_unprintable_names_never_raw(tmp_path):
    a = folder(tmp_path / "a", {"bad\x1b[31mname": b"x"})
    b = folder(tmp_path / "b", {})
    result = run(["check", a, b])
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and result.stdout.startswith("only in A: bad")


def test_whole_command_failures(s3_endpoint, tmp_path):
    local = folder(tmp_path / "a", {"x": b"1"})
    missing = run(["check", *s3_args(s3_endpoint), local, "s3://no-such-bucket-here/p/"])
    assert missing.exit_code == 3, missing.stderr
    bad = run(["check", local, "s3://"])
    assert bad.exit_code == 2


def test_a_missing_local_folder_is_not_an_empty_one(tmp_path):
    a = folder(tmp_path / "a", {"x": b"1"})
    result = run(["check", a, str(tmp_path / "typo")])
    assert result.exit_code == 3
    assert "no such folder" in result.stderr and result.stdout == ""
