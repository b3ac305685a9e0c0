"""A bounded retry loop for drivers whose SDK retry is deadline-based.

google-cloud-storage's ``DEFAULT_RETRY`` keeps retrying connection errors for up to 120
seconds; pail wants a small, fixed number of attempts so an unreachable endpoint shows up
in a second or two. The GCS driver therefore passes ``retry=None`` to the SDK and wraps
each call here (S3 uses botocore's own bounded ``standard`` mode instead; never both).

Only :class:`~pail.drivers.errors.Transient` (5xx, timeouts, throttling) and
:class:`~pail.drivers.errors.EndpointUnreachable` are retried; 403, 404 and every other
error surface after the first attempt.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pail.drivers.errors import EndpointUnreachable, StorageError, Transient

T = TypeVar("T")

#: Errors worth another attempt.
RETRYABLE: tuple[type[StorageError], ...] = (Transient, EndpointUnreachable)


def backoff_delay(attempt: int, base: float = 0.25, cap: float = 4.0) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): "full jitter"
    exponential backoff, uniform in ``[0, min(cap, base * 2**(attempt-1))]``."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base: float = 0.25,
    cap: float = 4.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call ``fn`` up to ``attempts`` times (first call included).

    ``fn`` must raise :class:`StorageError` subclasses (already translated). Retryable
    errors (see :data:`RETRYABLE`) are retried after :func:`backoff_delay`; the last one
    is re-raised unchanged. Any other exception propagates at once.
    """
    attempt = 1
    while True:
        try:
            return fn()
        except RETRYABLE:
            if attempt >= attempts:
                raise
            sleep(backoff_delay(attempt, base, cap))
            attempt += 1
