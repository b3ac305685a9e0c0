"""Local folder driver: a folder of buckets, or one folder as one bucket.

Like modelkit's local storage provider, a bucket is a directory and a key is the path of a
file below it with ``/`` separators. Listing follows S3's ListObjectsV2 semantics so the
UI and services need no special case: keys sorted in UTF-8 binary order, one level with
``delimiter="/"`` (sub-folders become prefixes ending in ``/``), ``delimiter=""`` for every
key below, and paging with an opaque token (the last key returned, like ``StartAfter``).
"""

from __future__ import annotations

import errno
import mimetypes
import os
from bisect import bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pail.drivers.base import (
    DEFAULT_PAGE_SIZE,
    Bucket,
    DeleteResult,
    DeleteTarget,
    Entry,
    ObjectChecksums,
    ObjectInfo,
    Page,
    check_expiry,
)
from pail.drivers.errors import (
    AccessDenied,
    InvalidRequest,
    NotFound,
    StorageError,
    StreamInterrupted,
)
from pail.drivers.versions import LifecycleRule, VersionPage, not_supported

#: Copy size of a local download.
_COPY_CHUNK = 1024 * 1024


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _sort_key(key: str) -> bytes:
    # S3 and GCS order keys by their UTF-8 bytes; mirror that exactly.
    return key.encode("utf-8", "surrogateescape")


def _etag(st: os.stat_result) -> str:
    # Hashing whole files to list a folder would be slow; like nginx's ETag, derive one
    # from mtime and size. It changes whenever the content is rewritten.
    return f"{st.st_mtime_ns:x}-{st.st_size:x}"


class LocalDriver:
    """Browse a local folder with the :class:`~pail.drivers.base.StorageDriver` protocol.

    Args:
        root: the folder. With ``single_bucket=False`` each sub-folder of ``root`` is a
            bucket; with ``single_bucket=True`` ``root`` itself is the one bucket, named
            after its base name.
        single_bucket: see ``root``.

    Errors are translated to :mod:`pail.drivers.errors` with ``operation`` set to the OS
    call (``os.scandir``, ``os.stat``, ``open``) and ``code`` to the errno name.
    """

    provider = "local"

    def __init__(self, root: str, *, single_bucket: bool = False) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.single_bucket = single_bucket

    @property
    def endpoint(self) -> str | None:
        """Local folders have no endpoint."""
        return None

    # -- paths ---------------------------------------------------------------------------

    def _bucket_path(self, bucket: str) -> str:
        if self.single_bucket:
            if bucket != self.bucket_name:
                raise self._no_folder(
                    "os.stat", bucket, None, f"this connection opens only the folder {self.root}"
                )
            return self.root
        if not bucket or bucket in (".", "..") or "/" in bucket or os.sep in bucket:
            raise InvalidRequest(
                "bucket names cannot contain path separators",
                operation="os.stat",
                provider="local",
                bucket=bucket,
                code="InvalidBucketName",
            )
        return os.path.join(self.root, bucket)

    @property
    def bucket_name(self) -> str:
        """In single-bucket mode, the bucket's name (the folder's base name)."""
        return os.path.basename(self.root.rstrip(os.sep)) or self.root

    def _path(self, bucket: str, key: str) -> str:
        base = self._bucket_path(bucket)
        parts = key.split("/")
        # A key that would leave the bucket folder cannot name a local object.
        if key.startswith("/") or any(p in ("..", ".") for p in parts) or "\x00" in key:
            raise NotFound(
                "no such file in this folder",
                operation="os.stat",
                provider="local",
                bucket=bucket,
                key=key,
                code="ENOENT",
            )
        return os.path.join(base, *[p for p in parts if p])

    def _error(
        self, exc: OSError, operation: str, bucket: str | None, key: str | None
    ) -> StorageError:
        code = errno.errorcode.get(exc.errno or 0, "OSError")
        message = exc.strerror or str(exc)
        kwargs: dict[str, Any] = {
            "operation": operation,
            "provider": "local",
            "bucket": bucket,
            "key": key or None,
        }
        if isinstance(exc, PermissionError):
            return AccessDenied(message, code=code, **kwargs)
        if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
            if bucket is None or not os.path.isdir(self._bucket_path(bucket)):
                return self._no_folder(operation, bucket, key)
            path = exc.filename if isinstance(exc.filename, str) else self._bucket_path(bucket)
            return NotFound(f"no such file: {path}", code=code, **kwargs)
        return StorageError(message, code=code, **kwargs)

    def _no_folder(
        self, operation: str, bucket: str | None, key: str | None, message: str | None = None
    ) -> NotFound:
        """The error for a bucket whose folder does not exist: local words ("no such
        folder: /data/runs", code ``ENOENT``), with :attr:`NotFound.folder_missing` set."""
        if message is None:
            path = self._bucket_path(bucket) if bucket else self.root
            message = f"no such folder: {path}"
        error = NotFound(
            message,
            operation=operation,
            provider="local",
            bucket=bucket,
            key=key or None,
            code="ENOENT",
        )
        error.folder_missing = True
        return error

    # -- protocol ------------------------------------------------------------------------

    def list_buckets(self) -> list[Bucket]:
        """Sub-folders of ``root`` (or the single bucket), sorted by name."""
        if self.single_bucket:
            try:
                st = os.stat(self.root)
            except OSError as exc:
                raise self._error(exc, "os.stat", self.bucket_name, None) from exc
            return [Bucket(self.bucket_name, created=_utc(st.st_mtime))]
        try:
            with os.scandir(self.root) as it:
                found = [
                    Bucket(e.name, created=_utc(e.stat().st_mtime))
                    for e in it
                    if e.is_dir() and not e.name.startswith(".")
                ]
        except OSError as exc:
            raise self._error(exc, "os.scandir", None, None) from exc
        return sorted(found, key=lambda b: _sort_key(b.name))

    def bucket_region(self, bucket: str) -> str | None:
        """Local folders have no region; checks that the bucket exists."""
        path = self._bucket_path(bucket)
        if not os.path.isdir(path):
            raise self._no_folder("os.stat", bucket, None)
        return None

    def _entry(self, key: str, path: str, is_dir: bool) -> Entry | None:
        if is_dir:
            return Entry(key + "/", "prefix")
        try:
            st = os.stat(path)
        except OSError:
            return None  # vanished or dangling link between scandir and stat
        return Entry(key, "object", st.st_size, _utc(st.st_mtime), _etag(st))

    def _level(self, bucket: str, prefix: str) -> list[tuple[str, str, bool]]:
        """(key, path, is_dir) for every child of the folder that ``prefix`` points into."""
        folder_key, _, _ = prefix.rpartition("/")
        folder = self._path(bucket, folder_key) if folder_key else self._bucket_path(bucket)
        lead = folder_key + "/" if folder_key else ""
        out = []
        with os.scandir(folder) as it:
            for e in it:
                key = lead + e.name
                if key.startswith(prefix):
                    out.append((key, e.path, e.is_dir()))
        return out

    def _walk(self, bucket: str, prefix: str) -> list[tuple[str, str, bool]]:
        base = self._bucket_path(bucket)
        out = []
        for dirpath, dirnames, filenames in os.walk(base, onerror=self._raise):
            dirnames.sort()
            rel = os.path.relpath(dirpath, base)
            lead = "" if rel == "." else rel.replace(os.sep, "/") + "/"
            # Prune folders that cannot hold keys under the prefix.
            dirnames[:] = [
                d
                for d in dirnames
                if (lead + d + "/").startswith(prefix) or prefix.startswith(lead + d + "/")
            ]
            for name in filenames:
                key = lead + name
                if key.startswith(prefix):
                    out.append((key, os.path.join(dirpath, name), False))
        return out

    @staticmethod
    def _raise(exc: OSError) -> None:
        raise exc

    def list_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "/",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> Page:
        """One page of keys under ``prefix`` (see the module doc for the semantics).

        Each call re-reads the folder so the listing reflects the disk now; ``token`` is the
        last key of the previous page.

        Raises:
            NotFound: the bucket folder does not exist.
            AccessDenied: the OS refused to read a folder.
        """
        if delimiter not in ("/", ""):
            raise InvalidRequest(
                "the local driver supports the delimiters '/' and '' only",
                operation="os.scandir",
                provider="local",
                bucket=bucket,
                key=prefix,
            )
        try:
            if not os.path.isdir(self._bucket_path(bucket)):
                raise FileNotFoundError(errno.ENOENT, "no such folder", self._bucket_path(bucket))
            if delimiter:
                try:
                    rows = self._level(bucket, prefix)
                except (FileNotFoundError, NotADirectoryError):
                    rows = []  # like S3: a prefix with no keys is an empty listing
            else:
                rows = self._walk(bucket, prefix)
        except OSError as exc:
            raise self._error(exc, "os.scandir", bucket, prefix) from exc
        rows.sort(key=lambda r: _sort_key(r[0] + "/" if r[2] else r[0]))
        sort_keys = [_sort_key(r[0] + "/" if r[2] else r[0]) for r in rows]
        start = bisect_right(sort_keys, _sort_key(token)) if token else 0
        entries: list[Entry] = []
        last = None
        index = start
        while index < len(rows) and len(entries) < max(1, page_size):
            key, path, is_dir = rows[index]
            entry = self._entry(key, path, is_dir)
            if entry is not None:
                entries.append(entry)
            last = key + "/" if is_dir else key
            index += 1
        next_token = last if index < len(rows) else None
        return Page(tuple(entries), next_token)

    def head(self, bucket: str, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """``os.stat`` of the file; content type guessed from the name (``mimetypes``).

        Raises:
            NotFound: no such file (or ``key`` names a folder).
        """
        path = self._path(bucket, key)
        try:
            st = os.stat(path)
            if os.path.isdir(path):
                raise IsADirectoryError(errno.EISDIR, "is a folder, not an object", path)
        except IsADirectoryError as exc:
            raise NotFound(
                f"is a folder, not a file: {path}",
                operation="os.stat",
                provider="local",
                bucket=bucket,
                key=key,
                code="EISDIR",
            ) from exc
        except OSError as exc:
            raise self._error(exc, "os.stat", bucket, key) from exc
        content_type, encoding = mimetypes.guess_type(key)
        extra = {"Path": path}
        if encoding:
            extra["ContentEncoding"] = encoding
        return ObjectInfo(
            bucket=bucket,
            key=key,
            size=st.st_size,
            last_modified=_utc(st.st_mtime),
            etag=_etag(st),
            content_type=content_type,
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
        """Read ``length`` bytes at ``start`` (or the last ``suffix`` bytes) of the file.

        Raises:
            NotFound: no such file.
            AccessDenied: the OS refused to open it.
        """
        path = self._path(bucket, key)
        try:
            with open(path, "rb") as fh:
                if suffix is not None:
                    size = os.fstat(fh.fileno()).st_size
                    fh.seek(max(0, size - suffix))
                    return fh.read() if suffix > 0 else b""
                fh.seek(max(0, start))
                return fh.read() if length is None else fh.read(max(0, length))
        except IsADirectoryError as exc:
            raise NotFound(
                f"is a folder, not a file: {path}",
                operation="open",
                provider="local",
                bucket=bucket,
                key=key,
                code="EISDIR",
            ) from exc
        except OSError as exc:
            raise self._error(exc, "open", bucket, key) from exc

    def _open_source(self, bucket: str, key: str):
        source = self._path(bucket, key)
        try:
            return open(source, "rb")  # the caller closes it
        except IsADirectoryError as exc:
            raise NotFound(
                f"is a folder, not a file: {source}",
                operation="open",
                provider="local",
                bucket=bucket,
                key=key,
                code="EISDIR",
            ) from exc
        except OSError as exc:
            raise self._error(exc, "open", bucket, key) from exc

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
        """Bytes ``[start, end)`` of the file into ``sink`` in 1 MiB chunks (see
        :meth:`pail.drivers.base.StorageDriver.stream_range`).

        Raises:
            NotFound / AccessDenied (the source, operation ``open``/``read``);
            StreamInterrupted when the file is shorter than ``end`` (it shrank); whatever
            ``sink`` raises.
        """
        with self._open_source(bucket, key) as src:
            src.seek(start)
            pos = start
            while pos < end:
                try:
                    chunk = src.read(min(_COPY_CHUNK, end - pos))
                except OSError as exc:
                    raise self._error(exc, "read", bucket, key) from exc
                if not chunk:
                    raise StreamInterrupted(
                        f"the file ended at {pos} bytes, before {end}",
                        operation="read",
                        provider="local",
                        bucket=bucket,
                        key=key,
                        code="StreamInterrupted",
                    )
                sink(chunk)
                pos += len(chunk)

    def object_checksums(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectChecksums:
        """The source file's size and SHA-256 (base64), read again now: the check a local
        "store" can vouch for."""
        import base64
        import hashlib

        digest = hashlib.sha256()
        with self._open_source(bucket, key) as src:
            size = os.fstat(src.fileno()).st_size
            while True:
                try:
                    chunk = src.read(_COPY_CHUNK)
                except OSError as exc:
                    raise self._error(exc, "read", bucket, key) from exc
                if not chunk:
                    break
                digest.update(chunk)
        value = base64.b64encode(digest.digest()).decode()
        return ObjectChecksums(size=size, checksums={"SHA256": value}, checksum_type="FULL_OBJECT")

    def presign(
        self, bucket: str, key: str, expires_in: int, *, version_id: str | None = None
    ) -> str:
        """The file's ``file://`` URI (RFC 8089); local files need no signature, and
        ``expires_in`` is only checked for range (1..604800 seconds).

        Raises:
            InvalidRequest: ``expires_in`` out of range. NotFound: no such file.
        """
        check_expiry(expires_in, operation="os.stat", provider="local", bucket=bucket, key=key)
        info = self.head(bucket, key)
        return Path(info.extra["Path"]).as_uri()

    # -- versions and lifecycle: folders have neither (pail.drivers.versions) ------------

    def versioning_status(self, bucket: str) -> str | None:
        """Always ``None``: a folder keeps no versions (so a delete is final)."""
        self._bucket_path(bucket)
        return None

    def list_versions_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> VersionPage:
        """Raises NotSupported: local folders have no object versions."""
        raise not_supported(self.provider, "ListObjectVersions", bucket)

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Raises NotSupported: local folders have no object versions."""
        raise not_supported(self.provider, "DeleteObject", bucket)

    def get_lifecycle(self, bucket: str) -> list[LifecycleRule]:
        """Raises NotSupported: local folders have no lifecycle rules."""
        raise not_supported(self.provider, "GetBucketLifecycleConfiguration", bucket)

    def put_lifecycle(self, bucket: str, rules: list[LifecycleRule]) -> None:
        """Raises NotSupported: local folders have no lifecycle rules."""
        raise not_supported(self.provider, "PutBucketLifecycleConfiguration", bucket)

    def delete_objects(self, bucket: str, keys: Sequence[DeleteTarget]) -> DeleteResult:
        """Delete up to 1,000 files (``os.remove``) and prune folders left empty, never
        the bucket folder itself. A missing file counts as deleted (as on S3); a key
        naming a folder, a version id or an OS refusal is a per-key error
        (:mod:`pail.drivers.delete`).

        Raises:
            ValueError: more than 1,000 keys. NotFound: the bucket folder is missing.
        """
        from pail.drivers.delete import local_delete, targets

        pairs = targets(keys)
        base = self._bucket_path(bucket)
        if not os.path.isdir(base):
            raise self._no_folder("os.remove", bucket, None)
        return local_delete(base, lambda key: self._path(bucket, key), pairs)
