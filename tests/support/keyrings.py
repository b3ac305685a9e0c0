"""Keyring backends for tests, so no test reads or writes the user's keyring.

Real ``keyring.backend.KeyringBackend`` subclasses, installed with ``keyring.set_keyring``
in-process or named by ``PYTHON_KEYRING_BACKEND=support.keyrings.NAME`` in a child
process (with the tests folder on ``PYTHONPATH``, see :func:`child_env`):

* :class:`MemoryKeyring`: passwords in a dict; every test gets one (``isolated_config``).
  The real Secret Service round trip lives in ``tests/credentials/test_secret_service.py``.
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

#: The tests folder: what a child process needs on ``PYTHONPATH`` to import this module.
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
    """An environment for a ``pail`` child process using ``support.keyrings.<backend>``
    (``"LockedKeyring"``, ``"FolderKeyring"``) or a full dotted path (``keyring.backends
    .fail.Keyring``); ``extra`` variables are added (``None`` values are not allowed)."""
    env = dict(os.environ if base is None else base)
    env["PYTHON_KEYRING_BACKEND"] = backend if "." in backend else f"support.keyrings.{backend}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (TESTS, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


class MemoryKeyring(KeyringBackend):
    """Passwords in a dict keyed by ``(service, username)``; priority 10 (usable)."""

    # pail shows the keyring as ``module.Class`` (status bar, connections screen); the UI
    # snapshots were recorded when this class lived in tests/memory_keyring.py, so it keeps
    # that name rather than ``support.keyrings``.
    __module__ = "memory_keyring"

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.entries:
            raise PasswordDeleteError("not found")
        del self.entries[(service, username)]
