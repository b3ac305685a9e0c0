"""``pail put``, ``pail cp`` and ``pail mv``: verified writes through :mod:`pail.services.transfer`.

* ``pail put [OPTIONS] PATH... DEST``: upload local files (folders with ``-r``). Each PATH
  keeps its name under DEST when DEST ends in ``/``, names a bucket, is an existing prefix
  or when several PATHs are given; otherwise a file becomes the object DEST and a folder's
  files go under the prefix ``DEST/``.
* ``pail cp [OPTIONS] SRC DEST``: copy an object (a prefix with ``-r``: everything under it
  to the same relative keys under DEST) within a store (server-side: S3 CopyObject, GCS
  rewrite), across stores (streamed and verified end to end) or to a local folder (the
  download engine of ``pail get``, through the same plan).
* ``pail mv [OPTIONS] SRC DEST``: copy, verify, then delete each source key (only keys
  whose copy was verified and that still hold the planned ETag; the rest are listed as
  kept). SRC and DEST in the same bucket of the same connection: a rename
  (:func:`pail.services.transfer.plan_rename`).

Steps, as ``pail get`` and ``pail rm``: the plan (listed on a worker thread; Ctrl-C stops
at once, nothing written) and its summary on stderr; ``--dry-run`` prints every item on
stdout (``SRC -> DEST (N bytes)``, ``exists`` for a conflict, refused keys with their
reason) and writes nothing. Then the transfer with a transient progress bar on a terminal
(:mod:`pail.cli.progress`: files, bytes, rate, ETA) and one plain line per finished item
on stdout (``uploaded PATH -> URI (N bytes, crc64nvme)``, ``copied``, ``downloaded``,
``moved`` once the source is confirmed deleted, ``skipped ... (identical)``), then a
summary on stderr listing every failure, unverified item, refused key and kept source; an
AccessDenied failure gets the explanation and grant of :func:`pail.services.explain.explain`
once per operation (what ``pail doctor`` prints). ``--json``: one JSON document on stdout
instead of the item lines (exact keys, sizes in bytes).

Existing destination keys: identical ones are skipped; different ones are asked about on a
terminal (overwrite / skip / keep both, a capital letter for all), otherwise skipped and
reported, unless ``--overwrite`` or ``--skip-existing``.

Write settings (S3 request parameters, over the connection's ``write_args``): ``--sse
AES256|aws:kms``, ``--sse-kms-key-id``, ``--acl``, ``--storage-class``,
``--checksum-algorithm`` (the additional checksum S3 keeps and checks; default CRC64NVME),
``--content-type`` (default: guessed from each file's name by the engine, as ``aws s3 cp``
does), ``--metadata KEY=VALUE``.

Exit status (as ``pail get``, :mod:`pail.cli.errors`): 0 when every item was written,
identical or skipped (and with ``--dry-run``); 1 when any item failed, was refused,
cancelled or could not be verified, or a moved source was kept; 2 for bad usage (a bad
URI, a prefix or folder without ``-r``, a plan refused as a whole); 3/4/5/6 when the whole
command failed that way (no such bucket or object, access denied to the listing,
credentials, endpoint); 130 on Ctrl-C (multipart uploads are kept: the same command
resumes them).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import click

from pail.cli.common import human_option
from pail.cli.errors import (
    EXIT_ERROR,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    CliError,
)
from pail.cli.progress import (
    JobDisplay,
    bar_column,
    size_words,
    stderr_is_live,
    text_column,
    wait_for,
)
from pail.cli.values import Count
from pail.config.flags import Flags
from pail.core.text import printable
from pail.core.units import plural, size_text
from pail.core.uri import format_uri
from pail.drivers.base import WriteOptions
from pail.drivers.errors import AccessDenied, NotFound
from pail.services.explain import explain
from pail.services.transfer import (
    DEFAULT_JOBS,
    ConflictAnswer,
    ConflictPolicy,
    Failure,
    FileDone,
    Kind,
    PlanError,
    Side,
    Skipped,
    Transfer,
    TransferItem,
    TransferPlan,
    TransferReport,
    plan_rename,
    plan_transfer,
    side_for,
)

if TYPE_CHECKING:
    from rich.progress import ProgressColumn

#: ``--sse``: S3 ServerSideEncryption values pail sends (SSE-S3, SSE-KMS).
SSE_CHOICES = ("AES256", "aws:kms")
#: ``--acl``: S3 canned ACLs (Amazon S3 User Guide, "Canned ACL").
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
#: ``--checksum-algorithm``: S3 additional checksums (Amazon S3 User Guide, "Checking
#: object integrity").
CHECKSUM_ALGORITHMS = ("CRC64NVME", "CRC32C", "CRC32", "SHA256", "SHA1")

#: Seconds pail waits after Ctrl-C for the transfer's threads to record what they did.
INTERRUPT_GRACE = 1.0


# -- options ---------------------------------------------------------------------------


def _add(func: Callable[..., Any], options: list[Callable[..., Any]]) -> Callable[..., Any]:
    for option in reversed(options):
        func = option(func)
    return func


def transfer_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options ``put``, ``cp`` and ``mv`` share (the flags of ``pail get`` plus
    ``--dry-run``, ``--json`` and the write settings); the command receives them under
    their own names (``policy`` for ``--overwrite``/``--skip-existing``)."""
    func = human_option(func)
    return _add(
        func,
        [
            click.option("-r", "--recursive", is_flag=True, help="Everything under the prefix."),
            click.option(
                "-j",
                "--jobs",
                type=Count(1, 64),
                default=DEFAULT_JOBS,
                show_default=True,
                help="Objects transferred at once (copies inside one store, which cost "
                "this machine nothing, run up to 4 times as many, at most 32).",
            ),
            click.option("--overwrite", "policy", flag_value="overwrite", help="Replace objects."),
            click.option(
                "--skip-existing", "policy", flag_value="skip", help="Keep existing objects."
            ),
            click.option("--dry-run", is_flag=True, help="Print the plan; write nothing."),
            click.option(
                "--allow-unverified",
                is_flag=True,
                help="Accept objects no checksum can prove; by default they fail.",
            ),
            click.option(
                "--json", "as_json", is_flag=True, help="The report as one JSON document."
            ),
            click.option(
                "--sse",
                type=click.Choice(SSE_CHOICES),
                help="Server-side encryption (S3): AES256 (SSE-S3) or aws:kms (SSE-KMS).",
            ),
            click.option(
                "--sse-kms-key-id", metavar="ID", help="The KMS key for --sse aws:kms (S3)."
            ),
            click.option(
                "--acl",
                type=click.Choice(CANNED_ACLS),
                metavar="CANNED",
                help="Canned ACL (S3): private, bucket-owner-full-control, public-read...",
            ),
            click.option(
                "--storage-class",
                metavar="CLASS",
                help="Storage class: STANDARD_IA, GLACIER_IR, NEARLINE... (default: the bucket's).",
            ),
            click.option(
                "--checksum-algorithm",
                type=click.Choice(CHECKSUM_ALGORITHMS, case_sensitive=False),
                metavar="ALG",
                help="The additional checksum S3 keeps and checks: "
                + ", ".join(CHECKSUM_ALGORITHMS)
                + " (default CRC64NVME).",
            ),
            click.option(
                "--content-type",
                metavar="TYPE",
                help="MIME type (default for uploads: guessed from each file's name).",
            ),
            click.option(
                "--metadata",
                multiple=True,
                metavar="KEY=VALUE",
                help="User metadata (repeatable).",
            ),
        ],
    )


@dataclass(frozen=True)
class Settings:
    """Everything the options decide beyond the locations (built by the commands)."""

    recursive: bool = False
    jobs: int = DEFAULT_JOBS
    policy: ConflictPolicy | None = None
    dry_run: bool = False
    allow_unverified: bool = False
    as_json: bool = False
    human: bool = False
    options: WriteOptions = field(default_factory=WriteOptions)


def usage(message: str) -> CliError:
    """``pail: error: MESSAGE`` (made printable), exit status 2."""
    return CliError([f"pail: error: {printable(message)}"], EXIT_USAGE)


def write_options(
    *,
    sse: str | None = None,
    sse_kms_key_id: str | None = None,
    acl: str | None = None,
    storage_class: str | None = None,
    checksum_algorithm: str | None = None,
    content_type: str | None = None,
    metadata: Sequence[str] = (),
) -> WriteOptions:
    """The :class:`~pail.drivers.base.WriteOptions` for the write settings: ``extra`` holds
    the S3 request parameters ``ServerSideEncryption``, ``SSEKMSKeyId`` and ``ACL`` (they win
    over the connection's ``write_args``), ``metadata`` the ``KEY=VALUE`` pairs.

    Raises:
        CliError: exit 2 for ``--sse-kms-key-id`` without ``--sse aws:kms``, a metadata
            pair without ``=`` or with an empty key, or a storage class that is not a word.
    """
    if sse_kms_key_id and sse != "aws:kms":
        raise usage("--sse-kms-key-id needs --sse aws:kms")
    extra: dict[str, str] = {}
    if sse:
        extra["ServerSideEncryption"] = sse
    if sse_kms_key_id:
        extra["SSEKMSKeyId"] = sse_kms_key_id
    if acl:
        extra["ACL"] = acl
    pairs: dict[str, str] = {}
    for pair in metadata:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise usage(f"--metadata: {pair[:60]!r} is not KEY=VALUE")
        pairs[name.strip()] = value
    if storage_class is not None and not storage_class.replace("_", "").isalnum():
        raise usage(f"--storage-class: {storage_class[:40]!r} is not a storage class name")
    return WriteOptions(
        content_type=content_type or None,
        metadata=pairs,
        storage_class=storage_class.upper() if storage_class else None,
        checksum_algorithm=checksum_algorithm.upper() if checksum_algorithm else None,
        extra=extra,
    )


def _settings(options: dict[str, Any]) -> Settings:
    """Pop the shared options out of a command's keyword arguments."""
    opts = write_options(
        sse=options.pop("sse"),
        sse_kms_key_id=options.pop("sse_kms_key_id"),
        acl=options.pop("acl"),
        storage_class=options.pop("storage_class"),
        checksum_algorithm=options.pop("checksum_algorithm"),
        content_type=options.pop("content_type"),
        metadata=options.pop("metadata"),
    )
    return Settings(
        recursive=options.pop("recursive"),
        jobs=options.pop("jobs"),
        policy=options.pop("policy"),
        dry_run=options.pop("dry_run"),
        allow_unverified=options.pop("allow_unverified"),
        as_json=options.pop("as_json"),
        human=options.pop("human"),
        options=opts,
    )


def _check_destination(dest: Side, options: WriteOptions) -> None:
    """Refuse settings the destination cannot apply (exit 2) rather than drop them:
    SSE and ACLs are S3 request parameters; a local folder keeps no storage class,
    checksum setting or metadata."""
    provider = dest.provider
    if provider != "s3" and options.extra:
        names = ", ".join(_OPTION_OF[k] for k in options.extra)
        raise usage(f"{names}: S3 settings; {printable(dest.uri)} is not on S3")
    if provider == "local" and (options.storage_class or options.metadata):
        raise usage(f"--storage-class/--metadata: {printable(dest.uri)} is a local folder")


_OPTION_OF = {"ServerSideEncryption": "--sse", "SSEKMSKeyId": "--sse-kms-key-id", "ACL": "--acl"}


# -- where things are, as text ----------------------------------------------------------


def where(side: Side, key: str) -> str:
    """``key`` of ``side`` as the user reads it: a local file's absolute path, else the
    store's URI (``s3://bucket/key``). Plain text: the caller makes it printable."""
    if side.provider == "local":
        root = getattr(side.driver, "root", None)
        if root and getattr(side.driver, "single_bucket", False):
            return os.path.join(root, *key.split("/")) if key else root
        if root:
            return os.path.join(root, side.bucket, *key.split("/"))
    return format_uri(side.provider, side.bucket, key)


def _verb(plan: TransferPlan) -> str:
    if plan.kind == "move":
        return "moved"
    if plan.source.provider == "local" and plan.dest.provider != "local":
        return "uploaded"
    if plan.dest.provider == "local" and plan.source.provider != "local":
        return "downloaded"
    return "copied"


# -- planning -----------------------------------------------------------------------------


def _prefix_exists(side: Side, prefix: str) -> bool:
    """Whether anything is stored under ``prefix`` (one listing request, one key)."""
    page = side.driver.list_page(side.bucket, prefix, delimiter="/", page_size=1)
    return bool(page.entries)


def _need_bucket(dest: Side) -> None:
    """Raise the store's NotFound (NoSuchBucket: exit 3, the whole command) when a remote
    destination bucket does not exist, before anything is planned: the planner reads a
    missing destination key as "no conflict", and every write would then fail alone. A
    listing the identity may not make (AccessDenied) proves nothing either way: the
    writes say what they can do."""
    if dest.provider == "local":
        return
    with contextlib.suppress(AccessDenied):
        dest.driver.list_page(dest.bucket, dest.key, delimiter="/", page_size=1)


def _under(side: Side, prefix: str) -> Side:
    """``side`` moved to the prefix ``prefix`` (same driver, so a server-side copy stays
    possible)."""
    if side.provider == "local":
        uri = where(side, prefix)
    else:
        uri = format_uri(side.provider, side.bucket, prefix)
    return replace(side, key=prefix, uri=uri)


def _as_prefix(key: str) -> str:
    return key if not key or key.endswith("/") else key + "/"


def _planned(
    make: Callable[[Callable[[int], None]], list[TransferPlan]],
) -> list[TransferPlan]:
    """Run a planner on a worker thread with a transient "listed N" display; Ctrl-C exits
    130 at once (nothing was written). Whole-plan refusals become usage errors (exit 2);
    storage errors go up to :mod:`pail.cli.main` (exit 3/4/5/6)."""
    listed = [0]

    def on_listed(count: int) -> None:
        listed[0] = count

    def columns() -> list[ProgressColumn]:
        return [bar_column(), text_column("{task.fields[listed]}")]

    try:
        return wait_for(
            lambda: make(on_listed),
            stop=lambda: None,  # a listing has no cancel: the daemon thread is left behind
            columns=columns,
            poll=lambda: {
                "completed": 0,
                "total": None,
                "listed": f"planning: {listed[0]:,} listed",
            },
            interrupted="pail: interrupted while planning; nothing was written",
            name="pail-cli-plan",
        )
    except PlanError as exc:
        # A source that is neither an object nor a prefix (NoSource: also the store's
        # NotFound) goes up with the storage errors: exit 3, as `pail get` of a missing
        # key. Every other refusal is a usage error (exit 2).
        if isinstance(exc, NotFound):
            raise
        raise usage(str(exc)) from None


def put_plans(
    paths: Sequence[str], dest_text: str, flags: Flags, settings: Settings
) -> list[TransferPlan]:
    """One plan per PATH of ``pail put`` (see the module doc for where each goes).

    Raises:
        CliError: exit 3 for a PATH that does not exist; exit 2 for a PATH that is not a
            local file or folder, a folder without ``-r``, a refused plan.
        StorageError / InvalidURI: from resolving DEST or planning (the caller's exit code).
    """
    for path in paths:
        if not os.path.lexists(os.path.expanduser(path)):
            raise CliError(
                [f"pail: error: no such file or folder: {printable(path)}"], EXIT_NOT_FOUND
            )
    sources = []
    for path in paths:
        side = side_for(path, flags)
        if side.provider != "local":
            raise usage(f"{path}: pail put uploads local files; use pail cp for objects")
        folder = os.path.isdir(os.path.expanduser(path))
        if folder and not settings.recursive:
            raise usage(f"{path} is a folder; use -r to upload everything in it")
        sources.append((path, side, folder))
    dest = side_for(dest_text, flags)
    _check_destination(dest, settings.options)

    def plans(on_listed: Callable[[int], None]) -> list[TransferPlan]:
        _need_bucket(dest)
        into = len(paths) > 1 or not dest.key or dest.key.endswith("/")
        if not into and any(folder for _, _, folder in sources):
            into = _prefix_exists(dest, dest.key + "/")
        found = []
        for path, side, folder in sources:
            base = _as_prefix(dest.key)
            if folder:
                name = os.path.basename(os.path.normpath(os.path.abspath(os.path.expanduser(path))))
                target = _under(dest, base + name + "/" if into else base)
            else:
                target = _under(dest, base) if into else dest
            found.append(
                plan_transfer(
                    side, target, kind="copy", recursive=settings.recursive, on_listed=on_listed
                )
            )
        return found

    return _planned(plans)


def _local_name(text: str, side: Side, flags: Flags) -> Side:
    """A local DEST that does not exist yet, in an existing folder, without a trailing
    separator (``./best.pt``): the name in that folder, so one object becomes that file
    (as ``pail get URI FILE`` and ``cp``), and a prefix (``-r``) that folder. Read as a
    path it would be a new folder named ``best.pt`` holding the object under its own
    name."""
    if side.provider != "local" or "://" in text or text.endswith(("/", os.sep)):
        return side
    path = os.path.abspath(os.path.expanduser(text))
    parent = os.path.dirname(path)
    if os.path.lexists(path) or not os.path.isdir(parent) or parent == path:
        return side
    folder = side_for(parent, flags)
    return replace(folder, key=os.path.basename(path), uri=text)


def copy_plan(
    source_text: str, dest_text: str, flags: Flags, settings: Settings, *, move: bool
) -> TransferPlan:
    """The plan of ``pail cp`` / ``pail mv``: a rename for a move inside one bucket of one
    connection, else :func:`~pail.services.transfer.plan_transfer`.

    Raises:
        CliError: exit 2 for a refused plan (a prefix without ``-r``, a move onto itself...),
            3 for a source that does not exist.
        StorageError / InvalidURI: from resolving the texts or planning.
    """
    source = side_for(source_text, flags)
    dest = _local_name(dest_text, side_for(dest_text, flags), flags)
    _check_destination(dest, settings.options)
    rename = move and source.same_store(dest) and source.bucket == dest.bucket

    def plan(on_listed: Callable[[int], None]) -> list[TransferPlan]:
        _need_bucket(dest)
        if rename:
            return [_rename_plan(source, dest, settings.recursive)]
        kind: Kind = "move" if move else "copy"
        return [
            plan_transfer(
                source, dest, kind=kind, recursive=settings.recursive, on_listed=on_listed
            )
        ]

    return _planned(plan)[0]


def _rename_plan(source: Side, dest: Side, recursive: bool) -> TransferPlan:
    """``pail mv`` inside one bucket: SRC a prefix (ending ``/``, the bucket, or with ``-r``
    a name with something under ``NAME/``) -> the prefix DEST (a ``/`` added); SRC an
    object -> DEST, or DEST + its name when DEST ends ``/`` or is an existing prefix."""
    key = source.key
    prefix = not key or key.endswith("/")
    if not prefix and recursive and _prefix_exists(source, key + "/"):
        key, prefix = key + "/", True
    if prefix:
        if not recursive:
            raise PlanError(f"{source.uri} is a prefix; use -r to move everything under it")
        return plan_rename(replace(source, key=key), _as_prefix(dest.key))
    new = dest.key
    if not new or new.endswith("/") or _prefix_exists(dest, new + "/"):
        new = _as_prefix(new) + key.rpartition("/")[2]
    return plan_rename(source, new)


# -- the display ----------------------------------------------------------------------------


class _Display(JobDisplay[Transfer, TransferItem]):
    """What a transfer shows (:class:`~pail.cli.progress.JobDisplay`: the live figures
    and the conflict questions, as ``pail get``): a line per finished item (source and
    destination), and its question's names."""

    noun = "object"
    skipped_exists = "a different object exists; --overwrite replaces it"
    skipped_identical = "identical"

    def __init__(self, plan: TransferPlan, settings: Settings, live: bool) -> None:
        super().__init__(live, human=settings.human)
        self.plan = plan
        self.settings = settings
        self.verb = _verb(plan)
        self.items = {item.source_key: item for item in plan.items}

    def source_text(self, key: str) -> str:
        """The source of ``key`` for a line: a local path or a URI."""
        return printable(where(self.plan.source, key))

    def dest_text(self, outcome: FileDone | Skipped | Failure) -> str:
        item = self.items.get(outcome.key)
        if outcome.path:
            return printable(outcome.path)
        return printable(where(self.plan.dest, item.dest_key if item else outcome.key))

    def file(self, outcome: FileDone | Skipped | Failure) -> None:
        """The engine's ``on_file`` (a worker thread): one plain line on stdout (none with
        ``--json``; a move's line waits for the source's confirmed delete)."""
        if self.settings.as_json:
            return
        if isinstance(outcome, FileDone) and self.plan.kind != "move":
            self.progress.line(self.done_line(self.verb, outcome))
        elif isinstance(outcome, Skipped) and outcome.reason != "cancelled":
            if self.plan.kind == "move" and outcome.reason == "identical":
                return  # said with the move's lines: was the source deleted?
            self.progress.line(
                f"skipped {self.source_text(outcome.key)} -> {self.dest_text(outcome)} "
                f"({self.skip_text(outcome.reason)})"
            )

    def done_line(self, verb: str, done: FileDone) -> str:
        return (
            f"{verb} {self.source_text(done.key)} -> {self.dest_text(done)} ({self.detail(done)})"
        )

    def conflict(self, item: TransferItem) -> tuple[str, str]:
        """The destination that exists, and the source that differs from it."""
        return (
            printable(where(self.plan.dest, item.dest_key)),
            printable(where(self.plan.source, item.source_key)),
        )


# -- running ---------------------------------------------------------------------------------


def _print_plan(plan: TransferPlan) -> None:
    """The plan's summary and notes on stderr (before anything is written)."""
    click.echo(f"pail: {printable(plan.summary())}", err=True)
    if plan.kind == "move":
        click.echo("  each source is deleted only after its copy is verified", err=True)
    for note in plan.notes:
        click.echo(f"  note: {printable(note)}", err=True)


def _dry_run(plan: TransferPlan, settings: Settings) -> None:
    """Every item on stdout (``SRC -> DEST (N bytes[, exists])``) and every refused key."""
    if settings.as_json:
        return
    for item in plan.items:
        detail = size_words(item.size, settings.human)
        if item.existing is not None:
            detail += ", exists"
        click.echo(
            f"{plan.kind} {printable(where(plan.source, item.source_key))} -> "
            f"{printable(where(plan.dest, item.dest_key))} ({detail})"
        )
    for refused in plan.refused:
        click.echo(f"refused {printable(refused.key)}: {printable(refused.reason)}")


def _execute(plan: TransferPlan, settings: Settings, display: _Display) -> TransferReport:
    """Run one plan's :class:`~pail.services.transfer.Transfer` under the live display.

    Raises:
        click.exceptions.Exit / CliError: exit 130 on Ctrl-C, after saying what was done.
    """
    interactive = sys.stdin.isatty() and sys.stderr.isatty()
    transfer = Transfer(
        plan,
        jobs=settings.jobs,
        conflict=settings.policy or ("ask" if interactive else "skip"),
        resolve_conflict=display.ask if interactive else None,
        allow_unverified=settings.allow_unverified,
        on_file=display.file,
        options=settings.options,
    )
    display.job = transfer
    transfer.start()
    try:
        with display.progress:  # down again (transient) before any summary
            while transfer.wait(0.1) is None:
                display.answer_questions()
    except KeyboardInterrupt:
        # Stop now: workers are daemon threads; a multipart upload in flight is kept
        # (recorded in the state folder) for the next run to resume.
        transfer.cancel()
        transfer.wait(INTERRUPT_GRACE)
        # A download's bytes so far are recorded for the resume (as `pail get` does),
        # when the engine offers it.
        flush = getattr(transfer, "flush", None)
        if callable(flush):
            flush()
        report = transfer.report()
        left = len(plan.items) - len(report.done) - len(report.skipped) - len(report.failed)
        verb = "copied" if plan.kind == "move" else display.verb
        raise CliError(
            [
                f"pail: interrupted: {len(report.done):,} {verb}, {left:,} not finished "
                "(run the same command again to resume)"
            ],
            EXIT_INTERRUPTED,
        ) from None
    return transfer.report()


@dataclass
class _Outcome:
    plan: TransferPlan
    report: TransferReport | None = None  # None: a dry run


def run_transfer(plans: list[TransferPlan], settings: Settings, command: str) -> None:
    """Show, run (unless ``--dry-run``) and summarise ``plans`` one after the other.

    Raises:
        CliError: exit 1 when anything failed (every failure listed), 130 on Ctrl-C.
    """
    outcomes: list[_Outcome] = []
    for_all: ConflictAnswer | None = None
    for plan in plans:
        _print_plan(plan)
        if settings.dry_run:
            _dry_run(plan, settings)
            outcomes.append(_Outcome(plan))
            continue
        display = _Display(plan, settings, live=stderr_is_live())
        display.for_all = for_all  # "all" answered for an earlier PATH holds here too
        report = _execute(plan, settings, display)
        for_all = display.for_all
        if plan.kind == "move" and not settings.as_json:
            _move_lines(display, report)
        outcomes.append(_Outcome(plan, report))
    if settings.as_json:
        click.echo(json.dumps(_document(command, outcomes, settings.dry_run), indent=2))
    if settings.dry_run:
        total = sum(len(p.items) for p in plans)
        click.echo(
            f"pail: dry run: {plural(total, 'object')} planned; nothing was written", err=True
        )
        return
    lines: list[str] = []
    explained: set[tuple[str | None, str | None]] = set()
    for outcome in outcomes:
        assert outcome.report is not None
        lines += _summarise(outcome.plan, outcome.report, explained)
    if lines:
        raise CliError(lines, EXIT_ERROR)


def _move_lines(display: _Display, report: TransferReport) -> None:
    """A move's item lines, once the deletes are known: ``moved`` for each source the
    store confirmed deleted (its copy verified, or an identical object already there),
    else ``copied ...; source kept`` / ``skipped ... (identical); source kept``."""
    deleted = set(report.deleted)
    for done in report.done:
        if done.key in deleted:
            click.echo(display.done_line("moved", done))
        else:
            click.echo(display.done_line("copied", done) + "; source kept")
    for skipped in report.skipped:
        if skipped.reason != "identical":
            continue
        where_to = f"{display.source_text(skipped.key)} -> {display.dest_text(skipped)}"
        if skipped.key in deleted:
            click.echo(f"moved {where_to} (an identical object was there; source deleted)")
        else:
            click.echo(f"skipped {where_to} (identical); source kept")


def _summarise(
    plan: TransferPlan, report: TransferReport, explained: set[tuple[str | None, str | None]]
) -> list[str]:
    """The summary line on stderr; returns the error lines (failures, unverified, refused,
    cancelled, kept sources, explanations), empty when all is well."""
    verb = _verb(plan)
    done_bytes = sum(d.size for d in report.done)
    detail = size_text(done_bytes, True)
    if report.done:
        detail += f"; {report.verified_text()}"
    if plan.kind == "move":
        parts = [f"{len(report.deleted):,} moved; {len(report.done):,} copied ({detail})"]
    else:
        parts = [f"{len(report.done):,} {verb} ({detail})"]
    unverified = report.unverified
    failed = [f for f in report.failed if f not in unverified]
    # A source whose copy failed or was cancelled is kept by definition: its own line says
    # why. Listed as kept: the other sources not deleted (unverified, skipped, changed,
    # delete refused or unconfirmed).
    shown = {f.key for f in report.failed} | {c.key for c in report.cancelled}
    kept_after_copy = [k for k in report.kept if k.key not in shown]
    for label, items in (
        ("skipped", report.skipped),
        ("cancelled", report.cancelled),
        ("not verified", unverified),
        ("failed", failed),
        ("refused", report.refused),
        ("source kept", kept_after_copy),
    ):
        if items:
            parts.append(plural(len(items), label, label.replace("source", "sources")))
    click.echo("pail: " + ", ".join(parts), err=True)
    for skipped in report.skipped:
        if skipped.reason == "exists":
            click.echo(
                f"  kept existing {printable(where(plan.dest, _dest_key(plan, skipped.key)))} "
                "(--overwrite replaces it)",
                err=True,
            )
    for note in report.notes:
        if note not in plan.notes:
            click.echo(f"  note: {printable(note)}", err=True)
    if report.ok and not report.kept:
        return []
    source = plan.source
    lines = [f"pail: error: some objects were not {verb}"]
    for failure in failed:
        lines.append(
            f"  failed {printable(where(source, failure.key))}: {failure.code}: "
            f"{printable(failure.message)}"
        )
    for failure in unverified:
        lines.append(
            f"  not verified {printable(where(source, failure.key))}: {printable(failure.message)}"
        )
    for refused in report.refused:
        lines.append(
            f"  refused {printable(refused.key)}: {printable(refused.reason)} (never written)"
        )
    for cancelled in report.cancelled:
        lines.append(f"  cancelled {printable(where(source, cancelled.key))} (run again to resume)")
    for kept in kept_after_copy:
        lines.append(
            f"  kept source {printable(where(source, kept.key))}: {kept.code}: "
            f"{printable(kept.message)}"
        )
    lines += _explanations([*failed, *report.kept], explained)
    return lines


def _dest_key(plan: TransferPlan, source_key: str) -> str:
    for item in plan.items:
        if item.source_key == source_key:
            return item.dest_key
    return source_key


def _explanations(
    failures: Sequence[Failure], explained: set[tuple[str | None, str | None]]
) -> list[str]:
    """The explanation and grant of the first AccessDenied failure of each operation and
    bucket (the same for every key: shown once)."""
    lines: list[str] = []
    for failure in failures:
        error = failure.error
        if not isinstance(error, AccessDenied):
            continue
        seen = (error.operation, error.bucket)
        if seen in explained:
            continue
        explained.add(seen)
        lines += [f"  {printable(line)}" for line in explain(error).lines()]
    return lines


# -- JSON ------------------------------------------------------------------------------------


def _document(command: str, outcomes: list[_Outcome], dry_run: bool) -> dict[str, Any]:
    """The ``--json`` document: ``command``, ``dry_run``, ``ok`` and one entry per plan
    (kind, source/dest URIs, summary, items with exact keys and sizes; with the report:
    done/skipped/failed/refused/cancelled, and for moves deleted/kept)."""
    transfers = []
    ok = True
    for outcome in outcomes:
        plan, report = outcome.plan, outcome.report
        entry: dict[str, Any] = {
            "kind": plan.kind,
            "source": plan.source.uri,
            "dest": plan.dest.uri,
            "server_side": plan.server_side,
            "summary": plan.summary(),
            "objects": len(plan.items),
            "bytes": plan.total_bytes,
            "notes": list(plan.notes),
        }
        if report is None:
            entry["items"] = [
                {
                    "source": where(plan.source, item.source_key),
                    "dest": where(plan.dest, item.dest_key),
                    "size": item.size,
                    "exists": item.existing is not None,
                }
                for item in plan.items
            ]
            entry["refused"] = [{"key": r.key, "reason": r.reason} for r in plan.refused]
        else:
            ok = ok and report.ok and not report.kept
            entry.update(_report_json(plan, report))
        transfers.append(entry)
    return {"command": command, "dry_run": dry_run, "ok": ok, "transfers": transfers}


def _report_json(plan: TransferPlan, report: TransferReport) -> dict[str, Any]:
    def failure(f: Failure) -> dict[str, Any]:
        return {
            "source": where(plan.source, f.key),
            "dest": f.path,
            "code": f.code,
            "message": f.message,
        }

    return {
        "done": [
            {
                "source": where(plan.source, d.key),
                "dest": d.path,
                "size": d.size,
                "verified": d.verified,
                "resumed_from": d.resumed_from,
            }
            for d in report.done
        ],
        "skipped": [
            {"source": where(plan.source, s.key), "dest": s.path, "reason": s.reason}
            for s in report.skipped
        ],
        "failed": [failure(f) for f in report.failed],
        "refused": [{"key": r.key, "reason": r.reason} for r in report.refused],
        "cancelled": [where(plan.source, c.key) for c in report.cancelled],
        "deleted": [where(plan.source, k) for k in report.deleted],
        "kept": [failure(f) for f in report.kept],
        "verified": dict(report.methods()),
        "report_notes": list(report.notes),
        "ok": report.ok and not report.kept,
    }


# -- commands ---------------------------------------------------------------------------------


def run_put(flags: Flags, paths: tuple[str, ...], dest: str, **options: Any) -> None:
    """``pail put``: plan each PATH, run, summarise (see the module doc)."""
    settings = _settings(options)
    run_transfer(put_plans(paths, dest, flags, settings), settings, "put")


def run_cp(flags: Flags, source: str, dest: str, *, move: bool = False, **options: Any) -> None:
    """``pail cp`` (``move=False``) and ``pail mv``: plan, run, summarise."""
    settings = _settings(options)
    plan = copy_plan(source, dest, flags, settings, move=move)
    run_transfer([plan], settings, "mv" if move else "cp")


def register(group: click.Group, connection_options: Callable, flags_of: Callable) -> None:
    """Add ``pail put``, ``pail cp`` and ``pail mv`` to ``group`` (``connection_options``/
    ``flags_of`` from pail.cli.main, which imports this module only when one is named)."""

    @group.command("put", short_help="Upload files (folders with -r), verified.")
    @connection_options
    @click.argument("paths", nargs=-1, required=True, metavar="PATH...")
    @click.argument("dest", metavar="DEST")
    @transfer_options
    @click.pass_context
    def put_command(ctx: click.Context, **options: Any) -> None:
        """Upload each PATH (a file; a folder with -r) to DEST (s3://bucket/prefix/,
        gs://..., NAME:bucket/prefix). Each object is checksummed on the way and verified
        against what the store reports; existing keys are asked about (skipped without a
        terminal) unless --overwrite or --skip-existing. Exit status 1 if anything failed."""
        run_put(flags_of(ctx), **options)

    @group.command("cp", short_help="Copy objects within or across stores, verified.")
    @connection_options
    @click.argument("source", metavar="SRC")
    @click.argument("dest", metavar="DEST")
    @transfer_options
    @click.pass_context
    def cp_command(ctx: click.Context, **options: Any) -> None:
        """Copy SRC (an object; with -r everything under the prefix) to DEST: server-side
        within a store, streamed and verified across stores, or into a local folder.
        Exit status 1 if anything failed."""
        run_cp(flags_of(ctx), **options)

    @group.command("mv", short_help="Move or rename: copy, verify, then delete the source.")
    @connection_options
    @click.argument("source", metavar="SRC")
    @click.argument("dest", metavar="DEST")
    @transfer_options
    @click.pass_context
    def mv_command(ctx: click.Context, **options: Any) -> None:
        """Move SRC (an object; with -r a prefix) to DEST: each source key is deleted only
        after its copy is verified and while it still holds the planned version; the rest
        are listed as kept. Inside one bucket this is a rename. Exit status 1 if anything
        failed or a source was kept."""
        run_cp(flags_of(ctx), move=True, **options)


__all__ = [
    "CANNED_ACLS",
    "CHECKSUM_ALGORITHMS",
    "SSE_CHOICES",
    "Settings",
    "copy_plan",
    "put_plans",
    "register",
    "run_cp",
    "run_put",
    "run_transfer",
    "transfer_options",
    "where",
    "write_options",
]
