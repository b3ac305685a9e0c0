"""Listing benchmark: pail's S3 driver and app against raw boto3, on a moto server.

Two measurements, each interleaved with its baseline (alternating which goes first) and
repeated; the table shows medians and the ratio pail / raw:

1. **Whole prefix**: list a 10,000-key prefix one level deep (``Delimiter="/"``) through
   ``pail.drivers.base.iter_pages`` over the S3 driver, against a raw boto3
   ``list_objects_v2`` paginator on the *same* client (``driver.client``). Target <= 1.1x.
2. **First rows in the app**: in a headless ``PailApp`` (``App.run_test``), from expanding
   a 1,500-key prefix node until its first rows are in the tree, against one raw
   ListObjectsV2 page call (``MaxKeys=1000``). Target <= 1.5x.

The server is moto's ``ThreadedMotoServer`` on 127.0.0.1, seeded through the in-process
backend. With ``--server subprocess`` it runs in a child process instead, so the server's
work does not compete with the measured process for the GIL.

Usage: ``python benchmarks/list_bench.py [--keys N] [--reps N] [--server subprocess] [--json]``
(``make bench``). This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from peers import bench_connection

BUCKET = "bench"
REGION = "us-east-1"
FIRST_ROWS_KEYS = 1_500  # per prefix: more than one page, so the app shows "load more"


def seed(keys: int, first_rows_prefixes: int) -> None:
    """Seed the in-process moto backend: ``data/`` with ``keys`` keys and ``pNN/`` prefixes
    with FIRST_ROWS_KEYS keys each (one fresh prefix per first-rows repetition)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, REGION)
    for i in range(keys):
        backend.put_object(BUCKET, f"data/part-{i:06d}.bin", b"x" * 64)
    for p in range(first_rows_prefixes):
        for i in range(FIRST_ROWS_KEYS):
            backend.put_object(BUCKET, f"p{p:02d}/row-{i:05d}.json", b"{}")


def start_server(keys: int, first_rows_prefixes: int, mode: str) -> tuple[str, Any]:
    """Start a seeded server; returns ``(endpoint, handle)`` for :func:`stop_server`."""
    if mode == "subprocess":
        cmd = [sys.executable, __file__, "--serve", str(keys), str(first_rows_prefixes)]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip() if proc.stdout else ""
        if not line.startswith("http://"):
            proc.kill()
            raise SystemExit(f"benchmark server failed to start: {line!r}")
        return line, proc
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    seed(keys, first_rows_prefixes)
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}", server


def stop_server(handle: Any) -> None:
    if isinstance(handle, subprocess.Popen):
        handle.terminate()
        handle.wait(timeout=10)
    else:
        handle.stop()


def _serve(keys: int, first_rows_prefixes: int) -> None:
    """Child-process mode: seed, print the endpoint, serve until terminated."""
    import threading

    endpoint, _ = start_server(keys, first_rows_prefixes, "inprocess")
    print(endpoint, flush=True)
    threading.Event().wait()


def _timed(fn) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_prefix(endpoint: str, reps: int) -> dict[str, Any]:
    """Whole-prefix listing: pail driver vs raw paginator on the same boto3 client."""
    from pail.drivers.base import iter_pages
    from pail.drivers.registry import open_driver

    driver = open_driver(bench_connection(endpoint, REGION))
    client = driver.client  # type: ignore[attr-defined]

    def pail_run() -> int:
        return sum(len(p.entries) for p in iter_pages(driver, BUCKET, "data/", delimiter="/"))

    def raw_run() -> int:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix="data/", Delimiter="/", PaginationConfig={"PageSize": 1000}
        )
        return sum(len(p.get("Contents", [])) + len(p.get("CommonPrefixes", [])) for p in pages)

    pail_run(), raw_run()  # warm-up: connection pool, botocore loaders
    pail_times, raw_times = [], []
    for rep in range(reps):
        order = [("pail", pail_run), ("raw", raw_run)]
        for name, fn in order if rep % 2 == 0 else order[::-1]:
            seconds, count = _timed(fn)
            (pail_times if name == "pail" else raw_times).append(seconds)
            assert count > 0
    return _summary("list 10k-key prefix", "iter_pages(S3Driver)", pail_times,
                    "boto3 paginator", raw_times, target=1.1, count=count)  # fmt: skip


async def _first_rows(endpoint: str, reps: int) -> tuple[list[float], list[float]]:
    from pail.drivers.registry import open_driver
    from pail.ui.app import PailApp
    from pail.ui.messages import LevelUpdated
    from pail.ui.widgets.bucket_tree import BucketTree

    raw_client = open_driver(bench_connection(endpoint, REGION)).client  # type: ignore[attr-defined]
    app = PailApp([bench_connection(endpoint, REGION, BUCKET)])
    app_times: list[float] = []
    raw_times: list[float] = []
    shown: dict[str, float] = {}  # prefix -> perf_counter() when its first rows were in
    arrived = asyncio.Event()

    def hook(message: object) -> None:
        # LevelUpdated is posted right after a page's rows were added to the tree; the
        # hook runs on the event loop as the message is dispatched, so no polling loop
        # competes with the worker thread for the GIL while the page is in flight.
        if isinstance(message, LevelUpdated):
            data = message.target
            # A level of more than one page shows as one "open list" row, its rows in
            # the level list (data.has_more): that row is its first rows on screen.
            listed = data.has_more or any(c.kind == "object" for c in data.children)
            if data.key not in shown and not data.loading and listed:
                shown[data.key] = time.perf_counter()
                arrived.set()

    def find(tree: BucketTree, key: str):
        stack = [tree.root]
        while stack:
            node = stack.pop()
            if node.data is not None and node.data.kind == "prefix" and node.data.key == key:
                return node
            stack.extend(node.children)
        return None

    def raw_page(prefix: str) -> float:
        seconds, _ = _timed(
            lambda: raw_client.list_objects_v2(
                Bucket=BUCKET, Prefix=prefix, Delimiter="/", MaxKeys=1000
            )
        )
        return seconds

    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        tree = app.screen.query_one(BucketTree)
        deadline = time.monotonic() + 60
        while find(tree, "p00/") is None:  # wait for the bucket level (not timed)
            if time.monotonic() > deadline:
                raise SystemExit("the app never listed the bucket")
            await asyncio.sleep(0.05)
        await pilot.pause()
        raw_page("p00/")  # warm-up
        for rep in range(reps):
            prefix = f"p{rep + 1:02d}/"
            if rep % 2:
                raw_times.append(raw_page(prefix))
            node = find(tree, prefix)
            arrived.clear()
            start = time.perf_counter()
            node.expand()
            while prefix not in shown:
                await asyncio.wait_for(arrived.wait(), timeout=60)
                arrived.clear()
            app_times.append(shown[prefix] - start)
            if rep % 2 == 0:
                raw_times.append(raw_page(prefix))
            await pilot.pause()
            node.collapse()  # each repetition starts from the same tree size
            await pilot.pause()
        await pilot.press("q")
    return app_times, raw_times


def bench_first_rows(endpoint: str, reps: int) -> dict[str, Any]:
    """Expand -> first rows in the headless app vs one raw ListObjectsV2 page."""
    app_times, raw_times = asyncio.run(_first_rows(endpoint, reps))
    return _summary("expand -> first rows", "PailApp (headless)", app_times,
                    "1 ListObjectsV2 page", raw_times, target=1.5, count=1000)  # fmt: skip


def _summary(task, pail_name, pail_times, raw_name, raw_times, *, target, count) -> dict:
    pail_med, raw_med = statistics.median(pail_times), statistics.median(raw_times)
    return {
        "task": task,
        "pail": pail_name,
        "baseline": raw_name,
        "entries": count,
        "reps": len(pail_times),
        "pail_median_s": round(pail_med, 4),
        "baseline_median_s": round(raw_med, 4),
        "ratio": round(pail_med / raw_med, 3),
        "target_ratio": target,
        "pail_s": [round(t, 4) for t in pail_times],
        "baseline_s": [round(t, 4) for t in raw_times],
    }


def print_table(results: list[dict], server: str) -> None:
    print(f"moto server ({server}); medians of interleaved repetitions\n")
    head = f"{'task':22} {'pail':22} {'s':>8}  {'baseline':22} {'s':>8}  {'ratio':>6}  target"
    print(head)
    print("-" * len(head))
    for r in results:
        ok = "ok" if r["ratio"] <= r["target_ratio"] else "MISSED"
        print(
            f"{r['task']:22} {r['pail']:22} {r['pail_median_s']:8.3f}  {r['baseline']:22} "
            f"{r['baseline_median_s']:8.3f}  {r['ratio']:5.2f}x  <= {r['target_ratio']}x {ok}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=10_000, help="keys in the listed prefix")
    parser.add_argument("--reps", type=int, default=7, help="repetitions of each measurement")
    parser.add_argument("--server", choices=("inprocess", "subprocess"), default="inprocess")
    parser.add_argument("--skip-app", action="store_true", help="only the driver comparison")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(*args.serve)
        return
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)  # the benchmark's own server and keys only
    endpoint, handle = start_server(args.keys, args.reps + 1, args.server)
    try:
        results = [bench_prefix(endpoint, args.reps)]
        if not args.skip_app:
            results.append(bench_first_rows(endpoint, args.reps))
    finally:
        stop_server(handle)
    if args.json:
        print(json.dumps({"server": args.server, "results": results}, indent=2))
    else:
        print_table(results, args.server)


if __name__ == "__main__":
    main()
