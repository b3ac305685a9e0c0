"""`pail ls` on what a URI names, against moto over HTTP (and the GCS emulator): an object
and a prefix of the same name, a prefix with no key ("no such prefix"), an object URI
that names nothing (exit 3), an empty bucket (silent); and the list version, from the
flag, the config file, and the fallback when a server's ListObjectsV2 paging is broken
(moto behind the fault proxy)."""

from __future__ import annotations

import json
import os

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import iter_pages
from pail.drivers.registry import open_driver
from pail.drivers.s3.driver import V1_TOKEN
from support.cli import run, s3_args
from support.fault_proxy import Rule
from support.seaweed import S3_SERVERS, s3_endpoint_for, seed
from support.servers import gcs_client, seed_keys


@pytest.fixture
def both(s3_endpoint: str, bucket_name: str) -> tuple[str, str]:
    """``runs/run-1`` (an object) beside ``runs/run-1/...`` (a prefix), and ``runs/run-10``."""
    seed_keys(
        bucket_name,
        {
            "runs/run-1": b"object",
            "runs/run-1/params.json": b"{}",
            "runs/run-1/ckpt/model.bin": b"weights",
            "runs/run-10": b"sibling",
        },
    )
    return s3_endpoint, bucket_name


def test_an_object_and_a_prefix_of_the_same_name_are_both_shown(both):
    endpoint, bucket = both
    result = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0][-2:] == ["6", "run-1"] and rows[1] == ["PRE", "run-1/"]
    assert len(rows) == 2  # not the sibling run-10
    data = run(["ls", "--json", *s3_args(endpoint), f"s3://{bucket}/runs/run-1"])
    assert [(r["key"], r["type"]) for r in map(json.loads, data.stdout.splitlines())] == [
        ("runs/run-1", "object"),
        ("runs/run-1/", "prefix"),
    ]
    deep = run(["ls", "-r", *s3_args(endpoint), f"s3://{bucket}/runs/run-1"])
    assert [line.split()[-1] for line in deep.stdout.splitlines()] == [
        "runs/run-1",
        "runs/run-1/ckpt/model.bin",
        "runs/run-1/params.json",
    ]
    # With the trailing slash the prefix's level, as before.
    level = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runs/run-1/"])
    assert [line.split()[-1] for line in level.stdout.splitlines()] == ["ckpt/", "params.json"]


def test_a_prefix_with_no_key_says_so_on_stderr_and_exits_0(both):
    endpoint, bucket = both
    result = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runz/"])
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.strip() == f"pail: no such prefix: s3://{bucket}/runz/"
    recursive = run(["ls", "-r", "--json", *s3_args(endpoint), f"s3://{bucket}/runz/"])
    assert recursive.exit_code == 0 and recursive.stdout == ""
    assert "no such prefix" in recursive.stderr


def test_an_object_uri_that_names_nothing_exits_3(both):
    endpoint, bucket = both
    result = run(["ls", *s3_args(endpoint), f"s3://{bucket}/runs/run-2"])
    assert result.exit_code == 3 and result.stdout == ""
    assert "no such object or prefix" in result.stderr
    assert "Traceback" not in result.stderr
    no_bucket = run(["ls", *s3_args(endpoint), f"s3://{bucket}-gone/runs/run-2"])
    assert no_bucket.exit_code == 3 and "NoSuchBucket" in no_bucket.stderr


def test_an_empty_bucket_is_silent(s3_endpoint, bucket_name):
    seed_keys(bucket_name, [])
    result = run(["ls", *s3_args(s3_endpoint), f"s3://{bucket_name}/"])
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_no_such_prefix_on_gcs(gcs_emulator, bucket_name):
    bucket = gcs_client(gcs_emulator).create_bucket(bucket_name)
    bucket.blob("runs/a.txt").upload_from_string(b"a")
    result = run(["ls", f"gs://{bucket_name}/rnus/"])
    assert result.exit_code == 0 and result.stdout == ""
    assert f"no such prefix: gs://{bucket_name}/rnus/" in result.stderr
    missing = run(["ls", f"gs://{bucket_name}/runs/b.txt"])
    assert missing.exit_code == 3


# -- the list version -----------------------------------------------------------------------


def _v1_requests(faults, bucket: str) -> int:
    return sum(
        1
        for r in faults.requests
        if r.method == "GET" and r.path == f"/{bucket}" and "list-type" not in r.query
    )


def test_list_version_flag_and_config_key(s3_endpoint, bucket_name, faults):
    keys = [f"shards/s-{i:05d}" for i in range(1_001)]
    seed_keys(bucket_name, keys)
    flagged = run(["ls", "--list-version", "1", *s3_args(faults.url), f"s3://{bucket_name}/"])
    assert flagged.exit_code == 0, flagged.stderr
    assert flagged.stdout.split() == ["PRE", "shards/"]
    assert _v1_requests(faults, bucket_name) == 1
    with open(os.environ["PAIL_CONFIG"], "w") as fh:
        fh.write(
            f'[connections.weed]\nprovider = "s3"\nendpoint_url = "{faults.url}"\n'
            'region = "us-east-1"\npath_style = true\nlist_version = 1\n'
        )
    saved = run(["ls", "--json", f"weed:{bucket_name}/shards/"])
    assert saved.exit_code == 0, saved.stderr
    assert [json.loads(line)["key"] for line in saved.stdout.splitlines()] == keys
    assert _v1_requests(faults, bucket_name) == 1 + 2  # 1,001 keys: two V1 pages
    bad = run(["ls", "--list-version", "3", "s3://b/"])
    assert bad.exit_code == 2


def test_broken_v2_paging_is_listed_with_v1_and_the_setting_named(s3_endpoint, bucket_name, faults):
    keys = [f"k{i:05d}" for i in range(1_003)]
    seed_keys(bucket_name, keys)
    faults.add(
        Rule(
            method="GET",
            query="list-type=2",
            times=None,
            action="rewrite",
            pattern=rb"<NextContinuationToken>[^<]*</NextContinuationToken>",
        )
    )
    result = run(["ls", "--verbose", *s3_args(faults.url), f"s3://{bucket_name}/"])
    assert result.exit_code == 0, result.stderr
    assert [line.split()[-1] for line in result.stdout.splitlines()] == keys
    assert "pail: note:" in result.stderr and "NextContinuationToken" in result.stderr
    assert "list_version = 1" in result.stderr
    # --verbose: what the store supports and where each came from.
    assert "list_version = 1 (remembered: ListObjectsV2" in result.stderr
    assert "flavour = moto (Server header" in result.stderr


# -- the same on both S3 servers (moto and SeaweedFS) ----------------------------------------


@pytest.fixture(params=S3_SERVERS)
def server(request) -> str:
    """The endpoint of each S3 server in turn (moto reset; SeaweedFS as it is)."""
    return s3_endpoint_for(request, request.param)


def test_names_and_list_version_1_on_each_server(server, bucket_name):
    keys = [f"runs/run-1/s-{i:04d}" for i in range(5)]
    seed(server, bucket_name, {"runs/run-1": b"object", **{k: b"x" for k in keys}})
    both = run(["ls", *s3_args(server), f"s3://{bucket_name}/runs/run-1"])
    assert both.exit_code == 0, both.stderr
    assert [line.split()[-1] for line in both.stdout.splitlines()] == ["run-1", "run-1/"]
    deep = run(["ls", "-r", "--list-version", "1", *s3_args(server), f"s3://{bucket_name}/runs/"])
    assert deep.exit_code == 0, deep.stderr
    assert [line.split()[-1] for line in deep.stdout.splitlines()] == ["runs/run-1", *keys]
    missing = run(["ls", *s3_args(server), f"s3://{bucket_name}/runs/run-2/"])
    assert missing.exit_code == 0 and "no such prefix" in missing.stderr
    assert run(["ls", *s3_args(server), f"s3://{bucket_name}/runs/run-2"]).exit_code == 3
    # ListObjects V1 paging by Marker on this server: NextMarker with a delimiter, the last
    # key without one (two-key pages stand in for 1,000-key ones, which moto's test covers).
    spec = ConnectionSpec(
        name="v1",
        provider="s3",
        endpoint_url=server,
        region="us-east-1",
        path_style=True,
        quirks={"list_version": 1},
    )
    driver = open_driver(spec)
    for delimiter in ("/", ""):
        pages = list(
            iter_pages(driver, bucket_name, "runs/run-1/", delimiter=delimiter, page_size=2)
        )
        assert [len(p.entries) for p in pages] == [2, 2, 1]
        assert [e.key for p in pages for e in p.entries] == keys
        assert pages[0].next_token.startswith(V1_TOKEN)  # a Marker, not a V2 token
