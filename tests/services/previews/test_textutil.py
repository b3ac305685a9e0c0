"""The byte helpers every preview uses: UTF-8 cut at a range's end, binary detection and
hex dumps (terminal-safe text is tested in tests/core/test_text.py)."""

from pail.services.previews.textutil import decode_text, hexdump, is_binary


def test_helpers():
    assert decode_text("é".encode() * 3 + "é".encode()[:1], truncated=True) == "ééé"
    assert not is_binary("naïve café\n".encode())
    assert is_binary(bytes(range(256)))
    assert hexdump(b"AB", offset=16) == "00000010  " + "41 42".ljust(49) + " |AB|"
