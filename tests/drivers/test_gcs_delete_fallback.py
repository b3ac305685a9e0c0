"""GCS deletes on a server without the batch endpoint (fake-gcs-server): one
``storage.objects.delete`` per object, each counted only on its own answer, the refusal
remembered by the driver. Requests are watched through the fault proxy in front of the
real fake-gcs-server."""

from __future__ import annotations

import uuid

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from support.fault_proxy import Rule
from support.servers import gcs_client


@pytest.fixture
def fake(fake_gcs_server, make_fault_proxy):
    """``(proxy, raw_bucket, bucket)``: a fresh bucket on fake-gcs-server and a fault
    proxy in front of the server."""
    bucket = f"pail-{uuid.uuid4().hex[:12]}"
    raw = gcs_client(fake_gcs_server).create_bucket(bucket)
    return make_fault_proxy(fake_gcs_server), raw, bucket


def _driver(endpoint: str, attempts: int = 5):
    spec = ConnectionSpec(
        name="fake",
        provider="gcs",
        endpoint_url=endpoint,
        client_options={"max_attempts": attempts},
    )
    return open_driver(spec)


def _names(raw) -> set[str]:
    return {b.name for b in raw.client.list_blobs(raw.name)}


def test_refused_batch_falls_back_to_one_delete_per_object(fake) -> None:
    proxy, raw, bucket = fake
    keys = [f"runs/run-{i}/f.bin" for i in range(130)]  # two batches' worth
    for key in keys:
        raw.blob(key).upload_from_string(b"x")
    raw.blob("keep/me").upload_from_string(b"x")
    driver = _driver(proxy.url)
    assert driver.batch_delete

    result = driver.delete_objects(bucket, [*keys, "runs/never-existed"])

    assert sorted(d.key for d in result.deleted) == sorted([*keys, "runs/never-existed"])
    assert result.errors == []
    assert _names(raw) == {"keep/me"}
    batches = [r for r in proxy.requests if r.path.startswith("/batch/")]
    deletes = [r for r in proxy.requests if r.method == "DELETE"]
    assert len(batches) == 1  # refused once, then per object
    assert len(deletes) == len(keys) + 1
    assert driver.batch_delete is False  # remembered

    proxy.reset()
    raw.blob("later/a").upload_from_string(b"x")
    second = driver.delete_objects(bucket, ["later/a"])
    assert [d.key for d in second.deleted] == ["later/a"] and second.errors == []
    assert not [r for r in proxy.requests if r.path.startswith("/batch/")]
    assert [r.method for r in proxy.requests] == ["DELETE"]


def test_per_object_failures_are_reported_not_counted(fake) -> None:
    proxy, raw, bucket = fake
    for key in ("a", "b", "c"):
        raw.blob(key).upload_from_string(b"x")
    driver = _driver(proxy.url, attempts=1)
    driver.batch_delete = False  # as after a refusal
    proxy.add(Rule(method="DELETE", path=r"/o/b$", times=None, status=403))
    proxy.add(Rule(method="DELETE", path=r"/o/c$", times=None, action="reset"))

    result = driver.delete_objects(bucket, ["a", "b", "c"])

    assert [d.key for d in result.deleted] == ["a"]
    failures = {f.key: f for f in result.errors}
    assert set(failures) == {"b", "c"}
    assert failures["b"].code == "403"  # the store's refusal, with its status
    # The proxy forwarded c's DELETE and then reset the connection: the answer never came,
    # so c is a failure although the server removed it (fail closed, never over-counted).
    assert failures["c"].code == "StreamInterrupted"
    assert _names(raw) == {"b"}


def test_versions_deleted_one_by_one_by_generation(fake) -> None:
    proxy, raw, bucket = fake
    blob = raw.blob("model.bin")
    blob.upload_from_string(b"v1")
    blob.reload()
    driver = _driver(proxy.url)
    driver.batch_delete = False
    result = driver.delete_objects(bucket, [("model.bin", str(blob.generation))])
    assert [(d.key, d.version_id) for d in result.deleted] == [("model.bin", str(blob.generation))]
    deletes = [r for r in proxy.requests if r.method == "DELETE"]
    assert deletes and deletes[0].query.get("generation") == str(blob.generation)
    assert _names(raw) == set()
