"""GCS writes for :class:`pail.drivers.gcs.GcsDriver` (issue 16): one-request uploads,
resumable upload sessions and server-side copies.

* :func:`put_object`: one ``storage.objects.insert`` multipart upload (JSON API
  ``uploadType=multipart``: the object resource and the bytes in one request), whatever the
  size (the SDK's ``upload_from_string`` switches to a resumable session above 8 MiB). The
  resource carries ``md5Hash`` and ``crc32c``, which Cloud Storage checks against the bytes
  it received and refuses with 400 when they differ (Cloud Storage docs, "Data validation
  and change detection"). The stored CRC32C/MD5 in the reply are compared with ours as
  well, for stores that do not check.
* :class:`GcsUpload`: a resumable upload session (``uploadType=resumable``, Cloud Storage
  docs "Perform resumable uploads"): parts in order, each a ``PUT`` with
  ``Content-Range``; the last one finalizes the object and carries ``X-Goog-Hash`` with the
  CRC32C of every byte sent (the stored MD5 is compared afterwards). The session URI is a
  bearer capability (anyone holding it can write the object): it lives only in this
  object's memory, never in a message, a log or a file, and is scrubbed from transport
  errors.
* :func:`copy_object`: ``storage.objects.rewrite`` repeated with its ``rewriteToken`` until
  ``done`` (one call may copy only part of a large object), the source pinned to one
  generation (``ifSourceGenerationMatch``).

Requests go through the client's authorized session (``client._http``, the
``google.auth.transport.requests.AuthorizedSession`` the SDK itself sends with) and the
upload base URL ``client._connection.API_BASE_URL`` (SDK internals, checked against
google-cloud-storage 3.17.1). Every request runs through the driver's ``_run`` (errors
translated, transient failures retried: the bytes are in memory, so a retry resends them).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from pail.drivers.base import UploadedPart, WriteOptions, WrittenObject
from pail.drivers.errors import (
    ChecksumMismatch,
    InvalidRequest,
    NotSupported,
    PreconditionFailed,
    StorageError,
)

if TYPE_CHECKING:
    from pail.drivers.gcs.driver import GcsDriver

T = TypeVar("T")

#: Every part of a resumable upload but the last is a multiple of 256 KiB (Cloud Storage
#: docs, "Perform resumable uploads": chunk sizes).
PART_ALIGNMENT = 256 * 1024

INSERT = "storage.objects.insert"
REWRITE = "storage.objects.rewrite"

#: Most ``objects.rewrite`` calls for one copy (each copies at least some bytes).
_MAX_REWRITE_CALLS = 10_000

_UPLOAD_ID = re.compile(r"(upload_id=)[^&\s'\"]+")


def crc32c_b64(data: bytes | memoryview, previous: int = 0) -> tuple[int, str]:
    """``(crc, base64)``: the CRC32C (Castagnoli) of ``data`` continuing ``previous``, and
    its big-endian base64 form as the JSON API gives ``crc32c``."""
    from awscrt import checksums as crt

    crc = crt.crc32c(bytes(data), previous)
    return crc, _crc_text(crc)


def _crc_text(crc: int) -> str:
    return base64.b64encode(crc.to_bytes(4, "big")).decode()


def _md5_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _resource(key: str, options: WriteOptions | None) -> dict[str, Any]:
    """The object resource of an insert: name, content type, metadata, storage class.

    Raises:
        InvalidRequest: a content type that is not printable ASCII.
    """
    resource: dict[str, Any] = {"name": key}
    if options is not None:
        content_type = options.content_type or ""
        if not all(" " <= c <= "~" for c in content_type):
            # It goes in a header (and a part header of the multipart body): no line
            # breaks or other control characters (RFC 9110 field values).
            raise InvalidRequest(
                "the content type holds characters a header cannot carry",
                operation=INSERT,
                provider="gcs",
                key=key,
                code="InvalidContentType",
            )
        if options.content_type:
            resource["contentType"] = options.content_type
        if options.metadata:
            resource["metadata"] = dict(options.metadata)
        if options.storage_class:
            resource["storageClass"] = options.storage_class
    return resource


def _refuse_extra(options: WriteOptions | None, operation: str, bucket: str, key: str) -> None:
    """Fail closed on S3 write arguments (``options.extra``: ``ServerSideEncryption``,
    ``ACL``...): GCS has no such request fields, and silently writing without the
    encryption or ACL asked for is worse than not writing.

    Raises:
        NotSupported: ``options.extra`` is not empty.
    """
    if options is not None and options.extra:
        from pail.core.text import one_line

        names = one_line(", ".join(sorted(options.extra)))
        raise NotSupported(
            f"GCS takes no S3 write arguments ({names}): nothing was written",
            operation=operation,
            provider="gcs",
            bucket=bucket,
            key=key,
            code="NotSupported",
        )


def _upload_url(client: Any, bucket: str, upload_type: str, options: WriteOptions | None) -> str:
    base = str(client._connection.API_BASE_URL).rstrip("/")
    params = {"uploadType": upload_type}
    if options is not None and options.if_none_match:
        params["ifGenerationMatch"] = "0"  # create only (JSON API preconditions)
    return f"{base}/upload/storage/v1/b/{quote(bucket, safe='')}/o?{urlencode(params)}"


def _raise_for(response: Any, what: str) -> None:
    """Raise the google-api-core exception for an error ``response`` (translated by the
    driver's ``_call``), its message the server's without the request URL."""
    from google.api_core import exceptions as gx

    if response.status_code < 400:
        return
    errors: list[Any] = []
    message = f"{what}: HTTP {response.status_code}"
    try:
        payload = response.json()
        error = payload.get("error", {}) if isinstance(payload, dict) else {}
        if isinstance(error, dict):
            errors = [e for e in error.get("errors", []) if isinstance(e, dict)]
            message = str(error.get("message") or message)
    except ValueError:
        text = (response.text or "").strip()
        if text and "<" not in text[:1]:
            message = text.splitlines()[0][:200]
    raise gx.from_http_status(response.status_code, message, errors=errors, response=response)


def _written(bucket: str, key: str, resource: dict[str, Any]) -> WrittenObject:
    """A WrittenObject from an object resource (JSON API ``storage#object``)."""
    checksums = {
        alg: str(resource[field])
        for alg, field in (("CRC32C", "crc32c"), ("MD5", "md5Hash"))
        if resource.get(field)
    }
    generation = resource.get("generation")
    return WrittenObject(
        bucket=bucket,
        key=key,
        size=int(resource.get("size") or 0),
        etag=resource.get("etag"),
        version_id=str(generation) if generation is not None else None,
        checksums=checksums,
        checksum_type="FULL_OBJECT" if checksums else None,
    )


def _mismatch(bucket: str, key: str, operation: str, message: str) -> ChecksumMismatch:
    return ChecksumMismatch(
        message,
        operation=operation,
        provider="gcs",
        bucket=bucket,
        key=key,
        code="ChecksumMismatch",
    )


def _check_stored(
    written: WrittenObject, expected: dict[str, str], operation: str, *, after: str
) -> None:
    """Raise ChecksumMismatch when a checksum the store reports differs from ours (a store
    that did not check what it received, or bytes changed on the way)."""
    for alg, value in expected.items():
        stored = written.checksums.get(alg)
        if stored is not None and stored != value:
            raise _mismatch(
                written.bucket,
                written.key,
                operation,
                f"the object was written {after}, but the store's {alg} {stored} differs "
                f"from {value}: the object is not accepted as written",
            )


def put_object(
    driver: GcsDriver,
    bucket: str,
    key: str,
    data: bytes,
    options: WriteOptions | None,
    checksums: dict[str, str] | None,
) -> WrittenObject:
    """One ``storage.objects.insert`` (multipart upload) of ``data``; see the module doc.

    ``checksums["CRC32C"]`` / ``["MD5"]`` (base64, the caller's, of the source bytes) are
    sent as the resource's ``crc32c`` / ``md5Hash``; missing ones are computed on ``data``.
    Other algorithms cannot be checked by GCS and are not sent.

    Raises:
        ChecksumMismatch: the store refused the bytes (400), or reports other checksums.
        PreconditionFailed: ``options.if_none_match`` and the key exists (412).
        NotSupported: ``options.extra`` (S3 write arguments) is not empty.
        AccessDenied / StorageError: translated by the driver (operation
            ``storage.objects.insert``).
    """
    _refuse_extra(options, INSERT, bucket, key)
    given = {k.upper(): v for k, v in (checksums or {}).items()}
    expected = {
        "CRC32C": given.get("CRC32C") or crc32c_b64(data)[1],
        "MD5": given.get("MD5") or _md5_b64(data),
    }
    resource = _resource(key, options)
    resource["crc32c"] = expected["CRC32C"]
    resource["md5Hash"] = expected["MD5"]
    boundary = f"pail-{uuid.uuid4().hex}"
    content_type = (options.content_type if options else None) or "application/octet-stream"
    head = (
        f"--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
        f"{json.dumps(resource)}\r\n--{boundary}\r\nContent-Type: {content_type}\r\n\r\n"
    ).encode()
    body = b"".join([head, data, f"\r\n--{boundary}--\r\n".encode()])
    headers = {"Content-Type": f'multipart/related; boundary="{boundary}"'}
    attempts = 0

    def call() -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        client = driver._client()
        url = _upload_url(client, bucket, "multipart", options)
        response = client._http.request(
            "POST", url, data=body, headers=headers, timeout=driver._timeout
        )
        _raise_for(response, "upload refused")
        return dict(response.json())

    try:
        reply = driver._run(INSERT, bucket, key, call)
    except PreconditionFailed:
        # A retried create-only insert whose first attempt landed but whose answer was
        # lost meets its own object: accept it only when the stored bytes are provably ours.
        if attempts < 2:
            raise
        written = _current(driver, bucket, key)
        if written is None or any(written.checksums.get(a) != v for a, v in expected.items()):
            raise
        return written
    written = _written(bucket, key, reply)
    _check_stored(written, expected, INSERT, after="(one request)")
    return written


def _current(driver: GcsDriver, bucket: str, key: str) -> WrittenObject | None:
    """The live object as a WrittenObject, or ``None`` when it cannot be read."""
    try:
        blob = driver._reload(bucket, key, None)
    except StorageError:
        return None
    return _written(bucket, key, dict(blob._properties))


class GcsUpload:
    """A resumable upload session (:class:`pail.drivers.base.MultipartUpload`).

    Parts go in order, one at a time (``parallel`` is ``False``), every part but the last
    a multiple of :data:`PART_ALIGNMENT` bytes; the last part finalizes the object (it
    exists from then on) and :meth:`complete` returns it. ``token`` is ``None``: the session
    URI is a bearer capability pail never hands out, so an upload cannot be resumed by
    another process. ``parts()`` is this process's record.
    """

    parallel = False
    part_alignment = PART_ALIGNMENT
    token: str | None = None

    def __init__(self, driver: GcsDriver, bucket: str, key: str, size: int, session: str) -> None:
        self.bucket = bucket
        self.key = key
        self.size = size
        self._driver = driver
        self.__session: str | None = session  # never logged, shown or written
        self._offset = 0
        self._crc = 0
        self._md5 = hashlib.md5()
        self._parts: list[UploadedPart] = []
        self._final: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"GcsUpload(bucket={self.bucket!r}, key={self.key!r}, size={self.size})"

    def _invalid(self, message: str, operation: str = INSERT) -> InvalidRequest:
        return InvalidRequest(
            message,
            operation=operation,
            provider="gcs",
            bucket=self.bucket,
            key=self.key,
            code="InvalidPart",
        )

    def _put(self, body: bytes, content_range: str, headers: dict[str, str]) -> Any:
        """One PUT to the session; transport errors are re-raised with the session's
        ``upload_id`` scrubbed from their text."""
        import requests

        session = self.__session
        if session is None:
            raise self._invalid("the upload is already completed or aborted")
        client = self._driver._client()
        try:
            return client._http.request(
                "PUT",
                session,
                data=body,
                headers={"Content-Range": content_range, **headers},
                timeout=self._driver._timeout,
            )
        except requests.RequestException as exc:
            raise type(exc)(_UPLOAD_ID.sub(r"\1<redacted>", str(exc))) from None

    def _persisted(self, response: Any) -> int:
        """Bytes the server holds after a 308 answer (its ``Range: bytes=0-N``)."""
        match = re.fullmatch(r"bytes=0-(\d+)", (response.headers.get("Range") or "").strip())
        return int(match.group(1)) + 1 if match else 0

    def _status(self) -> tuple[int, dict[str, Any] | None]:
        """Ask the session how far it got (``Content-Range: bytes */size``): ``(bytes
        persisted, the object resource when already finalized)``."""
        response = self._put(b"", f"bytes */{self.size}", {})
        if response.status_code in (200, 201):
            return self.size, dict(response.json())
        if response.status_code == 308:
            return self._persisted(response), None
        _raise_for(response, "the upload session answered")
        raise self._invalid(f"unexpected answer HTTP {response.status_code}")  # pragma: no cover

    def upload_part(
        self, number: int, data: bytes, *, checksums: dict[str, str] | None = None
    ) -> UploadedPart:
        """Send part ``number`` (the next one in order) at the session's offset.

        GCS takes no checksum per chunk: ``checksums`` are not sent; the whole object's
        CRC32C of every byte sent goes with the last part (``X-Goog-Hash``), and
        :meth:`complete` compares the stored CRC32C and MD5 with those of the bytes sent.
        A transient failure is retried from the offset the session reports (a status
        query first), as the resumable protocol prescribes.

        Raises:
            InvalidRequest: out of order, a part not aligned, past the end, or the upload is
                finished. NotFound: the session expired. StorageError: the request failed.
        """
        if self._final is not None or self.__session is None:
            raise self._invalid("the upload is already completed or aborted")
        if number != len(self._parts) + 1:
            raise self._invalid(f"GCS parts go in order: expected part {len(self._parts) + 1}")
        start = self._offset
        end = start + len(data)
        last = end == self.size
        if end > self.size:
            raise self._invalid(f"part {number} goes past the object's {self.size} bytes")
        if not last and (not data or len(data) % PART_ALIGNMENT):
            raise self._invalid(
                f"part {number} has {len(data)} bytes: every part but the last must be a "
                f"multiple of {PART_ALIGNMENT} bytes"
            )
        crc, crc_text = crc32c_b64(data, self._crc)
        md5 = self._md5.copy()
        md5.update(data)
        extra = {}
        if last:
            # The whole object's CRC32C, checked by the store when it finalizes (Cloud
            # Storage docs, "Data validation and change detection": CRC32C is the check for
            # data sent in chunks; the MD5 is compared by complete()).
            extra["X-Goog-Hash"] = f"crc32c={crc_text}"
        tries = 0

        def call() -> dict[str, Any] | None:
            nonlocal tries
            tries += 1
            pos = start
            if tries > 1:  # after a failure: where did the session get to?
                pos, final = self._status()
                if final is not None:
                    return final
                if pos < start or pos > end:
                    raise self._invalid(
                        f"the session holds {pos} bytes, not {start}: it cannot be continued"
                    )
            while True:
                if self.size == 0:
                    content_range = "bytes */0"
                elif pos == end:  # nothing left of this part: ask
                    pos, final = self._status()
                    if final is not None or pos == end:
                        return final
                    raise self._invalid("the session lost bytes of this part")
                else:
                    content_range = f"bytes {pos}-{end - 1}/{self.size}"
                response = self._put(data[pos - start :], content_range, extra if last else {})
                if response.status_code in (200, 201):
                    return dict(response.json())
                if response.status_code != 308:
                    _raise_for(response, "the upload session refused the part")
                persisted = self._persisted(response)
                if persisted <= pos and persisted < end:
                    raise self._invalid("the session took none of the bytes sent")
                if persisted >= end:
                    return None
                pos = persisted  # the server may keep fewer bytes than sent: send the rest

        final = _session_run(self._driver, self.bucket, self.key, call)
        if last and final is None:
            raise self._invalid("the session did not finalize the object after its last part")
        self._crc, self._md5, self._offset = crc, md5, end
        part = UploadedPart(number, len(data))
        self._parts.append(part)
        if final is not None:
            self._final = final
            self.__session = None  # finished: nothing left to protect or cancel
        return part

    def parts(self) -> list[UploadedPart]:
        """The parts sent by this process, in order."""
        return list(self._parts)

    def complete(
        self, parts: Sequence[UploadedPart], *, checksums: dict[str, str] | None = None
    ) -> WrittenObject:
        """The finished object, read again (``storage.objects.get`` of the generation the
        last part created): its size, generation, CRC32C and MD5. Checks the stored CRC32C
        (and MD5 when the store keeps one) against every byte sent, and against the whole
        object's ``checksums["CRC32C"]`` / ``["MD5"]`` the caller computed on the source.

        Raises:
            InvalidRequest: the last part was not sent, or ``parts`` are not the parts sent.
            ChecksumMismatch: a stored checksum differs (the object exists: it was
                finalized by the last part, and is not accepted as written).
            StorageError: the read failed.
        """
        if self._final is None:
            raise self._invalid("the last part has not been sent: the object is not finished")
        if [p.number for p in parts] != [p.number for p in self._parts]:
            raise self._invalid("the parts given are not the parts sent")
        generation = self._final.get("generation")
        blob = self._driver._reload(
            self.bucket, self.key, str(generation) if generation is not None else None
        )
        written = _written(self.bucket, self.key, dict(blob._properties))
        if written.size != self.size:
            raise _mismatch(
                self.bucket,
                self.key,
                INSERT,
                f"the store holds {written.size} bytes, not the {self.size} sent",
            )
        sent = {
            "CRC32C": _crc_text(self._crc),
            "MD5": base64.b64encode(self._md5.digest()).decode(),
        }
        _check_stored(written, sent, INSERT, after="(its last part finalized it)")
        given = {k.upper(): v for k, v in (checksums or {}).items() if k.upper() in sent}
        for alg, value in given.items():
            if sent[alg] != value:
                raise _mismatch(
                    self.bucket,
                    self.key,
                    INSERT,
                    f"the bytes sent have {alg} {sent[alg]}, the source {value}: the object "
                    "was written (its last part finalized it) but is not accepted as written",
                )
        _check_stored(written, given, INSERT, after="(its last part finalized it)")
        return written

    def abort(self) -> None:
        """Cancel the session (``DELETE`` on it; Cloud Storage answers 499). Does nothing
        after the last part (the object exists then) or a second time; never raises."""
        session, self.__session = self.__session, None
        if session is None or self._final is not None:
            return
        # Best effort: an abandoned session expires by itself (after a week on GCS).
        with contextlib.suppress(Exception):
            client = self._driver._client()
            client._http.request("DELETE", session, timeout=self._driver._timeout)


def start_upload(
    driver: GcsDriver, bucket: str, key: str, size: int, options: WriteOptions | None
) -> GcsUpload:
    """Open a resumable upload session for ``size`` bytes (``uploadType=resumable``): the
    object resource (content type, metadata, storage class) and the create-only condition
    (``ifGenerationMatch=0``) go with this first request.

    Raises:
        InvalidRequest: a negative size. NotSupported: ``options.extra`` is not empty.
        AccessDenied / StorageError: translated (operation
            ``storage.objects.insert``).
    """
    if size < 0:
        raise InvalidRequest(
            "an object's size cannot be negative",
            operation=INSERT,
            provider="gcs",
            bucket=bucket,
            key=key,
        )
    _refuse_extra(options, INSERT, bucket, key)
    resource = _resource(key, options)
    headers = {
        "Content-Type": "application/json; charset=UTF-8",
        "X-Upload-Content-Length": str(size),
    }
    if options is not None and options.content_type:
        headers["X-Upload-Content-Type"] = options.content_type

    def call() -> str:
        client = driver._client()
        url = _upload_url(client, bucket, "resumable", options)
        response = client._http.request(
            "POST", url, data=json.dumps(resource), headers=headers, timeout=driver._timeout
        )
        _raise_for(response, "the upload session was refused")
        location = response.headers.get("Location")
        if not location:
            raise InvalidRequest(
                "the store opened no upload session (no Location header)",
                operation=INSERT,
                provider="gcs",
                bucket=bucket,
                key=key,
                code="NoUploadSession",
            )
        return str(location)

    session = _session_run(driver, bucket, key, call)
    return GcsUpload(driver, bucket, key, size, session)


def _session_run(driver: GcsDriver, bucket: str, key: str, fn: Callable[[], T]) -> T:
    """``driver._run`` for a request of a resumable session, whose errors keep no request
    id: GCS's ``X-GUploader-UploadID`` answer header is the session's ``upload_id``, the
    bearer capability itself, which must not reach a message."""
    try:
        return driver._run(INSERT, bucket, key, fn)
    except StorageError as exc:
        exc.request_id = None
        raise


def resume_upload(bucket: str) -> NotSupported:
    """The error for resuming: the session URI is never written down (``token`` is
    ``None``), so no other process can continue it."""
    return NotSupported(
        "GCS uploads cannot be resumed by another process: pail never writes the upload "
        "session (a bearer capability) down",
        operation=INSERT,
        provider="gcs",
        bucket=bucket,
        code="NotSupported",
    )


#: Object resource fields a rewrite keeps from the source when pail sends a resource
#: (a rewrite's request body replaces the source's metadata as a whole).
_KEPT_FIELDS = (
    "contentType",
    "contentEncoding",
    "contentDisposition",
    "contentLanguage",
    "cacheControl",
    "metadata",
    "customTime",
)


def copy_object(
    driver: GcsDriver,
    source_bucket: str,
    source_key: str,
    bucket: str,
    key: str,
    *,
    size: int,
    source_version_id: str | None,
    source_etag: str | None,
    options: WriteOptions | None,
) -> WrittenObject:
    """``storage.objects.rewrite`` until done (see the module doc). The source is read
    first (``storage.objects.get``, at ``source_version_id`` when given) to check its size
    and ``source_etag`` and to pin its generation on every rewrite call
    (``ifSourceGenerationMatch``). Metadata and content headers are the source's (the
    rewrite copies them when no resource is sent); when ``options`` sets a content type,
    metadata or storage class, the resource sent is the source's fields with those
    replaced. ``if_none_match`` -> ``ifGenerationMatch=0``.

    Raises:
        PreconditionFailed: the source's size or ETag differs from the one given, it
            changed during the copy, or ``if_none_match`` and the key exists.
        NotFound: the source is gone. NotSupported: ``options.extra`` is not empty.
        StorageError: translated (``storage.objects.rewrite``).
    """
    _refuse_extra(options, REWRITE, bucket, key)
    source = driver._reload(source_bucket, source_key, source_version_id)
    if int(source.size or 0) != size or (source_etag is not None and source.etag != source_etag):
        raise PreconditionFailed(
            "the source object is not the one planned (its size or ETag changed)",
            operation=REWRITE,
            provider="gcs",
            bucket=source_bucket,
            key=source_key,
            status=412,
            code="conditionNotMet",
        )
    generation = source.generation
    changes: dict[str, Any] = {}
    if options is not None and (options.content_type or options.metadata or options.storage_class):
        props = source._properties
        changes = {f: props[f] for f in _KEPT_FIELDS if props.get(f) is not None}
        changes.update({k: v for k, v in _resource(key, options).items() if k != "name"})

    def rewrite_once(token: str | None) -> Callable[[], tuple[str | None, int, int]]:
        def call() -> tuple[str | None, int, int]:
            client = driver._client()
            src = client.bucket(source_bucket).blob(source_key, generation=generation)
            dst = client.bucket(bucket).blob(key)
            for name, value in changes.items():
                dst._patch_property(name, value)
            result = dst.rewrite(
                src,
                token=token,
                if_generation_match=0 if options is not None and options.if_none_match else None,
                if_source_generation_match=generation,
                timeout=driver._timeout,
                retry=None,
            )
            holder["blob"] = dst
            return result

        return call

    holder: dict[str, Any] = {}
    token: str | None = None
    for _ in range(_MAX_REWRITE_CALLS):
        token, _done, _total = driver._run(REWRITE, bucket, key, rewrite_once(token))
        if token is None:
            break
    else:  # pragma: no cover - a store that never finishes
        raise StorageError(
            f"the rewrite did not finish in {_MAX_REWRITE_CALLS} calls",
            operation=REWRITE,
            provider="gcs",
            bucket=bucket,
            key=key,
        )
    written = _written(bucket, key, dict(holder["blob"]._properties))
    source_sums = {
        alg: value for alg, value in (("CRC32C", source.crc32c), ("MD5", source.md5_hash)) if value
    }
    _check_stored(written, source_sums, REWRITE, after="(a server-side copy)")
    return written
