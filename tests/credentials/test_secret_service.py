"""The real thing: GNOME Keyring's Secret Service on a private D-Bus session bus, driven by
the installed ``pail`` executable in fresh processes.

Round trip: add a connection with secrets from stdin, check the config file holds no
secret and the keyring entry exists (``secret-tool``), list a bucket on the moto server in
a NEW process whose environment has no AWS credentials (so only the keyring can supply
them), remove the connection and check the keyring entry is gone.

Needs ``dbus-daemon``, ``dbus-send``, ``gnome-keyring-daemon`` and ``secret-tool``
(Debian: gnome-keyring dbus-x11 libsecret-tools). Without them the test skips, unless
``PAIL_REQUIRE_SECRET_SERVICE=1`` (set by ``.ci/run``), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.cli import pail_exe
from support.servers import seed_keys

TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon", "secret-tool")
# Variables that would let a child process find credentials or a keyring other than ours.
SCRUBBED = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "PYTHON_KEYRING_BACKEND",
    "DBUS_SESSION_BUS_ADDRESS",
    "GNOME_KEYRING_CONTROL",
)


def _bus_has_secrets(env: dict[str, str]) -> bool:
    """Whether org.freedesktop.secrets has an owner (NameHasOwner never auto-starts it)."""
    reply = subprocess.run(
        [
            *("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus"),
            *("/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner"),
            "string:org.freedesktop.secrets",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    return "boolean true" in reply.stdout


@pytest.fixture
def secret_service(tmp_path) -> Iterator[dict[str, str]]:
    """An environment for child processes with a private session bus and an unlocked
    GNOME Keyring (fresh HOME, XDG_DATA_HOME and XDG_RUNTIME_DIR)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        reason = (
            f"no Secret Service to test against: {', '.join(missing)} not found "
            "(apt-get install gnome-keyring dbus-x11 libsecret-tools)"
        )
        if os.environ.get("PAIL_REQUIRE_SECRET_SERVICE") == "1":
            pytest.fail(reason + "; PAIL_REQUIRE_SECRET_SERVICE=1 requires it")
        pytest.skip(reason)
    home, runtime = tmp_path / "home", tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_RUNTIME_DIR=str(runtime),
        PAIL_CONFIG=str(tmp_path / "pail" / "connections.toml"),
    )
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    daemon = None
    try:
        env["DBUS_SESSION_BUS_ADDRESS"] = bus.stdout.readline().strip()
        # --unlock reads the login password from stdin and creates the login collection.
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        daemon.stdin.write(uuid.uuid4().hex.encode())
        daemon.stdin.close()
        deadline = time.monotonic() + 20
        while not _bus_has_secrets(env):
            if time.monotonic() > deadline or daemon.poll() is not None:
                pytest.fail("gnome-keyring-daemon did not come up on the session bus")
            time.sleep(0.1)
        yield env
    finally:
        for proc in (daemon, bus):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


def pail(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run the installed ``pail`` in a new process."""
    return subprocess.run(
        [pail_exe(), *args], env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


def keyring_entry(env: dict[str, str], name: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["secret-tool", "lookup", "service", "pail", "username", name],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )


def test_round_trip_through_the_real_secret_service(secret_service, s3_endpoint, bucket_name):
    env = secret_service
    seed_keys(bucket_name, ["runs/1/metrics.json", "runs/2/model.bin"])
    key_id = "AKIA" + uuid.uuid4().hex[:16].upper()
    secret = "sekrit-" + uuid.uuid4().hex
    add = pail(
        env,
        *("connection", "add", "lab", "--provider", "s3", "--endpoint-url", s3_endpoint),
        *("--path-style", "--region", "us-east-1", "--bucket", bucket_name, "--secret-stdin"),
        stdin=f"{key_id}\n{secret}\n\n",
    )
    assert add.returncode == 0, add.stderr
    assert "secrets stored in the OS keyring" in add.stdout

    config = Path(env["PAIL_CONFIG"]).read_text()
    assert "[connections.lab]" in config
    assert secret not in config and key_id not in config
    entry = keyring_entry(env, "lab")
    assert entry.returncode == 0 and secret in entry.stdout and key_id in entry.stdout

    show = pail(env, "connection", "show", "lab")
    assert show.returncode == 0, show.stderr
    rows = dict(line.split(":", 1) for line in show.stdout.splitlines())
    assert rows["Credentials"].strip() == "keyring"
    assert rows["Identity"].strip() == f"{key_id[:4]}…{key_id[-4:]}"
    assert rows["Keyring"].strip() == "keyring.backends.SecretService.Keyring"
    assert secret not in show.stdout + show.stderr

    # A new process with no AWS credentials in its environment: only the keyring has them.
    assert "AWS_ACCESS_KEY_ID" not in env
    ls = pail(env, "ls", f"lab:{bucket_name}/runs/")
    assert ls.returncode == 0, ls.stderr
    assert [line.split()[-1] for line in ls.stdout.splitlines()] == ["1/", "2/"]

    removed = pail(env, "connection", "remove", "lab")
    assert removed.returncode == 0, removed.stderr
    assert "deleted its secrets from the OS keyring" in removed.stdout
    assert keyring_entry(env, "lab").stdout == ""
    assert "[connections.lab]" not in Path(env["PAIL_CONFIG"]).read_text()
    for result in (add, show, ls, removed):
        assert secret not in result.stdout + result.stderr


def test_a_locked_collection_is_reported_and_never_prompted(secret_service, s3_endpoint):
    env = secret_service
    locked = subprocess.run(
        [
            *("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets"),
            *("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock"),
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert locked.returncode == 0, locked.stderr
    args = ("connection", "add", "lab", "--provider", "s3", "--endpoint-url", s3_endpoint)
    refused = pail(env, *args, "--secret-stdin", stdin="AKIAX\nsekrit-locked\n\n")
    assert refused.returncode == 7, refused.stderr
    assert "locked" in refused.stderr and "unlock" in refused.stderr
    assert not Path(env["PAIL_CONFIG"]).exists()
    # Settings without secrets still save, and environment credentials still work.
    assert pail(env, *args, "--path-style", "--no-secrets").returncode == 0
    show = pail(env, "connection", "show", "lab")
    assert "locked" in show.stdout
    env_creds = {**env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    tested = pail(env_creds, "connection", "test", "lab")
    assert tested.returncode == 0, tested.stderr
    assert "credentials: environment" in tested.stdout


def test_a_locked_collection_stops_a_connection_saved_with_secrets(
    secret_service, s3_endpoint, bucket_name
):
    """Saved with its secrets in the real keyring, then the collection is locked: the
    connection does not open and the environment's credentials are not used instead."""
    env = secret_service
    seed_keys(bucket_name, ["runs/1/metrics.json"])
    secret = "sekrit-" + uuid.uuid4().hex
    add = pail(
        env,
        *("connection", "add", "lab", "--provider", "s3", "--endpoint-url", s3_endpoint),
        *("--path-style", "--region", "us-east-1", "--bucket", bucket_name, "--secret-stdin"),
        stdin=f"AKIA{uuid.uuid4().hex[:16].upper()}\n{secret}\n\n",
    )
    assert add.returncode == 0, add.stderr
    assert 'secrets = "keyring"' in Path(env["PAIL_CONFIG"]).read_text()
    locked = subprocess.run(
        [
            *("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets"),
            *("/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock"),
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert locked.returncode == 0, locked.stderr
    # The moto server accepts any keys: a fallback to these would list the bucket.
    env_creds = {**env, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    ls = pail(env_creds, "ls", f"lab:{bucket_name}/runs/")
    assert ls.returncode == 7, ls.stdout + ls.stderr
    assert ls.stdout == "" and len(ls.stderr.splitlines()) == 1
    assert "locked" in ls.stderr and "unlock" in ls.stderr
    show = pail(env_creds, "connection", "show", "lab")
    rows = dict(line.split(":", 1) for line in show.stdout.splitlines())
    assert rows["Credentials"].strip() == "unavailable" and "locked" in rows["Problem"]
    for result in (add, ls, show):
        assert secret not in result.stdout + result.stderr
