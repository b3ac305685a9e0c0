"""Secrets in the OS keyring, and which credentials a connection ends up using.

This is the only module that touches the keyring or reads secrets from the environment.

Keyring layout: service ``pail``, username = the connection name, password = one JSON
object holding every secret of that connection::

    {"v": 1, "access_key_id": "AKIA…", "secret_access_key": "…", "session_token": "…",
     "service_account_info": {…the GCS service-account key JSON…}}

One entry per connection rather than one per field because: a locked keyring prompts once
per read, not three times; a store is one write, so a connection never ends up with a new
key id next to an old secret; and removing a connection deletes everything in one call.

Credential resolution (:func:`resolve`), first match wins:

1. the connection's keyring entry (saved connections only);
2. its AWS named profile (``profile = "NAME"``; S3) or service-account file (GCS);
3. the environment: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``/``AWS_SESSION_TOKEN``,
   ``AWS_PROFILE``; ``GOOGLE_APPLICATION_CREDENTIALS``;
4. the SDK's default chain (``~/.aws``, SSO, instance metadata; gcloud application default
   credentials).

A saved connection keeps its identity: its file records where its secrets live
(``secrets = "keyring"`` or ``"none"``, :attr:`ConnectionSpec.secrets_in`). When the record
says keyring, step 1 is the only source: a keyring that is locked, gone or without the
entry raises :class:`SecretsUnavailable` and steps 2-4 are never tried (falling through
would silently swap a read-only identity for whatever the environment holds). See
:func:`resolve` for connections saved before the record existed.

Anonymous connections use none. When the keyring cannot store secrets (keyring's ``fail``
or ``null`` backend, no Secret Service daemon, a locked collection) :func:`keyring_status`
says why and what fixes it, and nothing is ever written to a file instead. No secret
appears in a repr, a log line or an exception message here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pail.core.connection import SECRETS_KEYRING, SECRETS_NONE, ConnectionSpec, Secrets, mask
from pail.drivers.errors import NoCredentials

SERVICE = "pail"
_PROBE_USER = "__pail_probe__"
_SSO_CODES = ("SSOError", "TokenRetrievalError", "UnauthorizedSSOTokenError", "SSOTokenLoadError")

_FIX = (
    "start a Secret Service daemon (GNOME Keyring: `gnome-keyring-daemon --unlock "
    "--components=secrets` in a D-Bus session; or KWallet), or pick a backend with "
    "PYTHON_KEYRING_BACKEND."
)
# Appended to keyring_status() messages (not to SecretsUnavailable's, which say it already).
_UNTIL = (
    " Until then pail stores no secrets, and connections whose secrets are in the keyring do "
    "not open."
)
_UNLOCK = (
    "unlock it: log in to the desktop session (or unlock the collection in Seahorse/KWallet), "
    "or on a headless machine `printf %s PASSWORD | gnome-keyring-daemon --unlock "
    "--components=secrets`"
)


@dataclass(frozen=True)
class KeyringStatus:
    """Whether secrets can be kept in the OS keyring.

    Attributes:
        usable: True when the backend can store and read secrets now.
        backend: the backend keyring chose (``keyring.backends.SecretService.Keyring``).
        message: when unusable, why and what fixes it; ``""`` when usable.
        locked: unusable only because the keyring (or its default collection) is locked.
    """

    usable: bool
    backend: str
    message: str = ""
    locked: bool = False


class KeyringUnavailable(Exception):
    """The keyring cannot store secrets; ``str()`` says why and what fixes it."""


class SecretsUnavailable(NoCredentials):
    """A saved connection's secrets are in the OS keyring (``secrets = "keyring"``) and
    cannot be read from it, so the connection does not open: pail never falls back to
    profile, environment or default-chain credentials for it.

    A :class:`pail.drivers.errors.NoCredentials`, so the CLI and the app report it like
    other credential failures (the connection's badge, the credential modal). ``message``
    is one plain line saying what happened and what fixes it; it never holds a secret.

    Attributes:
        connection: the connection's name.
        reason: ``"locked"`` (the keyring or its collection is locked), ``"unavailable"``
            (no usable keyring: no Secret Service daemon, the fail/null backend, a read
            that failed), ``"missing"`` (the keyring answered but holds no pail entry for
            the connection). ``code`` is ``KeyringLocked``, ``KeyringUnavailable`` or
            ``NoKeyringEntry`` accordingly.
    """

    kind = "secrets unavailable"
    CODES = {
        "locked": "KeyringLocked",
        "unavailable": "KeyringUnavailable",
        "missing": "NoKeyringEntry",
    }

    def __init__(self, connection: str, reason: str, message: str, provider: str = "") -> None:
        super().__init__(
            message,
            operation="keyring.get_password",
            provider=provider,
            code=self.CODES.get(reason, "KeyringUnavailable"),
        )
        self.connection = connection
        self.reason = reason

    @property
    def hint(self) -> str:
        fix = (
            f"re-enter them (`pail connection add {self.connection} ... --replace`, or e in "
            "the app's connections screen)"
            if self.reason == "missing"
            else "make the keyring readable, then retry"
        )
        return (
            f"Connection {self.connection} keeps its secrets in the OS keyring, so pail uses "
            f"nothing else for it (not AWS_* variables, a profile or the default chain: that "
            f"could be another identity): {fix}."
        )


@dataclass(frozen=True)
class Resolved:
    """The credentials a connection uses.

    Attributes:
        spec: the connection, with ``secrets`` filled when they come from the keyring or
            the environment (pass it to :func:`pail.drivers.registry.open_driver`).
        source: ``"keyring"``, ``"profile NAME"``, ``"environment"``, ``"service account
            file"``, ``"default chain"``, ``"anonymous"`` (also every GCS connection to an
            endpoint that is not Google's: an emulator gets unsigned requests), ``"in
            memory"``, ``"local folder"``.
        identity: the masked access key id (``AKIA…WXYZ``) or a service account's
            ``client_email``; ``None`` when unknown. Never a secret.
    """

    spec: ConnectionSpec
    source: str
    identity: str | None = None


def _backend_name(kr: Any) -> str:
    return f"{type(kr).__module__}.{type(kr).__name__}"


def _probe_secret_service(kr: Any) -> tuple[str, bool] | None:
    """Why a Secret Service backend cannot be used and whether it is only locked, or None.
    Checks the default collection without unlocking it: an unlock with no prompter on a
    headless machine never returns."""
    import secretstorage

    try:
        bus = secretstorage.dbus_init()
        try:
            collection = (
                secretstorage.Collection(bus, kr.preferred_collection)
                if hasattr(kr, "preferred_collection")
                else secretstorage.get_default_collection(bus)
            )
            locked = collection.is_locked()
        finally:
            bus.close()
    except Exception as exc:
        return f"the Secret Service did not answer ({type(exc).__name__}): {_FIX}", False
    if locked:
        return (
            f"the keyring's default collection is locked: {_UNLOCK}; or pick a backend with "
            "PYTHON_KEYRING_BACKEND.",
            True,
        )
    return None


def keyring_status() -> KeyringStatus:
    """Check the backend keyring chose (``keyring.get_keyring()``), without prompting.

    Unusable: the ``fail`` backend (no OS keyring found), the ``null`` backend, a chainer
    with nothing to chain, a backend with priority below 1 (keyring's plaintext-file
    backends), a Secret Service that does not answer or whose collection is locked, or
    any backend whose read probe raises (``KeyringLocked``: ``locked``).
    """
    status = _keyring_status()
    if status.usable:
        return status
    return replace(status, message=status.message + _UNTIL)


def _keyring_status() -> KeyringStatus:
    import keyring
    from keyring.backends import chainer, fail, null

    kr = keyring.get_keyring()
    name = _backend_name(kr)
    if isinstance(kr, fail.Keyring):
        return KeyringStatus(False, name, f"no usable OS keyring was found: {_FIX}")
    if isinstance(kr, null.Keyring):
        return KeyringStatus(False, name, f"the keyring is switched off (null backend): {_FIX}")
    if isinstance(kr, chainer.ChainerBackend) and not kr.backends:
        return KeyringStatus(False, name, f"no keyring backend is available: {_FIX}")
    try:
        priority = kr.priority
    except Exception as exc:
        return KeyringStatus(False, name, f"the keyring backend is not available ({exc}): {_FIX}")
    if priority < 1:
        return KeyringStatus(
            False,
            name,
            f"the keyring backend {name} is not an OS keyring (priority {priority}): {_FIX}",
        )
    if type(kr).__module__ == "keyring.backends.SecretService":
        problem = _probe_secret_service(kr)
        if problem:
            return KeyringStatus(False, name, problem[0], locked=problem[1])
        return KeyringStatus(True, name)
    from keyring.errors import KeyringLocked

    try:
        kr.get_password(SERVICE, _PROBE_USER)
    except KeyringLocked:
        return KeyringStatus(False, name, f"the keyring is locked: {_UNLOCK}.", locked=True)
    except Exception as exc:
        return KeyringStatus(
            False, name, f"the keyring refused a read ({type(exc).__name__}): {_FIX}"
        )
    return KeyringStatus(True, name)


def _payload(secrets: Secrets) -> str:
    data: dict[str, Any] = {"v": 1}
    for key in ("access_key_id", "secret_access_key", "session_token"):
        value = getattr(secrets, key)
        if value:
            data[key] = value
    if secrets.service_account_info:
        data["service_account_info"] = dict(secrets.service_account_info)
    return json.dumps(data)


def store_secrets(name: str, secrets: Secrets) -> None:
    """Save the secrets of connection ``name`` as one keyring entry (replacing any).

    Raises:
        KeyringUnavailable: the keyring cannot store secrets (see :func:`keyring_status`);
            nothing is written anywhere else.
    """
    import keyring
    from keyring.errors import KeyringError

    status = keyring_status()
    if not status.usable:
        raise KeyringUnavailable(status.message)
    try:
        keyring.set_password(SERVICE, name, _payload(secrets))
    except KeyringError as exc:  # keyring's messages never include the password
        raise KeyringUnavailable(
            f"the keyring refused to store the secrets ({type(exc).__name__}): {_FIX}"
        ) from None


def load_secrets(name: str) -> Secrets | None:
    """The secrets of connection ``name`` from the keyring; None when there are none, the
    entry is not pail's JSON, or the keyring is unusable (never raises for that; use
    :func:`read_secrets` to learn why)."""
    try:
        return read_secrets(name)
    except SecretsUnavailable:
        return None


def read_secrets(name: str, provider: str = "") -> Secrets | None:
    """The secrets of connection ``name`` from the keyring, without prompting.

    Returns None when the keyring answered but holds no pail entry for ``name`` (or one
    that is not pail's JSON). ``provider`` only fills the error's field.

    Raises:
        SecretsUnavailable: the keyring cannot be read: ``reason`` ``"locked"`` (a locked
            collection, keyring's ``KeyringLocked``) or ``"unavailable"`` (no usable
            backend, the read failed). The message says what fixes it and holds no secret.
    """
    import keyring
    from keyring.errors import KeyringLocked

    status = _keyring_status()
    if not status.usable:
        reason = "locked" if status.locked else "unavailable"
        raise _unavailable(name, provider, reason, status.message)
    try:
        raw = keyring.get_password(SERVICE, name)
    except KeyringLocked:
        raise _unavailable(name, provider, "locked", f"the keyring is locked: {_UNLOCK}.") from None
    except Exception as exc:  # only the type: a backend's text is not ours to show
        why = f"the keyring refused the read ({type(exc).__name__}): {_FIX}"
        raise _unavailable(name, provider, "unavailable", why) from None
    return _parse_entry(raw)


def _unavailable(name: str, provider: str, reason: str, why: str) -> SecretsUnavailable:
    return SecretsUnavailable(
        name,
        reason,
        f"connection {name!r} keeps its secrets in the OS keyring, which cannot be read: "
        f"{why.rstrip('.')}. No other credentials are used for it.",
        provider,
    )


def _missing(name: str, provider: str) -> SecretsUnavailable:
    return SecretsUnavailable(
        name,
        "missing",
        f"connection {name!r} keeps its secrets in the OS keyring, but the keyring has no "
        f"entry for it: save them again with `pail connection add {name} --provider "
        f"{provider or '...'} ... --replace` (or edit the connection in the app). No other "
        "credentials are used for it.",
        provider,
    )


def _parse_entry(raw: str | None) -> Secrets | None:
    """pail's JSON entry as Secrets; None for no entry or a foreign one."""
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    info = data.get("service_account_info")
    return Secrets(
        access_key_id=data.get("access_key_id") or None,
        secret_access_key=data.get("secret_access_key") or None,
        session_token=data.get("session_token") or None,
        service_account_info=info if isinstance(info, dict) else None,
    )


def delete_secrets(name: str) -> bool:
    """Delete the keyring entry of connection ``name``; False when there was none.

    Raises:
        KeyringUnavailable: the keyring is unusable, so nothing could be checked.
    """
    import keyring
    from keyring.errors import PasswordDeleteError

    status = keyring_status()
    if not status.usable:
        raise KeyringUnavailable(status.message)
    if keyring.get_password(SERVICE, name) is None:
        return False
    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        return False
    return True


def identity_of(secrets: Secrets | None) -> str | None:
    """The shown identity of in-memory secrets: masked key id or ``client_email``."""
    if secrets is None:
        return None
    if secrets.access_key_id:
        return mask(secrets.access_key_id)
    info = secrets.service_account_info or {}
    email = info.get("client_email")
    return email if isinstance(email, str) else None


def _file_email(path: str) -> str | None:
    """``client_email`` of a service-account key file (the only field read for display)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            email = json.load(fh).get("client_email")
    except (OSError, ValueError, AttributeError):
        return None
    return email if isinstance(email, str) else None


def _profile_config(profile: str) -> dict[str, Any]:
    """The profile's settings from ``~/.aws/config`` and ``~/.aws/credentials`` (no network,
    no credential process run); ``{}`` when the profile does not exist."""
    try:
        import botocore.session

        return dict(botocore.session.Session(profile=profile).get_scoped_config())
    except Exception:
        return {}


def _saved_secrets(spec: ConnectionSpec) -> Secrets | None:
    """A saved connection's keyring secrets, by its ``secrets`` record; None when the
    resolution goes on to profile/environment/default chain (raises SecretsUnavailable)."""
    if spec.secrets_in == SECRETS_NONE:
        return None  # saved without secrets, by design: the keyring is not consulted
    if spec.secrets_in == SECRETS_KEYRING:
        secrets = read_secrets(spec.name, spec.provider)
        if secrets is None:
            raise _missing(spec.name, spec.provider)
        return secrets
    # Saved before the record existed: an entry wins; an unreadable keyring fails closed
    # unless the connection itself names where else its credentials come from.
    try:
        return read_secrets(spec.name, spec.provider)
    except SecretsUnavailable:
        explicit = spec.profile if spec.provider == "s3" else spec.credentials_file
        if explicit:
            return None
        raise


def resolve(spec: ConnectionSpec, environ: Mapping[str, str] | None = None) -> Resolved:
    """Which credentials ``spec`` uses, in the order in the module doc.

    Reads the keyring (for saved connections) and the environment; makes no network
    call, never prompts. A saved connection's ``secrets`` record decides step 1:

    * ``"keyring"``: the keyring entry and nothing else. A keyring that is locked, has no
      daemon or backend, or has no entry for the connection raises
      :class:`SecretsUnavailable` (never a fallback to profile/environment/default chain).
    * ``"none"``: saved without secrets; the keyring is not read, steps 2-4 apply.
    * no record (saved by a pail before the record existed): a keyring entry is used when
      there is one; a keyring that answers without an entry goes on to steps 2-4 (as
      before); a keyring that cannot be read raises :class:`SecretsUnavailable` too,
      unless the connection explicitly names a profile (S3) or a service-account file
      (GCS). Anonymous connections and local folders never read the keyring.

    Unsaved connections (URIs, the environment's stores) never read the keyring.

    Raises:
        SecretsUnavailable: as above; its message says how to fix it and holds no secret.
    """
    env = os.environ if environ is None else environ
    if spec.provider == "local":
        return Resolved(spec, "local folder")
    if spec.anonymous:
        return Resolved(spec, "anonymous")
    if spec.secrets is not None:
        return Resolved(spec, "in memory", identity_of(spec.secrets))
    if spec.saved:
        secrets = _saved_secrets(spec)
        if secrets is not None:
            return Resolved(replace(spec, secrets=secrets), "keyring", identity_of(secrets))
    if spec.provider == "gcs":
        from pail.drivers.gcs.endpoints import emulator_host, is_google

        if not is_google(spec.endpoint_url or emulator_host(env)):
            # An emulator gets unsigned requests (pail.drivers.gcs.endpoints); a key file
            # only signs URLs there.
            path = spec.credentials_file or env.get("GOOGLE_APPLICATION_CREDENTIALS")
            if path:
                signer = "anonymous (the service account file signs URLs only)"
                return Resolved(replace(spec, credentials_file=path), signer, _file_email(path))
            return Resolved(spec, "anonymous")
        if spec.credentials_file:
            return Resolved(spec, "service account file", _file_email(spec.credentials_file))
        path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path:
            return Resolved(replace(spec, credentials_file=path), "environment", _file_email(path))
        return Resolved(spec, "default chain")
    if spec.profile:
        key = _profile_config(spec.profile).get("aws_access_key_id")
        return Resolved(spec, f"profile {spec.profile}", mask(key) if key else None)
    key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        secrets = Secrets(key, secret, env.get("AWS_SESSION_TOKEN") or None)
        return Resolved(replace(spec, secrets=secrets), "environment", mask(key))
    profile = env.get("AWS_PROFILE")
    if profile:
        key = _profile_config(profile).get("aws_access_key_id")
        return Resolved(
            replace(spec, profile=profile), f"profile {profile}", mask(key) if key else None
        )
    return Resolved(spec, "default chain")


def refresh_command(spec: ConnectionSpec, error: BaseException) -> str | None:
    """The command that refreshes the credentials behind ``error``, or None when
    re-entering the connection's secrets is the fix (or nothing is known).

    ``spec`` is the resolved connection (``resolve(spec).spec``). ``aws sso login
    --profile NAME`` for an SSO profile or an SSO token error; ``gcloud auth
    application-default login`` for Google user credentials that expired or were revoked
    (``invalid_grant``). None for :class:`SecretsUnavailable`: the keyring, not a
    profile's session, is what needs fixing (its message says how).
    """
    from pail.drivers.errors import ExpiredCredentials, InvalidCredentials

    if not isinstance(error, InvalidCredentials) or spec.secrets is not None:
        return None
    if isinstance(error, SecretsUnavailable):
        return None
    code = getattr(error, "code", None) or ""
    if spec.provider == "s3":
        profile = spec.profile
        if profile:
            config = _profile_config(profile)
            if "sso_start_url" in config or "sso_session" in config or code in _SSO_CODES:
                return f"aws sso login --profile {profile}"
        elif code in _SSO_CODES:
            return "aws sso login"
        return None
    user_creds = spec.provider == "gcs" and not spec.credentials_file
    if user_creds and (isinstance(error, ExpiredCredentials) or "invalid_grant" in str(error)):
        return "gcloud auth application-default login"
    return None
