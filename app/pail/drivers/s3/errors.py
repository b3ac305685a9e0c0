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

Answers that are not S3 XML at all (a web app's HTML page, a filer's JSON, a plain-text
404 from a store without STS) are recognised before botocore parses them
(:func:`check_answer`, installed on every client by :func:`install_answer_check`): a 2xx
one becomes :class:`~pail.drivers.errors.NotStorageEndpoint` at once (a web app answers
the same way every time), an error status keeps its status (so 500/502/503/504 are still
retried, a proxy's HTML 502 page included) and leaves the driver as
:class:`~pail.drivers.errors.NotStorageEndpoint` (4xx, 501...) or as
:class:`~pail.drivers.errors.Transient` naming what came back. An unreadable body (cut
short, malformed) becomes :class:`~pail.drivers.errors.BadResponse`. The body itself is
never copied into a message.

Importing this module does not import botocore; :func:`translate` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
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
    WrongRegion,
    answer_kind,
    describe_answer,
)
from pail.drivers.retry import RETRYABLE_STATUSES

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
    NotFound: "NoSuchBucket NoSuchKey NoSuchVersion NotFound NoSuchUpload",
    # Writes: the bytes received differ from the checksum sent with them (BadDigest:
    # Content-MD5; XAmzContentChecksumMismatch: x-amz-checksum-*; XAmzContentSHA256Mismatch:
    # the signed payload hash), or a condition did not hold (412; 409
    # ConditionalRequestConflict: a concurrent write of the key won).
    ChecksumMismatch: "BadDigest InvalidDigest XAmzContentChecksumMismatch "
    "XAmzContentSHA256Mismatch",
    PreconditionFailed: "PreconditionFailed ConditionalRequestConflict",
    InvalidRequest: "InvalidBucketName InvalidArgument InvalidRange InvalidRequest",
    # 501 NotImplemented: a feature the store lacks; asking again cannot change that.
    ServerError: "NotImplemented",
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
    408: Transient,  # RFC 9110 15.5.9: the server timed out waiting for the request
    412: PreconditionFailed,  # RFC 9110 15.5.13 (HEAD answers have no error code)
    416: InvalidRequest,
    429: Throttled,
    501: ServerError,
    503: Throttled,
    505: ServerError,
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


# The element pail adds to the error document it puts in place of an error body that is
# not S3 XML (check_answer); its text is the body's kind (html, json, text, malformed).
_ANSWER_TAG = "PailAnswer"
_STATUS_TAG = "PailStatus"  # the status the server sent (a cut-short 200 is retried as 500)
# The botocore handler that turns a 200 whose body is not XML (or an <Error>) into a 500
# (botocore.handlers._handle_200_error, registered first on before-parse.s3.*); checked
# against botocore 1.44.8 and 1.34.0 (tests/test_sdk_internals.py).
_BOTOCORE_200_HANDLER = "_handle_200_error"


class ForeignAnswer(Exception):
    """A 2xx answer whose body is not XML (raised inside botocore by :func:`check_answer`,
    turned into :class:`~pail.drivers.errors.NotStorageEndpoint` by :func:`translate`).

    Attributes: ``status`` (HTTP status), ``kind`` (:func:`~pail.drivers.errors.answer_kind`),
    ``content_type`` (the ``Content-Type`` header or ``None``).
    """

    def __init__(self, status: int, kind: str, content_type: str | None) -> None:
        super().__init__(f"HTTP {status} with {describe_answer(kind, content_type)}")
        self.status = status
        self.kind = kind
        self.content_type = content_type


_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")


def _cut_short(body: bytes) -> bool:
    """True when an XML document visibly stops before its end: it does not close its root
    element. Cheap (looks at both ends only), so it runs on every 2xx body; a document
    broken in its middle is left to botocore's own parse."""
    head = body[:1024]
    start = 0
    while True:  # skip the XML declaration, comments and a DOCTYPE
        match = _XML_ROOT.search(head, start)
        if match is None:
            return False  # no element in the first KiB: not ours to judge
        if head[match.start() - 1 : match.start()] not in (b"!", b"?"):
            break
        start = match.end()
    root = match.group(1)
    opened = body.find(b">", match.end())
    if opened > 0 and body[opened - 1 : opened] == b"/":  # <Root .../>: an empty document
        return bool(body[opened + 1 :].strip())
    tail = body.rstrip()[-len(root) - 64 :]
    return not re.search(rb"</" + re.escape(root) + rb"\s*>$", tail)


def _xml_parses(body: bytes) -> bool:
    from xml.etree import ElementTree

    try:
        ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return False
    return True


def _has_xml_output(operation_model: Any) -> bool:
    """False for operations whose 2xx body is the payload itself (GetObject's bytes,
    GetBucketPolicy's JSON) or an event stream, not an XML document; botocore's own test
    (``_should_handle_200_error``) with the same model fields."""
    shape = getattr(operation_model, "output_shape", None)
    if shape is None or getattr(operation_model, "has_event_stream_output", False):
        return False
    payload = shape.serialization.get("payload")
    return payload is None or shape.members[payload].type_name not in ("blob", "string")


def check_answer(
    operation_model: Any = None, response_dict: dict[str, Any] | None = None, **_: Any
) -> None:
    """botocore ``before-parse`` handler: recognise an answer that is not S3 (or STS) XML.

    * a 2xx whose body is HTML, JSON or plain text, for an operation that answers XML:
      raises :class:`ForeignAnswer` (nothing is retried: a web app answers alike each time);
    * an error status (>= 300) whose body is HTML, JSON, plain text or unreadable XML:
      the body is replaced by an error document ``<ErrorResponse><Error><Code>STATUS</Code>
      <Message>REASON</Message><PailAnswer>KIND</PailAnswer></Error></ErrorResponse>``,
      which botocore's S3 and query parsers both read. botocore would otherwise fail on it
      (the query parser raises ``ResponseParserError``) or parse an HTML page as XML; the
      status survives, so the retry policy still retries 500/502/503/504 and
      :func:`translate` says what came back.

    Empty bodies (HEAD, 204) and XML are left alone. Returns ``None`` (botocore carries on).
    """
    if not response_dict:
        return
    body = response_dict.get("body")
    if not isinstance(body, (bytes, bytearray)):
        return  # a streamed payload (GetObject): the object's bytes, not an answer to judge
    kind = answer_kind(bytes(body))
    if kind == "empty":
        return
    status = int(response_dict.get("status_code") or 0)
    headers = response_dict.get("headers") or {}
    content_type = headers.get("content-type") or headers.get("Content-Type")
    answered = status
    if status < 300:
        if not _has_xml_output(operation_model):
            return
        if kind != "xml":
            raise ForeignAnswer(status, kind, content_type)
        if not _cut_short(bytes(body)):
            return
        service = operation_model.service_model.service_id.hyphenize()
        if service != "s3":
            raise ForeignAnswer(status, "malformed", content_type)
        # Cut short (a proxy or a reset): retried as a 500, as botocore does for S3 (its
        # needs-retry handler _update_status_code carries the status over), but the error
        # says what came back.
        kind, status = "malformed", 500
        response_dict["status_code"] = status
    elif kind == "xml":
        if _xml_parses(bytes(body)):
            return
        kind = "malformed"
    from http.client import responses

    reason = responses.get(status, "")
    response_dict["body"] = (
        f"<ErrorResponse><Error><Code>{status}</Code><Message>{reason}</Message>"
        f"<{_ANSWER_TAG}>{kind}</{_ANSWER_TAG}><{_STATUS_TAG}>{answered}</{_STATUS_TAG}>"
        "</Error></ErrorResponse>"
    ).encode()


def install_answer_check(client: Any) -> Any:
    """Register pail's answer checks on ``client`` (a botocore S3, STS or IAM client):
    :func:`check_answer`, so that it runs before botocore's own S3 200-error handler (which
    would turn a 2xx HTML or JSON answer into a retried 500), and an ``after-call`` handler
    that marks a rejected ``ASIA…`` key sent without a session token
    (:attr:`~pail.drivers.errors.InvalidCredentials.session_token_missing`). Returns the
    client; installing twice keeps one of each."""
    from botocore import handlers

    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    event = f"before-parse.{service}.*"
    builtin = getattr(handlers, _BOTOCORE_200_HANDLER, None)
    if service == "s3" and builtin is not None:
        # Re-register botocore's handler after pail's, both in the "first" section.
        events.unregister(event, builtin)
        events.register_first(event, check_answer, unique_id=f"pail-answer-{service}")
        events.register_first(event, builtin)
    else:
        events.register_first(event, check_answer, unique_id=f"pail-answer-{service}")
    import weakref

    events.register(
        f"after-call.{service}",
        _note_temporary_key(weakref.ref(client)),
        unique_id=f"pail-temporary-key-{service}",
    )
    return client


# Codes with which S3 and STS reject a key or its signature (S3 API reference, "List of
# error codes"; STS API reference, "Common errors").
_KEY_REJECTED = (
    "InvalidAccessKeyId",
    "InvalidToken",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
)
_TEMPORARY_KEY_TAG = "PailTemporaryKeyWithoutToken"


def _temporary_key_without_token(client: Any) -> bool:
    """True when ``client`` signs with an ``ASIA…`` (temporary, STS-issued) access key id
    and no session token (IAM User Guide, "Unique identifiers": ASIA marks temporary keys)."""
    # botocore internals: no public accessor for a client's credentials (as in
    # pail.drivers.s3.probes); checked against botocore 1.44.8 and 1.34.0.
    creds = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    if creds is None:
        return False
    try:
        frozen = creds.get_frozen_credentials()
    except Exception:  # a refresh failing here must not hide the answer being reported
        return False
    key_id = str(getattr(frozen, "access_key", "") or "")
    return key_id.startswith("ASIA") and not getattr(frozen, "token", None)


def _note_temporary_key(client_ref: Any) -> Any:
    """An ``after-call`` handler: when S3 or STS rejected the key or its signature and the
    client signs with an ``ASIA…`` key without a session token, mark the parsed error so
    :func:`translate` sets :attr:`InvalidCredentials.session_token_missing`."""

    def handler(parsed: Any = None, **_: Any) -> None:
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        if not isinstance(error, dict) or error.get("Code") not in _KEY_REJECTED:
            return
        client = client_ref()
        if client is not None and _temporary_key_without_token(client):
            error[_TEMPORARY_KEY_TAG] = "true"

    return handler


def _scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def error_class(code: str | None, status: int | None) -> type[StorageError]:
    """The error class for an S3 answer: by error ``code`` first (S3 API reference, "List
    of error codes"), else by HTTP ``status``; other 5xx are :class:`Transient` when
    retryable (500, 502, 503, 504: :data:`pail.drivers.retry.RETRYABLE_STATUSES`), else
    :class:`ServerError` (501, 505, ...).

    A bare numeric code (a bodiless response, e.g. to HEAD) counts as no code. The retry
    policy retries exactly the answers this maps to a :class:`Transient` subclass.
    """
    if code and code.isdigit():
        code = _BARE_CODES.get(code)
    cls = _CODE_CLASS.get(code or "") or _STATUS_CLASS.get(status or 0)
    if cls is None and status and status >= 500:
        cls = Transient if status in RETRYABLE_STATUSES else ServerError
    return cls or StorageError


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
    from xml.etree import ElementTree

    from botocore import exceptions as bx
    from botocore.parsers import ResponseParserError

    secrets = tuple(secrets)
    fields = _fields(operation, bucket, key, endpoint)
    if isinstance(exc, bx.ClientError):
        return _from_client_error(exc, fields, secrets)
    if isinstance(exc, ForeignAnswer):
        malformed = exc.kind == "malformed"
        answer_cls = BadResponse if malformed else NotStorageEndpoint
        code = "BadResponse" if malformed else "NotS3"
        error = answer_cls(
            _foreign_message(exc.status, exc.kind, exc.content_type),
            status=exc.status,
            code=code,
            **fields,
        )
        error.content_type = exc.content_type
        return error
    if isinstance(exc, ResponseParserError) or (
        isinstance(exc, (KeyError, ElementTree.ParseError)) and _raised_in_botocore(exc)
    ):
        # ResponseParserError is no BotoCoreError: XML that does not parse (cut short,
        # malformed); a KeyError is botocore reading a field an odd document lacks; an
        # ElementTree.ParseError comes from botocore's own GetBucketLocation handler, which
        # parses the body itself, even an error's empty one (SeaweedFS's filer port answers
        # 404 with no body). The body (in the parser's message) is never copied.
        detail = str(exc).split("\n", 1)[0].split(", invalid XML received", 1)[0]
        if isinstance(exc, KeyError):
            detail = f"the answer lacked the element {exc}"
        return BadResponse(
            f"the answer could not be read as S3 XML: {detail[:200]}",
            code="BadResponse",
            **fields,
        )
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
    attempts = int(meta.get("RetryAttempts") or 0) + 1
    answer = error.get(_ANSWER_TAG)
    if answer:  # not S3 XML: check_answer put its own document in place of the body
        sent = str(error.get(_STATUS_TAG) or "")
        answered = int(sent) if sent.isdigit() else status
        return _foreign_error(answer, code, status, answered, headers, meta, attempts, fields)
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
    error_doc = error
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
    if attempts > 1:
        error.attempts = attempts
    if isinstance(error, InvalidCredentials) and error_doc.get(_TEMPORARY_KEY_TAG):
        error.session_token_missing = True
    return error


def _raised_in_botocore(exc: BaseException) -> bool:
    """True when the innermost frame of ``exc``'s traceback is botocore's (its parser)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and "botocore" in tb.tb_frame.f_code.co_filename


def _foreign_message(status: int | None, kind: str, content_type: str | None) -> str:
    if kind == "malformed":
        media = describe_answer("", content_type).strip()
        return (
            f"the endpoint's answer (HTTP {status}{', ' + media[1:-1] if media else ''}) is "
            "not a whole S3 XML document: it stops before its end or does not parse"
        )
    what = describe_answer(kind, content_type)
    return (
        f"the endpoint answered HTTP {status} with {what}, not S3 XML: "
        "is this the S3 API's URL and port?"
    )


def _foreign_error(
    kind: str,
    code: str | None,
    status: int | None,
    answered: int | None,
    headers: dict[str, Any],
    meta: dict[str, Any],
    attempts: int,
    fields: dict[str, Any],
) -> StorageError:
    """The error for an error status whose body was not S3 XML (see :func:`check_answer`):
    a retryable status that repeated stays :class:`Transient` (a proxy's 502 page), an
    unreadable XML body is :class:`BadResponse`, anything else says the endpoint does not
    speak S3 (:class:`NotStorageEndpoint`)."""
    content_type = headers.get("content-type")
    cls: type[StorageError]
    if kind == "malformed":
        cls, code = BadResponse, "BadResponse"
    elif issubclass(error_class(code, status), Transient):
        cls, code = error_class(code, status), None
    else:
        cls, code = NotStorageEndpoint, "NotS3"
    message = _foreign_message(answered, kind, content_type)
    location = headers.get("location")
    if status in (301, 302, 303, 307, 308) and location and str(location).isprintable():
        message += f" (it redirects to {str(location)[:200]})"
    request_id = meta.get("RequestId") or headers.get("x-amz-request-id") or None
    error = cls(message, status=answered, code=code, request_id=request_id, **fields)
    error.content_type = content_type
    if attempts > 1:
        error.attempts = attempts
    return error


def _server_time(value: str | None) -> datetime | None:
    """The server's clock from an HTTP ``Date`` header, or ``None``."""
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
