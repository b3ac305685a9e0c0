"""google-cloud-storage, google-auth and requests exceptions -> :mod:`pail.drivers.errors`.

``google.api_core.exceptions.GoogleAPICallError`` carries the HTTP status (``code``), the
JSON API error list (``errors``: ``reason``, ``message``) and the response. google-auth
raises ``DefaultCredentialsError`` (none found), ``RefreshError`` (rejected or expired) and
``TransportError``; requests raises ``ConnectionError``/``Timeout`` when nothing answers.

Answers that are not the JSON API's: an HTML page on an error status (a web server or
proxy answering in the API's place) leaves as
:class:`~pail.drivers.errors.NotStorageEndpoint` (or :class:`~pail.drivers.errors.Transient`
for 500/502/503/504, still retried), and a 2xx body that is not JSON (``JSONDecodeError``)
as :class:`~pail.drivers.errors.NotStorageEndpoint`, or
:class:`~pail.drivers.errors.BadResponse` when it is JSON cut short. A plain-text error
body keeps its status's class (fake-gcs-server answers a missing object's media download
with a plain-text 404), shown as one line. No HTML is ever copied into a message.

A body that breaks while it is read (``ChunkedEncodingError``, a reset, a stall) is
:class:`~pail.drivers.errors.StreamInterrupted`; :func:`translate_stream` is the transfer
engine's entry for failures around body reads.

Importing this module imports none of those libraries; :func:`translate` does.
"""

from __future__ import annotations

import http
import json
import re
from typing import Any

from pail.drivers.errors import (
    AccessDenied,
    BadResponse,
    ChecksumMismatch,
    EndpointUnreachable,
    ExpiredCredentials,
    InvalidCredentials,
    InvalidRequest,
    NoCredentials,
    NotFound,
    NotStorageEndpoint,
    PreconditionFailed,
    ServerError,
    StorageError,
    StreamInterrupted,
    Throttled,
    Transient,
    answer_kind,
    describe_answer,
)
from pail.drivers.retry import RETRYABLE_STATUSES

# api_core prefixes messages with "GET https://...: "; the endpoint is a separate field.
_METHOD_URL = re.compile(r"^[A-Z]+ \S+: ")

#: A 400's message when an upload's bytes do not match the MD5 / CRC32C sent with them
#: (Cloud Storage: "Provided MD5 hash ... doesn't match calculated MD5 hash ...";
#: gcp-storage-emulator words it the same way).
_CHECKSUM_REFUSED = re.compile(
    r"(md5|crc32c)[^.]*(doesn't|does not|didn't|did not) match", re.IGNORECASE
)


def _class_for_status(status: int | None) -> type[StorageError]:
    if status == 401:
        return InvalidCredentials
    if status == 403:
        return AccessDenied
    if status == 404:
        return NotFound
    if status == 412:  # ifGenerationMatch / ifSourceGenerationMatch not met
        return PreconditionFailed
    if status == 429:
        return Throttled
    if status in RETRYABLE_STATUSES:  # 408, 500, 502, 503, 504 (429 above)
        return Transient
    if status is not None and status >= 500:  # 501, 505...: asking again changes nothing
        return ServerError
    if status in (400, 416):
        return InvalidRequest
    return StorageError


def translate(
    exc: BaseException,
    *,
    operation: str,
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
) -> StorageError | None:
    """The :class:`StorageError` for a google-cloud-storage / google-auth / requests
    exception, or ``None`` for anything else.

    ``operation`` is the JSON API method id (``storage.objects.list``...). A
    ``RetryError`` is unwrapped to its last cause. ``code`` is the JSON API ``reason``
    (``forbidden``, ``notFound``); ``request_id`` the ``X-GUploader-UploadID`` header.
    """
    import requests
    from google.api_core import exceptions as gx
    from google.auth import exceptions as ax

    if isinstance(exc, gx.RetryError) and exc.cause is not None:
        exc = exc.cause
    fields: dict[str, Any] = {
        "operation": operation,
        "provider": "gcs",
        "bucket": bucket,
        "key": key,
        "endpoint": endpoint,
    }
    if isinstance(exc, gx.GoogleAPICallError):
        status = int(exc.code) if isinstance(exc.code, int) else None
        errors = [e for e in (exc.errors or []) if isinstance(e, dict)]
        foreign = None if errors else _foreign_error(exc, status, fields)
        if foreign is not None:
            return foreign
        code = errors[0].get("reason") if errors else None
        message = _api_message(exc, errors, status)
        # A bodiless 404 (gcp-storage-emulator), a plain-text one or the reason "Not Found"
        # (fake-gcs-server): the JSON API's one reason for 404 is "notFound".
        if status == 404 and (not errors or code == "Not Found"):
            code = "notFound"
            message = message.splitlines()[0].strip() if message.strip() else "Not Found"
            if operation in ("storage.objects.list", "storage.buckets.get"):
                message = "The specified bucket does not exist."
        if status == 400 and _CHECKSUM_REFUSED.search(message):
            # "Provided CRC32C \"...\" doesn't match calculated CRC32C \"...\"." (reason
            # "invalid"): the bytes did not match the hashes sent with them.
            return ChecksumMismatch(message, status=status, code="ChecksumMismatch", **fields)
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        request_id = headers.get("x-guploader-uploadid") or headers.get("x-goog-request-id")
        return _class_for_status(status)(
            message, status=status, code=code, request_id=request_id, **fields
        )
    name = type(exc).__name__
    if isinstance(exc, ax.InvalidOperation):  # a 401 with anonymous credentials
        return InvalidCredentials(str(exc), code=name, **fields)
    if isinstance(exc, ax.DefaultCredentialsError):
        return NoCredentials(str(exc), code=name, **fields)
    if isinstance(exc, ax.RefreshError):
        text = str(exc)
        expired = "expired" in text.lower() or "invalid_grant" in text
        cls = ExpiredCredentials if expired else InvalidCredentials
        return cls(text, code=name, **fields)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):  # dropped mid-body
        return StreamInterrupted(str(exc), code="StreamInterrupted", **fields)
    if isinstance(exc, (ax.TransportError, requests.ConnectionError, requests.Timeout)):
        return EndpointUnreachable(str(exc), code=name, **fields)
    if isinstance(exc, ax.GoogleAuthError):
        return InvalidCredentials(str(exc), code=name, **fields)
    if isinstance(exc, json.JSONDecodeError):  # requests' JSONDecodeError derives from it
        return _not_json(exc, fields)
    if isinstance(exc, ValueError):  # the SDK's own checks, e.g. of bucket names
        return InvalidRequest(str(exc), **fields)
    return None


def _foreign_message(status: int | None, kind: str, content_type: str | None) -> str:
    what = describe_answer(kind, content_type)
    answered = f"HTTP {status}" if status else "a 2xx status"
    return (
        f"the endpoint answered {answered} with {what}, not GCS JSON: is this the GCS API's "
        "URL and port?"
    )


def _foreign_error(exc: Any, status: int | None, fields: dict[str, Any]) -> StorageError | None:
    """The error for an error answer whose body is an HTML page (see the module doc), or
    ``None`` when the body is JSON, empty or plain text (translated by status as usual)."""
    response = getattr(exc, "response", None)
    body = getattr(response, "content", None)
    if not isinstance(body, bytes) or answer_kind(body) != "html":
        return None
    headers = getattr(response, "headers", None) or {}
    content_type = headers.get("content-type")
    cls = _class_for_status(status)
    if not issubclass(cls, Transient):
        cls = NotStorageEndpoint
    error = cls(
        _foreign_message(status, "html", content_type),
        status=status,
        code=None if cls is not NotStorageEndpoint else "NotGCS",
        **fields,
    )
    error.content_type = content_type
    return error


def _not_json(exc: json.JSONDecodeError, fields: dict[str, Any]) -> StorageError:
    """A 2xx JSON API answer that did not parse: another format altogether
    (:class:`NotStorageEndpoint`), or JSON cut short or malformed (:class:`BadResponse`)."""
    kind = answer_kind(exc.doc if isinstance(exc.doc, str) else "")
    if kind == "json":
        return BadResponse(
            f"the endpoint's answer is not a whole JSON document: {exc.msg} at character {exc.pos}",
            code="BadResponse",
            **fields,
        )
    return NotStorageEndpoint(_foreign_message(None, kind, None), code="NotGCS", **fields)


def translate_stream(
    exc: BaseException,
    *,
    operation: str = "storage.objects.get",
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
    read_timeout: float | None = None,
) -> StorageError | None:
    """The error for a failure while a media body was being read, or ``None`` when
    ``exc`` is nothing known (re-raise it). A :class:`StorageError` is returned as it is.

    * a stall (urllib3 ``ReadTimeoutError``, alone or wrapped by requests, ``TimeoutError``)
      -> :class:`StreamInterrupted` with code ``ReadTimeout``;
    * a reset or short body (requests ``ChunkedEncodingError``/``ConnectionError``, urllib3
      ``ProtocolError``, ``http.client.IncompleteRead``, ``ConnectionError``)
      -> :class:`StreamInterrupted` with code ``StreamInterrupted``;
    * anything else goes to :func:`translate`.

    ``read_timeout`` (seconds) is named in a stall's message when given.
    """
    import http.client

    import requests
    from urllib3 import exceptions as ux

    if isinstance(exc, StorageError):
        return exc
    fields: dict[str, Any] = {
        "operation": operation,
        "provider": "gcs",
        "bucket": bucket,
        "key": key,
        "endpoint": endpoint,
    }
    where = endpoint or "the store"
    causes = [exc, *(a for a in getattr(exc, "args", ()) if isinstance(a, BaseException))]
    if any(isinstance(c, (ux.ReadTimeoutError, TimeoutError)) for c in causes) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        within = f"within {read_timeout:g} s" if read_timeout else "within the read timeout"
        message = f"no data arrived from {where} {within}: the body stalled before its end"
        return StreamInterrupted(message, code="ReadTimeout", **fields)
    broken = (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ConnectionError,
        ux.ProtocolError,
        http.client.IncompleteRead,
        ConnectionError,
    )
    if isinstance(exc, broken):
        message = f"the connection to {where} broke before the body ended: {exc}"
        return StreamInterrupted(message, code="StreamInterrupted", **fields)
    return translate(exc, operation=operation, bucket=bucket, key=key, endpoint=endpoint)


def _api_message(exc: Any, errors: list[dict[str, Any]], status: int | None) -> str:
    """The server's message, or the HTTP reason phrase when the body said nothing."""
    if errors and errors[0].get("message"):
        return str(errors[0]["message"])
    text = _METHOD_URL.sub("", str(getattr(exc, "message", "") or ""))
    if text and not text.startswith("(") and text != "unknown error":
        return text.strip().splitlines()[0][:200] if text.strip() else text  # a text body
    try:
        return http.HTTPStatus(status).phrase if status else str(exc)
    except ValueError:
        return str(exc)
