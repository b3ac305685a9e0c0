"""Reading a source object's bytes for a streamed write: one range at a time, pinned to
the planned version, resumed when a body breaks, and checked unchanged afterwards.

Remote ranges use ``stream_range`` pinned to the planned ETag (S3 ``If-Match``) or version
/ generation; a local file is read the same way through the local driver (``pread`` of the
file) and proved unchanged by its size and mtime (the local ETag) before and after.
"""

from __future__ import annotations

import random
import threading

from pail.drivers.base import StorageDriver
from pail.drivers.errors import (
    NotFound,
    PreconditionFailed,
    StorageError,
    StreamInterrupted,
    TransferCancelled,
)

#: Interruptions in a row (no byte received in between) before a range gives up.
STREAM_ATTEMPTS = 5


class SourceChanged(StorageError):
    """The source object changed (or vanished) since it was planned: code
    ``SourceChanged``."""


def source_changed(bucket: str, key: str, provider: str, why: str) -> SourceChanged:
    """A :class:`SourceChanged` for ``bucket``/``key`` saying ``why`` (plain text)."""
    return SourceChanged(
        f"the source changed since it was listed ({why})",
        operation="read",
        provider=provider,
        bucket=bucket,
        key=key,
        code="SourceChanged",
    )


def cancelled(bucket: str, key: str) -> TransferCancelled:
    """The exception a cancelled item stops with."""
    return TransferCancelled("transfer cancelled", operation="transfer", bucket=bucket, key=key)


def read_range(
    driver: StorageDriver,
    bucket: str,
    key: str,
    offset: int,
    length: int,
    *,
    etag: str | None,
    version_id: str | None,
    cancel: threading.Event,
) -> bytes:
    """Bytes ``[offset, offset + length)`` of the source, in memory.

    Raises:
        SourceChanged: the pinned ETag/version no longer matches (412) or the object is
            gone. TransferCancelled: ``cancel`` was set. StreamInterrupted: the body kept
            breaking. StorageError: the request failed.
    """
    if driver.provider == "local" and length:
        # A file is read in one call into one buffer: no growing buffer and no second
        # copy of the part (a part of a large upload is 16 MiB or more, jobs of them
        # in memory at once). Whether the file changed is checked around the whole item.
        if cancel.is_set():
            raise cancelled(bucket, key)
        try:
            data = driver.read_range(bucket, key, offset, length)
        except NotFound as exc:
            raise source_changed(bucket, key, driver.provider, "it is gone") from exc
        if len(data) != length:
            raise source_changed(bucket, key, driver.provider, "it is shorter than planned")
        return data
    buf = bytearray()
    end = offset + length
    failures = 0

    def sink(chunk: bytes) -> None:
        nonlocal failures
        if cancel.is_set():
            raise cancelled(bucket, key)
        buf.extend(chunk)
        failures = 0

    pin = etag if driver.provider == "s3" else None
    while offset + len(buf) < end or length == 0:
        if cancel.is_set():
            raise cancelled(bucket, key)
        if length == 0:
            return b""
        try:
            driver.stream_range(
                bucket, key, offset + len(buf), end, sink, version_id=version_id, etag=pin
            )
            if offset + len(buf) < end:
                raise StreamInterrupted(
                    "the body ended early", operation="read", bucket=bucket, key=key
                )
        except PreconditionFailed as exc:
            raise source_changed(bucket, key, driver.provider, "its ETag differs") from exc
        except NotFound as exc:
            raise source_changed(bucket, key, driver.provider, "it is gone") from exc
        except StreamInterrupted:
            failures += 1
            if failures >= STREAM_ATTEMPTS:
                raise
            if cancel.wait(random.uniform(0, min(8.0, 0.25 * 2 ** (failures - 1)))):
                raise cancelled(bucket, key) from None
    return bytes(buf)


def check_unchanged(
    driver: StorageDriver, bucket: str, key: str, *, size: int, etag: str | None
) -> None:
    """HEAD the source: same size and ETag as planned (a local file's ETag is its mtime
    and size).

    Raises:
        SourceChanged: it differs, or no ETag was planned (nothing proves it unchanged) or
            it is gone. StorageError: the HEAD failed.
    """
    try:
        info = driver.head(bucket, key)
    except NotFound as exc:
        raise source_changed(bucket, key, driver.provider, "it is gone") from exc
    if info.size != size:
        raise source_changed(bucket, key, driver.provider, f"{info.size} bytes, not {size}")
    if etag is not None and info.etag != etag:
        raise source_changed(bucket, key, driver.provider, "its ETag differs")


def pinned(driver: StorageDriver, etag: str | None, version_id: str | None) -> bool:
    """Whether every range read is pinned by the store (S3 ``If-Match`` with an ETag, or
    a version / generation), so no HEAD afterwards is needed."""
    return driver.provider != "local" and (
        version_id is not None or (driver.provider == "s3" and etag is not None)
    )
