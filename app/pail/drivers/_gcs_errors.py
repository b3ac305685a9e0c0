"""google-cloud-storage, google-auth and requests exceptions -> :mod:`pail.drivers.errors`.

``google.api_core.exceptions.GoogleAPICallError`` carries the HTTP status (``code``), the
JSON API error list (``errors``: ``reason``, ``message``) and the response. google-auth
raises ``DefaultCredentialsError`` (none found), ``RefreshError`` (rejected or expired) and
``TransportError``; requests raises ``ConnectionError``/``Timeout`` when nothing answers.

Importing this module imports none of those libraries; :func:`translate` does.
"""

from __future__ import annotations

import http
import re
from typing import Any

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    ExpiredCredentials,
    InvalidCredentials,
    InvalidRequest,
    NoCredentials,
    NotFound,
    StorageError,
    Throttled,
    Transient,
)

# api_core prefixes messages with "GET https://...: "; the endpoint is a separate field.
_METHOD_URL = re.compile(r"^[A-Z]+ \S+: ")


def _class_for_status(status: int | None) -> type[StorageError]:
    if status == 401:
        return InvalidCredentials
    if status == 403:
        return AccessDenied
    if status == 404:
        return NotFound
    if status == 429:
        return Throttled
    if status in (408,) or (status is not None and status >= 500):
        return Transient
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
        code = errors[0].get("reason") if errors else None
        message = _api_message(exc, errors, status)
        if status == 404 and not errors:  # a bodiless 404 (the emulator)
            code = "notFound"  # the JSON API's one reason for 404
            if operation in ("storage.objects.list", "storage.buckets.get"):
                message = "The specified bucket does not exist."
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
    if isinstance(exc, (ax.TransportError, requests.ConnectionError, requests.Timeout)):
        return EndpointUnreachable(str(exc), code=name, **fields)
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):  # dropped mid-body
        return Transient(str(exc), code=name, **fields)
    if isinstance(exc, ax.GoogleAuthError):
        return InvalidCredentials(str(exc), code=name, **fields)
    if isinstance(exc, ValueError):  # the SDK's own checks, e.g. of bucket names
        return InvalidRequest(str(exc), **fields)
    return None


def _api_message(exc: Any, errors: list[dict[str, Any]], status: int | None) -> str:
    """The server's message, or the HTTP reason phrase when the body said nothing."""
    if errors and errors[0].get("message"):
        return str(errors[0]["message"])
    text = _METHOD_URL.sub("", str(getattr(exc, "message", "") or ""))
    if text and not text.startswith("(") and text != "unknown error":
        return text
    try:
        return http.HTTPStatus(status).phrase if status else str(exc)
    except ValueError:
        return str(exc)
