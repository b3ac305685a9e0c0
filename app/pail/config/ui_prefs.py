"""The app's preferences in the config file: key overrides and the theme.

Two optional top-level tables of the connections file (:mod:`pail.config.file`)::

    [keymap]                      # binding id = key(s), comma-separated (posting's way)
    "node.download" = "ctrl+d"
    "list.load_all" = "G,end"
    "app.quit" = "ctrl+q,Q"

    [ui]
    theme = "gruvbox"             # written by the app when a theme is chosen (ctrl+p)

Binding ids are the ones the README's key table and ``?`` list; key names are Textual's
(``ctrl+d``, ``shift+x`` or ``X``, ``question_mark``, ``slash``, ``f5``). The keymap is
applied with Textual's :meth:`textual.app.App.set_keymap`. The theme is written back with
tomlkit under the file's lock, keeping the user's comments and the rest of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import tomlkit

from pail.config import write as config_write
from pail.config.file import parse_document
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError

KEYMAP_TABLE = "keymap"
UI_TABLE = "ui"
#: Top-level tables of the connections file that are not connections.
PREF_TABLES = (KEYMAP_TABLE, UI_TABLE)
_BINDING_ID = re.compile(r"^[a-z_]+\.[a-z_]+$")
_KEY = re.compile(r"^[A-Za-z0-9_+]+$")


@dataclass(frozen=True)
class UIPrefs:
    """What the config file says about the app.

    Attributes:
        keymap: binding id -> key(s) (``"ctrl+d"``, ``"G,end"``), as written.
        theme: a Textual theme name, or None for the default.
    """

    keymap: Mapping[str, str] = field(default_factory=dict)
    theme: str | None = None


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def parse_prefs(text: str, path: str) -> UIPrefs:
    """The ``[keymap]`` and ``[ui]`` tables of the file's ``text``.

    Raises:
        ConfigError: bad TOML, a non-table, a binding id not shaped ``area.name``, a key
            value that is not a string of key names, or a theme that is not a string.
    """
    data = parse_document(text, path).unwrap()
    keymap_raw = data.get(KEYMAP_TABLE, {})
    ui_raw = data.get(UI_TABLE, {})
    for name, table in ((KEYMAP_TABLE, keymap_raw), (UI_TABLE, ui_raw)):
        if not isinstance(table, dict):
            raise ConfigError(path, _line_of(text, name), f"'{name}' must be a table")
    keymap: dict[str, str] = {}
    for binding_id, keys in keymap_raw.items():
        line = _line_of(text, binding_id)
        if not _BINDING_ID.match(binding_id):
            raise ConfigError(
                path, line, f"[keymap] {binding_id!r} is not a binding id (see `?` in the app)"
            )
        if not isinstance(keys, str) or not all(_KEY.match(key.strip()) for key in keys.split(",")):
            raise ConfigError(
                path, line, f'[keymap] {binding_id}: give key names such as "ctrl+d" or "G,end"'
            )
        keymap[binding_id] = ",".join(key.strip() for key in keys.split(","))
    theme = ui_raw.get("theme")
    if theme is not None and not isinstance(theme, str):
        raise ConfigError(path, _line_of(text, "theme"), "[ui] theme must be a string")
    return UIPrefs(keymap=keymap, theme=theme or None)


def read_prefs(store: ConnectionStore) -> UIPrefs:
    """The preferences in ``store``'s file; none when the file does not exist.

    Raises:
        ConfigError: as :func:`parse_prefs`, or the file cannot be read.
    """
    try:
        with open(store.path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return UIPrefs()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(store.path, None, f"cannot read the config file: {exc}") from None
    return parse_prefs(text, store.path)


def save_theme(store: ConnectionStore, theme: str) -> None:
    """Set ``[ui] theme`` in ``store``'s file (created when missing), keeping the rest.

    Under the file's lock, written atomically at mode 0600
    (:func:`pail.config.write.write_atomic`).

    Raises:
        ConfigError: the file is malformed. ConfigLocked: another writer held the lock.
        OSError: the file cannot be written.
    """
    with store.locked():
        try:
            with open(store.path, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            text = ""
        doc = parse_document(text, store.path)
        if UI_TABLE not in doc:
            doc.add(UI_TABLE, tomlkit.table())
        table = doc[UI_TABLE]
        if table.get("theme") == theme:
            return
        table["theme"] = theme
        os.makedirs(os.path.dirname(os.path.abspath(store.path)), exist_ok=True)
        config_write.write_atomic(store.path, doc.as_string())
