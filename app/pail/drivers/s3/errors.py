"""botocore exceptions -> :mod:`pail.drivers.errors`, for the S3 driver.

``ClientError`` carries the parsed S3 error document (``Error.Code``/``Message``/``Region``)
and the response metadata (status, headers, request id). HEAD responses have no body, so
for them botocore's code is the bare status ("404"); the status and the
``x-amz-bucket-region`` header are all there is to go on. Other botocore exceptions
(``BotoCoreError``) mean no usable HTTP response: credentials missing, connection refused,
timeouts, invalid parameters.

Messages name the real endpoint: botocore builds some messages from the URL urllib3 held
when it failed, which is ``None`` for a body being read (``Read timeout on endpoint URL:
"None"``); :func:`translate` puts the driver's endpoint there instead.

Failures while a response *body* is read (after the request itself succeeded, so
request-level retries never saw them) are :func:`translate_stream`'s:
:class:`~pail.drivers.errors.StreamInterrupted`, which the transfer engine resumes.

:func:`error_class` is the one table of which S3 answers are which error; the retry policy
(:mod:`pail.drivers.s3.retry`) retries exactly the answers it maps to ``Transient``.

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
    StreamInterrupted,
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
    # Throttling codes botocore's ThrottledRetryableChecker knows, as S3-compatible stores
    # and S3's neighbours (STS) send them.
    Throttled: "SlowDown Throttling RequestLimitExceeded ServiceUnavailable ThrottlingException "
    "ThrottledException RequestThrottledException TooManyRequestsException RequestThrottled "
    "BandwidthLimitExceeded ProvisionedThroughputExceededException",
    Transient: "RequestTimeout RequestTimeoutException PriorRequestNotComplete InternalError",
    NotFound: "NoSuchBucket NoSuchKey NoSuchVersion NotFound",
    InvalidRequest: "InvalidBucketName InvalidArgument InvalidRange InvalidRequest",
    # 501 NotImplemented: a feature the store lacks; asking again cannot change that.
    StorageError: "InvalidObjectState NotImplemented",
}
_CODE_CLASS = {code: cls for cls, codes in _CODES.items() for code in codes.split()}

# HTTP status -> class when the error code is unknown; other 5xx are Transient.
_STATUS_CLASS: dict[int, type[StorageError]] = {
    301: WrongRegion,
    307: WrongRegion,
    400: InvalidRequest,
    403: AccessDenied,
    404: NotFound,
    408: Transient,  # RFC 9110 15.5.9: the server timed out waiting for the request
    416: InvalidRequest,
    429: Throttled,
    501: StorageError,
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


def error_class(code: str | None, status: int | None) -> type[StorageError]:
    """The error class for an S3 answer: by error ``code`` first (S3 API reference, "List
    of error codes"), else by HTTP ``status``; other 5xx are :class:`Transient`.

    A bare numeric code (a bodiless response, e.g. to HEAD) counts as no code. The retry
    policy retries exactly the answers this maps to a :class:`Transient` subclass.
    """
    if code and code.isdigit():
        code = _BARE_CODES.get(code)
    cls = _CODE_CLASS.get(code or "") or _STATUS_CLASS.get(status or 0)
    if cls is None:
        cls = Transient if status and status >= 500 else StorageError
    return cls


def _real(endpoint: object) -> bool:
    return bool(endpoint) and endpoint != "None"


def _botocore_message(exc: Any, endpoint: str | None) -> str:
    """``str(exc)``, with the driver's ``endpoint`` where botocore had no URL.

    botocore formats ``endpoint_url`` into messages such as ``Read timeout on endpoint URL:
    "{endpoint_url}"``; for a body being read urllib3's URL is ``None``.
    """
    kwargs = getattr(exc, "kwargs", None)
    where = endpoint if _real(endpoint) else "the store's endpoint"
    if isinstance(kwargs, dict) and "endpoint_url" in kwargs and not _real(kwargs["endpoint_url"]):
        try:
            return str(type(exc).fmt.format(**{**kwargs, "endpoint_url": where}))
        except (AttributeError, KeyError, IndexError, ValueError):
            pass
    return str(exc).replace('"None"', f'"{where}"')


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
        endpoint: the driver's endpoint URL; it becomes the error's ``endpoint`` and
            replaces a missing URL in botocore's message (never ``"None"``).
        secrets: values that must never appear in a message (replaced by ``***``).
    """
    from botocore import exceptions as bx

    secrets = tuple(secrets)
    fields = _fields(operation, bucket, key, endpoint)
    if isinstance(exc, bx.ClientError):
        return _from_client_error(exc, fields, secrets)
    if not isinstance(exc, bx.BotoCoreError):
        return None
    cls: type[StorageError] = StorageError
    for names, candidate in _BOTOCORE_CLASSES:
        # getattr with a default: a class newer than the installed botocore (LoginError came
        # in botocore 1.41) is skipped, so older botocore translates everything else.
        if isinstance(exc, tuple(getattr(bx, n, ()) for n in names.split())):
            cls = candidate
            break
    message = _scrub(_botocore_message(exc, endpoint), secrets)
    return cls(message, code=type(exc).__name__, **fields)


def translate_stream(
    exc: BaseException,
    *,
    operation: str = "GetObject",
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
    read_timeout: float | None = None,
    secrets: Iterable[str | None] = (),
) -> StorageError | None:
    """The error for a failure while a response body was being read, or ``None`` when
    ``exc`` is nothing this module knows (then re-raise it).

    Call it around ``StreamingBody.read``/``iter_chunks`` (and s3transfer's body reads):

    * a stall: botocore ``ReadTimeoutError``, urllib3 ``ReadTimeoutError``, ``TimeoutError``
      -> :class:`StreamInterrupted` with code ``ReadTimeout``;
    * a reset or short body: botocore ``ResponseStreamingError`` and ``IncompleteReadError``,
      urllib3 ``ProtocolError``/``IncompleteRead``, ``http.client.IncompleteRead``,
      ``ConnectionError`` (reset, aborted) -> :class:`StreamInterrupted` with code
      ``StreamInterrupted``;
    * a :class:`StorageError` is returned as it is; anything else goes to :func:`translate`.

    Args:
        operation, bucket, key, endpoint, secrets: as for :func:`translate`; the message
            names ``endpoint`` (never ``"None"``).
        read_timeout: the read timeout in seconds, named in a stall's message when given.
    """
    import http.client

    from botocore import exceptions as bx
    from urllib3 import exceptions as ux

    if isinstance(exc, StorageError):
        return exc
    fields = _fields(operation, bucket, key, endpoint)
    where = endpoint if _real(endpoint) else "the store"
    if isinstance(exc, (bx.ReadTimeoutError, ux.ReadTimeoutError, TimeoutError)):
        within = f"within {read_timeout:g} s" if read_timeout else "within the read timeout"
        message = f"no data arrived from {where} {within}: the body stalled before its end"
        return StreamInterrupted(message, code="ReadTimeout", **fields)
    broken = (
        bx.ResponseStreamingError,
        bx.IncompleteReadError,
        ux.ProtocolError,
        ux.IncompleteRead,
        http.client.IncompleteRead,
        ConnectionError,
    )
    if isinstance(exc, broken):
        detail = _scrub(_botocore_message(exc, endpoint), secrets)
        message = f"the connection to {where} broke before the body ended: {detail}"
        return StreamInterrupted(message, code="StreamInterrupted", **fields)
    return translate(exc, secrets=secrets, **_call_args(fields))


def _fields(
    operation: str, bucket: str | None, key: str | None, endpoint: str | None
) -> dict[str, Any]:
    return {
        "operation": operation,
        "provider": "s3",
        "bucket": bucket,
        "key": key,
        "endpoint": endpoint if _real(endpoint) else None,
    }


def _call_args(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: fields[k] for k in ("operation", "bucket", "key", "endpoint")}


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
    cls = error_class(code, status)
    if cls is InvalidRequest and region and code == "BadRequest":
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
    error.server_time = _server_time(headers.get("date"))
    error.received_at = datetime.now(timezone.utc)
    return error


def _server_time(value: str | None) -> datetime | None:
    """The server's clock from an HTTP ``Date`` header, or ``None``."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
