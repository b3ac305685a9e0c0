"""Streamed copies across stores: S3 (moto) -> GCS (gcp-storage-emulator) -> a local
folder, bytes equal at each hop, each write proved by the destination's own check."""

from __future__ import annotations

import os

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.transfer import Side, Transfer, plan_transfer
from support.servers import gcs_client, moto_backend

MIB = 1024 * 1024


def test_s3_to_gcs_to_local(kit, moto_s3, gcs_emulator, bucket_name, tmp_path):
    s3, bucket = moto_s3
    small, big = os.urandom(2000), os.urandom(6 * MIB + 5)
    moto_backend().put_object(bucket, "run/small.bin", small)
    moto_backend().put_object(bucket, "run/sub/big.bin", big)
    gcs_client(gcs_emulator).create_bucket(bucket_name + "-g")
    gcs = open_driver(ConnectionSpec(name="gcs", provider="gcs"))
    gside = Side(gcs, bucket_name + "-g", "copy/", f"gs://{bucket_name}-g/copy/")
    plan = plan_transfer(kit.s3_side(s3, bucket, "run/"), gside, recursive=True)
    assert not plan.server_side and plan.download is None
    report = Transfer(plan, part_size=5 * MIB, state_dir=str(tmp_path / "s")).run()
    assert report.ok, report.failed
    assert set(report.methods()) <= {"crc32c", "md5"}
    blob = gcs_client(gcs_emulator).bucket(bucket_name + "-g").blob("copy/sub/big.bin")
    assert blob.download_as_bytes() == big

    out = kit.local_side(tmp_path / "out")
    back = plan_transfer(
        Side(gcs, bucket_name + "-g", "copy/", "gs://x/copy/"), out, recursive=True
    )
    assert back.download is not None  # remote -> local: the download engine
    report = Transfer(back).run()
    assert report.ok, report.failed
    assert (tmp_path / "out" / "small.bin").read_bytes() == small
    assert (tmp_path / "out" / "sub" / "big.bin").read_bytes() == big


def test_upload_to_fake_gcs_server(kit, fake_gcs_server, bucket_name, tmp_path):
    raw = gcs_client(fake_gcs_server).create_bucket(bucket_name)
    gcs = open_driver(ConnectionSpec(name="fake", provider="gcs", endpoint_url=fake_gcs_server))
    data = {"small.txt": b"small", "big.bin": os.urandom(6 * MIB + 1)}
    src = kit.files(tmp_path / "d", data)
    plan = plan_transfer(
        kit.local_side(src),
        Side(gcs, bucket_name, "u/", f"gs://{bucket_name}/u/"),
        recursive=True,
    )
    report = Transfer(plan, part_size=5 * MIB, state_dir=str(tmp_path / "s")).run()
    assert report.ok, report.failed
    assert report.methods() == {"crc32c": 2}
    assert raw.blob("u/big.bin").download_as_bytes() == data["big.bin"]
    assert not list((tmp_path / "s").glob("*.json"))  # a GCS session is never written down
