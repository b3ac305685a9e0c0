"""Text previews read by byte range: the first bytes of an object, never the whole thing.

Compatibility module: the format-aware previews live in :mod:`pail.services.previews`
(:func:`~pail.services.previews.build_preview`); this keeps the original text/hex
:func:`load_preview` and its helpers importable until every caller has moved over.

A preview reads at most ``limit`` bytes (default 64 KiB) with one ranged GET
(``Range: bytes=0-65535``, RFC 9110 section 14.1.2), decides text or binary, and returns
text that is safe to put on a terminal: control characters and escape sequences are
replaced by visible symbols, so file contents can never drive the terminal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pail.drivers.base import StorageDriver
from pail.services.previews.textutil import (
    HEXDUMP_BYTES,
    decode_text,
    hexdump,
    is_binary,
    sanitize_text,
)

__all__ = [
    "HEXDUMP_BYTES",
    "PREVIEW_BYTES",
    "Preview",
    "PreviewKind",
    "decode_text",
    "hexdump",
    "is_binary",
    "load_preview",
    "sanitize_text",
]

#: Default preview size in bytes (64 KiB).
PREVIEW_BYTES = 64 * 1024

PreviewKind = Literal["text", "binary", "empty"]


@dataclass(frozen=True)
class Preview:
    """What to show of an object's first bytes.

    Attributes:
        kind: ``"text"``, ``"binary"`` (``text`` holds a hex dump) or ``"empty"``.
        text: terminal-safe text (already passed through :func:`sanitize_text`).
        bytes_read: bytes fetched from the store.
        total_size: the object's size in bytes, when known.
        truncated: True when the object is longer than what was read.
    """

    kind: PreviewKind
    text: str
    bytes_read: int
    total_size: int | None
    truncated: bool

    @property
    def summary(self) -> str:
        """E.g. ``"read 65,536 of 1,048,576 bytes"``."""
        if self.total_size is None:
            return f"read {self.bytes_read:,} bytes"
        return f"read {self.bytes_read:,} of {self.total_size:,} bytes"


def load_preview(
    driver: StorageDriver,
    bucket: str,
    key: str,
    size: int | None = None,
    *,
    limit: int = PREVIEW_BYTES,
    version_id: str | None = None,
) -> Preview:
    """Read the first ``limit`` bytes of ``bucket/key`` by range and build a preview.

    Args:
        size: the object's size in bytes if known (saves nothing on the wire, but lets
            the preview say whether it is truncated).

    Raises:
        StorageError: from the driver's ``read_range`` (AccessDenied, NotFound...).
    """
    if size == 0:
        return Preview("empty", "", 0, 0, False)
    data = driver.read_range(bucket, key, 0, limit, version_id=version_id)
    truncated = len(data) >= limit and (size is None or size > len(data))
    if not data:
        return Preview("empty", "", 0, size, False)
    if is_binary(data):
        shown = hexdump(data[:HEXDUMP_BYTES])
        return Preview("binary", shown, len(data), size, truncated)
    text = sanitize_text(decode_text(data, truncated=truncated))
    return Preview("text", text, len(data), size, truncated)
