"""Planning a transfer: which source objects go to which destination keys, which
destination keys already exist (conflicts) and which are refused.

Everything is listed before anything is written, so the user sees the whole plan
(:meth:`TransferPlan.summary`, the conflicts, the refused keys) first. Call these from a
worker thread: they list and HEAD.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from pail.config.flags import Flags
from pail.core.uri import format_uri
from pail.drivers.base import Entry, StorageDriver, iter_pages
from pail.drivers.errors import NotFound
from pail.services.download import DownloadJob, DownloadPlan, RefusedKey
from pail.services.download.paths import UnsafeKey, local_target, unsafe_reason
from pail.services.transfer.model import (
    Kind,
    NoSource,
    PlanError,
    Side,
    TransferItem,
    TransferPlan,
)

#: Longest key S3 and GCS accept, in UTF-8 bytes (S3 User Guide, "Naming objects";
#: GCS "Object naming requirements").
MAX_KEY_BYTES = 1024


def side_for(text: str, flags: Flags | None = None) -> Side:
    """The :class:`Side` a typed location names: a URI (``s3://b/k``, ``gs://b/p/``), a
    saved connection's ``NAME:bucket/key`` or a local path (a file or a folder, which
    becomes a local-folder Side), read by :mod:`pail.services.locations` (the only place
    that reads typed locations). ``flags``: the connection flags (``--endpoint-url`` ...)
    applied over the connection's settings, or ``None``.

    Raises:
        InvalidURI: the text does not parse or names no bucket. StorageError /
            ConfigError / SecretsUnavailable: the connection cannot be opened.
    """
    from pail.services.locations import open_spec, read_target

    target = read_target(text, flags)
    location = target.need_location()
    driver = open_spec(target.spec).driver
    name = target.spec.name if target.saved else None
    return Side(driver, location.bucket, location.key, text, name)


def _is_prefix_key(key: str) -> bool:
    return key == "" or key.endswith("/")


def _is_folder_marker(entry: Entry) -> bool:
    return entry.key.endswith("/") and not entry.size


def _objects_under(driver: StorageDriver, bucket: str, prefix: str) -> Iterator[Entry]:
    for page in iter_pages(driver, bucket, prefix, delimiter=""):
        for entry in page.entries:
            if not entry.is_prefix and not _is_folder_marker(entry):
                yield entry


def _has_children(driver: StorageDriver, bucket: str, prefix: str) -> bool:
    try:
        page = driver.list_page(bucket, prefix, delimiter="/", page_size=1)
    except NotFound:  # a local folder that does not exist (yet)
        return False
    return bool(page.entries)


def _head_entry(driver: StorageDriver, bucket: str, key: str) -> Entry | None:
    try:
        return _head(driver, bucket, key)
    except NotFound:
        return None


def _head(driver: StorageDriver, bucket: str, key: str) -> Entry:
    """The object at ``key`` as an Entry. Raises the driver's NotFound when there is none."""
    info = driver.head(bucket, key)
    return Entry(
        info.key,
        "object",
        info.size,
        info.last_modified,
        info.etag,
        info.storage_class,
        info.version_id,
    )


def _no_source(source: Side, key: str, kind: Kind, found: NotFound) -> NoSource:
    """The error for a source ``key`` that is neither an object nor a prefix:
    :class:`NoSource` (a NotFound with code ``NoSuchKey``, exit 3 in the CLI) with the
    operation and HTTP fields of the request that found nothing (``found``: the HEAD's
    404, or the NotFound of the listing below ``key/``)."""
    root = getattr(source.driver, "root", None) if source.provider == "local" else None
    uri = source.uri if key == source.key else format_uri(source.provider, source.bucket, key, root)
    return NoSource(
        f"nothing to {kind}: {uri} does not exist",
        operation=found.operation or "HeadObject",
        provider=source.provider,
        bucket=source.bucket,
        key=key,
        status=found.status,
        code="NoSuchKey",
        request_id=found.request_id,
        endpoint=found.endpoint,
    )


def dest_key_problem(dest: Side, key: str) -> str | None:
    """Why ``key`` cannot be written at ``dest``'s store, or ``None``: empty, longer than
    1,024 UTF-8 bytes (S3/GCS), ending ``/`` (a folder marker), or for a local folder a
    path :func:`pail.services.download.paths.unsafe_reason` refuses."""
    if not key:
        return "empty key"
    if key.endswith("/"):
        return "a key ending '/' names a folder"
    if dest.provider == "local":
        return unsafe_reason(key)
    if len(key.encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
        return f"key longer than {MAX_KEY_BYTES} bytes"
    return None


def local_folder(side: Side) -> str:
    """The folder on disk of a local Side's bucket (the driver's root, or its sub-folder
    named after the bucket)."""
    root = str(getattr(side.driver, "root", ""))
    if getattr(side.driver, "single_bucket", False):
        return root
    return os.path.join(root, side.bucket)


def plan_transfer(
    source: Side,
    dest: Side,
    *,
    kind: Kind = "copy",
    recursive: bool = False,
    keys: Sequence[str] | None = None,
    on_listed: Callable[[int], None] | None = None,
) -> TransferPlan:
    """What copying (or moving) ``source`` to ``dest`` will do.

    * ``source.key`` an object: that object, to ``dest.key`` + its name when ``dest.key``
      is ``""``, ends ``/`` or is an existing prefix/folder; else ``dest.key`` is the new
      key.
    * ``source.key`` a prefix (ends ``/``, or ``""``; a key that is not an object but has
      objects below it counts as the prefix ``key/``): needs ``recursive``; every object
      under it (recursive listing, zero-byte folder markers skipped), to
      ``dest.key`` (+ ``/``) + its path below the prefix.
    * ``keys``: explicit keys and prefixes (ending ``/``) under ``source.key``, their
      common base (the app's marks). Prefixes are listed recursively.

    The destination prefix is listed once (recursive) to find conflicts; a single object
    is looked up with HEAD. ``on_listed(n)`` reports the objects found so far.

    Raises:
        NoSource: (a PlanError and a NotFound) the source key is neither an object nor a
            prefix, or an explicit key of ``keys`` is missing: code ``NoSuchKey``, the
            operation that found nothing (HeadObject, or the listing's).
        NotFound: the source bucket is missing (the store's own ``NoSuchBucket``).
        PlanError: a prefix without ``recursive``, no objects under a prefix, a copy into
            the source itself (the destination under the source prefix on the same
            store), a move onto itself.
        StorageError: a listing or HEAD failed (AccessDenied...).
    """
    if source.same_store(dest) and source.driver is not dest.driver:
        # One store reached through two driver objects (typed twice): one driver, so the
        # engine copies inside the store and the bytes never leave it.
        dest = replace(dest, driver=source.driver)
    plan = TransferPlan(kind, source, dest, server_side=source.driver is dest.driver)
    same_bucket = source.driver is dest.driver and source.bucket == dest.bucket
    found: list[tuple[Entry, str]] = []  # (source entry, rel)
    single = False

    def listed(entry: Entry, rel: str) -> None:
        found.append((entry, rel))
        if on_listed is not None:
            on_listed(len(found))

    base = source.key
    if keys is not None:
        for key in dict.fromkeys(keys):
            if key.endswith("/"):
                for entry in _objects_under(source.driver, source.bucket, key):
                    listed(entry, entry.key[len(base) :])
            else:
                try:
                    head = _head(source.driver, source.bucket, key)
                except NotFound as exc:
                    raise _no_source(source, key, kind, exc) from exc
                rel = key[len(base) :] if key.startswith(base) else key.rpartition("/")[2]
                listed(head, rel)
    else:
        one: Entry | None = None
        missing: NotFound | None = None
        if not _is_prefix_key(base):
            try:
                one = _head(source.driver, source.bucket, base)
            except NotFound as exc:
                missing = exc
        if one is not None:
            single = True
            listed(one, base.rpartition("/")[2])
        else:
            if missing is not None:  # not an object: a prefix without its "/"?
                try:
                    page = source.driver.list_page(
                        source.bucket, base + "/", delimiter="/", page_size=1
                    )
                except NotFound as exc:
                    if exc.code == "NoSuchBucket":
                        raise  # the bucket itself is missing: the store's own error
                    raise _no_source(source, base, kind, exc) from exc
                if not page.entries:
                    raise _no_source(source, base, kind, missing)
                base += "/"
            if not recursive:
                raise PlanError(f"{source.uri} is a prefix: copying it needs --recursive")
            for entry in _objects_under(source.driver, source.bucket, base):
                listed(entry, entry.key[len(base) :])
    if not found:
        raise PlanError(f"nothing to {kind}: no objects under {source.uri}")

    # Where the items go.
    dest_base = dest.key
    if single and not _is_prefix_key(dest_base):
        is_folder = _head_entry(dest.driver, dest.bucket, dest_base) is None and _has_children(
            dest.driver, dest.bucket, dest_base + "/"
        )
        if is_folder:
            dest_base += "/"
    if not single and not _is_prefix_key(dest_base):
        dest_base += "/"
    if same_bucket and not single and dest_base.startswith(base):
        raise PlanError(
            f"the destination {dest.uri} is inside the source {source.uri}: "
            "it would copy into itself"
        )
    targets: list[tuple[Entry, str, str]] = []
    for entry, rel in found:
        dest_key = dest_base + rel if _is_prefix_key(dest_base) else dest_base
        targets.append((entry, rel, dest_key))
    if same_bucket and any(entry.key == key for entry, _, key in targets):
        raise PlanError(f"{source.uri} and {dest.uri} are the same object: nothing to {kind}")

    existing = _existing(dest, dest_base, [t[2] for t in targets], single)
    folder = local_folder(dest) if dest.provider == "local" else None
    if folder is not None and source.provider != "local":
        plan.download = DownloadPlan(source.provider, source.bucket, os.path.realpath(folder))
        plan.server_side = False
    for entry, rel, dest_key in targets:
        problem = dest_key_problem(dest, dest_key)
        if problem is None and plan.download is not None:
            try:
                path = local_target(plan.download.dest, dest_key)
            except UnsafeKey as exc:
                problem = str(exc)
            else:
                plan.download.jobs.append(
                    DownloadJob(
                        entry.key,
                        dest_key,
                        path,
                        entry.size,
                        entry.etag,
                        entry.version_id,
                        entry.last_modified,
                    )
                )
        if problem is not None:
            plan.refused.append(RefusedKey(entry.key, problem))
            continue
        plan.items.append(
            TransferItem(
                source_key=entry.key,
                dest_key=dest_key,
                rel=rel,
                size=entry.size,
                etag=entry.etag,
                version_id=entry.version_id,
                last_modified=entry.last_modified,
                existing=existing.get(dest_key),
            )
        )
    if plan.download is not None:
        plan.download.refused.extend(plan.refused)
    if not plan.items and not plan.refused:
        raise PlanError(f"nothing to {kind}: no objects under {source.uri}")
    return plan


def _existing(dest: Side, dest_base: str, keys: list[str], single: bool) -> dict[str, Entry]:
    """The destination objects among ``keys``: one HEAD for a single object, else one
    recursive listing of ``dest_base``."""
    if single or len(keys) == 1:
        key = keys[0]
        if dest_key_problem(dest, key) is not None:
            return {}
        try:
            entry = _head_entry(dest.driver, dest.bucket, key)
        except NotFound:
            entry = None
        return {key: entry} if entry is not None else {}
    wanted = set(keys)
    found: dict[str, Entry] = {}
    try:
        for entry in _objects_under(dest.driver, dest.bucket, dest_base):
            if entry.key in wanted:
                found[entry.key] = entry
    except NotFound:  # a local destination folder that does not exist yet
        return {}
    return found


def plan_rename(side: Side, new_key: str) -> TransferPlan:
    """A move inside one bucket: ``side.key`` an object -> ``new_key``; a prefix
    (``"a/b/"``) -> the new prefix (``new_key`` ends ``/``; one is added otherwise).

    Raises:
        PlanError, StorageError: as :func:`plan_transfer`.
    """
    prefix = _is_prefix_key(side.key)
    if prefix and new_key and not new_key.endswith("/"):
        new_key += "/"
    root = getattr(side.driver, "root", None) if side.provider == "local" else None
    uri = format_uri(side.provider, side.bucket, new_key, root)
    dest = Side(side.driver, side.bucket, new_key, uri, side.connection)
    return plan_transfer(side, dest, kind="move", recursive=prefix)
