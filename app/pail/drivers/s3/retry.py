"""pail's retry policy (:mod:`pail.drivers.retry`) on botocore clients, through botocore's
event system instead of botocore's retry handler.

How botocore decides a retry (botocore 1.x, ``botocore/endpoint.py``
``Endpoint._needs_retry``): after every attempt it emits ``needs-retry.<service>.<Operation>``
with the keyword arguments ``attempts`` (attempts made so far, 1-based), ``response``
(``(http_response, parsed_dict)``, or ``None`` when no response arrived),
``caught_exception`` (or ``None``), ``request_dict`` (its ``context`` dict lives for the
whole API call), ``operation`` and ``endpoint``. The first handler answer that is not
``None`` is a delay in seconds: botocore sleeps it and sends the request again; ``None`` or
``False`` ends the call.

pail builds its clients with ``retries={"mode": ..., "total_max_attempts": 1}``. In
``standard`` (and ``adaptive``) mode, ``botocore/retries/standard.py``
``RetryHandler.needs_retry`` asks ``StandardRetryConditions`` first, whose
``MaxAttemptsChecker`` requires ``attempt_number < max_attempts``: false from the first
attempt on, so ``RetryQuotaChecker.acquire_retry_quota`` is never reached, no quota is ever
drawn, and the handler answers ``None``. ``legacy`` mode turns ``total_max_attempts`` 1 into
``max_attempts`` 0 (``ClientCreator._transform_legacy_retries``) and has no quota at all.
:func:`install` then registers pail's handler on ``needs-retry.<service>``, which answers
with the policy's back-off: each API call has its own attempt count and clock (kept in its
``request_dict["context"]``), and nothing is shared between calls.

For a client pail did not build (an injected one) :func:`install` also unregisters
botocore's own retry handler (``unique_id`` ``retry-config-<service>``, the id
``botocore/client.py`` registers it under in every mode), so that only pail retries.

These are botocore internals (event names and keyword arguments, the handler's
``unique_id``, ``request.context["retries"]``), checked against botocore 1.44.8 and the
1.34.0 source. tests/drivers/test_retry_faults.py fails if one changes: an injected client
whose own handler survived would send more requests than pail's policy allows.
"""

from __future__ import annotations

import time
from typing import Any

from pail.drivers.errors import Transient
from pail.drivers.retry import RetryPolicy, is_certificate_failure

# Key of the first attempt's start (time.monotonic(), seconds) in a call's context dict.
_STARTED = "pail_retry_started"


def botocore_retries(mode: str | None = None) -> dict[str, Any]:
    """The ``Config(retries=...)`` that makes botocore send each request once (pail's
    handler decides retries). ``mode``: ``standard`` (default), ``legacy`` or
    ``adaptive`` (keeps botocore's client-side rate limiter, which throttling slows down).

    Raises:
        ValueError: an unknown mode.
    """
    mode = mode or "standard"
    if mode not in ("standard", "legacy", "adaptive"):
        raise ValueError(f"retry_mode must be standard, legacy or adaptive, got {mode!r}")
    return {"mode": mode, "total_max_attempts": 1}


class PolicyRetryHandler:
    """A ``needs-retry`` handler applying a :class:`RetryPolicy` to botocore responses.

    Retried: answers :func:`pail.drivers.s3.errors.error_class` maps to
    :class:`~pail.drivers.errors.Transient` (429, 500/502/503/504, 408, ``SlowDown``,
    ``Throttling``..., ``RequestTimeout``, ``InternalError``) and requests that got no
    answer because of a botocore ``ConnectionError`` or ``HTTPClientError`` (refused,
    reset, DNS, connect/read timeout), except a TLS certificate failure.
    """

    def __init__(self, policy: RetryPolicy, clock: Any = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock

    def mark_start(self, context: dict[str, Any] | None = None, **_: Any) -> None:
        """``before-call`` handler: remember when the call's first attempt starts.
        Returns ``None`` (a value would stand in for the response)."""
        if context is not None:
            context[_STARTED] = self._clock()

    def seed_max(self, request: Any = None, **_: Any) -> None:
        """``request-created`` handler: the ``max`` of the ``amz-sdk-request`` header is
        pail's attempt limit, not botocore's 1."""
        retries = getattr(request, "context", {}).get("retries")
        if retries is not None:
            retries["max"] = self.policy.attempts

    def __call__(
        self,
        attempts: int,
        response: Any = None,
        caught_exception: BaseException | None = None,
        request_dict: dict[str, Any] | None = None,
        **_: Any,
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None`` for no retry."""
        if not self.retryable(response, caught_exception):
            return None
        context = (request_dict or {}).get("context")
        now = self._clock()
        started = context.setdefault(_STARTED, now) if isinstance(context, dict) else now
        return self.policy.next_delay(attempts, now - started)

    @staticmethod
    def retryable(response: Any, caught_exception: BaseException | None) -> bool:
        """True when the attempt's outcome is worth another attempt (see the class doc)."""
        from botocore import exceptions as bx

        from pail.drivers.s3.errors import error_class

        if caught_exception is not None:
            if not isinstance(caught_exception, (bx.ConnectionError, bx.HTTPClientError)):
                return False
            return not is_certificate_failure(str(caught_exception))
        if response is None:
            return False
        http_response, parsed = response
        status = getattr(http_response, "status_code", None)
        if status is None or status < 300:
            return False
        error = parsed.get("Error") if isinstance(parsed, dict) else None
        code = error.get("Code") if isinstance(error, dict) else None
        return issubclass(error_class(str(code) if code else None, status), Transient)


def install(client: Any, policy: RetryPolicy, *, replace_botocore: bool = False) -> Any:
    """Make ``client`` (any botocore client) retry every request under ``policy``.

    Args:
        client: a botocore client, built with :func:`botocore_retries` or injected.
        policy: the retry policy.
        replace_botocore: also unregister botocore's own retry handler (for a client
            pail did not build, whose config may allow botocore retries and its quota).

    Also installs :func:`pail.drivers.s3.errors.install_answer_check`, so that an error
    answer that is not XML (a proxy's HTML 502 page) keeps its status for this policy.

    Returns the client. Installing twice keeps the first handler (botocore's
    ``unique_id``).
    """
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    if replace_botocore:
        events.unregister(f"needs-retry.{service}", unique_id=f"retry-config-{service}")
    handler = PolicyRetryHandler(policy)
    events.register(f"before-call.{service}", handler.mark_start, unique_id=f"pail-start-{service}")
    events.register(f"request-created.{service}", handler.seed_max, unique_id=f"pail-max-{service}")
    events.register(f"needs-retry.{service}", handler, unique_id=f"pail-retry-{service}")
    # Answers that are not XML keep their status for this handler to judge (see there).
    from pail.drivers.s3.errors import install_answer_check

    return install_answer_check(client)
