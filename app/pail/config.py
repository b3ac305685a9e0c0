"""Connection settings: what a driver needs to reach one store.

Connections come from three places: saved connections in the TOML file that
:class:`ConnectionStore` reads and writes (format in :mod:`pail.config_file`), command-line
flags, and the environment the artifact tools already use. Secrets never live here: they
are in the OS keyring (:mod:`pail.credentials`) or in memory (:class:`Secrets`).

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

import contextlib
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pail import config_file, config_write
from pail.connection import (
    NAME_RE,
    PROVIDERS,
    SECRETS_KEYRING,
    SECRETS_NONE,
    ConfigError,
    ConfigLocked,
    ConnectionSpec,
    Secrets,
    mask,
)
from pail.uri import Location

__all__ = [
    "NAME_RE",
    "PROVIDERS",
    "SECRETS_KEYRING",
    "SECRETS_NONE",
    "ConfigError",
    "ConfigLocked",
    "ConnectionSpec",
    "ConnectionStore",
    "Flags",
    "Secrets",
    "connections_from_env",
    "default_config_path",
    "mask",
    "resolve_target",
    "s3_spec_from_env",
    "spec_for_location",
    "specs_for_locations",
]


_S3_ENDPOINT_VARS = (
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "FML_S3_ENDPOINT_URI",
)
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Flags:
    """The connection flags every command accepts (``--endpoint-url`` ...); ``None`` = unset.

    ``connect_timeout`` and ``read_timeout`` are seconds, ``retries`` the retries after a
    request's first attempt (``--retries N`` = N + 1 attempts); the command line checks
    their ranges (:data:`pail.drivers._retry.SETTING_LIMITS`) before they get here.
    """

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    path_style: bool | None = None
    no_sign_request: bool | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None
    retries: int | None = None

    def apply(self, spec: ConnectionSpec) -> ConnectionSpec:
        """Return ``spec`` with every set flag applied (flags only affect S3 connections,
        except ``--no-sign-request`` which also makes GCS anonymous, and the timeouts and
        ``--retries``, which go into the ``client_options`` of S3 and GCS connections and
        win over the connection's own ``[connections.NAME.client]`` values)."""
        changes: dict[str, object] = {}
        if spec.provider == "s3":
            for name in ("endpoint_url", "region", "profile", "path_style"):
                value = getattr(self, name)
                if value is not None:
                    changes[name] = value
        if self.no_sign_request is not None and spec.provider in ("s3", "gcs"):
            changes["anonymous"] = self.no_sign_request
        client = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_attempts": None if self.retries is None else self.retries + 1,
        }
        client = {k: v for k, v in client.items() if v is not None}
        if client and spec.provider in ("s3", "gcs"):
            changes["client_options"] = {**spec.client_options, **client}
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


# --- saved connections ----------------------------------------------------------------
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


#: Seconds a writer waits for another writer's lock on the config file before giving up.
LOCK_TIMEOUT = 10.0


class ConnectionStore:
    """Saved connections in the TOML config file (format: :mod:`pail.config_file`).

    Args:
        path: the file; ``None`` = :func:`default_config_path`.
        environ: variables for ``${env.NAME}`` expansion; ``None`` = ``os.environ``.
        lock_timeout: seconds to wait for another writer's lock (:meth:`locked`); ``None``
            = :data:`LOCK_TIMEOUT`.

    The file is re-read on every call, so edits by hand are seen at once. Writes keep the
    user's comments and layout (tomlkit), go through a temporary file and ``os.replace``
    (a crash never leaves half a file; readers never see one, so reads take no lock) and
    leave the file at mode 0600. Every read-modify-write holds an exclusive lock on
    ``PATH.lock`` (:meth:`locked`), so writers in other processes or threads at the same
    moment never lose each other's changes. Secrets are never written:
    :attr:`ConnectionSpec.secrets` is ignored here (only :attr:`ConnectionSpec.secrets_in`,
    where they live, is).
    """

    def __init__(
        self,
        path: str | None = None,
        environ: Mapping[str, str] | None = None,
        lock_timeout: float | None = None,
    ):
        self.path = path or default_config_path()
        self._environ = environ
        self.lock_timeout = LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._lock: Any = None  # a filelock.FileLock, made on first use (creates the folder)
        self._lock_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"ConnectionStore({self.path!r})"

    @property
    def lock_path(self) -> str:
        """The lock file next to the config file: ``connections.toml.lock`` (mode 0600;
        left in place between writes, as flock-based locks must be)."""
        return self.path + ".lock"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the config file's write lock for a whole transaction (several
        :meth:`save`/:meth:`remove` calls, or a check followed by a write).

        An exclusive ``flock`` on :attr:`lock_path` through ``filelock`` (the lock dies
        with its process, so a crash never leaves it held). Re-entrant in one thread of
        one store (``save`` and ``remove`` take it too); other threads and processes
        wait up to :attr:`lock_timeout` seconds. The folder is created (mode 0700) if
        missing.

        Raises:
            ConfigLocked: the lock was not free within the timeout; nothing was changed.
            OSError: the folder or lock file cannot be created.
        """
        import filelock

        with self._lock_guard:
            if self._lock is None:
                folder = os.path.dirname(os.path.abspath(self.path))
                os.makedirs(folder, mode=0o700, exist_ok=True)
                self._lock = filelock.FileLock(
                    self.lock_path, timeout=self.lock_timeout, mode=0o600
                )
            lock = self._lock
        try:
            lock.acquire()
        except filelock.Timeout:
            raise ConfigLocked(
                self.path,
                None,
                f"another pail is writing this file (its lock {self.lock_path} was held for "
                f"more than {self.lock_timeout:g} s); nothing was changed: try again",
            ) from None
        try:
            yield
        finally:
            lock.release()

    def _read(self) -> str | None:
        try:
            with open(self.path, encoding="utf-8") as fh:
                return fh.read()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(self.path, None, f"cannot read the config file: {exc}") from None

    def load(self) -> list[ConnectionSpec]:
        """Every saved connection, in file order, with ``${env.…}`` expanded.

        Raises:
            ConfigError: bad TOML, unknown provider or key, a secret in the file, a
                missing variable without default, a duplicate name. A missing file is
                no connections.
        """
        text = self._read()
        if text is None:
            return []
        env = os.environ if self._environ is None else self._environ
        return config_file.parse_specs(text, self.path, env)

    def names(self) -> list[str]:
        """Names of the saved connections, in file order (raises like :meth:`load`)."""
        return [spec.name for spec in self.load()]

    def get(self, name: str) -> ConnectionSpec:
        """The saved connection called ``name``.

        Raises:
            KeyError: no such connection. ConfigError: as :meth:`load`.
        """
        for spec in self.load():
            if spec.name == name:
                return spec
        raise KeyError(name)

    def save(self, spec: ConnectionSpec) -> None:
        """Add ``spec`` or update the connection of the same name, keeping the rest of the
        file (comments, order, other connections) as it was. Values the file spells as
        ``${env.NAME}`` stay that way when their expansion is unchanged. The file's
        ``secrets`` record is set from ``spec.secrets_in`` (removed when it is None).

        The read, the change and the write happen under :meth:`locked`.

        Raises:
            ConfigError: the existing file is malformed, or ``spec.name`` is not a valid
                name (:data:`NAME_RE`) or its provider is unknown.
            ConfigLocked: another writer held the lock past the timeout.
            OSError: the file or its folder cannot be written.
        """
        env = os.environ if self._environ is None else self._environ
        with self.locked():
            text = self._read()
            new_text = config_write.with_spec(text or "", self.path, spec, env)
            config_write.write_atomic(self.path, new_text)

    def remove(self, name: str) -> bool:
        """Delete the connection ``name`` from the file (under :meth:`locked`); False if
        it was not there.

        Raises:
            ConfigError: the file is malformed. ConfigLocked: as :meth:`save`.
            OSError: the file cannot be written.
        """
        if not os.path.exists(self.path):
            return False  # nothing to lock for (and no folder to create)
        with self.locked():
            text = self._read()
            if text is None:
                return False
            new_text = config_write.without_spec(text, self.path, name)
            if new_text is None:
                return False
            config_write.write_atomic(self.path, new_text)
        return True


def resolve_target(text: str, store: ConnectionStore) -> tuple[ConnectionSpec, str, str] | None:
    """Read ``NAME`` or ``NAME:bucket/prefix`` where NAME is a saved connection.

    Returns ``(spec, bucket, prefix)``: bucket ``""`` means the connection's own default
    (or its bucket list), prefix ``""`` the bucket root. Returns ``None`` when ``text`` is
    not such a reference (a URI such as ``s3://b``, a path, an unknown name): the caller
    then uses :func:`pail.uri.parse_uri`. A saved name wins over a same-named folder in
    the current directory; type ``./name`` for the folder.

    Raises:
        ConfigError: the config file is malformed (only read when ``text`` looks like a
            reference).
    """
    name, _, rest = text.partition(":")
    if not NAME_RE.match(name) or rest.startswith("//"):
        return None
    try:
        spec = store.get(name)
    except KeyError:
        return None
    bucket, _, prefix = rest.lstrip("/").partition("/")
    return spec, bucket, prefix
