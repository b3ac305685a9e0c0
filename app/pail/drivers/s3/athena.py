"""Running one SQL statement on Amazon Athena and reading its rows back.

The calls (Athena API reference): ``StartQueryExecution`` starts the statement and returns
its ``QueryExecutionId``; ``GetQueryExecution`` is polled until ``Status.State`` is
``SUCCEEDED``, ``FAILED`` or ``CANCELLED`` (``QUEUED`` and ``RUNNING`` are on the way);
``StopQueryExecution`` stops one; ``GetQueryResults`` pages through the result set (at
most 1,000 rows a page, ``NextToken`` between pages). For a ``SELECT`` (statement type
``DML``) the first row of the first page holds the column labels ("Working with query
results", Athena User Guide), so it is dropped; a ``DDL`` statement's rows are all data.

The client is a boto3 ``athena`` client, from
:meth:`pail.drivers.s3.S3Driver.service_client` (the connection's credentials and
region). Failures become :mod:`pail.drivers.errors` classes: an API error through the S3
translation (:func:`pail.drivers.s3.errors.translate`) with Athena's own codes mapped
first (``AccessDeniedException`` is :class:`AthenaAccessDenied`, a
:class:`~pail.drivers.errors.AccessDenied`; ``TooManyRequestsException`` is
:class:`~pail.drivers.errors.Throttled`...), a statement that ends ``FAILED`` is
:class:`AthenaQueryFailed` (:class:`AthenaAccessDenied` when Athena says access was
denied), one stopped or cancelled is :class:`AthenaQueryCancelled`.

Nothing here decides whether to run a statement: the front-ends ask the user first
(a query on Athena is billed by the data it scans).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pail.core.text import clip
from pail.drivers.errors import (
    AccessDenied,
    BadResponse,
    ExpiredCredentials,
    InvalidCredentials,
    InvalidRequest,
    NotFound,
    StorageError,
    Throttled,
    Transient,
)
from pail.drivers.s3.errors import translate

__all__ = [
    "DEFAULT_TIMEOUT",
    "AthenaAccessDenied",
    "AthenaQueryCancelled",
    "AthenaQueryFailed",
    "Row",
    "run_query",
]

#: How long :func:`run_query` waits for a statement by default (seconds): Athena's own
#: default DML timeout ("Service Quotas", Athena User Guide: 30 minutes).
DEFAULT_TIMEOUT = 30 * 60.0

#: One result row: column label -> value as Athena gives it (``VarCharValue``), ``None``
#: for SQL NULL.
Row = dict[str, str | None]

# Athena's error codes (Athena API reference, "Common Errors" and each action's errors)
# -> class; anything else goes through the S3 table (by code, then by HTTP status).
_ATHENA_CODES: dict[str, type[StorageError]] = {
    "AccessDeniedException": AccessDenied,
    "UnrecognizedClientException": InvalidCredentials,
    "InvalidSignatureException": InvalidCredentials,
    "IncompleteSignature": InvalidCredentials,
    "MissingAuthenticationToken": InvalidCredentials,
    "ExpiredTokenException": ExpiredCredentials,
    "InvalidRequestException": InvalidRequest,
    "InvalidParameterValue": InvalidRequest,
    "ValidationException": InvalidRequest,
    "MetadataException": InvalidRequest,
    "ResourceNotFoundException": NotFound,
    "TooManyRequestsException": Throttled,
    "ThrottlingException": Throttled,
    "InternalServerException": Transient,
    "ServiceUnavailable": Transient,
}

# A FAILED statement's reason that means the identity may not read or write something
# (Athena's "Access denied when writing to location", S3's "Access Denied", Glue's
# "not authorized to perform").
_DENIED = re.compile(
    r"access ?denied|permission denied|not authorized|insufficient (lake formation )?permission",
    re.IGNORECASE,
)

_PERMISSIONS = (
    "athena:StartQueryExecution, athena:GetQueryExecution, athena:GetQueryResults and "
    "athena:StopQueryExecution on the workgroup; glue:GetDatabase, glue:GetTable, "
    "glue:CreateTable, glue:BatchCreatePartition (MSCK REPAIR TABLE) on the database; "
    "s3:GetObject and s3:ListBucket on the inventory's destination; s3:PutObject and "
    "s3:GetObject on the query result location"
)


class AthenaQueryFailed(StorageError):
    """An Athena statement ended ``FAILED`` (or did not end within the timeout: code
    ``Timeout``, the statement was then stopped).

    Attributes: ``query_execution_id``; ``state`` (the last ``Status.State``);
    ``error_category`` / ``error_type`` (``Status.AthenaError``: category 1 system, 2 user,
    3 other; the type number is Athena's error catalog's), ``None`` when not given. The
    message holds ``Status.StateChangeReason`` on one line.
    """

    kind = "query failed"
    query_execution_id: str | None = None
    state: str | None = None
    error_category: int | None = None
    error_type: int | None = None

    @property
    def hint(self) -> str:
        if self.code == "Timeout":
            return (
                "The statement ran longer than pail waits and was stopped. Athena queries of "
                "a large inventory can take minutes: run it again with a longer timeout, or "
                "narrow it to a prefix."
            )
        return (
            "Athena ran the statement and it failed: the reason above is Athena's. A table "
            "that does not match the report's files (format, fields), a missing partition "
            "(run MSCK REPAIR TABLE) or a result location in another region are the usual "
            "causes."
        )


class AthenaAccessDenied(AthenaQueryFailed, AccessDenied):
    """Athena refused a call (``AccessDeniedException``), or a statement failed because
    the identity may not read the inventory, write the results or use the catalog."""

    kind = "denied"

    @property
    def hint(self) -> str:
        return f"Running inventory queries on Athena needs {_PERMISSIONS}."


class AthenaQueryCancelled(StorageError):
    """A statement was stopped: by pail at the caller's request (``requested`` True: the
    cancel event was set and ``StopQueryExecution`` sent), or cancelled outside pail
    (state ``CANCELLED`` without a request: the console, another client)."""

    kind = "cancelled"
    query_execution_id: str | None = None
    requested: bool = False

    @property
    def hint(self) -> str:
        if self.requested:
            return "The query was stopped as asked; Athena bills the data it had scanned."
        return "Someone stopped the query outside pail (the Athena console or another client)."


def run_query(
    client: Any,
    sql: str,
    *,
    database: str,
    output_location: str,
    workgroup: str | None = None,
    catalog: str | None = None,
    cancel: threading.Event | None = None,
    on_start: Callable[[str], None] | None = None,
    poll_interval: float = 0.5,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Row]:
    """Run ``sql`` on Athena and return its rows.

    Args:
        client: a boto3 ``athena`` client.
        sql: one statement (Athena runs one per call).
        database: the ``QueryExecutionContext`` database (names in ``sql`` that are not
            qualified resolve there).
        output_location: ``s3://bucket/prefix/`` where Athena writes the results
            (``ResultConfiguration.OutputLocation``); required unless the workgroup sets one,
            so always sent.
        workgroup: the Athena workgroup (``None``: the account's ``primary``).
        catalog: the data catalog (``None``: ``AwsDataCatalog``).
        cancel: when set (from another thread), the statement is stopped
            (``StopQueryExecution``) at the next poll and :class:`AthenaQueryCancelled`
            raised; checked between result pages too.
        on_start: called with the ``QueryExecutionId`` once Athena accepted the statement
            (a front-end can show it; the Athena console finds the query by it).
        poll_interval: seconds between ``GetQueryExecution`` calls.
        timeout: seconds to wait for the statement to end; after that it is stopped and
            :class:`AthenaQueryFailed` (code ``Timeout``) raised.

    Returns:
        One dict per row, column label -> value (``None`` for NULL), in Athena's order.
        A ``SELECT``'s header row is not among them.

    Raises:
        AthenaQueryFailed: the statement ended ``FAILED`` (the reason in the message), or
            ran past ``timeout``.
        AthenaAccessDenied: Athena refused a call, or the statement failed on a permission.
        AthenaQueryCancelled: stopped at the caller's request, or cancelled elsewhere.
        pail.drivers.errors.StorageError: the calls failed otherwise (unreachable endpoint,
            bad credentials, throttled, a malformed answer...).
    """
    endpoint = _endpoint(client)
    request: dict[str, Any] = {
        "QueryString": sql,
        "QueryExecutionContext": {"Database": database},
        "ResultConfiguration": {"OutputLocation": output_location},
    }
    if catalog:
        request["QueryExecutionContext"]["Catalog"] = catalog
    if workgroup:
        request["WorkGroup"] = workgroup
    with _call("StartQueryExecution", endpoint):
        query_id = str(client.start_query_execution(**request)["QueryExecutionId"])
    if on_start is not None:
        on_start(query_id)
    execution = _wait(client, query_id, endpoint, cancel, poll_interval, timeout)
    return list(_rows(client, query_id, endpoint, execution, cancel))


def _endpoint(client: Any) -> str | None:
    url = getattr(getattr(client, "meta", None), "endpoint_url", None)
    return str(url) if url else None


@contextmanager
def _call(operation: str, endpoint: str | None) -> Iterator[None]:
    """Translate botocore exceptions raised inside the block (``raise X from exc``)."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        error = _translate(exc, operation, endpoint)
        if error is None:
            raise
        raise error from exc


def _translate(exc: BaseException, operation: str, endpoint: str | None) -> StorageError | None:
    _read_xml_error(exc)
    error = translate(exc, operation=operation, bucket=None, key=None, endpoint=endpoint)
    if error is None:
        return None
    cls = _ATHENA_CODES.get(error.code or "")
    if cls is None and isinstance(error, AccessDenied):
        cls = AccessDenied
    if cls is AccessDenied:
        cls = AthenaAccessDenied
    if cls is None or type(error) is cls:
        return error
    better = cls(
        error.message,
        operation=error.operation,
        provider=error.provider,
        status=error.status,
        code=error.code,
        request_id=error.request_id,
        endpoint=error.endpoint,
        region=error.region,
    )
    better.attempts = error.attempts
    better.server_time = error.server_time
    better.received_at = error.received_at
    return better


def _read_xml_error(exc: BaseException) -> None:
    """An error answered as an AWS query-protocol XML document (``<ErrorResponse>``: IAM
    enforcement in front of the service, moto's among them) where the JSON protocol was
    expected: botocore then keeps the bare status as the code and the whole body as the
    message. Put the document's ``Code`` and ``Message`` in their place."""
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    if not isinstance(error, dict) or not str(error.get("Code") or "").isdigit():
        return
    body = str(error.get("Message") or "").strip()
    if not body.startswith("<"):
        return
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return
    code = root.findtext(".//Error/Code")
    if code:
        error["Code"] = code.strip()
        error["Message"] = (root.findtext(".//Error/Message") or "").strip()


def _wait(
    client: Any,
    query_id: str,
    endpoint: str | None,
    cancel: threading.Event | None,
    poll_interval: float,
    timeout: float,
) -> dict[str, Any]:
    """Poll until the statement ends; its ``QueryExecution`` once ``SUCCEEDED``."""
    deadline = time.monotonic() + timeout
    while True:
        if cancel is not None and cancel.is_set():
            _stop(client, query_id, endpoint)
            raise _cancelled(query_id, endpoint, requested=True)
        with _call("GetQueryExecution", endpoint):
            execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        status = execution.get("Status") or {}
        state = str(status.get("State") or "")
        if state == "SUCCEEDED":
            return dict(execution)
        if state == "FAILED":
            raise _failed(query_id, endpoint, status)
        if state == "CANCELLED":
            raise _cancelled(query_id, endpoint, requested=False)
        if state not in ("QUEUED", "RUNNING"):
            raise BadResponse(
                f"Athena answered the state {clip(state, 40)!r} for query {query_id}, "
                "not one of QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED",
                operation="GetQueryExecution",
                provider="s3",
                code="BadResponse",
                endpoint=endpoint,
            )
        left = deadline - time.monotonic()
        if left <= 0:
            _stop(client, query_id, endpoint)
            error = AthenaQueryFailed(
                f"query {query_id} was still {state} after {timeout:g} s; pail stopped it",
                operation="GetQueryExecution",
                provider="s3",
                code="Timeout",
                endpoint=endpoint,
            )
            error.query_execution_id, error.state = query_id, state
            raise error
        pause = min(poll_interval, left)
        if cancel is not None:
            cancel.wait(pause)
        else:
            time.sleep(pause)


def _stop(client: Any, query_id: str, endpoint: str | None) -> None:
    with _call("StopQueryExecution", endpoint):
        client.stop_query_execution(QueryExecutionId=query_id)


def _failed(query_id: str, endpoint: str | None, status: dict[str, Any]) -> AthenaQueryFailed:
    reason = str(status.get("StateChangeReason") or "")
    athena_error = status.get("AthenaError") or {}
    detail = reason or str(athena_error.get("ErrorMessage") or "")
    message = f"query {query_id} failed: " + (clip(detail, 500) if detail else "no reason given")
    cls = AthenaAccessDenied if _DENIED.search(detail) else AthenaQueryFailed
    error = cls(message, operation="GetQueryExecution", provider="s3", code="FAILED")
    error.endpoint = endpoint
    error.query_execution_id, error.state = query_id, "FAILED"
    category, kind = athena_error.get("ErrorCategory"), athena_error.get("ErrorType")
    error.error_category = int(category) if isinstance(category, int) else None
    error.error_type = int(kind) if isinstance(kind, int) else None
    return error


def _cancelled(query_id: str, endpoint: str | None, *, requested: bool) -> AthenaQueryCancelled:
    why = "stopped at the caller's request" if requested else "was cancelled outside pail"
    error = AthenaQueryCancelled(
        f"query {query_id} {why}",
        operation="StopQueryExecution" if requested else "GetQueryExecution",
        provider="s3",
        code="CANCELLED",
        endpoint=endpoint,
    )
    error.query_execution_id, error.requested = query_id, requested
    return error


def _rows(
    client: Any,
    query_id: str,
    endpoint: str | None,
    execution: dict[str, Any],
    cancel: threading.Event | None,
) -> Iterator[Row]:
    """The result rows, all pages (botocore's ``get_query_results`` paginator)."""
    header_due = execution.get("StatementType") == "DML"
    labels: list[str] | None = None
    paginator = client.get_paginator("get_query_results")
    pages = paginator.paginate(QueryExecutionId=query_id, PaginationConfig={"PageSize": 1000})
    iterator = iter(pages)
    while True:
        if cancel is not None and cancel.is_set():
            raise _cancelled(query_id, endpoint, requested=True)
        with _call("GetQueryResults", endpoint):
            try:
                page = next(iterator)
            except StopIteration:
                return
        result = page.get("ResultSet") or {}
        if labels is None:
            info = (result.get("ResultSetMetadata") or {}).get("ColumnInfo") or []
            labels = [
                str(c.get("Label") or c.get("Name") or f"_col{i}") for i, c in enumerate(info)
            ]
        for row in result.get("Rows") or []:
            values = [cell.get("VarCharValue") for cell in row.get("Data") or []]
            if header_due:
                header_due = False
                labels = _header(values, labels, query_id, endpoint)
                continue
            if len(values) != len(labels):
                raise _bad_rows(
                    query_id,
                    endpoint,
                    f"a row has {len(values)} values for {len(labels)} columns",
                )
            yield dict(zip(labels, values, strict=True))


def _header(
    values: list[str | None], labels: list[str], query_id: str, endpoint: str | None
) -> list[str]:
    """A SELECT's first row: the column labels. When ``ColumnInfo`` names the columns too,
    both must agree (else the first row may be data, and dropping it would lose a row)."""
    names = [v or "" for v in values]
    if labels and names != labels:
        raise _bad_rows(query_id, endpoint, "the first row of a SELECT is not its column labels")
    return names


def _bad_rows(query_id: str, endpoint: str | None, why: str) -> BadResponse:
    return BadResponse(
        f"the results of query {query_id} could not be read: {why}",
        operation="GetQueryResults",
        provider="s3",
        code="BadResponse",
        endpoint=endpoint,
    )
