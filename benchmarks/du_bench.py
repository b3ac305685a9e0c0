"""Usage benchmark: ``pail du`` against ``rclone size`` (and ``aws s3 ls --recursive
--summarize`` for reference) on a moto S3 server.

One prefix of 10,000 small objects (``data/run-NNN/file-NNNN.bin``, 50 runs of 200), seeded
once through the server's in-process backend (see :mod:`delete_bench` for the child-process
server). Every tool sizes the same prefix; repetitions are interleaved, rotating which
tool goes first, after one uncounted warm-up round. Each run's output is checked for the
right object count. Target: pail no slower than rclone (ratio = pail median / rclone
median <= 1.0).

Usage: ``python benchmarks/du_bench.py [--keys N] [--reps N] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from delete_bench import Server, timed_run, tools

BUCKET = "bench-du"


def _count(name: str, out: str) -> int:
    """The object count a tool printed."""
    if name.startswith("pail"):
        return int(json.loads(out)["objects"])
    for line in out.splitlines():
        words = line.replace(":", " ").split()
        if name.startswith("rclone") and words[:2] == ["Total", "objects"]:
            return int(line.rsplit("(", 1)[-1].rstrip(")"))  # "Total objects: 10k (10000)"
        if name.startswith("aws") and words[:2] == ["Total", "Objects"]:
            return int(words[2])
    return -1


def bench(found: dict, keys: int, reps: int) -> dict:
    names = list(found)
    times: dict[str, list[float]] = {n: [] for n in names}
    for rep in range(reps + 1):  # repetition 0 warms caches and is not counted
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            build, env = found[name]
            seconds, out = timed_run(build(BUCKET, "data/"), env)
            counted = _count(name, out)
            if counted != keys:
                raise SystemExit(f"{name} counted {counted} objects, expected {keys}:\n{out}")
            if rep:
                times[name].append(seconds)
    medians = {n: statistics.median(t) for n, t in times.items()}
    rclone = next((n for n in names if n.startswith("rclone")), None)
    return {
        "task": f"size {keys:,} keys",
        "keys": keys,
        "reps": reps,
        "median_s": {n: round(m, 3) for n, m in medians.items()},
        "runs_s": {n: [round(x, 3) for x in t] for n, t in times.items()},
        "ratio_vs_rclone": round(medians[names[0]] / medians[rclone], 3) if rclone else None,
        "target_ratio": 1.0,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000, help="objects in the prefix")
    parser.add_argument("--reps", type=int, default=5, help="counted repetitions per tool")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    server = Server(os.path.join(os.path.dirname(os.path.abspath(__file__)), "delete_bench.py"))
    try:
        assert server.ask(f"seed {BUCKET} {args.keys}") == "ok"
        found, notes = tools(server.endpoint, kind="size")
        result = bench(found, args.keys, args.reps)
    finally:
        server.close()
    if args.json:
        print(json.dumps({"result": result, "notes": notes}, indent=2))
        return
    print(f"moto server (child process); {result['task']}; medians of {args.reps} reps, seconds\n")
    for name, median in result["median_s"].items():
        print(f"{name:16}{median:9.2f} s")
    ratio = result["ratio_vs_rclone"]
    if ratio is not None:
        verdict = "ok" if ratio <= 1.0 else "MISSED"
        print(f"\npail du / rclone size = {ratio:.2f}x (target <= 1.0) {verdict}")
    for note in notes:
        print(f"note: {note}")


if __name__ == "__main__":
    main()
