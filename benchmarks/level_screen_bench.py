"""Big level in the real app: pail's Textual app (headless, Textual's own test driver) on a
100,000-key prefix, keystroke to updated screen, side by side with raw boto3 in the same run.

The server is a separate process: as in ``level_bench.py`` (SeaweedFS seeded through its
filer by default, or ``--server moto``), holding ``datasets/shards/shard-NNNNNN.parquet``;
or ``--server demo``, the demo store of ``make demo`` (moto with IAM on, the admin's
throwaway keys) and its 20,000-key ``datasets/imagenet-mini/shards/``. The app opens the
prefix's "open list" row the way a user does (enter on the bucket, on each prefix, on the
list row) and then:

1. **First rows on screen**: from enter on the list row to the first frame that shows the
   level's first page (the tree's one page is already in), and, for scale, from enter on
   the prefix (a listing request) to its frame, vs one raw ``list_objects_v2`` page.
2. **Whole level with End**: from the key to the frame that shows every key loaded, vs the
   raw paginator's time for all pages (same server, run just before). Target <= 1.2x.
3. **Cursor moves** with every key loaded: ``down``, ``pagedown`` and ``up``, each timed from
   the key event to the frame whose cursor row is the new one. Target <= 30 ms.
4. **Filter**: ``/`` then ``shard-0001`` a character at a time, each timed from the key to
   the frame showing the narrowed rows; then ``escape``. Target <= 50 ms.

"Frame" is the moment Textual's compositor has rendered the screen's changed regions
(``App._display``, called with the update: every changed line rendered); the headless
driver writes nothing, so terminal output time is not counted. Medians and maxima over
the keystrokes; peak RSS of the process.

Usage: ``python benchmarks/level_screen_bench.py [--keys N] [--moves N] [--server S] [--json]``.
This is a script, not a test: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import level_bench  # (the same servers and keys as the model-level benchmark)
from peers import bench_connection

SIZE = (120, 40)
TYPED = level_bench.TYPED


class Frames:
    """Timestamps of the app's frames with the state each one showed."""

    def __init__(self, app: Any, state: Callable[[], Any]) -> None:
        self.times: list[tuple[float, Any]] = []
        inner = app._display  # Textual 8.2: App._display(screen, update) per frame

        def display(screen: Any, renderable: Any) -> None:
            inner(screen, renderable)
            if renderable is not None:
                self.times.append((time.perf_counter(), state()))

        app._display = display

    def first_after(self, start: float, shows: Callable[[Any], bool]) -> float | None:
        for when, seen in self.times:
            if when >= start and shows(seen):
                return when - start
        return None


async def _until(pilot: Any, predicate: Callable[[], bool], what: str, limit: float) -> None:
    """Poll ``predicate`` every 5 ms. A plain sleep, not ``pilot.pause``: that forces a
    compositor refresh at each call, which at this rate would take the main thread (and
    the GIL the listing threads need) and measure the poller instead of the app."""
    deadline = time.perf_counter() + limit
    while not predicate():
        if time.perf_counter() > deadline:
            raise SystemExit(f"never happened: {what}")
        await asyncio.sleep(0.005)


async def _key(pilot: Any, frames: Frames, key: str, shows: Callable[[Any], bool]) -> float:
    """Press ``key``; seconds from the key to the first frame that ``shows`` the result."""
    start = time.perf_counter()
    await pilot.press(key)
    result: list[float | None] = [None]

    def seen() -> bool:
        result[0] = frames.first_after(start, shows)
        return result[0] is not None

    await _until(pilot, seen, f"a frame after {key!r}", 30)
    return result[0] or 0.0


class Target:
    """Where the level is: the connection, its bucket, the tree labels down to the level's
    prefix, and the prefix."""

    def __init__(self, spec: Any, bucket: str, labels: list[str], prefix: str) -> None:
        self.spec, self.bucket, self.labels, self.prefix = spec, bucket, labels, prefix


def _serve_demo() -> None:
    """Child-process mode: the demo store; prints its endpoint and the admin's throwaway
    keys (loopback only, generated for this run) on one line to the parent's pipe."""
    import tempfile
    import threading

    from pail.demo.server import start_demo

    store = start_demo(large_object_bytes=1 << 20, local_root=tempfile.mkdtemp())
    print(store.endpoint, store.admin.access_key_id, store.admin.secret_access_key, flush=True)
    threading.Event().wait()


def start_demo_store() -> tuple[Target, Any]:
    import subprocess

    from pail.core.connection import ConnectionSpec, Secrets

    cmd = [sys.executable, os.path.abspath(__file__), "--serve-demo"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().split() if proc.stdout else []
    if len(line) != 3:
        proc.kill()
        raise SystemExit("the demo store did not start")
    endpoint, key_id, secret = line
    spec = ConnectionSpec(
        name="bench",
        provider="s3",
        endpoint_url=endpoint,
        region=level_bench.REGION,
        path_style=True,
        secrets=Secrets(key_id, secret),
    )
    target = Target(
        spec,
        "ml-artifacts",
        ["datasets/", "imagenet-mini/", "shards/"],
        "datasets/imagenet-mini/shards/",
    )

    def stop() -> None:
        proc.kill()
        proc.wait(timeout=10)

    return target, stop


def _raw_times(target: Target) -> tuple[float, float, int]:
    """One raw page (median of 3) and the raw paginator over the level (median of 2), in
    seconds, and the key count."""
    import boto3

    secrets = target.spec.secrets
    client = boto3.client(
        "s3",
        endpoint_url=target.spec.endpoint_url,
        region_name=level_bench.REGION,
        aws_access_key_id=secrets.access_key_id,
        aws_secret_access_key=secrets.secret_access_key,
    )
    args = {"Bucket": target.bucket, "Prefix": target.prefix, "Delimiter": "/"}
    client.list_objects_v2(MaxKeys=1, **args)  # warm-up: the connection is open
    pages = []
    for _ in range(3):
        start = time.perf_counter()
        client.list_objects_v2(MaxKeys=1000, **args)
        pages.append(time.perf_counter() - start)
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        count = 0
        for answer in client.get_paginator("list_objects_v2").paginate(**args):
            count += len(answer.get("Contents", []))
        runs.append(time.perf_counter() - start)
    return statistics.median(pages), statistics.median(runs), count


async def _drive(target: Target, keys: int, moves: int) -> dict[str, Any]:
    from textual.widgets import Tree

    from pail.ui.app import PailApp
    from pail.ui.widgets.level_list import LevelList

    app = PailApp([target.spec])
    out: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:

        def level_list() -> LevelList:
            return app.main_screen.query_one(LevelList)

        def state() -> tuple[int, int, int, str]:
            try:
                listing = level_list().listing
            except Exception:
                return (-1, -1, -1, "")
            if listing is None:
                return (-1, -1, -1, "")
            return (len(listing.rows), listing.cursor, len(listing.view), listing.view.filter_text)

        frames = Frames(app, state)
        tree = app.main_screen.query_one(Tree)
        await _until(pilot, lambda: len(tree.root.children) > 0, "the connection row", 30)

        pressed = [0.0]

        async def enter_on(label: str, parent: Any) -> Any:
            await _until(
                pilot,
                lambda: any(label in str(n.label) for n in parent.children),
                f"a row {label!r} under {[str(n.label) for n in parent.children][:5]}",
                60,
            )
            node = next(n for n in parent.children if label in str(n.label))
            tree.move_cursor(node)
            await asyncio.sleep(0.05)
            pressed[0] = time.perf_counter()  # timings start at the key, not the move
            if not node.is_expanded:  # enter on an open row would close it
                await pilot.press("enter")
            return node

        node = await enter_on("bench", tree.root)
        node = await enter_on(target.bucket, node)
        for label in target.labels[:-1]:
            node = await enter_on(label, node)
        shards = await enter_on(target.labels[-1], node)
        start = pressed[0]
        await _until(
            pilot,
            lambda: any("open list" in str(n.label) for n in shards.children),
            "the list row",
            60,
        )
        out["prefix_expanded_s"] = time.perf_counter() - start
        await enter_on("open list", shards)
        start = pressed[0]
        await _until(pilot, lambda: state()[0] >= 1000, "the list's first page", 60)
        shown = frames.first_after(start, lambda s: s[0] >= 1000)
        out["list_first_rows_s"] = shown
        await asyncio.sleep(0.2)
        start = time.perf_counter()
        await pilot.press("end")
        await _until(pilot, lambda: state()[0] >= keys, "every key loaded", 3600)
        await _until(
            pilot,
            lambda: frames.first_after(start, lambda s: s[0] >= keys) is not None,
            "a frame with every key",
            60,
        )
        out["end_all_s"] = frames.first_after(start, lambda s: s[0] >= keys)
        out["keys_loaded"] = state()[0]
        await pilot.press("home")
        await asyncio.sleep(0.2)
        cursor: dict[str, list[float]] = {"down": [], "pagedown": [], "up": []}
        for key in ("down", "pagedown", "up"):
            for _ in range(moves):
                before = state()[1]
                seconds = await _key(pilot, frames, key, lambda s, b=before: s[1] != b)
                cursor[key].append(seconds)
        out["cursor_ms"] = {k: [v * 1000 for v in vs] for k, vs in cursor.items()}
        await pilot.press("slash")
        await asyncio.sleep(0.2)
        typed: list[float] = []
        for i, ch in enumerate(TYPED):
            want = TYPED[: i + 1]
            typed.append(await _key(pilot, frames, ch, lambda s, w=want: s[3] == w))
        out["filter_ms"] = [v * 1000 for v in typed]
        out["filter_rows_left"] = state()[2]
        seconds = await _key(pilot, frames, "escape", lambda s: s[3] == "")
        out["filter_clear_ms"] = seconds * 1000
    return out


def _summary(ms: list[float]) -> str:
    return f"median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms (n={len(ms)})"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="keys in the level")
    parser.add_argument("--moves", type=int, default=30, help="presses of each cursor key")
    parser.add_argument("--server", choices=("seaweedfs", "moto", "demo"), default="seaweedfs")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--serve-demo", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_demo:
        _serve_demo()
        return
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.setdefault("PAIL_CONFIG", os.devnull + ".pail-bench.toml")
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    folder = None
    if args.server == "demo":
        target, stop = start_demo_store()
        args.keys = 20_000
    else:
        if args.server == "moto":
            endpoint, stop = level_bench.start_moto(args.keys)
        else:
            import tempfile

            folder = Path(tempfile.mkdtemp(prefix="pail-screen-bench-"))
            endpoint, stop = level_bench.start_seaweedfs(args.keys, folder)
        target = Target(
            bench_connection(endpoint, level_bench.REGION),
            level_bench.BUCKET,
            ["datasets/", "shards/"],
            level_bench.PREFIX,
        )
    try:
        raw_page, raw_all, raw_keys = _raw_times(target)
        app = asyncio.run(_drive(target, args.keys, args.moves))
    finally:
        stop()
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    app.update(raw_page_s=raw_page, raw_all_s=raw_all, raw_keys=raw_keys, server=args.server)
    app["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(app, indent=2))
        return
    print(f"pail app, {args.keys:,}-key level on {args.server} (headless, {SIZE[0]}x{SIZE[1]})")
    print(f"  raw page {raw_page * 1000:.0f} ms; raw paginator {raw_all:.2f} s ({raw_keys:,} keys)")
    print(
        f"  prefix expanded (one listing page in the tree): {app['prefix_expanded_s'] * 1000:.0f}"
        f" ms = {app['prefix_expanded_s'] / raw_page:.2f}x raw page (target <= 1.5x)"
    )
    first = app["list_first_rows_s"]
    print(f"  list opened on its first page: {first * 1000:.0f} ms (no request: page in memory)")
    print(
        f"  End, every key on screen: {app['end_all_s']:.2f} s = "
        f"{app['end_all_s'] / raw_all:.2f}x raw paginator (target <= 1.2x)"
    )
    for key, ms in app["cursor_ms"].items():
        print(f"  cursor {key}: {_summary(ms)} (target <= 30 ms)")
    print(f"  filter keystroke: {_summary(app['filter_ms'])} (target <= 50 ms)")
    print(f"    rows left after {TYPED!r}: {app['filter_rows_left']:,}")
    print(f"  filter cleared (escape): {app['filter_clear_ms']:.1f} ms")
    print(f"  peak RSS: {app['peak_rss_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
