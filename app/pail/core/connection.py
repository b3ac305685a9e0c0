"""The connection types shared by config, credentials, drivers and the UI.

:class:`ConnectionSpec` is everything needed to open one store, :class:`Secrets` the
credentials held in memory only, :class:`ConfigError` a malformed config file. Connections
are built from files, flags and the environment in :mod:`pail.config`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PROVIDERS = ("s3", "gcs", "local")

#: Where a saved connection's secrets live (the ``secrets`` key of its table):
#: ``"keyring"`` - in the OS keyring under the connection's name, and nowhere else: when the
#: keyring cannot give them, the connection does not open (no fallback to other
#: credentials); ``"none"`` - saved without secrets: profile, environment or the SDK's
#: default chain, by design.
SECRETS_KEYRING = "keyring"
SECRETS_NONE = "none"
SECRETS_RECORDS = (SECRETS_KEYRING, SECRETS_NONE)


#: A connection name: letters, digits, ``.``, ``_`` and ``-``, starting with a letter or
#: digit (so ``NAME:bucket/prefix`` and ``s3://`` URIs cannot be confused).
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class Secrets:
    """Credentials held in memory only; never written, logged or shown.

    Attributes:
        access_key_id: S3 access key id (shown masked at most).
        secret_access_key: S3 secret access key.
        session_token: S3 session token, for temporary credentials.
        service_account_info: GCS service-account key as parsed JSON.
    """

    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    service_account_info: Mapping[str, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never print a secret, even in a traceback
        return f"Secrets(access_key_id={mask(self.access_key_id)!r})"


def mask(access_key_id: str | None) -> str | None:
    """Mask an access key id like ``AKIA…WXYZ`` (first four and last four characters)."""
    if not access_key_id:
        return access_key_id
    if len(access_key_id) <= 8:
        return access_key_id[:2] + "…"
    return f"{access_key_id[:4]}…{access_key_id[-4:]}"


@dataclass(frozen=True)
class ConnectionSpec:
    """Everything needed to open one store.

    Attributes:
        name: label shown as a tree root (``"s3"``, ``"demo"``, ``"lab-minio"``).
        provider: ``"s3"``, ``"gcs"`` or ``"local"``.
        endpoint_url: S3-compatible endpoint (MinIO, Ceph, moto), ``None`` for AWS.
        region: S3 region name.
        profile: AWS named profile (``~/.aws/config``).
        path_style: S3 path-style addressing (``http://host/bucket/key``).
        anonymous: unsigned requests (S3 ``--no-sign-request``, GCS anonymous client).
        bucket: bucket to open first; shown even when ListBuckets is denied.
        prefix: prefix inside ``bucket`` to open first.
        root: local provider: the folder (a folder of buckets, or with ``bucket`` set by
            :func:`spec_for_location`, the folder that is the bucket).
        single_bucket: local provider: ``root`` itself is the one bucket.
        credentials_file: GCS service-account JSON file path.
        project: GCS project id.
        secrets: in-memory credentials (never persisted; see :class:`Secrets`).
        pinned: extra ``(bucket, prefix)`` locations to show under this connection.
        client_options: advanced client settings; for S3 botocore ``Config`` knobs
            (``signature_version``, ``max_attempts``, ``connect_timeout``, ``read_timeout``
            in seconds, ``addressing_style`` ...), for GCS ``max_attempts`` and the timeouts.
        write_args: extra arguments applied to every write (``ServerSideEncryption``,
            ``SSEKMSKeyId``, ``ACL``), as in ZenML's S3 artifact store.
        saved: True when the connection came from the config file (its secrets, if any,
            are in the keyring under its name).
        secrets_in: where a saved connection's secrets live, as its file records it:
            ``"keyring"``, ``"none"`` (see :data:`SECRETS_RECORDS`), or ``None`` when not
            recorded (saved by an older pail, or not saved).
        endpoint_source: where ``endpoint_url`` came from, named in every endpoint hint:
            ``"--endpoint-url"``, a variable (``"MLFLOW_S3_ENDPOINT_URL"``), or
            ``"connection NAME (FILE)"``; ``None`` when unknown or no endpoint. Not a
            setting: ignored by ``==``.
        verify_tls: check the endpoint's TLS certificate (S3); ``False`` only when the
            environment says so (``MLFLOW_S3_IGNORE_TLS=true``, MLflow's own switch).
        quirks: what the store can do, where the connection says (S3): ``flavour``,
            ``list_version`` (1 or 2), ``addressing_style``, ``batch_delete``, ``sts``,
            ``versioning``, ``lifecycle``, ``head_part_number``, ``object_attributes``,
            ``conditional_writes``
            (``pail.drivers.quirks.SETTINGS``); unset ones come from the flavour.
    """

    name: str
    provider: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    path_style: bool = False
    anonymous: bool = False
    bucket: str | None = None
    prefix: str = ""
    root: str | None = None
    single_bucket: bool = False
    credentials_file: str | None = None
    project: str | None = None
    secrets: Secrets | None = field(default=None, repr=False, compare=False)
    pinned: tuple[tuple[str, str], ...] = ()
    # Dicts are unhashable: keep them out of the generated __hash__ (equality still counts).
    client_options: Mapping[str, object] = field(default_factory=dict, hash=False)
    write_args: Mapping[str, str] = field(default_factory=dict, hash=False)
    saved: bool = False
    secrets_in: str | None = None
    endpoint_source: str | None = field(default=None, compare=False)
    verify_tls: bool = True
    quirks: Mapping[str, object] = field(default_factory=dict, hash=False)

    def locations(self) -> list[tuple[str, str]]:
        """``(bucket, prefix)`` pairs to open under this connection, default bucket first."""
        out: list[tuple[str, str]] = []
        if self.bucket:
            out.append((self.bucket, self.prefix))
        out.extend(p for p in self.pinned if p not in out)
        return out


class ConfigError(ValueError):
    """The config file is malformed; ``str()`` is ``"PATH:LINE: message"``.

    Attributes:
        path: the config file.
        line: 1-based line of the offending table or key, ``None`` when unknown.
        message: what is wrong and how to fix it (one line, never a secret).
    """

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


class ConfigLocked(ConfigError):
    """Another writer held the config file's lock (``connections.toml.lock``) for longer
    than the timeout; nothing was changed. ``str()`` names the lock file."""
