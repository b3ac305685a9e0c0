"""Permission diagnostics in the tree: who am I when the store has no STS, a bucket in
another region explained and reopened there (``g``), failing-only (``F``) with the status
bar's count, and the access check screen's snapshot for the read-only identity."""

from __future__ import annotations

from typing import Any

from pail.core.connection import ConnectionSpec, Secrets
from pail.drivers.errors import InvalidRequest
from pail.drivers.registry import open_driver
from pail.ui.screens.access_check import AccessCheckScreen
from support.servers import IamStore, s3_client
from support.ui import (
    SIZE,
    StableErrors,
    find,
    make_app,
    names,
    open_node,
    run,
    s3_spec,
    select,
    settle,
    stable_resolver,
    tree_of,
    until,
)


class NoStsStore:
    """Pail's S3 driver on moto, answering GetCallerIdentity the way S3-compatible stores
    without STS do (501 NotImplemented); everything else goes to the real store."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def caller_identity(self):
        raise InvalidRequest(
            "A header you provided implies functionality that is not implemented",
            operation="GetCallerIdentity",
            provider="s3",
            status=501,
            code="NotImplemented",
        )


def _user(iam: IamStore, user: str, **kwargs: Any) -> ConnectionSpec:
    keys = iam.users[user]
    return s3_spec(
        iam.endpoint,
        name=f"iam-{user}",
        bucket=iam.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
        **kwargs,
    )


def test_identity_unavailable_never_blocks(s3_endpoint, tmp_path):
    s3_client(s3_endpoint).create_bucket(Bucket="runs")
    (tmp_path / "a.txt").write_text("a")
    local = ConnectionSpec(name="folder", provider="local", root=str(tmp_path))

    async def body() -> None:
        def factory(spec):
            driver = open_driver(spec)
            return NoStsStore(driver) if spec.provider == "s3" else driver

        app = make_app([s3_spec(s3_endpoint), local], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.screen is app.main_screen  # no modal
            assert "runs" in names(find(app, "moto"))  # browsing went on
            await select(pilot, find(app, "moto"))
            status = app.main_screen.status.plain
            assert "identity: unavailable — GetCallerIdentity: 501 NotImplemented" in status
            text = app.main_screen.detail.as_text(200)
            assert "unavailable — GetCallerIdentity: 501 NotImplemented" in text
            await select(pilot, find(app, "folder"))
            assert "unavailable" not in app.main_screen.status.plain

    run(body())


def test_bucket_in_another_region_reopened_there(s3_endpoint):
    raw = s3_client(s3_endpoint)
    raw.create_bucket(
        Bucket="pail-euro", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    raw.put_object(Bucket="pail-euro", Key="runs/x.txt", Body=b"x")

    async def body() -> None:
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            bucket = find(app, "moto", "pail-euro")
            await select(pilot, bucket)
            text = app.main_screen.detail.as_text(200)
            assert "The bucket lives in another region" in text
            assert "Bucket pail-euro is in eu-west-1; this connection signs for us-east-1." in text
            assert "g reopens this connection in eu-west-1" in text
            assert app.main_screen.check_action("reopen_region", ()) is True
            await pilot.press("g")
            await settle(pilot)
            conn = bucket.data.conn
            assert conn.spec.region == "eu-west-1"
            assert conn.driver._client().meta.region_name == "eu-west-1"
            await select(pilot, find(app, "moto", "pail-euro"))
            assert "another region" not in app.main_screen.detail.as_text(200)
            assert not app.main_screen.check_action("reopen_region", ())

    run(body())


def test_failing_only_shows_the_403_nodes_and_counts_them(moto_iam_server):
    iam = moto_iam_server

    async def body() -> None:
        app = make_app([_user(iam, "reader"), _user(iam, "nolist")])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            # reader: ListBuckets 403, its bucket lists; nolist: ListBuckets and the bucket 403
            assert find(app, "iam-reader", iam.bucket).data.error is None
            status = app.main_screen.status
            await select(pilot, find(app, "iam-nolist", iam.bucket))
            assert "3 failing" in status.plain
            assert tree_of(app).tooltip.startswith("403 AccessDenied on ListObjectsV2")
            await pilot.press("F")
            await settle(pilot)
            assert "3 failing (F: only)" in status.plain
            assert names(find(app, "iam-reader")) == []  # its bucket lists fine: hidden
            assert names(find(app, "iam-nolist")) == [iam.bucket]
            await pilot.press("F")
            await settle(pilot)
            assert iam.bucket in names(find(app, "iam-reader"))
            assert "data/" in names(find(app, "iam-reader", iam.bucket))
            # r on a connection resolves credentials and asks who it is again
            conn_node = find(app, "iam-reader")
            await select(pilot, conn_node)
            conn = conn_node.data.conn
            old = conn.driver
            await pilot.press("r")
            await settle(pilot)
            assert conn.driver is not None and conn.driver is not old
            assert conn.identity is not None and conn.identity.name == "reader"

    run(body())


def test_access_check_snapshot_read_only(snap_compare, moto_iam_server):
    iam = moto_iam_server

    class Stable(StableErrors):
        endpoint = "http://127.0.0.1:PORT"

    def factory(spec):
        return Stable(open_driver(spec), iam.endpoint)

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(pilot)
        await open_node(pilot, find(app, "read-only", iam.bucket))
        await select(pilot, find(app, "read-only", iam.bucket, "data/"))
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, AccessCheckScreen), "access screen")
        await until(pilot, lambda: app.screen.report is not None, "the check finished")
        await settle(pilot)

    spec = _user(iam, "reader")
    spec = ConnectionSpec(**{**spec.__dict__, "name": "read-only"})
    app = make_app([spec], factory, resolver=stable_resolver)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
