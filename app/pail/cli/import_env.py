"""``pail connection import-env NAME``: save the store the environment already describes
(AWS_*, GOOGLE_APPLICATION_CREDENTIALS, FastTrackML, modelkit, Llama Stack variables) as a
connection, moving the secrets it finds into the OS keyring."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

import click

from pail.cli.secrets import check_name, read_service_account, save_connection, usage_error
from pail.config.env import connections_from_env
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets

# Variables import-env reads, for saying which ones it used.
_ENV_SETTINGS = [
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
    "S3_ENDPOINT_URL",
    "S3_ENDPOINT",
    "FML_S3_ENDPOINT_URI",
    "FML_S3_USE_PATH_STYLE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "S3_BUCKET_NAME",
    "STORAGE_PROVIDER",
    "MODELKIT_STORAGE_BUCKET",
    "MODELKIT_STORAGE_PREFIX",
    "GOOGLE_CLOUD_PROJECT",
]
_AWS_SECRETS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def spec_from_environment(
    name: str, env: Mapping[str, str]
) -> tuple[ConnectionSpec, Secrets | None, list[str], list[str]]:
    """A connection called ``name`` built from the environment (the first store
    :func:`pail.config.env.connections_from_env` finds: modelkit, then S3, then GCS), the
    secrets found there, the setting variables used and the secret variables moved.

    Raises CliError when the environment describes no store."""
    found = connections_from_env(env)
    if not found:
        raise usage_error(
            "the environment describes no store (looked for AWS_*, S3_ENDPOINT_URL, "
            "FML_S3_ENDPOINT_URI, STORAGE_PROVIDER, GOOGLE_APPLICATION_CREDENTIALS ...)"
        )
    spec = replace(found[0], name=name, saved=True)
    used = [v for v in _ENV_SETTINGS if env.get(v)]
    moved: list[str] = []
    secrets = None
    if spec.provider == "s3":
        key, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        if key and secret:
            secrets = Secrets(key, secret, env.get("AWS_SESSION_TOKEN") or None)
            moved = [v for v in _AWS_SECRETS if env.get(v)]
    elif spec.provider == "gcs":
        path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path:
            secrets = Secrets(service_account_info=read_service_account(path))
            spec = replace(spec, credentials_file=None)
            moved = ["GOOGLE_APPLICATION_CREDENTIALS (the key file's content)"]
    return spec, secrets, used, moved


@click.command("import-env")
@click.argument("name")
@click.option("--no-secrets", is_flag=True, help="Leave secrets in the environment.")
@click.option("--replace", "replace_ok", is_flag=True, help="Overwrite an existing connection.")
def import_env_command(name: str, no_secrets: bool, replace_ok: bool) -> None:
    """Save the store the environment describes as connection NAME, moving its secrets
    into the keyring: AWS_* and GOOGLE_APPLICATION_CREDENTIALS, FastTrackML
    (FML_S3_ENDPOINT_URI, FML_S3_USE_PATH_STYLE), modelkit (STORAGE_PROVIDER,
    MODELKIT_STORAGE_BUCKET, MODELKIT_STORAGE_PREFIX, S3_ENDPOINT), Llama Stack
    (S3_BUCKET_NAME, AWS_REGION, S3_ENDPOINT_URL)."""
    check_name(name)
    spec, secrets, used, moved = spec_from_environment(name, dict(os.environ))
    if no_secrets:
        secrets, moved = None, []
    click.echo(save_connection(ConnectionStore(), spec, secrets, replace_ok)[0])
    click.echo(f"settings from: {', '.join(used) if used else 'defaults'}")
    if moved:
        click.echo(
            f"moved into the keyring: {', '.join(moved)}; you can unset them now "
            f"(`pail {name}` no longer needs them)"
        )
