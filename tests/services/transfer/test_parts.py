"""Part layout, per-part hashing and whole-object CRCs combined from parts (pure)."""

from __future__ import annotations

import hashlib
import os

import pytest

from pail.drivers.base import MAX_PARTS, MIN_PART_SIZE
from pail.services.download.verify import new_hasher
from pail.services.transfer.parts import (
    WholeDigests,
    combine,
    hash_part,
    layout,
    part_size_for,
)

MIB = 1024 * 1024


def test_part_size_defaults_and_limits():
    assert part_size_for(100 * MIB) == 16 * MIB
    # 10,000 parts at most: 200 GiB needs 21 MiB parts (size/10,000 rounded up to a MiB)
    big = 200 * 1024 * MIB
    part = part_size_for(big)
    assert part == 21 * MIB and -(-big // part) <= MAX_PARTS
    assert part_size_for(10 * MIB, wanted=1024) == MIN_PART_SIZE
    assert part_size_for(10 * MIB, wanted=5 * MIB + 1, alignment=256 * 1024) % (256 * 1024) == 0


def test_layout_covers_every_byte():
    assert layout(12 * MIB, 5 * MIB) == [(0, 5 * MIB), (5 * MIB, 5 * MIB), (10 * MIB, 2 * MIB)]
    assert layout(0, 5 * MIB) == [(0, 0)]


@pytest.mark.parametrize("alg", ["CRC64NVME", "CRC32C", "CRC32"])
def test_combined_crc_equals_the_whole(alg):
    data = os.urandom(300_001)
    pieces = layout(len(data), 65_536)
    digests = []
    for offset, length in pieces:
        h = new_hasher(alg)
        h.update(data[offset : offset + length])
        digests.append((h.digest(), length))
    whole = new_hasher(alg)
    whole.update(data)
    assert combine(alg, digests) == whole.digest()
    with pytest.raises(ValueError):
        combine("SHA256", digests)


def test_whole_digests_from_parts_in_any_order():
    data = os.urandom(3 * 100_000 + 7)
    whole = WholeDigests()
    pieces = list(enumerate(layout(len(data), 100_000), start=1))
    for number, (offset, length) in reversed(pieces):
        whole.add(hash_part(number, data[offset : offset + length], ["MD5", "CRC32C"]))
    crc = new_hasher("CRC32C")
    crc.update(data)
    assert whole.whole("CRC32C") == crc.digest()
    assert whole.whole("MD5") is None  # an MD5 does not combine
    md5s = b"".join(hashlib.md5(data[o : o + n]).digest() for _, (o, n) in pieces)
    assert whole.multipart_etag() == f"{hashlib.md5(md5s).hexdigest()}-4"


def test_one_part_gives_every_digest():
    whole = WholeDigests()
    whole.add(hash_part(1, b"hello", ["MD5", "SHA256"]))
    assert whole.whole("MD5") == hashlib.md5(b"hello").digest()
    assert whole.whole("SHA256") == hashlib.sha256(b"hello").digest()
