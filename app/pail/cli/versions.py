"""``pail versions`` (an object's versions and delete markers; permanent deletion of
noncurrent versions) and ``pail restore`` (undo deletes on a versioned bucket).

Both run :mod:`pail.services.versions`. Changes are planned first and printed; on a
terminal pail asks before changing anything, without a terminal it refuses unless
``--yes`` is given. ``--dry-run`` prints the plan and changes nothing. The exit status is
non-zero when any key failed (4 when every failure was AccessDenied).

Commands are built by :func:`register`, which :mod:`pail.cli.main` calls with its group and
its connection-flag helpers (so this module does not import :mod:`pail.cli.main`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import click

from pail.cli.common import confirm_or_refuse, human_option, yes_option
from pail.cli.errors import EXIT_DENIED, EXIT_ERROR, EXIT_NOT_FOUND, CliError
from pail.cli.output import iso_utc
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import Location, format_uri
from pail.drivers.versions import VersionEntry
from pail.services import versions as svc
from pail.services.locations import open_location


def failure_exit(codes: list[str]) -> int:
    """4 when every failure was AccessDenied, else 1."""
    return EXIT_DENIED if codes and all(c == "AccessDenied" for c in codes) else EXIT_ERROR


def version_json(loc: Location, entry: VersionEntry) -> dict[str, Any]:
    """One ``--json`` row: uri, bucket, key, version_id, is_latest, is_delete_marker, size
    (bytes), last_modified (ISO 8601 UTC), etag, storage_class."""
    return {
        "uri": format_uri(loc.provider, loc.bucket, entry.key, loc.root),
        "bucket": loc.bucket,
        "key": entry.key,
        "version_id": entry.version_id,
        "is_latest": entry.is_latest,
        "is_delete_marker": entry.is_delete_marker,
        "size": entry.size,
        "last_modified": iso_utc(entry.last_modified),
        "etag": entry.etag,
        "storage_class": entry.storage_class,
    }


def version_line(entry: VersionEntry, human: bool, with_key: bool) -> str:
    """One text row: time (UTC), size, version id, flags, and the key for prefixes."""
    stamp = (iso_utc(entry.last_modified) or "").replace("T", " ").rstrip("Z")
    size = "-" if entry.is_delete_marker else size_text(entry.size, human)
    flags = ",".join(
        f
        for f, on in (("latest", entry.is_latest), ("delete-marker", entry.is_delete_marker))
        if on
    )
    line = f"{stamp:19} {size:>12} {printable(entry.version_id):36} {flags:22}"
    return f"{line} {printable(entry.key)}".rstrip() if with_key else line.rstrip()


def _is_prefix(location: Location, recursive: bool) -> bool:
    return recursive or not location.key or location.key.endswith("/")


def run_versions(flags: Any, uri: str, recursive: bool, as_json: bool, human: bool) -> None:
    """``pail versions``: every version and delete marker of an object (or of every key
    under a prefix with ``-r``), newest first per key."""
    driver, location = open_location(uri, flags)
    if _is_prefix(location, recursive):
        groups = svc.by_key(svc.iter_versions(driver, location.bucket, location.key))
        entries: Iterator[VersionEntry] = (e for _, versions in groups for e in versions)
    else:
        entries = iter(svc.object_versions(driver, location.bucket, location.key))
    seen = False
    for entry in entries:
        seen = True
        if as_json:
            click.echo(json.dumps(version_json(location, entry)))
        else:
            click.echo(version_line(entry, human, _is_prefix(location, recursive)))
    if not seen and not _is_prefix(location, recursive):
        raise CliError(
            [f"pail: error: {printable(location.uri)} has no versions (no such key)"],
            EXIT_NOT_FOUND,
        )


def run_purge(flags: Any, uri: str, dry_run: bool, yes: bool) -> None:
    """``pail versions --delete-noncurrent``: permanently delete noncurrent versions and
    non-latest delete markers under the prefix; current data stays."""
    driver, location = open_location(uri, flags)
    plan = svc.plan_noncurrent(driver, location.bucket, location.key)
    where = printable(location.uri)
    if not plan.count:
        click.echo(f"pail: no noncurrent versions under {where}", err=True)
        return
    summary = (
        f"{plural(plan.versions, 'noncurrent version')} ({size_text(plan.bytes, True)}) and "
        f"{plural(plan.markers, 'old delete marker')} of {plural(plan.keys, 'key')} under {where}"
    )
    for entry in plan.entries:
        click.echo(f"would delete {printable(entry.key)} version {printable(entry.version_id)}")
    if dry_run:
        click.echo(f"pail: dry run: would permanently delete {summary}", err=True)
        return
    confirm_or_refuse(
        f"Permanently delete {summary}? This cannot be undone", yes, "delete versions"
    )
    report = svc.delete_noncurrent(driver, plan)
    click.echo(
        f"pail: deleted {plural(len(report.deleted), 'version')} "
        f"({size_text(report.bytes_deleted, True)})"
        + (f", {len(report.failed):,} failed" if report.failed else ""),
        err=True,
    )
    if report.failed:
        lines = ["pail: error: some versions were not deleted"]
        lines += [
            f"  failed {printable(f.key)} version {printable(f.version_id)}: "
            f"{f.code}: {printable(f.message)}"
            for f in report.failed
        ]
        raise CliError(lines, failure_exit([f.code for f in report.failed]))


def run_restore(flags: Any, uri: str, recursive: bool, dry_run: bool, yes: bool) -> None:
    """``pail restore``: bring deleted objects back by removing their delete markers."""
    driver, location = open_location(uri, flags)
    plan = svc.plan_restore(
        driver, location.bucket, location.key, recursive=_is_prefix(location, recursive)
    )
    where = printable(location.uri)
    for key in plan.unrecoverable:
        click.echo(
            f"pail: {printable(key)}: only delete markers left, nothing to restore", err=True
        )
    if not plan.keys:
        click.echo(f"pail: nothing to restore under {where}", err=True)
        return
    for removal in plan.removals:
        click.echo(
            f"{'would restore' if dry_run else 'restoring'} {printable(removal.key)} "
            f"(version {printable(removal.restores)}, {size_text(removal.size, True)})"
        )
    copies = sum(1 for r in plan.removals if not r.marker_ids)  # GCS: no delete markers
    how = (
        [f"removing {plural(plan.markers, 'delete marker')}"] if plan.markers or not copies else []
    )
    how += [f"copying {plural(copies, 'noncurrent version')} back"] if copies else []
    summary = (
        f"{plural(plan.keys, 'object')} ({size_text(plan.bytes, True)}) by {' and '.join(how)}"
    )
    if dry_run:
        click.echo(f"pail: dry run: would restore {summary}", err=True)
        return
    confirm_or_refuse(f"Restore {summary}?", yes, "restore")
    report = svc.restore(driver, plan)
    click.echo(
        f"pail: restored {plural(len(report.restored), 'object')}"
        + (f", {len(report.failed):,} failed" if report.failed else ""),
        err=True,
    )
    if report.failed:
        lines = ["pail: error: some objects were not restored"]
        lines += [
            f"  failed {printable(f.key)}: {f.code}: {printable(f.message)}" for f in report.failed
        ]
        raise CliError(lines, failure_exit([f.code for f in report.failed]))


def register(
    group: click.Group,
    connection_options: Callable[[Any], Any],
    flags_of: Callable[[click.Context], Any],
) -> None:
    """Add ``versions`` and ``restore`` to ``group`` (the ``pail`` group)."""

    @group.command("versions", short_help="List an object's versions and delete markers.")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]")
    @click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
    @click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
    @human_option
    @click.option(
        "--delete-noncurrent",
        is_flag=True,
        help="Permanently delete noncurrent versions and old delete markers under the prefix.",
    )
    @click.option("--dry-run", is_flag=True, help="With --delete-noncurrent: only show the plan.")
    @yes_option("With --delete-noncurrent: do not ask (needed without a terminal).")
    @click.pass_context
    def versions_command(
        ctx: click.Context,
        uri: str,
        recursive: bool,
        as_json: bool,
        human: bool,
        delete_noncurrent: bool,
        dry_run: bool,
        yes: bool,
    ) -> None:
        """List URI's versions and delete markers (time UTC, size, version id, latest /
        delete-marker flags), newest first; with -r (or a URI ending in /) every key under
        the prefix (S3 ListObjectVersions; GCS generations).

        --delete-noncurrent permanently deletes every noncurrent version and non-latest
        delete marker under the prefix; current data stays. It asks first on a terminal and
        refuses without --yes otherwise.
        """
        if delete_noncurrent:
            run_purge(flags_of(ctx), uri, dry_run, yes)
        else:
            run_versions(flags_of(ctx), uri, recursive, as_json, human)

    @group.command("restore", short_help="Undo deletes on a versioned bucket.")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]")
    @click.option("-r", "--recursive", is_flag=True, help="Every deleted key under the prefix.")
    @click.option("--dry-run", is_flag=True, help="Only show what would be restored.")
    @yes_option()
    @click.pass_context
    def restore_command(
        ctx: click.Context, uri: str, recursive: bool, dry_run: bool, yes: bool
    ) -> None:
        """Restore a deleted object (or, with -r, every deleted object under a prefix) on a
        versioned bucket by removing the delete markers above its newest version. Asks
        first on a terminal; refuses without --yes otherwise. Exit status non-zero when
        any key failed."""
        run_restore(flags_of(ctx), uri, recursive, dry_run, yes)
