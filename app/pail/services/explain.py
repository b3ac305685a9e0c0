"""Explanations, not just codes: what a storage error usually means and what to check.

:func:`explain` turns a :class:`~pail.drivers.errors.StorageError` into an
:class:`Explanation` (title, details, actions, and the bucket's region for wrong-region
errors). It builds on the error's own ``hint`` and adds what the failure's context shows:

* 403 on GetObject/HeadObject without s3:ListBucket may be a missing key: S3 answers 403
  instead of 404 then (S3 API reference, GetObject, "Permissions").
* 301 PermanentRedirect / AuthorizationHeaderMalformed / IllegalLocationConstraintException:
  the bucket's region, from ``x-amz-bucket-region`` or the error body.
* InvalidAccessKeyId / InvalidClientTokenId, SignatureDoesNotMatch and RequestTimeTooSkewed
  with the clock skew from the response's ``Date`` header (SigV4 allows 15 minutes),
  ExpiredToken / an expired SSO session with the refresh command.
* S3-compatible endpoints: a bucket name inside the endpoint URL, path-style vs
  virtual-hosted addressing, TLS certificate errors, connection refused, DNS failures.
* AWS's own denial messages ("explicit deny in a service control policy", "no
  resource-based policy allows"), cross-account bucket policies, ACLs and Object Ownership,
  and KMS denials (kms:Decrypt) on SSE-KMS objects.

Pure functions: no network call, nothing printed; the text is plain (no markup).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    ExpiredCredentials,
    InvalidCredentials,
    NoCredentials,
    NotFound,
    NotStorageEndpoint,
    StorageError,
    WrongRegion,
)

if TYPE_CHECKING:
    from pail.core.connection import ConnectionSpec
    from pail.services.access.check import AccessReport

#: SigV4 rejects requests whose time is more than 15 minutes off the server's.
MAX_SKEW_SECONDS = 15 * 60

#: S3 API operation -> the IAM action it needs (Service Authorization Reference, S3).
S3_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "GetBucketLocation": "s3:GetBucketLocation",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteObjectVersion": "s3:DeleteObjectVersion",
    # Writes (issue 16): a multipart upload's calls and copies need s3:PutObject on the
    # destination key; listing an upload's parts and aborting it have their own actions.
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "ListParts": "s3:ListMultipartUploadParts",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
}
#: Operations that write an object: their 403 gets a policy snippet for the key's prefix.
S3_WRITES = frozenset(
    {"PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "CopyObject"}
    | {"UploadPartCopy"}
)
#: GCS JSON API method -> IAM permission (IAM permissions for Cloud Storage).
GCS_PERMISSIONS = {
    "storage.objects.insert": "storage.objects.create",
    "storage.objects.rewrite": "storage.objects.create",
    "storage.buckets.testIamPermissions": "storage.buckets.get",
}

_DENY_PHRASES = (
    ("explicit deny in a service control policy", "an organization SCP explicitly denies it"),
    ("explicit deny in a resource control policy", "an organization RCP explicitly denies it"),
    ("explicit deny in a resource-based policy", "the bucket policy explicitly denies it"),
    ("explicit deny in an identity-based policy", "an IAM policy of this identity denies it"),
    ("explicit deny in a permissions boundary", "the permissions boundary denies it"),
    ("explicit deny in a session policy", "the session policy denies it"),
    ("explicit deny in a vpc endpoint policy", "the VPC endpoint policy denies it"),
    ("no identity-based policy allows", "no IAM policy of this identity allows it"),
    ("no resource-based policy allows", "the bucket policy does not allow it (cross-account)"),
    ("no vpc endpoint policy allows", "the VPC endpoint policy does not allow it"),
    ("no permissions boundary allows", "the permissions boundary does not allow it"),
    ("no session policy allows", "the session policy does not allow it"),
)


@dataclass(frozen=True)
class Explanation:
    """What an error usually means, in plain text.

    Attributes:
        title: one line, e.g. ``"The bucket lives in another region"``.
        details: what the response shows and what it usually means, one finding per item.
        actions: what to check or do next, one per item.
        region: for wrong-region errors, the bucket's region (offer to reopen there).
        refresh_command: the command that refreshes expired credentials, when known.
        subject: what failed, e.g. ``"GetObject pail-iam/data/a.txt"``.
        policy: for a denied write, the smallest grant as text to paste (an IAM policy
            document for S3, roles and ``gcloud`` commands for GCS), as ``pail doctor``
            prints them; ``None`` otherwise.
    """

    title: str
    details: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    region: str | None = None
    refresh_command: str | None = None
    subject: str = ""
    policy: str | None = None

    def lines(self) -> list[str]:
        """The explanation as plain-text lines (title, details, ``-> `` actions, then the
        policy snippet indented under ``  Grant:``)."""
        head = f"{self.subject}: {self.title}" if self.subject else self.title
        out = [head, *(f"  {d}" for d in self.details), *(f"  -> {a}" for a in self.actions)]
        if self.policy:
            out.append("  Grant:")
            out.extend(f"    {line}" for line in self.policy.splitlines())
        return out


def required_action(error: StorageError) -> str | None:
    """The IAM action (S3) or permission (GCS) the failed operation needs, if known."""
    if error.provider == "gcs":
        op = error.operation or ""
        return GCS_PERMISSIONS.get(op) or (op if op.startswith("storage.") else None)
    return S3_ACTIONS.get(error.operation or "")


def _subject(error: StorageError) -> str:
    where = "/".join(p for p in (error.bucket, error.key) if p)
    return " ".join(p for p in (error.operation, where) if p)


def clock_skew(error: StorageError) -> float | None:
    """Seconds the server's clock (``Date`` header) is ahead of ours (negative: behind),
    when the S3 driver captured the header; ``None`` otherwise. One-second resolution."""
    server = error.server_time
    if server is None:
        return None
    local = error.received_at or datetime.now(timezone.utc)
    return (server - local).total_seconds()


def _skew_text(skew: float) -> str:
    way = "ahead of" if skew > 0 else "behind"
    return f"The server's clock (Date header) is {abs(skew):.0f} s {way} this machine's."


def endpoint_findings(error: StorageError, spec: ConnectionSpec | None = None) -> list[str]:
    """Endpoint URL problems visible without a request: a path in the URL (often the
    bucket name), a host starting with the bucket name (virtual-hosted addressing on a
    store that wants path-style)."""
    endpoint = error.endpoint or (spec.endpoint_url if spec else None)
    if not endpoint:
        return []
    found: list[str] = []
    parts = urlsplit(endpoint)
    path = parts.path.strip("/")
    if path:
        also = " (the bucket name)" if error.bucket and path.split("/")[0] == error.bucket else ""
        found.append(
            f"The endpoint URL {endpoint} has a path /{path}{also}: an S3 endpoint is "
            "scheme://host[:port] only; drop the path and name the bucket in the URI."
        )
    host = parts.hostname or ""
    if error.bucket and host.startswith(error.bucket + ".") and not (spec and spec.path_style):
        found.append(
            f"The endpoint host {host} starts with the bucket name: give the service's "
            "own host and let pail add the bucket, or use --path-style."
        )
    return found


def _source_detail(error: StorageError, spec: ConnectionSpec | None) -> list[str]:
    """``["The endpoint came from SOURCE."]`` when the error or the connection knows where
    its endpoint was set (``--endpoint-url``, ``MLFLOW_S3_ENDPOINT_URL``, a saved
    connection): checking that setting is each tool's first troubleshooting step."""
    source = error.endpoint_source or (spec.endpoint_source if spec else None)
    if not source or not (error.endpoint or (spec and spec.endpoint_url)):
        return []
    return [f"The endpoint came from {source}."]


def _cause_text(error: BaseException) -> str:
    """Every message in the exception's cause chain, lower-cased (SDK exceptions keep the
    socket/TLS error there, e.g. botocore's ``EndpointConnectionError.kwargs['error']``)."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.append(f"{type(current).__name__}: {current}")
        inner = getattr(current, "kwargs", {}).get("error") if hasattr(current, "kwargs") else None
        if isinstance(inner, BaseException):
            texts.append(f"{type(inner).__name__}: {inner}")
        current = current.__cause__ or current.__context__
    return " | ".join(texts).lower()


def _unreachable(error: EndpointUnreachable, spec: ConnectionSpec | None) -> Explanation:
    endpoint = error.endpoint or (spec.endpoint_url if spec else None) or "the AWS endpoint"
    text = _cause_text(error)
    details = [f"Endpoint: {endpoint}", *_source_detail(error, spec)]
    actions: list[str] = []
    if "certificate" in text or "certificate_verify_failed" in text:
        title = "The endpoint's TLS certificate was not accepted"
        details.append("The server's certificate is self-signed, expired or for another name.")
        actions.append("Point AWS_CA_BUNDLE (or REQUESTS_CA_BUNDLE for GCS) at the CA file.")
        actions.append("Check that the host name in the endpoint matches the certificate.")
    elif "ssl" in text or "tls" in text or "wrong_version_number" in text:
        title = "The TLS handshake with the endpoint failed"
        actions.append("Check http:// vs https:// in the endpoint URL and the port.")
    elif any(
        s in text
        for s in (
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo",
            "name resolution",
            "no address associated",
        )
    ):
        title = "The endpoint's host name does not resolve (DNS)"
        actions.append("Check the host name for typos, and your DNS/VPN.")
    elif "refused" in text:
        title = "The endpoint refused the connection"
        actions.append("Check the port and that the server (MinIO, Ceph, ...) is running.")
    elif "timeout" in text or "timed out" in text:
        title = "The endpoint did not answer in time"
        actions.append("Check firewalls, proxies (HTTPS_PROXY/NO_PROXY) and the address.")
    else:
        title = "The endpoint could not be reached"
        actions.append("Check the URL, that the server is running, and proxy/TLS settings.")
    details.extend(endpoint_findings(error, spec))
    # botocore names the URL it tried: BUCKET.host means virtual-hosted addressing, which
    # S3-compatible stores on an IP or a plain host name usually cannot serve.
    if error.bucket and f"//{error.bucket.lower()}." in text and not (spec and spec.path_style):
        details.append(f"The request went to {error.bucket}.<host> (virtual-hosted addressing).")
        actions.append("Use path-style addressing: --path-style (or path_style = true).")
    return Explanation(title, details, actions, subject=_subject(error))


def _credentials(error: InvalidCredentials, spec: ConnectionSpec | None) -> Explanation:
    code = error.code or ""
    details: list[str] = []
    actions: list[str] = []
    refresh = None
    if spec is not None:
        from pail.credentials import refresh_command

        refresh = refresh_command(spec, error)
    skew = clock_skew(error)
    if isinstance(error, ExpiredCredentials):
        title = "The temporary credentials have expired"
        details.append("Session tokens (STS, SSO, assumed roles) last from 15 minutes to hours.")
        actions.append(f"Run `{refresh}`, then retry." if refresh else "Get a fresh session token.")
    elif isinstance(error, NoCredentials):
        title = "No credentials were found"
        actions.append(error.hint)
    elif error.session_token_missing:  # an ASIA… key sent without its session token
        title = "A temporary access key was sent without its session token"
        details.append(f"{error.code}: keys starting with ASIA are issued by STS with a token.")
        actions.append(error.hint)
    elif code in ("InvalidAccessKeyId", "InvalidClientTokenId"):
        title = "The access key id is unknown to this endpoint"
        details.append("The key was deleted or deactivated, or it belongs to another store.")
        actions.append("Check which keys are in use (credential source) and their status.")
        actions.append("Keys for AWS do not work on MinIO/Ceph/R2 and vice versa.")
    elif code in ("SignatureDoesNotMatch", "RequestTimeTooSkewed"):
        title = (
            "This machine's clock is too far off the server's"
            if code == "RequestTimeTooSkewed"
            else "The request signature did not match"
        )
        if skew is not None:
            details.append(_skew_text(skew))
            if abs(skew) >= 60:
                actions.append("Fix the system clock (enable NTP: `timedatectl set-ntp true`).")
            elif code == "SignatureDoesNotMatch":
                details.append("The clocks agree, so the secret access key is the likely cause.")
        if code == "SignatureDoesNotMatch":
            actions.append("Re-enter the secret access key for this access key id.")
            actions.append("Check for a stray space or newline pasted with the secret.")
        details.extend(endpoint_findings(error, spec))
    else:
        title = "The credentials were rejected"
        actions.append(error.hint)
    if refresh and not isinstance(error, ExpiredCredentials):
        actions.append(f"Refresh the credentials: `{refresh}`.")
    return Explanation(title, details, actions, refresh_command=refresh, subject=_subject(error))


def _denied(error: AccessDenied, list_allowed: bool | None, resource: str | None) -> Explanation:
    message = (error.message or "").lower()
    action = required_action(error)
    details: list[str] = []
    actions: list[str] = []
    where = _subject(error)
    if error.provider == "gcs":
        title = "The identity lacks a Cloud Storage permission"
        policy = None
        if action:
            details.append(f"The call needs {action} on bucket {error.bucket}.")
            if action == "storage.objects.create" and resource is None:
                policy = _gcs_grant_text(action, error.bucket or "BUCKET")
        if "requester pays" in message or error.code == "userProjectMissing":
            actions.append("The bucket is Requester Pays: give a billing project.")
        actions.append("Grant a role holding it (`pail doctor` names the smallest).")
        actions.append("Uniform bucket-level access off? Object ACLs may also deny reads.")
        return Explanation(title, details, actions, subject=where, policy=policy)
    if error.provider == "local":
        return Explanation("The operating system refused access", [], [error.hint], subject=where)
    if "kms" in message or (error.code or "").startswith("KMS"):
        title = "The object's KMS key refused this identity"
        details.append("The object is encrypted with SSE-KMS; reading needs kms:Decrypt.")
        actions.append("Grant kms:Decrypt (writes: kms:GenerateDataKey) on the KMS key.")
        actions.append("The key policy must allow this identity too (cross-account keys).")
        return Explanation(title, details, actions, subject=where)
    title = "Access denied"
    if action:
        title = f"Access denied: the identity lacks {action}"
        details.append(f"A policy must allow {action} on {resource or _resource(error)}.")
    for phrase, meaning in _DENY_PHRASES:
        if phrase in message:
            details.append(f"AWS says {meaning}.")
    if error.operation in ("GetObject", "HeadObject") and list_allowed is not True:
        details.append(
            "Without s3:ListBucket S3 answers 403, not 404, for a key that does not exist: "
            "the key may simply be missing."
        )
        actions.append("Check the key name (case, slashes), or grant s3:ListBucket to see 404s.")
    if error.operation in ("GetObject", "HeadObject") and list_allowed is True:
        details.append(
            "Listing works but reading does not: the policy may cover other keys only, the "
            "object may be SSE-KMS encrypted, or owned by another account."
        )
        actions.append(
            "Cross-account objects: with Object Ownership 'bucket owner enforced' ACLs are "
            "off; otherwise the writer owns the object and must grant access by ACL "
            "(bucket-owner-full-control)."
        )
    if error.operation == "ListBuckets":
        actions.append("A bucket named on the command line still opens without it.")
    policy = None
    # An access check (``resource`` given) prints its own policy for every denied row.
    if error.operation in S3_WRITES and action and resource is None:
        if error.operation in ("CopyObject", "UploadPartCopy"):
            details.append("A copy also needs s3:GetObject on the source key.")
        if "acl" in message:
            details.append("Writing with an ACL also needs s3:PutObjectAcl.")
        policy = _write_policy_text(action, error.bucket or "BUCKET", error.key or "")
    actions.append(
        "If the bucket belongs to another AWS account, the bucket policy must also allow it."
    )
    return Explanation(title, details, actions, subject=where, policy=policy)


def _write_policy_text(action: str, bucket: str, key: str) -> str:
    """An IAM policy allowing ``action`` under the key's folder (``arn:aws:s3:::B/dir/*``),
    as indented JSON: the statement shape ``pail doctor`` prints."""
    folder = key.rpartition("/")[0]
    resource = f"arn:aws:s3:::{bucket}/{folder + '/' if folder else ''}*"
    statement = {"Sid": "WriteObjects", "Effect": "Allow", "Action": action, "Resource": resource}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=2)


def _gcs_grant_text(permission: str, bucket: str) -> str:
    """The smallest predefined role holding ``permission`` and its ``gcloud`` command
    (Cloud Storage, "IAM roles for Cloud Storage")."""
    from pail.services.access.policy import gcs_roles

    roles = gcs_roles([permission])
    lines = [f"permission: {permission}", f"roles: {', '.join(roles)}"]
    lines += [
        f"gcloud storage buckets add-iam-policy-binding gs://{bucket} --member=MEMBER --role={r}"
        for r in roles
    ]
    return "\n".join(lines)


def _resource(error: StorageError) -> str:
    if error.operation == "ListBuckets":
        return "*"
    if (
        error.operation in ("GetObject", "HeadObject", "DeleteObject")
        or error.operation in S3_WRITES
    ):
        return f"arn:aws:s3:::{error.bucket}/{error.key or ''}"
    return f"arn:aws:s3:::{error.bucket}"


def explain(
    error: StorageError,
    *,
    spec: ConnectionSpec | None = None,
    list_allowed: bool | None = None,
    resource: str | None = None,
) -> Explanation:
    """The :class:`Explanation` of ``error``.

    Args:
        error: any translated storage error.
        spec: the resolved connection (:attr:`pail.credentials.Resolved.spec`), for the
            refresh command, path-style and endpoint checks.
        list_allowed: whether s3:ListBucket is known to be allowed (``None``: unknown);
            decides how a 403 on GetObject/HeadObject reads.
        resource: the ARN a policy must name (an access check's capability resource);
            default: the bucket, or the failed key for object calls.
    """
    subject = _subject(error)
    if isinstance(error, WrongRegion):
        region = error.region
        details = [f"Bucket {error.bucket or ''} is in region {region}." if region else ""]
        details += _source_detail(error, spec)
        actions = [f"Reopen with --region {region}."] if region else ["Name it with --region."]
        title = "The bucket lives in another region"
        return Explanation(title, [d for d in details if d], actions, region, subject=subject)
    if isinstance(error, InvalidCredentials):
        return _credentials(error, spec)
    if isinstance(error, AccessDenied):
        return _denied(error, list_allowed, resource)
    if isinstance(error, EndpointUnreachable):
        return _unreachable(error, spec)
    details = endpoint_findings(error, spec)
    if isinstance(error, NotStorageEndpoint):
        api = "the GCS JSON API" if error.provider == "gcs" else "S3"
        message = error.message[:1].upper() + error.message[1:]
        details.insert(0, message)
        title = f"The endpoint does not speak {api}"
        return Explanation(title, details, [error.hint], subject=subject)
    if isinstance(error, NotFound) and error.code == "NoSuchBucket":
        if error.endpoint and not (spec and spec.path_style):
            details.append("S3-compatible stores often need path-style addressing.")
        return Explanation("No such bucket", details, [error.hint], subject=subject)
    title = f"{error.badge}: {error.message}" if error.message else error.badge
    return Explanation(title, details, [error.hint] if error.hint else [], subject=subject)


def explain_report(report: AccessReport, spec: ConnectionSpec | None = None) -> list[Explanation]:
    """Explanations for an access check: the region mismatch, the identity call's failure
    (unless it is only "unavailable" on an S3-compatible store), then each failed row;
    duplicates (same title and details) are dropped."""
    out: list[Explanation] = []
    list_state = next(
        (r.state for r in report.rows if r.capability.action == "s3:ListBucket"), None
    )
    list_allowed = {"allowed": True, "denied": False}.get(list_state or "")
    if report.region_error is not None:
        out.append(explain(report.region_error, spec=spec))
    if report.identity_error is not None and isinstance(
        report.identity_error, (InvalidCredentials, EndpointUnreachable)
    ):
        out.append(explain(report.identity_error, spec=spec))
    for row in report.rows:
        if row.error is not None and row.failed:
            resource = row.capability.resource
            out.append(explain(row.error, spec=spec, list_allowed=list_allowed, resource=resource))
    unique: list[Explanation] = []
    seen: set[str] = set()
    for item in out:
        if any((u.title, u.details) == (item.title, item.details) for u in unique):
            continue
        # Advice shared by several rows (cross-account bucket policy...) is said once.
        actions = [a for a in item.actions if a not in seen]
        seen.update(actions)
        unique.append(replace(item, actions=actions))
    return unique
