"""Each previewer on real files in real stores (moto S3 over HTTP, local folders, and the
GCS emulator for some), through :func:`pail.services.previews.build_preview`."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.services.previews import (
    ArchivePreview,
    EmptyPreview,
    HexPreview,
    ImagePreview,
    MarkdownPreview,
    NotebookPreview,
    ParquetPreview,
    TablePreview,
    TensorHeaderPreview,
    TextPreview,
    build_preview,
    load_more_text,
)
from support.stores import (
    Store,
    checkpoint,
    gif_header,
    jpeg_header,
    notebook,
    npy,
    open_store,
    png,
    safetensors,
    webp_vp8l,
    webp_vp8x,
)


@pytest.fixture(params=["s3", "local"])
def store(request, bucket_name, tmp_path) -> Store:
    """pail's S3 driver on moto server, and its local-folder driver."""
    return open_store(request.param, request, bucket_name, tmp_path)


@pytest.fixture(params=["s3", "gcs", "local"])
def any_store(request, bucket_name, tmp_path) -> Store:
    """All three backends, for the formats that read by seeking (Parquet, zip) and tails."""
    return open_store(request.param, request, bucket_name, tmp_path)


def parquet_bytes(rows: int, row_group_size: int, **kwargs) -> bytes:
    table = pa.table(
        {
            "step": pa.array(range(rows), pa.int64()),
            "loss": pa.array([1.0 / (i + 1) for i in range(rows)], pa.float64()),
            "split": pa.array(["train" if i % 5 else "val" for i in range(rows)]),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=row_group_size, **kwargs)
    return buf.getvalue()


# -- text ------------------------------------------------------------------------------------


def test_empty_object_reads_nothing(store: Store) -> None:
    info = store.put("empty.txt", b"")
    result = build_preview(store.driver, info)
    assert isinstance(result, EmptyPreview) and result.kind == "empty"
    assert result.bytes_read == 0 and store.driver.reads == []


def test_code_is_text_with_a_language(store: Store) -> None:
    info = store.put("src/train.py", b"import torch\nprint('hi')\n")
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview)
    assert result.language == "python" and result.text == "import torch\nprint('hi')\n"
    assert not result.truncated and not result.can_load_more and not result.is_tail
    assert result.summary == "read 25 of 25 bytes"


def test_text_load_more_reads_forward(store: Store) -> None:
    body = "".join(f"row {i} ü\n" for i in range(3000)).encode()  # multi-byte characters
    info = store.put("notes.txt", body)
    first = build_preview(store.driver, info, window=1000)
    assert isinstance(first, TextPreview) and first.can_load_more and not first.is_tail
    assert first.start == 0 and first.end <= 1000 and first.bytes_read == 1000
    text, preview, loads = first.text, first, 0
    while preview.can_load_more:
        preview = load_more_text(store.driver, info, preview, window=7000)
        loads += 1
    assert preview.text == body.decode() and preview.end == len(body)
    # A character cut by a window's end is held back and read again with the next window.
    assert len(body) <= preview.bytes_read <= len(body) + 3 * loads
    assert preview.bytes_read == store.driver.bytes_read
    assert preview.text.startswith(text) and "\ufffd" not in preview.text


def test_log_tail_and_reading_further_back(store: Store) -> None:
    lines = [f"2024-05-01 step={i} loss={1 / (i + 1):.4f}" for i in range(20_000)]
    body = ("\n".join(lines) + "\n").encode()
    info = store.put("runs/r1/train.log", body)
    tail = build_preview(store.driver, info, window=4096)
    assert isinstance(tail, TextPreview) and tail.is_tail and tail.can_load_more
    assert tail.text.endswith(lines[-1] + "\n")
    assert tail.text.startswith("2024-05-01 step=")  # the cut first line is dropped
    assert tail.bytes_read == 4096 and tail.end == len(body)
    assert body[tail.start :].decode() == tail.text
    more = load_more_text(store.driver, info, tail, window=4096)
    assert more.start < tail.start and more.text.endswith(tail.text)
    assert body[more.start :].decode() == more.text
    assert more.bytes_read == 8192


def test_logs_folder_is_tailed_and_short_log_is_whole(store: Store) -> None:
    info = store.put("logs/worker-0.txt", b"started\nfinished\n")
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview) and result.is_tail
    assert result.text == "started\nfinished\n" and not result.can_load_more


def test_json_is_pretty_printed(store: Store) -> None:
    info = store.put("metrics.json", b'{"loss":0.25,"acc":[0.9,0.95],"name":"r\\u00e9"}')
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview) and result.pretty and result.language == "json"
    assert result.text == json.dumps(
        {"loss": 0.25, "acc": [0.9, 0.95], "name": "ré"}, indent=2, ensure_ascii=False
    )


def test_json_larger_than_the_limit_is_raw_with_a_note(store: Store) -> None:
    body = json.dumps({"values": list(range(50_000))}).encode()
    info = store.put("big.json", body)
    result = build_preview(store.driver, info, limit=64 * 1024, window=8192)
    assert isinstance(result, TextPreview) and not result.pretty
    assert result.text == body[: result.end].decode() and result.can_load_more
    assert "preview limit" in result.note and result.bytes_read == 8192


def test_invalid_json_falls_back_to_text(store: Store) -> None:
    info = store.put("bad.json", b'{"a": 1,,}')
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview) and result.text == '{"a": 1,,}'
    assert "not valid JSON" in result.note and not result.pretty


@pytest.mark.parametrize(
    ("key", "body", "language"),
    [
        ("config.yaml", b"lr: 0.1\nlayers:\n  - 128\n  - 64\n", "yaml"),
        ("pyproject.toml", b'[tool]\nname = "x"\n', "toml"),
        ("events.jsonl", b'{"a": 1}\n{"a": 2}\n', "json"),
    ],
)
def test_structured_text_keeps_its_source(store: Store, key, body, language) -> None:
    result = build_preview(store.driver, store.put(key, body))
    assert isinstance(result, TextPreview)
    assert result.language == language and result.text == body.decode()


def test_markdown(store: Store) -> None:
    info = store.put("README.md", b"# Run 1\n\n* loss **0.25**\n")
    result = build_preview(store.driver, info)
    assert isinstance(result, MarkdownPreview) and result.kind == "markdown"
    assert result.text == "# Run 1\n\n* loss **0.25**\n" and not result.truncated


def test_gzip_text_shows_the_first_decompressed_lines(store: Store) -> None:
    lines = "".join(f"line {i}\n" for i in range(200_000)).encode()
    info = store.put("events.log.gz", gzip.compress(lines))
    result = build_preview(store.driver, info, window=16 * 1024)
    assert isinstance(result, TextPreview) and result.text.startswith("line 0\nline 1\n")
    assert len(result.text) <= 16 * 1024 and lines.decode().startswith(result.text)
    assert result.truncated and "gzip" in result.note and not result.can_load_more
    assert result.bytes_read <= 16 * 1024


def test_small_gzip_json(store: Store) -> None:
    info = store.put("params.json.gz", gzip.compress(b'{"lr": 0.1}'))
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview) and result.text == '{"lr": 0.1}'
    assert result.language == "json" and result.note is None


# -- tables ----------------------------------------------------------------------------------


def test_csv_first_rows(store: Store) -> None:
    body = "step,loss,split\n" + "".join(f"{i},{1 / (i + 1):.3f},train\n" for i in range(100))
    info = store.put("history.csv", body.encode())
    result = build_preview(store.driver, info)
    assert isinstance(result, TablePreview) and result.kind == "table"
    assert result.columns == ("step", "loss", "split") and result.delimiter == ","
    assert len(result.rows) == 50 and result.rows[0] == ("0", "1.000", "train")
    assert result.total_rows == 100 and result.truncated


def test_tsv_cut_by_the_range_drops_the_partial_line(store: Store) -> None:
    body = "a\tb\n" + "".join(f"{i}\t{'x' * 20}\n" for i in range(30_000))
    info = store.put("big.tsv", body.encode())
    result = build_preview(store.driver, info, limit=64 * 1024)
    assert isinstance(result, TablePreview) and result.delimiter == "\t"
    assert result.columns == ("a", "b") and result.rows[1] == ("1", "x" * 20)
    assert result.total_rows is None and result.truncated
    assert result.bytes_read <= 64 * 1024


def test_csv_with_quotes_semicolons_and_no_header(store: Store) -> None:
    info = store.put("data.csv", b'1;"a;b";3.5\n2;"c ""q""";4.5\n3;x;5.5\n')
    result = build_preview(store.driver, info)
    assert isinstance(result, TablePreview) and result.delimiter == ";"
    assert result.rows[0][1] == "a;b" and ("2", 'c "q"', "4.5") in result.rows


def test_parquet_schema_row_groups_and_first_rows(any_store: Store) -> None:
    info = any_store.put("history.parquet", parquet_bytes(10_000, 2_500))
    result = build_preview(any_store.driver, info)
    assert isinstance(result, ParquetPreview) and result.kind == "parquet"
    assert result.schema == (("step", "int64"), ("loss", "double"), ("split", "string"))
    assert result.num_rows == 10_000 and result.num_row_groups == 4
    assert result.row_group_sizes == (2_500,) * 4
    assert result.created_by.startswith("parquet-cpp-arrow")
    assert result.columns == ("step", "loss", "split") and len(result.rows) == 50
    assert result.rows[0] == ("0", "1.0", "val") and result.rows[1] == ("1", "0.5", "train")
    assert result.note is None and result.bytes_read == any_store.driver.bytes_read


def test_parquet_from_the_demo_writer(store: Store) -> None:
    from pail.demo.artifacts import parquet_table

    data = parquet_table({"step": [1, 2], "loss": [0.5, 0.25], "split": ["a", "b"]})
    result = build_preview(store.driver, store.put("demo.parquet", data))
    assert isinstance(result, ParquetPreview)
    assert result.rows == (("1", "0.5", "a"), ("2", "0.25", "b"))


# -- notebooks, images -----------------------------------------------------------------------


def test_notebook_cells_and_outputs(store: Store) -> None:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": "print(1)\n1 + 1",
            "outputs": [
                {"output_type": "stream", "name": "stdout", "text": ["1\n"]},
                {"output_type": "execute_result", "data": {"text/plain": "2"}, "metadata": {}},
                {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}},
            ],
        },
    ]
    result = build_preview(store.driver, store.put("analysis.ipynb", notebook(cells)))
    assert isinstance(result, NotebookPreview) and result.total_cells == 2
    assert result.language == "python"
    assert result.cells[0] == ("markdown", "# Title\ntext", "")
    assert result.cells[1] == ("code", "print(1)\n1 + 1", "1\n2\n[image/png output]")


@pytest.mark.parametrize(
    ("key", "data", "fmt", "size"),
    [
        ("plots/loss.png", png(7, 5), "png", (7, 5)),
        ("photo.jpg", jpeg_header(640, 480, exif=300), "jpeg", (640, 480)),
        ("anim.gif", gif_header(320, 200), "gif", (320, 200)),
        ("a.webp", webp_vp8x(1920, 1080), "webp", (1920, 1080)),
        ("b.webp", webp_vp8l(300, 150), "webp", (300, 150)),
        ("no-extension", png(2, 2), "png", (2, 2)),  # found by its signature
    ],
)
def test_images(store: Store, key, data, fmt, size) -> None:
    result = build_preview(store.driver, store.put(key, data))
    assert isinstance(result, ImagePreview) and result.kind == "image"
    assert result.format == fmt and (result.width, result.height) == size
    assert result.data == data and result.bytes_read == len(data)


def test_image_over_the_image_limit_gives_its_size_only(store: Store) -> None:
    data = png(300, 200) + b"\x00" * 50_000  # trailing bytes after IEND: still a PNG
    info = store.put("huge.png", data)
    result = build_preview(store.driver, info, image_limit=20_000, limit=4096)
    assert isinstance(result, ImagePreview) and result.data is None
    assert (result.width, result.height) == (300, 200) and "image limit" in result.note
    assert result.bytes_read <= 4096


# -- tensors, archives, other -----------------------------------------------------------------


def test_safetensors_header(store: Store) -> None:
    tensors = {"embed.weight": ("F16", [1000, 64]), "head.bias": ("F32", [10])}
    data = safetensors(tensors, {"format": "pt", "step": "1200"})
    result = build_preview(store.driver, store.put("model.safetensors", data))
    assert isinstance(result, TensorHeaderPreview) and result.format == "safetensors"
    assert [(t.name, t.dtype, t.shape, t.parameters) for t in result.tensors] == [
        ("embed.weight", "F16", (1000, 64), 64_000),
        ("head.bias", "F32", (10,), 10),
    ]
    assert result.total_parameters == 64_010 and result.total_tensors == 2
    assert result.metadata == {"format": "pt", "step": "1200"}
    assert result.bytes_read == result.header_bytes < len(data)  # the header, not the data


@pytest.mark.parametrize("version", [1, 2])
def test_npy_header(store: Store, version: int) -> None:
    data = npy("<f4", (3, 4), version=version, data=48)
    result = build_preview(store.driver, store.put("arrays/x.npy", data))
    assert isinstance(result, TensorHeaderPreview) and result.format == "npy"
    assert result.tensors[0].dtype == "<f4" and result.tensors[0].shape == (3, 4)
    assert result.total_parameters == 12 and result.header_bytes % 64 == 0
    assert result.bytes_read == result.header_bytes
    assert result.metadata == {"version": f"{version}.0", "fortran_order": "False"}


def test_torch_checkpoint_lists_its_members(any_store: Store) -> None:
    members = {
        "archive/data.pkl": b"\x80\x02}q\x00.",
        "archive/byteorder": b"little",
        "archive/data/0": bytes(200_000),
        "archive/version": b"3\n",
    }
    info = any_store.put("checkpoints/epoch=3.ckpt", checkpoint(members))
    result = build_preview(any_store.driver, info, limit=64 * 1024)
    assert isinstance(result, ArchivePreview) and result.format == "pytorch"
    assert [(e.name, e.size) for e in result.entries] == [(k, len(v)) for k, v in members.items()]
    assert result.total_entries == 4 and result.total_uncompressed == 200_014
    assert result.bytes_read <= 64 * 1024 and result.bytes_read < info.size


def test_plain_zip(store: Store) -> None:
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "x" * 1000)
    result = build_preview(store.driver, store.put("bundle.zip", buf.getvalue()))
    assert isinstance(result, ArchivePreview) and result.format == "zip"
    assert result.entries[0].name == "a.txt" and result.entries[0].size == 1000
    assert result.entries[0].compressed_size < 1000


def test_unknown_binary_is_a_hex_dump(store: Store) -> None:
    data = bytes(range(256)) * 100
    result = build_preview(store.driver, store.put("weights.bin", data))
    assert isinstance(result, HexPreview) and result.kind == "hex"
    assert result.text.startswith("00000000  00 01 02 03") and result.truncated
    assert len(result.text.splitlines()) == 256
