"""GCS reads for downloads and their verification, and signed URLs, for
:class:`pail.drivers.gcs.GcsDriver`.

:func:`stream_range` is one ranged media download (``storage.objects.get``, ``alt=media``,
``Range: bytes=a-b``) of a pinned generation, handed to a sink as it arrives; the transfer
engine (:mod:`pail.services.download.fetch`) splits objects into ranges, runs them in
parallel and resumes interrupted ones. Downloads are ``raw_download=True``: the stored
bytes, not decompressed, so the size and CRC32C match the object's metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pail.drivers.base import ObjectChecksums
from pail.drivers.errors import InvalidRequest, StorageError


class SinkFailed(StorageError):
    """Carries an exception that must pass the driver's translation and retry unchanged
    (the sink's own error, or a body that broke after bytes were delivered). A
    StorageError subclass so ``_call`` re-raises it and, not being transient, so the retry
    loop never repeats a request whose bytes were already delivered."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class _Writer:
    """A write-only file object handing each write to the sink, counting bytes."""

    def __init__(self, sink: Callable[[bytes], None], limit: int, where: tuple[str, str]):
        self._sink, self._limit, self._where = sink, limit, where
        self.received = 0

    def write(self, data: bytes) -> int:
        if self.received + len(data) > self._limit:
            raise SinkFailed(
                InvalidRequest(
                    f"the store sent more than the {self._limit} bytes asked for "
                    "(it does not honour ranges)",
                    operation="storage.objects.get",
                    provider="gcs",
                    bucket=self._where[0],
                    key=self._where[1],
                    code="RangeIgnored",
                )
            )
        try:
            self._sink(data)
        except BaseException as exc:
            raise SinkFailed(exc) from exc
        self.received += len(data)
        return len(data)


def stream_range(
    blob: Any,
    start: int,
    end: int,
    sink: Callable[[bytes], None],
    *,
    timeout: Any,
    run: Callable[[Callable[[], None]], None],
    interrupted: Callable[[BaseException, int], StorageError],
) -> None:
    """Bytes ``[start, end)`` of ``blob`` into ``sink``. ``run(fn)`` calls ``fn`` with
    errors translated and transient ones retried; a retry happens only while no byte has
    reached the sink. Raises StorageError, ``interrupted(...)`` for a body that broke
    after delivering bytes, or the sink's exception."""
    writer = _Writer(sink, end - start, (blob.bucket.name, blob.name))

    def attempt() -> None:
        try:
            blob.download_to_file(
                writer,
                start=start,
                end=end - 1,
                raw_download=True,
                checksum=None,  # pail verifies the finished file itself
                timeout=timeout,
                retry=None,
            )
        except SinkFailed:
            raise
        except Exception as exc:
            if writer.received:
                raise SinkFailed(interrupted(exc, writer.received)) from exc
            raise

    try:
        run(attempt)
    except SinkFailed as failed:
        raise failed.error from None
    if writer.received != end - start:
        raise interrupted(EOFError("the body ended early"), writer.received)


def object_checksums(blob: Any) -> ObjectChecksums:
    """A reloaded blob's CRC32C and MD5 (base64, as the JSON API gives them; composite
    objects have no MD5) and generation."""
    checksums = {
        alg: value for alg, value in (("CRC32C", blob.crc32c), ("MD5", blob.md5_hash)) if value
    }
    return ObjectChecksums(
        size=int(blob.size or 0),
        etag=blob.etag,
        etag_is_md5=False,
        checksums=checksums,
        checksum_type="FULL_OBJECT",
        version_id=str(blob.generation) if blob.generation is not None else None,
    )


def signed_url(
    blob: Any,
    expires_in: int,
    generation: int | None,
    *,
    credentials: Any = None,
    api_access_endpoint: str | None = None,
) -> str:
    """A V4 signed GET URL, signed locally with ``credentials`` (default: the client's
    service-account key), for ``api_access_endpoint`` (default Google's).

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
            credentials=credentials,
            **({"api_access_endpoint": api_access_endpoint} if api_access_endpoint else {}),
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
