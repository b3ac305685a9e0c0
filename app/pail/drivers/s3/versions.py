"""Versions and lifecycle rules on S3, for :class:`pail.drivers.s3.S3Driver`.

Each function takes the boto3 client and returns plain pail values; the driver wraps the
calls in its error translation (``S3Driver._call``).

* ListObjectVersions (S3 API reference): ``Versions`` and ``DeleteMarkers`` arrive as two
  arrays; a page continues at ``NextKeyMarker`` + ``NextVersionIdMarker``, which pail packs
  into one opaque token.
* GetBucketLifecycleConfiguration answers 404 ``NoSuchLifecycleConfiguration`` for a bucket
  without rules; PutBucketLifecycleConfiguration replaces the whole configuration, and
  DeleteBucketLifecycle removes it (S3 refuses an empty ``Rules`` list).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from pail.drivers.versions import LifecycleRule, VersionEntry, VersionPage


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(timezone.utc) if value is not None else None


def encode_token(key_marker: str, version_id_marker: str) -> str:
    """Pack ListObjectVersions' two markers into one opaque, printable token."""
    raw = json.dumps([key_marker, version_id_marker]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(token: str) -> tuple[str, str]:
    """The (KeyMarker, VersionIdMarker) packed by :func:`encode_token`.

    Raises:
        ValueError: not a token this module made.
    """
    try:
        key, version = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except Exception as exc:  # binascii.Error, JSONDecodeError, unpacking, non-ASCII
        raise ValueError(f"not a version listing token: {token!r}") from exc
    return str(key), str(version or "")


def versioning_status(client: Any, bucket: str) -> str | None:
    """GetBucketVersioning's ``Status``: ``"Enabled"``, ``"Suspended"`` or ``None``."""
    return client.get_bucket_versioning(Bucket=bucket).get("Status") or None


def list_versions_page(
    client: Any,
    bucket: str,
    prefix: str,
    *,
    delimiter: str,
    token: str | None,
    page_size: int,
) -> VersionPage:
    """One ListObjectVersions page, versions and delete markers merged.

    Entries are ordered by key; within a key the latest comes first, then newest
    ``LastModified`` first (S3's own order; botocore splits the two arrays, so a version
    and a marker with the same timestamp keep S3's array order, versions first).
    """
    params: dict[str, Any] = {
        "Bucket": bucket,
        "Prefix": prefix,
        "MaxKeys": max(1, min(page_size, 1000)),
    }
    if delimiter:
        params["Delimiter"] = delimiter
    if token:
        key_marker, version_marker = decode_token(token)
        params["KeyMarker"] = key_marker
        if version_marker:
            params["VersionIdMarker"] = version_marker
    resp = client.list_object_versions(**params)
    entries = [
        VersionEntry(
            key=item["Key"],
            version_id=str(item.get("VersionId") or "null"),
            is_latest=bool(item.get("IsLatest")),
            size=int(item.get("Size") or 0),
            last_modified=_utc(item.get("LastModified")),
            etag=(item.get("ETag") or "").strip('"') or None,
            storage_class=item.get("StorageClass"),
        )
        for item in resp.get("Versions", [])
    ]
    entries.extend(
        VersionEntry(
            key=item["Key"],
            version_id=str(item.get("VersionId") or "null"),
            is_latest=bool(item.get("IsLatest")),
            is_delete_marker=True,
            last_modified=_utc(item.get("LastModified")),
        )
        for item in resp.get("DeleteMarkers", [])
    )
    entries.sort(key=_order)
    prefixes = tuple(p["Prefix"] for p in resp.get("CommonPrefixes", []))
    next_token = None
    if resp.get("IsTruncated"):
        next_token = encode_token(
            resp.get("NextKeyMarker") or "", resp.get("NextVersionIdMarker") or ""
        )
    return VersionPage(tuple(entries), prefixes, next_token)


def _order(entry: VersionEntry) -> tuple[str, bool, float]:
    stamp = entry.last_modified.timestamp() if entry.last_modified else 0.0
    return (entry.key, not entry.is_latest, -stamp)


def delete_version(client: Any, bucket: str, key: str, version_id: str) -> None:
    """DeleteObject with ``VersionId``: removes that version (or marker) for good."""
    client.delete_object(Bucket=bucket, Key=key, VersionId=version_id)


def get_lifecycle(client: Any, bucket: str) -> list[LifecycleRule]:
    """GetBucketLifecycleConfiguration's ``Rules`` (the caller maps 404 to ``[]``)."""
    return [
        dict(rule) for rule in client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    ]


def put_lifecycle(client: Any, bucket: str, rules: list[LifecycleRule]) -> None:
    """PutBucketLifecycleConfiguration with ``rules``; DeleteBucketLifecycle for ``[]``."""
    if not rules:
        client.delete_bucket_lifecycle(Bucket=bucket)
        return
    client.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [dict(r) for r in rules]}
    )
