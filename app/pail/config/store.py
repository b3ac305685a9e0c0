"""Saved connections: the TOML config file read, written under a lock, and referenced by name.

The format is in :mod:`pail.config.file`, the writing in :mod:`pail.config.write`. Secrets
never live here: they are in the OS keyring (:mod:`pail.credentials`).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from pail.config import file as config_file
from pail.config import write as config_write
from pail.config.env import default_config_path
from pail.core.connection import NAME_RE, ConfigError, ConfigLocked, ConnectionSpec

#: Seconds a writer waits for another writer's lock on the config file before giving up.
LOCK_TIMEOUT = 10.0


class ConnectionStore:
    """Saved connections in the TOML config file (format: :mod:`pail.config.file`).

    Args:
        path: the file; ``None`` = :func:`default_config_path`.
        environ: variables for ``${env.NAME}`` expansion; ``None`` = ``os.environ``.
        lock_timeout: seconds to wait for another writer's lock (:meth:`locked`); ``None``
            = :data:`LOCK_TIMEOUT`.

    The file is re-read on every call, so edits by hand are seen at once. Writes keep the
    user's comments and layout (tomlkit), go through a temporary file and ``os.replace``
    (a crash never leaves half a file; readers never see one, so reads take no lock) and
    leave the file at mode 0600. Every read-modify-write holds an exclusive lock on
    ``PATH.lock`` (:meth:`locked`), so writers in other processes or threads at the same
    moment never lose each other's changes. Secrets are never written:
    :attr:`ConnectionSpec.secrets` is ignored here (only :attr:`ConnectionSpec.secrets_in`,
    where they live, is).
    """

    def __init__(
        self,
        path: str | None = None,
        environ: Mapping[str, str] | None = None,
        lock_timeout: float | None = None,
    ):
        self.path = path or default_config_path()
        self._environ = environ
        self.lock_timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._lock: Any = None  # a filelock.FileLock, made on first use (creates the folder)
        self._lock_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"ConnectionStore({self.path!r})"

    @property
    def lock_path(self) -> str:
        """The lock file next to the config file: ``connections.toml.lock`` (mode 0600;
        left in place between writes, as flock-based locks must be)."""
        return self.path + ".lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the config file's write lock for a whole transaction (several
        :meth:`save`/:meth:`remove` calls, or a check followed by a write).

        An exclusive ``flock`` on :attr:`lock_path` through ``filelock`` (the lock dies
        with its process, so a crash never leaves it held). Re-entrant in one thread of
        one store (``save`` and ``remove`` take it too); other threads and processes
        wait up to :attr:`lock_timeout` seconds. The folder is created (mode 0700) if
        missing.

        Raises:
            ConfigLocked: the lock was not free within the timeout; nothing was changed.
            OSError: the folder or lock file cannot be created.
        """
        import filelock

        with self._lock_guard:
            if self._lock is None:
                folder = os.path.dirname(os.path.abspath(self.path))
                os.makedirs(folder, mode=0o700, exist_ok=True)
                self._lock = filelock.FileLock(
                    self.lock_path, timeout=self.lock_timeout, mode=0o600
                )
            lock = self._lock
        try:
            lock.acquire()
        except filelock.Timeout:
            raise ConfigLocked(
                self.path,
                None,
                f"another pail is writing this file (its lock {self.lock_path} was held for "
                f"more than {self.lock_timeout:g} s); nothing was changed: try again",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(self.path, None, f"cannot read the config file: {exc}") from None

    def load(self) -> list[ConnectionSpec]:
        """Every saved connection, in file order, with ``${env.…}`` expanded.

        Raises:
            ConfigError: bad TOML, unknown provider or key, a secret in the file, a
                missing variable without default, a duplicate name. A missing file is
                no connections.
        """
        text = self._read()
        if text is None:
            return []
        env = os.environ if self._environ is None else self._environ
        return config_file.parse_specs(text, self.path, env)

    def names(self) -> list[str]:
        """Names of the saved connections, in file order (raises like :meth:`load`)."""
        return [spec.name for spec in self.load()]

    def get(self, name: str) -> ConnectionSpec:
        """The saved connection called ``name``.

        Raises:
            KeyError: no such connection. ConfigError: as :meth:`load`.
        """
        for spec in self.load():
            if spec.name == name:
                return spec
        raise KeyError(name)

    def save(self, spec: ConnectionSpec) -> None:
        """Add ``spec`` or update the connection of the same name, keeping the rest of the
        file (comments, order, other connections) as it was. Values the file spells as
        ``${env.NAME}`` stay that way when their expansion is unchanged. The file's
        ``secrets`` record is set from ``spec.secrets_in`` (removed when it is None).

        The read, the change and the write happen under :meth:`locked`.

        Raises:
            ConfigError: the existing file is malformed, or ``spec.name`` is not a valid
                name (:data:`NAME_RE`) or its provider is unknown.
            ConfigLocked: another writer held the lock past the timeout.
            OSError: the file or its folder cannot be written.
        """
        env = os.environ if self._environ is None else self._environ
        with self.locked():
            text = self._read()
            new_text = config_write.with_spec(text or "", self.path, spec, env)
            config_write.write_atomic(self.path, new_text)

    def remove(self, name: str) -> bool:
        """Delete the connection ``name`` from the file (under :meth:`locked`); False if
        it was not there.

        Raises:
            ConfigError: the file is malformed. ConfigLocked: as :meth:`save`.
            OSError: the file cannot be written.
        """
        if not os.path.exists(self.path):
            return False  # nothing to lock for (and no folder to create)
        with self.locked():
            text = self._read()
            if text is None:
                return False
            new_text = config_write.without_spec(text, self.path, name)
            if new_text is None:
                return False
            config_write.write_atomic(self.path, new_text)
        return True


def resolve_target(text: str, store: ConnectionStore) -> tuple[ConnectionSpec, str, str] | None:
    """Read ``NAME`` or ``NAME:bucket/prefix`` where NAME is a saved connection.

    Returns ``(spec, bucket, prefix)``: bucket ``""`` means the connection's own default
    (or its bucket list), prefix ``""`` the bucket root. Returns ``None`` when ``text`` is
    not such a reference (a URI such as ``s3://b``, a path, an unknown name): the caller
    then uses :func:`pail.core.uri.parse_uri`. A saved name wins over a same-named folder in
    the current directory; type ``./name`` for the folder.

    Raises:
        ConfigError: the config file is malformed (only read when ``text`` looks like a
            reference).
    """
    name, _, rest = text.partition(":")
    if not NAME_RE.match(name) or rest.startswith("//"):
        return None
    try:
        spec = store.get(name)
    except KeyError:
        return None
    bucket, _, prefix = rest.lstrip("/").partition("/")
    return spec, bucket, prefix
