"""The operation matrix of issue 11 on two GCS implementations: gcp-storage-emulator and
fake-gcs-server, both over HTTP on loopback.

Each row is one test parametrized over :data:`GCS_SERVERS`, running the real ``pail``
command line (tests/support/cli.py, in-process) against a saved connection that names the
server's endpoint (``endpoint_url``; ``STORAGE_EMULATOR_HOST`` is never changed) and holds
a throwaway service-account key file (used only to sign URLs there), or the real app
(Textual's pilot): ls one level and ``-r`` with exact counts, ``ls --json``, du, get with
checksum verification, a signed URL fetched with urllib, rm with exact prefix boundaries,
rm ``--older-than``, versions, restore, lifecycle show and apply, doctor, and the app's
expand, load more, preview and detail. Where a server lacks a feature the test skips and
names the limit. No output may hold a traceback.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from support.cli import run
from support.search import SEARCHED, check_search_finds_every_match_once
from support.servers import gcs_client
from support.ui import (
    SIZE,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    select,
    settle,
    tree_of,
    until,
)
from support.ui import run as run_async

GCS_SERVERS = ["gcp-storage-emulator", "fake-gcs-server"]
_FIXTURES = {"gcp-storage-emulator": "gcs_emulator", "fake-gcs-server": "fake_gcs_server"}
#: The saved connection every test names (``g:BUCKET/PREFIX``).
CONN = "g"
SIGNER = "signer@pail-test.iam.gserviceaccount.com"

#: gcp-storage-emulator (PyPI 2024.x) limits, named where a test skips.
GSE_ONE_PAGE = "gcp-storage-emulator ignores maxResults: every listing is one page"
GSE_NO_GENERATIONS = "gcp-storage-emulator keeps only the latest generation (no versions)"

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


@dataclass
class GcsServer:
    """One emulator: its ``name``, ``endpoint`` and a google-cloud-storage ``client``."""

    name: str
    endpoint: str

    @property
    def client(self):
        return gcs_client(self.endpoint)

    def new_bucket(self, objects: dict[str, bytes] | None = None, *, versioned=False) -> str:
        """A fresh bucket holding ``objects`` (written through the server's own API)."""
        name = f"pail-{time.time_ns() % 10**12:012d}"
        bucket = self.client.bucket(name)
        bucket.versioning_enabled = versioned
        created = self.client.create_bucket(bucket)
        for key, data in (objects or {}).items():
            created.blob(key).upload_from_string(data)
        return name

    def keys(self, bucket: str) -> list[str]:
        return sorted(b.name for b in self.client.list_blobs(bucket))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory) -> Path:
    """A throwaway service-account key (a fresh RSA key; never valid at Google)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "pail-test",
        "private_key_id": "1",
        "private_key": pem,
        "client_email": SIGNER,
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path_factory.mktemp("gcs-key") / "key.json"
    path.write_text(json.dumps(info))
    return path


def _gcs_server(request: pytest.FixtureRequest, name: str) -> GcsServer:
    return GcsServer(name, request.getfixturevalue(_FIXTURES[name]))


@pytest.fixture(params=GCS_SERVERS)
def server(request: pytest.FixtureRequest, key_file: Path) -> GcsServer:
    """An emulator (started once per session) and the saved connection ``g`` to it."""
    srv = _gcs_server(request, request.param)
    Path(_config_path()).write_text(
        f'[connections.{CONN}]\nprovider = "gcs"\nendpoint_url = "{srv.endpoint}"\n'
        f'credentials_file = "{key_file}"\nsecrets = "none"\n'
    )
    return srv


def _config_path() -> str:
    import os

    return os.environ["PAIL_CONFIG"]  # the per-test file of the isolated_config fixture


def pail(args: list[str]):
    """``pail ARGS`` in-process; no traceback may reach either stream."""
    result = run(args)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return result


def _md5(data: bytes) -> str:
    import hashlib

    return base64.b64encode(hashlib.md5(data).digest()).decode()


# -- ls ----------------------------------------------------------------------------------


def test_ls_one_level_and_recursive_exact_counts(server: GcsServer) -> None:
    bucket = server.new_bucket(TREE)
    top = pail(["ls", f"{CONN}:{bucket}/"])
    assert top.exit_code == 0, top.stderr
    lines = top.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split() == ["PRE", "runs/"]
    assert ROW.match(lines[1]).group(2, 3) == ("3", "top.txt")

    level = pail(["ls", f"{CONN}:{bucket}/runs/"])
    assert level.exit_code == 0, level.stderr
    rows = level.stdout.splitlines()
    prefixes = sorted(r.split()[1] for r in rows if r.split()[0] == "PRE")
    objects = sorted(ROW.match(r).group(2, 3) for r in rows if ROW.match(r))
    assert len(rows) == 4
    assert prefixes == ["run-1/", "run-10/"]
    assert objects == [("1", "run-1x"), ("3", "run-1")]

    deep = pail(["ls", "-r", f"{CONN}:{bucket}/"])
    assert deep.exit_code == 0, deep.stderr
    assert [ROW.match(line).group(3) for line in deep.stdout.splitlines()] == sorted(TREE)
    under = pail(["ls", "-r", f"{CONN}:{bucket}/runs/run-1/"])
    assert [ROW.match(x).group(3) for x in under.stdout.splitlines()] == [
        "runs/run-1/a.txt",
        "runs/run-1/b/c.txt",
    ]


def test_ls_json(server: GcsServer) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["ls", "--json", f"{CONN}:{bucket}/runs/run-1/"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    by_key = {r["key"]: r for r in rows}
    assert sorted(by_key) == ["runs/run-1/a.txt", "runs/run-1/b/"]
    obj, prefix = by_key["runs/run-1/a.txt"], by_key["runs/run-1/b/"]
    assert (obj["type"], obj["size"]) == ("object", 1)
    assert obj["etag"]  # GCS ETags are opaque (not the MD5 as on S3)
    assert obj["uri"] == f"gs://{bucket}/runs/run-1/a.txt" and obj["bucket"] == bucket
    assert obj["storage_class"] == "STANDARD"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", obj["last_modified"])
    assert (prefix["type"], prefix["size"], prefix["etag"]) == ("prefix", None, None)


# -- du ----------------------------------------------------------------------------------


def test_du(server: GcsServer) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["du", "--json", f"{CONN}:{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert (doc["objects"], doc["bytes"], doc["complete"]) == (5, 17, True)
    assert (doc["direct"]["objects"], doc["direct"]["bytes"]) == (2, 4)
    children = {c["prefix"]: (c["objects"], c["bytes"]) for c in doc["children"]}
    assert children == {"runs/run-1/": (2, 3), "runs/run-10/": (1, 10)}
    table = pail(["du", f"{CONN}:{bucket}"])
    assert table.exit_code == 0, table.stderr
    assert f"total gs://{bucket}/" in table.stdout


# -- get, url ----------------------------------------------------------------------------


def test_get_with_checksum(server: GcsServer, tmp_path) -> None:
    weights = bytes(range(256)) * 4000  # 1 MB: more than one ranged read
    bucket = server.new_bucket({"model/weights.bin": weights, "model/cfg.json": b"{}"})
    dest = tmp_path / "dest"
    result = pail(["get", "-r", f"{CONN}:{bucket}/model/", str(dest)])
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        f"downloaded model/cfg.json -> {dest.resolve()}/cfg.json (2 bytes, crc32c)",
        f"downloaded model/weights.bin -> {dest.resolve()}/weights.bin "
        f"({len(weights)} bytes, crc32c)",
    ]
    assert (dest / "weights.bin").read_bytes() == weights
    assert "2 downloaded" in result.stderr and "verified: 2 crc32c" in result.stderr


def test_url_signed_with_the_key_and_fetched_with_urllib(server: GcsServer) -> None:
    body = b'{"loss": 0.25}\n'
    bucket = server.new_bucket({"runs/run-1/metrics.json": body})
    result = pail(["url", "--expires", "300", f"{CONN}:{bucket}/runs/run-1/metrics.json"])
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    parts = urllib.parse.urlsplit(url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}" == server.endpoint
    assert parts.path == f"/{bucket}/runs/run-1/metrics.json"
    # V4 signed with the connection's key (Cloud Storage docs, "V4 signing process").
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256" and query["X-Goog-Expires"] == "300"
    assert query["X-Goog-Credential"].startswith(SIGNER + "/")
    assert re.fullmatch(r"[0-9a-f]{512}", query["X-Goog-Signature"])  # RSA-2048
    # Neither emulator checks the signature; both serve the path-style object URL.
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200 and resp.read() == body
    missing = pail(["url", f"{CONN}:{bucket}/runs/none"])
    assert missing.exit_code == 3 and "404" in missing.stderr


# -- rm ----------------------------------------------------------------------------------


def test_rm_exact_boundaries(server: GcsServer) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["rm", "-r", "--yes", f"{CONN}:{bucket}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr
    assert server.keys(bucket) == ["runs/run-1", "runs/run-10/a.txt", "runs/run-1x", "top.txt"]
    one = pail(["rm", "--yes", f"{CONN}:{bucket}/runs/run-1"])
    assert one.exit_code == 0, one.stderr
    assert server.keys(bucket) == ["runs/run-10/a.txt", "runs/run-1x", "top.txt"]
    missing = pail(["rm", "--yes", f"{CONN}:{bucket}/runs/run-1"])
    assert missing.exit_code == 3 and "no such object" in missing.stderr


# -- versions, restore --------------------------------------------------------------------


def _versioned(server: GcsServer) -> str:
    """A versioned bucket: runs/r1/model.ckpt written twice then deleted (two noncurrent
    generations), runs/r1/log.txt live."""
    if server.name == "gcp-storage-emulator":
        pytest.skip(GSE_NO_GENERATIONS)
    bucket = server.new_bucket(versioned=True)
    raw = server.client.bucket(bucket)
    raw.blob("runs/r1/model.ckpt").upload_from_string(b"old")
    raw.blob("runs/r1/model.ckpt").upload_from_string(b"newer")
    raw.blob("runs/r1/model.ckpt").delete()
    raw.blob("runs/r1/log.txt").upload_from_string(b"log")
    return bucket


def test_versions(server: GcsServer) -> None:
    bucket = _versioned(server)
    result = pail(["versions", f"{CONN}:{bucket}/runs/r1/model.ckpt"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[2] for line in lines] == ["5", "3"]  # newest generation first
    rows = pail(["versions", "-r", "--json", f"{CONN}:{bucket}/runs/r1/"])
    assert rows.exit_code == 0, rows.stderr
    docs = [json.loads(line) for line in rows.stdout.splitlines()]
    assert [(d["key"], d["is_latest"], d["is_delete_marker"], d["size"]) for d in docs] == [
        ("runs/r1/log.txt", True, False, 3),
        ("runs/r1/model.ckpt", False, False, 5),
        ("runs/r1/model.ckpt", False, False, 3),
    ]
    assert all(d["version_id"].isdigit() for d in docs)  # generations
    assert len({d["version_id"] for d in docs}) == 3


def test_restore(server: GcsServer) -> None:
    bucket = _versioned(server)
    dry = pail(["restore", "-r", "--dry-run", f"{CONN}:{bucket}/runs/"])
    assert dry.exit_code == 0, dry.stderr
    assert "would restore 1 object (5 B) by copying 1 noncurrent version back" in dry.stderr
    assert server.keys(bucket) == ["runs/r1/log.txt"]
    result = pail(["restore", "--yes", f"{CONN}:{bucket}/runs/r1/model.ckpt"])
    assert result.exit_code == 0, result.stderr
    assert "restored 1" in result.stderr
    assert server.keys(bucket) == ["runs/r1/log.txt", "runs/r1/model.ckpt"]
    # The newest generation came back (a copy: a new live generation on top).
    assert server.client.bucket(bucket).blob("runs/r1/model.ckpt").download_as_bytes() == b"newer"
    again = pail(["restore", "-r", "--yes", f"{CONN}:{bucket}/runs/"])
    assert again.exit_code == 0, again.stderr
    assert "nothing to restore" in again.stderr


# -- lifecycle ---------------------------------------------------------------------------


def test_lifecycle_show_and_apply(server: GcsServer) -> None:
    bucket = server.new_bucket(versioned=server.name == "fake-gcs-server")
    empty = pail(["lifecycle", "show", f"{CONN}:{bucket}/"])
    assert empty.exit_code == 0, empty.stderr
    assert "(none)" in empty.stdout
    args = ["lifecycle", "apply", "--yes", "--older-than", "30d", f"{CONN}:{bucket}/runs/"]
    applied = pail(args)
    rule = 'Delete age=30 isLive=true matchesPrefix=["runs/"]'
    if server.name == "fake-gcs-server":
        # It answers the PATCH with success but keeps no rules and resets versioning:
        # pail reads the bucket back and says so instead of reporting success.
        assert applied.exit_code == 1, applied.stderr
        assert "LifecycleNotStored" in applied.stderr
        assert f"rule [{rule}] was not stored" in applied.stderr
        assert "versioning was Enabled, it is now off" in applied.stderr
        assert "lifecycle rules written" not in applied.stderr
        assert server.client.get_bucket(bucket)._properties.get("lifecycle") is None
        return
    assert applied.exit_code == 0, applied.stderr
    assert "lifecycle rules written" in applied.stderr
    shown = pail(["lifecycle", "show", f"{CONN}:{bucket}/"])
    assert shown.exit_code == 0, shown.stderr
    assert rule in shown.stdout
    # Read back by the server's own answer, not pail's.
    stored = server.client.get_bucket(bucket)._properties["lifecycle"]["rule"]
    assert stored == [
        {"action": {"type": "Delete"}, "condition": {"age": 30, "isLive": True,
                                                      "matchesPrefix": ["runs/"]}}
    ]  # fmt: skip


# -- doctor ------------------------------------------------------------------------------


def test_doctor(server: GcsServer) -> None:
    bucket = server.new_bucket(TREE)
    result = pail(["doctor", "--json", f"{CONN}:{bucket}/runs/"])
    assert result.exit_code == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    states = {row["name"]: row["state"] for row in doc["rows"]}
    assert states["storage.objects.list"] == "allowed"
    assert states["storage.objects.get"] == "allowed"
    text = pail(["doctor", f"{CONN}:{bucket}/runs/"])
    assert text.exit_code == 0, text.stderr
    lines = text.stdout.splitlines()
    credentials = next(line for line in lines if line.startswith("Credentials:"))
    assert credentials.startswith("Credentials: anonymous"), credentials
    assert "default chain" not in text.stdout
    note = next(line for line in lines if line.startswith("Note: the endpoint"))
    assert f"Note: the endpoint {server.endpoint} is {server.name}, not Google" in note
    if server.name == "fake-gcs-server":
        # No testIamPermissions (404): reads are probed live, writes are not checked.
        assert states["storage.objects.create"] == "not checked"
    else:
        assert set(states.values()) == {"allowed"}  # it grants whatever is asked


# -- the app -----------------------------------------------------------------------------


def _spec(server: GcsServer) -> ConnectionSpec:
    return ConnectionSpec(name=server.name, provider="gcs", endpoint_url=server.endpoint)


def test_app_expand_preview_detail(server: GcsServer) -> None:
    params = b'{"learning_rate": 0.001, "epochs": 12}\n'
    bucket = server.new_bucket({"runs/run-1/params.json": params, "top.txt": b"top"})

    async def body():
        app = make_app([_spec(server)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            root = await open_node(pilot, find(app, server.name, bucket))
            assert names(root) == ["runs/", "top.txt"]
            await open_node(pilot, find(app, server.name, bucket, "runs/"))
            await open_node(pilot, find(app, server.name, bucket, "runs/", "run-1/"))
            await select(pilot, find(app, server.name, bucket, "runs/", "run-1/", "params.json"))
            text = detail_text(app)
            assert re.search(r"^Key +runs/run-1/params\.json", text, re.M)
            assert re.search(rf"^Size +{len(params)} bytes", text, re.M)
            assert re.search(rf"^MD5 +{re.escape(_md5(params))}", text, re.M)
            assert re.search(r"^Version id +\d+", text, re.M)  # the generation
            assert f"read {len(params)} of {len(params)} bytes" in text
            assert '"learning_rate": 0.001' in text
            assert "Traceback" not in text

    run_async(body())


def test_app_load_more(server: GcsServer, monkeypatch) -> None:
    from pail.ui.widgets import bucket_tree

    if server.name == "gcp-storage-emulator":
        pytest.skip(GSE_ONE_PAGE)
    monkeypatch.setattr(bucket_tree, "PAGE_SIZE", 5)  # 12 keys: three pages
    bucket = server.new_bucket({f"sweep/k{i:02d}": b"v" for i in range(12)})

    async def body():
        app = make_app([_spec(server)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, server.name, bucket))
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

    run_async(body())


# -- rm --older-than (last: its old objects have aged while the other tests ran) ---------

#: Each server's bucket of old objects and when they were written (wall clock).
_OLD: dict[str, tuple[str, float]] = {}
#: The gap (seconds) between the old and new objects' update times at least.
MIN_GAP = 4.0


@pytest.fixture(scope="module", autouse=True)
def _old_objects(request: pytest.FixtureRequest) -> None:
    """At the start of the module, write ``runs/old-*`` into a bucket on each server, so
    that by the time :func:`test_rm_older_than` runs they are seconds older than what it
    writes (neither emulator lets a client set ``updated``)."""
    for name in GCS_SERVERS:
        srv = _gcs_server(request, name)
        bucket = srv.new_bucket({"runs/old-a": b"1", "runs/keep/old-b": b"22"})
        _OLD[name] = (bucket, time.time())


def test_rm_older_than(server: GcsServer) -> None:
    bucket, written = _OLD[server.name]
    wait = written + MIN_GAP - time.time()
    if wait > 0:
        time.sleep(wait)
    raw = server.client.bucket(bucket)
    for key, data in {"runs/new-a": b"3", "runs/keep/new-b": b"4"}.items():
        raw.blob(key).upload_from_string(data)
    updated = {key: raw.get_blob(key).updated for key in ("runs/old-a", "runs/new-a")}
    gap = (updated["runs/new-a"] - updated["runs/old-a"]).total_seconds()
    assert gap >= MIN_GAP - 1
    now = datetime.now(timezone.utc)
    age = math.floor((now - updated["runs/old-a"]).total_seconds() - gap / 2)
    result = pail(["rm", "-r", "--yes", "--older-than", f"{age}s", f"{CONN}:{bucket}/runs/"])
    assert result.exit_code == 0, result.stderr
    assert "deleted 2 objects" in result.stderr
    assert server.keys(bucket) == ["runs/keep/new-b", "runs/new-a"]


def test_doctor_through_storage_emulator_host(gcs_emulator: str) -> None:
    """A gs:// URI with no saved connection: the endpoint comes from STORAGE_EMULATOR_HOST
    (set for the session by the gcs_emulator fixture); the requests are anonymous."""
    server = GcsServer("gcp-storage-emulator", gcs_emulator)
    bucket = server.new_bucket(TREE)
    text = pail(["doctor", f"gs://{bucket}/runs/"])
    assert text.exit_code == 0, text.stdout + text.stderr
    assert "Credentials: anonymous\n" in text.stdout and "default chain" not in text.stdout
    assert f"Note: the endpoint {gcs_emulator} is gcp-storage-emulator, not Google" in text.stdout


# -- search ------------------------------------------------------------------------------


def test_search_finds_every_match_once(server: GcsServer) -> None:
    """BucketSearch with 3-key pages on this server: every match exactly once."""
    bucket = server.new_bucket(SEARCHED)
    check_search_finds_every_match_once(open_driver(_spec(server)), bucket)
