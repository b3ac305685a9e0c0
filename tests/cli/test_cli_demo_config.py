"""`pail demo`'s connections as saved connections of a demo-only config file
(:func:`pail.cli.main.demo_config`), and the app's connections screen (C) listing them.

No demo server is started here (moto's IAM switch is process-global): the demo's three
connections point at the session's moto server with its ``testing`` keys, written as the
demo writes them.
"""

from __future__ import annotations

import os

import pytest

from pail import credentials
from pail.cli.main import DEMO_PROFILES, demo_config
from pail.config.store import ConnectionStore
from pail.core.connection import Secrets
from pail.demo.server import DemoStore, demo_connections
from pail.ui.screens.connections import ConnectionTable
from support.ui import make_app, open_connections, run

ADMIN = Secrets("AKIADEMOADMIN0000001", "admin-secret-not-for-files")
READONLY = Secrets("AKIADEMOREADONLY0002", "readonly-secret-not-for-files")


@pytest.fixture
def demo_store(s3_endpoint, tmp_path) -> DemoStore:
    local = tmp_path / "demo-local"
    local.mkdir()
    return DemoStore(
        endpoint=s3_endpoint,
        connections=demo_connections(s3_endpoint, ADMIN, READONLY, str(local)),
        local_root=str(local),
        admin=ADMIN,
        readonly=READONLY,
    )


@pytest.fixture
def demo_env(monkeypatch):
    """demo_config sets these for the process; monkeypatch puts the test's values back."""
    for name in ("PAIL_CONFIG", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"):
        monkeypatch.setenv(name, os.environ.get(name, "unset"))


def test_demo_connections_are_saved_in_a_file_of_their_own(demo_store, tmp_path, demo_env):
    users_config = os.environ["PAIL_CONFIG"]  # the autouse fixture's "real" config
    folder = tmp_path / "demo-config"
    saved = demo_config(demo_store, str(folder))
    assert saved.path == str(folder / "connections.toml") != users_config
    assert not os.path.exists(users_config)  # never written
    assert os.environ["PAIL_CONFIG"] == saved.path  # the app's default store is this one
    assert saved.names() == ["demo", "demo-readonly", "demo-local"]
    text = (folder / "connections.toml").read_text()
    for secret in (ADMIN.secret_access_key, READONLY.secret_access_key):
        assert secret not in text
    assert oct(os.stat(folder / "aws-credentials").st_mode & 0o777) == "0o600"
    # Each S3 connection finds its own user's keys through its profile.
    for name, keys in (("demo", ADMIN), ("demo-readonly", READONLY)):
        resolved = credentials.resolve(ConnectionStore(saved.path).get(name))
        assert resolved.source == f"profile {DEMO_PROFILES[name]}"
        assert resolved.identity == credentials.mask(keys.access_key_id)


def test_a_second_start_rewrites_the_file(demo_store, tmp_path, demo_env):
    folder = tmp_path / "demo-config"
    demo_config(demo_store, str(folder))
    moved = DemoStore(
        endpoint="http://127.0.0.1:9",
        connections=demo_connections("http://127.0.0.1:9", ADMIN, READONLY, "/tmp"),
        local_root="/tmp",
        admin=ADMIN,
        readonly=READONLY,
    )
    saved = demo_config(moved, str(folder))
    assert saved.get("demo").endpoint_url == "http://127.0.0.1:9"


def test_the_connections_screen_lists_the_demo_connections(demo_store, tmp_path, demo_env):
    saved = demo_config(demo_store, str(tmp_path / "demo-config"))

    async def body() -> list[str]:
        app = make_app(demo_store.connections, store=saved)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await open_connections(pilot)
            table = screen.query_one(ConnectionTable)
            return [str(key.value) for key in table.rows]

    assert run(body()) == ["demo", "demo-readonly", "demo-local"]
