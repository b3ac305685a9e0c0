"""Deletes at speed (issue 17), against real servers: several DeleteObjects in flight at once,
planning and deleting overlapped for plans nobody reviews (``pail rm -r --yes``), batches
sized to the store, and pushback (503 SlowDown) shrinking the batches in flight.

Concurrency and overlap are counted at :class:`DeleteWatch`, the fault proxy
(tests/support/fault_proxy.py) in front of moto or SeaweedFS with three more tricks, each a
barrier rather than a clock: it can hold every DeleteObjects until N are in flight at once,
hold every listing request after the first until one DeleteObjects has been answered, and
refuse (503 SlowDown, every attempt) a DeleteObjects naming a chosen key. A barrier that is
never reached gives up after :data:`LIVENESS` seconds and counts a timeout, so a client
that sends one batch at a time, or lists everything before deleting, fails the test rather
than hanging it. Every test compares the report with what is left in the bucket, listed from
the server itself.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from pail.drivers.base import iter_entries
from pail.drivers.gcs import GcsDriver
from pail.drivers.s3 import S3Driver
from pail.services.delete.adaptive import AdaptiveLimit
from pail.services.delete.engine import (
    GCS_BATCH_KEYS,
    Deleter,
    batch_limit,
    plan_and_delete,
)
from pail.services.delete.filters import StaleFilters
from pail.services.delete.plan import build_plan
from support.cli import run, s3_args
from support.fault_proxy import FaultProxy, Rule, SeenRequest, _continue, _copy_headers
from support.seaweed import S3_SERVERS, put_many, s3_server
from support.servers import gcs_client, s3_client, seed_keys

#: Seconds a barrier waits before it gives up (only reached when the client is too serial).
LIVENESS = 20.0

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message><RequestId>watch</RequestId></Error>"
)


class DeleteWatch(FaultProxy):
    """The fault proxy (its rules still apply to other requests) that also watches
    DeleteObjects (``POST /bucket?delete``) and listings (``GET ...list-type=2``).

    Args:
        hold_for: hold each DeleteObjects until this many are in flight at once (0: never).
        gate_pages: hold each listing request after the first until a DeleteObjects has
            been answered.
        slow_keys: answer 503 SlowDown to every DeleteObjects naming one of these keys.
        deny_pages: answer 403 AccessDenied to every listing request after the first
            (after the gate, when ``gate_pages``).

    ``peak``: most DeleteObjects in flight at once; ``hold_timeouts`` / ``gate_timeouts``:
    barriers given up on; ``slowed``: requests refused with SlowDown; ``deletes``:
    DeleteObjects forwarded and answered.
    """

    def __init__(
        self,
        upstream_url: str,
        *,
        hold_for: int = 0,
        gate_pages: bool = False,
        slow_keys: tuple[str, ...] = (),
        deny_pages: bool = False,
    ) -> None:
        super().__init__(upstream_url)
        self.hold_for = hold_for
        self.gate_pages = gate_pages
        self.slow_keys = [f"<Key>{k}</Key>".encode() for k in slow_keys]
        self.deny_pages = deny_pages
        self.in_flight = self.peak = self.deletes = self.slowed = self.lists = 0
        self.hold_timeouts = self.gate_timeouts = 0
        self._together = asyncio.Event()  # set once hold_for requests were in flight together
        self._answered = asyncio.Event()  # set once a DeleteObjects was answered

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        # Runs on the proxy's one event-loop thread: the counters need no lock.
        if request.method == "POST" and "delete" in request.query:
            return await self._watch_delete(request)
        if request.method == "GET" and request.query.get("list-type") == "2":
            self.lists += 1
            if self.lists > 1 and self.gate_pages:
                try:
                    await asyncio.wait_for(self._answered.wait(), LIVENESS)
                except TimeoutError:
                    self.gate_timeouts += 1
            if self.lists > 1 and self.deny_pages:
                body = b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"
                return web.Response(status=403, body=body, content_type="application/xml")
        return await super()._handle(request)

    async def _watch_delete(self, request: web.BaseRequest) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            if self.hold_for:
                if self.in_flight >= self.hold_for:
                    self._together.set()
                try:
                    await asyncio.wait_for(self._together.wait(), LIVENESS)
                except TimeoutError:
                    self.hold_timeouts += 1
                    self._together.set()  # let the rest through: the test fails on the count
            _continue(request)
            body = await request.read()
            if any(key in body for key in self.slow_keys):
                self.slowed += 1
                return web.Response(status=503, body=_SLOW_DOWN, content_type="application/xml")
            seen = SeenRequest(
                request.method,
                request.path,
                dict(request.query),
                CIMultiDictProxy(CIMultiDict(request.headers)),
                request.raw_path,
            )
            async with await self._send_upstream(request, seen, body) as upstream:
                payload, status = await upstream.read(), upstream.status
                headers = CIMultiDict[str]()
                _copy_headers(upstream.headers, headers)
            headers.popall("Content-Length", None)
            headers.popall("Content-Encoding", None)
            self.deletes += 1
            self._answered.set()
            return web.Response(status=status, body=payload, headers=headers)
        finally:
            self.in_flight -= 1


@pytest.fixture
def watch(moto_server, s3_endpoint):
    """A factory of started :class:`DeleteWatch` proxies in front of moto (reset)."""
    proxies: list[DeleteWatch] = []

    def make(upstream: str = s3_endpoint, **options) -> DeleteWatch:
        proxy = DeleteWatch(upstream, **options).start()
        proxies.append(proxy)
        return proxy

    yield make
    for proxy in proxies:
        proxy.stop()


def _driver(url: str, **options) -> S3Driver:
    return S3Driver(endpoint_url=url, region="us-east-1", path_style=True, **options)


def _left(endpoint: str, bucket: str, prefix: str = "") -> set[str]:
    """Keys in the bucket, listed from the server itself (not through a proxy)."""
    pages = s3_client(endpoint).get_paginator("list_objects_v2")
    return {
        obj["Key"]
        for page in pages.paginate(Bucket=bucket, Prefix=prefix)
        for obj in page.get("Contents", [])
    }


def _assert_report_is_the_truth(report, planned: set[str], left: set[str]) -> None:
    """Every planned key still present is reported failed, every other one confirmed."""
    assert {f.key for f in report.failed} == planned & left
    assert {c.key for c in report.confirmed} == planned - left
    assert report.deleted == len(planned - left)


KEYS = [f"p/{i:05d}" for i in range(4000)]


# -- several DeleteObjects in flight ------------------------------------------------------


def test_a_reviewed_plan_keeps_jobs_delete_objects_in_flight(watch, s3_endpoint, bucket_name):
    seed_keys(bucket_name, [*KEYS, "q/keep"])
    proxy = watch(hold_for=4)
    driver = _driver(proxy.url)
    plan = build_plan(driver, bucket_name, prefixes=["p/"])
    report = Deleter(driver, plan, jobs=4).run()
    assert proxy.hold_timeouts == 0, "four DeleteObjects were never in flight together"
    assert proxy.peak == 4 and proxy.deletes == 4  # never more than jobs
    assert report.ok and report.deleted == 4000
    assert _left(s3_endpoint, bucket_name) == {"q/keep"}


def test_streamed_delete_starts_before_the_listing_ends(watch, s3_endpoint, bucket_name):
    # Every listing request after the first waits until a DeleteObjects was answered: a
    # delete that waited for the whole plan would never get there (gate timeout).
    keys = KEYS[:3000]
    seed_keys(bucket_name, [*keys, "p-not/x", "p"])
    proxy = watch(gate_pages=True)
    deleter = plan_and_delete(_driver(proxy.url), bucket_name, base="p/", prefixes=["p/"])
    report = deleter.run()
    assert proxy.lists > 1 and proxy.gate_timeouts == 0
    assert report.ok and report.plan_complete and report.deleted == 3000
    assert deleter.plan.count == 3000 and deleter.plan.examined == 3000
    assert deleter.plan.whole_prefixes == ["p/"]
    assert _left(s3_endpoint, bucket_name) == {"p-not/x", "p"}


def test_streamed_delete_keeps_several_batches_in_flight(watch, s3_endpoint, bucket_name):
    seed_keys(bucket_name, KEYS)
    proxy = watch(hold_for=3)
    report = plan_and_delete(_driver(proxy.url), bucket_name, prefixes=["p/"], jobs=3).run()
    assert proxy.hold_timeouts == 0 and proxy.peak == 3
    assert report.ok and report.deleted == 4000
    assert _left(s3_endpoint, bucket_name) == set()


# -- pushback ------------------------------------------------------------------------------


def test_slowdown_beyond_retries_fails_only_its_batch(watch, s3_endpoint, bucket_name):
    seed_keys(bucket_name, KEYS)
    proxy = watch(slow_keys=("p/02500",))
    driver = _driver(proxy.url, max_attempts=2)
    plan = build_plan(driver, bucket_name, prefixes=["p/"])
    report = Deleter(driver, plan, jobs=4).run()
    slow_batch = {k.key for k in plan.items[2000:3000]}  # the batch holding p/02500
    left = _left(s3_endpoint, bucket_name)
    assert proxy.slowed == 2  # both attempts of that batch, then it failed
    assert left == slow_batch
    _assert_report_is_the_truth(report, set(KEYS), left)
    assert report.failure_codes() == {"SlowDown": 1000}
    assert report.deleted == 3000 and not report.ok
    # The pushback halved the batches allowed in flight (4 -> 2); nothing else failed.
    assert report.pushbacks >= 1 and report.lowest_concurrency <= 2


def test_a_retried_slowdown_shrinks_concurrency_and_deletes_everything(
    faults, s3_endpoint, bucket_name
):
    seed_keys(bucket_name, KEYS)
    rule = faults.add(Rule(method="POST", query="delete", status=503, times=1))
    driver = _driver(faults.url)
    report = Deleter(driver, build_plan(driver, bucket_name, prefixes=["p/"]), jobs=4).run()
    assert rule.hits == 1
    assert report.ok and report.deleted == 4000
    assert report.pushbacks == 1 and report.lowest_concurrency == 2
    assert _left(s3_endpoint, bucket_name) == set()


def test_adaptive_limit_halves_once_per_round_and_grows_back():
    limit = AdaptiveLimit(8)
    tickets = [limit.ticket() for _ in range(8)]  # eight requests sent together
    assert limit.pushback(tickets[0]) and limit.value == 4
    assert not limit.pushback(tickets[1])  # sent at the old rate: not counted again
    assert limit.value == 4 and limit.decreases == 1
    for _ in range(4):  # one round of clean answers at 4: one more request
        limit.success(limit.ticket())
    assert limit.value == 5
    assert limit.pushback(limit.ticket()) and limit.value == 2
    assert limit.pushback(limit.ticket()) and limit.pushback(limit.ticket())
    assert limit.value == 1 and limit.lowest == 1  # never below one
    for _ in range(200):
        limit.success(limit.ticket())
    assert limit.value == 8  # back to the ceiling, never above it


# -- per-key answers, and nothing outside the plan ------------------------------------------


def test_per_key_errors_in_a_200_answer_are_reported_while_streaming(
    faults, s3_endpoint, bucket_name
):
    seed_keys(bucket_name, KEYS[:2500])
    denied = KEYS[1200:1210]
    faults.add(Rule(method="POST", query="delete", action="delete-errors", keys=denied, times=None))
    report = plan_and_delete(_driver(faults.url), bucket_name, prefixes=["p/"]).run()
    left = _left(s3_endpoint, bucket_name)
    assert left == set(denied)
    _assert_report_is_the_truth(report, set(KEYS[:2500]), left)
    assert report.failure_codes() == {"AccessDenied": 10}
    assert report.plan_complete and not report.ok


def test_read_only_identity_on_seaweedfs_deletes_nothing(seaweedfs):
    # SeaweedFS answers a reader's DeleteObjects 200 with an AccessDenied per key.
    admin = seaweedfs.client()
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=bucket)
    keys = [f"r/{i:04d}" for i in range(1500)]
    put_many(admin, bucket, keys, workers=32)
    reader = seaweedfs.reader
    driver = S3Driver(
        endpoint_url=seaweedfs.endpoint,
        region="us-east-1",
        path_style=True,
        access_key_id=reader.access_key_id,
        secret_access_key=reader.secret_access_key,
    )
    report = plan_and_delete(driver, bucket, prefixes=["r/"]).run()
    assert report.deleted == 0 and report.plan_complete
    assert report.failure_codes() == {"AccessDenied": 1500}
    assert _left(seaweedfs.endpoint, bucket) == set(keys)


@pytest.fixture(params=S3_SERVERS)
def server(request):
    return s3_server(request, request.param)


def test_nothing_outside_the_plan_is_deleted(server):
    selected = [f"runs/run-1/ckpt/{i:04d}.ckpt" for i in range(1200)]
    kept = [
        *(f"runs/run-1/logs/{i:03d}.log" for i in range(300)),  # the filter leaves them
        "runs/run-10/a.ckpt",  # a longer run name: outside runs/run-1/
        "runs/run-1",  # an object named like the prefix
        "runs/run-1x.ckpt",
        "other/run-1/b.ckpt",
    ]
    bucket = server.new_bucket(selected + kept)
    driver = _driver(server.endpoint)
    filters = StaleFilters(include=("*.ckpt",))
    reviewed = build_plan(
        driver, bucket, base="runs/run-1/", prefixes=["runs/run-1"], filters=filters
    )
    streamed = plan_and_delete(
        driver, bucket, base="runs/run-1/", prefixes=["runs/run-1"], filters=filters, jobs=4
    )
    report = streamed.run()
    assert report.ok and report.deleted == 1200
    assert sorted(i.key for i in streamed.plan.items) == sorted(i.key for i in reviewed.items)
    assert streamed.plan.whole_prefixes == [] and streamed.plan.examined == 1500
    assert set(server.keys(bucket)) == set(kept)


# -- batches sized to the store -------------------------------------------------------------


def test_gcs_batches_are_one_batch_request_each(gcs_emulator, bucket_name):
    client = gcs_client(gcs_emulator)
    raw = client.create_bucket(bucket_name)
    for i in range(250):
        raw.blob(f"g/{i:03d}").upload_from_string(b"ab")
    driver = GcsDriver(client=client)
    assert batch_limit(driver) == GCS_BATCH_KEYS == 100
    deleter = Deleter(driver, build_plan(driver, bucket_name, prefixes=["g/"]))
    report = deleter.run()
    assert report.ok and report.deleted == 250
    assert deleter.progress().batches_total == 3
    assert list(iter_entries(driver, bucket_name, "", delimiter="")) == []


# -- a listing that fails midway --------------------------------------------------------------


def test_a_listing_failure_stops_the_streamed_delete(watch, s3_endpoint, bucket_name):
    # Page 1 is deleted; page 2 waits for that answer, then is refused (403).
    seed_keys(bucket_name, KEYS[:3000])
    proxy = watch(gate_pages=True, deny_pages=True)
    deleter = plan_and_delete(_driver(proxy.url), bucket_name, prefixes=["p/"])
    report = deleter.run()
    assert proxy.gate_timeouts == 0
    assert report.plan_error is not None and report.plan_error.code == "AccessDenied"
    assert not report.plan_complete and not report.ok
    left = _left(s3_endpoint, bucket_name)
    assert len(left) == 2000 and report.deleted == 1000 and not report.failed
    assert {c.key for c in report.confirmed} == set(KEYS[:3000]) - left


# -- pail rm -r --yes ---------------------------------------------------------------------


def test_rm_yes_deletes_while_listing_on_seaweedfs(seaweedfs, make_fault_proxy):
    admin = seaweedfs.client()
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    admin.create_bucket(Bucket=bucket)
    keys = [f"d/{i:05d}" for i in range(2500)]
    put_many(admin, bucket, [*keys, "d-keep", "e/keep"], workers=32)
    proxy = DeleteWatch(seaweedfs.endpoint, gate_pages=True).start()
    try:
        result = run(["rm", *s3_args(proxy.url), "-r", "--yes", f"s3://{bucket}/d/"])
    finally:
        proxy.stop()
    assert result.exit_code == 0, result.stderr
    assert "as it is listed (--yes: no review)" in result.stderr
    assert "deleted 2,500 objects" in result.stderr
    assert proxy.lists > 1 and proxy.gate_timeouts == 0
    assert _left(seaweedfs.endpoint, bucket) == {"d-keep", "e/keep"}


def test_rm_yes_reports_a_listing_that_failed_midway(watch, s3_endpoint, bucket_name):
    seed_keys(bucket_name, KEYS[:3000])
    proxy = watch(gate_pages=True, deny_pages=True)
    result = run(["rm", *s3_args(proxy.url), "-r", "--yes", f"s3://{bucket_name}/p/"])
    assert result.exit_code == 1
    assert f"pail: error: listing s3://{bucket_name}/p/ failed" in result.stderr
    assert "deleted 1,000 objects" in result.stderr
    assert "the listing did not finish: objects not listed yet were not deleted" in result.stderr
    assert len(_left(s3_endpoint, bucket_name)) == 2000


def test_rm_r_yes_on_a_name_with_nothing_under_it_deletes_that_object(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["runs/run-1", "runs/run-10/a"])
    result = run(["rm", *s3_args(s3_endpoint), "-r", "--yes", f"s3://{bucket_name}/runs/run-1"])
    assert result.exit_code == 0, result.stderr
    assert _left(s3_endpoint, bucket_name) == {"runs/run-10/a"}
