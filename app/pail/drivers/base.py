"""The storage driver protocol and the small value types every backend returns.

Terms follow the storage field: bucket, key, prefix, delimiter, object, ETag, storage class,
version id. All sizes are bytes; all times are timezone-aware UTC ``datetime``.

A driver lists *one level at a time* (``delimiter="/"``) and returns *pages*, so callers can
show page 1 while page 2 is in flight (S3 ListObjectsV2 ``ContinuationToken``, GCS
``pageToken``). ``delimiter=""`` lists every key under the prefix (recursive).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from pail.drivers.identity import Identity

EntryType = Literal["prefix", "object"]

#: Default page size: S3's ListObjectsV2 maximum (``MaxKeys`` 1,000).
DEFAULT_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of a listing: a common prefix or an object.

    Attributes:
        key: full key (for prefixes, ends with the delimiter, e.g. ``"runs/run-1/"``).
        type: ``"prefix"`` or ``"object"``.
        size: object size in bytes (``None`` for prefixes).
        last_modified: UTC time of the last write (``None`` for prefixes).
        etag: entity tag as the server gives it, without quotes.
        storage_class: e.g. ``"STANDARD"``, ``"GLACIER"``, ``"NEARLINE"``.
        version_id: S3 version id / GCS generation, when the listing is versioned.
    """

    key: str
    type: EntryType
    size: int | None = None
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None
    version_id: str | None = None

    @property
    def is_prefix(self) -> bool:
        """True for a common prefix ("folder")."""
        return self.type == "prefix"

    @property
    def name(self) -> str:
        """Last path segment: ``"runs/run-1/"`` -> ``"run-1/"``, ``"a/b.json"`` -> ``"b.json"``."""
        trimmed = self.key[:-1] if self.key.endswith("/") else self.key
        base = trimmed.rsplit("/", 1)[-1]
        return base + "/" if self.key.endswith("/") else base


@dataclass(frozen=True, slots=True)
class Bucket:
    """A bucket as ListBuckets returns it.

    Attributes:
        name: bucket name.
        created: creation time (UTC), when the API gives it.
        region: region or location (``"us-east-1"``, ``"EU"``), when known.
    """

    name: str
    created: datetime | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing.

    Attributes:
        entries: prefixes and objects in the order the server returned them
            (S3 and GCS return keys in UTF-8 binary order).
        next_token: opaque continuation token for the next page, ``None`` on the last page.
    """

    entries: tuple[Entry, ...]
    next_token: str | None = None

    @property
    def is_last(self) -> bool:
        """True when there is no further page."""
        return self.next_token is None


@dataclass(frozen=True)
class ObjectInfo:
    """An object's metadata, from HeadObject / ``blobs.get`` / ``os.stat``.

    Attributes:
        bucket, key: where the object lives.
        size: content length in bytes.
        last_modified: UTC time of the last write.
        etag: entity tag without quotes (S3 multipart ETags end in ``-N``).
        content_type: MIME type the store reports, if any.
        storage_class: storage class, if any.
        version_id: version id (S3) or generation (GCS), if any.
        metadata: user metadata (``x-amz-meta-*`` / GCS custom metadata), plain strings.
        encryption: server-side encryption, e.g. ``"AES256"``, ``"aws:kms"``.
        extra: other provider fields worth showing (``ContentEncoding``, ``CRC32C``...).
    """

    bucket: str
    key: str
    size: int
    last_modified: datetime | None = None
    etag: str | None = None
    content_type: str | None = None
    storage_class: str | None = None
    version_id: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    encryption: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ObjectChecksums:
    """What a store vouches for about an object's bytes, for verifying a download.

    Attributes:
        size: bytes. etag: entity tag without quotes (``None`` when the store has none).
        etag_is_md5: the ETag is derived from MD5s (single-part MD5 or multipart ``HEX-N``);
            false for SSE-KMS / SSE-C objects on S3, and where there is no S3 ETag.
        checksums: algorithm (``CRC64NVME``, ``SHA256``, ``SHA1``, ``CRC32C``, ``CRC32``,
            ``MD5``) to base64 value as the store gives it (S3 composite values end in
            ``-N``).
        checksum_type: S3 ``ChecksumType``: ``FULL_OBJECT``, ``COMPOSITE`` or ``None``.
        version_id: the version / generation these describe, when the store has them.
    """

    size: int
    etag: str | None = None
    etag_is_md5: bool = False
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    version_id: str | None = None


#: Most keys one ``delete_objects`` call takes: S3 DeleteObjects accepts "up to 1,000 keys"
#: per request (S3 API reference, DeleteObjects).
MAX_DELETE_KEYS = 1000

#: A key to delete: ``"key"`` or ``("key", version_id)`` (``None`` = the current version).
DeleteTarget = str | tuple[str, str | None]


class DeletedKey(NamedTuple):
    """A key the store reports deleted (or already absent): ``key``, ``version_id``."""

    key: str
    version_id: str | None = None


class DeleteFailure(NamedTuple):
    """A key the store did not delete: ``key``, ``version_id``, the provider's ``code``
    (``AccessDenied``, ``forbidden``, ``EACCES``...) and a plain-text ``message``."""

    key: str
    version_id: str | None
    code: str
    message: str


@dataclass
class DeleteResult:
    """The outcome of one ``delete_objects`` call. A key is in exactly one list: a key the
    store answered with an error is in ``errors`` and never in ``deleted``."""

    deleted: list[DeletedKey] = field(default_factory=list)
    errors: list[DeleteFailure] = field(default_factory=list)


@runtime_checkable
class StorageDriver(Protocol):
    """What every backend (S3, GCS, local folder) implements.

    Every method raises a :class:`pail.drivers.errors.StorageError` subclass on failure,
    never an SDK exception. Drivers are safe to call from worker threads; the SDK client
    is built lazily on first use.
    """

    #: ``"s3"``, ``"gcs"`` or ``"local"``.
    provider: str

    @property
    def endpoint(self) -> str | None:
        """Endpoint URL calls go to (``None`` for the provider default / local)."""
        ...

    def list_buckets(self) -> list[Bucket]:
        """All buckets the identity can see (S3 ListBuckets, GCS ``buckets.list``)."""
        ...

    def bucket_region(self, bucket: str) -> str | None:
        """The bucket's region/location (S3 GetBucketLocation, GCS ``bucket.location``)."""
        ...

    def list_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "/",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """One page of keys under ``prefix``.

        With ``delimiter="/"`` keys below the next ``/`` are rolled up into prefix entries
        (S3 CommonPrefixes); ``delimiter=""`` lists every key. ``token`` is the previous
        page's ``next_token``. ``page_size`` is a maximum (1..1000); a backend may return
        fewer entries.
        """
        ...

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """An object's metadata (S3 HeadObject). Raises NotFound when it does not exist."""
        ...

    def read_range(
        self,
        bucket: str,
        key: str,
        start: int = 0,
        length: int | None = None,
        *,
        suffix: int | None = None,
        version_id: str | None = None,
    ) -> bytes:
        """Bytes of an object, by HTTP range (RFC 9110 section 14.1.2).

        ``start``/``length`` read ``bytes=start-(start+length-1)``; ``length=None`` reads to the
        end. ``suffix=N`` reads the last N bytes (``bytes=-N``), for log tails, and ignores
        start/length. Reading past the end returns what exists (possibly ``b""``).
        """
        ...

    def stream_range(
        self,
        bucket: str,
        key: str,
        start: int,
        end: int,
        sink: Callable[[bytes], None],
        *,
        version_id: str | None = None,
        etag: str | None = None,
    ) -> None:
        """Stream bytes ``[start, end)`` of the object to ``sink(chunk)``, in order, from one
        ranged request (``Range: bytes=start-(end-1)``, RFC 9110 section 14.1.2).

        ``etag`` pins the object version where the store supports it (S3 ``If-Match``: a
        changed object fails with 412 PreconditionFailed); ``version_id`` reads that
        version / GCS generation. The driver never retries once a byte reached ``sink``
        (that would deliver bytes twice): the caller resumes from where it stopped.

        Raises:
            StreamInterrupted: the body stopped early (reset, close, stall past the read
                timeout) after the request succeeded.
            StorageError: the request failed (NotFound, AccessDenied, 412, ...).
            Whatever ``sink`` raises (e.g. TransferCancelled, OSError), unchanged.
        """
        ...

    def object_checksums(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectChecksums:
        """What the store vouches for about the object's bytes (S3 HeadObject with
        ``ChecksumMode=ENABLED``; GCS ``objects.get`` CRC32C/MD5; a local folder reads the
        source file for its SHA-256).

        Raises:
            StorageError: the request failed.
        """
        ...

    def presign(
        self, bucket: str, key: str, expires_in: int, *, version_id: str | None = None
    ) -> str:
        """A URL that fetches the object without credentials for ``expires_in`` seconds
        (S3 presigned GetObject, SigV4 query auth; GCS V4 signed URL; ``file://`` locally).

        Raises:
            InvalidRequest: ``expires_in`` outside 1..604800 (7 days, the SigV4 maximum), or
                the credentials cannot sign (GCS needs a service-account key).
        """
        ...

    def delete_objects(self, bucket: str, keys: Sequence[DeleteTarget]) -> DeleteResult:
        """Delete up to :data:`MAX_DELETE_KEYS` keys in one call (S3 DeleteObjects; GCS
        batched ``storage.objects.delete``; ``os.remove`` for folders).

        ``keys`` holds keys or ``(key, version_id)`` pairs. Every key is in exactly one list
        of the result: in :attr:`DeleteResult.deleted` only when the store confirmed it
        (named in S3's ``Deleted`` list, sent with ``Quiet=false``; a 2xx or 404 GCS
        sub-response; ``os.remove`` succeeded), else in :attr:`DeleteResult.errors` with
        the store's code (S3 answers DeleteObjects with HTTP 200 and an ``Error`` element
        per key it refused) or ``NotConfirmed`` when the reply did not name the key (an
        empty or unparsable reply: every key). A key that does not exist counts as
        deleted, as in S3 (deleting is idempotent).

        Raises:
            ValueError: more than :data:`MAX_DELETE_KEYS` keys.
            StorageError: the whole request failed (403 on the request, unreachable, ...).
        """
        ...


# --- optional capabilities --------------------------------------------------------------
#
# What only some backends offer. Each is a ``runtime_checkable`` protocol of methods only,
# so ``isinstance(driver, Probes)`` both answers "does this driver have it?" and narrows
# the type for the checker. (``isinstance`` on such a protocol only looks for the method
# names; from Python 3.12 it looks them up on the class, so a wrapper that forwards
# through ``__getattr__`` has none of them there.) Object versions and lifecycle rules are
# the same kind of capability: :class:`pail.drivers.versions.Versioned` and
# :class:`pail.drivers.versions.HasLifecycle`. Transfers (``stream_range``,
# ``object_checksums``, ``presign``, ``delete_objects``) are in :class:`StorageDriver`:
# every backend has them.
#
# Which driver has which (tests/drivers/test_capabilities.py checks this table):
#
# ============  ==========  ===========  ======  ================  =========
# driver        Versioned   HasLifecycle Probes  PermissionChecks  PartSizes
# ============  ==========  ===========  ======  ================  =========
# S3Driver      yes         yes          yes     no                yes
# GcsDriver     yes         yes          no      yes               no
# LocalDriver   refuses*    refuses*     no      no                no
# ============  ==========  ===========  ======  ================  =========
#
# ``HasIdentity``: S3 and GCS. ``Writable`` (uploads, copies: below): every driver.
# ``ListsAfter`` (a listing from any key, for concurrent key ranges): S3.
# (*) The local-folder driver has the version and lifecycle methods, and every one but
# ``versioning_status`` (``None``: never enabled) raises NotSupported, so every
# front-end reports the same error.


@runtime_checkable
class HasIdentity(Protocol):
    """Says who signs the requests (S3, GCS)."""

    def caller_identity(self) -> Identity:
        """The principal behind the credentials: STS GetCallerIdentity on S3 (one request),
        the google-auth credentials on GCS (read locally).

        Raises:
            StorageError: the identity call failed (many S3-compatible stores have no STS
                and answer 501/404/403).
        """
        ...


@runtime_checkable
class Probes(Protocol):
    """Runs one S3 API call as a permission probe (S3; :mod:`pail.drivers.s3.probes`)."""

    def probe(
        self, operation: str, bucket: str, key: str = "", *, version_id: str | None = None
    ) -> dict[str, Any]:
        """Run the probe named by an S3 API ``operation`` (``GetBucketLocation``,
        ``ListObjectsV2``, ``PutObject``...) and return what it learnt (a small dict;
        see :func:`pail.drivers.s3.probes.probe`).

        Raises:
            ValueError: an operation the driver does not probe.
            StorageError: the call failed (AccessDenied when the action is denied).
        """
        ...


@runtime_checkable
class PermissionChecks(Protocol):
    """Asks the store which IAM permissions the caller holds (GCS
    ``buckets.testIamPermissions``, no side effects)."""

    def test_permissions(self, bucket: str, permissions: list[str]) -> list[str]:
        """The subset of ``permissions`` (``storage.objects.list``...) held on ``bucket``.

        Raises:
            StorageError: the call failed (a store without the method answers 400-501).
        """
        ...


@runtime_checkable
class ListsAfter(Protocol):
    """Starts a listing after any key, so one level can be listed as several key ranges
    at once (S3 ListObjectsV2 ``StartAfter``; ListObjects ``Marker``)."""

    def list_page_after(
        self,
        bucket: str,
        prefix: str,
        start_after: str,
        *,
        delimiter: str = "/",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """The first page of keys (and prefixes) under ``prefix`` that sort after
        ``start_after``; its ``next_token`` goes on as in :meth:`StorageDriver.list_page`.

        Raises:
            StorageError: as :meth:`StorageDriver.list_page`.
        """
        ...


@runtime_checkable
class PartSizes(Protocol):
    """Tells the sizes of a multipart object's parts, to check per-part ETags and
    checksums of a download (S3: HeadObject ``PartNumber``, GetObjectAttributes)."""

    def part_size(
        self, bucket: str, key: str, *, version_id: str | None = None, part_number: int = 1
    ) -> int | None:
        """Bytes in part ``part_number``; ``None`` for an object uploaded in one part.

        Raises:
            StorageError: the request failed (a store without part numbers answers 400).
        """
        ...

    def part_sizes(
        self, bucket: str, key: str, parts: int, *, version_id: str | None = None
    ) -> list[int]:
        """Every part's size in bytes, part 1 first.

        Raises:
            StorageError: a request failed, or a part has no size.
        """
        ...


# --- writes -------------------------------------------------------------------------------
#
# Uploads, server-side copies and their parts (issue 16). The transfer engine
# (:mod:`pail.services.transfer`) plans, reads the source, computes the checksums, runs
# parts in parallel and proves the result; a driver only speaks its store's requests.

#: Smallest part of a multipart upload but the last: 5 MiB (S3 API reference,
#: "Amazon S3 multipart upload limits").
MIN_PART_SIZE = 5 * 1024 * 1024
#: Most parts in one multipart upload (same page).
MAX_PARTS = 10_000
#: Largest object one CopyObject copies (5 GiB); above it, UploadPartCopy in parts.
MAX_COPY_OBJECT_SIZE = 5 * 1024**3


@dataclass(frozen=True)
class WriteOptions:
    """How an object is written, beyond its bytes.

    Attributes:
        content_type: MIME type stored with the object (``None``: the store's default).
        metadata: user metadata (S3 ``x-amz-meta-*``, GCS custom metadata), plain strings.
        storage_class: e.g. ``"STANDARD_IA"``, ``"NEARLINE"`` (``None``: the bucket's).
        checksum_algorithm: the additional checksum the store is asked to keep and check
            (S3 ``CRC64NVME``, ``CRC32C``, ``CRC32``, ``SHA1``, ``SHA256``); GCS always
            checks CRC32C (and MD5 for single requests) and ignores this; local ignores it.
        if_none_match: create only: the write fails with
            :class:`~pail.drivers.errors.PreconditionFailed` when the key exists (S3
            ``If-None-Match: *``, GCS ``ifGenerationMatch=0``, local exclusive create).
        extra: per-write store arguments over the connection's ``write_args``
            (``ServerSideEncryption``, ``SSEKMSKeyId``, ``ACL``; S3 parameter names).

    The connection's ``write_args`` (ZenML's ``s3_additional_kwargs``) are applied by the
    driver to every write; ``extra`` overrides them key by key.
    """

    content_type: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str | None = None
    checksum_algorithm: str | None = None
    if_none_match: bool = False
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WrittenObject:
    """What the store answered for a finished write (PutObject, CompleteMultipartUpload,
    CopyObject, GCS ``objects.insert``/``rewrite``, a local rename).

    Attributes:
        bucket, key: where the object now lives.
        size: bytes (as sent, or as the store reported).
        etag: entity tag without quotes (``None`` when the reply had none).
        version_id: S3 version id / GCS generation of the new object, if any.
        checksums: algorithm -> base64 value the store reported back (S3 ``ChecksumCRC64NVME``
            ...; GCS ``CRC32C``/``MD5``); may be empty: then the engine asks
            :meth:`StorageDriver.object_checksums`.
        checksum_type: ``FULL_OBJECT``, ``COMPOSITE`` or ``None``.
        encryption: server-side encryption applied (``AES256``, ``aws:kms``), if reported.
    """

    bucket: str
    key: str
    size: int
    etag: str | None = None
    version_id: str | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    encryption: str | None = None


@dataclass(frozen=True)
class UploadedPart:
    """One part the store accepted: ``number`` (1-based), ``size`` bytes, its ``etag``
    (unquoted; S3 part ETags are the part's MD5 unless encrypted) and the ``checksums``
    (algorithm -> base64) the store confirmed for it."""

    number: int
    size: int
    etag: str | None = None
    checksums: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class MultipartUpload(Protocol):
    """An object being written in parts (S3 CreateMultipartUpload ... Complete; a GCS
    resumable upload session; a local temporary file renamed at the end).

    Attributes:
        bucket, key, size: the object and its total size in bytes.
        token: a handle a later process can resume with (S3 ``UploadId``), or ``None``
            when the upload cannot outlive the process (a GCS session URI is a bearer
            capability: pail never writes it to a file).
        parallel: parts may be sent concurrently and in any order (S3, local); ``False``
            means in order, one at a time (GCS resumable uploads).
        part_alignment: every part but the last must be a multiple of this many bytes
            (GCS: 256 KiB; S3 and local: 1).
    """

    bucket: str
    key: str
    size: int
    token: str | None
    parallel: bool
    part_alignment: int

    def upload_part(
        self, number: int, data: bytes, *, checksums: dict[str, str] | None = None
    ) -> UploadedPart:
        """Send part ``number`` (1-based; offset = the sizes of the parts before it).
        ``checksums`` (algorithm -> base64 of ``data``: ``MD5`` becomes Content-MD5, the
        others ``x-amz-checksum-*``) are sent so the store checks what it received.

        Raises:
            ChecksumMismatch: the store refused the bytes. StorageError: the request failed.
        """
        ...

    def parts(self) -> list[UploadedPart]:
        """The parts the store already holds (S3 ListParts, every page), for a resume.

        Raises:
            NotFound: the upload is gone (completed, aborted, expired).
        """
        ...

    def complete(
        self, parts: Sequence[UploadedPart], *, checksums: dict[str, str] | None = None
    ) -> WrittenObject:
        """Join ``parts`` (in number order) into the object. ``checksums`` holds the
        whole object's checksum (S3 ``FULL_OBJECT`` CRC64NVME/CRC32C/CRC32), sent so
        the store checks the whole.

        Raises:
            ChecksumMismatch: the store's whole-object checksum differs.
            PreconditionFailed: a create-only upload whose key appeared meanwhile.
            StorageError: the request failed.
        """
        ...

    def abort(self) -> None:
        """Throw the parts away (S3 AbortMultipartUpload; GCS cancels the session; local
        removes the temporary file). Never raises for an upload already gone."""
        ...


@runtime_checkable
class Writable(Protocol):
    """Writes objects: every driver (S3, GCS, local folder)."""

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        options: WriteOptions | None = None,
        checksums: dict[str, str] | None = None,
    ) -> WrittenObject:
        """Write ``data`` as one object in one request (S3 PutObject, GCS
        ``objects.insert``, a local file written aside and renamed into place).
        ``checksums`` (algorithm -> base64 of ``data``, computed by the caller) travel
        with the request so the store checks what it received.

        Raises:
            ChecksumMismatch: the store refused the bytes.
            PreconditionFailed: ``options.if_none_match`` and the key exists.
            AccessDenied, StorageError: the request failed.
        """
        ...

    def start_upload(
        self,
        bucket: str,
        key: str,
        size: int,
        *,
        options: WriteOptions | None = None,
        part_size: int | None = None,
    ) -> MultipartUpload:
        """Begin writing ``size`` bytes in parts (see :class:`MultipartUpload`).
        ``part_size`` is the size of every part but the last, when the caller knows it
        (a local file places part N at ``(N-1) * part_size``; S3 and GCS ignore it).

        Raises:
            StorageError: the request failed (AccessDenied when writes are denied).
        """
        ...

    def resume_upload(
        self, bucket: str, key: str, size: int, token: str, *, options: WriteOptions | None = None
    ) -> MultipartUpload:
        """The upload ``token`` names (an S3 UploadId from an earlier process).

        Raises:
            NotFound: the upload no longer exists. NotSupported: the driver cannot resume.
        """
        ...

    def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        *,
        size: int,
        source_version_id: str | None = None,
        source_etag: str | None = None,
        options: WriteOptions | None = None,
        part_size: int | None = None,
    ) -> WrittenObject:
        """Copy an object inside this store without the bytes leaving it: S3 CopyObject
        up to :data:`MAX_COPY_OBJECT_SIZE` (or ``part_size`` when given, for tests), else
        CreateMultipartUpload + UploadPartCopy ranges of ``part_size`` bytes; GCS
        ``objects.rewrite``, repeated with its rewrite token until done; local: a file
        copy written aside and renamed. Metadata, content type and storage class are kept
        unless ``options`` sets them; the connection's ``write_args`` apply; with
        ``options.checksum_algorithm`` the store computes that checksum for the copy.
        ``source_etag`` pins the source (S3 ``x-amz-copy-source-if-match``).

        Raises:
            PreconditionFailed: the source changed, or ``if_none_match`` and the key exists.
            NotFound: the source is gone. StorageError: the request failed.
        """
        ...


def iter_pages(
    driver: StorageDriver,
    bucket: str,
    prefix: str = "",
    *,
    delimiter: str = "/",
    page_size: int = DEFAULT_PAGE_SIZE,
    prefetch: bool = False,
    first_page_size: int | None = None,
) -> Generator[Page, None, None]:
    """Yield every page of a listing.

    ``first_page_size`` (keys) asks for a smaller first page, so its rows come sooner
    (``pail ls``'s first line); later pages are ``page_size``. Continuation tokens do not
    depend on the page size (S3 ListObjectsV2 ``MaxKeys``, GCS ``maxResults``).

    Lazily by default: page 2 is only requested after page 1 is used. With ``prefetch``
    the next page is requested (on a daemon thread) as soon as a page's continuation token
    is known, so the store works on page N+1 while the caller uses page N: a listing then
    costs max(server, caller) per page instead of their sum. At most one request is ahead;
    a caller that stops early leaves that one to finish on its thread.

    Raises whatever :meth:`StorageDriver.list_page` raises, at the page that failed.
    """

    def fetch(token: str | None, size: int = page_size) -> Page:
        return driver.list_page(bucket, prefix, delimiter=delimiter, token=token, page_size=size)

    page = fetch(None, first_page_size or page_size)
    while True:
        ahead = _ahead(fetch, page.next_token) if prefetch and page.next_token else None
        yield page
        if page.next_token is None:
            return
        page = ahead.result() if ahead is not None else fetch(page.next_token)


def _ahead(fetch: Callable[[str | None], Page], token: str) -> Future[Page]:
    """``fetch(token)`` started on a daemon thread (never joined: quitting does not wait)."""
    future: Future[Page] = Future()

    def run() -> None:
        try:
            future.set_result(fetch(token))
        except BaseException as exc:  # handed to the caller at .result()
            future.set_exception(exc)

    threading.Thread(target=run, name="pail-page-ahead", daemon=True).start()
    return future


def iter_entries(
    driver: StorageDriver, bucket: str, prefix: str = "", *, delimiter: str = "/"
) -> Iterator[Entry]:
    """Yield every entry of a listing, page by page (see :func:`iter_pages`)."""
    for page in iter_pages(driver, bucket, prefix, delimiter=delimiter):
        yield from page.entries


#: Longest presigned URL lifetime: SigV4 query authentication allows 7 days (604,800 s),
#: and so do GCS V4 signed URLs.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600


def check_expiry(expires_in: int, *, operation: str, provider: str, bucket: str, key: str) -> int:
    """``expires_in`` as an int if it is within 1..:data:`MAX_PRESIGN_SECONDS` seconds.

    Raises:
        InvalidRequest: outside that range (code ``InvalidExpiry``).
    """
    from pail.drivers.errors import InvalidRequest

    if not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
        raise InvalidRequest(
            f"a URL can be valid for 1 to {MAX_PRESIGN_SECONDS} seconds (7 days), "
            f"not {expires_in!r}",
            operation=operation,
            provider=provider,
            bucket=bucket,
            key=key,
            code="InvalidExpiry",
        )
    return expires_in
