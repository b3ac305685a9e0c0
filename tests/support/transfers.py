"""Driving the app's write side in Pilot tests: the target picker, the plan's confirmation,
the Transfers panel's finished report, and what a bucket holds (read with boto3, not pail)."""

from __future__ import annotations

from typing import Any

from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.target_picker import TargetPickerScreen
from pail.ui.screens.transfer_confirm import TransferConfirmScreen, plan_lines
from pail.ui.widgets.downloads_panel import DownloadsPanel
from support.servers import s3_client
from support.ui import until


def keys_of(endpoint: str, bucket: str, prefix: str = "") -> dict[str, bytes]:
    """Every object under ``prefix`` with its bytes (read with boto3, not pail)."""
    client = s3_client(endpoint)
    found = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in found}


async def pick(pilot, text: str) -> TargetPickerScreen:
    """Type ``text`` into the target picker and press enter."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, TargetPickerScreen), "target picker")
    picker = app.screen
    picker.query_one("Input").value = text
    await pilot.press("enter")
    return picker


async def confirm(pilot, *, start: bool = True) -> str:
    """Wait for the plan's confirmation; its text; start it (``y``) or cancel (``n``)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, TransferConfirmScreen), "the plan")
    text = " ".join(line.plain for line in plan_lines(app.screen.plan))
    await pilot.press("y" if start else "n")
    return text


async def finished(pilot) -> Any:
    """Wait for the latest transfer's report and its drawn summary."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "transfers screen")
    task = app.main_screen.downloads[-1]
    await until(pilot, lambda: task.report is not None, "transfer finished")
    await until(pilot, lambda: app.screen.query_one(DownloadsPanel)._final_drawn, "drawn")
    return task
