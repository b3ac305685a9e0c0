"""Connections from the environment the artifact tools already use, and the config path.

Connections come from three places: saved connections in the TOML file
(:class:`pail.config.store.ConnectionStore`, format in :mod:`pail.config.file`),
command-line flags (:class:`pail.config.flags.Flags`), and the environment, read here.
Secrets never live here: they are in the OS keyring (:mod:`pail.credentials`) or in memory
(:class:`pail.core.connection.Secrets`).

The S3 endpoint (:func:`endpoint_from_env`), by each tool's own precedence:

1. the tools' variables: ``MLFLOW_S3_ENDPOINT_URL`` (MLflow), ``FML_S3_ENDPOINT_URI``
   (FastTrackML), ``S3_ENDPOINT_URL`` (Llama Stack), ``S3_ENDPOINT`` (modelkit). Each tool
   passes its variable to the SDK as the client's endpoint (MLflow
   ``store/artifact/s3_artifact_repo.py`` ``endpoint_url=MLFLOW_S3_ENDPOINT_URL``, modelkit
   ``assets/drivers/s3.py`` ``endpoint_url=S3_ENDPOINT``), which beats the SDK's own
   variables, so the tool's artifacts are at that endpoint. Two of them naming different
   endpoints is an :class:`EndpointConflict` (no tool decides between them; pail does not
   guess): ``--endpoint-url`` chooses.
2. botocore's own: ``AWS_ENDPOINT_URL_S3``, then ``AWS_ENDPOINT_URL`` (botocore >= 1.31,
   "service-specific endpoints"), skipped when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` is
   true, as botocore skips them.

The endpoint's source (the variable's name) travels on the connection
(:attr:`ConnectionSpec.endpoint_source`) into every endpoint hint, and the endpoint is
checked before any request (:func:`pail.core.endpoint.check_endpoint`).

Other variables read:

* ``MLFLOW_S3_IGNORE_TLS`` (MLflow: ``true``/``1``) turns TLS certificate checks off for
  the endpoint of ``MLFLOW_S3_ENDPOINT_URL`` only (anything else leaves them on).
* ``FML_S3_USE_PATH_STYLE`` - FastTrackML's path-style switch.
* modelkit: ``MODELKIT_STORAGE_PROVIDER`` (what modelkit reads, ``modelkit/assets/
  remote.py``), else ``STORAGE_PROVIDER`` (its older docs), ``MODELKIT_STORAGE_BUCKET``,
  ``MODELKIT_STORAGE_PREFIX`` (default ``modelkit-assets``, as in modelkit), and for S3
  ``S3_ENDPOINT`` then botocore's variables (modelkit reads no other tool's).
* ``S3_BUCKET_NAME`` - Llama Stack's files bucket.
* ``AWS_PROFILE``, ``AWS_REGION``/``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` - AWS.
* ``GOOGLE_APPLICATION_CREDENTIALS``, ``GOOGLE_CLOUD_PROJECT``, ``STORAGE_EMULATOR_HOST`` -
  Google.
* ``PAIL_CONFIG`` - the config file (:func:`default_config_path`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from pail.config.flags import Flags
from pail.core.connection import ConnectionSpec
from pail.core.endpoint import check_endpoint, safe_endpoint
from pail.core.uri import InvalidURI, Location

#: The tools' endpoint variables, in the order they are read (see the module doc).
TOOL_ENDPOINT_VARS = (
    "MLFLOW_S3_ENDPOINT_URL",
    "FML_S3_ENDPOINT_URI",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
)
#: botocore's own endpoint variables, read after the tools'.
AWS_ENDPOINT_VARS = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
#: Every variable that can name the S3 endpoint.
S3_ENDPOINT_VARS = (*TOOL_ENDPOINT_VARS, *AWS_ENDPOINT_VARS)
#: modelkit's own endpoint variable (modelkit reads no other tool's).
MODELKIT_ENDPOINT_VARS = ("S3_ENDPOINT",)
#: modelkit's prefix when ``MODELKIT_STORAGE_PREFIX`` is unset (``remote.py``).
MODELKIT_DEFAULT_PREFIX = "modelkit-assets/"
_TRUE = {"1", "true", "yes", "on"}


class EndpointConflict(InvalidURI):
    """Two tools' variables name different S3 endpoints (an InvalidURI: exit status 2).
    ``str()`` names both variables and endpoints (user names and passwords removed)."""


def _flag(environ: Mapping[str, str], name: str, truthy: frozenset[str] | set[str]) -> bool:
    return environ.get(name, "").strip().lower() in truthy


def endpoint_from_env(
    environ: Mapping[str, str], tool_vars: tuple[str, ...] = TOOL_ENDPOINT_VARS
) -> tuple[str | None, str | None]:
    """``(endpoint, variable)`` by the precedence in the module doc; ``(None, None)`` when
    no variable names one. Blank values are skipped.

    Args:
        environ: the variables.
        tool_vars: the tools' variables to read before botocore's (modelkit's connection
            reads only ``S3_ENDPOINT``).

    Raises:
        EndpointConflict: two of ``tool_vars`` name different endpoints.
    """
    found = [(v, environ.get(v, "").strip()) for v in tool_vars]
    found = [(v, value) for v, value in found if value]
    distinct = {value.rstrip("/") for _, value in found}
    if len(distinct) > 1:
        named = " and ".join(f"{v}={safe_endpoint(value)}" for v, value in found)
        raise EndpointConflict(
            f"the environment names different S3 endpoints: {named}; pass --endpoint-url "
            "to choose one (or unset the variable of the tool you are not using)"
        )
    if found:
        return found[0][1], found[0][0]
    if not _flag(environ, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", {"true"}):
        for var in AWS_ENDPOINT_VARS:
            value = environ.get(var, "").strip()
            if value:
                return value, var
    return None, None


def s3_endpoint_from_env(environ: Mapping[str, str]) -> str | None:
    """The S3 endpoint the environment names (:func:`endpoint_from_env`), without its
    source. Raises EndpointConflict as that function does."""
    return endpoint_from_env(environ)[0]


def s3_spec_from_env(
    environ: Mapping[str, str],
    name: str = "s3",
    *,
    tool_vars: tuple[str, ...] = TOOL_ENDPOINT_VARS,
    endpoint: bool = True,
) -> ConnectionSpec:
    """An S3 connection from the environment: endpoint (and its source), region, profile,
    path style, TLS checks.

    Credentials themselves are left to botocore's chain (env vars, profile, SSO, IMDS),
    which reads the same environment.

    Args:
        environ: the variables.
        name: the connection's name.
        tool_vars: the tools' endpoint variables to read (:func:`endpoint_from_env`).
        endpoint: read the endpoint; ``False`` when ``--endpoint-url`` gives it (then the
            variables are neither read nor checked).

    Raises:
        EndpointConflict: see :func:`endpoint_from_env`.
        BadEndpoint: the endpoint has no scheme, a bucket in its path or host name...
            (:func:`pail.core.endpoint.check_endpoint`; the message names the variable).
    """
    url, source = endpoint_from_env(environ, tool_vars) if endpoint else (None, None)
    check_endpoint(url, source)
    path_style = _flag(environ, "FML_S3_USE_PATH_STYLE", _TRUE)
    # MLflow: verify=False when MLFLOW_S3_IGNORE_TLS is true, for its own endpoint only.
    ignore_tls = source == "MLFLOW_S3_ENDPOINT_URL" and _flag(
        environ, "MLFLOW_S3_IGNORE_TLS", {"true", "1"}
    )
    return ConnectionSpec(
        name=name,
        provider="s3",
        endpoint_url=url,
        region=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None,
        profile=environ.get("AWS_PROFILE") or None,
        path_style=path_style,
        endpoint_source=source,
        verify_tls=not ignore_tls,
    )


def modelkit_prefix(environ: Mapping[str, str]) -> str:
    """modelkit's object prefix: ``MODELKIT_STORAGE_PREFIX`` or ``modelkit-assets``, as a
    prefix ending in ``/`` (modelkit joins ``prefix/name/version``)."""
    prefix = environ.get("MODELKIT_STORAGE_PREFIX", "").strip().strip("/")
    return f"{prefix}/" if prefix else MODELKIT_DEFAULT_PREFIX


def connections_from_env(
    environ: Mapping[str, str] | None = None, *, endpoint: bool = True
) -> list[ConnectionSpec]:
    """Every store the environment configures, as connection specs.

    * modelkit (``MODELKIT_STORAGE_PROVIDER`` or ``STORAGE_PROVIDER``, and
      ``MODELKIT_STORAGE_BUCKET``): one connection named ``modelkit`` opened at that bucket
      and ``MODELKIT_STORAGE_PREFIX`` (default ``modelkit-assets/``).
    * S3 when any AWS/S3 variable is set (endpoint, profile, keys, region).
    * GCS when ``GOOGLE_APPLICATION_CREDENTIALS`` or ``STORAGE_EMULATOR_HOST`` is set.

    Returns an empty list when nothing is configured; the caller decides the fallback.
    ``endpoint=False``: the S3 endpoint variables are not read (``--endpoint-url`` gives it).

    Raises:
        EndpointConflict, BadEndpoint: as :func:`s3_spec_from_env`.
    """
    env = os.environ if environ is None else environ
    specs: list[ConnectionSpec] = []
    provider = (
        env.get("MODELKIT_STORAGE_PROVIDER", "").strip() or env.get("STORAGE_PROVIDER", "").strip()
    ).lower()
    bucket = env.get("MODELKIT_STORAGE_BUCKET", "").strip()
    prefix = modelkit_prefix(env)
    if provider in ("s3", "s3ssm") and bucket:
        modelkit = s3_spec_from_env(
            env, "modelkit", tool_vars=MODELKIT_ENDPOINT_VARS, endpoint=endpoint
        )
        specs.append(replace(modelkit, bucket=bucket, prefix=prefix))
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
    s3_vars = (*S3_ENDPOINT_VARS, "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "S3_BUCKET_NAME")
    if any(env.get(v) for v in s3_vars) and not any(s.provider == "s3" for s in specs):
        spec = s3_spec_from_env(env, endpoint=endpoint)
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

    S3 locations get the environment's endpoint/region/profile (not read when
    ``--endpoint-url`` is given); GCS the environment's credentials file; local locations
    open their folder as a single bucket.

    Raises:
        EndpointConflict, BadEndpoint: as :func:`s3_spec_from_env`; BadEndpoint also for a
            bad ``--endpoint-url``.
    """
    env = os.environ if environ is None else environ
    if location.provider == "s3":
        flagged = flags is not None and flags.endpoint_url is not None
        spec = s3_spec_from_env(env, endpoint=not flagged)
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
