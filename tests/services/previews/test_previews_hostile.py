"""Untrusted contents: escape sequences are neutralised in every field, and malformed or
lying files fall back to text or hex with a note instead of raising."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import struct
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.services.previews import (
    ArchivePreview,
    HexPreview,
    NotebookPreview,
    ParquetPreview,
    PreviewResult,
    TablePreview,
    TensorHeaderPreview,
    TextPreview,
    build_preview,
    load_more_text,
)
from support.stores import Store, checkpoint, notebook, open_store, safetensors

EVIL = "\x1b[2J\x1b]0;pwned\x07\x9b31m\r\x08"
# What must never reach a terminal: C0 controls but TAB/LF, DEL, C1 controls.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(params=["s3", "local"])
def store(request, bucket_name, tmp_path) -> Store:
    return open_store(request.param, request, bucket_name, tmp_path)


def strings(value: object):
    """Every string inside a result (fields, tuples, dicts), recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        return
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from strings(getattr(value, f.name))
        yield value.summary
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(k)
            yield from strings(v)
    elif isinstance(value, tuple | list):
        for v in value:
            yield from strings(v)


def assert_terminal_safe(result: PreviewResult) -> None:
    found = [s for s in strings(result) if CONTROL.search(s)]
    assert not found, found


def parquet_with(name: str, value: str) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({name: [value, "ok"]}), buf)
    return buf.getvalue()


def zip_with(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr(name, b"x")
    return buf.getvalue()


HOSTILE = {
    "notes.txt": (f"hello {EVIL} world\n".encode(), TextPreview),
    "train.log": (f"line 1\nline 2 {EVIL}\n".encode(), TextPreview),
    "metrics.json": (json.dumps({"k" + EVIL: "v" + EVIL}).encode(), TextPreview),
    "t.csv": (f'a,b\n"x{EVIL}\ny",2\n'.encode(), TablePreview),
    "nb.ipynb": (
        notebook(
            [
                {
                    "cell_type": "code",
                    "source": "raise" + EVIL,
                    "outputs": [{"output_type": "error", "ename": "E" + EVIL, "evalue": EVIL}],
                }
            ]
        ),
        NotebookPreview,
    ),
    "m.safetensors": (
        safetensors({"w" + EVIL: ("F16", [2])}, {"note" + EVIL: EVIL}),
        TensorHeaderPreview,
    ),
    "t.parquet": (parquet_with("col" + EVIL, "v" + EVIL), ParquetPreview),
    "c.ckpt": (zip_with("archive/" + EVIL + "data.pkl"), ArchivePreview),
}


@pytest.mark.parametrize("key", list(HOSTILE))
def test_escape_sequences_are_neutralised_everywhere(store: Store, key: str) -> None:
    data, expected = HOSTILE[key]
    result = build_preview(store.driver, store.put(key, data))
    assert isinstance(result, expected), result
    assert_terminal_safe(result)
    # Shown, not dropped (JSON re-escapes control characters itself: \u001b).
    assert any("␛" in s or "\\u001b" in s for s in strings(result))


def test_table_cells_stay_on_one_line(store: Store) -> None:
    result = build_preview(store.driver, store.put("t.csv", HOSTILE["t.csv"][0]))
    assert isinstance(result, TablePreview)
    assert result.rows[0][0].startswith("x␛[2J") and "⏎y" in result.rows[0][0]


def test_loaded_more_text_is_safe_too(store: Store) -> None:
    info = store.put("big.log", (f"{EVIL}\n" * 5000).encode())
    result = build_preview(store.driver, info, window=1000)
    more = load_more_text(store.driver, info, result, window=1000)
    assert len(more.text) > len(result.text)
    assert_terminal_safe(more)


def _header(n: int) -> bytes:
    return struct.pack("<Q", n)


MALFORMED = {
    "bad.parquet": (b"PAR1 this is not a parquet file at all PAR1", "Parquet"),
    "footer.parquet": (b"PAR1" + bytes(100) + struct.pack("<I", 10**9) + b"PAR1", "Parquet"),
    "huge-header.safetensors": (_header(1 << 40) + b'{"a": 1}', "past the end"),
    "json-header.safetensors": (_header(6) + b'{"a":,' + bytes(50), "not valid JSON"),
    "bad-entry.safetensors": (_header(16) + b'{"w": {"x": 1}} ' + bytes(8), "no dtype"),
    "truncated.ckpt": (checkpoint({"archive/data.pkl": bytes(5000)})[:-30], "zip"),
    "text.ckpt": (b"this checkpoint is a text file\n", "zip"),
    "fake.png": (b"not an image, just text\n", "signature"),
    "bad.npy": (
        b"\x93NUMPY\x01\x00" + struct.pack("<H", 50) + b"{'descr': '<f4',,}" + b" " * 32,
        "literal",
    ),
    "bad.gz": (b"\x1f\x8b\x08\x00garbage-garbage-garbage", "gzip"),
    "nb.ipynb": (b'{"cells": 5}', "no cells"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    "binary.csv": (bytes(range(256)) * 4, "binary"),
}


@pytest.mark.parametrize("key", list(MALFORMED))
def test_malformed_files_fall_back_with_a_note(store: Store, key: str) -> None:
    data, reason = MALFORMED[key]
    result = build_preview(store.driver, store.put(key, data))
    assert isinstance(result, TextPreview | HexPreview), result
    assert result.note and reason.lower() in result.note.lower(), result.note
    assert result.bytes_read == store.driver.bytes_read <= len(data)
    assert_terminal_safe(result)


def test_npy_header_is_never_evaluated(store: Store, tmp_path) -> None:
    marker = tmp_path / "pwned"
    code = f"__import__('os').system('touch {marker}')"
    header = ("{'descr': " + code + ", 'fortran_order': False, 'shape': (1,), }").encode()
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(4)
    result = build_preview(store.driver, store.put("evil.npy", data))
    assert isinstance(result, TextPreview | HexPreview) and "literal" in result.note
    assert not marker.exists()


def test_safetensors_header_over_the_limit_is_refused(store: Store) -> None:
    data = safetensors({f"layer.{i}.weight": ("F16", [8, 8]) for i in range(2000)})
    result = build_preview(store.driver, store.put("m.safetensors", data), limit=16 * 1024)
    assert isinstance(result, TextPreview | HexPreview)
    assert "larger than the preview limit" in result.note and result.bytes_read <= 16 * 1024


def test_npy_with_a_huge_declared_header_is_refused(store: Store) -> None:
    data = b"\x93NUMPY\x02\x00" + struct.pack("<I", 2**31) + bytes(100)
    result = build_preview(store.driver, store.put("x.npy", data))
    assert isinstance(result, TextPreview | HexPreview) and ".npy header" in result.note


def test_a_zip_with_a_misleading_extension_is_still_listed(store: Store) -> None:
    result = build_preview(store.driver, store.put("weights.txt", zip_with("a/data.pkl")))
    assert isinstance(result, ArchivePreview) and result.format == "pytorch"
    assert "binary data" in result.note


def test_too_many_tensors_are_capped_but_counted(store: Store) -> None:
    data = safetensors({f"t{i}": ("U8", [2]) for i in range(1500)})
    result = build_preview(store.driver, store.put("m.safetensors", data))
    assert isinstance(result, TensorHeaderPreview)
    assert len(result.tensors) == 1000 and result.total_tensors == 1500
    assert result.total_parameters == 3000 and "first 1,000" in result.note


def test_npy_structured_dtype_and_fortran_order(store: Store) -> None:
    text = "{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': True, 'shape': (2, 3), }"
    header = text.encode().ljust(64 - 10 - 1) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + bytes(72)
    result = build_preview(store.driver, store.put("s.npy", data))
    assert isinstance(result, TensorHeaderPreview)
    assert result.tensors[0].dtype == "[('a', '<i4'), ('b', '<f8')]"
    assert result.tensors[0].shape == (2, 3) and result.metadata["fortran_order"] == "True"
