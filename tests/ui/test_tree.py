"""The lazy tree on real stores: local folders and moto's S3 server over HTTP."""

from __future__ import annotations

import uuid

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from support.servers import gcs_client, seed_keys
from support.ui import (
    SIZE,
    GatedDriver,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    rows,
    run,
    s3_spec,
    select,
    settle,
    tree_of,
    until,
)


def _local_store(tmp_path):
    store = tmp_path / "store"
    (store / "runs" / "exp-1" / "run-1").mkdir(parents=True)
    (store / "runs" / "exp-1" / "run-2").mkdir(parents=True)
    (store / "runs" / "exp-1" / "run-1" / "params.json").write_text('{"lr": 0.1}\n')
    (store / "runs" / "README.md").write_text("# runs\n")
    (store / "models").mkdir()
    return store


def test_local_connection_bucket_prefix_children(tmp_path):
    store = _local_store(tmp_path)
    spec = ConnectionSpec(name="disk", provider="local", root=str(store))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "disk")
            assert conn.is_expanded  # connections open on start
            assert names(conn) == ["models", "runs"]
            bucket = await open_node(pilot, find(app, "disk", "runs"))
            assert names(bucket) == ["README.md", "exp-1/"]
            assert rows(app, bucket)[0] == "README.md  7 B"
            prefix = await open_node(pilot, find(app, "disk", "runs", "exp-1/"))
            assert names(prefix) == ["run-1/", "run-2/"]
            run1 = await open_node(pilot, find(app, "disk", "runs", "exp-1/", "run-1/"))
            assert names(run1) == ["params.json"]
            empty = await open_node(pilot, find(app, "disk", "models"))
            assert names(empty) == ["(empty)"]

    run(body())


def test_moto_bucket_and_prefix_children(s3_endpoint):
    seed_keys("art", ["runs/run-1/params.json", "runs/run-1/metrics.json", "runs/run-2/x", "top"])
    seed_keys("other", ["a"])

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert names(find(app, "moto")) == ["art", "other"]
            bucket = await open_node(pilot, find(app, "moto", "art"))
            assert names(bucket) == ["runs/", "top"]
            prefix = await open_node(pilot, find(app, "moto", "art", "runs/"))
            assert names(prefix) == ["run-1/", "run-2/"]
            run1 = await open_node(pilot, find(app, "moto", "art", "runs/", "run-1/"))
            assert names(run1) == ["metrics.json", "params.json"]

    run(body())


def test_large_prefix_is_one_list_row_not_a_node_per_key(s3_endpoint):
    """A level with more than one page gets one "open list" row in the tree; its keys
    live in the level list (tests/ui/test_level_list.py), which pages on from there."""
    keys = [f"big/k{i:05d}" for i in range(3000)]
    seed_keys("art", keys)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            big = await open_node(pilot, find(app, "moto", "art", "big/"))
            assert names(big) == ["▤ 1,000+ keys — open list"]
            listing = tree_of(app).listings[id(big.data)]
            assert [listing.rows.key(i) for i in range(len(listing.rows))] == keys[:1000]
            # The detail pane counts what the pager listed, not the (absent) child nodes.
            await select(pilot, big)
            assert "1,000 objects" in detail_text(app)
            assert "more pages not yet loaded" in detail_text(app)
            await select(pilot, big.children[0])
            await pilot.press("enter")
            await pilot.press("G")
            await until(pilot, lambda: not listing.has_more and not listing.load_all, "all")
            await settle(pilot)
            assert [listing.rows.key(i) for i in range(len(listing.rows))] == keys
            assert names(big) == ["▤ 3,000 keys — open list"]
            assert big.data.pager.pages_loaded == 3

    run(body())


def test_pinned_prefix_opens_as_bucket_slash_prefix(s3_endpoint):
    seed_keys("art", ["runs/run-1/params.json", "runs/run-1/train.log", "runs/run-2/x"])
    spec = s3_spec(s3_endpoint, bucket="art", prefix="runs/run-1/")

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "moto")
            assert names(conn) == ["art/runs/run-1/", "art"]  # pinned first, then listed
            pinned = find(app, "moto", "art/runs/run-1/")
            assert pinned.is_expanded
            assert names(pinned) == ["params.json", "train.log"]

    run(body())


def test_collapsed_level_drops_its_late_page(tmp_path):
    store = _local_store(tmp_path)
    spec = ConnectionSpec(name="disk", provider="local", root=str(store))
    gated: list[GatedDriver] = []

    def factory(s):
        gated.append(GatedDriver(open_driver(s), prefixes=("exp-1/",)))
        return gated[0]

    async def body():
        app = make_app([spec], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "runs"))
            prefix = find(app, "disk", "runs", "exp-1/")
            prefix.expand()
            await until(pilot, gated[0].waiting.is_set, "listing started")
            assert names(prefix) == ["loading…"]
            prefix.collapse()
            await pilot.pause()
            gated[0].gate.set()  # the old page arrives after the collapse
            await settle(pilot)
            assert names(prefix) == []
            assert not prefix.data.loaded
            await open_node(pilot, prefix)
            assert names(prefix) == ["run-1/", "run-2/"]  # listed once, not twice

    run(body())


def test_tree_labels_are_text_not_markup(tmp_path):
    store = tmp_path / "store"
    (store / "b").mkdir(parents=True)
    (store / "b" / "[bold red]x").write_text("x")
    (store / "b" / "[link=evil]y").write_text("y")
    spec = ConnectionSpec(name="disk", provider="local", root=str(store))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            bucket = await open_node(pilot, find(app, "disk", "b"))
            assert names(bucket) == ["[bold red]x", "[link=evil]y"]
            assert all(not child.label.spans for child in bucket.children)
            assert tree_of(app).line_text(bucket.children[0]).startswith("[bold red]x")

    run(body())


def test_gcs_emulator_bucket_prefix_and_object(gcs_emulator):
    client = gcs_client(gcs_emulator)
    bucket = client.create_bucket(f"pail-ui-{uuid.uuid4().hex[:8]}")
    bucket.blob("runs/run-1/params.json").upload_from_string(b'{"lr": 0.1}\n')
    bucket.blob("runs/notes.txt").upload_from_string(b"notes\n")
    spec = ConnectionSpec(name="gcs", provider="gcs", project="pail-test", bucket=bucket.name)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            pinned = find(app, "gcs", bucket.name)
            assert pinned.is_expanded and names(pinned) == ["runs/"]
            runs = await open_node(pilot, find(app, "gcs", bucket.name, "runs/"))
            assert names(runs) == ["notes.txt", "run-1/"]
            await select(pilot, runs.children[0])
            text = detail_text(app)
            assert f"gs://{bucket.name}/runs/notes.txt" in text and "read 6 of 6 bytes" in text

    run(body())
