"""Realistic artifact files for the demo store, generated from scratch (no torch/pyarrow).

Every generator returns the complete file as ``bytes`` and is deterministic for a given
``random.Random``. Formats are real, so previews and outside tools read them:

* PNG (ISO/IEC 15948): an RGB line chart, zlib-compressed scanlines.
* safetensors (huggingface/safetensors README): little-endian u64 header length, a JSON
  header of dtype/shape/data_offsets, then the raw tensor bytes.
* Parquet (apache/parquet-format): ``PAR1``, one row group of PLAIN-encoded, uncompressed
  REQUIRED columns, then the Thrift compact-encoded ``FileMetaData`` footer.
* PyTorch-like checkpoint: a zip holding ``archive/data.pkl`` and ``archive/version``
  (the layout of ``torch.save``), with a plain-Python pickle inside.
"""

from __future__ import annotations

import io
import itertools
import json
import math
import pickle
import random
import struct
import zipfile
import zlib
from datetime import datetime, timedelta

# --- PNG ------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def line_chart_png(
    series: list[list[float]], width: int = 480, height: int = 300, margin: int = 30
) -> bytes:
    """A PNG (8-bit RGB) plotting each series as a coloured line over light axes.

    Args:
        series: one or more lists of y values, drawn left to right on a shared scale.
        width, height: image size in pixels.
        margin: blank border in pixels around the plot area.
    """
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44)]
    pixels = bytearray(b"\xff" * (width * height * 3))

    def put(x: int, y: int, rgb: tuple[int, int, int]) -> None:
        if 0 <= x < width and 0 <= y < height:
            i = (y * width + x) * 3
            pixels[i : i + 3] = bytes(rgb)

    for x in range(margin, width - margin):  # x axis, and faint horizontal grid lines
        put(x, height - margin, (90, 90, 90))
        for k in range(1, 5):
            put(x, margin + k * (height - 2 * margin) // 5, (225, 225, 225))
    for y in range(margin, height - margin + 1):
        put(margin, y, (90, 90, 90))
    values = [v for s in series for v in s]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    for n, ys in enumerate(series):
        points = [
            (
                margin + round(i * (width - 2 * margin - 1) / max(len(ys) - 1, 1)),
                height - margin - 1 - round((v - lo) / span * (height - 2 * margin - 2)),
            )
            for i, v in enumerate(ys)
        ]
        for (x0, y0), (x1, y1) in itertools.pairwise(points):
            steps = max(abs(x1 - x0), abs(y1 - y0), 1)
            for s in range(steps + 1):
                x, y = x0 + (x1 - x0) * s // steps, y0 + (y1 - y0) * s // steps
                put(x, y, colours[n % 3])
                put(x, y + 1, colours[n % 3])  # two pixels thick
    raw = b"".join(
        b"\x00" + bytes(pixels[r * width * 3 : (r + 1) * width * 3]) for r in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw, 6))
        + _png_chunk(b"IEND", b"")
    )


# --- safetensors ----------------------------------------------------------------------


def safetensors_file(
    tensors: dict[str, list[int]], rng: random.Random, *, metadata: dict[str, str] | None = None
) -> bytes:
    """A safetensors file of float16 tensors with the given shapes, random-looking data.

    The data repeats a 64 KiB random block so tens of MiB are generated in milliseconds.
    """
    header: dict[str, object] = {"__metadata__": metadata or {"format": "pt"}}
    offset = 0
    for name, shape in tensors.items():
        size = 2 * math.prod(shape)
        header[name] = {"dtype": "F16", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format pads the header to 8 bytes
    block = rng.randbytes(1 << 16)
    data = (block * (offset // len(block) + 1))[:offset]
    return struct.pack("<Q", len(head)) + head + data


# --- Parquet (Thrift compact protocol) ------------------------------------------------

_I32, _I64, _BINARY, _LIST, _STRUCT = 5, 6, 8, 9, 12


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _struct(fields: list[tuple[int, int, object]]) -> bytes:
    """Thrift compact struct: ``(field id, type, value)`` in increasing id order."""
    out, last = bytearray(), 0
    for fid, ftype, value in fields:
        delta = fid - last
        if not 0 < delta <= 15:  # the long field-header form is never needed here
            raise ValueError(f"thrift field ids must ascend by 1..15, got {last} -> {fid}")
        out.append((delta << 4) | ftype)
        last = fid
        out += _value(ftype, value)
    out.append(0)
    return bytes(out)


def _value(ftype: int, value: object) -> bytes:
    if ftype in (_I32, _I64):
        return _zigzag(int(value))  # type: ignore[call-overload]
    if ftype == _BINARY:
        data = value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
        return _varint(len(data)) + data
    if ftype == _STRUCT:
        return value  # type: ignore[return-value]  # already encoded by _struct
    if ftype == _LIST:
        etype, items = value  # type: ignore[misc]
        size = len(items)
        head = bytes([(size << 4) | etype]) if size < 15 else bytes([0xF0 | etype]) + _varint(size)
        return head + b"".join(_value(etype, item) for item in items)
    raise ValueError(f"unsupported thrift type {ftype}")


# Parquet physical types: INT64=2, DOUBLE=5, BYTE_ARRAY=6; ConvertedType UTF8=0.
_PARQUET_TYPES = {int: 2, float: 5, str: 6}


def _plain(values: list[object], kind: type) -> bytes:
    if kind is int:
        return struct.pack(f"<{len(values)}q", *values)
    if kind is float:
        return struct.pack(f"<{len(values)}d", *values)
    parts = [str(v).encode() for v in values]
    return b"".join(struct.pack("<I", len(p)) + p for p in parts)


def parquet_table(columns: dict[str, list[object]], created_by: str = "pail demo") -> bytes:
    """A Parquet file with one row group; column types come from the first value
    (``int`` -> INT64, ``float`` -> DOUBLE, ``str`` -> BYTE_ARRAY/UTF8), all REQUIRED."""
    rows = len(next(iter(columns.values())))
    out = bytearray(b"PAR1")
    chunks, schema = [], [_struct([(4, _BINARY, "schema"), (5, _I32, len(columns))])]
    for name, values in columns.items():
        kind = type(values[0])
        ptype = _PARQUET_TYPES[kind]
        data = _plain(values, kind)
        # DataPageHeader: num_values, encoding PLAIN(0), def/rep level encodings RLE(3).
        page_head = _struct([(1, _I32, rows), (2, _I32, 0), (3, _I32, 3), (4, _I32, 3)])
        header = _struct(
            [(1, _I32, 0), (2, _I32, len(data)), (3, _I32, len(data)), (5, _STRUCT, page_head)]
        )
        offset = len(out)
        out += header + data
        size = len(header) + len(data)
        meta = _struct(
            [
                (1, _I32, ptype),
                (2, _LIST, (_I32, [0, 3])),
                (3, _LIST, (_BINARY, [name])),
                (4, _I32, 0),  # UNCOMPRESSED
                (5, _I64, rows),
                (6, _I64, size),
                (7, _I64, size),
                (9, _I64, offset),
            ]
        )
        chunks.append(_struct([(2, _I64, offset), (3, _STRUCT, meta)]))
        element = [(1, _I32, ptype), (3, _I32, 0), (4, _BINARY, name)]
        if kind is str:
            element.append((6, _I32, 0))
        schema.append(_struct(element))
    total = len(out) - 4
    row_group = _struct([(1, _LIST, (_STRUCT, chunks)), (2, _I64, total), (3, _I64, rows)])
    footer = _struct(
        [
            (1, _I32, 1),
            (2, _LIST, (_STRUCT, schema)),
            (3, _I64, rows),
            (4, _LIST, (_STRUCT, [row_group])),
            (6, _BINARY, created_by),
        ]
    )
    return bytes(out) + footer + struct.pack("<I", len(footer)) + b"PAR1"


# --- checkpoints, logs, tables ----------------------------------------------------------


def torch_like_checkpoint(state: dict[str, object]) -> bytes:
    """A zip laid out like ``torch.save`` output, holding a plain pickle of ``state``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(state, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    return buf.getvalue()


def loss_curve(rng: random.Random, steps: int, start: float = 2.4, floor: float = 0.3) -> list:
    """A noisy, decaying training-loss series of ``steps`` values."""
    rate = rng.uniform(3.0, 5.0) / steps
    return [
        round(floor + (start - floor) * math.exp(-rate * i) + rng.gauss(0, 0.03), 4)
        for i in range(steps)
    ]


def train_log(
    rng: random.Random, run_name: str, started: datetime, losses: list[float], lr: float
) -> bytes:
    """A training log: a banner, one line per step with loss/lr/throughput, evals, a summary."""
    lines = [
        f"{started:%Y-%m-%d %H:%M:%S} INFO  run {run_name}: starting training",
        f"{started:%Y-%m-%d %H:%M:%S} INFO  world_size=4 precision=bf16-mixed seed=42",
    ]
    when = started
    for step, loss in enumerate(losses, 1):
        when += timedelta(seconds=rng.uniform(2.5, 4.0))
        its = rng.uniform(11.0, 13.5)
        lines.append(
            f"{when:%Y-%m-%d %H:%M:%S} INFO  step={step:>4} loss={loss:.4f} "
            f"lr={lr * min(1.0, step / 50):.2e} it/s={its:.2f}"
        )
        if step % 100 == 0:
            lines.append(
                f"{when:%Y-%m-%d %H:%M:%S} INFO  eval step={step} val_loss={loss + 0.05:.4f} "
                f"val_acc={min(0.99, 1.05 - loss / 2.5):.4f}"
            )
        if step == len(losses) // 3:
            lines.append(
                f"{when:%Y-%m-%d %H:%M:%S} WARN  grad norm {rng.uniform(8, 12):.1f} clipped to 1.0"
            )
    lines.append(f"{when:%Y-%m-%d %H:%M:%S} INFO  finished: final loss {losses[-1]:.4f}")
    return ("\n".join(lines) + "\n").encode()


def history_columns(losses: list[float]) -> dict[str, list[object]]:
    """Per-step metrics as columns (step, epoch, loss, accuracy, split) for CSV/Parquet."""
    return {
        "step": list(range(1, len(losses) + 1)),
        "epoch": [i * 10 // len(losses) for i in range(len(losses))],
        "loss": losses,
        "accuracy": [round(min(0.99, 1.05 - v / 2.5), 4) for v in losses],
        "split": ["train"] * len(losses),
    }


def csv_table(columns: dict[str, list[object]]) -> bytes:
    """The columns as CSV with a header row (values contain no commas or quotes)."""
    names = list(columns)
    rows = zip(*(columns[n] for n in names), strict=True)
    lines = [",".join(names)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()
