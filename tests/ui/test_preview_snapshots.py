"""Snapshots of previews (Parquet, safetensors, a PNG in half cells, a log tail) and of the
downloads panel at the end of a download.

Deterministic: fixed bodies and last-modified times, a fixed clock, TZ=UTC, HOME set to
the test's folder so the download target shows as ``~/…``; the finished panel shows no
rate or ETA. Update with ``pytest tests/ui/test_preview_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import io
import struct
import time
import zlib
from datetime import datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.widgets.downloads_panel import DownloadsPanel
from support import stores as files
from support.servers import moto_backend, seed_keys
from support.ui import SIZE, find, make_app, open_node, s3_spec, screen_text, select, settle, until

MODIFIED = datetime(2025, 5, 20, 9, 30, 0)  # naive UTC, as moto keeps it


def gradient_png(width: int = 48, height: int = 32) -> bytes:
    """An RGB PNG (ISO/IEC 15948) with a red-to-blue gradient and a green diagonal."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b""
    for y in range(height):
        raw += b"\x00"
        for x in range(width):
            diagonal = abs(x * height - y * width) < width
            raw += bytes([255 * x // width, 255 if diagonal else 40, 255 * y // height])
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def history_parquet() -> bytes:
    steps = list(range(0, 500, 10))
    table = pa.table(
        {
            "step": steps,
            "loss": [round(2.5 / (1 + s / 50), 4) for s in steps],
            "accuracy": [round(min(0.99, 0.3 + s / 700), 4) for s in steps],
            "lr": [0.001] * len(steps),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=20)
    return buf.getvalue()


BODIES = {
    "run/history.parquet": history_parquet(),
    "run/model.safetensors": files.safetensors(
        {
            "embed.weight": ("F16", [4000, 512]),
            "layers.0.attn.qkv.weight": ("F16", [1536, 512]),
            "layers.0.mlp.up.weight": ("F16", [2048, 512]),
            "norm.weight": ("F32", [512]),
        },
        {"format": "pt", "base_model": "tiny-llama"},
    ),
    "run/loss_curve.png": gradient_png(),
    "run/train.log": b"".join(
        b"2025-05-20 09:%02d:%02d INFO epoch %d step %04d loss %.4f\n"
        % (i // 60 % 60, i % 60, i // 100, i, 2.5 / (1 + i / 50))
        for i in range(1200)
    ),
}


@pytest.fixture
def store(s3_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PAIL_DOWNLOAD_DIR", str(tmp_path / "dl"))
    time.tzset()
    seed_keys("artifacts", BODIES)
    for key in moto_backend().buckets["artifacts"].keys.values():
        key.last_modified = MODIFIED
    yield s3_endpoint
    monkeypatch.undo()
    time.tzset()


def _preview_of(name: str):
    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "artifacts"))
        await open_node(pilot, find(app, "moto", "artifacts", "run/"))
        await select(pilot, find(app, "moto", "artifacts", "run/", name))
        await settle(pilot)
        # A log's tail scrolls to its end after a refresh: on a loaded machine that came
        # after the capture. Give the scroll its frames before the picture.
        await pilot.pause(0.3)
        await settle(pilot)

    return run_before


@pytest.mark.parametrize(
    "name", ["history.parquet", "model.safetensors", "loss_curve.png", "train.log"]
)
def test_preview(snap_compare, store, name):
    app = make_app([s3_spec(store)])
    assert snap_compare(app, terminal_size=SIZE, run_before=_preview_of(name))


def test_downloads_panel_finished(snap_compare, store):
    async def run_before(pilot):
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "moto", "artifacts"))
        await select(pilot, find(app, "moto", "artifacts", "run/"))
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, DownloadTargetScreen), "dialog")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "panel")
        task = app.main_screen.downloads[-1]
        await until(pilot, lambda: task.report is not None, "finished")
        await until(pilot, lambda: app.screen.query_one(DownloadsPanel)._final_drawn, "drawn")
        # The table's columns are sized on a later refresh: on a loaded machine the first
        # frame can still show the names cut to the first column width.
        await until(pilot, lambda: "history.parquet" in screen_text(app), "names at full width")
        app.clear_notifications()
        await settle(pilot)

    app = make_app([s3_spec(store)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
