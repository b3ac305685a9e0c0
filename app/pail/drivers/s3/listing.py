"""Fast parsing of S3 listing pages (ListObjectsV2, ListObjects).

Why: botocore turns each ListObjectsV2 page into dicts by walking the service model for
every element of every ``<Contents>``, and parses every ``LastModified`` with dateutil;
for a page of 1,000 keys that is most of the client's time (``../shared/PERF-NOTES.md``:
76% of ``pail ls``'s samples, 47% dateutil alone). Here one C parse
(:func:`xml.etree.ElementTree.fromstring`, expat) reads the page and each entry is built
straight from the elements, with ``LastModified`` read by :meth:`datetime.fromisoformat`
(ISO 8601, cached per page: keys written together share their second).

botocore keeps everything else: credentials, signing, retries (pail's handler), the
check of a 200 answer for an embedded error (``_handle_200_error``, registered first)
and every error. :func:`install` hooks ``before-parse.s3.ListObjectsV2`` and
``before-parse.s3.ListObjects``: a 200 answer whose body is a ``ListBucketResult`` is
parsed here, its fields go into botocore's ``customized_response_dict`` (merged into the
parsed answer) and the body botocore then parses is replaced by an empty result. Any
other answer (an error, a body that is not S3 XML, a root that is not
``ListBucketResult``) is left to botocore untouched, so its errors and pail's fallbacks
(:meth:`pail.drivers.s3.driver.S3Driver.list_page`) see exactly what they saw before.

Keys are URL-decoded (``unquote_plus``, as botocore's ``decode_list_object_v2``) when the
answer says ``<EncodingType>url</EncodingType>``: botocore adds ``EncodingType=url`` to
every ListObjects(V2) request pail sends (pail never sets it itself), and a store that
ignores it sends raw keys and no ``EncodingType`` element.

These are botocore internals (the ``before-parse`` event and its keyword arguments),
checked against botocore 1.44.8 (``botocore/endpoint.py`` ``Endpoint._do_get_response``);
tests/drivers/test_s3_listing.py fails if they change.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from html import unescape
from typing import Any
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element, ParseError, fromstring

from pail.drivers.base import Entry

#: Key in the parsed answer under which the page's entries travel (key-ordered tuple).
ENTRIES = "PailEntries"
#: The body botocore parses instead of a page already parsed here.
_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>'
_OPERATIONS = ("ListObjectsV2", "ListObjects")
#: The document's start: an optional XML declaration, then the root element.
_ROOT = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?<ListBucketResult(?:\s[^>]*)?>")
#: An element with a namespace prefix (``<s3:Key>``): left to the tree parse.
_PREFIXED = re.compile(r"</?[A-Za-z_][\w.-]*:")
#: The scan's patterns: every ``Contents`` element's inside; every common prefix; the
#: fields of one ``Contents``; the page's own fields (none of which an item holds).
_CONTENTS = re.compile(r"<Contents>(.*?)</Contents>", re.DOTALL)
_COMMON_PREFIXES = re.compile(r"<CommonPrefixes>\s*<Prefix>([^<]*)</Prefix>\s*</CommonPrefixes>")
_FIELDS = re.compile(r"<(Key|Size|LastModified|ETag|StorageClass)>([^<]*)</\1>")
_TOP = re.compile(
    r"<(IsTruncated|NextContinuationToken|NextMarker|EncodingType|KeyCount)>([^<]*)</\1>"
)


def _timestamp(text: str, cache: dict[str, datetime | None]) -> datetime | None:
    """``LastModified`` (ISO 8601, e.g. ``2026-11-30T22:12:28.000Z``) as an aware UTC
    datetime; a time without a zone is UTC (S3 API reference: timestamps are UTC);
    ``None`` when it is not ISO 8601."""
    if text in cache:
        return cache[text]
    try:
        value: datetime | None = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is not None:
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        elif value.utcoffset():
            value = value.astimezone(timezone.utc)
        else:
            value = value.replace(tzinfo=timezone.utc)
    cache[text] = value
    return value


def parse_page(body: bytes) -> dict[str, Any] | None:
    """One ListObjectsV2 or ListObjects answer body as the fields pail reads: by
    :func:`scan_page` when it can vouch for the page, else by :func:`tree_page`.

    Returns:
        ``None`` when ``body`` is not a ``ListBucketResult`` document (left to botocore);
        otherwise a dict with :data:`ENTRIES` (tuple of :class:`Entry`, common prefixes and
        objects merged in key order), ``IsTruncated`` (bool) and, when the answer has
        them, ``NextContinuationToken``, ``NextMarker`` (decoded like keys), ``KeyCount``.

    Raises:
        ValueError: a ``Size`` that is not an integer or a ``LastModified`` that is not
            ISO 8601 (the caller leaves such a page to botocore).
    """
    fields = scan_page(body)
    return fields if fields is not None else tree_page(body)


def scan_page(body: bytes) -> dict[str, Any] | None:
    """:func:`parse_page` by regular expressions over the page: one pass finds the
    ``Contents`` elements and one per element reads its fields into a dict, all in C; about
    1.7 times less CPU than building the element tree. It reads only the plain form S3
    servers send (unprefixed elements without attributes, text without markup) and vouches
    for its result: ``None`` (the tree parse decides) when the document is not one whole
    ``ListBucketResult``, has a comment, CDATA, a DOCTYPE or a namespace-prefixed element,
    or when a ``Contents`` or ``CommonPrefixes`` element was not read. An element's text
    never holds a raw ``<`` (XML 1.0, section 2.4), so ``[^<]*`` is all of it; entities in
    it are unescaped.

    Raises:
        ValueError: a ``Size`` or ``KeyCount`` that is not an integer.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if (
        not _ROOT.match(text)
        or not text.rstrip().endswith("</ListBucketResult>")
        or "<!" in text
        or _PREFIXED.search(text)
    ):
        return None
    top = dict(_TOP.findall(text))
    decode: Callable[[str], str] = (
        unquote_plus if top.get("EncodingType", "").lower() == "url" else str
    )
    chunks = _CONTENTS.findall(text)
    found = _COMMON_PREFIXES.findall(text)
    if len(chunks) != text.count("<Contents") or len(found) != text.count("<CommonPrefixes"):
        return None  # an element in a form the scan does not read (attributes, say)
    stamps: dict[str, datetime | None] = {}
    entries = [Entry(decode(_text(prefix)), "prefix") for prefix in found]
    fields_of = _FIELDS.findall
    for chunk in chunks:
        item = dict(fields_of(chunk))
        key = item.get("Key")
        if key is None:
            return None
        stamp = item.get("LastModified")
        modified = stamps.get(stamp) if stamp else None
        if stamp and modified is None:
            modified = _timestamp(stamp, stamps)
            if modified is None:
                return None
        etag = item.get("ETag")
        if etag:  # quoted, and S3 escapes the quotes: &quot; (AWS) or &#34; (Go servers)
            etag = _text(etag.replace("&quot;", "").replace("&#34;", "")).strip('"') or None
        size = item.get("Size")
        entries.append(
            Entry(
                decode(_text(key)),
                "object",
                int(size) if size else 0,
                modified,
                etag,
                item.get("StorageClass"),
            )
        )
    entries.sort(key=_by_key)  # linear on an already ordered page (Timsort)
    fields: dict[str, Any] = {
        "IsTruncated": top.get("IsTruncated", "").strip().lower() == "true",
        ENTRIES: tuple(entries),
    }
    if "NextContinuationToken" in top:
        fields["NextContinuationToken"] = _text(top["NextContinuationToken"])
    if "NextMarker" in top:
        fields["NextMarker"] = decode(_text(top["NextMarker"]))
    if "KeyCount" in top:
        fields["KeyCount"] = int(top["KeyCount"] or 0)
    return fields


def _text(value: str) -> str:
    """An element's raw text with its entities (``&amp;``, ``&#34;``...) unescaped."""
    return unescape(value) if "&" in value else value


def tree_page(body: bytes) -> dict[str, Any] | None:
    """:func:`parse_page` through a full XML parse (:mod:`xml.etree.ElementTree`)."""
    try:
        root = fromstring(body)
    except ParseError:
        return None
    tag = root.tag
    ns = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
    if tag != ns + "ListBucketResult":
        return None
    t_contents, t_prefixes = ns + "Contents", ns + "CommonPrefixes"
    t_key, t_size, t_modified = ns + "Key", ns + "Size", ns + "LastModified"
    t_etag, t_class, t_prefix = ns + "ETag", ns + "StorageClass", ns + "Prefix"
    encoded = (root.findtext(ns + "EncodingType") or "").lower() == "url"
    decode: Callable[[str], str] = unquote_plus if encoded else str
    stamps: dict[str, datetime | None] = {}
    prefixes: list[Entry] = []
    objects: list[Entry] = []
    fields: dict[str, Any] = {}
    for child in root:
        ctag = child.tag
        if ctag == t_contents:
            objects.append(
                _object(child, decode, stamps, t_key, t_size, t_modified, t_etag, t_class)
            )
        elif ctag == t_prefixes:
            prefix = child.findtext(t_prefix)
            if prefix is not None:
                prefixes.append(Entry(decode(prefix), "prefix"))
        elif ctag == ns + "IsTruncated":
            fields["IsTruncated"] = (child.text or "").strip().lower() == "true"
        elif ctag == ns + "NextContinuationToken":
            fields["NextContinuationToken"] = child.text or ""
        elif ctag == ns + "NextMarker":
            fields["NextMarker"] = decode(child.text or "")
        elif ctag == ns + "KeyCount":
            fields["KeyCount"] = int(child.text or 0)
    entries = prefixes + objects if prefixes else objects
    entries.sort(key=_by_key)  # linear on an already ordered page (Timsort)
    fields.setdefault("IsTruncated", False)
    fields[ENTRIES] = tuple(entries)
    return fields


def _by_key(entry: Entry) -> str:
    return entry.key


def _object(
    element: Element,
    decode: Callable[[str], str],
    stamps: dict[str, datetime | None],
    t_key: str,
    t_size: str,
    t_modified: str,
    t_etag: str,
    t_class: str,
) -> Entry:
    key = size = modified = etag = storage_class = None
    for field in element:
        ftag = field.tag
        if ftag == t_key:
            key = decode(field.text or "")
        elif ftag == t_size:
            size = int(field.text or 0)
        elif ftag == t_modified:
            if field.text:
                modified = _timestamp(field.text, stamps)
                if modified is None:
                    raise ValueError(f"LastModified is not ISO 8601: {field.text!r}")
        elif ftag == t_etag:
            etag = (field.text or "").strip('"') or None
        elif ftag == t_class:
            storage_class = field.text
    if key is None:
        raise ValueError("a Contents element without a Key")
    return Entry(
        key,
        "object",
        size=size or 0,
        last_modified=modified,
        etag=etag,
        storage_class=storage_class,
    )


_asked = threading.local()


@contextmanager
def parsing() -> Iterator[None]:
    """Within the block, this thread's listing calls are parsed by pail (their answer
    carries :data:`ENTRIES` and no ``Contents``/``CommonPrefixes``). Only the driver's own
    listing asks: any other caller of the client (the permission probes, a test, a
    paginator) gets botocore's answer, every field of it."""
    before = getattr(_asked, "on", False)
    _asked.on = True
    try:
        yield
    finally:
        _asked.on = before


def _before_parse(
    response_dict: dict[str, Any],
    customized_response_dict: dict[str, Any],
    operation_model: Any = None,
    **_: Any,
) -> None:
    """botocore ``before-parse`` handler: parse a 200 listing page here (see the module)."""
    if not getattr(_asked, "on", False):
        return
    if getattr(operation_model, "name", None) not in _OPERATIONS:
        return
    if response_dict.get("status_code") != 200:
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes | bytearray) or not body:
        return
    try:
        fields = parse_page(bytes(body))
    except ValueError:
        return  # botocore parses it, and fails the way it always did
    if fields is None:
        return
    customized_response_dict.update(fields)
    response_dict["body"] = _EMPTY


def install(client: Any) -> None:
    """Make ``client`` (a botocore S3 client) parse ListObjectsV2 and ListObjects pages
    with :func:`parse_page`; the parsed answer then carries :data:`ENTRIES`.

    Call it before :func:`pail.drivers.s3.retry.install`: that one's
    :func:`pail.drivers.s3.errors.install_answer_check` moves botocore's check of a 200
    answer for an embedded ``<Error>`` (``_handle_200_error``, which parses the whole body
    once more only to read its root element) behind the handlers registered before it,
    this one included. The check still runs on every answer; on a page pail has parsed
    (its root is ``ListBucketResult``, so it is no error) it reads the short stand-in.
    """
    client.meta.events.register_first(
        "before-parse.s3.*", _before_parse, unique_id="pail-fast-listing"
    )
