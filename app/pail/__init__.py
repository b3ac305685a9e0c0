"""pail: a terminal browser for artifact buckets (S3, S3-compatible, GCS, local folders)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pail")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+source"
