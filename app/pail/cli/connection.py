"""``pail connection add|list|show|test|remove|import-env``: saved connections.

Settings go to the config file (:class:`pail.config.store.ConnectionStore`), secrets to the OS
keyring (:mod:`pail.credentials`); the file records which (``secrets = "keyring"|"none"``),
and a connection whose secrets are in a keyring that cannot be read does not open
(:class:`pail.credentials.SecretsUnavailable`, exit 7, or 5 when its entry is missing).
Secrets are read from hidden prompts or, with ``--secret-stdin``, one per line from stdin;
never from the command line (argv is visible to every user of the machine in ``ps``), and
never printed: ``show`` and ``test`` print the credential source and a masked identity only.
Saving, removing and testing follow :mod:`pail.services.connections`, the policy the app's
connections screen follows too; this module only asks and prints.
"""

from __future__ import annotations

import os
from typing import Any

import click

from pail.cli.secrets import (
    ask_secrets,
    check_name,
    pairs,
    refuse_without_keyring,
    save_and_describe,
    usage_error,
)
from pail.config.file import CLIENT_OPTIONS, WRITE_ARGS
from pail.config.store import ConnectionStore
from pail.core.connection import PROVIDERS, ConnectionSpec
from pail.core.endpoint import check_endpoint
from pail.core.text import printable
from pail.core.units import plural
from pail.credentials import Resolved, SecretsUnavailable, keyring_status, resolve
from pail.services.connections import (
    BadKeyFile,
    NothingInEnvironment,
    connection_from_environment,
    remove_connection,
    test_connection,
)


def _get(store: ConnectionStore, name: str) -> ConnectionSpec:
    try:
        return store.get(name)
    except KeyError:
        raise usage_error(
            f"no saved connection {printable(name)!r} in {store.path} (see `pail connection list`)"
        ) from None


@click.group(
    "connection", short_help="Saved connections: add, list, show, test, remove, import-env."
)
def connection_group() -> None:
    """Saved connections: settings in the config file, secrets in the OS keyring.

    Open one with `pail NAME` or `pail NAME:bucket/prefix`; every command taking a URI
    takes NAME:bucket/prefix too (`pail ls lab:artifacts/runs/`).
    """


@connection_group.command("add")
@click.argument("name")
@click.option("--provider", type=click.Choice(PROVIDERS), required=True)
@click.option("--endpoint-url", metavar="URL", help="S3-compatible endpoint (MinIO, Ceph, R2).")
@click.option("--region", metavar="NAME", help="S3 region.")
@click.option("--profile", metavar="NAME", help="AWS named profile (~/.aws/config).")
@click.option("--path-style", is_flag=True, help="Path-style S3 addressing.")
@click.option(
    "--no-sign-request",
    "anonymous",
    is_flag=True,
    help="Anonymous (unsigned) requests, for public buckets; no secrets.",
)
@click.option("--anonymous", "anonymous_alias", is_flag=True, hidden=True)  # older spelling
@click.option("--bucket", metavar="BUCKET", help="Bucket to open first.")
@click.option("--prefix", metavar="PREFIX", default="", help="Prefix inside --bucket.")
@click.option("--root", metavar="FOLDER", help="Local provider: the folder of buckets.")
@click.option("--single-bucket", is_flag=True, help="Local provider: --root is one bucket.")
@click.option("--credentials-file", metavar="PATH", help="GCS service-account file (by path).")
@click.option("--project", metavar="ID", help="GCS project id.")
@click.option("--client", multiple=True, metavar="KEY=VALUE", help="Client option (repeatable).")
@click.option("--write", multiple=True, metavar="KEY=VALUE", help="Write argument (repeatable).")
@click.option("--secret-stdin", is_flag=True, help="Read secrets from stdin, one per line.")
@click.option("--no-secrets", is_flag=True, help="Do not ask for secrets.")
@click.option("--replace", "replace_ok", is_flag=True, help="Overwrite an existing connection.")
def add_command(name: str, **opts: Any) -> None:
    """Save connection NAME; prompt for its secrets (hidden) and keep them in the keyring.

    S3 asks for the access key id, secret access key and session token; GCS for a
    service-account key file whose content goes into the keyring. Empty answers mean
    none (credentials then come from the profile, the environment or the SDK's chain).
    With --secret-stdin the same values are read one per line from stdin.
    """
    check_name(name)
    opts["anonymous"] = opts["anonymous"] or opts.pop("anonymous_alias")
    provider = opts["provider"]
    if provider == "local" and not opts["root"]:
        raise usage_error("a local connection needs --root FOLDER")
    spec = ConnectionSpec(
        name=name,
        provider=provider,
        endpoint_url=opts["endpoint_url"],
        region=opts["region"],
        profile=opts["profile"],
        path_style=opts["path_style"],
        anonymous=opts["anonymous"],
        bucket=opts["bucket"],
        prefix=_as_prefix(opts["prefix"]),
        root=os.path.abspath(os.path.expanduser(opts["root"])) if opts["root"] else None,
        single_bucket=opts["single_bucket"],
        credentials_file=opts["credentials_file"],
        project=opts["project"],
        client_options=pairs(opts["client"], CLIENT_OPTIONS, "--client"),
        write_args=pairs(opts["write"], WRITE_ARGS, "--write"),
        saved=True,
    )  # fmt: skip
    if provider == "s3":  # before asking for any secret
        check_endpoint(spec.endpoint_url, "--endpoint-url")
    store = ConnectionStore()
    if name in store.names() and not opts["replace_ok"]:  # before asking for any secret
        raise usage_error(f"connection {name!r} already exists; add --replace to overwrite it")
    secrets = None
    if not (opts["no_secrets"] or opts["anonymous"] or provider == "local"):
        status = keyring_status()
        if not status.usable:  # say so before the user types a secret
            raise refuse_without_keyring(name, status.message)
        secrets = ask_secrets(provider, opts["secret_stdin"])
    line, saved = save_and_describe(store, spec, secrets, opts["replace_ok"])
    click.echo(line)
    click.echo(f"credentials: {_source_line(*_source_of(saved))}")


def _as_prefix(prefix: str) -> str:
    return prefix + "/" if prefix and not prefix.endswith("/") else prefix


def _source_line(source: str, identity: str | None) -> str:
    return source + (f" ({printable(identity)})" if identity else "")


_UNREADABLE = {"locked": "keyring locked", "missing": "keyring entry missing"}


def _source_of(spec: ConnectionSpec) -> tuple[str, str | None]:
    """``(source, identity)`` for listing: a keyring that cannot be read shows as
    ``unavailable (keyring locked)`` instead of failing the whole listing."""
    try:
        resolved = resolve(spec)
    except SecretsUnavailable as exc:
        return f"unavailable ({_UNREADABLE.get(exc.reason, 'keyring unusable')})", None
    return resolved.source, resolved.identity


def _secrets_record(spec: ConnectionSpec) -> str:
    """Where the connection's secrets live, as its file records it."""
    if spec.provider == "local":
        return "none (a local folder)"
    if spec.secrets_in == "keyring":
        return "OS keyring (nothing else is used)"
    if spec.secrets_in == "none":
        return "none (profile, environment or default chain)"
    return "not recorded (saved by an older pail): keyring if it has an entry"


def _endpoint_of(spec: ConnectionSpec) -> str:
    if spec.provider == "local":
        return spec.root or ""
    return spec.endpoint_url or ("AWS" if spec.provider == "s3" else "Google Cloud Storage")


@connection_group.command("list")
def list_command() -> None:
    """List saved connections: name, provider, endpoint and credential source."""
    store = ConnectionStore()
    specs = store.load()
    if not specs:
        click.echo(
            f"No saved connections in {store.path}. Add one: pail connection add NAME "
            "--provider s3 --endpoint-url URL",
            err=True,
        )
        return
    rows = [("NAME", "PROVIDER", "ENDPOINT", "CREDENTIALS")]
    for spec in specs:
        rows.append(
            (
                spec.name,
                spec.provider,
                printable(_endpoint_of(spec)),
                _source_line(*_source_of(spec)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def describe(spec: ConnectionSpec, path: str) -> list[tuple[str, str]]:
    """``(label, value)`` rows for ``show``: settings, where the secrets live, credential
    source, masked identity and the keyring's state; never a secret. A keyring that cannot
    be read shows as the source ``unavailable`` with the reason, not as an error."""
    problem: SecretsUnavailable | None = None
    try:
        resolved = resolve(spec)
    except SecretsUnavailable as exc:
        problem, resolved = exc, Resolved(spec, "unavailable")
    rows = [("Name", spec.name), ("Provider", spec.provider), ("Endpoint", _endpoint_of(spec))]
    for label, value in (
        ("Region", spec.region),
        ("Profile", spec.profile),
        ("Path style", "yes" if spec.path_style else None),
        ("Anonymous", "yes" if spec.anonymous else None),
        ("Bucket", spec.bucket),
        ("Prefix", spec.prefix),
        ("Single bucket", "yes" if spec.single_bucket else None),
        ("Credentials file", spec.credentials_file),
        ("Project", spec.project),
    ):
        if value:
            rows.append((label, value))
    for key, option in spec.client_options.items():
        rows.append((f"Client {key}", str(option)))
    for key, value in spec.write_args.items():
        rows.append((f"Write {key}", str(value)))
    rows.append(("Secrets", _secrets_record(spec)))
    rows.append(("Credentials", resolved.source))
    if problem is not None:
        rows.append(("Problem", problem.message))
    if resolved.identity:
        rows.append(("Identity", resolved.identity))
    status = keyring_status()
    rows.append(("Keyring", status.backend if status.usable else f"unusable: {status.message}"))
    rows.append(("Config file", path))
    return rows


@connection_group.command("show")
@click.argument("name")
def show_command(name: str) -> None:
    """Show a saved connection: settings, credential source, masked identity."""
    store = ConnectionStore()
    for label, value in describe(_get(store, name), store.path):
        click.echo(f"{label + ':':22} {printable(value)}")


@connection_group.command("test")
@click.argument("name")
def test_command(name: str) -> None:
    """Try a saved connection: list its default bucket/prefix (first page), or its buckets.

    Prints OK with what was found, or the error's fields and a hint; the exit status is
    the one `pail ls` would give (5 for rejected credentials, 4 for access denied ...)."""
    spec = _get(ConnectionStore(), name)
    result = test_connection(spec)
    if result.error is not None:  # exits with the status `pail ls` would give
        raise result.error
    who = _source_line(result.source, result.identity)
    if result.location is not None:
        more = " (more pages follow)" if result.more else ""
        click.echo(
            f"OK {name}: {printable(result.location.uri)}: {plural(result.objects, 'object')}, "
            f"{plural(result.prefixes, 'prefix')} on the first page{more}; credentials: {who}"
        )
    else:
        click.echo(f"OK {name}: {plural(len(result.buckets), 'bucket')}; credentials: {who}")


@connection_group.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove a saved connection: its config entry and its keyring entry."""
    store = ConnectionStore()
    removed = remove_connection(store, name)
    if not removed.found:
        raise usage_error(f"no saved connection {printable(name)!r} in {store.path}")
    done = [f"removed connection {name!r} from {store.path}"] if removed.from_file else []
    if removed.secrets_deleted:
        done.append("deleted its secrets from the OS keyring")
    click.echo("; ".join(done))
    if removed.keyring_problem:
        click.echo(
            f"pail: warning: could not check the keyring for its secrets: "
            f"{removed.keyring_problem}",
            err=True,
        )


@connection_group.command("import-env")
@click.argument("name")
@click.option("--no-secrets", is_flag=True, help="Leave secrets in the environment.")
@click.option("--replace", "replace_ok", is_flag=True, help="Overwrite an existing connection.")
def import_env_command(name: str, no_secrets: bool, replace_ok: bool) -> None:
    """Save the store the environment describes as connection NAME, moving its secrets
    into the keyring: AWS_* and GOOGLE_APPLICATION_CREDENTIALS, MLflow
    (MLFLOW_S3_ENDPOINT_URL), FastTrackML (FML_S3_ENDPOINT_URI, FML_S3_USE_PATH_STYLE),
    modelkit (MODELKIT_STORAGE_PROVIDER, MODELKIT_STORAGE_BUCKET, MODELKIT_STORAGE_PREFIX,
    S3_ENDPOINT), Llama Stack (S3_BUCKET_NAME, AWS_REGION, S3_ENDPOINT_URL)."""
    check_name(name)
    try:  # pail.services.connections: the same saving policy as `add` and the app's form
        found = connection_from_environment(name, dict(os.environ))
    except (NothingInEnvironment, BadKeyFile) as exc:
        raise usage_error(printable(str(exc))) from None
    secrets, moved = found.secrets, found.moved
    if no_secrets:
        secrets, moved = None, ()
    click.echo(save_and_describe(ConnectionStore(), found.spec, secrets, replace_ok)[0])
    click.echo(f"settings from: {', '.join(found.used) if found.used else 'defaults'}")
    if moved:
        click.echo(
            f"moved into the keyring: {', '.join(moved)}; you can unset them now "
            f"(`pail {name}` no longer needs them)"
        )
