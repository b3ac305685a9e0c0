"""The shapes of a transfer (issue 16): its two ends, what it will do, what it did.

A transfer copies or moves objects between any two stores pail opens (S3, GCS, a local
folder): an upload is a copy whose source is local, a rename is a move inside one bucket.
:class:`TransferPlan` is what :func:`~pail.services.transfer.plan.plan_transfer` found
(shown to the user before anything is written); :class:`TransferReport` is what the
:class:`~pail.services.transfer.engine.Transfer` job did, the download report's outcomes
plus a move's deletions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import humanize

from pail.drivers.base import Entry, StorageDriver
from pail.drivers.errors import NotFound
from pail.services.download import DownloadPlan, DownloadReport, Failure, RefusedKey

#: ``"copy"`` (an upload is a copy whose source is local) or ``"move"`` (copy, verify,
#: delete the source; a rename is a move inside one bucket).
Kind = Literal["copy", "move"]


@dataclass(frozen=True)
class Side:
    """One end of a transfer.

    Attributes:
        driver: the connection's driver. The same driver object on both sides means a
            server-side copy (the bytes never leave the store).
        bucket: the bucket (for a local folder: the folder, as the local driver names it).
        key: an object key, a prefix ending ``/``, or ``""`` (the whole bucket).
        uri: what to show for this end (a formatted URI or the text typed), plain text.
        connection: the connection's name when it is a saved/open one.
    """

    driver: StorageDriver
    bucket: str
    key: str
    uri: str
    connection: str | None = None

    @property
    def provider(self) -> str:
        """``"s3"``, ``"gcs"`` or ``"local"`` (the driver's)."""
        return self.driver.provider

    def same_store(self, other: Side) -> bool:
        """Whether both ends are one connection of one remote store: the same driver
        object, or the same provider, endpoint and connection name (a saved connection's
        name stands for its credentials: another name may sign as someone else; ``None``
        on both ends is the environment's connection, resolved once per process). Then a
        copy is server-side and a move inside one bucket is a rename. Never for folders."""
        if self.provider != other.provider or self.provider == "local":
            return False
        if self.driver is other.driver:
            return True
        return self.connection == other.connection and self.driver.endpoint == other.driver.endpoint


@dataclass(frozen=True)
class TransferItem:
    """One object to copy or move.

    Attributes:
        source_key: the object's key at the source. dest_key: its key at the destination.
        rel: its ``/``-separated path below the two bases (the name for a single object).
        size: bytes (``None`` when unknown). etag: the source's ETag at planning, unquoted.
        version_id: the source's version / generation at planning, if any.
        last_modified: UTC time of the source's last write.
        existing: the destination object found at planning (a conflict), else ``None``.
    """

    source_key: str
    dest_key: str
    rel: str
    size: int | None
    etag: str | None
    version_id: str | None
    last_modified: datetime | None
    existing: Entry | None = None


@dataclass
class TransferPlan:
    """What a transfer will do.

    Attributes:
        kind: ``"copy"`` or ``"move"``. source, dest: the two ends (their keys are the bases).
        items: the objects, in listing order. refused: keys never written (a destination key
            the store or the file system cannot take), with the reason.
        server_side: same store (same driver object): CopyObject / ``objects.rewrite`` /
            a local file copy; the bytes never leave it.
        download: when the destination is a local folder and the source remote, the
            download engine's plan (the transfer runs :class:`~pail.services.download.Downloader`).
        notes: plain-text remarks for the user (one line each).
    """

    kind: Kind
    source: Side
    dest: Side
    items: list[TransferItem] = field(default_factory=list)
    refused: list[RefusedKey] = field(default_factory=list)
    server_side: bool = False
    download: DownloadPlan | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Sum of the known sizes of the items, in bytes."""
        return sum(item.size or 0 for item in self.items)

    @property
    def conflicts(self) -> list[TransferItem]:
        """Items whose destination key already exists."""
        return [item for item in self.items if item.existing is not None]

    def summary(self) -> str:
        """One plain line: ``"copy 12 objects (1.2 GiB) from s3://a/x/ to gs://b/y/
        (streamed); 2 already exist"``."""
        n = len(self.items)
        noun = "object" if n == 1 else "objects"
        size = humanize.naturalsize(self.total_bytes, binary=True)
        how = "server-side" if self.server_side else "streamed"
        if self.download is not None:
            how = "download"
        text = f"{self.kind} {n} {noun} ({size}) from {self.source.uri} to {self.dest.uri} ({how})"
        if self.conflicts:
            text += f"; {len(self.conflicts)} already exist"
        if self.refused:
            text += f"; {len(self.refused)} refused"
        return text


class PlanError(ValueError):
    """A transfer refused as a whole (the destination inside the source, a move onto
    itself, nothing to copy, a prefix without ``recursive``); ``str()`` is one plain
    sentence."""


class NoSource(PlanError, NotFound):
    """The source is neither an object nor a prefix (or a key of an explicit list is
    missing): a :class:`PlanError` (the whole transfer is refused) that is also the
    store's :class:`~pail.drivers.errors.NotFound` (a ``FileNotFoundError``: exit 3 in
    the CLI, as ``pail get`` of a missing key).

    Its fields are those of the request that found nothing: ``operation`` (``HeadObject``
    for the key's 404, or the listing's, e.g. ``ListObjectsV2``), ``bucket``, ``key``,
    ``status``, ``code`` ``NoSuchKey``. ``message`` reads ``"nothing to copy: URI does not
    exist"``. Front-ends should catch it by type (``NotFound``) before ``PlanError``.
    """

    def __init__(self, message: str, **fields: Any) -> None:
        # PlanError comes first in the MRO (ValueError.__init__); the fields are NotFound's.
        NotFound.__init__(self, message, **fields)


@dataclass
class TransferReport(DownloadReport):
    """Every outcome of a transfer: the download report's ``done``/``skipped``/``failed``/
    ``refused``/``cancelled`` (``FileDone.key`` is the source key, ``.path`` the
    destination URI) and, for a move:

    Attributes:
        deleted: source keys the store confirmed deleted.
        kept: source keys NOT deleted, and why (copy failed or unverified, source changed,
            delete refused by the store): :class:`~pail.services.download.Failure`.
        notes: plain-text remarks (a store without conditional writes, ...).
    """

    deleted: list[str] = field(default_factory=list)
    kept: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No failure, refusal, cancellation, unverified object or kept source."""
        return super().ok and not self.kept
