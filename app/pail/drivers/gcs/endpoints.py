"""Which server a GCS connection talks to: Google's JSON API or an emulator.

A connection names its endpoint (``endpoint_url`` in the connections file); without one,
``STORAGE_EMULATOR_HOST`` (the variable google-cloud-storage and gcloud read) points the
client at an emulator; without either it is Google's ``https://storage.googleapis.com``.

An endpoint that is not Google's gets unsigned requests (google-auth's
``AnonymousCredentials``), as google-cloud-storage does for ``STORAGE_EMULATOR_HOST``: an
emulator checks no token, and a Google access token must not be sent to another host. A
service-account key of such a connection is still used to sign URLs locally
(:meth:`pail.drivers.gcs.GcsDriver.presign`).

:func:`emulator_name` says which emulator answers, from what the endpoint itself answers
(no guess from the port or the variable's name).
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["FAKE_GCS_SERVER", "GCP_STORAGE_EMULATOR", "emulator_host", "emulator_name", "is_google"]

#: The names :func:`emulator_name` gives.
FAKE_GCS_SERVER = "fake-gcs-server"
GCP_STORAGE_EMULATOR = "gcp-storage-emulator"


def emulator_host(environ: Mapping[str, str] | None = None) -> str | None:
    """``STORAGE_EMULATOR_HOST`` as a URL (``http://`` added when it has no scheme, as
    google-cloud-storage does), or ``None`` when unset or blank."""
    env = os.environ if environ is None else environ
    host = (env.get("STORAGE_EMULATOR_HOST") or "").strip()
    if not host:
        return None
    return host if "://" in host else f"http://{host}"


def is_google(endpoint: str | None) -> bool:
    """True for ``None`` (the default endpoint) and hosts under ``googleapis.com``
    (``storage.googleapis.com``, Private Service Connect ``*.p.googleapis.com``)."""
    if not endpoint:
        return True
    host = (urlsplit(endpoint if "://" in endpoint else f"//{endpoint}").hostname or "").lower()
    return host == "googleapis.com" or host.endswith(".googleapis.com")


def emulator_name(endpoint: str, timeout: float = 5.0) -> str | None:
    """The emulator answering at ``endpoint`` from its own answers, or ``None`` when
    neither fingerprint matches (an unknown server, or none answering).

    * fake-gcs-server answers ``GET /_internal/healthcheck`` with 200 and an empty body
      (its health-check route); Google and gcp-storage-emulator answer 404.
    * gcp-storage-emulator answers ``GET /`` with ``200 OK`` and the body ``OK`` from
      Python's ``http.server`` (``Server: BaseHTTP/...``).

    Two small GETs with ``timeout`` seconds each; never raises.
    """
    base = endpoint.rstrip("/")

    def get(path: str) -> tuple[int, str, bytes] | None:
        try:
            with urllib.request.urlopen(base + path, timeout=timeout) as resp:
                return resp.status, resp.headers.get("Server") or "", resp.read(64)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Server") or "", b""
        except (OSError, ValueError):
            return None

    health = get("/_internal/healthcheck")
    if health is not None and health[0] == 200 and health[2] == b"":
        return FAKE_GCS_SERVER
    root = get("/")
    if root is not None and root[0] == 200 and root[1].startswith("BaseHTTP") and root[2] == b"OK":
        return GCP_STORAGE_EMULATOR
    return None
