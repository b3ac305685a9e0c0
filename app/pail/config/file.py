"""The connections file: TOML, edited by hand or by pail, never holding a secret.

Location: ``$PAIL_CONFIG``, else ``connections.toml`` in the platform's config folder
(``~/.config/pail/connections.toml`` on Linux; see :func:`pail.config.env.default_config_path`).
One table per connection::

    # The lab's MinIO. Secrets are in the OS keyring: `pail connection add lab ...`
    [connections.lab]
    provider = "s3"                    # s3 | gcs | local
    endpoint_url = "${env.LAB_S3:=http://minio.lab:9000}"
    region = "us-east-1"
    path_style = true
    bucket = "artifacts"               # opened first; shown even when ListBuckets is denied
    prefix = "runs/"
    secrets = "keyring"                # written by pail: secrets in the OS keyring only

    [connections.lab.client]           # botocore client settings (S3) / retries (GCS)
    signature_version = "s3v4"
    max_attempts = 5                   # per request, first included (default 5)
    connect_timeout = 5                # seconds (default 10)
    read_timeout = 120                 # seconds without a byte (default 30)

    [connections.lab.write]            # extra arguments on every write (S3)
    ServerSideEncryption = "aws:kms"
    SSEKMSKeyId = "alias/ml-artifacts"

Connection keys: ``provider`` (required), ``endpoint_url``, ``region``, ``profile`` (AWS
named profile), ``path_style`` and ``anonymous`` (booleans), ``bucket``, ``prefix``,
``root`` and ``single_bucket`` (local folders), ``credentials_file`` and ``project``
(GCS), and ``secrets``: where the connection's secrets live, written by pail when it saves
them (``"keyring"``: in the OS keyring and nowhere else, so the connection does not open
when the keyring cannot give them; ``"none"``: saved without secrets, credentials come from
the profile, the environment or the SDK's chain). It names a place, never holds a secret.
Client keys: see :data:`CLIENT_OPTIONS`; write keys: :data:`WRITE_ARGS`.

String values may name environment variables the Llama Stack way: ``${env.NAME}`` (an
error when unset) or ``${env.NAME:=default}`` (the default when unset or empty). They are
expanded when the file is read and written back unexpanded.

Every problem is a :class:`pail.core.connection.ConfigError` naming the file and line: bad TOML, a
name defined twice, an unknown provider or key, a missing variable, and any key that looks
like a secret (``aws_secret_access_key``, ``session_token``, ``password`` ...): secrets
belong in the keyring, put there by ``pail connection add``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import tomlkit
from tomlkit.exceptions import ParseError, TOMLKitError

from pail.core.connection import (
    NAME_RE,
    PROVIDERS,
    SECRETS_KEYRING,
    SECRETS_RECORDS,
    ConfigError,
    ConnectionSpec,
    Secrets,
)
from pail.core.endpoint import diagnose
from pail.drivers.quirks import SETTINGS as _QUIRK_SETTINGS
from pail.drivers.quirks import check_setting as check_quirk

STRING_KEYS: tuple[str, ...] = ("endpoint_url", "region", "profile", "bucket", "prefix", "root")
STRING_KEYS += ("credentials_file", "project")
BOOL_KEYS = ("path_style", "anonymous", "single_bucket")
#: The key recording where a connection's secrets live (:data:`SECRETS_RECORDS`); maps to
#: :attr:`ConnectionSpec.secrets_in`. The one key with "secret" in its name that is allowed.
SECRETS_KEY = "secrets"
#: What the store can do (S3): ``flavour``, ``list_version = 1``, ``addressing_style =
#: "path"``, ``batch_delete = false``... (:data:`pail.drivers.quirks.SETTINGS`); they go to
#: :attr:`ConnectionSpec.quirks`, checked by :func:`pail.drivers.quirks.check_setting`.
QUIRK_KEYS: tuple[str, ...] = _QUIRK_SETTINGS
CONNECTION_KEYS = ("provider", *STRING_KEYS, *BOOL_KEYS, SECRETS_KEY, "client", "write")
CONNECTION_KEYS += QUIRK_KEYS

#: ``[connections.NAME.client]`` keys and their types. ``max_attempts`` (attempts per
#: request, first included), ``connect_timeout`` and ``read_timeout`` (seconds) set pail's
#: retry policy and timeouts for S3 and GCS (:mod:`pail.drivers.retry`; ranges in its
#: ``SETTING_LIMITS``, checked by :func:`check_client_option`). ``retry_mode`` is botocore's
#: mode (``adaptive`` adds its client-side rate limiter; botocore itself never retries);
#: ``addressing_style``/``payload_signing_enabled``/``use_accelerate_endpoint`` go to
#: botocore's ``s3`` settings and the rest to ``botocore.config.Config`` (S3 only).
CLIENT_OPTIONS: dict[str, type] = {
    "signature_version": str,
    "max_attempts": int,
    "retry_mode": str,
    "connect_timeout": float,
    "read_timeout": float,
    "max_pool_connections": int,
    "addressing_style": str,
    "payload_signing_enabled": bool,
    "use_accelerate_endpoint": bool,
    "use_dualstack_endpoint": bool,
    "use_fips_endpoint": bool,
    "tcp_keepalive": bool,
    "request_checksum_calculation": str,
    "response_checksum_validation": str,
    "user_agent_extra": str,
    "client_cert": str,
}

#: ``[connections.NAME.write]`` keys: S3 PutObject/CreateMultipartUpload arguments.
WRITE_ARGS: dict[str, type] = {
    "ServerSideEncryption": str,
    "SSEKMSKeyId": str,
    "SSEKMSEncryptionContext": str,
    "BucketKeyEnabled": bool,
    "ACL": str,
    "StorageClass": str,
    "Tagging": str,
}

# Substrings of a key name (lower-cased, punctuation dropped) that mean "a secret".
_SECRET_WORDS: tuple[str, ...] = (
    "secret",
    "password",
    "passwd",
    "token",
    "accesskey",
    "privatekey",
)
_SECRET_WORDS += ("apikey", "credentialsjson", "serviceaccountinfo", "ssecustomerkey")
_ENV_RE = re.compile(r"\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}")
#: Credential keys allowed when their value is only a reference to a variable
#: (``"${env.AWS_ACCESS_KEY_ID:=}"``, the Llama Stack way): the file then names where the
#: secret is, not the secret. Mapped to the :class:`Secrets` field they fill.
ENV_SECRET_KEYS = {
    "aws_access_key_id": "access_key_id",
    "aws_secret_access_key": "secret_access_key",
    "aws_session_token": "session_token",
}
# The whole value is one ${env.NAME} or ${env.NAME:=} (an empty default: a non-empty one
# would be a literal secret).
_ENV_ONLY_RE = re.compile(r"^\$\{env\.([A-Za-z_][A-Za-z0-9_]*)(?::=)?\}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_ALREADY = re.compile(r'Key "?([^"]*)"? already exists')


def looks_secret(key: str) -> bool:
    """True for key names that hold secrets (``aws_secret_access_key``, ``Token`` ...)."""
    flat = re.sub(r"[^a-z]", "", key.lower())
    return any(word in flat for word in _SECRET_WORDS)


def env_reference(key: str, value: Any) -> str | None:
    """The variable named when ``key`` is one of :data:`ENV_SECRET_KEYS` and ``value`` is
    only ``${env.NAME}`` or ``${env.NAME:=}``; else ``None`` (a literal: refused)."""
    if key not in ENV_SECRET_KEYS or not isinstance(value, str):
        return None
    match = _ENV_ONLY_RE.match(value.strip())
    return match.group(1) if match else None


# --- line numbers -----------------------------------------------------------------------


def _quoted(name: str) -> str:
    return rf"(?:{re.escape(name)}|\"{re.escape(name)}\"|'{re.escape(name)}')"


def _header_line(text: str, name: str, sub: str | None = None, nth: int = 1) -> int | None:
    """1-based line of the ``nth`` ``[connections.NAME(.SUB)]`` header."""
    tail = rf"\s*\.\s*{_quoted(sub)}" if sub else ""
    header = re.compile(rf"^\s*\[\s*connections\s*\.\s*{_quoted(name)}{tail}\s*\]")
    seen = 0
    for number, line in enumerate(text.splitlines(), 1):
        if header.match(line):
            seen += 1
            if seen == nth:
                return number
    return None


def locate(text: str, name: str, sub: str | None = None, key: str | None = None) -> int | None:
    """Best-effort 1-based line of a connection, its sub-table, or a key inside them
    (tomlkit keeps no line numbers for parsed values, so the text is scanned)."""
    start = _header_line(text, name, sub) or _header_line(text, name)
    lines = text.splitlines()
    if key is None:
        return start or next((i for i, ln in enumerate(lines, 1) if name in ln), None)
    key_re = re.compile(rf"^\s*(?:[\w.\"']+\.)?{_quoted(key)}\s*=")
    for number in range(start or 1, len(lines) + 1):
        line = lines[number - 1]
        if start and number > start and line.lstrip().startswith("["):
            break
        if key_re.match(line) or (start is None and re.search(rf"\b{re.escape(key)}\s*=", line)):
            return number
    return start


# --- reading ---------------------------------------------------------------------------


def parse_document(text: str, path: str) -> tomlkit.TOMLDocument:
    """Parse with tomlkit, turning its errors into ConfigError with a line number."""
    try:
        return tomlkit.parse(text)
    except (ParseError, TOMLKitError) as exc:
        message = re.sub(r" at line \d+ col \d+$", "", str(exc))
        line = getattr(exc, "line", None)
        dup = _ALREADY.search(message)
        if dup:
            key = dup.group(1)
            line = _header_line(text, key, nth=2) or line
            message = (
                f"{key!r} is defined twice; each connection name (and each key in a table) "
                "may appear once"
            )
        else:
            message = f"invalid TOML: {message}"
        raise ConfigError(path, line, message) from None


def expand(value: str, env: Mapping[str, str], fail: Any) -> str:
    """``${env.NAME}`` / ``${env.NAME:=default}`` replaced; ``fail(message)`` raises."""

    def one(match: re.Match[str]) -> str:
        var, default = match.group(1), match.group(2)
        current = env.get(var)
        if default is not None:
            return current if current else default
        if current is None:
            fail(
                f"${{env.{var}}} is not set; export {var} or give a default: ${{env.{var}:=value}}"
            )
        return current or ""

    out = _ENV_RE.sub(one, value)
    if value.count("${env.") != len(_ENV_RE.findall(value)):
        fail("malformed ${env.NAME} reference: use ${env.NAME} or ${env.NAME:=default}")
    return out


def normalise(key: str, value: Any) -> Any:
    """A setting as pail uses it: prefixes end in "/", paths have ``~`` expanded."""
    if key == "prefix" and value and not value.endswith("/"):
        return value + "/"
    if key in ("root", "credentials_file") and value:
        return os.path.expanduser(value)
    return value


def typed(value: Any, kind: type, fail: Any) -> Any:
    """``value`` as ``kind``; strings (e.g. from ``${env.X}``) are converted."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        fail(f"expected true or false, got {value!r}")
    if kind in (int, float) and not isinstance(value, bool):
        try:
            number = kind(value)
        except (TypeError, ValueError):
            fail(f"expected a number, got {value!r}")
        else:
            if number < 0:
                fail(f"expected a number >= 0, got {value!r}")
            return number
    if kind is str and isinstance(value, str):
        return value
    fail(f"expected {kind.__name__}, got {value!r}")
    return None  # pragma: no cover - fail() raises


def _options(
    raw: Any, allowed: dict[str, type], ctx: tuple[str, str, str, str], env: Mapping[str, str]
) -> dict[str, Any]:
    text, path, name, sub = ctx
    if not isinstance(raw, dict):
        line = locate(text, name, key=sub)
        raise ConfigError(path, line, f"connection {name!r}: {sub!r} must be a table")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        line = locate(text, name, sub, key)

        def fail(message: str, key: str = key, line: int | None = line) -> None:
            raise ConfigError(path, line, f"connection {name!r}: {sub}.{key}: {message}")

        if looks_secret(key):
            _secret_error(path, line, name, f"{sub}.{key}")
        if key not in allowed:
            fail(f"unknown key; known keys: {', '.join(allowed)}")
        if isinstance(value, str):
            value = expand(value, env, fail)
        out[key] = typed(value, allowed[key], fail)
        if allowed is CLIENT_OPTIONS:
            out[key] = check_client_option(key, out[key], fail)
    return out


def check_client_option(key: str, value: Any, fail: Any) -> Any:
    """``value`` of client option ``key``, range-checked for the retry and timeout
    settings (:data:`pail.drivers.retry.SETTING_LIMITS`); ``fail(message)`` raises."""
    from pail.drivers.retry import SETTING_LIMITS, check_setting

    if key in SETTING_LIMITS:
        try:
            return check_setting(key, value)
        except ValueError as exc:
            fail(str(exc).removeprefix(f"{key} "))
    if key == "retry_mode" and value not in ("standard", "legacy", "adaptive"):
        fail(f"must be standard, legacy or adaptive, got {value!r}")
    return value


def _secret_error(path: str, line: int | None, name: str, key: str) -> None:
    raise ConfigError(
        path,
        line,
        f"connection {name!r}: {key!r} looks like a secret, and secrets never go in this "
        f"file: delete the line and store it in the OS keyring with "
        f"`pail connection add {name} --provider ...` (it prompts for secrets)",
    )


def spec_from_table(
    name: str, raw: Any, text: str, path: str, env: Mapping[str, str]
) -> ConnectionSpec:
    """One ``[connections.NAME]`` table (plain Python values) as a saved ConnectionSpec."""
    header = locate(text, name)
    if not NAME_RE.match(name):
        raise ConfigError(
            path, header, f"bad connection name {name!r}: use letters, digits, '.', '_', '-'"
        )
    if not isinstance(raw, dict):
        raise ConfigError(path, header, f"connection {name!r} must be a table")
    for key in raw:
        if looks_secret(key) and key != SECRETS_KEY and env_reference(key, raw[key]) is None:
            _secret_error(path, locate(text, name, key=key), name, key)
        if key not in CONNECTION_KEYS and key not in ENV_SECRET_KEYS:
            raise ConfigError(
                path,
                locate(text, name, key=key),
                f"connection {name!r}: unknown key {key!r}; known keys: "
                f"{', '.join(CONNECTION_KEYS)}",
            )
    values: dict[str, Any] = {}
    quirks: dict[str, Any] = {}
    secrets_in = _secrets_record(raw.get(SECRETS_KEY), text, path, name)
    for key, value in raw.items():
        if key in ("client", "write", SECRETS_KEY, *ENV_SECRET_KEYS):
            continue
        line = locate(text, name, key=key)

        def fail(message: str, key: str = key, line: int | None = line) -> None:
            raise ConfigError(path, line, f"connection {name!r}: {key}: {message}")

        if isinstance(value, str):
            value = expand(value, env, fail)
        if key in QUIRK_KEYS:
            try:
                quirks[key] = check_quirk(key, value)
            except ValueError as exc:
                fail(str(exc).removeprefix(f"{key} "))
            continue
        values[key] = typed(value, bool if key in BOOL_KEYS else str, fail)
    provider = values.pop("provider", None)
    if provider not in PROVIDERS:
        line = locate(text, name, key="provider") if provider else header
        what = f"unknown provider {provider!r}" if provider else "missing provider"
        raise ConfigError(path, line, f"connection {name!r}: {what}; use {', '.join(PROVIDERS)}")
    values = {key: normalise(key, value) for key, value in values.items()}
    if provider == "local" and not values.get("root"):
        raise ConfigError(path, header, f"connection {name!r}: a local connection needs root")
    values = {k: v for k, v in values.items() if v not in (None, "")}
    client = _options(raw.get("client", {}), CLIENT_OPTIONS, (text, path, name, "client"), env)
    write = _options(raw.get("write", {}), WRITE_ARGS, (text, path, name, "write"), env)
    source = None
    if values.get("endpoint_url"):  # checked for S3 (a GCS endpoint is the driver's)
        source = _endpoint_source(
            name, raw.get("endpoint_url"), values["endpoint_url"], text, path, provider == "s3"
        )
    secrets = _env_secrets(name, raw, text, path, env, secrets_in)
    return ConnectionSpec(
        name=name, provider=provider, client_options=client, write_args=write, saved=True,
        secrets_in=secrets_in, endpoint_source=source, secrets=secrets, quirks=quirks, **values,
    )  # fmt: skip


def _endpoint_source(
    name: str, raw: Any, endpoint: str, text: str, path: str, check: bool = True
) -> str:
    """``connection NAME (FILE)`` (``, via ${env.X}`` when the value names variables),
    after checking the endpoint when ``check`` (:func:`pail.core.endpoint.diagnose`; a
    ConfigError)."""
    refs = [var for var, _ in _ENV_RE.findall(raw)] if isinstance(raw, str) else []
    via = ", ".join(f"${{env.{var}}}" for var in refs)
    diagnosis = diagnose(endpoint) if check else None
    if diagnosis is not None:
        what = f"endpoint_url (from {via})" if via else "endpoint_url"
        line = locate(text, name, key="endpoint_url")
        raise ConfigError(path, line, f"connection {name!r}: {what}: {diagnosis.message()}")
    return f"connection {name} ({path}, via {via})" if via else f"connection {name} ({path})"


def _env_secrets(
    name: str,
    raw: dict[str, Any],
    text: str,
    path: str,
    env: Mapping[str, str],
    secrets_in: str | None,
) -> Secrets | None:
    """The in-memory secrets of ``aws_access_key_id = "${env.X:=}"``-style references
    (:data:`ENV_SECRET_KEYS`), or ``None`` when none is set (the usual credential order
    applies). A key id without its secret (or the reverse), or references on a connection
    whose secrets are in the keyring, is a ConfigError (which secret would be used?)."""
    refs = {key: raw[key] for key in ENV_SECRET_KEYS if key in raw}
    if not refs:
        return None
    found: dict[str, str] = {}
    for key, value in refs.items():
        line = locate(text, name, key=key)

        def fail(message: str, key: str = key, line: int | None = line) -> None:
            raise ConfigError(path, line, f"connection {name!r}: {key}: {message}")

        expanded = expand(value, env, fail).strip()
        if expanded:
            found[ENV_SECRET_KEYS[key]] = expanded
    if not found:
        return None
    header = locate(text, name)
    if secrets_in == SECRETS_KEYRING:
        raise ConfigError(
            path,
            header,
            f'connection {name!r}: its secrets are in the keyring (secrets = "keyring") '
            "and also named by ${env.…} references; keep one of the two",
        )
    if "access_key_id" not in found or "secret_access_key" not in found:
        missing = "aws_secret_access_key" if "access_key_id" in found else "aws_access_key_id"
        raise ConfigError(
            path,
            header,
            f"connection {name!r}: {missing} is empty or missing while the other ${{env.…}} "
            "credential is set; set both variables, or neither",
        )
    return Secrets(
        access_key_id=found["access_key_id"],
        secret_access_key=found["secret_access_key"],
        session_token=found.get("session_token"),
    )


def _secrets_record(value: Any, text: str, path: str, name: str) -> str | None:
    """The ``secrets`` record of a connection: ``"keyring"``, ``"none"`` or ``None`` when
    absent. Any other value is refused without repeating it (it may be a pasted secret)."""
    if value is None:
        return None
    if isinstance(value, str) and value in SECRETS_RECORDS:
        return value
    raise ConfigError(
        path,
        locate(text, name, key=SECRETS_KEY),
        f"connection {name!r}: {SECRETS_KEY} says where the secrets live and must be "
        f'"keyring" or "none" (the value is not shown: secrets never go in this file; store '
        f"them with `pail connection add {name} ... --replace`)",
    )


def parse_specs(text: str, path: str, env: Mapping[str, str]) -> list[ConnectionSpec]:
    """Every connection in the file's text, in order (raises ConfigError)."""
    data = parse_document(text, path).unwrap()
    for key in data:
        if key not in ("connections", "keymap", "ui"):  # the last two: pail.config.ui_prefs
            line = next(
                (
                    i
                    for i, ln in enumerate(text.splitlines(), 1)
                    if re.match(rf"\s*\[?\s*{key}", ln)
                ),
                None,
            )
            raise ConfigError(
                path, line, f"unknown top-level key {key!r}: connections go in [connections.NAME]"
            )
    connections = data.get("connections", {})
    if not isinstance(connections, dict):
        raise ConfigError(path, locate(text, "connections"), "'connections' must be a table")
    return [spec_from_table(n, raw, text, path, env) for n, raw in connections.items()]
