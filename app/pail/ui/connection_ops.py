"""The connections screen's and form's side of :mod:`pail.services.connections`: the
form's values read into a connection and its secrets, and the service's answers put into
the form's words (field errors, a test's summary). Saving, removing and testing follow the
service's one policy, the command line's too. No Textual here; the blocking calls run in
the screens' workers.

Secrets go from the form to the OS keyring and nowhere else. When the keyring cannot keep
them (:class:`pail.credentials.KeyringUnavailable`) nothing is saved: the form stays open
with its values and says why, and how to save without secrets.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec, Secrets
from pail.core.endpoint import diagnose
from pail.core.units import plural
from pail.credentials import KeyringUnavailable
from pail.drivers.errors import StorageError
from pail.services import connections as service
from pail.ui.failure import as_storage_error

if TYPE_CHECKING:
    from pail.drivers.base import StorageDriver


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
        secrets_stored: the typed secrets were written to the keyring.
        errors: validation, keyring or write errors; nothing was saved when there are any.
    """

    spec: ConnectionSpec | None
    previous_name: str | None = None
    settings_saved: bool = False
    secrets_stored: bool = False
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


_NAME_PROBLEMS = {
    "empty": "Give the connection a name.",
    "pattern": "Use letters, digits, '.', '_' and '-' in the name, starting with a letter or "
    "digit (up to 64 characters).",
    "reserved": "{name} is a pail command (`pail {name}` would run it): pick another name.",
}


def check_values(values: FormValues) -> list[FieldError]:
    """Checks that need no I/O: the name, the endpoint URL, secret pairs, the folder."""
    errors: list[FieldError] = []
    try:
        service.check_name(values.name)  # the rule the command line applies too
    except service.BadName as exc:
        errors.append(FieldError("name", _NAME_PROBLEMS[exc.reason].format(name=values.name)))
    if values.provider == "s3" and values.endpoint_url:
        # The command line's check and message (pail.core.endpoint), shown on the field.
        diagnosis = diagnose(values.endpoint_url)
        if diagnosis is not None:
            message = diagnosis.message()
            errors.append(FieldError("endpoint_url", message[0].upper() + message[1:] + "."))
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


def secrets_from_values(values: FormValues) -> Secrets | None:
    """The secrets typed into the form, or ``None``.

    Raises:
        BadKeyFile: the key file cannot be used
            (:func:`pail.services.connections.read_service_account`).
    """
    if not values.has_secrets:
        return None
    if values.provider == "gcs":
        info = service.read_service_account(values.service_account_file)
        return Secrets(service_account_info=info)
    return Secrets(
        access_key_id=values.access_key_id or None,
        secret_access_key=values.secret_access_key or None,
        session_token=values.session_token or None,
    )


def _sentence(text: str) -> str:
    """``text`` as the form's messages read: capitalised, ending in a full stop."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def save_form(
    store: ConnectionStore, values: FormValues, *, editing: ConnectionSpec | None = None
) -> SaveOutcome:
    """Check the form's values and save them (blocking: file and keyring I/O) by the one
    policy, :func:`pail.services.connections.save_connection`: under the config file's
    lock, secrets to the keyring first, then the settings with their ``secrets`` record;
    a renamed connection's keyring entry moves with it, and empty secret fields on an edit
    keep the stored secrets.

    Args:
        store: the config file.
        values: the form's values.
        editing: the saved connection being edited (``None``: a new one).

    Returns a :class:`SaveOutcome`; its ``errors`` say what to fix when nothing was saved
    (a field, the name taken, the keyring unable to keep the secrets, a broken file).
    Never raises for those.
    """
    errors = check_values(values)
    secrets = None
    try:
        secrets = secrets_from_values(values)
    except service.BadKeyFile as exc:
        errors.append(FieldError("service_account_file", _sentence(str(exc))))
    if errors:
        return SaveOutcome(None, errors=tuple(errors))
    spec = spec_from_values(values, editing)
    try:
        saved = service.save_connection(store, spec, secrets, editing=editing)
    except service.ConnectionExists:
        message = f"A connection called {values.name} already exists."
        return SaveOutcome(None, errors=(FieldError("name", message),))
    except KeyringUnavailable as exc:
        message = (
            f"Nothing was saved: the OS keyring cannot keep the secrets. {_sentence(str(exc))}"
        )
        if values.has_secrets:
            message += (
                " Clear the secret fields to save the connection without them (its "
                "credentials then come from the profile or the environment)."
            )
        return SaveOutcome(None, errors=(FieldError("", message),))
    except ConfigError as exc:
        message = f"The config file is broken, fix it first: {exc}"
        return SaveOutcome(None, errors=(FieldError("", message),))
    except OSError as exc:
        return SaveOutcome(None, errors=(FieldError("", f"Could not save: {exc}"),))
    return SaveOutcome(saved.spec, saved.previous_name, True, saved.secrets_stored)


def remove_connection(store: ConnectionStore, name: str) -> tuple[bool, str]:
    """Remove a saved connection and its keyring entry (blocking;
    :func:`pail.services.connections.remove_connection`).

    Returns ``(removed_from_file, note)``: ``note`` says what could not be done (the
    keyring was unusable, so no entry could be deleted there), else "".
    """
    removed = service.remove_connection(store, name)
    if removed.keyring_problem:
        note = f"The keyring is unavailable, nothing deleted there: {removed.keyring_problem}"
        return removed.from_file, note
    return removed.from_file, ""


def test_connection(
    spec: ConnectionSpec,
    *,
    driver_factory: Callable[[ConnectionSpec], StorageDriver] | None = None,
) -> TestOutcome:
    """Make the service's one request with ``spec`` (blocking;
    :func:`pail.services.connections.test_connection`: the default bucket's first page at
    the default prefix, else ListBuckets) and say what it found. Errors come back on the
    outcome, translated, never raised."""
    result = service.test_connection(spec, driver_factory=driver_factory)
    source, identity = result.source, result.identity
    if result.error is not None:
        error = as_storage_error(result.error)
        return TestOutcome(spec, error=error, source=source, identity=identity)
    if result.location is not None:
        where = f"{result.location.bucket}/{result.location.key}"
        count = result.objects + result.prefixes
        more = " (more pages follow)" if result.more else ""
        summary = f"Listed {where}: {plural(count, 'entry', 'entries')} on the first page{more}."
    else:
        buckets = result.buckets
        shown = ", ".join(b.name for b in buckets[:5])
        extra = f", … ({len(buckets) - 5:,} more)" if len(buckets) > 5 else ""
        summary = f"ListBuckets answered: {plural(len(buckets), 'bucket')}" + (
            f": {shown}{extra}." if buckets else "."
        )
    return TestOutcome(spec, summary=summary, source=source, identity=identity)
