"""Part layout and checksums of a write: how an object is cut into parts, the checksums
each part travels with, and the whole object's checksums combined from the parts'.

Layout (S3 User Guide, "Uploading and copying objects using multipart upload"): objects up
to the threshold (16 MiB) go in one request; larger ones in parts of
``max(16 MiB, size / 10,000 rounded up to a MiB)`` (at most :data:`MAX_PARTS` parts, none
but the last under :data:`MIN_PART_SIZE`), rounded up to the store's ``part_alignment``
(GCS resumable uploads: 256 KiB).

Checksums: every part is hashed with MD5 (Content-MD5 / the multipart ETag) and the
destination's CRC (S3: CRC64NVME, GCS: CRC32C); the whole object's CRC comes from the
parts' CRCs with awscrt's ``combine_*`` (the CRC of concatenated blocks without reading
them again), so parts can be read and sent in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pail.drivers.base import MAX_PARTS, MIN_PART_SIZE
from pail.services.download.verify import b64, multipart_etag, new_hasher

_MIB = 1024 * 1024
#: Objects above this many bytes are written in parts.
MULTIPART_THRESHOLD = 16 * _MIB
#: Smallest part size pail picks (tests may ask for smaller, down to MIN_PART_SIZE).
DEFAULT_PART_SIZE = 16 * _MIB
#: CRC algorithms whose whole-object value combines from the parts' (awscrt ``combine_*``).
COMBINABLE = ("CRC64NVME", "CRC32C", "CRC32")


def part_size_for(size: int, *, alignment: int = 1, wanted: int | None = None) -> int:
    """The part size in bytes for an object of ``size`` bytes: ``wanted`` (or
    max(16 MiB, size/10,000 rounded up to a MiB)), at least :data:`MIN_PART_SIZE`, raised
    so the object fits in :data:`MAX_PARTS` parts, rounded up to ``alignment``."""
    part = wanted if wanted else DEFAULT_PART_SIZE
    least = -(-size // MAX_PARTS)
    least = -(-least // _MIB) * _MIB
    part = max(part, least, MIN_PART_SIZE)
    align = max(1, alignment)
    return -(-part // align) * align


def layout(size: int, part_size: int) -> list[tuple[int, int]]:
    """``[(offset, length), ...]`` of the parts of ``size`` bytes cut every ``part_size``
    bytes (one empty part for an empty object)."""
    if size <= 0:
        return [(0, 0)]
    return [(off, min(part_size, size - off)) for off in range(0, size, part_size)]


def combine(algorithm: str, parts: Sequence[tuple[bytes, int]]) -> bytes:
    """The whole object's ``algorithm`` CRC (big-endian bytes) from its parts' CRCs and
    lengths ``[(digest, length), ...]`` in order (awscrt ``combine_crc64nvme`` /
    ``combine_crc32c`` / ``combine_crc32``).

    Raises:
        ValueError: ``algorithm`` is not a combinable CRC.
    """
    from awscrt import checksums

    name = algorithm.upper()
    funcs = {
        "CRC64NVME": (checksums.combine_crc64nvme, 8),
        "CRC32C": (checksums.combine_crc32c, 4),
        "CRC32": (checksums.combine_crc32, 4),
    }
    if name not in funcs:
        raise ValueError(f"{algorithm} checksums do not combine")
    fn, width = funcs[name]
    value = 0
    for digest, length in parts:
        value = fn(value, int.from_bytes(digest, "big"), length)
    return value.to_bytes(width, "big")


@dataclass(frozen=True)
class PartDigest:
    """The checksums of one part: ``number`` (1-based), ``length`` bytes, ``digests``
    (algorithm -> binary digest)."""

    number: int
    length: int
    digests: dict[str, bytes]

    def b64(self, algorithm: str) -> str:
        """Base64 of the part's ``algorithm`` digest (as S3 and GCS send checksums)."""
        return b64(self.digests[algorithm])

    def sent(self, algorithms: Sequence[str]) -> dict[str, str]:
        """``{algorithm: base64}`` for the algorithms a request carries."""
        return {alg: self.b64(alg) for alg in algorithms if alg in self.digests}


def hash_part(number: int, data: bytes | memoryview, algorithms: Sequence[str]) -> PartDigest:
    """Hash one part's bytes with each of ``algorithms`` (``MD5``, ``CRC64NVME``...)."""
    digests = {}
    for alg in dict.fromkeys(algorithms):
        hasher = new_hasher(alg)
        hasher.update(data)
        digests[alg] = hasher.digest()
    return PartDigest(number, len(data), digests)


@dataclass
class WholeDigests:
    """What the parts of one object add up to: combined CRCs, the multipart ETag, and
    (for an object sent in one part) the part's own digests."""

    parts: list[PartDigest] = field(default_factory=list)
    #: Whole-object digests hashed in order across the parts (an MD5 of many parts).
    sequential: dict[str, bytes] = field(default_factory=dict)

    def add(self, part: PartDigest) -> None:
        """Record a part (any order)."""
        self.parts.append(part)

    def ordered(self) -> list[PartDigest]:
        """The parts in number order."""
        return sorted(self.parts, key=lambda p: p.number)

    def whole(self, algorithm: str) -> bytes | None:
        """The whole object's ``algorithm`` digest: a combinable CRC from every part, any
        other algorithm only when the object was one part; ``None`` when unknown."""
        if algorithm in self.sequential:
            return self.sequential[algorithm]
        parts = self.ordered()
        if not parts or any(algorithm not in p.digests for p in parts):
            return None
        if len(parts) == 1:
            return parts[0].digests[algorithm]
        if algorithm in COMBINABLE:
            return combine(algorithm, [(p.digests[algorithm], p.length) for p in parts])
        return None

    def whole_b64(self, algorithm: str) -> str | None:
        """:meth:`whole` in base64."""
        digest = self.whole(algorithm)
        return b64(digest) if digest is not None else None

    def multipart_etag(self) -> str | None:
        """The S3 multipart ETag ``hex(md5(part MD5s))-N`` of these parts."""
        parts = self.ordered()
        if not parts or any("MD5" not in p.digests for p in parts):
            return None
        return multipart_etag([p.digests["MD5"] for p in parts])
