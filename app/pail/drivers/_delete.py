"""``delete_objects`` for the three backends; the drivers' methods are thin wrappers.

* S3: one DeleteObjects request per call (S3 API reference, DeleteObjects: "up to 1,000
  keys"; with ``Quiet`` the response lists only the keys that failed). The answer is HTTP
  200 even when S3 refused every key: each refusal is an ``Error`` element with ``Key``,
  ``VersionId``, ``Code`` (``AccessDenied``...) and ``Message``. Those keys are failures,
  never counted as deleted.
* GCS: the JSON API has no multi-delete; deletes go in batch requests
  (``POST /batch/storage/v1``, at most 100 calls per batch: Cloud Storage docs, "Sending
  batch requests"), each sub-response with its own status. A 404 sub-response (the object
  is already gone) counts as deleted, as S3 does for a missing key.
* Local: ``os.remove`` per file, then empty parent folders are removed up to (never
  including) the bucket folder, so the listing shows no empty prefixes, as on S3.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Sequence
from typing import Any

from pail.drivers.base import (  # re-exported for the drivers' signatures
    MAX_DELETE_KEYS,
    DeletedKey,
    DeleteFailure,
    DeleteResult,
    DeleteTarget,
)

__all__ = ["DeleteResult", "DeleteTarget", "gcs_delete", "local_delete", "s3_delete", "targets"]

#: Calls per GCS batch request (the JSON API's limit is 100).
GCS_BATCH = 100


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


def s3_delete(
    client: Any, bucket: str, pairs: list[tuple[str, str | None]], quiet: bool
) -> DeleteResult:
    """One DeleteObjects request; per-key ``Errors`` become failures. Raises botocore
    exceptions for a failed request (the driver translates them)."""
    result = DeleteResult()
    if not pairs:
        return result
    objects = []
    for key, version in pairs:
        obj = {"Key": key}
        if version:
            obj["VersionId"] = version
        objects.append(obj)
    resp = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": quiet})
    failed: set[tuple[str, str | None]] = set()
    for err in resp.get("Errors") or []:
        key, version = err.get("Key", ""), err.get("VersionId") or None
        failed.add((key, version))
        result.errors.append(
            DeleteFailure(key, version, err.get("Code") or "Error", err.get("Message") or "")
        )
    if quiet:
        # Quiet mode reports failures only: every other key was deleted.
        result.deleted = [DeletedKey(k, v) for k, v in pairs if (k, v) not in failed]
        if failed - set(pairs):  # an error for a key we did not send: match by key only
            keys_failed = {k for k, _ in failed}
            result.deleted = [d for d in result.deleted if d.key not in keys_failed]
        return result
    reported = {(d.get("Key", ""), d.get("VersionId") or None) for d in resp.get("Deleted") or []}
    for key, version in pairs:
        if (key, version) in failed:
            continue
        if (key, version) in reported or (key, None) in reported:
            result.deleted.append(DeletedKey(key, version))
        else:  # neither deleted nor refused: never assume success
            result.errors.append(
                DeleteFailure(key, version, "NotReported", "the server did not report this key")
            )
    return result


def gcs_delete(
    client: Any,
    bucket: str,
    pairs: list[tuple[str, str | None]],
    timeout: Any,
    call: Callable[[Callable[[], Any]], Any],
) -> DeleteResult:
    """Batched ``storage.objects.delete`` calls, :data:`GCS_BATCH` per batch request.
    ``call(fn)`` runs ``fn`` with errors translated (a failed batch request raises)."""
    result = DeleteResult()
    for start in range(0, len(pairs), GCS_BATCH):
        chunk = pairs[start : start + GCS_BATCH]

        def send(chunk: list[tuple[str, str | None]] = chunk) -> list[Any]:
            handle = client.bucket(bucket)
            batch = client.batch(raise_exception=False)
            with batch:
                for key, version in chunk:
                    generation = int(version) if version else None
                    handle.blob(key, generation=generation).delete(timeout=timeout, retry=None)
            return list(batch._responses)  # one (status, body) sub-response per call

        responses = call(send)
        for (key, version), sub in zip(chunk, responses, strict=True):
            status = getattr(sub, "status_code", 0)
            if 200 <= status < 300 or status == 404:
                result.deleted.append(DeletedKey(key, version))
            else:
                code, message = _gcs_error(sub)
                result.errors.append(DeleteFailure(key, version, code, message))
    return result


def _gcs_error(sub: Any) -> tuple[str, str]:
    status = getattr(sub, "status_code", 0)
    try:
        error = sub.json().get("error") or {}
    except Exception:  # a non-JSON body
        error = {}
    errors = error.get("errors") or [{}]
    code = errors[0].get("reason") or str(status)
    return code, str(error.get("message") or getattr(sub, "reason", "") or status)


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
