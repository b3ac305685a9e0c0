"""The local-folder driver writes (issue 16): a temporary file beside the final name,
fsynced and renamed into place; no symbolic link followed; create-only by hard link;
checksums checked on the bytes; parts written with pwrite in any order."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

import pytest
from awscrt import checksums as crt

from pail.drivers.base import MultipartUpload, Writable, WriteOptions
from pail.drivers.errors import (
    ChecksumMismatch,
    InvalidRequest,
    NotSupported,
    PreconditionFailed,
)
from pail.drivers.local import LocalDriver, _etag


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _sha256(data: bytes) -> str:
    return _b64(hashlib.sha256(data).digest())


def _crc64(data: bytes) -> str:
    return _b64(crt.crc64nvme(data).to_bytes(8, "big"))


def _crc32c(data: bytes) -> str:
    return _b64(crt.crc32c(data).to_bytes(4, "big"))


@pytest.fixture
def bucket(tmp_path: Path) -> Path:
    folder = tmp_path / "bkt"
    folder.mkdir()
    return folder


@pytest.fixture
def driver(tmp_path: Path) -> LocalDriver:
    return LocalDriver(str(tmp_path))


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob(".pail-*")]


def test_local_driver_is_writable(driver: LocalDriver) -> None:
    assert isinstance(driver, Writable)


def test_put_writes_the_bytes_and_creates_folders(driver: LocalDriver, bucket: Path) -> None:
    data = b"hello world\n" * 100
    sums = {
        "MD5": _b64(hashlib.md5(data).digest()),
        "SHA256": _sha256(data),
        "CRC64NVME": _crc64(data),
        "CRC32C": _crc32c(data),
    }
    written = driver.put_object("bkt", "a/b/c.txt", data, checksums=sums)
    target = bucket / "a" / "b" / "c.txt"
    assert target.read_bytes() == data
    st = target.stat()
    assert written.size == len(data) and written.etag == _etag(st)
    assert written.checksums == {"SHA256": sums["SHA256"]}
    # mode like a normal new file: 0666 less the umask
    umask = os.umask(0)
    os.umask(umask)
    assert st.st_mode & 0o777 == 0o666 & ~umask
    assert _leftovers(bucket) == []
    # overwrite is the default
    driver.put_object("bkt", "a/b/c.txt", b"new")
    assert target.read_bytes() == b"new"
    # the listing gives the same ETag as the write answered
    entry = driver.list_page("bkt", "a/b/").entries[0]
    assert entry.etag == _etag(target.stat())


def test_checksum_mismatch_writes_nothing(driver: LocalDriver, bucket: Path) -> None:
    with pytest.raises(ChecksumMismatch):
        driver.put_object("bkt", "x.bin", b"abc", checksums={"CRC64NVME": _crc64(b"abd")})
    with pytest.raises(ChecksumMismatch):
        driver.put_object("bkt", "x.bin", b"abc", checksums={"SHA256": _sha256(b"abd")})
    with pytest.raises(InvalidRequest):
        driver.put_object("bkt", "x.bin", b"abc", checksums={"WHIRLPOOL": "AAAA"})
    assert list(bucket.iterdir()) == []


def test_create_only_refuses_an_existing_file(driver: LocalDriver, bucket: Path) -> None:
    create = WriteOptions(if_none_match=True)
    driver.put_object("bkt", "k", b"first", options=create)
    with pytest.raises(PreconditionFailed) as err:
        driver.put_object("bkt", "k", b"second", options=create)
    assert err.value.status == 412
    assert (bucket / "k").read_bytes() == b"first"
    assert _leftovers(bucket) == []


def test_planted_symlink_at_the_final_name_is_replaced_not_followed(
    driver: LocalDriver, bucket: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_bytes(b"keep me")
    (bucket / "link.txt").symlink_to(outside)
    driver.put_object("bkt", "link.txt", b"payload")
    assert outside.read_bytes() == b"keep me"
    assert not (bucket / "link.txt").is_symlink()
    assert (bucket / "link.txt").read_bytes() == b"payload"
    # create-only: a link there (even dangling) counts as existing; nothing followed
    (bucket / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(PreconditionFailed):
        driver.put_object("bkt", "dangling", b"x", options=WriteOptions(if_none_match=True))
    assert not (tmp_path / "nowhere").exists()


def test_symlinked_folder_on_the_way_is_refused(
    driver: LocalDriver, bucket: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (bucket / "sub").symlink_to(elsewhere)
    with pytest.raises(InvalidRequest) as err:
        driver.put_object("bkt", "sub/file.txt", b"x")
    assert "symbolic link" in str(err.value)
    with pytest.raises(InvalidRequest):
        driver.start_upload("bkt", "sub/deeper/file.txt", 3)
    assert list(elsewhere.iterdir()) == []
    (bucket / "plain").write_bytes(b"a file")
    with pytest.raises(InvalidRequest):
        driver.put_object("bkt", "plain/file.txt", b"x")


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "/abs", "a//b", "a/", "", "./x"])
def test_keys_that_cannot_name_a_file_are_refused(
    driver: LocalDriver, tmp_path: Path, key: str
) -> None:
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(InvalidRequest):
        driver.put_object("bkt", key, b"x")
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_multipart_parts_out_of_order(driver: LocalDriver, bucket: Path) -> None:
    data = os.urandom(10 * 1000 + 123)
    part = 1000
    upload = driver.start_upload("bkt", "big/obj.bin", len(data), part_size=part)
    assert isinstance(upload, MultipartUpload)
    assert upload.parallel and upload.token is None and upload.part_alignment == 1
    chunks = [data[i : i + part] for i in range(0, len(data), part)]
    order = list(range(len(chunks)))[::-1]
    done = []
    threads = [
        threading.Thread(target=lambda i=i: done.append(upload.upload_part(i + 1, chunks[i])))
        for i in order
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not (bucket / "big" / "obj.bin").exists()
    assert [p.number for p in upload.parts()] == list(range(1, len(chunks) + 1))
    written = upload.complete(done, checksums={"CRC64NVME": _crc64(data)})
    assert (bucket / "big" / "obj.bin").read_bytes() == data
    assert written.size == len(data)
    assert _leftovers(bucket) == []


def test_multipart_learns_the_part_size_from_part_one(driver: LocalDriver, bucket: Path) -> None:
    data = b"0123456789" * 3 + b"xy"
    upload = driver.start_upload("bkt", "k", len(data))
    with pytest.raises(InvalidRequest):  # offset unknown before part 1
        upload.upload_part(2, data[10:20])
    parts = [upload.upload_part(1, data[:10])]
    parts.append(upload.upload_part(4, data[30:]))
    with pytest.raises(InvalidRequest):  # wrong size for a middle part
        upload.upload_part(2, data[10:15])
    parts += [upload.upload_part(3, data[20:30]), upload.upload_part(2, data[10:20])]
    with pytest.raises(InvalidRequest):  # a part left out
        upload.complete(parts[:3])
    upload.complete(parts)
    assert (bucket / "k").read_bytes() == data


def test_multipart_whole_checksum_mismatch_and_abort(driver: LocalDriver, bucket: Path) -> None:
    data = b"abcdef"
    upload = driver.start_upload("bkt", "m", len(data))
    parts = [upload.upload_part(1, data)]
    with pytest.raises(ChecksumMismatch):
        upload.complete(parts, checksums={"CRC64NVME": _crc64(b"abcdeg")})
    assert list(bucket.iterdir()) == []
    bad = driver.start_upload("bkt", "m", 3)
    with pytest.raises(ChecksumMismatch):  # a part's own checksum
        bad.upload_part(1, b"abc", checksums={"MD5": "AAAA"})
    assert bad.parts() == []
    bad.abort()
    upload = driver.start_upload("bkt", "dir/m", 6, part_size=3)
    upload.upload_part(2, b"def")
    upload.abort()
    upload.abort()  # never raises twice
    assert _leftovers(bucket) == []
    assert not (bucket / "dir" / "m").exists()


def test_multipart_create_only(driver: LocalDriver, bucket: Path) -> None:
    (bucket / "exists").write_bytes(b"old")
    upload = driver.start_upload("bkt", "exists", 3, options=WriteOptions(if_none_match=True))
    parts = [upload.upload_part(1, b"new")]
    with pytest.raises(PreconditionFailed):
        upload.complete(parts)
    assert (bucket / "exists").read_bytes() == b"old"
    assert _leftovers(bucket) == []
    with pytest.raises(NotSupported):
        driver.resume_upload("bkt", "exists", 3, "token")


def test_copy_object(driver: LocalDriver, bucket: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    (bucket / "src.bin").write_bytes(data)
    etag = _etag((bucket / "src.bin").stat())
    written = driver.copy_object(
        "bkt", "src.bin", "bkt", "copy/dst.bin", size=len(data), source_etag=etag
    )
    assert (bucket / "copy" / "dst.bin").read_bytes() == data
    assert written.size == len(data)
    with pytest.raises(PreconditionFailed):  # source pinned by ETag
        driver.copy_object("bkt", "src.bin", "bkt", "x", size=len(data), source_etag="0-0")
    with pytest.raises(PreconditionFailed):  # and by size
        driver.copy_object("bkt", "src.bin", "bkt", "x", size=len(data) + 1)
    with pytest.raises(PreconditionFailed):  # create-only
        driver.copy_object(
            "bkt",
            "src.bin",
            "bkt",
            "copy/dst.bin",
            size=len(data),
            options=WriteOptions(if_none_match=True),
        )
    with pytest.raises(NotSupported):
        driver.copy_object("bkt", "src.bin", "bkt", "y", size=len(data), source_version_id="1")
    assert not (bucket / "x").exists() and not (bucket / "y").exists()
    assert _leftovers(bucket) == []


def test_single_bucket_and_missing_bucket(tmp_path: Path) -> None:
    single = LocalDriver(str(tmp_path), single_bucket=True)
    single.put_object(single.bucket_name, "f.txt", b"1")
    assert (tmp_path / "f.txt").read_bytes() == b"1"
    multi = LocalDriver(str(tmp_path))
    from pail.drivers.errors import NotFound

    with pytest.raises(NotFound) as err:
        multi.put_object("nobucket", "f.txt", b"1")
    assert err.value.bucket_missing
    assert not (tmp_path / "nobucket").exists()


def test_create_only_without_hard_links(
    driver: LocalDriver, bucket: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filesystem that refuses link(2) (FAT answers EPERM): renameat2 with
    RENAME_NOREPLACE refuses an existing name just as atomically."""
    import errno

    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    create = WriteOptions(if_none_match=True)
    driver.put_object("bkt", "n", b"first", options=create)
    with pytest.raises(PreconditionFailed) as err:
        driver.put_object("bkt", "n", b"second", options=create)
    assert err.value.operation == "renameat2"
    assert (bucket / "n").read_bytes() == b"first"
    assert _leftovers(bucket) == []
