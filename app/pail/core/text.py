"""Text from a store or a user, made safe to show on a terminal: the one place that decides.

Key names, metadata, server messages and object contents are untrusted. Printed raw, they
could move the cursor, recolour or clear the screen, set the window title (OSC 0), write
the clipboard (OSC 52), or make one name look like another. Two sets of characters are
never shown as they are:

* **controls** (:data:`CONTROLS`): C0 (U+0000..U+001F), DEL (U+007F) and C1
  (U+0080..U+009F; U+009B is an 8-bit CSI, U+009D an 8-bit OSC). Every escape sequence
  starts with one of them, so replacing them neutralises ESC sequences, OSC 52 and C1 ones.
* **invisible and reordering characters** (:data:`INVISIBLE`): every Unicode format
  character (category Cf) plus the line and paragraph separators (U+2028, U+2029). That
  covers the bidirectional embeddings, overrides and isolates (U+202A..U+202E,
  U+2066..U+2069, U+200E/U+200F, U+061C) that make text display in another order than it
  is stored (CVE-2021-42574, "Trojan Source"), the zero-width characters (U+200B..U+200D,
  U+2060, U+FEFF) that make two different keys look the same, the soft hyphen, and the
  tag characters (U+E0000..U+E007F) that hide ASCII.

Lone surrogates (U+D800..U+DFFF) cannot be encoded for a terminal; U+DC80..U+DCFF are the
undecodable bytes of a local file name (``surrogateescape``) and are shown as those bytes.

One function per way of showing text:

* :func:`printable` -- one line with backslash escapes (``\\x1b``, ``\\n``, ``\\u202e``),
  copyable and unambiguous: the command line, plain-text reports.
* :func:`safe_text` -- several lines (TAB and LF kept): previews, hints, error blocks.
  Controls become Unicode control pictures (ESC shows as ``␛``), invisible characters
  ``<U+202E>``.
* :func:`one_line` -- :func:`safe_text` with line breaks as ``⏎`` and TAB as ``␉``: tree
  labels, table cells, status lines.
* :func:`clip` -- :func:`one_line` (or :func:`safe_text`) of at most N characters.
* :func:`shell_quote` -- a POSIX shell word whose text is exactly the input, with no raw
  control or invisible character in it (they are written as ``\\xNN`` bytes): commands
  copied to the clipboard.
"""

from __future__ import annotations

import re
import shlex

#: C0 controls, DEL and C1 controls.
CONTROLS = "\x00-\x1f\x7f-\x9f"
#: Unicode format characters (Cf, as of Unicode 15.1) and U+2028/U+2029 (Zl, Zp).
INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
_SURROGATES = "\ud800-\udfff"

# Everything printable() escapes; safe_text() keeps TAB and LF out of it.
_ESCAPED = re.compile(f"[{CONTROLS}{INVISIBLE}{_SURROGATES}]")
_UNSAFE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}{_SURROGATES}]")

_LINE_BREAK = "\u23ce"  # ⏎
_TAB = "\u2409"  # ␉


def _backslashed(ch: str) -> str:
    """Python-style escape of one character of :data:`_ESCAPED`."""
    code = ord(ch)
    if ch in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[ch]
    if code <= 0x9F:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a local file name
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: object) -> str:
    """``str(text)`` on one line, every control, invisible character and lone surrogate
    replaced by a visible backslash escape: ``\\t`` ``\\n`` ``\\r``, ``\\xNN`` for other
    controls and for undecodable file-name bytes, ``\\uNNNN``/``\\UNNNNNNNN`` for the rest.

    Example: ``"evil\\x1b[31m\\u202egnp.exe"`` prints as ``evil\\x1b[31m\\u202egnp.exe``
    with the backslashes literal. Text without such characters is returned unchanged.
    """
    value = text if isinstance(text, str) else str(text)
    return _ESCAPED.sub(lambda m: _backslashed(m.group()), value)


def _pictured(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # U+2400 "Control Pictures": ␛ for ESC, ␍ for CR
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0x9F or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"  # C1 controls have no pictures; surrogates cannot be encoded
    return f"<U+{code:04X}>"


def safe_text(value: object) -> str:
    """``str(value)`` that cannot drive a terminal, over several lines.

    TAB and LF are kept and CRLF becomes LF; other C0 controls show as control pictures
    (``␛`` for ESC, ``␍`` for a lone CR, ``␇`` for BEL), DEL as ``␡``, C1 controls and lone
    surrogates as ``�`` (U+FFFD), invisible characters as ``<U+202E>``.
    """
    text = value if isinstance(value, str) else str(value)
    return _UNSAFE.sub(_pictured, text.replace("\r\n", "\n"))


def one_line(value: object) -> str:
    """:func:`safe_text` on one line: line breaks show as ``⏎``, TAB as ``␉``."""
    return _single_line(value)


def _single_line(value: object) -> str:
    return safe_text(value).replace("\n", _LINE_BREAK).replace("\t", _TAB)


def clip(value: object, max_chars: int = 200, *, one_line: bool = True) -> str:
    """``str(value)`` cut to ``max_chars`` characters (``…`` marks a cut; the cut is made
    before escaping), then :func:`one_line` or, with ``one_line=False``, :func:`safe_text`.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return _single_line(text) if one_line else safe_text(text)


def shell_quote(text: str) -> str:
    """``text`` as one POSIX shell word (``shlex.quote``). Text with a control, invisible
    character or undecodable file-name byte uses ANSI-C quoting instead (``$'...'``,
    bash/zsh/ksh93), each such character written as its UTF-8 bytes (``\\x1b``,
    ``\\xe2\\x80\\xae`` for U+202E, ``\\xc2\\x9b`` for U+009B) and an undecodable byte as
    itself (``\\xff``): the command copied to the clipboard never carries a raw escape
    sequence, newline or bidi override into a terminal, and the shell gets the exact key
    in any locale (``\\u`` escapes are left literal under ``LC_ALL=C``).
    """
    if not _ESCAPED.search(text):
        return shlex.quote(text)
    out = []
    for ch in text:
        if _ESCAPED.match(ch):
            # An undecodable file-name byte is that byte; other lone surrogates (no store
            # returns one) keep Python's surrogatepass bytes rather than failing.
            byte_of_name = 0xDC80 <= ord(ch) <= 0xDCFF
            raw = ch.encode("utf-8", "surrogateescape" if byte_of_name else "surrogatepass")
            out.append("".join(f"\\x{byte:02x}" for byte in raw))
        elif ch in "\\'":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


__all__ = ["CONTROLS", "INVISIBLE", "clip", "one_line", "printable", "safe_text", "shell_quote"]
