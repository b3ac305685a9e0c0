"""The app's access check (``a``) when parts of the endpoint do not answer S3: STS answers
a plain-text 404 and the versioning call an HTML page (the fault proxy in front of moto).
The check finishes (no row left "checking…"), the identity line says the call is
unavailable, and the failed row shows the error with its explanation and no markup."""

from __future__ import annotations

from pail.core.connection import Secrets
from pail.ui.screens.access_check import AccessCheckScreen
from pail.ui.widgets.access_table import AccessTable
from support.fault_proxy import Rule
from support.servers import seed_keys
from support.ui import SIZE, find, make_app, open_node, run, s3_spec, select, settle, until

PAGE = b"<!DOCTYPE html><html><body><h1>Dashboard</h1></body></html>"


def test_the_check_finishes_with_the_errors_shown(s3_endpoint, bucket_name, faults) -> None:
    seed_keys(bucket_name, {"data/a.txt": b"a"})
    faults.add(
        Rule(method="POST", path="^/$", times=None, action="reply", status=404, body=b"Not Found")
    )
    faults.add(
        Rule(
            query="versioning",
            times=None,
            action="reply",
            status=404,
            body=PAGE,
            content_type="text/html",
        )
    )
    spec = s3_spec(faults.url, bucket=bucket_name, secrets=Secrets("testing", "testing"))

    async def body() -> None:
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", bucket_name))
            await select(pilot, find(app, "moto", bucket_name, "data/"))
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, AccessCheckScreen), "screen")
            screen = app.screen
            await until(pilot, lambda: screen.report is not None, "the check finished")
            await settle(pilot)
            table = screen.query_one(AccessTable)
            states = table.plain_rows()
            assert "checking…" not in states.values()
            assert states["ListBucket"] == "allowed" and states["GetObject"] == "allowed"
            assert states["GetBucketVersioning"] == "error"
            # The identity call failed (its error, or "not used on this store" once the
            # connection remembered that STS is missing: pail.drivers.quirks).
            assert screen.report.identity is None
            assert screen.report.identity_error is not None
            who = str(screen.query_one("#access-who").render())
            assert "Identity: identity call unavailable (GetCallerIdentity: " in who
            table.select("GetBucketVersioning")
            await settle(pilot)
            shown = screen.row_text()
            assert "The endpoint does not speak S3" in shown
            assert "answered HTTP 404 with an HTML page (text/html)" in shown
            assert "<h1>" not in shown and "Dashboard" not in shown

    run(body())
