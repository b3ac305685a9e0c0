"""Who a connection's credentials belong to: :class:`Identity`, from STS or GCS credentials.

S3: ``sts:GetCallerIdentity`` (AWS STS API reference, "GetCallerIdentity") returns the
account, the ARN and the unique user id; no IAM permission is needed for it, and an explicit
deny cannot block it. The ARN's shape says what kind of principal signs the requests
(IAM User Guide, "IAM identifiers", ARN formats):

* ``arn:aws:iam::123456789012:user/path/NAME``          -> ``user``
* ``arn:aws:sts::123456789012:assumed-role/ROLE/SESSION`` -> ``assumed-role`` (+ session)
* ``arn:aws:iam::123456789012:root``                    -> ``root``
* ``arn:aws:sts::123456789012:federated-user/NAME``     -> ``federated-user``

GCS: the credentials object google-auth built (service-account key, gcloud user, metadata
server, impersonation, workload identity federation, anonymous), read locally.

Nothing here holds a secret: an identity is safe to print and to put in a report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Identity:
    """The principal behind a connection.

    Attributes:
        kind: ``"user"``, ``"assumed-role"``, ``"root"``, ``"federated-user"``,
            ``"service-account"``, ``"gcloud user"``, ``"compute"``, ``"external-account"``,
            ``"impersonated"``, ``"anonymous"`` or ``"unknown"``.
        account: AWS account id (12 digits), when known.
        arn: the caller's ARN (S3), when known.
        user_id: STS ``UserId`` (``AIDA…`` for users, ``AROA…:session`` for roles).
        name: user or role name taken from the ARN.
        session_name: assumed-role session name (``arn:…:assumed-role/ROLE/SESSION``).
        project: GCS project id the client bills and lists buckets in.
        email: GCS service account or user email.
    """

    kind: str = "unknown"
    account: str | None = None
    arn: str | None = None
    user_id: str | None = None
    name: str | None = None
    session_name: str | None = None
    project: str | None = None
    email: str | None = None

    @property
    def principal(self) -> str:
        """One line naming the principal: the ARN, the email, or the kind."""
        return self.arn or self.email or self.kind

    @property
    def member(self) -> str | None:
        """The GCS IAM member string (``serviceAccount:EMAIL`` / ``user:EMAIL``), if known."""
        if not self.email or "@" not in self.email:
            return None
        if self.kind in ("service-account", "compute", "impersonated") or self.email.endswith(
            ".gserviceaccount.com"
        ):
            return f"serviceAccount:{self.email}"
        return f"user:{self.email}"

    def as_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (``None`` for unknown ones)."""
        return asdict(self)


def identity_from_arn(arn: str, account: str | None = None, user_id: str | None = None) -> Identity:
    """An :class:`Identity` from an STS ``GetCallerIdentity`` answer (see module doc).

    Unknown ARN shapes give kind ``"unknown"`` with the ARN kept as it is.
    """
    parts = arn.split(":", 5)
    resource = parts[5] if len(parts) == 6 else ""
    account = account or (parts[4] if len(parts) == 6 else None) or None
    kind, name, session = "unknown", None, None
    if resource == "root":
        kind = "root"
    elif resource.startswith("user/"):
        kind, name = "user", resource.rsplit("/", 1)[-1]
    elif resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        kind = "assumed-role"
        name = pieces[1] if len(pieces) > 1 else None
        session = pieces[2] if len(pieces) > 2 else None
    elif resource.startswith("federated-user/"):
        kind, name = "federated-user", resource.split("/", 1)[1]
    return Identity(
        kind=kind,
        account=account,
        arn=arn,
        user_id=user_id,
        name=name,
        session_name=session,
    )


def identity_from_google(credentials: Any, project: str | None) -> Identity:
    """An :class:`Identity` from a google-auth credentials object, without a network call.

    Service-account keys and impersonated credentials know their email; gcloud user
    credentials (``gcloud auth application-default login``) know it when the ADC file has
    an ``account`` field; metadata-server credentials say ``default`` until first refreshed.
    """
    if credentials is None:
        return Identity(kind="unknown", project=project)
    module = type(credentials).__module__
    name = type(credentials).__name__
    # A public property of service-account and impersonated credentials (for the latter,
    # the target principal; google-auth 2.x), so no private attribute is read.
    email = getattr(credentials, "service_account_email", None)
    if name == "AnonymousCredentials":
        kind = "anonymous"
    elif "impersonated" in module:
        kind = "impersonated"
    elif "compute_engine" in module:
        kind = "compute"
    elif "external_account" in module or "identity_pool" in module or "aws" in module:
        kind = "external-account"
    elif module.startswith("google.oauth2.service_account"):
        kind = "service-account"
    elif module.startswith("google.oauth2.credentials"):
        kind = "gcloud user"
        email = getattr(credentials, "account", None) or None
    else:
        kind = "unknown"
    return Identity(kind=kind, email=email if isinstance(email, str) else None, project=project)
