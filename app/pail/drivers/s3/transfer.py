"""S3 reads for downloads and their verification, and presigned URLs, for
:class:`pail.drivers.s3.S3Driver`.

* :func:`stream_range`: one GetObject for bytes ``[start, end)`` (``Range: bytes=a-b``,
  RFC 9110 section 14.1.2) pinned with ``If-Match`` to the ETag the download planned with,
  its body handed to a sink in :data:`STREAM_CHUNK` pieces. The download engine
  (:mod:`pail.services.download.fetch`) splits objects into ranges, runs them in parallel
  and resumes interrupted ones; pail does not use s3transfer here because its downloads can
  neither resume by ranges nor pin the object version per request.
* :func:`object_checksums`: HeadObject with ``ChecksumMode=ENABLED`` (S3 User Guide,
  "Checking object integrity").
* :func:`part_size` / :func:`part_sizes`: HeadObject ``PartNumber`` and GetObjectAttributes
  ``ObjectParts``, the real part sizes a multipart ETag or composite checksum needs.

**Two optional attributes of a sink** (duck-typed, so the driver protocol's
``sink(chunk)`` keeps its shape): ``object_size`` (int), the object's size when the caller
knows it -- a request for all of it then goes without ``Range``, so the store sends its
full-object checksums (S3 leaves them out of ranged answers) -- and ``on_response(info)``,
called once before the first chunk with an :class:`~pail.drivers.base.ObjectChecksums` of
what the answer's headers vouch for (ETag, ``x-amz-checksum-*`` of a whole-object answer,
whether the object is encrypted so its ETag is no MD5). The engine hashes while the bytes
stream in with that knowledge instead of reading the file again.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pail.drivers.base import ObjectChecksums
from pail.drivers.errors import ChecksumMismatch, InvalidRequest, StorageError

#: Bytes handed to the sink at a time.
STREAM_CHUNK = 1024 * 1024
#: HeadObject requests in flight when part sizes are fetched one part at a time.
PART_HEADS = 8
_ALGORITHMS = ("CRC64NVME", "SHA256", "SHA1", "CRC32C", "CRC32")


class _SinkFailed(Exception):
    """Carries an exception raised by the caller's sink past the body-error translation."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def stream_range(
    client: Any,
    bucket: str,
    key: str,
    start: int,
    end: int,
    sink: Callable[[bytes], None],
    *,
    version_id: str | None,
    etag: str | None,
    interrupted: Callable[[BaseException, int], StorageError],
) -> None:
    """GetObject ``bytes=start-(end-1)`` into ``sink``; see
    :meth:`pail.drivers.base.StorageDriver.stream_range` and the module doc (the sink's
    optional ``object_size`` and ``on_response``). Request errors
    propagate as botocore exceptions (the driver translates them); body errors become
    ``interrupted(exc, bytes_received)``.

    Raises:
        InvalidRequest: the store answered with other bytes than asked (it ignored the
            range: no or another ``Content-Range``), or more bytes than asked.
    """
    whole = start == 0 and getattr(sink, "object_size", None) == end
    byte_range = None if whole else f"bytes={start}-{end - 1}"
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if byte_range:
        params["Range"] = byte_range
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = f'"{etag.strip(chr(34))}"'
    resp = client.get_object(**params)
    body = resp["Body"]
    try:
        _check_range(resp, start, end, bucket, key)
        _announce(sink, _checksums_from(resp, whole))
        _pump(body.iter_chunks(STREAM_CHUNK), start, end, bucket, key, sink, interrupted)
    except _SinkFailed as failed:
        raise failed.error from None
    finally:
        body.close()  # an unfinished body closes its connection rather than reusing it


def _pump(
    chunks: Any,
    start: int,
    end: int,
    bucket: str,
    key: str,
    sink: Callable[[bytes], None],
    interrupted: Callable[[BaseException, int], StorageError],
) -> None:
    """Hand the body's chunks to ``sink``; more bytes than asked is an error, a body
    that breaks is ``interrupted`` (a short body ends quietly: the caller resumes)."""
    received = 0
    try:
        for chunk in chunks:
            if received + len(chunk) > end - start:
                raise _SinkFailed(
                    InvalidRequest(
                        f"the store sent more than the {end - start} bytes asked for",
                        operation="GetObject",
                        provider="s3",
                        bucket=bucket,
                        key=key,
                        code="InvalidResponse",
                    )
                )
            try:
                sink(chunk)
            except BaseException as exc:
                raise _SinkFailed(exc) from exc
            received += len(chunk)
    except _SinkFailed:
        raise
    except Exception as exc:  # the body broke: reset, early close, stall
        if type(exc).__name__ == "FlexibleChecksumError":
            # botocore checked the answer's x-amz-checksum-* and it did not match: the
            # bytes were altered on the way (pail checks them again before any rename).
            raise _SinkFailed(
                ChecksumMismatch(
                    f"the body does not match the checksum the store sent with it ({exc})",
                    operation="GetObject", provider="s3", bucket=bucket, key=key,
                    code="ChecksumMismatch",
                )
            ) from exc  # fmt: skip
        raise interrupted(exc, received) from exc


def _announce(sink: Callable[[bytes], None], info: ObjectChecksums) -> None:
    hook = getattr(sink, "on_response", None)
    if hook is None:
        return
    try:
        hook(info)
    except BaseException as exc:
        raise _SinkFailed(exc) from exc


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _checksums_from(resp: dict[str, Any], whole: bool) -> ObjectChecksums:
    """What a botocore GetObject answer vouches for (checksums only of a whole object)."""
    encrypted = "kms" in str(resp.get("ServerSideEncryption") or "") or bool(
        resp.get("SSECustomerAlgorithm")
    )
    etag = (resp.get("ETag") or "").strip('"') or None
    checksums = {}
    if whole:
        checksums = {a: resp[f"Checksum{a}"] for a in _ALGORITHMS if resp.get(f"Checksum{a}")}
    total = _total(resp.get("ContentRange"))
    return ObjectChecksums(
        size=total if total is not None else int(resp.get("ContentLength") or 0),
        etag=etag,
        etag_is_md5=etag is not None and not encrypted,
        checksums=checksums,
        checksum_type=resp.get("ChecksumType") if whole else None,
        version_id=resp.get("VersionId"),
    )


def _total(content_range: str | None) -> int | None:
    """The complete length in ``Content-Range: bytes a-b/total`` (``None`` if unknown)."""
    if not content_range or "/" not in content_range:
        return None
    return _int(content_range.rsplit("/", 1)[1])


def _check_range(resp: dict[str, Any], start: int, end: int, bucket: str, key: str) -> None:
    content_range = resp.get("ContentRange") or ""
    expected = f"bytes {start}-{end - 1}/"
    if content_range.startswith(expected):
        return
    if not content_range and start == 0 and resp.get("ContentLength") == end:
        return  # a 200 with the whole object is what was asked for
    raise _SinkFailed(
        InvalidRequest(
            f"asked for bytes {start}-{end - 1}, the store answered "
            f"{content_range or 'without Content-Range'}: it does not honour ranges",
            operation="GetObject",
            provider="s3",
            bucket=bucket,
            key=key,
            code="RangeIgnored",
        )
    )


def object_checksums(client: Any, bucket: str, key: str, version_id: str | None) -> ObjectChecksums:
    """HeadObject with ``ChecksumMode=ENABLED`` as :class:`ObjectChecksums`. SSE-KMS,
    DSSE-KMS and SSE-C objects have ETags that are not MD5s (S3 API reference, "Common
    Response Headers"). Raises botocore exceptions."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
    if version_id:
        params["VersionId"] = version_id
    resp = client.head_object(**params)
    encryption = str(resp.get("ServerSideEncryption") or "")
    encrypted = "kms" in encryption or bool(resp.get("SSECustomerAlgorithm"))
    etag = (resp.get("ETag") or "").strip('"') or None
    checksums = {alg: resp[f"Checksum{alg}"] for alg in _ALGORITHMS if resp.get(f"Checksum{alg}")}
    return ObjectChecksums(
        size=int(resp.get("ContentLength", 0)),
        etag=etag,
        etag_is_md5=etag is not None and not encrypted,
        checksums=checksums,
        checksum_type=resp.get("ChecksumType"),
        version_id=resp.get("VersionId"),
    )


def part_size(client: Any, bucket: str, key: str, part_number: int, version_id: str | None):
    """``Content-Length`` of part ``part_number`` (HeadObject ``PartNumber``), or ``None``
    for an object that was not uploaded in parts. Raises botocore exceptions (a store
    without part numbers answers 400 or ignores the parameter: then ``PartsCount`` is
    missing and this returns ``None``).

    S3 sends ``PartsCount`` only for a multipart upload (API reference, HeadObject);
    SeaweedFS 4.48 sends ``PartsCount: 1`` for a plain PutObject too, so a count of 1 with
    an ETag that is not multipart-shaped (no ``-N`` suffix) is a single-part object."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "PartNumber": part_number}
    if version_id:
        params["VersionId"] = version_id
    resp = client.head_object(**params)
    count = resp.get("PartsCount")
    if not count or (count == 1 and "-" not in str(resp.get("ETag") or "")):
        return None
    return int(resp["ContentLength"])


def part_sizes(
    client: Any,
    bucket: str,
    key: str,
    parts: int,
    version_id: str | None,
    call: Callable[[Callable[[], Any]], Any],
    *,
    use_attributes: bool = True,
    attributes_failed: Callable[[BaseException], None] | None = None,
) -> list[int]:
    """Every part's size in bytes: GetObjectAttributes ``ObjectParts`` (pages of 1,000
    parts) when the store lists them (and ``use_attributes``), else HeadObject
    ``PartNumber=k`` for each part, :data:`PART_HEADS` at a time. ``call(fn)`` runs ``fn``
    with errors translated; ``attributes_failed(exc)`` hears of a failed
    GetObjectAttributes (the driver remembers a store without it).

    Raises:
        StorageError: a HeadObject failed, or a part has no size.
    """
    sizes = None
    if use_attributes:
        try:
            sizes = call(lambda: _attribute_parts(client, bucket, key, version_id))
        except StorageError as exc:  # not implemented (many S3-compatible stores) or denied
            if attributes_failed is not None:
                attributes_failed(exc)
    if sizes is not None and len(sizes) == parts:
        return sizes

    def head(number: int) -> int:
        size = call(lambda: part_size(client, bucket, key, number, version_id))
        if size is None:
            raise InvalidRequest(
                f"HeadObject PartNumber={number} gave no part",
                operation="HeadObject",
                provider="s3",
                bucket=bucket,
                key=key,
                code="NoPartSize",
            )
        return size

    with ThreadPoolExecutor(PART_HEADS, thread_name_prefix="pail-parts") as pool:
        return list(pool.map(head, range(1, parts + 1)))


def _attribute_parts(client: Any, bucket: str, key: str, version_id: str | None):
    sizes: list[int] = []
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "ObjectAttributes": ["ObjectParts"],
        "MaxParts": 1000,
    }
    if version_id:
        params["VersionId"] = version_id
    while True:
        resp = client.get_object_attributes(**params)
        parts = (resp.get("ObjectParts") or {}).get("Parts")
        if not parts:
            return None
        sizes.extend(int(p["Size"]) for p in parts)
        marker = resp["ObjectParts"].get("NextPartNumberMarker")
        if not resp["ObjectParts"].get("IsTruncated") or not marker:
            return sizes
        params["PartNumberMarker"] = marker


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
