"""Turn any exception a worker raises into a :class:`StorageError` the UI can show.

Drivers already raise :class:`pail.drivers.errors.StorageError`; anything else (a bug, an
SDK exception that slipped through) is wrapped in :class:`UnexpectedError` so it gets a
badge, fields and a hint like every other error and never a traceback on screen.
"""

from __future__ import annotations

from pail.drivers.errors import StorageError, StreamInterrupted
from pail.drivers.retry import should_retry

#: The app's own key hint for an error worth another try (the drivers' hints name no key:
#: the command line shows them too).
RETRY_KEY_HINT = "Press r to retry."


def app_hint(error: StorageError) -> str:
    """``error.hint`` as the app shows it: with :data:`RETRY_KEY_HINT` added when another
    try can help (:func:`pail.drivers.retry.should_retry`: a 5xx worth retrying, a timeout,
    a refused connection), where ``r`` refreshes the node. A broken download keeps its own
    hint (it resumes on its own)."""
    hint = error.hint
    if should_retry(error) and not isinstance(error, StreamInterrupted):
        return f"{hint} {RETRY_KEY_HINT}" if hint else RETRY_KEY_HINT
    return hint


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
