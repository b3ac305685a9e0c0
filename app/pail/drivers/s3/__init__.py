"""The S3 driver (S3 and S3-compatible stores): :class:`S3Driver` in ``driver.py``; its
parts are errors (botocore exceptions to :mod:`pail.drivers.errors`), retry (the
``needs-retry`` hook), transfer, probes, versions and delete.

boto3 is imported lazily, on the first request, never by importing this package.
"""

from pail.drivers.s3.driver import S3Driver

__all__ = ["S3Driver"]
