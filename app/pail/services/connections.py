"""Saved connections: save, remove and test one, and read a service-account key file.

One policy for the command line (``pail connection add``, ``import-env``, ``remove``,
``test``) and the app's connections screen and form; each front-end keeps only its own
presentation (prompts and lines, form fields and messages).

Saving (:func:`save_connection`). Settings go to the config file
(:class:`pail.config.store.ConnectionStore`), secrets to the OS keyring
(:mod:`pail.credentials`), and the file records where the secrets live: ``secrets =
"keyring"`` when the connection has a keyring entry, ``"none"`` when it has no secrets (its
credentials then come from a profile, the environment or the SDK's chain), no record for a
local folder. All of it runs under the config file's lock, in this order:

1. the name is checked (a valid name, not a ``pail`` command, not taken unless overwriting);
2. the keyring is written: typed secrets under the name, or a renamed connection's entry
   copied to its new name;
3. the settings are written (and a renamed connection's old table removed); if that fails,
   step 2 is undone (the name's previous entry put back, or the new one deleted);
4. only then are entries no longer needed deleted: a renamed connection's old entry, and a
   stale entry under a name whose record is now ``"none"``.

Typed secrets the keyring cannot keep (no usable backend, a locked collection) are never
written anywhere else, and then nothing is saved: :class:`pail.credentials.KeyringUnavailable`
is raised before any change. A connection whose record says keyring while its entry could
not be written would not open at all, and one saved without the secrets typed for it
would run as whatever identity the environment holds; refusing is the one outcome that
surprises no one, and the front-ends say how to save without secrets.

Testing (:func:`test_connection`) makes one request: the first page of the connection's
default bucket and prefix, else ListBuckets. The page holds up to
:data:`pail.drivers.base.DEFAULT_PAGE_SIZE` (1,000) keys: the same request ``pail ls`` and
the app's tree make first, so a test that passes means browsing works (a store that caps
or rejects ``max-keys`` fails the test, not the first listing), at the cost of one
ListObjectsV2 of at most 1,000 keys (~0.3 s on a local moto server).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pail import credentials
from pail.config.env import connections_from_env
from pail.config.store import ConnectionStore
from pail.core.connection import NAME_RE, SECRETS_KEYRING, SECRETS_NONE, ConnectionSpec, Secrets
from pail.core.endpoint import check_endpoint
from pail.drivers.base import DEFAULT_PAGE_SIZE
from pail.services.locations import location_in, open_spec

if TYPE_CHECKING:
    from pail.core.uri import Location
    from pail.drivers.base import Bucket, StorageDriver

#: Names ``pail NAME`` would read as a command rather than a saved connection: the
#: command line's subcommands (a test in tests/cli keeps this in step with them) and
#: ``help``.
RESERVED_NAMES = frozenset(
    {
        "open",
        "ls",
        "get",
        "url",
        "put",
        "cp",
        "mv",
        "check",
        "du",
        "rm",
        "versions",
        "restore",
        "lifecycle",
        "connection",
        "doctor",
        "runs",
        "diff",
        "inventory",
        "demo",
        "help",
    }
)

#: Page size of :func:`test_connection`'s listing (see the module doc for why).
TEST_PAGE_SIZE = DEFAULT_PAGE_SIZE


class BadName(ValueError):
    """A connection name that cannot be saved.

    Attributes:
        name: the name as given.
        reason: ``"empty"``, ``"pattern"`` (not :data:`pail.core.connection.NAME_RE`:
            letters, digits, ``.``, ``_``, ``-``, starting with a letter or digit, at most
            64 characters) or ``"reserved"`` (a ``pail`` command, :data:`RESERVED_NAMES`).
    """

    def __init__(self, name: str, reason: str) -> None:
        messages = {
            "empty": "a connection needs a name",
            "pattern": "use letters, digits, '.', '_' and '-', starting with a letter or "
            "digit (up to 64 characters)",
            "reserved": f"{name!r} is a pail command; pick another connection name",
        }
        super().__init__(messages[reason])
        self.name = name
        self.reason = reason


class ConnectionExists(ValueError):
    """Another saved connection has this name (and overwriting was not asked for)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"connection {name!r} already exists")
        self.name = name


class BadKeyFile(ValueError):
    """A service-account key file that cannot be used; ``str()`` is one line naming the
    file and the problem, never its content."""


def check_name(name: str) -> None:
    """Raise :class:`BadName` unless ``name`` can be saved (see its ``reason``s)."""
    if not name:
        raise BadName(name, "empty")
    if not NAME_RE.match(name):
        raise BadName(name, "pattern")
    if name in RESERVED_NAMES:
        raise BadName(name, "reserved")


def read_service_account(path: str) -> dict[str, Any]:
    """The service-account key JSON in ``path`` (``~`` expanded).

    Checks what Google's ``service_account.Credentials.from_service_account_info`` needs
    to sign requests: a JSON object with ``"type": "service_account"``, ``client_email``
    and ``private_key``. User credentials (``gcloud auth``) are refused: they belong to a
    person, not in pail's keyring.

    Raises:
        BadKeyFile: unreadable, not JSON, not a service-account key, or missing
            ``client_email``/``private_key``. The message never holds the content.
    """
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            info = json.load(fh)
    except OSError as exc:
        raise BadKeyFile(f"cannot read {path!r}: {exc.strerror or exc}") from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError
        raise BadKeyFile(f"{path!r} is not JSON (expected a service-account key)") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise BadKeyFile(
            f"{path!r} is not a service-account key (its type is not 'service_account'); "
            "user credentials stay with `gcloud auth` instead"
        )
    if not info.get("client_email") or not info.get("private_key"):
        raise BadKeyFile(f"{path!r} lacks client_email or private_key")
    return {str(k): v for k, v in info.items()}


# --- import from the environment --------------------------------------------------------

#: Setting variables :func:`connection_from_environment` may read (reported when set).
ENV_SETTINGS = (
    "MLFLOW_S3_ENDPOINT_URL",
    "FML_S3_ENDPOINT_URI",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "FML_S3_USE_PATH_STYLE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "S3_BUCKET_NAME",
    "MODELKIT_STORAGE_PROVIDER",
    "STORAGE_PROVIDER",
    "MODELKIT_STORAGE_BUCKET",
    "MODELKIT_STORAGE_PREFIX",
    "GOOGLE_CLOUD_PROJECT",
)
_AWS_SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class NothingInEnvironment(ValueError):
    """The environment describes no store (no AWS/S3, GCS or modelkit variables)."""


@dataclass(frozen=True)
class FromEnvironment:
    """A connection built from the environment, ready for :func:`save_connection`.

    Attributes:
        spec: the connection (``saved``; a GCS key file's path dropped when its content
            is among the secrets).
        secrets: the secrets found (``AWS_ACCESS_KEY_ID`` + ``AWS_SECRET_ACCESS_KEY``
            [+ ``AWS_SESSION_TOKEN``], or the content of
            ``GOOGLE_APPLICATION_CREDENTIALS``), else ``None``.
        used: the setting variables that were set (:data:`ENV_SETTINGS`).
        moved: the secret variables whose values are in ``secrets``.
    """

    spec: ConnectionSpec
    secrets: Secrets | None
    used: tuple[str, ...] = ()
    moved: tuple[str, ...] = ()


def connection_from_environment(name: str, env: Mapping[str, str]) -> FromEnvironment:
    """Connection ``name`` for the first store the environment describes
    (:func:`pail.config.env.connections_from_env`: modelkit, then S3, then GCS), with the
    secrets found there: what FastTrackML, modelkit and Llama Stack users already have set.

    Raises:
        NothingInEnvironment: no store is described.
        BadKeyFile: ``GOOGLE_APPLICATION_CREDENTIALS`` names an unusable key file.
    """
    found = connections_from_env(env)
    if not found:
        raise NothingInEnvironment(
            "the environment describes no store (looked for AWS_*, MLFLOW_S3_ENDPOINT_URL, "
            "S3_ENDPOINT_URL, FML_S3_ENDPOINT_URI, MODELKIT_STORAGE_PROVIDER, "
            "GOOGLE_APPLICATION_CREDENTIALS ...)"
        )
    spec = replace(found[0], name=name, saved=True)
    used = tuple(v for v in ENV_SETTINGS if env.get(v))
    moved: tuple[str, ...] = ()
    secrets = None
    if spec.provider == "s3":
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            secrets = Secrets(key, secret, env.get("AWS_SESSION_TOKEN") or None)
            moved = tuple(v for v in _AWS_SECRETS if env.get(v))
    elif spec.provider == "gcs":
        path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path:
            secrets = Secrets(service_account_info=read_service_account(path))
            spec = replace(spec, credentials_file=None)
            moved = ("GOOGLE_APPLICATION_CREDENTIALS (the key file's content)",)
    return FromEnvironment(spec, secrets, used, moved)


# --- save -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saved:
    """What :func:`save_connection` did.

    Attributes:
        spec: the connection as saved (no secrets on it; ``secrets_in`` set).
        previous_name: the name an edited connection had before a rename, else ``None``.
        secrets_stored: the typed secrets were written to the keyring.
        secrets_moved: a renamed connection's keyring entry was copied to the new name.
    """

    spec: ConnectionSpec
    previous_name: str | None = None
    secrets_stored: bool = False
    secrets_moved: bool = False


def secrets_record(
    spec: ConnectionSpec, secrets: Secrets | None, editing: ConnectionSpec | None = None
) -> str | None:
    """Where a saved connection's secrets will live: ``"keyring"`` when secrets were
    given; else what the edited connection recorded (same provider; ``None`` stays
    ``None``: saved by an older pail, keyring if it has an entry); else ``"none"``. A
    local folder has no record."""
    if spec.provider == "local":
        return None
    if secrets is not None:
        return SECRETS_KEYRING
    if editing is not None and editing.saved and editing.provider == spec.provider:
        return editing.secrets_in
    return SECRETS_NONE


def save_connection(
    store: ConnectionStore,
    spec: ConnectionSpec,
    secrets: Secrets | None = None,
    *,
    overwrite: bool = False,
    editing: ConnectionSpec | None = None,
) -> Saved:
    """Save ``spec`` and its ``secrets`` by the policy in the module doc (blocking: file and
    keyring I/O, under the config file's lock).

    Args:
        store: the config file.
        spec: the connection's settings (its ``secrets`` attribute is ignored).
        secrets: secrets to keep in the keyring; ``None``: none given.
        overwrite: replace another saved connection of the same name (``--replace``);
            with no secrets given it then has none (its old entry is deleted).
        editing: the saved connection being edited, whose name ``spec`` may change (a
            rename moves its keyring entry). No secrets given keeps its secrets.

    Returns:
        :class:`Saved`.

    Raises:
        BadName: ``spec.name`` cannot be saved. ConnectionExists: the name is taken.
        BadEndpoint: the S3 endpoint has no scheme, a bucket in its path or host name...
            (:func:`pail.core.endpoint.check_endpoint`); nothing was changed.
        KeyringUnavailable: the keyring cannot keep the secrets (or move a renamed
            connection's entry); nothing was changed.
        ConfigError: the config file is malformed. ConfigLocked: another writer held the
            lock past its timeout. OSError: the file cannot be written.
    """
    check_name(spec.name)
    if spec.provider == "s3":  # a saved endpoint the file would refuse on its next read
        check_endpoint(spec.endpoint_url, spec.endpoint_source)
    if editing is not None and not editing.saved:
        editing = None
    previous = editing.name if editing is not None else None
    renamed = previous if previous is not None and previous != spec.name else None
    record = secrets_record(spec, secrets, editing)
    spec = replace(spec, secrets_in=record, secrets=None, saved=True)
    with store.locked():
        if spec.name != previous and spec.name in store.names() and not overwrite:
            raise ConnectionExists(spec.name)
        undo, moved = _write_secrets(spec, secrets, renamed)
        try:
            store.save(spec)
            if renamed:
                store.remove(renamed)
        except BaseException:
            undo()
            raise
        if renamed:
            _forget(renamed)  # its entry now lives under the new name (or never existed)
        if secrets is None and (record == SECRETS_NONE or spec.provider == "local"):
            _forget(spec.name)  # an entry left by an older connection of that name
    return Saved(spec, renamed, secrets is not None, moved)


def _write_secrets(
    spec: ConnectionSpec, secrets: Secrets | None, renamed: str | None
) -> tuple[Callable[[], None], bool]:
    """Step 2 of the policy: put the given secrets (or a renamed connection's entry) under
    ``spec.name``. Returns ``(undo, moved)``: ``undo`` puts back the entry the name had
    before (best effort); ``moved`` says a renamed connection's entry was copied.

    Raises KeyringUnavailable, having changed nothing."""
    moved = secrets is None and renamed is not None and spec.secrets_in != SECRETS_NONE
    if moved:
        assert renamed is not None
        secrets = _entry(renamed, spec.provider)
    if secrets is None:  # nothing given, nothing to move (or the old name had no entry)
        return (lambda: None), False
    try:
        before = credentials.read_secrets(spec.name, spec.provider)
    except credentials.SecretsUnavailable:  # the write below says why, in its own words
        before = None
    credentials.store_secrets(spec.name, secrets)

    def undo() -> None:
        with contextlib.suppress(credentials.KeyringUnavailable):
            if before is not None:
                credentials.store_secrets(spec.name, before)
            else:
                credentials.delete_secrets(spec.name)

    return undo, moved


def _entry(name: str, provider: str) -> Secrets | None:
    """``name``'s keyring entry (``None``: none); a keyring that cannot be read raises
    KeyringUnavailable, as a write to it would."""
    try:
        return credentials.read_secrets(name, provider)
    except credentials.SecretsUnavailable as exc:
        raise credentials.KeyringUnavailable(exc.message) from None


def _forget(name: str) -> None:
    """Delete ``name``'s keyring entry, best effort (the keyring may be unusable)."""
    with contextlib.suppress(credentials.KeyringUnavailable):
        credentials.delete_secrets(name)


# --- remove -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    """What :func:`remove_connection` did.

    Attributes:
        from_file: the connection's table was removed from the config file.
        secrets_deleted: its keyring entry was deleted.
        keyring_problem: why the keyring could not be checked (unusable), else ``""``.
    """

    from_file: bool
    secrets_deleted: bool = False
    keyring_problem: str = ""

    @property
    def found(self) -> bool:
        """Anything was removed (False: no such connection, nor keyring entry)."""
        return self.from_file or self.secrets_deleted


def remove_connection(store: ConnectionStore, name: str) -> Removed:
    """Remove saved connection ``name``: its config entry, then its keyring entry (also
    an entry left without a config entry), under the config file's lock so an add of the
    same name at that moment cannot lose its new secrets (blocking).

    Raises:
        ConfigError: the config file is malformed. ConfigLocked: another writer held the
            lock past its timeout. OSError: the file cannot be written.
    """
    # No file: no lock to take (taking it would create the config folder for nothing).
    lock = store.locked() if os.path.exists(store.path) else contextlib.nullcontext()
    with lock:
        from_file = store.remove(name)
        try:
            deleted = credentials.delete_secrets(name)
        except credentials.KeyringUnavailable as exc:
            return Removed(from_file, False, str(exc))
    return Removed(from_file, deleted)


# --- test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionTest:
    """What :func:`test_connection` found.

    Attributes:
        spec: the connection tested.
        source: where its credentials came from (``"keyring"``, ``"profile NAME"`` ...;
            ``""`` when resolving them failed); ``identity``: masked key id or
            ``client_email``, never a secret.
        location: the default bucket and prefix listed; ``None`` when ListBuckets ran.
        prefixes / objects: entries of each type on the first page (of at most
            :data:`TEST_PAGE_SIZE`); ``more``: further pages follow.
        buckets: ListBuckets' answer (when ``location`` is None).
        error: why it failed (any exception: resolving, building the driver or the
            request), else ``None``.
    """

    spec: ConnectionSpec
    source: str = ""
    identity: str | None = None
    location: Location | None = None
    prefixes: int = 0
    objects: int = 0
    more: bool = False
    buckets: tuple[Bucket, ...] = ()
    error: Exception | None = None

    __test__ = False  # not a pytest test class

    @property
    def ok(self) -> bool:
        """True when the request succeeded."""
        return self.error is None


def test_connection(
    spec: ConnectionSpec,
    *,
    driver_factory: Callable[[ConnectionSpec], StorageDriver] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConnectionTest:
    """Resolve ``spec``'s credentials, open it and make one request (blocking): the first
    page of its default bucket at its default prefix, else ListBuckets.

    Args:
        spec: the connection.
        driver_factory: builds the driver (default :func:`pail.drivers.registry.open_driver`).
        environ: for credentials from the environment; ``None`` = ``os.environ``.

    Never raises for a failure (``Exception``): it comes back on :attr:`ConnectionTest.error`
    with the credential source found so far.
    """
    source, identity = "", None
    try:
        driver, resolved = open_spec(spec, environ=environ, driver_factory=driver_factory)
        source, identity = resolved.source, resolved.identity
        if not spec.bucket:
            buckets = tuple(driver.list_buckets())
            return ConnectionTest(spec, source, identity, buckets=buckets)
        page = driver.list_page(spec.bucket, spec.prefix, page_size=TEST_PAGE_SIZE)
    except Exception as exc:  # the front-end shows it (fields and hint, or an exit status)
        return ConnectionTest(spec, source, identity, error=exc)
    prefixes = sum(1 for e in page.entries if e.is_prefix)
    return ConnectionTest(
        spec,
        source,
        identity,
        location=location_in(spec, spec.bucket, spec.prefix),
        prefixes=prefixes,
        objects=len(page.entries) - prefixes,
        more=bool(page.next_token),
    )


__all__ = [
    "ENV_SETTINGS",
    "RESERVED_NAMES",
    "TEST_PAGE_SIZE",
    "BadKeyFile",
    "BadName",
    "ConnectionExists",
    "ConnectionTest",
    "FromEnvironment",
    "NothingInEnvironment",
    "Removed",
    "Saved",
    "check_name",
    "connection_from_environment",
    "read_service_account",
    "remove_connection",
    "save_connection",
    "secrets_record",
    "test_connection",
]
