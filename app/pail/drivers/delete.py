"""``delete_objects``: the rules every backend shares, and the local folder's delete.

A key counts as deleted only when the store named it in its answer; every other key of the
call is a failure with its reason. Each key sent is in exactly one list of the result. The
S3 and GCS deletes are in :mod:`pail.drivers.s3.delete` and :mod:`pail.drivers.gcs.delete`;
the drivers' methods are thin wrappers.

Local folders (:func:`local_delete`): ``os.remove`` per file (its result is the
confirmation), then empty parent folders are removed up to (never including) the bucket
folder, so the listing shows no empty prefixes, as on S3.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence

from pail.drivers.base import (
    MAX_DELETE_KEYS,
    DeletedKey,
    DeleteFailure,
    DeleteResult,
    DeleteTarget,
)

__all__ = [
    "NOT_CONFIRMED",
    "NOT_CONFIRMED_MESSAGE",
    "local_delete",
    "not_confirmed",
    "targets",
]

#: The failure code of a key the store's reply did not name (neither deleted nor refused).
NOT_CONFIRMED = "NotConfirmed"
#: Its message.
NOT_CONFIRMED_MESSAGE = "not confirmed: the store's reply did not name this key"


def not_confirmed(key: str, version: str | None) -> DeleteFailure:
    """The failure of a key the store's reply did not name."""
    return DeleteFailure(key, version, NOT_CONFIRMED, NOT_CONFIRMED_MESSAGE)


def targets(keys: Sequence[DeleteTarget]) -> list[tuple[str, str | None]]:
    """``keys`` as ``(key, version_id)`` pairs.

    Raises:
        ValueError: more than :data:`MAX_DELETE_KEYS` keys, or an empty key.
    """
    if len(keys) > MAX_DELETE_KEYS:
        raise ValueError(
            f"delete_objects takes at most {MAX_DELETE_KEYS} keys per call, got {len(keys)}"
        )
    out: list[tuple[str, str | None]] = []
    for item in keys:
        key, version = (item, None) if isinstance(item, str) else (item[0], item[1])
        if not key:
            raise ValueError("an empty key cannot be deleted")
        out.append((key, version or None))
    return out


def local_delete(
    bucket_path: str, path_of: Callable[[str], str], pairs: list[tuple[str, str | None]]
) -> DeleteResult:
    """``os.remove`` each file, then prune empty parent folders below ``bucket_path``.

    ``path_of(key)`` maps a key to its file path (raising NotFound for keys that cannot
    name a file, which count as already deleted). Version ids are refused: folders keep
    no versions.
    """
    from pail.drivers.errors import NotFound

    result = DeleteResult()
    parents: set[str] = set()
    for key, version in pairs:
        if version:
            result.errors.append(
                DeleteFailure(key, version, "InvalidArgument", "local folders have no versions")
            )
            continue
        try:
            path = path_of(key)
        except NotFound:
            result.deleted.append(DeletedKey(key))
            continue
        if key.endswith("/") or (os.path.isdir(path) and not os.path.islink(path)):
            result.errors.append(DeleteFailure(key, None, "EISDIR", "is a folder, not an object"))
            continue
        try:
            os.remove(path)
        except FileNotFoundError:
            pass  # already gone: deleted, as on S3
        except OSError as exc:
            code = errno.errorcode.get(exc.errno or 0, "OSError")
            result.errors.append(DeleteFailure(key, None, code, exc.strerror or str(exc)))
            continue
        result.deleted.append(DeletedKey(key))
        parents.add(os.path.dirname(path))
    _prune(bucket_path, parents)
    return result


def _prune(bucket_path: str, folders: set[str]) -> None:
    """Remove empty folders among ``folders`` and their ancestors, deepest first, stopping
    at ``bucket_path`` (never removed) or at the first folder that is not empty."""
    root = os.path.abspath(bucket_path)
    for folder in sorted(folders, key=len, reverse=True):
        current = os.path.abspath(folder)
        while current != root and current.startswith(root + os.sep):
            try:
                os.rmdir(current)
            except OSError:  # not empty (or already removed by a deeper pass)
                if os.path.isdir(current):
                    break
            current = os.path.dirname(current)
