"""Fetching the missing byte ranges of one object into its partial, in parallel, resumably,
hashing the bytes as they arrive.

**Parts.** The ranges a partial lacks (:meth:`RangeSet.missing`) are cut into parts;
objects smaller than :data:`PARALLEL_THRESHOLD` are one part. A part is the missing bytes
divided by :data:`PART_CONCURRENCY` (so every stream has work until the end), at least
:data:`MIN_PART_SIZE` (a request's latency is paid per part) and at most :data:`PART_SIZE`
(rounded up to a MiB). Up to :data:`PART_CONCURRENCY` parts of one object stream at once,
each through one ranged request (:meth:`StorageDriver.stream_range`), written at its
offset as it arrives and recorded chunk by chunk, so a stop at any moment (cancel, error,
``kill -9``) leaves an exact record.

**Memory.** Nothing is buffered beyond the chunk being written: a stream holds one chunk
(the driver's, 1 MiB for S3) and a follower one read. Every stream of a download takes a
slot of its :class:`Streams` (one budget for all its files), so the bytes held at once
are at most ``Streams.limit`` chunks plus a read per follower; :class:`Streams` counts
what was held (``peak_streams``, ``peak_held``).

**Hashing while streaming** (:class:`HashPlan`, the result a
:class:`~pail.services.download.verify.Streamed`), so a verified file is not read again:

* one stream from byte 0 (objects below the threshold): each chunk is hashed in order as
  it is written: MD5 for a plain-MD5 ETag of an unencrypted object (the check pail makes
  first), else the cheapest full-object checksum the GetObject answer carries (S3 sends
  ``x-amz-checksum-*`` for a whole-object request). The choice is made on the answer's
  headers (the sink's ``on_response``, :mod:`pail.drivers.s3.transfer`), so no
  HeadObject is needed;
* parallel parts of an object with a full-object CRC (CRC64NVME, CRC32C, CRC32): each
  part's CRC as it streams, combined in order at the end (awscrt ``combine_*``, the CRC of
  concatenated blocks without reading them again);
* anything else (an MD5 ETag of a large object: MD5 cannot be combined; a multipart ETag's
  per-part MD5s; a resumed file): a follower thread reads the partial in order as the
  ranges before it complete (from the page cache, one read buffer) and feeds a
  :class:`~pail.services.download.verify.Scanner`, overlapping the transfer.

Requests are retried by the driver's own policy before any byte arrives. A body that breaks
afterwards (:class:`~pail.drivers.errors.StreamInterrupted`: reset, early close, a stall past
the read timeout) is resumed from the byte it stopped at, after a full-jitter back-off,
at most :data:`STREAM_ATTEMPTS` times in a row without progress.

Tuning (same run beside s5cmd and rclone, SeaweedFS and moto on loopback): every part is a
request with its own latency, and servers that slice the whole object per range (moto)
pay a full copy per part, so parts stay large (64 MiB, rclone's multi-thread chunk too;
s5cmd: 50 MiB) while the object divides into at least :data:`PART_CONCURRENCY` of them.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from pail.drivers.base import ObjectChecksums, StorageDriver
from pail.drivers.errors import StreamInterrupted, TransferCancelled
from pail.services.checksums import MD5_ETAG
from pail.services.download.ranges import split
from pail.services.download.state import Partial
from pail.services.download.verify import Scanner, Streamed, new_hasher
from pail.services.jobs import run_each, start_daemon

_MIB = 1024 * 1024
#: Objects of at least this many bytes are fetched in parallel parts.
PARALLEL_THRESHOLD = 64 * _MIB
#: Largest part, in bytes.
PART_SIZE = 64 * _MIB
#: Smallest part, in bytes (the last part of an object may be smaller).
MIN_PART_SIZE = 8 * _MIB
#: Parts in flight per object.
PART_CONCURRENCY = 8
#: Interruptions in a row (no byte received in between) before a part gives up.
STREAM_ATTEMPTS = 5
#: Back-off after an interruption: full jitter up to min(cap, base * 2**n) seconds.
BACKOFF_BASE, BACKOFF_CAP = 0.25, 8.0
#: Bytes a follower reads at a time.
FOLLOW_READ = _MIB
#: CRCs whose whole-object value combines from the parts' (awscrt ``combine_*``).
COMBINABLE = ("CRC64NVME", "CRC32C", "CRC32")
#: Full-object checksums a single stream hashes, cheapest first (when the answer names one).
STREAM_ORDER = ("CRC64NVME", "CRC32C", "CRC32", "SHA1", "SHA256")


@dataclass(frozen=True)
class Source:
    """The object being fetched: ``bucket``, ``key``, and what pins its version
    (``version_id``, and ``etag`` for S3 ``If-Match``)."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class HashPlan:
    """What to hash while an object's bytes stream in (see the module doc).

    Attributes:
        on_answer: one stream from byte 0 decides on the GetObject answer's headers: a
            full-object checksum it names, else MD5 when ``etag`` is a plain MD5 of an
            unencrypted object.
        etag: the planned ETag (unquoted).
        crc: a combinable CRC hashed per part in parallel and combined.
        whole: algorithms hashed in order over the whole object (a follower, or the
            single stream).
        layouts, part_algorithm: per-part digests in order for these part layouts.
        checksums: what the store vouched for, asked before the transfer (HeadObject).
        part1: part 1's size, asked before the transfer.
    """

    on_answer: bool = False
    etag: str | None = None
    crc: str | None = None
    whole: tuple[str, ...] = ()
    layouts: tuple[tuple[int, ...], ...] = ()
    part_algorithm: str = "MD5"
    checksums: ObjectChecksums | None = None
    part1: int | None = None

    @property
    def ordered(self) -> bool:
        """Whether anything is hashed in order over the whole object."""
        return bool(self.whole or self.layouts)


class Streams:
    """One download's budget of streams in flight at once (``limit``), and the counters
    of what they held: ``peak_streams`` (most streams at once), ``peak_held`` (most
    bytes held in chunks and reads at once) and ``followed`` (bytes followers read back
    from partials to hash them in order). Thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self.active = 0
        self.peak_streams = 0
        self.held = 0
        self.peak_held = 0
        self.followed = 0

    @contextlib.contextmanager
    def slot(self, stopped: Callable[[], bool]) -> Iterator[None]:
        """Hold one stream slot for the block; waits for one, giving up (TransferCancelled
        from ``stopped``'s caller) when ``stopped()`` turns true meanwhile."""
        while not self._slots.acquire(timeout=0.1):
            if stopped():
                raise TransferCancelled("download cancelled", operation="download")
        with self._lock:
            self.active += 1
            self.peak_streams = max(self.peak_streams, self.active)
        try:
            yield
        finally:
            with self._lock:
                self.active -= 1
            self._slots.release()

    def hold(self, count: int) -> None:
        """``count`` bytes are held (a chunk arrived, a read was made)."""
        with self._lock:
            self.held += count
            self.peak_held = max(self.peak_held, self.held)

    def drop(self, count: int) -> None:
        """``count`` held bytes were written / hashed and let go."""
        with self._lock:
            self.held -= count

    def count_followed(self, count: int) -> None:
        """A follower read ``count`` bytes back."""
        with self._lock:
            self.followed += count


@dataclass
class _Hashing:
    """The hashing of one fetch: the in-order scanner (single stream or follower) and
    the per-part CRCs ``{start: (end, hasher)}``."""

    plan: HashPlan
    scanner: Scanner | None = None
    crc: str | None = None
    crcs: dict[int, tuple[int, object]] = field(default_factory=dict)
    checksums: ObjectChecksums | None = None
    decided: bool = False

    def decide_on_answer(self, info: ObjectChecksums | None) -> None:
        """The single stream's choice, from the GetObject answer (``None``: none seen)."""
        if self.decided:
            return
        self.decided = True
        if info is not None and info.checksums:
            self.checksums = info  # a whole-object answer: verification asks nothing more
        etag = (self.plan.etag or "").strip('"')
        if MD5_ETAG.match(etag) and (info is None or info.etag_is_md5):
            self.scanner = Scanner(["MD5"])  # the check pail always made first
            return
        if info is not None:
            for alg in STREAM_ORDER:
                value = info.checksums.get(alg)
                if value and "-" not in value and info.checksum_type != "COMPOSITE":
                    self.scanner = Scanner([alg])
                    return

    def streamed(self, size: int) -> Streamed:
        """What was learnt, once every byte arrived (``size`` bytes)."""
        result = Streamed(checksums=self.checksums or self.plan.checksums, part1=self.plan.part1)
        if self.scanner is not None and self.scanner.offset == size:
            result.whole.update(self.scanner.whole_digests())
            digests = self.scanner.part_digests()
            for layout, found in zip(self.scanner.layouts, digests, strict=True):
                if len(found) == len(layout):
                    result.parts[(self.scanner.part_algorithm, layout)] = found
        crc = self.crc
        if crc and self.crcs:
            combined = _combine_pieces(crc, self.crcs, size)
            if combined is not None:
                result.whole[crc] = combined
        return result


def _combine_pieces(algorithm: str, crcs: dict[int, tuple[int, object]], size: int):
    """The whole object's CRC from the parts' (they must cover ``[0, size)`` exactly)."""
    parts: list[tuple[bytes, int]] = []
    pos = 0
    for start in sorted(crcs):
        end, hasher = crcs[start]
        if start != pos:
            return None
        parts.append((hasher.digest(), end - start))  # type: ignore[attr-defined]
        pos = end
    if pos != size:
        return None
    return combine_crc(algorithm, parts)


def combine_crc(algorithm: str, parts: list[tuple[bytes, int]]) -> bytes:
    """The CRC (big-endian bytes) of consecutive blocks from their CRCs and lengths
    ``[(digest, length), ...]`` (awscrt ``combine_crc64nvme`` / ``combine_crc32c`` /
    ``combine_crc32``).

    Raises:
        ValueError: ``algorithm`` is not a combinable CRC.
    """
    from awscrt import checksums

    funcs = {
        "CRC64NVME": (checksums.combine_crc64nvme, 8),
        "CRC32C": (checksums.combine_crc32c, 4),
        "CRC32": (checksums.combine_crc32, 4),
    }
    if algorithm.upper() not in funcs:
        raise ValueError(f"{algorithm} checksums do not combine")
    fn, width = funcs[algorithm.upper()]
    value = 0
    for digest, length in parts:
        value = fn(value, int.from_bytes(digest, "big"), length)
    return value.to_bytes(width, "big")


def part_size_for(missing_bytes: int) -> int:
    """The part size for ``missing_bytes`` fetched in parallel (see the module doc)."""
    share = -(-missing_bytes // PART_CONCURRENCY)
    share = -(-share // _MIB) * _MIB
    return max(min(MIN_PART_SIZE, PART_SIZE), min(PART_SIZE, share), 1)


def fetch_missing(
    driver: StorageDriver,
    source: Source,
    partial: Partial,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
    hashes: HashPlan | None = None,
    streams: Streams | None = None,
) -> Streamed:
    """Fetch every range ``partial`` lacks; returns, once it holds the whole object, what
    was hashed on the way (``hashes``) as a :class:`~pail.services.download.verify.Streamed`.

    Raises:
        TransferCancelled: ``cancel`` was set (what arrived is recorded).
        StreamInterrupted: a part kept breaking (:data:`STREAM_ATTEMPTS` in a row).
        StorageError: a request failed (NotFound, AccessDenied, 412 the object changed...).
        OSError: writing the partial failed (disk full...).
        The first failure of any part; the other parts stop at their next chunk.
    """
    plan = hashes or HashPlan()
    hashing = _Hashing(plan)
    size = partial.size
    streams = streams or Streams(PART_CONCURRENCY)
    missing = partial.have.missing(size)
    if not missing:  # a resumed, complete file: verification reads it
        return Streamed(checksums=plan.checksums, part1=plan.part1)
    parallel = size >= PARALLEL_THRESHOLD
    pieces = split(missing, part_size_for(sum(b - a for a, b in missing))) if parallel else missing
    single = pieces == [(0, size)]
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()
    follower: _Follower | None = None
    inline: _Hashing | None = None
    if single and plan.on_answer and not plan.ordered:
        inline = hashing  # chosen on the answer's headers
    elif plan.crc and not single and not partial.resumed_from and not plan.ordered:
        hashing.crc = plan.crc  # per part, combined
    else:
        whole = plan.whole or ((plan.crc,) if plan.crc else ())
        if not whole and not plan.layouts and plan.on_answer:  # a resumed small file
            whole = ("MD5",) if MD5_ETAG.match((plan.etag or "").strip('"')) else ()
        if whole or plan.layouts:
            hashing.scanner = Scanner(whole, plan.layouts, plan.part_algorithm)
            hashing.decided = True
            if single:
                inline = hashing
            else:
                follower = _Follower(partial, hashing.scanner, streams, stop)

    def run(piece: tuple[int, int]) -> None:
        try:
            _fetch_piece(
                driver, source, partial, piece, progress, cancel, stop, streams,
                inline, hashing, follower,
            )  # fmt: skip
        except BaseException as exc:  # reported to the caller below
            with lock:
                errors.append(exc)
            stop.set()

    if follower is not None:
        start_daemon(follower.run, "pail-dl-follow")
    try:
        if len(pieces) == 1:
            run(pieces[0])
        else:
            run_each(pieces, run, workers=PART_CONCURRENCY, name="pail-part", stop=stop)
    finally:
        if follower is not None and (errors or (cancel is not None and cancel.is_set())):
            stop.set()
            follower.wake()
    if errors or parallel:
        # Record what arrived: for a resume after a failure, or should the process die
        # while a large file is being verified. A small complete file needs no record.
        partial.flush()
    if errors:
        # A part stopped because another failed raises TransferCancelled: report the cause.
        real = [e for e in errors if not isinstance(e, TransferCancelled)]
        raise (real or errors)[0]
    if cancel is not None and cancel.is_set():
        raise _cancelled(source)
    if not partial.have.complete(size):  # every piece ended: cannot happen
        raise StreamInterrupted(
            "the transfer ended with bytes missing",
            operation="download",
            bucket=source.bucket,
            key=source.key,
            code="StreamInterrupted",
        )
    if follower is not None:
        follower.finish()
    return hashing.streamed(size)


class _Follower:
    """Reads the partial in order as the ranges before it complete and feeds the scanner
    (a daemon thread; one read buffer of :data:`FOLLOW_READ` bytes at a time)."""

    def __init__(self, partial: Partial, scanner: Scanner, streams: Streams, stop: threading.Event):
        self._partial = partial
        self._scanner = scanner
        self._streams = streams
        self._stop = stop
        self._cond = threading.Condition()
        self._done = threading.Event()
        self.error: BaseException | None = None

    def wake(self) -> None:
        """New bytes are on disk (or the fetch stopped)."""
        with self._cond:
            self._cond.notify()

    def run(self) -> None:
        try:
            self._follow()
        except BaseException as exc:  # reported by finish(); verification then reads
            self.error = exc
        finally:
            self._done.set()

    def _follow(self) -> None:
        partial, size = self._partial, self._partial.size
        pos = self._scanner.offset
        while pos < size:
            reach = partial.have.reach(pos)
            if reach <= pos:
                with self._cond:
                    if self._stop.is_set():
                        return
                    if partial.have.reach(pos) <= pos:
                        self._cond.wait(0.25)
                continue
            while pos < reach:
                length = min(FOLLOW_READ, reach - pos)
                self._streams.hold(length)
                try:
                    data = partial.read(pos, length)
                    if not data:
                        raise OSError(f"the partial ends at {pos} bytes")
                    self._scanner.update(data)
                    self._streams.count_followed(len(data))
                finally:
                    self._streams.drop(length)
                pos += len(data)
                if self._stop.is_set():
                    return

    def finish(self) -> None:
        """Wait until every byte was read (the fetch completed). A follower that failed
        leaves the scanner short; verification then reads the file itself."""
        self.wake()
        self._done.wait()


def _cancelled(source: Source) -> TransferCancelled:
    return TransferCancelled(
        "download cancelled", operation="download", bucket=source.bucket, key=source.key
    )


class _Sink:
    """Where one part's chunks go: written at their offset, recorded, hashed."""

    def __init__(
        self,
        partial: Partial,
        pos: int,
        stopped: Callable[[], bool],
        source: Source,
        streams: Streams,
        progress: Callable[[int], None] | None,
        hashing: _Hashing | None,
        crc: object | None,
        follower: _Follower | None,
    ) -> None:
        self.partial = partial
        self.pos = pos
        self.progressed = False
        self._stopped = stopped
        self._source = source
        self._streams = streams
        self._progress = progress
        self._hashing = hashing
        self._crc = crc
        self._follower = follower
        # A single stream of the whole object asks without Range (the answer then
        # carries the store's full-object checksums) and chooses what to hash on it.
        if pos == 0 and hashing is not None:
            self.object_size = partial.size

    def on_response(self, info: ObjectChecksums) -> None:
        """The GetObject answer's headers (before its first chunk)."""
        if self._hashing is not None and self.pos == 0:
            self._hashing.decide_on_answer(info)

    def __call__(self, chunk: bytes) -> None:
        if self._stopped():
            raise _cancelled(self._source)
        count = len(chunk)
        self._streams.hold(count)
        try:
            hashing = self._hashing
            if hashing is not None:
                if not hashing.decided:
                    hashing.decide_on_answer(None)
                if hashing.scanner is not None:
                    hashing.scanner.update(chunk)
            if self._crc is not None:
                self._crc.update(chunk)  # type: ignore[attr-defined]
            self.partial.write(self.pos, chunk)
        finally:
            self._streams.drop(count)
        self.pos += count
        self.progressed = True
        if self._follower is not None:
            self._follower.wake()
        if self._progress is not None:
            self._progress(count)


def _fetch_piece(
    driver: StorageDriver,
    source: Source,
    partial: Partial,
    piece: tuple[int, int],
    progress: Callable[[int], None] | None,
    cancel: threading.Event | None,
    stop: threading.Event,
    streams: Streams,
    inline: _Hashing | None,
    hashing: _Hashing,
    follower: _Follower | None,
) -> None:
    start, end = piece

    def stopped() -> bool:
        return (cancel is not None and cancel.is_set()) or stop.is_set()

    crc = None
    if hashing.crc is not None:
        crc = new_hasher(hashing.crc)
        hashing.crcs[start] = (end, crc)  # one key per piece: no lock needed
    sink = _Sink(partial, start, stopped, source, streams, progress, inline, crc, follower)
    failures = 0
    while sink.pos < end:
        if stopped():
            raise _cancelled(source)
        sink.progressed = False
        try:
            with streams.slot(stopped):
                driver.stream_range(
                    source.bucket,
                    source.key,
                    sink.pos,
                    end,
                    sink,
                    version_id=source.version_id,
                    etag=source.etag,
                )
            if sink.pos < end:
                raise StreamInterrupted(
                    f"the body ended after {sink.pos - start} of {end - start} bytes",
                    operation="download",
                    bucket=source.bucket,
                    key=source.key,
                    code="StreamInterrupted",
                )
        except TransferCancelled:
            raise _cancelled(source) from None
        except StreamInterrupted:
            failures = 1 if sink.progressed else failures + 1  # progress starts a new count
            if failures >= STREAM_ATTEMPTS:
                raise
            delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1)))
            waiter = cancel if cancel is not None else stop
            if waiter.wait(delay) or stop.is_set():
                raise _cancelled(source) from None
