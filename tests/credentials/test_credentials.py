"""Keyring storage (in-memory backend), the unusable-keyring message, and credential
resolution order with the source and identity shown; secrets never in repr/str/errors."""

from __future__ import annotations

import json

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest

from pail.core.connection import ConnectionSpec, Secrets
from pail.credentials import (
    SERVICE,
    KeyringUnavailable,
    SecretsUnavailable,
    delete_secrets,
    keyring_status,
    load_secrets,
    refresh_command,
    resolve,
    store_secrets,
)
from pail.drivers.errors import ExpiredCredentials, InvalidCredentials

KEY_ID = "AKIAPAILTESTKEY12WXYZ"
SECRET = "pail-secret-value-never-shown"
TOKEN = "pail-session-token-never-shown"
SERVICE_ACCOUNT = {
    "type": "service_account",
    "client_email": "robot@proj.iam.gserviceaccount.com",
    "private_key": "-----BEGIN PRIVATE KEY-----\npail-private-never-shown\n",
}
NO_ENV: dict[str, str] = {}


def saved(name: str = "lab", **kw) -> ConnectionSpec:
    return ConnectionSpec(name, kw.pop("provider", "s3"), saved=True, **kw)


@pytest.fixture
def fail_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_store_load_delete_is_one_json_entry(isolated_config):
    store_secrets("lab", Secrets(KEY_ID, SECRET, TOKEN))
    assert list(isolated_config.entries) == [(SERVICE, "lab")]
    data = json.loads(isolated_config.entries[(SERVICE, "lab")])
    assert data["access_key_id"] == KEY_ID and data["secret_access_key"] == SECRET
    loaded = load_secrets("lab")
    assert (loaded.access_key_id, loaded.secret_access_key, loaded.session_token) == (
        KEY_ID,
        SECRET,
        TOKEN,
    )
    assert delete_secrets("lab") is True
    assert isolated_config.entries == {}
    assert load_secrets("lab") is None
    assert delete_secrets("lab") is False


def test_service_account_round_trip(isolated_config):
    store_secrets("g", Secrets(service_account_info=SERVICE_ACCOUNT))
    assert load_secrets("g").service_account_info == SERVICE_ACCOUNT


def test_a_foreign_entry_is_ignored(isolated_config):
    isolated_config.entries[(SERVICE, "lab")] = "not json"
    assert load_secrets("lab") is None


def test_secrets_never_in_repr_or_str():
    secrets = Secrets(KEY_ID, SECRET, TOKEN, SERVICE_ACCOUNT)
    spec = ConnectionSpec("lab", "s3", secrets=secrets)
    resolved = resolve(spec, NO_ENV)
    for text in (repr(secrets), str(secrets), repr(spec), repr(resolved), str(resolved)):
        for secret in (SECRET, TOKEN, KEY_ID, "pail-private-never-shown"):
            assert secret not in text


def test_usable_memory_backend():
    status = keyring_status()
    assert status.usable and status.message == "" and "MemoryKeyring" in status.backend


@pytest.mark.parametrize("backend", [keyring.backends.fail.Keyring, keyring.backends.null.Keyring])
def test_unusable_backends_say_what_fixes_them(backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        status = keyring_status()
        with pytest.raises(KeyringUnavailable) as info:
            store_secrets("lab", Secrets(KEY_ID, SECRET))
        assert load_secrets("lab") is None
    finally:
        keyring.set_keyring(previous)
    assert not status.usable
    assert "Secret Service" in status.message and "PYTHON_KEYRING_BACKEND" in status.message
    assert str(info.value) == status.message
    assert SECRET not in str(info.value)


def test_fail_backend_still_resolves_environment_credentials(fail_keyring):
    # Connections saved without secrets (secrets = "none") and unsaved ones still work.
    env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET}
    resolved = resolve(saved(secrets_in="none"), env)
    assert (resolved.source, resolved.identity) == ("environment", "AKIA…WXYZ")
    assert resolve(ConnectionSpec("s3", "s3"), env).source == "environment"
    # A saved connection whose secrets may be in the keyring does not fall through
    # (tests/credentials/test_saved_identity.py has the rest).
    with pytest.raises(SecretsUnavailable):
        resolve(saved(), env)


def test_resolution_order(isolated_config, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "AKIAENVIRONMENT0000", "AWS_SECRET_ACCESS_KEY": "e"}
    # 4. nothing: the SDK's default chain.
    assert resolve(saved(), NO_ENV).source == "default chain"
    # 3. the environment.
    resolved = resolve(saved(), env)
    assert (resolved.source, resolved.identity) == ("environment", "AKIA…0000")
    assert resolved.spec.secrets.access_key_id == "AKIAENVIRONMENT0000"
    # 2. the named profile beats the environment (as botocore does for an explicit profile).
    assert resolve(saved(profile="ci"), env).source == "profile ci"
    # 1. the keyring beats everything.
    store_secrets("lab", Secrets(KEY_ID, SECRET))
    resolved = resolve(saved(profile="ci"), env)
    assert (resolved.source, resolved.identity) == ("keyring", "AKIA…WXYZ")
    assert resolved.spec.secrets.secret_access_key == SECRET
    # Only saved connections read the keyring; anonymous ones use nothing.
    assert resolve(ConnectionSpec("lab", "s3"), env).source == "environment"
    assert resolve(saved(anonymous=True), env).source == "anonymous"


def test_aws_profile_from_the_environment(tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.write_text("[team]\naws_access_key_id = AKIAPROFILEKEY9876\naws_secret_access_key = x\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    resolved = resolve(saved(), {"AWS_PROFILE": "team"})
    assert (resolved.source, resolved.identity) == ("profile team", "AKIA…9876")
    assert resolved.spec.profile == "team"


def test_gcs_sources(isolated_config, tmp_path):
    key_file = tmp_path / "sa.json"
    key_file.write_text(json.dumps(SERVICE_ACCOUNT))
    email = SERVICE_ACCOUNT["client_email"]
    spec = saved("g", provider="gcs")
    assert resolve(spec, NO_ENV).source == "default chain"
    resolved = resolve(spec, {"GOOGLE_APPLICATION_CREDENTIALS": str(key_file)})
    assert (resolved.source, resolved.identity) == ("environment", email)
    resolved = resolve(saved("g", provider="gcs", credentials_file=str(key_file)), NO_ENV)
    assert (resolved.source, resolved.identity) == ("service account file", email)
    store_secrets("g", Secrets(service_account_info=SERVICE_ACCOUNT))
    assert (resolve(spec, NO_ENV).source, resolve(spec, NO_ENV).identity) == ("keyring", email)


def test_refresh_commands(tmp_path, monkeypatch):
    config = tmp_path / "config"
    config.write_text("[profile sso-dev]\nsso_session = corp\nsso_account_id = 1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    expired = ExpiredCredentials("expired", provider="s3", code="ExpiredToken")
    assert refresh_command(ConnectionSpec("a", "s3", profile="sso-dev"), expired) == (
        "aws sso login --profile sso-dev"
    )
    sso = ExpiredCredentials("sso", provider="s3", code="TokenRetrievalError")
    assert refresh_command(ConnectionSpec("a", "s3", profile="p"), sso) == (
        "aws sso login --profile p"
    )
    grant = InvalidCredentials("invalid_grant: reauth", provider="gcs", code="RefreshError")
    assert refresh_command(ConnectionSpec("g", "gcs"), grant) == (
        "gcloud auth application-default login"
    )
    # Keyring secrets rejected: re-entering them is the fix.
    bad = InvalidCredentials("bad", provider="s3", code="InvalidAccessKeyId")
    spec = ConnectionSpec("a", "s3", secrets=Secrets(KEY_ID, SECRET))
    assert refresh_command(spec, bad) is None
