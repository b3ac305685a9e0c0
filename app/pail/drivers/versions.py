"""Object versions and lifecycle rules: optional driver capabilities and their value types.

S3 and GCS drivers implement :class:`Versioned` and :class:`HasLifecycle`; the local-folder
driver implements them by raising :class:`~pail.drivers.errors.NotSupported` ("local folders
have no versions or lifecycle rules"), so callers can offer the features wherever a driver
has them. A caller holding a plain :class:`~pail.drivers.base.StorageDriver` gets the
capability from :func:`versions_of` / :func:`lifecycle_of`, which raise the same error for
a driver without it.

Sources:

* S3 ListObjectVersions, GetBucketVersioning, DeleteObject (``versionId``),
  GetBucketLifecycleConfiguration / PutBucketLifecycleConfiguration (S3 API reference).
* GCS Object Versioning (``versions=true`` listings, ``generation``) and Object Lifecycle
  Management (``bucket.lifecycle.rule``), https://cloud.google.com/storage/docs/lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pail.drivers.base import DEFAULT_PAGE_SIZE, StorageDriver
from pail.drivers.errors import NotSupported


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version of an object, or one delete marker (S3 ``Version`` / ``DeleteMarker``).

    Attributes:
        key: the object's key.
        version_id: S3 version id (``"null"`` for objects written before versioning was
            enabled) or GCS generation as a decimal string.
        is_latest: True for the version a plain GET of the key returns (or the delete
            marker that hides the key).
        is_delete_marker: True for an S3 delete marker (GCS has none: a deleted live
            object simply becomes noncurrent).
        size: bytes (0 for delete markers).
        last_modified: UTC time the version (or marker) was created.
        etag: entity tag without quotes (``None`` for delete markers).
        storage_class: e.g. ``"STANDARD"`` (``None`` for delete markers).
    """

    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool = False
    size: int = 0
    last_modified: datetime | None = None
    etag: str | None = None
    storage_class: str | None = None

    @property
    def is_noncurrent(self) -> bool:
        """True for a version that is not the latest (kept only because of versioning)."""
        return not self.is_latest


@dataclass(frozen=True, slots=True)
class VersionPage:
    """One page of a versioned listing.

    Attributes:
        entries: versions and delete markers ordered by key, each key's newest first.
        prefixes: common prefixes (with a delimiter), ending in the delimiter.
        next_token: opaque continuation token, ``None`` on the last page.
    """

    entries: tuple[VersionEntry, ...]
    prefixes: tuple[str, ...] = ()
    next_token: str | None = None

    @property
    def is_last(self) -> bool:
        """True when there is no further page."""
        return self.next_token is None


#: A lifecycle rule in the provider's own JSON shape: an S3 ``Rule`` (``ID``, ``Filter``,
#: ``Status``, ``Expiration``...) or a GCS ``lifecycle.rule`` item (``action``,
#: ``condition``).
LifecycleRule = dict[str, Any]


def not_supported(provider: str, operation: str, bucket: str | None) -> NotSupported:
    """The error a backend without versions or lifecycle rules raises (code
    ``NotSupported``, no request sent)."""
    where = "local folders" if provider == "local" else f"{provider} connections"
    return NotSupported(
        f"{where} have no object versions or lifecycle rules",
        operation=operation,
        provider=provider,
        bucket=bucket,
        code="NotSupported",
    )


@runtime_checkable
class Versioned(Protocol):
    """Optional driver capability: object versions (S3, GCS; a local folder refuses).

    Every method raises a :class:`~pail.drivers.errors.StorageError` subclass on failure
    (``NotSupported`` on a local folder).
    """

    def versioning_status(self, bucket: str) -> str | None:
        """``"Enabled"``, ``"Suspended"`` or ``None`` (never enabled) - S3
        GetBucketVersioning; GCS ``versioning.enabled`` gives ``"Enabled"`` or ``None``."""
        ...

    def list_versions_page(
        self,
        bucket: str,
        prefix: str = "",
        *,
        delimiter: str = "",
        token: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> VersionPage:
        """One page of versions and delete markers under ``prefix`` (S3
        ListObjectVersions; GCS ``storage.objects.list`` with ``versions=true``)."""
        ...

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Permanently delete one version or delete marker (S3 DeleteObject with
        ``versionId``; GCS ``storage.objects.delete`` with ``generation``)."""
        ...


@runtime_checkable
class HasLifecycle(Protocol):
    """Optional driver capability: bucket lifecycle rules (S3, GCS; a local folder
    refuses). Methods raise StorageError subclasses (``NotSupported`` on a local folder)."""

    def get_lifecycle(self, bucket: str) -> list[LifecycleRule]:
        """The bucket's lifecycle rules; ``[]`` when it has none."""
        ...

    def put_lifecycle(self, bucket: str, rules: list[LifecycleRule]) -> None:
        """Replace the bucket's lifecycle rules with ``rules`` (callers merge first:
        :func:`pail.services.lifecycle.apply`). An empty list removes the configuration."""
        ...


def versions_of(driver: StorageDriver, operation: str, bucket: str | None) -> Versioned:
    """``driver`` as a :class:`Versioned` driver.

    Raises:
        NotSupported: the driver has no object versions (see :func:`not_supported`;
            ``operation`` is the API the caller was about to call, e.g.
            ``"ListObjectVersions"``).
    """
    if isinstance(driver, Versioned):
        return driver
    raise not_supported(driver.provider, operation, bucket)


def lifecycle_of(driver: StorageDriver, operation: str, bucket: str | None) -> HasLifecycle:
    """``driver`` as a :class:`HasLifecycle` driver.

    Raises:
        NotSupported: the driver has no lifecycle rules (``operation`` as in
            :func:`versions_of`, e.g. ``"GetBucketLifecycleConfiguration"``).
    """
    if isinstance(driver, HasLifecycle):
        return driver
    raise not_supported(driver.provider, operation, bucket)
