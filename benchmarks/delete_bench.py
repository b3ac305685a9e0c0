"""Delete benchmark: ``pail rm -r --yes`` against ``aws s3 rm --recursive`` and ``rclone
delete``, on a moto S3 server.

Each tool deletes a prefix of 10,000 small objects (``data/run-NNN/file-NNNN.bin``, 50
runs of 200) in a **freshly seeded bucket of its own** for every repetition, so no tool
finds work already done by another. Repetitions are interleaved, rotating which tool goes
first; before the counted repetitions each tool deletes a 100-key warm-up prefix. After
every run the prefix must be empty, or the benchmark stops.

The server is moto's ``ThreadedMotoServer`` in a child process (its work does not compete
with the measuring process), seeded through its in-process backend: the parent sends
``seed BUCKET N`` / ``count BUCKET`` / ``drop BUCKET`` lines on the child's stdin and reads
one answer line each.

Tools run as subprocesses with their default settings, so start-up time counts for all of
them: pail (the installed console script: DeleteObjects batches of 1,000 keys, 8 in flight),
aws (PyPI awscli: DeleteObjects batches of 1,000, one request at a time after listing),
rclone (Debian; ``RCLONE_CONFIG_BENCH_*`` variables, run without ``AWS_CA_BUNDLE``).
A missing peer is reported and skipped. Targets: pail >= 10x faster than aws and >= 5x
faster than rclone (ratio = peer median / pail median).

Usage: ``python benchmarks/delete_bench.py [--keys N] [--reps N] [--json]``.
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
import time
from typing import Any

import peers as peer_tools
from peers import find_aws, find_pail

REGION = "us-east-1"
TARGETS = {"aws s3 rm": 10.0, "rclone delete": 5.0}


# -- the server (child process) ---------------------------------------------------------


def _serve() -> None:
    """Child-process mode: start moto, print the endpoint, then obey stdin commands."""
    import logging

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "seed":
            bucket, keys = parts[1], int(parts[2])
            backend.create_bucket(bucket, REGION)
            for i in range(keys):
                backend.put_object(bucket, f"data/run-{i // 200:03d}/file-{i % 200:04d}.bin", b"x")
            print("ok", flush=True)
        elif parts[0] == "count":
            found = backend.buckets.get(parts[1])
            print(len(list(found.keys.keys())) if found else -1, flush=True)
        elif parts[0] == "drop":
            backend.buckets.pop(parts[1], None)
            print("ok", flush=True)


class Server:
    """The child-process moto server and its seeding channel."""

    def __init__(self, script: str) -> None:
        cmd = [sys.executable, script, "--serve"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.endpoint = self._read()
        if not self.endpoint.startswith("http://"):
            self.close()
            raise SystemExit(f"benchmark server failed to start: {self.endpoint!r}")

    def _read(self) -> str:
        return self.proc.stdout.readline().strip() if self.proc.stdout else ""

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


# -- the tools --------------------------------------------------------------------------


def tools(endpoint: str, kind: str = "delete") -> tuple[dict[str, Any], list[str]]:
    """``{name: (argv_builder(bucket, prefix), env)}`` per available tool, and notes.
    ``kind`` is ``"delete"`` or ``"size"`` (for :mod:`du_bench`)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
    keys = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    aws_env = {**base, **keys, "AWS_DEFAULT_REGION": REGION}
    conn = ["--endpoint-url", endpoint, "--path-style", "--region", REGION]
    found: dict[str, Any] = {}
    notes: list[str] = []
    pail = find_pail()
    if kind == "delete":
        found["pail rm"] = (
            lambda b, p: [pail, "rm", "-r", "--yes", *conn, f"s3://{b}/{p}"],
            aws_env,
        )
    else:
        found["pail du"] = (lambda b, p: [pail, "du", "--json", *conn, f"s3://{b}/{p}"], aws_env)
    aws = find_aws()
    if aws:
        if kind == "delete":
            found["aws s3 rm"] = (
                lambda b, p: [aws, "s3", "rm", "--recursive", "--only-show-errors",
                              "--endpoint-url", endpoint, f"s3://{b}/{p}"],
                aws_env,
            )  # fmt: skip
        else:
            found["aws s3 ls"] = (
                lambda b, p: [aws, "s3", "ls", "--recursive", "--summarize",
                              "--endpoint-url", endpoint, f"s3://{b}/{p}"],
                aws_env,
            )  # fmt: skip
    else:
        notes.append("aws not found (pip install 'pail[bench]' or set PAIL_BENCH_AWS): skipped")
    rclone = shutil.which("rclone")
    if rclone:
        rclone_env = peer_tools.rclone_env(base, endpoint, REGION)
        verb = "delete" if kind == "delete" else "size"
        found[f"rclone {verb}"] = (
            lambda b, p: [rclone, verb, f"bench:{b}/{p}"],
            rclone_env,
        )
    else:
        notes.append("rclone not found (apt-get install rclone): skipped")
    return found, notes


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds the command took, and its stdout. Stops the benchmark if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return seconds, proc.stdout


# -- the measurement --------------------------------------------------------------------


def bench(server: Server, found: dict, keys: int, reps: int) -> dict:
    names = list(found)
    times: dict[str, list[float]] = {n: [] for n in names}
    counter = 0
    for rep in range(reps + 1):  # repetition 0: a 100-key warm-up, not counted
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            counter += 1
            bucket = f"bench-{counter:03d}"
            size = keys if rep else 100
            assert server.ask(f"seed {bucket} {size}") == "ok"
            build, env = found[name]
            seconds, _ = timed_run(build(bucket, "data/"), env)
            left = int(server.ask(f"count {bucket}"))
            if left != 0:
                raise SystemExit(f"{name} left {left} of {size} keys in {bucket}")
            server.ask(f"drop {bucket}")
            if rep:
                times[name].append(seconds)
    medians = {n: statistics.median(t) for n, t in times.items()}
    pail = medians[names[0]]
    return {
        "task": f"delete {keys:,} keys",
        "keys": keys,
        "reps": reps,
        "median_s": {n: round(m, 3) for n, m in medians.items()},
        "runs_s": {n: [round(x, 3) for x in t] for n, t in times.items()},
        "speedup": {n: round(m / pail, 2) for n, m in medians.items() if n != names[0]},
        "target_speedup": {n: TARGETS[n] for n in names[1:] if n in TARGETS},
    }


def print_result(result: dict, notes: list[str]) -> None:
    print(f"moto server (child process); {result['task']}, fresh bucket per run;")
    print(f"medians of {result['reps']} interleaved repetitions, seconds\n")
    for name, median in result["median_s"].items():
        line = f"{name:16}{median:9.2f} s"
        if name in result["speedup"]:
            speedup, target = result["speedup"][name], result["target_speedup"].get(name)
            verdict = "" if target is None else (" ok" if speedup >= target else " MISSED")
            line += f"   pail is {speedup:.1f}x faster (target >= {target:.0f}x){verdict}"
        print(line)
    for note in notes:
        print(f"note: {note}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000, help="objects to delete per run")
    parser.add_argument("--reps", type=int, default=3, help="counted repetitions per tool")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve()
        return
    server = Server(__file__)
    try:
        found, notes = tools(server.endpoint)
        result = bench(server, found, args.keys, args.reps)
    finally:
        server.close()
    if args.json:
        print(json.dumps({"result": result, "notes": notes}, indent=2))
    else:
        print_result(result, notes)


if __name__ == "__main__":
    main()
