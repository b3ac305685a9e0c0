"""Sizes, stale filter, review, confirmation and delete in the app, against moto server:
the usage screen's totals and sort, older-than + keep the last N runs (Lightning
versions) selecting exactly the right runs, the typed bucket name above the threshold,
the delete really deleting (listed again) and the tree following, prefix boundaries, dry
run, and a read-only identity's per-key AccessDenied reported with nothing counted as
deleted."""

from __future__ import annotations

from datetime import timedelta

from pail.core.connection import Secrets
from pail.core.units import plural
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.usage import UsageScreen
from support.run_stores import lightning_version, seed_dated
from support.servers import s3_client, seed_keys
from support.ui import (
    NOW,
    SIZE,
    confirm,
    find,
    finished,
    make_app,
    names,
    open_node,
    review_ready,
    rows,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    stale_filter,
    tree_of,
    until,
)


def _keys(endpoint: str, bucket: str, prefix: str = "") -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_usage_screen_totals_sort_and_tree_sizes(s3_endpoint):
    seed_keys("art", {"runs/a/x.bin": b"x" * 5000, "runs/b/1": b"y", "runs/b/2": b"y"})
    seed_keys("art", {"runs/b/3": b"y", "runs/top.txt": b"t" * 10})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            runs = await open_node(pilot, find(app, "moto", "art", "runs/"))
            await select(pilot, runs)
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, UsageScreen), "usage screen")
            screen = app.screen
            await until(pilot, lambda: screen.finished, "scan finished")
            table = screen.query_one("DataTable")
            assert [table.get_row_at(i)[0].plain for i in range(2)] == ["a/", "b/"]
            text = screen_text(app)
            assert "5 keys scanned" in text and "complete" in text
            await pilot.press("S")  # next sort, by count: b/ (3 objects) first
            assert table.get_row_at(0)[0].plain == "b/"
            await pilot.press("enter")  # opens b/ in the tree
            await until(pilot, lambda: app.screen is app.main_screen, "back to the tree")
            await settle(pilot)
            cursor = tree_of(app).cursor_node
            await until(pilot, lambda: tree_of(app).cursor_node.data.key == "runs/b/", "cursor")
            drawn = rows(app, runs)
            assert any(r.startswith("▶ a/") and "4.9 KiB · 1 obj" in r for r in drawn), drawn
            assert cursor is not None

    run(body())


def test_older_than_keep_last_review_confirm_delete_and_refresh(s3_endpoint):
    # Lightning versions 1..6: 30, 25, 20, 10, 2, 1 days old: older than 7 days are
    # version_1..4, and keeping the last three runs (4..6) leaves version_1..3 to delete.
    ages = {1: 30, 2: 25, 3: 20, 4: 10, 5: 2, 6: 1}
    for n, age in ages.items():
        seed_dated("art", lightning_version("runs/", n), NOW - timedelta(days=age))

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            runs = await open_node(pilot, find(app, "moto", "art", "runs/"))
            await select(pilot, runs)
            review = await stale_filter(pilot, older_than="7d", keep_last="3")
            plan = review.plan
            assert plan is not None
            assert sorted({k.key.split("/")[2] for k in plan.items}) == [
                "version_1",
                "version_2",
                "version_3",
            ]
            assert plan.count == 9
            text = screen_text(app)
            assert f"{plural(9, 'object')} · " in text
            assert "Runs (PyTorch Lightning): 3 kept, 3 to delete" in text
            assert "keep   version_6 · among the last 3 runs of experiment lightning_logs" in text
            progress = await confirm(pilot)  # 9 objects, no whole prefix: no typing
            assert progress.report.deleted == 9 and not progress.report.failed
            assert "Deleted 9 of 9 objects" in screen_text(app)
            await pilot.press("escape")
            await settle(pilot)
            left = _keys(s3_endpoint, "art", "runs/")
            assert sorted({k.split("/")[2] for k in left}) == [
                "version_4",
                "version_5",
                "version_6",
            ]
            logs = await open_node(pilot, find(app, "moto", "art", "runs/", "lightning_logs/"))
            assert names(logs) == ["version_4/", "version_5/", "version_6/"]

    run(body())


def test_prefix_delete_needs_typed_bucket_and_keeps_boundary(s3_endpoint):
    seed_keys("art", {"runs/run-1/a": b"1", "runs/run-1/b": b"2", "runs/run-10/c": b"3"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "runs/"))
            await select(pilot, find(app, "moto", "art", "runs/", "run-1/"))
            await pilot.press("X")
            review = await review_ready(pilot)
            assert [i.key for i in review.plan.items] == ["runs/run-1/a", "runs/run-1/b"]
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirm")
            dialog = app.screen
            button = dialog.query_one("#delete-confirm-yes")
            assert dialog.typed_needed and button.disabled  # a whole prefix is emptied
            dialog.query_one("#delete-confirm-bucket").value = "ar"
            await pilot.pause()
            assert button.disabled
            await pilot.press("enter")  # enter on a wrong name does nothing
            assert app.screen is dialog
            dialog.query_one("#delete-confirm-bucket").value = "art"
            await pilot.pause()
            assert not button.disabled
            await pilot.click("#delete-confirm-yes")
            await finished(pilot)
            assert _keys(s3_endpoint, "art") == ["runs/run-10/c"]

    run(body())


def test_dry_run_deletes_nothing(s3_endpoint):
    seed_keys("art", {"runs/run-1/a": b"1", "runs/run-2/b": b"2"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, await open_node(pilot, find(app, "moto", "art")))
            await pilot.press("space", "space")  # marks runs/ ... then moves on
            await select(pilot, find(app, "moto", "art", "runs/"))
            await pilot.press("X")
            await review_ready(pilot)
            await pilot.press("t", "X")  # dry run: no confirmation
            progress = await finished(pilot)
            assert progress.report.dry_run and progress.report.deleted == 2
            assert "Nothing was deleted" in screen_text(app)
            assert _keys(s3_endpoint, "art") == ["runs/run-1/a", "runs/run-2/b"]

    run(body())


def test_read_only_delete_is_reported_per_key_with_nothing_deleted(moto_iam_server):
    reader = moto_iam_server.users["reader"]
    spec = s3_spec(
        moto_iam_server.endpoint,
        name="read-only",
        bucket=moto_iam_server.bucket,
        secrets=Secrets(reader.access_key_id, reader.secret_access_key),
    )
    bucket = moto_iam_server.bucket

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "read-only", bucket))
            data = await open_node(pilot, find(app, "read-only", bucket, "data/"))
            await select(pilot, data.children[0])
            await pilot.press("X")  # one object: a y/N confirmation, no typing
            review = await review_ready(pilot)
            assert review.plan.count == 1
            progress = await confirm(pilot)
            report = progress.report
            assert report.deleted == 0
            assert [(f.key, f.code) for f in report.failed] == [("data/a.txt", "AccessDenied")]
            text = screen_text(app)
            assert "Deleted 0 of 1 object " in text and "1 failed: 1 AccessDenied" in text
            assert "data/a.txt" in text
        admin = moto_iam_server.users["admin"]
        client = s3_client(
            moto_iam_server.endpoint,
            aws_access_key_id=admin.access_key_id,
            aws_secret_access_key=admin.secret_access_key,
        )
        listed = client.list_objects_v2(Bucket=bucket, Prefix="data/")
        assert "data/a.txt" in [o["Key"] for o in listed["Contents"]]

    run(body())


def test_mark_level_and_invert(s3_endpoint):
    seed_keys("art", {"runs/a": b"1", "runs/b": b"2", "runs/c/d": b"3"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            runs = await open_node(pilot, find(app, "moto", "art", "runs/"))
            await select(pilot, runs.children[0])
            await pilot.press("space")  # marks runs/a
            await pilot.press("asterisk")  # invert: b and c/ marked, a not
            marked = sorted(d.key for d in tree_of(app).marks.values())
            assert marked == ["runs/b", "runs/c/"]
            await pilot.press("plus")
            assert len(tree_of(app).marks) == 3

    run(body())
