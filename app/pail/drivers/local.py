"""Local folder driver: a folder of buckets, or one folder as one bucket.

Like modelkit's local storage provider, a bucket is a directory and a key is the path of a
file below it with ``/`` separators. Listing follows S3's ListObjectsV2 semantics so the
UI and services need no special case: keys sorted in UTF-8 binary order, one level with
``delimiter="/"`` (sub-folders become prefixes ending in ``/``), ``delimiter=""`` for every
key below, and paging with an opaque token (the last key returned, like ``StartAfter``).
"""

from __future__ import annotations

import contextlib
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
    MultipartUpload,
    ObjectChecksums,
    ObjectInfo,
    Page,
    UploadedPart,
    WriteOptions,
    WrittenObject,
    check_expiry,
)
from pail.drivers.errors import (
    AccessDenied,
    ChecksumMismatch,
    InvalidRequest,
    NotFound,
    NotSupported,
    PreconditionFailed,
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

    # -- writes (pail.drivers.base.Writable) ------------------------------------------------

    def _write_target(self, bucket: str, key: str, operation: str) -> tuple[int, str]:
        """``(folder fd, file name)`` for writing ``key``: the key is checked by
        :meth:`_path`'s rules (no ``..``/``.`` segment, not absolute, no NUL) and must name a
        file (not empty, no empty segment, not ending ``/``); the bucket folder must exist;
        folders below it are opened, and created when missing, without following a link.
        The caller closes the fd.

        Raises:
            InvalidRequest: the key cannot name a file here, or a folder on the way is a
                symbolic link or a file (code ``UnsafePath``).
            NotFound: the bucket folder does not exist. AccessDenied / StorageError: the OS
                refused.
        """
        try:
            self._path(bucket, key)
        except NotFound as exc:
            raise _invalid_key(bucket, key, operation, "the key leaves the folder") from exc
        segments = key.split("/")
        if not key or any(not s for s in segments):
            raise _invalid_key(
                bucket, key, operation, "the key has an empty path segment (or ends with '/')"
            )
        base = self._bucket_path(bucket)
        try:
            fd = os.open(base, _DIR_OPEN)
        except OSError as exc:
            if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                raise self._no_folder(operation, bucket, key) from exc
            raise self._error(exc, operation, bucket, key) from exc
        try:
            for folder in segments[:-1]:
                child = _open_dir_nofollow(fd, folder)
                os.close(fd)
                fd = child
        except _UnsafePath as exc:
            os.close(fd)
            raise InvalidRequest(
                f"refusing to write through {exc.args[0]}",
                operation=operation,
                provider="local",
                bucket=bucket,
                key=key,
                code="UnsafePath",
            ) from None
        except OSError as exc:
            os.close(fd)
            raise self._error(exc, operation, bucket, key) from exc
        except BaseException:
            os.close(fd)
            raise
        return fd, segments[-1]

    def _publish(
        self, fd: int, temp: str, name: str, bucket: str, key: str, *, exclusive: bool
    ) -> os.stat_result:
        """Move the finished temporary file ``temp`` (already fsynced) to ``name`` in the
        folder ``fd``, never following a link at ``name``: ``os.rename`` replaces whatever
        entry is there (a planted symbolic link is replaced as a link); ``exclusive`` hard
        links instead, which fails with ``EEXIST`` atomically when ``name`` exists (POSIX
        link(2)); on a filesystem without hard links, Linux ``renameat2`` with
        ``RENAME_NOREPLACE`` does the same. The temporary name is removed in every case.
        Returns the new file's stat.

        Raises:
            PreconditionFailed: ``exclusive`` and ``name`` exists.
            NotSupported: ``exclusive`` on a filesystem with neither (nothing written).
            StorageError: the OS refused (operation ``os.rename`` / ``os.link``).
        """
        operation = "os.link" if exclusive else "os.rename"
        try:
            if exclusive:
                try:
                    try:
                        os.link(temp, name, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
                    except OSError as exc:
                        if isinstance(exc, FileExistsError) or exc.errno not in _NO_HARD_LINKS:
                            raise
                        # A filesystem without hard links (FAT, some FUSE and SMB mounts):
                        # the same atomic refusal from rename(2) with RENAME_NOREPLACE.
                        operation = "renameat2"
                        _rename_noreplace(fd, temp, name, bucket, key)
                except FileExistsError as exc:
                    raise PreconditionFailed(
                        "the file already exists (create-only write)",
                        operation=operation,
                        provider="local",
                        bucket=bucket,
                        key=key,
                        code="PreconditionFailed",
                        status=412,
                    ) from exc
                _unlink_quiet(fd, temp)
            else:
                os.rename(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            os.fsync(fd)  # the rename itself survives a crash (the folder's entry)
        except StorageError:
            _unlink_quiet(fd, temp)
            raise
        except OSError as exc:
            _unlink_quiet(fd, temp)
            raise self._error(exc, operation, bucket, key) from exc
        return st

    def put_object(
        self,
        bucket: str,
        key: str,
        data: bytes,
        *,
        options: WriteOptions | None = None,
        checksums: dict[str, str] | None = None,
    ) -> WrittenObject:
        """Write ``data`` to the file for ``key``: a temporary file created exclusively
        beside it (mode 0666 less the umask, like any new file), written, fsynced, then
        renamed into place (see :meth:`_publish`); folders on the way are created without
        following links. ``checksums`` (``MD5``, ``SHA1``, ``SHA256``, ``CRC32``,
        ``CRC32C``, ``CRC64NVME``; base64) are computed on ``data`` before anything is
        written, as a store would check them. ``options`` other than ``if_none_match``
        (content type, metadata, storage class, ``extra``) have no meaning for a file and
        are ignored.

        Returns:
            WrittenObject: size, the listing's ETag (mtime-size), ``checksums`` with the
            SHA-256 when it was given (and so computed).

        Raises:
            ChecksumMismatch: ``data`` does not match ``checksums``.
            PreconditionFailed: ``options.if_none_match`` and the file exists.
            InvalidRequest: a bad key, a symbolic link or file as a folder on the way, an
                unknown checksum algorithm. NotFound: the bucket folder is missing.
            AccessDenied / StorageError: the OS refused.
        """
        computed = _check_checksums(data, checksums, bucket, key, "put_object")
        fd, name = self._write_target(bucket, key, "open")
        try:
            temp = self._temp_file(fd, bucket, key)
            try:
                out = os.open(temp, os.O_WRONLY | _CLOEXEC | _NOFOLLOW, dir_fd=fd)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(out, view) :]
                    os.fsync(out)
                finally:
                    os.close(out)
            except OSError as exc:
                _unlink_quiet(fd, temp)
                raise self._error(exc, "write", bucket, key) from exc
            exclusive = bool(options and options.if_none_match)
            st = self._publish(fd, temp, name, bucket, key, exclusive=exclusive)
        finally:
            os.close(fd)
        return _written(bucket, key, st, computed)

    def _temp_file(self, fd: int, bucket: str, key: str) -> str:
        """Create (exclusively, no link followed) an empty temporary file in the folder
        ``fd`` and return its name (``.pail-<random>.tmp``: short, whatever the key)."""
        import secrets

        for _ in range(5):
            temp = f".pail-{secrets.token_hex(8)}.tmp"
            try:
                handle = os.open(
                    temp,
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL | _CLOEXEC | _NOFOLLOW,
                    0o666,
                    dir_fd=fd,
                )
            except FileExistsError:
                continue
            except OSError as exc:
                raise self._error(exc, "open", bucket, key) from exc
            os.close(handle)
            return temp
        raise StorageError(  # pragma: no cover - 64 random bits collided five times
            "could not create a temporary file",
            operation="open",
            provider="local",
            bucket=bucket,
            key=key,
        )

    def start_upload(
        self,
        bucket: str,
        key: str,
        size: int,
        *,
        options: WriteOptions | None = None,
        part_size: int | None = None,
    ) -> MultipartUpload:
        """Begin writing ``size`` bytes in parts into a temporary file beside the final
        name (a :class:`LocalUpload`). ``part_size`` (bytes, every part but the last) places
        parts sent in any order; without it, it is learnt from part 1 and a later part
        arriving first is refused (InvalidRequest).

        Raises:
            InvalidRequest / NotFound / AccessDenied as :meth:`put_object`.
        """
        fd, name = self._write_target(bucket, key, "open")
        try:
            temp = self._temp_file(fd, bucket, key)
        except BaseException:
            os.close(fd)
            raise
        return LocalUpload(self, bucket, key, size, fd, name, temp, options, part_size)

    def resume_upload(
        self, bucket: str, key: str, size: int, token: str, *, options: WriteOptions | None = None
    ) -> MultipartUpload:
        """Raises NotSupported: a local upload's temporary file does not outlive it
        (``token`` is always ``None``)."""
        raise not_supported(self.provider, "resume_upload", bucket)

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
        """Copy the file for ``source_key`` to ``key`` (``os.copy_file_range`` where the
        OS has it, else read/write), through a temporary file and :meth:`_publish` as
        :meth:`put_object`. ``source_etag`` (the listing's mtime-size ETag) and ``size``
        pin the source: a different one fails before anything is written.

        Raises:
            PreconditionFailed: the source's ETag or size differs from the one given, or
                ``if_none_match`` and the destination exists.
            NotSupported: ``source_version_id`` (folders keep no versions).
            NotFound: the source is gone. StorageError: the OS refused.
        """
        if source_version_id is not None:
            raise not_supported(self.provider, "CopyObject", source_bucket)
        with self._open_source(source_bucket, source_key) as src:
            st_src = os.fstat(src.fileno())
            if st_src.st_size != size or (source_etag is not None and _etag(st_src) != source_etag):
                raise PreconditionFailed(
                    "the source file changed since it was listed",
                    operation="copy_object",
                    provider="local",
                    bucket=source_bucket,
                    key=source_key,
                    code="PreconditionFailed",
                    status=412,
                )
            fd, name = self._write_target(bucket, key, "open")
            try:
                temp = self._temp_file(fd, bucket, key)
                try:
                    out = os.open(temp, os.O_WRONLY | _CLOEXEC | _NOFOLLOW, dir_fd=fd)
                    try:
                        copied = _copy_fd(src.fileno(), out, size)
                        os.fsync(out)
                    finally:
                        os.close(out)
                except OSError as exc:
                    _unlink_quiet(fd, temp)
                    raise self._error(exc, "copy", bucket, key) from exc
                if copied != size:
                    _unlink_quiet(fd, temp)
                    raise PreconditionFailed(
                        f"the source file ended at {copied} bytes, not {size}",
                        operation="copy_object",
                        provider="local",
                        bucket=source_bucket,
                        key=source_key,
                        code="PreconditionFailed",
                        status=412,
                    )
                exclusive = bool(options and options.if_none_match)
                st = self._publish(fd, temp, name, bucket, key, exclusive=exclusive)
            finally:
                os.close(fd)
        return _written(bucket, key, st, {})


class LocalUpload:
    """A local file written in parts (:class:`pail.drivers.base.MultipartUpload`): parts go
    with ``os.pwrite`` into a temporary file beside the final name, in any order and from
    several threads at once; :meth:`complete` fsyncs it and renames it into place as
    :meth:`LocalDriver.put_object` does.

    Part offsets: every part but the last has the same size, ``part_size``. It is given to
    :meth:`LocalDriver.start_upload` (or set on the attribute before the first part), or
    learnt from part 1 (its length, unless it is the whole object). A part whose offset
    cannot be known yet (a part other than 1 arriving first, with no ``part_size`` given)
    is refused with InvalidRequest; so is a part of the wrong size.

    Attributes: ``bucket``, ``key``, ``size`` (bytes), ``token`` (always ``None``: no
    resume), ``parallel`` (``True``), ``part_alignment`` (1), ``part_size``.
    """

    token: str | None = None
    parallel = True
    part_alignment = 1

    def __init__(
        self,
        driver: LocalDriver,
        bucket: str,
        key: str,
        size: int,
        fd: int,
        name: str,
        temp: str,
        options: WriteOptions | None,
        part_size: int | None,
    ) -> None:
        import threading

        self.bucket = bucket
        self.key = key
        self.size = size
        self.part_size = part_size
        self._driver = driver
        self._dir_fd: int | None = fd
        self._name = name
        self._temp = temp
        self._options = options
        self._lock = threading.Lock()
        self._parts: dict[int, UploadedPart] = {}
        try:
            # Read and write: complete() reads the file back to check whole-object checksums.
            self._out = os.open(temp, os.O_RDWR | _CLOEXEC | _NOFOLLOW, dir_fd=fd)
        except OSError as exc:
            _unlink_quiet(fd, temp)
            os.close(fd)
            self._dir_fd = None
            raise driver._error(exc, "open", bucket, key) from exc

    def _invalid(self, message: str) -> InvalidRequest:
        return InvalidRequest(
            message,
            operation="upload_part",
            provider="local",
            bucket=self.bucket,
            key=self.key,
            code="InvalidPart",
        )

    def _offset(self, number: int, length: int) -> int:
        """Where part ``number`` of ``length`` bytes goes (checks its size)."""
        with self._lock:
            if self.part_size is None and number == 1:
                self.part_size = length if length < self.size else max(self.size, 1)
            part_size = self.part_size
        if part_size is None or part_size < 1:
            raise self._invalid(
                f"part {number} arrived before part 1 and the part size is unknown: "
                "give part_size to start_upload"
            )
        count = max(1, -(-self.size // part_size))
        if number > count:
            raise self._invalid(f"part {number} is past the end ({count} parts of {part_size})")
        offset = (number - 1) * part_size
        expected = part_size if number < count else self.size - offset
        if length != expected:
            raise self._invalid(f"part {number} has {length} bytes, expected {expected}")
        return offset

    def upload_part(
        self, number: int, data: bytes, *, checksums: dict[str, str] | None = None
    ) -> UploadedPart:
        """Write part ``number`` at its offset (``os.pwrite``), after checking ``data``
        against ``checksums`` (algorithm -> base64).

        Raises:
            ChecksumMismatch: ``data`` does not match. InvalidRequest: wrong size or number,
                or the upload is finished. StorageError: the OS refused the write.
        """
        if number < 1:
            raise self._invalid(f"part numbers start at 1, not {number}")
        computed = _check_checksums(data, checksums, self.bucket, self.key, "upload_part")
        offset = self._offset(number, len(data))
        if self._dir_fd is None:
            raise self._invalid("the upload is already completed or aborted")
        try:
            view = memoryview(data)
            pos = offset
            while view:
                n = os.pwrite(self._out, view, pos)
                view = view[n:]
                pos += n
        except OSError as exc:
            raise self._driver._error(exc, "os.pwrite", self.bucket, self.key) from exc
        part = UploadedPart(number, len(data), None, computed)
        with self._lock:
            self._parts[number] = part
        return part

    def parts(self) -> list[UploadedPart]:
        """The parts written so far (this process's record), by number."""
        with self._lock:
            return [self._parts[n] for n in sorted(self._parts)]

    def complete(
        self, parts: Sequence[UploadedPart], *, checksums: dict[str, str] | None = None
    ) -> WrittenObject:
        """Check that ``parts`` are exactly the parts written and cover ``size`` bytes,
        check the whole file against ``checksums`` (read back from the disk), fsync and
        rename into place (exclusively when ``if_none_match``).

        Raises:
            InvalidRequest: missing or unknown parts. ChecksumMismatch: the file read back
                differs. PreconditionFailed: create-only and the file exists.
                StorageError: the OS refused.
        """
        if self._dir_fd is None:
            raise self._invalid("the upload is already completed or aborted")
        with self._lock:
            written = dict(self._parts)
        numbers = sorted(p.number for p in parts)
        if numbers != sorted(written) or numbers != list(range(1, len(numbers) + 1)):
            raise self._invalid("the parts given are not the parts written (1..N, each once)")
        total = sum(written[n].size for n in numbers)
        if total != self.size:
            raise self._invalid(f"the parts hold {total} bytes, not {self.size}")
        fd = self._dir_fd
        try:
            try:
                os.ftruncate(self._out, self.size)
                os.fsync(self._out)
                computed: dict[str, str] = {}
                if checksums:
                    computed = _check_file_checksums(
                        self._out, self.size, checksums, self.bucket, self.key
                    )
            except OSError as exc:
                raise self._driver._error(exc, "write", self.bucket, self.key) from exc
            finally:
                os.close(self._out)
            exclusive = bool(self._options and self._options.if_none_match)
            st = self._driver._publish(
                fd, self._temp, self._name, self.bucket, self.key, exclusive=exclusive
            )
        except BaseException:
            _unlink_quiet(fd, self._temp)
            raise
        finally:
            self._dir_fd = None
            os.close(fd)
        return _written(self.bucket, self.key, st, computed)

    def abort(self) -> None:
        """Remove the temporary file. Never raises for an upload already finished."""
        fd = self._dir_fd
        if fd is None:
            return
        self._dir_fd = None
        with contextlib.suppress(OSError):
            os.close(self._out)
        _unlink_quiet(fd, self._temp)
        os.close(fd)


_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIR_OPEN = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC


class _UnsafePath(Exception):
    """A folder on the way of a write is a symbolic link or not a folder (args[0]: why)."""


def _open_dir_nofollow(parent_fd: int, name: str) -> int:
    """Open (creating when missing, mode 0777 less the umask) the folder ``name`` in
    ``parent_fd`` without following a link, as
    ``pail.services.download.state.open_parent`` does for downloads.

    Raises:
        _UnsafePath: ``name`` is a symbolic link or not a folder. OSError: the OS refused.
    """
    import stat

    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=parent_fd)
    try:
        return os.open(name, _DIR_OPEN | _NOFOLLOW, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise
        try:
            link = stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
        except OSError:
            link = False
        if link:
            raise _UnsafePath(f"the symbolic link {name!r} (a folder on the way)") from None
        raise _UnsafePath(f"{name!r}, which is a file, not a folder") from None


#: errno values of link(2) on a filesystem that has no hard links.
_NO_HARD_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK}


def _rename_noreplace(fd: int, src: str, dst: str, bucket: str, key: str) -> None:
    """``renameat2(fd, src, fd, dst, RENAME_NOREPLACE)`` (Linux 3.15+, glibc 2.28+):
    rename unless ``dst`` exists, atomically.

    Raises:
        FileExistsError: ``dst`` exists. NotSupported: no such call, or the filesystem
            refuses the flag (a create-only write cannot be made atomic here).
        OSError: another refusal.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    call = getattr(libc, "renameat2", None)
    code = errno.ENOSYS
    if call is not None:
        call.argtypes = [
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_uint,
        ]
        if call(fd, os.fsencode(src), fd, os.fsencode(dst), 1) == 0:  # RENAME_NOREPLACE
            return
        code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        raise NotSupported(
            "this filesystem has neither hard links nor rename without replace: a "
            "create-only write cannot be made atomic here, so nothing was written",
            operation="renameat2",
            provider="local",
            bucket=bucket,
            key=key,
            code="NotSupported",
        )
    raise OSError(code, os.strerror(code), dst)


def _unlink_quiet(fd: int, name: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=fd)


def _invalid_key(bucket: str, key: str, operation: str, why: str) -> InvalidRequest:
    return InvalidRequest(
        f"cannot write this key as a file: {why}",
        operation=operation,
        provider="local",
        bucket=bucket,
        key=key,
        code="InvalidKey",
    )


def _written(bucket: str, key: str, st: os.stat_result, computed: dict[str, str]) -> WrittenObject:
    sums = {"SHA256": computed["SHA256"]} if "SHA256" in computed else {}
    return WrittenObject(
        bucket=bucket,
        key=key,
        size=st.st_size,
        etag=_etag(st),
        checksums=sums,
        checksum_type="FULL_OBJECT" if sums else None,
    )


def _copy_fd(src: int, dst: int, size: int) -> int:
    """Copy up to ``size`` bytes from ``src`` (at its offset 0) to ``dst``; returns the
    bytes copied (fewer when the source is shorter)."""
    copied = 0
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        try:
            while copied < size:
                n = copy_range(src, dst, size - copied, copied, copied)
                if n == 0:
                    return copied
                copied += n
            return copied
        except OSError as exc:
            if copied or exc.errno not in (
                errno.EXDEV,
                errno.ENOSYS,
                errno.EINVAL,
                errno.EOPNOTSUPP,
            ):
                raise
    while copied < size:
        chunk = os.pread(src, min(_COPY_CHUNK, size - copied), copied)
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            n = os.pwrite(dst, view, copied)
            view = view[n:]
            copied += n
    return copied


class _Hasher:
    """One running checksum (``update(bytes)``, ``value() -> base64``)."""

    def __init__(self, algorithm: str) -> None:
        import hashlib

        self.algorithm = algorithm
        self._crc = 0
        self._hash: Any = None
        if algorithm in ("MD5", "SHA1", "SHA256"):
            self._hash = hashlib.new(algorithm.lower())
        elif algorithm not in ("CRC32", "CRC32C", "CRC64NVME"):
            raise KeyError(algorithm)

    def update(self, data: bytes | memoryview) -> None:
        if self._hash is not None:
            self._hash.update(data)
            return
        from awscrt import checksums as crt

        fn = {"CRC32": crt.crc32, "CRC32C": crt.crc32c, "CRC64NVME": crt.crc64nvme}[self.algorithm]
        self._crc = fn(bytes(data), self._crc)

    def value(self) -> str:
        import base64

        if self._hash is not None:
            raw = self._hash.digest()
        else:
            raw = self._crc.to_bytes(8 if self.algorithm == "CRC64NVME" else 4, "big")
        return base64.b64encode(raw).decode()


def _hashers(checksums: dict[str, str], bucket: str, key: str, operation: str) -> list[_Hasher]:
    out = []
    for algorithm in checksums:
        try:
            out.append(_Hasher(algorithm.upper()))
        except KeyError:
            raise InvalidRequest(
                f"unknown checksum algorithm {algorithm!r}: cannot check it",
                operation=operation,
                provider="local",
                bucket=bucket,
                key=key,
                code="InvalidChecksum",
            ) from None
    return out


def _compare(
    hashers: list[_Hasher], checksums: dict[str, str], bucket: str, key: str, operation: str
) -> dict[str, str]:
    computed = {h.algorithm: h.value() for h in hashers}
    for algorithm, expected in checksums.items():
        if computed[algorithm.upper()] != expected:
            raise ChecksumMismatch(
                f"the bytes written do not match the {algorithm.upper()} sent with them",
                operation=operation,
                provider="local",
                bucket=bucket,
                key=key,
                code="ChecksumMismatch",
            )
    return computed


def _check_checksums(
    data: bytes, checksums: dict[str, str] | None, bucket: str, key: str, operation: str
) -> dict[str, str]:
    """Compute every algorithm of ``checksums`` on ``data``; the computed values.

    Raises:
        ChecksumMismatch: a value differs. InvalidRequest: an unknown algorithm.
    """
    if not checksums:
        return {}
    hashers = _hashers(checksums, bucket, key, operation)
    for h in hashers:
        h.update(data)
    return _compare(hashers, checksums, bucket, key, operation)


def _check_file_checksums(
    fd: int, size: int, checksums: dict[str, str], bucket: str, key: str
) -> dict[str, str]:
    """As :func:`_check_checksums`, on the first ``size`` bytes of the file ``fd`` read
    back with ``os.pread`` (the temporary file of a multipart upload)."""
    hashers = _hashers(checksums, bucket, key, "complete")
    pos = 0
    while pos < size:
        chunk = os.pread(fd, min(_COPY_CHUNK, size - pos), pos)
        if not chunk:
            break
        for h in hashers:
            h.update(chunk)
        pos += len(chunk)
    return _compare(hashers, checksums, bucket, key, "complete")
