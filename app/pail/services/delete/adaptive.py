"""How many delete requests may be in flight: a limit that shrinks when the store pushes back.

:class:`AdaptiveLimit` is additive increase, multiplicative decrease (AIMD, the rule of
TCP's congestion control, RFC 5681; the AWS SDKs' "adaptive" retry mode slows a client
down the same way, with a token bucket, when it is throttled). It starts at its ceiling
(the ``-j`` a user chose, or the engine's default): on a store that never pushes back
nothing changes. A sign of pushback halves it (never below 1); after that, each request
that answers without one adds ``1 / limit``, so the limit grows back by one request per
round of requests, up to the ceiling.

Signs of pushback (decided by the caller, :mod:`pail.services.delete.engine`): a request
that failed as :class:`~pail.drivers.errors.Transient` (S3's 503 ``SlowDown``, 429, 500,
a timeout) once the driver's own retries ran out; a request that succeeded only after the
driver retried it; keys refused with a throttling code inside a 200 answer.

One decrease per round: a request sent before the last decrease was sent at the old rate,
so its pushback says nothing new and is not counted again (otherwise eight requests
throttled together would divide the limit by 256).
"""

from __future__ import annotations

import threading

__all__ = ["AdaptiveLimit"]


class AdaptiveLimit:
    """A concurrency limit between 1 and ``ceiling`` (see the module doc). Thread-safe.

    Usage: ``ticket = limit.ticket()`` when a request is sent (while ``in_flight <
    limit.value``), then ``limit.pushback(ticket)`` or ``limit.success(ticket)`` when it
    has answered.

    Args:
        ceiling: the most requests in flight (at least 1); also the start.
    """

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self._value = float(self.ceiling)
        self._round = 0  # increases at every decrease
        self._decreases = 0
        self._lowest = self.ceiling
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        """Requests that may be in flight now (1..ceiling)."""
        with self._lock:
            return int(self._value)

    @property
    def decreases(self) -> int:
        """How many times pushback halved the limit."""
        with self._lock:
            return self._decreases

    @property
    def lowest(self) -> int:
        """The lowest the limit has been."""
        with self._lock:
            return self._lowest

    def ticket(self) -> int:
        """Call when a request is sent; hand the ticket back with its outcome."""
        with self._lock:
            return self._round

    def pushback(self, ticket: int) -> bool:
        """The request sent with ``ticket`` met pushback: halve the limit, unless it was
        sent before the last decrease. Returns True when the limit went down."""
        with self._lock:
            if ticket != self._round:
                return False
            self._round += 1
            self._decreases += 1
            self._value = max(1.0, float(int(self._value) // 2))
            self._lowest = min(self._lowest, int(self._value))
            return True

    def success(self, ticket: int) -> None:
        """The request sent with ``ticket`` answered without pushback: grow by
        ``1 / limit`` (one more request per round), up to the ceiling."""
        with self._lock:
            if ticket != self._round or self._value >= self.ceiling:
                return
            self._value = min(float(self.ceiling), self._value + 1.0 / int(self._value))
