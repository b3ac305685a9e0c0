"""One error hierarchy for every storage backend.

Drivers translate SDK exceptions at their boundary (``raise AccessDenied(...) from exc``)
so that the UI, the CLI and the services see the same fields whatever the provider:

* ``operation`` - the API name that failed (``ListObjectsV2``, ``GetObject``,
  ``storage.objects.list``, ``os.scandir``),
* ``bucket`` and ``key`` (or prefix),
* ``status`` - the HTTP status code (``None`` when no response arrived),
* ``code`` - the provider's error code (``AccessDenied``, ``NoSuchBucket``, ``403``),
* ``message``, ``request_id``, ``endpoint`` and, for wrong-region errors, ``region``.

Subclasses also derive from the matching builtin (``PermissionError``,
``FileNotFoundError``, ``ConnectionError``, ``TimeoutError``) so generic code can catch them.

No secret is ever stored on an error: drivers pass the access key id at most (masked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ErrorField:
    """One labelled field of an error, for display: ``label`` and ``value`` are plain text."""

    label: str
    value: str


class StorageError(Exception):
    """Base of every error a driver raises.

    Args:
        message: human-readable message from the provider (or our own), plain text.
        operation: API name of the failed call, e.g. ``"ListObjectsV2"``.
        provider: ``"s3"``, ``"gcs"`` or ``"local"``.
        bucket: bucket name, if the call was about one.
        key: object key or prefix, if the call was about one.
        status: HTTP status code, or ``None`` when no HTTP response arrived.
        code: provider error code (``"AccessDenied"``, ``"NoSuchKey"``, ``"ENOENT"``).
        request_id: provider request id (``x-amz-request-id``), for support tickets.
        endpoint: endpoint URL the call went to (``None`` for AWS defaults / local).
        region: for wrong-region errors, the region the bucket really lives in.
    """

    #: Short label used in tree badges when no HTTP status is known.
    kind = "error"
    #: The server's clock from the response's ``Date`` header (UTC), and ours when the
    #: response arrived: set by the S3 driver so a signature or skew error can be explained
    #: with the clock skew (:func:`pail.services.explain.clock_skew`); ``None`` elsewhere.
    server_time: datetime | None = None
    received_at: datetime | None = None
    #: How many times the request was sent before this answer was given up on (set when
    #: it was retried: the same failure on every attempt); ``None`` when sent once.
    attempts: int | None = None
    #: The ``Content-Type`` of an answer that was not the API's format (HTML, plain text),
    #: for :class:`BadResponse`; ``None`` elsewhere.
    content_type: str | None = None
    #: Where the connection's endpoint came from (``--endpoint-url``, a variable such as
    #: ``MLFLOW_S3_ENDPOINT_URL``, ``connection NAME (FILE)``), set by the driver from its
    #: connection so endpoint hints can name it (checking that setting is the tools' own
    #: first troubleshooting step); ``None`` when unknown or the provider's default.
    endpoint_source: str | None = None

    def __init__(
        self,
        message: str,
        *,
        operation: str = "",
        provider: str = "",
        bucket: str | None = None,
        key: str | None = None,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        endpoint: str | None = None,
        region: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.provider = provider
        self.bucket = bucket
        self.key = key
        self.status = status
        self.code = code
        self.request_id = request_id
        self.endpoint = endpoint
        self.region = region

    def __str__(self) -> str:
        where = self.bucket or ""
        if self.key:
            where = f"{where}/{self.key}" if where else self.key
        parts = [self.operation or self.kind]
        if where:
            parts.append(where)
        head = " ".join(parts)
        code = " ".join(str(p) for p in (self.status, self.code) if p)
        text = f"{head}: {code + ': ' if code else ''}{self.message}"
        if self.attempts and self.attempts > 1:
            text += f" (the same answer on all {self.attempts} attempts)"
        return text

    @property
    def badge(self) -> str:
        """Short tag for a tree node, e.g. ``"403 AccessDenied"`` or ``"unreachable"``."""
        parts = [str(p) for p in (self.status, self.code) if p]
        return " ".join(parts) if parts else self.kind

    @property
    def hint(self) -> str:
        """What usually causes this error and what to check, as one plain-text paragraph."""
        return ""

    def came_from(self) -> str:
        """`` The endpoint came from SOURCE.`` (with its leading space) when
        :attr:`endpoint_source` is known, else ``""``: appended to endpoint hints."""
        return f" The endpoint came from {self.endpoint_source}." if self.endpoint_source else ""

    def fields(self) -> list[ErrorField]:
        """Every known field of the error, in display order, skipping empty ones."""
        raw = [
            ("Error", type(self).__name__),
            ("Operation", self.operation),
            ("Provider", self.provider),
            # A local "bucket" is a folder and its keys are paths inside it.
            ("Folder" if self.provider == "local" else "Bucket", self.bucket),
            ("Path" if self.provider == "local" else "Key", self.key),
            ("HTTP status", self.status),
            ("Code", self.code),
            ("Message", self.message),
            ("Content type", self.content_type),
            ("Attempts", self.attempts if self.attempts and self.attempts > 1 else None),
            ("Region", self.region),
            ("Request id", self.request_id),
            ("Endpoint", self.endpoint),
            ("Endpoint from", self.endpoint_source if self.endpoint else None),
        ]
        return [ErrorField(label, str(value)) for label, value in raw if value not in (None, "")]


# Operation -> the permission it needs, for the versions and lifecycle calls (S3 API
# reference "Permissions" sections; GCS IAM permissions for Cloud Storage).
_VERSION_PERMISSIONS = {
    "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "storage.buckets.patch": "storage.buckets.update",
}


class AccessDenied(StorageError, PermissionError):
    """HTTP 403: the identity is not allowed to make this call (S3 ``AccessDenied``)."""

    kind = "denied"

    @property
    def hint(self) -> str:
        needed = _VERSION_PERMISSIONS.get(self.operation)
        if needed:
            return (
                f"The identity may not call {self.operation}: its IAM or bucket policy must "
                f"grant {needed}. Ask the bucket's owner, or use a connection that has it."
            )
        if self.provider == "gcs":
            return (
                "The identity lacks an IAM permission on this bucket: check that its role "
                "grants storage.objects.list (to list) and storage.objects.get (to read)."
            )
        if self.provider == "local":
            return "The operating system refused access: check the folder's permissions."
        hint = (
            "Check the access keys in use, and that the IAM or bucket policy grants "
            "s3:ListBucket on the bucket (to list) and s3:GetObject on the keys (to read)."
        )
        if self.operation in ("GetObject", "HeadObject"):
            hint += (
                " Without s3:ListBucket, S3 answers 403 instead of 404 for a missing key, "
                "so the key may simply not exist."
            )
        if self.operation == "ListBuckets":
            hint += (
                " ListBuckets needs s3:ListAllMyBuckets; a bucket named on the command line "
                "still opens without it."
            )
        return hint


class NotFound(StorageError, FileNotFoundError):
    """HTTP 404: the bucket or key does not exist (``NoSuchBucket``, ``NoSuchKey``)."""

    kind = "not found"
    #: Set by the local driver when the folder opened as the bucket is itself missing:
    #: its code is then the errno name (``ENOENT``), which a missing file shares.
    folder_missing: bool = False

    @property
    def bucket_missing(self) -> bool:
        """Whether the bucket itself (a local folder) does not exist, not just a key."""
        return self.code == "NoSuchBucket" or self.folder_missing

    @property
    def hint(self) -> str:
        if self.provider == "local":
            # Folders and files, not buckets and keys.
            if self.folder_missing:
                return "Check the path: the folder does not exist, or is not a folder."
            return (
                "Check the path: the file does not exist (or is a folder); file names are "
                "case-sensitive on most systems."
            )
        if self.provider == "s3" and self.code == "NoSuchBucket":
            return (
                "Check the bucket name. On S3-compatible stores (MinIO, Ceph) try path-style "
                "addressing (--path-style), and check the endpoint URL does not include the "
                "bucket name." + self.came_from()
            )
        return "Check the bucket name and the key: keys are case-sensitive and use '/' separators."


#: The hint for a temporary (``ASIA…``) access key id sent without its session token.
TEMPORARY_KEY_HINT = (
    "The access key id starts with ASIA: it is a temporary (STS) key, valid only together "
    "with the session token issued with it, and no session token was sent. Set "
    "AWS_SESSION_TOKEN (or aws_session_token in the profile or connection) to that token, "
    "or use long-term keys (AKIA…)."
)


class InvalidCredentials(StorageError, PermissionError):
    """The credentials were rejected (``InvalidAccessKeyId``, ``SignatureDoesNotMatch``)."""

    kind = "bad credentials"
    #: Set by the S3 driver when the access key id in use starts with ``ASIA`` (temporary
    #: STS credentials, IAM User Guide "Unique identifiers") and no session token was sent:
    #: such a key is only valid with its token, so the token is the likely cause.
    session_token_missing: bool = False

    @property
    def hint(self) -> str:
        if self.session_token_missing:
            return TEMPORARY_KEY_HINT
        if self.code == "SignatureDoesNotMatch":
            return (
                "The secret access key does not match the access key id, or this machine's "
                "clock is far off. Check the secret and the system time."
            )
        if self.provider == "gcs":
            return (
                "The Google credentials were rejected: check GOOGLE_APPLICATION_CREDENTIALS or "
                "run `gcloud auth application-default login`."
            )
        return (
            "The access key id is unknown to this endpoint: check AWS_ACCESS_KEY_ID / the "
            "profile, and that the keys belong to this endpoint (AWS vs MinIO/Ceph)."
        )


class NoCredentials(InvalidCredentials):
    """No credentials could be found for a call that needs them."""

    kind = "no credentials"

    @property
    def hint(self) -> str:
        if self.provider == "gcs":
            return (
                "No Google credentials were found. Set GOOGLE_APPLICATION_CREDENTIALS to a "
                "service-account key file, run `gcloud auth application-default login`, or "
                "use --no-sign-request for a public bucket."
            )
        return (
            "No credentials were found. Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
            "--profile, or use --no-sign-request for a public bucket."
        )


class ExpiredCredentials(InvalidCredentials):
    """Temporary credentials have expired (``ExpiredToken``, expired SSO session)."""

    kind = "expired"

    @property
    def hint(self) -> str:
        if self.provider == "gcs":
            return "Refresh the credentials: `gcloud auth application-default login`."
        return (
            "The session token has expired. Refresh it, e.g. `aws sso login --profile NAME`, "
            "or export new AWS_SESSION_TOKEN values."
        )


class WrongRegion(StorageError):
    """HTTP 301/400: the bucket lives in another region (``PermanentRedirect``).

    ``region`` holds the bucket's real region when the response names it
    (``x-amz-bucket-region`` header or the error body).
    """

    kind = "wrong region"

    @property
    def hint(self) -> str:
        if self.region:
            return (
                f"The bucket lives in region {self.region}: reopen with --region {self.region}."
                + self.came_from()
            )
        return "The bucket lives in another region: name it with --region." + self.came_from()


class Transient(StorageError):
    """A failure worth retrying: timeouts, HTTP 500/502/503/504, 408, throttling. Drivers
    retry these a bounded number of times before raising; ``attempts`` then says how many
    times the same failure came back.

    The hint is front-end neutral (no key names): the app adds its own retry key.
    """

    kind = "transient"

    @property
    def hint(self) -> str:
        if self.attempts and self.attempts > 1:
            answer = f"HTTP {self.status}" if self.status else "the same failure"
            return (
                f"The server answered {answer} on every one of the {self.attempts} "
                "attempts, so this is not a passing glitch: check the server's logs or "
                "status page (or the proxy in front of it), then try again."
            )
        return "The server reported a temporary problem; trying again usually works."


class Throttled(Transient):
    """HTTP 429/503 ``SlowDown``: the server asks us to slow down."""

    kind = "throttled"

    @property
    def hint(self) -> str:
        if self.attempts and self.attempts > 1:
            return (
                f"The store asked pail to slow down on every one of the {self.attempts} "
                "attempts: wait a while, run fewer jobs at once, then try again."
            )
        return "The store asked pail to slow down: wait a while, then try again."


class StreamInterrupted(Transient):
    """A response body stopped before its end: the connection was reset or closed early,
    or no byte arrived within the read (stall) timeout. The request itself had succeeded,
    so request-level retries never saw it; the transfer engine resumes the range from the
    last byte it received (code ``StreamInterrupted``, ``ReadTimeout`` for a stall)."""

    kind = "interrupted"

    @property
    def hint(self) -> str:
        return (
            "The connection broke while the object's bytes were arriving. Run it again to resume."
        )


class ServerError(StorageError):
    """A 5xx answer that asking again cannot change: 501 Not Implemented (the store lacks
    the feature), 505 HTTP Version Not Supported, and every 5xx but 500/502/503/504, the
    statuses the AWS SDKs' standard retry mode retries ("Retry behavior", AWS SDKs and
    Tools Reference Guide). Never retried, never called temporary."""

    kind = "server error"

    @property
    def hint(self) -> str:
        if self.status == 501 or self.code == "NotImplemented":
            return (
                "The store does not implement this request: S3-compatible stores and "
                "emulators leave out parts of the API. Asking again will not change that."
            )
        if self.status == 505:
            return (
                "The server refused the HTTP version: whatever answers at this endpoint is "
                "likely not the store itself (a proxy or another server). Check the URL."
            )
        return (
            "The server failed the request in a way retrying will not change: check the "
            "server's logs or status page."
        )


def answer_kind(body: bytes | str | None) -> str:
    """What a response body is, by its first bytes: ``"empty"``, ``"html"``, ``"xml"``,
    ``"json"`` or ``"text"`` (anything else). Leading whitespace and a UTF-8 byte-order
    mark are skipped; only the start is looked at, so this is cheap on any body."""
    if body is None:
        return "empty"
    head = body[:512]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    head = head.lstrip(b"\xef\xbb\xbf").lstrip().lower()
    if not head:
        return "empty"
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:256]:
        return "html"
    if head.startswith(b"<"):
        return "xml"
    if head.startswith((b"{", b"[")):
        return "json"
    return "text"


#: How :func:`describe_answer` names each body kind.
_ANSWER_NAMES = {
    "html": "an HTML page",
    "json": "JSON",
    "text": "plain text",
    "xml": "XML",
    "malformed": "a body that could not be read (cut short or malformed)",
    "empty": "an empty body",
}


def describe_answer(kind: str, content_type: str | None) -> str:
    """``"an HTML page (text/html)"``: a body kind from :func:`answer_kind` and the
    response's ``Content-Type`` (its media type only, parameters dropped), plain text."""
    name = _ANSWER_NAMES.get(kind, kind)
    media = (content_type or "").split(";", 1)[0].strip()
    return f"{name} ({media})" if media and media.isprintable() and len(media) < 100 else name


class BadResponse(StorageError):
    """The endpoint answered, but not in the API's format: a body that could not be read
    (truncated or malformed XML/JSON), or, as :class:`NotStorageEndpoint`, another format
    altogether. ``content_type`` holds the answer's ``Content-Type``; the body itself is
    never copied into the message (it may be a whole web page)."""

    kind = "bad response"

    @property
    def hint(self) -> str:
        return (
            "The store's answer was cut short or malformed. A proxy or load balancer in "
            "front of the store can do this; run it again, and if it persists check what "
            "answers at the endpoint."
        )


class NotStorageEndpoint(BadResponse):
    """The endpoint does not speak the store's API: it answered with HTML, plain text or
    JSON where S3 answers XML (or GCS JSON): a web app, a console or filer port, a proxy's
    page, an endpoint URL with a path. Code ``NotS3`` (S3) or ``NotGCS`` (GCS)."""

    kind = "not a store"

    @property
    def hint(self) -> str:
        where = f" {self.endpoint}" if self.endpoint else ""
        if self.provider == "gcs":
            return (
                f"The endpoint{where} does not speak the GCS JSON API. Check the URL "
                "(STORAGE_EMULATOR_HOST or the connection's endpoint): scheme, host and the "
                "emulator's or gateway's port." + self.came_from()
            )
        return (
            f"The endpoint{where} does not speak S3. Check the URL: the scheme, the host, the "
            "port of the S3 API (not a web console, filer or dashboard port), and no path "
            "after the port (the bucket belongs in the URI)." + self.came_from()
        )


class EndpointUnreachable(StorageError, ConnectionError):
    """No HTTP response: connection refused, DNS failure, TLS failure, timeout."""

    kind = "unreachable"

    @property
    def badge(self) -> str:
        """Always ``"unreachable"``: the SDK's exception name means little on a badge."""
        return self.kind

    @property
    def hint(self) -> str:
        where = f" {self.endpoint}" if self.endpoint else ""
        return (
            f"Could not reach the endpoint{where}. Check the URL, that the server is running, "
            "and any proxy or TLS settings." + self.came_from()
        )


class InvalidRequest(StorageError, ValueError):
    """The request was malformed for this store (bad bucket name, bad range, HTTP 400)."""

    kind = "invalid"

    @property
    def hint(self) -> str:
        return "The store rejected the request as malformed: check the bucket name and key."


class NotSupported(InvalidRequest):
    """The backend has no such feature (code ``NotSupported``): e.g. a local folder has no
    object versions and no lifecycle rules. No request was sent."""

    kind = "not supported"

    @property
    def hint(self) -> str:
        return (
            "This store does not offer the feature: object versions and lifecycle rules "
            "exist on S3 and GCS buckets, not in local folders."
        )


class PreconditionFailed(StorageError):
    """HTTP 412: a write's condition did not hold (code ``PreconditionFailed``): the key
    already exists for a create-only write (S3 ``If-None-Match: *``, GCS
    ``ifGenerationMatch=0``, a local file created exclusively), or a copy's source is no
    longer the version planned (S3 ``x-amz-copy-source-if-match``, GCS
    ``ifSourceGenerationMatch``). Nothing was written."""

    kind = "precondition"

    @property
    def hint(self) -> str:
        return (
            "The object changed since pail looked (another writer created the key, or the "
            "source was replaced): list it again and decide whether to overwrite."
        )


class ChecksumMismatch(StorageError):
    """The store refused the bytes it received because they do not match the checksum
    sent with them (S3 ``BadDigest``, ``InvalidDigest``, ``XAmzContentChecksumMismatch``;
    GCS 400 on an MD5/CRC32C mismatch), or a written object's stored checksum differs
    from the source's (code ``ChecksumMismatch``). What was sent was corrupted on the way
    (or the source changed while it was read); the object is not accepted as written."""

    kind = "checksum"

    @property
    def hint(self) -> str:
        return (
            "The bytes the store received differ from the bytes pail read: something "
            "between them (a proxy, the network, a changing source file) altered them. "
            "Run it again; if it repeats, check the source and the path to the store."
        )


class TransferCancelled(StorageError):
    """A transfer stopped because the caller set its cancel event (not a store error).

    Raised by the download engine between chunks; what was written so far stays on disk
    (recorded in the partial's sidecar), so the download can resume from there.
    """

    kind = "cancelled"
