"""Errors show where they happen: badges on nodes, every field and a hint in the detail.

Real 403s come from moto's IAM enforcement (``moto_iam_server``); 404 and unreachable
from a real moto server and a closed port.
"""

from __future__ import annotations

from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.errors import EndpointUnreachable
from support.servers import free_port
from support.ui import (
    SIZE,
    detail_text,
    find,
    make_app,
    names,
    open_node,
    rows,
    run,
    s3_spec,
    select,
    settle,
    tree_of,
)


def _iam_spec(store, user: str) -> ConnectionSpec:
    keys = store.users[user]
    return s3_spec(
        store.endpoint,
        name=f"iam-{user}",
        bucket=store.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
    )


def test_403_listing_badge_and_detail_fields(moto_iam_server):
    spec = _iam_spec(moto_iam_server, "nolist")  # may GetObject, may not list

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "iam-nolist")
            assert tree_of(app).line_text(conn).endswith(" 403 AccessDenied ")
            bucket = find(app, "iam-nolist", "pail-iam")
            assert rows(app, conn) == ["▼ pail-iam  403 AccessDenied "]
            assert bucket.data.error.operation == "ListObjectsV2"
            await select(pilot, bucket)
            text = detail_text(app)
            assert "Listing failed: 403 AccessDenied" in text
            for label, value in [
                ("Error", "AccessDenied"),
                ("Operation", "ListObjectsV2"),
                ("Bucket", "pail-iam"),
                ("HTTP status", "403"),
                ("Code", "AccessDenied"),
                ("Endpoint", moto_iam_server.endpoint),
            ]:
                assert any(
                    line.split()[: len(label.split()) + 1] == [*label.split(), value]
                    for line in text.splitlines()
                ), (label, value, text)
            assert "Hint:" in text and "s3:ListBucket" in text
            assert moto_iam_server.users["nolist"].secret_access_key not in text

    run(body())


def test_listbuckets_denied_but_pinned_bucket_opens(moto_iam_server):
    spec = _iam_spec(moto_iam_server, "reader")  # GetObject + ListBucket only

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "iam-reader")
            assert conn.data.error.operation == "ListBuckets"
            assert tree_of(app).line_text(conn).endswith(" 403 AccessDenied ")
            bucket = find(app, "iam-reader", "pail-iam")
            assert bucket.is_expanded and bucket.data.error is None
            assert names(bucket) == ["data/"]
            data = await open_node(pilot, find(app, "iam-reader", "pail-iam", "data/"))
            assert names(data) == ["a.txt", "b.json"]
            await select(pilot, data.children[0])
            text = detail_text(app)
            assert "hello" in text and "read 6 of 6 bytes" in text
            await select(pilot, conn)
            text = detail_text(app)
            assert "Operation    ListBuckets" in text
            assert "a bucket named on the command line still opens" in " ".join(text.split())

    run(body())


def test_missing_bucket_shows_404_badge(s3_endpoint):
    spec = s3_spec(s3_endpoint, bucket="no-such-bucket")

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            bucket = find(app, "moto", "no-such-bucket")
            assert tree_of(app).line_text(bucket) == "▼ no-such-bucket  404 NoSuchBucket "
            await select(pilot, bucket)
            text = detail_text(app)
            assert "Code         NoSuchBucket" in text and "path-style" in text

    run(body())


def test_unreachable_endpoint_badge():
    spec = s3_spec(f"http://127.0.0.1:{free_port()}", name="down")

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "down")
            assert isinstance(conn.data.error, EndpointUnreachable)
            assert tree_of(app).line_text(conn) == "▼ down  s3  unreachable "
            text = detail_text(app)
            assert "EndpointUnreachable" in text and "Could not reach the endpoint" in text

    run(body())


def test_driver_factory_failure_is_shown_not_raised():
    def factory(spec):
        raise RuntimeError("no driver for [bold]you[/]")

    spec = ConnectionSpec(name="broken", provider="s3")

    async def body():
        app = make_app([spec], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conn = find(app, "broken")
            assert tree_of(app).line_text(conn) == "▼ broken  s3  error "
            assert names(conn) == []
            text = detail_text(app)
            assert "RuntimeError: no driver for [bold]you[/]" in text
            await pilot.press("r")  # retrying fails the same way, still no crash
            await settle(pilot)
            assert app.is_running and find(app, "broken").data.error is not None

    run(body())
