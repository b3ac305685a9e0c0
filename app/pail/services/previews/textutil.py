"""Byte helpers every previewer shares: binary sniffing, UTF-8 decoding of ranges, hex dumps.

Object contents are untrusted: everything a preview returns as text goes through
:mod:`pail.core.text` (:func:`~pail.core.text.safe_text` for bodies,
:func:`~pail.core.text.clip` for names and cells), so printing it can never move the
cursor, change colours, set the window title or reorder text.
"""

from __future__ import annotations

import codecs

#: A hex dump shows at most this many bytes (256 lines of 16).
HEXDUMP_BYTES = 4 * 1024


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


def complete_utf8_length(data: bytes) -> int:
    """How many leading bytes of ``data`` end on a UTF-8 character boundary (a multi-byte
    character cut at the end by a range is excluded, at most 3 bytes)."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:  # ASCII: everything up to here is complete
            return len(data)
        if byte >= 0xC0:  # lead byte: is its sequence complete?
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(data) if back >= need else len(data) - back
    return len(data)


def skip_continuation(data: bytes) -> int:
    """Bytes to skip at the start of ``data`` to reach a UTF-8 character start (0..3): a
    range that begins inside a multi-byte character starts with continuation bytes."""
    n = 0
    while n < min(3, len(data)) and 0x80 <= data[n] < 0xC0:
        n += 1
    return n


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
