"""A saved connection keeps its identity: when its secrets are in the keyring
(``secrets = "keyring"``) and the keyring cannot give them, it does not open, and nothing
falls through to the ``AWS_*`` variables, a profile or the default chain.

Keyrings used: the in-memory one (``isolated_config``), ``support.keyrings.LockedKeyring``
(every read raises ``KeyringLocked``, set with ``keyring.set_keyring`` in-process or
``PYTHON_KEYRING_BACKEND`` in a child), keyring's fail backend (no OS keyring) and
``support.keyrings.FolderKeyring`` (a working keyring shared with child processes). The
environment holds an *admin* identity of ``moto_iam_server`` throughout; the saved
connection is the read-only ``reader``.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from pail.cli.errors import EXIT_CREDENTIALS, EXIT_KEYRING
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.credentials import SecretsUnavailable, refresh_command, resolve, store_secrets
from support.cli import pail_exe, run
from support.keyrings import LockedKeyring, child_env
from support.servers import IamStore, s3_client

ADMIN_ENV_SECRET = "admin-env-secret-never-shown"
READER_SECRET = "reader-keyring-secret-never-shown"


@pytest.fixture
def locked_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def fail_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def spec(record: str | None = "keyring", **kw) -> ConnectionSpec:
    return ConnectionSpec("ro", kw.pop("provider", "s3"), saved=True, secrets_in=record, **kw)


ENV = {"AWS_ACCESS_KEY_ID": "AKIAENVADMIN00000000", "AWS_SECRET_ACCESS_KEY": ADMIN_ENV_SECRET}


def assert_clean(text: str) -> None:
    for secret in (ADMIN_ENV_SECRET, READER_SECRET, "AKIAENVADMIN00000000"):
        assert secret not in text
    assert "Traceback" not in text


# --- resolution, in-process ---------------------------------------------------------------


def test_locked_keyring_refuses_and_never_uses_the_environment(locked_keyring):
    with pytest.raises(SecretsUnavailable) as info:
        resolve(spec(), ENV)
    error = info.value
    assert (error.reason, error.code, error.connection) == ("locked", "KeyringLocked", "ro")
    assert "locked" in error.message and "unlock" in error.message
    assert "gnome-keyring-daemon --unlock" in error.message
    assert "No other credentials are used" in error.message
    assert "\n" not in error.message
    assert_clean(str(error) + error.message + error.hint + repr(error))


def test_no_sso_command_is_offered_for_a_keyring_failure(tmp_path, monkeypatch, locked_keyring):
    config = tmp_path / "config"
    config.write_text("[profile sso-dev]\nsso_session = corp\nsso_account_id = 1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    with pytest.raises(SecretsUnavailable) as info:
        resolve(spec(profile="sso-dev"), ENV)
    assert refresh_command(spec(profile="sso-dev"), info.value) is None


def test_no_keyring_refuses_with_what_fixes_it(fail_keyring):
    with pytest.raises(SecretsUnavailable) as info:
        resolve(spec(), ENV)
    assert info.value.reason == "unavailable"
    assert "PYTHON_KEYRING_BACKEND" in info.value.message
    assert "Secret Service" in info.value.message
    assert_clean(info.value.message)


def test_missing_entry_refuses_and_says_add_again(isolated_config):
    with pytest.raises(SecretsUnavailable) as info:
        resolve(spec(), ENV)
    assert (info.value.reason, info.value.code) == ("missing", "NoKeyringEntry")
    assert "pail connection add ro" in info.value.message
    # A foreign entry under the name is no better than none.
    isolated_config.entries[("pail", "ro")] = "not pail's json"
    with pytest.raises(SecretsUnavailable):
        resolve(spec(), ENV)


def test_keyring_entry_is_used(isolated_config):
    store_secrets("ro", Secrets("AKIAREADER0000001234", READER_SECRET))
    resolved = resolve(spec(), ENV)
    assert (resolved.source, resolved.identity) == ("keyring", "AKIA…1234")
    assert resolved.spec.secrets.secret_access_key == READER_SECRET


def test_saved_without_secrets_keeps_working_and_ignores_the_keyring(isolated_config):
    # `secrets = "none"`: profile/environment/default chain by design, even with an entry
    # left in the keyring and even when the keyring is locked.
    store_secrets("ro", Secrets("AKIAREADER0000001234", READER_SECRET))
    assert resolve(spec("none"), ENV).source == "environment"
    keyring.set_keyring(LockedKeyring())
    assert resolve(spec("none"), ENV).source == "environment"
    assert resolve(spec("none", profile="team"), ENV).source == "profile team"


def test_connections_saved_before_the_record(isolated_config):
    legacy = spec(None)
    # The keyring answers without an entry: as before, the environment.
    assert resolve(legacy, ENV).source == "environment"
    # An entry wins.
    store_secrets("ro", Secrets("AKIAREADER0000001234", READER_SECRET))
    assert resolve(legacy, ENV).source == "keyring"
    # A keyring that cannot be read fails closed ...
    keyring.set_keyring(LockedKeyring())
    with pytest.raises(SecretsUnavailable) as info:
        resolve(legacy, ENV)
    assert info.value.reason == "locked"
    # ... unless the connection names its profile, service-account file, or is anonymous.
    assert resolve(spec(None, profile="team"), ENV).source == "profile team"
    gcs = spec(None, provider="gcs", credentials_file="/nonexistent/sa.json")
    assert resolve(gcs, ENV).source == "service account file"
    assert resolve(spec(None, anonymous=True), ENV).source == "anonymous"
    # Unsaved connections (URIs, the environment's stores) never read the keyring.
    assert resolve(ConnectionSpec("s3", "s3"), ENV).source == "environment"


def test_the_record_round_trips_through_the_file(tmp_path):
    store = ConnectionStore(str(tmp_path / "c.toml"), environ={})
    store.save(spec("keyring"))
    store.save(ConnectionSpec("plain", "s3", secrets_in="none"))
    store.save(ConnectionSpec("old", "s3"))
    text = Path(store.path).read_text(encoding="utf-8")
    assert 'secrets = "keyring"' in text and 'secrets = "none"' in text
    assert {s.name: s.secrets_in for s in store.load()} == {
        "ro": "keyring",
        "plain": "none",
        "old": None,
    }


# --- the CLI, in-process, against the IAM server ------------------------------------------


def _admin_env(iam: IamStore) -> dict[str, str]:
    admin = iam.users["admin"]
    return {"AWS_ACCESS_KEY_ID": admin.access_key_id, "AWS_SECRET_ACCESS_KEY": ADMIN_ENV_SECRET}


@pytest.fixture
def victim(moto_iam_server: IamStore) -> Iterator[str]:
    """A fresh object in the IAM bucket; yields its key (removed again by the admin)."""
    admin = moto_iam_server.users["admin"]
    s3 = s3_client(
        moto_iam_server.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )
    key = f"victims/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=moto_iam_server.bucket, Key=key, Body=b"keep me")
    yield key
    s3.delete_object(Bucket=moto_iam_server.bucket, Key=key)


def _exists(iam: IamStore, key: str) -> bool:
    admin = iam.users["admin"]
    s3 = s3_client(
        iam.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )
    listed = s3.list_objects_v2(Bucket=iam.bucket, Prefix=key)
    return any(item["Key"] == key for item in listed.get("Contents", []))


def _add_reader(iam: IamStore):
    reader = iam.users["reader"]
    args = ["connection", "add", "ro", "--provider", "s3", "--path-style"]
    args += ["--endpoint-url", iam.endpoint, "--region", "us-east-1", "--secret-stdin"]
    from click.testing import CliRunner

    from pail.cli.main import cli

    return CliRunner().invoke(
        cli, args, input=f"{reader.access_key_id}\n{reader.secret_access_key}\n\n"
    )


def test_locked_keyring_cli_rm_is_refused_and_nothing_is_deleted(moto_iam_server, victim):
    iam = moto_iam_server
    # The admin identity really could delete the victim: the env's real admin secret.
    admin = iam.users["admin"]
    real_admin = {"AWS_ACCESS_KEY_ID": admin.access_key_id}
    real_admin["AWS_SECRET_ACCESS_KEY"] = admin.secret_access_key
    added = _add_reader(iam)
    assert added.exit_code == 0, added.stderr
    assert 'secrets = "keyring"' in Path(ConnectionStore().path).read_text(encoding="utf-8")
    target = f"ro:{iam.bucket}/{victim}"
    # With the keyring readable, the reader is used: the delete is denied.
    denied = run(["rm", "-y", target], env=real_admin)
    assert denied.exit_code != 0 and "AccessDenied" in denied.stderr, denied.stderr
    assert _exists(iam, victim)
    previous = keyring.get_keyring()
    keyring.set_keyring(LockedKeyring())
    try:
        results = [
            run(["rm", "-y", target], env=real_admin),
            run(["ls", f"ro:{iam.bucket}/"], env=real_admin),
            run(["connection", "test", "ro"], env=real_admin),
            run(["doctor", f"ro:{iam.bucket}/"], env=real_admin),
        ]
        listed = run(["connection", "list"], env=real_admin)
        shown = run(["connection", "show", "ro"], env=real_admin)
    finally:
        keyring.set_keyring(previous)
    for result in results:
        assert result.exit_code == EXIT_KEYRING, result.stdout + result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("pail: error: connection 'ro' keeps its secrets")
        assert "locked" in lines[0] and "unlock" in lines[0]
        text = result.stdout + result.stderr
        assert admin.secret_access_key not in text and admin.access_key_id not in text
        assert iam.users["reader"].secret_access_key not in text
        assert "environment" not in result.stdout
    assert _exists(iam, victim), "the environment's admin identity deleted the object"
    # list and show still work and say why the connection cannot open.
    assert listed.exit_code == 0 and "unavailable (keyring locked)" in listed.stdout
    assert shown.exit_code == 0
    rows = dict(line.split(":", 1) for line in shown.stdout.splitlines())
    assert rows["Credentials"].strip() == "unavailable"
    assert rows["Secrets"].strip().startswith("OS keyring")
    assert "locked" in rows["Problem"]
    assert_clean(listed.stdout + shown.stdout + shown.stderr)


def test_missing_entry_cli_exit_5(moto_iam_server, victim, isolated_config):
    iam = moto_iam_server
    assert _add_reader(iam).exit_code == 0
    isolated_config.entries.clear()  # the entry vanished (another tool, another machine)
    result = run(["rm", "-y", f"ro:{iam.bucket}/{victim}"], env=_admin_env(iam))
    assert result.exit_code == EXIT_CREDENTIALS, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "no entry" in result.stderr and "pail connection add ro" in result.stderr
    assert _exists(iam, victim)
    assert_clean(result.stdout + result.stderr)


# --- the installed executable: no request at all leaves the machine -----------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request; answers 500 so nothing could succeed anyway."""

    seen: list[str] = []

    def _any(self) -> None:
        self.seen.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on loopback recording the requests it gets: ``(url, seen)``."""
    seen: list[str] = []
    handler = type("Recorder", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _pail(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [pail_exe(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("backend", "code", "words"),
    [
        ("LockedKeyring", EXIT_KEYRING, ("locked", "unlock")),
        ("keyring.backends.fail.Keyring", EXIT_KEYRING, ("PYTHON_KEYRING_BACKEND",)),
        ("FolderKeyring", EXIT_CREDENTIALS, ("no entry", "pail connection add ro")),
    ],
    ids=["locked", "no-keyring", "no-entry"],
)
def test_child_process_sends_no_request(recorder, tmp_path, backend, code, words):
    url, seen = recorder
    ConnectionStore().save(
        ConnectionSpec(
            "ro", "s3", endpoint_url=url, path_style=True, region="us-east-1", bucket="b",
            secrets_in="keyring",
        )
    )  # fmt: skip
    keyring_dir = tmp_path / "keyring"
    keyring_dir.mkdir()
    env = child_env(backend, PAIL_TEST_KEYRING_DIR=str(keyring_dir), **ENV)
    for args in (["rm", "-y", "ro:b/k.txt"], ["ls", "ro"], ["get", "ro:b/k.txt", str(tmp_path)]):
        result = _pail(env, *args)
        assert result.returncode == code, (args, result.stdout, result.stderr)
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert all(word in result.stderr for word in words), result.stderr
        assert_clean(result.stdout + result.stderr)
    assert seen == [], "a request was sent with the environment's credentials"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keyring"]  # nothing downloaded
