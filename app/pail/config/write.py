"""Writing the connections file: add, update or remove one connection in place.

tomlkit keeps the user's comments, blank lines and key order; values spelled
``${env.NAME}`` stay unexpanded while their expansion is unchanged. The file is replaced
atomically and left at mode 0600 (see :func:`write_atomic`). Secrets are never written:
only :class:`~pail.core.connection.ConnectionSpec` settings reach this module.

These functions are the pieces of a read-modify-write; callers hold the file's lock around
the whole of it (:meth:`pail.config.store.ConnectionStore.locked`), or two writers at the same
moment each write their own change over the other's.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import tomlkit

from pail.config.file import (
    BOOL_KEYS,
    SECRETS_KEY,
    STRING_KEYS,
    expand,
    normalise,
    parse_document,
    typed,
)
from pail.core.connection import NAME_RE, PROVIDERS, ConfigError, ConnectionSpec


def _spec_values(spec: ConnectionSpec) -> dict[str, Any]:
    """What the file holds for ``spec``: its settings and where its secrets live
    (``secrets = "keyring"|"none"``, removed when ``spec.secrets_in`` is None), never the
    secrets themselves."""
    values: dict[str, Any] = {"provider": spec.provider}
    for key in (*STRING_KEYS, *BOOL_KEYS):
        values[key] = getattr(spec, key)
    values[SECRETS_KEY] = spec.secrets_in
    return values


def _unchanged(key: str, old: Any, new: Any, env: Mapping[str, str]) -> bool:
    """True when the file's ``old`` value already reads as ``new`` (``"runs"`` for the
    prefix ``"runs/"``, or ``${env.…}`` expanding to it): keep it as the user wrote it."""
    if old is None:
        return False
    try:
        if isinstance(old, str) and "${env." in old:
            old = typed(expand(old, env, _raise_value_error), type(new), _raise_value_error)
        return normalise(key, old) == new
    except ValueError:
        return False


def _raise_value_error(message: str) -> None:
    raise ValueError(message)


def _update(table: Any, values: Mapping[str, Any], env: Mapping[str, str]) -> None:
    """Set ``values`` in a tomlkit table in place (comments and order stay); empty values
    (None, "", False, {}) remove their key."""
    for key, value in values.items():
        empty = value is None or value == "" or value is False
        old = table.get(key)
        if _unchanged(key, old.unwrap() if hasattr(old, "unwrap") else old, value, env):
            continue
        if empty:
            if key in table:
                del table[key]
        else:
            table[key] = value


def _update_sub(table: Any, sub: str, values: Mapping[str, Any], env: Mapping[str, str]) -> None:
    if not values:
        if sub in table:
            del table[sub]
        return
    if sub not in table:
        table[sub] = tomlkit.table()
    inner = table[sub]
    for key in [k for k in inner if k not in values]:
        del inner[key]
    _update(inner, values, env)


def with_spec(text: str, path: str, spec: ConnectionSpec, env: Mapping[str, str]) -> str:
    """The file's text with ``spec`` added or updated in place (raises ConfigError)."""
    if not NAME_RE.match(spec.name):
        raise ConfigError(
            path, None, f"bad connection name {spec.name!r}: use letters, digits, '.', '_', '-'"
        )
    if spec.provider not in PROVIDERS:
        raise ConfigError(path, None, f"unknown provider {spec.provider!r}")
    doc = parse_document(text, path)
    if "connections" not in doc:
        doc.add("connections", tomlkit.table(is_super_table=True))
    connections = doc["connections"]
    if spec.name not in connections:
        table = tomlkit.table()
        connections[spec.name] = table
        table = connections[spec.name]
    else:
        table = connections[spec.name]
    _update(table, _spec_values(spec), env)
    _update_sub(table, "client", dict(spec.client_options), env)
    _update_sub(table, "write", dict(spec.write_args), env)
    return doc.as_string()


def without_spec(text: str, path: str, name: str) -> str | None:
    """The file's text without connection ``name``; None when it is not there."""
    doc = parse_document(text, path)
    connections = doc.get("connections")
    if connections is None or name not in connections:
        return None
    del connections[name]
    return doc.as_string()


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and
    ``os.replace`` (atomic on POSIX and Windows), leaving it at mode 0600; the folder is
    created 0700 when missing.

    Raises:
        OSError: the folder or file cannot be written (the old file is left intact).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".connections-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            os.chmod(tmp, 0o600)  # mkstemp already makes it 0600; say so explicitly
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    os.chmod(path, 0o600)
