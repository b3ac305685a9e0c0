"""GCS downloads and signed URLs, for :class:`pail.drivers.gcs.GcsDriver`.

Small objects and resumed downloads are one media download (``storage.objects.get``,
``alt=media``, ``Range: bytes=start-``) streamed into the file through a writer that counts
bytes and checks the cancel event on every write. Objects of at least
:data:`PARALLEL_THRESHOLD` bytes are fetched as ranged parts of :data:`PART_SIZE` by
:data:`PART_CONCURRENCY` threads and written at their offsets (``os.pwrite``): the same
scheme as ``google.cloud.storage.transfer_manager.download_chunks_concurrently``, which pail
does not call because it offers no progress callback and no way to cancel.

Downloads are ``raw_download=True``: the stored bytes, not decompressed, so the size and
CRC32C match the object's metadata.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from typing import Any

from pail.drivers._written import WrittenRanges
from pail.drivers.errors import InvalidRequest, TransferCancelled

#: Objects of at least this many bytes are fetched in parallel ranged parts.
PARALLEL_THRESHOLD = 32 * 1024 * 1024
#: Size of one ranged part.
PART_SIZE = 16 * 1024 * 1024
#: Parts in flight per object.
PART_CONCURRENCY = 8

Progress = Callable[[int], None] | None
CallContext = Callable[[], AbstractContextManager[None]]


def _cancelled(bucket: str, key: str) -> TransferCancelled:
    return TransferCancelled(
        "download cancelled",
        operation="storage.objects.get",
        provider="gcs",
        bucket=bucket,
        key=key,
    )


class _Writer:
    """A write-only file object: counts bytes, raises TransferCancelled when asked to stop."""

    def __init__(self, fh: Any, progress: Progress, cancel: threading.Event | None, where):
        self._fh, self._progress, self._cancel, self._where = fh, progress, cancel, where

    def write(self, data: bytes) -> int:
        if self._cancel is not None and self._cancel.is_set():
            raise _cancelled(*self._where)
        written = self._fh.write(data)
        if self._progress is not None and data:
            self._progress(len(data))
        return written


def stream_download(
    blob: Any,
    fh: Any,
    *,
    start: int,
    timeout: Any,
    progress: Progress,
    cancel: threading.Event | None,
) -> None:
    """One ranged media download from ``start`` to the end, written to ``fh``."""
    writer = _Writer(fh, progress, cancel, (blob.bucket.name, blob.name))
    blob.download_to_file(
        writer,
        start=start or None,
        raw_download=True,
        checksum=None,  # pail verifies the finished file (CRC32C/MD5) itself
        timeout=timeout,
        retry=None,
    )


def parallel_download(
    blob: Any,
    fh: Any,
    size: int,
    *,
    call: CallContext,
    timeout: Any,
    progress: Progress,
    cancel: threading.Event | None,
) -> None:
    """The whole object in ranged parts fetched concurrently and ``os.pwrite``-n at their
    offsets into the open file ``fh``. ``call()`` translates SDK errors. On any failure
    the file is cut back to the bytes written without a gap from offset 0 (resumable)."""
    where = (blob.bucket.name, blob.name)
    fd = fh.fileno()
    ranges = WrittenRanges()

    def part(first: int) -> None:
        if cancel is not None and cancel.is_set():
            raise _cancelled(*where)
        last = min(size, first + PART_SIZE) - 1
        with call():
            data = blob.download_as_bytes(
                start=first,
                end=last,
                raw_download=True,
                checksum=None,
                timeout=timeout,
                retry=None,
            )
        os.pwrite(fd, data, first)
        ranges.add(first, len(data))
        if progress is not None:
            progress(len(data))

    with ThreadPoolExecutor(PART_CONCURRENCY, thread_name_prefix="pail-gcs-part") as pool:
        futures = [pool.submit(part, first) for first in range(0, size, PART_SIZE)]
        _done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
    errors = [f.exception() for f in futures if f.done() and not f.cancelled()]
    failure = next((e for e in errors if e is not None), None)
    if failure is not None:
        fh.truncate(ranges.contiguous())
        raise failure


def signed_url(blob: Any, expires_in: int, generation: int | None) -> str:
    """A V4 signed GET URL, signed locally with the client's service-account key.

    Raises:
        InvalidRequest: the credentials hold no private key (user or anonymous credentials,
            the emulator): code ``SigningUnavailable``.
    """
    from datetime import timedelta

    try:
        return blob.generate_signed_url(
            version="v4",
            expiration=timedelta(seconds=expires_in),
            method="GET",
            generation=generation,
        )
    except (AttributeError, TypeError, NotImplementedError) as exc:
        # google-auth: "you need a private key to sign credentials" (AttributeError) for
        # tokens without a key; AnonymousCredentials have no signer at all.
        raise InvalidRequest(
            "signed URLs need a service-account credential (a JSON key with a private "
            "key); this connection's credentials cannot sign",
            operation="storage.objects.get",
            provider="gcs",
            bucket=blob.bucket.name,
            key=blob.name,
            code="SigningUnavailable",
        ) from exc
