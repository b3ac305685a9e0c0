"""Marks, downloads and object actions in the app, against moto server and folders:
files land intact, prefixes keep their relative paths, hostile keys are refused and
reported, cancel stops, the conflict modal's answers apply, presigned URLs work, the copy
command is right, and "open" downloads to the cache and hands the viewer the file."""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

import pytest

from pail.drivers.registry import open_driver
from pail.ui.screens.conflict import ConflictScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.presign import PresignScreen
from pail.ui.screens.unverified import UnverifiedScreen
from pail.ui.widgets.downloads_panel import DownloadsPanel
from pail.ui.widgets.level_list import LevelList
from support.servers import seed_keys
from support.ui import (
    SIZE,
    find,
    make_app,
    open_node,
    rows,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    tree_of,
    until,
)

BODIES = {
    "run/a.txt": b"A" * 1000,
    "run/b.bin": bytes(range(256)) * 40,
    "run/sub/c.json": b'{"c": 1}\n',
    "run/sub/deeper/d.csv": b"x,y\n1,2\n",
}


@pytest.fixture
def dest(tmp_path, monkeypatch):
    folder = tmp_path / "downloads"
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(folder))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return folder


async def download(pilot, folder: str | None = None) -> Any:
    """Press d, accept (or type) the folder, wait until the download is final."""
    app = pilot.app
    await pilot.press("d")
    await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
    if folder is not None:
        app.screen.query_one("Input").value = folder
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "downloads screen")
    task = app.main_screen.downloads[-1]
    await until(pilot, lambda: task.report is not None, "download finished")
    await until(pilot, lambda: app.screen.query_one(DownloadsPanel)._final_drawn, "drawn")
    return task


def test_marked_keys_download_intact_and_marks_survive_load_more(s3_endpoint, dest):
    seed_keys("art", BODIES)
    seed_keys("art", {f"many/k{i:04d}": b"%d" % i for i in range(1003)})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            many = await open_node(pilot, find(app, "moto", "art", "many/"))
            # Two pages: the level's keys are in the level list, marked there.
            await select(pilot, many.children[-1])  # "▤ 1,000+ keys — open list"
            await pilot.press("enter")
            level_list = app.main_screen.query_one(LevelList)
            listing = level_list.listing
            await until(pilot, lambda: level_list.has_focus, "the list has the focus")
            await pilot.press("space", "space")  # marks k0000 and k0001, moves down
            assert listing.cursor == 2
            await pilot.press("G")  # the last page
            await until(pilot, lambda: not listing.has_more and not listing.load_all, "all")
            assert list(listing.marks) == ["many/k0000", "many/k0001"]
            task = await download(pilot)  # d takes the list's marks
            for i in (0, 1):
                assert (dest / f"k{i:04d}").read_bytes() == b"%d" % i
            assert "Finished: 2 downloaded" in screen_text(app)
            await pilot.press("escape")
            assert task.report is not None and app.screen is app.main_screen
            await pilot.press("u")
            assert not listing.marks.count and not app.main_screen.marked_items()
            await pilot.press("escape")  # back to the tree
            assert tree_of(app).has_focus

            run_node = await open_node(pilot, find(app, "moto", "art", "run/"))
            for name in ("a.txt", "b.bin"):
                await select(pilot, find(app, "moto", "art", "run/", name))
                await pilot.press("space")
            await select(pilot, find(app, "moto", "art", "run/", "sub/"))
            await pilot.press("space")
            assert sorted(r for r in rows(app, run_node) if r.startswith("●")) == [
                "● a.txt  1000 B",
                "● b.bin  10.0 KiB",
                "● ▶ sub/",
            ]
            task = await download(pilot)
            assert task.dest == str(dest)
            # Common folder run/: the marked prefix keeps its own name.
            for key, data in BODIES.items():
                assert (dest / key.removeprefix("run/")).read_bytes() == data
            panel = app.screen.query_one(DownloadsPanel)
            assert panel.query_one("#dl-total").percentage == 1.0
            text = screen_text(app)
            assert "Finished: 4 downloaded, 0 skipped, 0 failed, 0 not verified, 0 refused" in text
            assert "verified: 4 md5" in text
            await pilot.press("escape")
            assert app.screen is app.main_screen

    run(body())


def test_prefix_download_keeps_paths_and_refuses_a_hostile_key(s3_endpoint, dest, tmp_path):
    seed_keys("art", {**BODIES, "run/../escape.txt": b"evil", "run/../../x": b"evil"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            task = await download(pilot)
            assert task.dest == str(dest / "run")  # a prefix gets its own folder
            for key, data in BODIES.items():
                assert (dest / key).read_bytes() == data
            text = screen_text(app)
            assert "refused   run/../escape.txt: '..' segment" in text
            assert "refused   run/../../x: '..' segment" in text
            assert "4 downloaded, 0 skipped, 0 failed, 0 not verified, 2 refused" in text
            written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
            assert not any("escape" in p or p.endswith("/x") or p == "x" for p in written)

    run(body())


class HeldDriver:
    """Wraps pail's driver: every ``stream_range`` holds until its file is cancelled (the
    engine's sink raises TransferCancelled once the file's cancel event is set)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream_range(self, bucket, key, start, end, sink, **kw: Any) -> None:
        self.started.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sink(b"")  # raises TransferCancelled once cancelled
            time.sleep(0.02)
        raise AssertionError("never cancelled")


def test_cancel_all_stops_every_file(s3_endpoint, dest):
    seed_keys("art", BODIES)
    held: list[HeldDriver] = []

    def factory(spec):
        held.append(HeldDriver(open_driver(spec)))
        return held[-1]

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            await until(pilot, held[0].started.is_set, "a transfer started")
            await until(pilot, lambda: app.screen.check_action("cancel_all", ()), "cancel key")
            await pilot.press("ctrl+x")
            task = app.main_screen.downloads[-1]
            await until(pilot, lambda: task.report is not None, "download finished")
            assert len(task.report.cancelled) == 4 and not task.report.done
            written = [p for p in dest.rglob("*") if p.is_file()]
            assert all(p.relative_to(dest).parts[0] == ".pail" for p in written)
            await until(pilot, lambda: "4 cancelled" in screen_text(app), "summary")

    run(body())


@pytest.mark.parametrize(
    ("key", "apply_all", "expected"),
    [
        ("o", True, {"a.txt": BODIES["run/a.txt"], "sub/c.json": BODIES["run/sub/c.json"]}),
        ("s", True, {"a.txt": b"old a", "sub/c.json": b"old c"}),
        ("k", False, {"a.txt": b"old a", "sub/c.json": b"old c"}),
    ],
)
def test_conflict_modal_answers(s3_endpoint, dest, key, apply_all, expected):
    seed_keys("art", BODIES)
    target = dest / "run"
    (target / "sub").mkdir(parents=True)
    (target / "a.txt").write_bytes(b"old a")
    (target / "sub" / "c.json").write_bytes(b"old c")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            asked = 0
            task = app.main_screen.downloads[-1]
            while True:
                await until(
                    pilot,
                    lambda: isinstance(app.screen, ConflictScreen) or task.report is not None,
                    "a question or the end",
                )
                if task.report is not None:
                    break
                asked += 1
                if apply_all:
                    await pilot.press("a")
                await pilot.press(key)
            assert asked == (1 if apply_all else 2)
            for rel, data in expected.items():
                assert (target / rel).read_bytes() == data
            assert (target / "b.bin").read_bytes() == BODIES["run/b.bin"]
            if key == "k":  # the new copies sit beside the old files
                kept = sorted(p.name for p in target.rglob("*") if "(" in p.name)
                assert len(kept) == 2
                assert BODIES["run/a.txt"] in [p.read_bytes() for p in target.rglob("a*.txt")]

    run(body())


@pytest.mark.parametrize(("key", "accepted"), [("y", True), ("n", False)])
def test_unverifiable_file_asks_before_taking_its_name(s3_endpoint, faults, dest, key, accepted):
    """A multipart object whose part sizes the store will not tell (HeadObject PartNumber
    answers 400) cannot be verified: the app asks; y accepts it, n keeps it aside."""
    from support.fault_proxy import Rule
    from support.servers import s3_client

    raw = s3_client(s3_endpoint)
    raw.create_bucket(Bucket="art")
    data = bytes(range(251)) * (11 * 1024 * 1024 // 251)
    upload = raw.create_multipart_upload(Bucket="art", Key="m/x.bin")
    part = 5 * 1024 * 1024 + 1  # no usual part size: guessing cannot verify it either
    parts = []
    for number, first in enumerate(range(0, len(data), part), start=1):
        etag = raw.upload_part(
            Bucket="art", Key="m/x.bin", UploadId=upload["UploadId"], PartNumber=number,
            Body=data[first : first + part],
        )["ETag"]  # fmt: skip
        parts.append({"PartNumber": number, "ETag": etag})
    raw.complete_multipart_upload(
        Bucket="art", Key="m/x.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    faults.add(Rule(method="HEAD", query="partNumber", times=None, status=400))

    async def body():
        app = make_app([s3_spec(faults.url)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "m/"))
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, UnverifiedScreen), "question")
            assert "part sizes" in screen_text(app)
            await pilot.press(key)
            task = app.main_screen.downloads[-1]
            await until(pilot, lambda: task.report is not None, "download finished")
            final = dest / "m" / "x.bin"
            if accepted:
                assert final.read_bytes() == data
                assert [d.verified for d in task.report.done] == ["unverified"]
            else:
                assert not final.exists()
                assert [f.code for f in task.report.failed] == ["Unverified"]
                await until(pilot, lambda: "1 not verified" in screen_text(app), "summary")

    run(body())


def test_presigned_url_and_copy_command(s3_endpoint, dest):
    seed_keys("art", BODIES)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "b.bin"))
            assert app.screen.check_action("presign", ())
            await pilot.press("p")
            await until(pilot, lambda: isinstance(app.screen, PresignScreen), "expiry modal")
            await pilot.press("down", "enter")  # 1 day
            await until(pilot, lambda: app.clipboard.startswith("http"), "URL copied")
            url = app.clipboard
            assert "X-Amz-Expires=86400" in url
            with urllib.request.urlopen(url) as response:  # no credentials: the URL signs
                assert response.read() == BODIES["run/b.bin"]

            await pilot.press("y")
            expected = f"aws s3 cp s3://art/run/b.bin . --endpoint-url {s3_endpoint}"
            assert app.clipboard == expected

            await select(pilot, find(app, "moto", "art", "run/", "sub/"))
            assert app.screen.check_action("presign", ()) is False  # objects only

    run(body())


def test_open_downloads_to_the_cache_and_runs_the_viewer(s3_endpoint, dest, tmp_path, monkeypatch):
    monkeypatch.setenv("PAGER", "less -R")
    seed_keys("art", BODIES)
    runs: list[list[str]] = []

    async def body():
        app = make_app([s3_spec(s3_endpoint)], viewer=lambda _app, argv: runs.append(argv))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "sub/"))
            await open_node(pilot, find(app, "moto", "art", "run/", "sub/"))
            await select(pilot, find(app, "moto", "art", "run/", "sub/", "c.json"))
            await pilot.press("o")
            await until(pilot, lambda: bool(runs), "viewer ran")
            argv = runs[0]
            assert argv[:2] == ["less", "-R"]
            cached = tmp_path / "cache" / "pail" / "open" / "moto" / "art" / "run/sub/c.json"
            assert argv[2] == str(cached)
            assert cached.read_bytes() == BODIES["run/sub/c.json"]

    run(body())
