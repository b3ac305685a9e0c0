"""Resume state of S3 multipart uploads: the UploadId of an upload in progress, recorded
so a rerun of the same transfer continues it (ListParts, then only the missing parts).

One JSON file per upload in ``user_state_dir("pail")/uploads/`` (platformdirs), mode 0600
in a 0700 folder, named by a hash of what identifies the upload: endpoint, bucket, key,
size, part size and the source's identity (local: path, size and mtime; remote: ETag and
version). It holds that identity and the ``upload_id``; never a credential.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from typing import Any

#: A state file is a few hundred bytes; refuse to read a huge one.
_MAX = 64 * 1024


def default_state_dir() -> str:
    """``user_state_dir("pail")/uploads`` (platformdirs)."""
    import platformdirs

    return os.path.join(platformdirs.user_state_dir("pail"), "uploads")


class UploadStates:
    """The state files of one folder (``None``: :func:`default_state_dir`). Thread-safe
    (each call works on its own file, replaced atomically)."""

    def __init__(self, folder: str | None = None) -> None:
        self.folder = folder or default_state_dir()

    def _path(self, identity: dict[str, Any]) -> str:
        text = json.dumps(identity, sort_keys=True, default=str)
        return os.path.join(self.folder, hashlib.sha256(text.encode()).hexdigest()[:32] + ".json")

    def load(self, identity: dict[str, Any]) -> str | None:
        """The UploadId recorded for ``identity``, or ``None`` (none, unreadable, or
        recorded for something else)."""
        try:
            with open(self._path(identity), "rb") as handle:
                record = json.loads(handle.read(_MAX))
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("identity") != json.loads(
            json.dumps(identity, default=str)
        ):
            return None
        upload_id = record.get("upload_id")
        return upload_id if isinstance(upload_id, str) and upload_id else None

    def save(self, identity: dict[str, Any], upload_id: str) -> None:
        """Record ``upload_id`` for ``identity`` (file 0600, written aside then renamed).

        Raises:
            OSError: the folder or file cannot be written.
        """
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        path = self._path(identity)
        temp = f"{path}.{os.getpid()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"identity": identity, "upload_id": upload_id}, handle, default=str)
        os.replace(temp, path)

    def drop(self, identity: dict[str, Any]) -> None:
        """Forget the upload of ``identity`` (no error when there is none)."""
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(identity))
