"""An access check as a plain-text report (for a ticket) and as JSON.

Both hold the identity, the credential source with the masked key id, every row (state,
IAM action, resource, error code, HTTP status, request id), the explanations
(:mod:`pail.services.explain`) and the policy snippet (:mod:`pail.services.access.policy`).

No secret can appear: an :class:`~pail.services.access.check.AccessReport` never holds one (the
access key id is masked by :func:`pail.credentials.resolve`, error messages are scrubbed
by the drivers). Server-supplied text (key names, messages) goes through
:func:`pail.core.text.printable`, so a report is safe to print on a terminal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pail.core.text import printable
from pail.services.access.check import AccessReport, ProbeRow
from pail.services.access.policy import report_policy, report_policy_text
from pail.services.explain import Explanation, explain_report

if TYPE_CHECKING:
    from pail.core.connection import ConnectionSpec

#: URI scheme per provider, for the report's heading.
_SCHEMES = {"s3": "s3", "gcs": "gs", "local": "file"}


def target_uri(report: AccessReport) -> str:
    """``s3://bucket/prefix`` for the report's heading."""
    return f"{_SCHEMES.get(report.provider, report.provider)}://{report.bucket}/{report.prefix}"


def identity_line(report: AccessReport) -> str:
    """``Identity: ARN (kind, account N)``, or why the identity is unknown."""
    ident = report.identity
    if ident is not None:
        extra = [ident.kind]
        if ident.account:
            extra.append(f"account {ident.account}")
        if ident.session_name:
            extra.append(f"session {ident.session_name}")
        if ident.project:
            extra.append(f"project {ident.project}")
        return f"Identity: {printable(ident.principal)} ({', '.join(extra)})"
    err = report.identity_error
    if err is not None:
        return f"Identity: identity call unavailable ({err.operation}: {printable(err.badge)})"
    return "Identity: unknown"


def credentials_line(report: AccessReport) -> str | None:
    """``Credentials: SOURCE, key AKIA…WXYZ`` when the source is known."""
    if not report.credential_source:
        return None
    who = f", {report.credential_id}" if report.credential_id else ""
    return f"Credentials: {report.credential_source}{printable(who)}"


def row_lines(row: ProbeRow, width: int = 26) -> list[str]:
    """One table line (mark, capability, IAM action, resource) and, for a failed row,
    a second line with the error code, HTTP status and request id."""
    cap = row.capability
    lines = [f"  {row.symbol} {cap.name:<{width}} {cap.action:<28} {printable(cap.resource)}"]
    if row.detail:
        detail = row.detail if row.detail.startswith(row.state) else f"{row.state}: {row.detail}"
        lines.append(f"      {printable(detail)}")
    if row.error is not None:
        err = row.error
        fields = [f"{err.operation}", f"HTTP {err.status}" if err.status else "", err.code or ""]
        if err.request_id:
            fields.append(f"request id {err.request_id}")
        lines.append("      " + printable(" | ".join(f for f in fields if f)))
    return lines


def report_text(
    report: AccessReport,
    explanations: list[Explanation] | None = None,
    spec: ConnectionSpec | None = None,
) -> str:
    """The whole check as plain text (see module doc); ends with a newline."""
    if explanations is None:
        explanations = explain_report(report, spec)
    out = [f"pail access check: {printable(target_uri(report))}"]
    out.append(f"Checked at: {report.checked_at:%Y-%m-%d %H:%M:%S} UTC")
    if report.endpoint:
        source = spec.endpoint_source if spec is not None and spec.endpoint_url else None
        came = f" (from {printable(source)})" if source else ""  # what set it: a flag, a variable
        out.append(f"Endpoint: {printable(report.endpoint)}{came}")
    out.append(identity_line(report))
    creds = credentials_line(report)
    if creds:
        out.append(creds)
    if report.region or report.bucket_region:
        out.append(f"Region: {report.region or '?'} (bucket: {report.bucket_region or '?'})")
    if report.provider == "s3":
        out.append(f"Write probes: {'on' if report.write_probes else 'off'}")
    out.append("")
    out.append("Capabilities (✔ allowed, ✘ denied, ? not checked, ! error):")
    for row in report.rows:
        out.extend(row_lines(row))
    if report.leftover:
        out.append("")
        out.append("Probe objects left behind (delete them with an identity that may):")
        out.extend(f"  s3://{printable(report.bucket)}/{printable(k)}" for k in report.leftover)
    if report.notes:
        out.append("")
        out.extend(f"Note: {printable(n)}" for n in report.notes)
    if explanations:
        out.append("")
        out.append("Explanations:")
        for item in explanations:
            out.extend(f"  {printable(line)}" for line in item.lines())
    snippet = report_policy_text(report)
    if snippet:
        out.append("")
        title = "Policy that grants exactly the missing actions"
        if report.provider == "gcs":
            title = "Grant on the bucket"
        out.append(f"{title}:")
        out.extend(printable(line) for line in snippet.splitlines())
    out.append("")
    out.append(
        "Result: "
        + ("all needed capabilities allowed" if report.ok else "a needed capability failed")
    )
    return "\n".join(out) + "\n"


def _error_json(row: ProbeRow) -> dict[str, Any] | None:
    err = row.error
    if err is None:
        return None
    return {
        "type": type(err).__name__,
        "operation": err.operation,
        "status": err.status,
        "code": err.code,
        "message": err.message,
        "request_id": err.request_id,
        "region": err.region,
    }


def report_json(
    report: AccessReport,
    explanations: list[Explanation] | None = None,
    spec: ConnectionSpec | None = None,
) -> dict[str, Any]:
    """The whole check as JSON-ready data (the same content as :func:`report_text`)."""
    if explanations is None:
        explanations = explain_report(report, spec)
    ident_err = report.identity_error
    return {
        "provider": report.provider,
        "bucket": report.bucket,
        "prefix": report.prefix,
        "uri": target_uri(report),
        "endpoint": report.endpoint,
        "checked_at": report.checked_at.isoformat(),
        "identity": report.identity.as_dict() if report.identity else None,
        "identity_error": (
            {"operation": ident_err.operation, "status": ident_err.status, "code": ident_err.code}
            if ident_err
            else None
        ),
        "credential_source": report.credential_source,
        "credential_id": report.credential_id,
        "region": report.region,
        "bucket_region": report.bucket_region,
        "write_probes": report.write_probes,
        "probe_key": report.probe_key,
        "leftover": list(report.leftover),
        "rows": [
            {
                "name": row.name,
                "state": row.state,
                "symbol": row.symbol,
                "operation": row.capability.operation,
                "action": row.capability.action,
                "resource": row.capability.resource,
                "condition": row.capability.condition,
                "needed": row.capability.needed,
                "detail": row.detail,
                "error": _error_json(row),
            }
            for row in report.rows
        ],
        "explanations": [
            {
                "subject": e.subject,
                "title": e.title,
                "details": e.details,
                "actions": e.actions,
                "region": e.region,
                "refresh_command": e.refresh_command,
            }
            for e in explanations
        ],
        "policy": report_policy(report),
        "notes": list(report.notes),
        "ok": report.ok,
    }
