"""Proving a downloaded file equals the object: only checks the store vouches for.

A file reaches its final name only when one of these matched (first that applies):

* S3 single-part ETag of 32 hex digits: the MD5 of the content (S3 API reference, "Common
  Response Headers: ETag"), except for SSE-KMS / SSE-C objects, whose ETags are not MD5s.
* S3 additional checksums (HeadObject with ``ChecksumMode=ENABLED``; S3 User Guide,
  "Checking object integrity"): CRC64NVME, SHA-256, SHA-1, CRC32C, CRC32. ``FULL_OBJECT``
  checksums cover the whole object; ``COMPOSITE`` ones (``value-N``) are the checksum of
  the N parts' binary checksums concatenated, so they need the real part sizes.
* S3 multipart ETag ``HEX-N``: MD5 of the N parts' binary MD5s concatenated, with the real
  part sizes: part 1's size from HeadObject ``PartNumber=1`` tried as a uniform layout,
  then, if that does not match, every part's size (GetObjectAttributes ``ObjectParts``, else
  HeadObject ``PartNumber=k`` for each part). When the store gives no part sizes, the usual
  part sizes are tried; a match proves the content, a miss proves nothing.
* GCS: CRC32C (big-endian, base64, as the JSON API gives it), else MD5 (base64).
* Local folders: SHA-256 of the source file, read again by the driver.

A mismatch against a check with known inputs is a :data:`MISMATCH` (the partial is
deleted). When no check is possible (an encrypted object without additional checksums,
a multipart object whose part sizes the store does not tell, a store that gives no
checksum) the file is :data:`UNVERIFIED`: it is never accepted on its size alone; the caller
asks (``--allow-unverified``). Guessed part sizes never turn a miss into an acceptance.

Files are read once per check, 1 MiB at a time; hashlib and awscrt release the GIL on large
buffers. A download hashes while its bytes stream in (:mod:`pail.services.download.fetch`)
and hands the digests over as :class:`Streamed`: a digest a check needs that is there is
not computed again, and what the store already vouched for (a HeadObject asked before the
transfer, or the headers of a whole-object GetObject) is not asked again. Only a match is
taken from it; anything else goes the whole way above, reading the file.
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pail.drivers.base import ObjectChecksums, PartSizes, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.checksums import MD5_ETAG, MULTIPART_ETAG

_MIB = 1024 * 1024
_READ = _MIB
_COMMON_PART_SIZES = tuple(n * _MIB for n in (8, 5, 16, 15, 32, 64, 10, 100, 128, 256, 512))
#: S3 additional checksum algorithms, strongest first (the order they are tried in).
S3_ALGORITHMS = ("CRC64NVME", "SHA256", "SHA1", "CRC32C", "CRC32")

VERIFIED: Final = "verified"
MISMATCH: Final = "mismatch"
UNVERIFIED: Final = "unverified"
Status = Literal["verified", "mismatch", "unverified"]
#: ``read(offset, length) -> bytes`` over the downloaded file.
Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class Verdict:
    """The result of a verification.

    Attributes:
        status: :data:`VERIFIED`, :data:`MISMATCH` or :data:`UNVERIFIED`.
        method: how: ``md5``, ``multipart-md5``, ``sha256``, ``composite-sha256``,
            ``crc32c``, ``crc64nvme``, ``sha256-source`` ...; ``""`` when unverified.
        reason: plain text for a mismatch or why nothing could be checked.
    """

    status: Status
    method: str = ""
    reason: str = ""

    @property
    def ok(self) -> bool:
        """True when verified."""
        return self.status == VERIFIED


def _verified(method: str) -> Verdict:
    return Verdict(VERIFIED, method)


def _mismatch(method: str, what: str) -> Verdict:
    return Verdict(MISMATCH, method, f"checksum mismatch ({what})")


def _unverified(reason: str) -> Verdict:
    return Verdict(UNVERIFIED, "", reason)


# -- checksums ---------------------------------------------------------------------------


class _Crc:
    """A running CRC with ``update``/``digest`` like hashlib (big-endian bytes)."""

    def __init__(self, fn: Callable[[Any, int], int], width: int) -> None:
        self._fn, self._width, self._value = fn, width, 0

    def update(self, data: bytes | memoryview) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def new_hasher(algorithm: str) -> Any:
    """A hasher for ``algorithm`` (``MD5``, ``SHA1``, ``SHA256``, ``CRC32``, ``CRC32C``,
    ``CRC64NVME``) with ``update(bytes)`` and ``digest() -> bytes`` (CRCs big-endian, as
    S3 and GCS encode them before base64). CRC32C and CRC64NVME come from awscrt, AWS's
    own implementation (what botocore[crt] uses).

    Raises:
        ValueError: an unknown algorithm.
    """
    name = algorithm.upper()
    if name in ("MD5", "SHA1", "SHA256"):
        return hashlib.new(name.lower())
    if name == "CRC32":
        return _Crc(lambda data, prev: zlib.crc32(data, prev), 4)
    if name in ("CRC32C", "CRC64NVME"):
        from awscrt import checksums

        # awscrt takes any buffer (bytes, bytearray, memoryview): no copy of the data.
        if name == "CRC32C":
            return _Crc(lambda data, prev: checksums.crc32c(data, prev), 4)
        return _Crc(lambda data, prev: checksums.crc64nvme(data, prev), 8)
    raise ValueError(f"unknown checksum algorithm {algorithm!r}")


class _PartHashers:
    """Digests of consecutive slices of a stream, the slices' sizes given."""

    def __init__(self, sizes: Sequence[int], algorithm: str) -> None:
        self.sizes, self.algorithm = list(sizes), algorithm
        self.index, self.filled = 0, 0
        self.digests: list[bytes] = []
        self.current = new_hasher(algorithm)

    def update(self, data: memoryview) -> None:
        while data and self.index < len(self.sizes):
            take = min(len(data), self.sizes[self.index] - self.filled)
            self.current.update(data[:take])
            self.filled += take
            data = data[take:]
            if self.filled == self.sizes[self.index]:
                self.digests.append(self.current.digest())
                self.current, self.filled = new_hasher(self.algorithm), 0
                self.index += 1


class Scanner:
    """Digests of a stream fed in order: the whole stream's for each of ``whole``, and for
    each part layout in ``layouts`` (part sizes in bytes) the ``part_algorithm`` digest of
    every part. Feed with :meth:`update`; read :meth:`whole_digests` and
    :meth:`part_digests` once every byte went in."""

    def __init__(
        self,
        whole: Sequence[str] = (),
        layouts: Sequence[Sequence[int]] = (),
        part_algorithm: str = "MD5",
    ) -> None:
        self.hashers = {alg: new_hasher(alg) for alg in whole}
        self.layouts = [tuple(layout) for layout in layouts]
        self.part_algorithm = part_algorithm
        self._parts = [_PartHashers(layout, part_algorithm) for layout in layouts]
        self.offset = 0

    def update(self, data: bytes | memoryview) -> None:
        """Hash the next bytes."""
        view = memoryview(data)
        for hasher in self.hashers.values():
            hasher.update(view)
        for part in self._parts:
            part.update(view)
        self.offset += len(view)

    def whole_digests(self) -> dict[str, bytes]:
        """``{algorithm: digest}`` of everything fed so far."""
        return {alg: h.digest() for alg, h in self.hashers.items()}

    def part_digests(self) -> list[list[bytes]]:
        """Per layout, the digests of its parts completed so far."""
        return [p.digests for p in self._parts]


def scan(
    read: Reader,
    size: int,
    whole: Sequence[str] = (),
    layouts: Sequence[Sequence[int]] = (),
    part_algorithm: str = "MD5",
) -> tuple[dict[str, bytes], list[list[bytes]]]:
    """Read ``size`` bytes once and return the whole-file digests for ``whole`` and, for
    each part layout in ``layouts`` (part sizes in bytes), the ``part_algorithm`` digest of
    every part.

    Raises:
        OSError: reading failed. ValueError: the file is shorter than ``size``.
    """
    scanner = Scanner(whole, layouts, part_algorithm)
    offset = 0
    while offset < size:
        chunk = read(offset, min(_READ, size - offset))
        if not chunk:
            raise ValueError(f"file ends at {offset} bytes, expected {size}")
        scanner.update(chunk)
        offset += len(chunk)
    return scanner.whole_digests(), scanner.part_digests()


@dataclass
class Streamed:
    """What a download learnt while its bytes streamed in (the input of
    :func:`verify_object`'s shortcuts).

    Attributes:
        whole: ``{algorithm: digest}`` of the whole object (``MD5``, ``CRC64NVME``...).
        parts: ``{(algorithm, part sizes): [digest per part]}``.
        checksums: what the store vouched for without being asked again: a HeadObject
            made before the transfer, or the headers of a GetObject of the whole object
            (``None``: verification asks).
        part1: part 1's size from HeadObject ``PartNumber=1``, when it was asked.
    """

    whole: dict[str, bytes] = field(default_factory=dict)
    parts: dict[tuple[str, tuple[int, ...]], list[bytes]] = field(default_factory=dict)
    checksums: ObjectChecksums | None = None
    part1: int | None = None


class _Reading:
    """The downloaded file (``read``, ``size`` bytes) and the digests already known."""

    def __init__(self, read: Reader, size: int, streamed: Streamed | None) -> None:
        self.read, self.size, self.streamed = read, size, streamed

    def scan(
        self,
        whole: Sequence[str] = (),
        layouts: Sequence[Sequence[int]] = (),
        part_algorithm: str = "MD5",
    ) -> tuple[dict[str, bytes], list[list[bytes]]]:
        """:func:`scan`, or the streamed digests when every one asked for is there."""
        known = self.streamed
        if known is not None and all(alg in known.whole for alg in whole):
            found = [known.parts.get((part_algorithm, tuple(layout))) for layout in layouts]
            if all(digests is not None for digests in found):
                return {alg: known.whole[alg] for alg in whole}, [list(d or []) for d in found]
        return scan(self.read, self.size, whole, layouts, part_algorithm)


def multipart_etag(part_md5s: Sequence[bytes]) -> str:
    """The S3 multipart ETag of parts with these binary MD5s: ``hex(md5(concat))-N``."""
    return f"{hashlib.md5(b''.join(part_md5s)).hexdigest()}-{len(part_md5s)}"


def composite_checksum(algorithm: str, part_digests: Sequence[bytes]) -> str:
    """The base64 S3 ``COMPOSITE`` checksum of parts with these binary checksums (without
    the ``-N`` suffix): the checksum of the concatenated part checksums."""
    hasher = new_hasher(algorithm)
    hasher.update(b"".join(part_digests))
    return base64.b64encode(hasher.digest()).decode()


def b64(digest: bytes) -> str:
    """Base64 of a binary digest, as S3 and GCS give checksums."""
    return base64.b64encode(digest).decode()


def uniform_layout(size: int, parts: int, part: int) -> list[int] | None:
    """``parts`` parts of ``part`` bytes, the last one holding the rest, or ``None`` when
    that cannot add up to ``size`` bytes."""
    if parts < 1 or part < 1:
        return None
    last = size - part * (parts - 1)
    if not 0 < last <= part and not (parts == 1 and size == 0):
        return None
    return [part] * (parts - 1) + [last]


def guessed_layouts(size: int, parts: int) -> list[list[int]]:
    """Uniform layouts with the usual part sizes (5/8/16/... MiB, the size / N rounded up
    to a MiB) that fit ``size`` bytes in ``parts`` parts: at most 4, most likely first."""
    low = -(-size // parts) if parts else 0
    rounded = -(-low // _MIB) * _MIB
    found: list[list[int]] = []
    for candidate in (*_COMMON_PART_SIZES, rounded):
        layout = uniform_layout(size, parts, candidate)
        if layout is not None and layout not in found:
            found.append(layout)
    return found[:4]


# -- verification ------------------------------------------------------------------------


def verify_object(
    driver: StorageDriver,
    provider: str,
    bucket: str,
    key: str,
    *,
    size: int,
    etag: str | None,
    version_id: str | None,
    read: Reader,
    streamed: Streamed | None = None,
) -> Verdict:
    """Check the downloaded bytes (``read``, ``size`` bytes) against what the store says
    about ``bucket``/``key`` (see the module doc for the checks and their order).

    May call the driver: ``object_checksums`` (one HeadObject / ``objects.get`` / a read
    of the local source), and for S3 multipart objects ``part_size`` / ``part_sizes``
    (:class:`~pail.drivers.base.PartSizes`; without it only guessed layouts are tried).
    ``streamed`` (S3): digests computed while the bytes arrived and what the store
    already vouched for; a match against them needs neither a request nor a read.

    Raises:
        OSError: reading the downloaded file failed. A failed driver call is never raised:
        the verdict is UNVERIFIED with the reason.
    """
    if provider == "s3":
        reading = _Reading(read, size, streamed)
        return _verify_s3(driver, bucket, key, (etag or "").strip('"'), version_id, reading)
    try:
        info = driver.object_checksums(bucket, key, version_id=version_id)
    except StorageError as exc:
        return _unverified(f"could not read the object's checksums: {_why(exc)}")
    for alg, method in (("CRC32C", "crc32c"), ("SHA256", "sha256"), ("MD5", "md5")):
        value = info.checksums.get(alg)
        if value:
            got, _ = scan(read, size, [alg])
            if b64(got[alg]) == value:
                return _verified(method + ("-source" if provider == "local" else ""))
            return _mismatch(method, alg)
    return _unverified("the store gives no checksum for this object")


def _why(exc: StorageError) -> str:
    code = exc.code or type(exc).__name__
    return f"{exc.operation or 'request'} answered {code}" + (
        f" (HTTP {exc.status})" if exc.status else ""
    )


def _streamed_match(streamed: Streamed, etag: str) -> Verdict | None:
    """VERIFIED when a digest computed while the bytes streamed in equals what the store
    vouches for: the MD5 of a plain-MD5 ETag, or a full-object checksum (not composite)
    the store gave for this ETag. ``None`` otherwise: the caller checks the whole way."""
    md5 = streamed.whole.get("MD5")
    if md5 is not None and MD5_ETAG.match(etag) and md5.hex() == etag.lower():
        return _verified("md5")
    info = streamed.checksums
    if info is None or (info.etag is not None and info.etag.strip('"') != etag):
        return None
    for alg in S3_ALGORITHMS:
        value, got = info.checksums.get(alg), streamed.whole.get(alg)
        if not value or got is None or info.checksum_type == "COMPOSITE" or "-" in value:
            continue
        if b64(got) == value:
            return _verified(alg.lower())
    return None


def _verify_s3(
    driver: StorageDriver,
    bucket: str,
    key: str,
    etag: str,
    version_id: str | None,
    reading: _Reading,
) -> Verdict:
    streamed = reading.streamed
    if streamed is not None:
        quick = _streamed_match(streamed, etag)
        if quick is not None:
            return quick
    if MD5_ETAG.match(etag):  # the cheap, common case: no request needed when it matches
        got, _ = reading.scan(["MD5"])
        if got["MD5"].hex() == etag.lower():
            return _verified("md5")
    if streamed is not None and streamed.checksums is not None:
        info = streamed.checksums  # asked before the transfer, or sent with the body
    else:
        try:
            info = driver.object_checksums(bucket, key, version_id=version_id)
        except StorageError as exc:
            return _unverified(f"could not read the object's checksums: {_why(exc)}")
    if info.etag and info.etag.strip('"') != etag and etag:
        return Verdict(MISMATCH, "etag", "the object changed during the download (new ETag)")
    notes: list[str] = []
    for alg in S3_ALGORITHMS:
        value = info.checksums.get(alg)
        if not value:
            continue
        body, _, count = value.partition("-")
        kind = info.checksum_type
        # Some stores (moto) give a composite value without "-N" or ChecksumType: for a
        # multipart object whose type is not stated, either kind may apply.
        whole = kind != "COMPOSITE" and not count
        composite = (
            kind == "COMPOSITE" or bool(count) or (kind is None and MULTIPART_ETAG.match(etag))
        )
        if whole:
            got, _ = reading.scan([alg])
            if b64(got[alg]) == body:
                return _verified(alg.lower())
            if not composite:
                return _mismatch(alg.lower(), alg)
        parts = int(count) if count.isdigit() else _etag_parts(etag)
        if parts is None:
            notes.append(f"{alg} is composite but the part count is unknown")
            continue
        verdict = _check_layouts(
            driver, bucket, key, version_id, parts, reading,
            alg, _composite_matcher(alg, body),
            f"composite-{alg.lower()}", notes,
        )  # fmt: skip
        if verdict is not None:
            return verdict
    if MD5_ETAG.match(etag):
        if info.etag_is_md5:
            return _mismatch("md5", "MD5 vs ETag")
        return _unverified(_join("the ETag of an encrypted object is not an MD5", notes))
    multi = MULTIPART_ETAG.match(etag)
    if multi:
        if not info.etag_is_md5:
            return _unverified(_join("the ETag of an encrypted object is not an MD5", notes))
        want = etag.lower()
        verdict = _check_layouts(
            driver, bucket, key, version_id, int(multi.group(2)), reading,
            "MD5", lambda digests: multipart_etag(digests) == want, "multipart-md5", notes,
        )  # fmt: skip
        if verdict is not None:
            return verdict
        return _unverified(_join("multipart ETag, part sizes unknown", notes))
    what = f"ETag {etag!r} is neither an MD5 nor a multipart ETag" if etag else "no ETag"
    return _unverified(_join(f"{what} and the object has no additional checksum", notes))


def _composite_matcher(algorithm: str, want: str) -> Callable[[list[bytes]], bool]:
    """A test of part digests against the composite value ``want`` (base64, no ``-N``)."""
    return lambda digests: composite_checksum(algorithm, digests) == want


def _etag_parts(etag: str) -> int | None:
    multi = MULTIPART_ETAG.match(etag)
    return int(multi.group(2)) if multi else None


def _join(reason: str, notes: list[str]) -> str:
    return "; ".join([reason, *notes])


def _check_layouts(
    driver: StorageDriver,
    bucket: str,
    key: str,
    version_id: str | None,
    parts: int,
    reading: _Reading,
    algorithm: str,
    matches: Callable[[list[bytes]], bool],
    method: str,
    notes: list[str],
) -> Verdict | None:
    """Check a per-part value with the real part sizes: a uniform layout from part 1's
    size, then (on a miss) every part's size. Returns VERIFIED, MISMATCH (a miss with the
    exact sizes), or ``None`` when the sizes are unknown (``notes`` says why) and no
    guessed layout matched."""
    size = reading.size
    first: int | None = None
    sizer = driver if isinstance(driver, PartSizes) else None
    if sizer is None:
        notes.append("part sizes unavailable: the driver cannot ask for them")
    elif reading.streamed is not None and reading.streamed.part1:
        first = reading.streamed.part1  # asked before the transfer
    else:
        try:
            first = sizer.part_size(bucket, key, version_id=version_id, part_number=1)
        except StorageError as exc:
            notes.append(f"part sizes unavailable: HeadObject PartNumber {_why(exc)}")
    if first and sizer is not None:
        layout = uniform_layout(size, parts, first)
        exact = parts <= 2 and layout is not None  # part 1 + the rest: nothing guessed
        if layout is not None:
            _, (digests,) = reading.scan((), [layout], algorithm)
            if matches(digests):
                return _verified(method)
            if exact:
                return _mismatch(method, method.replace("-", " "))
        try:
            sizes = sizer.part_sizes(bucket, key, parts, version_id=version_id)
        except StorageError as exc:
            notes.append(f"part sizes unavailable: {_why(exc)}")
            sizes = None
        if sizes is not None:
            if len(sizes) != parts or sum(sizes) != size:
                notes.append("the store's part sizes do not add up to the object's size")
                return None
            if sizes != layout:
                _, (digests,) = reading.scan((), [sizes], algorithm)
                if matches(digests):
                    return _verified(method)
            return _mismatch(method, method.replace("-", " "))
        return None
    layouts = guessed_layouts(size, parts)
    if layouts:
        _, found = reading.scan((), layouts, algorithm)
        if any(matches(digests) for digests in found):
            return _verified(method)  # a match proves the bytes; a miss proves nothing
    return None
