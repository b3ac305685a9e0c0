"""Fetching the missing byte ranges of one object into its partial, in parallel, resumably.

The ranges a partial lacks (:meth:`RangeSet.missing`) are cut into parts of at most
:data:`PART_SIZE` bytes; objects smaller than :data:`PARALLEL_THRESHOLD` are one part.
Up to :data:`PART_CONCURRENCY` parts stream at once, each through one ranged request
(:meth:`StorageDriver.stream_range`) written at its offset as it arrives and recorded chunk
by chunk, so a stop at any moment (cancel, error, ``kill -9``) leaves an exact record.

Requests are retried by the driver's own policy before any byte arrives. A body that breaks
afterwards (:class:`~pail.drivers.errors.StreamInterrupted`: reset, early close, a stall past
the read timeout) is resumed from the byte it stopped at, after a full-jitter back-off,
at most :data:`STREAM_ATTEMPTS` times in a row without progress.

Tuning (benchmarks/download_bench.py): every part is a request with its own latency, and
servers that slice the whole object per range (moto) pay a full copy per part; 64 MiB parts
keep 8 connections busy on AWS (rclone's multi-thread chunk is 64 MiB too).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pail.drivers.base import StorageDriver
from pail.drivers.errors import StreamInterrupted, TransferCancelled
from pail.services.download.ranges import split
from pail.services.download.state import Partial
from pail.services.jobs import run_each

#: Objects of at least this many bytes are fetched in parallel parts.
PARALLEL_THRESHOLD = 64 * 1024 * 1024
#: Largest part, in bytes.
PART_SIZE = 64 * 1024 * 1024
#: Parts in flight per object.
PART_CONCURRENCY = 8
#: Interruptions in a row (no byte received in between) before a part gives up.
STREAM_ATTEMPTS = 5
#: Back-off after an interruption: full jitter up to min(cap, base * 2**n) seconds.
BACKOFF_BASE, BACKOFF_CAP = 0.25, 8.0


@dataclass(frozen=True)
class Source:
    """The object being fetched: ``bucket``, ``key``, and what pins its version
    (``version_id``, and ``etag`` for S3 ``If-Match``)."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None


def fetch_missing(
    driver: StorageDriver,
    source: Source,
    partial: Partial,
    *,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> None:
    """Fetch every range ``partial`` lacks; returns when it holds the whole object.

    Raises:
        TransferCancelled: ``cancel`` was set (what arrived is recorded).
        StreamInterrupted: a part kept breaking (:data:`STREAM_ATTEMPTS` in a row).
        StorageError: a request failed (NotFound, AccessDenied, 412 the object changed...).
        OSError: writing the partial failed (disk full...).
        The first failure of any part; the other parts stop at their next chunk.
    """
    missing = partial.have.missing(partial.size)
    if not missing:
        return
    part = PART_SIZE if partial.size >= PARALLEL_THRESHOLD else max(partial.size, 1)
    pieces = split(missing, part)
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(piece: tuple[int, int]) -> None:
        try:
            _fetch_piece(driver, source, partial, piece, progress, cancel, stop)
        except BaseException as exc:  # reported to the caller below
            with lock:
                errors.append(exc)
            stop.set()

    if len(pieces) == 1:
        run(pieces[0])
    else:
        run_each(pieces, run, workers=PART_CONCURRENCY, name="pail-part", stop=stop)
    if errors or partial.size >= PARALLEL_THRESHOLD:
        # Record what arrived: for a resume after a failure, or should the process die
        # while a large file is being verified. A small complete file needs no record.
        partial.flush()
    if errors:
        # A part stopped because another failed raises TransferCancelled: report the cause.
        real = [e for e in errors if not isinstance(e, TransferCancelled)]
        raise (real or errors)[0]
    if cancel is not None and cancel.is_set():
        raise _cancelled(source)
    if not partial.have.complete(partial.size):  # every piece ended: cannot happen
        raise StreamInterrupted(
            "the transfer ended with bytes missing",
            operation="download",
            bucket=source.bucket,
            key=source.key,
            code="StreamInterrupted",
        )


def _cancelled(source: Source) -> TransferCancelled:
    return TransferCancelled(
        "download cancelled", operation="download", bucket=source.bucket, key=source.key
    )


def _fetch_piece(
    driver: StorageDriver,
    source: Source,
    partial: Partial,
    piece: tuple[int, int],
    progress: Callable[[int], None] | None,
    cancel: threading.Event | None,
    stop: threading.Event,
) -> None:
    start, end = piece
    pos = start
    failures = 0

    def sink(chunk: bytes) -> None:
        nonlocal pos, failures
        if (cancel is not None and cancel.is_set()) or stop.is_set():
            raise _cancelled(source)
        partial.write(pos, chunk)
        pos += len(chunk)
        failures = 0  # progress: the next interruption starts a new count
        if progress is not None:
            progress(len(chunk))

    while pos < end:
        if (cancel is not None and cancel.is_set()) or stop.is_set():
            raise _cancelled(source)
        try:
            driver.stream_range(
                source.bucket,
                source.key,
                pos,
                end,
                sink,
                version_id=source.version_id,
                etag=source.etag,
            )
            if pos < end:
                raise StreamInterrupted(
                    f"the body ended after {pos - start} of {end - start} bytes",
                    operation="download",
                    bucket=source.bucket,
                    key=source.key,
                    code="StreamInterrupted",
                )
        except StreamInterrupted:
            failures += 1
            if failures >= STREAM_ATTEMPTS:
                raise
            delay = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (failures - 1)))
            waiter = cancel if cancel is not None else stop
            if waiter.wait(delay) or stop.is_set():
                raise _cancelled(source) from None
