"""``pail du``: where the bytes are under a prefix, like ncdu.

Runs :class:`pail.services.du.UsageScan` (child prefixes listed concurrently). On a
terminal, stderr shows a transient :mod:`rich.progress` display (keys and bytes scanned,
child prefixes done: :mod:`pail.cli.progress`); stdout gets one row per child
prefix (objects, size, age of the newest object, name), the objects directly at the prefix,
and a totals line. ``--json`` prints one JSON document with exact byte counts and ISO 8601
UTC times instead. Errors of single child prefixes are listed on stderr and make the exit
status non-zero; the figures printed are then partial and say so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from pail.cli.common import human_option
from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, CliError
from pail.cli.output import iso_utc
from pail.cli.progress import LiveProgress, bar_column, text_column
from pail.cli.values import Count
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, short_age, size_text
from pail.core.uri import Location, format_uri
from pail.services.du import (
    DEFAULT_WORKERS,
    SortKey,
    Totals,
    UsageScan,
    UsageSnapshot,
    sorted_children,
)
from pail.services.locations import open_location

if TYPE_CHECKING:
    from rich.progress import ProgressColumn


def du_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options of ``pail du`` (connection flags are added by the caller)."""
    for option in reversed(
        [
            click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]"),
            click.option("--json", "as_json", is_flag=True, help="One JSON document, exact."),
            human_option,
            click.option(
                "--sort",
                type=click.Choice(["size", "count", "newest", "name"]),
                default="size",
                show_default=True,
                help="Order of the child prefixes.",
            ),
            click.option(
                "-j",
                "--jobs",
                type=Count(1, 64),
                default=DEFAULT_WORKERS,
                show_default=True,
                help="Child prefixes listed at once.",
            ),
        ]
    ):
        func = option(func)
    return func


#: Width of the SIZE column: 15 digits of bytes (up to 999 TB) or "1023.9 KiB".
_SIZE_WIDTH = 15


def _row(
    objects: int, size: int, newest: datetime | None, name: str, now: datetime, human: bool
) -> str:
    age = short_age(newest, now, weeks=True) or "-"
    return f"{objects:>12,} {size_text(size, human):>{_SIZE_WIDTH}} {age:>6}  {name}"


def _totals_json(totals: Totals) -> dict[str, Any]:
    return {
        "objects": totals.objects,
        "bytes": totals.bytes,
        "oldest": iso_utc(totals.oldest),
        "newest": iso_utc(totals.newest),
    }


def usage_json(location: Location, snap: UsageSnapshot, sort: SortKey) -> dict[str, Any]:
    """The ``--json`` document: uri, bucket, prefix, totals, direct objects, children
    (sorted), whether the figures are complete, and errors (plain text)."""
    uri = format_uri(location.provider, snap.bucket, snap.prefix, location.root)
    children = []
    for child in sorted_children(snap.children, sort):
        item = {
            "prefix": child.prefix,
            "uri": format_uri(location.provider, snap.bucket, child.prefix, location.root),
            **_totals_json(child.totals),
            "complete": child.done and child.error is None,
        }
        if child.error is not None:
            item["error"] = str(child.error)
        children.append(item)
    return {
        "uri": uri,
        "bucket": snap.bucket,
        "prefix": snap.prefix,
        **_totals_json(snap.total),
        "direct": _totals_json(snap.direct),
        "children": children,
        "complete": snap.complete,
        "errors": [str(e) for e in snap.errors],
    }


def print_table(
    location: Location, snap: UsageSnapshot, sort: SortKey, human: bool = False
) -> None:
    """The ncdu-like table on stdout (names made printable); sizes in bytes, or as
    KiB/MiB/GiB with ``human`` (``-h``, as ``pail ls -h``)."""
    now = datetime.now(timezone.utc)
    click.echo(f"{'OBJECTS':>12} {'SIZE':>{_SIZE_WIDTH}} {'NEWEST':>6}  PREFIX")
    for child in sorted_children(snap.children, sort):
        mark = "" if child.done and child.error is None else "  (partial)"
        t = child.totals
        click.echo(_row(t.objects, t.bytes, t.newest, printable(child.name) + mark, now, human))
    if snap.direct.objects:
        d = snap.direct
        click.echo(_row(d.objects, d.bytes, d.newest, "(objects directly here)", now, human))
    uri = format_uri(location.provider, snap.bucket, snap.prefix, location.root)
    t = snap.total
    tail = "" if snap.complete else "  (partial)"
    click.echo(_row(t.objects, t.bytes, t.newest, f"total {printable(uri)}{tail}", now, human))
    if t.oldest is not None:
        indent = " " * (12 + 1 + _SIZE_WIDTH + 1 + 6 + 2)
        click.echo(f"{indent}oldest {iso_utc(t.oldest)}, newest {iso_utc(t.newest)}")


def _scan_figures(scan: UsageScan) -> dict[str, Any]:
    """The scan's figures for the live display: child prefixes done move the bar."""
    snap = scan.progress()
    done = sum(1 for c in snap.children if c.done)
    return {
        "completed": done,
        "total": len(snap.children) if snap.level_done else None,
        "keys": f"scanning: {plural(snap.keys_scanned, 'key')}, "
        f"{size_text(snap.total.bytes, True)}",
        "prefixes": f"{done:,}/{plural(len(snap.children), 'prefix')} done",
    }


def _scan_columns() -> list[ProgressColumn]:
    from rich.progress import SpinnerColumn, TimeElapsedColumn

    return [
        SpinnerColumn(),
        text_column("{task.fields[keys]}"),
        bar_column(),
        text_column("{task.fields[prefixes]}"),
        TimeElapsedColumn(),
    ]


def run_du(
    flags: Flags, uri: str, as_json: bool, sort: SortKey, jobs: int, human: bool = False
) -> None:
    """``pail du``: scan, print, and exit non-zero if any listing failed."""
    driver, location = open_location(uri, flags)
    scan = UsageScan(driver, location.bucket, location.key, workers=jobs)
    scan.start()
    try:
        with LiveProgress(_scan_columns, lambda: _scan_figures(scan)):
            snap = None
            while snap is None:  # short waits keep Ctrl-C responsive
                snap = scan.wait(0.1)
    except KeyboardInterrupt:
        scan.cancel()
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    if snap.error is not None:
        raise CliError.from_exception(snap.error)
    if as_json:
        click.echo(json.dumps(usage_json(location, snap, sort), indent=2))
    else:
        print_table(location, snap, sort, human)
    if snap.errors:
        lines = ["pail: error: some prefixes could not be listed; the figures are partial"]
        lines += [f"  {printable(str(e))}" for e in snap.errors]
        raise CliError(lines, EXIT_ERROR)


__all__ = ["du_options", "print_table", "register", "run_du", "usage_json"]


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail du`` to ``group`` (``connection_options``/``flags_of`` from pail.cli.main)."""

    @group.command("du", short_help="Objects, bytes and ages under a prefix, per child.")
    @connection_options
    @du_options
    @click.pass_context
    def du_command(ctx: click.Context, **options: Any) -> None:
        """Sum up URI (a bucket or prefix): total objects and bytes, oldest and newest
        object, and one row per child prefix (listed concurrently), sorted by --sort.
        Sizes are bytes; -h shows KiB/MiB/GiB. Exit status 1 if a child prefix could not
        be listed (figures then partial)."""
        run_du(flags_of(ctx), **options)
