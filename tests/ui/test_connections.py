"""The connections screen and form against real parts: a config file on a tmp path, the
in-memory keyring (``isolated_config`` in tests/conftest.py) and moto servers.

Secrets are typed into the masked inputs; the tests check they reach the keyring and
nothing else: not the config file, not the screen.
"""

from __future__ import annotations

import json

from pail.core.connection import ConnectionSpec, Secrets
from pail.ui.screens.confirm import ConfirmScreen
from pail.ui.screens.connections import ConnectionsScreen
from pail.ui.screens.main import MainScreen
from support.servers import free_port, seed_keys
from support.ui import (
    SIZE,
    detail_text,
    find,
    keyring_entry,
    make_app,
    names,
    open_connections,
    open_form,
    open_node,
    run,
    save,
    screen_text,
    settle,
    store_at,
    submit_form,
    tick,
    tree_of,
    type_into,
    until,
)

KEY_ID = "AKIAFORMTEST0000WXYZ"
SECRET = "form-Secret-Value-9f3b1c"


def table_rows(screen: ConnectionsScreen) -> list[list[str]]:
    table = screen.query_one("#connections-table")
    return [[cell.plain for cell in table.get_row_at(i)] for i in range(table.row_count)]


def test_add_a_connection_through_the_form(s3_endpoint, tmp_path, isolated_config):
    seed_keys("artifacts", {"runs/1/params.json": b"{}", "README.md": b"hi"})
    store = store_at(tmp_path)

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_connections(pilot)
            assert "No saved connections yet" in screen_text(app)
            form = await open_form(pilot)
            await type_into(pilot, "name", "lab")
            await type_into(pilot, "endpoint_url", s3_endpoint)
            await type_into(pilot, "region", "us-east-1")
            await tick(pilot, "path_style")
            await type_into(pilot, "bucket", "artifacts")
            await type_into(pilot, "access_key_id", KEY_ID)
            await type_into(pilot, "secret_access_key", SECRET)
            shown = screen_text(app)
            assert SECRET not in shown and "•" * len(SECRET) in shown
            assert SECRET not in app.export_screenshot()
            assert form.values().path_style is True
            await submit_form(pilot)
            assert app.screen is screen
            # Settings in the file, the secret only in the keyring.
            config = (tmp_path / "connections.toml").read_text()
            assert "lab" in config and s3_endpoint in config
            assert SECRET not in config and KEY_ID not in config
            entry = keyring_entry(isolated_config, "lab")
            assert entry["access_key_id"] == KEY_ID and entry["secret_access_key"] == SECRET
            assert table_rows(screen) == [
                ["lab", "s3", s3_endpoint, "artifacts", "keyring · AKIA…WXYZ"]
            ]
            assert "Saved lab (secrets in the keyring)." in screen_text(app)
            # It is a tree root already; enter opens it there.
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "back to the tree")
            await settle(pilot)
            lab = find(app, "lab")
            assert lab.is_expanded and tree_of(app).cursor_node is lab
            assert lab.data.conn.resolved.source == "keyring"
            assert lab.data.conn.resolved.spec.secrets.secret_access_key == SECRET
            await open_node(pilot, find(app, "lab", "artifacts"))
            assert names(find(app, "lab", "artifacts")) == ["README.md", "runs/"]
            assert "credentials: keyring · AKIA…WXYZ" in app.screen.status.plain
            text = screen_text(app)
            assert SECRET not in text and KEY_ID not in text

    run(body())


def test_form_checks_values_inline(tmp_path):
    store = store_at(tmp_path)
    save(store, ConnectionSpec(name="taken", provider="local", root=str(tmp_path)))

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_connections(pilot)
            form = await open_form(pilot)
            await submit_form(pilot)
            assert "Name: Give the connection a name." in screen_text(app)
            await type_into(pilot, "name", "bad name")
            await type_into(pilot, "endpoint_url", "127.0.0.1:9000")
            await type_into(pilot, "secret_access_key", SECRET)
            await submit_form(pilot)
            text = screen_text(app)
            assert "Name: Use letters, digits" in text
            # The command line's message (pail.core.endpoint), on the field.
            assert "Endpoint URL: Endpoint '127.0.0.1:9000' has no scheme" in text
            assert "http://127.0.0.1:9000" in text
            assert "Access key id: Enter the access key id too." in text
            assert app.screen is form and SECRET not in text
            await type_into(pilot, "name", "taken")
            await type_into(pilot, "endpoint_url", "http://127.0.0.1:9000")
            await type_into(pilot, "access_key_id", KEY_ID)
            await submit_form(pilot)
            assert "Name: A connection called taken already exists." in screen_text(app)
            assert app.screen is form
            assert store.names() == ["taken"]
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, ConnectionsScreen), "closed")

    run(body())


def test_edit_and_rename_keep_the_secrets(s3_endpoint, tmp_path, isolated_config):
    store = store_at(tmp_path)
    spec = ConnectionSpec(
        name="lab", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    save(store, spec, Secrets(KEY_ID, SECRET))

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert names(tree_of(app).root) == ["lab"]
            screen = await open_connections(pilot)
            await open_form(pilot, "e")
            assert "Edit connection lab" in screen_text(app)
            await type_into(pilot, "name", "lab2")
            await type_into(pilot, "bucket", "other")
            await type_into(pilot, "prefix", "runs")
            await submit_form(pilot)
            assert app.screen is screen
            assert store.names() == ["lab2"]
            edited = store.get("lab2")
            assert (edited.bucket, edited.prefix, edited.endpoint_url) == (
                "other",
                "runs/",
                s3_endpoint,
            )
            # Empty secret fields kept the stored secrets; the entry moved to the new name.
            assert keyring_entry(isolated_config, "lab") is None
            assert keyring_entry(isolated_config, "lab2")["secret_access_key"] == SECRET
            assert table_rows(screen)[0][:4] == ["lab2", "s3", s3_endpoint, "other/runs/"]
            await pilot.press("escape")
            await settle(pilot)
            assert names(tree_of(app).root) == ["lab2"]

    run(body())


def test_remove_asks_then_deletes_config_and_keyring(tmp_path, isolated_config):
    store = store_at(tmp_path)
    save(store, ConnectionSpec(name="keep", provider="local", root=str(tmp_path)))
    save(store, ConnectionSpec(name="gone", provider="s3"), Secrets(KEY_ID, SECRET))

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert names(tree_of(app).root) == ["keep", "gone"]
            screen = await open_connections(pilot)
            await pilot.press("down", "X")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm")
            assert "Remove connection gone?" in screen_text(app)
            await pilot.press("n")  # no: nothing happens
            await until(pilot, lambda: app.screen is screen, "confirm closed")
            await settle(pilot)
            assert store.names() == ["keep", "gone"]
            assert keyring_entry(isolated_config, "gone") is not None
            await pilot.press("X")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "confirm")
            await pilot.press("y")
            await settle(pilot)
            assert store.names() == ["keep"]
            assert keyring_entry(isolated_config, "gone") is None
            assert [row[0] for row in table_rows(screen)] == ["keep"]
            assert "Removed gone." in screen_text(app)
            assert names(tree_of(app).root) == ["keep"]

    run(body())


def test_test_shows_the_answer_or_the_error(s3_endpoint, tmp_path):
    seed_keys("artifacts", {"runs/1/a.json": b"{}", "runs/2/b.json": b"{}"})
    store = store_at(tmp_path)
    good = ConnectionSpec(
        name="good",
        provider="s3",
        endpoint_url=s3_endpoint,
        region="us-east-1",
        path_style=True,
        bucket="artifacts",
        prefix="runs/",
    )
    save(store, good)
    down = f"http://127.0.0.1:{free_port()}"
    save(store, ConnectionSpec(name="down", provider="s3", endpoint_url=down, path_style=True))

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_connections(pilot)
            await pilot.press("t")
            await settle(pilot)
            text = screen_text(app)
            assert "✓ good: Listed artifacts/runs/: 2 entries on the first page." in text
            assert "Credentials: environment" in text
            await pilot.press("down", "t")
            await settle(pilot)
            text = screen_text(app)
            assert "✗ down: unreachable" in text
            assert "EndpointUnreachable" in text and "Hint: Could not reach the endpoint" in text

    run(body())


def test_saved_connections_resolve_credentials_only_when_opened(s3_endpoint, tmp_path):
    seed_keys("artifacts", ["a.txt"])
    store = store_at(tmp_path)
    spec = ConnectionSpec(
        name="lab", provider="s3", endpoint_url=s3_endpoint, region="us-east-1", path_style=True
    )
    save(store, spec, Secrets(KEY_ID, SECRET))

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            lab = find(app, "lab")
            assert not lab.is_expanded and lab.data.conn.resolved is None
            assert "credentials: resolved when opened" in app.screen.status.plain
            assert "Credentials  resolved when opened" in detail_text(app)
            await open_node(pilot, lab)
            assert names(lab) == ["artifacts"]
            assert lab.data.conn.resolved.source == "keyring"
            text = detail_text(app)
            assert "Credentials  keyring" in text and "Identity     AKIA…WXYZ" in text
            assert SECRET not in text and KEY_ID not in text

    run(body())


def test_gcs_service_account_key_is_imported_into_the_keyring(tmp_path, isolated_config):
    key_file = tmp_path / "sa.json"
    private_key = "-----BEGIN PRIVATE KEY-----\nnot-a-real-key-Zq81\n-----END PRIVATE KEY-----\n"
    key_file.write_text(
        json.dumps(
            {
                "type": "service_account",
                "client_email": "trainer@ml-team.iam.gserviceaccount.com",
                "private_key": private_key,
                "project_id": "ml-team",
            }
        )
    )
    store = store_at(tmp_path / "config")

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = await open_connections(pilot)
            form = await open_form(pilot)
            await type_into(pilot, "name", "gcs-team")
            form.query_one("#f-provider").focus()
            await pilot.press("enter", "down", "enter")  # S3 -> Google Cloud Storage
            await pilot.pause()
            assert form.values().provider == "gcs"
            assert not form.query_one("#row-endpoint_url").display
            await type_into(pilot, "project", "ml-team")
            await type_into(pilot, "service_account_file", str(tmp_path / "missing.json"))
            await submit_form(pilot)
            assert "Key file (JSON): Cannot read" in screen_text(app)
            await type_into(pilot, "service_account_file", str(key_file))
            await submit_form(pilot)
            assert app.screen is screen
            entry = keyring_entry(isolated_config, "gcs-team")
            assert entry["service_account_info"]["private_key"] == private_key
            config = (tmp_path / "config" / "connections.toml").read_text()
            assert "not-a-real-key" not in config and "sa.json" not in config
            row = table_rows(screen)[0]
            assert row[:2] == ["gcs-team", "gcs"]
            assert row[4] == "keyring · trainer@ml-team.iam.gserviceaccount.com"

    run(body())


# --- where the secrets live: the form's saves record it (no Textual needed) ----------------


def test_form_saves_record_where_the_secrets_live(tmp_path, isolated_config):
    from pail.ui.connection_ops import FormValues, save_form

    store = store_at(tmp_path)
    plain = save_form(store, FormValues(name="plain", endpoint_url="http://h:1"))
    assert plain.errors == () and store.get("plain").secrets_in == "none"
    typed = FormValues(name="lab", access_key_id=KEY_ID, secret_access_key=SECRET)
    outcome = save_form(store, typed)
    assert outcome.secrets_stored and store.get("lab").secrets_in == "keyring"
    # An edit with empty secret fields keeps the record and the entry; a rename moves both.
    moved = save_form(store, FormValues(name="lab2", region="eu-west-1"), editing=outcome.spec)
    assert moved.errors == () and moved.previous_name == "lab"
    assert store.names() == ["plain", "lab2"] and store.get("lab2").secrets_in == "keyring"
    assert keyring_entry(isolated_config, "lab") is None
    assert keyring_entry(isolated_config, "lab2")["secret_access_key"] == SECRET
    # A local folder has no secrets to record.
    folder = save_form(store, FormValues(name="disk", provider="local", root=str(tmp_path)))
    assert folder.errors == () and store.get("disk").secrets_in is None
    text = (tmp_path / "connections.toml").read_text()
    assert SECRET not in text and KEY_ID not in text


def test_form_secrets_the_keyring_refuses_save_nothing(tmp_path, isolated_config):
    """The one saving policy (pail.services.connections), as `pail connection add` follows
    it: typed secrets the keyring cannot keep leave no trace, neither settings nor secrets,
    and the form says how to save without them. Clearing the secret fields then saves."""
    import keyring

    from pail.ui.connection_ops import FormValues, save_form
    from support.keyrings import LockedKeyring

    keyring.set_keyring(LockedKeyring())  # conftest restores its own after
    store = store_at(tmp_path)
    typed = FormValues(name="lab", access_key_id=KEY_ID, secret_access_key=SECRET)
    outcome = save_form(store, typed)
    assert outcome.spec is None and not outcome.settings_saved and not outcome.secrets_stored
    (error,) = outcome.errors
    assert error.message.startswith("Nothing was saved: the OS keyring cannot keep the secrets")
    assert "locked" in error.message and "Clear the secret fields" in error.message
    assert store.names() == [] and not (tmp_path / "connections.toml").exists()
    plain = save_form(store, FormValues(name="lab", endpoint_url="http://h:1"))
    assert plain.errors == () and store.get("lab").secrets_in == "none"
    assert SECRET not in (tmp_path / "connections.toml").read_text()


def test_form_refuses_a_name_the_command_line_would_read_as_a_command(tmp_path):
    from pail.ui.connection_ops import FormValues, save_form

    store = store_at(tmp_path)
    outcome = save_form(store, FormValues(name="versions", provider="local", root=str(tmp_path)))
    assert [(e.field, e.message) for e in outcome.errors] == [
        ("name", "versions is a pail command (`pail versions` would run it): pick another name.")
    ]
    assert store.names() == []
