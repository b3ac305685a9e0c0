"""The main screen's layout on a small terminal, and the marks' count in the status bar.

The demo store's buckets (:func:`pail.demo.seed.seed_store`, fixed seed and "now") are put
straight into the in-process moto server's backend and listed by the app over HTTP. Not
:func:`pail.demo.server.start_demo`: its IAM switch is process-global and would deny the
other tests' requests.

Update the snapshot with ``pytest tests/ui/test_layout_snapshots.py --snapshot-update``
and inspect the SVG.
"""

from __future__ import annotations

import random
import time

import pytest

from pail.core.units import size_text
from pail.demo.seed import BUCKET, seed_store
from pail.ui.widgets.status_bar import marks_text
from support.servers import moto_backend
from support.ui import (
    NOW,
    find,
    make_app,
    names,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    tree_of,
)

SMALL = (80, 24)


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def demo(s3_endpoint, utc):
    """The demo store's buckets (small sizes) in the moto server, as connection "demo"."""
    seed_store(
        moto_backend(),
        random.Random(7),
        NOW,
        large_prefix_keys=1500,
        large_object_bytes=1 << 20,
    )
    return s3_spec(s3_endpoint, name="demo")


async def _three_deep(pilot):
    """Expand ml-artifacts, mlflow/ and 1/; the cursor on the first run."""
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "demo", BUCKET))
    await open_node(pilot, find(app, "demo", BUCKET, "mlflow/"))
    experiment = await open_node(pilot, find(app, "demo", BUCKET, "mlflow/", "1/"))
    await select(pilot, experiment.children[0])
    return experiment


def test_main_screen_80x24_three_levels_deep(snap_compare, demo):
    async def run_before(pilot):
        await _three_deep(pilot)

    app = make_app([demo])
    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


@pytest.mark.parametrize(
    ("width", "tree", "detail"),
    [
        (80, 44, 36),  # "-narrow": 2-cell guides; a run id three levels deep, whole
        (99, 44, 55),
        (100, 48, 52),  # the tree's minimum with 3-cell guides
        (120, 48, 72),  # 40% is 48 again
        (160, 64, 96),  # 40%
        (70, 38, 32),  # "-tiny": 55% / the rest, both still on screen
    ],
)
def test_tree_pane_width_follows_the_terminal(demo, width, tree, detail):
    async def body():
        app = make_app([demo])
        async with app.run_test(size=(width, 24)) as pilot:
            experiment = await _three_deep(pilot)
            screen = app.main_screen
            assert screen.query_one("#tree-pane").outer_size.width == tree
            assert screen.query_one("#right-pane").outer_size.width == detail
            if width >= 80:  # every run id (32 hex digits) is drawn whole
                runs = [n for n in names(experiment) if n.endswith("/")]  # and meta.yaml
                assert len(runs) == 4 and all(len(r) == 33 for r in runs)
                text = screen_text(app)
                for run_id in runs:
                    assert run_id in text

    run(body())


def test_marks_text():
    assert marks_text(0, 0, 0) == ""
    assert marks_text(1, 512, 0) == "1 marked · 512 B"
    assert marks_text(3, 3 << 29, 1) == "3 marked · 1.5 GiB + 1 prefix"
    assert marks_text(2, 0, 2) == "2 marked · 2 prefixes"
    assert marks_text(1_200, 0, 0) == "1,200 marked · 0 B"


def _size(key: str) -> int:
    return moto_backend().buckets[BUCKET].keys[key].size


def test_status_bar_counts_marks_then_u_clears_them(demo):
    async def body():
        app = make_app([demo])
        async with app.run_test(size=SMALL) as pilot:
            experiment = await _three_deep(pilot)
            run_id = names(experiment)[0]
            path = ("demo", BUCKET, "mlflow/", "1/", run_id, "artifacts/")
            await open_node(pilot, find(app, *path[:-1]))
            artifacts = await open_node(pilot, find(app, *path))
            status = app.main_screen.status
            assert "marked" not in status.plain
            for name in ("metrics.json", "params.json", "plots/"):
                await select(pilot, find(app, *path, name))
                await pilot.press("space")
            await settle(pilot)
            assert len(tree_of(app).marks) == 3
            base = f"mlflow/1/{run_id}artifacts/"
            size = _size(base + "metrics.json") + _size(base + "params.json")
            expected = f"3 marked · {size_text(size)} + 1 prefix"
            assert expected in status.plain
            assert expected in screen_text(app)  # drawn, whole, at 80 columns
            # Unmarking one object takes its size off.
            await select(pilot, find(app, *path, "params.json"))
            await pilot.press("space")
            await settle(pilot)
            left = _size(base + "metrics.json")
            assert f"2 marked · {size_text(left)} + 1 prefix" in status.plain
            await select(pilot, artifacts)
            await pilot.press("u")
            await settle(pilot)
            assert not tree_of(app).marks
            assert "marked" not in status.plain
            assert "marked" not in screen_text(app)

    run(body())


def test_status_bar_adds_a_level_lists_marks(demo):
    """Marks in a big level's list (1,500 shards) count with the tree's, until ``u``."""

    async def body():
        app = make_app([demo])
        async with app.run_test(size=SMALL) as pilot:
            await settle(pilot)
            path = ("demo", BUCKET, "datasets/", "imagenet-mini/")
            await open_node(pilot, find(app, *path[:2]))
            await open_node(pilot, find(app, *path[:3]))
            await open_node(pilot, find(app, *path))
            readme = find(app, *path, "README.md")
            await select(pilot, readme)
            await pilot.press("space")
            shards = await open_node(pilot, find(app, *path, "shards/"))
            await select(pilot, shards.children[-1])  # "▤ 1,000+ keys — open list"
            await pilot.press("enter")
            await settle(pilot)
            await pilot.press("space", "space")  # the first two shards
            await settle(pilot)
            status = app.main_screen.status
            base = "datasets/imagenet-mini/"
            size = sum(
                _size(key)
                for key in (
                    base + "README.md",
                    base + "shards/shard-00000.tar",
                    base + "shards/shard-00001.tar",
                )
            )
            assert f"3 marked · {size_text(size)}" in status.plain
            assert "prefix" not in status.plain
            await pilot.press("shift+tab")  # back to the tree
            await settle(pilot)
            await select(pilot, readme)
            await pilot.press("u")
            await settle(pilot)
            assert "marked" not in status.plain

    run(body())
