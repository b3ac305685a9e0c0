"""What ``pail connection add`` and ``import-env`` share: reading secrets (hidden prompts or
stdin, never argv), checking ``KEY=VALUE`` options, and the command line's words for the
saving policy of :mod:`pail.services.connections` (names, key files, the keyring's refusal),
which both commands and the app's form follow."""

from __future__ import annotations

import sys
from typing import Any

import click

from pail.cli.errors import EXIT_KEYRING, EXIT_USAGE, CliError
from pail.config.file import CLIENT_OPTIONS, check_client_option, looks_secret, typed
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.core.text import printable
from pail.credentials import KeyringUnavailable
from pail.services import connections as saving

_S3_PROMPTS = ("Access key id", "Secret access key", "Session token")
_GCS_PROMPT = "Service-account key JSON file to import into the keyring"


def usage_error(message: str) -> CliError:
    """A bad-usage failure (exit 2) printed as ``pail: error: message``."""
    return CliError([f"pail: error: {message}"], EXIT_USAGE)


def check_name(name: str) -> None:
    """Raise a usage error unless ``name`` can be saved
    (:func:`pail.services.connections.check_name`)."""
    try:
        saving.check_name(name)
    except saving.BadName as exc:
        if exc.reason == "reserved":
            raise usage_error(str(exc)) from None
        raise usage_error(f"bad connection name {printable(name)!r}: {exc}") from None


def pairs(values: tuple[str, ...], allowed: dict[str, type], option: str) -> dict[str, Any]:
    """``KEY=VALUE`` options checked against the config file's keys and types."""
    out: dict[str, Any] = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise usage_error(f"{option} takes KEY=VALUE, got {printable(item)!r}")
        if looks_secret(key):
            raise usage_error(f"{option} {key}: secrets are prompted for, never given as arguments")
        if key not in allowed:
            raise usage_error(f"{option}: unknown key {key!r}; known keys: {', '.join(allowed)}")

        def fail(message: str, key: str = key) -> None:
            raise usage_error(f"{option} {key}: {message}")

        out[key] = typed(value, allowed[key], fail)
        if allowed is CLIENT_OPTIONS:  # attempts and timeouts within their limits
            out[key] = check_client_option(key, out[key], fail)
    return out


def read_service_account(path: str) -> dict[str, Any]:
    """The service-account key JSON in ``path``
    (:func:`pail.services.connections.read_service_account`); a usage error otherwise."""
    try:
        return saving.read_service_account(path)
    except saving.BadKeyFile as exc:
        raise usage_error(printable(str(exc))) from None


def _secrets_from(provider: str, values: list[str]) -> Secrets | None:
    """Build Secrets from the answers, in prompt order; None when all are empty."""
    if provider == "gcs":
        path = values[0] if values else ""
        return Secrets(service_account_info=read_service_account(path)) if path else None
    key_id, secret, token = [*values, "", "", ""][:3]
    if not (key_id or secret or token):
        return None
    if not key_id or not secret:
        raise usage_error("give both the access key id and the secret access key (or neither)")
    return Secrets(key_id, secret, token or None)


def ask_secrets(provider: str, from_stdin: bool) -> Secrets | None:
    """Prompt (hidden input) or read one value per line from stdin; empty = none."""
    count = 1 if provider == "gcs" else 3
    if from_stdin:
        values = [sys.stdin.readline().rstrip("\r\n") for _ in range(count)]
        return _secrets_from(provider, [v.strip() for v in values])
    prompts = (_GCS_PROMPT,) if provider == "gcs" else _S3_PROMPTS
    values = [
        click.prompt(
            f"{text} (empty: none)",
            default="",
            show_default=False,
            hide_input=provider != "gcs",
            err=True,
        ).strip()
        for text in prompts
    ]
    return _secrets_from(provider, values)


def refuse_without_keyring(name: str, message: str) -> CliError:
    return CliError(
        [
            f"pail: error: cannot keep secrets for {name!r}: {message}",
            "  Nothing was saved. Use --no-secrets to save the connection without secrets "
            "(it then uses profile/environment credentials).",
        ],
        EXIT_KEYRING,
    )


def save_and_describe(
    store: ConnectionStore, spec: ConnectionSpec, secrets: Secrets | None, replace_ok: bool
) -> tuple[str, ConnectionSpec]:
    """Save ``spec`` with ``secrets`` by the one policy
    (:func:`pail.services.connections.save_connection`: the keyring first, then the file
    with its ``secrets`` record, all under the config file's lock).

    Returns ``(a line saying what was stored, the spec as saved)``. Raises CliError (a bad
    or taken name without ``replace_ok``, exit 2; the keyring cannot keep the secrets,
    exit 7, nothing saved) or ConfigLocked (another writer held the lock past its
    timeout)."""
    try:
        saved = saving.save_connection(store, spec, secrets, overwrite=replace_ok)
    except saving.BadName:
        check_name(spec.name)  # raises the command line's words for it
        raise
    except saving.ConnectionExists:
        raise usage_error(
            f"connection {spec.name!r} already exists; add --replace to overwrite it"
        ) from None
    except KeyringUnavailable as exc:
        raise refuse_without_keyring(spec.name, str(exc)) from None
    where = f"saved connection {spec.name!r} ({spec.provider}) in {store.path}"
    stored = "; secrets stored in the OS keyring" if saved.secrets_stored else "; no secrets stored"
    return where + stored, saved.spec
