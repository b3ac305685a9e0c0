"""Download benchmark: ``pail get -r`` against ``aws s3 cp --recursive`` and ``rclone copy``.

Two measurements on the same moto S3 server, in the same run:

1. **many small**: a prefix of 200 objects of 1 MiB;
2. **one large**: one object of 200 MiB.

Every tool runs as a subprocess with its default settings (pail: the installed ``pail``
console script, i.e. the same engine as the app's downloads panel, 8 files at once and
64 MiB ranged parts x 8 for objects of 64 MiB or more, each range recorded for a resume;
aws: s3transfer with 10 concurrent requests and 8 MiB parts; rclone: 4 transfers,
multi-thread streams above 256 MiB), so start-up time counts for all of them. Repetitions
are interleaved, rotating which tool goes first, and each run writes to an empty folder.
The table shows medians and pail's time divided by the fastest peer's (target <= 1.0).
pail verifies every file (MD5 ETag, multipart ETag with the real part sizes, additional
checksums) before renaming it; aws and rclone check what they check by default.

The server is moto's ``ThreadedMotoServer`` in a child process (so its work does not
compete with the measuring process), seeded through its in-process backend, auth off.

Peers: ``aws`` from ``$PAIL_BENCH_AWS``, else next to this Python (``pip install
'pail[bench]'``), else PATH; ``rclone`` from PATH (Debian: ``apt-get install rclone``),
configured with ``RCLONE_CONFIG_BENCH_*`` variables and run without ``AWS_CA_BUNDLE``.
A missing peer is reported and skipped.

Usage: ``python benchmarks/download_bench.py [--reps N] [--small N] [--large-mib N] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import peers as peer_tools
from peers import find_aws, find_pail

BUCKET = "bench"
REGION = "us-east-1"
MIB = 1024 * 1024


def _serve(small: int, large_mib: int) -> None:
    """Child-process mode: start moto, seed it, print the endpoint, serve until killed."""
    import logging
    import threading

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, REGION)
    block = os.urandom(MIB)
    for i in range(small):
        backend.put_object(BUCKET, f"small/part-{i:04d}.bin", block[i % 256 :] + block[: i % 256])
    backend.put_object(BUCKET, "large/model.bin", os.urandom(large_mib * MIB))
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    threading.Event().wait()


def start_server(small: int, large_mib: int) -> tuple[str, subprocess.Popen]:
    cmd = [sys.executable, __file__, "--serve", str(small), str(large_mib)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"benchmark server failed to start: {line!r}")
    return line, proc


def tools(endpoint: str) -> tuple[dict[str, Any], list[str]]:
    """``{name: (argv_builder, env)}`` for each available tool, and notes on missing ones."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    aws_env = {**base, **keys, "AWS_DEFAULT_REGION": REGION}
    found: dict[str, Any] = {}
    notes: list[str] = []
    pail = find_pail()
    found["pail"] = (
        lambda src, dst: [pail, "get", "-r", "--endpoint-url", endpoint, "--path-style",
                          "--region", REGION, f"s3://{BUCKET}/{src}", dst],
        aws_env,
    )  # fmt: skip
    aws = find_aws()
    if aws:
        found["aws s3 cp"] = (
            lambda src, dst: [aws, "s3", "cp", "--recursive", "--only-show-errors",
                              "--endpoint-url", endpoint, f"s3://{BUCKET}/{src}", dst],
            aws_env,
        )  # fmt: skip
    else:
        notes.append("aws not found (pip install 'pail[bench]' or set PAIL_BENCH_AWS): skipped")
    rclone = shutil.which("rclone")
    if rclone:
        rclone_env = peer_tools.rclone_env(base, endpoint, REGION)
        found["rclone copy"] = (
            lambda src, dst: [rclone, "copy", f"bench:{BUCKET}/{src}", dst],
            rclone_env,
        )
    else:
        notes.append("rclone not found (apt-get install rclone): skipped")
    return found, notes


def timed_run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds


def check(dst: str, files: int, total: int) -> None:
    found = [os.path.join(r, f) for r, _, fs in os.walk(dst) for f in fs]
    size = sum(os.path.getsize(p) for p in found)
    if len(found) != files or size != total:
        raise SystemExit(f"{dst}: {len(found)} files / {size} bytes, expected {files} / {total}")


def bench(task: str, src: str, files: int, total: int, found: dict, reps: int) -> dict:
    names = list(found)
    times: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="pail-bench-") as work:
        for rep in range(reps + 1):  # repetition 0 warms caches and is not counted
            order = names[rep % len(names) :] + names[: rep % len(names)]
            for name in order:
                dst = os.path.join(work, "out")
                shutil.rmtree(dst, ignore_errors=True)
                os.makedirs(dst)
                build, env = found[name]
                seconds = timed_run(build(src, dst), env)
                check(dst, files, total)
                if rep:
                    times[name].append(seconds)
    medians = {n: statistics.median(t) for n, t in times.items()}
    peers = {n: m for n, m in medians.items() if n != "pail"}
    fastest = min(peers, key=peers.get) if peers else None
    return {
        "task": task,
        "files": files,
        "bytes": total,
        "reps": reps,
        "median_s": {n: round(m, 3) for n, m in medians.items()},
        "runs_s": {n: [round(x, 3) for x in t] for n, t in times.items()},
        "fastest_peer": fastest,
        "ratio": round(medians["pail"] / peers[fastest], 3) if fastest else None,
        "target_ratio": 1.0,
    }


def print_table(results: list[dict], notes: list[str]) -> None:
    names = list(results[0]["median_s"])
    print("moto server (child process); medians of interleaved repetitions, seconds\n")
    head = f"{'task':22}" + "".join(f"{n:>14}" for n in names) + f"{'ratio':>9}  vs"
    print(head)
    print("-" * len(head))
    for r in results:
        cells = "".join(f"{r['median_s'][n]:14.2f}" for n in names)
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "n/a"
        verdict = "" if r["ratio"] is None else (" ok" if r["ratio"] <= 1.0 else " MISSED")
        print(f"{r['task']:22}{cells}{ratio:>9}  {r['fastest_peer'] or '-'}{verdict}")
    for note in notes:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="counted repetitions per tool")
    parser.add_argument("--small", type=int, default=200, help="number of 1 MiB objects")
    parser.add_argument("--large-mib", type=int, default=200, help="size of the large object")
    parser.add_argument("--only", choices=("small", "large"), help="run one measurement")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(*args.serve)
        return
    endpoint, server = start_server(args.small, args.large_mib)
    try:
        found, notes = tools(endpoint)
        results = []
        if args.only != "large":
            label = f"{args.small} x 1 MiB"
            results.append(bench(label, "small/", args.small, args.small * MIB, found, args.reps))
        if args.only != "small":
            label = f"1 x {args.large_mib} MiB"
            results.append(bench(label, "large/", 1, args.large_mib * MIB, found, args.reps))
    finally:
        server.terminate()
        server.wait(timeout=10)
    if args.json:
        print(json.dumps({"results": results, "notes": notes}, indent=2))
    else:
        print_table(results, notes)


if __name__ == "__main__":
    main()
