"""Access check: which actions this identity may take on a bucket/prefix, probed live.

One :class:`ProbeRow` per capability, each ``allowed`` (✔), ``denied`` (✘), ``not checked``
(?) or ``error`` (!), gathered in an :class:`AccessReport` with the caller's identity.

* S3 (:func:`run_s3_probes`): one real request per capability, the smallest that exercises
  the IAM action (table in :mod:`pail.drivers.s3.probes`). PutObject and DeleteObject run
  only with ``write_probes=True``, on a probe key under the prefix
  (``PREFIX.pail-probe-<hex>``) that is removed in a ``finally`` - versions and delete
  markers too in a versioned bucket. When DeleteObject is denied nothing else destructive
  is tried and the key left behind is reported (:attr:`AccessReport.leftover`).
* GCS (:mod:`pail.services.access.gcs`): ``buckets.testIamPermissions``, no side effects.

Needed capabilities (:attr:`Capability.needed`) are listing and reading (s3:ListBucket and
s3:GetObject; storage.objects.list and storage.objects.get): a denied needed row makes
``pail doctor`` exit non-zero. Explanations: :mod:`pail.services.explain`; the policy
snippet: :mod:`pail.services.access.policy`; the text/JSON report:
:mod:`pail.services.access.report`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal

from pail.core.units import plural
from pail.drivers.base import HasIdentity, PermissionChecks, Probes
from pail.drivers.errors import AccessDenied, NotFound, StorageError, WrongRegion
from pail.drivers.identity import Identity

if TYPE_CHECKING:
    from pail.credentials import Resolved
    from pail.drivers.base import StorageDriver

State = Literal["allowed", "denied", "not checked", "error"]

#: The mark shown for each state.
SYMBOLS: dict[str, str] = {"allowed": "✔", "denied": "✘", "not checked": "?", "error": "!"}


@dataclass(frozen=True)
class Capability:
    """One thing an identity may be allowed to do, and what a policy must grant for it.

    Attributes:
        name: the label shown (``"ListBucket"``, ``"storage.objects.get"``).
        operation: the API call probed (``"ListObjectsV2"``,
            ``"storage.buckets.testIamPermissions"``).
        action: the IAM action or permission (``"s3:ListBucket"``, ``"storage.objects.list"``).
        resource: what a policy must name: ``arn:aws:s3:::BUCKET`` (bucket-level),
            ``arn:aws:s3:::BUCKET/PREFIX*`` (object-level), ``*`` (ListAllMyBuckets), or
            ``projects/_/buckets/BUCKET[/objects/PREFIX*]`` for GCS.
        condition: IAM condition block, e.g. ``{"StringLike": {"s3:prefix": ["data/*"]}}``
            for ListBucket at a prefix; ``None`` when unconditional.
        needed: listing/reading: a denial makes the check fail.
        write: a write probe (runs only when allowed to).
    """

    name: str
    operation: str
    action: str
    resource: str
    condition: dict[str, Any] | None = None
    needed: bool = False
    write: bool = False


@dataclass(frozen=True)
class ProbeRow:
    """The outcome of probing one :class:`Capability`.

    Attributes:
        capability: what was probed.
        state: ``"allowed"``, ``"denied"``, ``"not checked"`` or ``"error"``.
        detail: one plain-text line: what was learnt, or why it was not checked.
        error: the translated failure for ``denied``/``error`` rows (code, HTTP status,
            request id, message), when a request failed.
    """

    capability: Capability
    state: State
    detail: str = ""
    error: StorageError | None = None

    @property
    def name(self) -> str:
        """The capability's label."""
        return self.capability.name

    @property
    def symbol(self) -> str:
        """✔ ✘ ? or !."""
        return SYMBOLS[self.state]

    @property
    def failed(self) -> bool:
        """True when the row is denied or errored."""
        return self.state in ("denied", "error")


@dataclass
class AccessReport:
    """Everything an access check found; safe to print (no secret is ever stored here).

    Attributes:
        provider, bucket, prefix, endpoint: where the check ran.
        rows: one :class:`ProbeRow` per capability, in display order.
        identity: who the requests are signed as, when the identity call worked.
        identity_error: why it did not (identity call unavailable, rejected keys).
        credential_source: ``"keyring"``, ``"environment"``, ``"profile NAME"``...
        credential_id: the masked access key id or service-account email.
        region: the region the connection signs for (S3), when known.
        bucket_region: the bucket's region (GetBucketLocation / a wrong-region error).
        region_error: set when the bucket lives in another region than ``region``.
        write_probes: whether PutObject/DeleteObject were allowed to run.
        probe_key: the write probe's key, when one was used.
        leftover: probe objects (and versions) that could not be removed.
        notes: other plain-text remarks (emulator caveats, ...).
        checked_at: UTC time the check started.
    """

    provider: str
    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    rows: list[ProbeRow] = field(default_factory=list)
    identity: Identity | None = None
    identity_error: StorageError | None = None
    credential_source: str | None = None
    credential_id: str | None = None
    region: str | None = None
    bucket_region: str | None = None
    region_error: WrongRegion | None = None
    write_probes: bool = False
    probe_key: str | None = None
    leftover: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def row(self, name: str) -> ProbeRow:
        """The row of capability ``name``. Raises KeyError."""
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(name)

    @property
    def states(self) -> dict[str, str]:
        """``{capability name: state}``, in display order."""
        return {row.name: row.state for row in self.rows}

    @property
    def denied(self) -> list[ProbeRow]:
        """Rows whose action the identity lacks."""
        return [r for r in self.rows if r.state == "denied"]

    @property
    def needed_failures(self) -> list[ProbeRow]:
        """Needed capabilities (list, read) that were denied or failed."""
        return [r for r in self.rows if r.capability.needed and r.failed]

    @property
    def ok(self) -> bool:
        """True when every needed capability that was checked is allowed."""
        return not self.needed_failures


def s3_arn(bucket: str, prefix: str | None = None) -> str:
    """``arn:aws:s3:::BUCKET`` or, with ``prefix`` (may be ``""``), the object-level
    ``arn:aws:s3:::BUCKET/PREFIX*`` (IAM User Guide, "Amazon S3 resource ARNs")."""
    return f"arn:aws:s3:::{bucket}" if prefix is None else f"arn:aws:s3:::{bucket}/{prefix}*"


def prefix_condition(prefix: str) -> dict[str, Any] | None:
    """The ``s3:prefix`` condition limiting ListBucket to ``prefix`` (``None`` at the root)."""
    return {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None


def s3_capabilities(bucket: str, prefix: str = "") -> list[Capability]:
    """The S3 capabilities an access check probes, in display order."""
    bucket_arn, objects = s3_arn(bucket), s3_arn(bucket, prefix)
    cond = prefix_condition(prefix)
    C = Capability
    return [
        C("ListAllMyBuckets", "ListBuckets", "s3:ListAllMyBuckets", "*"),
        C("GetBucketLocation", "GetBucketLocation", "s3:GetBucketLocation", bucket_arn),
        C("ListBucket", "ListObjectsV2", "s3:ListBucket", bucket_arn, cond, needed=True),
        C("GetObject", "GetObject", "s3:GetObject", objects, needed=True),
        C("HeadObject", "HeadObject", "s3:GetObject", objects, needed=True),
        C("PutObject", "PutObject", "s3:PutObject", objects, write=True),
        C("DeleteObject", "DeleteObject", "s3:DeleteObject", objects, write=True),
        C("GetBucketVersioning", "GetBucketVersioning", "s3:GetBucketVersioning", bucket_arn),
        C("ListBucketVersions", "ListObjectVersions", "s3:ListBucketVersions", bucket_arn, cond),
        C(
            "GetLifecycleConfiguration",
            "GetBucketLifecycleConfiguration",
            "s3:GetLifecycleConfiguration",
            bucket_arn,
        ),
    ]


def unexpected_error(exc: BaseException, operation: str, provider: str) -> StorageError:
    """A :class:`StorageError` standing in for an exception a driver did not translate (a
    bug in pail): code and message name its type only, since its text may hold a server's
    answer verbatim. The access check shows it as an error row instead of a traceback."""
    name = type(exc).__name__
    return StorageError(
        f"unexpected {name}: pail could not read this answer (please report it)",
        operation=operation,
        provider=provider,
        code=name,
    )


def check_identity(driver: StorageDriver) -> tuple[Identity | None, StorageError | None]:
    """``(identity, None)`` or ``(None, error)``: never raises (but KeyboardInterrupt and
    the like), so a caller can say "identity call unavailable" and carry on (many
    S3-compatible stores have no STS). Drivers without
    :class:`~pail.drivers.base.HasIdentity` (local folders) give ``(None, None)``.
    """
    if not isinstance(driver, HasIdentity):
        return None, None
    try:
        return driver.caller_identity(), None
    except StorageError as exc:
        return None, exc
    except Exception as exc:  # untranslated: a row of its own, never a traceback
        return None, unexpected_error(exc, "GetCallerIdentity", driver.provider)


def check_access(
    driver: StorageDriver,
    bucket: str,
    prefix: str = "",
    *,
    write_probes: bool = False,
    resolved: Resolved | None = None,
    on_row: Callable[[ProbeRow], None] | None = None,
) -> AccessReport:
    """Run the whole access check on ``bucket``/``prefix``: identity, then every probe.

    Args:
        driver: any driver: one with :class:`~pail.drivers.base.Probes` (S3) is probed
            call by call, one with :class:`~pail.drivers.base.PermissionChecks` (GCS) asked
            testIamPermissions; others (local folders) get identity only and no rows.
        bucket, prefix: where to probe (``prefix`` may be ``""`` or an object key).
        write_probes: allow the S3 PutObject/DeleteObject probes (a probe object is
            written and removed).
        resolved: the connection's :class:`pail.credentials.Resolved`, for the credential
            source and masked key id shown in the report.
        on_row: called with each row as soon as it is known (from the calling thread).

    Blocking (network); run it in a worker thread. Never raises for a failed call, even
    one a driver failed to translate (:func:`unexpected_error`): failures become rows,
    ``identity_error`` or ``region_error``.
    """
    report = AccessReport(
        provider=driver.provider, bucket=bucket, prefix=prefix, endpoint=driver.endpoint
    )
    report.write_probes = write_probes and driver.provider == "s3"
    if resolved is not None:
        report.credential_source = resolved.source
        report.credential_id = resolved.identity
    report.identity, report.identity_error = check_identity(driver)
    if isinstance(driver, Probes):
        run_s3_probes(driver, report, on_row=on_row)
    elif isinstance(driver, PermissionChecks):
        from pail.services.access.gcs import run_gcs_checks

        run_gcs_checks(driver, report, on_row=on_row)
    else:
        report.notes.append("local folders use file permissions; no IAM actions to probe")
    return report


def run_s3_probes(
    driver: Probes, report: AccessReport, *, on_row: Callable[[ProbeRow], None] | None = None
) -> None:
    """Probe every S3 capability into ``report.rows`` (display order; see module doc)."""
    bucket, prefix = report.bucket, report.prefix
    caps = {c.name: c for c in s3_capabilities(bucket, prefix)}
    rows: dict[str, ProbeRow] = {}

    def put(row: ProbeRow) -> ProbeRow:
        rows[row.name] = row
        if isinstance(row.error, WrongRegion) and report.region_error is None:
            report.region_error = row.error
            report.bucket_region = report.bucket_region or row.error.region
        if on_row is not None:
            on_row(row)
        return row

    def run(name: str, key: str = "", **kw: Any) -> dict[str, Any] | None:
        cap = caps[name]
        try:
            info = driver.probe(cap.operation, bucket, key, **kw)
        except AccessDenied as exc:
            put(ProbeRow(cap, "denied", str(exc.message), exc))
            return None
        except StorageError as exc:
            put(ProbeRow(cap, "error", str(exc.message), exc))
            return None
        except Exception as exc:  # untranslated (a pail bug): an error row, not a traceback
            error = unexpected_error(exc, cap.operation, "s3")
            put(ProbeRow(cap, "error", error.message, error))
            return None
        put(ProbeRow(cap, "allowed", _describe(name, key, info)))
        return info

    def skip(name: str, why: str) -> None:
        put(ProbeRow(caps[name], "not checked", why))

    run("ListAllMyBuckets")
    located = run("GetBucketLocation")
    if located:
        _check_region(report, located)
    listed = run("ListBucket", prefix)
    sample = (listed or {}).get("key")
    if sample is None and prefix and not prefix.endswith("/"):
        sample = prefix  # the URI names an object: probe it even when listing is denied
    for name in ("GetObject", "HeadObject"):
        if sample is not None:
            info = run(name, sample)
            row = rows[name]
            if info is None and isinstance(row.error, NotFound):
                put(replace(row, state="not checked", detail=f"no such key: {sample}"))
        elif listed is None:
            why = "is denied" if rows["ListBucket"].state == "denied" else "failed"
            skip(name, f"not checked: no sample key (listing {why})")
        else:
            skip(name, "not checked: no object under the prefix to read")
    versioning = run("GetBucketVersioning")
    run("ListBucketVersions", prefix)
    run("GetLifecycleConfiguration")
    if report.write_probes:
        _write_probes(driver, report, run, skip, rows, versioning)
    else:
        skip("PutObject", "not checked: write probes are off (--write-probes)")
        skip("DeleteObject", "not checked: write probes are off (--write-probes)")
    report.rows = [rows[name] for name in caps if name in rows]


def _write_probes(
    driver: Probes,
    report: AccessReport,
    run: Callable[..., dict[str, Any] | None],
    skip: Callable[[str, str], None],
    rows: dict[str, ProbeRow],
    versioning: dict[str, Any] | None,
) -> None:
    """PutObject then DeleteObject on a fresh probe key; the key (and, in a versioned
    bucket, its versions and delete marker) is removed in a ``finally``. When DeleteObject
    is denied nothing more is tried: the key stays and is reported."""
    key = f"{report.prefix}.pail-probe-{uuid.uuid4().hex[:12]}"
    report.probe_key = key
    put = run("PutObject", key)
    if put is None:
        if versioning is not None and not versioning.get("status"):
            run("DeleteObject", key)  # nothing there: on an unversioned bucket a no-op
        else:
            skip(
                "DeleteObject",
                "not checked: PutObject was denied and the bucket may be versioned "
                "(a delete would leave a delete marker)",
            )
        return
    versions = [put["version_id"]] if put.get("version_id") else []
    deleted: dict[str, Any] | None = None
    try:
        deleted = run("DeleteObject", key)
    finally:
        row = rows.get("DeleteObject")
        if deleted is not None:
            if deleted.get("version_id"):
                versions.append(deleted["version_id"])  # the delete marker
            left = [v for v in versions if not _remove(driver, report.bucket, key, v)]
            report.leftover.extend(f"{key} (version {v})" for v in left)
        elif row is not None and row.state == "denied":
            report.leftover.append(key)
            report.leftover.extend(f"{key} (version {v})" for v in versions)
            rows["DeleteObject"] = replace(
                row, detail=f"{row.detail}; probe object left behind: {key}"
            )
        elif not _remove(driver, report.bucket, key, None):  # failed or interrupted
            report.leftover.append(key)


def _remove(driver: Probes, bucket: str, key: str, version_id: str | None) -> bool:
    """Delete the probe key (or one version of it) without recording a row."""
    try:
        driver.probe("DeleteObject", bucket, key, version_id=version_id)
    except Exception:  # translated or not: the key is reported as left behind
        return False
    return True


def _check_region(report: AccessReport, located: dict[str, Any]) -> None:
    """Record the bucket's region and flag a mismatch with the connection's region."""
    bucket_region = located.get("region")
    client_region = located.get("client_region")
    if client_region in (None, "aws-global"):
        client_region = "us-east-1"
    report.bucket_region = bucket_region
    report.region = client_region
    if bucket_region and bucket_region != client_region and report.region_error is None:
        report.region_error = WrongRegion(
            f"the bucket is in {bucket_region} but this connection signs for {client_region}",
            operation="GetBucketLocation",
            provider="s3",
            bucket=report.bucket,
            code="BucketRegionMismatch",
            endpoint=report.endpoint,
            region=bucket_region,
        )


def _describe(name: str, key: str, info: dict[str, Any]) -> str:
    """The detail line of an allowed row."""
    if name == "GetBucketLocation":
        return f"bucket region {info.get('region')}"
    if name == "ListBucket":
        return f"sample key {info['key']}" if info.get("key") else "no keys under the prefix"
    if name in ("GetObject", "HeadObject", "DeleteObject", "PutObject"):
        return f"key {key}"
    if name == "GetBucketVersioning":
        return f"versioning {info.get('status') or 'never enabled'}"
    if name == "GetLifecycleConfiguration":
        rules = info.get("rules", 0)
        return plural(rules, "lifecycle rule") if rules else "no lifecycle configuration"
    if name == "ListAllMyBuckets":
        return plural(info.get("count", 0), "bucket")
    return ""
