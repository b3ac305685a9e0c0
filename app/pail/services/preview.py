"""Text previews read by byte range: the first bytes of an object, never the whole thing.

A preview reads at most ``limit`` bytes (default 64 KiB) with one ranged GET
(``Range: bytes=0-65535``, RFC 9110 section 14.1.2), decides text or binary, and returns
text that is safe to put on a terminal: control characters and escape sequences are
replaced by visible symbols, so file contents can never drive the terminal.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Literal

from pail.drivers.base import StorageDriver

#: Default preview size in bytes (64 KiB).
PREVIEW_BYTES = 64 * 1024
#: A hex dump shows at most this many bytes (256 lines of 16).
HEXDUMP_BYTES = 4 * 1024

PreviewKind = Literal["text", "binary", "empty"]

# C0 controls except TAB and LF, DEL, and C1 controls (0x80-0x9f, e.g. CSI 0x9b).
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 "Control Pictures": ␛ for ESC, ␍ for CR
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"


def sanitize_text(text: str) -> str:
    """Replace control characters (ESC, CR, BEL, C1 controls...) with visible symbols.

    TAB and LF are kept; CRLF line ends become LF. The result cannot move the cursor,
    change colours or set the terminal title when printed.
    """
    return _CONTROL_RE.sub(_visible, text.replace("\r\n", "\n"))


def is_binary(data: bytes) -> bool:
    """Heuristic: NUL bytes, or over 30% bytes that are neither printable ASCII, common
    whitespace nor part of valid UTF-8, in the first 8 KiB."""
    sample = data[:8192]
    if not sample:
        return False
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
        return False
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a multi-byte character cut by the range
            return False
    text_bytes = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\b"
    odd = sum(1 for b in sample if b not in text_bytes)
    return odd / len(sample) > 0.30


def decode_text(data: bytes, *, truncated: bool) -> str:
    """Decode UTF-8, replacing invalid bytes. When the range cut the object short, a
    multi-byte character split at the end is held back (not shown as garbage): the
    incremental decoder with ``final=False`` does exactly that."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(data, final=not truncated)


def hexdump(data: bytes, offset: int = 0) -> str:
    """Classic ``offset  hex bytes  |ascii|`` dump, 16 bytes a line (like ``hexdump -C``)."""
    lines = []
    for pos in range(0, len(data), 16):
        chunk = data[pos : pos + 16]
        hex_part = " ".join(f"{b:02x}" for b in chunk[:8])
        if len(chunk) > 8:
            hex_part += "  " + " ".join(f"{b:02x}" for b in chunk[8:])
        ascii_part = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset + pos:08x}  {hex_part:<49} |{ascii_part}|")
    return "\n".join(lines)


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
