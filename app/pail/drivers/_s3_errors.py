"""botocore exceptions -> :mod:`pail.drivers.errors`, for the S3 driver.

``ClientError`` carries the parsed S3 error document (``Error.Code``/``Message``/``Region``)
and the response metadata (status, headers, request id). HEAD responses have no body, so
for them botocore's code is the bare status ("404"); the status and the
``x-amz-bucket-region`` header are all there is to go on. Other botocore exceptions
(``BotoCoreError``) mean no usable HTTP response: credentials missing, connection refused,
timeouts, invalid parameters.

Importing this module does not import botocore; :func:`translate` does.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
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
    WrongRegion,
)

# Error code -> class, from the S3 API reference ("List of error codes"). InvalidObjectState
# (403 on an archived object) is no permission problem, so it stays a plain StorageError.
_CODES: dict[type[StorageError], str] = {
    AccessDenied: "AccessDenied AllAccessDisabled AccountProblem",
    InvalidCredentials: "InvalidAccessKeyId SignatureDoesNotMatch InvalidToken InvalidSecurity "
    "RequestTimeTooSkewed InvalidClientTokenId",  # the last: STS's unknown access key id
    ExpiredCredentials: "ExpiredToken TokenRefreshRequired",
    WrongRegion: "PermanentRedirect TemporaryRedirect AuthorizationHeaderMalformed "
    "IllegalLocationConstraintException",
    Throttled: "SlowDown Throttling RequestLimitExceeded ServiceUnavailable",
    Transient: "RequestTimeout InternalError",
    NotFound: "NoSuchBucket NoSuchKey NoSuchVersion NotFound",
    InvalidRequest: "InvalidBucketName InvalidArgument InvalidRange InvalidRequest",
    StorageError: "InvalidObjectState",
}
_CODE_CLASS = {code: cls for cls, codes in _CODES.items() for code in codes.split()}

# HTTP status -> class when the error code is unknown; other 5xx are Transient.
_STATUS_CLASS: dict[int, type[StorageError]] = {
    301: WrongRegion,
    307: WrongRegion,
    400: InvalidRequest,
    403: AccessDenied,
    404: NotFound,
    416: InvalidRequest,
    429: Throttled,
    503: Throttled,
}

# A bodiless response's bare status -> the code S3 would have sent with a body.
_BARE_CODES = {"301": "PermanentRedirect", "400": "BadRequest", "403": "AccessDenied"}
_BARE_MESSAGES = {
    "404": "Not Found (no error body: the key or the bucket does not exist)",
    "403": "Forbidden (no error body: access denied or credentials rejected)",
}

# botocore exception class names -> class (first match wins).
_BOTOCORE_CLASSES: tuple[tuple[str, type[StorageError]], ...] = (
    ("NoCredentialsError PartialCredentialsError ProfileNotFound", NoCredentials),
    ("SSOError TokenRetrievalError LoginError", ExpiredCredentials),
    ("CredentialRetrievalError", InvalidCredentials),
    ("ConnectionError HTTPClientError", EndpointUnreachable),  # refused, DNS, TLS, timeouts
    ("ParamValidationError InvalidDNSNameError", InvalidRequest),
)


def _scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def translate(
    exc: BaseException,
    *,
    operation: str,
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
    secrets: Iterable[str | None] = (),
) -> StorageError | None:
    """The :class:`StorageError` for a botocore exception, or ``None`` for anything else.

    Args:
        exc: the exception botocore raised.
        operation: S3 API name (``ListObjectsV2``, ``HeadObject``...).
        bucket, key: what the call was about (key may be a prefix).
        endpoint: endpoint URL the call went to.
        secrets: values that must never appear in a message (replaced by ``***``).
    """
    from botocore import exceptions as bx

    secrets = tuple(secrets)
    fields: dict[str, Any] = {
        "operation": operation,
        "provider": "s3",
        "bucket": bucket,
        "key": key,
        "endpoint": endpoint,
    }
    if isinstance(exc, bx.ClientError):
        return _from_client_error(exc, fields, secrets)
    if not isinstance(exc, bx.BotoCoreError):
        return None
    cls: type[StorageError] = StorageError
    for names, candidate in _BOTOCORE_CLASSES:
        if isinstance(exc, tuple(getattr(bx, n) for n in names.split())):
            cls = candidate
            break
    return cls(_scrub(str(exc), secrets), code=type(exc).__name__, **fields)


def _from_client_error(
    exc: Any, fields: dict[str, Any], secrets: tuple[str | None, ...]
) -> StorageError:
    response = exc.response or {}
    error = response.get("Error") or {}
    meta = response.get("ResponseMetadata") or {}
    headers = {k.lower(): v for k, v in (meta.get("HTTPHeaders") or {}).items()}
    status = meta.get("HTTPStatusCode")
    code = str(error.get("Code") or "") or None
    message = str(error.get("Message") or exc)
    if code and code.isdigit():  # no error body (always so for HEAD): code is the status
        status = status or int(code)
        message = _BARE_MESSAGES.get(code, message)
        code = _BARE_CODES.get(code) or ("NotFound" if code == "404" else None)
    region = headers.get("x-amz-bucket-region") or error.get("Region")
    cls = _CODE_CLASS.get(code or "") or _STATUS_CLASS.get(status or 0)
    if cls is None:
        cls = Transient if status and status >= 500 else StorageError
    elif cls is InvalidRequest and region and code == "BadRequest":
        cls = WrongRegion  # HEAD 400 in the wrong region: only the header says so
    request_id = (
        meta.get("RequestId")
        or headers.get("x-amz-request-id")
        or headers.get("x-amzn-requestid")
        or None
    )
    error = cls(
        _scrub(message, secrets),
        status=status,
        code=code,
        request_id=request_id,
        region=region,
        **fields,
    )
    # The response's Date header (RFC 9110 6.6.1), kept so a SignatureDoesNotMatch or
    # RequestTimeTooSkewed can be explained with the clock skew (pail.services.explain).
    error.server_time = _server_time(headers.get("date"))  # type: ignore[attr-defined]
    error.received_at = datetime.now(timezone.utc)  # type: ignore[attr-defined]
    return error


def _server_time(value: str | None):  # -> datetime | None (UTC)
    """The server's clock from an HTTP ``Date`` header, or ``None``."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
