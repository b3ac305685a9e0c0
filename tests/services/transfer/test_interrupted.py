"""Transfers interrupted on the way: Ctrl-C on a remote -> local copy records the bytes
so far (Transfer.flush, as pail get), and a create-only CompleteMultipartUpload whose
answer was lost is accepted on a retry only when the object at the key is provably ours.
On moto over HTTP through the fault proxy."""

from __future__ import annotations

import json
import os

from pail.services.transfer import Transfer, plan_transfer
from support.fault_proxy import Rule
from support.servers import moto_backend

MIB = 1024 * 1024


def recorded(dest) -> int:
    """Bytes the partials' sidecars under ``dest`` record (0 when there is none)."""
    total = 0
    for sidecar in (dest / ".pail" / "partials").glob("*.json"):
        ranges = json.loads(sidecar.read_bytes()).get("ranges", [])
        total += sum(end - start for start, end in ranges)
    return total


def test_flush_records_a_stalled_downloads_bytes(kit, proxied_s3, tmp_path, monkeypatch):
    # The download's own sidecar writes every FLUSH_INTERVAL are put off, so only the
    # Transfer's flush() can record the bytes before the cancel.
    monkeypatch.setattr("pail.services.download.state.FLUSH_INTERVAL", 3600.0)
    monkeypatch.setattr("pail.services.download.engine.FLUSH_INTERVAL", 3600.0)
    driver, bucket, faults = proxied_s3
    data = os.urandom(3 * MIB)
    moto_backend().put_object(bucket, "big.bin", data)
    dest = tmp_path / "out"
    plan = plan_transfer(kit.s3_side(driver, bucket, "big.bin"), kit.local_side(dest))
    assert plan.download is not None
    faults.add(Rule(method="GET", path=r"/big\.bin$", action="stall", after=2 * MIB, times=1))
    job = Transfer(plan, jobs=1)
    job.start()
    for _ in range(1200):  # the first MiB arrives before the stall (bounded wait)
        if job.progress().bytes_done >= MIB:
            break
        job.wait(0.05)
    assert job.progress().bytes_done >= MIB
    assert recorded(dest) == 0
    job.flush()
    assert recorded(dest) >= MIB
    job.cancel()
    faults.reset()  # the stalled answer ends
    report = job.wait()
    assert report is not None and report.cancelled
    again = Transfer(plan_transfer(kit.s3_side(driver, bucket, "big.bin"), kit.local_side(dest)))
    report = again.run()
    assert report.ok and report.done[0].resumed_from >= MIB
    assert (dest / "big.bin").read_bytes() == data
