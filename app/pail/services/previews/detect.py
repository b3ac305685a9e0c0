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
from functools import lru_cache

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

# Code and text extensions that go straight to the text previewer (no sniffing read).
# Which lexer highlights them is Pygments' business (language_for).
_TEXT_EXTENSIONS = (
    *("jsonl", "ndjson", "py", "pyi", "sh", "bash", "cfg", "ini", "xml", "html", "htm"),
    *("css", "js", "ts", "rs", "go", "c", "h", "cpp", "hpp", "cc", "java", "scala", "sql"),
    *("r", "jl", "rst", "tex", "proto", "dockerfile", "txt", "text", "conf", "env"),
)
for _ext in _TEXT_EXTENSIONS:
    _EXTENSIONS.setdefault(_ext, "text")
# Extensions Pygments does not claim whose contents one of its lexers reads.
_ALSO_LEXED = {"geojson": "json", "ipynb": "json"}


def extension(key: str) -> str:
    """The last extension of the key's file name, lower case, without the dot (or ``""``)."""
    name = key.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""


def language_for(key: str) -> str | None:
    """The Pygments lexer alias that highlights the key's file name (``"json"``,
    ``"python"``, ``"yaml"``...), or ``None`` for plain text or a name Pygments does not
    know. ``train.json.gz`` is looked up as ``train.json``.

    Pygments' own table decides (``pygments.lexers.get_lexer_for_filename``: ``*.py``,
    ``Dockerfile``, ``*.jsonl``...), the name as written first (``*.R`` is R, ``*.r``
    Rebol), then in lower case (``MODEL.JSON``); :data:`_ALSO_LEXED` adds the two ML
    extensions it lacks. The UI and the previews both ask here.
    """
    name = key.rsplit("/", 1)[-1]
    if name.lower().endswith(".gz"):
        name = name[:-3]
    return _lexer_alias(name) or _lexer_alias(name.lower())


@lru_cache(maxsize=512)
def _lexer_alias(name: str) -> str | None:
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    also = _ALSO_LEXED.get(name.rsplit(".", 1)[-1].lower()) if "." in name else None
    if also:
        return also
    try:
        alias = get_lexer_for_filename(name).aliases[0]
    except (ClassNotFound, IndexError):
        return None
    except Exception:  # a misbehaving Pygments plugin must not break the preview
        return None
    return None if alias == "text" else alias


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
