"""The detail pane: object metadata and previews, prefix totals, bucket region,
connection settings, and literal display of hostile names and contents."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone

import pytest

from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.registry import open_driver
from support.servers import s3_client, seed_keys
from support.ui import (
    SIZE,
    GatedDriver,
    detail_of,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    set_mtime,
    settle,
    tree_of,
    until,
)

PARAMS = b'{"learning_rate": 0.001, "epochs": 12}\n'


@pytest.fixture
def utc(monkeypatch):
    """Local time is UTC for the test (times in the detail pane are local)."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_object_detail_and_preview_moto(s3_endpoint):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="art")
    client.put_object(
        Bucket="art",
        Key="runs/run-1/params.json",
        Body=PARAMS,
        ContentType="application/json",
        Metadata={"run": "run-1", "tool": "[red]mlflow[/red]"},
    )

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "runs/"))
            await open_node(pilot, find(app, "moto", "art", "runs/", "run-1/"))
            await select(pilot, find(app, "moto", "art", "runs/", "run-1/", "params.json"))
            text = detail_text(app)
            assert "Key            runs/run-1/params.json" in text
            assert f"Size           {len(PARAMS)} bytes" in text
            assert f"ETag           {hashlib.md5(PARAMS).hexdigest()}" in text
            assert "Content type   application/json" in text
            assert "Storage class  STANDARD" in text
            assert "run: run-1" in text and "tool: [red]mlflow[/red]" in text
            assert f"read {len(PARAMS)} of {len(PARAMS)} bytes" in text
            assert '"learning_rate": 0.001' in text
            assert app.screen.sub_title == "s3://art/runs/run-1/params.json"

    run(body())


def test_object_detail_local_time_age_and_binary_hexdump(tmp_path, utc):
    store = tmp_path / "store" / "b"
    store.mkdir(parents=True)
    (store / "model.bin").write_bytes(bytes(range(256)) * 8)
    (store / "big.log").write_bytes(b"line\n" * 20000)  # 100,000 bytes
    set_mtime(store / "model.bin", datetime(2025, 5, 29, 12, 0, 0, tzinfo=timezone.utc))
    spec = ConnectionSpec(name="disk", provider="local", root=str(store.parent))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "model.bin"))
            text = detail_text(app)
            assert "Size           2.0 KiB (2,048 bytes)" in text
            assert "Last modified  2025-05-29 12:00:00 UTC (3 days ago)" in text
            assert "binary, hex dump" in text
            assert (
                "00000000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|"
                in text
            )
            await select(pilot, find(app, "disk", "b", "big.log"))
            text = detail_text(app)
            assert "read 65,536 of 100,000 bytes; the last 64.0 KiB; m: read further back" in text

    run(body())


def test_prefix_bucket_and_connection_details(s3_endpoint):
    seed_keys("art", {f"big/k{i:04d}": b"12345" for i in range(1500)})
    secrets = Secrets("AKIAEXAMPLEKEY123456", "very-secret-value")
    spec = s3_spec(s3_endpoint, secrets=secrets)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            text = detail_text(app)  # the cursor starts on the connection
            assert "Provider     s3" in text
            assert f"Endpoint     {s3_endpoint}" in text
            assert "Region       us-east-1" in text
            assert "Credentials  in memory" in text
            assert "Identity     AKIA…3456" in text
            assert "AKIAEXAMPLEKEY123456" not in text and "very-secret-value" not in text
            await open_node(pilot, find(app, "moto", "art"))
            assert "Region   us-east-1" in detail_text(app)
            big = await open_node(pilot, find(app, "moto", "art", "big/"))
            text = detail_text(app)
            assert "1,000 objects, 4.9 KiB (5,000 bytes), 0 prefixes; more pages" in text
            await select(pilot, big.children[-1])  # "▤ 1,000+ keys — open list"
            await pilot.press("enter", "G")  # the level list loads the last page
            listing = tree_of(app).listings[id(big.data)]
            await until(pilot, lambda: not listing.has_more and not listing.load_all, "loaded")
            await select(pilot, big)
            text = detail_text(app)
            assert "1,500 objects, 7.3 KiB (7,500 bytes), 0 prefixes; complete" in text

    run(body())


def test_hostile_key_names_and_contents_render_literally(s3_endpoint):
    seed_keys(
        "art",
        {
            "[bold red]x[/]": b"markup key",
            "esc\x1b[31mred.txt": b"\x1b[31mred\x1b[0m and \x1b]0;title\x07 [b]bold[/b]\n",
        },
    )

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            bucket = await open_node(pilot, find(app, "moto", "art"))
            # "[bold red]x[/]" rolls up at its "/" into the prefix "[bold red]x[/".
            assert names(bucket) == ["[bold red]x[/", "esc␛[31mred.txt"]
            tree = tree_of(app)
            assert tree.line_text(bucket.children[0]) == "▶ [bold red]x[/"
            markup = await open_node(pilot, bucket.children[0])
            assert names(markup) == ["]"]
            await select(pilot, markup.children[0])
            assert "Key            [bold red]x[/]" in detail_text(app)
            assert "[bold red]x[/]" in screen_text(app)

            await select(pilot, find(app, "moto", "art", "esc␛[31mred.txt"))
            text = detail_text(app)
            assert "Key            esc␛[31mred.txt" in text
            assert "␛[31mred␛[0m and ␛]0;title␇ [b]bold[/b]" in text
            assert "\x1b" not in text and "\x07" not in text
            shown = screen_text(app)
            assert "esc␛[31mred.txt" in shown and "\x1b" not in shown

    run(body())


def test_moving_on_cancels_the_previous_objects_lookup(tmp_path):
    store = tmp_path / "store" / "b"
    store.mkdir(parents=True)
    (store / "slow.txt").write_text("slow object\n")
    (store / "fast.txt").write_text("fast object\n")
    spec = ConnectionSpec(name="disk", provider="local", root=str(store.parent))
    gated: list[GatedDriver] = []

    def factory(s):
        gated.append(GatedDriver(open_driver(s), keys=("slow.txt",)))
        return gated[-1]

    async def body():
        app = make_app([spec], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            tree = tree_of(app)
            tree.move_cursor(find(app, "disk", "b", "slow.txt"))
            await until(pilot, gated[0].waiting.is_set, "HeadObject of slow.txt started")
            await select(pilot, find(app, "disk", "b", "fast.txt"))
            assert "fast object" in detail_text(app)
            gated[0].gate.set()  # the slow answer arrives late...
            await settle(pilot)
            text = detail_text(app)
            assert "fast.txt" in text and "fast object" in text  # ...and does not land
            assert "slow" not in text
            assert detail_of(app).data.key == "fast.txt"

    run(body())
