"""The app's wording against moto over HTTP, at 80 and 120 columns: counts meet their noun
in the right number ("1 object", "1 child prefix", "the last 1 run", "1 file"), the
versions screen counts what it lists ("2 versions and 1 delete marker", "1 version", none),
no table cell is wider than its column (nothing cut mid-word: ages are short, the access
check's "not checked" fits), and a download's rate is "– B/s" until bytes move, never
"0 Bytes/s"."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.ui.connection_ops import test_connection as connection_test
from pail.ui.screens.access_check import AccessCheckScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.screens.versions import VersionsScreen, listed_text
from pail.ui.widgets.downloads_panel import DownloadsPanel
from support.run_stores import seed_dated
from support.servers import s3_client
from support.ui import (
    NOW,
    confirm,
    detail_text,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    screen_text,
    seed_aged,
    select,
    settle,
    stale_filter,
    tree_of,
    until,
)

SIZES = [(80, 30), (120, 40)]
#: A count of 1 before a plural noun, as the app used to write it.
WRONG = ("1 objects", "1 keys", "1 child prefixes", "1 runs)", "1 versions", "1 files", "1 buckets")


def _plain(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def cut_cells(table: DataTable) -> list[tuple[str, str, int]]:
    """``(column, cell, width)`` of every cell wider than its column (a fixed width, or
    the width an auto column was given): such a cell is drawn cut."""
    out = []
    for row_key in table.rows:
        for column, cell in zip(table.ordered_columns, table.get_row(row_key), strict=True):
            width = column.content_width if column.auto_width else column.width
            if cell_len(_plain(cell)) > width:
                out.append((str(column.label), _plain(cell), width))
    return out


def fixed_cells(table: DataTable) -> list[str]:
    """The texts of the fixed-width columns' cells (the ones a screen edge must not cut)."""
    fixed = [i for i, c in enumerate(table.ordered_columns) if not c.auto_width]
    return [_plain(table.get_row(k)[i]) for k in table.rows for i in fixed]


def assert_nothing_cut(app) -> None:
    table = app.screen.query_one(DataTable)
    assert table.row_count
    assert cut_cells(table) == []
    text = screen_text(app)
    for cell in fixed_cells(table):
        assert cell.strip() in text, cell
    for wrong in WRONG:
        assert wrong not in text


@pytest.mark.parametrize("size", SIZES)
def test_versions_screen_counts_what_it_lists(s3_endpoint, size):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="ver")
    client.put_bucket_versioning(Bucket="ver", VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket="ver", Key="a.txt", Body=b"first\n")
    client.put_object(Bucket="ver", Key="a.txt", Body=b"second\n")
    client.put_object(Bucket="ver", Key="one.txt", Body=b"1\n")
    client.put_object(Bucket="ver", Key="gone.txt", Body=b"g\n")

    async def versions_of(pilot, key: str) -> VersionsScreen:
        app = pilot.app
        await select(pilot, find(app, "moto", "ver", key))
        await app.main_screen.run_action("versions")
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "versions")
        screen = app.screen
        await until(pilot, lambda: screen.loaded, "versions listed")
        await settle(pilot)
        return screen

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "ver"))
            # Listed in the tree, then gone for good (every version): nothing to list.
            for v in client.list_object_versions(Bucket="ver", Prefix="gone.txt")["Versions"]:
                client.delete_object(Bucket="ver", Key="gone.txt", VersionId=v["VersionId"])
            client.delete_object(Bucket="ver", Key="a.txt")  # a delete marker on top

            screen = await versions_of(pilot, "a.txt")
            assert [v.is_delete_marker for v in screen.rows] == [True, False, False]
            text = screen_text(app)
            assert "2 versions and 1 delete marker ·" in text
            assert_nothing_cut(app)
            screen.dismiss(False)
            await settle(pilot)

            screen = await versions_of(pilot, "one.txt")
            assert len(screen.rows) == 1
            assert "1 version ·" in screen_text(app)
            assert_nothing_cut(app)
            screen.dismiss(False)
            await settle(pilot)

            screen = await versions_of(pilot, "gone.txt")
            assert screen.rows == []
            text = screen_text(app)
            assert "No versions or delete markers" in text and "0 versions" not in text

    run(body())


def test_listed_text_words() -> None:
    assert listed_text([]) == "no versions or delete markers"


@pytest.mark.parametrize("size", SIZES)
def test_usage_words_one_of_each_and_fits(s3_endpoint, size):
    seed_aged(
        "art",
        {
            "exp/notes.md": (120, 1),
            "exp/run-01/model.ckpt": (48_000, 75),  # "2 months ago" in words
        },
    )

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "exp/"))
            await app.main_screen.run_action("sizes")
            await until(pilot, lambda: isinstance(app.screen, UsageScreen), "usage")
            await until(pilot, lambda: app.screen.finished, "scan finished")
            await settle(pilot)
            text = screen_text(app)
            assert "2 keys scanned" in text and "· 1 child prefix ·" in text
            assert "1 object directly here: 120 B" in text
            assert_nothing_cut(app)

    run(body())


def test_review_and_delete_word_one_run_and_one_object(s3_endpoint):
    # Two Lightning versions of one object each (hparams.yaml, 10 bytes)
    for n, age in ((1, 40), (2, 30)):
        key = f"runs/lightning_logs/version_{n}/hparams.yaml"
        seed_dated("art", {key: b"lr: 0.001\n"}, NOW - timedelta(days=age))

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "runs/"))
            review = await stale_filter(pilot, keep_last="1")
            assert review.plan is not None and review.plan.count == 1
            text = screen_text(app)
            assert "1 kept, 1 to delete" in text
            assert "keep   version_2 · among the last 1 run of experiment lightning_logs" in text
            assert "delete version_1 · 1 object, 10 B · not among the last 1 run" in text
            assert "1 object · 10 B (10 bytes)" in text and "1 key, all shown" in text
            assert_nothing_cut(app)
            progress = await confirm(pilot)
            assert progress.report.deleted == 1
            text = screen_text(app)
            assert "Delete of 1 object (10 B)" in text and "Deleted 1 of 1 object (10 B)." in text
            progress.action_verify()
            await until(pilot, lambda: progress.verify_result is not None, "verified")
            await pilot.pause()
            assert "Verified: the 1 key reported deleted is gone." in screen_text(app)
            for wrong in WRONG:
                assert wrong not in screen_text(app)

    run(body())


@pytest.mark.parametrize("size", SIZES)
def test_access_check_states_fit(s3_endpoint, size):
    seed_aged("art", {"data/x.bin": (10, 1)})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "data/"))
            await app.main_screen.run_action("access_check")
            await until(pilot, lambda: isinstance(app.screen, AccessCheckScreen), "access")
            screen = app.screen
            await until(pilot, lambda: screen.report is not None, "the check finished")
            await settle(pilot)
            table = screen.query_one(DataTable)
            states = [_plain(table.get_row(k)[2]) for k in table.rows]
            assert "not checked" in states  # the write probes, not allowed yet
            assert cut_cells(table) == []
            assert "not checked" in screen_text(app)

    run(body())


class HeldTransfers:
    """A real driver whose object bytes wait for ``gate`` (listings and heads do not):
    the download is under way with no byte moved yet. Wraps pail's driver, not an SDK."""

    def __init__(self, spec: ConnectionSpec) -> None:
        self.inner = open_driver(spec)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream_range(self, *args: Any, **kwargs: Any) -> None:
        self.waiting.set()
        assert self.gate.wait(60), "gate never opened"
        return self.inner.stream_range(*args, **kwargs)


def test_download_rate_waits_for_bytes_and_one_file(s3_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(tmp_path / "downloads"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    seed_aged("art", {"run/only.bin": (5000, 1)})
    drivers: list[HeldTransfers] = []

    def factory(spec: ConnectionSpec) -> HeldTransfers:
        drivers.append(HeldTransfers(spec))
        return drivers[-1]

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory=factory)
        async with app.run_test(size=(80, 30)) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await app.main_screen.run_action("download")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "downloads")
            await until(pilot, lambda: drivers[0].waiting.is_set(), "the transfer started")
            panel = app.screen.query_one(DownloadsPanel)
            stats = panel.query_one("#dl-stats")
            await until(pilot, lambda: "of 1 file" in str(stats.render()), "stats drawn")
            line = str(stats.render())
            assert "– B/s" in line and "Bytes" not in line and "0 B/s" not in line
            drivers[0].gate.set()
            task = app.main_screen.downloads[-1]
            await until(pilot, lambda: task.report is not None, "download finished")
            await until(pilot, lambda: panel._final_drawn, "drawn")
            assert "1 of 1 file · 4.9 KiB of 4.9 KiB" in str(stats.render())
            assert cut_cells(panel.query_one(DataTable)) == []
            await until(pilot, lambda: app._notifications, "the finished notice")
            notices = [n.message for n in app._notifications]
            assert any(m.startswith("Download 1: 1 file to ") for m in notices), notices

    run(body())


def test_connection_test_words_one_bucket(s3_endpoint):
    s3_client(s3_endpoint).create_bucket(Bucket="only")
    outcome = connection_test(s3_spec(s3_endpoint))
    assert outcome.summary == "ListBuckets answered: 1 bucket: only."
    seed_aged("only", {"a.txt": (1, 1)})
    outcome = connection_test(s3_spec(s3_endpoint, bucket="only"))
    assert outcome.summary.startswith("Listed only/: 1 entry on the first page")


def test_a_missing_local_folder_is_worded_as_a_folder(tmp_path):
    """A saved local connection whose folder is gone: the tree and the detail pane say
    "no such folder" and "Check the path", not S3's NoSuchBucket and bucket name."""
    gone = tmp_path / "runs"
    spec = ConnectionSpec(name="lab", provider="local", root=str(gone), single_bucket=True)

    async def body():
        app = make_app([spec])
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            node = find(app, "lab")
            await select(pilot, node)
            line = tree_of(app).line_text(node)
            text = " ".join(detail_text(app).split())
            assert "ENOENT" in line and "NoSuchBucket" not in line
            assert f"no such folder: {gone}" in text and "Check the path" in text
            for word in ("NoSuchBucket", "bucket name", "path-style"):
                assert word not in text

    run(body())
