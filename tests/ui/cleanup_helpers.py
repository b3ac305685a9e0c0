"""Helpers for the cleanup UI tests: aged seeding relative to the app's fixed clock, and
driving the stale filter -> review -> confirm -> progress chain with keys."""

from __future__ import annotations

from datetime import timedelta

from conftest import moto_backend, seed_keys
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from ui.ui_helpers import NOW, until


def seed_aged(bucket: str, objects: dict[str, tuple[int, float]]) -> None:
    """``{key: (size_bytes, age_days)}`` before the app's clock (:data:`NOW`)."""
    seed_keys(bucket, {key: b"x" * size for key, (size, _) in objects.items()})
    found = moto_backend().buckets[bucket].keys
    for key, (_, age) in objects.items():
        found[key].last_modified = (NOW - timedelta(days=age)).replace(tzinfo=None)


def seed_runs(bucket: str, ages: dict[str, float], files: int = 2, size: int = 10) -> None:
    """Runs ``runs/NAME/f{i}.bin``, ``files`` objects of ``size`` bytes, ``age`` days old."""
    seed_aged(
        bucket,
        {f"runs/{name}/f{i}.bin": (size, age) for name, age in ages.items() for i in range(files)},
    )


async def stale_filter(pilot, **fields: str) -> DeleteReviewScreen:
    """Press z, fill the fields, submit; wait for the review's plan."""
    app = pilot.app
    await pilot.press("z")
    await until(pilot, lambda: isinstance(app.screen, StaleFilterScreen), "filter form")
    for name, value in fields.items():
        app.screen.query_one(f"#stale-{name}").value = value
    await pilot.pause()
    await pilot.click("#stale-ok")
    return await review_ready(pilot)


async def review_ready(pilot) -> DeleteReviewScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DeleteReviewScreen), "review screen")
    await until(pilot, lambda: app.screen.ready, "plan built")
    await pilot.pause()
    return app.screen


async def confirm(pilot, typed: str | None = None) -> DeleteProgressScreen:
    """From the review: X, (type the bucket name), press Delete; wait for the result."""
    app = pilot.app
    await pilot.press("X")
    await until(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen), "confirmation")
    if typed is not None:
        app.screen.query_one("#delete-confirm-bucket").value = typed
        await pilot.pause()
    await pilot.click("#delete-confirm-yes")
    return await finished(pilot)


async def finished(pilot) -> DeleteProgressScreen:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, DeleteProgressScreen), "progress screen")
    await until(pilot, lambda: app.screen.finished, "delete finished", rounds=6000)
    await pilot.pause()
    return app.screen
