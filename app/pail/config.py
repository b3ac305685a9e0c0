"""Connection settings: what a driver needs to reach one store.

For now connections come from command-line flags and the environment the artifact tools
already use; saved profiles (TOML) and keyring secrets plug in here later.

Environment variables read (first match wins for the S3 endpoint):

* ``AWS_ENDPOINT_URL_S3``, ``AWS_ENDPOINT_URL`` - botocore's own.
* ``S3_ENDPOINT_URL`` - Llama Stack.
* ``S3_ENDPOINT`` - modelkit.
* ``FML_S3_ENDPOINT_URI`` and ``FML_S3_USE_PATH_STYLE`` - FastTrackML.
* ``STORAGE_PROVIDER`` (``s3``/``gcs``/``local``), ``MODELKIT_STORAGE_BUCKET``,
  ``MODELKIT_STORAGE_PREFIX`` - modelkit.
* ``AWS_PROFILE``, ``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` - AWS.
* ``GOOGLE_APPLICATION_CREDENTIALS``, ``STORAGE_EMULATOR_HOST`` - Google.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pail.uri import Location

PROVIDERS = ("s3", "gcs", "local")

_S3_ENDPOINT_VARS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "FML_S3_ENDPOINT_URI",
)
_TRUE = {"1", "true", "yes", "on"}


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

    def locations(self) -> list[tuple[str, str]]:
        """``(bucket, prefix)`` pairs to open under this connection, default bucket first."""
        out: list[tuple[str, str]] = []
        if self.bucket:
            out.append((self.bucket, self.prefix))
        out.extend(p for p in self.pinned if p not in out)
        return out


@dataclass(frozen=True)
class Flags:
    """The connection flags every command accepts (``--endpoint-url`` ...); ``None`` = unset."""

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    path_style: bool | None = None
    no_sign_request: bool | None = None

    def apply(self, spec: ConnectionSpec) -> ConnectionSpec:
        """Return ``spec`` with every set flag applied (flags only affect S3 connections,
        except ``--no-sign-request`` which also makes GCS anonymous)."""
        changes: dict[str, object] = {}
        if spec.provider == "s3":
            for name in ("endpoint_url", "region", "profile", "path_style"):
                value = getattr(self, name)
                if value is not None:
                    changes[name] = value
        if self.no_sign_request is not None and spec.provider in ("s3", "gcs"):
            changes["anonymous"] = self.no_sign_request
        return replace(spec, **changes) if changes else spec


def s3_endpoint_from_env(environ: Mapping[str, str]) -> str | None:
    """The S3 endpoint the environment names, by the precedence in the module doc."""
    for var in _S3_ENDPOINT_VARS:
        value = environ.get(var, "").strip()
        if value:
            return value
    return None


def s3_spec_from_env(environ: Mapping[str, str], name: str = "s3") -> ConnectionSpec:
    """An S3 connection from the environment: endpoint, region, profile, path style.

    Credentials themselves are left to botocore's chain (env vars, profile, SSO, IMDS),
    which reads the same environment.
    """
    path_style = environ.get("FML_S3_USE_PATH_STYLE", "").strip().lower() in _TRUE
    return ConnectionSpec(
        name=name,
        provider="s3",
        endpoint_url=s3_endpoint_from_env(environ),
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        profile=environ.get("AWS_PROFILE") or None,
        path_style=path_style,
    )


def connections_from_env(environ: Mapping[str, str] | None = None) -> list[ConnectionSpec]:
    """Every store the environment configures, as connection specs.

    * modelkit (``STORAGE_PROVIDER`` + ``MODELKIT_STORAGE_BUCKET``): one connection named
      ``modelkit`` opened at that bucket and ``MODELKIT_STORAGE_PREFIX``.
    * S3 when any AWS/S3 variable is set (endpoint, profile, keys, region).
    * GCS when ``GOOGLE_APPLICATION_CREDENTIALS`` or ``STORAGE_EMULATOR_HOST`` is set.

    Returns an empty list when nothing is configured; the caller decides the fallback.
    """
    env = os.environ if environ is None else environ
    specs: list[ConnectionSpec] = []
    provider = env.get("STORAGE_PROVIDER", "").strip().lower()
    bucket = env.get("MODELKIT_STORAGE_BUCKET", "").strip()
    prefix = env.get("MODELKIT_STORAGE_PREFIX", "").strip()
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    if provider in ("s3", "s3ssm") and bucket:
        specs.append(replace(s3_spec_from_env(env, "modelkit"), bucket=bucket, prefix=prefix))
    elif provider in ("gcs",) and bucket:
        specs.append(
            ConnectionSpec(
                name="modelkit",
                provider="gcs",
                bucket=bucket,
                prefix=prefix,
                credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            )
        )
    elif provider == "local" and bucket:
        root = os.path.abspath(os.path.expanduser(bucket))
        specs.append(
            ConnectionSpec(
                name="modelkit",
                provider="local",
                root=root,
                single_bucket=True,
                bucket=os.path.basename(root.rstrip(os.sep)) or root,
                prefix=prefix,
            )
        )
    s3_vars = (*_S3_ENDPOINT_VARS, "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "S3_BUCKET_NAME")
    if any(env.get(v) for v in s3_vars) and not any(s.provider == "s3" for s in specs):
        spec = s3_spec_from_env(env)
        llama_bucket = env.get("S3_BUCKET_NAME", "").strip()
        if llama_bucket:  # Llama Stack's S3 files provider
            spec = replace(spec, bucket=llama_bucket)
        specs.append(spec)
    gcs_vars = ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST")
    if any(env.get(v) for v in gcs_vars) and not any(s.provider == "gcs" for s in specs):
        specs.append(
            ConnectionSpec(
                name="gcs",
                provider="gcs",
                credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
                project=env.get("GOOGLE_CLOUD_PROJECT") or None,
            )
        )
    return specs


def spec_for_location(
    location: Location, environ: Mapping[str, str] | None = None, flags: Flags | None = None
) -> ConnectionSpec:
    """A connection able to open ``location``, configured from the environment and flags.

    S3 locations get the environment's endpoint/region/profile; GCS the environment's
    credentials file; local locations open their folder as a single bucket.
    """
    env = os.environ if environ is None else environ
    if location.provider == "s3":
        spec = s3_spec_from_env(env)
    elif location.provider == "gcs":
        spec = ConnectionSpec(
            name="gcs",
            provider="gcs",
            credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
            project=env.get("GOOGLE_CLOUD_PROJECT") or None,
        )
    else:
        spec = ConnectionSpec(
            name=f"local:{location.root}", provider="local", root=location.root, single_bucket=True
        )
    spec = replace(spec, bucket=location.bucket, prefix=location.key)
    return flags.apply(spec) if flags else spec


def specs_for_locations(
    locations: list[Location],
    environ: Mapping[str, str] | None = None,
    flags: Flags | None = None,
) -> list[ConnectionSpec]:
    """Group locations into connections: one per provider (one per folder for local), the
    first location as the default bucket and the rest pinned."""
    grouped: dict[tuple[str, str | None], ConnectionSpec] = {}
    for loc in locations:
        group = (loc.provider, loc.root)
        if group not in grouped:
            grouped[group] = spec_for_location(loc, environ, flags)
        else:
            spec = grouped[group]
            if (loc.bucket, loc.key) not in spec.locations():  # the same location twice
                grouped[group] = replace(spec, pinned=(*spec.pinned, (loc.bucket, loc.key)))
    return list(grouped.values())
