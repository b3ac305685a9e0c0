"""S3 downloads and presigned URLs, for :class:`pail.drivers.s3.S3Driver`.

Whole objects at or above :data:`MULTIPART_THRESHOLD` go through s3transfer's
``TransferManager`` (what boto3's ``download_file`` and ``aws s3 cp`` use): ranged GetObject
parts of :data:`PART_SIZE` fetched by :data:`PART_CONCURRENCY` threads and written at their
offsets into *our* open file, so pail, not s3transfer, decides the temporary name and the
final rename. Smaller objects and resumed downloads are one GetObject stream
(``Range: bytes=start-`` when resuming, RFC 9110 section 14.1.2), read in
:data:`STREAM_CHUNK` pieces with the cancel event checked between pieces.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import closing
from typing import Any

from pail.drivers._written import RecordingFile, WrittenRanges, keep_contiguous
from pail.drivers.errors import InvalidRequest, TransferCancelled

# Tuning (benchmarks/download_bench.py): every ranged part is one more request with its
# own latency and, on servers that slice the whole object per range (moto), a full copy;
# s3transfer's 8 MiB parts x 10 made a 200 MiB object 4x slower there than 64 MiB parts,
# while 64 MiB x 8 still keeps 8 connections busy on AWS (rclone's multi-thread chunk is
# 64 MiB too). Below the threshold one stream is as fast and skips the HeadObject.

#: Objects of at least this many bytes are fetched in parallel parts.
MULTIPART_THRESHOLD = 64 * 1024 * 1024
#: Size of one ranged part.
PART_SIZE = 64 * 1024 * 1024
#: Parts in flight per object.
PART_CONCURRENCY = 8
#: Read size of a single-stream download.
STREAM_CHUNK = 1024 * 1024

Progress = Callable[[int], None] | None


def _cancelled(bucket: str, key: str) -> TransferCancelled:
    return TransferCancelled(
        "download cancelled", operation="GetObject", provider="s3", bucket=bucket, key=key
    )


def stream_download(
    client: Any,
    bucket: str,
    key: str,
    fh: Any,
    *,
    start: int,
    version_id: str | None,
    progress: Progress,
    cancel: threading.Event | None,
) -> None:
    """One GetObject (ranged from ``start`` when > 0) copied into ``fh`` in chunks.

    A 416 InvalidRange for ``start`` at the end of the object means nothing is left.
    """
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if start:
        params["Range"] = f"bytes={start}-"
    if version_id:
        params["VersionId"] = version_id
    if cancel is not None and cancel.is_set():
        raise _cancelled(bucket, key)
    try:
        resp = client.get_object(**params)
    except Exception as exc:
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode")
        if start and status == 416:
            return
        raise
    with closing(resp["Body"]) as body:
        for chunk in body.iter_chunks(STREAM_CHUNK):
            fh.write(chunk)
            if progress is not None:
                progress(len(chunk))
            if cancel is not None and cancel.is_set():
                raise _cancelled(bucket, key)


def managed_download(
    client: Any,
    bucket: str,
    key: str,
    fh: Any,
    *,
    size: int | None,
    version_id: str | None,
    progress: Progress,
    cancel: threading.Event | None,
) -> None:
    """The whole object through s3transfer's TransferManager, in parallel ranged parts.

    Cancelling cancels the transfer future (``TransferFuture.cancel``); the manager stops
    scheduling parts and its threads finish before this returns. On any failure the file
    is cut back to the bytes written without a gap from offset 0, so it can resume.
    """
    from s3transfer.exceptions import CancelledError, RetriesExceededError
    from s3transfer.manager import TransferConfig, TransferManager
    from s3transfer.subscribers import BaseSubscriber

    finished = threading.Event()

    class Subscriber(BaseSubscriber):
        def on_queued(self, future: Any, **kwargs: Any) -> None:
            if size is not None:  # spares the HeadObject s3transfer would send
                future.meta.provide_transfer_size(size)

        def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
            if progress is not None and bytes_transferred:
                progress(bytes_transferred)
            if cancel is not None and cancel.is_set():
                future.cancel()  # stop at once rather than at the next poll

        def on_done(self, future: Any, **kwargs: Any) -> None:
            finished.set()

    config = TransferConfig(
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=PART_SIZE,
        max_request_concurrency=PART_CONCURRENCY,
        io_chunksize=STREAM_CHUNK,
    )
    extra = {"VersionId": version_id} if version_id else None
    ranges = WrittenRanges()
    target = RecordingFile(fh, ranges)
    try:
        with TransferManager(client, config) as manager:
            future = manager.download(
                bucket, key, target, extra_args=extra, subscribers=[Subscriber()]
            )
            while not finished.wait(0.05):
                if cancel is not None and cancel.is_set():
                    future.cancel()
            try:
                future.result()
            except CancelledError as exc:
                raise _cancelled(bucket, key) from exc
            except RetriesExceededError as exc:  # unwrap to the botocore error
                raise exc.last_exception from exc
    except BaseException:
        keep_contiguous(fh, ranges)  # parts land out of order: keep only what resumes
        raise


def presigned_get(client: Any, bucket: str, key: str, expires_in: int, version_id: str | None):
    """``generate_presigned_url('get_object')``: SigV4 query-string auth, computed locally."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    try:
        return client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)
    except TypeError as exc:  # botocore rejects parameters it cannot serialise
        raise InvalidRequest(
            str(exc), operation="GetObject", provider="s3", bucket=bucket, key=key
        ) from exc
