"""Real stores and real files for the du, delete and preview tests.

* :func:`seed_aged` / :func:`runs`: objects with chosen sizes and ages, put straight into
  the in-process moto backend (the server's own data, not a mock), ages relative to
  :data:`NOW`.
* :func:`open_store`: pail's own driver on a fresh bucket of moto server (S3 over HTTP,
  seeded through the in-process backend), gcp-storage-emulator, or a temporary folder.
* :class:`CountingDriver`: wraps one of *our* drivers and records every ranged read, so a
  test can assert how many bytes a preview fetched from the store.
* Generators for real files, written from the format specs (not through the code under
  test): PNG, JPEG, GIF, WebP headers, safetensors, ``.npy``, zip checkpoints, notebooks.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import ObjectInfo, StorageDriver
from pail.drivers.registry import open_driver
from support.servers import gcs_client, moto_backend, seed_keys

#: The reference "now" of the tests (UTC): ages are relative to it.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def seed_aged(bucket: str, objects: dict[str, tuple[int, float]], now: datetime = NOW) -> None:
    """``{key: (size_bytes, age_days)}``: each object gets ``size`` bytes and a
    last-modified time ``age_days`` before ``now`` (default :data:`NOW`)."""
    seed_keys(bucket, {key: b"x" * size for key, (size, _) in objects.items()})
    found = moto_backend().buckets[bucket].keys
    for key, (_, age) in objects.items():
        when = now - timedelta(days=age)
        found[key].last_modified = when.replace(tzinfo=None)  # moto keeps naive UTC


def runs(bucket: str, ages: dict[str, float], files: int = 2, size: int = 10) -> None:
    """Runs ``runs/NAME/f{i}.bin`` of ``files`` objects each, the run's objects ``age``
    days old (the last file half a day newer, so the run's newest object is that one)."""
    objects = {}
    for name, age in ages.items():
        for i in range(files):
            objects[f"runs/{name}/f{i}.bin"] = (size, age - (0.5 if i == files - 1 else 0))
    seed_aged(bucket, objects)


class CountingDriver:
    """Delegates to a real pail driver; records ``(start, length, suffix, bytes returned)``
    for every ``read_range``."""

    def __init__(self, inner: StorageDriver) -> None:
        self.inner = inner
        self.provider = inner.provider
        self.reads: list[tuple[int, int | None, int | None, int]] = []

    @property
    def bytes_read(self) -> int:
        return sum(r[3] for r in self.reads)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        return self.inner.head(bucket, key, version_id=version_id)

    def read_range(self, bucket, key, start=0, length=None, *, suffix=None, version_id=None):
        data = self.inner.read_range(
            bucket, key, start, length, suffix=suffix, version_id=version_id
        )
        self.reads.append((start, length, suffix, len(data)))
        return data


@dataclass
class Store:
    """A counting driver on a fresh bucket, and ``put(key, bytes)`` behind its back."""

    kind: str
    driver: CountingDriver
    bucket: str
    root: Path | None = None
    _gcs_bucket: object = field(default=None, repr=False)

    def put(self, key: str, data: bytes) -> ObjectInfo:
        """Store ``data`` at ``key`` and return its HeadObject (not counted)."""
        if self.kind == "s3":
            seed_keys(self.bucket, {key: data})
        elif self.kind == "gcs":
            self._gcs_bucket.blob(key).upload_from_string(data)
        else:
            path = self.root / self.bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        return self.driver.head(self.bucket, key)


def open_store(kind: str, request: pytest.FixtureRequest, bucket: str, tmp_path: Path) -> Store:
    """A :class:`Store` of ``kind`` (``"s3"``, ``"gcs"`` or ``"local"``)."""
    if kind == "s3":
        endpoint = request.getfixturevalue("moto_server")
        seed_keys(bucket, {})
        spec = ConnectionSpec(
            name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
        )
        return Store("s3", CountingDriver(open_driver(spec)), bucket)
    if kind == "gcs":
        endpoint = request.getfixturevalue("gcs_emulator")
        raw = gcs_client(endpoint).create_bucket(bucket)
        driver = open_driver(ConnectionSpec(name="gcs", provider="gcs"))
        return Store("gcs", CountingDriver(driver), bucket, _gcs_bucket=raw)
    root = tmp_path / "store"
    (root / bucket).mkdir(parents=True)
    driver = open_driver(ConnectionSpec(name="local", provider="local", root=str(root)))
    return Store("local", CountingDriver(driver), bucket, root)


# -- files, from the format specs ------------------------------------------------------------


def png(width: int = 4, height: int = 3) -> bytes:
    """A real grey PNG (ISO/IEC 15948): signature, IHDR, one zlib IDAT, IEND."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    rows = b"".join(b"\x00" + bytes([128]) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def jpeg_header(width: int, height: int, *, exif: int = 0) -> bytes:
    """SOI, APP0 (JFIF), an optional APP1 of ``exif`` bytes, SOF0 with the size, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"\x00" * exif if exif else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + sof + b"\xff\xd9"


def gif_header(width: int, height: int) -> bytes:
    """GIF89a with a logical screen descriptor and a trailer."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + b"\x3b"


def webp_vp8x(width: int, height: int) -> bytes:
    """RIFF/WEBP with a VP8X chunk (24-bit width-1, height-1)."""
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    payload += (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def webp_vp8l(width: int, height: int) -> bytes:
    """RIFF/WEBP with a VP8L chunk (signature 0x2f, 14-bit width-1 and height-1)."""
    bits = (width - 1) | ((height - 1) << 14)
    payload = b"\x2f" + struct.pack("<I", bits) + b"\x00" * 3
    body = b"WEBP" + b"VP8L" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def safetensors(tensors: dict[str, tuple[str, list[int]]], metadata=None, *, fill=0) -> bytes:
    """A safetensors file: u64 LE header length, JSON header, zero bytes for the data.

    ``tensors`` maps name -> (dtype, shape); ``fill`` adds that many extra data bytes.
    """
    widths = {"F16": 2, "BF16": 2, "F32": 4, "I64": 8, "U8": 1}
    header: dict[str, object] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = widths[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + bytes(offset + fill)


def npy(descr: str, shape: tuple[int, ...], *, version: int = 1, data: int = 0) -> bytes:
    """A ``.npy`` (NEP 1): magic, version, header length, dict literal padded to 64 bytes."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    prefix = 10 if version == 1 else 12
    pad = -(prefix + len(text) + 1) % 64
    header = (text + " " * pad + "\n").encode("latin-1")
    size = struct.pack("<H", len(header)) if version == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + size + header + bytes(data)


def checkpoint(members: dict[str, bytes]) -> bytes:
    """A zip (stored, like ``torch.save``) of ``members``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def notebook(cells: list[dict]) -> bytes:
    """An nbformat 4 notebook with a Python kernel."""
    doc = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
        "cells": cells,
    }
    return json.dumps(doc).encode()
