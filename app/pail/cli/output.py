"""What ``pail ls`` prints: which level or object a URI names, and the row formats.

Text rows follow ``aws s3 ls``: last-modified time (UTC), size in bytes, name; prefixes show
``PRE`` and end in ``/``. Control characters in names are replaced by visible escapes so a
key cannot drive the terminal (:func:`pail.core.text.printable`; sizes:
:func:`pail.core.units.size_text`). JSON rows (``--json``) carry the exact key, JSON-escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from pail.core.text import printable
from pail.core.units import size_text
from pail.core.uri import Location, format_uri
from pail.drivers.base import Bucket, Entry, StorageDriver


def listing(driver: StorageDriver, loc: Location, *, delimiter: str) -> Iterator[list[Entry]]:
    """Batches of entries for ``pail ls``, one per page as the server returns it: what
    :func:`pail.services.listing.named_batches` says the URI names (a level, an object, or
    an object and the prefix of the same name).

    Raises:
        StorageError: from the driver; NotFound when neither a folder nor an object exists.
    """
    from pail.services.listing import named_batches

    return named_batches(driver, loc.bucket, loc.key, delimiter=delimiter)


def iso_utc(when: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, e.g. ``2026-01-02T03:04:05Z`` (``None`` stays ``None``)."""
    if when is None:
        return None
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamp(when: datetime | None) -> str:
    return _utc_stamp(when) if when else ""


@lru_cache(maxsize=4096)
def _utc_stamp(when: datetime) -> str:
    # Cached: keys written together share their second, and strftime is most of a row's
    # cost on a 100,000-key listing.
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def entry_json(loc: Location, entry: Entry) -> dict[str, Any]:
    """One ``--json`` row: uri, bucket, key, type, size (bytes; null for prefixes),
    last_modified (ISO 8601 UTC), etag, storage_class, version_id."""
    return {
        "uri": format_uri(loc.provider, loc.bucket, entry.key, loc.root),
        "bucket": loc.bucket,
        "key": entry.key,
        "type": entry.type,
        "size": entry.size,
        "last_modified": iso_utc(entry.last_modified),
        "etag": entry.etag,
        "storage_class": entry.storage_class,
        "version_id": entry.version_id,
    }


def entry_line(entry: Entry, human: bool, *, full_key: bool) -> str:
    """One text row: time (UTC), size, name (the last path segment, or the full key for
    recursive listings). Control characters in the name are made visible."""
    name = printable(entry.key if full_key else entry.name)
    if entry.is_prefix:
        return f"{'':19} {'PRE':>12} {name}"
    return f"{_stamp(entry.last_modified):19} {size_text(entry.size, human):>12} {name}"


def bucket_json(provider: str, bucket: Bucket) -> dict[str, Any]:
    """One ``--json`` row for ``pail ls s3://``: uri, bucket, type "bucket", created, region."""
    return {
        "uri": format_uri(provider, bucket.name),
        "bucket": bucket.name,
        "type": "bucket",
        "created": iso_utc(bucket.created),
        "region": bucket.region,
    }


def bucket_line(bucket: Bucket) -> str:
    """One text row for ``pail ls s3://``: creation time (UTC) and ``name/``."""
    return f"{_stamp(bucket.created):19} {printable(bucket.name)}/"
