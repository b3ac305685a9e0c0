"""`pail ls` against real stores: moto over HTTP, the GCS emulator, a temporary folder."""

from __future__ import annotations

import json
import os
import re

import pytest

from pail.cli.output import listing
from pail.core.connection import ConnectionSpec
from pail.core.uri import parse_uri
from pail.drivers.registry import open_driver
from support.cli import run, s3_args
from support.servers import gcs_client, seed_keys

ROW = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +(\d+) (.+)$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def seeded(s3_endpoint: str, bucket_name: str) -> tuple[str, str]:
    """``(endpoint, bucket)`` with ``runs/a/x.json``, ``runs/b.txt`` and ``top.txt``."""
    seed_keys(
        bucket_name, {"runs/a/x.json": b'{"a": 1}', "runs/b.txt": b"hello", "top.txt": b"top"}
    )
    return s3_endpoint, bucket_name


def test_ls_prints_one_level_with_prefixes_and_objects(seeded):
    endpoint, bucket = seeded
    result = run(["ls", *s3_args(endpoint), f"s3://{bucket}/"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PRE", "runs/"]
    match = ROW.match(lines[1])
    assert match and match.group(2) == "3" and match.group(3) == "top.txt"
    assert len(lines) == 2


def test_ls_nested_prefix_shows_names_relative_to_the_level(seeded):
    endpoint, bucket = seeded
    result = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PRE", "a/"]
    assert ROW.match(lines[1]).group(2, 3) == ("5", "b.txt")


def test_ls_json_has_every_field(seeded):
    endpoint, bucket = seeded
    result = run(["ls", "--json", *s3_args(endpoint), f"s3://{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    prefix, obj = rows
    assert prefix["type"] == "prefix" and prefix["key"] == "runs/a/"
    assert prefix["size"] is None and prefix["uri"] == f"s3://{bucket}/runs/a/"
    assert obj["type"] == "object" and obj["key"] == "runs/b.txt"
    assert obj["uri"] == f"s3://{bucket}/runs/b.txt"
    assert obj["size"] == 5
    assert ISO.match(obj["last_modified"])
    assert obj["etag"] == "5d41402abc4b2a76b9719d911017c592"  # MD5 of "hello", unquoted
    assert obj["storage_class"] == "STANDARD"


def test_ls_recursive_lists_every_key_with_full_names(seeded):
    endpoint, bucket = seeded
    result = run(["ls", "-r", *s3_args(endpoint), f"s3://{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    names = [ROW.match(line).group(3) for line in result.stdout.splitlines()]
    assert names == ["runs/a/x.json", "runs/b.txt"]


def test_ls_human_sizes(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {"big.bin": b"\0" * 1536, "small": b"ab"})
    result = run(["ls", "-h", *s3_args(s3_endpoint), f"s3://{bucket_name}/"])
    assert result.exit_code == 0, result.stderr
    assert "1.5 KiB big.bin" in result.stdout
    assert "2 B small" in result.stdout


def test_ls_uri_without_slash_lists_the_folder_or_the_object(seeded):
    endpoint, bucket = seeded
    folder = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runs"])
    assert folder.exit_code == 0, folder.stderr
    assert [line.split()[-1] for line in folder.stdout.splitlines()] == ["a/", "b.txt"]
    one = run(["ls", "--json", *s3_args(endpoint), f"s3://{bucket}/runs/b.txt"])
    assert one.exit_code == 0, one.stderr
    (row,) = [json.loads(line) for line in one.stdout.splitlines()]
    assert row["key"] == "runs/b.txt" and row["size"] == 5


def test_ls_pages_beyond_1000_keys_one_batch_per_page(s3_endpoint, bucket_name):
    keys = [f"shards/shard-{i:05d}.bin" for i in range(2_345)]
    seed_keys(bucket_name, keys)
    result = run(["ls", "--json", *s3_args(s3_endpoint), f"s3://{bucket_name}/shards/"])
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["key"] for line in result.stdout.splitlines()] == keys
    # What `pail ls` prints, batch by batch: at most one ListObjectsV2 page each, the
    # first one short so that the first rows come sooner (after two pages the rest is
    # listed in key ranges at once, so later batches end at the ranges' ends).
    spec = ConnectionSpec(
        name="t", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    batches = listing(open_driver(spec), parse_uri(f"s3://{bucket_name}/shards/"), delimiter="/")
    sizes = [len(b) for b in batches]
    assert sizes[:2] == [100, 1000] and sum(sizes) == 2_345 and max(sizes) == 1000


def test_connection_flags_work_before_and_after_the_subcommand(seeded):
    endpoint, bucket = seeded
    after = run(["ls", "--endpoint-url", endpoint, "--path-style", f"s3://{bucket}/"])
    before = run(["--endpoint-url", endpoint, "--path-style", "ls", f"s3://{bucket}/"])
    after_uri = run(["ls", f"s3://{bucket}/", "--path-style", "--endpoint-url", endpoint])
    assert after.exit_code == before.exit_code == after_uri.exit_code == 0, before.stderr
    assert after.stdout == before.stdout == after_uri.stdout
    assert "top.txt" in after.stdout


def test_subcommand_flag_wins_over_the_group_flag(seeded, free_endpoint):
    endpoint, bucket = seeded
    result = run(
        ["--endpoint-url", free_endpoint, "ls", "--endpoint-url", endpoint, f"s3://{bucket}/"]
    )
    assert result.exit_code == 0, result.stderr
    assert "top.txt" in result.stdout


@pytest.fixture
def free_endpoint() -> str:
    from support.servers import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    "variables",
    [
        {"AWS_ENDPOINT_URL": "{e}"},
        {"S3_ENDPOINT_URL": "{e}"},  # Llama Stack
        {"S3_ENDPOINT": "{e}"},  # modelkit
        {"FML_S3_ENDPOINT_URI": "{e}", "FML_S3_USE_PATH_STYLE": "true"},  # FastTrackML
    ],
    ids=["AWS_ENDPOINT_URL", "S3_ENDPOINT_URL", "S3_ENDPOINT", "FML_S3_ENDPOINT_URI"],
)
def test_ls_takes_the_endpoint_from_the_tools_environment(seeded, variables):
    endpoint, bucket = seeded
    env = {k: v.format(e=endpoint) for k, v in variables.items()}
    result = run(["ls", f"s3://{bucket}/"], env=env)
    assert result.exit_code == 0, result.stderr
    assert "top.txt" in result.stdout


def test_ls_bare_scheme_lists_buckets(seeded):
    endpoint, bucket = seeded
    seed_keys("pail-second-bucket", ["k"])
    text = run(["ls", *s3_args(endpoint), "s3://"])
    assert text.exit_code == 0, text.stderr
    assert f"{bucket}/" in text.stdout.split() and "pail-second-bucket/" in text.stdout.split()
    rows = [
        json.loads(x)
        for x in run(["ls", "--json", *s3_args(endpoint), "s3://"]).stdout.split("\n")
        if x
    ]
    mine = next(r for r in rows if r["bucket"] == bucket)
    assert mine["type"] == "bucket" and mine["uri"] == f"s3://{bucket}/"
    assert ISO.match(mine["created"])


HOSTILE = "evil\x1b[31mred\x07\u202egnp.exe [bold red]x"


def test_hostile_key_is_neutralised_in_text_and_exact_in_json(s3_endpoint, bucket_name):
    seed_keys(bucket_name, {HOSTILE: b"boo"})
    text = run(["ls", *s3_args(s3_endpoint), f"s3://{bucket_name}/"])
    assert text.exit_code == 0, text.stderr
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout and "\u202e" not in text.stdout
    assert text.stdout.rstrip("\n").endswith(" evil\\x1b[31mred\\x07\\u202egnp.exe [bold red]x")
    raw = run(["ls", "--json", *s3_args(s3_endpoint), f"s3://{bucket_name}/"])
    assert "\x1b" not in raw.stdout and "\\u001b" in raw.stdout
    assert json.loads(raw.stdout)["key"] == HOSTILE


def test_ls_local_folder(tmp_path):
    (tmp_path / "runs" / "r1").mkdir(parents=True)
    (tmp_path / "runs" / "r1" / "params.json").write_bytes(b"{}")
    (tmp_path / "runs" / "notes.txt").write_bytes(b"12345678")
    result = run(["ls", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.stderr
    lines = sorted(result.stdout.splitlines())  # prefixes (blank time column) sort first
    assert lines[0].split() == ["PRE", "r1/"]
    assert ROW.match(lines[1]).group(2, 3) == ("8", "notes.txt")
    rows = [
        json.loads(x)
        for x in run(["ls", "-r", "--json", f"file://{tmp_path}/runs"]).stdout.splitlines()
    ]
    assert [r["key"] for r in rows] == ["notes.txt", "r1/params.json"]
    assert rows[1]["uri"] == f"file://{tmp_path}/runs/r1/params.json"


def test_ls_gcs_bucket(gcs_emulator, bucket_name):
    bucket = gcs_client(gcs_emulator).create_bucket(bucket_name)
    bucket.blob("runs/r1/metrics.json").upload_from_string(b'{"loss": 0.1}')
    bucket.blob("runs/README.md").upload_from_string(b"# runs\n")
    result = run(["ls", f"gs://{bucket_name}/runs/"])
    assert result.exit_code == 0, result.stderr
    lines = sorted(result.stdout.splitlines())  # prefixes (blank time column) sort first
    assert lines[0].split() == ["PRE", "r1/"]
    assert ROW.match(lines[1]).group(2, 3) == ("7", "README.md")
    rows = [
        json.loads(x)
        for x in run(["ls", "-r", "--json", f"gs://{bucket_name}/"]).stdout.splitlines()
    ]
    assert [r["uri"] for r in rows] == [
        f"gs://{bucket_name}/runs/README.md",
        f"gs://{bucket_name}/runs/r1/metrics.json",
    ]


def test_undecodable_local_file_name_shows_its_bytes(tmp_path):
    with open(os.path.join(os.fsencode(tmp_path), b"bad\xff\x9bname.txt"), "wb") as fh:
        fh.write(b"x")
    result = run(["ls", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip("\n").endswith(" bad\\xff\\x9bname.txt")
    (row,) = [json.loads(x) for x in run(["ls", "--json", str(tmp_path)]).stdout.splitlines()]
    assert os.fsencode(row["key"]) == b"bad\xff\x9bname.txt"


def test_ls_gs_scheme_lists_buckets(gcs_emulator, bucket_name):
    gcs_client(gcs_emulator).create_bucket(bucket_name)
    result = run(["ls", "--json", "gs://"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert {"uri": f"gs://{bucket_name}/", "type": "bucket"}.items() <= next(
        r for r in rows if r["bucket"] == bucket_name
    ).items()
