"""S3 writes for :class:`pail.drivers.s3.S3Driver` (issue 16): PutObject, multipart uploads
(CreateMultipartUpload, UploadPart, ListParts, CompleteMultipartUpload,
AbortMultipartUpload) and server-side copies (CopyObject, UploadPartCopy).

The transfer engine (:mod:`pail.services.transfer`) reads the source, computes the
checksums and runs parts in parallel; this module only builds the requests and reads the
replies. Every request goes through ``call(operation, bucket, key)``, the driver's
translation context (botocore exceptions -> :mod:`pail.drivers.errors`), and is retried
per request by the driver's retry policy (:mod:`pail.drivers.s3.retry`): a body is
``bytes`` in memory, so a retry sends the same bytes again.

Checksums (S3 User Guide, "Checking object integrity"): the caller's ``{"MD5": b64,
"CRC64NVME": b64, ...}`` become ``Content-MD5`` and the ``x-amz-checksum-<alg>`` headers
(the ``Checksum<ALG>`` members), so the store checks what it received. botocore adds a
checksum of its own only when no ``x-amz-checksum-*`` header is set
(``botocore.httpchecksum.resolve_request_checksum_algorithm``, 1.44): when the caller
gives one, it is the only one sent. When the options name an algorithm the caller gave no
value for, ``ChecksumAlgorithm`` asks botocore to compute it.

Multipart checksums: ``CRC64NVME``/``CRC32C``/``CRC32`` uploads are created
``ChecksumType=FULL_OBJECT`` (the whole object's CRC can be combined from the parts' and is
sent at Complete), ``SHA1``/``SHA256`` ones ``COMPOSITE`` (S3 has no full-object SHA).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import replace
from typing import Any

from pail.drivers.base import (
    MAX_COPY_OBJECT_SIZE,
    MAX_PARTS,
    MIN_PART_SIZE,
    UploadedPart,
    WriteOptions,
    WrittenObject,
)
from pail.drivers.errors import InvalidRequest, NotFound, PreconditionFailed, StorageError

#: Additional checksum algorithms S3 keeps (besides MD5, which travels as Content-MD5).
ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA1", "SHA256")
#: Algorithms whose multipart checksum is of the whole object (combinable CRCs).
FULL_OBJECT_ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32")
#: ListParts page size (the S3 maximum).
LIST_PARTS_PAGE = 1000
#: UploadPartCopy requests in flight at once for a copy in parts.
COPY_PARTS_IN_FLIGHT = 8
#: Default part size of a copy in parts (above :data:`MAX_COPY_OBJECT_SIZE`): 512 MiB,
#: raised so the object fits in :data:`MAX_PARTS` parts.
COPY_PART_SIZE = 512 * 1024 * 1024
_MIB = 1024 * 1024

#: ``call(operation, bucket, key)``: a context that translates errors raised inside it.
Call = Callable[[str, str, str], AbstractContextManager[Any]]


def _invalid(message: str, operation: str, bucket: str, key: str, code: str) -> InvalidRequest:
    return InvalidRequest(
        message, operation=operation, provider="s3", bucket=bucket, key=key, code=code
    )


def checksum_params(
    checksums: Mapping[str, str] | None, operation: str, bucket: str, key: str
) -> dict[str, str]:
    """``{"MD5": b64, "CRC64NVME": b64}`` -> ``{"ContentMD5": b64, "ChecksumCRC64NVME": b64}``.

    Raises:
        InvalidRequest: (code ``InvalidChecksumAlgorithm``) an algorithm S3 does not keep,
            or an empty value: nothing is sent rather than a write the store cannot check.
    """
    params: dict[str, str] = {}
    for alg, value in (checksums or {}).items():
        name = alg.upper()
        if not value:
            raise _invalid(
                f"empty {name} checksum", operation, bucket, key, "InvalidChecksumAlgorithm"
            )
        if name == "MD5":
            params["ContentMD5"] = value
        elif name in ALGORITHMS:
            params[f"Checksum{name}"] = value
        else:
            raise _invalid(
                f"S3 does not check {alg!r} checksums (MD5, {', '.join(ALGORITHMS)})",
                operation,
                bucket,
                key,
                "InvalidChecksumAlgorithm",
            )
    return params


def _algorithm(options: WriteOptions, operation: str, bucket: str, key: str) -> str | None:
    alg = options.checksum_algorithm
    if alg is None:
        return None
    if alg.upper() not in ALGORITHMS:
        raise _invalid(
            f"S3 keeps no {alg!r} checksum (one of {', '.join(ALGORITHMS)})",
            operation,
            bucket,
            key,
            "InvalidChecksumAlgorithm",
        )
    return alg.upper()


def object_params(options: WriteOptions, write_args: Mapping[str, Any]) -> dict[str, Any]:
    """The object-level parameters of a PutObject, CreateMultipartUpload or CopyObject: the
    connection's ``write_args``, then ``options.extra`` key by key, then the options'
    ``content_type`` (ContentType), ``metadata`` (Metadata) and ``storage_class``
    (StorageClass) when set. UploadPart takes none of these (SSE-C, which it would, is not
    supported by pail)."""
    params: dict[str, Any] = {**dict(write_args), **dict(options.extra)}
    if options.content_type:
        params["ContentType"] = options.content_type
    if options.metadata:
        params["Metadata"] = dict(options.metadata)
    if options.storage_class:
        params["StorageClass"] = options.storage_class
    return params


def _reply_checksums(reply: Mapping[str, Any]) -> dict[str, str]:
    return {alg: str(reply[f"Checksum{alg}"]) for alg in ALGORITHMS if reply.get(f"Checksum{alg}")}


def _unquote(etag: Any) -> str | None:
    return str(etag).strip('"') or None if etag else None


def written(bucket: str, key: str, size: int, reply: Mapping[str, Any]) -> WrittenObject:
    """A PutObject or CompleteMultipartUpload reply as a :class:`WrittenObject`."""
    return WrittenObject(
        bucket=bucket,
        key=key,
        size=size,
        etag=_unquote(reply.get("ETag")),
        version_id=reply.get("VersionId") or None,
        checksums=_reply_checksums(reply),
        checksum_type=reply.get("ChecksumType") or None,
        encryption=reply.get("ServerSideEncryption") or None,
    )


def put_object(
    client: Any,
    call: Call,
    bucket: str,
    key: str,
    data: bytes,
    options: WriteOptions,
    checksums: Mapping[str, str] | None,
    write_args: Mapping[str, Any],
) -> WrittenObject:
    """One PutObject of ``data`` (see :meth:`pail.drivers.base.Writable.put_object`).

    ``if_none_match`` sends ``If-None-Match: *`` (S3 User Guide, "conditional writes").
    A 412 to a request that was sent more than once (the first answer was lost) is checked
    with one HeadObject: when the object there is provably these bytes (see
    :func:`_landed`), it was this write's own first attempt and the write succeeded.

    Raises what ``call`` translates (ChecksumMismatch, PreconditionFailed, AccessDenied...).
    """
    params: dict[str, Any] = {**object_params(options, write_args), "Bucket": bucket, "Key": key}
    params["Body"] = data
    sums = checksum_params(checksums, "PutObject", bucket, key)
    params.update(sums)
    alg = _algorithm(options, "PutObject", bucket, key)
    if alg:
        # Without a value botocore computes it; with one it sends ours. Either way the
        # algorithm goes along (x-amz-sdk-checksum-algorithm): moto 5.2 keeps a checksum
        # only when it is named there, as the SDKs name it.
        params["ChecksumAlgorithm"] = alg
    if options.if_none_match:
        params["IfNoneMatch"] = "*"
    try:
        with call("PutObject", bucket, key):
            reply = client.put_object(**params)
    except PreconditionFailed as exc:
        # A create-only PutObject that was sent again (its answer lost: a reset, a
        # timeout) may find the object its own first attempt wrote.
        if not options.if_none_match or (getattr(exc, "attempts", None) or 1) <= 1:
            raise
        mine = _landed(client, call, bucket, key, data, checksums)
        if mine is None:
            raise
        return mine
    return written(bucket, key, len(data), reply)


def _landed(
    client: Any,
    call: Call,
    bucket: str,
    key: str,
    data: bytes,
    checksums: Mapping[str, str] | None,
) -> WrittenObject | None:
    """The object at ``key`` when it provably holds ``data`` (HeadObject with
    ``ChecksumMode=ENABLED``: same size, and a plain-MD5 ETag equal to ``data``'s MD5 or
    an additional checksum equal to the caller's), else ``None``: then it is someone
    else's and the 412 stands."""
    from pail.drivers.s3.transfer import object_checksums

    with call("HeadObject", bucket, key):
        stored = object_checksums(client, bucket, key, None)
    if stored.size != len(data):
        return None
    same_md5 = stored.etag_is_md5 and stored.etag == hashlib.md5(data).hexdigest()
    same_sum = any(
        stored.checksums.get(alg.upper()) == value
        for alg, value in (checksums or {}).items()
        if alg.upper() in ALGORITHMS
    )
    if not (same_md5 or same_sum):
        return None
    return WrittenObject(
        bucket=bucket,
        key=key,
        size=stored.size,
        etag=stored.etag,
        version_id=stored.version_id,
        checksums=dict(stored.checksums),
        checksum_type=stored.checksum_type,
    )


class S3Upload:
    """A :class:`pail.drivers.base.MultipartUpload` on S3: ``token`` is the ``UploadId``.

    Attributes:
        bucket, key, size: the object and its total size in bytes.
        token: the S3 ``UploadId`` (a later process resumes with it).
        parallel: True (S3 parts go in any order, at once).
        part_alignment: 1.
        algorithm: the upload's checksum algorithm (``CRC64NVME``...) or ``None``.
        checksum_type: ``FULL_OBJECT``, ``COMPOSITE`` or ``None``.

    Thread-safe: it holds no state that changes after it is made, and boto3 clients may be
    shared by threads, so the engine sends parts from several threads at once.
    """

    parallel = True
    part_alignment = 1

    def __init__(
        self,
        client: Callable[[], Any],
        call: Call,
        bucket: str,
        key: str,
        size: int,
        upload_id: str,
        *,
        algorithm: str | None = None,
        checksum_type: str | None = None,
        if_none_match: bool = False,
        guard: Call | None = None,
    ) -> None:
        self._client = client
        self._guard = guard
        self._call = call
        self.bucket = bucket
        self.key = key
        self.size = size
        self.token: str | None = upload_id
        self.upload_id = upload_id
        self.algorithm = algorithm
        self.checksum_type = checksum_type
        self.if_none_match = if_none_match

    def __repr__(self) -> str:
        return f"S3Upload({self.bucket!r}, {self.key!r}, upload_id={self.upload_id!r})"

    def upload_part(
        self, number: int, data: bytes, *, checksums: dict[str, str] | None = None
    ) -> UploadedPart:
        """UploadPart ``number`` with ``checksums`` (MD5 as Content-MD5, the others as
        ``x-amz-checksum-*``). A part without the upload's algorithm gets it computed by
        botocore (``ChecksumAlgorithm``): S3 refuses a part of a checksummed upload
        without it. The returned part's checksums are the reply's, else the ones sent
        (the store accepted the request that carried them).

        Raises:
            ChecksumMismatch, NotFound (NoSuchUpload), StorageError.
        """
        if not 1 <= number <= MAX_PARTS:
            raise _invalid(
                f"part number {number} is outside 1..{MAX_PARTS}",
                "UploadPart",
                self.bucket,
                self.key,
                "InvalidPartNumber",
            )
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "PartNumber": number,
            "Body": data,
        }
        sums = checksum_params(checksums, "UploadPart", self.bucket, self.key)
        params.update(sums)
        if self.algorithm and f"Checksum{self.algorithm}" not in sums:
            params["ChecksumAlgorithm"] = self.algorithm
        with self._call("UploadPart", self.bucket, self.key):
            reply = self._client().upload_part(**params)
        sent = {k.upper(): v for k, v in (checksums or {}).items() if k.upper() in ALGORITHMS}
        confirmed = {**sent, **_reply_checksums(reply)}
        return UploadedPart(number, len(data), _unquote(reply.get("ETag")), confirmed)

    def parts(self) -> list[UploadedPart]:
        """Every part the store holds (ListParts, pages of :data:`LIST_PARTS_PAGE`, by
        ``PartNumberMarker``), in part-number order.

        Raises:
            NotFound: (code ``NoSuchUpload``) the upload was completed, aborted or expired.
        """
        found, _ = list_parts(self._client(), self._call, self.bucket, self.key, self.upload_id)
        return found

    def complete(
        self, parts: Sequence[UploadedPart], *, checksums: dict[str, str] | None = None
    ) -> WrittenObject:
        """CompleteMultipartUpload with ``parts`` in number order (each part's ETag and its
        checksum of the upload's algorithm when it has one) and the whole object's
        ``checksums`` (FULL_OBJECT CRCs; ``ChecksumType`` says so). ``If-None-Match: *``
        when the upload was started create-only.

        Raises:
            ChecksumMismatch, PreconditionFailed, NotFound (NoSuchUpload), StorageError.
        """
        ordered = sorted(parts, key=lambda p: p.number)
        numbers = [p.number for p in ordered]
        if len(set(numbers)) != len(numbers) or not ordered:
            raise _invalid(
                "the parts to join are empty or name a part twice",
                "CompleteMultipartUpload",
                self.bucket,
                self.key,
                "InvalidPart",
            )
        listed = []
        for part in ordered:
            entry: dict[str, Any] = {"PartNumber": part.number}
            if part.etag:
                entry["ETag"] = f'"{part.etag}"'
            for alg, value in part.checksums.items():
                name = alg.upper()
                if value and name in ALGORITHMS and name == (self.algorithm or name):
                    entry[f"Checksum{name}"] = value
            listed.append(entry)
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.key,
            "UploadId": self.upload_id,
            "MultipartUpload": {"Parts": listed},
        }
        whole = checksum_params(
            {k: v for k, v in (checksums or {}).items() if k.upper() != "MD5"},
            "CompleteMultipartUpload",
            self.bucket,
            self.key,
        )
        if whole:
            params.update(whole)
            params["ChecksumType"] = self.checksum_type or "FULL_OBJECT"
        if self.if_none_match:
            params["IfNoneMatch"] = "*"
        guard = self._guard if self.if_none_match and self._guard else None
        outer = guard("CompleteMultipartUpload", self.bucket, self.key) if guard else nullcontext()
        with outer, self._call("CompleteMultipartUpload", self.bucket, self.key):
            reply = self._client().complete_multipart_upload(**params)
        return written(self.bucket, self.key, self.size, reply)

    def abort(self) -> None:
        """AbortMultipartUpload; an upload already gone (NoSuchUpload / 404) is no error."""
        try:
            with self._call("AbortMultipartUpload", self.bucket, self.key):
                self._client().abort_multipart_upload(
                    Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
                )
        except NotFound:
            return


def list_parts(
    client: Any, call: Call, bucket: str, key: str, upload_id: str, *, max_pages: int | None = None
) -> tuple[list[UploadedPart], dict[str, Any]]:
    """Every part of ``upload_id`` (ListParts by ``PartNumberMarker``) and the first reply
    (its ``ChecksumAlgorithm``/``ChecksumType``). ``max_pages`` stops early (a check that
    the upload exists). Raises NotFound (NoSuchUpload) and what ``call`` translates."""
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Key": key,
        "UploadId": upload_id,
        "MaxParts": LIST_PARTS_PAGE,
    }
    found: list[UploadedPart] = []
    first: dict[str, Any] | None = None
    pages = 0
    while True:
        with call("ListParts", bucket, key):
            reply = client.list_parts(**params)
        first = first if first is not None else dict(reply)
        pages += 1
        for part in reply.get("Parts") or []:
            found.append(
                UploadedPart(
                    number=int(part["PartNumber"]),
                    size=int(part.get("Size") or 0),
                    etag=_unquote(part.get("ETag")),
                    checksums=_reply_checksums(part),
                )
            )
        marker = reply.get("NextPartNumberMarker")
        if not reply.get("IsTruncated") or (max_pages is not None and pages >= max_pages):
            break
        if not marker or str(marker) == str(params.get("PartNumberMarker")):
            raise _invalid(
                "ListParts said the list is truncated but gave no next part number",
                "ListParts",
                bucket,
                key,
                "BrokenPaging",
            )
        params["PartNumberMarker"] = marker
    found.sort(key=lambda p: p.number)
    return found, first


def start_upload(
    client: Callable[[], Any],
    call: Call,
    bucket: str,
    key: str,
    size: int,
    options: WriteOptions,
    write_args: Mapping[str, Any],
    *,
    guard: Call | None = None,
) -> S3Upload:
    """CreateMultipartUpload (object parameters as :func:`object_params`; with an algorithm,
    ``ChecksumAlgorithm`` and ``ChecksumType`` FULL_OBJECT or COMPOSITE)."""
    params: dict[str, Any] = {**object_params(options, write_args), "Bucket": bucket, "Key": key}
    alg = _algorithm(options, "CreateMultipartUpload", bucket, key)
    kind = None
    if alg:
        kind = "FULL_OBJECT" if alg in FULL_OBJECT_ALGORITHMS else "COMPOSITE"
        params["ChecksumAlgorithm"] = alg
        params["ChecksumType"] = kind
    with call("CreateMultipartUpload", bucket, key):
        reply = client().create_multipart_upload(**params)
    return S3Upload(
        client,
        call,
        bucket,
        key,
        size,
        str(reply["UploadId"]),
        algorithm=(reply.get("ChecksumAlgorithm") or alg),
        checksum_type=(reply.get("ChecksumType") or kind),
        if_none_match=options.if_none_match,
        guard=guard,
    )


def resume_upload(
    client: Callable[[], Any],
    call: Call,
    bucket: str,
    key: str,
    size: int,
    token: str,
    options: WriteOptions,
    *,
    guard: Call | None = None,
) -> S3Upload:
    """The upload ``token`` (an UploadId) names, after one ListParts page proves it still
    exists and tells its checksum algorithm and type.

    Raises:
        NotFound: (code ``NoSuchUpload``) it is gone. StorageError: the request failed.
    """
    _, first = list_parts(client(), call, bucket, key, token, max_pages=1)
    alg = first.get("ChecksumAlgorithm") or _algorithm(options, "ListParts", bucket, key)
    kind = first.get("ChecksumType")
    if alg and not kind:
        kind = "FULL_OBJECT" if str(alg).upper() in FULL_OBJECT_ALGORITHMS else "COMPOSITE"
    return S3Upload(
        client,
        call,
        bucket,
        key,
        size,
        token,
        algorithm=str(alg).upper() if alg else None,
        checksum_type=kind,
        if_none_match=options.if_none_match,
        guard=guard,
    )


def _copy_source(bucket: str, key: str, version_id: str | None) -> dict[str, str]:
    source = {"Bucket": bucket, "Key": key}
    if version_id:
        source["VersionId"] = version_id
    return source


def copy_object(
    client: Callable[[], Any],
    call: Call,
    source_bucket: str,
    source_key: str,
    bucket: str,
    key: str,
    *,
    size: int,
    source_version_id: str | None,
    source_etag: str | None,
    options: WriteOptions,
    write_args: Mapping[str, Any],
    part_size: int | None,
) -> WrittenObject:
    """A server-side copy (see :meth:`pail.drivers.base.Writable.copy_object`): one
    CopyObject up to :data:`MAX_COPY_OBJECT_SIZE` bytes (or ``part_size``), else
    CreateMultipartUpload + UploadPartCopy ranges + CompleteMultipartUpload (aborted on
    any failure).

    Metadata: ``MetadataDirective`` COPY keeps the source's user metadata and content
    type; when ``options`` sets ``metadata`` or ``content_type`` it is REPLACE with them
    (what the options leave out is then not copied). UploadPartCopy copies bytes only, so
    a copy in parts reads the source's content type, metadata and content headers with
    one HeadObject (pinned to ``source_etag``) unless the options set them.

    Raises:
        PreconditionFailed: the source's ETag is not ``source_etag``, or
            ``if_none_match`` and the key exists. NotFound, AccessDenied, StorageError.
    """
    limit = part_size if part_size else MAX_COPY_OBJECT_SIZE
    if size <= limit:
        return _copy_once(
            client(),
            call,
            source_bucket,
            source_key,
            bucket,
            key,
            size=size,
            source_version_id=source_version_id,
            source_etag=source_etag,
            options=options,
            write_args=write_args,
        )
    chosen = part_size or max(COPY_PART_SIZE, -(-size // MAX_PARTS // _MIB) * _MIB)
    if chosen < MIN_PART_SIZE or -(-size // chosen) > MAX_PARTS:
        raise _invalid(
            f"a copy in parts of {chosen} bytes cannot hold {size} bytes "
            f"(parts of at least {MIN_PART_SIZE} bytes, at most {MAX_PARTS} parts)",
            "UploadPartCopy",
            bucket,
            key,
            "InvalidPartSize",
        )
    return _copy_parts(
        client,
        call,
        source_bucket,
        source_key,
        bucket,
        key,
        size=size,
        part_size=chosen,
        source_version_id=source_version_id,
        source_etag=source_etag,
        options=options,
        write_args=write_args,
    )


def _copy_once(
    client: Any,
    call: Call,
    source_bucket: str,
    source_key: str,
    bucket: str,
    key: str,
    *,
    size: int,
    source_version_id: str | None,
    source_etag: str | None,
    options: WriteOptions,
    write_args: Mapping[str, Any],
) -> WrittenObject:
    params: dict[str, Any] = {**object_params(options, write_args), "Bucket": bucket, "Key": key}
    params["CopySource"] = _copy_source(source_bucket, source_key, source_version_id)
    replace = bool(options.metadata or options.content_type)
    params["MetadataDirective"] = "REPLACE" if replace else "COPY"
    if source_etag:
        params["CopySourceIfMatch"] = f'"{source_etag.strip(chr(34))}"'
    alg = _algorithm(options, "CopyObject", bucket, key)
    if alg:
        params["ChecksumAlgorithm"] = alg
    if options.if_none_match:
        params["IfNoneMatch"] = "*"
    with call("CopyObject", bucket, key):
        reply = client.copy_object(**params)
    result = reply.get("CopyObjectResult") or {}
    return WrittenObject(
        bucket=bucket,
        key=key,
        size=size,
        etag=_unquote(result.get("ETag")),
        version_id=reply.get("VersionId") or None,
        checksums=_reply_checksums(result),
        checksum_type=result.get("ChecksumType") or None,
        encryption=reply.get("ServerSideEncryption") or None,
    )


#: HeadObject fields a copy in parts carries over from the source, as CopyObject's
#: ``MetadataDirective=COPY`` would (S3 API reference, CopyObject: system metadata).
_COPIED_HEADERS = ("CacheControl", "ContentDisposition", "ContentEncoding", "ContentLanguage")


def _source_headers(
    client: Any,
    call: Call,
    bucket: str,
    key: str,
    version_id: str | None,
    etag: str | None,
    options: WriteOptions,
) -> WriteOptions:
    """``options`` with the source's content type, user metadata and the
    :data:`_COPIED_HEADERS` (one HeadObject, pinned to ``etag`` with ``If-Match``);
    ``options.extra`` still wins. UploadPartCopy copies bytes only."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        params["VersionId"] = version_id
    if etag:
        params["IfMatch"] = f'"{etag.strip(chr(34))}"'
    with call("HeadObject", bucket, key):
        head = client.head_object(**params)
    extra = {name: str(head[name]) for name in _COPIED_HEADERS if head.get(name)}
    return replace(
        options,
        content_type=head.get("ContentType") or None,
        metadata=dict(head.get("Metadata") or {}),
        extra={**extra, **options.extra},
    )


def _copy_parts(
    client: Callable[[], Any],
    call: Call,
    source_bucket: str,
    source_key: str,
    bucket: str,
    key: str,
    *,
    size: int,
    part_size: int,
    source_version_id: str | None,
    source_etag: str | None,
    options: WriteOptions,
    write_args: Mapping[str, Any],
) -> WrittenObject:
    if not (options.metadata or options.content_type):
        options = _source_headers(
            client(), call, source_bucket, source_key, source_version_id, source_etag, options
        )
    upload = start_upload(client, call, bucket, key, size, options, write_args)
    source = _copy_source(source_bucket, source_key, source_version_id)
    failed = threading.Event()

    def one(number: int) -> UploadedPart:
        if failed.is_set():
            raise _invalid("an earlier part failed", "UploadPartCopy", bucket, key, "Cancelled")
        start = (number - 1) * part_size
        end = min(size, start + part_size)
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "UploadId": upload.upload_id,
            "PartNumber": number,
            "CopySource": source,
            "CopySourceRange": f"bytes={start}-{end - 1}",
        }
        if source_etag:
            params["CopySourceIfMatch"] = f'"{source_etag.strip(chr(34))}"'
        try:
            with call("UploadPartCopy", bucket, key):
                reply = client().upload_part_copy(**params)
        except BaseException:
            failed.set()
            raise
        result = reply.get("CopyPartResult") or {}
        return UploadedPart(
            number, end - start, _unquote(result.get("ETag")), _reply_checksums(result)
        )

    count = -(-size // part_size)
    futures: list[Any] = []
    try:
        with ThreadPoolExecutor(min(COPY_PARTS_IN_FLIGHT, count), "pail-copy-part") as pool:
            futures = [pool.submit(one, n) for n in range(1, count + 1)]
            parts = [f.result() for f in futures]
        return upload.complete(parts)
    except BaseException as exc:
        with suppress(StorageError):  # the copy's own error is the one to report
            upload.abort()
        # Report the first real failure, not a part skipped because of it.
        if isinstance(exc, InvalidRequest) and exc.code == "Cancelled":
            for future in futures:
                error = future.exception() if future.done() else None
                if error is not None and not (
                    isinstance(error, InvalidRequest) and error.code == "Cancelled"
                ):
                    raise error from None
        raise
