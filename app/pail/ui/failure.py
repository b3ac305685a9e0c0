"""Turn any exception a worker raises into a :class:`StorageError` the UI can show.

Drivers already raise :class:`pail.drivers.errors.StorageError`; anything else (a bug, an
SDK exception that slipped through) is wrapped in :class:`UnexpectedError` so it gets a
badge, fields and a hint like every other error and never a traceback on screen.
"""

from __future__ import annotations

from pail.drivers.errors import StorageError


class UnexpectedError(StorageError):
    """An exception that is not a :class:`StorageError`; ``message`` names its type."""

    kind = "error"

    @property
    def hint(self) -> str:
        return (
            "pail did not expect this error. Press r to retry; if it persists, report it "
            "with the fields above (they hold no secrets)."
        )


def as_storage_error(
    exc: BaseException, *, operation: str = "", provider: str = ""
) -> StorageError:
    """``exc`` itself when it is a :class:`StorageError`, else an :class:`UnexpectedError`
    whose message is ``"TypeName: text"``."""
    if isinstance(exc, StorageError):
        return exc
    text = str(exc)
    message = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return UnexpectedError(message, operation=operation, provider=provider)
