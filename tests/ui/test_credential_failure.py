"""Credentials that fail, and a keyring that cannot store secrets.

Real failures: moto's IAM-enforcing server (``moto_iam_server``) answers
SignatureDoesNotMatch to a wrong secret. The fail backend is keyring's own
``keyring.backends.fail.Keyring``, as on a headless machine without a Secret Service.
"""

from __future__ import annotations

import os
from dataclasses import replace

import keyring
import keyring.backends.fail

from pail.core.connection import ConnectionSpec, Secrets
from pail.core.connection import mask as mask_key
from pail.credentials import SecretsUnavailable
from pail.drivers.errors import ExpiredCredentials, InvalidCredentials
from pail.drivers.registry import open_driver
from pail.ui.screens.connection_form import ConnectionForm
from pail.ui.screens.credential_failure import (
    CredentialChoice,
    CredentialFailureScreen,
    CredentialProblem,
)
from pail.ui.screens.help import HelpScreen
from pail.ui.screens.main import MainScreen
from support.keyrings import LockedKeyring
from support.ui import (
    SIZE,
    find,
    keyring_entry,
    make_app,
    names,
    open_connections,
    open_form,
    run,
    save,
    screen_text,
    settle,
    store_at,
    submit_form,
    type_into,
    until,
)

WRONG = "wrong-Secret-0000-aaaa"
SECRET = "fail-backend-Secret-77c1"


def iam_spec(store) -> ConnectionSpec:
    return ConnectionSpec(
        name="iam",
        provider="s3",
        endpoint_url=store.endpoint,
        region="us-east-1",
        path_style=True,
    )


def test_wrong_secret_shows_the_modal_and_reentering_fixes_it(
    moto_iam_server, tmp_path, isolated_config
):
    admin = moto_iam_server.users["admin"]
    store = store_at(tmp_path)
    spec = save(store, iam_spec(moto_iam_server), Secrets(admin.access_key_id, WRONG))

    async def body():
        app = make_app([spec], store=store)  # as `pail iam` opens it
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(pilot, lambda: isinstance(app.screen, CredentialFailureScreen), "the modal")
            conn = find(app, "iam")
            assert isinstance(conn.data.error, InvalidCredentials)  # the badge stays too
            text = screen_text(app)
            assert "The credentials were rejected for connection iam" in text
            assert "SignatureDoesNotMatch (HTTP 403)" in text
            assert "ListBuckets" in text and "keyring" in text
            assert mask_key(admin.access_key_id) in text
            assert admin.access_key_id not in text and WRONG not in text
            assert "Refresh with" not in text  # re-entering the secret is the fix here
            await pilot.click("#credential-reenter")
            await until(pilot, lambda: isinstance(app.screen, ConnectionForm), "the form")
            form = app.screen
            # The form moves focus to the key id once mounted (after a refresh): wait for it.
            focused = lambda: getattr(form.focused, "id", None) == "f-access_key_id"  # noqa: E731
            await until(pilot, focused, "focus on the access key id")
            await type_into(pilot, "access_key_id", admin.access_key_id)
            await type_into(pilot, "secret_access_key", admin.secret_access_key)
            assert admin.secret_access_key not in app.export_screenshot()
            await submit_form(pilot)
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
            await settle(pilot)
            entry = keyring_entry(isolated_config, "iam")
            assert entry["secret_access_key"] == admin.secret_access_key
            conn = find(app, "iam")
            assert conn.data.error is None and moto_iam_server.bucket in names(conn)
            assert not isinstance(app.screen, CredentialFailureScreen)
            config = (tmp_path / "connections.toml").read_text()
            assert admin.secret_access_key not in config and WRONG not in config

    run(body())


def test_the_modal_shows_once_until_the_connection_is_reopened(moto_iam_server, tmp_path):
    admin = moto_iam_server.users["admin"]
    store = store_at(tmp_path)
    spec = save(store, iam_spec(moto_iam_server), Secrets(admin.access_key_id, WRONG))

    async def body():
        app = make_app([spec], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(pilot, lambda: isinstance(app.screen, CredentialFailureScreen), "the modal")
            await pilot.press("escape")  # dismiss
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "dismissed")
            await pilot.press("r")  # the same failure again: badge, no second modal
            await settle(pilot)
            assert isinstance(app.screen, MainScreen)
            assert find(app, "iam").data.error.code == "SignatureDoesNotMatch"

    run(body())


def test_unusable_keyring_says_so_and_writes_no_secret(s3_endpoint, tmp_path):
    keyring.set_keyring(keyring.backends.fail.Keyring())  # conftest restores its own after
    store = store_at(tmp_path)

    async def body():
        app = make_app([], store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "keyring: unavailable — see ?" in app.screen.status.plain
            await pilot.press("question_mark")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
            assert "Keyring unavailable: no usable OS keyring was found" in screen_text(app)
            await pilot.press("escape")
            await open_connections(pilot)
            assert "Keyring unavailable: no usable OS keyring" in screen_text(app)
            form = await open_form(pilot)
            assert "The keyring is unavailable" in screen_text(app)
            await type_into(pilot, "name", "lab")
            await type_into(pilot, "endpoint_url", s3_endpoint)
            await type_into(pilot, "access_key_id", "AKIAFAILBACKEND00001")
            await type_into(pilot, "secret_access_key", SECRET)
            await submit_form(pilot)
            assert app.screen is form  # stays open, its values kept, to say what happened
            text = form.query_one("#form-message").content.plain
            assert text.startswith("Nothing was saved: the OS keyring cannot keep the secrets")
            assert "PYTHON_KEYRING_BACKEND" in text and "Clear the secret fields" in text
            assert "Nothing was saved" in screen_text(app)
            assert store.names() == [] and not os.path.exists(store.path)
            # The policy's way out: without secrets the settings save (credentials then
            # come from the profile or the environment).
            await type_into(pilot, "access_key_id", "")
            await type_into(pilot, "secret_access_key", "")
            await submit_form(pilot)
            await settle(pilot)
            assert "Saved lab." in screen_text(app)
            assert store.names() == ["lab"] and store.get("lab").secrets_in == "none"
            for folder, _, files in os.walk(tmp_path):
                for name in files:
                    with open(os.path.join(folder, name), "rb") as fh:
                        assert SECRET.encode() not in fh.read(), name

    run(body())


def test_the_modal_offers_the_refresh_command_with_a_copy_button(tmp_path):
    error = ExpiredCredentials(
        "Token has expired", operation="ListBuckets", provider="s3", code="ExpiredToken"
    )
    problem = CredentialProblem(
        connection="prod",
        error=error,
        source="profile prod",
        command="aws sso login --profile prod",
        can_reenter=False,
    )
    chosen = []

    async def body():
        app = make_app([], store=store_at(tmp_path))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            app.push_screen(CredentialFailureScreen(problem), chosen.append)
            await pilot.pause()
            text = screen_text(app)
            assert "The credentials have expired for connection prod" in text
            assert "Refresh with:  aws sso login --profile prod" in text
            assert "Re-enter secrets" not in text and "none found" in text
            await pilot.click("#credential-copy")
            assert app.clipboard == "aws sso login --profile prod"
            await pilot.press("e")  # re-entering is not offered: nothing happens
            assert isinstance(app.screen, CredentialFailureScreen)
            await pilot.click("#credential-dismiss")
            await pilot.pause()
        assert chosen == [CredentialChoice("dismiss")]

    run(body())


def test_a_locked_keyring_stops_the_saved_connection_and_never_uses_the_environment(
    moto_iam_server, tmp_path, monkeypatch
):
    """The saved read-only connection keeps its secrets in the keyring; the keyring is
    locked and the environment holds the admin's keys: the connection shows the keyring
    failure on its node and in the modal, and no driver is ever built (no request)."""
    admin, reader = moto_iam_server.users["admin"], moto_iam_server.users["reader"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", admin.secret_access_key)
    store = store_at(tmp_path)
    ro = replace(iam_spec(moto_iam_server), secrets_in="keyring")
    spec = save(store, ro, Secrets(reader.access_key_id, reader.secret_access_key))
    keyring.set_keyring(LockedKeyring())  # conftest restores its own after
    built: list[ConnectionSpec] = []

    def factory(spec: ConnectionSpec):
        built.append(spec)
        return open_driver(spec)

    async def body():
        app = make_app([spec], factory, store=store)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await until(pilot, lambda: isinstance(app.screen, CredentialFailureScreen), "the modal")
            text = screen_text(app)
            assert "The keyring is locked for connection iam" in text
            assert "KeyringLocked" in text and "unlock" in text and "Source" in text
            for secret in (admin.access_key_id, admin.secret_access_key, reader.secret_access_key):
                assert secret not in text
            assert mask_key(admin.access_key_id) not in text
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, MainScreen), "dismissed")
            conn = find(app, "iam")
            assert isinstance(conn.data.error, SecretsUnavailable)
            assert conn.data.error.reason == "locked"
            assert "environment" not in app.screen.status.plain
            assert mask_key(admin.access_key_id) not in screen_text(app)
        assert built == []  # no driver, so no request with the environment's admin keys

    run(body())
