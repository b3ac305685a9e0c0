"""Where a download keeps its bytes until they are verified: a pail-owned state folder.

Every file in flight is written to ``<target>/.pail/partials/<hash>.part`` (the object's
bytes, preallocated to its size, parts written at their offsets) beside a sidecar
``<hash>.json`` recording the object's identity (key, size, ETag, version id) and the byte
ranges already on disk (:class:`~pail.services.download.ranges.RangeSet`). A rerun fetches
exactly the missing ranges when the identity still matches, else starts afresh. Only after
verification does the file move to its final name (``os.replace``, atomic on one file
system).

Nothing here follows a symbolic link or writes through a hard link that a key, another
program or an attacker planted: the state folder is opened with ``O_NOFOLLOW``; partials
are created with ``O_CREAT | O_EXCL | O_NOFOLLOW``, reopened with ``O_NOFOLLOW`` and used
only when they are regular files with one link; sidecars are replaced atomically; the
folders between the target and a final name are opened one by one with ``O_NOFOLLOW``
(:func:`open_parent`). File names in the state folder are hashes of the final path, so a
key that looks like pail's own files (``.b.txt.pail-partial``, ``.pail/partials/x``)
never collides with them (:func:`state_folder_name` steps aside when keys use ``.pail``).

A partial is locked (``flock``) while a download uses it, so two pail processes never write
the same partial; the second reports it as busy.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pail.services.download.ranges import RangeSet

try:  # POSIX; elsewhere partials are not locked
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # a module or None: callers check

#: The state folder's name inside the download target (see :func:`state_folder_name`).
STATE_FOLDER = ".pail"
#: Sub-folder of the state folder holding partials and sidecars.
PARTIALS = "partials"
#: Sidecar format version; a sidecar of another version is ignored (the partial restarts).
SIDECAR_FORMAT = 2
#: Seconds between sidecar writes while bytes arrive (also written at the end of each part).
FLUSH_INTERVAL = 0.5
_SIDECAR_MAX = 4 * 1024 * 1024  # a sidecar is a few hundred bytes; refuse to read a huge one
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafeState(OSError):
    """The state folder or a folder on the way to a final name is a symbolic link or not a
    folder: pail refuses to write through it (``errno`` ELOOP / ENOTDIR)."""


class PartialBusy(OSError):
    """Another pail process is downloading the same file into the same target (the
    partial is locked); ``errno`` EBUSY."""


@dataclass(frozen=True)
class ObjectIdentity:
    """What a partial holds: the object's ``key``, ``size`` in bytes, ``etag`` and
    ``version_id`` (``None`` when unknown) and ``stamp`` (an ISO-8601 UTC last-modified
    time for stores without ETags, e.g. local folders)."""

    key: str
    size: int
    etag: str | None = None
    version_id: str | None = None
    stamp: str | None = None

    def record(self) -> dict[str, str | int | None]:
        """The fields as the sidecar holds them (``dataclasses.asdict`` without its deep
        copies: every field is a plain value)."""
        return {
            "key": self.key,
            "size": self.size,
            "etag": self.etag,
            "version_id": self.version_id,
            "stamp": self.stamp,
        }


def state_folder_name(rels: Iterable[str]) -> str:
    """The state folder's name for a download whose files land at the ``/``-separated
    relative paths ``rels``: :data:`STATE_FOLDER`, or ``.pail-2``, ``.pail-3``... when a
    key's first segment already uses the name. Deterministic for the same set of keys, so
    a rerun finds its partials."""
    firsts = {rel.split("/", 1)[0] for rel in rels}
    name, n = STATE_FOLDER, 1
    while name in firsts:
        n += 1
        name = f"{STATE_FOLDER}-{n}"
    return name


def _open_dir(parent_fd: int, name: str, *, create: bool) -> int:
    """Open the folder ``name`` inside ``parent_fd`` without following a link (created
    0700 when ``create`` and missing). Raises UnsafeState for a link or a non-folder."""
    if create:
        with contextlib.suppress(FileExistsError):
            os.mkdir(name, 0o700, dir_fd=parent_fd)
    try:
        return os.open(name, _DIR_FLAGS | _CLOEXEC, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
            raise
        try:
            link = stat.S_ISLNK(os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode)
        except OSError:
            link = False
        if link:
            raise UnsafeState(
                errno.ELOOP, f"{name!r} is a symbolic link; pail will not write through it"
            ) from None
        raise UnsafeState(errno.ENOTDIR, f"{name!r} is not a folder") from None


def open_parent(root: str, rel: str, *, create: bool = True) -> tuple[int, str]:
    """``(folder fd, file name)`` for the ``/``-separated path ``rel`` below ``root``,
    each folder on the way opened with ``O_NOFOLLOW`` (and created when ``create``).
    The caller closes the fd.

    Raises:
        UnsafeState: a folder on the way is a symbolic link or a file.
        OSError: a folder cannot be created or opened.
    """
    *folders, name = rel.split("/")
    fd = os.open(root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
    try:
        for folder in folders:
            child = _open_dir(fd, folder, create=create)
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd, name


class StateFolder:
    """The state folder of one download target.

    Args:
        root: the download target folder (absolute, existing or creatable).
        name: the state folder's name (:func:`state_folder_name`).

    Use :meth:`open_partial` per file, then :meth:`close` (which removes the folders when
    nothing is left in them).

    Raises (on first use):
        UnsafeState: ``root/name`` or its ``partials`` folder is a link or a file.
    """

    def __init__(self, root: str, name: str = STATE_FOLDER) -> None:
        self.root = root
        self.name = name
        self._lock = threading.Lock()
        self._fds: tuple[int, int] | None = None  # (state folder, partials folder)
        #: Sidecars written so far (a file that arrives within FLUSH_INTERVAL gets none).
        self.sidecar_writes = 0

    def _partials_fd(self) -> int:
        with self._lock:
            if self._fds is None:
                os.makedirs(self.root, exist_ok=True)
                root_fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
                try:
                    state_fd = _open_dir(root_fd, self.name, create=True)
                finally:
                    os.close(root_fd)
                try:
                    parts_fd = _open_dir(state_fd, PARTIALS, create=True)
                except BaseException:
                    os.close(state_fd)
                    raise
                self._fds = (state_fd, parts_fd)
            return self._fds[1]

    def open_partial(self, rel: str, identity: ObjectIdentity) -> Partial:
        """The partial for the final path ``rel`` (relative to the root): resumed when its
        sidecar names the same object (key, size, ETag, version) and the file is intact,
        else emptied and preallocated to ``identity.size`` bytes.

        Raises:
            PartialBusy: another process holds it. UnsafeState, OSError: as the file system.
        """
        parts_fd = self._partials_fd()
        base = hashlib.sha256(rel.encode("utf-8", "surrogateescape")).hexdigest()[:40]
        partial = Partial.open(parts_fd, base, identity)
        partial.on_sidecar = self._count_sidecar
        return partial

    def _count_sidecar(self) -> None:
        with self._lock:
            self.sidecar_writes += 1

    def close(self) -> None:
        """Close the folders; remove ``partials`` and the state folder when empty."""
        with self._lock:
            if self._fds is None:
                return
            state_fd, parts_fd = self._fds
            self._fds = None
        os.close(parts_fd)
        with contextlib.suppress(OSError):
            os.rmdir(PARTIALS, dir_fd=state_fd)
        os.close(state_fd)
        root_fd = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC)
        try:
            with contextlib.suppress(OSError):
                os.rmdir(self.name, dir_fd=root_fd)
        finally:
            os.close(root_fd)


def _is_plain_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_nlink == 1


def _read_sidecar(dir_fd: int, name: str) -> tuple[dict | None, bool]:
    """The sidecar's record (``None`` when there is none, or it is not a plain JSON
    object) and whether anything is at its name (to be removed at the end)."""
    try:
        fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
    except FileNotFoundError:
        return None, False
    except OSError:  # a planted link, a folder...
        return None, True
    try:
        st = os.fstat(fd)
        if not _is_plain_file(st) or st.st_size > _SIDECAR_MAX:
            return None, True
        data = os.read(fd, _SIDECAR_MAX)
    except OSError:
        return None, True
    finally:
        os.close(fd)
    try:
        record = json.loads(data)
    except ValueError:
        return None, True
    return (record if isinstance(record, dict) else None), True


def _unlink(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name, dir_fd=dir_fd)


class Partial:
    """One file in flight: an open, locked, preallocated file and the ranges it holds.

    Attributes:
        identity: the object it holds. size: bytes (the object's size).
        have: ranges on disk (:class:`RangeSet`). resumed_from: bytes present when opened.

    Thread-safe: parts call :meth:`write` concurrently. :meth:`commit`, :meth:`keep` or
    :meth:`discard` end it (exactly one, once every writer has returned).
    """

    def __init__(self, dir_fd: int, base: str, fd: int, identity: ObjectIdentity, have: RangeSet):
        self._dir_fd = dir_fd
        self._base = base
        self.fd = fd
        self.identity = identity
        self.size = identity.size
        self.have = have
        self.resumed_from = have.covered()
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._dirty = False
        self._open = True
        self._sidecar = False  # whether a sidecar may be on disk (unlinked at the end)
        #: Called after each sidecar write (the state folder counts them).
        self.on_sidecar: Callable[[], None] | None = None

    @property
    def part_name(self) -> str:
        """File name of the partial inside the partials folder."""
        return self._base + ".part"

    @property
    def sidecar_name(self) -> str:
        """File name of its sidecar inside the partials folder."""
        return self._base + ".json"

    @classmethod
    def open(cls, dir_fd: int, base: str, identity: ObjectIdentity) -> Partial:
        """Open or create the partial ``base`` in the folder ``dir_fd`` (see
        :meth:`StateFolder.open_partial`)."""
        part, side = base + ".part", base + ".json"
        fd = cls._open_locked(dir_fd, part)
        try:
            record, present = _read_sidecar(dir_fd, side)
            st = os.fstat(fd)
            have = RangeSet()
            wanted = {"format": SIDECAR_FORMAT, **identity.record()}
            if (
                record is not None
                and {k: record.get(k) for k in wanted} == wanted
                and st.st_size == identity.size
            ):
                ranges = record.get("ranges")
                if isinstance(ranges, list):
                    have = RangeSet(
                        (int(r[0]), int(r[1]))
                        for r in ranges
                        if isinstance(r, list)
                        and len(r) == 2
                        and all(isinstance(v, int) for v in r)
                    ).clipped(identity.size)
            else:  # another object (or none recorded): start afresh in the same, locked file
                if record is not None:  # its ranges describe other bytes: never trust them
                    _unlink(dir_fd, side)
                os.ftruncate(fd, 0)
                os.ftruncate(fd, identity.size)
            # The sidecar is (re)written at the first flush after bytes arrive: until then
            # there is nothing a resume could use.
            partial = cls(dir_fd, base, fd, identity, have)
            partial._sidecar = present
            return partial
        except BaseException:
            os.close(fd)
            raise

    @staticmethod
    def _open_locked(dir_fd: int, name: str) -> int:
        """Open ``name`` for update without following links, as a plain file with one
        link, and lock it. A non-plain entry (link, FIFO, hard-linked file) is removed and
        replaced by a new file created exclusively."""
        for _ in range(3):
            try:
                fd = os.open(name, os.O_RDWR | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
            except FileNotFoundError:
                try:
                    fd = os.open(
                        name,
                        os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC,
                        0o600,
                        dir_fd=dir_fd,
                    )
                except FileExistsError:
                    continue  # another process created it just now: open that one
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENXIO, errno.EISDIR, errno.EMLINK):
                    raise
                _remove_entry(dir_fd, name)  # a planted link or special file
                continue
            if not _is_plain_file(os.fstat(fd)):
                os.close(fd)
                _remove_entry(dir_fd, name)
                continue
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    raise PartialBusy(
                        errno.EBUSY, "another pail process is downloading this file"
                    ) from None
            os.set_blocking(fd, True)
            return fd
        raise UnsafeState(errno.EEXIST, "the partial file keeps being replaced; giving up")

    # -- while bytes arrive ---------------------------------------------------------------

    def write(self, offset: int, data: bytes | memoryview) -> None:
        """Write ``data`` at ``offset`` and record the range (flushing the sidecar at most
        every :data:`FLUSH_INTERVAL` seconds). Raises OSError (disk full...)."""
        view = memoryview(data)
        pos = offset
        while view:
            written = os.pwrite(self.fd, view, pos)
            view = view[written:]
            pos += written
        self.have.add(offset, pos)
        with self._lock:
            self._dirty = True
            due = time.monotonic() - self._last_flush >= FLUSH_INTERVAL
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the sidecar now if ranges were added since the last write."""
        with self._lock:
            if not self._dirty or not self._open:
                return
            self._dirty = False
            self._last_flush = time.monotonic()
            self._sidecar = True
            self._write_sidecar_locked()
        if self.on_sidecar is not None:
            self.on_sidecar()

    def flush_if_due(self) -> None:
        """:meth:`flush` when the last write of the sidecar (or the opening) is at least
        :data:`FLUSH_INTERVAL` ago: a file that arrives within that time never gets one."""
        with self._lock:
            due = time.monotonic() - self._last_flush >= FLUSH_INTERVAL
        if due:
            self.flush()

    def _write_sidecar_locked(self) -> None:
        record: dict[str, object] = {"format": SIDECAR_FORMAT, **self.identity.record()}
        record["ranges"] = [list(r) for r in self.have.ranges()]
        data = json.dumps(record).encode()
        tmp = f"{self._base}.json.{os.getpid()}.{threading.get_ident()}.tmp"
        _unlink(self._dir_fd, tmp)
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600,
            dir_fd=self._dir_fd,
        )  # fmt: skip
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, self.sidecar_name, src_dir_fd=self._dir_fd, dst_dir_fd=self._dir_fd)

    def read(self, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes at ``offset`` (for verification)."""
        return os.pread(self.fd, length, offset)

    # -- endings --------------------------------------------------------------------------

    def commit(self, parent_fd: int, name: str, mtime: float | None = None) -> None:
        """Move the verified file to ``name`` in the folder ``parent_fd`` (replacing what
        is there: a file, or a link itself, never its target), set its mtime (seconds
        since the epoch) and drop the sidecar."""
        with self._lock:
            self._open = False
        if mtime is not None and os.utime in os.supports_fd:
            os.utime(self.fd, (mtime, mtime))
        os.replace(self.part_name, name, src_dir_fd=self._dir_fd, dst_dir_fd=parent_fd)
        os.close(self.fd)
        if self._sidecar:
            _unlink(self._dir_fd, self.sidecar_name)

    def keep(self) -> None:
        """Stop here and keep the bytes and the sidecar for a later resume."""
        self.flush()
        with self._lock:
            self._open = False
        os.close(self.fd)

    def discard(self) -> None:
        """Delete the partial and its sidecar (a failed verification, a changed object)."""
        with self._lock:
            self._open = False
        _unlink(self._dir_fd, self.part_name)
        _unlink(self._dir_fd, self.sidecar_name)
        os.close(self.fd)


def _remove_entry(dir_fd: int, name: str) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except IsADirectoryError:
        raise UnsafeState(errno.EISDIR, f"{name!r} in pail's state folder is a folder") from None
    except FileNotFoundError:
        pass
