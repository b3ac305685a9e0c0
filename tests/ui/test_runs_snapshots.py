"""Snapshots of the runs view (``e``), its metric plot and the run diff (``=``).

The store is a moto bucket holding four PyTorch Lightning CSVLogger versions written as
Lightning writes them (support.run_layouts), an lr sweep, each version's objects dated an
hour after the previous one (pinned on moto's in-process backend after seeding); the
app's clock is fixed (support.ui.NOW) and TZ is UTC. URIs are ``s3://``: no temporary
path is in the images.

Update with ``pytest tests/ui/test_runs_snapshots.py --snapshot-update`` and inspect the
text with ``screenshots/svg_check.py``.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from pail.ui.screens.run_diff import RunDiffScreen
from pail.ui.screens.runs import RunsScreen
from support.run_layouts import T0, lightning_rows, lightning_version
from support.servers import moto_backend, seed_keys
from support.stores import safetensors
from support.ui import SIZE, find, make_app, open_node, s3_spec, select, settle, until

BUCKET = "snapruns"
SWEEP = ((0.1, 2, 0.35), (0.03, 2, 0.2), (0.01, 3, 0.05), (0.003, 3, 0.1))


@pytest.fixture
def utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _seed() -> None:
    """Four versions under ``experiments/lightning_logs/`` and a README beside them."""
    files: dict[str, bytes] = {"experiments/README.md": b"# lr sweep\n"}
    for number, (lr, layers, seed) in enumerate(SWEEP):
        folder = f"experiments/lightning_logs/version_{number}/"
        files.update(
            lightning_version(
                folder,
                hparams={"lr": lr, "batch_size": 64, "layers": layers, "optimizer": "adamw"},
                rows=lightning_rows(epochs=5, steps_per_epoch=20, seed=seed),
                checkpoints=[(4, 99)],
                last=True,
            )
        )
        width = 64 if layers == 2 else 128
        files[folder + "export/model.safetensors"] = safetensors(
            {
                "encoder.weight": ("F32", [width, 32]),
                "head.weight": ("F32", [10, width]),
                "head.bias": ("F32", [10]),
            }
        )
        config = {"model": {"layers": layers, "width": width}, "optim": {"lr": lr}, "seed": 7}
        files[folder + "config.json"] = json.dumps(config, indent=2).encode()
    seed_keys(BUCKET, files)
    keys = moto_backend().buckets[BUCKET].keys
    for key in list(keys):
        number = int(key.split("version_")[1][0]) if "version_" in key else 0
        minutes = 7 * number + (3 if key.endswith((".ckpt", ".safetensors")) else 0)
        when = T0 + timedelta(hours=number, minutes=minutes + 40)
        for version in keys.getlist(key):
            version.last_modified = when.replace(tzinfo=None)


async def _runs_view(pilot) -> RunsScreen:
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", BUCKET))
    await select(pilot, find(app, "moto", BUCKET, "experiments/"))
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, RunsScreen), "the runs view")
    screen = app.screen
    await until(pilot, lambda: screen.runset is not None, "runs detected")
    await settle(pilot)
    return screen


@pytest.mark.parametrize("size", [SIZE, (80, 24)], ids=["120x40", "80x24"])
def test_runs_view(snap_compare, s3_endpoint, utc, size):
    _seed()

    async def run_before(pilot):
        await _runs_view(pilot)
        await pilot.press("space")  # version_3 is A; the cursor moves to version_2
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_runs_plot_of_two_runs(snap_compare, s3_endpoint, utc):
    _seed()

    async def run_before(pilot):
        screen = await _runs_view(pilot)
        await pilot.press("down", "down", "space")  # version_1 is A
        await pilot.press("up", "up", "up")  # the cursor on version_3
        await pilot.press("M")  # train_loss: a point every step
        await settle(pilot)
        assert [s.label for s in screen.plot.series] == ["version_3", "version_1"]

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_run_diff(snap_compare, s3_endpoint, utc):
    _seed()

    async def run_before(pilot):
        app = pilot.app
        await _runs_view(pilot)
        await pilot.press("down", "space")  # version_2 (3 layers) is A
        await pilot.press("space")  # version_1 (2 layers) is B
        await pilot.press("equals_sign")
        await until(pilot, lambda: isinstance(app.screen, RunDiffScreen), "the diff")
        await until(pilot, lambda: app.screen.diff is not None, "compared")
        await settle(pilot)

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
