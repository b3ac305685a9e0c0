"""The concurrent recursive listing under the delete planner, against moto and a folder."""

from __future__ import annotations

import threading

import pytest

from pail.drivers.base import iter_entries
from pail.drivers.local import LocalDriver
from pail.drivers.s3 import S3Driver
from pail.services.walk import WalkCancelled, walk_objects
from support.servers import s3_client, seed_keys

KEYS = [
    "runs/",
    "runs/top.txt",
    "runs/run-1/a",
    "runs/run-1/deep/b",
    "runs/run-10/a",
    "runs/run-1",
    "runs/é/x",
    "runs/z/" + "y" * 5,
    "other/x",
]


@pytest.fixture
def s3(s3_endpoint, bucket_name):
    return S3Driver(client=s3_client(s3_endpoint)), bucket_name


def test_same_keys_in_the_same_order_as_one_recursive_listing(s3):
    driver, bucket = s3
    seed_keys(bucket, KEYS + [f"runs/many/{i:04d}" for i in range(1200)])
    for prefix in ("runs/", ""):
        sequential = [e.key for e in iter_entries(driver, bucket, prefix, delimiter="")]
        counts: list[int] = []
        walked = walk_objects(driver, bucket, prefix, workers=4, on_page=counts.append)
        assert [e.key for e in walked] == sequential
        assert sum(counts) == len(sequential)
        assert all(e.size == 1 and e.last_modified is not None for e in walked)


def test_prefix_boundary_and_folder_marker(s3):
    driver, bucket = s3
    seed_keys(bucket, KEYS)
    keys = [e.key for e in walk_objects(driver, bucket, "runs/run-1/")]
    assert keys == ["runs/run-1/a", "runs/run-1/deep/b"]


def test_cancel_raises_instead_of_returning_a_partial_listing(s3):
    driver, bucket = s3
    seed_keys(bucket, [f"p/{c}/{i}" for c in "abc" for i in range(3)])
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(WalkCancelled):
        walk_objects(driver, bucket, "p/", cancel=cancel)


def test_folder(tmp_path):
    for key in ("b/r/1/x", "b/r/1/y/z", "b/r/2/x", "b/r/top"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(b"12")
    keys = [e.key for e in walk_objects(LocalDriver(str(tmp_path)), "b", "r/")]
    assert keys == ["r/1/x", "r/1/y/z", "r/2/x", "r/top"]
