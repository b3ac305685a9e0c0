"""Capture the README's screenshots from the real app on the demo store.

Run with ``make screenshots`` (or ``.venv/bin/python screenshots/capture.py``). It starts the
embedded demo store, drives :class:`pail.ui.app.PailApp` headless with Textual's Pilot the
way a user would (cursor keys and enter), and saves SVGs with ``App.save_screenshot``:

* ``browse.svg``: an MLflow run's metrics.json selected: detail and pretty-printed preview;
* ``preview-log.svg``, ``preview-image.svg``, ``preview-parquet.svg``,
  ``preview-safetensors.svg``: the run's train.log tail, loss curve PNG (half cells),
  Parquet history and safetensors weights, each read by range;
* ``downloads.svg``: the downloads panel after downloading the run's artifacts prefix
  (into the throwaway HOME's ``~/Downloads/pail``);
* ``denied.svg``: the read-only connection's 403 on ``team-models``, with every error field;
* ``paging.svg``: a 20,000-key prefix in the tree: one "open list" row for its keys;
* ``level-list.svg``: that prefix opened as one list, every page loaded (``G``), filtered;
* ``search.svg``: ``ctrl+f`` on the bucket, every run's metrics.json found by walking it;
* ``connections.svg``: the connections screen (``C``) with saved connections, one tested;
* ``credential-failure.svg``: the modal shown when a saved connection's secret is wrong;
* ``cleanup-sizes.svg``, ``cleanup-review.svg``, ``cleanup-result.svg``: sizes of the
  bucket (``s``), then experiment 1's runs older than a week except the newest three
  (``z``): the review, and the result after deleting them.

Saved connections go to a temporary ``PAIL_CONFIG`` file and their (throwaway demo)
secrets to an in-memory keyring, so the user's own config and keyring are never read or
touched, and no real secret can end up in a screenshot.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sys
import tempfile

import keyring
from capture_access import capture_access
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from textual.worker import WorkerCancelled, WorkerFailed

from pail import credentials
from pail.config.store import ConnectionStore
from pail.core.connection import ConnectionSpec, Secrets
from pail.demo.server import start_demo
from pail.ui.app import PailApp
from pail.ui.screens.connections import ConnectionsScreen
from pail.ui.screens.credential_failure import CredentialFailureScreen
from pail.ui.screens.delete_confirm import DeleteConfirmScreen
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.download_target import DownloadTargetScreen
from pail.ui.screens.downloads import DownloadsScreen
from pail.ui.screens.search import SearchScreen
from pail.ui.screens.stale_filter import StaleFilterScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.widgets.bucket_tree import BucketTree
from pail.ui.widgets.downloads_panel import DownloadsPanel
from pail.ui.widgets.level_list import LevelList

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = (130, 40)


class InMemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only (the capture never touches the OS one)."""

    __module__ = "screenshots"  # shown in the status bar as screenshots.InMemoryKeyring
    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


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


async def capture(store) -> None:
    app = PailApp(store.connections)
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
        # The end of the first page: the last keys and the "load more…" row.
        tree.move_cursor(shards.children[-1])
        await settle(pilot)
        assert tree.cursor_node is shards.children[-1], "the cursor is not on load more"
        app.save_screenshot("paging.svg", HERE)
        await capture_level_list(pilot)
        await capture_search(pilot)
        await capture_cleanup(pilot)


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


async def capture_cleanup(pilot) -> None:
    """Sizes of the bucket, then runs of experiment 1 older than a week except the newest
    three: review, delete (the demo store is this process's own), result."""
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
    await goto(pilot, "demo", "ml-artifacts", "mlflow/")
    await goto(pilot, "demo", "ml-artifacts", "mlflow/", "1/", expand=False)
    await pilot.press("z")
    await wait_for(pilot, lambda: isinstance(app.screen, StaleFilterScreen))
    await pilot.press(*"7d", *["tab"] * 6, "3")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteReviewScreen))
    await wait_for(pilot, lambda: app.screen.ready, rounds=60000)
    await settle(pilot)
    app.save_screenshot("cleanup-review.svg", HERE)
    await pilot.press("X")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteConfirmScreen))
    await pilot.click("#delete-confirm-yes")
    await wait_for(pilot, lambda: isinstance(app.screen, DeleteProgressScreen))
    await wait_for(pilot, lambda: app.screen.finished, rounds=60000)
    await settle(pilot)
    app.save_screenshot("cleanup-result.svg", HERE)
    await pilot.press("escape")
    await settle(pilot)
    assert tree.cursor_node is not None


def save_connections(store, config: ConnectionStore) -> ConnectionSpec:
    """Save a few connections (secrets to the in-memory keyring); return one whose
    secret is wrong, for the credential-failure modal."""
    s3 = {"provider": "s3", "endpoint_url": store.endpoint, "region": "us-east-1"}
    specs = [
        (ConnectionSpec(name="lab", path_style=True, bucket="ml-artifacts", **s3), store.admin),
        (
            ConnectionSpec(name="lab-readonly", path_style=True, bucket="ml-artifacts", **s3),
            store.readonly,
        ),
        (ConnectionSpec(name="aws-prod", provider="s3", region="eu-west-1", profile="prod"), None),
        (ConnectionSpec(name="gcs-team", provider="gcs", project="ml-team"), None),
        (ConnectionSpec(name="scratch", provider="local", root=store.local_root), None),
    ]
    for spec, secrets in specs:
        config.save(spec)
        if secrets is not None:
            credentials.store_secrets(spec.name, secrets)
    stale = ConnectionSpec(name="lab-old-key", path_style=True, **s3)
    config.save(stale)
    wrong = Secrets(store.admin.access_key_id, "not-the-secret-anymore")
    credentials.store_secrets(stale.name, wrong)
    return config.get(stale.name)


async def capture_connections(store, config: ConnectionStore) -> None:
    stale = save_connections(store, config)
    app = PailApp([], store=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("C")
        await settle(pilot)
        assert isinstance(app.screen, ConnectionsScreen), "the connections screen did not open"
        await pilot.press("t")  # test "lab": the first page of its default bucket
        await settle(pilot)
        app.save_screenshot("connections.svg", HERE)

    app = PailApp([stale], store=config)  # as `pail lab-old-key` opens it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(200):
            if isinstance(app.screen, CredentialFailureScreen):
                break
            await pilot.pause(0.01)
        assert isinstance(app.screen, CredentialFailureScreen), "no credential-failure modal"
        await settle(pilot)
        app.save_screenshot("credential-failure.svg", HERE)


def main() -> int:
    # Saved connections in a throwaway file, secrets in a throwaway keyring; the user's
    # own environment credentials stay out of the pictures.
    # A throwaway HOME too: no ~/.aws profile of the user's is read, and paths show as ~/….
    folder = tempfile.mkdtemp(prefix="pail-screenshots-")
    os.environ["HOME"] = folder
    os.environ["PAIL_CONFIG"] = os.path.join(folder, ".config", "pail", "connections.toml")
    os.environ["PAIL_DOWNLOAD_DIR"] = os.path.join(folder, "Downloads", "pail")
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)
    os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
    keyring.set_keyring(InMemoryKeyring())
    store = start_demo()
    try:
        asyncio.run(capture(store))
        asyncio.run(capture_connections(store, ConnectionStore()))
        asyncio.run(capture_access(store, SIZE))  # access-check.svg, explanation.svg
    finally:
        store.stop()
        shutil.rmtree(folder, ignore_errors=True)
    names = (
        "browse.svg, preview-{log,image,parquet,safetensors}.svg, downloads.svg, denied.svg, "
        "paging.svg, connections.svg, credential-failure.svg, "
        "cleanup-{sizes,review,result}.svg"
    )
    print("saved", names, "in", HERE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
