"""``pail check A B``: compare a folder with a prefix, or two prefixes
(:mod:`pail.services.compare`).

stdout gets one line per path that is not proven identical, in path order::

    only in A: data/new.csv (1,024)
    only in B: old.txt (12)
    differs: model.bin (size 10 vs 12)
    differs: conf.json (checksum md5 0cc175b9.. vs 4a8a08f0..)
    unproven: big.bin (same size, no comparable checksum)

then a summary line with the counts (``1,234 identical (md5 1,000, crc64nvme 234); 1
differ``). ``--json`` prints :meth:`CompareReport.to_dict` instead. Exit status 0 when every
path in scope is proven identical, 1 otherwise (anything only on one side, different or
unproven, or a checksum lookup that failed); 2-7 when the whole command failed (a side could
not be opened or listed: :mod:`pail.cli.errors`), 130 on Ctrl-C. On a terminal, stderr shows
a live count of objects listed and pairs checked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from pail.cli.common import human_option
from pail.cli.errors import EXIT_ERROR, EXIT_NOT_FOUND, CliError
from pail.cli.progress import text_column, wait_for
from pail.config.flags import Flags
from pail.core.text import one_line
from pail.core.units import size_text
from pail.drivers.base import Entry
from pail.drivers.errors import NotFound, StorageError
from pail.services.compare import CompareEntry, CompareReport, base_prefix, compare
from pail.services.transfer import Side, side_for

if TYPE_CHECKING:
    from rich.progress import ProgressColumn


def _size(entry: Entry | None, human: bool) -> str:
    return size_text(entry.size or 0, human) if entry is not None else "-"


def _unproven_why(reason: str) -> str:
    detail = reason.removeprefix("same size; ")
    if reason == "same size (checksums not compared)":
        return "checksums not compared"
    if detail.startswith("checksum lookup failed"):
        return detail
    if detail.startswith("checksum not comparable"):
        return "no comparable checksum" + detail.removeprefix("checksum not comparable")
    return (
        f"no comparable checksum: {detail}"
        if detail and detail != reason
        else ("no comparable checksum")
    )


def difference_line(entry: CompareEntry, human: bool = False) -> str:
    """One plain line for a path that is not identical (the path made printable)."""
    rel = one_line(entry.rel)
    if entry.outcome == "only_a":
        return f"only in A: {rel} ({_size(entry.a, human)})"
    if entry.outcome == "only_b":
        return f"only in B: {rel} ({_size(entry.b, human)})"
    if entry.outcome == "differ":
        if entry.method is None:  # sizes
            return f"differs: {rel} (size {_size(entry.a, human)} vs {_size(entry.b, human)})"
        return f"differs: {rel} ({one_line(entry.reason)})"
    if entry.outcome == "unproven":
        return f"unproven: {rel} (same size, {one_line(_unproven_why(entry.reason))})"
    return f"identical: {rel} ({entry.method})"


def print_report(report: CompareReport, human: bool = False) -> None:
    """The difference lines, then the summary line (plus errors and the sizes-only note)."""
    for entry in report.differences:
        click.echo(difference_line(entry, human))
    click.echo(report.summary())
    if not report.checksums:
        click.echo("checksums not compared (--no-checksum): equal sizes are unproven")


def _need_folder(text: str, side: Side) -> None:
    """A local side must be an existing folder: a typo would otherwise read as an empty
    folder (every object "only in" the other side).

    Raises:
        CliError: exit 3 when the folder does not exist.
    """
    if side.provider != "local":
        return  # a missing bucket fails the listing; an empty prefix is a real answer
    try:
        side.driver.list_page(side.bucket, base_prefix(side), delimiter="/", page_size=1)
    except NotFound:
        raise CliError([f"pail: error: no such folder: {one_line(text)}"], EXIT_NOT_FOUND) from None
    except StorageError as exc:
        raise CliError.from_exception(exc) from None


def _columns() -> list[ProgressColumn]:
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    return [SpinnerColumn(), text_column("{task.fields[line]}"), TimeElapsedColumn()]


def run_check(
    flags: Flags,
    a: str,
    b: str,
    *,
    one_way: bool = False,
    as_json: bool = False,
    no_checksum: bool = False,
    human: bool = False,
) -> None:
    """``pail check``: compare, print, exit 0 only when everything in scope is identical.

    Raises:
        CliError: a side could not be opened or listed (its exit status), or exit 1 when
            anything is not proven identical.
    """
    try:
        side_a, side_b = side_for(a, flags), side_for(b, flags)
    except Exception as exc:  # InvalidURI, ConfigError, StorageError, SecretsUnavailable
        raise CliError.from_exception(exc) from None
    for text, side in ((a, side_a), (b, side_b)):
        _need_folder(text, side)
    stop = threading.Event()
    figures = {"listed": 0, "checked": 0}

    def seen(phase: str, n: int) -> None:
        figures[phase] = n

    def poll() -> dict[str, Any]:
        line = f"{figures['listed']:,} objects listed"
        if figures["checked"]:
            line += f", {figures['checked']:,} pairs checked"
        return {"line": line}

    try:
        report = wait_for(
            lambda: compare(
                side_a, side_b, one_way=one_way, checksums=not no_checksum,
                on_progress=seen, cancel=stop,
            ),
            stop=stop.set, columns=_columns, poll=poll, name="pail-check",
        )  # fmt: skip
    except StorageError as exc:
        raise CliError.from_exception(exc) from None
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        print_report(report, human)
    if not report.all_identical:
        lines = [f"pail: error: {one_line(e)}" for e in report.errors]
        raise click.exceptions.Exit(EXIT_ERROR) if not lines else CliError(lines, EXIT_ERROR)


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail check`` to ``group`` (``connection_options``/``flags_of`` from
    pail.cli.main)."""

    @group.command("check", short_help="Compare a folder with a prefix, or two prefixes.")
    @connection_options
    @click.argument("a", metavar="A")
    @click.argument("b", metavar="B")
    @click.option("--one-way", is_flag=True, help="Only A's objects matter (not B's extras).")
    @click.option("--json", "as_json", is_flag=True, help="The report as one JSON document.")
    @click.option(
        "--no-checksum",
        is_flag=True,
        help="Sizes only (no lookups, no hashing): equal sizes are reported unproven.",
    )
    @human_option
    @click.pass_context
    def check_command(ctx: click.Context, **options: Any) -> None:
        """Compare A with B: each is a local folder, a URI (s3://bucket/prefix/,
        gs://...) or NAME:bucket/prefix. Objects are paired by their path below A and
        below B. A pair is identical only when a checksum proves it (equal MD5 ETags,
        equal store checksums of one algorithm, a local file hashed to match what the
        store vouches for); same size with nothing comparable is "unproven". Exit status
        0 when everything is identical, 1 otherwise."""
        run_check(
            flags_of(ctx),
            options["a"],
            options["b"],
            one_way=options["one_way"],
            as_json=options["as_json"],
            no_checksum=options["no_checksum"],
            human=options["human"],
        )


__all__ = ["difference_line", "print_report", "register", "run_check"]
