"""The GCS half of the access check: ``buckets.testIamPermissions``, no side effects.

The bucket is asked which of the capabilities' permissions the caller holds (Cloud Storage
JSON API, ``GET /b/BUCKET/iam/testPermissions``; IAM permissions for Cloud Storage). It
writes nothing, so create/delete are checked without any probe object.

When the store has no such method (an emulator or a gateway answering 400/405/501) the
rows say "not checked" with the reason, and listing and reading are probed live instead
(``storage.objects.list`` one page of one key, ``storage.objects.get`` one byte of a sample
object), which is side-effect free too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pail.drivers.base import PermissionChecks, StorageDriver
from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    InvalidCredentials,
    NotFound,
    StorageError,
)
from pail.services.access.check import (
    AccessReport,
    Capability,
    ProbeRow,
    State,
    unexpected_error,
)

T = TypeVar("T")

_OBJECTS = "storage.objects"
_BUCKETS = "storage.buckets"


def gcs_resource(bucket: str, prefix: str | None = None) -> str:
    """The IAM resource name: ``projects/_/buckets/BUCKET`` or, with ``prefix``, the
    object-level ``projects/_/buckets/BUCKET/objects/PREFIX*`` (as in IAM conditions on
    ``resource.name``)."""
    base = f"projects/_/buckets/{bucket}"
    return base if prefix is None else f"{base}/objects/{prefix}*"


def gcs_capabilities(bucket: str, prefix: str = "") -> list[Capability]:
    """The GCS permissions an access check tests, in display order."""
    bucket_res, objects = gcs_resource(bucket), gcs_resource(bucket, prefix)
    op = "storage.buckets.testIamPermissions"

    def cap(perm: str, resource: str, needed: bool = False) -> Capability:
        return Capability(perm, op, perm, resource, needed=needed)

    return [
        cap(f"{_BUCKETS}.get", bucket_res),
        cap(f"{_OBJECTS}.list", bucket_res, needed=True),
        cap(f"{_OBJECTS}.get", objects, needed=True),
        cap(f"{_OBJECTS}.create", objects),
        cap(f"{_OBJECTS}.delete", objects),
        cap(f"{_BUCKETS}.getIamPolicy", bucket_res),
        cap(f"{_BUCKETS}.update", bucket_res),
    ]


def _unsupported(exc: StorageError) -> bool:
    """True when the error says the method does not exist here, not that access failed."""
    if isinstance(exc, (AccessDenied, InvalidCredentials, EndpointUnreachable)):
        return False
    if isinstance(exc, NotFound):
        return "bucket" not in (exc.message or "").lower()
    return exc.status in (400, 404, 405, 501) or exc.status is None


def run_gcs_checks(
    driver: StorageDriver,
    report: AccessReport,
    *,
    on_row: Callable[[ProbeRow], None] | None = None,
) -> None:
    """Fill ``report.rows`` from ``testIamPermissions`` (or live read probes when the store
    lacks it, or the driver cannot ask: not :class:`~pail.drivers.base.PermissionChecks`;
    see module doc). At an endpoint that is not Google's, a note names the emulator that
    answers there (asked after the checks)."""
    _checks(driver, report, on_row)
    if report.endpoint and "googleapis.com" not in report.endpoint:
        report.notes.append(_emulator_note(driver, report.endpoint))


def _checks(
    driver: StorageDriver,
    report: AccessReport,
    on_row: Callable[[ProbeRow], None] | None,
) -> None:
    caps = gcs_capabilities(report.bucket, report.prefix)
    rows: list[ProbeRow] = []

    def put(row: ProbeRow) -> None:
        rows.append(row)
        if on_row is not None:
            on_row(row)

    def live_only(why: str) -> None:
        for cap in caps:
            if cap.action in (f"{_OBJECTS}.list", f"{_OBJECTS}.get"):
                continue
            put(ProbeRow(cap, "not checked", why))
        _live_reads(driver, report, caps, put)
        report.rows = [r for c in caps for r in rows if r.capability is c]

    if not isinstance(driver, PermissionChecks):
        live_only("not checked: this driver cannot ask testIamPermissions")
        return
    try:
        try:
            granted = set(driver.test_permissions(report.bucket, [c.action for c in caps]))
        except StorageError:
            raise
        except Exception as exc:  # untranslated (a pail bug): rows, never a traceback
            raise unexpected_error(exc, "storage.buckets.testIamPermissions", "gcs") from exc
    except StorageError as exc:
        if not _unsupported(exc):
            state: State = "denied" if isinstance(exc, AccessDenied) else "error"
            for cap in caps:
                put(ProbeRow(cap, state, str(exc.message), exc))
            report.rows = rows
            return
        live_only(f"not checked: the store does not answer testIamPermissions ({exc.badge})")
        return
    for cap in caps:
        if cap.action in granted:
            put(ProbeRow(cap, "allowed", "granted (testIamPermissions)"))
        else:
            put(ProbeRow(cap, "denied", "not granted (testIamPermissions)"))
    report.rows = rows


def _emulator_note(driver: StorageDriver, endpoint: str) -> str:
    """What stands in for IAM at a non-Google endpoint, naming the emulator the endpoint
    answers as (``GcsDriver.server_name``, from its own answers; no guess)."""
    server_name = getattr(driver, "server_name", None)
    name = server_name() if callable(server_name) else None
    if name == "gcp-storage-emulator":
        return (
            f"the endpoint {endpoint} is gcp-storage-emulator, not Google: its "
            "testIamPermissions grants every permission it is asked about"
        )
    if name == "fake-gcs-server":
        return (
            f"the endpoint {endpoint} is fake-gcs-server, not Google: it has no IAM "
            "(no testIamPermissions, every request allowed), so only reads were probed"
        )
    return (
        f"the endpoint {endpoint} is not Google's (a server pail does not recognise): its "
        "answers stand in for IAM"
    )


def _translated(call: Callable[[], T], operation: str) -> T:
    """``call()``, with an exception the driver did not translate raised as
    :func:`~pail.services.access.check.unexpected_error` (an error row, not a traceback)."""
    try:
        return call()
    except StorageError:
        raise
    except Exception as exc:
        raise unexpected_error(exc, operation, "gcs") from exc


def _live_reads(
    driver: StorageDriver,
    report: AccessReport,
    caps: list[Capability],
    put: Callable[[ProbeRow], None],
) -> None:
    """storage.objects.list (one key) and storage.objects.get (one byte of it)."""
    by_name = {c.name: c for c in caps}
    list_cap, get_cap = by_name[f"{_OBJECTS}.list"], by_name[f"{_OBJECTS}.get"]
    sample: str | None = None
    try:
        page = _translated(
            lambda: driver.list_page(report.bucket, report.prefix, delimiter="", page_size=1),
            "storage.objects.list",
        )
    except StorageError as exc:
        state: State = "denied" if isinstance(exc, AccessDenied) else "error"
        put(ProbeRow(list_cap, state, f"live probe: {exc.message}", exc))
        listed = False
    else:
        listed = True
        sample = next((e.key for e in page.entries if not e.is_prefix), None)
        put(ProbeRow(list_cap, "allowed", f"live probe: sample key {sample or '(none)'}"))
    if sample is None:
        why = "no sample key (listing is denied)" if not listed else "no object to read"
        put(ProbeRow(get_cap, "not checked", f"not checked: {why}"))
        return
    try:
        _translated(lambda: driver.read_range(report.bucket, sample, 0, 1), "storage.objects.get")
    except StorageError as exc:
        failed: State = "denied" if isinstance(exc, AccessDenied) else "error"
        put(ProbeRow(get_cap, failed, f"live probe: {exc.message}", exc))
    else:
        put(ProbeRow(get_cap, "allowed", f"live probe: key {sample}"))
