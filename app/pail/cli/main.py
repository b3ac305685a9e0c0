"""The ``pail`` command line: open the app, list a location, run the demo store.

Usage::

    pail [OPTIONS] [URI ...]          open the app at these locations
    pail NAME[:BUCKET/PREFIX]         open a saved connection (there)
    pail ls [OPTIONS] URI             print one level (``-r`` everything below)
    pail get [OPTIONS] URI [DEST]     download an object, or a prefix with ``-r``
    pail url [--expires S] URI        print a presigned URL for an object
    pail du [--json] URI              objects, bytes and ages under a prefix, per child
    pail rm [-r] [FILTERS] URI        delete an object, or stale objects under a prefix
    pail versions [-r] URI            an object's versions and delete markers
    pail restore [-r] URI             undo deletes on a versioned bucket
    pail lifecycle export|show|apply URI
                                      a stale filter as the store's lifecycle rules
    pail connection add|list|show|test|remove|import-env
                                      saved connections, secrets in the OS keyring
    pail doctor [--write-probes] URI  who am I, what may I do here, and why not
    pail demo [--serve]               embedded demo store (``make demo``)

Wherever a URI is accepted, ``NAME:bucket/prefix`` names a location in a saved connection
(:func:`pail.config.store.resolve_target`); drivers are opened with credentials resolved by
:func:`pail.credentials.resolve`.

The connection flags ``--endpoint-url``, ``--region``, ``--profile``, ``--path-style``,
``--no-sign-request``, ``--connect-timeout S``, ``--read-timeout S`` and ``--retries N``
(also ``PAIL_CONNECT_TIMEOUT``, ``PAIL_READ_TIMEOUT``, ``PAIL_RETRIES``; the retry policy is
in :mod:`pail.drivers.retry`) are accepted by ``pail`` itself and by every subcommand,
before or after the subcommand name; a subcommand's value wins over the group's.

Exit status (one code per kind of failure, so scripts can branch on it):

====  ==========================================================================
0     success
1     any other storage error (HTTP 5xx, throttling, malformed request, ...)
2     bad usage: unknown option, missing argument, malformed URI, unknown saved
      connection, malformed config file (``FILE:LINE: message``)
3     not found: no such bucket, key or folder (HTTP 404)
4     access denied (HTTP 403 ``AccessDenied``)
5     credentials rejected, missing or expired (``InvalidAccessKeyId``,
      ``SignatureDoesNotMatch``, ``ExpiredToken``)
6     endpoint unreachable (connection refused, DNS, TLS, timeout)
7     the OS keyring cannot store secrets (``pail connection add`` with secrets)
130   interrupted (Ctrl-C)
141   stdout closed early (``pail ls ... | head``), as if killed by SIGPIPE
====  ==========================================================================

Errors go to stderr as one summary line, the error's fields and a hint; never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import click

from pail import __version__
from pail.cli.connection import connection_group, open_resolved, target_location
from pail.cli.doctor import register as register_doctor
from pail.cli.du import register as register_du
from pail.cli.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CREDENTIALS,
    EXIT_DENIED,
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_KEYRING,
    EXIT_NOT_FOUND,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    exit_code_for,
)
from pail.cli.get import get_options, run_get, run_url
from pail.cli.lifecycle import register as register_lifecycle
from pail.cli.output import bucket_json, bucket_line, entry_json, entry_line, listing
from pail.cli.rm import register as register_rm
from pail.cli.values import expires
from pail.cli.versions import register as register_versions
from pail.config.env import (
    connections_from_env,
    s3_spec_from_env,
    spec_for_location,
    specs_for_locations,
)
from pail.config.flags import Flags
from pail.config.store import ConnectionStore, resolve_target
from pail.core.connection import ConfigError, ConnectionSpec
from pail.core.uri import SCHEMES, InvalidURI, Location, parse_uri
from pail.credentials import KeyringUnavailable
from pail.drivers.base import StorageDriver
from pail.drivers.errors import StorageError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_CREDENTIALS",
    "EXIT_DENIED",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_KEYRING",
    "EXIT_NOT_FOUND",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CliError",
    "cli",
    "connections_for",
    "exit_code_for",
    "main",
]

F = TypeVar("F", bound=Callable[..., Any])


# --- connection flags, shared by the group and every subcommand -----------------------

_FLAGS_KEY = "pail.flags"


# Flags taking a number: flag -> (setting in pail.drivers.retry.SETTING_LIMITS, offset
# between the flag's value and the setting's: --retries N means N + 1 attempts).
_NUMBER_FLAGS = {
    "connect_timeout": ("connect_timeout", 0),
    "read_timeout": ("read_timeout", 0),
    "retries": ("max_attempts", 1),
}


def _remember_flag(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # ctx.meta is shared by a context and its children, and subcommand options are
    # processed after the group's, so a value given after the subcommand name wins.
    if value is not None and param.name:
        if param.name in _NUMBER_FLAGS:
            value = _checked_number(ctx, param, value)
        ctx.meta.setdefault(_FLAGS_KEY, {})[param.name] = value


def _checked_number(ctx: click.Context, param: click.Parameter, value: Any) -> int | float:
    """A number flag's value within its limits; otherwise one line on stderr and exit 2."""
    from pail.cli.output import printable
    from pail.drivers.retry import SETTING_LIMITS, check_setting

    assert param.name is not None
    setting, offset = _NUMBER_FLAGS[param.name]
    text = str(value).strip()
    try:
        if offset:  # a count: whole numbers only
            if not text.lstrip("-").isdigit():
                raise ValueError(text)
            return int(check_setting(setting, int(text) + offset)) - offset
        return check_setting(setting, text)
    except ValueError:
        low, high = SETTING_LIMITS[setting]
        flag = "--" + param.name.replace("_", "-")
        from_env = ctx.get_parameter_source(param.name) == click.core.ParameterSource.ENVIRONMENT
        name = f"{getattr(param, 'envvar', None)} ({flag})" if from_env else flag
        what = (
            f"a whole number from {low - offset:g} to {high - offset:g}"
            if offset
            else f"a number of seconds from {low:g} to {high:g}"
        )
        shown = printable(text)[:40]
        raise CliError([f"pail: error: {name} must be {what}, got {shown!r}"], EXIT_USAGE) from None


def connection_options(func: F) -> F:
    """Add the connection flags to a command; read them back with :func:`flags_of`."""
    options = [
        click.option(
            "--endpoint-url", metavar="URL", help="S3-compatible endpoint (MinIO, Ceph, R2)."
        ),
        click.option("--region", metavar="NAME", help="S3 region, e.g. eu-west-1."),
        click.option("--profile", metavar="NAME", help="AWS named profile (~/.aws/config)."),
        click.option("--path-style", is_flag=True, default=None, help="Path-style S3 addressing."),
        click.option(
            "--no-sign-request",
            is_flag=True,
            default=None,
            help="Anonymous (unsigned) requests, for public buckets.",
        ),
        click.option(
            "--connect-timeout",
            metavar="S",
            envvar="PAIL_CONNECT_TIMEOUT",
            help="Seconds to wait for a connection (default 10; env PAIL_CONNECT_TIMEOUT).",
        ),
        click.option(
            "--read-timeout",
            metavar="S",
            envvar="PAIL_READ_TIMEOUT",
            help="Seconds to wait for the next byte of a response before giving up on it "
            "(default 30; env PAIL_READ_TIMEOUT).",
        ),
        click.option(
            "--retries",
            metavar="N",
            envvar="PAIL_RETRIES",
            help="Retries of a failed request after its first attempt: throttling, 5xx, "
            "timeouts, connection errors, never 4xx (default 4; env PAIL_RETRIES).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    for param in func.__click_params__:  # type: ignore[attr-defined]
        if param.name in Flags.__dataclass_fields__:
            param.expose_value = False
            param.callback = _remember_flag
            param.is_eager = False
    return func


def flags_of(ctx: click.Context) -> Flags:
    """The connection flags given anywhere on the command line."""
    return Flags(**ctx.meta.get(_FLAGS_KEY, {}))


# --- the group: URIs or a subcommand --------------------------------------------------


class PailGroup(click.Group):
    """A group whose first argument is either a subcommand name or a URI.

    Anything that is not a subcommand name goes to the default ``open`` command, so
    ``pail s3://bucket`` and ``pail ls s3://bucket`` both parse. Expected failures
    (storage errors, bad URIs, Ctrl-C, a closed stdout) become exit codes here.
    """

    default_command = "open"

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return self.default_command, self.commands[self.default_command], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] [URI]... | COMMAND [ARGS]...")

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StorageError, InvalidURI, ConfigError, KeyringUnavailable) as exc:
            raise CliError.from_exception(exc) from None
        except KeyboardInterrupt:
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again
    (the recipe in the Python docs, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real fd (e.g. under CliRunner)
        pass


@click.group(cls=PailGroup, invoke_without_command=True)
@click.version_option(__version__, "--version", prog_name="pail", message="%(prog)s %(version)s")
@connection_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """pail: browse artifact buckets (S3, S3-compatible, GCS, local folders).

    With URIs (s3://bucket/prefix, gs://bucket/prefix, file:///path or a path) the app
    opens at those locations. Without, it opens every store the environment configures
    (AWS_*, S3_ENDPOINT_URL, FML_S3_ENDPOINT_URI, STORAGE_PROVIDER, ...), or the current
    folder.
    """
    if ctx.invoked_subcommand is None:
        ctx.invoke(open_command)


@cli.command("open", short_help="Open the app at URIs (the default command).")
@connection_options
@click.argument("uris", nargs=-1, metavar="[URI|NAME[:BUCKET/PREFIX]]...")
@click.pass_context
def open_command(ctx: click.Context, uris: tuple[str, ...]) -> None:
    """Open the app at URIs or saved connections (the default command: `pail URI` =
    `pail open URI`; `pail lab:artifacts/runs/` opens the saved connection lab there)."""
    specs = connections_for(list(uris), flags_of(ctx))
    from pail.ui.app import PailApp  # Textual is imported only when the app runs
    from pail.ui.executor import exit_if_threads_linger

    app = PailApp(specs)
    app.run()
    exit_if_threads_linger(app.return_code or 0)  # a transfer thread hung in a request


def connections_for(
    uris: list[str],
    flags: Flags,
    environ: dict[str, str] | None = None,
    store: ConnectionStore | None = None,
) -> list[ConnectionSpec]:
    """The connections to open for ``uris``.

    A URI that names a saved connection (``lab``, ``lab:bucket/prefix``, see
    :func:`pail.config.store.resolve_target`) opens that connection there; the others are
    grouped by provider (:func:`pail.config.env.specs_for_locations`). No URIs: the saved
    connections first, then the environment's stores (an environment store whose name a
    saved one already uses is shown as ``NAME (env)``), plus an S3 connection when an S3
    flag was given; with none of those, the current folder.

    Raises:
        InvalidURI: a URI does not parse. ConfigError: the config file is malformed.
    """
    env = dict(os.environ) if environ is None else environ
    store = store or ConnectionStore(environ=environ)
    if uris:
        saved: dict[str, ConnectionSpec] = {}
        locations: list[Location] = []
        for uri in uris:
            target = resolve_target(uri, store)
            if target is None:
                locations.append(parse_uri(uri))
                continue
            spec, bucket, prefix = target
            current = saved.get(spec.name)
            if current is None:
                spec = flags.apply(spec)
                saved[spec.name] = replace(spec, bucket=bucket, prefix=prefix) if bucket else spec
            elif bucket and (bucket, prefix) not in current.locations():
                saved[spec.name] = replace(current, pinned=(*current.pinned, (bucket, prefix)))
        return [*saved.values(), *specs_for_locations(locations, env, flags)]
    specs = store.load()
    taken = {s.name for s in specs}
    for spec in connections_from_env(env):
        name = f"{spec.name} (env)" if spec.name in taken else spec.name
        specs.append(flags.apply(replace(spec, name=name)))
    s3_flagged = any(
        v is not None for v in (flags.endpoint_url, flags.region, flags.profile, flags.path_style)
    )
    if s3_flagged and not any(s.provider == "s3" and not s.saved for s in specs):
        specs.append(flags.apply(s3_spec_from_env(env)))
    if not specs:
        specs.append(spec_for_location(parse_uri(os.getcwd()), env, flags))
    return specs


# --- ls -------------------------------------------------------------------------------

_BUCKET_LIST_URIS = {f"{scheme}://": provider for scheme, provider in SCHEMES.items()}


@cli.command("ls", short_help="List one level of a bucket or folder.")
@connection_options
@click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
@click.option("-h", "--human", is_flag=True, help="Sizes as KiB/MiB/GiB.")
@click.pass_context
def ls_command(ctx: click.Context, uri: str, as_json: bool, recursive: bool, human: bool) -> None:
    """List one level of URI (s3://bucket/prefix/, gs://..., a folder, or a saved
    connection as NAME:bucket/prefix), page by page.

    Prefixes end in "/"; objects show last-modified time (UTC), size in bytes and name.
    A URI naming an object lists that object; `pail ls s3://` lists the buckets, and so
    does `pail ls NAME` for a saved connection without a default bucket.
    """
    flags = flags_of(ctx)
    provider = _BUCKET_LIST_URIS.get(uri.lower())
    if provider is not None and provider != "local":
        _print_buckets(provider, open_resolved(flags.apply(_bare_spec(provider))), as_json)
        return
    target = resolve_target(uri, ConnectionStore())
    if target is not None:
        spec, bucket, prefix = target
        spec = flags.apply(spec)
        if not bucket:
            bucket, prefix = spec.bucket or "", spec.prefix
        driver = open_resolved(spec)
        if not bucket:
            _print_buckets(spec.provider, driver, as_json)
            return
        location = target_location(spec, bucket, prefix)
    else:
        location = parse_uri(uri)
        driver = open_resolved(spec_for_location(location, flags=flags))
    # One write per page: rows appear as each page arrives, never after the whole level.
    for batch in listing(driver, location, delimiter="" if recursive else "/"):
        if as_json:
            text = "".join(json.dumps(entry_json(location, e)) + "\n" for e in batch)
        else:
            text = "".join(entry_line(e, human, full_key=recursive) + "\n" for e in batch)
        click.echo(text, nl=False)
        sys.stdout.flush()


def _print_buckets(provider: str, driver: StorageDriver, as_json: bool) -> None:
    for bucket in driver.list_buckets():
        click.echo(json.dumps(bucket_json(provider, bucket)) if as_json else bucket_line(bucket))


def _bare_spec(provider: str) -> ConnectionSpec:
    """A connection configured from the environment, with no bucket (for ListBuckets)."""
    return replace(spec_for_location(Location(provider, "-")), bucket=None, prefix="")


# --- get / url (pail.cli.get) ---------------------------------------------------------


@cli.command("get", short_help="Download an object, or a prefix with -r.")
@connection_options
@get_options
@click.pass_context
def get_command(ctx: click.Context, **options: Any) -> None:
    """Download URI (an object; with -r everything under the prefix, keeping key paths)
    into DEST (default: the current folder). Files are verified and renamed into place;
    an interrupted download resumes when run again. Exit status 1 if anything failed."""
    run_get(flags_of(ctx), **options)


@cli.command("url", short_help="Print a presigned URL for an object.")
@connection_options
@click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]")
@click.option(
    "--expires",
    type=expires(),  # one-line error out of 1..604800 (pail.cli.values)
    default=3600,
    show_default=True,
    help="Lifetime in seconds (at most 7 days).",
)
@click.pass_context
def url_command(ctx: click.Context, uri: str, expires: int) -> None:
    """Print a URL that reads URI without credentials until it expires (S3 presigned
    GetObject; GCS V4 signed URL, which needs a service-account key)."""
    run_url(flags_of(ctx), uri, expires)


# --- demo -----------------------------------------------------------------------------


@cli.command("demo", short_help="Run the embedded demo store and open it.")
@connection_options
@click.option("--serve", is_flag=True, help="Only run the store; print how to reach it.")
@click.option(
    "--small",
    is_flag=True,
    envvar="PAIL_DEMO_SMALL",
    hidden=True,
    help="Small sizes (tests): 1,500-key prefix, 1 MiB large object.",
)
def demo_command(serve: bool, small: bool) -> None:
    """Start the embedded demo store (S3 on 127.0.0.1, seeded ML artifacts) and open it."""
    from pail.demo.server import start_demo

    sizes = {"large_prefix_keys": 1_500, "large_object_bytes": 1 << 20} if small else {}
    click.echo("Starting the demo store on 127.0.0.1 …", err=True)
    try:
        store = start_demo(**sizes)
    except ImportError as exc:  # moto is an extra: pip install 'pail[demo]'
        hint = "pail demo needs moto: pip install 'pail[demo]' (make demo does this)"
        raise CliError([f"pail: error: {exc}", f"  Hint: {hint}"], EXIT_ERROR) from None
    except OSError as exc:  # no loopback port, or the demo folder is not writable
        raise CliError([f"pail: error: the demo store did not start: {exc}"], EXIT_ERROR) from None
    try:
        if serve:
            click.echo(store.describe())
            sys.stdout.flush()
            _wait_forever()
        else:
            from pail.ui.app import PailApp

            PailApp(store.connections).run()
    finally:
        store.stop()
    from pail.ui.executor import exit_if_threads_linger  # only reached after the app

    exit_if_threads_linger(0)  # a transfer thread hung in a request


def _wait_forever() -> None:
    import threading

    threading.Event().wait()


cli.add_command(connection_group)
register_doctor(cli, connection_options, flags_of)  # doctor (pail.cli.doctor)
register_du(cli, connection_options, flags_of)  # du (pail.cli.du)
register_rm(cli, connection_options, flags_of)  # rm (pail.cli.rm)
register_versions(cli, connection_options, flags_of)  # versions, restore (pail.cli.versions)
register_lifecycle(cli, connection_options, flags_of)  # lifecycle export|show|apply


# --- entry point ----------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> None:
    """Console-script entry point (``pail``); exits with the codes in the module doc."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="pail")
    except KeyboardInterrupt:  # outside a command (e.g. while importing)
        sys.exit(EXIT_INTERRUPTED)
