"""The check screen on real stores: a local folder compared with a moto prefix (over
HTTP, seeded in-process) inside the running app; the table of differences, the choices
``U``/``d`` return, stop and re-run, and one snapshot at 120x40 (fixed bucket name and
side labels: no temporary path is drawn)."""

from __future__ import annotations

from pathlib import Path

from pail.core.connection import ConnectionSpec
from pail.drivers.registry import open_driver
from pail.services.transfer import Side
from pail.ui.screens.check import CheckChoice, CheckScreen
from support.servers import seed_keys
from support.ui import SIZE, GatedDriver, make_app, run, s3_spec, screen_text, settle, until

BUCKET = "pail-check"
A = {
    "same.txt": b"hello\n",
    "d/x.bin": b"\x00" * 100,
    "a-only": b"a",
    "size": b"123",
    "bytes": b"ab",
}
B = {
    "same.txt": b"hello\n",
    "d/x.bin": b"\x00" * 100,
    "b-only": b"bb",
    "size": b"1234",
    "bytes": b"ac",
}


def local_side(root: Path, tree: dict[str, bytes]) -> Side:
    for rel, data in tree.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    spec = ConnectionSpec(name="local", provider="local", root=str(root), single_bucket=True)
    return Side(open_driver(spec), root.name, "", "~/work/data/")


def s3_side(endpoint: str, driver=None) -> Side:
    seed_keys(BUCKET, {f"p/{k}": v for k, v in B.items()})
    driver = driver or open_driver(s3_spec(endpoint))
    return Side(driver, BUCKET, "p/", f"s3://{BUCKET}/p/", "moto")


async def _checked(pilot, screen: CheckScreen) -> None:
    await until(pilot, lambda: screen.report is not None or bool(screen.failure), "compared")
    await settle(pilot)


def _open(app, screen: CheckScreen) -> list:
    results: list = []
    app.push_screen(screen, results.append)
    return results


def test_differences_and_copy_a_to_b(s3_endpoint, tmp_path):
    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            screen = CheckScreen(local_side(tmp_path / "a", A), s3_side(s3_endpoint))
            results = _open(app, screen)
            await _checked(pilot, screen)
            assert screen.report is not None
            text = screen_text(app)
            assert "2 identical (md5 2); 2 differ; 1 only in A; 1 only in B" in text
            for line in ("only in A", "a-only", "only in B", "b-only", "checksum md5 differs"):
                assert line in text
            assert "same.txt" not in text  # identical paths are counted, not listed
            await pilot.press("greater_than_sign")
            await settle(pilot)
            assert results == [CheckChoice("a_to_b", ("a-only", "bytes", "size"))]

    run(body())


def test_copy_b_to_a_and_one_way(s3_endpoint, tmp_path):
    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            a = local_side(tmp_path / "a", A)
            b = s3_side(s3_endpoint)
            screen = CheckScreen(a, b)
            results = _open(app, screen)
            await _checked(pilot, screen)
            await pilot.press("less_than_sign")
            await settle(pilot)
            assert results == [CheckChoice("b_to_a", ("b-only", "bytes", "size"))]

            one_way = CheckScreen(a, b, one_way=True)
            results = _open(app, one_way)
            await _checked(pilot, one_way)
            assert one_way.report is not None and one_way.report.only_b == []
            assert "b-only" not in screen_text(app)
            await pilot.press("less_than_sign")  # only what differs goes back to A
            await settle(pilot)
            assert results == [CheckChoice("b_to_a", ("bytes", "size"))]

    run(body())


def test_identical_offers_no_copy_and_escape_goes_back(s3_endpoint, tmp_path):
    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            seed_keys(BUCKET, {"p/same.txt": b"hello\n"})
            b = Side(open_driver(s3_spec(s3_endpoint)), BUCKET, "p/", "s3://pail-check/p/")
            screen = CheckScreen(local_side(tmp_path / "a", {"same.txt": b"hello\n"}), b)
            results = _open(app, screen)
            await _checked(pilot, screen)
            assert "everything is identical" in screen_text(app)
            await pilot.press("greater_than_sign")
            await settle(pilot)
            assert app.screen is screen and results == []
            assert any("nothing to copy" in n.message for n in app._notifications)
            await pilot.press("escape")
            await settle(pilot)
            assert results == [None]

    run(body())


def test_stop_then_rerun(s3_endpoint, tmp_path):
    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        gated = GatedDriver(open_driver(s3_spec(s3_endpoint)), prefixes=("p/",))
        try:
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                screen = CheckScreen(local_side(tmp_path / "a", A), s3_side(s3_endpoint, gated))
                _open(app, screen)
                await until(pilot, gated.waiting.is_set, "listing started")
                assert screen.running and "comparing" in screen_text(app)
                await pilot.press("x")
                await until(pilot, lambda: not screen.running, "stopped")
                assert screen.failure == "stopped" and screen.report is None
                assert "comparison stopped" in screen_text(app)
                gated.gate.set()
                await pilot.press("r")
                await _checked(pilot, screen)
                assert screen.report is not None and len(screen.report.differences) == 4
        finally:
            gated.gate.set()

    run(body())


def test_listing_failure_is_shown(s3_endpoint, tmp_path):
    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            b = Side(
                open_driver(s3_spec(s3_endpoint)), "no-such-bucket-x", "", "s3://no-such-bucket-x/"
            )
            screen = CheckScreen(local_side(tmp_path / "a", A), b)
            _open(app, screen)
            await _checked(pilot, screen)
            assert screen.failure.startswith("failed:")
            assert "comparison failed" in screen_text(app)

    run(body())


def test_snapshot(snap_compare, s3_endpoint, tmp_path):
    app = make_app([s3_spec(s3_endpoint)])
    a = local_side(tmp_path / "a", A)
    b = s3_side(s3_endpoint)

    async def run_before(pilot):
        await settle(pilot)
        screen = CheckScreen(a, b)
        _open(pilot.app, screen)
        await _checked(pilot, screen)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_choice_keys_below_the_compared_prefix(s3_endpoint):
    driver = open_driver(s3_spec(s3_endpoint))
    choice = CheckChoice("a_to_b", ("x", "d/y"))
    assert choice.keys(Side(driver, BUCKET, "p", "s3://pail-check/p")) == ("p/x", "p/d/y")
    assert choice.keys(Side(driver, BUCKET, "p/", "s3://pail-check/p/")) == ("p/x", "p/d/y")
    assert choice.keys(Side(driver, BUCKET, "", "s3://pail-check/")) == ("x", "d/y")
