"""Capture the README's screenshots from the real app on the demo store.

Run with ``make screenshots`` (or ``.venv/bin/python screenshots/capture.py``). It starts the
embedded demo store, drives :class:`pail.ui.app.PailApp` headless with Textual's Pilot the
way a user would (cursor keys and enter), and saves SVGs with ``App.save_screenshot``:

* ``browse.svg``: an MLflow run's metrics.json selected: detail and pretty-printed preview;
* ``preview-log.svg``, ``preview-image.svg``, ``preview-parquet.svg``,
  ``preview-safetensors.svg``: the run's train.log tail, loss curve PNG (half cells),
  Parquet history and safetensors weights, each read by range;
* ``downloads.svg``: the Transfers panel after downloading the run's artifacts prefix
  (into the throwaway HOME's ``~/Downloads/pail``);
* ``promote-plan.svg``: ``F5`` on the run's checkpoint (``model/data/model.safetensors``),
  typed ``demo:team-models/promoted/`` in the target picker: the plan, a server-side copy;
* ``transfers.svg``: ``y``: the Transfers panel once the copy is done and verified;
* ``check.svg``: ``=`` on the run's ``artifacts/`` against the folder the download wrote,
  one file of it edited first (same size): the counts and the one that differs by checksum;
* ``denied.svg``: the read-only connection's 403 on ``team-models``, with every error field;
* ``paging.svg``: a 20,000-key prefix in the tree: one "open list" row for its keys;
* ``level-list.svg``: that prefix opened as one list, every page loaded (``G``), filtered;
* ``search.svg``: ``ctrl+f`` on the bucket, every run's metrics.json found by walking it;
* ``connections.svg``: the connections screen (``C``): the demo's own three saved
  connections, ``demo`` tested (``t``);
* ``credential-failure.svg``: the modal shown when a saved connection's secret is wrong
  (one more saved connection, ``demo-old-key``, whose keyring entry holds a wrong secret);
* ``runs.svg``, ``run-diff.svg``: ``e`` on experiment 1: its runs with params, metrics and
  the val_loss curves of two marked runs; ``=``: what differs between them;
* ``inventory.svg``: ``i`` on ``ml-archive``: its inventory report (a 200,000-key one here:
  the capture's throwaway cache generates it), the first level with recursive totals, the
  row's du, ages and storage classes drawn;
* ``cleanup-sizes.svg``, ``cleanup-review.svg``, ``cleanup-result.svg``: sizes of the
  bucket (``s``), then the MLflow runs with ``z``: keep the best 3 by val_loss and the last
  2 of each experiment: the review (every run kept and why, the runs to delete), and the
  result after deleting them, re-checked with the store (``r``).

It runs the app the way ``pail demo`` does, against a real Secret Service: a private
D-Bus session bus with an unlocked GNOME Keyring (:mod:`secret_service`), so the status
bar shows the keyring a desktop user sees. HOME, the XDG folders and the demo's own
config file (``pail demo`` saves its three connections there: demo, demo-readonly,
demo-local; see :func:`pail.cli.main.demo_config`) are in a throwaway folder, so the
user's own config, AWS profiles and keyring are never read or touched. The only secrets
stored are the demo's throwaway keys; after the capture every SVG's text is checked for
them, for temporary paths and for test stand-ins (:mod:`svg_check`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
from dataclasses import replace

import keyring.core
from capture_access import capture_access
from secret_service import SCRUBBED, SecretServiceUnavailable, private_secret_service
from svg_check import check_svgs
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from pail import credentials
from pail.cli.main import demo_config
from pail.config.store import ConnectionStore
from pail.core.connection import SECRETS_KEYRING, ConnectionSpec, Secrets
from pail.demo.server import start_demo
from pail.ui.app import PailApp
from pail.ui.screens.check import CheckScreen
from pail.ui.screens.connections import ConnectionsScreen
from pail.ui.screens.credential_failure import CredentialFailureScreen
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.inventory import InventoryScreen
from pail.ui.screens.run_diff import RunDiffScreen
from pail.ui.screens.runs import RunsScreen
from pail.ui.screens.search import SearchScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from pail.ui.screens.target_picker import TargetPickerScreen
from pail.ui.screens.transfer_confirm import TransferConfirmScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.widgets.bucket_tree import BucketTree
from pail.ui.widgets.downloads_panel import DownloadsPanel
from pail.ui.widgets.level_list import LevelList

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = (130, 40)
#: The secret of ``demo-old-key``: the admin's key id with a secret that no longer works.
WRONG_SECRET = "not-the-secret-anymore"
#: Where ``promote-plan.svg`` copies the run's checkpoint: the demo's model registry bucket.
PROMOTE_TO = "team-models/promoted/"


async def settle(pilot) -> None:
    """Wait until every worker has finished and its messages are handled (bounded)."""
    for _ in range(2000):
        await pilot.pause()
        pending = [w for w in pilot.app.workers if not w.is_finished]
        if not pending:
            return
        for worker in pending:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    raise RuntimeError("the app never settled")


async def wait_for(pilot, predicate, rounds: int = 2000) -> None:
    """Process events until ``predicate()`` holds (bounded)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause(0.01)
    raise RuntimeError("the app never got there")


async def goto(pilot, *path: str, expand: bool = True):
    """Move the cursor along child names from the root with the keyboard, expanding each."""
    tree = pilot.app.screen.query_one(BucketTree)
    node = tree.root
    for i, name in enumerate(path):
        node = next(c for c in node.children if c.label.plain == name)
        while tree.cursor_node is not node:
            key = "down" if tree.cursor_line < node.line else "up"
            await pilot.press(key)
        last = i == len(path) - 1
        if (expand or not last) and node.allow_expand and not node.is_expanded:
            await pilot.press("enter")
        await settle(pilot)
    return node


async def capture(store, saved: ConnectionStore) -> None:
    app = PailApp(store.connections, store=saved)  # as `pail demo` opens it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.screen.query_one(BucketTree)
        tree.focus()
        run = "mlflow/"
        await goto(pilot, "demo", "ml-artifacts", run)
        runs = await goto(pilot, "demo", "ml-artifacts", run, "1/")
        first_run = runs.children[0].label.plain
        await goto(pilot, "demo", "ml-artifacts", run, "1/", first_run, "artifacts/")
        artifacts = ("demo", "ml-artifacts", run, "1/", first_run, "artifacts/")
        await goto(pilot, *artifacts, "metrics.json")
        app.save_screenshot("browse.svg", HERE)
        await goto(pilot, *artifacts, "train.log")
        app.save_screenshot("preview-log.svg", HERE)
        await goto(pilot, *artifacts, "plots/", "loss_curve.png")
        app.save_screenshot("preview-image.svg", HERE)
        await goto(pilot, *artifacts, "metrics/", "history.parquet")
        app.save_screenshot("preview-parquet.svg", HERE)
        await goto(pilot, *artifacts, "model/", "data/", "model.safetensors")
        app.save_screenshot("preview-safetensors.svg", HERE)

        await goto(pilot, *artifacts, expand=False)
        await pilot.press("d")  # the download dialog proposes ~/Downloads/pail/artifacts
        await wait_for(pilot, lambda: isinstance(app.screen, DownloadTargetScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DownloadsScreen))
        task = app.main_screen.downloads[-1]
        await wait_for(pilot, lambda: task.report is not None, rounds=60000)
        await wait_for(pilot, lambda: app.screen.query_one(DownloadsPanel)._final_drawn)
        app.clear_notifications()
        await settle(pilot)
        app.save_screenshot("downloads.svg", HERE)
        await pilot.press("escape")
        await settle(pilot)
        await capture_promote(pilot, artifacts)
        await capture_check(pilot, artifacts, task.dest)
        await goto(pilot, *artifacts[:-1], expand=False)
        await pilot.press("left")  # collapse the run again
        await settle(pilot)

        await goto(pilot, "demo", "ml-artifacts", run, expand=False)
        await pilot.press("left")  # collapse mlflow/ again
        await settle(pilot)
        await goto(pilot, "demo-readonly", "team-models", expand=False)
        app.save_screenshot("denied.svg", HERE)

        path = ("demo", "ml-artifacts", "datasets/", "imagenet-mini/", "shards/")
        shards = await goto(pilot, *path)
        # A big level: its keys are not drawn in the tree, one row opens them as a list.
        tree.move_cursor(shards.children[-1])
        await settle(pilot)
        assert tree.cursor_node is shards.children[-1], "the cursor is not on the list row"
        app.save_screenshot("paging.svg", HERE)
        await capture_level_list(pilot)
        await capture_search(pilot)
        await capture_runs(pilot)
        await capture_inventory(pilot)
        await capture_cleanup(pilot)


async def capture_promote(pilot, artifacts: tuple[str, ...]) -> None:
    """F5 on the run's checkpoint: typed ``demo:team-models/promoted/`` in the target picker,
    the plan (a server-side copy) confirmed with ``y``, then the Transfers panel once done."""
    app = pilot.app
    await goto(pilot, *artifacts, "model/", "data/", "model.safetensors")
    await pilot.press("f5")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetPickerScreen))
    await pilot.press(*f"demo:{PROMOTE_TO}", "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, TransferConfirmScreen), rounds=60000)
    await settle(pilot)
    app.save_screenshot("promote-plan.svg", HERE)
    await pilot.press("y")
    await wait_for(pilot, lambda: isinstance(app.screen, DownloadsScreen))
    task = app.main_screen.downloads[-1]
    await wait_for(pilot, lambda: task.report is not None, rounds=60000)
    await wait_for(pilot, lambda: app.screen.query_one(DownloadsPanel)._final_drawn)
    assert task.report.ok, "the promotion did not copy every object"
    app.clear_notifications()
    await settle(pilot)
    app.save_screenshot("transfers.svg", HERE)
    await pilot.press("escape")
    await settle(pilot)
    await goto(pilot, *artifacts, "model/", expand=False)
    await pilot.press("left")  # collapse model/ again
    await settle(pilot)


def edit_locally(folder: str) -> None:
    """Change one digit of the downloaded ``metrics.json`` (its size stays): the local copy
    now differs from the store's by content only, which a checksum shows."""
    path = os.path.join(folder, "metrics.json")
    with open(path, "rb") as f:
        body = bytearray(f.read())
    at = max(i for i, c in enumerate(body) if chr(c).isdigit())
    body[at] = ord(str((int(chr(body[at])) + 1) % 10))
    with open(path, "wb") as f:
        f.write(bytes(body))


async def capture_check(pilot, artifacts: tuple[str, ...], downloaded: str) -> None:
    """``=`` on the run's ``artifacts/`` against the folder the download scene wrote (one
    file edited there first): the check screen with its counts and the one that differs."""
    app = pilot.app
    edit_locally(downloaded)
    await goto(pilot, *artifacts, expand=False)
    await pilot.press("equals_sign")
    await wait_for(pilot, lambda: isinstance(app.screen, TargetPickerScreen))
    # The check screen shows a folder as the picker read it, with ~ expanded (the throwaway
    # HOME's temporary path): typed relative to HOME instead, as from a shell there.
    home = os.path.expanduser("~")
    was = os.getcwd()
    os.chdir(home)
    try:
        await pilot.press(*os.path.relpath(downloaded, home), "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckScreen), rounds=60000)
        check = app.screen
        await wait_for(pilot, lambda: check.report is not None, rounds=60000)
        await settle(pilot)
    finally:
        os.chdir(was)
    app.save_screenshot("check.svg", HERE)
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, CheckScreen))
    await settle(pilot)


async def capture_level_list(pilot) -> None:
    """The 20,000-key prefix opened as one list, every page loaded (``G``), filtered."""
    app = pilot.app
    await pilot.press("enter")  # the "open list" row
    await wait_for(pilot, lambda: app.screen.query_one(LevelList).has_focus)
    listing = app.screen.query_one(LevelList).listing
    assert listing is not None
    await pilot.press("G")
    await wait_for(
        pilot,
        lambda: not (listing.load_all or listing.fetching or listing.has_more),
        rounds=60000,
    )
    await pilot.press("/", *"-0001", "enter")
    await settle(pilot)
    app.save_screenshot("level-list.svg", HERE)
    await pilot.press("escape")
    await settle(pilot)
    app.screen.query_one(BucketTree).focus()
    await settle(pilot)


async def capture_search(pilot) -> None:
    """ctrl+f on the bucket: every metrics.json of every run, found by walking it."""
    app = pilot.app
    await goto(pilot, "demo", "ml-artifacts", expand=False)
    await pilot.press("ctrl+f")
    await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
    await pilot.press(*"metrics.json", "enter")
    await wait_for(pilot, lambda: app.screen.finished, rounds=60000)
    await settle(pilot)
    app.save_screenshot("search.svg", HERE)
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, SearchScreen))
    await settle(pilot)


async def capture_runs(pilot) -> None:
    """``e`` on experiment 1: its runs, two marked (curves overlaid), then ``=``: the diff."""
    app = pilot.app
    await goto(pilot, "demo", "ml-artifacts", "mlflow/")
    await goto(pilot, "demo", "ml-artifacts", "mlflow/", "1/", expand=False)
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, RunsScreen))
    runs = app.screen
    await wait_for(pilot, lambda: runs.runset is not None, rounds=60000)
    await settle(pilot)
    await pilot.press("space", "down", "space")
    await settle(pilot)
    app.save_screenshot("runs.svg", HERE)
    await pilot.press("equals_sign")
    await wait_for(pilot, lambda: isinstance(app.screen, RunDiffScreen))
    diff = app.screen
    await wait_for(pilot, lambda: diff.diff is not None, rounds=60000)
    await settle(pilot)
    app.save_screenshot("run-diff.svg", HERE)
    await pilot.press("escape")
    await wait_for(pilot, lambda: app.screen is runs)
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, RunsScreen))
    await settle(pilot)


async def capture_inventory(pilot) -> None:
    """``i`` on ``ml-archive``: its inventory report's first level (recursive totals), the
    row's du, ages and storage classes drawn."""
    app = pilot.app
    await goto(pilot, "demo", "ml-archive", expand=False)
    await pilot.press("i")
    await wait_for(pilot, lambda: isinstance(app.screen, InventoryScreen))
    view = app.screen
    await wait_for(pilot, lambda: view.table.level is not None, rounds=60000)
    await settle(pilot)  # the cursor on datasets/: its du, ages and five storage classes
    app.save_screenshot("inventory.svg", HERE)
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(app.screen, InventoryScreen))
    await settle(pilot)


async def type_into(pilot, field: str, text: str) -> None:
    """Focus the form field ``#field`` and type ``text`` into it, as a user would."""
    pilot.app.screen.query_one(f"#{field}", Input).focus()
    await pilot.pause()
    await pilot.press(*text)


async def capture_cleanup(pilot) -> None:
    """Sizes of the bucket, then the MLflow runs: keep the best 3 by val_loss and the last
    2 of each experiment: review, delete (the demo store is this process's own), result."""
    app = pilot.app
    tree = app.screen.query_one(BucketTree)
    await goto(pilot, "demo", "ml-artifacts", "datasets/", expand=False)
    await pilot.press("left")  # collapse datasets/ again
    await goto(pilot, "demo", "ml-artifacts", expand=False)
    await pilot.press("s")
    await wait_for(pilot, lambda: isinstance(app.screen, UsageScreen))
    await wait_for(pilot, lambda: app.screen.finished, rounds=60000)
    await settle(pilot)
    app.save_screenshot("cleanup-sizes.svg", HERE)
    await pilot.press("escape")
    await settle(pilot)
    await goto(pilot, "demo", "ml-artifacts", "mlflow/", expand=False)
    await pilot.press("z")
    await wait_for(pilot, lambda: isinstance(app.screen, StaleFilterScreen))
    await type_into(pilot, "stale-keep_best", "3")
    await type_into(pilot, "stale-metric", "val_loss")
    await type_into(pilot, "stale-keep_last", "2")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteReviewScreen))
    await wait_for(pilot, lambda: app.screen.ready, rounds=60000)
    await settle(pilot)
    app.save_screenshot("cleanup-review.svg", HERE)
    await pilot.press("X")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen))
    await pilot.click("#delete-confirm-yes")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteProgressScreen))
    progress = app.screen
    await wait_for(pilot, lambda: progress.finished, rounds=60000)
    await settle(pilot)
    await pilot.press("r")  # ask the store again whether the confirmed keys are gone
    await wait_for(pilot, lambda: progress.verify_result is not None, rounds=60000)
    await settle(pilot)
    assert progress.verify_result.ok, "the store still has keys it confirmed deleted"
    app.save_screenshot("cleanup-result.svg", HERE)
    await pilot.press("escape")
    await settle(pilot)
    assert tree.cursor_node is not None


def save_stale_connection(store, saved: ConnectionStore) -> ConnectionSpec:
    """Save one more connection to the demo's config, ``demo-old-key``: the admin's key id
    with a secret that is no longer valid, in the (real) keyring; return it as saved."""
    demo = next(spec for spec in store.connections if spec.name == "demo")
    stale = replace(
        demo,
        name="demo-old-key",
        secrets=None,
        profile=None,
        saved=True,
        secrets_in=SECRETS_KEYRING,
    )
    # Secrets first, then the settings, the order the app's own form saves them in.
    credentials.store_secrets(stale.name, Secrets(store.admin.access_key_id, WRONG_SECRET))
    saved.save(stale)
    return saved.get(stale.name)


async def capture_connections(store, saved: ConnectionStore) -> None:
    """``pail demo`` then ``C``: the demo's own saved connections, the first tested; then
    the credential-failure modal of a saved connection whose secret is wrong."""
    app = PailApp(store.connections, store=saved)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ConnectionsScreen), "the connections screen did not open"
        await pilot.press("t")  # test "demo": one request (no default bucket: ListBuckets)
        await settle(pilot)
        app.save_screenshot("connections.svg", HERE)

    stale = save_stale_connection(store, saved)
    app = PailApp([stale], store=saved)  # as `pail demo-old-key` opens it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await wait_for(pilot, lambda: isinstance(app.screen, CredentialFailureScreen))
        await settle(pilot)
        app.save_screenshot("credential-failure.svg", HERE)


def use_secret_service(variables: dict[str, str]) -> None:
    """Point this process at the private Secret Service and make the keyring library pick
    its backend again (nothing else: no PYTHON_KEYRING_BACKEND, no keyringrc in the
    throwaway XDG_CONFIG_HOME); exit with a message unless that is the SecretService
    backend and it is usable."""
    for var in SCRUBBED:
        os.environ.pop(var, None)
    os.environ.update(variables)
    keyring.core.init_backend()
    backend = keyring.core.get_keyring()
    status = credentials.keyring_status()
    if type(backend).__module__ != "keyring.backends.SecretService" or not status.usable:
        sys.exit(
            f"screenshots: the keyring library did not pick the private Secret Service "
            f"({status.backend}: {status.message or 'usable'}); is secretstorage installed?"
        )


def main() -> int:
    # A throwaway HOME (and XDG folders): no ~/.aws profile or config of the user's is
    # read, the demo's cache and config go there, and paths show as ~/….
    folder = tempfile.mkdtemp(prefix="pail-screenshots-")
    os.environ["PAIL_DOWNLOAD_DIR"] = os.path.join(folder, "Downloads", "pail")
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    # The throwaway cache has no demo inventory yet: a smaller report generates in seconds.
    os.environ.setdefault("PAIL_DEMO_INVENTORY_ROWS", "200000")
    try:
        with private_secret_service(folder) as variables:
            use_secret_service(variables)
            store = start_demo()
            try:
                # What `pail demo` does: its connections saved to a config file of its own.
                saved = demo_config(
                    store, os.path.join(os.path.dirname(store.log_path), "demo-config")
                )
                asyncio.run(capture(store, saved))
                # access-check.svg, explanation.svg; before demo-old-key is saved
                asyncio.run(capture_access(store, SIZE, saved))
                asyncio.run(capture_connections(store, saved))
            finally:
                store.stop()
            secrets = [
                store.admin.secret_access_key,
                store.readonly.secret_access_key,
                WRONG_SECRET,
            ]
    except SecretServiceUnavailable as exc:
        sys.exit(f"screenshots: no Secret Service to run the app against: {exc}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    problems = check_svgs(HERE, secrets=secrets, paths=[folder, tempfile.gettempdir()])
    if problems:
        print("screenshots: the captured SVGs show what they must not:", file=sys.stderr)
        for problem in problems:
            print("  " + problem, file=sys.stderr)
        return 1
    print("saved", ", ".join(sorted(n for n in os.listdir(HERE) if n.endswith(".svg"))))
    print("in", HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
