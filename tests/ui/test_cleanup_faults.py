"""Cleanup in the app when it must refuse or cannot be sure, against moto server: "keep
last N runs" on a prefix without runs refused in the review (nothing offered to delete),
out-of-range filter values refused as typed, and the result screen's verify (v) finding a
key that is back after the delete."""

from __future__ import annotations

from pail.ui.screens.stale_filter import StaleFilterScreen, parse_fields
from support.servers import s3_client, seed_keys
from support.ui import (
    SIZE,
    confirm,
    find,
    make_app,
    open_node,
    run,
    s3_spec,
    screen_text,
    seed_aged,
    select,
    settle,
    stale_filter,
    until,
)


def _keys(endpoint: str, bucket: str) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def test_keep_last_runs_on_a_prefix_without_runs_is_refused(s3_endpoint):
    logs = {f"logs/step-{i:02d}.log": (10, 30 + i) for i in range(13)}  # ZenML's logs/
    seed_aged("art", logs)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "logs/"))
            review = await stale_filter(pilot, older_than="7d", keep_last="3")
            assert review.plan is None and review.error is None
            assert review.refusal == (
                "no runs found under s3://art/logs/ (13 objects, none in a layout pail knows): "
                "pail recognises MLflow/FastTrackML, ZenML, modelkit, PyTorch Lightning and "
                "Hugging Face Trainer layouts"
            )
            text = screen_text(app)
            assert "Nothing will be deleted" in text and "no runs found" in text
            assert "clear the run rules" in text
            assert "empties the whole prefix" not in text
            assert review.query_one("#review-delete").disabled
            await pilot.press("X")  # nothing to delete: no confirmation opens
            await pilot.pause()
            assert app.screen is review
            await pilot.press("escape")
            await settle(pilot)
            assert _keys(s3_endpoint, "art") == sorted(logs)

    run(body())


def test_out_of_range_filter_values_are_refused_as_typed(s3_endpoint):
    seed_keys("art", ["runs/a/x"])
    cases = {
        "older_than": ("99999999999d", "at most 100 years"),
        "larger_than": ("99999999999999999999PiB", "at most"),
        "keep_last": ("99999999999", "at most 1,000,000"),
    }
    for name, (value, words) in cases.items():
        try:
            parse_fields({name: value})
        except ValueError as exc:
            assert words in str(exc) and "\n" not in str(exc)
        else:
            raise AssertionError(f"{name}={value} accepted")
    try:
        parse_fields({"keep_last": "²"})  # str.isdigit() says yes, int() would raise
    except ValueError as exc:
        assert "whole number" in str(exc)
    else:
        raise AssertionError("² accepted")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "runs/"))
            await pilot.press("z")
            await until(pilot, lambda: isinstance(app.screen, StaleFilterScreen), "filter")
            form = app.screen
            form.query_one("#stale-older_than").value = "99999999999d"
            await pilot.pause()
            assert form.query_one("#stale-ok").disabled
            assert "at most 100 years" in screen_text(app)
            form.query_one("#stale-older_than").value = "36525d"
            await pilot.pause()
            assert not form.query_one("#stale-ok").disabled

    run(body())


def test_verify_on_the_result_screen_finds_a_key_back(s3_endpoint):
    seed_aged("art", {"runs/a/f1": (1, 30), "runs/a/f2": (1, 30), "runs/b/f1": (1, 1)})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "runs/"))
            await stale_filter(pilot, older_than="7d")
            progress = await confirm(pilot)
            assert progress.report.deleted == 2
            seed_keys("art", ["runs/a/f2"])  # written again after the delete
            await pilot.press("r")  # re-check
            await until(pilot, lambda: progress.verify_result is not None, "verified")
            await pilot.pause()
            result = progress.verify_result
            assert [p.key for p in result.present] == ["runs/a/f2"]
            text = screen_text(app)
            assert "1 of 2 keys reported deleted is still present" in text
            assert "runs/a/f2" in text

    run(body())


def test_lifecycle_noncurrent_days_out_of_range_is_a_message_not_a_crash(s3_endpoint):
    from pail.ui.screens.lifecycle import LifecycleScreen

    s3_client(s3_endpoint).create_bucket(Bucket="lcy")
    seed_keys("lcy", ["runs/a"], create=False)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "lcy"))
            await select(pilot, find(app, "moto", "lcy", "runs/"))
            await pilot.press("L")
            await until(pilot, lambda: isinstance(app.screen, LifecycleScreen), "lifecycle")
            screen = app.screen
            field = screen.query_one("#lc-noncurrent_days")
            for value, words in [
                ("²", "whole number"),  # str.isdigit() says yes; int() used to raise
                ("0" * 5000 + "7", ""),  # accepted: 7 days (int() refuses 4,300+ digits)
                ("99999999999", "1 to 36,525"),
                ("0", "1 to 36,525"),
            ]:
                field.value = value
                await pilot.pause()
                problem = str(screen.query_one("#lc-problem").render())
                assert words in problem, (value[:10], problem)
                assert app.screen is screen  # no crash
            assert screen.export is None  # the last value is refused: nothing to apply

    run(body())
