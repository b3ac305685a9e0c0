"""The second half of a move: deleting sources whose copy was verified.

A source key is deleted only when its copy was verified (never one accepted unverified),
and only when a HEAD shows the source still has the ETag it had at planning (a key
rewritten meanwhile is kept). Deletes go through ``driver.delete_objects`` in batches of
:data:`~pail.drivers.base.MAX_DELETE_KEYS`; a key counts as deleted only when the store
named it in its reply. Every other key is kept, with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from pail.drivers.base import MAX_DELETE_KEYS, StorageDriver
from pail.drivers.errors import NotFound, StorageError
from pail.services.download import Failure


def delete_sources(
    driver: StorageDriver,
    bucket: str,
    verified: Sequence[tuple[str, str | None, str]],
) -> tuple[list[str], list[Failure]]:
    """Delete the sources in ``verified`` (``(key, planned ETag, where it was copied to)``)
    and return ``(deleted keys, kept)``.

    Kept codes: ``SourceChanged`` (the ETag differs from the planned one, or none was
    planned: nothing proves it unchanged), ``SourceGone``, the HEAD's or the delete's
    store code (``AccessDenied``, ``NotConfirmed``...).
    """
    deleted: list[str] = []
    kept: list[Failure] = []
    ready: list[tuple[str, str]] = []
    for key, etag, path in verified:
        try:
            info = driver.head(bucket, key)
        except NotFound as exc:
            kept.append(Failure(key, path, "SourceGone", "the source is gone already", exc))
            continue
        except StorageError as exc:
            code = exc.code or type(exc).__name__
            kept.append(Failure(key, path, code, exc.message or str(exc), exc))
            continue
        if etag is None or info.etag != etag:
            kept.append(
                Failure(
                    key,
                    path,
                    "SourceChanged",
                    "the source changed after it was copied (its ETag differs); not deleted",
                )
            )
            continue
        ready.append((key, path))
    for start in range(0, len(ready), MAX_DELETE_KEYS):
        batch = ready[start : start + MAX_DELETE_KEYS]
        try:
            result = driver.delete_objects(bucket, [key for key, _ in batch])
        except StorageError as exc:
            code = exc.code or type(exc).__name__
            kept.extend(Failure(k, p, code, exc.message or str(exc), exc) for k, p in batch)
            continue
        confirmed = {d.key for d in result.deleted}
        refused = {e.key: e for e in result.errors}
        for key, path in batch:
            if key in confirmed and key not in refused:
                deleted.append(key)
            elif key in refused:
                error = refused[key]
                kept.append(Failure(key, path, error.code, error.message))
            else:
                kept.append(Failure(key, path, "NotConfirmed", "the store did not confirm it"))
    return deleted, kept
