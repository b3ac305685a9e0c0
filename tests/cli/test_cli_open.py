"""What `pail [URI ...]` opens: the connections built from URIs, flags and environment,
and how the group tells URIs from subcommand names. (The app itself runs in test_tmux.)"""

from __future__ import annotations

import click

from pail.cli.main import cli, connections_for
from pail.config.flags import Flags


def test_uris_group_into_connections_with_flags_applied():
    specs = connections_for(
        ["s3://a/runs/", "s3://b/", "gs://c/x/"],
        Flags(endpoint_url="http://127.0.0.1:9000", path_style=True),
        environ={},
    )
    s3, gcs = specs
    assert (s3.provider, s3.bucket, s3.prefix) == ("s3", "a", "runs/")
    assert s3.pinned == (("b", ""),)
    assert s3.endpoint_url == "http://127.0.0.1:9000" and s3.path_style is True
    assert (gcs.provider, gcs.bucket, gcs.prefix) == ("gcs", "c", "x/")


def test_no_uri_opens_the_environments_stores():
    env = {"S3_ENDPOINT_URL": "http://127.0.0.1:9000", "STORAGE_EMULATOR_HOST": "http://x:1"}
    specs = connections_for([], Flags(), environ=env)
    assert [(s.provider, s.endpoint_url) for s in specs] == [
        ("s3", "http://127.0.0.1:9000"),
        ("gcs", None),
    ]


def test_no_uri_with_an_s3_flag_opens_that_endpoint():
    (spec,) = connections_for([], Flags(endpoint_url="http://127.0.0.1:9000"), environ={})
    assert spec.provider == "s3" and spec.endpoint_url == "http://127.0.0.1:9000"


def test_no_uri_and_no_environment_opens_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (spec,) = connections_for([], Flags(), environ={})
    assert spec.provider == "local" and spec.root == str(tmp_path) and spec.single_bucket


def test_modelkit_local_store_from_the_environment(tmp_path):
    env = {
        "STORAGE_PROVIDER": "local",
        "MODELKIT_STORAGE_BUCKET": str(tmp_path),
        "MODELKIT_STORAGE_PREFIX": "assets",
    }
    (spec,) = connections_for([], Flags(), environ=env)
    assert (spec.name, spec.provider, spec.root, spec.prefix) == (
        "modelkit",
        "local",
        str(tmp_path),
        "assets/",
    )


def _resolve(args: list[str]) -> str | None:
    ctx = click.Context(cli)
    name, _, _ = cli.resolve_command(ctx, args)
    return name


def test_first_argument_is_a_subcommand_or_a_uri():
    assert _resolve(["ls", "s3://b/"]) == "ls"
    assert _resolve(["demo"]) == "demo"
    assert _resolve(["s3://b/"]) == "open"
    assert _resolve(["./runs"]) == "open"
    assert _resolve(["open", "s3://b/"]) == "open"
