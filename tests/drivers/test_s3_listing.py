"""The S3 driver's own ListObjectsV2/ListObjects page parser (drivers/s3/listing.py) gives
exactly what botocore's parser gives, on moto, SeaweedFS and canned answers, and leaves
everything that is not a listing page to botocore."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pail.drivers.base import Entry, iter_pages
from pail.drivers.errors import StorageError
from pail.drivers.s3 import S3Driver
from pail.drivers.s3 import listing as fast_listing
from pail.drivers.s3.driver import _utc
from support.canned_http import Reply, canned_server
from support.seaweed import S3_SERVERS, s3_endpoint_for, seed
from support.servers import s3_client

#: Keys that test decoding: URL-encoding of spaces and '+', percent signs, XML specials,
#: control characters, non-ASCII, a trailing space and a delimiter-only segment.
HOSTILE = [
    "run 1/a+b c.json",
    "run 1/100%/x.txt",
    'run 1/<tag>&"quote"\'.bin',
    "run 1/tab\there.log",
    "run 1/ünï/çødé.ckpt",
    "run 1/trailing ",
    "run 1/sub/deep/k",
    "run 1/sub2/k",
    "run 1/%2F-literal",
]


def _driver(endpoint: str) -> S3Driver:
    return S3Driver(endpoint_url=endpoint, path_style=True, region="us-east-1")


def _botocore_entries(endpoint: str, bucket: str, prefix: str, delimiter: str) -> list[Entry]:
    """The same listing through a plain boto3 client (botocore's own parser)."""
    client = s3_client(endpoint)
    out: list[Entry] = []
    kwargs = {"Bucket": bucket, "Prefix": prefix, "Delimiter": delimiter, "MaxKeys": 3}
    for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
        out.extend(Entry(p["Prefix"], "prefix") for p in page.get("CommonPrefixes", []))
        out.extend(
            Entry(
                o["Key"],
                "object",
                size=o["Size"],
                last_modified=_utc(o["LastModified"]),
                etag=o["ETag"].strip('"'),
                storage_class=o.get("StorageClass"),
            )
            for o in page.get("Contents", [])
        )
    return sorted(out, key=lambda e: e.key)


@pytest.mark.parametrize("server", S3_SERVERS)
@pytest.mark.parametrize("delimiter", ["/", ""])
def test_pages_equal_botocores_parse_with_hostile_keys(request, server, delimiter) -> None:
    endpoint = s3_endpoint_for(request, server)
    bucket = f"fastlist-{server}"
    seed(endpoint, bucket, {key: key.encode() for key in HOSTILE})
    driver = _driver(endpoint)
    seen: list[dict] = []
    driver.client.meta.events.register(
        "after-call.s3.ListObjectsV2", lambda parsed, **_: seen.append(parsed)
    )
    pages = list(iter_pages(driver, bucket, "run 1/", delimiter=delimiter, page_size=3))
    got = [entry for page in pages for entry in page.entries]
    assert got == _botocore_entries(endpoint, bucket, "run 1/", delimiter)
    assert len(pages) > 1  # paging went through NextContinuationToken
    # Every page went through pail's parser (its entries ride in the parsed answer).
    assert seen and all(fast_listing.ENTRIES in parsed for parsed in seen)


def _page(body: str) -> Reply:
    return Reply(200, body.encode())


_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def test_a_page_without_namespace_or_encoding_type_keeps_raw_keys() -> None:
    body = (
        "<ListBucketResult><Name>b</Name><IsTruncated>false</IsTruncated>"
        "<Contents><Key>a%20b+c</Key><LastModified>2026-01-02T03:04:05Z</LastModified>"
        "<ETag>&quot;abc&quot;</ETag><Size>7</Size><StorageClass>GLACIER</StorageClass>"
        "</Contents><CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes></ListBucketResult>"
    )
    with canned_server([_page(body)]) as srv:
        page = _driver(srv.url).list_page("b")
    assert page.next_token is None
    assert page.entries == (
        Entry(
            "a%20b+c",
            "object",
            7,
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
            "abc",
            "GLACIER",
        ),
        Entry("a/", "prefix"),
    )


def test_url_encoded_keys_tokens_and_offsets_are_decoded_and_kept() -> None:
    body = (
        f"<ListBucketResult {_NS}><EncodingType>url</EncodingType>"
        "<IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken>"
        "<Contents><Key>x/a%20b%2Bc</Key><LastModified>2026-01-02T03:04:05.123+02:00</LastModified>"
        "<Size>0</Size></Contents></ListBucketResult>"
    )
    with canned_server([_page(body)]) as srv:
        page = _driver(srv.url).list_page("b", "x/")
    (entry,) = page.entries
    assert entry.key == "x/a b+c"
    assert entry.last_modified == datetime(2026, 1, 2, 1, 4, 5, 123000, tzinfo=timezone.utc)
    assert entry.size == 0 and entry.etag is None
    assert page.next_token == "tok+/="  # a token is opaque: never decoded


def test_a_page_botocore_cannot_read_is_left_to_botocore() -> None:
    # A LastModified that is not ISO 8601: pail's parser declines, botocore's dateutil
    # reads it, as before.
    body = (
        f"<ListBucketResult {_NS}><IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
        "<LastModified>Fri, 02 Jan 2026 03:04:05 GMT</LastModified><Size>1</Size></Contents>"
        "</ListBucketResult>"
    )
    with canned_server([_page(body)]) as srv:
        (entry,) = _driver(srv.url).list_page("b").entries
    assert entry.last_modified == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def test_a_body_that_is_not_a_listing_still_fails_the_way_it_did() -> None:
    # An HTML page answered 200 twice (ListObjectsV2, then the V1 fallback): the error
    # comes from botocore's parse, exactly as without the fast parser.
    html = Reply(200, b"<html><body>login</body></html>", content_type="text/html")
    with canned_server([html, html, html, html]) as srv, pytest.raises(StorageError):
        _driver(srv.url).list_page("b")


def test_parse_page_declines_other_documents() -> None:
    assert fast_listing.parse_page(b"<Error><Code>x</Code></Error>") is None
    assert fast_listing.parse_page(b"not xml at all") is None
    fields = fast_listing.parse_page(b"<ListBucketResult><KeyCount>0</KeyCount></ListBucketResult>")
    assert fields == {"KeyCount": 0, "IsTruncated": False, fast_listing.ENTRIES: ()}


def test_an_error_in_a_200_answer_is_still_an_error_and_retried() -> None:
    # S3 may answer 200 with an <Error> document (botocore's _handle_200_error turns it into
    # a 500, which is retried): pail's parser runs first and must leave it alone.
    error = Reply(200, b"<Error><Code>InternalError</Code><Message>oops</Message></Error>")
    with canned_server([error] * 10) as srv, pytest.raises(StorageError):
        _driver(srv.url).list_page("b")
    assert srv.count > 1


def _handlers(client) -> list:
    """The handlers botocore calls for a ListObjectsV2 answer, in order (botocore
    internals: EventAliaser._emitter, HierarchicalEmitter._handlers, a _PrefixTrie)."""
    trie = client.meta.events._emitter._handlers
    return list(trie.prefix_search("before-parse.s3.ListObjectsV2"))


def test_botocores_200_check_runs_after_pails_parser_and_only_on_pails_client() -> None:
    from botocore import handlers

    order = _handlers(_driver("http://127.0.0.1:9").client)
    assert order.index(fast_listing._before_parse) < order.index(handlers._handle_200_error)
    theirs = _handlers(s3_client("http://127.0.0.1:9"))
    assert fast_listing._before_parse not in theirs and handlers._handle_200_error in theirs


_ITEM = (
    "<Contents><Key>a&amp;b</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
    "<ETag>&#34;e1&#34;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents>"
)
_PLAIN = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult {_NS}>'
    "<IsTruncated>true</IsTruncated><NextContinuationToken>t&amp;1</NextContinuationToken>"
    f"{_ITEM}<CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes></ListBucketResult>"
)


@pytest.mark.parametrize(
    "body",
    [
        _PLAIN,
        _PLAIN.replace("<Contents>", "<!-- a comment --><Contents>"),
        _PLAIN.replace("<Contents>", '<Contents id="1">'),
        _PLAIN.replace("<Key>a&amp;b</Key>", "<Key><![CDATA[a&b]]></Key>"),
        _PLAIN.replace(
            "</Contents>", '<x:Owner xmlns:x="urn:x"><x:ID>1</x:ID></x:Owner></Contents>'
        ),
    ],
    ids=["plain", "comment", "attribute", "cdata", "prefixed-element"],
)
def test_the_scan_reads_plain_pages_and_leaves_the_rest_to_the_tree_parse(body: str) -> None:
    data = body.encode()
    tree = fast_listing.tree_page(data)
    assert tree is not None
    entries = tree[fast_listing.ENTRIES]
    assert [e.key for e in entries] == ["a&b", "p/"]
    assert entries[0].etag == "e1" and entries[0].size == 3
    assert tree["NextContinuationToken"] == "t&1" and tree["IsTruncated"] is True
    scanned = fast_listing.scan_page(data)
    if body == _PLAIN:
        assert scanned == tree
    else:
        assert scanned is None  # not the plain form: the tree parse decides
    assert fast_listing.parse_page(data) == tree


def test_a_truncated_page_is_no_page() -> None:
    data = _PLAIN.encode()[:-40]
    assert fast_listing.scan_page(data) is None
    assert fast_listing.parse_page(data) is None  # botocore then fails on it


@pytest.mark.parametrize("server", S3_SERVERS)
def test_prefetched_pages_with_a_small_first_page_list_every_key_once(request, server) -> None:
    endpoint = s3_endpoint_for(request, server)
    bucket = f"fastlist-{server}"
    seed(endpoint, bucket, {key: key.encode() for key in HOSTILE})
    driver = _driver(endpoint)
    pages = list(
        iter_pages(
            driver, bucket, "run 1/", delimiter="", page_size=3, prefetch=True, first_page_size=2
        )
    )
    assert [len(p.entries) for p in pages][:2] == [2, 3]
    got = [entry for page in pages for entry in page.entries]
    assert got == _botocore_entries(endpoint, bucket, "run 1/", "")


def test_other_callers_of_the_client_get_botocores_whole_answer(s3_endpoint) -> None:
    # The permission probes (and anyone holding driver.client) read Contents themselves.
    bucket = "fastlist-plain"
    seed(s3_endpoint, bucket, {"k1": b"x"})
    driver = _driver(s3_endpoint)
    resp = driver.client.list_objects_v2(Bucket=bucket, MaxKeys=1)
    assert resp["Contents"][0]["Key"] == "k1" and fast_listing.ENTRIES not in resp
    assert [e.key for e in driver.list_page(bucket).entries] == ["k1"]
