"""Choosing a previewer: by extension, then content type, then the first bytes.

Keys in ML buckets are more reliable than content types (S3 stores whatever the uploader
sent, often ``binary/octet-stream``), so the extension is tried first; a specific content
type next; the first bytes last, and again whenever the chosen parser rejects the object.

The first bytes are read two ways:

* magic numbers (:func:`sniff`): PNG, zip, gzip, Parquet, ``.npy``, safetensors... for
  every object whose name and type did not settle the format;
* text formats (:func:`sniff_text`): JSON, JSON Lines, CSV/TSV, YAML or plain text, only
  when neither the name nor the content type says anything (:func:`by_content`): Llama
  Stack's ``file-<hex>`` objects (``put_object`` without a content type, so S3 stores
  ``binary/octet-stream``), MLflow's ``MLmodel``, modelkit's ``<name>/0.1`` assets with
  their ``0.1.meta`` and ``<name>.versions`` JSON files.

Both look only at the bytes the preview fetched first (one text window), never more.

Formats (the strings :func:`format_for`, :func:`sniff` and :func:`sniff_text` return):
``"text"``, ``"log"``, ``"json"``, ``"jsonl"``, ``"yaml"``, ``"toml"``, ``"markdown"``,
``"csv"``, ``"tsv"``, ``"notebook"``, ``"image"``, ``"parquet"``, ``"safetensors"``,
``"npy"``, ``"zip"``, ``"gzip"``, or ``None`` (unknown: sniff).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import json
import re
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


#: Content types that name no format: S3's default for a PUT without one
#: (``binary/octet-stream``), ``application/octet-stream`` (google-cloud-storage's default
#: for a file name it cannot place), none at all, and ``text/plain`` (google-cloud-storage's
#: default for ``upload_from_string``), which says "text" but not which kind.
GENERIC_CONTENT_TYPES = frozenset(
    {"", "binary/octet-stream", "application/octet-stream", "text/plain"}
)


def media_type(info: ObjectInfo) -> str:
    """The object's content type without parameters, lower case (``""`` when none)."""
    return (info.content_type or "").split(";")[0].strip().lower()


def by_content(info: ObjectInfo) -> bool:
    """Whether the format must come from the object's first bytes alone: its name has no
    extension pail knows (none, as ``file-6f1c...`` and ``MLmodel``; a version such as
    modelkit's ``0.1``; an unknown one such as modelkit's ``.meta``) and its content type is
    missing or one of :data:`GENERIC_CONTENT_TYPES`. A specific type (``application/json``,
    ``text/csv``...) wins over the bytes."""
    return _EXTENSIONS.get(extension(info.key)) is None and media_type(info) in (
        GENERIC_CONTENT_TYPES
    )


def format_for(info: ObjectInfo) -> str | None:
    """The format suggested by the key's extension or, failing that, the content type;
    ``None`` when neither says (then :func:`sniff` and, if :func:`by_content`,
    :func:`sniff_text` decide)."""
    fmt = _EXTENSIONS.get(extension(info.key))
    if fmt == "text" and is_log(info):
        return "log"
    if fmt is not None:
        return fmt
    ctype = media_type(info)
    if ctype in _CONTENT_TYPES:
        return _CONTENT_TYPES[ctype]
    if ctype.startswith("image/") and ctype[6:] in ("png", "jpeg", "gif", "webp"):
        return "image"
    if is_log(info):
        return "log"
    if ctype.startswith("text/") and ctype not in GENERIC_CONTENT_TYPES:
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


# -- text formats by content -------------------------------------------------------------------

#: Lines of the first window the JSON Lines, CSV and YAML checks read.
_SAMPLE_LINES = 100
#: Characters the CSV sniffer and the JSON-prefix scan read.
_SAMPLE_CHARS = 16 * 1024

# Characters no text file holds: C0 controls but tab, LF, FF and CR; DEL; C1 controls.
# (A log coloured with ESC sequences is not sniffed, but the plain fallback still shows it.)
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_JSON_SPACE = " \t\r\n"  # RFC 8259 section 2: the only whitespace JSON allows
_JSON_STRING = r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"'
# One JSON token (RFC 8259), after optional whitespace; Python's json also writes
# NaN/Infinity (MLflow metrics can hold them), so they count.
_JSON_TOKEN = re.compile(
    rf"[{_JSON_SPACE}]*(?:(?P<open>[{{\[])|(?P<close>[}}\]])|[:,]|{_JSON_STRING}"
    r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null|NaN|-?Infinity)"
)
# What a range can leave of a token at the end: part of a string or of a number (whose
# digits the token pattern may already have taken: "1.5" of "1.5e-3").
_JSON_CUT = re.compile(r'(?:"(?:[^"\\\x00-\x1f]|\\.)*\\?|[0-9.eE+-]+)\Z', re.DOTALL)
_JSON_WORDS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
# A YAML block-mapping key (YAML 1.2 section 8.2.2) as configs write them: a plain name
# without spaces or a quoted one, after optional "- " list markers, then ":" and a space
# or the end of the line ("http://..." is not a key).
_YAML_KEY = re.compile(
    r"(?P<item>(?:- +)*)(?P<key>[A-Za-z_][\w.\-/]*|\"[^\"\n]*\"|'[^'\n]*')[ ]*:"
    r"(?:[ ]+(?P<value>.*)|[ ]*)\Z"
)


def sniff_text(head: bytes, *, complete: bool) -> str | None:
    """The text format of an object whose first bytes are ``head``, or ``None`` (binary).

    Meant for objects whose name and content type say nothing (:func:`by_content`); run
    after :func:`sniff` (magic numbers first). Looks only at ``head``.

    Args:
        head: the first bytes of the object (the preview's first window).
        complete: ``head`` is the whole object; otherwise the range cut its end, and a
            partial last line (or UTF-8 character) is not held against it.

    Returns:
        ``"json"``: an object or array (after an optional UTF-8 BOM and whitespace, RFC
        8259) that parses; when cut, whose start is one run of JSON tokens with matching
        brackets, ending inside the value.
        ``"jsonl"``: two or more lines, each a JSON value, the first an object or array
        (https://jsonlines.org; a cut last line need only start like JSON).
        ``"csv"`` or ``"tsv"``: :class:`csv.Sniffer` finds ``,`` ``;`` ``|`` or a tab in
        the first lines, two or more rows all have the same number (2 or more) of fields,
        and they do not read as prose (:func:`_reads_as_prose`).
        ``"yaml"``: ``key: value`` lines (block mappings, YAML 1.2 section 8.2.2, or a
        ``---`` start), no top-level line of prose, no top-level key twice, no tab
        indentation (YAML forbids it; Makefiles use it), values not mostly sentences.
        ``"text"``: other UTF-8 without control characters.
        ``None``: not UTF-8, or control characters: binary.
    """
    text = _decode(head, complete=complete)
    if text is None:
        return None
    text = text.removeprefix("\ufeff")
    start = text.lstrip(_JSON_SPACE)
    if not start:
        return "text"
    lines, partial = _first_lines(text, complete=complete)
    if start[0] in "{[":
        if complete and _json_document(start):
            return "json"
        if _json_lines(lines, partial):
            return "jsonl"
        if not complete and _json_prefix(start[:_SAMPLE_CHARS]):
            return "json"
    delimiter = _table_delimiter(lines)
    if delimiter is not None:
        return "tsv" if delimiter == "\t" else "csv"
    if _yaml_mapping(lines):
        return "yaml"
    return "text"


def _decode(head: bytes, *, complete: bool) -> str | None:
    """``head`` as UTF-8 (a character cut at the end held back unless ``complete``), or
    ``None`` if it is not UTF-8 or holds control characters."""
    try:
        text = codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=complete)
    except UnicodeDecodeError:
        return None
    return None if _CONTROL.search(text) else text


def _first_lines(text: str, *, complete: bool) -> tuple[list[str], str]:
    """Up to :data:`_SAMPLE_LINES` whole lines of ``text`` (with their ``\\n``), and the
    line the range cut (``""`` when there is none or it lies past the sample)."""
    parts = text.split("\n", _SAMPLE_LINES)
    if len(parts) > _SAMPLE_LINES:  # more follows the sample: every line in it is whole
        return [p + "\n" for p in parts[:_SAMPLE_LINES]], ""
    *whole, last = parts
    lines = [p + "\n" for p in whole]
    if complete:
        return ([*lines, last] if last else lines), ""
    return lines, last


def _json_document(text: str) -> bool:
    """``text`` parses as one JSON object or array."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict | list)


def _json_prefix(text: str) -> bool:
    """``text`` (starting with ``{`` or ``[``) is the start of one JSON value: JSON tokens
    with matching brackets up to its end, where a range may have cut a string, number or
    literal short. Nothing but whitespace may follow the value's closing bracket."""
    stack: list[str] = []
    pos = 0
    while True:
        match = _JSON_TOKEN.match(text, pos)
        if match is None:
            break
        pos = match.end()
        if match.group("open"):
            stack.append("}" if match.group("open") == "{" else "]")
        elif match.group("close"):
            if not stack or stack.pop() != match.group("close"):
                return False
            if not stack:  # the value is complete: only whitespace may follow
                return not text[pos:].strip(_JSON_SPACE)
        elif not stack:
            return False  # a scalar outside the value
    rest = text[pos:].lstrip(_JSON_SPACE)
    if not rest:
        return bool(stack)
    if not stack:
        return False
    return bool(_JSON_CUT.match(rest)) or any(word.startswith(rest) for word in _JSON_WORDS)


def _json_lines(lines: list[str], partial: str) -> bool:
    """Two or more lines, each one JSON value (blank lines skipped), the cut last line
    (``partial``) only the start of one."""
    values = 0
    for line in lines:
        if not line.strip(_JSON_SPACE):
            continue
        try:
            json.loads(line)
        except (ValueError, RecursionError):
            return False
        values += 1
    cut = partial.lstrip(_JSON_SPACE)
    if cut:
        if not (cut[0] in "{[" and _json_prefix(cut[:_SAMPLE_CHARS])):
            return False
        values += 1
    return values >= 2


def _table_delimiter(lines: list[str]) -> str | None:
    """The field separator of a CSV/TSV sample of whole ``lines``, or ``None``."""
    sample = "".join(lines)
    if len(sample) > _SAMPLE_CHARS:
        sample = sample[: sample.rfind("\n", 0, _SAMPLE_CHARS) + 1]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter))
    except csv.Error:
        return None
    while rows and not rows[-1]:
        rows.pop()
    if len(rows) < 2 or not all(rows):  # a blank line inside: paragraphs, not rows
        return None
    width = len(rows[0])
    if width < 2 or any(len(row) != width for row in rows):
        return None
    return None if _reads_as_prose(rows, delimiter) else delimiter


def _is_number(cell: str) -> bool:
    with contextlib.suppress(ValueError):
        float(cell)
        return True
    return False


def _reads_as_prose(rows: list[list[str]], delimiter: str) -> bool:
    """Whether rows with the same number of fields are sentences rather than a table.

    A column of numbers below the first row makes it a table. Otherwise it reads as prose
    when most fields after the first start with a space after ``,`` or ``;`` (people put one
    there; CSV writers such as Python's csv module, pandas and MLflow do not), fields hold
    more than 2.5 words on average, most rows end in ``.``/``!``/``?``, or every row is framed
    by ``|`` (a Markdown table).
    """
    for i in range(len(rows[0])):
        cells = [row[i].strip() for row in rows[1:]]
        if any(cells) and all(_is_number(cell) for cell in cells if cell):
            return False
    if delimiter in ",;":
        later = [cell for row in rows for cell in row[1:]]
        if 2 * sum(cell.startswith(" ") for cell in later) >= len(later):
            return True
    if delimiter == "|" and all(not row[0].strip() and not row[-1].strip() for row in rows):
        return True
    fields = [cell for row in rows for cell in row]
    if sum(len(cell.split()) for cell in fields) > 2.5 * len(fields):
        return True
    return 2 * sum(row[-1].rstrip().endswith((".", "!", "?")) for row in rows) > len(rows)


def _yaml_mapping(lines: list[str]) -> bool:
    """Whether whole ``lines`` read as a YAML block mapping (see :func:`sniff_text`)."""
    keys = values = sentences = 0
    document = False  # a "---" line was seen
    top: set[str] = set()
    for raw in lines:
        line = raw.rstrip("\r\n")
        stripped = line.strip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        if line.startswith("\t"):
            return False  # YAML forbids tabs for indentation
        if stripped in ("---", "...") or line.startswith("--- "):
            document, top = True, set()  # a new document may reuse keys
            continue
        match = _YAML_KEY.match(stripped)
        if match:
            keys += 1
            if not line.startswith(" ") and not match.group("item"):
                if match.group("key") in top:
                    return False  # "INFO: ..." lines of a log repeat; mapping keys do not
                top.add(match.group("key"))
            value = (match.group("value") or "").strip()
            if value:
                values += 1
                sentences += value.endswith((".", "!", "?")) and len(value.split()) >= 3
        elif not line.startswith(" ") and not stripped.startswith("-"):
            return False  # a top-level line that is neither a key nor a list item: prose
    if keys < (1 if document else 2):
        return False
    return 2 * sentences <= values if values else True
