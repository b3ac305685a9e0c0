"""Inventory configurations: an optional driver capability.

An S3 bucket's inventory configurations (S3 API reference,
ListBucketInventoryConfigurations; S3 User Guide, "Cataloging and analyzing your data with
S3 Inventory") say where the store writes the bucket's daily or weekly report: a
destination bucket ARN, a key prefix, the format (CSV, ORC, Parquet) and the fields. The
S3 driver implements :class:`HasInventory`; a caller holding a plain
:class:`~pail.drivers.base.StorageDriver` gets it from :func:`inventory_of`, which raises
:class:`~pail.drivers.errors.NotSupported` for a driver without it.

GCS has no such call on the storage API: Storage Insights inventory report configurations
live in a separate service (``storageinsights.googleapis.com``, ``reportConfigs``) that no
emulator serves and pail does not call. A GCS inventory is opened from its manifest's URI or
a prefix holding manifests (:mod:`pail.services.inventory.locate`). Local folders have no
inventories.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pail.drivers.base import StorageDriver
from pail.drivers.errors import NotSupported

#: One inventory configuration in S3's own shape (``Id``, ``IsEnabled``, ``Destination``
#: ``{"S3BucketDestination": {"Bucket": "arn:aws:s3:::dest", "Prefix", "Format",
#: "AccountId", "Encryption"}}``, ``Filter``, ``IncludedObjectVersions`` ``All|Current``,
#: ``OptionalFields``, ``Schedule`` ``{"Frequency": "Daily|Weekly"}``).
InventoryConfiguration = dict[str, Any]


@runtime_checkable
class HasInventory(Protocol):
    """Optional driver capability: reading a bucket's inventory configurations (S3)."""

    def list_inventory_configurations(self, bucket: str) -> list[InventoryConfiguration]:
        """Every inventory configuration of ``bucket`` (S3 ListBucketInventoryConfigurations,
        all pages); ``[]`` when it has none.

        Raises:
            StorageError: AccessDenied without ``s3:GetInventoryConfiguration``, NotFound
                for a missing bucket, as every call.
        """
        ...


def inventory_of(driver: StorageDriver, operation: str, bucket: str | None) -> HasInventory:
    """``driver`` as a :class:`HasInventory` driver.

    Raises:
        NotSupported: the driver cannot list inventory configurations (code
            ``NotSupported``, no request sent); ``operation`` is the API the caller was
            about to call (``"ListBucketInventoryConfigurations"``).
    """
    if isinstance(driver, HasInventory):
        return driver
    why = {
        "gcs": "GCS inventory report configurations live in Storage Insights, not the storage API",
        "local": "local folders have no inventory reports",
    }.get(driver.provider, f"{driver.provider} connections have no inventory configurations")
    raise NotSupported(
        why, operation=operation, provider=driver.provider, bucket=bucket, code="NotSupported"
    )
