"""After a delete: check that the keys the store confirmed deleted are really gone.

``pail rm --verify`` (and any front-end) calls :func:`verify_deleted` with the keys a
:class:`pail.services.delete.engine.Deleter` counted as deleted (:attr:`DeleteReport.confirmed`).
It asks the store again, by the cheapest exact route:

* a few keys (at most :data:`HEAD_LIMIT`), and every versioned key (a version id can only
  be checked by asking for it): ``head`` each one; NotFound means gone.
* more plain keys: list the folders that held them, recursively (the distinct parent
  prefixes, those nested in another one dropped), and look each key up in the listing.
  The listing of a prefix is complete (paged to its end), so a key it does not contain is
  gone. S3 and GCS list with strong read-after-delete consistency (S3 User Guide, "Amazon
  S3 data consistency model"; Cloud Storage docs, "Consistency").

A key still listed is reported with its current size and time; ``rewritten`` says its
last-modified time is not the one planned (someone wrote it again after the plan), which
is a different story from a delete that did not happen. A check that cannot be made (the
listing or a HEAD fails) is never read as "gone": the error is returned and the result is
not :attr:`VerifyResult.complete`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from pail.drivers.base import StorageDriver
from pail.drivers.errors import NotFound
from pail.services.delete.plan import PlannedKey
from pail.services.jobs import DaemonPool
from pail.services.walk import WalkCancelled, walk_objects

#: Up to this many keys are checked one HEAD each rather than by listing their folders.
HEAD_LIMIT = 50
#: HEAD requests (or folder listings) in flight at once.
VERIFY_WORKERS = 8


class VerifyCancelled(Exception):
    """The caller's cancel event was set: the check is incomplete and not returned."""


@dataclass(frozen=True)
class StillPresent:
    """A key reported deleted that the store still has: ``key``, ``version_id`` (as
    deleted; ``None`` = the current version), its current ``size`` (bytes) and
    ``last_modified`` (UTC), and ``rewritten`` (its time differs from the planned one)."""

    key: str
    version_id: str | None
    size: int | None
    last_modified: datetime | None
    rewritten: bool = False


@dataclass
class VerifyResult:
    """What the re-check found.

    Attributes:
        checked: keys checked. present: those still in the store (see :class:`StillPresent`).
        method: ``"head"``, ``"list"``, ``"head+list"`` or ``"none"`` (nothing to check).
        requests: HEAD requests plus folders listed.
        errors: checks that failed (plain text); their keys are neither gone nor present.
        unchecked: keys whose check failed.
    """

    checked: int = 0
    present: list[StillPresent] = field(default_factory=list)
    method: str = "none"
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    unchecked: int = 0

    @property
    def complete(self) -> bool:
        """Every key was checked (no error)."""
        return not self.errors

    @property
    def ok(self) -> bool:
        """Every key was checked and every one is gone."""
        return self.complete and not self.present


def parent_prefixes(keys: Iterable[str]) -> list[str]:
    """The folders (``a/b/``; ``""`` for keys at the root) that hold ``keys``, sorted, with
    any folder inside another one of the set left out (listing the outer one recursively
    covers it)."""
    folders = sorted({key.rpartition("/")[0] + "/" if "/" in key else "" for key in keys})
    kept: list[str] = []
    for folder in folders:  # sorted: an ancestor comes before its descendants
        if not any(folder.startswith(outer) for outer in kept):
            kept.append(folder)
    return kept


def verify_deleted(
    driver: StorageDriver,
    bucket: str,
    keys: Iterable[PlannedKey],
    *,
    head_limit: int = HEAD_LIMIT,
    workers: int = VERIFY_WORKERS,
    cancel: threading.Event | None = None,
    on_checked: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Ask the store whether each of ``keys`` (reported deleted) is gone; see the module
    doc for the route taken. ``on_checked(n)`` is called with the running count of keys
    checked (from any thread).

    Raises:
        VerifyCancelled: ``cancel`` was set.
    """
    items = list(keys)
    result = VerifyResult(checked=0)
    if not items:
        return result
    versioned = [item for item in items if item.version_id]
    plain = [item for item in items if not item.version_id]
    by_head = versioned + (plain if len(plain) <= head_limit else [])
    by_list = [] if len(plain) <= head_limit else plain
    lock = threading.Lock()

    def check_cancel() -> None:
        if cancel is not None and cancel.is_set():
            raise VerifyCancelled("verification cancelled")

    def counted(n: int) -> None:
        with lock:
            result.checked += n
            total = result.checked
        if on_checked is not None:
            on_checked(total)

    def head_one(item: PlannedKey) -> None:
        check_cancel()
        try:
            info = driver.head(bucket, item.key, version_id=item.version_id)
        except NotFound:
            pass  # gone
        except Exception as exc:  # StorageError, or anything else: not checked, not gone
            with lock:
                result.errors.append(f"{item.key}: {exc}")
                result.unchecked += 1
            return
        else:
            present = StillPresent(
                item.key,
                item.version_id,
                info.size,
                info.last_modified,
                _rewritten(item.last_modified, info.last_modified),
            )
            with lock:
                result.present.append(present)
        finally:
            with lock:
                result.requests += 1
        counted(1)

    def list_folder(folder: str, wanted: dict[str, PlannedKey]) -> None:
        check_cancel()
        try:
            entries = walk_objects(driver, bucket, folder, workers=4, cancel=cancel)
        except WalkCancelled:
            raise VerifyCancelled("verification cancelled") from None
        except Exception as exc:  # StorageError, or anything else: not checked, not gone
            with lock:
                result.errors.append(f"listing {folder or '(bucket root)'}: {exc}")
                result.unchecked += len(wanted)
                result.requests += 1
            return
        found = []
        for entry in entries:
            item = wanted.get(entry.key)
            if item is not None:
                found.append(
                    StillPresent(
                        item.key,
                        None,
                        entry.size,
                        entry.last_modified,
                        _rewritten(item.last_modified, entry.last_modified),
                    )
                )
        with lock:
            result.present.extend(found)
            result.requests += 1
        counted(len(wanted))

    jobs: list[tuple[Callable[..., None], tuple[object, ...]]] = [
        (head_one, (item,)) for item in by_head
    ]
    if by_list:
        folders = parent_prefixes(item.key for item in by_list)
        groups: dict[str, dict[str, PlannedKey]] = {folder: {} for folder in folders}
        for item in by_list:
            # The first (outermost) listed folder that holds the key.
            home = next(f for f in folders if item.key.startswith(f))
            groups[home][item.key] = item
        jobs += [(list_folder, (folder, wanted)) for folder, wanted in groups.items()]
    with DaemonPool(workers, name="pail-verify") as pool:
        futures = [pool.submit(fn, *args) for fn, args in jobs]
        for future in futures:
            future.result()  # re-raises VerifyCancelled
    result.method = "+".join(m for m, used in (("head", by_head), ("list", by_list)) if used)
    result.present.sort(key=lambda p: (p.key, p.version_id or ""))
    return result


def _rewritten(planned: datetime | None, now: datetime | None) -> bool:
    """The object's time moved since the plan. A listing gives milliseconds, HEAD's
    Last-Modified whole seconds (RFC 9110 HTTP-date): when either time has no fraction,
    compare to the second, else exactly."""
    if planned is None or now is None:
        return False
    if planned.microsecond == 0 or now.microsecond == 0:
        return planned.replace(microsecond=0) != now.replace(microsecond=0)
    return planned != now


__all__ = [
    "HEAD_LIMIT",
    "StillPresent",
    "VerifyCancelled",
    "VerifyResult",
    "parent_prefixes",
    "verify_deleted",
]
