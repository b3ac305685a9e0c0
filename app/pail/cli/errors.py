"""Exit statuses and the one way the command line reports an expected failure.

The table of codes is in :mod:`pail.cli.main`'s module doc. Errors print as one summary line,
the error's fields and a hint, never a traceback and never a secret.
"""

from __future__ import annotations

from typing import Any

import click

from pail.core.connection import ConfigError, ConfigLocked
from pail.core.text import printable
from pail.core.uri import InvalidURI
from pail.credentials import KeyringUnavailable, SecretsUnavailable
from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    InvalidCredentials,
    NotFound,
    NotStorageEndpoint,
    StorageError,
    StreamInterrupted,
)

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DENIED = 4
EXIT_CREDENTIALS = 5
EXIT_UNREACHABLE = 6
EXIT_KEYRING = 7
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


def exit_code_for(exc: BaseException) -> int:
    """The exit status for an exception (see the table in the module doc).

    A saved connection's secrets that cannot be read from the keyring
    (:class:`~pail.credentials.SecretsUnavailable`) exit 7 when the keyring is locked or
    unusable and 5 when it answered without the connection's entry; another writer
    holding the config file's lock (:class:`~pail.core.connection.ConfigLocked`) exits 1.
    An endpoint that answers, but not in the store's API
    (:class:`~pail.drivers.errors.NotStorageEndpoint`: an HTML page where S3 answers XML)
    exits 6 like an unreachable one: the store was not reached there."""
    if isinstance(exc, SecretsUnavailable):
        return EXIT_CREDENTIALS if exc.reason == "missing" else EXIT_KEYRING
    if isinstance(exc, ConfigLocked):
        return EXIT_ERROR
    if isinstance(exc, (InvalidURI, ConfigError)):
        return EXIT_USAGE
    if isinstance(exc, KeyringUnavailable):
        return EXIT_KEYRING
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, AccessDenied):
        return EXIT_DENIED
    if isinstance(exc, InvalidCredentials):
        return EXIT_CREDENTIALS
    if isinstance(exc, (EndpointUnreachable, StreamInterrupted)):  # the network broke
        return EXIT_UNREACHABLE
    if isinstance(exc, NotStorageEndpoint):  # something answered there, but not the store
        return EXIT_UNREACHABLE
    return EXIT_ERROR


class CliError(click.ClickException):
    """An expected failure: printed to stderr as plain lines, exits with ``exit_code``."""

    def __init__(self, lines: list[str], exit_code: int) -> None:
        super().__init__(lines[0] if lines else "error")
        self.lines = lines
        # click declares exit_code a ClassVar, yet reads it from the instance (click 8.1-8.4
        # ClickException.show/main); one class serves every exit status.
        self.exit_code = exit_code  # type: ignore[misc]

    @classmethod
    def from_exception(cls, exc: Exception) -> CliError:
        """One summary line, then (for storage errors) every field and the hint. A
        :class:`~pail.credentials.SecretsUnavailable` is its one line only: its message
        already says what happened and what fixes it."""
        if isinstance(exc, SecretsUnavailable):
            return cls([f"pail: error: {printable(exc.message)}"], exit_code_for(exc))
        lines = [f"pail: error: {printable(str(exc))}"]
        if isinstance(exc, StorageError):
            lines += [f"  {f.label}: {printable(f.value)}" for f in exc.fields()]
            if exc.hint:
                lines.append(f"  Hint: {exc.hint}")
        return cls(lines, exit_code_for(exc))

    def show(self, file: Any = None) -> None:
        click.echo("\n".join(self.lines), file=file, err=True)
