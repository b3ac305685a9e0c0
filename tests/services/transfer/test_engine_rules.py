"""Engine rules without a network fault: a local source changed after planning is never
written, one item cancelled by its key, progress in the downloads' shape, a server-side
copy on GCS (objects.rewrite)."""

from __future__ import annotations

import os

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.transfer import Side, Transfer, plan_transfer
from support.servers import gcs_client


def test_local_source_changed_after_planning(kit, tmp_path):
    src = kit.files(tmp_path / "s", {"a.txt": b"one", "b.txt": b"two"})
    plan = plan_transfer(kit.local_side(src), kit.local_side(tmp_path / "d"), recursive=True)
    (src / "a.txt").write_bytes(b"ONE")  # same size, new mtime
    os.utime(src / "a.txt", ns=(1, 1))
    report = Transfer(plan).run()
    assert [(f.key, f.code) for f in report.failed] == [("a.txt", "SourceChanged")]
    assert not (tmp_path / "d" / "a.txt").exists()
    assert (tmp_path / "d" / "b.txt").read_bytes() == b"two"


def test_cancel_one_item_and_progress_shape(kit, tmp_path):
    src = kit.files(tmp_path / "s", {"a": b"a" * 10, "b": b"b" * 20})
    plan = plan_transfer(kit.local_side(src), kit.local_side(tmp_path / "d"), recursive=True)
    job = Transfer(plan, jobs=1)
    job.cancel("a")
    before = job.progress()
    assert before.files_total == 2 and before.bytes_total == 30
    assert {f.key for f in before.files} == {"a", "b"}
    report = job.run()
    assert [c.key for c in report.cancelled] == ["a"] and [d.key for d in report.done] == ["b"]
    after = job.progress()
    assert after.finished and after.files_done == 1 and after.files_cancelled == 1
    assert next(f.path for f in after.files if f.key == "b").endswith("/d/b")


def test_gcs_server_side_copy(gcs_emulator, bucket_name):
    raw = gcs_client(gcs_emulator).create_bucket(bucket_name)
    raw.blob("a/x.bin").upload_from_string(b"x" * 1000)
    gcs = open_driver(ConnectionSpec(name="gcs", provider="gcs"))
    plan = plan_transfer(
        Side(gcs, bucket_name, "a/", "gs://a/"),
        Side(gcs, bucket_name, "b/", "gs://b/"),
        recursive=True,
    )
    assert plan.server_side
    report = Transfer(plan).run()
    assert report.ok, report.failed
    assert report.methods() == {"copy-checksum": 1}
    assert raw.blob("b/x.bin").download_as_bytes() == b"x" * 1000
