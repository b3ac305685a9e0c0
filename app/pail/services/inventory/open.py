"""Opening a bucket's inventory in one call: locate the report, download it verified into
the cache, and hand the files to the query layer.

Usage (from a worker thread; ``on_progress`` is called from that thread)::

    inventory = open_inventory(driver, "bucket", on_progress=show, cancel=event)
    inventory.level("runs/")          # pail.services.inventory.query.Inventory
    inventory.close()

Stages (:class:`~pail.services.inventory.model.OpenProgress`): ``locating`` (inventory
configurations, report folders, the manifest and its checksum; a note about a report
passed over comes as a ``locating`` progress whose ``detail`` is that note),
``downloading`` (bytes of the data files; nothing when the cache holds the verified files),
``preparing`` (files converted / to convert: the query layer turns CSV/ORC into Parquet
once, cached beside the files), ``ready``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pail.core.text import printable
from pail.drivers.base import StorageDriver
from pail.services.inventory.fetch import FetchCancelled, fetch_report
from pail.services.inventory.locate import locate
from pail.services.inventory.model import OpenProgress

if TYPE_CHECKING:
    from pail.services.inventory.query import Inventory

__all__ = ["WORK_FOLDER", "default_cache_dir", "open_inventory"]

#: The query layer's work folder inside a report's cache folder.
WORK_FOLDER = "work"


def default_cache_dir() -> Path:
    """Where downloaded reports are kept: ``platformdirs.user_cache_path("pail") /
    "inventory"`` (``~/.cache/pail/inventory`` on Linux). Each report has its own folder
    (:func:`pail.services.inventory.fetch.cache_folder`); nothing is removed on its own."""
    import platformdirs

    return platformdirs.user_cache_path("pail") / "inventory"


def _check(cancel: threading.Event | None, when: str) -> None:
    if cancel is not None and cancel.is_set():
        raise FetchCancelled(f"cancelled {when}")


def open_inventory(
    driver: StorageDriver,
    bucket: str,
    *,
    manifest: str | None = None,
    cache_dir: Path | None = None,
    cancel: threading.Event | None = None,
    on_progress: Callable[[OpenProgress], None] | None = None,
) -> Inventory:
    """The newest complete inventory report of ``bucket``, downloaded, verified and ready
    to query.

    Args:
        driver: the connection that opens ``bucket``; it also reads the destination.
        bucket: the inventoried (source) bucket.
        manifest: ``None``: the bucket's inventory configurations (S3), newest complete
            report. A manifest URI (``s3://dest/.../manifest.json``,
            ``gs://dest/.../ID_TIME_manifest.json``): that report. A prefix URI: the newest
            complete report at or below it. Text without a scheme: a key or prefix in
            ``bucket`` (:func:`pail.services.inventory.locate.locate`).
        cache_dir: the download cache (default :func:`default_cache_dir`).
        cancel: set from another thread to stop; a download stops at its next chunk and
            resumes on the next open.
        on_progress: :class:`OpenProgress` updates, from the calling thread.

    Returns:
        :class:`pail.services.inventory.query.Inventory` over the report (the caller
        closes it).

    Raises:
        NoInventory: no configuration or no complete report (the message says what was
            looked at). ManifestInvalid: the manifest's checksum, or a data file's size or
            checksum, does not match. FetchCancelled: ``cancel`` was set (at any stage,
            the query layer's conversion included). InventoryError: a data file the query
            layer cannot read, a manifest URI on another store. StorageError: a listing or
            download failed as the store said (AccessDenied on a destination this
            connection cannot read).
    """
    from pail.services.inventory.query import Inventory, QueryCancelled

    def progress(update: OpenProgress) -> None:
        if on_progress is not None:
            on_progress(update)

    where = manifest or f"{driver.provider}://{bucket}/"
    progress(OpenProgress("locating", detail=printable(where)))
    _check(cancel, "before the report was located")
    located = locate(driver, bucket, manifest=manifest)
    report = located.report
    for note in located.notes:
        progress(OpenProgress("locating", detail=note))
    progress(OpenProgress("locating", detail=printable(report.manifest_uri)))
    _check(cancel, "after the report was located")
    fetched = fetch_report(
        driver,
        report,
        manifest_md5=located.manifest_md5,
        cache_dir=cache_dir if cache_dir is not None else default_cache_dir(),
        cancel=cancel,
        on_progress=on_progress,
    )
    progress(OpenProgress("preparing", 0, len(fetched.files), report.label))
    work = fetched.folder / WORK_FOLDER
    work.mkdir(exist_ok=True)
    try:
        inventory = Inventory(
            report, fetched.files, work_dir=work, on_progress=on_progress, cancel=cancel
        )
    except QueryCancelled as exc:  # one error for a cancelled open, whatever the stage
        raise FetchCancelled("cancelled while the report was prepared") from exc
    if cancel is not None and cancel.is_set():
        inventory.close()
        raise FetchCancelled("cancelled while the report was prepared")
    progress(OpenProgress("ready", detail=report.label))
    return inventory
