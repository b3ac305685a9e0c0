"""Listing every object under a prefix, with child prefixes listed concurrently.

A recursive listing (``delimiter=""``) is one sequential stream of pages: page 2 needs page
1's continuation token. Listing the level first (``delimiter="/"``) splits the keys into
the objects directly at the prefix and one disjoint group per common prefix, and those
groups can be listed at the same time. Every key under the prefix lands in exactly one
group, so the union is the complete listing; it is returned in key order (UTF-8 binary
order, as S3 and GCS list).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.services.daemon_pool import DaemonPool

#: Child prefixes listed at once.
DEFAULT_WORKERS = 16


class WalkCancelled(Exception):
    """The caller's cancel event was set; the listing is incomplete and not returned."""


def walk_objects(
    driver: StorageDriver,
    bucket: str,
    prefix: str,
    *,
    workers: int = DEFAULT_WORKERS,
    cancel: threading.Event | None = None,
    on_page: Callable[[int], None] | None = None,
) -> list[Entry]:
    """Every object whose key starts with ``prefix`` (``""``: the whole bucket), in key
    order. ``on_page(n)`` is called (from any thread, serialised) with the number of
    objects in each page as it arrives.

    Raises:
        StorageError: any listing failed (the first error met).
        WalkCancelled: ``cancel`` was set.
    """
    lock = threading.Lock()
    stop = threading.Event()  # set when the walk fails or is interrupted: children stop

    def check() -> None:
        if cancel is not None and cancel.is_set():
            raise WalkCancelled("listing cancelled")
        if stop.is_set():
            raise WalkCancelled("listing stopped")

    def report(entries: list[Entry]) -> None:
        if on_page is not None:
            with lock:
                on_page(len(entries))

    def list_child(child: str) -> list[Entry]:
        found: list[Entry] = []
        for page in iter_pages(driver, bucket, child, delimiter=""):
            check()
            objects = [e for e in page.entries if not e.is_prefix and e.key.startswith(child)]
            found.extend(objects)
            report(objects)
        return found

    direct: list[Entry] = []
    # Daemon threads: an interrupt (Ctrl-C) or a failure returns at once, without waiting
    # for listings still in flight (pail.services.daemon_pool).
    with DaemonPool(workers, name="pail-walk") as pool:
        futures = []
        try:
            for page in iter_pages(driver, bucket, prefix, delimiter="/"):
                check()
                objects = []
                for entry in page.entries:
                    if not entry.key.startswith(prefix):
                        continue
                    if entry.is_prefix:
                        futures.append(pool.submit(list_child, entry.key))
                    else:
                        objects.append(entry)
                direct.extend(objects)
                report(objects)
            results = [future.result() for future in futures]
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            raise
    every = direct + [entry for group in results for entry in group]
    every.sort(key=lambda e: e.key.encode("utf-8", "surrogatepass"))
    return every
