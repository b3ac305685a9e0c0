"""A local folder's errors speak of folders, files and paths, not buckets and keys; S3's
and GCS's not-found hints stay theirs. The CLI prints the same error (one layer for both)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pail.drivers.errors import NotFound
from pail.drivers.local import LocalDriver

S3_WORDS = ("NoSuchBucket", "NoSuchKey", "bucket name", "path-style", "Bucket")


def _words(error: NotFound) -> str:
    fields = "\n".join(f"{f.label}: {f.value}" for f in error.fields())
    return f"{error}\n{error.badge}\n{error.hint}\n{fields}"


def test_a_missing_folder_is_no_such_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    driver = LocalDriver(str(missing), single_bucket=True)
    with pytest.raises(NotFound) as err:
        driver.list_page("nope", "")
    text = _words(err.value)
    assert f"no such folder: {missing}" in str(err.value)
    assert err.value.bucket_missing and err.value.code == "ENOENT"
    assert "Check the path" in err.value.hint
    assert "Folder: nope" in text
    for word in S3_WORDS:
        assert word not in text


def test_a_missing_bucket_folder_under_a_root(tmp_path: Path) -> None:
    driver = LocalDriver(str(tmp_path))
    with pytest.raises(NotFound) as err:
        driver.bucket_region("gone")
    assert str(tmp_path / "gone") in err.value.message and err.value.bucket_missing
    with pytest.raises(NotFound) as listing:
        driver.list_page("gone")
    assert listing.value.folder_missing


def test_a_missing_file_is_no_such_file(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    driver = LocalDriver(str(tmp_path))
    with pytest.raises(NotFound) as err:
        driver.head("b", "runs/x.json")
    text = _words(err.value)
    assert f"no such file: {tmp_path / 'b' / 'runs' / 'x.json'}" in str(err.value)
    assert not err.value.bucket_missing
    assert "Check the path" in err.value.hint and "Path: runs/x.json" in text
    for word in S3_WORDS:
        assert word not in text
    with pytest.raises(NotFound) as folder:
        (tmp_path / "b" / "dir").mkdir()
        driver.read_range("b", "dir")
    assert folder.value.code == "EISDIR" and "is a folder" in folder.value.message


def test_s3_and_gcs_keep_their_hints() -> None:
    s3 = NotFound("gone", provider="s3", bucket="b", code="NoSuchBucket", status=404)
    assert s3.hint.startswith("Check the bucket name.") and "path-style" in s3.hint
    gcs = NotFound("gone", provider="gcs", bucket="b", code="notFound", status=404)
    assert gcs.hint.startswith("Check the bucket name and the key")
    assert "Bucket" in [f.label for f in s3.fields()]


def test_the_command_line_prints_local_words(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    result = subprocess.run(
        [sys.executable, "-m", "pail", "ls", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"no such folder: {missing}" in result.stderr
    assert "Check the path" in result.stderr
    assert "NoSuchBucket" not in result.stderr and "bucket name" not in result.stderr
