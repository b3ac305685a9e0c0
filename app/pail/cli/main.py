"""The ``pail`` command line: open the app, list a location, run the demo store.

Usage::

    pail [OPTIONS] [URI ...]          open the app at these locations
    pail NAME[:BUCKET/PREFIX]         open a saved connection (there)
    pail ls [OPTIONS] URI             print one level (``-r`` everything below)
    pail get [OPTIONS] URI [DEST]     download an object, or a prefix with ``-r``
    pail url [--expires S] URI        print a presigned URL for an object
    pail put [OPTIONS] PATH... URI    upload files (folders with ``-r``), verified
    pail cp [OPTIONS] SRC DEST        copy objects within or across stores, verified
    pail mv [OPTIONS] SRC DEST        move or rename (copy, verify, then delete the source)
    pail check [--one-way] A B        compare a folder with a prefix, or two prefixes
    pail du [-h] [--json] URI         objects, bytes and ages under a prefix, per child
    pail rm [-r] [FILTERS] URI        delete an object, or stale objects under a prefix
    pail versions [-r] URI            an object's versions and delete markers
    pail restore [-r] URI             undo deletes on a versioned bucket
    pail lifecycle export|show|apply URI
                                      a stale filter as the store's lifecycle rules
    pail connection add|list|show|test|remove|import-env
                                      saved connections, secrets in the OS keyring
    pail runs [--json] [--sort F] URI the runs under a location: params, metrics, sizes
    pail diff RUN_A RUN_B             what differs between two runs (params, metrics, files)
    pail inventory [--du|--search Q|--stale FILTERS|--sql E] URI
                                      a bucket of any size from its inventory report
    pail doctor [--write-probes] URI  who am I, what may I do here, and why not
    pail demo [--serve]               embedded demo store (``make demo``)

Wherever a URI is accepted, ``NAME:bucket/prefix`` names a location in a saved connection;
every command reads what was typed, and opens its driver with credentials resolved by
:func:`pail.credentials.resolve`, through :mod:`pail.services.locations` (one set of rules,
shared with the app).

The connection flags ``--endpoint-url``, ``--region``, ``--profile``, ``--path-style``,
``--no-sign-request``, ``--connect-timeout S``, ``--read-timeout S`` and ``--retries N``
(also ``PAIL_CONNECT_TIMEOUT``, ``PAIL_READ_TIMEOUT``, ``PAIL_RETRIES``; the retry policy is
in :mod:`pail.drivers.retry`), ``--list-version 1|2`` (S3 ListObjects or ListObjectsV2:
:mod:`pail.drivers.quirks`) and ``-v``/``--verbose`` (what the store was found to support,
on stderr) are accepted by ``pail`` itself and by every subcommand, before or after the
subcommand name; a subcommand's value wins over the group's. A capability the store
turned out to lack (answered 501, or not S3 XML) is one ``pail: note:`` line on stderr.

Exit status (one code per kind of failure, so scripts can branch on it):

====  ==========================================================================
0     success
1     any other storage error (HTTP 5xx, throttling, malformed request, ...)
2     bad usage: unknown option, missing argument, malformed URI, unknown saved
      connection, malformed config file (``FILE:LINE: message``), a word that is no
      command, saved connection or folder, the app started without a terminal
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

Start-up: this module is what the ``pail`` script imports, so it imports nothing but
:mod:`pail` itself. ``pail --version`` is answered here without click or package metadata;
everything else goes to the click group in :mod:`pail.cli.group` (which imports click and
only the command named). The names other modules and tests import from here (``cli``,
``connection_options``, ``flags_of``, ``need_terminal``, ``LAZY_COMMANDS``, the ``EXIT_*``
codes, ``CliError``, ``exit_code_for``, ``demo_config``...) are loaded on first use.
"""

from __future__ import annotations

import sys

from pail import __version__

# Not typing.TYPE_CHECKING: `pail --version` imports nothing it does not need, and typing
# is not otherwise loaded by then (mypy treats any name TYPE_CHECKING this way).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from pail.cli.errors import EXIT_BROKEN_PIPE as EXIT_BROKEN_PIPE
    from pail.cli.errors import EXIT_CREDENTIALS as EXIT_CREDENTIALS
    from pail.cli.errors import EXIT_DENIED as EXIT_DENIED
    from pail.cli.errors import EXIT_ERROR as EXIT_ERROR
    from pail.cli.errors import EXIT_INTERRUPTED as EXIT_INTERRUPTED
    from pail.cli.errors import EXIT_KEYRING as EXIT_KEYRING
    from pail.cli.errors import EXIT_NOT_FOUND as EXIT_NOT_FOUND
    from pail.cli.errors import EXIT_UNREACHABLE as EXIT_UNREACHABLE
    from pail.cli.errors import EXIT_USAGE as EXIT_USAGE
    from pail.cli.errors import CliError as CliError
    from pail.cli.errors import exit_code_for as exit_code_for
    from pail.cli.group import DEMO_PROFILES as DEMO_PROFILES
    from pail.cli.group import LAZY_COMMANDS as LAZY_COMMANDS
    from pail.cli.group import LazyCommand as LazyCommand
    from pail.cli.group import PailGroup as PailGroup
    from pail.cli.group import cli as cli
    from pail.cli.group import connection_options as connection_options
    from pail.cli.group import demo_config as demo_config
    from pail.cli.group import flags_of as flags_of
    from pail.cli.group import need_terminal as need_terminal

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
    "exit_code_for",
    "main",
]

#: Names this module offers but defines elsewhere: name -> module, imported on first use
#: (PEP 562's module ``__getattr__``).
_ELSEWHERE = {
    **dict.fromkeys(
        (
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
            "exit_code_for",
        ),
        "pail.cli.errors",
    ),
    **dict.fromkeys(
        (
            "DEMO_PROFILES",
            "LAZY_COMMANDS",
            "LazyCommand",
            "PailGroup",
            "cli",
            "connection_options",
            "demo_config",
            "flags_of",
            "need_terminal",
        ),
        "pail.cli.group",
    ),
}


def __getattr__(name: str) -> Any:
    """``pail.cli.main.cli``, ``pail.cli.main.EXIT_USAGE``...: imported on first use.

    Raises:
        AttributeError: no such name.
    """
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


# --- entry point ----------------------------------------------------------------------

#: Exit status when stdout is closed before ``--version`` is written: click's own for a
#: closed pipe (``click.BaseCommand.main``'s EPIPE case), which the full path would give.
_EXIT_EPIPE = 1


def main(argv: Iterable[str] | None = None) -> None:
    """Console-script entry point (``pail``); exits with the codes in the module doc.

    ``pail --version`` alone is answered here, as click's ``version_option`` would answer
    it (``pail VERSION``, exit 0), without importing click or reading package metadata.

    Raises:
        SystemExit: always (click's standalone mode, or the version's exit 0).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args == ["--version"]:
        _print_version()
    try:
        from pail.cli.group import cli

        cli.main(args=args, prog_name="pail")
    except KeyboardInterrupt:  # outside a command (e.g. while importing)
        sys.exit(130)  # pail.cli.errors.EXIT_INTERRUPTED, without importing it


def _print_version() -> None:
    """Write ``pail VERSION`` and exit 0; a closed stdout exits 1 silently, and no stdout at
    all exits 0, as click's ``version_option`` does (``click.echo`` and
    ``click.BaseCommand.main``'s EPIPE case)."""
    out = sys.stdout
    if out is None:  # started with stdout closed: click.echo writes nothing
        sys.exit(0)
    try:
        out.write(f"pail {__version__}\n")
        out.flush()
    except BrokenPipeError:
        import contextlib
        import os

        # The interpreter's final flush must not fail again (Python docs, "Note on SIGPIPE").
        with contextlib.suppress(OSError, ValueError, AttributeError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        sys.exit(_EXIT_EPIPE)
    sys.exit(0)
