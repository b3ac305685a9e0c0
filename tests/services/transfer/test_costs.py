"""What a transfer costs that is not time: requests per server-side copy counted at the
fault proxy, and part buffers held in memory (never above ``jobs``)."""

from __future__ import annotations

import os

from pail.services.transfer import Transfer, plan_transfer
from pail.services.transfer.engine import COPY_JOBS
from support.servers import moto_backend

MIB = 1024 * 1024


def _per_key(faults, prefix: str) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for r in faults.requests:
        if f"/{prefix}" in r.path:
            counts[(r.method, r.path.rsplit("/", 1)[-1])] = (
                counts.get((r.method, r.path.rsplit("/", 1)[-1]), 0) + 1
            )
    return counts


def test_copy_proved_by_reply_checksum_sends_no_head_of_the_copy(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    src = kit.files(tmp_path / "d", {f"f{i}.bin": os.urandom(1000 + i) for i in range(5)})
    up = Transfer(
        plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "p/"), recursive=True)
    )
    assert up.run().ok  # stored with CRC64NVME: the copy is asked for it
    faults.reset()
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "p/"), kit.s3_side(driver, bucket, "q/"), recursive=True
    )
    assert plan.server_side
    report = Transfer(plan).run()
    assert report.ok and {d.verified for d in report.done} == {"copy-checksum"}
    dest = _per_key(faults, "q/")
    # one CopyObject per object (plus the planning listing), no HEAD of any copy
    assert sorted(k for k in dest if k[0] == "PUT") == [("PUT", f"f{i}.bin") for i in range(5)]
    assert all(n == 1 for k, n in dest.items() if k[0] == "PUT")
    assert not [k for k in dest if k[0] == "HEAD"]
    heads = [k for k in _per_key(faults, "p/") if k[0] == "HEAD"]
    assert len(heads) == 5  # the source's checksums, once each


def test_copy_proved_by_reply_etag_sends_no_head_of_the_copy(kit, proxied_s3):
    driver, bucket, faults = proxied_s3
    for i in range(4):  # no checksum stored: the proof is the plain MD5 ETag
        moto_backend().put_object(bucket, f"p/e{i}.bin", os.urandom(500 + i))
    faults.reset()
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "p/"), kit.s3_side(driver, bucket, "q/"), recursive=True
    )
    report = Transfer(plan).run()
    assert report.ok and {d.verified for d in report.done} == {"copy-etag"}
    assert not [k for k in _per_key(faults, "q/") if k[0] == "HEAD"]


def test_server_side_copies_run_more_items_at_once_bounded():
    from types import SimpleNamespace

    def workers(jobs: int, server_side: bool) -> int:
        plan = SimpleNamespace(
            items=[], server_side=server_side, download=None, notes=[], refused=[]
        )
        return Transfer(plan, jobs=jobs).workers  # type: ignore[arg-type]

    assert workers(8, True) == COPY_JOBS == 32
    assert workers(2, True) == 8
    assert workers(64, True) == 64  # never fewer than asked
    assert workers(8, False) == 8


def test_parts_in_memory_never_above_jobs(kit, moto_s3, tmp_path):
    driver, bucket = moto_s3
    data = os.urandom(26 * MIB)
    src = kit.files(tmp_path / "d", {"big.bin": data, "b2.bin": data[: 11 * MIB]})
    plan = plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "l/"), recursive=True)
    job = Transfer(plan, jobs=2, part_size=5 * MIB, state_dir=str(tmp_path / "s"))
    report = job.run()
    assert report.ok, report.failed
    assert 1 <= job.parts_peak <= 2
