"""Capture the README's screenshots from the real app on the demo store.

Run with ``make screenshots`` (or ``.venv/bin/python screenshots/capture.py``). It starts the
embedded demo store, drives :class:`pail.ui.app.PailApp` headless with Textual's Pilot the
way a user would (cursor keys and enter), and saves SVGs with ``App.save_screenshot``:

* ``browse.svg``: an MLflow run's train.log selected: detail and ranged preview;
* ``denied.svg``: the read-only connection's 403 on ``team-models``, with every error field;
* ``paging.svg``: a 20,000-key prefix showing its first page and "load more…".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from textual.worker import WorkerCancelled, WorkerFailed

from pail.demo import start_demo
from pail.ui.app import PailApp
from pail.ui.widgets.bucket_tree import BucketTree

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = (130, 40)


async def settle(pilot) -> None:
    """Wait until every worker has finished and its messages are handled (bounded)."""
    for _ in range(2000):
        await pilot.pause()
        pending = [w for w in pilot.app.workers if not w.is_finished]
        if not pending:
            return
        for worker in pending:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    raise RuntimeError("the app never settled")


async def goto(pilot, *path: str, expand: bool = True):
    """Move the cursor along child names from the root with the keyboard, expanding each."""
    tree = pilot.app.screen.query_one(BucketTree)
    node = tree.root
    for i, name in enumerate(path):
        node = next(c for c in node.children if c.label.plain == name)
        while tree.cursor_node is not node:
            key = "down" if tree.cursor_line < node.line else "up"
            await pilot.press(key)
        last = i == len(path) - 1
        if (expand or not last) and node.allow_expand and not node.is_expanded:
            await pilot.press("enter")
        await settle(pilot)
    return node


async def capture(store) -> None:
    app = PailApp(store.connections)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(BucketTree)
        tree.focus()
        run = "mlflow/"
        await goto(pilot, "demo", "ml-artifacts", run)
        runs = await goto(pilot, "demo", "ml-artifacts", run, "1/")
        first_run = runs.children[0].label.plain
        await goto(pilot, "demo", "ml-artifacts", run, "1/", first_run, "artifacts/")
        await goto(pilot, "demo", "ml-artifacts", run, "1/", first_run, "artifacts/", "train.log")
        app.save_screenshot("browse.svg", HERE)

        await goto(pilot, "demo", "ml-artifacts", run, expand=False)
        await pilot.press("left")  # collapse mlflow/ again
        await settle(pilot)
        await goto(pilot, "demo-readonly", "team-models", expand=False)
        app.save_screenshot("denied.svg", HERE)

        path = ("demo", "ml-artifacts", "datasets/", "imagenet-mini/", "shards/")
        shards = await goto(pilot, *path)
        # The end of the first page: the last keys and the "load more…" row.
        tree.move_cursor(shards.children[-1])
        await settle(pilot)
        assert tree.cursor_node is shards.children[-1], "the cursor is not on load more"
        app.save_screenshot("paging.svg", HERE)


def main() -> int:
    store = start_demo()
    try:
        asyncio.run(capture(store))
    finally:
        store.stop()
    print("saved browse.svg, denied.svg, paging.svg in", HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
