"""S3 and S3-compatible stores (AWS, MinIO, Ceph RGW, R2, moto) through boto3.

Retries follow pail's one policy (:mod:`pail.drivers.retry`: 5 attempts, exponential
back-off with full jitter, 60 s per request, no quota shared between requests), applied
through botocore's ``needs-retry`` event (:mod:`pail.drivers.s3.retry`). botocore's own
retry handler is held to one attempt, so its shared retry quota never applies and nothing
is retried twice. Retried: throttling (429, 503 ``SlowDown``), 500, 502, 503 and 504,
``RequestTimeout``, and connection errors and timeouts. 403 (``AccessDenied``,
``InvalidAccessKeyId``, ``SignatureDoesNotMatch``), 404 (``NoSuchKey``, ``NoSuchBucket``),
every other 4xx, 501 and 505 surface after one request (``tests/drivers/test_s3_errors.py``
and ``tests/drivers/test_foreign_answers.py`` count the requests). Timeouts: connect 10 s,
read (stall) 30 s.

Every SDK exception is translated at this boundary into :mod:`pail.drivers.errors`
(the tables live in :mod:`pail.drivers.s3.errors`).

Botocore's S3 region redirector may re-send a request once to the region named by a
301/400 wrong-region answer; if that fails too the result is ``WrongRegion`` carrying
the region from ``x-amz-bucket-region`` or the error body.

What the store can do (list version, addressing, DeleteObjects, STS, versions, lifecycle,
part numbers, GetObjectAttributes, create-only writes) is :attr:`S3Driver.quirks`
(:class:`pail.drivers.quirks.QuirkState`): the connection's settings, else what failed
earlier in this process, else the flavour's defaults. A capability that answers 501 or a
body that is not S3 XML is remembered and its fallback used from then on (ListObjects V1
for ListObjectsV2, one DeleteObject per key for DeleteObjects, HeadObject ``partNumber``
for GetObjectAttributes; a 501 to ``If-None-Match`` makes create-only writes NotSupported,
code ``ConditionalWriteUnsupported``, and the transfer engine checks with HeadObject).

Writes (:class:`pail.drivers.base.Writable`) are :mod:`pail.drivers.s3.write`'s requests;
each is one API call under the retry policy (bodies are bytes in memory, so a retry sends
the same bytes).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing, contextmanager
from datetime import datetime, timezone
from typing import Any

from pail.drivers.base import (
    DEFAULT_PAGE_SIZE,
    MAX_COPY_OBJECT_SIZE,
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
from pail.drivers.errors import InvalidRequest, StorageError, StreamInterrupted
from pail.drivers.identity import Identity
from pail.drivers.quirks import BrokenPaging, QuirkState, capability_off, unsupported_reason
from pail.drivers.retry import DEFAULT_CONNECT_TIMEOUT as CONNECT_TIMEOUT
from pail.drivers.retry import DEFAULT_POLICY, RetryPolicy, check_setting
from pail.drivers.retry import DEFAULT_READ_TIMEOUT as READ_TIMEOUT
from pail.drivers.s3 import listing as fast_listing
from pail.drivers.s3 import transfer
from pail.drivers.s3.errors import translate, translate_stream
from pail.drivers.s3.retry import botocore_retries
from pail.drivers.s3.retry import install as install_retry
from pail.drivers.versions import LifecycleRule, VersionPage

# HeadObject response fields shown as ObjectInfo.extra when present.
_HEAD_EXTRA_NAMES = (
    "ContentEncoding ContentDisposition ContentLanguage CacheControl Expires ChecksumCRC32 "
    "ChecksumCRC32C ChecksumSHA1 ChecksumSHA256 PartsCount ReplicationStatus ArchiveStatus "
    "Restore ObjectLockMode ObjectLockRetainUntilDate ObjectLockLegalHoldStatus "
    "WebsiteRedirectLocation"
)
_HEAD_EXTRA = tuple(_HEAD_EXTRA_NAMES.split())
# Client options that botocore reads from Config(s3={...}) rather than Config itself.
_S3_CONFIG_KEYS = ("addressing_style", "payload_signing_enabled", "use_accelerate_endpoint")
#: Page tokens of ListObjects (V1) carry the next ``Marker`` after this prefix; any other
#: token is a ListObjectsV2 ``ContinuationToken``. The token's form decides the API of the
#: next page, so a listing keeps its API even if the connection's list version changes.
V1_TOKEN = "pail-v1-marker:"
#: Single DeleteObject requests in flight at once when DeleteObjects is not used.
SINGLE_DELETES = 8


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else value


def _entries(resp: Mapping[str, Any]) -> tuple[Entry, ...]:
    """A ListObjects(V2) answer's CommonPrefixes and Contents as one key-ordered tuple
    (already built by :mod:`pail.drivers.s3.listing` when it parsed the page)."""
    parsed = resp.get(fast_listing.ENTRIES)
    if parsed is not None:
        return parsed
    entries = [Entry(p["Prefix"], "prefix") for p in resp.get("CommonPrefixes") or []]
    entries.extend(
        Entry(
            obj["Key"],
            "object",
            size=obj.get("Size", 0),
            last_modified=_utc(obj.get("LastModified")),
            etag=_etag(obj.get("ETag")),
            storage_class=obj.get("StorageClass"),
        )
        for obj in resp.get("Contents") or []
    )
    entries.sort(key=lambda e: e.key)
    return tuple(entries)


class S3Driver:
    """The :class:`~pail.drivers.base.StorageDriver` for S3 and S3-compatible stores.

    Args:
        endpoint_url: S3-compatible endpoint (``http://127.0.0.1:9000``); ``None`` for AWS.
        region: region name; ``None`` lets botocore read ``AWS_REGION``/the profile.
        profile: AWS named profile; ``None`` uses the default credential chain (env vars,
            ``~/.aws``, SSO, session tokens, container/instance metadata).
        path_style: path-style addressing (``http://host/bucket/key``) instead of ``auto``.
        anonymous: send unsigned requests (``--no-sign-request``), for public buckets.
        access_key_id, secret_access_key, session_token: explicit credentials, held in
            memory only; they override the profile's.
        client: a ready boto3 S3 client to use instead (tests point one at moto). pail's
            retry policy is installed on it too, replacing the client's own botocore retry
            handler; its timeouts stay as they were built.
        max_attempts: attempts per request, first included (default 5): the attempts of
            ``retry``.
        connect_timeout, read_timeout: socket timeouts in seconds (default 10 and 30);
            read is the longest wait for the next byte (a stall).
        retry: the retry policy (:class:`pail.drivers.retry.RetryPolicy`; default
            :data:`~pail.drivers.retry.DEFAULT_POLICY`).
        client_options: botocore ``Config`` settings from a saved connection
            (``[connections.NAME.client]``, keys in :data:`pail.config.file.CLIENT_OPTIONS`):
            ``max_attempts`` sets the policy's attempts, ``retry_mode`` botocore's mode
            (``adaptive`` adds its client-side rate limiter; botocore itself never
            retries), the timeouts replace the arguments above, ``addressing_style``,
            ``payload_signing_enabled`` and ``use_accelerate_endpoint`` go to ``s3``, the
            rest to ``Config`` itself. They override the arguments above.
        write_args: extra arguments for writes (``ServerSideEncryption``, ``SSEKMSKeyId``,
            ``ACL``), kept in :attr:`write_args` for the operations that write.
        quirks: the connection's capability settings (``flavour``, ``list_version``,
            ``addressing_style``, ``batch_delete``, ``sts``...;
            :data:`pail.drivers.quirks.SETTINGS`).
        endpoint_source: where ``endpoint_url`` came from (``--endpoint-url``,
            ``MLFLOW_S3_ENDPOINT_URL``...): set on every error this driver raises
            (:attr:`pail.drivers.errors.StorageError.endpoint_source`) for the hints.
        verify_tls: check the endpoint's TLS certificate (botocore ``verify``); ``False``
            only when the connection says so (``MLFLOW_S3_IGNORE_TLS``).

    No network call happens until the first operation; the client is built once, under a
    lock, so a driver can be shared by worker threads.

    Raises:
        InvalidRequest: (code ``InvalidClientOption``) an attempt count, timeout or retry
            mode out of range (:data:`pail.drivers.retry.SETTING_LIMITS`); (code
            ``InvalidQuirk``) a quirk setting out of range.
    """

    provider = "s3"

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        path_style: bool = False,
        anonymous: bool = False,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        client: Any = None,
        max_attempts: int | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retry: RetryPolicy | None = None,
        client_options: Mapping[str, Any] | None = None,
        write_args: Mapping[str, Any] | None = None,
        quirks: Mapping[str, Any] | None = None,
        endpoint_source: str | None = None,
        verify_tls: bool = True,
    ) -> None:
        self._client_options = dict(client_options or {})
        # Retries and timeouts are pail's (pail.drivers.retry), not botocore Config keys.
        settings: dict[str, Any] = {
            "max_attempts": max_attempts,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        for name in (*settings, "retry_mode"):
            if name in self._client_options:
                settings[name] = self._client_options.pop(name)
        try:
            policy = retry or DEFAULT_POLICY
            if settings["max_attempts"] is not None:
                policy = policy.with_attempts(settings["max_attempts"])
            connect, read = settings["connect_timeout"], settings["read_timeout"]
            self._timeouts = (
                check_setting("connect_timeout", CONNECT_TIMEOUT if connect is None else connect),
                check_setting("read_timeout", READ_TIMEOUT if read is None else read),
            )
            self._botocore_retries = botocore_retries(settings.get("retry_mode"))
        except ValueError as exc:
            raise InvalidRequest(
                f"invalid client option: {exc}",
                operation="CreateClient",
                provider=self.provider,
                code="InvalidClientOption",
                endpoint=endpoint_url or None,
            ) from None
        #: The retry policy every request of this driver follows.
        self.retry_policy: RetryPolicy = policy
        self.write_args: dict[str, Any] = dict(write_args or {})
        self._endpoint_url = endpoint_url or None
        self._region = region or None
        self._profile = profile or None
        self._path_style = path_style
        self._anonymous = anonymous
        self._access_key_id = access_key_id
        self._secret_access_key = secret_access_key
        self._session_token = session_token
        self._endpoint_source = endpoint_source or None
        self._verify_tls = verify_tls
        self._max_attempts = policy.attempts
        self._client_obj = client
        self._injected = client is not None
        if client is not None:
            fast_listing.install(client)  # before install_retry: see its docstring
            install_retry(client, policy, replace_botocore=True)
        self._lock = threading.Lock()
        try:
            #: What this connection's store can do (:mod:`pail.drivers.quirks`).
            self.quirks = QuirkState(self.endpoint, quirks)
        except ValueError as exc:
            raise InvalidRequest(
                f"invalid setting: {exc}",
                operation="CreateClient",
                provider=self.provider,
                code="InvalidQuirk",
                endpoint=endpoint_url or None,
            ) from None
        self._server_seen = False
        if client is not None:
            self._watch_server(client)

    def __repr__(self) -> str:
        return f"S3Driver(endpoint={self.endpoint!r}, profile={self._profile!r})"

    @property
    def endpoint(self) -> str | None:
        """The configured endpoint URL, or an injected client's; ``None`` for AWS defaults."""
        if self._endpoint_url:
            return self._endpoint_url
        if self._injected:
            return getattr(self._client_obj.meta, "endpoint_url", None)
        return None

    # -- client -----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The boto3 S3 client, built on first use (for presigned URLs, instrumentation).

        Raises NoCredentials when the named profile does not exist.
        """
        with self._call("CreateClient"):
            return self._client()

    def _client(self) -> Any:
        if self._client_obj is None:
            with self._lock:
                if self._client_obj is None:
                    self._client_obj = self._build_client()
        return self._client_obj

    def service_client(self, service: str, *, endpoint_url: str | None = None) -> Any:
        """A boto3 client for another AWS service (``"athena"``...) with this connection's
        credentials, region and TLS setting; ``endpoint_url`` for a non-AWS endpoint (a test
        server). Built per call; pail's retry policy is not installed on it.

        Raises:
            InvalidRequest: botocore refuses the options (service name, endpoint).
        """
        from botocore.config import Config

        with self._call("CreateClient"):
            try:
                return self._session().client(
                    service,
                    endpoint_url=endpoint_url,
                    verify=None if self._verify_tls else False,
                    config=Config(
                        connect_timeout=self._timeouts[0], read_timeout=self._timeouts[1]
                    ),
                )
            except ValueError as exc:  # unknown service, endpoint without a scheme
                raise InvalidRequest(
                    f"cannot build a {service} client: {exc}",
                    operation="CreateClient",
                    provider=self.provider,
                    code="InvalidClientOption",
                    endpoint=endpoint_url,
                ) from exc

    def _session(self) -> Any:
        import boto3

        return boto3.Session(
            profile_name=self._profile,
            aws_access_key_id=self._access_key_id,
            aws_secret_access_key=self._secret_access_key,
            aws_session_token=self._session_token,
            region_name=self._region,
        )

    def _build_client(self, signature_version: str | None = None) -> Any:
        from botocore import UNSIGNED
        from botocore.config import Config

        session = self._session()
        style = "path" if self._path_style else self.quirks.get("addressing_style")
        options: dict[str, Any] = {
            "s3": {"addressing_style": style},
            "max_pool_connections": 32,
            "connect_timeout": self._timeouts[0],
            "read_timeout": self._timeouts[1],
            # botocore sends each request once; pail's handler retries (s3/retry.py).
            "retries": dict(self._botocore_retries),
        }
        for key, value in self._client_options.items():
            if key in _S3_CONFIG_KEYS:
                options["s3"][key] = value
            else:
                options[key] = value
        if self._anonymous:
            options["signature_version"] = UNSIGNED
        elif signature_version:
            options["signature_version"] = signature_version
        verify = None
        if not self._verify_tls:  # the connection asked for it (MLFLOW_S3_IGNORE_TLS)
            import warnings

            from urllib3.exceptions import InsecureRequestWarning

            verify = False
            warnings.simplefilter("ignore", InsecureRequestWarning)  # said once, not per call
        try:
            client = session.client(
                "s3", endpoint_url=self._endpoint_url, config=Config(**options), verify=verify
            )
            self._watch_server(client)
            fast_listing.install(client)  # before install_retry: see its docstring
            return install_retry(client, self.retry_policy)
        except TypeError as exc:  # a client option botocore's Config does not take
            raise InvalidRequest(
                f"invalid client option: {exc}",
                operation="CreateClient",
                provider=self.provider,
                code="InvalidClientOption",
                endpoint=self._endpoint_url,
            ) from exc
        except ValueError as exc:  # botocore: "Invalid endpoint: host:9000" (no scheme)
            raise InvalidRequest(
                f"invalid endpoint URL {self._endpoint_url!r}: give scheme and host, "
                "e.g. http://127.0.0.1:9000",
                operation="CreateClient",
                provider=self.provider,
                code="InvalidEndpoint",
                endpoint=self._endpoint_url,
            ) from exc

    def _watch_server(self, client: Any) -> None:
        """Read the ``Server`` header of the first answer: it names the flavour
        (:meth:`pail.drivers.quirks.QuirkState.observe_server`)."""

        def seen(http_response: Any = None, **_: Any) -> None:
            if self._server_seen or http_response is None:
                return
            self._server_seen = True
            self.quirks.observe_server(getattr(http_response, "headers", {}).get("Server"))

        client.meta.events.register("after-call.s3", seen, unique_id=f"pail-server-{id(self)}")

    # -- errors -----------------------------------------------------------------------

    @contextmanager
    def _call(self, operation: str, bucket: str | None = None, key: str | None = None):
        """Translate botocore exceptions raised inside the block (``raise X from exc``)."""
        try:
            yield
        except StorageError as exc:
            if exc.endpoint_source is None:
                exc.endpoint_source = self._endpoint_source
            raise
        except Exception as exc:
            translated = translate(
                exc,
                operation=operation,
                bucket=bucket,
                key=key,
                endpoint=self._error_endpoint(),
                secrets=(self._secret_access_key, self._session_token),
            )
            if translated is None:
                raise
            translated.endpoint_source = self._endpoint_source  # named in endpoint hints
            raise translated from exc

    def _require(
        self, name: str, operation: str, bucket: str | None = None, key: str | None = None
    ) -> None:
        """Raise CapabilityOff when capability ``name`` is off for this connection
        (:mod:`pail.drivers.quirks`); no request is sent."""
        if not self.quirks.get(name):
            raise capability_off(
                self.quirks,
                name,
                operation,
                provider=self.provider,
                bucket=bucket,
                key=key,
                endpoint=self._error_endpoint(),
            )

    def _remember_failure(
        self,
        exc: BaseException,
        name: str,
        operation: str,
        value: Any = False,
        *,
        parse_errors: bool = True,
    ) -> bool:
        """Remember capability ``name`` as ``value`` when ``exc`` says the store lacks it
        (501, or with ``parse_errors`` an answer that is not S3 XML); True when it was
        remembered now."""
        reason = unsupported_reason(exc, parse_errors=parse_errors)
        return reason is not None and self.quirks.remember(name, value, operation, reason)

    def _error_endpoint(self) -> str | None:
        if self.endpoint:
            return self.endpoint
        client = self._client_obj
        return getattr(getattr(client, "meta", None), "endpoint_url", None)

    # -- operations -------------------------------------------------------------------

    def list_buckets(self) -> list[Bucket]:
        """Every bucket the identity owns (S3 ListBuckets), following ContinuationToken.

        Raises AccessDenied when the identity lacks ``s3:ListAllMyBuckets``.
        """
        buckets: list[Bucket] = []
        params: dict[str, Any] = {}
        with self._call("ListBuckets"):
            while True:
                resp = self._client().list_buckets(**params)
                for item in resp.get("Buckets", []):
                    buckets.append(
                        Bucket(
                            name=item["Name"],
                            created=_utc(item.get("CreationDate")),
                            region=item.get("BucketRegion"),
                        )
                    )
                token = resp.get("ContinuationToken")
                if not token:
                    return buckets
                params["ContinuationToken"] = token

    def bucket_region(self, bucket: str) -> str | None:
        """The bucket's region (S3 GetBucketLocation).

        An empty/``None`` LocationConstraint means ``us-east-1`` and the legacy ``EU``
        means ``eu-west-1`` (S3 API reference, GetBucketLocation).
        """
        with self._call("GetBucketLocation", bucket):
            resp = self._client().get_bucket_location(Bucket=bucket)
        location = resp.get("LocationConstraint")
        if not location:
            return "us-east-1"
        return "eu-west-1" if location == "EU" else location

    def list_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "/",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """One listing page (see :meth:`_list`)."""
        return self._list(bucket, prefix, delimiter, token, None, page_size)

    def list_page_after(
        self,
        bucket: str,
        prefix: str,
        start_after: str,
        *,
        delimiter: str = "/",
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """The first page after ``start_after`` (ListObjectsV2 ``StartAfter``; with V1,
        ``Marker``), then on with its ``next_token`` (see :meth:`_list`)."""
        return self._list(bucket, prefix, delimiter, None, start_after, page_size)

    def _list(
        self,
        bucket: str,
        prefix: str,
        delimiter: str,
        token: str | None,
        start_after: str | None,
        page_size: int,
    ) -> Page:
        """One listing page: CommonPrefixes and Contents merged in key order.

        ListObjectsV2 by default; ListObjects (V1, ``Marker``) when the connection's
        ``list_version`` is 1 or ``token`` came from a V1 page. S3 returns the page's
        prefixes and objects in two arrays; they are merged into one tuple sorted by key
        (UTF-8 binary order equals code-point order). botocore requests
        ``EncodingType=url`` and decodes keys, so keys with control characters survive
        the XML.

        Fallbacks (remembered for the connection, :mod:`pail.drivers.quirks`): a first
        ListObjectsV2 page answered with 501 or a body that is not S3 XML is listed again
        with V1; a V2 page that says ``IsTruncated`` without a ``NextContinuationToken``
        continues with V1 after its last key (the rule the S3 API reference gives for
        ListObjects without ``NextMarker``).

        Raises:
            StorageError: as every call; InvalidRequest (code ``BrokenPaging``) when the
            store says a page is truncated but gives no way to the next one and the
            connection's settings forbid the fallback, or when a token does not advance.
        """
        size = max(1, min(page_size, 1000))
        if token and token.startswith(V1_TOKEN):
            return self._list_v1(bucket, prefix, delimiter, token[len(V1_TOKEN) :], size)
        if not token and self.quirks.get("list_version") == 1:
            return self._list_v1(bucket, prefix, delimiter, start_after, size)
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": size}
        if delimiter:
            params["Delimiter"] = delimiter
        if token:
            params["ContinuationToken"] = token
        elif start_after:
            params["StartAfter"] = start_after
        try:
            with self._call("ListObjectsV2", bucket, prefix or None), fast_listing.parsing():
                resp = self._client().list_objects_v2(**params)
        except Exception as exc:
            reason = unsupported_reason(exc)
            if reason is None or token or self.quirks.source("list_version") == "setting":
                raise
            failed = exc
        else:
            return self._v2_page(resp, bucket, prefix, token)
        # Remembered only when V1 answers: an endpoint that is not S3 at all fails both
        # ways, and then the V2 error is the one to show.
        try:
            page = self._list_v1(bucket, prefix, delimiter, start_after, size)
        except StorageError:
            raise failed from None
        self.quirks.remember("list_version", 1, "ListObjectsV2", reason)
        return page

    def _v2_page(
        self, resp: Mapping[str, Any], bucket: str, prefix: str, token: str | None
    ) -> Page:
        """A ListObjectsV2 answer as a Page; a truncated page without a usable
        ``NextContinuationToken`` goes on with V1 after its last key (remembered), unless
        the connection's setting says V2 (then BrokenPaging)."""
        entries = _entries(resp)
        if not resp.get("IsTruncated"):
            return Page(entries, None)
        next_token = resp.get("NextContinuationToken")
        if next_token and next_token != token:
            return Page(entries, next_token)
        why = "said the page is truncated but gave no NextContinuationToken"
        if next_token:
            why = "gave the same ContinuationToken again"
        if entries:
            self.quirks.remember("list_version", 1, "ListObjectsV2", why)
            if self.quirks.source("list_version") != "setting":
                return Page(entries, V1_TOKEN + entries[-1].key)
        raise self._broken_paging("ListObjectsV2", bucket, prefix, why)

    def _list_v1(
        self, bucket: str, prefix: str, delimiter: str, marker: str | None, size: int
    ) -> Page:
        """One ListObjects (V1) page after ``marker``. The next marker is ``NextMarker``,
        else the page's last key or common prefix (S3 API reference, ListObjects:
        "If response does not include the NextMarker element and it is truncated, you can
        use the value of the last Key element in the response as the marker parameter")."""
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": size}
        if delimiter:
            params["Delimiter"] = delimiter
        if marker:
            params["Marker"] = marker
        with self._call("ListObjects", bucket, prefix or None), fast_listing.parsing():
            resp = self._client().list_objects(**params)
        entries = _entries(resp)
        if not resp.get("IsTruncated"):
            return Page(entries, None)
        following = resp.get("NextMarker") or (entries[-1].key if entries else None)
        if not following or following == marker:
            why = "said the page is truncated but gave no key to continue after"
            raise self._broken_paging("ListObjects", bucket, prefix, why)
        return Page(entries, V1_TOKEN + following)

    def _broken_paging(self, operation: str, bucket: str, prefix: str, why: str) -> StorageError:
        other = 2 if operation == "ListObjects" else 1
        return BrokenPaging(
            f"{operation} {why}: the listing cannot go on past this page. The store's "
            f"paging is broken; set list_version = {other} for this connection "
            f"(or --list-version {other})",
            operation=operation,
            provider=self.provider,
            bucket=bucket,
            key=prefix or None,
            code="BrokenPaging",
            endpoint=self._error_endpoint(),
        )

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """An object's metadata (S3 HeadObject).

        HEAD responses carry no error body, so a 404 comes out as NotFound with code
        ``NotFound`` (the key or the bucket is missing). Storage class defaults to
        ``STANDARD``: S3 omits the header for it.
        """
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        with self._call("HeadObject", bucket, key):
            resp = self._client().head_object(**params)
        encryption = resp.get("ServerSideEncryption")
        if resp.get("SSEKMSKeyId"):
            encryption = f"{encryption or 'aws:kms'} (key {resp['SSEKMSKeyId']})"
        elif resp.get("SSECustomerAlgorithm"):
            encryption = f"SSE-C {resp['SSECustomerAlgorithm']}"
        extra = {name: str(resp[name]) for name in _HEAD_EXTRA if resp.get(name) is not None}
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=int(resp.get("ContentLength", 0)),
            last_modified=_utc(resp.get("LastModified")),
            etag=_etag(resp.get("ETag")),
            content_type=resp.get("ContentType"),
            storage_class=resp.get("StorageClass") or "STANDARD",
            version_id=resp.get("VersionId"),
            metadata=dict(resp.get("Metadata") or {}),
            encryption=encryption,
            extra=extra,
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
        """Bytes of an object by GetObject with a ``Range`` header (RFC 9110 14.1.2).

        ``bytes=start-end`` or the suffix form ``bytes=-N``. S3 answers 416 InvalidRange
        for a range starting at or past the end (and for any range of a 0-byte object):
        that is returned as ``b""``, like reading past the end of a file.

        Raises:
            InvalidRequest: a negative ``start`` or ``length``.
            NotFound, AccessDenied, ...: as for every call.
        """
        if start < 0 or (length is not None and length < 0) or (suffix is not None and suffix < 0):
            raise InvalidRequest(
                "start, length and suffix must be >= 0",
                operation="GetObject",
                provider=self.provider,
                bucket=bucket,
                key=key,
            )
        if suffix is not None:
            if suffix == 0:
                return b""
            byte_range: str | None = f"bytes=-{suffix}"
        elif length == 0:
            return b""
        elif length is not None:
            byte_range = f"bytes={start}-{start + length - 1}"
        else:
            byte_range = f"bytes={start}-" if start else None
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if byte_range:
            params["Range"] = byte_range
        if version_id:
            params["VersionId"] = version_id
        try:
            with self._call("GetObject", bucket, key):
                resp = self._client().get_object(**params)
                with closing(resp["Body"]) as body:  # returns the connection to the pool
                    return body.read()
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
        """Bytes ``[start, end)`` of the object into ``sink`` from one GetObject with
        ``Range`` and ``If-Match`` (see :meth:`pail.drivers.base.StorageDriver.stream_range`
        and :func:`pail.drivers.s3.transfer.stream_range`).

        Raises:
            StreamInterrupted (body broke), StorageError (operation ``GetObject``; 412
            PreconditionFailed when the object changed), whatever ``sink`` raises.
        """
        if not 0 <= start < end:
            raise InvalidRequest(
                f"invalid range {start}-{end}",
                operation="GetObject",
                provider=self.provider,
                bucket=bucket,
                key=key,
            )

        def interrupted(exc: BaseException, received: int) -> StorageError:
            endpoint = self._error_endpoint()
            error = translate_stream(
                exc, bucket=bucket, key=key, endpoint=endpoint, read_timeout=self._timeouts[1]
            )
            return error or StreamInterrupted(
                f"the body broke after {received} bytes of the range ({type(exc).__name__})",
                operation="GetObject", provider=self.provider, bucket=bucket, key=key,
                code="StreamInterrupted", endpoint=endpoint,
            )  # fmt: skip

        with self._call("GetObject", bucket, key):
            transfer.stream_range(
                self._client(),
                bucket,
                key,
                start,
                end,
                sink,
                version_id=version_id,
                etag=etag,
                interrupted=interrupted,
            )

    def object_checksums(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectChecksums:
        """HeadObject with ``ChecksumMode=ENABLED``: size, ETag (and whether it is an MD5)
        and the additional checksums (:func:`pail.drivers.s3.transfer.object_checksums`)."""
        with self._call("HeadObject", bucket, key):
            return transfer.object_checksums(self._client(), bucket, key, version_id)

    def presign(
        self, bucket: str, key: str, expires_in: int, *, version_id: str | None = None
    ) -> str:
        """A presigned GetObject URL valid for ``expires_in`` seconds (SigV4 query
        authentication, computed locally: no request is sent). An anonymous connection
        gives the plain object URL.

        Raises:
            InvalidRequest: ``expires_in`` outside 1..604800. NoCredentials: none found.
        """
        seconds = check_expiry(
            expires_in, operation="GetObject", provider=self.provider, bucket=bucket, key=key
        )
        with self._call("GetObject", bucket, key):
            return transfer.presigned_get(self._presign_client(), bucket, key, seconds, version_id)

    def _presign_client(self) -> Any:
        """A client that signs with SigV4: botocore may presign S3 URLs with the legacy
        SigV2 when no signature version is configured, which newer regions reject and
        whose expiry is not bounded to 7 days. An injected client is used as it is."""
        client = self._client()
        if self._injected or self._anonymous or "signature_version" in self._client_options:
            return client
        with self._lock:
            if getattr(self, "_sigv4_client", None) is None:
                self._sigv4_client = self._build_client(signature_version="s3v4")
        return self._sigv4_client

    def part_size(
        self, bucket: str, key: str, *, version_id: str | None = None, part_number: int = 1
    ) -> int | None:
        """Size in bytes of part ``part_number`` of a multipart object (HeadObject
        ``PartNumber``), or ``None`` for a single-part object. S3-only.

        Raises:
            StorageError: as HeadObject (a store without part numbers answers 400);
                CapabilityOff when the connection's ``head_part_number`` is off.
        """
        self._require("head_part_number", "HeadObject", bucket, key)
        try:
            with self._call("HeadObject", bucket, key):
                return transfer.part_size(self._client(), bucket, key, part_number, version_id)
        except StorageError as exc:
            self._remember_failure(exc, "head_part_number", "HeadObject partNumber")
            raise

    def part_sizes(
        self, bucket: str, key: str, parts: int, *, version_id: str | None = None
    ) -> list[int]:
        """Every part's size in bytes of a ``parts``-part object (GetObjectAttributes, else
        one HeadObject per part). S3-only. Raises StorageError."""

        def call(fn: Callable[[], Any]) -> Any:
            with self._call("HeadObject", bucket, key):
                return fn()

        def failed(exc: BaseException) -> None:
            self._remember_failure(exc, "object_attributes", "GetObjectAttributes")

        self._require("head_part_number", "HeadObject", bucket, key)
        return transfer.part_sizes(
            self._client(),
            bucket,
            key,
            parts,
            version_id,
            call,
            use_attributes=bool(self.quirks.get("object_attributes")),
            attributes_failed=failed,
        )

    # -- identity and permission probes (pail.drivers.s3.probes) ----------------------

    def caller_identity(self) -> Identity:
        """Who signs the requests: STS GetCallerIdentity with this driver's credentials
        (see :func:`pail.drivers.s3.probes.caller_identity` for errors)."""
        from pail.drivers.s3 import probes

        if not self._anonymous:
            self._require("sts", "GetCallerIdentity")
        try:
            return probes.caller_identity(self)
        except StorageError as exc:
            self._remember_failure(exc, "sts", "GetCallerIdentity")
            raise

    def probe(
        self, operation: str, bucket: str, key: str = "", *, version_id: str | None = None
    ) -> dict[str, Any]:
        """One permission probe (an S3 API name from
        :data:`pail.drivers.s3.probes.PROBE_OPERATIONS`); see :func:`probes.probe`."""
        from pail.drivers.s3 import probes

        return probes.probe(self, operation, bucket, key, version_id=version_id)

    # -- versions and lifecycle (pail.drivers.versions.Versioned, HasLifecycle) ---------

    def versioning_status(self, bucket: str) -> str | None:
        """``"Enabled"``, ``"Suspended"`` or ``None`` (never enabled): GetBucketVersioning."""
        from pail.drivers.s3 import versions

        self._require("versioning", "GetBucketVersioning", bucket)
        try:
            with self._call("GetBucketVersioning", bucket):
                return versions.versioning_status(self._client(), bucket)
        except StorageError as exc:
            self._remember_failure(exc, "versioning", "GetBucketVersioning")
            raise

    def list_versions_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> VersionPage:
        """One ListObjectVersions page as a :class:`~pail.drivers.versions.VersionPage`
        (:mod:`pail.drivers.s3.versions`); ``token`` packs KeyMarker + VersionIdMarker.

        Raises:
            InvalidRequest: a token this driver did not make. StorageError: as every call.
        """
        from pail.drivers.s3 import versions

        try:
            if token:
                versions.decode_token(token)
        except ValueError as exc:
            raise InvalidRequest(
                str(exc), operation="ListObjectVersions", provider=self.provider, bucket=bucket
            ) from None
        self._require("versioning", "ListObjectVersions", bucket)
        try:
            with self._call("ListObjectVersions", bucket, prefix or None):
                return versions.list_versions_page(
                    self._client(),
                    bucket,
                    prefix,
                    delimiter=delimiter,
                    token=token,
                    page_size=page_size,
                )
        except StorageError as exc:
            self._remember_failure(exc, "versioning", "ListObjectVersions")
            raise

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Permanently delete one version or delete marker (DeleteObject with VersionId;
        needs ``s3:DeleteObjectVersion``)."""
        from pail.drivers.s3 import versions

        with self._call("DeleteObject", bucket, key):
            versions.delete_version(self._client(), bucket, key, version_id)

    def get_lifecycle(self, bucket: str) -> list[LifecycleRule]:
        """The bucket's lifecycle rules (GetBucketLifecycleConfiguration ``Rules``);
        ``[]`` when S3 answers 404 NoSuchLifecycleConfiguration."""
        from pail.drivers.errors import NotFound
        from pail.drivers.s3 import versions

        self._require("lifecycle", "GetBucketLifecycleConfiguration", bucket)
        try:
            with self._call("GetBucketLifecycleConfiguration", bucket):
                return versions.get_lifecycle(self._client(), bucket)
        except NotFound as exc:
            if exc.code == "NoSuchLifecycleConfiguration":
                return []
            raise
        except StorageError as exc:
            self._remember_failure(exc, "lifecycle", "GetBucketLifecycleConfiguration")
            raise

    def put_lifecycle(self, bucket: str, rules: list[LifecycleRule]) -> None:
        """Replace the lifecycle configuration (PutBucketLifecycleConfiguration;
        DeleteBucketLifecycle when ``rules`` is empty). Merge first:
        :func:`pail.services.lifecycle.apply`."""
        from pail.drivers.s3 import versions

        operation = "PutBucketLifecycleConfiguration" if rules else "DeleteBucketLifecycle"
        self._require("lifecycle", operation, bucket)
        try:
            with self._call(operation, bucket):
                versions.put_lifecycle(self._client(), bucket, rules)
        except StorageError as exc:
            self._remember_failure(exc, "lifecycle", operation)
            raise

    # -- inventory configurations (pail.drivers.inventory.HasInventory) ---------------

    def list_inventory_configurations(self, bucket: str) -> list[dict[str, Any]]:
        """Every inventory configuration of ``bucket`` in S3's shape (S3
        ListBucketInventoryConfigurations, all pages; :mod:`pail.drivers.s3.inventory`);
        ``[]`` when it has none.

        Raises:
            StorageError: as every call (AccessDenied without
                ``s3:GetInventoryConfiguration``, NotFound for a missing bucket).
        """
        from pail.drivers.s3 import inventory

        with self._call("ListBucketInventoryConfigurations", bucket):
            return inventory.list_configurations(self._client(), bucket)

    def delete_objects(self, bucket: str, keys: Sequence[DeleteTarget]) -> DeleteResult:
        """Delete up to 1,000 keys (or ``(key, version_id)`` pairs) with one DeleteObjects
        request (``Quiet=false``). Only keys named in the reply's ``Deleted`` list are in
        ``deleted``; keys S3 refuses inside its HTTP 200 answer (``AccessDenied``...) are
        in ``errors`` with their code, keys the reply does not name with ``NotConfirmed``
        (:mod:`pail.drivers.s3.delete`).

        When the connection's ``batch_delete`` is off (or DeleteObjects answered 501, which
        is then remembered), each key is deleted with its own
        DeleteObject, :data:`SINGLE_DELETES` at a time: a key counts as deleted when its
        request succeeded, and a refused one carries the request's error code.

        Raises:
            ValueError: more than 1,000 keys.
            StorageError: the request itself failed (operation ``DeleteObjects``).
        """
        from pail.drivers.delete import targets
        from pail.drivers.s3.delete import s3_delete

        pairs = targets(keys)
        if not self.quirks.get("batch_delete"):
            return self._delete_each(bucket, pairs)
        try:
            with self._call("DeleteObjects", bucket):
                return s3_delete(self._client(), bucket, pairs)
        except Exception as exc:
            # Only a 501: a DeleteObjects reply that is not XML confirms nothing and is no
            # sign the single DeleteObject would fare better (the endpoint may not be S3).
            self._remember_failure(exc, "batch_delete", "DeleteObjects", parse_errors=False)
            unsupported = unsupported_reason(exc, parse_errors=False) is not None
            if self.quirks.get("batch_delete") or not unsupported:
                raise  # a setting keeps DeleteObjects, or the store did not say "unsupported"
            return self._delete_each(bucket, pairs)

    def _delete_each(self, bucket: str, pairs: list[tuple[str, str | None]]) -> DeleteResult:
        """One DeleteObject per ``(key, version_id)`` pair, :data:`SINGLE_DELETES` at a
        time (concurrent.futures threads; each request follows the retry policy)."""
        from concurrent.futures import ThreadPoolExecutor

        from pail.drivers.base import DeletedKey, DeleteFailure

        def one(pair: tuple[str, str | None]) -> DeletedKey | DeleteFailure:
            key, version = pair
            params: dict[str, Any] = {"Bucket": bucket, "Key": key}
            if version:
                params["VersionId"] = version
            try:
                with self._call("DeleteObject", bucket, key):
                    self._client().delete_object(**params)
            except StorageError as exc:
                return DeleteFailure(key, version, exc.code or type(exc).__name__, exc.message)
            return DeletedKey(key, version)

        result = DeleteResult()
        if not pairs:
            return result
        with ThreadPoolExecutor(min(SINGLE_DELETES, len(pairs)), "pail-delete-one") as pool:
            for outcome in pool.map(one, pairs):
                if isinstance(outcome, DeletedKey):
                    result.deleted.append(outcome)
                else:
                    result.errors.append(outcome)
        return result

    # -- writes (pail.drivers.base.Writable; pail.drivers.s3.write) --------------------

    def _write_call(self, operation: str, bucket: str, key: str) -> Any:
        """The translation context of one write request (``_call``), for
        :mod:`pail.drivers.s3.write`."""
        return self._call(operation, bucket, key)

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        options: WriteOptions | None = None,
        checksums: dict[str, str] | None = None,
    ) -> WrittenObject:
        """PutObject of ``data`` with the connection's ``write_args``, the options and
        ``checksums`` (MD5 as Content-MD5, the others as ``x-amz-checksum-*``); see
        :func:`pail.drivers.s3.write.put_object`.

        Raises:
            ChecksumMismatch: the store refused the bytes (BadDigest...).
            PreconditionFailed: ``options.if_none_match`` and the key exists.
            NotSupported: (code ``ConditionalWriteUnsupported``) the store does not do
                ``If-None-Match`` (501), now or earlier in this process.
            AccessDenied, StorageError: the request failed (operation ``PutObject``).
        """
        from pail.drivers.s3 import write

        opts = options or WriteOptions()
        with self._conditional(opts, "PutObject", bucket, key):
            return write.put_object(
                self._client(), self._write_call, bucket, key, data, opts, checksums,
                self.write_args,
            )  # fmt: skip

    def start_upload(
        self,
        bucket: str,
        key: str,
        size: int,
        *,
        options: WriteOptions | None = None,
        part_size: int | None = None,
    ) -> MultipartUpload:
        """CreateMultipartUpload: an :class:`pail.drivers.s3.write.S3Upload` whose token is
        the UploadId (``ChecksumAlgorithm`` + ``ChecksumType`` FULL_OBJECT for CRC64NVME,
        CRC32C, CRC32; COMPOSITE for SHA1, SHA256). ``part_size`` is not needed: S3 places
        parts by number.

        Raises:
            NotSupported: (code ``ConditionalWriteUnsupported``) a create-only upload on a
                store found not to do ``If-None-Match``.
            AccessDenied, StorageError: the request failed (operation
                ``CreateMultipartUpload``).
        """
        from pail.drivers.s3 import write

        opts = options or WriteOptions()
        if opts.if_none_match:
            self._check_conditional("CreateMultipartUpload", bucket, key)
        return write.start_upload(
            self._client, self._write_call, bucket, key, size, opts, self.write_args,
            guard=self._if_none_match_guard,
        )  # fmt: skip

    def resume_upload(
        self, bucket: str, key: str, size: int, token: str, *, options: WriteOptions | None = None
    ) -> MultipartUpload:
        """The multipart upload whose UploadId is ``token``, checked with one ListParts page.

        Raises:
            NotFound: (code ``NoSuchUpload``) it was completed, aborted or has expired.
            StorageError: the request failed (operation ``ListParts``).
        """
        from pail.drivers.s3 import write

        opts = options or WriteOptions()
        return write.resume_upload(
            self._client, self._write_call, bucket, key, size, token, opts,
            guard=self._if_none_match_guard,
        )  # fmt: skip

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
        """A server-side copy: CopyObject (``CopySourceIfMatch`` from ``source_etag``), or
        UploadPartCopy ranges above :data:`~pail.drivers.base.MAX_COPY_OBJECT_SIZE` (or
        ``part_size``); see :func:`pail.drivers.s3.write.copy_object`.

        Raises:
            PreconditionFailed: the source changed, or ``if_none_match`` and the key exists.
            NotSupported: (code ``ConditionalWriteUnsupported``) as :meth:`put_object`.
            NotFound, AccessDenied, StorageError: operation ``CopyObject`` /
                ``UploadPartCopy``.
        """
        from pail.drivers.s3 import write

        opts = options or WriteOptions()
        operation = (
            "CopyObject"
            if size <= (part_size or MAX_COPY_OBJECT_SIZE)
            else ("CompleteMultipartUpload")
        )
        with self._conditional(opts, operation, bucket, key):
            return write.copy_object(
                self._client, self._write_call, source_bucket, source_key, bucket, key,
                size=size, source_version_id=source_version_id, source_etag=source_etag,
                options=opts, write_args=self.write_args, part_size=part_size,
            )  # fmt: skip

    def _check_conditional(self, operation: str, bucket: str, key: str) -> None:
        """Raise NotSupported (``ConditionalWriteUnsupported``) when this store was found
        not to do ``If-None-Match`` (:mod:`pail.drivers.quirks` ``conditional_writes``)."""
        if not self.quirks.get("conditional_writes"):
            raise self._conditional_unsupported(operation, bucket, key)

    def _conditional_unsupported(self, operation: str, bucket: str, key: str) -> StorageError:
        from pail.drivers.errors import NotSupported

        error = NotSupported(
            f"{operation}: this store does not do create-only writes (If-None-Match: *); "
            f"{self.quirks.source('conditional_writes')}",
            operation=operation,
            provider=self.provider,
            bucket=bucket,
            key=key,
            code="ConditionalWriteUnsupported",
            endpoint=self._error_endpoint(),
        )
        error.endpoint_source = self._endpoint_source
        return error

    @contextmanager
    def _conditional(self, options: WriteOptions, operation: str, bucket: str, key: str):
        """Around a write that may send ``If-None-Match``: refuse at once when the store is
        known not to do it; a 501 NotImplemented answer to it is remembered and becomes
        NotSupported (``ConditionalWriteUnsupported``)."""
        if not options.if_none_match:
            yield
            return
        self._check_conditional(operation, bucket, key)
        try:
            yield
        except StorageError as exc:
            if unsupported_reason(exc, parse_errors=False) is None:
                raise
            self.quirks.remember("conditional_writes", False, exc.operation or operation,
                                 "answered 501 NotImplemented to If-None-Match")  # fmt: skip
            raise self._conditional_unsupported(exc.operation or operation, bucket, key) from exc

    def _if_none_match_guard(self, operation: str, bucket: str, key: str) -> Any:
        """The :meth:`_conditional` context of a create-only request (a multipart upload's
        CompleteMultipartUpload)."""
        return self._conditional(WriteOptions(if_none_match=True), operation, bucket, key)
