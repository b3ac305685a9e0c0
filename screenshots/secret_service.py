"""A real Secret Service for the screenshots: GNOME Keyring on a private D-Bus session bus.

``capture.py`` runs the app against it so that the status bar shows the keyring state a
desktop user sees (``keyring: keyring.backends.SecretService.Keyring``), not a stand-in,
and secrets saved by the capture go through the same backend as on a desktop. The bus and
the keyring daemon are private to the capture: the keyring files live in the throwaway
HOME, and the user's own session bus and keyring are never contacted.

The same start-up as the ``secret_service`` fixture of
``tests/credentials/test_secret_service.py``: ``dbus-daemon --session`` prints its
address, ``gnome-keyring-daemon --unlock`` reads a login password from stdin, creates the
login collection unlocked and claims ``org.freedesktop.secrets`` on that bus.

Needs ``dbus-daemon``, ``dbus-send`` and ``gnome-keyring-daemon`` (Debian: gnome-keyring
dbus-x11 dbus-bin; ``.ci/run`` installs them).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

TOOLS = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")
#: Seconds to wait for the keyring daemon to own org.freedesktop.secrets.
START_TIMEOUT = 20.0
#: Variables that would point the keyring library at another bus, keyring or backend.
SCRUBBED = ("DBUS_SESSION_BUS_ADDRESS", "GNOME_KEYRING_CONTROL", "PYTHON_KEYRING_BACKEND")


class SecretServiceUnavailable(RuntimeError):
    """The private Secret Service could not be started (the message says why and how)."""


def _has_secrets(env: dict[str, str]) -> bool:
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


def _stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextlib.contextmanager
def private_secret_service(home: str) -> Iterator[dict[str, str]]:
    """Start a session bus and an unlocked GNOME Keyring on it; stop both on exit.

    Args:
        home: a throwaway folder; the keyring's files go to ``HOME/.local/share/keyrings``
            and its control socket to ``HOME/run`` (created, mode 0700).

    Yields:
        the variables a process needs to use this Secret Service: ``HOME``, the
        ``XDG_*`` folders under ``home`` and ``DBUS_SESSION_BUS_ADDRESS``. The caller sets
        them (and removes :data:`SCRUBBED` others) before the keyring library picks its
        backend.

    Raises:
        SecretServiceUnavailable: a tool is missing, or the daemon did not claim
            ``org.freedesktop.secrets`` within :data:`START_TIMEOUT` seconds.
    """
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise SecretServiceUnavailable(
            f"{', '.join(missing)} not found; the screenshots need a real Secret Service "
            "(Debian/Ubuntu: apt-get install gnome-keyring dbus-x11 dbus-bin)"
        )
    runtime = os.path.join(home, "run")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    os.chmod(runtime, 0o700)  # the keyring daemon refuses a runtime folder others can read
    variables = {
        "HOME": home,
        "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
        "XDG_CONFIG_HOME": os.path.join(home, ".config"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"),
        "XDG_RUNTIME_DIR": runtime,
    }
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(variables)
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    daemon: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise SecretServiceUnavailable("dbus-daemon did not print a session bus address")
        env["DBUS_SESSION_BUS_ADDRESS"] = variables["DBUS_SESSION_BUS_ADDRESS"] = address
        # --unlock reads the login password from stdin and creates the login collection.
        daemon = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert daemon.stdin is not None
        daemon.stdin.write(uuid.uuid4().hex.encode())
        daemon.stdin.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not _has_secrets(env):
            if daemon.poll() is not None:
                raise SecretServiceUnavailable(
                    f"gnome-keyring-daemon exited with status {daemon.returncode} at start"
                )
            if time.monotonic() > deadline:
                raise SecretServiceUnavailable(
                    f"gnome-keyring-daemon did not claim org.freedesktop.secrets on the "
                    f"private bus within {START_TIMEOUT:.0f} s"
                )
            time.sleep(0.1)
        yield variables
    finally:
        _stop(daemon)
        _stop(bus)
