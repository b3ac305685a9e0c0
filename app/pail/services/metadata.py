"""What the detail pane and the versions screen show about one object or bucket, apart
from its preview (:mod:`pail.services.previews`): the object's metadata and the bucket's
region. The app's screens call these rather than the driver, so the request each one makes
is named in one place, for the command line too (``pail url`` checks the object first).
"""

from __future__ import annotations

from pail.drivers.base import ObjectInfo, StorageDriver


def object_info(
    driver: StorageDriver, bucket: str, key: str, *, version_id: str | None = None
) -> ObjectInfo:
    """An object's metadata: size (bytes), last modified (UTC), ETag, content type,
    storage class, version id, user metadata, encryption (S3 HeadObject, GCS
    ``objects.get``, ``os.stat`` for a folder). ``version_id`` reads that version (S3
    ``versionId``, GCS generation); ``None`` reads the current one.

    Raises:
        NotFound: no such object (or version). StorageError: any other failure
            (AccessDenied ...), translated by the driver.
    """
    return driver.head(bucket, key, version_id=version_id)


def bucket_region(driver: StorageDriver, bucket: str) -> str | None:
    """The bucket's region or location (S3 GetBucketLocation, GCS ``bucket.location``);
    ``None`` when the store has none (a local folder, some S3-compatible stores).

    Raises:
        StorageError: the request failed (AccessDenied without s3:GetBucketLocation ...).
    """
    return driver.bucket_region(bucket)


__all__ = ["bucket_region", "object_info"]
