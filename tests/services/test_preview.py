"""Previews read by range: bounded bytes, terminal-safe text, hex dumps for binary."""

import pytest

from pail.drivers.local import LocalDriver
from pail.services.preview import (
    PREVIEW_BYTES,
    decode_text,
    hexdump,
    is_binary,
    load_preview,
    sanitize_text,
)


class CountingDriver(LocalDriver):
    """A real LocalDriver that records how many bytes each read returned."""

    def __init__(self, root):
        super().__init__(root)
        self.reads: list[int] = []

    def read_range(self, *args, **kwargs):
        data = super().read_range(*args, **kwargs)
        self.reads.append(len(data))
        return data


@pytest.fixture
def store(tmp_path):
    (tmp_path / "b").mkdir()
    return tmp_path, CountingDriver(str(tmp_path))


def test_large_text_reads_only_the_limit(store):
    root, driver = store
    body = b"line\n" * 100_000  # 500,000 bytes
    (root / "b" / "train.log").write_bytes(body)
    preview = load_preview(driver, "b", "train.log", len(body))
    assert driver.reads == [PREVIEW_BYTES]
    assert preview.kind == "text" and preview.truncated
    assert preview.bytes_read == PREVIEW_BYTES
    assert preview.summary == f"read {PREVIEW_BYTES:,} of {len(body):,} bytes"


def test_escape_sequences_are_neutralised(store):
    root, driver = store
    (root / "b" / "evil.txt").write_bytes(b"ok\x1b[2J\x1b]0;title\x07\r\nnext\x9b")
    preview = load_preview(driver, "b", "evil.txt", None)
    assert "\x1b" not in preview.text and "\x07" not in preview.text
    assert preview.text == "ok␛[2J␛]0;title␇\nnext\ufffd"


def test_binary_becomes_hexdump(store):
    root, driver = store
    (root / "b" / "plot.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    preview = load_preview(driver, "b", "plot.png", 16)
    assert preview.kind == "binary"
    assert preview.text.startswith("00000000  89 50 4e 47")
    assert "|.PNG" in preview.text


def test_empty_object_reads_nothing(store):
    root, driver = store
    (root / "b" / "empty").write_bytes(b"")
    assert load_preview(driver, "b", "empty", 0).kind == "empty"
    assert driver.reads == []


def test_helpers():
    assert sanitize_text("a\tb\nc") == "a\tb\nc"
    assert decode_text("é".encode() * 3 + "é".encode()[:1], truncated=True) == "ééé"
    assert not is_binary("naïve café\n".encode())
    assert is_binary(bytes(range(256)))
    assert hexdump(b"AB", offset=16) == "00000010  " + "41 42".ljust(49) + " |AB|"
