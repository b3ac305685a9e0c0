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
