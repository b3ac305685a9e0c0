"""``delete_objects`` on GCS (the rules every backend shares are in :mod:`pail.drivers.delete`).

The JSON API has no multi-delete; deletes go in batch requests
(``POST /batch/storage/v1``, at most 100 calls per batch: Cloud Storage docs, "Sending
batch requests"), each sub-response with its own status. A 404 sub-response (the object
is already gone) counts as deleted, as S3 does for a missing key. A batch reply whose
sub-responses do not match the calls one for one confirms nothing: every key of that
batch is :data:`~pail.drivers.delete.NOT_CONFIRMED`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pail.drivers.base import DeletedKey, DeleteFailure, DeleteResult
from pail.drivers.delete import not_confirmed

__all__ = ["GCS_BATCH", "gcs_delete"]

#: Calls per GCS batch request (the JSON API's limit is 100).
GCS_BATCH = 100


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
    :data:`~pail.drivers.delete.NOT_CONFIRMED`.
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
            # SDK internal: what Batch.finish() returned, kept by the SDK; ``with batch``
            # calls finish() itself and drops its value. Checked against google-cloud-storage
            # 3.17.1 (and 2.14.0); tests/test_sdk_internals.py.
            return list(batch._responses)  # one requests.Response per call

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
