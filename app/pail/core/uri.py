"""Parse the locations users type: ``s3://bucket/prefix``, ``gs://bucket/key``,
``file:///path`` and plain filesystem paths.

``parse_uri`` returns a :class:`Location`; a malformed URI raises :class:`InvalidURI` whose
message is one line naming what is wrong.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote

#: Scheme -> provider. ``s3a``/``s3n`` are Hadoop's spellings, ``gcs`` fsspec's.
SCHEMES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gcs", "gcs": "gcs", "file": "local"}

#: Display scheme for each provider.
PROVIDER_SCHEME = {"s3": "s3", "gcs": "gs", "local": "file"}

# Lenient on purpose: S3-compatible stores and legacy AWS buckets allow more than the
# current AWS rules (3-63 lowercase chars); GCS allows underscores. We only reject what no
# store accepts, so the server gets to say NoSuchBucket / InvalidBucketName itself.
_BUCKET_RE = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?(.*)$", re.DOTALL)


class InvalidURI(ValueError):
    """A location string that cannot be parsed; ``str()`` is a one-line explanation."""


@dataclass(frozen=True)
class Location:
    """Where to look: a provider, a bucket and a key or prefix inside it.

    Attributes:
        provider: ``"s3"``, ``"gcs"`` or ``"local"``.
        bucket: bucket name; for local folders the folder's base name.
        key: key or prefix inside the bucket (``""`` for the bucket root). A prefix ends
            in ``/`` when the user typed one.
        root: for ``local`` only, the absolute folder opened as the bucket.
    """

    provider: str
    bucket: str
    key: str = ""
    root: str | None = None

    @property
    def uri(self) -> str:
        """The canonical URI, e.g. ``s3://bucket/runs/`` or ``file:///data/runs/x.json``."""
        if self.provider == "local":
            path = self.root or ""
            return "file://" + (os.path.join(path, self.key) if self.key else path)
        return f"{PROVIDER_SCHEME[self.provider]}://{self.bucket}/{self.key}"

    def child(self, key: str) -> Location:
        """The same bucket at another key."""
        return Location(self.provider, self.bucket, key, self.root)


def format_uri(provider: str, bucket: str, key: str = "", root: str | None = None) -> str:
    """Canonical URI for a bucket/key pair (see :attr:`Location.uri`)."""
    return Location(provider, bucket, key, root).uri


def _shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for a one-line error (repr escapes control characters), shortened."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _check_bucket(bucket: str, text: str) -> None:
    if not bucket:
        raise InvalidURI(f"{_shown(text)}: missing bucket name (expected scheme://bucket/prefix)")
    if not _BUCKET_RE.match(bucket):
        bad = next((c for c in bucket if not re.match(r"[A-Za-z0-9._-]", c)), "?")
        raise InvalidURI(
            f"{_shown(text)}: bucket name {bucket!r} contains {bad!r}; "
            "bucket names use letters, digits, '.', '-' and '_'"
        )


def _check_key(key: str, text: str) -> None:
    if "\x00" in key:
        raise InvalidURI(f"{_shown(text)}: the key contains a NUL character")
    if len(key.encode("utf-8")) > 1024:
        raise InvalidURI(f"{_shown(text)}: keys are at most 1,024 bytes of UTF-8")


def _local(path: str, text: str) -> Location:
    if not path:
        raise InvalidURI(f"{_shown(text)}: empty path")
    if "\x00" in path:
        raise InvalidURI(f"{_shown(text)}: the path contains a NUL character")
    full = os.path.abspath(os.path.expanduser(path))
    if os.path.isfile(full):
        root, key = os.path.split(full)
    else:
        root, key = full, ""
    name = os.path.basename(root.rstrip(os.sep)) or root
    return Location("local", name, key, root)


def parse_uri(text: str) -> Location:
    """Parse a location string.

    Accepts ``s3://bucket[/prefix]`` (also ``s3a://``, ``s3n://``), ``gs://bucket[/key]``
    (also ``gcs://``), ``file:///abs/path`` and plain paths (``./runs``, ``/data``, ``~/x``).
    A local path to a folder opens that folder as a bucket; a path to a file opens its
    folder with the file as the key.

    Raises:
        InvalidURI: empty input, unknown scheme, missing or malformed bucket name, a NUL in
            the key, a key over 1,024 bytes. The message is one line naming the problem.
    """
    if text is None or not text.strip():
        raise InvalidURI("empty location: give s3://bucket/prefix, gs://bucket/prefix or a path")
    # C0 controls (but tab), DEL and C1 controls (0x9b is an 8-bit CSI).
    if any((ord(c) < 0x20 and c != "\t") or 0x7F <= ord(c) <= 0x9F for c in text):
        raise InvalidURI(f"{_shown(text)}: the location contains control characters")
    match = _SCHEME_RE.match(text)
    # "C:\\x" style drive letters are paths, not schemes.
    if match is None or (len(match.group(1)) == 1 and not match.group(2)):
        return _local(text, text)
    scheme, slashes, rest = match.group(1).lower(), match.group(2), match.group(3)
    provider = SCHEMES.get(scheme)
    if provider is None:
        raise InvalidURI(
            f"{_shown(text)}: unsupported scheme {scheme!r}; "
            "use s3://, gs://, file:// or a plain path"
        )
    if not slashes:
        raise InvalidURI(f"{_shown(text)}: expected {scheme}://… (two slashes after the scheme)")
    if provider == "local":
        # file:///abs/path; file://localhost/abs/path is also valid (RFC 8089).
        if rest.startswith("localhost/"):
            rest = rest[len("localhost") :]
        if not rest.startswith("/"):
            raise InvalidURI(f"{_shown(text)}: file URIs need an absolute path (file:///path)")
        return _local(unquote(rest), text)
    bucket, _, key = rest.partition("/")
    _check_bucket(bucket, text)
    _check_key(key, text)
    return Location(provider, bucket, key)
