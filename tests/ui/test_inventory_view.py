"""The app's inventory mode (``i``) against moto: a small S3 Inventory report (Parquet,
written as S3 documents it: support.inventory_reports) published under an inventory
configuration of the bucket (support.inventory_manifests), the objects themselves in the
bucket with the same sizes, ETags and times, so a plan from the report re-checks them live.

Snapshots (pytest-textual-snapshot, SVG in ``__snapshots__/``): the level view with its
charts (120x40 and 80x24), a prefix's charts, search results, the plan's outcome with a
changed key left alone, and the no-inventory message. Behaviour: enter and back, pages of
a big level, a search's match shown in its level, cancelling while opening, the review
and delete of a plan (the changed key survives).

URIs are ``s3://``; the report's cache is under a tmp ``XDG_CACHE_HOME`` that no screen
shows; the app's clock is fixed (support.ui.NOW) and the report was taken a day and a half
before it. Update with ``pytest tests/ui/test_inventory_view.py --snapshot-update``.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from textual.widgets import Input

from pail.drivers.registry import open_driver
from pail.ui.screens import inventory as inventory_screen
from pail.ui.screens.inventory import InventoryScreen
from pail.ui.screens.inventory_plan import InventoryPlanScreen, InventoryReviewScreen
from pail.ui.screens.inventory_search import InventorySearchScreen
from pail.ui.screens.inventory_sql import InventorySqlScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from pail.ui.widgets.inventory_charts import BarChart
from support.inventory_manifests import moto_put, publish_s3
from support.inventory_reports import S3_FIELDS, InvRow, write_s3_csv
from support.servers import moto_backend, s3_client, seed_keys
from support.ui import (
    NOW,
    SIZE,
    GatedDriver,
    confirm,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    select,
    settle,
    until,
)

BUCKET = "snapinv"
DEST = "inv-dest"
#: When S3 took the report (a day and a half before the app's clock).
CREATED = NOW - timedelta(days=1, hours=10)
#: The report's folder: the configuration's destination prefix, source bucket, id.
REPORTS = f"inventory/{BUCKET}/daily/"

#: key -> (size in bytes, age in days at the report's time, storage class)
OBJECTS: dict[str, tuple[int, float, str]] = {
    "README.md": (50, 3, "STANDARD"),
    "datasets/eval/part-0.parquet": (1500, 30, "STANDARD"),
    **{f"datasets/train/part-{i}.parquet": (2000, 400 + 200 * i, "GLACIER") for i in range(6)},
    "runs/run-01/metrics.csv": (300, 200, "STANDARD"),
    "runs/run-01/model.ckpt": (4000, 200, "GLACIER"),
    "runs/run-02/metrics.csv": (300, 120, "STANDARD"),
    "runs/run-02/model.ckpt": (4000, 120, "STANDARD_IA"),
    "runs/run-03/metrics.csv": (300, 45, "STANDARD"),
    "runs/run-03/model.ckpt": (4000, 45, "STANDARD_IA"),
    "runs/run-04/metrics.csv": (300, 10, "STANDARD"),
    "runs/run-04/model.ckpt": (4000, 10, "STANDARD"),
    "runs/run-05/model.ckpt": (4000, 0.5, "STANDARD"),
}
#: Changed in the store after the report: a plan leaves it alone.
CHANGED = "runs/run-02/model.ckpt"


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """The report cache (platformdirs' user cache) under tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _body(key: str, size: int) -> bytes:
    return (key.encode() * (size // max(1, len(key)) + 1))[:size]


def seed_report(endpoint: str, tmp_path, *, configure: bool = True) -> None:
    """The bucket's objects (moto's backend, times pinned), its report (CSV) under the
    destination, and the inventory configuration naming it."""
    seed_keys(BUCKET, {key: _body(key, size) for key, (size, _, _) in OBJECTS.items()})
    found = moto_backend().buckets[BUCKET].keys
    rows = []
    for key, (size, age, storage) in OBJECTS.items():
        when = (CREATED - timedelta(days=age)).replace(microsecond=0)
        found[key].last_modified = when.replace(tzinfo=None)
        etag = hashlib.md5(_body(key, size)).hexdigest()
        rows.append(InvRow(key, size, when, etag, storage, bucket=BUCKET))
    # CSV (gzip): its size, shown in the view, is the same with every pyarrow release (a
    # Parquet file's size changes with the writer's version: CI installs the newest).
    written = write_s3_csv(rows, tmp_path / "report", fields=S3_FIELDS)
    raw = s3_client(endpoint)
    raw.create_bucket(Bucket=DEST)
    publish_s3(moto_put(DEST), written, source_bucket=BUCKET, dest_bucket=DEST, created=CREATED)
    if configure:
        raw.put_bucket_inventory_configuration(
            Bucket=BUCKET,
            Id="daily",
            InventoryConfiguration={
                "Destination": {
                    "S3BucketDestination": {
                        "Bucket": f"arn:aws:s3:::{DEST}",
                        "Prefix": "inventory",
                        "Format": "Parquet",
                    }
                },
                "IsEnabled": True,
                "Id": "daily",
                "IncludedObjectVersions": "Current",
                "OptionalFields": ["Size", "LastModifiedDate", "ETag", "StorageClass"],
                "Schedule": {"Frequency": "Daily"},
            },
        )


def change_after_report(key: str = CHANGED) -> None:
    """Overwrite ``key`` in the store (new bytes, written 12 hours after the report): the
    report is out of date about it."""
    seed_keys(BUCKET, {key: b"rewritten after the report"})
    when = CREATED + timedelta(hours=12)
    moto_backend().buckets[BUCKET].keys[key].last_modified = when.replace(tzinfo=None)


async def open_inventory(pilot, *path: str) -> InventoryScreen:
    """Open the bucket in the tree, put the cursor on ``path`` (below it), press ``i`` and
    wait for the report's level and its detail."""
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", BUCKET))
    await select(pilot, find(app, "moto", BUCKET, *path))
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "inventory view")
    screen = app.screen
    await until(pilot, lambda: not screen.opening, "report opened", rounds=6000)
    await shown(pilot, screen)
    return screen


async def shown(pilot, screen: InventoryScreen) -> None:
    """Wait until the level's first page and the detail at the cursor are drawn."""
    await until(
        pilot,
        lambda: (
            screen.problem
            or (not screen.busy and screen.table.level is not None and screen._details)
        ),
        "level and detail shown",
    )
    await settle(pilot)


def table_names(screen: InventoryScreen) -> list[str]:
    return [row.name for row in screen.table.rows_loaded]


# -- snapshots ------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_level_view(snap_compare, s3_endpoint, tmp_path, cache, utc, size):
    seed_report(s3_endpoint, tmp_path)

    async def run_before(pilot):
        screen = await open_inventory(pilot)
        assert screen.prefix == ""
        assert table_names(screen) == ["datasets/", "runs/", "README.md"]
        title = str(screen.query_one("#inv-title").render())
        assert "inventory of 2025-05-31 02:00 UTC · snapshot · 17 objects" in title

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_charts_of_a_prefix(snap_compare, s3_endpoint, tmp_path, cache, utc):
    seed_report(s3_endpoint, tmp_path)

    async def run_before(pilot):
        screen = await open_inventory(pilot)
        await pilot.press("down")  # runs/
        await shown(pilot, screen)
        classes = screen.query_one("#inv-classes", BarChart)
        assert [(b.label, b.objects, b.bytes) for b in classes.bars] == [
            ("STANDARD", 6, 9200),
            ("STANDARD_IA", 2, 8000),
            ("GLACIER", 1, 4000),
        ]
        ages = screen.query_one("#inv-ages", BarChart)
        by_age = {b.label: b.objects for b in ages.bars}
        assert sum(by_age.values()) == 9 and ages.unit == "KiB"

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_search_results(snap_compare, s3_endpoint, tmp_path, cache, utc):
    seed_report(s3_endpoint, tmp_path)

    async def run_before(pilot):
        app = pilot.app
        await open_inventory(pilot)
        await pilot.press("slash")
        await until(pilot, lambda: isinstance(app.screen, InventorySearchScreen), "search")
        search = app.screen
        box = search.query_one(Input)
        box.cursor_blink = False
        await pilot.press(*"*.ckpt size>1kB", "enter")
        await until(pilot, lambda: search.result is not None, "searched")
        await settle(pilot)
        assert search.result.matched == 5 and search.result.bytes == 20_000

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_plan_leaves_a_changed_key_alone(snap_compare, s3_endpoint, tmp_path, cache, utc):
    seed_report(s3_endpoint, tmp_path)
    change_after_report()

    async def run_before(pilot):
        screen = await plan_under_runs(pilot, older_than="60d")
        outcome = screen.outcome
        assert outcome is not None and outcome.candidates == 4
        assert [c.key for c in outcome.changed] == [CHANGED]
        assert {i.key for i in outcome.plan.items} == {
            "runs/run-01/metrics.csv",
            "runs/run-01/model.ckpt",
            "runs/run-02/metrics.csv",
        }

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_no_inventory_says_what_was_looked_at(snap_compare, s3_endpoint, tmp_path, cache, utc):
    seed_report(s3_endpoint, tmp_path, configure=False)

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", BUCKET))
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "inventory view")
        screen = app.screen
        await until(pilot, lambda: bool(screen.problem), "refusal shown")
        assert screen.problem.startswith(f"No inventory for s3://{BUCKET}/")
        assert f"s3://{BUCKET}/ has no inventory configuration" in screen.problem
        screen.query_one(Input).cursor_blink = False
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


# -- behaviour ------------------------------------------------------------------------------


async def plan_under_runs(pilot, **fields: str) -> InventoryPlanScreen:
    """Open the inventory, enter runs/, z with ``fields``, wait for the plan's outcome."""
    app = pilot.app
    screen = await open_inventory(pilot)
    await pilot.press("down", "enter")  # runs/
    await until(pilot, lambda: screen.prefix == "runs/", "runs/ opened")
    await shown(pilot, screen)
    await pilot.press("z")
    await until(pilot, lambda: isinstance(app.screen, StaleFilterScreen), "stale filter")
    for name, value in fields.items():
        field = app.screen.query_one(f"#stale-{name}", Input)
        field.value = value
        field.cursor_blink = False
    await pilot.pause()
    await pilot.click("#stale-ok")
    await until(pilot, lambda: isinstance(app.screen, InventoryPlanScreen), "plan screen")
    plan = app.screen
    await until(pilot, lambda: not plan.planning, "plan made", rounds=6000)
    await settle(pilot)
    assert not plan.problem, plan.problem
    return plan


def test_enter_opens_a_prefix_and_backspace_comes_back_to_it(s3_endpoint, tmp_path, cache):
    seed_report(s3_endpoint, tmp_path)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_inventory(pilot, "runs/")  # opened at the cursor's prefix
            assert screen.prefix == "runs/"
            assert table_names(screen) == [f"run-0{i}/" for i in range(1, 6)]
            await pilot.press("down", "enter")  # run-02/
            await until(pilot, lambda: screen.prefix == "runs/run-02/", "run-02/ opened")
            await shown(pilot, screen)
            assert table_names(screen) == ["metrics.csv", "model.ckpt"]
            await pilot.press("backspace")
            await until(pilot, lambda: screen.prefix == "runs/", "back up")
            await shown(pilot, screen)
            row = screen.table.cursor_level_row()
            assert row is not None and row.key == "runs/run-02/"  # the prefix left
            await pilot.press("left", "left")
            await until(pilot, lambda: screen.prefix == "", "the bucket's root")
            await shown(pilot, screen)
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, InventoryScreen), "closed")

    run(body())


def test_a_big_level_loads_its_pages_as_the_cursor_nears_the_end(
    s3_endpoint, tmp_path, cache, monkeypatch
):
    seed_report(s3_endpoint, tmp_path)
    monkeypatch.setattr(inventory_screen, "PAGE_ROWS", 4)
    monkeypatch.setattr(inventory_screen, "PAGE_AHEAD", 1)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_inventory(pilot, "datasets/")
            await pilot.press("down", "enter")  # train/: six parts
            await until(pilot, lambda: screen.prefix == "datasets/train/", "train/ opened")
            await shown(pilot, screen)
            assert len(screen.table.rows_loaded) == 4 and not screen.table.complete
            await pilot.press("S")  # no sort before the level is loaded: it says why
            assert screen.table.sort_key == "name"
            await pilot.press("down", "down", "down")
            await until(pilot, lambda: screen.table.complete, "the next page")
            assert table_names(screen) == [f"part-{i}.parquet" for i in range(6)]
            await pilot.press("S")  # size: all equal, then newest
            await pilot.press("S")
            await settle(pilot)
            assert screen.table.sort_key == "objects"

    run(body())


def test_enter_on_a_match_shows_it_in_its_level(s3_endpoint, tmp_path, cache):
    seed_report(s3_endpoint, tmp_path)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_inventory(pilot)
            await pilot.press("ctrl+f")
            await until(pilot, lambda: isinstance(app.screen, InventorySearchScreen), "search")
            search = app.screen
            await pilot.press(*"eval", "enter")
            await until(pilot, lambda: search.result is not None, "searched")
            assert search.result.matched == 1
            await pilot.press("enter")
            await until(pilot, lambda: app.screen is screen, "back in the view")
            await until(pilot, lambda: screen.prefix == "datasets/eval/", "the match's level")
            await shown(pilot, screen)
            row = screen.table.cursor_level_row()
            assert row is not None and row.key == "datasets/eval/part-0.parquet"

    run(body())


def test_x_while_opening_stops_and_r_opens_again(s3_endpoint, tmp_path, cache):
    seed_report(s3_endpoint, tmp_path)
    gated: list[GatedDriver] = []

    def factory(spec):
        driver = GatedDriver(open_driver(spec), prefixes=(REPORTS,))
        gated.append(driver)
        return driver

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory=factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", BUCKET))
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "view")
            screen = app.screen
            await until(pilot, lambda: gated[0].waiting.is_set(), "locating the report")
            assert screen.opening
            await pilot.press("x")
            gated[0].gate.set()
            await until(pilot, lambda: not screen.opening, "stopped")
            assert screen.inventory is None
            assert screen.problem == "Opening stopped."
            await pilot.press("r")
            await until(pilot, lambda: screen.inventory is not None, "opened again", rounds=6000)
            await shown(pilot, screen)
            assert table_names(screen) == ["datasets/", "runs/", "README.md"]

    run(body())


def test_reviewed_plan_deletes_only_the_unchanged_keys(s3_endpoint, tmp_path, cache):
    seed_report(s3_endpoint, tmp_path)
    change_after_report()

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            plan = await plan_under_runs(pilot, older_than="60d")
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, InventoryReviewScreen), "review")
            review = app.screen
            await until(pilot, lambda: review.ready, "review ready")
            assert review.plan is plan.outcome.plan and review.plan.count == 3
            await confirm(pilot)
            keys = set(moto_backend().buckets[BUCKET].keys)
            assert CHANGED in keys  # left alone
            assert "runs/run-01/model.ckpt" not in keys
            assert "runs/run-02/metrics.csv" not in keys
            assert "runs/run-03/model.ckpt" in keys  # younger than 60 days

    run(body())


def test_a_manifest_typed_after_no_inventory_opens_and_y_shows_its_sql(
    s3_endpoint, tmp_path, cache
):
    seed_report(s3_endpoint, tmp_path, configure=False)
    manifest = f"s3://{DEST}/{REPORTS}{CREATED:%Y-%m-%dT%H-%MZ}/manifest.json"

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", BUCKET))
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, InventoryScreen), "view")
            screen = app.screen
            await until(pilot, lambda: bool(screen.problem), "no inventory")
            await pilot.press("tab")  # to the manifest field (the walk types into it)
            field = screen.query_one("#inv-manifest", Input)
            assert field.has_focus
            field.value = manifest
            await pilot.press("enter")
            await until(pilot, lambda: screen.inventory is not None, "opened", rounds=6000)
            await shown(pilot, screen)
            assert screen.manifest == manifest
            assert screen.report is not None and screen.report.manifest_uri == manifest
            await pilot.press("down", "y")  # runs/
            await until(pilot, lambda: isinstance(app.screen, InventorySqlScreen), "the SQL")
            sql = app.screen
            assert sql.dialect == "Athena" and not sql.problem
            assert "CREATE EXTERNAL TABLE" in sql.sql and "-- the level (bucket root)" in sql.sql
            await pilot.press("y")
            await until(
                pilot, lambda: any("Athena SQL" in n.message for n in app._notifications), "copied"
            )
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen, "back")

    run(body())
