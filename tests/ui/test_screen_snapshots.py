"""Snapshots of the screens the other snapshot files leave out: versions (``v``), the
keys help (``?``) on the main screen at 80x24 and on a sub-screen, and the dialogs: the
download folder (``d``), the presigned URL's lifetime (``p``) and the delete confirmation
of a prefix (``X``, ``X``). Deterministic: moto's
random version ids and times are pinned on its in-process backend after seeding, and the
app's clock is fixed (support.ui.NOW).

Update with ``pytest tests/ui/test_screen_snapshots.py --snapshot-update`` and inspect.
"""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.help import HelpScreen
from pail.ui.screens.presign import PresignScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.screens.versions import VersionsScreen
from support.servers import moto_backend, s3_client
from support.ui import SIZE, find, make_app, open_node, s3_spec, select, settle, until

MODIFIED = [datetime(2025, 5, 20, 9, 30, 0), datetime(2025, 5, 21, 14, 5, 0)]


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _versioned(endpoint: str) -> None:
    client = s3_client(endpoint)
    client.create_bucket(Bucket="snapver")
    client.put_bucket_versioning(Bucket="snapver", VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket="snapver", Key="runs/r1/params.json", Body=b'{"lr": 0.1}\n')
    client.put_object(Bucket="snapver", Key="runs/r1/params.json", Body=b'{"lr": 0.01}\n')
    client.put_object(Bucket="snapver", Key="runs/r1/model.bin", Body=b"m" * 4096)
    keys = moto_backend().buckets["snapver"].keys
    for key in sorted(keys.keys()):
        for number, version in enumerate(keys.getlist(key)):  # oldest first
            version._version_id = f"{key.rsplit('/', 1)[-1].split('.')[0]}-v{number + 1}"
            version.last_modified = MODIFIED[min(number, 1)]


async def _at_params(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", "snapver"))
    await open_node(pilot, find(app, "moto", "snapver", "runs/"))
    await open_node(pilot, find(app, "moto", "snapver", "runs/", "r1/"))
    await select(pilot, find(app, "moto", "snapver", "runs/", "r1/", "params.json"))
    await settle(pilot)


def test_versions_of_an_object(snap_compare, s3_endpoint, utc):
    _versioned(s3_endpoint)

    async def run_before(pilot):
        app = pilot.app
        await _at_params(pilot)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "versions")
        await until(pilot, lambda: app.screen.loaded, "versions listed")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_keys_help_at_80x24(snap_compare, s3_endpoint, utc):
    _versioned(s3_endpoint)

    async def run_before(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "help")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_keys_help_of_a_sub_screen(snap_compare, s3_endpoint, utc):
    _versioned(s3_endpoint)

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "snapver"))
        await select(pilot, find(app, "moto", "snapver", "runs/"))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, UsageScreen), "sizes")
        await until(pilot, lambda: app.screen.finished, "scanned")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), SIZE], ids=["80x24", "120x40"])
def test_download_dialog(snap_compare, s3_endpoint, utc, tmp_path, monkeypatch, size):
    _versioned(s3_endpoint)
    monkeypatch.setenv("HOME", str(tmp_path))  # shown as ~/…: no tmp path in the picture
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(tmp_path / "Downloads" / "pail"))

    async def run_before(pilot):
        await _at_params(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, DownloadTargetScreen), "dialog")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_presign_dialog(snap_compare, s3_endpoint, utc):
    _versioned(s3_endpoint)

    async def run_before(pilot):
        await _at_params(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(pilot.app.screen, PresignScreen), "dialog")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_delete_confirm_of_a_prefix(snap_compare, s3_endpoint, utc):
    _versioned(s3_endpoint)

    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "snapver"))
        await open_node(pilot, find(app, "moto", "snapver", "runs/"))
        await select(pilot, find(app, "moto", "snapver", "runs/", "r1/"))
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, DeleteReviewScreen), "review")
        await until(pilot, lambda: app.screen.plan is not None, "planned")
        await pilot.press("X")
        await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirm")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
