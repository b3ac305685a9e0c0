"""Previews in the detail pane, on real files in moto S3 and local folders: each kind
shows its essentials, "m" extends text previews, limits come from the environment, and
storage errors (a GLACIER object's 403) show like any other error."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.core.connection import ConnectionSpec
from support import stores as files
from support import tool_files
from support.servers import s3_client, seed_keys
from support.ui import (
    SIZE,
    detail_of,
    detail_text,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    select,
    settle,
)

#: A 24,000-byte training log: with an 8 KiB preview window (the test sets it) its tail and
#: three more windows are the whole file. The window, not the default 64 KiB, keeps the
#: pane's text small: drawing (wrapping) it is the cost, not reading it.
LOG = b"".join(f"step {i:05d} loss {1 / (i + 1):.5f}\n".encode() for i in range(1000))


def parquet_bytes() -> bytes:
    table = pa.table({"step": list(range(100)), "loss": [1 / (i + 1) for i in range(100)]})
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=40)
    return buf.getvalue()


KINDS = {
    "history.parquet": parquet_bytes(),
    "model.safetensors": files.safetensors(
        {"w": ("F32", [256, 128]), "b": ("F32", [128])}, {"format": "pt"}
    ),
    "metrics.csv": b"epoch,loss,accuracy\n1,0.9,0.51\n2,0.5,0.77\n",
    "curve.png": files.png(40, 30),
    "epoch=1.ckpt": files.checkpoint(
        {"archive/data.pkl": b"\x80\x02}q\x00.", "archive/data/0": b"\0" * 64}
    ),
    "scores.npy": files.npy("<f4", (10, 3), data=120),
    "analysis.ipynb": files.notebook(
        [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Loss study"]},
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": 1,
                "source": ["print(1 + 1)"],
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["2\n"]}],
            },
        ]
    ),
    "README.md": b"# Run notes\n\nSee [the dashboard](http://example.invalid) for *details*.\n",
    "config.yaml": b"lr: 0.001\nlayers: [64, 64]\n",
    "blob.bin": bytes(range(256)) * 4,
}

EXPECTED = {
    "history.parquet": ["Rows        100", "3 row groups (40, 40, 20 rows)", "loss     double"],
    "model.safetensors": ["Parameters  32,896 (32.9 K)", "w        F32     [256, 128]"],
    "metrics.csv": ["3 columns, separated by 'comma'; 2 rows", "epoch   loss   accuracy"],
    "curve.png": ["PNG image, 40 x 30 pixels"],
    "epoch=1.ckpt": ["PyTorch checkpoint (zip): 2 entries", "archive/data.pkl"],
    "scores.npy": ["array    <f4     [10, 3]           30", "fortran_order"],
    "analysis.ipynb": ["2 cells, kernel language python", "[2] code", "print(1 + 1)"],
    "README.md": ["Run notes", "the dashboard"],
    "config.yaml": ["lr: 0.001"],
    "blob.bin": ["binary, hex dump", "00000000  00 01 02 03"],
}


def test_every_kind_renders_its_essentials_from_moto(s3_endpoint):
    seed_keys("art", {f"run/{name}": body for name, body in KINDS.items()})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            for name, expected in EXPECTED.items():
                await select(pilot, find(app, "moto", "art", "run/", name))
                text = detail_text(app)
                size = len(KINDS[name])
                assert f"of {size:,} bytes" in text, (name, text)
                for needle in expected:
                    assert needle in text, (name, needle, text)
                image = detail_of(app).query_one("#detail-preview").image
                assert (image is not None) == (name == "curve.png"), name
            # Markdown is rendered, and its link is plain text: no OSC 8 hyperlink.
            await select(pilot, find(app, "moto", "art", "run/", "README.md"))
            assert "\x1b]8;" not in detail_text(app)

    run(body())


def test_log_tail_and_more_reads_further_back(tmp_path, monkeypatch):
    monkeypatch.setenv("PAIL_PREVIEW_WINDOW", "8k")  # the default (64 KiB): test_detail.py
    root = tmp_path / "store" / "b"
    root.mkdir(parents=True)
    (root / "train.log").write_bytes(LOG)
    (root / "notes.txt").write_bytes(b"".join(b"line %05d\n" % i for i in range(2000)))
    spec = ConnectionSpec(name="disk", provider="local", root=str(root.parent))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "train.log"))
            pane = detail_of(app)
            text = detail_text(app)
            assert "step 00999 loss 0.00100" in text  # the last line
            assert "step 00000" not in text
            assert pane.preview.is_tail and pane.can_load_more
            first_start = pane.preview.start
            assert pane.scroll_y == pane.max_scroll_y > 0  # the tail is on screen
            await pilot.press("m")
            await settle(pilot)
            assert pane.preview.start < first_start
            earlier = LOG[pane.preview.start : first_start].decode().splitlines()[1]
            assert earlier in detail_text(app)
            assert "step 00999" in detail_text(app)
            for _ in range(5):  # the whole 24,000-byte log: m no longer applies
                await pilot.press("m")
                await settle(pilot)
            assert "step 00000 loss 1.00000" in detail_text(app)
            assert not pane.can_load_more
            assert app.screen.check_action("more_preview", ()) is False

            await select(pilot, find(app, "disk", "b", "notes.txt"))
            assert "line 00000" in detail_text(app) and "line 01999" not in detail_text(app)
            await pilot.press("m")
            await settle(pilot)
            assert "read 16,384 of 22,000 bytes; the first 16.0 KiB; m: load more" in (
                detail_text(app)
            )

    run(body())


def test_preview_limits_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PAIL_PREVIEW_LIMIT", "4k")
    monkeypatch.setenv("PAIL_PREVIEW_WINDOW", "2048")
    monkeypatch.setenv("PAIL_IMAGE_LIMIT", "64")
    root = tmp_path / "store" / "b"
    root.mkdir(parents=True)
    (root / "big.txt").write_bytes(b"x" * 100_000)
    (root / "big.png").write_bytes(files.png(64, 64))
    spec = ConnectionSpec(name="disk", provider="local", root=str(root.parent))

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "disk", "b"))
            await select(pilot, find(app, "disk", "b", "big.txt"))
            assert "read 2,048 of 100,000 bytes" in detail_text(app)
            await select(pilot, find(app, "disk", "b", "big.png"))
            text = detail_text(app)
            assert "PNG image, 64 x 64 pixels" in text
            assert "over the image limit" in text
            assert detail_of(app).query_one("#detail-preview").image is None

    run(body())


@pytest.mark.parametrize("limit", ["lots", "-5"])
def test_a_bad_limit_falls_back_to_the_default(monkeypatch, limit):
    from pail.ui.settings import load_settings

    monkeypatch.setenv("PAIL_PREVIEW_LIMIT", limit)
    settings = load_settings()
    assert settings.preview_limit == 1024 * 1024
    assert settings.problems == ("PAIL_PREVIEW_LIMIT",)


def test_glacier_object_preview_error_is_shown(s3_endpoint):
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="cold")
    client.put_object(Bucket="cold", Key="old.log", Body=b"archived\n", StorageClass="GLACIER")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "cold"))
            await select(pilot, find(app, "moto", "cold", "old.log"))
            text = detail_text(app)
            assert "Storage class  GLACIER" in text
            assert "Preview failed: 403" in text and "InvalidObjectState" in text

    run(body())


def test_extensionless_objects_preview_by_content(s3_endpoint):
    """Llama Stack's files (``file-<hex>``, put with no ContentType: binary/octet-stream)
    and MLflow's MLmodel show as a table, pretty JSON and YAML, not as plain text."""
    objects = {
        "file-0a1b2c3d4e5f40718293a4b5c6d7e8f9": tool_files.lightning_metrics_csv(),
        "file-9f8e7d6c5b4a40312e1f0a9b8c7d6e5f": b'{"name":"qa-eval","rows":2}',
        "MLmodel": tool_files.mlflow_mlmodel(),
    }
    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="llama")
    for key, data in objects.items():
        client.put_object(Bucket="llama", Key=key, Body=data)
    expected = {
        "file-0a1b2c3d4e5f40718293a4b5c6d7e8f9": [
            "4 columns, separated by 'comma'; 6 rows",
            "epoch   step   train_loss   val_acc",
            "0       149                 0.6",  # an empty cell where a step logged no val_acc
        ],
        "file-9f8e7d6c5b4a40312e1f0a9b8c7d6e5f": ['  "name": "qa-eval",', '  "rows": 2'],
        "MLmodel": ["loader_module: mlflow.sklearn", "Content type   binary/octet-stream"],
    }

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "llama"))
            for key, needles in expected.items():
                await select(pilot, find(app, "moto", "llama", key))
                text = detail_text(app)
                assert f"of {len(objects[key]):,} bytes" in text, (key, text)
                for needle in needles:
                    assert needle in text, (key, needle, text)
            shown = detail_of(app).preview  # the MLmodel, last selected
            assert shown is not None and shown.kind == "text" and shown.language == "yaml"

    run(body())
