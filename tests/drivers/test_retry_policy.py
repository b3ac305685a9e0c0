"""The retry policy itself (pail.drivers.retry): back-off bounds, the attempt and time
limits, the setting limits, and call_with_retry's choice of what to retry. The clock and the
sleep are injected so the time bound is checked exactly, without waiting."""

from __future__ import annotations

import pytest

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    NotFound,
    StreamInterrupted,
    Throttled,
    Transient,
)
from pail.drivers.retry import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POLICY,
    DEFAULT_READ_TIMEOUT,
    RetryPolicy,
    call_with_retry,
    check_setting,
    should_retry,
)


def test_defaults_a_user_can_rely_on() -> None:
    assert RetryPolicy(attempts=5, base=0.25, cap=8.0, total=60.0) == DEFAULT_POLICY
    assert DEFAULT_CONNECT_TIMEOUT <= 10 and DEFAULT_READ_TIMEOUT <= 30


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    policy = RetryPolicy(attempts=20, base=0.25, cap=8.0, total=1e9)
    for attempt in range(1, 20):
        ceiling = min(8.0, 0.25 * 2 ** (attempt - 1))
        delays = [policy.backoff(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jittered across the range, not a constant
    assert policy.backoff(10_000) <= 8.0  # no overflow on absurd attempt numbers


def test_next_delay_stops_at_attempts_and_at_the_time_bound() -> None:
    policy = RetryPolicy(attempts=3, base=1.0, cap=1.0, total=10.0)
    assert policy.next_delay(1, 0.0) is not None
    assert policy.next_delay(2, 0.0) is not None
    assert policy.next_delay(3, 0.0) is None  # three attempts made
    assert policy.next_delay(1, 10.0) is None  # out of time
    no_wait = RetryPolicy(attempts=3, base=0.0, cap=0.0, total=10.0)
    assert no_wait.next_delay(1, 9.99) == 0.0  # within the bound: retry at once
    late = RetryPolicy(attempts=3, base=5.0, cap=5.0, total=10.0)
    delays = [late.next_delay(1, 7.0) for _ in range(200)]
    assert all(d is None or 7.0 + d < 10.0 for d in delays)  # a sleep never ends past it


def _flaky(errors: list[Exception], result: str = "ok"):
    calls = []

    def fn() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return result

    return fn, calls


@pytest.mark.parametrize(
    "error",
    [
        Transient("500", status=500),
        Throttled("slow down", status=503, code="SlowDown"),
        EndpointUnreachable("refused"),
        StreamInterrupted("reset"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_transient_errors_are_retried(error: Exception) -> None:
    fn, calls = _flaky([error, error])
    slept: list[float] = []
    assert call_with_retry(fn, policy=RetryPolicy(), sleep=slept.append) == "ok"
    assert len(calls) == 3 and len(slept) == 2


@pytest.mark.parametrize(
    "error",
    [
        AccessDenied("no", status=403),
        NotFound("gone", status=404),
        EndpointUnreachable("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        ValueError("not a storage error"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_other_errors_surface_after_one_call(error: Exception) -> None:
    fn, calls = _flaky([error])
    with pytest.raises(type(error)):
        call_with_retry(fn, sleep=lambda s: pytest.fail("slept"))
    assert len(calls) == 1


def test_the_time_bound_ends_retries_before_the_attempts_do() -> None:
    now = [0.0]
    policy = RetryPolicy(attempts=20, base=5.0, cap=5.0, total=12.0)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    def fn() -> str:
        now[0] += 2.0  # each attempt takes 2 s
        raise Transient("500", status=500)

    with pytest.raises(Transient):
        call_with_retry(fn, policy=policy, sleep=sleep, clock=lambda: now[0])
    assert now[0] <= 12.0 + 2.0  # no sleep ends past the bound; the last attempt may run


def test_each_call_has_its_own_budget() -> None:
    # No shared quota: many calls that each fail twice all succeed.
    policy = RetryPolicy(attempts=3, base=0.0, cap=0.0)
    for _ in range(500):
        fn, calls = _flaky([Transient("500"), Transient("500")])
        assert call_with_retry(fn, policy=policy, sleep=lambda s: None) == "ok"
        assert len(calls) == 3


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("max_attempts", 1, 1),
        ("max_attempts", "20", 20),
        ("connect_timeout", "2.5", 2.5),
        ("read_timeout", 600, 600.0),
    ],
)
def test_settings_in_range(name: str, value: object, expected: float) -> None:
    assert check_setting(name, value) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_attempts", 0),
        ("max_attempts", 21),
        ("max_attempts", 2.5),
        ("max_attempts", True),
        ("connect_timeout", 0),
        ("connect_timeout", "abc"),
        ("read_timeout", float("nan")),
        ("read_timeout", float("inf")),
        ("read_timeout", -1),
    ],
)
def test_settings_out_of_range(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name) as err:
        check_setting(name, value)
    assert "\n" not in str(err.value)


def test_policy_validates_itself() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base=2.0, cap=1.0)
    with pytest.raises(ValueError):
        RetryPolicy(total=0)
    assert RetryPolicy().with_attempts(2).attempts == 2


def test_should_retry_reads_the_cause_too() -> None:
    cert = EndpointUnreachable("SSL validation failed")
    cert.__cause__ = OSError("certificate verify failed: self-signed certificate")
    assert not should_retry(cert)
    assert should_retry(EndpointUnreachable("Could not connect"))
