"""One contract for every storage driver, run against real stores.

* ``s3``: pail's S3Driver over HTTP to the in-process moto server.
* ``seaweedfs``: pail's S3Driver over HTTP to SeaweedFS's S3 gateway (a second S3
  implementation; where it lacks a feature the test skips and names the limit).
* ``gcs``: pail's GcsDriver to gcp-storage-emulator (through STORAGE_EMULATOR_HOST).
* ``fake-gcs``: pail's GcsDriver to fake-gcs-server (a second GCS implementation), named
  by the connection's ``endpoint_url``.
* ``local``: pail's LocalDriver on a temporary folder of buckets.

Each test gets a fresh, empty bucket and a ``put`` that writes objects through the store's
own client (boto3 / google-cloud-storage / the filesystem), never through the driver.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path

import pytest

from pail.core.connection import ConnectionSpec
from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.drivers.errors import NotFound, StorageError
from pail.drivers.registry import open_driver
from support.seaweed import SEAWEEDFS
from support.servers import gcs_client, s3_client

BACKENDS = ["s3", "seaweedfs", "gcs", "fake-gcs", "local"]

#: fake-gcs-server (PyPI wrapper 0.1.1) pages objects but not prefixes: with a delimiter,
#: every page repeats each prefix at or after its pageToken, outside maxResults.
FAKE_GCS_PREFIX_PAGING = (
    "fake-gcs-server 0.1.1 does not page prefixes: every page of a delimited listing "
    "holds the prefixes after its pageToken, uncounted by maxResults"
)


@dataclass
class Store:
    """A driver on a fresh bucket, and a way to put objects into it behind its back."""

    kind: str
    driver: StorageDriver
    bucket: str
    put: Callable[..., None]
    root: Path | None = None

    @property
    def provider(self) -> str:
        """The driver's provider: ``"s3"`` for moto and SeaweedFS alike."""
        return {"seaweedfs": "s3", "fake-gcs": "gcs"}.get(self.kind, self.kind)

    @property
    def has_metadata(self) -> bool:
        """Local folders have no user metadata."""
        return self.kind != "local"


@cache
def _s3_raw(endpoint: str):
    return s3_client(endpoint)


@cache
def _gcs_raw(endpoint: str):
    return gcs_client(endpoint)


def _s3_store(request: pytest.FixtureRequest, bucket: str) -> Store:
    endpoint = request.getfixturevalue("moto_server")
    raw = _s3_raw(endpoint)
    raw.create_bucket(Bucket=bucket)

    def put(key: str, data: bytes, *, metadata=None, content_type=None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        raw.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {}, **extra)

    spec = ConnectionSpec(
        name="s3", provider="s3", endpoint_url=endpoint, region="us-east-1", path_style=True
    )
    return Store("s3", open_driver(spec), bucket, put)


def _seaweed_store(request: pytest.FixtureRequest, bucket: str) -> Store:
    server = request.getfixturevalue("seaweedfs")
    raw = _s3_raw(server.endpoint)  # the admin identity's keys are moto's: testing/testing
    raw.create_bucket(Bucket=bucket)

    def put(key: str, data: bytes, *, metadata=None, content_type=None) -> None:
        extra = {"ContentType": content_type} if content_type else {}
        raw.put_object(Bucket=bucket, Key=key, Body=data, Metadata=metadata or {}, **extra)

    spec = ConnectionSpec(
        name="seaweedfs",
        provider="s3",
        endpoint_url=server.endpoint,
        region="us-east-1",
        path_style=True,
    )
    return Store("seaweedfs", open_driver(spec), bucket, put)


def _gcs_store(request: pytest.FixtureRequest, bucket: str) -> Store:
    endpoint = request.getfixturevalue("gcs_emulator")
    raw_bucket = _gcs_raw(endpoint).create_bucket(bucket)

    def put(key: str, data: bytes, *, metadata=None, content_type=None) -> None:
        blob = raw_bucket.blob(key)
        if metadata:
            blob.metadata = metadata
        blob.upload_from_string(data, content_type=content_type or "application/octet-stream")

    # No client injected: the driver finds the emulator through STORAGE_EMULATOR_HOST.
    return Store("gcs", open_driver(ConnectionSpec(name="gcs", provider="gcs")), bucket, put)


def _fake_gcs_store(request: pytest.FixtureRequest, bucket: str) -> Store:
    endpoint = request.getfixturevalue("fake_gcs_server")
    raw_bucket = _gcs_raw(endpoint).create_bucket(bucket)

    def put(key: str, data: bytes, *, metadata=None, content_type=None) -> None:
        blob = raw_bucket.blob(key)
        if metadata:
            blob.metadata = metadata
        blob.upload_from_string(data, content_type=content_type or "application/octet-stream")

    # The connection names its endpoint (STORAGE_EMULATOR_HOST is gcp-storage-emulator's).
    spec = ConnectionSpec(name="fake-gcs", provider="gcs", endpoint_url=endpoint)
    return Store("fake-gcs", open_driver(spec), bucket, put)


def _local_store(tmp_path: Path, bucket: str) -> Store:
    root = tmp_path / "store"
    (root / bucket).mkdir(parents=True)

    def put(key: str, data: bytes, *, metadata=None, content_type=None) -> None:
        path = root / bucket / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    spec = ConnectionSpec(name="local", provider="local", root=str(root))
    return Store("local", open_driver(spec), bucket, put, root)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, bucket_name: str, tmp_path: Path) -> Store:
    """A driver of each backend on a fresh empty bucket."""
    if request.param == "s3":
        return _s3_store(request, bucket_name)
    if request.param == "seaweedfs":
        return _seaweed_store(request, bucket_name)
    if request.param == "gcs":
        return _gcs_store(request, bucket_name)
    if request.param == "fake-gcs":
        return _fake_gcs_store(request, bucket_name)
    return _local_store(tmp_path, bucket_name)


def _keys(entries) -> list[str]:
    return [e.key for e in entries]


def _assert_utc_recent(value: datetime | None) -> None:
    assert value is not None and value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)
    # A sanity bound on the value itself (the object was written moments ago).
    assert abs(datetime.now(timezone.utc) - value) < timedelta(days=1)


ML_RUN = {
    "README.md": b"hello",
    "model.bin": b"\x00" * 2048,
    "runs/r1/params.json": b'{"lr": 0.1}',
    "runs/r1/metrics.json": b'{"loss": 0.25}',
    "runs/r2/log.txt": b"epoch 1\n",
}


# -- buckets ---------------------------------------------------------------------------


def test_list_buckets_contains_the_bucket(store: Store) -> None:
    names = [b.name for b in store.driver.list_buckets()]
    assert store.bucket in names


def test_bucket_region(store: Store) -> None:
    region = store.driver.bucket_region(store.bucket)
    if store.provider == "s3":
        assert region == "us-east-1"  # empty LocationConstraint means us-east-1
    elif store.kind == "gcs":
        assert region == "US"  # the emulator's (and GCS's) default location
    elif store.kind == "fake-gcs":
        assert region == "US-CENTRAL1"  # fake-gcs-server's -location default
    else:
        assert region is None


# -- listing ---------------------------------------------------------------------------


def test_one_level_gives_prefixes_and_objects(store: Store) -> None:
    for key, data in ML_RUN.items():
        store.put(key, data)
    page = store.driver.list_page(store.bucket, "")
    assert page.next_token is None and page.is_last
    assert _keys(page.entries) == ["README.md", "model.bin", "runs/"]
    by_key = {e.key: e for e in page.entries}
    runs = by_key["runs/"]
    assert runs.is_prefix and runs.type == "prefix" and runs.size is None and runs.name == "runs/"
    for key in ("README.md", "model.bin"):
        entry = by_key[key]
        assert entry.type == "object" and not entry.is_prefix
        assert entry.size == len(ML_RUN[key])
        assert entry.etag and '"' not in entry.etag
        _assert_utc_recent(entry.last_modified)

    second = store.driver.list_page(store.bucket, "runs/")
    assert _keys(second.entries) == ["runs/r1/", "runs/r2/"]
    assert all(e.is_prefix for e in second.entries)

    third = store.driver.list_page(store.bucket, "runs/r1/")
    assert _keys(third.entries) == ["runs/r1/metrics.json", "runs/r1/params.json"]
    assert [e.size for e in third.entries] == [14, 11]
    assert [e.name for e in third.entries] == ["metrics.json", "params.json"]


def test_prefix_need_not_end_at_a_slash(store: Store) -> None:
    for key, data in ML_RUN.items():
        store.put(key, data)
    page = store.driver.list_page(store.bucket, "runs/r")
    assert _keys(page.entries) == ["runs/r1/", "runs/r2/"]
    page = store.driver.list_page(store.bucket, "runs/r1/p")
    assert _keys(page.entries) == ["runs/r1/params.json"]


def test_missing_prefix_is_an_empty_listing(store: Store) -> None:
    store.put("a/b", b"x")
    page = store.driver.list_page(store.bucket, "nothing/here/")
    assert page.entries == () and page.next_token is None


def test_recursive_listing_with_empty_delimiter(store: Store) -> None:
    for key, data in ML_RUN.items():
        store.put(key, data)
    page = store.driver.list_page(store.bucket, "", delimiter="")
    assert _keys(page.entries) == sorted(ML_RUN)
    assert all(e.type == "object" for e in page.entries)
    assert [e.size for e in page.entries] == [len(ML_RUN[k]) for k in sorted(ML_RUN)]
    under = store.driver.list_page(store.bucket, "runs/", delimiter="")
    assert _keys(under.entries) == sorted(k for k in ML_RUN if k.startswith("runs/"))


def _paging_fixture(store: Store) -> tuple[list[str], list[str]]:
    objects = [f"p/k{i:02d}" for i in range(23)]
    nested = [f"p/sub{i}/x" for i in range(5)]
    for key in objects + nested:
        store.put(key, b"v")
    return objects, nested


def _collect(pages) -> list[Entry]:
    return [e for page in pages for e in page.entries]


def test_paging_chains_tokens_one_level(store: Store) -> None:
    objects, _ = _paging_fixture(store)
    pages = list(iter_pages(store.driver, store.bucket, "p/", page_size=6))
    entries = _collect(pages)
    keys = _keys(entries)
    expected = sorted(objects + [f"p/sub{i}/" for i in range(5)])
    assert len(keys) == len(set(keys)), "a key came back on two pages"
    if store.kind == "fake-gcs":
        # The driver drops the prefixes the server repeats: each key once, all of them.
        assert sorted(keys) == expected and len(pages) == 4
        pytest.skip(FAKE_GCS_PREFIX_PAGING + ", so they all come on the first page")
    assert keys == expected  # complete, and in key order across pages
    assert pages[-1].next_token is None
    if store.kind == "gcs":
        assert len(pages) >= 1  # gcp-storage-emulator ignores maxResults: one page
    else:
        assert len(pages) >= 5
        assert all(len(p.entries) <= 6 for p in pages)
        assert all(p.next_token for p in pages[:-1])


def test_paging_recursive(store: Store) -> None:
    objects, nested = _paging_fixture(store)
    pages = list(iter_pages(store.driver, store.bucket, "", delimiter="", page_size=10))
    keys = _keys(_collect(pages))
    assert keys == sorted(objects + nested)
    if store.kind != "gcs":
        assert len(pages) == 3
        assert [len(p.entries) for p in pages] == [10, 10, 8]


def test_manual_token_resumes_after_the_page(store: Store) -> None:
    if store.kind == "fake-gcs":
        pytest.skip(FAKE_GCS_PREFIX_PAGING)
    _paging_fixture(store)
    first = store.driver.list_page(store.bucket, "p/", page_size=4)
    if first.next_token is None:
        assert store.kind == "gcs"  # the emulator answers in one page
        pytest.skip("gcp-storage-emulator ignores maxResults, so there is no second page")
    second = store.driver.list_page(store.bucket, "p/", token=first.next_token, page_size=4)
    assert _keys(first.entries) == ["p/k00", "p/k01", "p/k02", "p/k03"]
    assert _keys(second.entries) == ["p/k04", "p/k05", "p/k06", "p/k07"]


# -- head ------------------------------------------------------------------------------


def test_head_fields_and_user_metadata(store: Store) -> None:
    key = "runs/r1/params.json"
    store.put(
        key,
        b'{"lr": 0.1}',
        metadata={"run-id": "42", "stage": "train"},
        content_type="application/json",
    )
    info = store.driver.head(store.bucket, key)
    assert (info.bucket, info.key, info.size) == (store.bucket, key, 11)
    assert info.content_type == "application/json"
    _assert_utc_recent(info.last_modified)
    listed = {e.key: e for e in store.driver.list_page(store.bucket, "runs/r1/").entries}
    assert info.etag and info.etag == listed[key].etag
    if store.has_metadata:
        assert info.metadata == {"run-id": "42", "stage": "train"}
    else:
        assert info.metadata == {}
    if store.provider == "s3":
        assert info.storage_class == "STANDARD"
    if store.provider == "gcs":
        assert info.storage_class == "STANDARD"
        assert info.version_id and info.version_id.isdigit()  # the generation
        assert info.extra["CRC32C"] and info.extra["MD5"]


# -- ranged reads ----------------------------------------------------------------------

DATA = bytes(range(256)) * 4  # 1,024 bytes, every offset distinguishable mod 256


def test_read_range_start_and_length(store: Store) -> None:
    store.put("blob.bin", DATA)
    read = store.driver.read_range
    assert read(store.bucket, "blob.bin", 0, 10) == DATA[:10]
    assert read(store.bucket, "blob.bin", 100, 50) == DATA[100:150]
    assert read(store.bucket, "blob.bin", 1000, 100) == DATA[1000:]  # clipped at the end
    assert read(store.bucket, "blob.bin", 1000) == DATA[1000:]
    assert read(store.bucket, "blob.bin") == DATA
    assert read(store.bucket, "blob.bin", 5, 0) == b""


def test_read_range_suffix(store: Store) -> None:
    store.put("train.log", DATA)
    read = store.driver.read_range
    assert read(store.bucket, "train.log", suffix=16) == DATA[-16:]
    assert read(store.bucket, "train.log", suffix=5000) == DATA
    assert read(store.bucket, "train.log", 3, 4, suffix=16) == DATA[-16:]  # suffix wins


def test_read_past_the_end_and_empty_objects(store: Store) -> None:
    store.put("blob.bin", DATA)
    store.put("empty", b"")
    read = store.driver.read_range
    assert read(store.bucket, "blob.bin", 1024, 10) == b""
    assert read(store.bucket, "blob.bin", 5000) == b""
    assert read(store.bucket, "empty") == b""
    assert read(store.bucket, "empty", 0, 64 * 1024) == b""
    assert read(store.bucket, "empty", suffix=10) == b""
    assert store.driver.head(store.bucket, "empty").size == 0


# -- not found -------------------------------------------------------------------------


def _assert_not_found(exc: NotFound, store: Store, bucket: str, key: str | None) -> None:
    assert isinstance(exc, FileNotFoundError) and isinstance(exc, StorageError)
    assert exc.provider == store.provider
    assert exc.operation
    assert exc.bucket == bucket
    assert exc.key == key
    if store.kind != "local":
        assert exc.status == 404
    assert "Traceback" not in str(exc) and "\n" not in str(exc)


def test_missing_key(store: Store) -> None:
    store.put("present", b"x")
    key = "no/such/key.json"
    with pytest.raises(NotFound) as head_err:
        store.driver.head(store.bucket, key)
    _assert_not_found(head_err.value, store, store.bucket, key)
    with pytest.raises(NotFound) as read_err:
        store.driver.read_range(store.bucket, key, 0, 100)
    _assert_not_found(read_err.value, store, store.bucket, key)
    expected = {"s3": "NoSuchKey", "gcs": "notFound", "local": "ENOENT"}[store.provider]
    assert read_err.value.code == expected


def test_missing_bucket(store: Store) -> None:
    missing = f"pail-missing-{uuid.uuid4().hex[:10]}"
    with pytest.raises(NotFound) as err:
        store.driver.list_page(missing, "runs/")
    _assert_not_found(err.value, store, missing, "runs/")
    # GCS's JSON API has one reason for every 404 ("notFound"); S3 names the bucket, a local
    # folder has the errno name (and folder_missing set).
    expected = {"s3": "NoSuchBucket", "gcs": "notFound", "local": "ENOENT"}[store.provider]
    assert err.value.code == expected
    assert err.value.badge.startswith("404" if store.kind != "local" else "ENOENT")
    assert err.value.bucket_missing or store.provider == "gcs"
    with pytest.raises(NotFound):
        store.driver.head(missing, "k")
    with pytest.raises(NotFound):
        store.driver.bucket_region(missing)


# -- hostile key names -----------------------------------------------------------------

_LONG_KEY = "/".join(["d" * 200] * 5) + "/" + "x" * 19  # 1,024 bytes in 200-byte segments

HOSTILE_KEYS = {
    "markup": "[bold]x[/]",
    "markup-file": "[red]alert[/red].txt",
    "escape-seq": "esc\x1b[31mred\x1b[0m.log",
    "1024-bytes": _LONG_KEY,
    "unicode": "ünïcødé/模型/файл.txt",
    "percent-plus-space": "a b+c%20d.txt",
}


@pytest.mark.parametrize("key", list(HOSTILE_KEYS.values()), ids=list(HOSTILE_KEYS))
def test_hostile_keys_round_trip_literally(store: Store, key: str) -> None:
    assert len(_LONG_KEY.encode()) == 1024
    body = b"payload:" + key.encode()
    store.put(key, body)
    info = store.driver.head(store.bucket, key)
    assert info.key == key and info.size == len(body)
    assert store.driver.read_range(store.bucket, key) == body
    recursive = store.driver.list_page(store.bucket, "", delimiter="")
    assert _keys(recursive.entries) == [key]
    top = store.driver.list_page(store.bucket, "")
    first, sep, _ = key.partition("/")
    assert _keys(top.entries) == [first + "/" if sep else key]


def test_dot_dot_key(store: Store) -> None:
    if store.kind == "gcs":
        pytest.skip(
            "gcp-storage-emulator keeps objects as files and drops the connection for a "
            "'..' segment (real GCS accepts the name)"
        )
    if store.kind == "seaweedfs":
        pytest.skip(f"{SEAWEEDFS}: PutObject of a key with a '..' segment is InvalidRequest")
    if store.kind == "local":
        # A folder cannot hold a key that leaves it: the driver must not read the sibling.
        assert store.root is not None
        (store.root / "x").write_bytes(b"outside the bucket")
        with pytest.raises(NotFound):
            store.driver.head(store.bucket, "../x")
        with pytest.raises(NotFound):
            store.driver.read_range(store.bucket, "../x")
        return
    store.put("../x", b"dots")
    assert store.driver.head(store.bucket, "../x").key == "../x"
    assert store.driver.read_range(store.bucket, "../x") == b"dots"
    assert _keys(store.driver.list_page(store.bucket, "").entries) == ["../"]
    assert _keys(store.driver.list_page(store.bucket, "../").entries) == ["../x"]


# -- threads ---------------------------------------------------------------------------


def test_one_driver_shared_by_threads(store: Store) -> None:
    for key, data in ML_RUN.items():
        store.put(key, data)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(_keys(store.driver.list_page(store.bucket, "runs/r1/").entries))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert results == [["runs/r1/metrics.json", "runs/r1/params.json"]] * 8
