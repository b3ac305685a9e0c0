"""The operation matrix of issue 11 on two S3 implementations: moto's server and SeaweedFS
(``weed server -s3``), both over HTTP on loopback.

Each row is one test parametrized over :data:`support.seaweed.S3_SERVERS`, running the real
``pail`` command line (tests/support/cli.py, in-process) or the real app (Textual's pilot):
ls one level and ``-r`` with exact counts, ``ls --json``, du, get with checksum
verification (single-part and multipart objects), a presigned URL fetched with urllib, rm
with exact prefix boundaries, rm ``--older-than``, versions, restore, lifecycle show and
apply, doctor (an admin, and a read-only identity whose writes are denied), and the app's
expand, load more, preview and detail. Where a server lacks a feature the test skips and
names the limit. No output may hold a traceback.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
import urllib.request
from datetime import datetime, timezone

import pytest

from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.errors import AccessDenied
from pail.drivers.registry import open_driver
from support.cli import run
from support.search import SEARCHED, check_search_finds_every_match_once
from support.seaweed import S3_SERVERS, S3Server, s3_server
from support.ui import (
    SIZE,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    s3_spec,
    select,
    settle,
    tree_of,
    until,
)
from support.ui import run as run_async

#: Keys around a prefix boundary: ``runs/run-1`` must never take ``runs/run-10``.
TREE = {
    "runs/run-1/a.txt": b"a",
    "runs/run-1/b/c.txt": b"bc",
    "runs/run-10/a.txt": b"0123456789",
    "runs/run-1": b"obj",
    "runs/run-1x": b"y",
    "top.txt": b"top",
}
ROW = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) +(\d+) (.+)$")


@pytest.fixture(params=S3_SERVERS)
def server(request: pytest.FixtureRequest) -> S3Server:
    """moto or SeaweedFS (started once per session)."""
    return s3_server(request, request.param)


def pail(args: list[str], env: dict[str, str] | None = None):
    """``pail ARGS`` in-process; no traceback may reach either stream."""
    result = run(args, env=env)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return result


def _spec(endpoint: str, secrets: Secrets | None = None) -> ConnectionSpec:
    """An S3 connection to ``endpoint`` (path-style, us-east-1), as ``pail`` builds it."""
    return ConnectionSpec(
        name="matrix",
        provider="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        path_style=True,
        secrets=secrets,
    )


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# -- ls ----------------------------------------------------------------------------------


def test_ls_one_level_and_recursive_exact_counts(server: S3Server) -> None:
    bucket = server.new_bucket(TREE)
    top = pail(["ls", *server.args, f"s3://{bucket}/"])
    assert top.exit_code == 0, top.stderr
    lines = top.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["PRE", "runs/"]
    assert ROW.match(lines[1]).group(2, 3) == ("3", "top.txt")

    level = pail(["ls", *server.args, f"s3://{bucket}/runs/"])
    assert level.exit_code == 0, level.stderr
    rows = level.stdout.splitlines()
    prefixes = sorted(r.split()[1] for r in rows if r.split()[0] == "PRE")
    objects = sorted(ROW.match(r).group(2, 3) for r in rows if ROW.match(r))
    assert len(rows) == 4
    assert prefixes == ["run-1/", "run-10/"]
    assert objects == [("1", "run-1x"), ("3", "run-1")]

    deep = pail(["ls", "-r", *server.args, f"s3://{bucket}/"])
    assert deep.exit_code == 0, deep.stderr
    listed = [ROW.match(line).group(3) for line in deep.stdout.splitlines()]
    assert listed == sorted(TREE)
    under = pail(["ls", "-r", *server.args, f"s3://{bucket}/runs/run-1/"])
    assert [ROW.match(x).group(3) for x in under.stdout.splitlines()] == [
        "runs/run-1/a.txt",
        "runs/run-1/b/c.txt",
    ]


def test_ls_json(server: S3Server) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["ls", "--json", *server.args, f"s3://{bucket}/runs/run-1/"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    by_key = {r["key"]: r for r in rows}
    assert sorted(by_key) == ["runs/run-1/a.txt", "runs/run-1/b/"]
    obj, prefix = by_key["runs/run-1/a.txt"], by_key["runs/run-1/b/"]
    assert (obj["type"], obj["size"], obj["etag"]) == ("object", 1, _md5(b"a"))
    assert obj["uri"] == f"s3://{bucket}/runs/run-1/a.txt" and obj["bucket"] == bucket
    assert obj["storage_class"] == "STANDARD"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", obj["last_modified"])
    assert (prefix["type"], prefix["size"], prefix["etag"]) == ("prefix", None, None)


# -- du ----------------------------------------------------------------------------------


def test_du(server: S3Server) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["du", "--json", *server.args, f"s3://{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["objects"], doc["bytes"], doc["complete"]) == (5, 17, True)
    assert (doc["direct"]["objects"], doc["direct"]["bytes"]) == (2, 4)
    children = {c["prefix"]: (c["objects"], c["bytes"]) for c in doc["children"]}
    assert children == {"runs/run-1/": (2, 3), "runs/run-10/": (1, 10)}
    table = pail(["du", *server.args, f"s3://{bucket}"])
    assert table.exit_code == 0, table.stderr
    assert f"total s3://{bucket}/" in table.stdout


# -- get, url ----------------------------------------------------------------------------

#: A multipart object: one 5 MiB part (S3's minimum but for the last) and a short last one.
PART = 5 * 1024 * 1024


def _multipart_put(server: S3Server, bucket: str, key: str, parts: list[bytes]) -> None:
    client = server.client
    upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    done = []
    for number, body in enumerate(parts, start=1):
        etag = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body
        )["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
    )


def test_get_with_checksum_single_and_multipart(server: S3Server, tmp_path) -> None:
    single = bytes(range(256)) * 40
    parts = [b"\x01" * PART, b"\x02" * 1000]
    bucket = server.new_bucket({"model/weights.bin": single})
    _multipart_put(server, bucket, "model/big.ckpt", parts)
    dest = tmp_path / "dest"
    result = pail(["get", "-r", *server.args, f"s3://{bucket}/model/", str(dest)])
    assert result.exit_code == 0, result.stderr
    lines = sorted(result.stdout.splitlines())
    assert lines == [
        f"downloaded model/big.ckpt -> {dest.resolve()}/big.ckpt ({PART + 1000} bytes, "
        "multipart-md5)",
        f"downloaded model/weights.bin -> {dest.resolve()}/weights.bin ({len(single)} bytes, md5)",
    ]
    assert (dest / "weights.bin").read_bytes() == single
    data = (dest / "big.ckpt").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(b"".join(parts)).digest()
    assert "2 downloaded" in result.stderr


def test_url_fetched_with_urllib(server: S3Server) -> None:
    body = b'{"loss": 0.25}\n'
    bucket = server.new_bucket({"runs/run-1/metrics.json": body})
    uri = f"s3://{bucket}/runs/run-1/metrics.json"
    result = pail(["url", "--expires", "300", *server.args, uri])
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert url.startswith(server.endpoint + f"/{bucket}/") and "X-Amz-Expires=300" in url
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.read() == body
    missing = pail(["url", *server.args, f"s3://{bucket}/runs/none"])
    assert missing.exit_code == 3 and "HeadObject" in missing.stderr and "404" in missing.stderr


# -- rm ----------------------------------------------------------------------------------


def test_rm_exact_boundaries(server: S3Server) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["rm", *server.args, "-r", "--yes", f"s3://{bucket}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr
    assert server.keys(bucket) == ["runs/run-1", "runs/run-10/a.txt", "runs/run-1x", "top.txt"]
    one = pail(["rm", *server.args, "--yes", f"s3://{bucket}/runs/run-1"])
    assert one.exit_code == 0, one.stderr
    assert server.keys(bucket) == ["runs/run-10/a.txt", "runs/run-1x", "top.txt"]
    missing = pail(["rm", *server.args, "--yes", f"s3://{bucket}/runs/run-1"])
    assert missing.exit_code == 3 and "no such object" in missing.stderr


def test_read_only_identity_is_denied_writes(server: S3Server) -> None:
    target = server.read_only()
    args = ["--endpoint-url", target.endpoint, "--path-style", "--region", "us-east-1"]
    uri = f"s3://{target.bucket}/{target.prefix}"
    listed = pail(["ls", *args, uri], env=target.env)
    assert listed.exit_code == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 2
    result = pail(["rm", *args, "-r", "--yes", uri], env=target.env)
    assert result.exit_code == 1
    assert "deleted 0 objects" in result.stderr
    for name in ("a.txt", "b.json"):
        assert f"failed {target.prefix}{name}: AccessDenied" in result.stderr
    # The same refusal through pail's error model: a 403 AccessDenied, a PermissionError.
    keys = Secrets(target.env["AWS_ACCESS_KEY_ID"], target.env["AWS_SECRET_ACCESS_KEY"])
    driver = open_driver(_spec(target.endpoint, keys))
    for operation in ("PutObject", "DeleteObject"):
        with pytest.raises(AccessDenied) as denied:
            driver.probe(operation, target.bucket, f"{target.prefix}pail-probe")
        err = denied.value
        assert isinstance(err, PermissionError)
        assert (err.status, err.code, err.operation) == (403, "AccessDenied", operation)
        assert err.bucket == target.bucket
    assert driver.read_range(target.bucket, f"{target.prefix}a.txt") == b"hello\n"


def test_error_model_exit_codes(server: S3Server) -> None:
    """Missing bucket and key (exit 3), unknown key id and wrong secret (exit 5): each
    server's answer reaches the user as pail's error, fields and hint, never raw."""
    bucket = server.new_bucket({"present.txt": b"x"})
    missing = pail(["ls", *server.args, "s3://pail-no-such-bucket-matrix/"])
    assert missing.exit_code == 3
    assert "404 NoSuchBucket" in missing.stderr and "  Hint: " in missing.stderr
    absent = pail(["ls", *server.args, f"s3://{bucket}/absent.txt"])
    assert absent.exit_code == 3 and "404" in absent.stderr
    target = server.read_only()  # a server that checks signatures
    args = ["--endpoint-url", target.endpoint, "--path-style", "--region", "us-east-1"]
    uri = f"s3://{target.bucket}/{target.prefix}"
    unknown = {"AWS_ACCESS_KEY_ID": "AKIAPAILUNKNOWN00000", "AWS_SECRET_ACCESS_KEY": "s" * 40}
    result = pail(["ls", *args, uri], env=unknown)
    assert result.exit_code == 5 and "403 InvalidAccessKeyId" in result.stderr
    wrong = {**target.env, "AWS_SECRET_ACCESS_KEY": "pail-wrong-secret-value-0123456789"}
    result = pail(["ls", *args, uri], env=wrong)
    assert result.exit_code == 5 and "403 SignatureDoesNotMatch" in result.stderr
    assert "pail-wrong-secret-value" not in result.stderr + result.stdout


# -- versions, restore --------------------------------------------------------------------


def _versioned(server: S3Server) -> str:
    """A versioned bucket: runs/r1/model.ckpt written twice then deleted, runs/r1/log.txt
    live, runs/r10/x deleted."""
    bucket = server.new_bucket(versioned=True)
    raw = server.client
    raw.put_object(Bucket=bucket, Key="runs/r1/model.ckpt", Body=b"old")
    raw.put_object(Bucket=bucket, Key="runs/r1/model.ckpt", Body=b"newer")
    raw.delete_object(Bucket=bucket, Key="runs/r1/model.ckpt")
    raw.put_object(Bucket=bucket, Key="runs/r1/log.txt", Body=b"log")
    raw.put_object(Bucket=bucket, Key="runs/r10/x", Body=b"x")
    raw.delete_object(Bucket=bucket, Key="runs/r10/x")
    return bucket


def test_versions(server: S3Server) -> None:
    bucket = _versioned(server)
    result = pail(["versions", *server.args, f"s3://{bucket}/runs/r1/model.ckpt"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split()[-1] == "latest,delete-marker"
    assert [lines[1].split()[2], lines[2].split()[2]] == ["5", "3"]
    rows = pail(["versions", "-r", "--json", *server.args, f"s3://{bucket}/runs/r1/"])
    assert rows.exit_code == 0, rows.stderr
    docs = [json.loads(line) for line in rows.stdout.splitlines()]
    assert [(d["key"], d["is_latest"], d["is_delete_marker"], d["size"]) for d in docs] == [
        ("runs/r1/log.txt", True, False, 3),
        ("runs/r1/model.ckpt", True, True, docs[1]["size"]),
        ("runs/r1/model.ckpt", False, False, 5),
        ("runs/r1/model.ckpt", False, False, 3),
    ]
    assert all(d["version_id"] for d in docs)
    assert len({d["version_id"] for d in docs}) == 4


def test_restore(server: S3Server, tmp_path) -> None:
    bucket = _versioned(server)
    dry = pail(["restore", "-r", "--dry-run", *server.args, f"s3://{bucket}/runs/"])
    assert dry.exit_code == 0, dry.stderr
    assert server.keys(bucket) == ["runs/r1/log.txt"]
    result = pail(["restore", "--yes", *server.args, f"s3://{bucket}/runs/r1/model.ckpt"])
    assert result.exit_code == 0, result.stderr
    assert "restored 1" in result.stderr
    assert server.keys(bucket) == ["runs/r1/log.txt", "runs/r1/model.ckpt"]
    got = pail(["get", *server.args, f"s3://{bucket}/runs/r1/model.ckpt", str(tmp_path)])
    assert got.exit_code == 0, got.stderr
    assert (tmp_path / "model.ckpt").read_bytes() == b"newer"
    again = pail(["restore", "-r", "--yes", *server.args, f"s3://{bucket}/runs/"])
    assert again.exit_code == 0, again.stderr
    assert server.keys(bucket) == ["runs/r1/log.txt", "runs/r1/model.ckpt", "runs/r10/x"]


def test_restore_stacked_delete_markers(server: S3Server) -> None:
    """Two versions and three delete markers written within one second (SeaweedFS keeps
    Last-Modified to the second, so their times tie): restore removes every marker above
    the newest version."""
    bucket = server.new_bucket(versioned=True)
    raw = server.client
    raw.put_object(Bucket=bucket, Key="ckpt/model.pt", Body=b"v1")
    raw.put_object(Bucket=bucket, Key="ckpt/model.pt", Body=b"v2")
    for _ in range(3):
        raw.delete_object(Bucket=bucket, Key="ckpt/model.pt")
    result = pail(["restore", "--yes", *server.args, f"s3://{bucket}/ckpt/model.pt"])
    assert result.exit_code == 0, result.stderr
    assert "restored 1" in result.stderr
    assert raw.get_object(Bucket=bucket, Key="ckpt/model.pt")["Body"].read() == b"v2"
    left = raw.list_object_versions(Bucket=bucket, Prefix="ckpt/")
    assert left.get("DeleteMarkers", []) == []
    assert len(left["Versions"]) == 2


# -- lifecycle ---------------------------------------------------------------------------


def test_lifecycle_show_and_apply(server: S3Server) -> None:
    bucket = server.new_bucket()
    empty = pail(["lifecycle", "show", *server.args, f"s3://{bucket}/"])
    assert empty.exit_code == 0, empty.stderr
    assert "(none)" in empty.stdout
    applied = pail(
        [
            "lifecycle",
            "apply",
            "--yes",
            "--older-than",
            "30d",
            "--noncurrent-days",
            "7",
            *server.args,
            f"s3://{bucket}/runs/",
        ]
    )
    assert applied.exit_code == 0, applied.stderr
    shown = pail(["lifecycle", "show", *server.args, f"s3://{bucket}/"])
    assert shown.exit_code == 0, shown.stderr
    assert "pail-runs-30d-nc7d: prefix 'runs/', expire after 30 days" in shown.stdout
    # Read back by the server's own answer, not pail's.
    rules = server.client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(rules) == 1
    rule = rules[0]
    assert rule["ID"] == "pail-runs-30d-nc7d" and rule["Status"] == "Enabled"
    assert rule["Expiration"] == {"Days": 30}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    prefix = rule.get("Filter", {}).get("Prefix", rule.get("Prefix"))
    assert prefix == "runs/"


# -- doctor ------------------------------------------------------------------------------


def test_doctor(server: S3Server) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["doctor", "--json", *server.args, f"s3://{bucket}/runs/"])
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    states = {row["name"]: row["state"] for row in doc["rows"]}
    for name in ("ListBucket", "GetObject", "HeadObject", "GetBucketLocation"):
        assert states[name] == "allowed", (name, states)
    assert states["PutObject"] == "not checked"
    text = pail(["doctor", *server.args, f"s3://{bucket}/runs/"])
    assert text.exit_code == 0
    identity = next(line for line in text.stdout.splitlines() if line.startswith("Identity:"))
    if server.name == "seaweedfs":
        # SeaweedFS 4.48 has no STS (GetCallerIdentity answers 503 ServiceUnavailable):
        # the server's named limit, said once, not retried.
        assert "GetCallerIdentity" in identity and "NotSupported" in identity, identity
    else:
        assert "arn:aws:" in identity, identity

    target = server.read_only()
    args = ["--endpoint-url", target.endpoint, "--path-style", "--region", "us-east-1"]
    uri = f"s3://{target.bucket}/{target.prefix}"
    probes = pail(["doctor", "--json", "--write-probes", *args, uri], env=target.env)
    doc = json.loads(probes.stdout)
    rows = {row["name"]: row for row in doc["rows"]}
    assert rows["ListBucket"]["state"] == "allowed"
    denied = rows["PutObject"]
    assert denied["state"] == "denied", denied
    assert (denied["error"]["status"], denied["error"]["code"]) == (403, "AccessDenied")
    delete = rows["DeleteObject"]
    if rows["GetBucketVersioning"]["state"] == "allowed":
        assert delete["state"] == "denied", delete
        assert (delete["error"]["status"], delete["error"]["code"]) == (403, "AccessDenied")
    else:
        # moto's reader may not read the versioning status: pail does not risk leaving a
        # delete marker behind, and says so.
        assert delete["state"] == "not checked" and "versioned" in delete["detail"], delete
    assert doc["leftover"] == []


# -- the app -----------------------------------------------------------------------------


def test_app_expand_load_more_preview_detail(server: S3Server, monkeypatch) -> None:
    from pail.ui.widgets import bucket_tree

    monkeypatch.setattr(bucket_tree, "PAGE_SIZE", 5)  # 12 keys: three pages
    params = b'{"learning_rate": 0.001, "epochs": 12}\n'
    keys = {f"sweep/k{i:02d}": b"v" for i in range(12)}
    bucket = server.new_bucket({**keys, "runs/run-1/params.json": params, "top.txt": b"top"})

    async def body():
        app = make_app([s3_spec(server.endpoint, name=server.name)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            root = await open_node(pilot, find(app, server.name, bucket))
            assert names(root) == ["runs/", "sweep/", "top.txt"]
            sweep = await open_node(pilot, find(app, server.name, bucket, "sweep/"))
            # More than one page: one "open list" row; the level list pages on (G: all).
            assert names(sweep) == ["▤ 5+ keys — open list"]
            listing = tree_of(app).listings[id(sweep.data)]
            await select(pilot, sweep.children[0])
            await pilot.press("enter", "G")
            await until(pilot, lambda: not listing.has_more and not listing.load_all, "loaded")
            await settle(pilot)
            assert [listing.rows.key(i) for i in range(len(listing.rows))] == [
                f"sweep/k{i:02d}" for i in range(12)
            ]
            assert names(sweep) == ["▤ 12 keys — open list"] and listing.pager.pages_loaded == 3
            await pilot.press("escape")  # back to the tree
            await open_node(pilot, find(app, server.name, bucket, "runs/"))
            await open_node(pilot, find(app, server.name, bucket, "runs/", "run-1/"))
            await select(pilot, find(app, server.name, bucket, "runs/", "run-1/", "params.json"))
            text = detail_text(app)
            assert "Key            runs/run-1/params.json" in text
            assert f"Size           {len(params)} bytes" in text
            assert f"ETag           {_md5(params)}" in text
            assert f"read {len(params)} of {len(params)} bytes" in text
            assert '"learning_rate": 0.001' in text
            assert "Traceback" not in text

    run_async(body())


# -- rm --older-than (last: its old objects have aged while the other tests ran) ---------

#: When each server's old objects were written (wall clock, UTC), and their bucket.
_OLD: dict[str, tuple[str, float]] = {}


@pytest.fixture(scope="module", autouse=True)
def _old_objects(request: pytest.FixtureRequest) -> None:
    """At the start of the module, write ``runs/old-*`` into a bucket on each server, so
    that by the time :func:`test_rm_older_than` runs they are seconds older than what it
    writes (neither server lets a client set Last-Modified)."""
    for name in S3_SERVERS:
        srv = s3_server(request, name)
        bucket = srv.new_bucket({"runs/old-a": b"1", "runs/keep/old-b": b"22"})
        _OLD[name] = (bucket, time.time())


#: The gap (seconds) between the old and new objects' Last-Modified times at least.
MIN_GAP = 6.0


def test_rm_older_than(server: S3Server) -> None:
    bucket, written = _OLD[server.name]
    # Last-Modified has one-second resolution; make the gap big enough that a cutoff half
    # way lies well clear of both sides, however long the command takes to start.
    wait = written + MIN_GAP - time.time()
    if wait > 0:
        time.sleep(wait)
    new = {"runs/new-a": b"3", "runs/keep/new-b": b"4"}
    for key, data in new.items():
        server.client.put_object(Bucket=bucket, Key=key, Body=data)
    heads = {
        key: server.client.head_object(Bucket=bucket, Key=key)["LastModified"]
        for key in ("runs/old-a", "runs/new-a")
    }
    gap = (heads["runs/new-a"] - heads["runs/old-a"]).total_seconds()
    assert gap >= MIN_GAP - 1
    age = math.floor((datetime.now(timezone.utc) - heads["runs/old-a"]).total_seconds() - gap / 2)
    result = pail(
        ["rm", *server.args, "-r", "--yes", "--older-than", f"{age}s", f"s3://{bucket}/runs/"]
    )
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr
    assert server.keys(bucket) == ["runs/keep/new-b", "runs/new-a"]


# -- search ------------------------------------------------------------------------------


def test_search_finds_every_match_once(server: S3Server) -> None:
    """BucketSearch with 3-key pages on this server: every match exactly once."""
    bucket = server.new_bucket(SEARCHED)
    check_search_finds_every_match_once(open_driver(_spec(server.endpoint)), bucket)
