"""The Google Cloud Storage driver: :class:`GcsDriver` in ``driver.py``; its parts are
errors (google-cloud-storage exceptions to :mod:`pail.drivers.errors`), transfer, probes,
versions and delete.

google-cloud-storage is imported lazily, on the first request, never by importing this
package.
"""

from pail.drivers.gcs.driver import GcsDriver

__all__ = ["GcsDriver"]
