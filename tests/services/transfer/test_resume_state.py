"""Multipart resume state files: recorded, found again, private, never for another upload."""

from __future__ import annotations

import os
import stat

from pail.services.transfer.resume import UploadStates

IDENTITY = {"endpoint": "http://h", "bucket": "b", "key": "k", "size": 10, "source": {"e": 1}}


def test_save_load_drop(tmp_path):
    states = UploadStates(str(tmp_path / "uploads"))
    assert states.load(IDENTITY) is None
    states.save(IDENTITY, "upload-1")
    assert states.load(IDENTITY) == "upload-1"
    (path,) = list((tmp_path / "uploads").iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "uploads").stat().st_mode) == 0o700
    assert "secret" not in path.read_text().lower()
    other = {**IDENTITY, "size": 11}
    assert states.load(other) is None  # another source or size: not this upload
    states.drop(IDENTITY)
    states.drop(IDENTITY)  # already gone: no error
    assert states.load(IDENTITY) is None


def test_unreadable_or_foreign_file_is_ignored(tmp_path):
    states = UploadStates(str(tmp_path))
    states.save(IDENTITY, "u")
    (path,) = list(tmp_path.iterdir())
    path.write_text("{not json")
    assert states.load(IDENTITY) is None
    path.write_text('{"identity": {"bucket": "x"}, "upload_id": "u"}')
    assert states.load(IDENTITY) is None
    os.remove(path)
