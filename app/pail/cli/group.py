"""The ``pail`` click group: the connection flags every command takes, the group that reads
a URI or a subcommand, and the ``open``, ``ls`` and ``demo`` commands (the usage, the exit
codes and the entry point are in :mod:`pail.cli.main`).

Importing this module imports click and nothing else of pail's: ``pail --help`` and
``pail CMD --help`` import only it and the one command named. Every other command is in
:data:`LAZY_COMMANDS` with its one-line help, so the help lists commands without importing
them; ``ls`` is registered there too (by :func:`register_ls`), because its ``-h`` flag
comes from :mod:`pail.cli.common`, whose error types import the credentials and drivers.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from gettext import gettext
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from pail import __version__

if TYPE_CHECKING:
    from pail.config.flags import Flags
    from pail.config.store import ConnectionStore
    from pail.demo.server import DemoStore
    from pail.drivers.base import StorageDriver
    from pail.services.locations import UnknownConnection

F = TypeVar("F", bound=Callable[..., Any])


# --- connection flags, shared by the group and every subcommand -----------------------

_FLAGS_KEY = "pail.flags"
_VERBOSE_KEY = "pail.verbose"


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
        if param.name == "list_version":
            value = int(value)
        if param.name == "verbose":
            ctx.meta[_VERBOSE_KEY] = bool(value)
            return
        ctx.meta.setdefault(_FLAGS_KEY, {})[param.name] = value


def _checked_number(ctx: click.Context, param: click.Parameter, value: Any) -> int | float:
    """A number flag's value within its limits; otherwise one line on stderr and exit 2."""
    from pail.cli.errors import EXIT_USAGE, CliError
    from pail.core.text import printable
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
        click.option(
            "--list-version",
            type=click.Choice(["1", "2"]),
            help="S3 listing API: 1 = ListObjects (Marker), 2 = ListObjectsV2 (the "
            "default); 1 for servers whose V2 paging is broken (setting list_version).",
        ),
        click.option(
            "-v",
            "--verbose",
            "verbose",
            is_flag=True,
            default=None,
            help="Also print what the store was found to support (its flavour, list "
            "version, batch delete...) and where each came from, on stderr.",
        ),
    ]
    # click's option decorators store their params on the function; no type declares it.
    # The params added here are the connection flags (pail.config.flags.Flags' fields and
    # -v): told apart from the command's own by identity, so that defining a command does
    # not import Flags and what it imports.
    before = {id(param) for param in getattr(func, "__click_params__", [])}
    for option in reversed(options):
        func = option(func)
    for param in func.__click_params__:  # type: ignore[attr-defined]
        if id(param) not in before:
            param.expose_value = False
            param.callback = _remember_flag
            param.is_eager = False
    return func


def flags_of(ctx: click.Context) -> Flags:
    """The connection flags given anywhere on the command line."""
    from pail.config.flags import Flags

    return Flags(**ctx.meta.get(_FLAGS_KEY, {}))


# --- the group: URIs or a subcommand --------------------------------------------------


class LazyCommand(NamedTuple):
    """Where a lazily imported subcommand is defined, and its one-line help.

    ``attribute`` is a click command to add or a ``register(group, connection_options,
    flags_of)`` function that adds it. ``short_help`` is what ``pail --help`` lists for the
    command while it is not imported: the same text as the command's own ``short_help``
    (a test compares them).
    """

    module: str
    attribute: str
    short_help: str


#: Subcommands imported only when the command line names one, so ``pail --version``,
#: ``pail --help`` and ``pail ls`` do not load the download engine, the delete planner or
#: the access checks: command name -> :class:`LazyCommand`. ``open`` and ``demo`` are
#: defined below; ``ls`` is too, registered by :func:`register_ls`.
LAZY_COMMANDS: dict[str, LazyCommand] = {
    "check": LazyCommand(
        "pail.cli.check", "register", "Compare a folder with a prefix, or two prefixes."
    ),
    "connection": LazyCommand(
        "pail.cli.connection",
        "connection_group",
        "Saved connections: add, list, show, test, remove, import-env.",
    ),
    "cp": LazyCommand(
        "pail.cli.transfer", "register", "Copy objects within or across stores, verified."
    ),
    "diff": LazyCommand("pail.cli.diff", "register", "What differs between two runs."),
    "doctor": LazyCommand(
        "pail.cli.doctor", "register", "What this identity may do on a bucket/prefix, and why."
    ),
    "du": LazyCommand(
        "pail.cli.du", "register", "Objects, bytes and ages under a prefix, per child."
    ),
    "get": LazyCommand("pail.cli.get", "register", "Download an object, or a prefix with -r."),
    "inventory": LazyCommand(
        "pail.cli.inventory", "register", "Browse, size, search, clean a bucket from its report."
    ),
    "lifecycle": LazyCommand(
        "pail.cli.lifecycle", "register", "Export/apply a stale filter as lifecycle rules."
    ),
    "ls": LazyCommand("pail.cli.group", "register_ls", "List one level of a bucket or folder."),
    "mv": LazyCommand(
        "pail.cli.transfer", "register", "Move or rename: copy, verify, then delete the source."
    ),
    "put": LazyCommand(
        "pail.cli.transfer", "register", "Upload files (folders with -r), verified."
    ),
    "restore": LazyCommand("pail.cli.versions", "register", "Undo deletes on a versioned bucket."),
    "rm": LazyCommand(
        "pail.cli.rm", "register", "Delete an object, or stale objects under a prefix (-r)."
    ),
    "runs": LazyCommand(
        "pail.cli.runs", "register", "The runs under a location: params, metrics, sizes."
    ),
    "url": LazyCommand("pail.cli.get", "register", "Print a presigned URL for an object."),
    "versions": LazyCommand(
        "pail.cli.versions", "register", "List an object's versions and delete markers."
    ),
}


class PailGroup(click.Group):
    """A group whose first argument is either a subcommand name or a URI.

    Anything that is not a subcommand name goes to the default ``open`` command, so
    ``pail s3://bucket`` and ``pail ls s3://bucket`` both parse. Expected failures
    (storage errors, bad URIs, Ctrl-C, a closed stdout) become exit codes here.
    Subcommands in :data:`LAZY_COMMANDS` are imported when first looked up (the lazy
    group of click's documentation, "Lazily Loading Subcommands").
    """

    default_command = "open"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY_COMMANDS:
            lazy = LAZY_COMMANDS[cmd_name]
            found = getattr(importlib.import_module(lazy.module), lazy.attribute)
            if isinstance(found, click.Command):
                self.add_command(found)
            else:
                found(self, connection_options, flags_of)
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in self.list_commands(ctx) and not args[0].startswith("-"):
            return self.default_command, self.commands[self.default_command], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS] [URI]... | COMMAND [ARGS]...")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The "Commands" section of ``pail --help``, as click's own
        (``click.Group.format_commands``) writes it, without importing a command that is not
        imported yet: its one-line help comes from :data:`LAZY_COMMANDS`."""
        commands: list[tuple[str, click.Command | None]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None and name not in LAZY_COMMANDS:
                continue
            if command is not None and command.hidden:
                continue
            commands.append((name, command))
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [
            (name, LAZY_COMMANDS[name].short_help if cmd is None else cmd.get_short_help_str(limit))
            for name, cmd in commands
        ]
        with formatter.section(gettext("Commands")):  # click's heading, translated as click does
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        from pail.cli.errors import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, CliError

        try:
            result = super().invoke(ctx)
            _print_quirk_notes(ctx)
            return result
        except KeyboardInterrupt:
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
        except Exception as exc:
            if not _expected_failure(exc):
                raise
            _print_quirk_notes(ctx)
            raise CliError.from_exception(exc) from None


def _expected_failure(exc: Exception) -> bool:
    """Whether ``exc`` is a failure the command line reports as one line and an exit code
    (a storage error, a bad URI or config file, no usable keyring) rather than a bug. The
    types are imported here, when a command failed, not when the group is defined."""
    from pail.core.connection import ConfigError
    from pail.core.uri import InvalidURI
    from pail.credentials import KeyringUnavailable
    from pail.drivers.errors import StorageError

    return isinstance(exc, (StorageError, InvalidURI, ConfigError, KeyringUnavailable))


def _print_quirk_notes(ctx: click.Context) -> None:
    """What the command found the store does not support (a capability remembered as
    failing, and what is used instead: :func:`pail.drivers.quirks.take_notes`), one
    ``pail: note:`` line each on stderr; with ``--verbose`` also every capability of each
    S3 driver the command opened and its source."""
    from pail.core.text import printable
    from pail.drivers.quirks import take_notes

    for note in take_notes():
        click.echo(f"pail: note: {printable(note)}", err=True)
    if ctx.meta.get(_VERBOSE_KEY):
        from pail.drivers.quirks import opened_states

        for state in opened_states():
            click.echo(f"pail: what {printable(state.key)} supports:", err=True)
            for line in state.describe():
                click.echo(f"  {printable(line)}", err=True)


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
    (AWS_*, MLFLOW_S3_ENDPOINT_URL, S3_ENDPOINT_URL, FML_S3_ENDPOINT_URI,
    MODELKIT_STORAGE_PROVIDER, ...), or the current
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
    `pail open URI`; `pail lab:artifacts/runs/` opens the saved connection lab there).

    Every argument is checked before the app starts: a word that is no command, saved
    connection or folder is a usage error (exit 2, with a "did you mean" for a mistyped
    command), a path to a folder that does not exist exits 3, and without a terminal
    (stdin or stdout redirected) the app does not start (exit 2)."""
    from pail.cli.errors import EXIT_NOT_FOUND, CliError
    from pail.services.locations import NoSuchFolder, UnknownConnection, connections_to_open

    try:
        specs = connections_to_open(list(uris), flags_of(ctx))
    except UnknownConnection as exc:
        raise _unknown_word(ctx, exc) from None
    except NoSuchFolder as exc:
        from pail.core.text import printable

        message = f"pail: error: no such folder: {printable(exc.path)}"
        raise CliError([message], EXIT_NOT_FOUND) from None
    need_terminal("pail: the app needs a terminal; for scripts use `pail ls URI`")
    from pail.ui.app import PailApp  # Textual is imported only when the app runs
    from pail.ui.executor import exit_if_threads_linger

    app = PailApp(specs)
    app.run()
    exit_if_threads_linger(app.return_code or 0)  # a transfer thread hung in a request


def need_terminal(hint: str) -> None:
    """Refuse to start the app without a terminal (stdin and stdout both ttys): a
    full-screen app writing into a pipe or a file only leaves escape codes there.

    Raises:
        CliError: exit 2 with ``hint``, one line on stderr.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        from pail.cli.errors import EXIT_USAGE, CliError

        raise CliError([hint], EXIT_USAGE)


#: How close a word must be to a command name to be offered as "did you mean"
#: (difflib's ratio: "lss" -> "ls" is 0.8, "nope" -> "open" 0.75 is not offered).
_SUGGEST_CUTOFF = 0.8


def _unknown_word(ctx: click.Context, exc: UnknownConnection) -> click.UsageError:
    """The usage error for a word that names nothing: click's "No such command" with a
    "did you mean" when it is close to a command, else "no saved connection"."""
    import difflib

    from pail.core.text import printable

    group = ctx.parent if ctx.parent is not None else ctx
    commands = [c for c in cli.list_commands(group) if c != "open"]
    close = difflib.get_close_matches(exc.name, commands, n=1, cutoff=_SUGGEST_CUTOFF)
    if close:
        message = (
            f"No such command {printable(exc.name)!r} (and no saved connection or folder of "
            f"that name). Did you mean {close[0]!r}?"
        )
    else:
        message = printable(str(exc))
    return click.UsageError(message, ctx=group)


# --- ls -------------------------------------------------------------------------------


def register_ls(
    group: click.Group,
    connection_options: Callable[[Any], Any],
    flags_of: Callable[[click.Context], Flags],
) -> None:
    """Add ``pail ls`` to ``group`` (called through :data:`LAZY_COMMANDS` when ``ls`` is
    named: its ``-h`` option, :func:`pail.cli.common.human_option`, imports the CLI's error
    types and through them the credentials and drivers)."""
    from pail.cli.common import human_option

    @group.command("ls", short_help="List one level of a bucket or folder.")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
    @human_option
    @click.pass_context
    def ls_command(
        ctx: click.Context, uri: str, as_json: bool, recursive: bool, human: bool
    ) -> None:
        """List one level of URI (s3://bucket/prefix/, gs://..., a folder, or a saved
        connection as NAME:bucket/prefix), page by page.

        Prefixes end in "/"; objects show last-modified time (UTC), size in bytes and name.
        A URI naming an object lists that object; one naming both an object and a prefix
        (runs/run-1 and runs/run-1/...) shows both. A prefix with no key under it prints
        "no such prefix" on stderr (exit 0); a URI without a trailing "/" that names nothing
        exits 3. `pail ls s3://` lists the buckets, and so does `pail ls NAME` for a saved
        connection without a default bucket.
        """
        _list(flags_of(ctx), uri, as_json, recursive, human)


def _list(flags: Flags, uri: str, as_json: bool, recursive: bool, human: bool) -> None:
    """What ``pail ls`` does (see its help)."""
    import json

    from pail.cli.output import entry_json, entry_line, listing
    from pail.services.locations import open_spec, read_target

    target = read_target(uri, flags)  # pail.services.locations: the rules
    driver = open_spec(target.spec).driver
    location = target.location
    if location is None:  # `s3://` alone, or a saved connection without a default bucket
        _print_buckets(target.spec.provider, driver, as_json)
        return
    # One write per page: rows appear as each page arrives, never after the whole level.
    rows = 0
    for batch in listing(driver, location, delimiter="" if recursive else "/"):
        if as_json:
            text = "".join(json.dumps(entry_json(location, e)) + "\n" for e in batch)
        else:
            text = "".join(entry_line(e, human, full_key=recursive) + "\n" for e in batch)
        click.echo(text, nl=False)
        sys.stdout.flush()
        rows += len(batch)
    if not rows and location.key:
        # A prefix with no key under it does not exist (S3 has no folders): most often a
        # mistyped one. Said on stderr, exit 0, so scripts reading stdout see no rows; an
        # empty bucket (no key) is silent.
        from pail.core.text import printable
        from pail.core.uri import format_uri

        uri = format_uri(location.provider, location.bucket, location.key, location.root)
        click.echo(f"pail: no such prefix: {printable(uri)}", err=True)


def _print_buckets(provider: str, driver: StorageDriver, as_json: bool) -> None:
    import json

    from pail.cli.output import bucket_json, bucket_line

    for bucket in driver.list_buckets():
        click.echo(json.dumps(bucket_json(provider, bucket)) if as_json else bucket_line(bucket))


# --- demo -----------------------------------------------------------------------------


@cli.command("demo", short_help="Run the embedded demo store and open it.")
@click.option("--serve", is_flag=True, help="Only run the store; print how to reach it.")
@click.option(
    "--small",
    is_flag=True,
    envvar="PAIL_DEMO_SMALL",
    hidden=True,
    help="Small sizes (tests): 1,500-key prefix, 1 MiB large object.",
)
@click.pass_context
def demo_command(ctx: click.Context, serve: bool, small: bool) -> None:
    """Start the embedded demo store (S3 on 127.0.0.1, seeded ML artifacts) and open it.

    The demo makes its own connections (demo, demo-readonly, demo-local), so it takes no
    connection flags. The app needs a terminal; --serve only runs the store."""
    given = [name for name, value in ctx.meta.get(_FLAGS_KEY, {}).items() if value is not None]
    if given:  # e.g. `pail --region x demo`: the group accepted it, the demo ignores it
        flags = ", ".join("--" + name.replace("_", "-") for name in sorted(given))
        raise click.UsageError(
            f"pail demo makes its own connections; {flags} does nothing here", ctx=ctx
        )
    if not serve:
        need_terminal("pail: the app needs a terminal; `pail demo --serve` runs only the store")
    from pail.cli.errors import EXIT_ERROR, EXIT_USAGE, CliError
    from pail.demo.server import start_demo

    sizes: dict[str, Any] = (
        {"large_prefix_keys": 1_500, "large_object_bytes": 1 << 20} if small else {}
    )
    click.echo("Starting the demo store on 127.0.0.1 …", err=True)
    try:
        store = start_demo(**sizes, progress=lambda line: click.echo(line, err=True))
    except ValueError as exc:  # PAIL_DEMO_INVENTORY_ROWS is not a count
        from pail.core.text import printable

        raise CliError([f"pail: error: {printable(str(exc))}"], EXIT_USAGE) from None
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

            saved = demo_config(store, os.path.join(os.path.dirname(store.log_path), "demo-config"))
            PailApp(store.connections, store=saved).run()
    finally:
        store.stop()
    from pail.ui.executor import exit_if_threads_linger  # only reached after the app

    exit_if_threads_linger(0)  # a transfer thread hung in a request


#: AWS profile names of the demo's two S3 users in the demo's own credentials file.
DEMO_PROFILES = {"demo": "pail-demo", "demo-readonly": "pail-demo-readonly"}


def demo_config(store: DemoStore, folder: str, environ: Any = None) -> ConnectionStore:
    """The demo's connections as saved connections of a demo-only config file.

    The app's connections screen (``C``) lists the *saved* connections; the demo's three
    live in memory, so ``pail demo`` also writes them to ``FOLDER/connections.toml``, a
    file of its own in the cache folder, rewritten at every start. It is never the user's
    config file: ``PAIL_CONFIG`` points at it for this process, so nothing the app does
    (add, edit, remove on that screen) can reach the real one. The config file never
    holds secrets and the OS keyring is the user's, so the demo users' throwaway keys go
    to ``FOLDER/aws-credentials`` (mode 0600) as the profiles in :data:`DEMO_PROFILES`,
    and the saved S3 connections name their profile; ``AWS_SHARED_CREDENTIALS_FILE`` and
    ``AWS_CONFIG_FILE`` point at the demo's files for this process only (the demo talks to
    nothing but its loopback store).

    Args:
        store: the running demo store.
        folder: where the two files go (created).
        environ: the variables to set (default ``os.environ``; tests pass a dict).

    Returns:
        the demo's :class:`~pail.config.store.ConnectionStore`, for ``PailApp(store=...)``.

    Raises:
        OSError: the folder or a file cannot be written.
    """
    from dataclasses import replace

    from pail.config.store import ConnectionStore

    env = os.environ if environ is None else environ
    os.makedirs(folder, exist_ok=True)
    credentials = os.path.join(folder, "aws-credentials")
    aws_config = os.path.join(folder, "aws-config")
    users = {"demo": store.admin, "demo-readonly": store.readonly}
    lines = []
    for name, profile in DEMO_PROFILES.items():
        keys = users[name]
        lines += [
            f"[{profile}]",
            f"aws_access_key_id = {keys.access_key_id}",
            f"aws_secret_access_key = {keys.secret_access_key}",
            "",
        ]
    fd = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    with open(aws_config, "w", encoding="utf-8") as fh:
        fh.write("# pail demo: no settings; the demo's profiles are in aws-credentials\n")
    path = os.path.join(folder, "connections.toml")
    if os.path.exists(path):
        os.remove(path)  # a fresh file each start: the endpoint's port changes
    env["PAIL_CONFIG"] = path  # anything else opening "the" config file opens this one
    env["AWS_SHARED_CREDENTIALS_FILE"] = credentials
    env["AWS_CONFIG_FILE"] = aws_config
    saved = ConnectionStore(path, environ=env)
    for spec in store.connections:
        saved.save(
            replace(
                spec,
                secrets=None,
                profile=DEMO_PROFILES.get(spec.name),
                saved=True,
                secrets_in="none",
            )
        )
    return saved


def _wait_forever() -> None:
    import threading

    threading.Event().wait()
