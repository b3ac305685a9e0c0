"""What ``pail connection add`` and ``import-env`` share: reading secrets (hidden prompts or
stdin, never argv), checking names and ``KEY=VALUE`` options, and saving a connection with
its secrets in the keyring and its settings, with the record of where its secrets live
(``secrets = "keyring"|"none"``), in the config file."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from typing import Any

import click

from pail.cli.errors import EXIT_KEYRING, EXIT_USAGE, CliError
from pail.cli.output import printable
from pail.config.file import CLIENT_OPTIONS, check_client_option, looks_secret, typed
from pail.config.store import ConnectionStore
from pail.core.connection import NAME_RE, SECRETS_KEYRING, SECRETS_NONE, ConnectionSpec, Secrets
from pail.credentials import KeyringUnavailable, delete_secrets, keyring_status, store_secrets

# Names that would be read as a subcommand by `pail NAME` (including planned ones).
RESERVED = {"open", "ls", "demo", "connection", "du", "get", "rm", "doctor", "help"}
_S3_PROMPTS = ("Access key id", "Secret access key", "Session token")
_GCS_PROMPT = "Service-account key JSON file to import into the keyring"


def usage_error(message: str) -> CliError:
    """A bad-usage failure (exit 2) printed as ``pail: error: message``."""
    return CliError([f"pail: error: {message}"], EXIT_USAGE)


def check_name(name: str) -> None:
    """Raise a usage error unless ``name`` is a valid, unreserved connection name."""
    if not NAME_RE.match(name):
        raise usage_error(
            f"bad connection name {printable(name)!r}: use letters, digits, '.', '_', '-'"
        )
    if name in RESERVED:
        raise usage_error(f"{name!r} is a pail command; pick another connection name")


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
    """The service-account key JSON in ``path`` (content never shown in errors)."""
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as fh:
            info = json.load(fh)
    except OSError as exc:
        raise usage_error(f"cannot read {printable(path)!r}: {exc.strerror or exc}") from None
    except ValueError:
        raise usage_error(
            f"{printable(path)!r} is not JSON (expected a service-account key)"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise usage_error(
            f"{printable(path)!r} is not a service-account key (its type is not "
            "'service_account'); user credentials stay with `gcloud auth` instead"
        )
    return info


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


def save_connection(
    store: ConnectionStore, spec: ConnectionSpec, secrets: Secrets | None, replace_ok: bool
) -> tuple[str, ConnectionSpec]:
    """Store ``secrets`` in the keyring (or clear a stale entry), then ``spec`` in the
    config file with its record (``secrets = "keyring"`` when secrets were given, else
    ``"none"``; local folders get none); on a config failure the new keyring entry is
    removed again.

    The whole of it (the name check, the keyring write, the file's read-modify-write) runs
    under the config file's lock, so two adds at the same moment never lose one another
    and two adds of one name cannot both pass the check.

    Returns ``(a line saying what was stored, the spec as saved)``. Raises CliError
    (existing name without ``replace_ok``; keyring unusable while secrets were given, exit
    7) or ConfigLocked (another writer held the lock past its timeout)."""
    record = None
    if spec.provider != "local":
        record = SECRETS_KEYRING if secrets is not None else SECRETS_NONE
    spec = replace(spec, secrets_in=record, secrets=None)
    with store.locked():
        if spec.name in store.names() and not replace_ok:
            raise usage_error(
                f"connection {spec.name!r} already exists; add --replace to overwrite it"
            )
        if secrets is not None:
            try:
                store_secrets(spec.name, secrets)
            except KeyringUnavailable as exc:
                raise refuse_without_keyring(spec.name, str(exc)) from None
        elif keyring_status().usable:
            delete_secrets(spec.name)  # an entry left by an older connection of that name
        try:
            store.save(spec)
        except BaseException:
            if secrets is not None:
                delete_secrets(spec.name)
            raise
    where = f"saved connection {spec.name!r} ({spec.provider}) in {store.path}"
    stored = "; secrets stored in the OS keyring" if secrets else "; no secrets stored"
    return where + stored, spec
