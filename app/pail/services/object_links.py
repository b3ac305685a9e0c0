"""Ways to hand an object to something else: a presigned URL, a ready copy command for the
provider's own CLI, and the command that opens a downloaded file in the user's viewer.

Nothing here runs a process: callers get strings and argv lists (the app runs the viewer
with ``App.suspend()``; the clipboard gets the command text).
"""

from __future__ import annotations

import mimetypes
import os
import sys

from pail.core.text import shell_quote
from pail.drivers.base import StorageDriver

#: Default lifetime of a presigned URL, in seconds (one hour, like ``aws s3 presign``).
DEFAULT_EXPIRY = 3600
#: Lifetimes offered for a presigned URL: label -> seconds.
EXPIRY_CHOICES = {"15 minutes": 900, "1 hour": 3600, "1 day": 86400, "7 days": 604800}


def presigned_url(
    driver: StorageDriver,
    bucket: str,
    key: str,
    expires_in: int = DEFAULT_EXPIRY,
    *,
    version_id: str | None = None,
) -> str:
    """A URL that reads ``key`` without credentials for ``expires_in`` seconds
    (:meth:`pail.drivers.base.StorageDriver.presign`; computed locally, no request).

    Raises:
        InvalidRequest: expiry outside 1..604800 s, or GCS credentials that cannot sign.
    """
    return driver.presign(bucket, key, expires_in, version_id=version_id)


def copy_command(
    provider: str,
    bucket: str,
    key: str,
    dest: str = ".",
    *,
    endpoint_url: str | None = None,
    root: str | None = None,
) -> str:
    """A ready command that downloads the object with the provider's own tool.

    * S3: ``aws s3 cp s3://BUCKET/KEY DEST`` plus ``--endpoint-url URL`` for S3-compatible
      stores;
    * GCS: ``gcloud storage cp gs://BUCKET/KEY DEST``;
    * local: ``cp PATH DEST`` (``root`` is the bucket's folder).

    Every argument is shell-quoted (:func:`pail.core.text.shell_quote`).

    Raises:
        ValueError: unknown provider.
    """
    if provider == "s3":
        argv = ["aws", "s3", "cp", f"s3://{bucket}/{key}", dest]
        if endpoint_url:
            argv += ["--endpoint-url", endpoint_url]
    elif provider == "gcs":
        argv = ["gcloud", "storage", "cp", f"gs://{bucket}/{key}", dest]
    elif provider == "local":
        argv = ["cp", "--", os.path.join(root or bucket, *key.split("/")), dest]
    else:
        raise ValueError(f"unknown provider {provider!r}")
    return " ".join(shell_quote(arg) for arg in argv)


def looks_textual(path: str) -> bool:
    """Whether the file at ``path`` is text a pager can show: a text/JSON/XML type by
    name, else no NUL and valid UTF-8 in its first 4 KiB (a compressed file is not)."""
    kind, encoding = mimetypes.guess_type(path)
    if encoding:
        return False
    if kind and (kind.startswith("text/") or kind in ("application/json", "application/xml")):
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the 4 KiB boundary
    return True


def system_opener(platform: str | None = None) -> list[str]:
    """The desktop's "open with the default application" command for ``platform``
    (``sys.platform`` by default): ``open`` on macOS, ``xdg-open`` elsewhere."""
    platform = platform or sys.platform
    if platform == "darwin":
        return ["open"]
    if platform.startswith("win"):
        return ["cmd", "/c", "start", ""]
    return ["xdg-open"]
