"""Versions and lifecycle rules on GCS, for :class:`pail.drivers.gcs.GcsDriver`.

Each function takes the ``google.cloud.storage.Client`` and returns plain pail values; the
driver wraps calls in its error translation and bounded retry (``GcsDriver._run``).

* Object Versioning: ``storage.objects.list`` with ``versions=true`` lists noncurrent
  generations too; a noncurrent generation has ``timeDeleted`` set. GCS has no delete
  markers: deleting the live object makes it noncurrent.
  (gcp-storage-emulator keeps only the latest generation, so there it lists live objects.)
* Object Lifecycle Management (https://cloud.google.com/storage/docs/lifecycle): the rules
  live in the bucket resource's ``lifecycle.rule`` list and are replaced whole with
  ``storage.buckets.patch``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from pail.drivers.versions import LifecycleRule, VersionEntry, VersionPage


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


def versioning_status(client: Any, bucket: str, timeout: Any) -> str | None:
    """``"Enabled"`` when ``versioning.enabled`` is set, else ``None`` (the JSON API has no
    "suspended" state: a bucket with versioning turned off keeps its noncurrent
    generations, which :func:`list_versions_page` still lists)."""
    found = client.get_bucket(bucket, timeout=timeout, retry=None)
    return "Enabled" if found.versioning_enabled else None


def list_versions_page(
    client: Any,
    bucket: str,
    prefix: str,
    *,
    delimiter: str,
    token: str | None,
    page_size: int,
    timeout: Any,
) -> VersionPage:
    """One ``storage.objects.list?versions=true`` page.

    Entries are ordered by key, newest generation first; ``is_latest`` is true for the
    live generation (no ``timeDeleted``). ``version_id`` is the generation as a string.
    """
    iterator = client.list_blobs(
        bucket,
        prefix=prefix or None,
        delimiter=delimiter or None,
        # The JSON API's boolean as its lowercase literal: the SDK would send Python's
        # "True", which Google accepts but fake-gcs-server reads as false (live objects only).
        versions="true",  # the SDK passes the value through as is
        page_size=max(1, min(page_size, 1000)),
        page_token=token or None,
        timeout=timeout,
        retry=None,
    )
    page = next(iterator.pages, None)
    blobs = list(page) if page is not None else []
    prefixes = tuple(getattr(page, "prefixes", ()) or ()) if page is not None else ()
    entries = [
        VersionEntry(
            key=blob.name,
            version_id=str(blob.generation),
            is_latest=blob.time_deleted is None,
            size=int(blob.size or 0),
            last_modified=_utc(blob.updated or blob.time_created),
            etag=blob.etag,
            storage_class=blob.storage_class,
        )
        for blob in blobs
    ]
    entries.sort(key=lambda e: (e.key, not e.is_latest, -int(e.version_id)))
    return VersionPage(tuple(entries), tuple(sorted(prefixes)), iterator.next_page_token or None)


def delete_version(client: Any, bucket: str, key: str, generation: int, timeout: Any) -> None:
    """``storage.objects.delete`` of one generation: gone for good."""
    client.bucket(bucket).blob(key, generation=generation).delete(timeout=timeout, retry=None)


def restore_generation(client: Any, bucket: str, key: str, generation: int, timeout: Any) -> str:
    """Make a noncurrent generation live again: ``storage.objects.copy`` of the object onto
    itself with ``sourceGeneration`` (Cloud Storage docs, "Restore noncurrent object
    versions"), only while no live generation exists (``ifGenerationMatch=0``: a precondition
    that fails with 412 rather than overwrite an object written since). Returns the new live
    generation."""
    handle = client.bucket(bucket)
    source = handle.blob(key, generation=generation)
    copied = handle.copy_blob(
        source,
        handle,
        key,
        source_generation=generation,
        if_generation_match=0,
        timeout=timeout,
        retry=None,
    )
    return str(copied.generation)


def get_lifecycle(client: Any, bucket: str, timeout: Any) -> list[LifecycleRule]:
    """The bucket's ``lifecycle.rule`` list as plain dicts (``storage.buckets.get``).

    Read from the resource itself rather than ``Bucket.lifecycle_rules``, which drops (with
    a warning) rule types the SDK does not know, and a rewrite would then lose them.
    """
    found = client.get_bucket(bucket, timeout=timeout, retry=None)
    # SDK internal: the bucket resource dict. Checked against google-cloud-storage 3.17.1
    # (and 2.14.0); tests/test_sdk_internals.py.
    lifecycle = found._properties.get("lifecycle") or {}
    return [dict(rule) for rule in lifecycle.get("rule") or []]


def put_lifecycle(client: Any, bucket: str, rules: list[LifecycleRule], timeout: Any) -> None:
    """Replace ``lifecycle.rule`` with ``rules`` (``storage.buckets.patch`` of only the
    ``lifecycle`` field, so nothing else of the bucket changes)."""
    target = client.bucket(bucket)
    target.lifecycle_rules = [dict(rule) for rule in rules]
    target.patch(timeout=timeout, retry=None)
