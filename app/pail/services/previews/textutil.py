"""Text helpers every previewer shares: terminal-safe text, binary sniffing, hex dumps.

Object contents are untrusted. Everything a preview returns as text has been through
:func:`sanitize_text`, so printing it can never move the cursor, change colours, set the
window title or hide text (C0/C1 controls become visible symbols).
"""

from __future__ import annotations

import codecs
import re

#: A hex dump shows at most this many bytes (256 lines of 16).
HEXDUMP_BYTES = 4 * 1024

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


def clip(value: object, max_chars: int = 200, *, one_line: bool = True) -> str:
    """``str(value)``, sanitised, at most ``max_chars`` characters (an ellipsis marks a cut).

    With ``one_line`` (table cells, names), line breaks and tabs become visible ``⏎``/space.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    if one_line:
        text = text.replace("\r\n", "\n").replace("\n", "⏎").replace("\t", " ")
    return sanitize_text(text)


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
