"""``delete_objects`` for the three backends; the drivers' methods are thin wrappers.

A key counts as deleted only when the store named it in its answer; every other key of the
call is a failure with its reason. Each key sent is in exactly one list of the result.

* S3: one DeleteObjects request per call (S3 API reference, DeleteObjects: "up to 1,000
  keys"), always with ``Quiet=false`` so the reply names every deleted key in a
  ``Deleted`` element (in quiet mode it names only failures, and a reply that omits a key,
  or is empty, would pass for a success). The answer is HTTP 200 even when S3 refused
  every key: each refusal is an ``Error`` element with ``Key``, ``VersionId``, ``Code``
  (``AccessDenied``...) and ``Message``. A key named in neither list, and every key of an
  empty or unparsable reply, is a failure with code :data:`NOT_CONFIRMED`.
* GCS: the JSON API has no multi-delete; deletes go in batch requests
  (``POST /batch/storage/v1``, at most 100 calls per batch: Cloud Storage docs, "Sending
  batch requests"), each sub-response with its own status. A 404 sub-response (the object
  is already gone) counts as deleted, as S3 does for a missing key. A batch reply whose
  sub-responses do not match the calls one for one confirms nothing: every key of that
  batch is :data:`NOT_CONFIRMED`.
* Local: ``os.remove`` per file (its result is the confirmation), then empty parent
  folders are removed up to (never including) the bucket folder, so the listing shows no
  empty prefixes, as on S3.
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

__all__ = [
    "NOT_CONFIRMED",
    "NOT_CONFIRMED_MESSAGE",
    "DeleteResult",
    "DeleteTarget",
    "gcs_delete",
    "local_delete",
    "s3_delete",
    "targets",
]

#: Calls per GCS batch request (the JSON API's limit is 100).
GCS_BATCH = 100

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


def s3_delete(client: Any, bucket: str, pairs: list[tuple[str, str | None]]) -> DeleteResult:
    """One DeleteObjects request with ``Quiet=false``; see the module doc for how the
    reply is read. Raises botocore exceptions for a failed request (the driver translates
    them); a 200 reply that is not XML confirms nothing (every key :data:`NOT_CONFIRMED`).
    """
    from botocore.parsers import ResponseParserError

    result = DeleteResult()
    if not pairs:
        return result
    objects = []
    for key, version in pairs:
        obj = {"Key": key}
        if version:
            obj["VersionId"] = version
        objects.append(obj)
    try:
        resp = client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": False})
    except ResponseParserError:  # a 200 whose body is not S3's XML: nothing is confirmed
        result.errors = [not_confirmed(k, v) for k, v in pairs]
        return result
    return read_s3_reply(pairs, resp)


def read_s3_reply(pairs: list[tuple[str, str | None]], resp: Any) -> DeleteResult:
    """The DeleteObjects reply ``resp`` (botocore's parsed dict) as a result for ``pairs``.

    A pair ``(key, None)`` is confirmed by a ``Deleted`` entry with that key (on a
    versioned bucket the entry carries ``DeleteMarker``/``DeleteMarkerVersionId`` instead
    of a version id); ``(key, version)`` by a ``Deleted`` entry with that key and
    ``VersionId`` (or ``DeleteMarkerVersionId``, when the version was a delete marker)
    equal to ``version``. An ``Error`` entry refuses its key and version (without a
    version id, as moto answers, every pair of that key); a pair both confirmed and
    refused counts as refused. Every other pair is :data:`NOT_CONFIRMED`.
    """
    result = DeleteResult()
    resp = resp if isinstance(resp, dict) else {}
    confirmed: set[tuple[str, str | None]] = set()
    for entry in resp.get("Deleted") or []:
        key = entry.get("Key")
        if not isinstance(key, str):
            continue
        confirmed.add((key, None))  # a plain-key delete is confirmed by the key alone
        for field_name in ("VersionId", "DeleteMarkerVersionId"):
            if entry.get(field_name):
                confirmed.add((key, str(entry[field_name])))
    refused: dict[tuple[str, str | None], DeleteFailure] = {}
    for err in resp.get("Errors") or []:
        key, version = err.get("Key"), err.get("VersionId") or None
        code = str(err.get("Code") or "Error")
        message = str(err.get("Message") or "")
        hits = [p for p in pairs if p[0] == key and (version is None or p[1] == version)]
        for k, v in hits:
            refused.setdefault((k, v), DeleteFailure(k, v, code, message))
    for key, version in pairs:
        if (key, version) in refused:
            result.errors.append(refused[(key, version)])
        elif (key, version) in confirmed:
            result.deleted.append(DeletedKey(key, version))
        else:  # neither deleted nor refused: never assume success
            result.errors.append(not_confirmed(key, version))
    return result


def gcs_delete(
    client: Any,
    bucket: str,
    pairs: list[tuple[str, str | None]],
    timeout: Any,
    call: Callable[[Callable[[], Any]], Any],
) -> DeleteResult:
    """Batched ``storage.objects.delete`` calls, :data:`GCS_BATCH` per batch request.
    ``call(fn)`` runs ``fn`` with errors translated (a failed batch request raises).

    Each call's sub-response decides its key: 2xx or 404 deleted, any other status a
    failure with the JSON error's reason. A batch reply with fewer or more sub-responses
    than calls cannot be matched to the keys, so every key of that batch request is
    :data:`NOT_CONFIRMED`.
    """
    result = DeleteResult()
    for start in range(0, len(pairs), GCS_BATCH):
        chunk = pairs[start : start + GCS_BATCH]

        def send(chunk: list[tuple[str, str | None]] = chunk) -> list[Any] | None:
            handle = client.bucket(bucket)
            batch = client.batch(raise_exception=False)
            try:
                with batch:
                    for key, version in chunk:
                        generation = int(version) if version else None
                        handle.blob(key, generation=generation).delete(timeout=timeout, retry=None)
            except ValueError as exc:
                # google-cloud-storage raises "Expected a response for every request." when
                # the reply's parts do not match the calls: nothing in it can be trusted.
                if "response for every request" in str(exc):
                    return None
                raise
            return list(batch._responses)  # one (status, body) sub-response per call

        responses = call(send)
        if responses is None or len(responses) != len(chunk):
            result.errors.extend(not_confirmed(key, version) for key, version in chunk)
            continue
        for (key, version), sub in zip(chunk, responses, strict=True):  # lengths checked
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
