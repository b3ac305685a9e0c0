"""Transfers interrupted on the way: Ctrl-C on a remote -> local copy records the bytes
so far (Transfer.flush, as pail get), and a create-only CompleteMultipartUpload whose
answer was lost is accepted on a retry only when the object at the key is provably ours.
On moto over HTTP through the fault proxy."""

from __future__ import annotations

import json
import os

import pytest

from pail.services.transfer import Transfer, plan_transfer
from support.fault_proxy import Rule
from support.servers import moto_backend, s3_client

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


def complete_requests(faults) -> list[int | None]:
    """Statuses of the CompleteMultipartUpload requests (POST ...?uploadId=)."""
    return [r.status for r in faults.requests if r.method == "POST" and "uploadId" in r.query]


@pytest.mark.parametrize(("status", "code"), [(404, "NoSuchUpload"), (412, "PreconditionFailed")])
def test_lost_complete_answer_is_accepted_when_the_object_is_ours(
    kit, proxied_s3, tmp_path, status, code
):
    driver, bucket, faults = proxied_s3
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    state = tmp_path / "state"
    plan = plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "l.bin"))
    # The store joins the parts; the client never hears it and sends the Complete again.
    lost = faults.add(Rule(method="POST", query="uploadId", action="lose-reply", times=1))
    # moto 5.2.5 answers that retry 200; S3 may answer NoSuchUpload (the upload is gone) or,
    # create-only, 412 (the key is taken): the retry gets S3's answer.
    retry = faults.add(Rule(method="POST", query="uploadId", status=status, code=code, times=1))
    report = Transfer(plan, part_size=5 * MIB, state_dir=str(state)).run()
    assert lost.hits == 1 and retry.hits == 1
    assert complete_requests(faults) == [200, status]  # the first one did join the parts
    assert report.ok, report.failed
    (done,) = report.done
    assert done.verified == "crc64nvme" and done.size == len(data)
    s3 = s3_client(faults.url)
    assert s3.get_object(Bucket=bucket, Key="l.bin")["Body"].read() == data
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert not list(state.glob("*.json"))  # done: no resume state left


def test_complete_failure_stands_when_the_object_is_not_ours(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    s3 = s3_client(faults.url)
    theirs = os.urandom(len(data))  # same size, other bytes, a CRC64NVME of their own
    s3.put_object(Bucket=bucket, Key="n.bin", Body=theirs, ChecksumAlgorithm="CRC64NVME")
    plan = plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "n.bin"))
    # Every Complete answered NoSuchUpload, as a retry of a lost Complete would be.
    faults.add(Rule(method="POST", query="uploadId", status=404, code="NoSuchUpload", times=None))
    state = tmp_path / "state"
    report = Transfer(plan, conflict="overwrite", part_size=5 * MIB, state_dir=str(state)).run()
    assert [f.code for f in report.failed] == ["NoSuchUpload"] and not report.done
    assert any(r.method == "HEAD" and r.path.endswith("/n.bin") for r in faults.requests)
    assert s3.get_object(Bucket=bucket, Key="n.bin")["Body"].read() == theirs
    assert not list(state.glob("*.json"))  # a gone upload is of no use for a resume
