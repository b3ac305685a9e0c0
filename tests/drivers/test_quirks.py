"""Provider quirks as data (pail.drivers.quirks) against real servers: moto over HTTP,
moto behind the fault proxy (a server that answers 501 to ListObjectsV2, one whose V2
paging is broken, one without DeleteObjects or STS), and the flavour table itself.

Each fallback is checked at the proxy: the failed path is sent once, and never again once
remembered."""

from __future__ import annotations

import re

import pytest

from pail.config.file import parse_specs
from pail.core.connection import ConfigError
from pail.drivers import quirks
from pail.drivers.base import iter_entries, iter_pages
from pail.drivers.errors import InvalidRequest, NotSupported
from pail.drivers.quirks import (
    FLAVOURS,
    BrokenPaging,
    QuirkState,
    check_setting,
    flavour_for_endpoint,
    flavour_for_server,
)
from pail.drivers.retry import RetryPolicy
from pail.drivers.s3 import S3Driver
from support.fault_proxy import Rule
from support.seaweed import seed
from support.servers import REGION, seed_keys

FAST = RetryPolicy(attempts=2, base=0.005, cap=0.02, total=10.0)


def _s3(endpoint: str, **kwargs) -> S3Driver:
    kwargs.setdefault("retry", FAST)
    return S3Driver(
        endpoint_url=endpoint,
        region=REGION,
        path_style=True,
        access_key_id="testing",
        secret_access_key="testing",
        **kwargs,
    )


def _lists(faults, bucket: str) -> tuple[int, int]:
    """(ListObjectsV2 requests, ListObjects V1 requests) the proxy saw for ``bucket``."""
    seen = [r for r in faults.requests if r.method == "GET" and r.path == f"/{bucket}"]
    v2 = sum(1 for r in seen if r.query.get("list-type") == "2")
    v1 = sum(1 for r in seen if "list-type" not in r.query and "versions" not in r.query)
    return v2, v1


# -- the table and the settings -----------------------------------------------------------


def test_every_flavour_has_every_capability():
    assert set(FLAVOURS) == {
        "aws",
        "minio",
        "seaweedfs",
        "ceph",
        "r2",
        "gcs-interop",
        "generic",
        "moto",
    }
    for name, caps in FLAVOURS.items():
        assert caps.list_version in (1, 2), name
        assert caps.addressing_style in quirks.ADDRESSING_STYLES, name
    # rclone's provider files: V1 for SeaweedFS and Ceph; GCS's XML API has no DeleteObjects.
    assert FLAVOURS["seaweedfs"].list_version == FLAVOURS["ceph"].list_version == 1
    assert FLAVOURS["gcs-interop"].batch_delete is False
    assert FLAVOURS["r2"].versioning is False


def test_flavour_from_the_endpoint_host_and_the_server_header():
    assert flavour_for_endpoint(None) == "aws"
    assert flavour_for_endpoint("https://s3.eu-west-1.amazonaws.com") == "aws"
    assert flavour_for_endpoint("https://storage.googleapis.com") == "gcs-interop"
    assert flavour_for_endpoint("https://acct.r2.cloudflarestorage.com") == "r2"
    assert flavour_for_endpoint("http://127.0.0.1:9000") is None
    assert flavour_for_server("MinIO") == "minio"
    assert flavour_for_server("SeaweedFS 8000GB 4.48") == "seaweedfs"
    assert flavour_for_server("AmazonS3") == "aws"
    assert flavour_for_server("nginx") is None
    assert flavour_for_server(None) is None


def test_settings_are_checked_and_converted():
    assert check_setting("list_version", "1") == 1
    assert check_setting("batch_delete", "false") is False
    assert check_setting("addressing_style", "path") == "path"
    for name, bad in [("list_version", 3), ("batch_delete", "maybe"), ("flavour", "s4")]:
        with pytest.raises(ValueError, match=name):
            check_setting(name, bad)
    with pytest.raises(InvalidRequest) as err:
        _s3("http://127.0.0.1:9", quirks={"list_version": 7})
    assert err.value.code == "InvalidQuirk"


def test_a_setting_wins_over_the_flavour_and_what_was_remembered():
    state = QuirkState("http://127.0.0.1:9", {"flavour": "seaweedfs", "batch_delete": False})
    assert state.get("list_version") == 1 and state.source("list_version") == "seaweedfs default"
    assert state.get("batch_delete") is False and state.source("batch_delete") == "setting"
    assert not state.remember("batch_delete", True, "DeleteObjects", "answered 501")
    assert state.remember("sts", False, "GetCallerIdentity", "answered 501 NotImplemented")
    assert state.source("sts").startswith("remembered: GetCallerIdentity")
    assert any("sts = false" in note for note in quirks.take_notes())
    assert quirks.take_notes() == []  # each note is given out once


def test_config_file_keys_and_their_errors(tmp_path):
    text = """
[connections.weed]
provider = "s3"
endpoint_url = "http://127.0.0.1:8333"
list_version = 1
addressing_style = "path"
batch_delete = false
flavour = "seaweedfs"
"""
    (spec,) = parse_specs(text, "c.toml", {})
    assert dict(spec.quirks) == {
        "list_version": 1,
        "addressing_style": "path",
        "batch_delete": False,
        "flavour": "seaweedfs",
    }
    with pytest.raises(ConfigError) as err:
        parse_specs(text.replace("list_version = 1", "list_version = 3"), "c.toml", {})
    assert err.value.line == 5 and "list_version: must be 1 or 2" in err.value.message


# -- ListObjects V1 -----------------------------------------------------------------------


def test_list_version_1_pages_past_1000_keys(s3_endpoint, bucket_name, faults):
    keys = [f"shards/s-{i:05d}" for i in range(1_234)]
    seed_keys(bucket_name, [*keys, "top.txt"])
    driver = _s3(faults.url, quirks={"list_version": 1})
    pages = list(iter_pages(driver, bucket_name, "shards/", delimiter="/"))
    assert [len(p.entries) for p in pages] == [1000, 234]
    assert [e.key for p in pages for e in p.entries] == keys
    assert _lists(faults, bucket_name) == (0, 2)
    # Without a delimiter S3 sends no NextMarker: the last key of the page continues.
    flat = list(iter_pages(driver, bucket_name, "shards/s-0000", delimiter="", page_size=3))
    assert [len(p.entries) for p in flat] == [3, 3, 3, 1]
    assert [e.key for p in flat for e in p.entries] == keys[:10]
    # One level: prefixes and objects merged. (moto repeats every CommonPrefix on each V1
    # page of a delimited listing, so prefixes are checked on a one-page level.)
    level = driver.list_page(bucket_name, "", delimiter="/")
    assert [(e.key, e.type) for e in level.entries] == [
        ("shards/", "prefix"),
        ("top.txt", "object"),
    ]
    assert level.next_token is None


def test_501_to_list_type_2_falls_back_to_v1_once_and_remembers(s3_endpoint, bucket_name, faults):
    keys = [f"k{i:04d}" for i in range(5)]
    seed_keys(bucket_name, keys)
    rule = faults.add(Rule(method="GET", query="list-type=2", times=None, status=501))
    driver = _s3(faults.url)
    pages = list(iter_pages(driver, bucket_name, page_size=2))
    assert [e.key for p in pages for e in p.entries] == keys
    assert rule.hits == 1 and _lists(faults, bucket_name) == (1, 3)
    (note,) = quirks.take_notes()
    assert "ListObjectsV2 answered 501 NotImplemented" in note and "list_version = 1" in note
    # A new driver for the same connection does not try V2 again.
    assert [e.key for e in iter_entries(_s3(faults.url), bucket_name)] == keys
    assert rule.hits == 1
    assert _s3(faults.url).quirks.source("list_version").startswith("remembered")


def test_v2_page_without_a_continuation_token_goes_on_with_v1(s3_endpoint, bucket_name, faults):
    keys = [f"runs/r{i:04d}.json" for i in range(7)]
    seed_keys(bucket_name, keys)
    faults.add(
        Rule(
            method="GET",
            query="list-type=2",
            times=None,
            action="rewrite",
            pattern=rb"<NextContinuationToken>[^<]*</NextContinuationToken>",
        )
    )
    driver = _s3(faults.url)
    pages = list(iter_pages(driver, bucket_name, "runs/", page_size=3))
    assert [e.key for p in pages for e in p.entries] == keys
    assert _lists(faults, bucket_name) == (1, 2)  # page 1 by V2, then V1 after its last key
    (note,) = quirks.take_notes()
    assert "gave no NextContinuationToken" in note and "list_version = 1" in note


def test_broken_v2_paging_with_list_version_2_set_names_the_setting(
    s3_endpoint, bucket_name, faults
):
    seed_keys(bucket_name, [f"k{i:04d}" for i in range(3)])
    faults.add(
        Rule(
            method="GET",
            query="list-type=2",
            times=None,
            action="rewrite",
            pattern=rb"<NextContinuationToken>[^<]*</NextContinuationToken>",
        )
    )
    driver = _s3(faults.url, quirks={"list_version": 2})
    pages = iter_pages(driver, bucket_name, page_size=2)
    with pytest.raises(BrokenPaging) as err:
        next(pages)
    assert "set list_version = 1" in str(err.value) and "--list-version 1" in str(err.value)
    assert err.value.code == "BrokenPaging" and "list_version" in err.value.hint


# -- remembered capabilities --------------------------------------------------------------


def test_batch_delete_off_sends_one_delete_object_per_key(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, ["a", "b", "c"])
    result = _s3(faults.url, quirks={"batch_delete": False}).delete_objects(
        bucket_name, ["a", "b", "c", "never-there"]
    )
    assert sorted(d.key for d in result.deleted) == ["a", "b", "c", "never-there"]
    assert not result.errors
    methods = [(r.method, "delete" in r.query) for r in faults.requests]
    assert methods.count(("DELETE", False)) == 4 and ("POST", True) not in methods
    assert _s3(s3_endpoint).list_page(bucket_name).entries == ()


def test_delete_objects_501_is_remembered_and_each_key_deleted(s3_endpoint, bucket_name, faults):
    seed_keys(bucket_name, ["a", "b"])
    rule = faults.add(Rule(method="POST", query="delete", times=None, status=501))
    assert len(_s3(faults.url).delete_objects(bucket_name, ["a"]).deleted) == 1
    assert len(_s3(faults.url).delete_objects(bucket_name, ["b"]).deleted) == 1
    assert rule.hits == 1  # the second batch went straight to DeleteObject
    assert "DeleteObjects answered 501" in quirks.take_notes()[0]


def test_sts_answering_501_is_not_asked_again(s3_endpoint, faults):
    rule = faults.add(Rule(method="POST", path="^/$", times=None, status=501))
    with pytest.raises(Exception) as first:
        _s3(faults.url).caller_identity()
    assert getattr(first.value, "status", None) == 501
    with pytest.raises(NotSupported) as second:
        _s3(faults.url).caller_identity()
    assert rule.hits == 1
    assert "earlier in this run GetCallerIdentity answered 501" in second.value.message
    assert "sts = true" in second.value.hint


def test_the_first_answers_server_header_names_the_flavour(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["k"])
    driver = _s3(s3_endpoint)
    assert driver.quirks.flavour == "generic"
    driver.list_page(bucket_name)
    assert driver.quirks.flavour == "moto"  # "Werkzeug/…, amazon.com"
    assert driver.quirks.flavour_source().startswith("Server header")
    lines = driver.quirks.describe()
    assert lines[0].startswith("flavour = moto") and len(lines) == 1 + len(quirks.CAPABILITIES)


def test_a_flavour_without_versions_is_not_asked(faults):
    driver = _s3(faults.url, quirks={"flavour": "r2"})
    with pytest.raises(NotSupported) as err:
        driver.versioning_status("b")
    assert re.search(r"r2 does not offer it", err.value.message)
    assert faults.requests == []


# -- the same fallbacks in front of SeaweedFS ------------------------------------------------


@pytest.fixture(scope="module")
def seaweed_faults(seaweedfs, make_fault_proxy):
    """A fault proxy in front of the session's SeaweedFS (rules cleared by each test)."""
    return make_fault_proxy(seaweedfs.endpoint)


def test_seaweedfs_broken_v2_paging_goes_on_with_v1(seaweedfs, seaweed_faults, bucket_name):
    seaweed_faults.reset()
    keys = [f"runs/r{i:02d}.json" for i in range(5)]
    seed(seaweedfs.endpoint, bucket_name, keys)
    seaweed_faults.add(
        Rule(
            method="GET",
            query="list-type=2",
            times=None,
            action="rewrite",
            pattern=rb"<NextContinuationToken>[^<]*</NextContinuationToken>",
        )
    )
    try:
        driver = _s3(seaweed_faults.url)
        pages = list(iter_pages(driver, bucket_name, "runs/", page_size=2))
        assert [e.key for p in pages for e in p.entries] == keys
        assert _lists(seaweed_faults, bucket_name) == (1, 2)
        assert driver.quirks.flavour == "seaweedfs"  # its Server header, through the proxy
        assert "list_version = 1" in quirks.take_notes()[0]
    finally:
        seaweed_faults.reset()
