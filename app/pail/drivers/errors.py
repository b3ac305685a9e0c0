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
        return f"{head}: {code + ': ' if code else ''}{self.message}"

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
            ("Bucket", self.bucket),
            ("Key", self.key),
            ("HTTP status", self.status),
            ("Code", self.code),
            ("Message", self.message),
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

    @property
    def hint(self) -> str:
        if self.provider == "s3" and self.code == "NoSuchBucket":
            return (
                "Check the bucket name. On S3-compatible stores (MinIO, Ceph) try path-style "
                "addressing (--path-style), and check the endpoint URL does not include the "
                "bucket name." + self.came_from()
            )
        return "Check the bucket name and the key: keys are case-sensitive and use '/' separators."


class InvalidCredentials(StorageError, PermissionError):
    """The credentials were rejected (``InvalidAccessKeyId``, ``SignatureDoesNotMatch``)."""

    kind = "bad credentials"

    @property
    def hint(self) -> str:
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
    """A failure worth retrying: timeouts, HTTP 5xx. Drivers retry these a bounded number
    of times before raising."""

    kind = "transient"

    @property
    def hint(self) -> str:
        return "The server had a temporary problem. Press r to retry."


class Throttled(Transient):
    """HTTP 429/503 ``SlowDown``: the server asks us to slow down."""

    kind = "throttled"


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


class TransferCancelled(StorageError):
    """A transfer stopped because the caller set its cancel event (not a store error).

    Raised by the download engine between chunks; what was written so far stays on disk
    (recorded in the partial's sidecar), so the download can resume from there.
    """

    kind = "cancelled"
