"""The app's write side against moto server and local folders: F5 copies the marks to
another bucket (the plan confirmed first), F6 moves (sources deleted once their copies are
verified), F2 renames a prefix, U uploads a folder into a prefix, a read-only identity's
AccessDenied is listed in the Transfers summary with its explanation, ctrl+x cancels a
streamed copy, and planning never holds up the screen."""

from __future__ import annotations

import threading
import time
from typing import Any

from pail.drivers.registry import open_driver
from pail.ui.screens.check import CheckScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.quit_confirm import QuitScreen
from pail.ui.screens.rename import TextInputScreen
from pail.ui.screens.target_picker import TargetPickerScreen
from pail.ui.screens.transfer_confirm import (
    TransferConfirmScreen,
    TransferConflictScreen,
)
from support.servers import s3_client, seed_keys
from support.transfers import confirm, finished, keys_of, pick
from support.ui import (
    SIZE,
    GatedDriver,
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

BODIES = {
    "run/a.txt": b"A" * 1000,
    "run/b.bin": bytes(range(256)) * 40,
    "run/sub/c.json": b'{"c": 1}\n',
    "run/sub/deeper/d.csv": b"x,y\n1,2\n",
}


def test_f5_copies_the_marks_to_another_bucket(s3_endpoint):
    seed_keys("art", BODIES)
    seed_keys("dst", {"copied/a.txt": b"old"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            for name in ("a.txt", "b.bin", "sub/"):
                await select(pilot, find(app, "moto", "art", "run/", name))
                await pilot.press("space")
            await pilot.press("f5")
            await until(pilot, lambda: isinstance(app.screen, TargetPickerScreen), "picker")
            text = screen_text(app)
            assert "3 marked items from s3://art/run/" in text
            assert "moto:art/" in text and "moto:dst/" in text  # the open buckets
            await pick(pilot, "moto:dst/copied/")
            plan = await confirm(pilot)
            assert "copy 4 objects" in plan and "to s3://dst/copied/ (server-side)" in plan
            assert "1 already exist" in plan and "Already at the destination: 1 key" in plan
            # Policy "ask": the engine asks about copied/a.txt; s skips it.
            task = app.main_screen.downloads[-1]
            await until(
                pilot,
                lambda: isinstance(app.screen, TransferConflictScreen) or task.report is not None,
                "the question",
            )
            assert isinstance(app.screen, TransferConflictScreen)
            assert "copied/a.txt" in screen_text(app)
            await pilot.press("s")
            task = await finished(pilot)
            assert task.kind == "copy"
            copied = keys_of(s3_endpoint, "dst", "copied/")
            expected = {f"copied/{k.removeprefix('run/')}": v for k, v in BODIES.items()}
            expected["copied/a.txt"] = b"old"
            assert copied == expected
            assert keys_of(s3_endpoint, "art") == BODIES  # a copy leaves the sources
            text = screen_text(app)
            assert "Copy 1" in text and "Finished: 3 copied, 1 skipped" in text

    run(body())


def test_f5_conflict_overwrite_chosen_in_the_plan(s3_endpoint):
    seed_keys("art", BODIES)
    seed_keys("dst", {"a.txt": b"old"})

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "a.txt"))
            await pilot.press("f5")
            await pick(pilot, "moto:dst/")
            await until(pilot, lambda: isinstance(app.screen, TransferConfirmScreen), "plan")
            app.screen.query_one("RadioSet").query("RadioButton")[1].value = True  # overwrite
            await pilot.press("y")
            task = await finished(pilot)
            assert keys_of(s3_endpoint, "dst") == {"a.txt": BODIES["run/a.txt"]}
            assert len(task.report.done) == 1

    run(body())


def test_f6_moves_and_deletes_sources_only_once_verified(s3_endpoint):
    seed_keys("art", BODIES)
    s3_client(s3_endpoint).create_bucket(Bucket="dst")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "sub/"))
            await pilot.press("f6")
            await pick(pilot, "moto:dst/moved/")
            plan = await confirm(pilot)
            assert "move 2 objects" in plan
            assert "Sources are deleted only after their copy is verified" in plan
            task = await finished(pilot)
            report = task.report
            assert sorted(report.deleted) == ["run/sub/c.json", "run/sub/deeper/d.csv"]
            assert not report.kept and all(d.verified != "unverified" for d in report.done)
            assert keys_of(s3_endpoint, "dst") == {
                "moved/c.json": BODIES["run/sub/c.json"],
                "moved/deeper/d.csv": BODIES["run/sub/deeper/d.csv"],
            }
            assert set(keys_of(s3_endpoint, "art")) == {"run/a.txt", "run/b.bin"}
            assert "2 sources deleted, 0 kept" in screen_text(app)

    run(body())


def test_f2_renames_a_prefix(s3_endpoint):
    seed_keys("art", BODIES)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "sub/"))
            await pilot.press("f2")
            await until(pilot, lambda: isinstance(app.screen, TextInputScreen), "name")
            field = app.screen.query_one("Input")
            assert field.value == "sub"  # prefilled with its name
            await pilot.press("enter")  # the same name is refused, inline
            await until(pilot, lambda: "That is its name now." in screen_text(app), "refused")
            field.value = "renamed"
            await pilot.press("enter")
            plan = await confirm(pilot)
            assert "move 2 objects" in plan and "to s3://art/run/renamed/" in plan
            task = await finished(pilot)
            assert task.kind == "rename"
            assert keys_of(s3_endpoint, "art") == {
                "run/a.txt": BODIES["run/a.txt"],
                "run/b.bin": BODIES["run/b.bin"],
                "run/renamed/c.json": BODIES["run/sub/c.json"],
                "run/renamed/deeper/d.csv": BODIES["run/sub/deeper/d.csv"],
            }
            assert "Rename 1" in screen_text(app)

    run(body())


def test_u_uploads_a_folder_into_a_prefix(s3_endpoint, tmp_path):
    seed_keys("art", BODIES)
    folder = tmp_path / "local run"
    (folder / "nested").mkdir(parents=True)
    (folder / "one.txt").write_bytes(b"one\n")
    (folder / "nested" / "two.bin").write_bytes(bytes(range(256)) * 8)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await open_node(pilot, find(app, "moto", "art", "run/"))
            await select(pilot, find(app, "moto", "art", "run/", "a.txt"))  # its level
            await pilot.press("U")
            await until(pilot, lambda: isinstance(app.screen, TextInputScreen), "path")
            assert "into s3://art/run/" in screen_text(app)
            app.screen.query_one("Input").value = str(folder)
            await pilot.press("enter")
            plan = await confirm(pilot)
            assert "copy 2 objects" in plan and "s3://art/run/local run/" in plan
            task = await finished(pilot)
            assert task.kind == "upload"
            uploaded = keys_of(s3_endpoint, "art", "run/local run/")
            assert uploaded == {
                "run/local run/one.txt": b"one\n",
                "run/local run/nested/two.bin": bytes(range(256)) * 8,
            }
            assert "Upload 1" in screen_text(app) and "Finished: 2 uploaded" in screen_text(app)

    run(body())


def test_a_denied_copy_is_listed_with_its_explanation(moto_iam_server):
    from pail.core.connection import Secrets

    iam = moto_iam_server
    keys = iam.users["reader"]
    spec = s3_spec(
        iam.endpoint,
        name="iam-reader",
        bucket=iam.bucket,
        secrets=Secrets(keys.access_key_id, keys.secret_access_key),
    )

    async def body():
        app = make_app([spec])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "iam-reader", iam.bucket))
            await open_node(pilot, find(app, "iam-reader", iam.bucket, "data/"))
            await select(pilot, find(app, "iam-reader", iam.bucket, "data/", "a.txt"))
            await pilot.press("f6")  # a move: the source must stay when its copy fails
            await pick(pilot, f"iam-reader:{iam.bucket}/copies/")
            await confirm(pilot)
            task = await finished(pilot)
            assert [f.code for f in task.report.failed] == ["AccessDenied"]
            assert not task.report.deleted
            text = screen_text(app)
            assert "1 failed" in text and "failed    data/a.txt: AccessDenied" in text
            assert "Why access was denied:" in text and "s3:PutObject" in text

    run(body())


class HeldDriver:
    """Wraps pail's driver: every ``stream_range`` holds until its transfer is cancelled
    (the engine's sink raises once cancel is set)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.started = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def stream_range(self, bucket, key, start, end, sink, **kw: Any) -> None:
        self.started.set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sink(b"")  # raises once cancelled
            time.sleep(0.02)
        raise AssertionError("never cancelled")


def test_ctrl_x_cancels_a_streamed_copy(s3_endpoint):
    seed_keys("art", BODIES)
    s3_client(s3_endpoint).create_bucket(Bucket="dst")
    held: list[HeldDriver] = []

    def factory(spec):
        held.append(HeldDriver(open_driver(spec)))
        return held[-1]

    async def body():
        # Two connections to one store: different drivers, so the copy is streamed.
        specs = [s3_spec(s3_endpoint), s3_spec(s3_endpoint, name="other")]
        app = make_app(specs, factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await pilot.press("f5")
            await pick(pilot, "other:dst/")
            plan = await confirm(pilot)
            assert "(streamed)" in plan
            await until(pilot, lambda: any(h.started.is_set() for h in held), "streaming")
            await until(pilot, lambda: app.screen.check_action("cancel_all", ()), "cancel key")
            # Quitting while it runs asks first, counting the write (n stays).
            await pilot.press("ctrl+q")
            await until(pilot, lambda: isinstance(app.screen, QuitScreen), "quit question")
            text = screen_text(app)
            assert "1 transfer running: quit anyway?" in text
            assert "Copy 1: s3://art/run/ → s3://dst/" in text
            assert "an S3 upload in parts resumes" in text
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, DownloadsScreen), "stayed")
            await pilot.press("ctrl+x")
            task = app.main_screen.downloads[-1]
            await until(pilot, lambda: task.report is not None, "transfer finished")
            assert len(task.report.cancelled) == 4 and not task.report.done
            assert keys_of(s3_endpoint, "dst") == {}
            await until(pilot, lambda: "4 cancelled" in screen_text(app), "summary")

    run(body())


def test_planning_runs_in_a_worker_and_a_bad_target_says_why(s3_endpoint, tmp_path):
    seed_keys("art", BODIES)
    s3_client(s3_endpoint).create_bucket(Bucket="dst")
    gated: list[GatedDriver] = []

    def factory(spec):
        gated.append(GatedDriver(open_driver(spec), prefixes=("run/",)))
        gated[-1].gate.set()  # open while the tree lists
        return gated[-1]

    async def body():
        app = make_app([s3_spec(s3_endpoint)], factory)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await pilot.press("f5")
            await pick(pilot, "nosuchconnection:dst/")
            await until(pilot, lambda: "nosuchconnection" in screen_text(app), "the reason")
            assert isinstance(app.screen, TargetPickerScreen)  # stays, with the reason
            gated[0].gate.clear()  # the plan's listing of run/ now waits
            gated[0].waiting.clear()
            await pick(pilot, "moto:dst/")
            await until(pilot, gated[0].waiting.is_set, "planning started")
            # The plan waits in its worker; the screen still answers keys.
            assert app.screen is app.main_screen
            await pilot.press("question_mark")
            await until(pilot, lambda: "keys: Main screen" in screen_text(app), "help")
            await pilot.press("escape")
            gated[0].gate.set()
            plan = await confirm(pilot, start=False)  # n: nothing is written
            assert "copy 4 objects" in plan
            await settle(pilot)
            assert app.screen is app.main_screen and not app.main_screen.downloads
            assert keys_of(s3_endpoint, "dst") == {}

    run(body())


def test_compare_with_a_folder_and_copy_its_differences_into_the_prefix(s3_endpoint, tmp_path):
    seed_keys("art", BODIES)
    folder = tmp_path / "mine"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"changed here")  # differs (other size)
    (folder / "b.bin").write_bytes(BODIES["run/b.bin"])  # identical
    (folder / "new.txt").write_bytes(b"only in B\n")

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await open_node(pilot, find(app, "moto", "art"))
            await select(pilot, find(app, "moto", "art", "run/"))
            await pilot.press("equals_sign")
            await pick(pilot, str(folder))
            await until(pilot, lambda: isinstance(app.screen, CheckScreen), "check screen")
            check = app.screen
            await until(pilot, lambda: check.report is not None, "compared")
            choice = check.choice("b_to_a")
            assert choice is not None and sorted(choice.rels) == ["a.txt", "new.txt"]
            await pilot.press("less_than_sign")  # copy B's differences into A: an upload
            await until(pilot, lambda: isinstance(app.screen, TransferConfirmScreen), "plan")
            plan = app.screen.plan
            assert len(plan.items) == 2 and len(plan.conflicts) == 1
            assert plan.dest.uri == "s3://art/run/"
            app.screen.query_one("RadioSet").query("RadioButton")[1].value = True  # overwrite
            await pilot.press("y")
            task = await finished(pilot)
            assert task.kind == "copy" and len(task.report.done) == 2
            stored = keys_of(s3_endpoint, "art", "run/")
            assert stored["run/a.txt"] == b"changed here"
            assert stored["run/new.txt"] == b"only in B\n"
            assert stored["run/b.bin"] == BODIES["run/b.bin"]

    run(body())
