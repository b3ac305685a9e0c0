"""Choosing a previewer: by extension, then content type, then magic bytes.

Keys in ML buckets are more reliable than content types (S3 stores whatever the uploader
sent, often ``binary/octet-stream``), so the extension is tried first; a specific content
type next; the first bytes ("magic numbers") last, and again whenever the chosen parser
rejects the object.

Formats (the strings :func:`format_for_key` and :func:`sniff` return): ``"text"``,
``"log"``, ``"json"``, ``"yaml"``, ``"toml"``, ``"markdown"``, ``"csv"``, ``"tsv"``,
``"notebook"``, ``"image"``, ``"parquet"``, ``"safetensors"``, ``"npy"``, ``"zip"``,
``"gzip"``, or ``None`` (unknown: sniff).
"""

from __future__ import annotations

import struct

from pail.drivers.base import ObjectInfo

_EXTENSIONS = {
    "json": "json",
    "geojson": "json",
    "yaml": "yaml",
    "yml": "yaml",
    "toml": "toml",
    "md": "markdown",
    "markdown": "markdown",
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "ipynb": "notebook",
    "png": "image",
    "jpg": "image",
    "jpeg": "image",
    "gif": "image",
    "webp": "image",
    "parquet": "parquet",
    "pq": "parquet",
    "safetensors": "safetensors",
    "npy": "npy",
    "pt": "zip",
    "pth": "zip",
    "ckpt": "zip",
    "zip": "zip",
    "npz": "zip",
    "whl": "zip",
    "jar": "zip",
    "gz": "gzip",
    "tgz": "gzip",
    "log": "log",
    "out": "log",
    "err": "log",
}

_CONTENT_TYPES = {
    "application/json": "json",
    "text/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "application/toml": "toml",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/x-ipynb+json": "notebook",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "application/gzip": "gzip",
    "application/x-gzip": "gzip",
    "text/x-log": "log",
}

# Pygments lexer aliases by extension, for syntax highlighting of text previews.
_LANGUAGES = {
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "geojson": "json",
    "ipynb": "json",
    "yaml": "yaml",
    "yml": "yaml",
    "toml": "toml",
    "py": "python",
    "pyi": "python",
    "md": "markdown",
    "markdown": "markdown",
    "sh": "bash",
    "bash": "bash",
    "cfg": "ini",
    "ini": "ini",
    "xml": "xml",
    "html": "html",
    "htm": "html",
    "css": "css",
    "js": "javascript",
    "ts": "typescript",
    "rs": "rust",
    "go": "go",
    "c": "c",
    "h": "c",
    "cpp": "cpp",
    "hpp": "cpp",
    "cc": "cpp",
    "java": "java",
    "scala": "scala",
    "sql": "sql",
    "r": "r",
    "jl": "julia",
    "rst": "rst",
    "tex": "latex",
    "proto": "protobuf",
    "dockerfile": "docker",
}
_NAMES = {"dockerfile": "docker", "makefile": "make"}
# Known text and code extensions go straight to the text previewer (no sniffing read).
for _ext in (*_LANGUAGES, "txt", "text", "cfg", "conf", "env", "sh"):
    _EXTENSIONS.setdefault(_ext, "text")


def extension(key: str) -> str:
    """The last extension of the key's file name, lower case, without the dot (or ``""``)."""
    name = key.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def language_for(key: str) -> str | None:
    """A Pygments lexer alias for the key's file name (``"json"``, ``"python"``...), or
    ``None`` for plain text. ``train.json.gz`` is looked up as ``train.json``."""
    name = key.rsplit("/", 1)[-1].lower()
    if name.endswith(".gz"):
        name = name[:-3]
    if name in _NAMES:
        return _NAMES[name]
    return _LANGUAGES.get(name.rsplit(".", 1)[-1]) if "." in name else None


def is_log(info: ObjectInfo) -> bool:
    """Logs are shown from the end: ``.log``/``.out``/``.err`` keys, ``text/x-log``, and
    text under a ``logs/`` folder."""
    key = info.key.lower()
    if extension(key) in ("log", "out", "err"):
        return True
    if (info.content_type or "").split(";")[0].strip().lower() == "text/x-log":
        return True
    return key.startswith("logs/") or "/logs/" in key


def format_for(info: ObjectInfo) -> str | None:
    """The format suggested by the key's extension or, failing that, the content type."""
    fmt = _EXTENSIONS.get(extension(info.key))
    if fmt == "text" and is_log(info):
        return "log"
    if fmt is not None:
        return fmt
    ctype = (info.content_type or "").split(";")[0].strip().lower()
    if ctype in _CONTENT_TYPES:
        return _CONTENT_TYPES[ctype]
    if ctype.startswith("image/") and ctype[6:] in ("png", "jpeg", "gif", "webp"):
        return "image"
    if is_log(info):
        return "log"
    if ctype.startswith("text/"):
        return "text"
    return None


def image_format(head: bytes) -> str | None:
    """``"png"``, ``"jpeg"``, ``"gif"`` or ``"webp"`` from the first bytes, else ``None``."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def sniff(head: bytes) -> str | None:
    """The format the first bytes announce (magic numbers), or ``None``.

    PNG/JPEG/GIF/WebP signatures, ``PK\\x03\\x04``/``PK\\x05\\x06`` (zip, PKWARE APPNOTE
    4.3), ``\\x1f\\x8b`` (gzip, RFC 1952), ``PAR1`` (Parquet), ``\\x93NUMPY`` (NEP 1), and a
    safetensors header: a little-endian u64 length followed by ``{"``.
    """
    if image_format(head):
        return "image"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"PAR1":
        return "parquet"
    if head[:6] == b"\x93NUMPY":
        return "npy"
    if len(head) >= 10 and head[8:10] == b'{"':
        (n,) = struct.unpack("<Q", head[:8])
        if 2 <= n < (1 << 40):
            return "safetensors"
    return None
