"""Uploads and streamed writes to moto over HTTP: verified outcomes, bytes equal, multipart
with combined CRC64NVME, resume counting UploadPart requests, conflicts, create-only
writes, a read-only identity."""

from __future__ import annotations

import hashlib
import os

import pytest

from pail.drivers.errors import AccessDenied, ChecksumMismatch
from pail.services.transfer import ConflictAnswer, Transfer, plan_transfer
from support.fault_proxy import Rule
from support.servers import moto_backend, s3_client

MIB = 1024 * 1024


def body(s3, bucket, key) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_upload_folder_verified_bytes_equal(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    tree = {"a.txt": b"alpha", "sub/b.bin": os.urandom(70_000), "sub/deep/c": b""}
    src = kit.files(tmp_path / "data", tree)
    plan = plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "up/"), recursive=True)
    assert plan.summary().startswith("copy 3 objects")
    seen = []
    report = Transfer(plan, jobs=4, on_file=seen.append).run()
    assert report.ok and len(report.done) == 3 and len(seen) == 3
    s3 = s3_client(s3_endpoint)
    for rel, data in tree.items():
        assert body(s3, bucket, f"up/{rel}") == data
    # the CRC64NVME sent with each PutObject, kept by the store
    assert report.methods() == {"crc64nvme": 3}
    assert {d.path for d in report.done} == {f"s3://{bucket}/up/{rel}" for rel in tree}
    # content types guessed from the file names, as aws s3 cp does
    assert s3.head_object(Bucket=bucket, Key="up/a.txt")["ContentType"] == "text/plain"


def test_multipart_upload_combined_crc64nvme(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    data = os.urandom(12 * MIB + 123)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    plan = plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "x/"))
    assert [i.dest_key for i in plan.items] == ["x/big.bin"]
    report = Transfer(plan, part_size=5 * MIB, state_dir=str(tmp_path / "st")).run()
    assert report.ok, report.failed
    assert report.methods() == {"crc64nvme": 1}
    s3 = s3_client(s3_endpoint)
    head = s3.head_object(Bucket=bucket, Key="x/big.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert hashlib.sha256(body(s3, bucket, "x/big.bin")).digest() == hashlib.sha256(data).digest()
    assert not list((tmp_path / "st").glob("*.json"))  # done: no resume state left


def test_resume_sends_only_missing_parts(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    data = os.urandom(17 * MIB)  # 4 parts of 5 MiB (the last 2 MiB)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    state = str(tmp_path / "state")

    def plan():
        return plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "r.bin"))

    faults.add(Rule(method="PUT", query="partNumber=3", status=500, times=2))  # beyond retries
    first = Transfer(plan(), jobs=2, part_size=5 * MIB, state_dir=state).run()
    assert [f.code for f in first.failed] == ["InternalError"]
    assert list((tmp_path / "state").glob("*.json"))  # the upload is kept for a resume
    sent_before = {int(r.query["partNumber"]) for r in faults.requests if "partNumber" in r.query}
    faults.reset()
    job = Transfer(plan(), jobs=2, part_size=5 * MIB, state_dir=state)
    second = job.run()
    assert second.ok, second.failed
    # Parts reused from the first run are resumed bytes, not this run's transfer (rate).
    progress = job.progress()
    (file,) = progress.files
    assert file.resumed_from == second.done[0].resumed_from > 0
    assert file.bytes_done == len(data) and file.state == "done"
    assert progress.bytes_fetched == second.done[0].fetched == len(data) - file.resumed_from
    sent = [int(r.query["partNumber"]) for r in faults.requests if "partNumber" in r.query]
    assert 3 in sent and len(sent) < 4  # parts already on the store were not sent again
    assert not set(sent) & (sent_before - {3})
    (done,) = second.done
    assert done.resumed_from > 0 and done.verified == "crc64nvme"
    assert any("uploadId" in r.query and r.method == "GET" for r in faults.requests)  # ListParts
    assert body(s3_client(faults.url), bucket, "r.bin") == data


def test_cancel_keeps_the_upload_for_a_resume(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    state = str(tmp_path / "state")
    plan = plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "c.bin"))
    faults.add(Rule(method="PUT", query="partNumber=2", action="hang", times=1))
    job = Transfer(plan, jobs=1, part_size=5 * MIB, state_dir=state)
    job.start()
    while not any(r.query.get("partNumber") == "2" for r in faults.requests):
        job.wait(0.05)
    job.cancel()
    faults.reset()  # the hung request ends; the part stops
    report = job.run()
    assert report.cancelled and not report.done
    assert list((tmp_path / "state").glob("*.json"))
    again = Transfer(plan, jobs=1, part_size=5 * MIB, state_dir=state).run()
    assert again.ok
    sent = [r.query["partNumber"] for r in faults.requests if "partNumber" in r.query]
    assert "1" not in sent
    assert body(s3_client(faults.url), bucket, "c.bin") == data


def test_conflicts_identical_skip_overwrite_keep_both(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    s3 = s3_client(s3_endpoint)
    s3.put_object(Bucket=bucket, Key="p/same.txt", Body=b"same")
    s3.put_object(Bucket=bucket, Key="p/diff.txt", Body=b"old")
    src = kit.files(tmp_path / "d", {"same.txt": b"same", "diff.txt": b"new!"})

    def plan():
        return plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "p/"), recursive=True)

    assert {i.rel for i in plan().conflicts} == {"same.txt", "diff.txt"}
    report = Transfer(plan(), conflict="skip").run()
    assert {(s.key, s.reason) for s in report.skipped} == {
        ("same.txt", "identical"),
        ("diff.txt", "exists"),
    }
    assert body(s3, bucket, "p/diff.txt") == b"old"
    asked = []

    def ask(item):
        asked.append(item.dest_key)
        return ConflictAnswer("keep-both")

    report = Transfer(plan(), resolve_conflict=ask).run()
    assert asked == ["p/diff.txt"]  # identical is never asked
    assert [d.path for d in report.done] == [f"s3://{bucket}/p/diff (1).txt"]
    assert body(s3, bucket, "p/diff (1).txt") == b"new!"
    report = Transfer(plan(), conflict="overwrite").run()
    assert report.ok and body(s3, bucket, "p/diff.txt") == b"new!"


def test_key_created_after_planning_is_not_overwritten(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    src = kit.files(tmp_path / "d", {"late.txt": b"mine"})
    plan = plan_transfer(kit.local_side(src, "late.txt"), kit.s3_side(driver, bucket, "late.txt"))
    assert not plan.conflicts
    s3 = s3_client(s3_endpoint)
    s3.put_object(Bucket=bucket, Key="late.txt", Body=b"theirs")
    report = Transfer(plan, conflict="skip").run()
    assert [(s.key, s.reason) for s in report.skipped] == [("late.txt", "exists")]
    assert body(s3, bucket, "late.txt") == b"theirs"


def test_read_only_identity_every_key_access_denied(kit, moto_iam_server, tmp_path):
    driver = kit.reader_driver(moto_iam_server)
    src = kit.files(tmp_path / "d", {"a": b"1" * 10, "b/c": b"2", "big": os.urandom(6 * MIB)})
    plan = plan_transfer(
        kit.local_side(src), kit.s3_side(driver, moto_iam_server.bucket, "w/"), recursive=True
    )
    report = Transfer(plan, part_size=5 * MIB, state_dir=str(tmp_path / "s")).run()
    assert not report.done and len(report.failed) == 3
    assert {f.code for f in report.failed} == {"AccessDenied"}
    assert all(isinstance(f.error, AccessDenied) for f in report.failed)


def test_corrupted_source_byte_never_lands(kit, proxied_s3, moto_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    moto_backend().put_object(bucket, "src.bin", os.urandom(50_000))
    faults.add(Rule(method="GET", path=r"/src\.bin$", action="flip", after=100, times=1))
    dest = kit.local_side(tmp_path / "out")
    report = Transfer(plan_transfer(kit.s3_side(driver, bucket, "src.bin"), dest)).run()
    # remote -> local runs the download engine, which refuses the corrupted bytes too
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    assert not (tmp_path / "out" / "src.bin").exists()


@pytest.mark.parametrize("jobs", [1])
def test_streamed_copy_with_flipped_byte_is_a_mismatch(kit, proxied_s3, tmp_path, jobs):
    driver, bucket, faults = proxied_s3
    moto_backend().put_object(bucket, "m/src.bin", os.urandom(50_000))
    target = kit.local_side(tmp_path / "t")
    local_to = kit.s3_side(driver, bucket, "copy/")
    # a streamed S3 -> S3 copy between two drivers (not server-side): bytes go through pail
    from pail.drivers.registry import open_driver

    other = open_driver(kit.s3_spec(faults.url, max_attempts=2))
    source = kit.s3_side(other, bucket, "m/src.bin", connection="other")
    faults.add(Rule(method="GET", path=r"/m/src\.bin$", action="flip", after=7, times=1))
    plan = plan_transfer(source, local_to, kind="move")
    assert not plan.server_side
    report = Transfer(plan, jobs=jobs).run()
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    assert isinstance(report.failed[0].error, ChecksumMismatch)
    assert [k.key for k in report.kept] == ["m/src.bin"] and not report.deleted
    s3 = s3_client(faults.url)
    assert s3.list_objects_v2(Bucket=bucket, Prefix="copy/").get("KeyCount") == 0
    assert s3.head_object(Bucket=bucket, Key="m/src.bin")["ContentLength"] == 50_000
    del target


def test_flipped_byte_in_a_large_plain_md5_source_aborts_the_upload(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    moto_backend().put_object(bucket, "big", os.urandom(11 * MIB))  # one PutObject: plain MD5
    from pail.drivers.registry import open_driver

    other = open_driver(kit.s3_spec(faults.url, max_attempts=2))
    faults.add(Rule(method="GET", path=r"/big$", header="Range", action="flip", after=9, times=1))
    plan = plan_transfer(
        kit.s3_side(other, bucket, "big", connection="other"), kit.s3_side(driver, bucket, "o/")
    )
    report = Transfer(plan, jobs=3, part_size=5 * MIB, state_dir=str(tmp_path / "s")).run()
    assert [f.code for f in report.failed] == ["ChecksumMismatch"]
    s3 = s3_client(faults.url)
    assert s3.list_objects_v2(Bucket=bucket, Prefix="o/").get("KeyCount") == 0
    assert not s3.list_multipart_uploads(Bucket=bucket).get("Uploads")  # aborted
    assert not list((tmp_path / "s").glob("*.json"))
    again = Transfer(plan, jobs=3, part_size=5 * MIB, state_dir=str(tmp_path / "s")).run()
    assert again.ok and again.methods() == {"crc64nvme": 1}


def test_recorded_upload_gone_starts_afresh_and_rerun_is_identical(kit, proxied_s3, tmp_path):
    driver, bucket, faults = proxied_s3
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "d", {"big.bin": data})
    state = str(tmp_path / "state")

    def plan():
        return plan_transfer(kit.local_side(src, "big.bin"), kit.s3_side(driver, bucket, "g.bin"))

    faults.add(Rule(method="PUT", query="partNumber=2", status=500, times=2))
    assert not Transfer(plan(), jobs=1, part_size=5 * MIB, state_dir=state).run().ok
    s3 = s3_client(faults.url)
    for upload in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]:  # expired, say
        s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    again = Transfer(plan(), jobs=1, part_size=5 * MIB, state_dir=state).run()
    assert again.ok and again.done[0].resumed_from == 0
    assert body(s3, bucket, "g.bin") == data
    third = Transfer(plan(), part_size=5 * MIB, state_dir=state).run()
    assert [(s.key, s.reason) for s in third.skipped] == [("big.bin", "identical")]
