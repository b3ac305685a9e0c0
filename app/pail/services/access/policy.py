"""Policy snippets that grant exactly what an access check found missing.

S3 (:func:`s3_policy`): an IAM policy document (IAM User Guide, "IAM JSON policy elements
reference"; Amazon S3 User Guide, "Policy examples") with ``Version`` ``2012-10-17`` and one
``Allow`` statement per resource (and condition): ``*`` for s3:ListAllMyBuckets,
``arn:aws:s3:::BUCKET`` for bucket-level actions, ``arn:aws:s3:::BUCKET/PREFIX*`` for
object-level ones, and ListBucket/ListBucketVersions on a prefix limited with a
``StringLike`` ``s3:prefix`` condition - the shape of the "required permissions" JSON in
the stores' own docs (MLflow, ZenML, DVC).

GCS (:func:`gcs_grant`): the missing permissions and the smallest predefined roles that
hold them (Cloud Storage, "IAM roles for Cloud Storage"), with the ``gcloud`` command that
grants them on the bucket.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pail.services.access.check import AccessReport, ProbeRow

#: IAM policy language version (the only current one).
POLICY_VERSION = "2012-10-17"


def s3_policy(rows: Iterable[ProbeRow]) -> dict[str, Any] | None:
    """An IAM policy granting the actions of the denied ``rows``, grouped by resource and
    condition; ``None`` when nothing is denied.

    The statements come in the order their rows do, actions sorted within one; one
    action never appears twice for the same resource.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row.state != "denied":
            continue
        cap = row.capability
        cond = json.dumps(cap.condition, sort_keys=True) if cap.condition else ""
        group = groups.setdefault(
            (cap.resource, cond),
            {"actions": [], "resource": cap.resource, "condition": cap.condition},
        )
        if cap.action not in group["actions"]:
            group["actions"].append(cap.action)
    if not groups:
        return None
    statements = []
    for group in groups.values():
        statements.append(_statement(group["actions"], group["resource"], group["condition"]))
    used: dict[str, int] = {}
    for statement in statements:  # Sids must be unique within a policy
        sid = statement["Sid"]
        used[sid] = used.get(sid, 0) + 1
        if used[sid] > 1:
            statement["Sid"] = f"{sid}{used[sid]}"
    return {"Version": POLICY_VERSION, "Statement": statements}


def _statement(actions: list[str], resource: str, condition: dict | None) -> dict[str, Any]:
    # Sids: alphanumerics only (IAM JSON policy reference, "Sid").
    if resource == "*":
        sid = "ListAllMyBuckets"
    elif "/" in resource.split(":::", 1)[-1]:
        sid = "ObjectsUnderPrefix"
    elif condition:
        sid = "ListUnderPrefix"
    else:
        sid = "BucketLevel"
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions) if len(actions) > 1 else actions[0],
        "Resource": resource,
    }
    if condition:
        statement["Condition"] = condition
    return statement


def policy_json(policy: dict[str, Any]) -> str:
    """The policy as indented JSON, ready to paste into the IAM console."""
    return json.dumps(policy, indent=2)


# --- GCS ------------------------------------------------------------------------------

_OBJ = "storage.objects."
_BKT = "storage.buckets."
#: Predefined roles and the permissions (of those pail checks) each holds, smallest first.
GCS_ROLES: tuple[tuple[str, frozenset[str]], ...] = (
    ("roles/storage.objectViewer", frozenset({_OBJ + "get", _OBJ + "list"})),
    ("roles/storage.objectCreator", frozenset({_OBJ + "create"})),
    ("roles/storage.legacyBucketReader", frozenset({_BKT + "get", _OBJ + "list"})),
    (
        "roles/storage.objectUser",
        frozenset({_OBJ + "get", _OBJ + "list", _OBJ + "create", _OBJ + "delete"}),
    ),
    (
        "roles/storage.legacyBucketWriter",
        frozenset({_BKT + "get", _OBJ + "list", _OBJ + "create", _OBJ + "delete"}),
    ),
    (
        "roles/storage.objectAdmin",
        frozenset({_OBJ + "get", _OBJ + "list", _OBJ + "create", _OBJ + "delete"}),
    ),
    (
        "roles/storage.legacyBucketOwner",
        frozenset(
            {_BKT + "get", _BKT + "update", _BKT + "getIamPolicy", _OBJ + "list"}
            | {_OBJ + "create", _OBJ + "delete"}
        ),
    ),
    (
        "roles/storage.admin",
        frozenset(
            {_BKT + "get", _BKT + "update", _BKT + "getIamPolicy"}
            | {_OBJ + p for p in ("get", "list", "create", "delete")}
        ),
    ),
)


@dataclass(frozen=True)
class GcsGrant:
    """What to grant on a GCS bucket.

    Attributes:
        permissions: the missing permissions, in check order.
        roles: predefined roles that together hold them (fewest, smallest first).
        commands: ``gcloud storage buckets add-iam-policy-binding`` lines, one per role;
            ``MEMBER`` stands for the principal when the identity is unknown.
    """

    permissions: tuple[str, ...]
    roles: tuple[str, ...]
    commands: tuple[str, ...]


def gcs_roles(missing: Iterable[str]) -> tuple[str, ...]:
    """The predefined roles covering ``missing``: the smallest single role that holds them
    all, else a greedy cover by the narrower roles; roles/storage.admin only when nothing
    narrower can grant a permission (bucket updates plus object reads)."""
    need = set(missing)
    if not need:
        return ()
    narrow = [rp for rp in GCS_ROLES if rp[0] != "roles/storage.admin"]
    for role, perms in narrow:
        if need <= perms:
            return (role,)
    chosen: list[str] = []
    while need:
        role, perms = max(narrow, key=lambda rp: len(need & rp[1]))
        if not need & perms:
            return ("roles/storage.admin",)
        chosen.append(role)
        need -= perms
    return tuple(chosen)


def gcs_grant(rows: Iterable[ProbeRow], bucket: str, member: str | None = None) -> GcsGrant | None:
    """The :class:`GcsGrant` for the denied ``rows``; ``None`` when nothing is denied."""
    missing = tuple(dict.fromkeys(r.capability.action for r in rows if r.state == "denied"))
    if not missing:
        return None
    roles = gcs_roles(missing)
    who = member or "MEMBER"
    commands = tuple(
        f"gcloud storage buckets add-iam-policy-binding gs://{bucket} --member={who} --role={r}"
        for r in roles
    )
    return GcsGrant(missing, roles, commands)


def report_policy(report: AccessReport) -> dict[str, Any] | None:
    """The policy snippet for a report as JSON-ready data: the S3 policy document, or for
    GCS ``{"permissions": [...], "roles": [...], "commands": [...]}``; ``None`` when
    nothing is denied."""
    if report.provider == "gcs":
        member = report.identity.member if report.identity else None
        grant = gcs_grant(report.rows, report.bucket, member)
        if grant is None:
            return None
        return {
            "permissions": list(grant.permissions),
            "roles": list(grant.roles),
            "commands": list(grant.commands),
        }
    return s3_policy(report.rows)


def report_policy_text(report: AccessReport) -> str | None:
    """The snippet as text to copy: indented policy JSON for S3; for GCS the permissions,
    roles and gcloud commands, one per line. ``None`` when nothing is denied."""
    policy = report_policy(report)
    if policy is None:
        return None
    if report.provider != "gcs":
        return policy_json(policy)
    lines = ["Missing permissions: " + ", ".join(policy["permissions"])]
    lines.append("Predefined role(s) that include them: " + ", ".join(policy["roles"]))
    lines.extend(policy["commands"])
    return "\n".join(lines)
