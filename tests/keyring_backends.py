"""Keyring backends for tests that need a keyring other than the in-memory one.

Real ``keyring.backend.KeyringBackend`` subclasses, installed with ``keyring.set_keyring``
in-process or named by ``PYTHON_KEYRING_BACKEND=keyring_backends.NAME`` in a child
process (with this folder on ``PYTHONPATH``, see :func:`child_env`):

* :class:`LockedKeyring`: every read raises ``KeyringLocked``, as a locked Secret Service
  collection does when nothing can prompt for its password.
* :class:`FolderKeyring`: one file per entry in ``$PAIL_TEST_KEYRING_DIR``, so several
  child processes share one working keyring (each entry is its own file: concurrent
  writers of different entries never touch the same file).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

HERE = os.path.dirname(os.path.abspath(__file__))


class LockedKeyring(KeyringBackend):
    """A usable-looking backend (priority 10) whose collection is locked: every call
    raises ``KeyringLocked`` and nothing is ever returned or stored."""

    priority = 10  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


class FolderKeyring(KeyringBackend):
    """Entries as files in ``$PAIL_TEST_KEYRING_DIR`` (mode 0600), one per (service,
    user); priority 10 (usable)."""

    priority = 10  # type: ignore[assignment]

    def _path(self, service: str, username: str) -> str:
        folder = os.environ["PAIL_TEST_KEYRING_DIR"]
        digest = hashlib.sha256(f"{service}\0{username}".encode()).hexdigest()
        return os.path.join(folder, digest)

    def get_password(self, service: str, username: str) -> str | None:
        try:
            with open(self._path(service, username), encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None

    def set_password(self, service: str, username: str, password: str) -> None:
        path = self._path(service, username)
        tmp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(password)
        os.replace(tmp, path)

    def delete_password(self, service: str, username: str) -> None:
        try:
            os.unlink(self._path(service, username))
        except FileNotFoundError:
            raise PasswordDeleteError("not found") from None


def child_env(backend: str, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """An environment for a ``pail`` child process using ``keyring_backends.<backend>``
    (``"LockedKeyring"``, ``"FolderKeyring"``) or a full dotted path (``keyring.backends
    .fail.Keyring``); ``extra`` variables are added (``None`` values are not allowed)."""
    env = dict(os.environ if base is None else base)
    env["PYTHON_KEYRING_BACKEND"] = backend if "." in backend else f"keyring_backends.{backend}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env
