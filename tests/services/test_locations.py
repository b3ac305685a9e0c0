"""pail.services.locations: what users type, read once for every command and the app.

Real parts only: a config file on a tmp path, the in-memory keyring of ``isolated_config``
(tests/support/keyrings.py), folders, and the session's moto server.
"""

from __future__ import annotations

import os

import pytest

from pail.config.flags import Flags
from pail.config.store import ConnectionStore
from pail.core.connection import ConfigError, ConnectionSpec, Secrets
from pail.core.uri import InvalidURI, Location
from pail.credentials import SecretsUnavailable, store_secrets
from pail.services.locations import (
    NoBucket,
    NoSuchFolder,
    UnknownConnection,
    connections_to_open,
    location_in,
    open_location,
    open_spec,
    read_target,
)
from support.servers import seed_keys

KEY_ID = "AKIALOCATIONS0000XYZ"


@pytest.fixture
def store(tmp_path) -> ConnectionStore:
    return ConnectionStore(str(tmp_path / "config" / "connections.toml"))


def lab(endpoint: str, **kwargs) -> ConnectionSpec:
    return ConnectionSpec(
        name="lab",
        provider="s3",
        endpoint_url=endpoint,
        region="us-east-1",
        path_style=True,
        **kwargs,
    )


# --- read_target: one set of rules ------------------------------------------------------


def test_a_uri_takes_its_connection_from_the_environment_and_the_flags(store):
    env = {"S3_ENDPOINT_URL": "http://env:9000", "AWS_REGION": "eu-west-1"}
    target = read_target("s3://runs/exp-1/", Flags(path_style=True), store=store, environ=env)
    assert target.location == Location("s3", "runs", "exp-1/")
    assert not target.saved and target.named
    assert (target.spec.endpoint_url, target.spec.region, target.spec.path_style) == (
        "http://env:9000",
        "eu-west-1",
        True,
    )
    assert (target.spec.bucket, target.spec.prefix) == ("runs", "exp-1/")
    flagged = read_target(
        "s3a://b/k", Flags(endpoint_url="http://flag:1"), store=store, environ=env
    )
    assert flagged.spec.endpoint_url == "http://flag:1"  # a flag wins over the environment


def test_a_saved_name_with_and_without_a_location(store):
    store.save(lab("http://saved:9000", bucket="dflt", prefix="runs/"))
    there = read_target("lab:artifacts/exp/", store=store)
    assert there.saved and there.named
    assert there.location == Location("s3", "artifacts", "exp/")
    assert there.spec.endpoint_url == "http://saved:9000"
    default = read_target("lab", store=store)
    assert default.saved and not default.named
    assert default.location == Location("s3", "dflt", "runs/")
    flagged = read_target("lab:b", Flags(region="ap-south-1"), store=store)
    assert flagged.spec.region == "ap-south-1" and flagged.location == Location("s3", "b", "")


def test_no_bucket_named_is_a_bucket_list_and_refused_where_objects_are_needed(store):
    store.save(lab("http://saved:9000"))
    saved = read_target("lab", store=store)
    assert saved.location is None and saved.saved
    with pytest.raises(NoBucket, match=r"^lab names no bucket$"):
        saved.need_location()
    bare = read_target("gs://", store=store, environ={})
    assert bare.location is None and bare.spec.provider == "gcs" and bare.spec.bucket is None
    with pytest.raises(NoBucket, match="missing bucket name") as info:
        bare.need_location()
    assert isinstance(info.value, InvalidURI)  # exit 2 on the command line
    with pytest.raises(InvalidURI, match="absolute path"):
        read_target("file://", store=store)  # a folder is never a bucket list


def test_a_saved_name_wins_over_a_folder_of_that_name(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lab").mkdir()
    store.save(lab("http://saved:9000", bucket="dflt"))
    assert read_target("lab", store=store).saved
    folder = read_target("./lab", store=store)
    assert not folder.saved and folder.location == Location(
        "local", "lab", "", str(tmp_path / "lab")
    )
    assert folder.spec.provider == "local" and folder.spec.single_bucket


def test_unknown_names_are_paths_and_bad_uris_say_why(store, tmp_path):
    unknown = read_target(str(tmp_path), store=store)
    assert unknown.location is not None and unknown.location.root == str(tmp_path)
    with pytest.raises(InvalidURI, match="unsupported scheme"):
        read_target("ftp://host/x", store=store)


def test_a_broken_config_file_is_reported_only_for_what_looks_like_a_name(store, tmp_path):
    os.makedirs(os.path.dirname(store.path))
    with open(store.path, "w") as fh:
        fh.write("[connections.lab\n")
    with pytest.raises(ConfigError):
        read_target("lab:b/p", store=store)
    assert read_target("s3://b/p", store=store, environ={}).location == Location("s3", "b", "p")


def test_location_in_gives_a_local_bucket_its_folder(tmp_path):
    roots = ConnectionSpec(name="disk", provider="local", root=str(tmp_path))
    assert location_in(roots, "b", "k").root == os.path.join(str(tmp_path), "b")
    one = ConnectionSpec(name="d", provider="local", root=str(tmp_path), single_bucket=True)
    assert location_in(one, "d", "k") == Location("local", "d", "k", str(tmp_path))
    assert location_in(lab("http://x:1"), "b", "k").root is None


# --- opening ----------------------------------------------------------------------------


def test_open_location_uses_the_saved_connections_keyring_secrets(s3_endpoint, store):
    seed_keys("artifacts", {"runs/1/metrics.json": b'{"loss": 0.1}'})
    store.save(lab(s3_endpoint, bucket="artifacts", prefix="runs/", secrets_in="keyring"))
    store_secrets("lab", Secrets(KEY_ID, "not-checked-by-moto"))
    driver, location = open_location("lab:artifacts/runs/1/metrics.json", store=store)
    assert location == Location("s3", "artifacts", "runs/1/metrics.json")
    assert driver.read_range("artifacts", location.key, 0, 100) == b'{"loss": 0.1}'
    driver, resolved = open_spec(read_target("lab", store=store).spec)
    assert (resolved.source, resolved.identity) == ("keyring", "AKIA…0XYZ")
    store.save(lab(s3_endpoint, secrets_in="none"))  # no default bucket any more
    with pytest.raises(NoBucket):
        open_location("lab", store=store)


def test_open_location_of_a_folder_reads_its_files(tmp_path, store):
    (tmp_path / "model.json").write_bytes(b"{}")
    driver, location = open_location(str(tmp_path / "model.json"), store=store)
    assert location.key == "model.json"
    assert driver.head(location.bucket, location.key).size == 2


def test_a_connection_whose_keyring_entry_is_gone_does_not_open(store):
    store.save(lab("http://x:1", bucket="b", secrets_in="keyring"))
    with pytest.raises(SecretsUnavailable) as info:
        open_location("lab", store=store)
    assert info.value.reason == "missing"  # never falls back to AWS_* variables


# --- what the app opens -----------------------------------------------------------------


def test_uris_group_into_connections_with_flags_applied():
    specs = connections_to_open(
        ["s3://a/runs/", "s3://b/", "gs://c/x/"],
        Flags(endpoint_url="http://127.0.0.1:9000", path_style=True),
        environ={},
    )
    s3, gcs = specs
    assert (s3.provider, s3.bucket, s3.prefix) == ("s3", "a", "runs/")
    assert s3.pinned == (("b", ""),)
    assert s3.endpoint_url == "http://127.0.0.1:9000" and s3.path_style is True
    assert (gcs.provider, gcs.bucket, gcs.prefix) == ("gcs", "c", "x/")


def test_saved_names_open_first_and_pin_further_locations(store):
    store.save(lab("http://saved:9000", bucket="dflt"))
    specs = connections_to_open(["s3://x/", "lab", "lab:other/p/", "lab"], Flags(), {}, store)
    assert [(s.name, s.bucket, s.prefix, s.pinned) for s in specs] == [
        ("lab", "dflt", "", (("other", "p/"),)),
        ("s3", "x", "", ()),
    ]
    (spec,) = connections_to_open(["lab:artifacts/runs/"], Flags(), {}, store)
    assert (spec.saved, spec.bucket, spec.prefix) == (True, "artifacts", "runs/")


def test_the_app_refuses_a_provider_without_a_bucket(store):
    with pytest.raises(InvalidURI, match="missing bucket name"):
        connections_to_open(["gs://"], Flags(), {}, store)


def test_no_uri_opens_the_environments_stores():
    env = {"S3_ENDPOINT_URL": "http://127.0.0.1:9000", "STORAGE_EMULATOR_HOST": "http://x:1"}
    specs = connections_to_open([], Flags(), environ=env)
    assert [(s.provider, s.endpoint_url) for s in specs] == [
        ("s3", "http://127.0.0.1:9000"),
        ("gcs", None),
    ]


def test_no_uri_with_an_s3_flag_opens_that_endpoint():
    (spec,) = connections_to_open([], Flags(endpoint_url="http://127.0.0.1:9000"), environ={})
    assert spec.provider == "s3" and spec.endpoint_url == "http://127.0.0.1:9000"


def test_no_uri_and_no_environment_opens_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (spec,) = connections_to_open([], Flags(), environ={})
    assert spec.provider == "local" and spec.root == str(tmp_path) and spec.single_bucket


def test_modelkit_local_store_from_the_environment(tmp_path):
    env = {
        "STORAGE_PROVIDER": "local",
        "MODELKIT_STORAGE_BUCKET": str(tmp_path),
        "MODELKIT_STORAGE_PREFIX": "assets",
    }
    (spec,) = connections_to_open([], Flags(), environ=env)
    assert (spec.name, spec.provider, spec.root, spec.prefix) == (
        "modelkit",
        "local",
        str(tmp_path),
        "assets/",
    )


# --- names that are no saved connection ----------------------------------------------------


def test_name_colon_path_with_an_unknown_name_says_so(store):
    with pytest.raises(UnknownConnection) as info:
        read_target("nope:x/", store=store)
    assert str(info.value) == "no saved connection 'nope'; there are no saved connections"
    assert isinstance(info.value, InvalidURI)  # exit 2 on the command line
    store.save(lab("http://saved:9000"))
    with pytest.raises(UnknownConnection, match=r"; saved connections: lab$"):
        read_target("nope:", store=store)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ftp://host/x", "unsupported scheme 'ftp'"),  # a scheme with // is a URI
        ("s3:bucket", "two slashes"),  # a real scheme without //
        ("GS:bucket", "two slashes"),
    ],
)
def test_schemes_keep_their_own_messages(store, text, words):
    with pytest.raises(InvalidURI, match=words) as info:
        read_target(text, store=store)
    assert not isinstance(info.value, UnknownConnection)


def test_a_drive_letter_is_a_path(store):
    target = read_target("C:\\data", store=store)
    assert target.location is not None and target.location.provider == "local"


def test_the_app_refuses_words_and_folders_that_name_nothing(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownConnection, match="no folder of that name here") as info:
        connections_to_open(["lss"], Flags(), environ={}, store=store)
    assert info.value.name == "lss"
    with pytest.raises(NoSuchFolder) as missing:
        connections_to_open(["./nope/runs"], Flags(), environ={}, store=store)
    assert missing.value.path == str(tmp_path / "nope" / "runs")
    (tmp_path / "lss").mkdir()
    (tmp_path / "f.txt").write_text("x")
    specs = connections_to_open(["lss", "f.txt"], Flags(), environ={}, store=store)
    assert {s.provider for s in specs} == {"local"}
