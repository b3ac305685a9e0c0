"""The connections file: parsing errors name file and line, round trips keep comments,
the file is 0600, ``${env.X}`` expands on read only, and secrets are refused."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from pail.config.env import default_config_path
from pail.config.store import ConnectionStore, resolve_target
from pail.core.connection import ConfigError, ConnectionSpec


def store_with(tmp_path, text: str, env: dict[str, str] | None = None) -> ConnectionStore:
    path = tmp_path / "connections.toml"
    path.write_text(text)
    return ConnectionStore(str(path), environ=env or {})


def error_of(store: ConnectionStore) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        store.load()
    return info.value


GOOD = """\
# my connections
[connections.lab]   # the lab's MinIO
provider = "s3"
endpoint_url = "http://minio.lab:9000"
path_style = true
bucket = "artifacts"
prefix = "runs"

[connections.lab.client]
signature_version = "s3v4"
max_attempts = 5

[connections.lab.write]
ServerSideEncryption = "aws:kms"

[connections.disk]
provider = "local"
root = "/data"
"""


def test_a_missing_file_is_no_connections(tmp_path):
    assert ConnectionStore(str(tmp_path / "none.toml")).load() == []


def test_default_path_honours_pail_config(tmp_path):
    assert default_config_path({"PAIL_CONFIG": str(tmp_path / "c.toml")}) == str(
        tmp_path / "c.toml"
    )
    assert default_config_path({}).endswith(os.path.join("pail", "connections.toml"))


def test_tests_never_see_the_real_config():
    # The autouse fixture points PAIL_CONFIG at a per-test temporary file.
    assert "pail-config" in default_config_path()


def test_parses_every_setting(tmp_path):
    lab, disk = store_with(tmp_path, GOOD).load()
    assert (lab.name, lab.provider, lab.endpoint_url, lab.path_style) == (
        "lab",
        "s3",
        "http://minio.lab:9000",
        True,
    )
    assert (lab.bucket, lab.prefix, lab.saved) == ("artifacts", "runs/", True)
    assert lab.client_options == {"signature_version": "s3v4", "max_attempts": 5}
    assert lab.write_args == {"ServerSideEncryption": "aws:kms"}
    assert (disk.provider, disk.root) == ("local", "/data")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[connections.a]\nprovider = "s3"\nregion = \n', 3, "invalid TOML"),
        ('[connections.a]\nprovider = "s3"\n\n[connections.a]\nprovider = "gcs"\n', 4, "twice"),
        ('[connections.a]\nprovider = "s3"\n[connections.b]\nprovider = "azure"\n', 4, "azure"),
        ('[connections.a]\nregion = "x"\n', 1, "missing provider"),
        ('[connections.a]\nprovider = "s3"\nendpoint = "http://x"\n', 3, "unknown key"),
        ('[connections.a]\nprovider = "s3"\n[connections.a.client]\nretries = 3\n', 4, "unknown"),
        ('[connections.a]\nprovider = "s3"\npath_style = "maybe"\n', 3, "true or false"),
        ('[connections.a]\nprovider = "s3"\n[connections.a.client]\nmax_attempts = "x"\n', 4, ""),
        ('[connections.a]\nprovider = "local"\n', 1, "needs root"),
        ('[connections."a b"]\nprovider = "s3"\n', None, "bad connection name"),
        ('[settings]\ntheme = "dark"\n', 1, "unknown top-level key"),
    ],
)
def test_errors_name_file_and_line(tmp_path, text, line, words):
    store = store_with(tmp_path, text)
    err = error_of(store)
    assert err.path == store.path
    if line is not None:
        assert err.line == line
        assert str(err).startswith(f"{store.path}:{line}: ")
    assert words in err.message
    assert "\n" not in str(err)


def test_missing_env_var_without_default_names_the_line(tmp_path):
    text = '[connections.a]\nprovider = "s3"\nendpoint_url = "${env.PAIL_TEST_NOPE}"\n'
    err = error_of(store_with(tmp_path, text))
    assert err.line == 3 and "PAIL_TEST_NOPE" in err.message and ":=" in err.message


@pytest.mark.parametrize(
    "key",
    [
        "aws_secret_access_key",
        "secret_access_key",
        "session_token",
        "password",
        "token",
        "aws_access_key_id",
    ],
)
def test_secret_looking_keys_are_refused(tmp_path, key):
    text = f'[connections.lab]\nprovider = "s3"\n{key} = "hunter2-not-shown"\n'
    err = error_of(store_with(tmp_path, text))
    assert err.line == 3
    assert "keyring" in err.message and "pail connection add lab" in err.message
    assert "hunter2-not-shown" not in str(err)


def test_secret_in_a_sub_table_is_refused(tmp_path):
    text = '[connections.lab]\nprovider = "s3"\n[connections.lab.write]\nSSECustomerKey = "k"\n'
    err = error_of(store_with(tmp_path, text))
    assert err.line == 4 and "secret" in err.message


def test_env_expansion_with_and_without_defaults(tmp_path):
    text = (
        "[connections.lab]\n"
        'provider = "s3"\n'
        'endpoint_url = "http://${env.LAB_HOST}:9000"\n'
        'region = "${env.LAB_REGION:=eu-west-1}"\n'
        'path_style = "${env.LAB_PATH_STYLE:=true}"\n'
        "[connections.lab.client]\n"
        'max_attempts = "${env.LAB_ATTEMPTS:=7}"\n'
    )
    (spec,) = store_with(tmp_path, text, {"LAB_HOST": "minio"}).load()
    assert (spec.endpoint_url, spec.region, spec.path_style) == (
        "http://minio:9000",
        "eu-west-1",
        True,
    )
    assert spec.client_options == {"max_attempts": 7}
    env = {"LAB_HOST": "m2", "LAB_REGION": "us-west-2", "LAB_PATH_STYLE": "false"}
    (spec,) = store_with(tmp_path, text, env).load()
    assert (spec.region, spec.path_style) == ("us-west-2", False)


def test_save_creates_a_0600_file_without_secrets(tmp_path):
    from pail.core.connection import Secrets

    store = ConnectionStore(str(tmp_path / "sub" / "connections.toml"))
    secrets = Secrets("AKIAEXAMPLEKEYID1234", "s3cr3t-value-xyz", "session-token-abc")
    store.save(ConnectionSpec("lab", "s3", endpoint_url="http://m:9000", secrets=secrets))
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    text = Path(store.path).read_text()
    for secret in ("AKIAEXAMPLEKEYID1234", "s3cr3t-value-xyz", "session-token-abc"):
        assert secret not in text
    assert store.names() == ["lab"]
    assert [f for f in os.listdir(tmp_path / "sub") if f.endswith(".tmp")] == []


def test_round_trip_keeps_comments_order_and_env_references(tmp_path):
    text = GOOD.replace(
        'endpoint_url = "http://minio.lab:9000"',
        'endpoint_url = "${env.LAB_URL:=http://minio.lab:9000}"  # overridable',
    )
    store = store_with(tmp_path, text)
    lab = store.get("lab")
    store.save(replace(lab, region="eu-west-1", client_options={"max_attempts": 3}))
    new = Path(store.path).read_text()
    assert new.startswith("# my connections\n[connections.lab]   # the lab's MinIO\n")
    assert 'endpoint_url = "${env.LAB_URL:=http://minio.lab:9000}"  # overridable' in new
    assert 'region = "eu-west-1"' in new and "signature_version" not in new
    assert new.index("[connections.lab]") < new.index("[connections.disk]")
    again = store.get("lab")
    assert (again.region, again.client_options) == ("eu-west-1", {"max_attempts": 3})
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


def test_saving_unchanged_spec_leaves_the_file_as_it_was(tmp_path):
    store = store_with(tmp_path, GOOD)
    store.save(store.get("lab"))
    assert Path(store.path).read_text() == GOOD


def test_remove(tmp_path):
    store = store_with(tmp_path, GOOD)
    assert store.remove("lab") is True
    assert store.names() == ["disk"]
    assert "# my connections" in Path(store.path).read_text()
    assert store.remove("lab") is False
    with pytest.raises(KeyError):
        store.get("lab")


def test_save_refuses_bad_names(tmp_path):
    store = ConnectionStore(str(tmp_path / "c.toml"))
    with pytest.raises(ConfigError, match="bad connection name"):
        store.save(ConnectionSpec("a b", "s3"))
    assert not os.path.exists(store.path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lab", ("", "")),
        ("lab:", ("", "")),
        ("lab:artifacts", ("artifacts", "")),
        ("lab:artifacts/runs/", ("artifacts", "runs/")),
        ("lab:/artifacts/runs/x.json", ("artifacts", "runs/x.json")),
    ],
)
def test_resolve_target(tmp_path, text, expected):
    store = store_with(tmp_path, GOOD)
    spec, bucket, prefix = resolve_target(text, store)
    assert spec.name == "lab" and (bucket, prefix) == expected


@pytest.mark.parametrize("text", ["s3://lab/x", "other:bucket", "./lab", "/data", "gs://b"])
def test_resolve_target_leaves_uris_and_unknown_names(tmp_path, text):
    assert resolve_target(text, store_with(tmp_path, GOOD)) is None


def test_the_secrets_record_is_allowed_and_checked(tmp_path):
    store = store_with(tmp_path, '[connections.a]\nprovider = "s3"\nsecrets = "keyring"\n')
    assert store.get("a").secrets_in == "keyring"
    leaked = "AKIAPASTEDBYMISTAKE1"
    store = store_with(tmp_path, f'[connections.a]\nprovider = "s3"\nsecrets = "{leaked}"\n')
    err = error_of(store)
    assert err.line == 3 and '"keyring" or "none"' in err.message
    assert leaked not in str(err)  # a pasted secret is never repeated
    store = store_with(tmp_path, '[connections.a]\nprovider = "s3"\nsecret = "keyring"\n')
    assert "looks like a secret" in error_of(store).message  # only the exact key is allowed


def test_saving_sets_and_clears_the_record_in_place(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('# mine\n[connections.a]\nprovider = "s3"  # keep\n\n[connections.a.client]\n'
                    "max_attempts = 2\n")  # fmt: skip
    store = ConnectionStore(str(path), environ={})
    spec = store.get("a")
    store.save(replace(spec, secrets_in="keyring"))
    text = path.read_text()
    assert "# mine" in text and "# keep" in text and 'secrets = "keyring"' in text
    assert store.get("a").secrets_in == "keyring" and store.get("a").client_options
    store.save(replace(spec, secrets_in=None))
    assert "secrets" not in path.read_text() and store.get("a").secrets_in is None
