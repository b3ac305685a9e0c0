"""The access check screen (``a``) against moto with IAM enforcement: the reader's rows
exactly, write probes only once allowed (then PutObject ✘ with its policy statement), a
saved/copied report and the screen free of secrets, and the writer's probe key left
behind reported in full (removed afterwards as admin)."""

from __future__ import annotations

import os
import re

from pail.core.connection import Secrets
from pail.ui.screens.access_check import AccessCheckScreen
from pail.ui.widgets.access_table import AccessTable
from support.servers import IamStore, s3_client
from support.ui import (
    SIZE,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    screen_text,
    select,
    settle,
    until,
)

PREFIX = "data/"


def _spec(iam: IamStore, user: str):
    keys = iam.users[user]
    return s3_spec(
        iam.endpoint,
        name=f"iam-{user}",
        bucket=iam.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
    )


async def _check(pilot, conn: str, bucket: str) -> AccessCheckScreen:
    """Open the access check on ``bucket``/data/ and wait for it to finish."""
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, conn, bucket))
    await select(pilot, find(app, conn, bucket, PREFIX))
    await pilot.press("a")
    await until(pilot, lambda: isinstance(app.screen, AccessCheckScreen), "access screen")
    screen = app.screen
    await until(pilot, lambda: screen.report is not None, "the check finished")
    await settle(pilot)
    return screen


def _states(screen: AccessCheckScreen) -> dict[str, str]:
    return screen.query_one(AccessTable).plain_rows()


def test_reader_identity_rows_policy_and_report(moto_iam_server, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    iam = moto_iam_server
    secret = iam.users["reader"].secret_access_key

    async def body() -> None:
        app = make_app([_spec(iam, "reader")])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await select(pilot, find(app, "iam-reader"))
            status = app.main_screen.status.plain
            assert "arn:aws:iam::123456789012:user/reader · credentials: in memory" in status
            assert "Account" in app.main_screen.detail.as_text(200)
            assert "arn:aws:iam::123456789012:user/reader" in app.main_screen.detail.as_text(200)

            screen = await _check(pilot, "iam-reader", iam.bucket)
            assert _states(screen) == {
                "ListAllMyBuckets": "denied",
                "GetBucketLocation": "denied",
                "ListBucket": "allowed",
                "GetObject": "allowed",
                "HeadObject": "allowed",
                "PutObject": "not checked",
                "DeleteObject": "not checked",
                "GetBucketVersioning": "denied",
                "ListBucketVersions": "denied",
                "GetLifecycleConfiguration": "denied",
            }
            await pilot.press("w")  # allow write probes: the check runs again
            await until(pilot, lambda: screen.report is not None, "the second check")
            await settle(pilot)
            assert screen.report.write_probes
            assert _states(screen)["PutObject"] == "denied"
            screen.query_one(AccessTable).select("PutObject")
            await settle(pilot)
            shown = screen.row_text()
            assert re.search(r"Error code +AccessDenied", shown)
            assert re.search(r"HTTP status +403", shown)
            assert '"Action": "s3:PutObject"' in shown
            assert '"Resource": "arn:aws:s3:::pail-iam/data/*"' in shown
            assert "Access denied: the identity lacks s3:PutObject" in shown
            rendered = screen_text(app)
            assert "✘ PutObject" in rendered and "s3:PutObject" in rendered
            assert secret not in app.export_screenshot()

            await pilot.press("c")
            assert '"Action": "s3:PutObject"' in app.clipboard
            assert "ListAllMyBuckets" not in app.clipboard  # exactly the missing action
            await pilot.press("y")
            assert app.clipboard.startswith("pail access check: s3://pail-iam/data/")
            await pilot.press("ctrl+s")
            assert screen.saved_path is not None
            assert os.path.dirname(screen.saved_path) == str(tmp_path)
            with open(screen.saved_path, encoding="utf-8") as fh:
                report = fh.read()
            assert "✘ PutObject" in report and "s3:PutObject" in report
            assert "arn:aws:iam::123456789012:user/reader" in report
            assert secret not in report and secret not in app.clipboard
            await pilot.press("escape")
            await settle(pilot)
            assert not isinstance(app.screen, AccessCheckScreen)

    run(body())


def test_writer_probe_key_left_behind_is_reported(moto_iam_server):
    iam = moto_iam_server
    admin = iam.users["admin"]
    raw = s3_client(
        iam.endpoint,
        aws_access_key_id=admin.access_key_id,
        aws_secret_access_key=admin.secret_access_key,
    )

    async def body() -> str:
        app = make_app([_spec(iam, "writer")])
        async with app.run_test(size=SIZE) as pilot:
            screen = await _check(pilot, "iam-writer", iam.bucket)
            await pilot.press("w")
            await until(pilot, lambda: screen.report is not None, "the write check")
            await settle(pilot)
            states = _states(screen)
            assert (states["PutObject"], states["DeleteObject"]) == ("allowed", "denied")
            key = screen.report.leftover[0]
            assert key.startswith("data/.pail-probe-")
            screen.query_one(AccessTable).select("DeleteObject")
            await settle(pilot)
            shown = screen.row_text()
            assert f"probe object left behind: {key}" in shown
            assert f"pail-iam/{key}" in shown
            return key

    key = run(body())
    try:
        assert key in [o["Key"] for o in raw.list_objects_v2(Bucket=iam.bucket)["Contents"]]
    finally:
        raw.delete_object(Bucket=iam.bucket, Key=key)
