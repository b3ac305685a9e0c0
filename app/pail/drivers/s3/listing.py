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

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote_plus
from xml.etree.ElementTree import Element, ParseError, fromstring

from pail.drivers.base import Entry

#: Key in the parsed answer under which the page's entries travel (key-ordered tuple).
ENTRIES = "PailEntries"
#: The body botocore parses instead of a page already parsed here.
_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult></ListBucketResult>'
_OPERATIONS = ("ListObjectsV2", "ListObjects")


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
    """One ListObjectsV2 or ListObjects answer body as the fields pail reads.

    Returns:
        ``None`` when ``body`` is not a ``ListBucketResult`` document (left to botocore);
        otherwise a dict with :data:`ENTRIES` (tuple of :class:`Entry`, common prefixes and
        objects merged in key order), ``IsTruncated`` (bool) and, when the answer has
        them, ``NextContinuationToken``, ``NextMarker`` (decoded like keys), ``KeyCount``.

    Raises:
        ValueError: a ``Size`` that is not an integer or a ``LastModified`` that is not
            ISO 8601 (the caller leaves such a page to botocore).
    """
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


def _before_parse(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    """botocore ``before-parse`` handler: parse a 200 listing page here (see the module)."""
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
    with :func:`parse_page`; the parsed answer then carries :data:`ENTRIES`."""
    for operation in _OPERATIONS:
        client.meta.events.register(
            f"before-parse.s3.{operation}", _before_parse, unique_id=f"pail-fast-{operation}"
        )
