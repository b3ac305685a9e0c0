"""Helpers for driving PailApp in tests: waiting for workers, finding nodes, reading panes;
the cleanup chain (aged seeding relative to the app's fixed clock :data:`NOW`, then stale
filter -> review -> confirm -> progress with keys); the connections screen (a store on a
tmp path, saved connections with keyring secrets, typing into the form the way a user
does: focus, keys).

Waiting is by condition (workers finished, messages handled), never by elapsed time; the
loops are bounded so a hang fails the test instead of blocking it.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import re
import threading
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input
from textual.widgets.tree import TreeNode
from textual.worker import WorkerCancelled, WorkerFailed

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.base import StorageDriver
from pail.drivers.errors import StorageError
from pail.drivers.registry import open_driver
from pail.ui.app import PailApp
from pail.ui.nodes import NodeData
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.screens.connections import ConnectionsScreen
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from pail.ui.widgets.bucket_tree import BucketTree
from pail.ui.widgets.detail import DetailPane
from support.servers import moto_backend, seed_keys

SIZE = (120, 40)
#: A fixed "now" for the detail pane's ages.
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run an async test body on a fresh event loop."""
    return asyncio.run(coro)


def make_app(specs: list[ConnectionSpec], factory=open_driver, **kwargs: Any) -> PailApp:
    """A PailApp with a fixed clock."""
    return PailApp(specs, driver_factory=factory, clock=lambda: NOW, **kwargs)


def s3_spec(endpoint: str, name: str = "moto", **kwargs: Any) -> ConnectionSpec:
    """An S3 connection to a moto server (path-style, us-east-1)."""
    return ConnectionSpec(
        name=name,
        provider="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        path_style=True,
        **kwargs,
    )


def stable_resolver(spec: ConnectionSpec) -> credentials.Resolved:
    """:func:`pail.credentials.resolve`, with the masked identity replaced by a fixed one
    (moto's IAM access key ids are random: snapshots would change on every run)."""
    resolved = credentials.resolve(spec)
    return replace(resolved, identity="AKIA…TEST" if resolved.identity else None)


async def settle(pilot: Pilot, rounds: int = 500) -> None:
    """Wait until no worker runs and every message they posted has been handled."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        pending = [w for w in app.workers if not w.is_finished]
        if not pending:
            await pilot.pause()
            if all(w.is_finished for w in app.workers):
                return
            continue
        for worker in pending:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    raise AssertionError("the app did not settle")


async def until(pilot: Pilot, predicate: Callable[[], bool], what: str, rounds: int = 3000) -> None:
    """Process events until ``predicate()`` holds (bounded number of rounds)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.005)
    raise AssertionError(f"never happened: {what}")


def tree_of(app: PailApp) -> BucketTree:
    """The main screen's tree (also while another screen is on top)."""
    return app.main_screen.query_one(BucketTree)


def detail_of(app: PailApp) -> DetailPane:
    return app.main_screen.query_one(DetailPane)


def detail_text(app: PailApp) -> str:
    return detail_of(app).as_text(width=200)


def names(node: TreeNode[NodeData]) -> list[str]:
    """Plain labels of a node's children (names only, no badges)."""
    return [child.label.plain for child in node.children]


def rows(app: PailApp, node: TreeNode[NodeData]) -> list[str]:
    """Children rows as drawn (with icons, sizes and badges)."""
    tree = tree_of(app)
    return [tree.line_text(child) for child in node.children]


def find(app: PailApp, *path: str) -> TreeNode[NodeData]:
    """The node reached by following child names from the root."""
    node = tree_of(app).root
    for name in path:
        matches = [c for c in node.children if c.label.plain == name]
        assert matches, f"{name!r} not among {names(node)}"
        node = matches[0]
    return node


async def open_node(pilot: Pilot, node: TreeNode[NodeData]) -> TreeNode[NodeData]:
    """Put the cursor on ``node``, press enter unless it is already expanded (on a leaf
    such as "load more…" enter selects it), and settle."""
    await select(pilot, node)
    if not node.is_expanded:
        await pilot.press("enter")
    await settle(pilot)
    return node


async def select(pilot: Pilot, node: TreeNode[NodeData]) -> None:
    """Move the cursor to ``node`` and settle (the detail pane loads it)."""
    tree = tree_of(pilot.app)
    await pilot.pause()
    tree.move_cursor(node)
    await settle(pilot)
    assert tree.cursor_node is node


def screen_text(app: PailApp) -> str:
    """The visible characters of the screen (from the SVG export), for literal checks."""
    svg = app.export_screenshot()
    parts = re.findall(r"<text [^>]*>(.*?)</text>", svg)
    return html.unescape("".join(parts)).replace("\xa0", " ")


class GatedDriver:
    """Wraps a real driver; ``list_page`` / ``head`` for gated prefixes/keys block until
    the gate opens; recursive listings (``delimiter=""``, a search's first page) of
    ``refuse_flat`` prefixes fail with a StorageError. Wraps pail's driver, not an SDK."""

    def __init__(
        self,
        inner: StorageDriver,
        *,
        prefixes: tuple[str, ...] = (),
        keys=(),
        refuse_flat: tuple[str, ...] = (),
    ) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.waiting = threading.Event()
        self.prefixes = prefixes
        self.refuse_flat = refuse_flat
        self.keys = tuple(keys)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _wait(self) -> None:
        self.waiting.set()
        assert self.gate.wait(60), "gate never opened"

    def list_page(self, bucket: str, prefix: str = "", **kwargs: Any):
        if prefix in self.refuse_flat and kwargs.get("delimiter") == "":
            raise StorageError("refused by the test", operation="list", bucket=bucket)
        if prefix in self.prefixes:
            self._wait()
        return self.inner.list_page(bucket, prefix, **kwargs)

    def head(self, bucket: str, key: str, **kwargs: Any):
        if key in self.keys:
            self._wait()
        return self.inner.head(bucket, key, **kwargs)


def set_mtime(path: os.PathLike[str] | str, when: datetime) -> None:
    """Give a file a fixed modification time."""
    ts = when.timestamp()
    os.utime(path, (ts, ts))


class StableErrors:
    """Wraps pail's S3 driver: errors keep every field except the endpoint's random port
    and the random request id, which would change the snapshot on every run (and the
    response's Date header, whose clock skew is explained to the second)."""

    def __init__(self, inner: Any, endpoint: str) -> None:
        self._inner = inner
        self._endpoint = endpoint

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except StorageError as exc:
                exc.endpoint = "http://127.0.0.1:PORT" if exc.endpoint else None
                exc.request_id = "REQUEST-ID" if exc.request_id else None
                # The clock skew explained from the Date header varies by a second.
                exc.server_time = None  # type: ignore[attr-defined]
                raise

        return call


def seed_aged(bucket: str, objects: dict[str, tuple[int, float]]) -> None:
    """``{key: (size_bytes, age_days)}`` before the app's clock (:data:`NOW`)."""
    seed_keys(bucket, {key: b"x" * size for key, (size, _) in objects.items()})
    found = moto_backend().buckets[bucket].keys
    for key, (_, age) in objects.items():
        found[key].last_modified = (NOW - timedelta(days=age)).replace(tzinfo=None)


def seed_runs(bucket: str, ages: dict[str, float], files: int = 2, size: int = 10) -> None:
    """Runs ``runs/NAME/f{i}.bin``, ``files`` objects of ``size`` bytes, ``age`` days old."""
    seed_aged(
        bucket,
        {f"runs/{name}/f{i}.bin": (size, age) for name, age in ages.items() for i in range(files)},
    )


async def stale_filter(pilot, **fields: str) -> DeleteReviewScreen:
    """Press z, fill the fields, submit; wait for the review's plan."""
    app = pilot.app
    await pilot.press("z")
    await until(pilot, lambda: isinstance(app.screen, StaleFilterScreen), "filter form")
    for name, value in fields.items():
        app.screen.query_one(f"#stale-{name}").value = value
    await pilot.pause()
    await pilot.click("#stale-ok")
    return await review_ready(pilot)


async def review_ready(pilot) -> DeleteReviewScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DeleteReviewScreen), "review screen")
    await until(pilot, lambda: app.screen.ready, "plan built")
    await pilot.pause()
    return app.screen


async def confirm(pilot, typed: str | None = None) -> DeleteProgressScreen:
    """From the review: X, (type the bucket name), press Delete; wait for the result."""
    app = pilot.app
    await pilot.press("X")
    await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirmation")
    if typed is not None:
        app.screen.query_one("#delete-confirm-bucket").value = typed
        await pilot.pause()
    await pilot.click("#delete-confirm-yes")
    return await finished(pilot)


async def finished(pilot) -> DeleteProgressScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DeleteProgressScreen), "progress screen")
    await until(pilot, lambda: app.screen.finished, "delete finished", rounds=6000)
    await pilot.pause()
    return app.screen


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


async def open_form(pilot: Pilot, key: str = "n") -> ConnectionForm:
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
