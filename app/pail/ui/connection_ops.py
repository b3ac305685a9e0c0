"""What the connections screen and its form do, apart from drawing: check the form's
values, save a connection (settings to the config file, secrets to the OS keyring), remove
one, and test one. No Textual here; the blocking calls run in the screens' workers.

Secrets go from the form straight to :func:`pail.credentials.store_secrets`. When the
keyring cannot store them (:class:`pail.credentials.KeyringUnavailable`) they are dropped,
never written anywhere else; the settings are still saved and the outcome says so. The
settings record where the secrets live (``secrets = "keyring"`` once secrets were typed
for the connection, even if the keyring refused them: the connection then does not open
rather than run as whatever identity the environment holds; ``"none"`` when it has none).
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field, replace
from urllib.parse import urlparse

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import (
    NAME_RE,
    SECRETS_KEYRING,
    SECRETS_NONE,
    ConfigError,
    ConnectionSpec,
    Secrets,
)
from pail.drivers.errors import StorageError
from pail.drivers.registry import open_driver
from pail.ui.failure import as_storage_error


@dataclass(frozen=True)
class FormValues:
    """What the connection form holds, as typed (strings stripped, ``""`` = empty).

    Secret fields are held in memory only and never shown; empty secret fields on an
    edit keep the secrets already in the keyring.
    """

    name: str
    provider: str = "s3"
    endpoint_url: str = ""
    region: str = ""
    profile: str = ""
    path_style: bool = False
    anonymous: bool = False
    bucket: str = ""
    prefix: str = ""
    root: str = ""
    project: str = ""
    service_account_file: str = ""
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    session_token: str = field(default="", repr=False)

    @property
    def has_secrets(self) -> bool:
        """True when any secret field was filled in."""
        if self.provider == "gcs":
            return bool(self.service_account_file)
        if self.provider == "s3":
            return bool(self.access_key_id or self.secret_access_key or self.session_token)
        return False


@dataclass(frozen=True)
class FieldError:
    """A problem with one form field (``field`` is the FormValues attribute, or ``""``)."""

    field: str
    message: str


@dataclass(frozen=True)
class SaveOutcome:
    """What saving did.

    Attributes:
        spec: the connection as saved (no secrets on it).
        previous_name: the name it had before an edit that renamed it, else ``None``.
        settings_saved: the config file was written.
        secrets_stored: secrets were written to the keyring.
        keyring_message: why the secrets were *not* stored (keyring unusable), else "".
        errors: validation or write errors; nothing was saved when there are any.
    """

    spec: ConnectionSpec | None
    previous_name: str | None = None
    settings_saved: bool = False
    secrets_stored: bool = False
    keyring_message: str = ""
    errors: tuple[FieldError, ...] = ()


@dataclass(frozen=True)
class TestOutcome:
    """What testing a connection found: ``summary`` on success, else ``error``."""

    spec: ConnectionSpec
    summary: str = ""
    error: StorageError | None = None
    source: str = ""
    identity: str | None = None

    __test__ = False  # not a pytest test class

    @property
    def ok(self) -> bool:
        """True when the request succeeded."""
        return self.error is None


def values_from_spec(spec: ConnectionSpec) -> FormValues:
    """The form's values for editing ``spec`` (secret fields empty: they stay hidden)."""
    return FormValues(
        name=spec.name,
        provider=spec.provider,
        endpoint_url=spec.endpoint_url or "",
        region=spec.region or "",
        profile=spec.profile or "",
        path_style=spec.path_style,
        anonymous=spec.anonymous,
        bucket=spec.bucket or "",
        prefix=spec.prefix or "",
        root=spec.root or "",
        project=spec.project or "",
    )


def check_values(values: FormValues) -> list[FieldError]:
    """Checks that need no I/O: the name, the endpoint URL, secret pairs, the folder."""
    errors: list[FieldError] = []
    if not values.name:
        errors.append(FieldError("name", "Give the connection a name."))
    elif not NAME_RE.match(values.name):
        errors.append(
            FieldError(
                "name",
                "Use letters, digits, '.', '_' and '-' in the name, starting with a "
                "letter or digit (up to 64 characters).",
            )
        )
    if values.provider == "s3" and values.endpoint_url:
        url = urlparse(values.endpoint_url)
        if url.scheme not in ("http", "https") or not url.hostname or " " in values.endpoint_url:
            errors.append(
                FieldError(
                    "endpoint_url",
                    "The endpoint URL must look like https://host[:port] (e.g. "
                    "http://127.0.0.1:9000 for a local MinIO).",
                )
            )
    typed_secret = values.secret_access_key or values.session_token
    if values.provider == "s3" and typed_secret and not values.access_key_id:
        errors.append(FieldError("access_key_id", "Enter the access key id too."))
    if values.provider == "s3" and values.access_key_id and not values.secret_access_key:
        errors.append(FieldError("secret_access_key", "Enter the secret access key too."))
    if values.provider == "local" and not values.root:
        errors.append(FieldError("root", "Name the folder to browse."))
    return errors


def spec_from_values(values: FormValues, base: ConnectionSpec | None = None) -> ConnectionSpec:
    """The connection the form describes; settings the form does not show (client
    options, write arguments, pinned locations) are kept from ``base``."""
    prefix = values.prefix
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    s3 = values.provider == "s3"
    spec = ConnectionSpec(
        name=values.name,
        provider=values.provider,
        endpoint_url=(values.endpoint_url or None) if s3 else None,
        region=(values.region or None) if s3 else None,
        profile=(values.profile or None) if s3 else None,
        path_style=values.path_style if s3 else False,
        anonymous=values.anonymous if values.provider != "local" else False,
        bucket=values.bucket or None,
        prefix=prefix if values.bucket else "",
        root=os.path.abspath(os.path.expanduser(values.root))
        if values.provider == "local"
        else None,
        project=(values.project or None) if values.provider == "gcs" else None,
        saved=True,
    )
    if base is not None and base.provider == spec.provider:
        spec = replace(
            spec,
            client_options=base.client_options,
            write_args=base.write_args,
            credentials_file=base.credentials_file if spec.provider == "gcs" else None,
            pinned=base.pinned,
        )
    return spec


def _read_service_account(path: str) -> dict[str, str]:
    """Parse a GCS service-account key file (raises ValueError with a plain message)."""
    full = os.path.expanduser(path)
    try:
        with open(full, encoding="utf-8") as fh:
            info = json.load(fh)
    except OSError as exc:
        raise ValueError(f"Cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise ValueError(f"{path} is not JSON (expected a service-account key file).") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ValueError(f'{path} is not a service-account key ("type": "service_account").')
    if not info.get("client_email") or not info.get("private_key"):
        raise ValueError(f"{path} lacks client_email or private_key.")
    return {str(k): v for k, v in info.items()}


def secrets_from_values(values: FormValues) -> Secrets | None:
    """The secrets typed into the form, or ``None`` (raises ValueError for a bad key file)."""
    if not values.has_secrets:
        return None
    if values.provider == "gcs":
        return Secrets(service_account_info=_read_service_account(values.service_account_file))
    return Secrets(
        access_key_id=values.access_key_id or None,
        secret_access_key=values.secret_access_key or None,
        session_token=values.session_token or None,
    )


def _secrets_record(
    spec: ConnectionSpec, secrets: Secrets | None, editing: ConnectionSpec | None
) -> str | None:
    """Where the saved connection's secrets live: the keyring when secrets were typed, else
    what the edited connection recorded (``None`` stays ``None``: saved by an older pail),
    else none. Local folders have no record."""
    if spec.provider == "local":
        return None
    if secrets is not None:
        return SECRETS_KEYRING
    if editing is not None and editing.saved and editing.provider == spec.provider:
        return editing.secrets_in
    return SECRETS_NONE


def save_connection(
    store: ConnectionStore, values: FormValues, *, editing: ConnectionSpec | None = None
) -> SaveOutcome:
    """Validate and save a connection (blocking: file and keyring I/O).

    Args:
        store: the config file.
        values: the form's values.
        editing: the saved connection being edited (``None``: a new one). Renaming moves
            its keyring entry to the new name.

    The order, all under the config file's lock (:meth:`ConnectionStore.locked`): the
    name is checked again, secrets go to the keyring (a rename copies the old entry to the
    new name), then the settings with their ``secrets`` record are written (and a renamed
    connection's old table removed), and only then is a renamed connection's old keyring
    entry deleted. If writing the settings fails, a keyring entry made for a new name is
    deleted again. If the keyring is unusable the outcome carries its message and no
    secret is written anywhere.
    """
    errors = check_values(values)
    previous = editing.name if editing is not None and editing.saved else None
    try:
        names = store.names()
    except ConfigError as exc:
        errors.append(FieldError("", f"The config file is broken, fix it first: {exc}"))
        names = []
    if values.name and values.name != previous and values.name in names:
        errors.append(FieldError("name", f"A connection called {values.name} already exists."))
    secrets = None
    try:
        secrets = secrets_from_values(values)
    except ValueError as exc:
        errors.append(FieldError("service_account_file", str(exc)))
    if errors:
        return SaveOutcome(None, errors=tuple(errors))
    spec = spec_from_values(values, editing)
    spec = replace(spec, secrets_in=_secrets_record(spec, secrets, editing))
    renamed = previous if previous and previous != spec.name else None
    try:
        with store.locked():
            if spec.name != previous and spec.name in store.names():  # added meanwhile
                message = f"A connection called {spec.name} already exists."
                return SaveOutcome(None, errors=(FieldError("name", message),))
            stored, moved, message = _store_secrets(spec, secrets, renamed)
            try:
                store.save(spec)
                if renamed:
                    store.remove(renamed)
            except BaseException:
                if (stored or moved) and spec.name not in names:
                    _forget(spec.name)  # the entry belonged to this attempt only
                raise
    except (ConfigError, OSError) as exc:
        return SaveOutcome(None, errors=(FieldError("", f"Could not save: {exc}"),))
    if moved and renamed:
        _forget(renamed)
    return SaveOutcome(spec, renamed, True, stored, message)


def _store_secrets(
    spec: ConnectionSpec, secrets: Secrets | None, renamed: str | None
) -> tuple[bool, bool, str]:
    """Put the typed secrets (or a renamed connection's entry) under ``spec.name``.

    Returns ``(typed secrets stored, old entry copied, why the keyring refused or "")``."""
    try:
        if secrets is not None:
            credentials.store_secrets(spec.name, secrets)
            return True, False, ""
        if renamed and spec.secrets_in != SECRETS_NONE:
            old = credentials.read_secrets(renamed, spec.provider)
            if old is not None:
                credentials.store_secrets(spec.name, old)
                return False, True, ""
    except credentials.KeyringUnavailable as exc:
        return False, False, str(exc)
    except credentials.SecretsUnavailable as exc:
        return False, False, exc.message
    return False, False, ""


def _forget(name: str) -> None:
    """Delete ``name``'s keyring entry, best effort (the keyring may be gone)."""
    with contextlib.suppress(credentials.KeyringUnavailable):
        credentials.delete_secrets(name)


def remove_connection(store: ConnectionStore, name: str) -> tuple[bool, str]:
    """Remove a saved connection and its keyring entry (blocking).

    Returns ``(removed_from_file, note)``: ``note`` says what could not be done (the
    keyring was unusable, so no entry could be deleted there), else "".
    """
    removed = store.remove(name)
    try:
        credentials.delete_secrets(name)
    except credentials.KeyringUnavailable as exc:
        return removed, f"The keyring is unavailable, nothing deleted there: {exc}"
    return removed, ""


def test_connection(spec: ConnectionSpec, *, driver_factory=open_driver) -> TestOutcome:
    """Open ``spec`` with its resolved credentials and make one request (blocking):
    the default bucket's first page (at the default prefix) if it has one, else
    ListBuckets. Errors come back on the outcome, translated, never raised."""
    source, identity = "", None
    try:
        resolved = credentials.resolve(spec)
        source, identity = resolved.source, resolved.identity
        driver = driver_factory(resolved.spec)
        if spec.bucket:
            page = driver.list_page(spec.bucket, spec.prefix, page_size=100)
            where = f"{spec.bucket}/{spec.prefix}"
            count = len(page.entries)
            more = " (more pages follow)" if page.next_token else ""
            summary = f"Listed {where}: {count} entries on the first page{more}."
        else:
            buckets = driver.list_buckets()
            shown = ", ".join(b.name for b in buckets[:5])
            extra = f", … ({len(buckets) - 5} more)" if len(buckets) > 5 else ""
            summary = f"ListBuckets answered: {len(buckets)} buckets" + (
                f": {shown}{extra}." if buckets else "."
            )
    except Exception as exc:  # shown as fields + hint, never a traceback
        return TestOutcome(spec, error=as_storage_error(exc), source=source, identity=identity)
    return TestOutcome(spec, summary=summary, source=source, identity=identity)
