"""Connections from the environment the artifact tools already use, and the config path.

Connections come from three places: saved connections in the TOML file
(:class:`pail.config.store.ConnectionStore`, format in :mod:`pail.config.file`),
command-line flags (:class:`pail.config.flags.Flags`), and the environment, read here.
Secrets never live here: they are in the OS keyring (:mod:`pail.credentials`) or in memory
(:class:`pail.core.connection.Secrets`).

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
from dataclasses import replace

from pail.config.flags import Flags
from pail.core.connection import ConnectionSpec
from pail.core.uri import Location

_S3_ENDPOINT_VARS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "FML_S3_ENDPOINT_URI",
)
_TRUE = {"1", "true", "yes", "on"}


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


def default_config_path(environ: Mapping[str, str] | None = None) -> str:
    """The config file: ``$PAIL_CONFIG`` if set, else ``connections.toml`` in the
    platform's config folder (``platformdirs.user_config_dir("pail")``, e.g.
    ``~/.config/pail/connections.toml`` on Linux)."""
    env = os.environ if environ is None else environ
    override = env.get("PAIL_CONFIG", "").strip()
    if override:
        return os.path.abspath(os.path.expanduser(override))
    from platformdirs import user_config_dir

    return os.path.join(user_config_dir("pail", appauthor=False), "connections.toml")
