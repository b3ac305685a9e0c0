"""Planning against real listings: objects vs prefixes, destination keys, conflicts found
at planning, refused keys, loops and moves onto themselves refused as a whole."""

from __future__ import annotations

import pytest

from pail.drivers.errors import NotFound
from pail.services.transfer import NoSource, PlanError, plan_rename, plan_transfer, side_for
from support.servers import moto_backend


def test_single_object_to_prefix_new_key_and_existing_folder(kit, moto_s3):
    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "a/x.bin", b"x")
    moto_backend().put_object(bucket, "dir/other", b"o")
    src = kit.s3_side(driver, bucket, "a/x.bin")
    for dest_key, want in [
        ("b/", "b/x.bin"),
        ("", "x.bin"),
        ("new.bin", "new.bin"),
        ("dir", "dir/x.bin"),
    ]:
        plan = plan_transfer(src, kit.s3_side(driver, bucket, dest_key))
        assert [i.dest_key for i in plan.items] == [want]
        assert plan.items[0].size == 1 and plan.items[0].etag


def test_prefix_needs_recursive_and_lists_every_object(kit, moto_s3):
    driver, bucket = moto_s3
    for key in ["p/1", "p/q/2", "p/q/", "other/3"]:
        moto_backend().put_object(bucket, key, b"" if key.endswith("/") else b"d")
    src = kit.s3_side(driver, bucket, "p/")
    with pytest.raises(PlanError, match="recursive"):
        plan_transfer(src, kit.s3_side(driver, bucket, "z/"))
    counted = []
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "p"),
        kit.s3_side(driver, bucket, "z"),
        recursive=True,
        on_listed=counted.append,
    )
    assert [(i.rel, i.dest_key) for i in plan.items] == [("1", "z/1"), ("q/2", "z/q/2")]
    assert counted[-1] == 2  # the folder marker p/q/ is skipped
    assert "copy 2 objects" in plan.summary() and "server-side" in plan.summary()


def test_conflicts_from_one_destination_listing(kit, moto_s3, tmp_path):
    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "up/a", b"old")
    src = kit.files(tmp_path / "d", {"a": b"new", "b": b"b"})
    plan = plan_transfer(kit.local_side(src), kit.s3_side(driver, bucket, "up/"), recursive=True)
    assert [i.dest_key for i in plan.conflicts] == ["up/a"]
    assert plan.conflicts[0].existing.size == 3
    assert "1 already exist" in plan.summary()


def test_refused_keys(kit, moto_s3, tmp_path):
    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "k/ok", b"1")
    moto_backend().put_object(bucket, "k/a/../../escape", b"2")
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "k/"), kit.local_side(tmp_path / "o"), recursive=True
    )
    assert [i.source_key for i in plan.items] == ["k/ok"]
    assert [(r.key, r.reason) for r in plan.refused] == [("k/a/../../escape", "'..' segment")]
    assert plan.download is not None and [j.key for j in plan.download.jobs] == ["k/ok"]
    long = "n/" + "x" * 1100
    src = kit.files(tmp_path / "s", {"f": b"1"})
    plan = plan_transfer(kit.local_side(src, "f"), kit.s3_side(driver, bucket, long))
    assert not plan.items and "1024" in plan.refused[0].reason


def test_loops_and_moves_onto_themselves_refused(kit, moto_s3):
    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "a/x", b"x")
    with pytest.raises(PlanError, match="inside the source"):
        plan_transfer(
            kit.s3_side(driver, bucket, "a/"), kit.s3_side(driver, bucket, "a/b/"), recursive=True
        )
    with pytest.raises(PlanError, match="same object"):
        plan_transfer(
            kit.s3_side(driver, bucket, "a/x"), kit.s3_side(driver, bucket, "a/"), kind="move"
        )
    with pytest.raises(NotFound) as missing:
        plan_transfer(kit.s3_side(driver, bucket, "nope"), kit.s3_side(driver, bucket, "b/"))
    error = missing.value
    assert (error.code, error.operation, error.bucket, error.key) == (
        "NoSuchKey",
        "HeadObject",
        bucket,
        "nope",
    )
    # A PlanError (the CLI's plan refusals) that is also the store's NotFound (exit 3).
    assert isinstance(error, NoSource) and isinstance(error, PlanError)
    assert "does not exist" in str(error)
    with pytest.raises(NoSource) as marked:
        plan_transfer(
            kit.s3_side(driver, bucket, ""), kit.s3_side(driver, bucket, "b/"), keys=["gone"]
        )
    assert (marked.value.code, marked.value.key) == ("NoSuchKey", "gone")
    with pytest.raises(NotFound) as gone:
        plan_transfer(
            kit.s3_side(driver, "no-such-bucket-x", "k"), kit.s3_side(driver, bucket, "b/")
        )
    assert gone.value.code == "NoSuchBucket"


def test_explicit_keys_and_rename(kit, moto_s3):
    driver, bucket = moto_s3
    for key in ["r/a", "r/s/b", "r/s/c", "r/t"]:
        moto_backend().put_object(bucket, key, b"1")
    plan = plan_transfer(
        kit.s3_side(driver, bucket, "r/"), kit.s3_side(driver, bucket, "m/"), keys=["r/a", "r/s/"]
    )
    assert [i.dest_key for i in plan.items] == ["m/a", "m/s/b", "m/s/c"]
    rename = plan_rename(kit.s3_side(driver, bucket, "r/s/"), "r/u")
    assert rename.kind == "move" and [i.dest_key for i in rename.items] == ["r/u/b", "r/u/c"]
    one = plan_rename(kit.s3_side(driver, bucket, "r/t"), "r/t2")
    assert [i.dest_key for i in one.items] == ["r/t2"]


def test_side_for_local_paths_and_uris(tmp_path, s3_endpoint, monkeypatch):
    (tmp_path / "f.txt").write_bytes(b"1")
    side = side_for(str(tmp_path / "f.txt"))
    assert side.provider == "local" and side.key == "f.txt"
    folder = side_for(str(tmp_path))
    assert folder.provider == "local" and folder.key == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    remote = side_for("s3://bkt/some/prefix/")
    assert (remote.provider, remote.bucket, remote.key) == ("s3", "bkt", "some/prefix/")
    assert remote.uri == "s3://bkt/some/prefix/"


def test_one_store_typed_twice_copies_server_side_and_another_connection_streams(
    kit, moto_s3, s3_endpoint
):
    """Two driver objects on one connection (a location typed twice) are one store: the
    plan copies inside it. Another connection name may sign as someone else: streamed."""
    from dataclasses import replace

    from pail.drivers.registry import open_driver

    driver, bucket = moto_s3
    moto_backend().put_object(bucket, "a/x.bin", b"x")
    twin = open_driver(kit.s3_spec(s3_endpoint))
    src = replace(kit.s3_side(driver, bucket, "a/"), connection="lab")
    same = replace(kit.s3_side(twin, bucket, "b/"), connection="lab")
    plan = plan_transfer(src, same, recursive=True)
    assert plan.server_side and plan.dest.driver is driver
    other = replace(same, connection="other")
    plan = plan_transfer(src, other, recursive=True)
    assert not plan.server_side and plan.dest.driver is twin
    assert "streamed" in plan.summary()
