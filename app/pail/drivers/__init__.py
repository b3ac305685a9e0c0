"""Storage drivers: one protocol (``base.StorageDriver``), three backends, one error model.

Nothing in this package imports Textual or Rich: the UI and the CLI both sit on top of it.
"""

from pail.drivers.base import Bucket, Entry, ObjectInfo, Page, StorageDriver
from pail.drivers.errors import StorageError

__all__ = ["Bucket", "Entry", "ObjectInfo", "Page", "StorageDriver", "StorageError"]
