"""Google Cloud Storage through google-cloud-storage (JSON API).

google-cloud-storage takes about half a second to import, so it is imported only when the
first call builds the client; importing this module stays cheap.

The SDK's own retry (``DEFAULT_RETRY``) is deadline-based and keeps retrying connection
errors for up to 120 s, so every SDK call gets ``retry=None`` and is wrapped in
:func:`pail.drivers.retry.call_with_retry` under pail's one retry policy instead (5
attempts, exponential back-off with full jitter, 60 s per request; transient errors only:
5xx except 501, 408, 429, timeouts, unreachable endpoint; never 401/403/404 or another 4xx).
Timeouts: connect 10 s, read (stall) 30 s, passed to every SDK call.

Operation names on errors are the JSON API method ids: ``storage.buckets.list``,
``storage.buckets.get``, ``storage.objects.list``, ``storage.objects.get`` (translation
tables in :mod:`pail.drivers.gcs.errors`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, TypeVar

from pail.drivers.base import (
    DEFAULT_PAGE_SIZE,
    Bucket,
    DeleteResult,
    DeleteTarget,
    Entry,
    MultipartUpload,
    ObjectChecksums,
    ObjectInfo,
    Page,
    WriteOptions,
    WrittenObject,
    check_expiry,
)
from pail.drivers.errors import (
    InvalidCredentials,
    InvalidRequest,
    NoCredentials,
    StorageError,
    StreamInterrupted,
)
from pail.drivers.gcs import transfer
from pail.drivers.gcs.endpoints import emulator_host, emulator_name, is_google
from pail.drivers.gcs.errors import translate, translate_stream
from pail.drivers.identity import Identity
from pail.drivers.retry import DEFAULT_CONNECT_TIMEOUT as CONNECT_TIMEOUT
from pail.drivers.retry import DEFAULT_POLICY, RetryPolicy, call_with_retry, check_setting
from pail.drivers.retry import DEFAULT_READ_TIMEOUT as READ_TIMEOUT
from pail.drivers.versions import LifecycleRule, VersionPage

T = TypeVar("T")

#: The OAuth scope of a service-account key's tokens (full control, as gcloud asks).
_SCOPES = ("https://www.googleapis.com/auth/devstorage.full_control",)


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


class GcsDriver:
    """The :class:`~pail.drivers.base.StorageDriver` for Google Cloud Storage.

    Args:
        project: Google Cloud project id (needed to list buckets).
        endpoint_url: the JSON API endpoint of this connection (an emulator,
            ``http://127.0.0.1:4443``); ``None`` = ``STORAGE_EMULATOR_HOST`` or Google's.
        credentials_file: path of a service-account JSON key file.
        service_account_info: a service-account key as parsed JSON (held in memory).
        anonymous: an anonymous client, for public buckets.
        client: a ready ``google.cloud.storage.Client`` (tests point one at the emulator).
        max_attempts: attempts per request, first included (default 5): the attempts of
            ``retry``.
        connect_timeout, read_timeout: socket timeouts in seconds (default 10 and 30);
            read is the longest wait for the next byte (a stall).
        retry: the retry policy (:class:`pail.drivers.retry.RetryPolicy`; default
            :data:`~pail.drivers.retry.DEFAULT_POLICY`).
        endpoint_source: where ``endpoint_url`` came from (``connection NAME (FILE)``),
            set on every error for the hints; without ``endpoint_url`` the errors name
            ``STORAGE_EMULATOR_HOST`` when that variable gives the endpoint.

    Credentials, in order: the injected client; an endpoint that is not Google's
    (``endpoint_url``, else ``STORAGE_EMULATOR_HOST``): unsigned requests, a
    service-account key only signs URLs (:mod:`pail.drivers.gcs.endpoints`); ``anonymous``;
    ``credentials_file``; ``service_account_info``; application default credentials.

    Raises:
        InvalidRequest: (code ``InvalidClientOption``) an attempt count or timeout out of
            range (:data:`pail.drivers.retry.SETTING_LIMITS`).
    """

    provider = "gcs"

    def __init__(
        self,
        *,
        project: str | None = None,
        endpoint_url: str | None = None,
        credentials_file: str | None = None,
        service_account_info: Mapping[str, Any] | None = None,
        anonymous: bool = False,
        client: Any = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        endpoint_source: str | None = None,
    ) -> None:
        try:
            policy = retry or DEFAULT_POLICY
            if max_attempts is not None:
                policy = policy.with_attempts(max_attempts)
            connect = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
            read = READ_TIMEOUT if read_timeout is None else read_timeout
            timeout = (
                check_setting("connect_timeout", connect),
                check_setting("read_timeout", read),
            )
        except ValueError as exc:
            raise InvalidRequest(
                f"invalid client option: {exc}",
                operation="CreateClient",
                provider=self.provider,
                code="InvalidClientOption",
            ) from None
        #: The retry policy every request of this driver follows.
        self.retry_policy: RetryPolicy = policy
        self._project = project or None
        self._endpoint_url = (endpoint_url or "").strip().rstrip("/") or None
        self._endpoint_source = endpoint_source or None
        self._credentials_file = credentials_file or None
        self._service_account_info = service_account_info
        self._anonymous = anonymous
        self._client_obj = client
        self._injected = client is not None
        self._quieted = False
        self._max_attempts = policy.attempts
        self._timeout = timeout
        self._lock = threading.Lock()
        #: False once the server refused a batch request (no ``/batch/storage/v1``):
        #: later deletes go one request per object (:mod:`pail.drivers.gcs.delete`).
        self.batch_delete = True

    def __repr__(self) -> str:
        return f"GcsDriver(endpoint={self.endpoint!r}, project={self._project!r})"

    @property
    def endpoint(self) -> str | None:
        """An injected client's API endpoint, else the connection's ``endpoint_url``, else
        ``STORAGE_EMULATOR_HOST``; ``None`` for Google's default endpoint."""
        if self._injected:
            return getattr(self._client_obj, "api_endpoint", None)
        return self._endpoint_url or emulator_host()

    def server_name(self) -> str | None:
        """Which emulator answers at a non-Google endpoint (``"fake-gcs-server"``,
        ``"gcp-storage-emulator"``), told from its own answers
        (:func:`pail.drivers.gcs.endpoints.emulator_name`: two small GETs); ``None`` for
        Google's endpoint or a server neither fingerprint matches. Never raises."""
        endpoint = self.endpoint
        if not endpoint or is_google(endpoint):
            return None
        return emulator_name(endpoint, timeout=self._timeout[0])

    # -- client -----------------------------------------------------------------------

    def _client(self) -> Any:
        if self._client_obj is None or not self._quieted:
            with self._lock:
                if self._client_obj is None:
                    self._client_obj = self._build_client()
                if not self._quieted:
                    _no_background_fetch(self._client_obj)
                    self._quieted = True
        return self._client_obj

    def _build_client(self) -> Any:
        from google.cloud import storage

        endpoint = self.endpoint
        if endpoint and not is_google(endpoint):
            from google.auth.credentials import AnonymousCredentials

            # An emulator: unsigned requests (a Google token must not go to another host).
            return storage.Client(
                project=self._project or "<none>",
                credentials=AnonymousCredentials(),
                client_options={"api_endpoint": endpoint},
            )
        options = {"client_options": {"api_endpoint": endpoint}} if endpoint else {}
        if self._anonymous:
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project="<none>", credentials=AnonymousCredentials(), **options)
        key = self._service_account()
        if key is not None:
            return storage.Client(
                project=self._project or key.project_id, credentials=key, **options
            )
        return storage.Client(project=self._project, **options)

    def _service_account(self) -> Any:
        """The connection's service-account key (``credentials_file``, else
        ``service_account_info``) as google-auth credentials, or ``None`` without one.
        Read locally; no token is fetched.

        Raises:
            NoCredentials: the file cannot be read. InvalidCredentials: not a key.
        """
        from google.oauth2 import service_account

        if self._credentials_file:
            path = os.path.expanduser(self._credentials_file)
            try:
                return service_account.Credentials.from_service_account_file(path, scopes=_SCOPES)
            except OSError as exc:
                raise NoCredentials(
                    f"cannot read credentials file {path}: {exc.strerror or exc}",
                    operation="credentials",
                    provider=self.provider,
                    code="CredentialsFileUnreadable",
                ) from exc
            except (ValueError, KeyError) as exc:
                raise InvalidCredentials(
                    f"{path} is not a service-account key file",
                    operation="credentials",
                    provider=self.provider,
                    code="InvalidCredentialsFile",
                ) from exc
        if self._service_account_info:
            try:
                return service_account.Credentials.from_service_account_info(
                    dict(self._service_account_info), scopes=_SCOPES
                )
            except (ValueError, KeyError) as exc:
                raise InvalidCredentials(
                    "the stored service-account key is malformed",
                    operation="credentials",
                    provider=self.provider,
                    code="InvalidCredentialsFile",
                ) from exc
        return None

    # -- errors -----------------------------------------------------------------------

    def _run(self, operation: str, bucket: str | None, key: str | None, fn: Callable[[], T]) -> T:
        """Call ``fn`` (one request) with errors translated, retrying transient ones under
        :attr:`retry_policy`."""

        def attempt() -> T:
            with self._call(operation, bucket, key):
                return fn()

        return call_with_retry(attempt, policy=self.retry_policy)

    @contextmanager
    def _call(self, operation: str, bucket: str | None, key: str | None) -> Iterator[None]:
        try:
            yield
        except StorageError as exc:
            if exc.endpoint_source is None:
                exc.endpoint_source = self._source()
            raise
        except Exception as exc:
            translated = translate(
                exc,
                operation=operation,
                bucket=bucket,
                key=key,
                endpoint=self._error_endpoint(),
            )
            if translated is None:
                raise
            translated.endpoint_source = self._source()  # named in endpoint hints
            raise translated from exc

    def _source(self) -> str | None:
        """Where the endpoint came from, for errors (see ``endpoint_source``)."""
        if self._injected:
            return None
        if self._endpoint_url:
            return self._endpoint_source
        return "STORAGE_EMULATOR_HOST" if emulator_host() else None

    def _error_endpoint(self) -> str | None:
        if self.endpoint:
            return self.endpoint
        return getattr(self._client_obj, "api_endpoint", None)

    # -- operations -------------------------------------------------------------------

    def list_buckets(self) -> list[Bucket]:
        """Every bucket of the client's project (``storage.buckets.list``), all pages."""

        def call() -> list[Bucket]:
            return [
                Bucket(b.name, created=_utc(b.time_created), region=b.location)
                for b in self._client().list_buckets(timeout=self._timeout, retry=None)
            ]

        return self._run("storage.buckets.list", None, None, call)

    def bucket_region(self, bucket: str) -> str | None:
        """The bucket's location, e.g. ``"US"``, ``"EU"``, ``"US-CENTRAL1"``
        (``storage.buckets.get``)."""

        def call() -> str | None:
            found = self._client().get_bucket(bucket, timeout=self._timeout, retry=None)
            return found.location

        return self._run("storage.buckets.get", bucket, None, call)

    def list_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "/",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """One ``storage.objects.list`` page: ``prefixes`` and ``items`` merged by key.

        Only one page is fetched per call; ``next_token`` is the response's
        ``nextPageToken``; at an endpoint that is not Google's, with a delimiter, followed
        by the greatest key listed so far (:func:`_page_token`): a prefix at or before it
        was already listed and is dropped (fake-gcs-server repeats every prefix after the
        page token on each page; Google lists each prefix once, in the page whose key range
        holds it, and its tokens pass through untouched). (gcp-storage-emulator ignores
        ``maxResults`` and answers in one page.)
        """
        server_token, after = _split_token(token)

        def call() -> Page:
            iterator = self._client().list_blobs(
                bucket,
                prefix=prefix or None,
                delimiter=delimiter or None,
                page_size=max(1, min(page_size, 1000)),
                page_token=server_token or None,
                timeout=self._timeout,
                retry=None,
            )
            page = next(iterator.pages, None)
            blobs = list(page) if page is not None else []
            prefixes = getattr(page, "prefixes", ()) if page is not None else ()
            if after is not None:
                prefixes = [p for p in prefixes if p > after]
            entries = [Entry(p, "prefix") for p in prefixes]
            entries.extend(
                Entry(
                    b.name,
                    "object",
                    size=b.size or 0,
                    last_modified=_utc(b.updated),
                    etag=b.etag,
                    storage_class=b.storage_class,
                )
                for b in blobs
            )
            entries.sort(key=lambda e: e.key)
            listed = max([after or "", *(e.key for e in entries)])
            next_token = iterator.next_page_token or None
            if next_token and delimiter and not is_google(self.endpoint):
                next_token = _page_token(next_token, listed)
            return Page(tuple(entries), next_token)

        return self._run("storage.objects.list", bucket, prefix or None, call)

    def _reload(self, bucket: str, key: str, version_id: str | None) -> Any:
        """The blob with its metadata loaded (``storage.objects.get``)."""
        generation = _generation(version_id, bucket, key)

        def call() -> Any:
            blob = self._client().bucket(bucket).blob(key, generation=generation)
            blob.reload(timeout=self._timeout, retry=None)
            return blob

        return self._run("storage.objects.get", bucket, key, call)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """An object's metadata (``storage.objects.get``); ``version_id`` is a generation.

        ``extra`` holds CRC32C / MD5 hashes, metageneration and content headers when set.
        """
        blob = self._reload(bucket, key, version_id)
        if blob.kms_key_name:
            encryption = f"Cloud KMS (key {blob.kms_key_name})"
        # SDK internal: the resource dict; Blob has no public customerEncryption accessor.
        # Checked against google-cloud-storage 3.17.1 (and 2.14.0); tests/test_sdk_internals.py.
        elif blob._properties.get("customerEncryption"):
            encryption = "customer-supplied key (CSEK)"
        else:
            encryption = "Google-managed key"
        extra_fields = {
            "CRC32C": blob.crc32c,
            "MD5": blob.md5_hash,
            "Metageneration": blob.metageneration,
            "ContentEncoding": blob.content_encoding,
            "ContentDisposition": blob.content_disposition,
            "ContentLanguage": blob.content_language,
            "CacheControl": blob.cache_control,
            "Created": blob.time_created,
            "CustomTime": blob.custom_time,
            "ComponentCount": blob.component_count,
        }
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(blob.size or 0),
            last_modified=_utc(blob.updated),
            etag=blob.etag,
            content_type=blob.content_type,
            storage_class=blob.storage_class,
            version_id=str(blob.generation) if blob.generation is not None else None,
            metadata={str(k): str(v) for k, v in (blob.metadata or {}).items()},
            encryption=encryption,
            extra={k: str(v) for k, v in extra_fields.items() if v is not None},
        )

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
        """Bytes of an object by a ranged media download (``storage.objects.get``,
        ``alt=media`` with ``Range: bytes=a-b``, RFC 9110 14.1.2).

        A suffix read first loads the object's size (one metadata request): the
        emulator ignores suffix ranges. A range at or past the end (GCS answers 416)
        returns ``b""``.

        Raises:
            InvalidRequest: a negative ``start``, ``length`` or ``suffix``.
        """
        if start < 0 or (length is not None and length < 0) or (suffix is not None and suffix < 0):
            raise InvalidRequest(
                "start, length and suffix must be >= 0",
                operation="storage.objects.get",
                provider=self.provider,
                bucket=bucket,
                key=key,
            )
        if suffix == 0 or length == 0:
            return b""
        generation = _generation(version_id, bucket, key)
        if suffix is not None:
            blob = self._reload(bucket, key, version_id)
            size = int(blob.size or 0)
            if size == 0:
                return b""
            generation = blob.generation
            first: int | None = max(0, size - suffix)
            last: int | None = size - 1
        else:
            first = start or None
            last = start + length - 1 if length is not None else None
            if first is None and last is not None:
                first = 0

        def call() -> bytes:
            blob = self._client().bucket(bucket).blob(key, generation=generation)
            return blob.download_as_bytes(
                start=first,
                end=last,
                timeout=self._timeout,
                retry=None,
                checksum=None if first or last is not None else "auto",
            )

        try:
            return self._run("storage.objects.get", bucket, key, call)
        except InvalidRequest as exc:
            if exc.status == 416:
                return b""
            raise

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
        """Bytes ``[start, end)`` into ``sink`` from one ranged media download
        (:func:`pail.drivers.gcs.transfer.stream_range`); ``version_id`` is the generation
        that pins every range of one download to one object version (``etag`` is not used:
        the generation does that on GCS).

        Raises:
            StreamInterrupted (body broke), StorageError (``storage.objects.get``), whatever
            ``sink`` raises.
        """
        generation = _generation(version_id, bucket, key)
        if not 0 <= start < end:
            raise InvalidRequest(
                f"invalid range {start}-{end}",
                operation="storage.objects.get",
                provider=self.provider,
                bucket=bucket,
                key=key,
            )
        blob = self._client().bucket(bucket).blob(key, generation=generation)

        def interrupted(exc: BaseException, received: int) -> StorageError:
            endpoint = self._error_endpoint()
            error = translate_stream(
                exc, bucket=bucket, key=key, endpoint=endpoint, read_timeout=self._timeout[1]
            )
            return error or StreamInterrupted(
                f"the body broke after {received} bytes of the range ({type(exc).__name__})",
                operation="storage.objects.get", provider=self.provider, bucket=bucket,
                key=key, code="StreamInterrupted", endpoint=endpoint,
            )  # fmt: skip

        transfer.stream_range(
            blob,
            start,
            end,
            sink,
            timeout=self._timeout,
            run=lambda fn: self._run("storage.objects.get", bucket, key, fn),
            interrupted=interrupted,
        )

    def object_checksums(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectChecksums:
        """The object's CRC32C / MD5 and generation (``storage.objects.get``)."""
        return transfer.object_checksums(self._reload(bucket, key, version_id))

    def presign(
        self, bucket: str, key: str, expires_in: int, *, version_id: str | None = None
    ) -> str:
        """A V4 signed GET URL valid for ``expires_in`` seconds, signed locally with the
        connection's service-account key (no request is sent). On an endpoint that is not
        Google's (an emulator) the URL is signed with the key of ``credentials_file`` /
        ``service_account_info`` and points at that endpoint (path style,
        ``ENDPOINT/BUCKET/KEY?X-Goog-Signature=...``; Cloud Storage docs, "V4 signing
        process").

        Raises:
            InvalidRequest: ``expires_in`` outside 1..604800, or credentials without a
                private key (code ``SigningUnavailable``).
        """
        seconds = check_expiry(
            expires_in,
            operation="storage.objects.get",
            provider=self.provider,
            bucket=bucket,
            key=key,
        )
        generation = _generation(version_id, bucket, key)
        with self._call("storage.objects.get", bucket, key):
            blob = self._client().bucket(bucket).blob(key, generation=generation)
            endpoint = self.endpoint
            if endpoint and not is_google(endpoint):
                # The client's requests are unsigned here; the key signs the URL itself.
                return transfer.signed_url(
                    blob,
                    seconds,
                    generation,
                    credentials=self._service_account(),
                    api_access_endpoint=endpoint,
                )
            return transfer.signed_url(blob, seconds, generation)

    # -- identity and permission checks (pail.drivers.gcs.probes) ---------------------

    def caller_identity(self) -> Identity:
        """The service account / user and project behind the client, read locally
        (:func:`pail.drivers.gcs.probes.caller_identity`)."""
        from pail.drivers.gcs import probes

        return probes.caller_identity(self)

    def test_permissions(self, bucket: str, permissions: list[str]) -> list[str]:
        """The permissions the caller holds on ``bucket`` (``buckets.testIamPermissions``;
        no side effects): :func:`pail.drivers.gcs.probes.test_permissions`."""
        from pail.drivers.gcs import probes

        return probes.test_permissions(self, bucket, permissions)

    # -- versions and lifecycle (pail.drivers.versions.Versioned, HasLifecycle) ---------

    def versioning_status(self, bucket: str) -> str | None:
        """``"Enabled"`` or ``None`` from the bucket's ``versioning.enabled``
        (``storage.buckets.get``; GCS has no "Suspended" state)."""
        from pail.drivers.gcs import versions

        return self._run(
            "storage.buckets.get",
            bucket,
            None,
            lambda: versions.versioning_status(self._client(), bucket, self._timeout),
        )

    def list_versions_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> VersionPage:
        """One ``storage.objects.list?versions=true`` page as a
        :class:`~pail.drivers.versions.VersionPage` (generations as version ids)."""
        from pail.drivers.gcs import versions

        return self._run(
            "storage.objects.list",
            bucket,
            prefix or None,
            lambda: versions.list_versions_page(
                self._client(),
                bucket,
                prefix,
                delimiter=delimiter,
                token=token,
                page_size=page_size,
                timeout=self._timeout,
            ),
        )

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Permanently delete one generation (``storage.objects.delete`` with
        ``generation``). Raises InvalidRequest for a non-numeric version id."""
        from pail.drivers.gcs import versions

        generation = _generation(version_id, bucket, key)
        self._run(
            "storage.objects.delete",
            bucket,
            key,
            lambda: versions.delete_version(
                self._client(), bucket, key, generation or 0, self._timeout
            ),
        )

    def restore_version(self, bucket: str, key: str, version_id: str) -> str:
        """Make noncurrent generation ``version_id`` of ``key`` live again (GCS has no
        delete markers to remove: :func:`pail.drivers.gcs.versions.restore_generation`,
        ``storage.objects.copy``); returns the new live generation.

        Raises:
            InvalidRequest: a non-numeric version id. StorageError: e.g. 412 when a live
                generation exists, 404 when the generation is gone.
        """
        from pail.drivers.gcs import versions

        generation = _generation(version_id, bucket, key) or 0
        return self._run(
            "storage.objects.copy",
            bucket,
            key,
            lambda: versions.restore_generation(
                self._client(), bucket, key, generation, self._timeout
            ),
        )

    def get_lifecycle(self, bucket: str) -> list[LifecycleRule]:
        """The bucket's lifecycle rules (``lifecycle.rule`` of ``storage.buckets.get``)."""
        from pail.drivers.gcs import versions

        return self._run(
            "storage.buckets.get",
            bucket,
            None,
            lambda: versions.get_lifecycle(self._client(), bucket, self._timeout),
        )

    def put_lifecycle(self, bucket: str, rules: list[LifecycleRule]) -> None:
        """Replace the bucket's lifecycle rules (``storage.buckets.patch``). Merge first:
        :func:`pail.services.lifecycle.apply`."""
        from pail.drivers.gcs import versions

        self._run(
            "storage.buckets.patch",
            bucket,
            None,
            lambda: versions.put_lifecycle(self._client(), bucket, rules, self._timeout),
        )

    def delete_objects(self, bucket: str, keys: Sequence[DeleteTarget]) -> DeleteResult:
        """Delete up to 1,000 keys (or ``(key, generation)`` pairs) with batched
        ``storage.objects.delete`` calls, 100 per batch request, or one request per object
        (8 at a time) once the server refused a batch (:attr:`batch_delete`). A 404 (already gone)
        counts as deleted, as on S3; other per-object errors (``forbidden``...) are in
        ``errors``, and so are, as ``NotConfirmed``, the keys of a batch reply whose
        sub-responses do not match its calls (:mod:`pail.drivers.gcs.delete`).

        Raises:
            ValueError: more than 1,000 keys.
            StorageError: a batch request itself failed (transient errors are retried:
                deletes are idempotent).
        """
        from pail.drivers.delete import targets
        from pail.drivers.gcs.delete import gcs_delete

        pairs = targets(keys)
        for key, version in pairs:  # a non-numeric generation is refused up front
            _generation(version, bucket, key)

        def call(fn: Callable[[], T]) -> T:
            return self._run("storage.objects.delete", bucket, None, fn)

        def refused() -> None:
            self.batch_delete = False

        return gcs_delete(
            self._client(),
            bucket,
            pairs,
            self._timeout,
            call,
            batch=self.batch_delete,
            on_batch_refused=refused,
        )

    # -- writes (pail.drivers.base.Writable; pail.drivers.gcs.write) ------------------

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        options: WriteOptions | None = None,
        checksums: dict[str, str] | None = None,
    ) -> WrittenObject:
        """Write ``data`` in one ``storage.objects.insert`` (multipart upload) with its
        CRC32C and MD5 for the store to check (:func:`pail.drivers.gcs.write.put_object`).

        Raises:
            ChecksumMismatch: the store refused the bytes (400) or stored other checksums.
            PreconditionFailed: ``options.if_none_match`` and the key exists (412).
            AccessDenied, StorageError: operation ``storage.objects.insert``.
        """
        from pail.drivers.gcs import write

        return write.put_object(self, bucket, key, data, options, checksums)

    def start_upload(
        self,
        bucket: str,
        key: str,
        size: int,
        *,
        options: WriteOptions | None = None,
        part_size: int | None = None,
    ) -> MultipartUpload:
        """A resumable upload session for ``size`` bytes
        (:class:`pail.drivers.gcs.write.GcsUpload`: parts in order, 256 KiB aligned, the
        last one finalizes; ``token`` is ``None``). ``part_size`` is not needed (parts go
        in order, each at the end of the previous one) and is ignored.

        Raises:
            AccessDenied, StorageError: operation ``storage.objects.insert``.
        """
        from pail.drivers.gcs import write

        return write.start_upload(self, bucket, key, size, options)

    def resume_upload(
        self, bucket: str, key: str, size: int, token: str, *, options: WriteOptions | None = None
    ) -> MultipartUpload:
        """Raises NotSupported: a session URI is never written down, so there is no token
        to resume with."""
        from pail.drivers.gcs import write

        raise write.resume_upload(bucket)

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
        """Copy inside GCS with ``storage.objects.rewrite`` until done, the source pinned to
        its generation (:func:`pail.drivers.gcs.write.copy_object`; ``part_size`` has no
        meaning here: the store chooses how much each call copies).

        Raises:
            PreconditionFailed: the source changed, or ``if_none_match`` and the key exists.
            NotFound: the source is gone. StorageError: operation ``storage.objects.rewrite``.
        """
        from pail.drivers.gcs import write

        return write.copy_object(
            self,
            source_bucket,
            source_key,
            bucket,
            key,
            size=size,
            source_version_id=source_version_id,
            source_etag=source_etag,
            options=options,
        )


def _no_background_fetch(client: Any) -> None:
    """Stop the client's bucket-metadata cache from fetching in the background.

    google-cloud-storage >= 3.x sends an unrequested ``storage.buckets.get`` from a daemon
    thread the first time each bucket is used, only to label OpenTelemetry spans. That
    doubles the requests for a one-page listing and, for an identity without
    ``storage.buckets.get``, provokes a 403 the user never asked for. The SDK skips the
    cache when the attribute is falsy (``_helpers.create_trace_span_helper``).

    SDK internal, checked against google-cloud-storage 3.17.1 (older clients have no such
    attribute, hence ``getattr``); tests/test_sdk_internals.py fails if the SDK consults
    another one. The public switch, the environment variable
    ``DISABLE_GCS_PYTHON_CLIENT_OTEL_BUCKET_METADATA``, would change every client of the
    process, the caller's own included.
    """
    if getattr(client, "_bucket_metadata_cache", None) is not None:
        client._bucket_metadata_cache = None


#: Separates the server's page token from the greatest key listed (tokens are base64 text;
#: keys may hold anything but are split off at the first separator only).
_TOKEN_SEP = "\n"


def _page_token(server_token: str, listed: str) -> str:
    """pail's page token for a delimited listing: the server's ``nextPageToken`` and the
    greatest key (object or prefix) the pages so far listed."""
    return f"{server_token}{_TOKEN_SEP}{listed}"


def _split_token(token: str | None) -> tuple[str | None, str | None]:
    """``(server token, greatest key listed)`` of a :func:`_page_token` token; a plain
    token has no key."""
    if token and _TOKEN_SEP in token:
        server_token, listed = token.split(_TOKEN_SEP, 1)
        return server_token, listed
    return token, None


def _generation(version_id: str | None, bucket: str, key: str) -> int | None:
    if not version_id:
        return None
    try:
        return int(version_id)
    except ValueError:
        raise InvalidRequest(
            f"GCS version ids are numeric generations, not {version_id!r}",
            operation="storage.objects.get",
            provider="gcs",
            bucket=bucket,
            key=key,
        ) from None
