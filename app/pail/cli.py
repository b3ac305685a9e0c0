"""The ``pail`` command line: open the app, list a location, run the demo store.

Usage::

    pail [OPTIONS] [URI ...]          open the app at these locations
    pail ls [OPTIONS] URI             print one level (``-r`` everything below)
    pail demo [--serve]               embedded demo store (``make demo``)

The connection flags ``--endpoint-url``, ``--region``, ``--profile``, ``--path-style`` and
``--no-sign-request`` are accepted by ``pail`` itself and by every subcommand, before or
after the subcommand name; a subcommand's value wins over the group's.

Exit status (one code per kind of failure, so scripts can branch on it):

====  ==========================================================================
0     success
1     any other storage error (HTTP 5xx, throttling, malformed request, ...)
2     bad usage: unknown option, missing argument, malformed URI
3     not found: no such bucket, key or folder (HTTP 404)
4     access denied (HTTP 403 ``AccessDenied``)
5     credentials rejected, missing or expired (``InvalidAccessKeyId``,
      ``SignatureDoesNotMatch``, ``ExpiredToken``)
6     endpoint unreachable (connection refused, DNS, TLS, timeout)
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
from pail.cli_listing import (
    bucket_json,
    bucket_line,
    entry_json,
    entry_line,
    listing,
    printable,
)
from pail.config import (
    ConnectionSpec,
    Flags,
    connections_from_env,
    s3_spec_from_env,
    spec_for_location,
    specs_for_locations,
)
from pail.drivers.base import StorageDriver
from pail.drivers.errors import (
    AccessDenied,
    EndpointUnreachable,
    InvalidCredentials,
    NotFound,
    StorageError,
)
from pail.uri import SCHEMES, InvalidURI, Location, parse_uri

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DENIED = 4
EXIT_CREDENTIALS = 5
EXIT_UNREACHABLE = 6
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

F = TypeVar("F", bound=Callable[..., Any])


def exit_code_for(exc: BaseException) -> int:
    """The exit status for an exception (see the table in the module doc)."""
    if isinstance(exc, InvalidURI):
        return EXIT_USAGE
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, AccessDenied):
        return EXIT_DENIED
    if isinstance(exc, InvalidCredentials):
        return EXIT_CREDENTIALS
    if isinstance(exc, EndpointUnreachable):
        return EXIT_UNREACHABLE
    return EXIT_ERROR


class CliError(click.ClickException):
    """An expected failure: printed to stderr as plain lines, exits with ``exit_code``."""

    def __init__(self, lines: list[str], exit_code: int) -> None:
        super().__init__(lines[0] if lines else "error")
        self.lines = lines
        self.exit_code = exit_code

    @classmethod
    def from_exception(cls, exc: Exception) -> CliError:
        """One summary line, then (for storage errors) every field and the hint."""
        lines = [f"pail: error: {printable(str(exc))}"]
        if isinstance(exc, StorageError):
            lines += [f"  {f.label}: {printable(f.value)}" for f in exc.fields()]
            if exc.hint:
                lines.append(f"  Hint: {exc.hint}")
        return cls(lines, exit_code_for(exc))

    def show(self, file: Any = None) -> None:
        click.echo("\n".join(self.lines), file=file, err=True)


# --- connection flags, shared by the group and every subcommand -----------------------

_FLAGS_KEY = "pail.flags"


def _remember_flag(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    # ctx.meta is shared by a context and its children, and subcommand options are
    # processed after the group's, so a value given after the subcommand name wins.
    if value is not None and param.name:
        ctx.meta.setdefault(_FLAGS_KEY, {})[param.name] = value


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
        except (StorageError, InvalidURI) as exc:
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
@click.argument("uris", nargs=-1, metavar="[URI]...")
@click.pass_context
def open_command(ctx: click.Context, uris: tuple[str, ...]) -> None:
    """Open the app at URIs (the default command: `pail URI` = `pail open URI`)."""
    specs = connections_for(list(uris), flags_of(ctx))
    from pail.ui.app import PailApp  # Textual is imported only when the app runs

    PailApp(specs).run()


def connections_for(
    uris: list[str], flags: Flags, environ: dict[str, str] | None = None
) -> list[ConnectionSpec]:
    """The connections to open for ``uris``.

    No URIs: the environment's stores (:func:`pail.config.connections_from_env`), plus an
    S3 connection when an S3 flag was given, else the current folder.

    Raises:
        InvalidURI: a URI does not parse.
    """
    env = dict(os.environ) if environ is None else environ
    if uris:
        return specs_for_locations([parse_uri(u) for u in uris], env, flags)
    specs = [flags.apply(s) for s in connections_from_env(env)]
    s3_flagged = any(
        v is not None for v in (flags.endpoint_url, flags.region, flags.profile, flags.path_style)
    )
    if s3_flagged and not any(s.provider == "s3" for s in specs):
        specs.append(flags.apply(s3_spec_from_env(env)))
    if not specs:
        specs.append(spec_for_location(parse_uri(os.getcwd()), env, flags))
    return specs


# --- ls -------------------------------------------------------------------------------

_BUCKET_LIST_URIS = {f"{scheme}://": provider for scheme, provider in SCHEMES.items()}


@cli.command("ls", short_help="List one level of a bucket or folder.")
@connection_options
@click.argument("uri")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
@click.option("-h", "--human", is_flag=True, help="Sizes as KiB/MiB/GiB.")
@click.pass_context
def ls_command(ctx: click.Context, uri: str, as_json: bool, recursive: bool, human: bool) -> None:
    """List one level of URI (s3://bucket/prefix/, gs://..., a folder), page by page.

    Prefixes end in "/"; objects show last-modified time (UTC), size in bytes and name.
    A URI naming an object lists that object; `pail ls s3://` lists the buckets.
    """
    flags = flags_of(ctx)
    provider = _BUCKET_LIST_URIS.get(uri.lower())
    if provider is not None and provider != "local":
        buckets = _open(flags.apply(_bare_spec(provider))).list_buckets()
        for bucket in buckets:
            click.echo(
                json.dumps(bucket_json(provider, bucket)) if as_json else bucket_line(bucket)
            )
        return
    location = parse_uri(uri)
    driver = _open(spec_for_location(location, flags=flags))
    # One write per page: rows appear as each page arrives, never after the whole level.
    for batch in listing(driver, location, delimiter="" if recursive else "/"):
        if as_json:
            text = "".join(json.dumps(entry_json(location, e)) + "\n" for e in batch)
        else:
            text = "".join(entry_line(e, human, full_key=recursive) + "\n" for e in batch)
        click.echo(text, nl=False)
        sys.stdout.flush()


def _open(spec: ConnectionSpec) -> StorageDriver:
    from pail.drivers.registry import open_driver

    return open_driver(spec)


def _bare_spec(provider: str) -> ConnectionSpec:
    """A connection configured from the environment, with no bucket (for ListBuckets)."""
    return replace(spec_for_location(Location(provider, "-")), bucket=None, prefix="")


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
    from pail.demo import start_demo

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


def _wait_forever() -> None:
    import threading

    threading.Event().wait()


# --- entry point ----------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> None:
    """Console-script entry point (``pail``); exits with the codes in the module doc."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="pail")
    except KeyboardInterrupt:  # outside a command (e.g. while importing)
        sys.exit(EXIT_INTERRUPTED)
