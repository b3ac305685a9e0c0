"""Concurrent writers of one connections file: every change persists and the file parses.

The read-modify-write of ``connections.toml`` is locked (``connections.toml.lock``, a
``filelock`` lock next to it): real ``pail connection add`` processes started at the same
moment, and threads calling ``ConnectionStore.save``/``remove``, never lose a connection.
"""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import filelock
import pytest
import tomlkit

from pail.config.env import default_config_path
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec
from support.cli import pail_exe
from support.keyrings import FolderKeyring, child_env

WRITERS = 10
ROUNDS = 3


def _start_add(name: str, env: dict[str, str], endpoint: str) -> subprocess.Popen:
    args = [pail_exe(), "connection", "add", name, "--provider", "s3"]
    args += ["--endpoint-url", endpoint, "--path-style", "--secret-stdin"]
    proc = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc


def test_concurrent_cli_adds_all_persist(tmp_path):
    """WRITERS ``pail connection add`` processes at once, ROUNDS times, each storing its
    secrets (``--secret-stdin``) in a keyring shared through files: every connection is
    in the file afterwards, with its secrets record, and the file parses."""
    keyring_dir = tmp_path / "keyring"
    keyring_dir.mkdir()
    env = child_env("FolderKeyring", PAIL_TEST_KEYRING_DIR=str(keyring_dir))
    expected: set[str] = set()
    for round_no in range(ROUNDS):
        procs = {}
        for i in range(WRITERS):
            name = f"r{round_no}-c{i}"
            procs[name] = _start_add(name, env, f"http://127.0.0.1:{9000 + i}")
        # Secrets go in only once every process is running, so they reach the config
        # write at about the same moment.
        for i, (name, proc) in enumerate(procs.items()):
            assert proc.stdin is not None
            proc.stdin.write(f"AKIACONCURRENT{i:04d}\nsecret-{name}\n\n")
            proc.stdin.flush()  # three lines are all it reads; communicate() closes stdin
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, (name, out, err)
            assert "secrets stored in the OS keyring" in out
        expected |= set(procs)
        store = ConnectionStore()
        specs = {spec.name: spec for spec in store.load()}  # parses, or raises
        assert set(specs) == expected, f"round {round_no}: lost {expected - set(specs)}"
        assert all(spec.secrets_in == "keyring" for spec in specs.values())
    text = Path(default_config_path()).read_text(encoding="utf-8")
    assert "secret-" not in text and "AKIACONCURRENT" not in text
    # Every secret is in the keyring under its own connection's name.
    os.environ["PAIL_TEST_KEYRING_DIR"] = str(keyring_dir)
    try:
        backend = FolderKeyring()
        for name in expected:
            assert f"secret-{name}" in (backend.get_password("pail", name) or "")
    finally:
        del os.environ["PAIL_TEST_KEYRING_DIR"]
    lock = default_config_path() + ".lock"
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(default_config_path()).st_mode) == 0o600


def test_concurrent_cli_adds_without_secrets(tmp_path):
    """The same with the children's default keyring (the fail backend) and --no-secrets."""
    procs = {}
    for i in range(WRITERS):
        name = f"plain{i}"
        args = [pail_exe(), "connection", "add", name, "--provider", "s3", "--no-secrets"]
        procs[name] = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (name, out, err)
    specs = ConnectionStore().load()
    assert {s.name for s in specs} == set(procs)
    assert all(s.secrets_in == "none" for s in specs)


def test_threads_saving_and_removing(tmp_path):
    """Threads of one process add, update and remove connections through separate
    ConnectionStore objects: the file ends with exactly the expected set."""
    path = str(tmp_path / "c.toml")
    errors: list[BaseException] = []
    keep = [f"keep{i}" for i in range(8)]
    drop = [f"drop{i}" for i in range(8)]
    start = threading.Barrier(len(keep) + len(drop))

    def worker(name: str, remove: bool) -> None:
        try:
            store = ConnectionStore(path, environ={})
            start.wait()
            for round_no in range(5):
                region = f"r{round_no}"
                store.save(ConnectionSpec(name, "s3", region=region, secrets_in="none"))
            if remove:
                assert store.remove(name) is True
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n, False)) for n in keep]
    threads += [threading.Thread(target=worker, args=(n, True)) for n in drop]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    specs = ConnectionStore(path, environ={}).load()
    assert sorted(s.name for s in specs) == sorted(keep)
    assert all(s.region == "r4" for s in specs)
    tomlkit.parse(Path(path).read_text(encoding="utf-8"))


def test_a_held_lock_times_out_with_a_clear_error(tmp_path):
    """Another writer holding the lock past the timeout: save fails with ConfigError
    naming the lock file, and the file is unchanged."""
    path = str(tmp_path / "c.toml")
    store = ConnectionStore(path, environ={}, lock_timeout=0.5)
    store.save(ConnectionSpec("a", "s3", secrets_in="none"))
    before = Path(path).read_text(encoding="utf-8")
    holder = filelock.FileLock(path + ".lock")
    with holder:
        began = time.monotonic()
        with pytest.raises(ConfigError) as info:
            store.save(ConnectionSpec("b", "s3"))
        with pytest.raises(ConfigError):
            store.remove("a")
        assert time.monotonic() - began < 10  # bounded: gave up, did not hang
    message = str(info.value)
    assert path + ".lock" in message and "another pail" in message
    assert Path(path).read_text(encoding="utf-8") == before
    store.save(ConnectionSpec("b", "s3"))  # released: works again
    assert [s.name for s in store.load()] == ["a", "b"]


def test_the_lock_is_reentrant_for_a_transaction(tmp_path):
    """``store.locked()`` holds the lock across several calls of the same store (a rename
    is save + remove), and other writers wait for the whole of it."""
    path = str(tmp_path / "c.toml")
    store = ConnectionStore(path, environ={})
    store.save(ConnectionSpec("old", "s3"))
    other = ConnectionStore(path, environ={}, lock_timeout=0.3)
    with store.locked():
        store.save(ConnectionSpec("new", "s3"))
        with pytest.raises(ConfigError):
            other.save(ConnectionSpec("x", "s3"))
        store.remove("old")
    assert [s.name for s in store.load()] == ["new"]


def test_cli_says_so_in_one_line_when_the_lock_is_held(monkeypatch):
    from pail.config import store
    from support.cli import run

    monkeypatch.setattr(store, "LOCK_TIMEOUT", 0.3)
    path = default_config_path()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with filelock.FileLock(path + ".lock"):
        result = run(["connection", "add", "x", "--provider", "s3", "--no-secrets"])
    assert result.exit_code == 1, result.stdout + result.stderr
    assert result.stderr.startswith("pail: error: ") and "another pail" in result.stderr
    assert path + ".lock" in result.stderr and "Traceback" not in result.stderr
    assert not os.path.exists(path)
    assert run(["connection", "add", "x", "--provider", "s3", "--no-secrets"]).exit_code == 0
