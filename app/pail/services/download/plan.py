"""Planning a download: which keys go to which local paths, and which keys are refused.

A plan maps each object to a path under the destination folder, keeping the key's path
relative to a base prefix (``runs/7/model/weights.bin`` downloaded from ``runs/7/`` lands
in ``DEST/model/weights.bin``). Keys that would land outside the destination are refused
here, before anything is written (:mod:`pail.services.download.paths`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.services.download.paths import UnsafeKey, local_target


@dataclass(frozen=True)
class DownloadJob:
    """One object to download.

    Attributes:
        key: the object's key. rel: its ``/``-separated path below ``dest``.
        path: absolute local path of the final file.
        size: bytes (``None`` when not known; then the engine asks HeadObject).
        etag: ETag from the listing, unquoted. version_id: version / generation, if pinned.
        last_modified: UTC time of the object's last write (becomes the file's mtime).
    """

    key: str
    rel: str
    path: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = None
    last_modified: datetime | None = None


@dataclass(frozen=True)
class RefusedKey:
    """A key that is never written: its local path would leave the destination.
    ``reason`` is plain text (``"'..' segment"``, ``"absolute path"``...)."""

    key: str
    reason: str


@dataclass
class DownloadPlan:
    """What a download will do: ``jobs`` in listing order, ``refused`` keys, the store
    (``provider``, ``bucket``) and the destination folder ``dest`` (absolute)."""

    provider: str
    bucket: str
    dest: str
    jobs: list[DownloadJob] = field(default_factory=list)
    refused: list[RefusedKey] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """Sum of the known sizes of the jobs, in bytes."""
        return sum(job.size or 0 for job in self.jobs)


def _add(plan: DownloadPlan, entry: Entry, rel: str) -> None:
    try:
        path = local_target(plan.dest, rel)
    except UnsafeKey as exc:
        plan.refused.append(RefusedKey(entry.key, str(exc)))
        return
    plan.jobs.append(
        DownloadJob(
            key=entry.key,
            rel=rel,
            path=path,
            size=entry.size,
            etag=entry.etag,
            version_id=entry.version_id,
            last_modified=entry.last_modified,
        )
    )


def _is_folder_marker(entry: Entry) -> bool:
    # Zero-byte "folder/" objects created by consoles: no content, nothing to write.
    return entry.key.endswith("/") and not entry.size


def plan_prefix(driver: StorageDriver, bucket: str, prefix: str, dest: str) -> DownloadPlan:
    """Every object under ``prefix`` (recursive listing, ``delimiter=""``), each at its
    key relative to ``prefix`` below ``dest``. Lists every page before returning: call it
    from a worker thread.

    Raises:
        StorageError: the listing failed (NotFound, AccessDenied, ...).
    """
    plan = DownloadPlan(driver.provider, bucket, os.path.realpath(dest))
    for page in iter_pages(driver, bucket, prefix, delimiter=""):
        for entry in page.entries:
            if entry.is_prefix or _is_folder_marker(entry):
                continue
            _add(plan, entry, entry.key[len(prefix) :])
    return plan


def _common_folder(keys: list[str]) -> str:
    """The longest ``/``-ended prefix made of whole segments shared by every key's folder."""
    if not keys:
        return ""
    common = keys[0].split("/")[:-1]
    for key in keys[1:]:
        folder = key.split("/")[:-1]
        n = 0
        while n < min(len(common), len(folder)) and common[n] == folder[n]:
            n += 1
        common = common[:n]
    return "".join(segment + "/" for segment in common)


def plan_keys(
    driver: StorageDriver,
    bucket: str,
    items: Iterable[Entry | str],
    dest: str,
    *,
    base: str | None = None,
    names: Mapping[str, str] | None = None,
) -> DownloadPlan:
    """Selected objects (a multi-selection, or one object), below ``dest``.

    Args:
        items: listing entries (size and ETag known) or bare keys (looked up with
            ``head``, one request each).
        base: prefix the local paths are relative to; default: the longest common folder
            of the keys, so one object lands as ``dest/NAME``.
        names: ``{key: rel}`` overrides the relative path of a key (``pail get KEY FILE``).

    Raises:
        StorageError: a bare key's ``head`` failed.
    """
    plan = DownloadPlan(driver.provider, bucket, os.path.realpath(dest))
    entries: list[Entry] = []
    seen: set[str] = set()
    for item in items:
        key = item if isinstance(item, str) else item.key
        if key in seen:
            continue
        seen.add(key)
        if isinstance(item, str):
            info = driver.head(bucket, item)
            item = Entry(
                info.key,
                "object",
                info.size,
                info.last_modified,
                info.etag,
                info.storage_class,
                info.version_id,
            )
        if not item.is_prefix:
            entries.append(item)
    if base is None:
        base = _common_folder([e.key for e in entries])
    for entry in entries:
        if names and entry.key in names:
            rel = names[entry.key]
        elif entry.key.startswith(base):
            rel = entry.key[len(base) :]
        else:
            rel = entry.key.rpartition("/")[2]
        _add(plan, entry, rel)
    return plan
