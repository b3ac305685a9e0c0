"""``pail doctor URI [--write-probes] [--json]``: the access check on the command line.

Prints the identity (STS GetCallerIdentity / the GCS credentials), the credential source
with the masked key id, one row per capability (✔ allowed, ✘ denied, ? not checked,
! error) with the IAM action and resource, explanations for the failed rows and the
policy snippet that grants exactly what is missing (:mod:`pail.services.access.check`,
:mod:`pail.services.explain`, :mod:`pail.services.access.policy`). ``--json`` prints the same as
one JSON document. The output holds no secret.

Exit status: 0 when every *needed* capability that was checked is allowed - listing the
prefix (s3:ListBucket / storage.objects.list) and reading objects (s3:GetObject /
storage.objects.get); other denials (writes, versioning, lifecycle, ListAllMyBuckets) are
shown but do not fail the check. Otherwise the code of the first failed needed row, from
the table in :mod:`pail.cli.main`: 4 denied, 5 credentials rejected, 6 endpoint unreachable,
3 no such bucket, 1 anything else.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from pail.cli.errors import EXIT_DENIED, EXIT_USAGE, CliError, exit_code_for
from pail.config.flags import Flags
from pail.core.connection import ConnectionSpec
from pail.core.text import printable
from pail.services.access.check import AccessReport, check_access
from pail.services.access.report import report_json, report_text
from pail.services.explain import explain_report
from pail.services.locations import NoBucket, open_spec, read_target


def doctor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The arguments and options of ``pail doctor`` (connection flags added by the caller)."""
    for option in reversed(
        [
            click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]"),
            click.option(
                "--write-probes",
                is_flag=True,
                help="Also probe PutObject/DeleteObject with a probe object under the prefix "
                "(always removed; reported if it cannot be).",
            ),
            click.option("--json", "as_json", is_flag=True, help="One JSON document."),
        ]
    ):
        func = option(func)
    return func


def doctor_target(uri: str, flags: Flags) -> tuple[ConnectionSpec, str, str]:
    """``(spec, bucket, prefix)`` for a URI, a path or ``NAME:bucket/prefix``.

    Raises:
        InvalidURI / ConfigError; CliError (exit 2) when no bucket is named.
    """
    target = read_target(uri, flags)
    try:
        location = target.need_location()
    except NoBucket as exc:
        raise CliError(
            [f"pail: error: {printable(str(exc))} (pail doctor s3://BUCKET/PREFIX)"], EXIT_USAGE
        ) from None
    return target.spec, location.bucket, location.key


def doctor_exit_code(report: AccessReport) -> int:
    """0, or the exit status of the first failed needed row (see module doc)."""
    failures = report.needed_failures
    if not failures:
        return 0
    error = failures[0].error
    return EXIT_DENIED if error is None else exit_code_for(error)


def run_doctor(flags: Flags, uri: str, *, write_probes: bool, as_json: bool) -> None:
    """Run the check and print it; exits with :func:`doctor_exit_code` when non-zero."""
    spec, bucket, prefix = doctor_target(uri, flags)
    driver, resolved = open_spec(spec)
    report = check_access(driver, bucket, prefix, write_probes=write_probes, resolved=resolved)
    explanations = explain_report(report, resolved.spec)
    if as_json:
        click.echo(json.dumps(report_json(report, explanations), indent=2, ensure_ascii=False))
    else:
        click.echo(report_text(report, explanations, resolved.spec), nl=False)
    code = doctor_exit_code(report)
    if code:
        raise click.exceptions.Exit(code)


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail doctor`` to ``group`` (``connection_options``/``flags_of`` from pail.cli.main)."""

    @group.command("doctor", short_help="What this identity may do on a bucket/prefix, and why.")
    @connection_options
    @doctor_options
    @click.pass_context
    def doctor_command(ctx: click.Context, uri: str, write_probes: bool, as_json: bool) -> None:
        """Check access to URI (s3://bucket/prefix, gs://..., or NAME:bucket/prefix): who
        the credentials belong to, one row per capability (✔ allowed, ✘ denied, ? not
        checked), why each failure happened, and a policy that grants what is missing.

        Write probes (PutObject/DeleteObject) run only with --write-probes, on a probe
        object under the prefix that is removed afterwards. Exit status 0 when listing
        and reading are allowed; 4 when denied; 5 bad credentials; 6 unreachable.
        """
        run_doctor(flags_of(ctx), uri, write_probes=write_probes, as_json=as_json)
