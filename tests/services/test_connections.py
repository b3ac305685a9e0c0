"""pail.services.connections: the one policy for saving, removing and testing connections.

Real parts only: a config file on a tmp path, the in-memory keyring of ``isolated_config``
and the locked one of tests/support/keyrings.py, key files on disk, the session's moto
server. The command line's and the app's wording of these outcomes is tested in
tests/cli/test_cli_connection.py and tests/ui/test_connections.py.
"""

from __future__ import annotations

import json
from dataclasses import replace

import keyring
import keyring.backends.fail
import pytest

from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec, Secrets
from pail.credentials import SERVICE, KeyringUnavailable, store_secrets
from pail.drivers.errors import EndpointUnreachable
from pail.services.connections import (
    TEST_PAGE_SIZE,
    BadKeyFile,
    BadName,
    ConnectionExists,
    NothingInEnvironment,
    check_name,
    connection_from_environment,
    read_service_account,
    remove_connection,
    save_connection,
)
from pail.services.connections import test_connection as try_connection  # not a test
from support.keyrings import LockedKeyring
from support.servers import free_port, seed_keys

KEY_ID = "AKIASERVICETEST0WXYZ"
SECRET = "svc-Secret-Value-71a2"


@pytest.fixture
def store(tmp_path) -> ConnectionStore:
    return ConnectionStore(str(tmp_path / "config" / "connections.toml"))


def entry(memory, name: str) -> dict | None:
    raw = memory.entries.get((SERVICE, name))
    return json.loads(raw) if raw else None


def s3(name: str = "lab", **kwargs) -> ConnectionSpec:
    kwargs.setdefault("endpoint_url", "http://127.0.0.1:9")
    return ConnectionSpec(name=name, provider="s3", path_style=True, **kwargs)


def file_text(store: ConnectionStore) -> str:
    with open(store.path, encoding="utf-8") as fh:
        return fh.read()


# --- names and key files ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, reason",
    [
        ("", "empty"),
        ("a b", "pattern"),
        ("-x", "pattern"),
        ("x" * 65, "pattern"),
        ("ls", "reserved"),
        ("versions", "reserved"),
        ("url", "reserved"),
    ],
)
def test_names_that_cannot_be_saved(name, reason):
    with pytest.raises(BadName) as info:
        check_name(name)
    assert info.value.reason == reason


def test_a_good_name_passes():
    check_name("lab-2.prod_x")


def test_service_account_files_are_checked(tmp_path):
    good = {"type": "service_account", "client_email": "a@b.iam", "private_key": "-----K-----"}
    cases = {
        "missing.json": (None, "cannot read"),
        "text.json": ("not json {", "is not JSON"),
        "user.json": (json.dumps({"type": "authorized_user"}), "not a service-account key"),
        "nokey.json": (
            json.dumps({**good, "private_key": ""}),
            "lacks client_email or private_key",
        ),
        "noemail.json": (json.dumps({**good, "client_email": None}), "lacks client_email"),
    }
    for name, (content, words) in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content)
        with pytest.raises(BadKeyFile, match=words) as info:
            read_service_account(str(tmp_path / name))
        assert "-----K-----" not in str(info.value)
    (tmp_path / "sa.json").write_text(json.dumps(good))
    assert read_service_account(str(tmp_path / "sa.json")) == good


# --- save -------------------------------------------------------------------------------


def test_secrets_go_to_the_keyring_and_the_file_records_it(store, isolated_config):
    saved = save_connection(store, s3(), Secrets(KEY_ID, SECRET))
    assert saved.secrets_stored and saved.spec.secrets_in == "keyring"
    assert store.get("lab").secrets_in == "keyring"
    assert entry(isolated_config, "lab")["secret_access_key"] == SECRET
    assert SECRET not in file_text(store) and KEY_ID not in file_text(store)


def test_no_secrets_records_none_and_clears_a_stale_entry(store, isolated_config):
    store_secrets("lab", Secrets("AKIASTALE00000000000", "old"))  # left by an older "lab"
    saved = save_connection(store, s3())
    assert not saved.secrets_stored and store.get("lab").secrets_in == "none"
    assert entry(isolated_config, "lab") is None
    folder = ConnectionSpec(name="disk", provider="local", root="/data")
    assert save_connection(store, folder).spec.secrets_in is None  # a folder has no record


def test_a_keyring_that_cannot_keep_the_secrets_saves_nothing(store, tmp_path):
    keyring.set_keyring(LockedKeyring())  # conftest restores its own after
    with pytest.raises(KeyringUnavailable, match="locked"):
        save_connection(store, s3(), Secrets(KEY_ID, SECRET))
    assert store.names() == []  # no settings either: the file was never written
    assert save_connection(store, s3()).spec.secrets_in == "none"  # without secrets it saves


def test_a_taken_name_needs_overwrite_which_replaces_the_secrets(store, isolated_config):
    save_connection(store, s3(region="eu-west-1"), Secrets(KEY_ID, SECRET))
    with pytest.raises(ConnectionExists):
        save_connection(store, s3())
    assert store.get("lab").region == "eu-west-1"
    replaced = save_connection(store, s3(region="us-east-2"), overwrite=True)
    assert replaced.spec.secrets_in == "none" and store.get("lab").region == "us-east-2"
    assert entry(isolated_config, "lab") is None  # the replaced connection had no secrets


def test_edit_keeps_and_rename_moves_the_keyring_entry(store, isolated_config):
    first = save_connection(store, s3(), Secrets(KEY_ID, SECRET)).spec
    edited = save_connection(store, s3(region="eu-west-1"), editing=first)
    assert edited.previous_name is None and edited.spec.secrets_in == "keyring"
    assert entry(isolated_config, "lab")["secret_access_key"] == SECRET
    renamed = save_connection(store, s3("lab2"), editing=edited.spec)
    assert (renamed.previous_name, renamed.secrets_moved) == ("lab", True)
    assert store.names() == ["lab2"] and store.get("lab2").secrets_in == "keyring"
    assert entry(isolated_config, "lab") is None
    assert entry(isolated_config, "lab2")["secret_access_key"] == SECRET
    save_connection(store, s3("other"))
    with pytest.raises(ConnectionExists):
        save_connection(store, s3("other"), editing=renamed.spec)
    # Another provider cannot use the S3 secrets: the record becomes none, the entry goes.
    folder = ConnectionSpec(name="lab2", provider="local", root="/data")
    assert save_connection(store, folder, editing=renamed.spec).spec.secrets_in is None
    assert entry(isolated_config, "lab2") is None


def test_a_failed_file_write_puts_the_previous_entry_back(store, isolated_config):
    save_connection(store, s3(), Secrets("AKIAPREVIOUS00000000", "previous"))
    broken = ConnectionSpec(name="lab", provider="ftp")  # the file write refuses it
    with pytest.raises(ConfigError, match="provider"):
        save_connection(store, broken, Secrets(KEY_ID, SECRET), overwrite=True)
    assert entry(isolated_config, "lab")["secret_access_key"] == "previous"
    with pytest.raises(ConfigError):
        save_connection(store, ConnectionSpec(name="new", provider="ftp"), Secrets(KEY_ID, SECRET))
    assert entry(isolated_config, "new") is None
    assert store.names() == ["lab"]


def test_environment_stores_become_connections_with_their_secrets(tmp_path):
    env = {
        "FML_S3_ENDPOINT_URI": "http://127.0.0.1:9000",
        "FML_S3_USE_PATH_STYLE": "true",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    found = connection_from_environment("fml", env)
    assert (found.spec.name, found.spec.provider, found.spec.saved) == ("fml", "s3", True)
    assert found.spec.endpoint_url == "http://127.0.0.1:9000" and found.spec.path_style
    assert found.secrets == Secrets(KEY_ID, SECRET)
    assert found.used == ("FML_S3_ENDPOINT_URI", "FML_S3_USE_PATH_STYLE")
    assert found.moved == ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    (tmp_path / "sa.json").write_text(json.dumps({"type": "service_account"}))
    with pytest.raises(BadKeyFile, match="lacks client_email"):  # the same check as the form
        connection_from_environment(
            "g", {"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "sa.json")}
        )
    with pytest.raises(NothingInEnvironment):
        connection_from_environment("none", {})


# --- remove -----------------------------------------------------------------------------


def test_remove_deletes_the_file_entry_and_the_keyring_entry(store, isolated_config):
    save_connection(store, s3(), Secrets(KEY_ID, SECRET))
    removed = remove_connection(store, "lab")
    assert (removed.from_file, removed.secrets_deleted, removed.found) == (True, True, True)
    assert store.names() == [] and entry(isolated_config, "lab") is None
    store_secrets("orphan", Secrets(KEY_ID, SECRET))  # an entry without a connection
    orphan = remove_connection(store, "orphan")
    assert (orphan.from_file, orphan.secrets_deleted) == (False, True)
    assert not remove_connection(store, "nothing").found


def test_remove_with_an_unusable_keyring_still_removes_the_settings(store):
    save_connection(store, s3())
    keyring.set_keyring(keyring.backends.fail.Keyring())
    removed = remove_connection(store, "lab")
    assert removed.from_file and not removed.secrets_deleted
    assert "keyring" in removed.keyring_problem.lower() and store.names() == []


# --- test -------------------------------------------------------------------------------


def test_a_test_lists_one_page_of_the_default_prefix(s3_endpoint, bucket_name):
    keys = [f"runs/{i:05d}.json" for i in range(TEST_PAGE_SIZE + 1)] + ["runs/sub/x"]
    seed_keys(bucket_name, keys)
    spec = s3(endpoint_url=s3_endpoint, region="us-east-1", bucket=bucket_name, prefix="runs/")
    result = try_connection(spec)
    assert result.ok and result.source == "environment"
    assert result.location is not None and result.location.uri == f"s3://{bucket_name}/runs/"
    assert result.objects + result.prefixes == TEST_PAGE_SIZE == 1000 and result.more


def test_a_test_without_a_bucket_lists_the_buckets(s3_endpoint, bucket_name):
    seed_keys(bucket_name, ["a"])
    result = try_connection(s3(endpoint_url=s3_endpoint, region="us-east-1"))
    assert result.ok and result.location is None
    assert bucket_name in [b.name for b in result.buckets]


def test_a_failed_test_returns_the_error_and_the_credentials_it_used():
    spec = s3(endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1", bucket="b")
    spec = replace(spec, client_options={"max_attempts": 1})  # no retries of the refusal
    result = try_connection(spec)
    assert not result.ok and isinstance(result.error, EndpointUnreachable)
    assert result.source == "environment"
