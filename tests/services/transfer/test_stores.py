"""The engine on a second S3 implementation (SeaweedFS 4.48: it checks Content-MD5 and
x-amz-checksum-*, keeps CRC64NVME) and on a store answering If-None-Match with 501."""

from __future__ import annotations

import os
import uuid

from pail.drivers.registry import open_driver
from pail.services.transfer import Transfer, plan_transfer
from support.fault_proxy import Rule
from support.servers import s3_client

MIB = 1024 * 1024


def test_seaweedfs_upload_and_server_side_copy(kit, seaweedfs, tmp_path):
    bucket = f"pail-{uuid.uuid4().hex[:10]}"
    seaweedfs.client().create_bucket(Bucket=bucket)
    driver = open_driver(kit.s3_spec(seaweedfs.endpoint))
    data = {"s.txt": b"small", "big.bin": os.urandom(11 * MIB)}
    src = kit.files(tmp_path / "d", data)
    report = Transfer(
        plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "u/"), recursive=True),
        part_size=5 * MIB,
        state_dir=str(tmp_path / "s"),
    ).run()
    assert report.ok, report.failed
    assert report.methods() == {"crc64nvme": 2}  # SeaweedFS keeps the CRC64NVME we sent
    client = seaweedfs.client()
    assert client.get_object(Bucket=bucket, Key="u/big.bin")["Body"].read() == data["big.bin"]
    copy = Transfer(
        plan_transfer(
            kit.s3_side(driver, bucket, "u/"), kit.s3_side(driver, bucket, "c/"), recursive=True
        )
    ).run()
    # SeaweedFS's CopyObject keeps the source ETag (also HEX-N) and returns no checksum
    assert copy.ok, copy.failed
    assert set(copy.methods()) <= {"copy-etag", "copy-checksum"}


def test_store_without_conditional_writes_heads_first(kit, faults, bucket_name, tmp_path):
    from support.servers import seed_keys

    seed_keys(bucket_name, {"x/taken": b"theirs"})
    faults.add(Rule(method="PUT", header="If-None-Match", status=501, times=None))
    driver = open_driver(kit.s3_spec(faults.url, max_attempts=2))
    src = kit.files(tmp_path / "d", {"taken": b"mine", "free": b"free"})
    plan = plan_transfer(
        kit.local_side(src), kit.s3_side(driver, bucket_name, "x/"), recursive=True
    )
    plan.items[:] = [
        type(i)(**{**i.__dict__, "existing": None}) for i in plan.items
    ]  # as if planned earlier
    report = Transfer(plan, conflict="skip").run()
    assert [d.key for d in report.done] == ["free"]
    assert [(s.key, s.reason) for s in report.skipped] == [("taken", "exists")]
    assert any("conditional writes" in n for n in report.notes)
    s3 = s3_client(faults.url)
    assert s3.get_object(Bucket=bucket_name, Key="x/taken")["Body"].read() == b"theirs"
