"""Server-side copies, moves and renames on moto over HTTP: copies proved against the
source, sources deleted only after a verified copy, a failed key kept."""

from __future__ import annotations

import os

from pail.services.transfer import Transfer, plan_rename, plan_transfer
from support.fault_proxy import Rule
from support.servers import moto_backend, s3_client

MIB = 1024 * 1024


def keys(s3, bucket, prefix=""):
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    )


def test_server_side_copy_verified(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    s3 = s3_client(s3_endpoint)
    s3.put_object(Bucket=bucket, Key="a/one.txt", Body=b"one")
    s3.put_object(Bucket=bucket, Key="a/crc.bin", Body=b"crc" * 1000, ChecksumAlgorithm="CRC64NVME")
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "a/"), kit.s3_side(driver, bucket, "b/"), recursive=True
    )
    assert plan.server_side and "server-side" in plan.summary()
    report = Transfer(plan).run()
    assert report.ok, report.failed
    assert {d.verified for d in report.done} <= {"copy-checksum", "copy-etag"}
    assert s3.get_object(Bucket=bucket, Key="b/one.txt")["Body"].read() == b"one"
    assert keys(s3, bucket, "a/") == ["a/crc.bin", "a/one.txt"]  # a copy keeps its sources


def test_server_side_copy_of_a_multipart_object(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "d", {"big": data})
    Transfer(
        plan_transfer(kit.local_side(src, "big"), kit.s3_side(driver, bucket, "big")),
        part_size=5 * MIB,
        state_dir=str(tmp_path / "s"),
    ).run()
    plan = plan_transfer(kit.s3_side(driver, bucket, "big"), kit.s3_side(driver, bucket, "c/"))
    report = Transfer(plan, part_size=5 * MIB).run()
    assert report.ok, report.failed
    assert s3_client(s3_endpoint).get_object(Bucket=bucket, Key="c/big")["Body"].read() == data


def test_rename_prefix_failed_copy_keeps_its_source(kit, proxied_s3):
    driver, bucket, faults = proxied_s3
    names = [f"old/k{i}.txt" for i in range(6)]
    for name in names:
        moto_backend().put_object(bucket, name, name.encode())
    faults.add(
        Rule(method="PUT", path=r"/new/k3\.txt$", header="x-amz-copy-source", status=500, times=2)
    )
    plan = plan_rename(kit.s3_side(driver, bucket, "old/"), "new/")
    assert plan.kind == "move" and plan.server_side and len(plan.items) == 6
    report = Transfer(plan, jobs=3).run()
    assert [f.key for f in report.failed] == ["old/k3.txt"]
    assert [k.key for k in report.kept] == ["old/k3.txt"]
    assert sorted(report.deleted) == sorted(n for n in names if n != "old/k3.txt")
    s3 = s3_client(faults.url)
    assert keys(s3, bucket, "old/") == ["old/k3.txt"]
    assert keys(s3, bucket, "new/") == sorted(
        n.replace("old/", "new/") for n in names if "k3" not in n
    )
    assert not report.ok


def test_move_keeps_a_source_changed_after_copy(kit, moto_s3, s3_endpoint):
    driver, bucket = moto_s3
    s3 = s3_client(s3_endpoint)
    s3.put_object(Bucket=bucket, Key="m/a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="m/b", Body=b"b")
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "m/"),
        kit.s3_side(driver, bucket, "n/"),
        kind="move",
        recursive=True,
    )

    def rewrite(outcome):  # the source is rewritten once its copy is done
        if outcome.key == "m/b":
            s3.put_object(Bucket=bucket, Key="m/b", Body=b"b2")

    report = Transfer(plan, jobs=1, on_file=rewrite).run()
    assert report.deleted == ["m/a"]
    assert [(k.key, k.code) for k in report.kept] == [("m/b", "SourceChanged")]
    assert keys(s3, bucket, "m/") == ["m/b"]


def test_upload_move_deletes_local_files_after_verification(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    src = kit.files(tmp_path / "d", {"x.txt": b"x", "y/z.txt": b"z"})
    plan = plan_transfer(
        kit.local_side(src), kit.s3_side(driver, bucket, "u/"), kind="move", recursive=True
    )
    report = Transfer(plan).run()
    assert report.ok and sorted(report.deleted) == ["x.txt", "y/z.txt"]
    assert not (src / "x.txt").exists() and not (src / "y" / "z.txt").exists()
    assert keys(s3_client(s3_endpoint), bucket) == ["u/x.txt", "u/y/z.txt"]


def test_remote_to_local_move_through_the_downloader(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "r/a.bin", b"A" * 100)
    moto_backend().put_object(bucket, "r/s/b.bin", b"B" * 10)
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "r/"),
        kit.local_side(tmp_path / "out"),
        kind="move",
        recursive=True,
    )
    assert plan.download is not None and len(plan.download.jobs) == 2
    report = Transfer(plan).run()
    assert report.ok and sorted(report.deleted) == ["r/a.bin", "r/s/b.bin"]
    assert (tmp_path / "out" / "s" / "b.bin").read_bytes() == b"B" * 10
    assert keys(s3_client(s3_endpoint), bucket) == []


def test_local_to_local_copy_multipart_and_server_side(kit, tmp_path):
    data = os.urandom(11 * MIB)
    src = kit.files(tmp_path / "src", {"big": data, "d/small": b"s"})
    report = Transfer(
        plan_transfer(kit.local_side(src), kit.local_side(tmp_path / "dst"), recursive=True),
        part_size=5 * MIB,
    ).run()
    assert report.ok and report.methods() == {"crc64nvme": 2}
    assert (tmp_path / "dst" / "big").read_bytes() == data
    source = kit.local_side(src, "d/")
    dest = type(source)(source.driver, source.bucket, "copy/", str(src / "copy"))
    plan = plan_transfer(source, dest, recursive=True)
    assert plan.server_side
    report = Transfer(plan).run()
    assert report.ok and report.methods() == {"copy-checksum": 1}
    assert (src / "copy" / "small").read_bytes() == b"s"


def test_streamed_copy_of_multipart_source_proved_by_its_etag(kit, moto_s3, s3_endpoint, tmp_path):
    driver, bucket = moto_s3
    s3 = s3_client(s3_endpoint)
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")
    parts = []
    chunks = [os.urandom(5 * MIB), os.urandom(1000)]
    for n, chunk in enumerate(chunks, start=1):
        etag = s3.upload_part(
            Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=n, Body=chunk
        )["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
    )
    # streamed through pail by a second driver: the source is proved by its multipart
    # ETag (its parts read with its own part size), the copy by the combined CRC64NVME
    from pail.drivers.registry import open_driver

    other = open_driver(kit.s3_spec(s3_endpoint))
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "mp"), kit.s3_side(other, bucket, "o/", connection="other")
    )
    assert not plan.server_side
    report = Transfer(plan, state_dir=str(tmp_path / "s")).run()
    assert report.ok, report.failed
    assert report.methods() == {"crc64nvme": 1}
    assert s3.head_object(Bucket=bucket, Key="o/mp")["ETag"].strip('"').endswith("-2")
    assert s3.get_object(Bucket=bucket, Key="o/mp")["Body"].read() == b"".join(chunks)


def test_unverified_source_reported_and_kept_by_a_move(kit, moto_s3, s3_endpoint):
    from pail.drivers.registry import open_driver

    driver, bucket = moto_s3
    # SSE-KMS without an additional checksum: its ETag is not an MD5, nothing proves it
    moto_backend().put_object(bucket, "k/enc.bin", b"secret", encryption="aws:kms")
    other = open_driver(kit.s3_spec(s3_endpoint))

    def plan(key):
        return plan_transfer(
            kit.s3_side(driver, bucket, "k/"),
            kit.s3_side(other, bucket, key, connection="other"),
            kind="move",
            recursive=True,
        )

    report = Transfer(plan("a/")).run()
    assert [f.code for f in report.failed] == ["Unverified"]
    assert "nothing was written" in report.failed[0].message
    assert [k.key for k in report.kept] == ["k/enc.bin"]
    asked = []
    report = Transfer(plan("b/"), allow_unverified=lambda i, why: asked.append(why) or True).run()
    assert report.methods() == {"unverified": 1} and asked
    assert [k.code for k in report.kept] == ["Unverified"] and not report.deleted
    s3 = s3_client(s3_endpoint)
    assert keys(s3, bucket) == ["b/enc.bin", "k/enc.bin"]
