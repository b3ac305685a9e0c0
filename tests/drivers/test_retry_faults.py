"""pail's retry policy and timeouts under real faults: the S3 driver talks to moto through the
fault-injecting proxy (tests/support/fault_proxy.py), the GCS driver to the emulator through
one, and the requests that really arrive are counted at the proxy.

The policies here are short (milliseconds of back-off) so the suite stays fast; what is
checked is the count of attempts, the absence of a shared quota, the time bound and the
errors, never speed.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from botocore.exceptions import BotoCoreError

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    InvalidCredentials,
    InvalidRequest,
    NotFound,
    StreamInterrupted,
    Throttled,
    Transient,
)
from pail.drivers.gcs import GcsDriver
from pail.drivers.retry import RetryPolicy
from pail.drivers.s3 import S3Driver
from pail.drivers.s3.errors import translate, translate_stream
from support.fault_proxy import Rule
from support.servers import REGION, gcs_client, s3_client, seed_keys

FAST = RetryPolicy(attempts=5, base=0.005, cap=0.02, total=30.0)


def _s3(endpoint: str, **kwargs) -> S3Driver:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("access_key_id", "testing")
    kwargs.setdefault("secret_access_key", "testing")
    return S3Driver(endpoint_url=endpoint, region=REGION, path_style=True, **kwargs)


def _sent(faults, path: str) -> int:
    return sum(1 for r in faults.requests if r.path == path)


# -- the bulk job that starved botocore's shared retry quota ------------------------------


def test_bulk_job_two_500s_per_object_reads_every_object(s3_endpoint, bucket_name, faults):
    # botocore's standard mode drew 14 tokens of a 500-token client-wide quota per retry:
    # 102 retries needed here, the quota ran out after ~35 and later objects failed at once.
    keys = {f"bulk/{i:02d}.bin": f"object {i}\n".encode() * 10 for i in range(51)}
    seed_keys(bucket_name, keys)
    for key in keys:
        faults.add(Rule(method="GET", path=f"^/{bucket_name}/{key}$", times=2, status=500))
    driver = _s3(faults.url)
    failures = []
    for key, body in keys.items():
        try:
            assert driver.read_range(bucket_name, key) == body
        except Transient as exc:
            failures.append((key, exc))
    assert failures == []
    per_object = Counter(r.path for r in faults.requests if r.method == "GET")
    assert per_object == {f"/{bucket_name}/{key}": 3 for key in keys}  # 500, 500, 200


def test_default_policy_needs_no_settings(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"a.txt": b"hello"})
    faults.add(Rule(method="GET", path=f"^/{bucket_name}/a.txt$", times=4, status=503))
    driver = _s3(faults.url, retry=None)  # DEFAULT_POLICY: 5 attempts
    assert driver.retry_policy.attempts == 5
    assert driver.read_range(bucket_name, "a.txt") == b"hello"
    assert _sent(faults, f"/{bucket_name}/a.txt") == 5


@pytest.mark.parametrize(
    ("status", "code"), [(503, "SlowDown"), (429, "SlowDown"), (503, "ServiceUnavailable")]
)
def test_throttling_is_retried(s3_endpoint, bucket_name, faults, status, code):
    seed_keys(bucket_name, {"t.txt": b"throttled"})
    faults.add(Rule(path=f"^/{bucket_name}/t.txt$", times=2, status=status, code=code))
    assert _s3(faults.url).read_range(bucket_name, "t.txt") == b"throttled"
    assert _sent(faults, f"/{bucket_name}/t.txt") == 3


def test_throttling_that_never_ends_surfaces_as_throttled(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"t.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/", times=None, status=503, code="SlowDown"))
    with pytest.raises(Throttled) as err:
        _s3(faults.url, max_attempts=3).head(bucket_name, "t.txt")
    assert err.value.status == 503
    assert _sent(faults, f"/{bucket_name}/t.txt") == 3


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, InvalidRequest),
        (403, AccessDenied),
        (404, NotFound),
        (412, Exception),
        (416, InvalidRequest),
        (501, Exception),
    ],
)
def test_client_errors_are_sent_once(s3_endpoint, bucket_name, faults, status, expected):
    # ListObjectsV2 rather than HEAD: botocore's region redirector re-sends a bodiless HEAD
    # 400 once to probe the bucket's region (see pail.drivers.s3.driver), which is not a retry.
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}$", times=None, status=status))
    # list_version = 2 set: else a 501 sends the page again as ListObjects V1 (a fallback,
    # not a retry: pail.drivers.quirks), which tests/drivers/test_quirks.py covers.
    with pytest.raises(expected) as err:
        _s3(faults.url, quirks={"list_version": 2}).list_page(bucket_name)
    assert not isinstance(err.value, Transient) and err.value.status == status
    assert _sent(faults, f"/{bucket_name}") == 1


def test_real_404_is_sent_once(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"here.txt": b"x"})
    with pytest.raises(NotFound):
        _s3(faults.url).read_range(bucket_name, "missing.txt")
    assert _sent(faults, f"/{bucket_name}/missing.txt") == 1


def test_real_403_from_iam_is_sent_once(moto_iam_server, make_fault_proxy):
    proxy = make_fault_proxy(moto_iam_server.endpoint)
    proxy.reset()
    reader = moto_iam_server.users["reader"]
    driver = _s3(
        proxy.url,
        access_key_id=reader.access_key_id,
        secret_access_key=reader.secret_access_key,
    )
    with pytest.raises(AccessDenied) as err:
        driver.list_buckets()
    assert err.value.status == 403 and err.value.endpoint == proxy.url
    with pytest.raises(InvalidCredentials):
        _s3(proxy.url, access_key_id="AKIAUNKNOWN000000000").list_page(moto_iam_server.bucket)
    assert [(r.method, r.path, r.status) for r in proxy.requests] == [
        ("GET", "/", 403),
        ("GET", f"/{moto_iam_server.bucket}", 403),
    ]


# -- bounds: attempts, total time, stalls ----------------------------------------------


def test_total_time_bound_ends_a_request_answered_500_forever(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=500))
    policy = RetryPolicy(attempts=20, base=0.3, cap=0.3, total=1.0)
    started = time.monotonic()
    with pytest.raises(Transient) as err:
        _s3(faults.url, retry=policy).head(bucket_name, "k.txt")
    assert time.monotonic() - started < 15  # generous: the bound is 1 s
    sent = _sent(faults, f"/{bucket_name}/k.txt")
    assert 2 <= sent < 20  # retried, but the clock, not the attempt count, ended it
    assert err.value.status == 500


def test_a_hung_request_times_out_naming_the_endpoint(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, action="hang"))
    driver = _s3(faults.url, read_timeout=1, max_attempts=2)
    started = time.monotonic()
    with pytest.raises((EndpointUnreachable, Transient)) as err:
        driver.read_range(bucket_name, "k.txt")
    assert time.monotonic() - started < 20  # two 1 s timeouts and a short back-off
    exc = err.value
    assert exc.endpoint == faults.url
    assert faults.url in str(exc) and "None" not in str(exc)
    assert all("None" not in f.value for f in exc.fields())
    assert _sent(faults, f"/{bucket_name}/k.txt") == 2  # a timeout is retried


def test_a_stalled_body_names_the_endpoint_not_none(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"big.bin": b"b" * 200_000})
    faults.add(Rule(path=f"^/{bucket_name}/big.bin$", action="stall", after=1000))
    driver = _s3(faults.url, read_timeout=1)
    body = driver.client.get_object(Bucket=bucket_name, Key="big.bin")["Body"]
    with pytest.raises(BotoCoreError) as raised:
        body.read()
    body.close()
    assert '"None"' in str(raised.value)  # what botocore itself says
    fields = {"bucket": bucket_name, "key": "big.bin", "endpoint": driver.endpoint}
    plain = translate(raised.value, operation="GetObject", **fields)
    assert plain is not None and "None" not in str(plain) and faults.url in str(plain)
    stream = translate_stream(raised.value, read_timeout=1, **fields)
    assert isinstance(stream, StreamInterrupted) and isinstance(stream, Transient)
    assert stream.code == "ReadTimeout" and stream.endpoint == faults.url
    assert faults.url in stream.message and "within 1 s" in stream.message
    assert "None" not in str(stream)


def test_a_reset_body_is_stream_interrupted(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"big.bin": b"r" * 200_000})
    faults.add(Rule(path=f"^/{bucket_name}/big.bin$", action="reset", after=1000))
    driver = _s3(faults.url, read_timeout=5)
    body = driver.client.get_object(Bucket=bucket_name, Key="big.bin")["Body"]
    with pytest.raises(Exception) as raised:
        body.read()
    body.close()
    stream = translate_stream(
        raised.value, bucket=bucket_name, key="big.bin", endpoint=driver.endpoint
    )
    assert isinstance(stream, StreamInterrupted)
    assert stream.code == "StreamInterrupted" and stream.endpoint == faults.url
    assert "None" not in str(stream)


def test_a_truncated_body_is_stream_interrupted(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"big.bin": b"t" * 200_000})
    faults.add(Rule(path=f"^/{bucket_name}/big.bin$", action="truncate", after=1000))
    driver = _s3(faults.url, read_timeout=5)
    body = driver.client.get_object(Bucket=bucket_name, Key="big.bin")["Body"]
    with pytest.raises(Exception) as raised:
        body.read()
    body.close()
    stream = translate_stream(
        raised.value, bucket=bucket_name, key="big.bin", endpoint=driver.endpoint
    )
    assert isinstance(stream, StreamInterrupted) and stream.code == "StreamInterrupted"


# -- every client pail builds, and injected ones ------------------------------------------


def test_an_injected_client_follows_the_policy_not_botocores(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=500))
    raw = s3_client(faults.url)  # botocore's default retry config (legacy, 5 attempts)
    policy = RetryPolicy(attempts=3, base=0.005, cap=0.01)
    with pytest.raises(Transient):
        S3Driver(client=raw, retry=policy).head(bucket_name, "k.txt")
    assert _sent(faults, f"/{bucket_name}/k.txt") == 3


def test_client_options_set_attempts_and_timeouts(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=502))
    options = {"max_attempts": 2, "read_timeout": 7, "connect_timeout": 3}
    driver = _s3(faults.url, client_options={**options, "retry_mode": "adaptive"})
    config = driver.client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (3, 7)
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 1}  # botocore: once
    assert driver.retry_policy.attempts == 2
    with pytest.raises(Transient):
        driver.head(bucket_name, "k.txt")
    assert _sent(faults, f"/{bucket_name}/k.txt") == 2


def test_defaults_are_bounded() -> None:
    driver = S3Driver(endpoint_url="http://127.0.0.1:9", region=REGION)
    config = driver.client.meta.config
    assert config.connect_timeout <= 10 and config.read_timeout <= 30
    assert config.retries["total_max_attempts"] == 1
    gcs = GcsDriver(client=object())
    assert gcs._timeout[0] <= 10 and gcs._timeout[1] <= 30
    assert driver.retry_policy == gcs.retry_policy and driver.retry_policy.total <= 60


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"read_timeout": 0},
        {"connect_timeout": -1},
        {"client_options": {"read_timeout": 10_000}},
        {"client_options": {"retry_mode": "aggressive"}},
    ],
)
def test_out_of_range_settings_are_refused(kwargs) -> None:
    with pytest.raises(InvalidRequest) as err:
        S3Driver(endpoint_url="http://127.0.0.1:9", **kwargs)
    assert err.value.code == "InvalidClientOption" and "\n" not in str(err.value)
    if "client_options" not in kwargs:
        with pytest.raises(InvalidRequest):
            GcsDriver(client=object(), **kwargs)


def test_the_sigv4_presign_client_has_the_policy_too(s3_endpoint, bucket_name, faults):
    driver = _s3(faults.url, max_attempts=2)
    presigner = driver._presign_client()
    assert presigner is not driver.client
    seed_keys(bucket_name, {"k.txt": b"x"})
    faults.add(Rule(path=f"^/{bucket_name}/k.txt$", times=None, status=500))
    with pytest.raises(Exception):  # noqa: B017 - only the count matters here
        presigner.head_object(Bucket=bucket_name, Key="k.txt")
    assert _sent(faults, f"/{bucket_name}/k.txt") == 2


# -- GCS, the emulator behind a fault proxy ---------------------------------------------


@pytest.fixture
def gcs_faults(gcs_emulator, make_fault_proxy, bucket_name):
    proxy = make_fault_proxy(gcs_emulator)
    bucket = gcs_client(gcs_emulator).create_bucket(bucket_name)
    bucket.blob("runs/a.txt").upload_from_string(b"hello gcs")
    proxy.reset()
    yield proxy
    proxy.reset()


def _gcs(url: str, **kwargs) -> GcsDriver:
    kwargs.setdefault("retry", FAST)
    return GcsDriver(client=gcs_client(url), **kwargs)


def test_gcs_5xx_twice_then_served(gcs_faults, bucket_name):
    object_path = f"^/storage/v1/b/{bucket_name}/o/runs/a.txt$"
    gcs_faults.add(Rule(method="GET", path=object_path, times=2, status=503))
    info = _gcs(gcs_faults.url).head(bucket_name, "runs/a.txt")
    assert info.size == len(b"hello gcs")
    assert len(gcs_faults.requests) == 3


def test_gcs_429_is_retried_and_403_is_not(gcs_faults, bucket_name):
    gcs_faults.add(Rule(method="GET", path="/o$", times=1, status=429))
    page = _gcs(gcs_faults.url).list_page(bucket_name, "runs/")
    assert [e.key for e in page.entries] == ["runs/a.txt"]
    assert len(gcs_faults.requests) == 2
    gcs_faults.reset()
    gcs_faults.add(Rule(method="GET", path="/o$", times=None, status=403))
    with pytest.raises(AccessDenied):
        _gcs(gcs_faults.url).list_page(bucket_name, "runs/")
    assert len(gcs_faults.requests) == 1


def test_gcs_attempts_and_time_bound(gcs_faults, bucket_name):
    gcs_faults.add(Rule(method="GET", times=None, status=500))
    with pytest.raises(Transient):
        _gcs(gcs_faults.url, max_attempts=3).head(bucket_name, "runs/a.txt")
    assert len(gcs_faults.requests) == 3
    gcs_faults.reset()
    gcs_faults.add(Rule(method="GET", times=None, status=500))
    policy = RetryPolicy(attempts=20, base=0.3, cap=0.3, total=1.0)
    started = time.monotonic()
    with pytest.raises(Transient):
        _gcs(gcs_faults.url, retry=policy).head(bucket_name, "runs/a.txt")
    assert time.monotonic() - started < 15
    assert 2 <= len(gcs_faults.requests) < 20


def test_gcs_hung_request_times_out(gcs_faults, bucket_name):
    gcs_faults.add(Rule(method="GET", times=None, action="hang"))
    started = time.monotonic()
    with pytest.raises((EndpointUnreachable, Transient)) as err:
        _gcs(gcs_faults.url, read_timeout=1, max_attempts=2).head(bucket_name, "runs/a.txt")
    assert time.monotonic() - started < 20
    assert err.value.endpoint == gcs_faults.url and "None" not in str(err.value)
    assert len(gcs_faults.requests) == 2


def test_the_sts_client_of_the_identity_probe_has_the_policy_too(s3_endpoint, faults):
    faults.add(Rule(method="POST", path="^/$", times=2, status=503, code="Throttling"))
    identity = _s3(faults.url).caller_identity()
    assert identity.account
    assert [r.status for r in faults.requests if r.method == "POST"] == [503, 503, 200]
