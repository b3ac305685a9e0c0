"""Plain words for permission diagnostics in the UI: who a connection is (status bar,
connection detail), what a failure means (:mod:`pail.services.explain`), what one access
check row needs (IAM action, resource, policy statement), and where a report is saved.

Everything returned is plain text or :class:`rich.text.Text`, never markup; nothing here
reads or shows a secret (identities and masked key ids only).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text

from pail.core.text import one_line
from pail.drivers.errors import StorageError, WrongRegion
from pail.services.access.check import ProbeRow
from pail.services.access.policy import policy_json, report_policy, s3_policy
from pail.services.explain import Explanation, explain

if TYPE_CHECKING:
    from pail.services.access.check import AccessReport
    from pail.ui.nodes import Connection, NodeData

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def has_failure(data: NodeData) -> bool:
    """True when ``data`` or anything listed below it failed its last request."""
    if data.error is not None:
        return True
    return any(has_failure(child) for child in data.children if child.is_level)


def count_failing(roots: list[NodeData]) -> int:
    """How many nodes (connections, buckets, prefixes) below ``roots`` have an error."""
    total, stack = 0, list(roots)
    while stack:
        data = stack.pop()
        total += data.error is not None
        stack.extend(child for child in data.children if child.is_level)
    return total


def identity_text(conn: Connection) -> str:
    """The principal for the status bar: the ARN / email, ``identity: unavailable —
    <reason>`` when the identity call failed, ``""`` when not known (yet)."""
    ident = getattr(conn, "identity", None)
    if ident is not None:
        return one_line(ident.principal)
    error = getattr(conn, "identity_error", None)
    if error is not None:
        return f"identity: unavailable — {unavailable_reason(error)}"
    return ""


def unavailable_reason(error: StorageError) -> str:
    """Short reason an identity call failed: ``GetCallerIdentity: 404 NotFound``."""
    op = error.operation or "identity"
    return one_line(f"{op}: {error.badge}")


def identity_rows(conn: Connection) -> list[tuple[str, str]]:
    """Rows for the connection's detail pane: account, ARN, kind, session, email,
    project, or why the identity is unavailable. Empty until the identity is checked."""
    ident = getattr(conn, "identity", None)
    if ident is not None:
        return [
            ("Account", ident.account or ""),
            ("ARN", ident.arn or ""),
            ("Principal", ident.email or ""),
            ("Kind", ident.kind),
            ("Session", ident.session_name or ""),
            ("Identity project", ident.project or ""),
        ]
    error = getattr(conn, "identity_error", None)
    if error is not None:
        return [("Who am I", f"unavailable — {unavailable_reason(error)}")]
    return []


def explanation_text(item: Explanation) -> Text:
    """An explanation as text: title, details, and ``→`` actions, one per line."""
    text = Text.assemble((one_line(item.title), "bold"))
    for detail in item.details:
        text.append("\n" + one_line(detail))
    for action in item.actions:
        text.append("\n→ " + one_line(action))
    return text


def node_explanation(data: NodeData, error: StorageError) -> Explanation:
    """:func:`pail.services.explain.explain` for a node's failure. A 403 on an object
    whose level listed fine says "listing works but reading does not"; one without a
    listing says the key may simply be missing."""
    conn = data.conn
    spec = conn.resolved.spec if conn.resolved is not None else conn.spec
    list_allowed = None
    level = data.parent if data.kind == "object" else None
    if level is not None and level.loaded and level.error is None and level.children:
        list_allowed = True
    return explain(error, spec=spec, list_allowed=list_allowed)


def wrong_region(data: NodeData | None, bucket_region: str | None = None) -> str | None:
    """The region to reopen ``data``'s connection in: from a WrongRegion error on the
    node (or its level), or a bucket region (GetBucketLocation) other than the one the
    S3 connection signs for. ``None`` when there is nothing to fix."""
    if data is None or data.conn.spec.provider != "s3":
        return None
    node: NodeData | None = data
    while node is not None:
        if isinstance(node.error, WrongRegion) and node.error.region:
            return node.error.region
        node = node.parent
    signing = data.conn.spec.region or "us-east-1"
    if data.kind == "bucket" and bucket_region and bucket_region != signing:
        return bucket_region
    return None


def region_explanation(data: NodeData, region: str) -> Explanation:
    """Why a bucket in another region is a problem, and the reopen key."""
    signing = data.conn.spec.region or "us-east-1"
    return Explanation(
        "The bucket lives in another region",
        [f"Bucket {data.bucket} is in {region}; this connection signs for {signing}."],
        [
            f"Reopen with --region {region} (g reopens this connection in {region}).",
        ],
        region=region,
    )


def explanation_parts(
    data: NodeData,
    errors: list[StorageError],
    bucket_region: str | None,
    style: Callable[[str], Style],
) -> list[Text]:
    """The detail pane's "What it means" blocks for a node: one per failure, and one
    for a bucket in another region than the connection signs for (with the ``g`` key)."""
    items = [node_explanation(data, error) for error in errors]
    region = wrong_region(data, bucket_region)
    if region is not None:
        if any(isinstance(e, WrongRegion) for e in errors):
            items = [
                replace(i, actions=[*i.actions, f"g reopens this connection in {region}."])
                if i.region
                else i
                for i in items
            ]
        else:
            items.append(region_explanation(data, region))
    out: list[Text] = []
    for item in items:
        out.append(Text(""))
        out.append(Text("What it means", style=style("label")))
        out.append(explanation_text(item))
    return out


def row_fields(row: ProbeRow | None) -> list[tuple[str, str]]:
    """Label/value pairs of an access-check row: its error's code, HTTP status and
    request id, and the IAM action and resource a policy must grant."""
    if row is None:
        return []
    cap = row.capability
    out = [("State", f"{row.symbol} {row.state}"), ("Operation", cap.operation)]
    err = row.error
    if err is not None:
        out += [
            ("Error code", err.code or type(err).__name__),
            ("HTTP status", str(err.status) if err.status else ""),
            ("Request id", err.request_id or ""),
            ("Message", err.message or ""),
        ]
    out += [("IAM action", cap.action), ("Resource", cap.resource)]
    if cap.condition:
        out.append(("Condition", policy_json(cap.condition).replace("\n", " ")))
    if row.detail and (err is None or row.detail != err.message):
        out.append(("Detail", row.detail))
    return [(label, one_line(value)) for label, value in out if value]


def row_policy_text(row: ProbeRow, report: AccessReport | None) -> str | None:
    """The policy that grants exactly this denied row's action on exactly its resource:
    an IAM policy document (S3) or the GCS grant; ``None`` for rows that are not denied."""
    if row.state != "denied":
        return None
    if report is not None and report.provider == "gcs":
        only = replace(report, rows=[row])
        policy = report_policy(only)
        if policy is None:
            return None
        lines = ["Missing permission: " + ", ".join(policy["permissions"])]
        lines.append("Role(s) that include it: " + ", ".join(policy["roles"]))
        lines.extend(policy["commands"])
        return "\n".join(lines)
    policy = s3_policy([row])
    return policy_json(policy) if policy else None


def report_filename(report: AccessReport, now: datetime | None = None) -> str:
    """``pail-access-BUCKET-PREFIX-YYYYmmddTHHMMSSZ.txt`` (unsafe characters as ``_``)."""
    when = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    where = _SAFE.sub("_", f"{report.bucket}-{report.prefix}".rstrip("/-")).strip("_")
    return f"pail-access-{where or 'report'}-{when}.txt"


def save_report(text: str, filename: str, folder: str | None = None) -> str:
    """Write ``text`` to ``folder`` (default: the current folder; when that is not
    writable, ``platformdirs.user_data_dir("pail")/reports``) and return the path.

    Raises:
        OSError: neither place could be written.
    """
    folders = [folder] if folder else [os.getcwd()]
    if folder is None:
        import platformdirs

        folders.append(os.path.join(platformdirs.user_data_dir("pail"), "reports"))
    last: OSError | None = None
    for place in folders:
        path = os.path.join(place, filename)
        try:
            os.makedirs(place, exist_ok=True)
            with open(path, "x", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            last = exc
            continue
        return path
    assert last is not None
    raise last
