"""Which server a GCS connection talks to (pail.drivers.gcs.endpoints): Google's hosts,
STORAGE_EMULATOR_HOST, and the emulator named from its own answers."""

from __future__ import annotations

import pytest

from pail.drivers.gcs.endpoints import emulator_host, emulator_name, is_google
from support.canned_http import Reply, canned_server


@pytest.mark.parametrize(
    ("endpoint", "google"),
    [
        (None, True),
        ("https://storage.googleapis.com", True),
        ("https://storage-psc1.p.googleapis.com/", True),
        ("storage.googleapis.com", True),
        ("http://127.0.0.1:4443", False),
        ("https://googleapis.com.evil.example", False),
        ("https://notgoogleapis.com", False),
    ],
)
def test_is_google(endpoint, google):
    assert is_google(endpoint) is google


def test_emulator_host_adds_the_scheme():
    assert emulator_host({"STORAGE_EMULATOR_HOST": "127.0.0.1:9023"}) == "http://127.0.0.1:9023"
    assert emulator_host({"STORAGE_EMULATOR_HOST": "https://h:1"}) == "https://h:1"
    assert emulator_host({"STORAGE_EMULATOR_HOST": "  "}) is None
    assert emulator_host({}) is None


def test_emulator_named_from_its_answers(gcs_emulator, fake_gcs_server):
    assert emulator_name(gcs_emulator) == "gcp-storage-emulator"
    assert emulator_name(fake_gcs_server) == "fake-gcs-server"


def test_an_unknown_server_is_not_named():
    with canned_server([Reply(200, b'{"ok": true}', content_type="application/json")]) as srv:
        assert emulator_name(srv.url) is None
    assert emulator_name("http://127.0.0.1:9", timeout=1) is None  # nothing listening
