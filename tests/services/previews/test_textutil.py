"""The text helpers every preview uses: terminal-safe text, UTF-8 cut at a range's end,
binary detection and hex dumps."""

from pail.services.previews.textutil import decode_text, hexdump, is_binary, sanitize_text


def test_escape_sequences_are_neutralised():
    text = sanitize_text("ok\x1b[2J\x1b]0;title\x07\r\nnext\x9b")
    assert "\x1b" not in text and "\x07" not in text
    assert text == "ok␛[2J␛]0;title␇\nnext\ufffd"


def test_helpers():
    assert sanitize_text("a\tb\nc") == "a\tb\nc"
    assert decode_text("é".encode() * 3 + "é".encode()[:1], truncated=True) == "ééé"
    assert not is_binary("naïve café\n".encode())
    assert is_binary(bytes(range(256)))
    assert hexdump(b"AB", offset=16) == "00000010  " + "41 42".ljust(49) + " |AB|"
