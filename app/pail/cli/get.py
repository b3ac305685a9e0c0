"""``pail get`` (download objects or a prefix) and ``pail url`` (a presigned URL).

``pail get`` runs the same engine as the app's downloads panel
(:mod:`pail.services.download`). Each finished file is one plain line on stdout:
``downloaded KEY -> PATH (N bytes, CHECK)``. On a terminal, stderr also shows a transient
:mod:`rich.progress` bar (files, bytes, rate, ETA: :mod:`pail.cli.progress`) with the
file lines scrolling above it. Existing different files are
asked about on a terminal and otherwise kept (reported as skipped) unless ``--overwrite``.
Every failure and refused key is listed on stderr at the end, and the summary says how
many files were verified by which check; the exit status is non-zero if anything failed,
was refused, was cancelled or could not be verified (``--allow-unverified`` accepts such
files). Ctrl-C stops at once (exit 130): the bytes received so far are recorded and the
next run resumes them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from pail.cli.common import human_option
from pail.cli.errors import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_USAGE, CliError, exit_code_for
from pail.cli.progress import JobDisplay, stderr_is_live
from pail.cli.values import Count
from pail.cli.values import expires as expires_type
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import size_text
from pail.core.uri import Location
from pail.drivers.base import StorageDriver
from pail.drivers.errors import StorageError
from pail.services.download import (
    DEFAULT_JOBS,
    Downloader,
    DownloadJob,
    DownloadPlan,
    DownloadReport,
    Failure,
    FileDone,
    Skipped,
    plan_keys,
    plan_prefix,
)
from pail.services.download.engine import ConflictPolicy
from pail.services.locations import open_location
from pail.services.metadata import object_info
from pail.services.object_links import presigned_url


def get_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options of ``pail get`` (connection flags are added by the caller)."""
    for option in reversed(
        [
            click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]"),
            click.argument("dest", required=False, metavar="[DEST]"),
            click.option("-r", "--recursive", is_flag=True, help="Everything under the prefix."),
            click.option(
                "-j",
                "--jobs",
                type=Count(1, 64),
                default=DEFAULT_JOBS,
                show_default=True,
                help="Files transferred at once.",
            ),
            click.option("--overwrite", "policy", flag_value="overwrite", help="Replace files."),
            click.option(
                "--skip-existing", "policy", flag_value="skip", help="Keep existing files."
            ),
            human_option,
            click.option(
                "--allow-unverified",
                is_flag=True,
                help="Accept files no checksum can prove (no MD5 ETag, no additional "
                "checksum, part sizes unknown); by default they are kept aside and fail.",
            ),
        ]
    ):
        func = option(func)
    return func


def plan_for(
    driver: StorageDriver, location: Location, dest: str | None, recursive: bool
) -> DownloadPlan:
    """What ``pail get`` downloads: a prefix (``-r``, or a key ending in ``/``) into DEST
    (default ``.``) keeping key paths; one object to DEST (a folder, or a file name)."""
    key = location.key
    if recursive or not key or key.endswith("/"):
        if not recursive:
            raise CliError(
                [
                    f"pail: error: {printable(location.uri)} is a prefix; "
                    "use -r to download everything under it"
                ],
                EXIT_USAGE,
            )
        prefix = key if not key or key.endswith("/") else key + "/"
        plan = plan_prefix(driver, location.bucket, prefix, dest or ".")
        if plan.jobs or plan.refused or not key or key.endswith("/"):
            return plan
        # `get -r s3://b/file.txt`: no prefix of that name; fall back to the object.
    name = key.rpartition("/")[2]
    if dest is None or dest.endswith(("/", os.sep)) or os.path.isdir(dest):
        folder, rel = dest or ".", name
    else:
        folder, rel = os.path.dirname(dest) or ".", os.path.basename(dest)
    return plan_keys(driver, location.bucket, [key], folder, names={key: rel})


class _Display(JobDisplay[Downloader, DownloadJob]):
    """What ``pail get`` shows (:class:`~pail.cli.progress.JobDisplay`: the live figures
    and the conflict questions): a line per finished file, and its question's names."""

    @property
    def download(self) -> Downloader | None:
        """The running download: :attr:`job` under its own name (the tests set it so)."""
        return self.job

    @download.setter
    def download(self, download: Downloader) -> None:
        self.job = download

    def file(self, outcome: FileDone | Skipped | Failure) -> None:
        """The engine's ``on_file`` (a worker thread): one plain line on stdout."""
        if isinstance(outcome, FileDone):
            self.progress.line(
                f"downloaded {printable(outcome.key)} -> {printable(outcome.path)} "
                f"({self.detail(outcome)})"
            )
        elif isinstance(outcome, Skipped) and outcome.reason != "cancelled":
            self.progress.line(
                f"skipped {printable(outcome.key)} ({self.skip_text(outcome.reason)})"
            )

    def conflict(self, job: DownloadJob) -> tuple[str, str]:
        """The local file that exists, and the key that differs from it."""
        return printable(job.path), printable(job.key)


def run_get(
    flags: Flags,
    uri: str,
    dest: str | None,
    recursive: bool,
    jobs: int,
    policy: ConflictPolicy | None,
    allow_unverified: bool = False,
    human: bool = False,
) -> None:
    """``pail get``: plan, download with progress, summarise. Raises CliError / click Exit
    with the status described in the module doc."""
    driver, location = open_location(uri, flags)
    plan = plan_for(driver, location, dest, recursive)
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    display = _Display(live=stderr_is_live(), human=human)
    download = Downloader(
        driver,
        plan,
        jobs=jobs,
        conflict=policy or ("ask" if interactive else "skip"),
        resolve_conflict=display.ask if interactive else None,
        allow_unverified=allow_unverified,
        on_file=display.file,
    )
    display.job = download
    download.start()
    try:
        with display.progress:  # down again (and gone: transient) before any summary
            while download.wait(0.1) is None:
                display.answer_questions()
    except KeyboardInterrupt:
        # Stop now: workers are daemon threads and every byte written is recorded, so
        # nothing waits for a request that may hang for the whole read timeout.
        download.cancel()
        download.wait(1.0)
        download.flush()
        _interrupted(download.report(), len(plan.jobs))
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    _summarise(location, plan, download.report())


def _interrupted(report: DownloadReport, total: int) -> None:
    left = total - len(report.done) - len(report.skipped) - len(report.failed)
    click.echo(
        f"\npail: interrupted: {len(report.done):,} downloaded, {left:,} not finished "
        "(partial files kept; run the same command again to resume)",
        err=True,
    )


def _summarise(location: Location, plan: DownloadPlan, report: DownloadReport) -> None:
    done_bytes = sum(d.size for d in report.done)
    detail = size_text(done_bytes, True)
    if report.done:
        detail += f"; {report.verified_text()}"
    parts = [f"{len(report.done):,} downloaded ({detail})"]
    unverified = report.unverified
    failed = [f for f in report.failed if f not in unverified]
    for label, items in (
        ("skipped", report.skipped),
        ("cancelled", report.cancelled),
        ("not verified", unverified),
        ("failed", failed),
        ("refused", report.refused),
    ):
        if items:
            parts.append(f"{len(items):,} {label}")
    click.echo("pail: " + ", ".join(parts), err=True)
    kept = [s for s in report.skipped if s.reason == "exists"]
    for skipped in kept:
        click.echo(f"  kept existing {printable(skipped.path)} (--overwrite replaces it)", err=True)
    if report.ok:
        return
    lines = []
    for failure in failed:
        lines.append(
            f"  failed {printable(failure.key)}: {failure.code}: {printable(failure.message)}"
        )
    for failure in unverified:
        lines.append(f"  not verified {printable(failure.key)}: {printable(failure.message)}")
    for refused in report.refused:
        lines.append(f"  refused {printable(refused.key)}: {refused.reason} (never written)")
    for cancelled in report.cancelled:
        lines.append(f"  cancelled {printable(cancelled.key)} (partial kept; run again to resume)")
    raise CliError(["pail: error: some objects were not downloaded", *lines], _exit_status(report))


def _exit_status(report: DownloadReport) -> int:
    """One failure kind (all NotFound, all AccessDenied, ...) keeps its usual code; a mix,
    a checksum mismatch or a refused key is 1."""
    errors = [f.error for f in report.failed]
    if report.refused or report.cancelled or not errors:
        return EXIT_ERROR
    codes = {exit_code_for(e) if isinstance(e, StorageError) else EXIT_ERROR for e in errors}
    return codes.pop() if len(codes) == 1 else EXIT_ERROR


def run_url(flags: Flags, uri: str, expires: int) -> None:
    """``pail url``: print a presigned URL for one object (checked with HeadObject first,
    so a typo is a 404 rather than a URL that never works)."""
    driver, location = open_location(uri, flags)
    if not location.key or location.key.endswith("/"):
        raise CliError([f"pail: error: {printable(location.uri)} is not an object"], EXIT_USAGE)
    object_info(driver, location.bucket, location.key)  # pail.services.metadata
    click.echo(presigned_url(driver, location.bucket, location.key, expires))


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail get`` and ``pail url`` to ``group`` (``connection_options``/``flags_of``
    from pail.cli.main, which imports this module only when one of them is named)."""

    @group.command("get", short_help="Download an object, or a prefix with -r.")
    @connection_options
    @get_options
    @click.pass_context
    def get_command(ctx: click.Context, **options: Any) -> None:
        """Download URI (an object; with -r everything under the prefix, keeping key paths)
        into DEST (default: the current folder). Files are verified and renamed into place;
        an interrupted download resumes when run again. Exit status 1 if anything failed."""
        run_get(flags_of(ctx), **options)

    @group.command("url", short_help="Print a presigned URL for an object.")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/KEY]")
    @click.option(
        "--expires",
        type=expires_type(),  # one-line error out of 1..604800 (pail.cli.values)
        default=3600,
        show_default=True,
        help="Lifetime in seconds (at most 7 days).",
    )
    @click.pass_context
    def url_command(ctx: click.Context, uri: str, expires: int) -> None:
        """Print a URL that reads URI without credentials until it expires (S3 presigned
        GetObject; GCS V4 signed URL, which needs a service-account key)."""
        run_url(flags_of(ctx), uri, expires)


__all__ = ["get_options", "plan_for", "register", "run_get", "run_url"]
