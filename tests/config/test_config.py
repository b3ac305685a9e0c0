"""Connection settings from flags and the environment the artifact tools already use."""

from __future__ import annotations

import pytest

from pail.config.env import (
    EndpointConflict,
    connections_from_env,
    endpoint_from_env,
    s3_endpoint_from_env,
    spec_for_location,
    specs_for_locations,
)
from pail.config.flags import Flags
from pail.core.connection import ConnectionSpec, Secrets, mask
from pail.core.uri import parse_uri
from pail.drivers.registry import open_driver

TOOL_VARS = [
    ("MLFLOW_S3_ENDPOINT_URL", "http://mlflow:6"),
    ("FML_S3_ENDPOINT_URI", "http://fasttrackml:5"),
    ("S3_ENDPOINT_URL", "http://llama-stack:3"),
    ("S3_ENDPOINT", "http://modelkit:4"),
]
AWS_VARS = {"AWS_ENDPOINT_URL_S3": "http://aws-s3:1", "AWS_ENDPOINT_URL": "http://aws:2"}


@pytest.mark.parametrize(("var", "value"), TOOL_VARS, ids=[v for v, _ in TOOL_VARS])
def test_a_tools_endpoint_variable_wins_over_botocores(var: str, value: str) -> None:
    # Each tool passes its variable to the SDK as endpoint_url, which beats AWS_ENDPOINT_URL*.
    assert endpoint_from_env({var: value, **AWS_VARS}) == (value, var)
    spec = spec_for_location(parse_uri("s3://b/"), {var: value, **AWS_VARS})
    assert (spec.endpoint_url, spec.endpoint_source) == (value, var)


def test_botocores_own_order_and_its_ignore_switch() -> None:
    assert endpoint_from_env(AWS_VARS) == ("http://aws-s3:1", "AWS_ENDPOINT_URL_S3")
    assert endpoint_from_env({"AWS_ENDPOINT_URL": "http://aws:2"}) == (
        "http://aws:2",
        "AWS_ENDPOINT_URL",
    )
    ignored = {**AWS_VARS, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}
    assert endpoint_from_env(ignored) == (None, None)


def test_two_tools_naming_different_endpoints_is_a_conflict_not_a_guess() -> None:
    env = {"MLFLOW_S3_ENDPOINT_URL": "http://a:1", "FML_S3_ENDPOINT_URI": "http://u:pw@b:2"}
    with pytest.raises(EndpointConflict) as caught:
        endpoint_from_env(env)
    text = str(caught.value)
    assert "MLFLOW_S3_ENDPOINT_URL=http://a:1" in text and "FML_S3_ENDPOINT_URI=http://b:2" in text
    assert "pw" not in text and "--endpoint-url" in text
    # The flag chooses: the variables are then not read at all.
    spec = spec_for_location(parse_uri("s3://b/"), env, Flags(endpoint_url="http://c:3"))
    assert (spec.endpoint_url, spec.endpoint_source) == ("http://c:3", "--endpoint-url")
    # The same endpoint twice (a trailing slash aside) is no conflict.
    same = {"MLFLOW_S3_ENDPOINT_URL": "http://a:1/", "S3_ENDPOINT": "http://a:1"}
    assert endpoint_from_env(same) == ("http://a:1/", "MLFLOW_S3_ENDPOINT_URL")


def test_blank_endpoint_vars_are_skipped() -> None:
    env = {"AWS_ENDPOINT_URL": "  ", "S3_ENDPOINT": "http://m:9000"}
    assert s3_endpoint_from_env(env) == "http://m:9000"
    assert s3_endpoint_from_env({}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("YES", True), ("on", True), ("false", False), ("", False)],
)
def test_fasttrackml_path_style(value: str, expected: bool) -> None:
    env = {"FML_S3_ENDPOINT_URI": "http://minio:9000", "FML_S3_USE_PATH_STYLE": value}
    (spec,) = connections_from_env(env)
    assert (spec.provider, spec.endpoint_url, spec.path_style) == (
        "s3",
        "http://minio:9000",
        expected,
    )


def test_aws_variables() -> None:
    env = {"AWS_PROFILE": "lab", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "us-west-2"}
    (spec,) = connections_from_env(env)
    assert (spec.name, spec.profile, spec.region) == ("s3", "lab", "eu-west-1")
    (spec,) = connections_from_env({"AWS_ACCESS_KEY_ID": "AKIA", "AWS_DEFAULT_REGION": "x-1"})
    assert spec.region == "x-1" and spec.secrets is None  # keys stay with botocore's chain


def test_nothing_configured() -> None:
    assert connections_from_env({}) == []
    assert connections_from_env({"STORAGE_PROVIDER": "s3"}) == []  # no bucket named


def test_modelkit_s3() -> None:
    env = {
        "STORAGE_PROVIDER": "S3",
        "MODELKIT_STORAGE_BUCKET": "models",
        "MODELKIT_STORAGE_PREFIX": "modelkit-assets",
        "S3_ENDPOINT": "http://minio:9000",
        "AWS_PROFILE": "mk",
    }
    specs = connections_from_env(env)
    assert len(specs) == 1  # the plain S3 connection is not repeated
    spec = specs[0]
    assert (spec.name, spec.provider, spec.bucket, spec.prefix) == (
        "modelkit",
        "s3",
        "models",
        "modelkit-assets/",
    )
    assert (spec.endpoint_url, spec.profile) == ("http://minio:9000", "mk")
    assert spec.locations() == [("models", "modelkit-assets/")]


def test_modelkit_gcs() -> None:
    env = {
        "STORAGE_PROVIDER": "gcs",
        "MODELKIT_STORAGE_BUCKET": "gbucket",
        "GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json",
    }
    (spec,) = connections_from_env(env)
    assert (spec.provider, spec.bucket, spec.credentials_file) == (
        "gcs",
        "gbucket",
        "/keys/sa.json",
    )


def test_modelkit_local(tmp_path) -> None:
    folder = tmp_path / "assets-store"
    env = {
        "STORAGE_PROVIDER": "local",
        "MODELKIT_STORAGE_BUCKET": str(folder) + "/",
        "MODELKIT_STORAGE_PREFIX": "prefix/",
    }
    (spec,) = connections_from_env(env)
    assert (spec.provider, spec.root, spec.single_bucket) == ("local", str(folder), True)
    assert (spec.bucket, spec.prefix) == ("assets-store", "prefix/")


def test_modelkit_and_gcs_and_s3_together() -> None:
    env = {
        "STORAGE_PROVIDER": "local",
        "MODELKIT_STORAGE_BUCKET": "/srv/mk",
        "S3_ENDPOINT_URL": "http://llama:9000",
        "S3_BUCKET_NAME": "llama-files",
        "STORAGE_EMULATOR_HOST": "http://127.0.0.1:9023",
        "GOOGLE_CLOUD_PROJECT": "proj",
    }
    specs = connections_from_env(env)
    assert [s.name for s in specs] == ["modelkit", "s3", "gcs"]
    assert (specs[1].endpoint_url, specs[1].bucket) == ("http://llama:9000", "llama-files")
    assert specs[2].project == "proj"


def test_flags_apply_to_s3() -> None:
    spec = ConnectionSpec(name="s3", provider="s3", endpoint_url="http://env:1", region="r0")
    flags = Flags(endpoint_url="http://flag:2", profile="p", path_style=True)
    out = flags.apply(spec)
    assert (out.endpoint_url, out.region, out.profile, out.path_style, out.anonymous) == (
        "http://flag:2",
        "r0",  # unset flags leave the spec alone
        "p",
        True,
        False,
    )
    assert Flags().apply(spec) is spec
    assert Flags(path_style=False).apply(out).path_style is False
    assert Flags(no_sign_request=True).apply(spec).anonymous is True


def test_flags_on_gcs_and_local() -> None:
    gcs = ConnectionSpec(name="gcs", provider="gcs")
    out = Flags(endpoint_url="http://x:1", region="r", no_sign_request=True).apply(gcs)
    assert (out.endpoint_url, out.region, out.anonymous) == (None, None, True)
    local = ConnectionSpec(name="l", provider="local", root="/tmp")
    assert Flags(endpoint_url="http://x", no_sign_request=True).apply(local) is local


def test_spec_for_location_uses_env_and_flags(tmp_path) -> None:
    env = {"S3_ENDPOINT": "http://modelkit:9000", "AWS_REGION": "eu-west-3"}
    spec = spec_for_location(parse_uri("s3://runs/exp1/"), env, Flags(path_style=True))
    assert (spec.provider, spec.bucket, spec.prefix) == ("s3", "runs", "exp1/")
    assert (spec.endpoint_url, spec.region, spec.path_style) == (
        "http://modelkit:9000",
        "eu-west-3",
        True,
    )
    gcs = spec_for_location(parse_uri("gs://g/x"), {"GOOGLE_APPLICATION_CREDENTIALS": "/k.json"})
    assert (gcs.provider, gcs.bucket, gcs.prefix, gcs.credentials_file) == (
        "gcs",
        "g",
        "x",
        "/k.json",
    )
    local = spec_for_location(parse_uri(str(tmp_path)), {})
    assert (local.provider, local.root, local.single_bucket, local.bucket) == (
        "local",
        str(tmp_path),
        True,
        tmp_path.name,
    )


def test_specs_for_locations_groups_by_provider_and_folder(tmp_path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    uris = [
        "s3://one/x/",
        "gs://g/",
        "s3://two/",
        str(tmp_path / "a"),
        str(tmp_path / "b"),
        "s3://one/x/",  # repeated: not pinned twice
    ]
    specs = specs_for_locations([parse_uri(u) for u in uris], {}, Flags(no_sign_request=True))
    assert [s.provider for s in specs] == ["s3", "gcs", "local", "local"]
    s3 = specs[0]
    assert s3.locations() == [("one", "x/"), ("two", "")]
    assert s3.pinned == (("two", ""),)
    assert s3.anonymous and specs[1].anonymous
    assert [s.root for s in specs[2:]] == [str(tmp_path / "a"), str(tmp_path / "b")]


def test_secrets_never_print() -> None:
    secrets = Secrets("AKIAABCDEFGHWXYZ", "very-secret", "session-tok")
    spec = ConnectionSpec(name="s", provider="s3", secrets=secrets)
    for text in (repr(secrets), str(secrets), repr(spec)):
        assert "very-secret" not in text and "session-tok" not in text
    assert "AKIA…WXYZ" in repr(secrets)
    assert mask("AKIAABCDEFGHWXYZ") == "AKIA…WXYZ" and mask("short") == "sh…"
    assert mask(None) is None


def test_open_driver_builds_each_provider_without_network(tmp_path) -> None:
    s3 = open_driver(ConnectionSpec(name="s", provider="s3", endpoint_url="http://127.0.0.1:9"))
    assert (s3.provider, s3.endpoint) == ("s3", "http://127.0.0.1:9")
    gcs = open_driver(ConnectionSpec(name="g", provider="gcs", project="p"))
    assert gcs.provider == "gcs"
    local = open_driver(ConnectionSpec(name="l", provider="local", root=str(tmp_path)))
    assert local.provider == "local" and local.endpoint is None
    with pytest.raises(ValueError, match="unknown provider"):
        open_driver(ConnectionSpec(name="x", provider="ftp"))
    with pytest.raises(ValueError, match="needs a folder"):
        open_driver(ConnectionSpec(name="x", provider="local"))
