"""pail: a terminal browser for artifact buckets (S3, S3-compatible, GCS, local folders)."""

# The one place the version is written: pyproject.toml reads it
# ([tool.setuptools.dynamic] version = {attr = "pail.__version__"}), and `pail --version`
# prints it without reading package metadata (importlib.metadata costs 40-80 ms at start-up).
__version__ = "0.1.0"
