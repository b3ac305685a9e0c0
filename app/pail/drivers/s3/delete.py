"""``delete_objects`` on S3 (the rules every backend shares are in :mod:`pail.drivers.delete`).

One DeleteObjects request per call (S3 API reference, DeleteObjects: "up to 1,000
keys"), always with ``Quiet=false`` so the reply names every deleted key in a
``Deleted`` element (in quiet mode it names only failures, and a reply that omits a key,
or is empty, would pass for a success). The answer is HTTP 200 even when S3 refused
every key: each refusal is an ``Error`` element with ``Key``, ``VersionId``, ``Code``
(``AccessDenied``...) and ``Message``. A key named in neither list, and every key of an
empty or unparsable reply, is a failure with code :data:`~pail.drivers.delete.NOT_CONFIRMED`.

The result is an :class:`S3DeleteResult`: it also says how many times the request was
retried (botocore's ``ResponseMetadata.RetryAttempts``, set under pail's retry policy
too: :mod:`pail.drivers.s3.retry`), which the delete engine reads as the store pushing
back (:mod:`pail.services.delete.adaptive`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pail.drivers.base import DeletedKey, DeleteFailure, DeleteResult
from pail.drivers.delete import not_confirmed

__all__ = ["S3DeleteResult", "read_s3_reply", "s3_delete"]


@dataclass
class S3DeleteResult(DeleteResult):
    """A :class:`~pail.drivers.base.DeleteResult` with ``retries``: attempts after the
    first that the DeleteObjects request needed (0 when it succeeded at once; throttling,
    a 5xx or a dropped connection were retried otherwise)."""

    retries: int = 0


def s3_delete(client: Any, bucket: str, pairs: list[tuple[str, str | None]]) -> S3DeleteResult:
    """One DeleteObjects request with ``Quiet=false``; see the module doc for how the
    reply is read. Raises botocore exceptions for a failed request (the driver translates
    them); a 200 reply that is not XML confirms nothing (every key
    :data:`~pail.drivers.delete.NOT_CONFIRMED`).
    """
    from botocore.parsers import ResponseParserError

    result = S3DeleteResult()
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


def read_s3_reply(pairs: list[tuple[str, str | None]], resp: Any) -> S3DeleteResult:
    """The DeleteObjects reply ``resp`` (botocore's parsed dict) as a result for ``pairs``.

    A pair ``(key, None)`` is confirmed by a ``Deleted`` entry with that key (on a
    versioned bucket the entry carries ``DeleteMarker``/``DeleteMarkerVersionId`` instead
    of a version id); ``(key, version)`` by a ``Deleted`` entry with that key and
    ``VersionId`` (or ``DeleteMarkerVersionId``, when the version was a delete marker)
    equal to ``version``. An ``Error`` entry refuses its key and version (without a
    version id, as moto answers, every pair of that key); a pair both confirmed and
    refused counts as refused. Every other pair is :data:`~pail.drivers.delete.NOT_CONFIRMED`.
    ``retries`` comes from ``ResponseMetadata.RetryAttempts``.
    """
    result = S3DeleteResult()
    resp = resp if isinstance(resp, dict) else {}
    meta = resp.get("ResponseMetadata")
    if isinstance(meta, dict) and isinstance(meta.get("RetryAttempts"), int):
        result.retries = meta["RetryAttempts"]
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
