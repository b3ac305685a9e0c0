"""pail's one retry policy, for every request every driver sends.

The policy (:data:`DEFAULT_POLICY`, a :class:`RetryPolicy`):

* **Attempts**: at most 5 per request, the first included.
* **Back-off**: exponential with *full jitter*: after failed attempt ``n`` pail sleeps a
  uniformly random time in ``[0, min(cap, base * 2**(n-1))]`` seconds, base 0.25 s and
  cap 8 s (so at most 0.25, 0.5, 1, 2 s between the five attempts). Full jitter spreads the
  retries of many clients hitting one throttled store ("Exponential Backoff And Jitter",
  AWS Architecture Blog, 2015).
* **Time bound**: no attempt starts, and no back-off sleep begins that would end, more than
  60 s after the request's first attempt started. An attempt already running is bounded by
  the socket timeouts, so a request gives up within about 60 s + connect + read timeout.
* **Per request, no shared quota**: each request has its own attempt count and clock.
  botocore's ``standard`` mode instead draws every retry from a quota shared by the whole
  client (500 tokens, 5 or 14 per retry), which one bulk job exhausts: later requests then
  fail on their first error with no retry at all. pail switches that off (see
  :mod:`pail.drivers.s3.retry`).
* **Retried**: throttling (HTTP 429, 503 ``SlowDown``, ``Throttling`` and similar codes),
  HTTP 500, 502, 503 and 504 (:data:`RETRYABLE_STATUSES`: the statuses the AWS SDKs'
  standard retry mode retries, "Retry behavior" in the AWS SDKs and Tools Reference Guide),
  ``RequestTimeout`` (S3's 400 for a stalled upload), 408, and failures with no response:
  connection refused or reset, DNS failure, connect and read timeouts. **Never retried**:
  501 Not Implemented, 505 HTTP Version Not Supported and every other 5xx
  (:class:`~pail.drivers.errors.ServerError`), every other 4xx (400, 401, 403, 404, 409,
  412, 416...), redirects, answers that are not the API's format at all (an HTML page), and
  TLS certificate failures: retrying cannot change their answer, and a 403 is information
  the user came to see. A failure that outlives its retries carries ``attempts`` (the same
  answer that many times), and its message says so rather than calling it temporary.

Timeouts: connect :data:`DEFAULT_CONNECT_TIMEOUT` (10 s) and read, i.e. stall,
:data:`DEFAULT_READ_TIMEOUT` (30 s): the longest wait for the next byte of a response.

What changes them, per connection or per run (:data:`SETTING_LIMITS` bounds the values):

* ``[connections.NAME.client]`` ``max_attempts`` (attempts, first included),
  ``connect_timeout`` and ``read_timeout`` (seconds) in the connections file;
* the global flags ``--retries N`` (N retries after the first attempt, so N + 1 attempts),
  ``--connect-timeout S``, ``--read-timeout S``, or the environment variables
  ``PAIL_RETRIES``, ``PAIL_CONNECT_TIMEOUT``, ``PAIL_READ_TIMEOUT``; these win over the file;
* the drivers' keyword arguments (``max_attempts``, ``connect_timeout``, ``read_timeout``,
  ``retry=RetryPolicy(...)``), for code and tests.

S3 applies the policy through botocore's ``needs-retry`` event
(:mod:`pail.drivers.s3.retry`); GCS passes ``retry=None`` to google-cloud-storage (whose
``DEFAULT_RETRY`` retries for up to 120 s) and wraps each call in :func:`call_with_retry`.
Only one layer retries a request, so nothing is retried twice.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from pail.drivers.errors import EndpointUnreachable, StorageError, Transient

T = TypeVar("T")

#: Seconds to wait for a TCP (and TLS) connection.
DEFAULT_CONNECT_TIMEOUT = 10.0
#: Seconds to wait for the next byte of a response (a stalled body fails after this).
DEFAULT_READ_TIMEOUT = 30.0

#: Lowest and highest accepted value of each setting (attempts; timeouts in seconds).
SETTING_LIMITS: dict[str, tuple[float, float]] = {
    "max_attempts": (1, 20),
    "connect_timeout": (0.1, 120.0),
    "read_timeout": (0.1, 600.0),
}

#: Translated errors worth another attempt (see the module doc for what maps to them).
RETRYABLE: tuple[type[StorageError], ...] = (Transient, EndpointUnreachable)

#: HTTP statuses retried whatever the error code says: 408 Request Timeout (RFC 9110
#: 15.5.9), 429 Too Many Requests (RFC 6585 4), and the 5xx the AWS SDKs' standard mode
#: retries. Other 5xx (501, 505...) are :class:`~pail.drivers.errors.ServerError`.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})

# Texts of a TLS certificate failure (OpenSSL's reason and Python's message): permanent.
_CERTIFICATE_FAILURES = ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed")


def check_setting(name: str, value: object) -> int | float:
    """``value`` as the number setting ``name`` takes, within :data:`SETTING_LIMITS`.

    ``max_attempts`` is a whole number; the timeouts are seconds (int or float).

    Raises:
        ValueError: not a number, or out of range (a one-line message naming ``name``).
    """
    low, high = SETTING_LIMITS[name]
    whole = name == "max_attempts"
    unit = "" if whole else " seconds"
    try:
        if isinstance(value, bool):
            raise TypeError
        raw: Any = value  # int() and float() refuse what is not a number (caught below)
        number: int | float = int(raw) if whole else float(raw)
        if whole and number != float(raw):
            raise ValueError
    except (TypeError, ValueError):
        kind = "a whole number" if whole else "a number of seconds"
        raise ValueError(f"{name} must be {kind}, got {value!r}") from None
    if not low <= number <= high:  # also refuses NaN
        raise ValueError(f"{name} must be from {low:g} to {high:g}{unit}, got {value!r}")
    return number


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long one request is retried (see the module doc).

    Attributes:
        attempts: attempts in all, the first included (1 = never retry).
        base: seconds; the back-off ceiling after the first failure (doubles each time).
        cap: seconds; the largest back-off ceiling.
        total: seconds from the first attempt's start after which no attempt starts.

    Raises:
        ValueError: ``attempts`` outside :data:`SETTING_LIMITS`, or a negative ``base``,
            ``cap`` below ``base``, or ``total`` not above 0.
    """

    attempts: int = 5
    base: float = 0.25
    cap: float = 8.0
    total: float = 60.0

    def __post_init__(self) -> None:
        check_setting("max_attempts", self.attempts)
        if not (0 <= self.base <= self.cap) or not self.total > 0:
            raise ValueError(
                f"retry policy needs 0 <= base <= cap and total > 0, got base={self.base!r}, "
                f"cap={self.cap!r}, total={self.total!r}"
            )

    def with_attempts(self, attempts: int) -> RetryPolicy:
        """This policy with ``attempts`` attempts in all (checked as in the constructor)."""
        return replace(self, attempts=int(check_setting("max_attempts", attempts)))

    def backoff(self, attempt: int) -> float:
        """Seconds to sleep after failed attempt ``attempt`` (1-based): full jitter,
        uniform in ``[0, min(cap, base * 2**(attempt-1))]``."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, 62))
        return random.uniform(0, ceiling)  # jitter, not a secret: random is fine

    def next_delay(self, attempt: int, elapsed: float) -> float | None:
        """The back-off before attempt ``attempt + 1``, or ``None`` to give up.

        Args:
            attempt: attempts made so far (1-based), the one that just failed included.
            elapsed: seconds since the request's first attempt started.

        Gives up when ``attempt`` reached :attr:`attempts` or when the sleep would end
        past :attr:`total`. Whether the failure is worth retrying is the caller's call.
        """
        if attempt >= self.attempts or elapsed >= self.total:
            return None
        delay = self.backoff(attempt)
        return None if elapsed + delay >= self.total else delay


#: The policy every driver uses unless told otherwise.
DEFAULT_POLICY = RetryPolicy()


def is_certificate_failure(text: str) -> bool:
    """True when an error text is a TLS certificate verification failure (not retried)."""
    return any(marker in text for marker in _CERTIFICATE_FAILURES)


def should_retry(error: BaseException) -> bool:
    """True for a translated error worth another attempt: :data:`RETRYABLE` and not a TLS
    certificate failure."""
    if not isinstance(error, RETRYABLE):
        return False
    return not is_certificate_failure(f"{error} {error.__cause__ or ''}")


def call_with_retry(
    fn: Callable[[], T],
    *,
    policy: RetryPolicy = DEFAULT_POLICY,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call ``fn`` under ``policy``: again after a back-off while it fails retryably.

    ``fn`` is one request and must raise :class:`StorageError` subclasses (already
    translated). Errors :func:`should_retry` accepts are retried until the policy gives
    up, then the last one is re-raised with ``attempts`` set to the number of attempts
    made (when more than one); any other exception propagates at once. ``sleep`` and
    ``clock`` (seconds, monotonic) are for tests.
    """
    started = clock()
    attempt = 1
    while True:
        try:
            return fn()
        except RETRYABLE as exc:
            if not should_retry(exc):
                raise
            delay = policy.next_delay(attempt, clock() - started)
            if delay is None:
                if attempt > 1:
                    exc.attempts = attempt
                raise
            sleep(delay)
            attempt += 1
