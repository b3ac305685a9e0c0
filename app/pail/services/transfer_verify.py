"""Checking a downloaded file against what the store says about the object.

* Size: always (``Content-Length`` / ``size``).
* S3 single-part ETag: the MD5 of the content, 32 hex digits (S3 API reference, "Common
  Response Headers: ETag"); objects encrypted with SSE-KMS or SSE-C have other ETags, so
  the caller double-checks a mismatch against HeadObject's encryption.
* S3 multipart ETag ``HEX-N``: MD5 of the concatenated binary MD5s of the N parts. The
  part size is not stored; it is inferred from N and the size among the usual choices
  (5/8/16/.../512 MiB and the size / N rounded up to a MiB): a candidate must satisfy
  ``(N-1) * part < size <= N * part``. When S3 gives the exact part size (HeadObject
  ``PartNumber=1``) a mismatch is a failure; a guess that does not match falls back to
  size-only verification, since an unusual part size is not corruption.
* GCS: CRC32C (``google-crc32c``, base64 of the big-endian value, as the JSON API gives it),
  else MD5 (base64).

Files are hashed in one pass, 1 MiB at a time; hashlib releases the GIL on large updates.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from typing import Any

_MIB = 1024 * 1024
_COMMON_PART_SIZES = tuple(n * _MIB for n in (8, 5, 16, 15, 32, 64, 10, 100, 128, 256, 512))
_SINGLE = re.compile(r"^[0-9a-fA-F]{32}$")
_MULTI = re.compile(r"^([0-9a-fA-F]{32})-(\d+)$")
_READ = _MIB


@dataclass(frozen=True)
class Expected:
    """What the store says the bytes are.

    Attributes:
        size: bytes, or ``None`` when unknown.
        s3_etag: an S3 ETag (single-part or multipart form), unquoted.
        crc32c: GCS CRC32C, base64.
        md5_b64: GCS MD5, base64.
        part_size: the exact part size of a multipart S3 object, when the store told it
            (HeadObject ``PartNumber=1``); otherwise it is inferred.
    """

    size: int | None
    s3_etag: str | None = None
    crc32c: str | None = None
    md5_b64: str | None = None
    part_size: int | None = None


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verify`: ``ok``, the ``method`` used (``"md5"``,
    ``"multipart-md5"``, ``"crc32c"``, ``"size"``) and the ``reason`` of a failure."""

    ok: bool
    method: str
    reason: str = ""


def part_size_candidates(size: int, parts: int) -> list[int]:
    """Part sizes in bytes that could have produced a ``parts``-part upload of ``size``
    bytes, most likely first (at most 4)."""
    if parts < 1:
        return []
    if parts == 1:
        return [max(size, 1)]
    low = -(-size // parts)  # ceil(size / parts)
    rounded = -(-low // _MIB) * _MIB
    found: list[int] = []
    for candidate in (*_COMMON_PART_SIZES, rounded):
        if (parts - 1) * candidate < size <= parts * candidate and candidate not in found:
            found.append(candidate)
    return found[:4]


class _PartHasher:
    """MD5s of consecutive ``part``-byte slices of a stream."""

    def __init__(self, part: int) -> None:
        self.part, self.filled, self.digests = part, 0, []
        self.current = hashlib.md5()

    def update(self, data: memoryview) -> None:
        while data:
            take = min(len(data), self.part - self.filled)
            self.current.update(data[:take])
            self.filled += take
            data = data[take:]
            if self.filled == self.part:
                self.digests.append(self.current.digest())
                self.current, self.filled = hashlib.md5(), 0

    def etag(self) -> str:
        digests = self.digests + ([self.current.digest()] if self.filled else [])
        return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def _hash_file(path: str, *, md5: bool, crc: bool, parts: list[int]) -> dict[str, Any]:
    whole = hashlib.md5() if md5 else None
    checksum = None
    if crc:
        import google_crc32c

        checksum = google_crc32c.Checksum()
    hashers = [_PartHasher(p) for p in parts]
    with open(path, "rb") as fh:
        while chunk := fh.read(_READ):
            view = memoryview(chunk)
            if whole is not None:
                whole.update(view)
            if checksum is not None:
                checksum.update(chunk)
            for hasher in hashers:
                hasher.update(view)
    return {
        "md5": whole,
        "crc32c": base64.b64encode(checksum.digest()).decode() if checksum else None,
        "etags": [h.etag() for h in hashers],
    }


def verify(path: str, expected: Expected, actual_size: int) -> Verdict:
    """Compare the file at ``path`` (``actual_size`` bytes) with ``expected``.

    Reads the file once when a checksum applies. Never raises for a mismatch; OSError
    from reading the file propagates.
    """
    if expected.size is not None and actual_size != expected.size:
        return Verdict(
            False, "size", f"size mismatch: {actual_size} bytes, expected {expected.size}"
        )
    etag = (expected.s3_etag or "").strip('"')
    if expected.crc32c or expected.md5_b64:
        got = _hash_file(path, md5=bool(expected.md5_b64), crc=bool(expected.crc32c), parts=[])
        if expected.crc32c:
            ok = got["crc32c"] == expected.crc32c
            return Verdict(ok, "crc32c", "" if ok else "checksum mismatch (CRC32C)")
        ok = base64.b64encode(got["md5"].digest()).decode() == expected.md5_b64
        return Verdict(ok, "md5", "" if ok else "checksum mismatch (MD5)")
    if _SINGLE.match(etag):
        got = _hash_file(path, md5=True, crc=False, parts=[])
        ok = got["md5"].hexdigest() == etag.lower()
        return Verdict(ok, "md5", "" if ok else "checksum mismatch (MD5 vs ETag)")
    multi = _MULTI.match(etag)
    if multi:
        exact = expected.part_size
        candidates = [exact] if exact else part_size_candidates(actual_size, int(multi.group(2)))
        if candidates:
            got = _hash_file(path, md5=False, crc=False, parts=candidates)
            if etag.lower() in got["etags"]:
                return Verdict(True, "multipart-md5")
            if exact:
                return Verdict(False, "multipart-md5", "checksum mismatch (multipart ETag)")
            # A guessed part size that does not match proves nothing: size only.
    return Verdict(True, "size")


def expected_from(provider: str, size: int | None, etag: str | None, extra: dict[str, str]):
    """The :class:`Expected` for an object: S3 uses the ETag; GCS the CRC32C/MD5 that
    ``head`` puts in ``extra``; local folders the size only."""
    if provider == "s3":
        return Expected(size, s3_etag=etag)
    if provider == "gcs":
        return Expected(size, crc32c=extra.get("CRC32C"), md5_b64=extra.get("MD5"))
    return Expected(size)
