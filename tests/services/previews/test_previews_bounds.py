"""The byte bound: a preview of a large object fetches at most the limit, whatever the
format, counted at our driver (a wrapper of the real S3/local driver). Also the
:class:`RangedReader` on its own: accounting, cache, read-ahead, budget refusal."""

from __future__ import annotations

import gzip
import io
import zipfile
from functools import cache

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pail.services.previews import (
    DEFAULT_LIMIT,
    ArchivePreview,
    HexPreview,
    ImagePreview,
    ParquetPreview,
    PreviewBudgetExceeded,
    RangedReader,
    TablePreview,
    TensorHeaderPreview,
    TextPreview,
    build_preview,
)
from support.stores import Store, checkpoint, npy, open_store, png, safetensors

MiB = 1024 * 1024
BIG = 16 * MiB  # 16 times the 1 MiB limit (64 MiB made moto seeding the cost)


@pytest.fixture(params=["s3", "local"])
def store(request, bucket_name, tmp_path) -> Store:
    return open_store(request.param, request, bucket_name, tmp_path)


@cache
def big_log() -> bytes:
    line = b"2024-05-01 12:00:00 INFO  step=123 loss=0.2500 lr=1.00e-04 it/s=12.5\n"
    return line * (BIG // len(line))


@cache
def big_parquet() -> bytes:
    """16 MB, one uncompressed row group far larger than the 1 MiB limit."""
    n = 1_000_000
    table = pa.table({"step": pa.array(range(n), pa.int64()), "x": pa.array(range(n), pa.int64())})
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=n, compression="none", use_dictionary=False)
    return buf.getvalue()


BIG_OBJECTS = {
    "runs/r1/train.log": big_log,
    "runs/r1/stdout": big_log,  # no extension: sniffed, shown as text
    "model.bin": lambda: bytes(range(256)) * (BIG // 256),
    "history.parquet": big_parquet,
    "model.safetensors": lambda: safetensors({"w": ("F16", [1024, 1024])}, fill=BIG),
    "weights.npy": lambda: npy("<f4", (2048, 2048), data=BIG),
    "checkpoints/last.ckpt": lambda: checkpoint(
        {"archive/data.pkl": b"\x80\x02.", "archive/data/0": bytes(BIG)}
    ),
    "plots/huge.png": lambda: png(64, 64) + bytes(BIG),
    "history.csv": lambda: b"step,loss\n" + b"1,0.25\n" * (BIG // 7),
    "metrics.json": lambda: b'{"v": [' + b"1," * (BIG // 2) + b"1]}",
    "analysis.ipynb": lambda: b'{"cells": [' + b" " * BIG + b"]}",
    "bomb.txt.gz": lambda: gzip.compress(bytes(BIG), 9),
}

EXPECTED = {
    "runs/r1/train.log": TextPreview,
    "runs/r1/stdout": TextPreview,
    "model.bin": HexPreview,
    "history.parquet": ParquetPreview,
    "model.safetensors": TensorHeaderPreview,
    "weights.npy": TensorHeaderPreview,
    "checkpoints/last.ckpt": ArchivePreview,
    "plots/huge.png": ImagePreview,
    "history.csv": TablePreview,
    "metrics.json": TextPreview,
    "analysis.ipynb": TextPreview,
    "bomb.txt.gz": HexPreview,
}


@pytest.mark.parametrize("key", list(BIG_OBJECTS))
def test_a_large_object_costs_at_most_the_limit(store: Store, key: str) -> None:
    data = BIG_OBJECTS[key]()
    info = store.put(key, data)
    result = build_preview(store.driver, info)
    assert isinstance(result, EXPECTED[key]), result
    assert store.driver.bytes_read <= DEFAULT_LIMIT
    assert result.bytes_read == store.driver.bytes_read
    assert result.total_size == len(data)
    assert result.summary == f"read {result.bytes_read:,} of {len(data):,} bytes"
    # Never a whole-object GET: every read names its range.
    assert all(
        length is not None and length <= DEFAULT_LIMIT for _, length, _, _ in store.driver.reads
    )


def test_large_parquet_streams_the_first_rows_of_a_huge_row_group(store: Store) -> None:
    info = store.put("history.parquet", big_parquet())
    result = build_preview(store.driver, info)
    assert isinstance(result, ParquetPreview) and result.note is None
    assert result.num_rows == 1_000_000 and result.row_group_sizes == (1_000_000,)
    assert result.rows[:2] == (("0", "0"), ("1", "1")) and len(result.rows) == 50
    assert result.bytes_read <= DEFAULT_LIMIT  # pages streamed, not the 16 MB row group


def test_parquet_row_group_over_the_budget_keeps_schema_and_counts(store: Store) -> None:
    info = store.put("history.parquet", big_parquet())
    result = build_preview(store.driver, info, limit=256 * 1024)
    assert isinstance(result, ParquetPreview)
    assert result.num_rows == 1_000_000 and result.num_row_groups == 1
    assert result.schema == (("step", "int64"), ("x", "int64")) and result.rows == ()
    assert "first row group needs more than the 262,144-byte preview limit" in result.note
    assert store.driver.bytes_read <= 256 * 1024


def test_log_tail_reads_one_window(store: Store) -> None:
    data = big_log()
    info = store.put("train.log", data)
    result = build_preview(store.driver, info)
    assert isinstance(result, TextPreview) and result.is_tail
    assert store.driver.reads == [(len(data) - 64 * 1024, 64 * 1024, None, 64 * 1024)]
    assert data.endswith(result.text.encode())


def test_gzip_bomb_inflates_no_more_than_the_window(store: Store) -> None:
    info = store.put("bomb.txt.gz", BIG_OBJECTS["bomb.txt.gz"]())
    result = build_preview(store.driver, info, window=8192)
    assert isinstance(result, HexPreview) and "decompressed" in result.note
    assert result.bytes_read <= 8192


def test_limit_is_configurable(store: Store) -> None:
    info = store.put("model.bin", bytes(300_000))
    result = build_preview(store.driver, info, limit=10_000, window=50_000)
    assert result.bytes_read <= 10_000 and store.driver.bytes_read <= 10_000


# -- RangedReader ----------------------------------------------------------------------------


def _reader(store: Store, data: bytes, budget: int, **kwargs) -> RangedReader:
    info = store.put("blob", data)
    return RangedReader(store.driver, store.bucket, "blob", info.size, budget=budget, **kwargs)


def test_reader_counts_caches_and_reads_ahead(store: Store) -> None:
    data = bytes(range(256)) * 1024  # 256 KiB
    reader = _reader(store, data, budget=200_000, readahead=1000)
    assert reader.read_at(10, 5) == data[10:15]
    assert store.driver.reads == [(10, 1000, None, 1000)]  # widened to the read-ahead
    assert reader.read_at(500, 100) == data[500:600]  # served from the cache
    assert reader.bytes_fetched == 1000 and reader.requests == 1
    assert reader.read_at(900, 300) == data[900:1200]  # only the missing part is fetched
    assert store.driver.reads[-1] == (1010, 1000, None, 1000)
    assert reader.bytes_fetched == store.driver.bytes_read == 2000


def test_reader_is_a_seekable_file(store: Store) -> None:
    data = b"0123456789" * 100
    reader = _reader(store, data, budget=10_000)
    assert reader.seekable() and reader.readable() and not reader.writable()
    assert reader.seek(-10, io.SEEK_END) == 990 and reader.read() == data[-10:]
    assert reader.read(5) == b"" and reader.tell() == 1000
    reader.seek(3)
    buf = bytearray(4)
    assert reader.readinto(buf) == 4 and bytes(buf) == b"3456" and reader.tell() == 7
    assert reader.seek(2, io.SEEK_CUR) == 9 and reader.read(2) == b"90"
    assert reader.tail(5) == (995, data[-5:])


def test_reader_refuses_reads_beyond_the_budget_before_fetching(store: Store) -> None:
    data = bytes(100_000)
    reader = _reader(store, data, budget=30_000, readahead=0)
    assert len(reader.read_at(0, 20_000)) == 20_000
    with pytest.raises(PreviewBudgetExceeded) as info:
        reader.read_at(50_000, 20_000)
    assert info.value.needed == 20_000 and info.value.budget == 30_000
    assert reader.budget_exceeded and reader.bytes_fetched == store.driver.bytes_read == 20_000
    assert len(store.driver.reads) == 1  # the refused read sent no request
    assert reader.read_within_budget(50_000, 20_000) == bytes(10_000)
    assert reader.bytes_fetched == 30_000 and reader.remaining_budget == 0


def test_zipfile_over_the_reader_reads_only_the_tail(store: Store) -> None:
    data = checkpoint({"a/data.pkl": b"x", "a/data/0": bytes(5 * MiB), "a/version": b"3"})
    reader = _reader(store, data, budget=128 * 1024)
    with zipfile.ZipFile(reader) as archive:
        assert archive.namelist() == ["a/data.pkl", "a/data/0", "a/version"]
    assert reader.bytes_fetched <= 128 * 1024 and min(r[0] for r in store.driver.reads) > MiB


def test_reader_survives_an_object_that_shrank(store: Store) -> None:
    info = store.put("blob", bytes(1000))
    store.put("blob", bytes(100))  # rewritten after HeadObject
    reader = RangedReader(store.driver, store.bucket, "blob", info.size, budget=10_000)
    assert reader.read_at(0, 1000) == bytes(100) and reader.size == 100
    assert reader.read_at(500, 10) == b""
