"""``delete_objects`` on GCS (the rules every backend shares are in :mod:`pail.drivers.delete`).

The JSON API has no multi-delete; deletes go in batch requests
(``POST /batch/storage/v1``, at most 100 calls per batch: Cloud Storage docs, "Sending
batch requests"), each sub-response with its own status. A 404 sub-response (the object
is already gone) counts as deleted, as S3 does for a missing key. A batch reply whose
sub-responses do not match the calls one for one confirms nothing: every key of that
batch is :data:`~pail.drivers.delete.NOT_CONFIRMED`.

Servers without the batch endpoint (fake-gcs-server answers ``POST /batch/storage/v1`` with
a body that is not ``multipart/mixed``; others answer 404, 405 or 501) get one
``storage.objects.delete`` per object instead, :data:`OBJECT_WORKERS` at a time, each
counted as deleted only on its own 2xx (or 404) answer; the result has the same shape.
:func:`gcs_delete` reports the refusal (``on_batch_refused``) so the driver sends later
deletes straight to the per-object path.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pail.drivers.base import DeletedKey, DeleteFailure, DeleteResult
from pail.drivers.delete import not_confirmed
from pail.drivers.errors import NotFound, StorageError

__all__ = ["GCS_BATCH", "OBJECT_WORKERS", "gcs_delete"]

#: Calls per GCS batch request (the JSON API's limit is 100).
GCS_BATCH = 100
#: Concurrent ``storage.objects.delete`` requests when the server refuses batches.
OBJECT_WORKERS = 8
#: HTTP statuses of a batch request that mean "no batch endpoint here" (not found, method
#: not allowed, not implemented); a 403 or 5xx is the store's answer and is raised.
_NO_BATCH_STATUSES = frozenset({404, 405, 501})


class _BatchRefused(StorageError):
    """The server has no batch endpoint (see module doc). A StorageError so the driver's
    translation passes it through unchanged and, not being transient, never retries it."""


def gcs_delete(
    client: Any,
    bucket: str,
    pairs: list[tuple[str, str | None]],
    timeout: Any,
    call: Callable[[Callable[[], Any]], Any],
    *,
    batch: bool = True,
    on_batch_refused: Callable[[], None] | None = None,
) -> DeleteResult:
    """Batched ``storage.objects.delete`` calls, :data:`GCS_BATCH` per batch request, or
    one request per object when ``batch`` is False or the server refuses batches
    (``on_batch_refused()`` is then called once). ``call(fn)`` runs ``fn`` with errors
    translated and transient ones retried (a failed batch request raises).

    Each call's sub-response (or its own response) decides its key: 2xx or 404 deleted,
    any other status a failure with the JSON error's reason. A batch reply with fewer or
    more sub-responses than calls cannot be matched to the keys, so every key of that
    batch request is :data:`~pail.drivers.delete.NOT_CONFIRMED`.

    Raises:
        StorageError: a batch request failed (not a refusal of batches).
    """
    if not batch:
        return _one_by_one(client, bucket, pairs, timeout, call)
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
                # ... and "Bad response:  not multi-part" for a reply that is no batch reply
                # at all (google/cloud/storage/batch.py, _unpack_batch_response).
                if "not multi-part" in str(exc):
                    raise _BatchRefused("no batch endpoint") from exc
                raise
            except Exception as exc:
                if getattr(exc, "code", None) in _NO_BATCH_STATUSES:  # api_core's HTTP error
                    raise _BatchRefused("no batch endpoint") from exc
                raise
            # SDK internal: what Batch.finish() returned, kept by the SDK; ``with batch``
            # calls finish() itself and drops its value. Checked against google-cloud-storage
            # 3.17.1 (and 2.14.0); tests/test_sdk_internals.py.
            return list(batch._responses)  # one requests.Response per call

        try:
            responses = call(send)
        except _BatchRefused:
            if on_batch_refused is not None:
                on_batch_refused()
            rest = _one_by_one(client, bucket, pairs[start:], timeout, call)
            result.deleted.extend(rest.deleted)
            result.errors.extend(rest.errors)
            return result
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


def _one_by_one(
    client: Any,
    bucket: str,
    pairs: list[tuple[str, str | None]],
    timeout: Any,
    call: Callable[[Callable[[], Any]], Any],
) -> DeleteResult:
    """One ``storage.objects.delete`` per key, :data:`OBJECT_WORKERS` at a time; the
    result lists keys in the order given. A key is deleted when its request answered 2xx
    (or 404: already gone); any other answer is its failure (code and message of the
    translated error)."""
    handle = client.bucket(bucket)

    def one(pair: tuple[str, str | None]) -> DeletedKey | DeleteFailure:
        key, version = pair
        generation = int(version) if version else None
        blob = handle.blob(key, generation=generation)
        try:
            call(lambda: blob.delete(timeout=timeout, retry=None))
        except NotFound:
            return DeletedKey(key, version)
        except StorageError as exc:
            return DeleteFailure(key, version, exc.code or str(exc.status or "error"), exc.message)
        return DeletedKey(key, version)

    result = DeleteResult()
    if not pairs:
        return result
    with ThreadPoolExecutor(max_workers=min(OBJECT_WORKERS, len(pairs))) as pool:
        for outcome in pool.map(one, pairs):
            if isinstance(outcome, DeletedKey):
                result.deleted.append(outcome)
            else:
                result.errors.append(outcome)
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
