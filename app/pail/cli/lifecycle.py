"""``pail lifecycle export|show|apply``: a stale filter as the store's own lifecycle rule.

* ``export`` prints the rule JSON that would be added (S3 ``{"Rules": [...]}`` for
  PutBucketLifecycleConfiguration, GCS ``{"lifecycle": {"rule": [...]}}``); no request is
  sent. Notes (rounding, versioned buckets) go to stderr.
* ``show`` prints the bucket's rules.
* ``apply`` shows the existing rules, the new ones and what merging changes, asks on a
  terminal (refuses without ``--yes`` otherwise), then writes the merged configuration.
  Existing rules are never replaced silently: a rule with the same ID and other content
  needs ``--replace``.

The URI's key is the rule's prefix, exactly as written (``runs`` also matches
``runs-old/``; end it with ``/`` for one folder). Filter options are
:mod:`pail.services.delete.filters`' (durations ``30d``/``12h``, sizes ``100MB``/``1GiB``);
those a rule cannot express are refused with the reason (exit status 2), and so are
values out of range (one line, exit status 2): durations above 100 years,
``--noncurrent-days`` outside 1..36525, ``--keep-noncurrent`` outside 1..100.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from pail.cli.cleanup import (
    apply_rules,
    filters_of,
    lifecycle_rules,
    rule_notes,
    rules_text,
    stale_filter_options,
)
from pail.cli.common import yes_option
from pail.cli.values import Count
from pail.core.text import printable
from pail.core.units import MAX_DURATION
from pail.services import lifecycle as lc
from pail.services.locations import open_location

#: Most days ``--noncurrent-days`` takes: 100 years, as for every duration
#: (:data:`pail.core.units.MAX_DURATION`).
MAX_DAYS = MAX_DURATION.days
#: Most versions ``--keep-noncurrent`` keeps: S3 NewerNoncurrentVersions allows "up to 100"
#: (S3 API reference, NoncurrentVersionExpiration).
MAX_NEWER_NONCURRENT = 100


def rule_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``export`` and ``apply``: ``pail rm``'s stale filter
    (:func:`pail.cli.cleanup.stale_filter_options`; what a rule cannot express is refused
    with the reason) and the noncurrent versions' options."""
    options = [
        click.option(
            "--noncurrent-days",
            type=Count(1, MAX_DAYS, "days (100 years)"),
            metavar="N",
            help="Also delete noncurrent versions N days after they became noncurrent.",
        ),
        click.option(
            "--keep-noncurrent",
            type=Count(1, MAX_NEWER_NONCURRENT, "versions"),
            metavar="N",
            help="Keep the N newest noncurrent versions (needs --noncurrent-days).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return stale_filter_options(func)


def build(provider: str, prefix: str, opts: dict[str, Any]) -> lc.RuleExport:
    """Rules for the filter options. Raises CliError (exit 2) when they do not parse or
    cannot be expressed."""
    return lifecycle_rules(
        provider,
        prefix,
        filters_of(opts),
        noncurrent_days=opts.get("noncurrent_days"),
        keep_noncurrent=opts.get("keep_noncurrent"),
    )


def run_export(flags: Any, uri: str, as_json: bool, opts: dict[str, Any]) -> None:
    """``pail lifecycle export``: print the rule document (``--json``: with provider,
    bucket, prefix and notes around it)."""
    driver, location = open_location(uri, flags)
    export = build(driver.provider, location.key, opts)
    if as_json:
        doc = {
            "provider": export.provider,
            "bucket": location.bucket,
            "prefix": location.key,
            "rules": export.rules,
            "notes": export.notes,
        }
        click.echo(json.dumps(doc, indent=2, default=str))
    else:
        click.echo(lc.export_json(export.provider, export.rules))
    rule_notes(location.key, export)


def run_show(flags: Any, uri: str, as_json: bool) -> None:
    """``pail lifecycle show``: the bucket's rules, one summary line each (``--json``: the
    provider's document)."""
    driver, location = open_location(uri, flags)
    rules = lc.current_rules(driver, location.bucket)
    if as_json:
        click.echo(lc.export_json(driver.provider, rules))
        return
    click.echo(f"Lifecycle rules of {printable(location.uri)}:")
    click.echo("\n".join(rules_text(rules)))


def run_apply(flags: Any, uri: str, replace: bool, yes: bool, opts: dict[str, Any]) -> None:
    """``pail lifecycle apply``: show existing + new + merged, confirm, write."""
    driver, location = open_location(uri, flags)
    export = build(driver.provider, location.key, opts)
    apply_rules(driver, location.bucket, location.key, export, replace, yes)


def register(
    group: click.Group,
    connection_options: Callable[[Any], Any],
    flags_of: Callable[[click.Context], Any],
) -> None:
    """Add the ``lifecycle`` command group to ``group`` (the ``pail`` group)."""

    @group.group("lifecycle", short_help="Export/apply a stale filter as lifecycle rules.")
    def lifecycle_group() -> None:
        """The store deletes stale objects itself: a stale filter as an S3 lifecycle
        configuration rule or a GCS lifecycle rule (export, show, apply)."""

    @lifecycle_group.command("export")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]")
    @rule_options
    @click.option("--json", "as_json", is_flag=True, help="Wrap with provider, prefix, notes.")
    @click.pass_context
    def export_command(ctx: click.Context, uri: str, as_json: bool, **opts: Any) -> None:
        """Print the lifecycle rule JSON the filter makes for URI's bucket and prefix
        (no request is sent)."""
        run_export(flags_of(ctx), uri, as_json, opts)

    @lifecycle_group.command("show")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET]")
    @click.option("--json", "as_json", is_flag=True, help="The provider's JSON document.")
    @click.pass_context
    def show_command(ctx: click.Context, uri: str, as_json: bool) -> None:
        """Print the lifecycle rules of URI's bucket."""
        run_show(flags_of(ctx), uri, as_json)

    @lifecycle_group.command("apply")
    @connection_options
    @click.argument("uri", metavar="URI|NAME[:BUCKET/PREFIX]")
    @rule_options
    @click.option("--replace", is_flag=True, help="Replace existing rules with the same ID.")
    @yes_option()
    @click.pass_context
    def apply_command(ctx: click.Context, uri: str, replace: bool, yes: bool, **opts: Any) -> None:
        """Add the filter's rules to URI's bucket, merged with its existing rules (never
        replaced silently). Shows existing, new and merged rules; asks on a terminal,
        refuses without --yes otherwise."""
        run_apply(flags_of(ctx), uri, replace, yes, opts)
