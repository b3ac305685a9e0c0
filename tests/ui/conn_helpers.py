"""Helpers for the connection tests: a store on a tmp path, saved connections with keyring
secrets, and typing into the connection form the way a user does (focus, keys)."""

from __future__ import annotations

import json
from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.screens.connections import ConnectionsScreen
from ui.ui_helpers import settle, until


def store_at(folder: Path) -> ConnectionStore:
    """A config file in ``folder`` (not yet created)."""
    return ConnectionStore(str(folder / "connections.toml"))


def save(store: ConnectionStore, spec: ConnectionSpec, secrets: Secrets | None = None):
    """Save ``spec`` (settings to the file, secrets to the keyring) and return it as the
    store reads it back (``saved=True``)."""
    store.save(spec)
    if secrets is not None:
        credentials.store_secrets(spec.name, secrets)
    return store.get(spec.name)


def keyring_entry(memory, name: str) -> dict | None:
    """The JSON keyring entry of connection ``name`` in the in-memory keyring."""
    raw = memory.entries.get((credentials.SERVICE, name))
    return json.loads(raw) if raw else None


async def open_connections(pilot: Pilot) -> ConnectionsScreen:
    """Press C and wait for the connections screen to list."""
    await pilot.press("C")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConnectionsScreen), "connections")
    await settle(pilot)
    return pilot.app.screen


async def open_form(pilot: Pilot, key: str = "a") -> ConnectionForm:
    """Press ``key`` (a add / e edit) on the connections screen and wait for the form."""
    await pilot.press(key)
    await until(pilot, lambda: isinstance(pilot.app.screen, ConnectionForm), "the form")
    await pilot.pause()
    return pilot.app.screen


async def type_into(pilot: Pilot, field: str, text: str, *, replace: bool = True) -> None:
    """Focus the form field ``field`` (a FormValues name) and type ``text`` key by key;
    ``replace`` first clears what is there."""
    widget = pilot.app.screen.query_one(f"#f-{field}", Input)
    widget.focus()
    await pilot.pause()
    if replace:
        widget.value = ""
    await pilot.press(*text)
    assert widget.value == text, (field, widget.value)


async def tick(pilot: Pilot, field: str) -> None:
    """Focus a form checkbox and toggle it with the space bar."""
    box = pilot.app.screen.query_one(f"#f-{field}", Checkbox)
    box.focus()
    await pilot.pause()
    await pilot.press("space")


async def submit_form(pilot: Pilot) -> None:
    """Press ctrl+s in the form and wait for the save worker to answer."""
    await pilot.press("ctrl+s")
    await settle(pilot)
