"""Every key of the README's key table, pressed in a real terminal on the demo store.

``pail demo`` runs in tmux (120x40) with its own config, cache, data and download folders.
The walk goes where a user would go (expand a bucket, a run prefix, open the level list of
the 20,000-key shard prefix, the versioned ``team-models`` bucket, ...) and, for every
binding id the README lists, presses the key and waits for what the key must change on the
screen (a new screen's title, a notification, a sort line, a mark), then undoes it.

:data:`STEPS` is the walk as data: binding id -> :class:`Step`; the test fails when a
binding id of the README has no step, or when a step was never walked, so a key added to
the app without a walk here fails. A key that does not apply where the cursor is must say
why (``g (Reopen in region): ...``); that message is its check.

Long work (sizes of the whole bucket, a search of 20,000 keys, loading every page, a
download of thousands of files) gives the stop keys (``x``, ``ctrl+x``, escape) something
to stop: the demo's full sizes are used for that. :data:`KNOWN_GAPS` names the keys whose
effect cannot be seen on the demo (they are still pressed).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pail.ui import keymap
from support.cli import pail_exe
from support.tmux import RECHECK, Condition, Gone, Matches, Terminal, holds, shell_command

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

README = Path(__file__).resolve().parents[2] / "README.md"
TREE_WIDTH = 46  # the tree's columns at 120 wide (the detail pane starts after them)


def tree(screen: str) -> str:
    """The tree column of a main-screen capture (so the detail pane's text is not seen)."""
    return "\n".join(line[:TREE_WIDTH] for line in screen.splitlines())


def header(screen: str) -> str:
    """What the first line shows after ``pail — `` (the URI at the cursor, a screen name)."""
    first = screen.splitlines()[0] if screen else ""
    return first.split("pail — ", 1)[-1].strip()


def at(uri: str) -> Condition:
    """The header shows exactly ``uri``."""

    def check(screen: str) -> bool:
        return header(screen) == uri

    check.__qualname__ = f"at({uri!r})"
    return check


def in_tree(text: str) -> Condition:
    """``text`` is in the tree column."""

    def check(screen: str) -> bool:
        return text in tree(screen)

    check.__qualname__ = f"in_tree({text!r})"
    return check


def help_title(title: str) -> str:
    """The first line of ``?`` on a screen listed in :data:`keymap.SCREENS`."""
    return f"pail — keys: {title}"


@dataclass(frozen=True)
class Step:
    """One key's walk.

    Attributes:
        keys: tmux key names to press (``"Space"``, ``"C-f"``, ``"X"``).
        expect: what must then be on the screen (texts or conditions).
        then: keys to press once ``expect`` holds (text typed into a box the key opened).
        then_expect: what must be on the screen after ``then``.
        then_again: press ``then`` again until ``then_expect`` holds (the key's work ends
            later and shows nothing itself).
        undo: keys that put things back (``()``: nothing to undo).
        undone: what must be on the screen after ``undo``.
    """

    keys: tuple[str, ...]
    expect: tuple[Condition, ...]
    undo: tuple[str, ...] = ()
    undone: tuple[Condition, ...] = ()
    then: tuple[str, ...] = ()
    then_expect: tuple[Condition, ...] = ()
    then_again: bool = False


def readme_binding_ids() -> set[str]:
    """The binding ids in the README's generated key tables."""
    text = README.read_text(encoding="utf-8")
    start, end = text.index(keymap.README_START), text.index(keymap.README_END)
    return set(re.findall(r"\| `([a-z_]+\.[a-z_]+)` \|$", text[start:end], re.MULTILINE))


# -- the walk, as data ---------------------------------------------------------------------

DEMO_BUCKET = "s3://ml-artifacts/"
NOTES = "s3://ml-artifacts/notes/"
README_MD = "s3://ml-artifacts/notes/README.md"
DRAFT = "s3://ml-artifacts/notes/[draft] ablation results.md"
SHARDS = "s3://ml-artifacts/datasets/imagenet-mini/shards/"
RESNET = "s3://team-models/registry/resnet50/"
LATEST = "s3://team-models/registry/resnet50/latest.json"
SIZES_LINE = "S next sort · R reverse · enter opens"
EXP1 = "s3://ml-artifacts/mlflow/1/"  # an MLflow experiment folder: 4 runs
MARKED = Matches(r"\d[\d,]* marked")
ARCHIVE = "s3://ml-archive/"  # the demo's inventoried bucket (pail.demo.inventory)
ARCHIVE_TITLE = (
    r"s3://ml-archive/ · inventory of \d{4}-\d\d-\d\d \d\d:\d\d UTC · snapshot · [\d,]+ objects"
)
RESNET_INV = "s3://ml-archive/registry/resnet50/"


#: Keys whose effect the walk cannot see on the demo, and why (the walk still presses them).
KNOWN_GAPS = {
    "delete_progress.cancel": (
        "a demo delete (even 3,000 keys: three batches sent at once) ends before x lands,"
        " and x after the end does nothing visible"
    ),
    "downloads.cancel_file": (
        "x on a queued file shows nothing until the engine reaches that file; the walk"
        " checks the row after ctrl+x"
    ),
}


def steps(tmp: Path) -> dict[str, Step]:
    """binding id -> its walk, for a demo whose folders are under ``tmp``."""
    pager_log = tmp / "pager.log"

    def opened(name: str) -> Callable[[str], bool]:
        def check(_screen: str) -> bool:  # the viewer ($PAGER) was given the cached copy
            return pager_log.exists() and name in pager_log.read_text()

        check.__qualname__ = f"opened({name!r})"
        return check

    def saved_report(_screen: str) -> bool:
        return any(tmp.glob("work/pail-access-*.txt"))

    demo_line = r"^▼ demo  s3 .*\n"
    return {
        # -- every screen ------------------------------------------------------------
        "app.help": Step(
            ("?",),
            (help_title("Main screen (tree | detail)"),),
            ("Escape",),
            (Gone("pail — keys:"),),
        ),
        "app.quit": Step(("C-q",), ("quit anyway?",), ("n",), (Gone("quit anyway?"),)),
        # -- main screen: the tree -----------------------------------------------------
        "tree.expand": Step(
            ("Right",),
            (Matches(demo_line + r"├─ ▼ ml-artifacts"),),
        ),
        "tree.collapse": Step(
            ("Left",),
            (Matches(demo_line + r"├─ ▶ ml-artifacts"),),
            ("Enter",),
            (Matches(demo_line + r"├─ ▼ ml-artifacts .*\n│  ├─ ▶ archive/"),),
        ),
        "node.refresh": Step(  # r on a closed prefix lists it from its first page
            ("r",), (in_tree("make_data/"),), ("Left",), (Gone("make_data/"),)
        ),
        "node.filter": Step(
            ("/",),
            ("filter this level…",),
            ("Escape",),
            (in_tree("README.md  50 B"), Gone("filter this level…"), at(README_MD)),
            then=("d", "r", "a", "f", "t"),
            then_expect=(Gone("README.md  50 B", tree), in_tree("[draft] ablation results.md")),
        ),
        "node.copy_uri": Step(("c",), (f"Sent the URI {README_MD}",)),
        "object.copy_command": Step(("y",), ("Sent the command aws s3 cp",)),
        "object.presign": Step(
            ("p",),
            ("Copy a presigned URL", "15 minutes"),
            ("Enter",),
            ("Sent a presigned URL (works for",),
        ),
        "object.open": Step(("o",), (opened("notes/README.md"),)),
        "node.reopen_region": Step(("g",), ("g (Reopen in region): only after a wrong-region",)),
        # The preview stays at the log's end: home (in the pane) shows its summary line.
        "preview.more": Step(
            ("m",), (), then=("Home",), then_expect=("read 8,192 of 2",), then_again=True
        ),
        "tree.mark": Step(("Space",), (in_tree("● README.md"), at(DRAFT))),
        "cleanup.invert": Step(
            ("*",), (in_tree("● [draft]"), Gone("● README.md", tree), in_tree("README.md"))
        ),
        "cleanup.mark_all": Step(("+",), (in_tree("● README.md"), in_tree("● [draft]"))),
        "tree.clear_marks": Step(("u",), (Gone("● ", tree), in_tree("README.md"))),
        "node.download": Step(
            ("d",),
            ("Into the folder",),
            ("Enter",),
            ("pail — Transfers", "Download 1", "Finished: 1 downloaded"),
        ),
        "app.downloads": Step(("D",), ("pail — Transfers", "Download 1")),
        # -- writes: F5 copies the draft to team-models/copies/ (outside notes/: its
        # search below counts two matches); F6, F2, U and = are asked and cancelled.
        "node.copy_to": Step(("F5",), ("Copy to", "demo:team-models/")),
        "transfer_confirm.start": Step(
            ("y",), ("pail — Transfers", "Copy 2", "Finished: 1 copied")
        ),
        "downloads.earlier": Step(("[",), ("Download 1", Gone("Copy 2"))),
        "downloads.later": Step(("]",), ("Copy 2", Gone("Download 1"))),
        "node.move_to": Step(("F6",), ("Move to", "demo:team-models/")),
        "target.cancel": Step(("Escape",), (Gone("Move to"),)),
        "node.rename": Step(("F2",), ("Rename", "New name:")),
        "text_input.cancel": Step(("Escape",), (Gone("New name:"),)),
        "node.upload": Step(("U",), ("Upload", "into s3://ml-artifacts/notes/")),
        "transfer_confirm.cancel": Step(("n",), (Gone("review the plan"),)),
        "node.compare": Step(("=",), ("Compare with",)),
        # -- check: notes/ against team-models/copies/ (the draft copied there by F5)
        "check.cancel": Step(("x",), ("x (Stop): the comparison is not running",)),
        "check.copy_b_to_a": Step(("<",), ("< (Copy B→A): nothing to copy that way",)),
        "check.rerun": Step(("r",), ("1 only in A",)),
        "check.copy_a_to_b": Step(
            (">",), ("Copy: review the plan", "copy 1 object"), ("n",), (Gone("review the plan"),)
        ),
        "check.close": Step(("q",), (Gone("pail — Check"),)),
        "cleanup.stale": Step(
            ("z",),
            (f"Select stale objects under {NOTES}",),
            ("Escape",),
            (Gone("Select stale objects"),),
        ),
        "tree.failing_only": Step(
            ("F",), ("Failing only: on", "(no match)"), ("F",), ("Failing only: off",)
        ),
        "node.search": Step(("C-f",), ("pail — Search", f"Search {NOTES}")),
        "cleanup.sizes": Step(("s",), ("pail — Sizes", f"Usage of {DEMO_BUCKET}", "scanning…")),
        "cleanup.versions": Step(("v",), ("pail — Versions", f"Deleted objects under {RESNET}")),
        "cleanup.lifecycle": Step(("L",), ("Lifecycle rules of team-models", "Older than")),
        "cleanup.delete": Step(
            ("X",), ("pail — Review delete", f"Delete from {LATEST}", "1 key, all shown")
        ),
        "node.access_check": Step(("a",), ("Access check  s3://ml-artifacts/",)),
        "app.connections": Step(("C",), ("pail — connections", "Saved connections in")),
        "main.quit": Step(("q",), ("PAIL-EXITED 0",)),
        # -- main screen: the level list ----------------------------------------------
        "list.sort": Step(("S",), ("sort: size ↑",)),
        "list.reverse": Step(("R",), ("sort: size ↓",)),
        "list.filter": Step(
            ("/",),
            ("filter the list…",),
            ("Escape",),
            (Matches(r"▕[\d,]+\+? keys  ·"), Gone("filter the list…")),
            then=("0", "0", "0", "4", "2"),
            then_expect=("shard-00042.tar", Matches(r"1 of [\d,]+\+? keys")),
        ),
        "list.load_all": Step(("G",), ("loading all:",)),
        "list.cancel": Step(("Escape",), ("load-all cancelled",)),
        "list.mark": Step(("Space",), ("1 marked",)),
        "list.invert": Step(("*",), (MARKED, Gone(" 1 marked"))),
        "list.clear_marks": Step(("u",), (Gone(" marked"),)),
        "list.mark_all": Step(("+",), (MARKED,)),
        "list.open": Step(("Enter",), (Matches(r"pail — " + re.escape(SHARDS) + r"shard-\d+"),)),
        # -- search -------------------------------------------------------------------
        "search.query": Step(("/",), ()),  # the query box gets the focus: typing shows
        "search.mark": Step(("Space",), ("marked: 1 match",)),
        "search.unmark": Step(("u",), (Gone("marked:"),)),
        "search.mark_all": Step(("+",), ("marked: 2 matches",)),
        "search.jump": Step(("Enter",), (at(README_MD),)),
        "search.download": Step(
            ("d",), ("Into the folder", "2 objects"), ("Escape",), (Gone("Into the folder"),)
        ),
        "search.delete": Step(("X",), ("pail — Review delete", "2 objects")),
        "search.refresh": Step(("r",), (Gone("cached; r re-lists"), "examined")),
        "search.cancel": Step(("x",), ("stopped: partial",)),
        "search.close": Step(("q",), (Gone("pail — Search"),)),
        # -- runs view and run diff ---------------------------------------------------
        "node.runs": Step(("e",), ("pail — Runs", f"Runs · MLflow / FastTrackML in {EXP1}")),
        "runs.cancel": Step(("x",), ("x (Stop): detection has finished",)),
        "runs.refresh": Step(("r",), ("Detected again: 4 runs.",)),
        "runs.sort": Step(("S",), ("sorted by duration ·",)),
        "runs.reverse": Step(("R",), ("sorted by duration, reversed",)),
        "runs.sort_by": Step(
            ("O",), ("Sort the runs by",), ("Escape",), (Gone("Sort the runs by"),)
        ),
        "runs.mark": Step(("Space",), (Matches(r"· A: [a-z]+-[a-z]+-\d+"),)),
        "runs.clear_marks": Step(("u",), (Gone("· A: "),)),
        "runs.metric": Step(("M",), ("plot: accuracy (M next)",)),
        "runs.compare": Step(("=",), ("pail — Run diff", "Params", "Metrics", "Files")),
        "diff.cancel": Step(("x",), ("x (Stop): the comparison has finished",)),
        "diff.copy_command": Step(("y",), (f"Sent the command pail diff {EXP1}",)),
        "diff.close": Step(("q",), (Gone("pail — Run diff"),)),
        # A run's URI is longer than a notification's line: it starts the next one.
        "runs.copy_uri": Step(
            ("c",), (Matches(r"Sent the URI *\n.*▌ " + re.escape(EXP1) + r"[0-9a-f]{20}"),)
        ),
        "runs.open": Step(
            ("Enter",),
            (Gone("pail — Runs"), Matches(r"pail — " + re.escape(EXP1) + r"[0-9a-f]{32}/$")),
        ),
        "runs.close": Step(("q",), (Gone("pail — Runs"),)),
        # -- sizes --------------------------------------------------------------------
        "usage.cancel": Step(("x",), ("cancelled: partial",)),
        "usage.sort": Step(("S",), (f"sorted by objects · {SIZES_LINE}",)),
        "usage.reverse": Step(("R",), (f"sorted by objects, reversed · {SIZES_LINE}",)),
        "usage.open": Step(  # the row at the cursor (the scan was stopped: any prefix)
            ("Enter",), (Gone("pail — Sizes"), Matches(r"pail — s3://ml-artifacts/[a-z]+/$"))
        ),
        "usage.close": Step(("q",), (Gone("pail — Sizes"),)),
        # -- downloads ----------------------------------------------------------------
        # x on a queued file (the last row): nothing shows until the engine reaches it
        # (reported); after ctrl+x the row must say cancelled.
        "downloads.cancel_file": Step(
            ("C-End", "x"), (Matches(r"queued +shard-\d+\.tar.*\n.*\n"),)
        ),
        "downloads.cancel_all": Step(
            ("C-x",), (Matches(r"Finished: .*cancelled"), Matches(r"cancelled +shard-\d+\.tar"))
        ),
        "downloads.close": Step(("q",), (Gone("pail — Transfers"),)),
        # -- versions -----------------------------------------------------------------
        "versions.restore": Step(
            ("U",), ("Restore 1 object?",), ("n",), (Gone("Restore 1 object?"),)
        ),
        "versions.restore_all": Step(
            ("A",), ("Restore 1 object?",), ("y",), ("Restored 1 object.",)
        ),
        "versions.download": Step(("d",), ("Saved to",)),
        "versions.close": Step(("q",), (Gone("pail — Versions"),)),
        # -- lifecycle ----------------------------------------------------------------
        "lifecycle.apply": Step(
            ("C-w",), ("Apply lifecycle rules?",), ("y",), ("Written: the bucket now has",)
        ),
        "lifecycle.close": Step(("Escape",), (Gone("Lifecycle rules of"),)),
        # -- delete review and progress -----------------------------------------------
        "review.dry_run": Step(
            ("t",), (Matches(r"Dry run…\s+Back"),), ("t",), (Matches(r"Delete…\s+Back"),)
        ),
        "review.delete": Step(
            ("X",), ("Delete 1 object",), ("Escape",), (Gone("Delete 1 object"),)
        ),
        "review.back": Step(("q",), (Gone("pail — Review delete"),)),
        "delete_progress.verify": Step(("r",), ("Verified: the 1 key reported deleted is gone",)),
        # Pressed once the delete is done: it must leave the result alone (see KNOWN_GAPS).
        "delete_progress.cancel": Step(("x",), ("pail — Delete result", "r Re-check")),
        "delete_progress.close": Step(("q",), (Gone("pail — Delete result"),)),
        # -- access check -------------------------------------------------------------
        "access.write_probes": Step(("w",), (Matches(r"PutObject +denied"),)),
        "access.rerun": Step(("r",), ()),  # checked by the walk: a new request id
        "access.copy_policy": Step(("c",), ("Sent the policy for",)),
        "access.copy_report": Step(("y",), ("Sent the access report",)),
        "access.save_report": Step(("C-s",), ("Saved the report to", saved_report)),
        "access.close": Step(("q",), (Gone("Access check  s3://"),)),
        # -- connections --------------------------------------------------------------
        "connections.test": Step(("t",), ("✓ demo: ListBuckets answered",)),
        "connections.add": Step(
            ("n",), ("Add a connection",), ("Escape",), (Gone("Add a connection"),)
        ),
        "connections.edit": Step(
            ("e",), ("Edit connection demo",), ("Escape",), (Gone("Edit connection"),)
        ),
        "connections.remove": Step(
            ("X",),
            ("Remove connection demo-local?",),
            ("y",),
            ("Removed demo-local.", Gone(" demo-local     local")),
        ),
        "connections.open": Step(("Enter",), (at("s3://"), "▼ demo  s3")),
        "connections.back": Step(("q",), (Gone("pail — connections"),)),
        # -- inventory mode (the demo's report of ml-archive) --------------------------
        "node.inventory": Step(("i",), ("pail — Inventory (a snapshot)", Matches(ARCHIVE_TITLE))),
        "inventory.cancel": Step(("x",), ("x (Stop): nothing is running",)),
        "inventory.reopen": Step(("r",), ("Opened again: the inventory of",)),
        "inventory.open": Step(("Enter",), (f"{ARCHIVE}datasets/ · inventory of",)),
        "inventory.up": Step(("BSpace",), (f"{ARCHIVE} · inventory of",)),
        "inventory.copy_uri": Step(("c",), (f"Sent the URI {ARCHIVE}datasets/",)),
        "inventory.sql": Step(("y",), ("Athena for this level of the inventory of",)),
        "inventory_sql.copy": Step(("y",), ("Sent the Athena SQL",)),
        "inventory_sql.close": Step(("Escape",), (Gone("Athena for this level"),)),
        "inventory.search": Step(("/",), ("pail — Search the inventory (a snapshot)",)),
        # The URI is longer than a notification's line: it starts the next one.
        "inventory_search.copy_uri": Step(
            ("c",), (Matches(r"Sent the URI *\n.*▌ " + re.escape(f"{RESNET_INV}latest.json")),)
        ),
        "inventory_search.query": Step(("/",), (Gone("c Copy URI"),)),  # the box has the focus
        "inventory_search.cancel": Step(("x",), ("x (Stop): no search is running",)),
        "inventory_search.sql": Step(
            ("y",), ("Athena for the search of the inventory of",), ("Escape",), (Gone("Athena"),)
        ),
        "inventory_search.open": Step(("Enter",), (f"{RESNET_INV} · inventory of",)),
        "inventory_search.close": Step(("q",), (Gone("pail — Search the inventory"),)),
        # z, 30d, enter: the registry's versions are planned; latest.json changed since
        "inventory.stale": Step(
            ("z",),
            (f"Select stale objects under {RESNET_INV} (from",),
            then=("3", "0", "d", "Enter"),
            then_expect=("pail — Plan from the inventory", "Planned: ", "changed since the report"),
        ),
        "inventory_plan.cancel": Step(("x",), ("x (Stop): planning has finished",)),
        "inventory_plan.lifecycle": Step(
            ("L",), ("Lifecycle rules of ml-archive",), ("Escape",), (Gone("Lifecycle rules of"),)
        ),
        "inventory_plan.delete": Step(
            ("X",),
            ("pail — Review delete", "planned from the inventory of"),
            ("Escape",),
            (Gone("pail — Review delete"),),
        ),
        "inventory_plan.close": Step(("q",), (Gone("pail — Plan from the inventory"),)),
        "inventory.sort": Step(("S",), ("sorted by size · a snapshot",)),
        "inventory.reverse": Step(("R",), ("sorted by size, reversed · a snapshot",)),
        "inventory.close": Step(("q",), (Gone("pail — Inventory"),)),
    }


# -- the terminal --------------------------------------------------------------------------


class Walk:
    """The demo in tmux, and the steps walked so far."""

    def __init__(self, term: Terminal, table: dict[str, Step]) -> None:
        self.term, self.table = term, table
        self.walked: list[str] = []

    def wait(self, *conditions: Condition, timeout: float = 30.0) -> str:
        return self.term.wait_for(*conditions, timeout=timeout)

    def press(self, *keys: str) -> None:
        self.term.press(*keys)

    def key(self, binding_id: str, *, undo: bool = True) -> str:
        """Walk ``binding_id``'s step (its undo too, unless ``undo`` is False)."""
        step = self.table[binding_id]
        self.term.press(*step.keys)
        screen = self.wait(*step.expect)
        if step.then and step.then_again:
            deadline = time.monotonic() + 30
            while True:
                self.term.press(*step.then)
                screen = self.term.screen()
                if all(holds(c, screen) for c in step.then_expect):
                    break
                if time.monotonic() > deadline:
                    screen = self.wait(*step.then_expect, timeout=0)
                time.sleep(0.2)
        elif step.then:
            self.term.press(*step.then)
            screen = self.wait(*step.then_expect)
        if undo and step.undo:
            self.term.press(*step.undo)
            screen = self.wait(*step.undone)
        self.walked.append(binding_id)
        return screen

    def settle(self) -> str:
        """Wait until the screen stops changing (nothing new drawn for 0.3 s): after a key
        that redraws the tree and moves its cursor on a later refresh."""
        return self.term.settle()

    def help(self, title: str) -> None:
        """``?`` shows this screen's keys; escape closes the help."""
        self.press("?")
        self.wait(help_title(title))
        self.press("Escape")
        self.wait(Gone("pail — keys:"))

    def goto(self, uri: str, *, conn: str = "demo", key: str = "Down") -> str:
        """Move the tree's cursor with ``key`` (at the end of the tree: the other way)
        until the header shows ``uri`` on connection ``conn`` (the status bar names it)."""

        def where(screen: str) -> tuple[str, str]:
            lines = screen.splitlines()
            # the status bar starts with the connection (notifications may cover its end)
            return header(screen), (lines[-2][:24] if len(lines) > 2 else "")

        other = {"Down": "Up", "Up": "Down"}
        give_up = time.monotonic() + 150
        while time.monotonic() < give_up:
            screen = self.term.screen()
            uri_now, status = where(screen)
            if uri_now == uri and status.startswith(f" {conn}  "):
                # A press still queued in a slow app would move the cursor on: arrived
                # only once the screen has stopped changing there.
                screen = self.settle()
                uri_now, status = where(screen)
                if uri_now == uri and status.startswith(f" {conn}  "):
                    return screen
                continue
            self.press(key)
            # A loaded machine (the suite's other worker) can take seconds to redraw: only
            # a cursor that has not moved for 5 s is at the end.
            deadline = time.monotonic() + 5
            while True:
                seen = self.term.outputs  # before the read: a later draw wakes the wait
                if where(self.term.screen()) != (uri_now, status):
                    break
                left = deadline - time.monotonic()
                if left < 0:  # the cursor is at the end: turn round
                    key = other[key]
                    break
                self.term.wait_output(seen, min(RECHECK, left))
        pytest.fail(f"the cursor never reached {uri} ({conn}):\n{self.term.screen()}")

    def expand(self, uri: str, child: str, **kw: str) -> None:
        """Put the cursor on ``uri`` and open it (enter) until ``child`` shows in the tree."""
        self.goto(uri, **kw)
        self.press("Enter")
        self.wait(in_tree(child))


@pytest.fixture
def demo(tmp_path) -> Iterator[Walk]:
    work = tmp_path / "work"
    work.mkdir()
    pager = tmp_path / "pager"
    pager.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "pager.log"}\n')
    pager.chmod(0o755)
    env = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PAIL_DOWNLOAD_DIR": str(tmp_path / "downloads"),
        "PAIL_PREVIEW_WINDOW": "4096",  # labels.csv (13.6 KiB) has more to read: m
        "PAGER": str(pager),
        "EDITOR": shutil.which("true") or "/bin/true",
        "DISPLAY": "",
        "WAYLAND_DISPLAY": "",  # no desktop clipboard: copies go out as OSC 52
    }
    term = Terminal(shell_command([pail_exe(), "demo"], env), cwd=str(work))
    try:
        yield Walk(term, steps(tmp_path))
    finally:
        term.close()


def test_every_binding_id_of_the_readme_has_a_step(tmp_path):
    ids = readme_binding_ids()
    assert ids, "no binding ids found in the README's key tables"
    assert ids <= keymap.binding_ids(), ids - keymap.binding_ids()
    missing = ids - set(steps(tmp_path))
    assert not missing, f"keys in the README that the tmux walk does not press: {missing}"
    assert set(KNOWN_GAPS) <= ids, set(KNOWN_GAPS) - ids


# 80-100 s alone; on CI's loaded second worker the same walk took over 180 s (the suite's
# default timeout) while still progressing.
@pytest.mark.timeout(600)
def test_every_key_of_the_readme_on_the_demo(demo, tmp_path):
    w = demo
    w.wait("ml-artifacts", "team-models", "demo-local", "q Quit", timeout=60)

    # Every screen: ? lists its keys, ctrl+p opens the palette.
    w.key("app.help")
    w.press("C-p")
    w.wait("Search for commands…")
    w.press("Escape")
    w.wait(Gone("Search for commands…"))

    # The tree: → and ← on the demo's first bucket (not listed yet).
    w.goto(DEMO_BUCKET)
    w.key("tree.expand")
    w.key("tree.collapse")

    # r lists a closed prefix from its first page.
    w.goto("s3://ml-artifacts/zenml/")
    w.key("node.refresh")

    # notes/: filter, the object keys, marks.
    w.expand(NOTES, "README.md  50 B", key="Up")
    w.key("node.filter")
    w.goto(README_MD)
    w.key("node.copy_uri")
    w.key("object.copy_command")
    w.key("object.presign")
    w.key("object.open")
    w.key("node.reopen_region")
    w.key("tree.mark")  # marks README.md, the cursor moves on to the draft
    w.key("cleanup.invert")
    w.key("cleanup.mark_all")
    w.key("tree.clear_marks")

    # d downloads the draft; the Transfers screen; D shows it again.
    w.key("node.download")
    assert (tmp_path / "downloads").exists()
    w.help("Transfers (D)")
    w.key("downloads.close")
    w.wait(at(DRAFT))
    w.key("app.downloads")
    w.press("D")  # D closes it too
    w.wait(at(DRAFT))

    # The writes on the draft: F5 copies it (picker, plan, Transfers with [ and ]).
    w.key("node.copy_to")
    w.term.type("demo:team-models/copies/")  # the picker's field has the focus
    w.press("Enter")
    w.wait("Copy: review the plan", "server-side")
    w.key("transfer_confirm.start")
    w.key("downloads.earlier")
    w.key("downloads.later")
    w.press("Escape")
    w.wait(at(DRAFT))
    w.key("node.move_to")
    w.key("target.cancel")
    w.key("node.rename")
    w.key("text_input.cancel")
    w.key("node.upload")
    w.term.type(str(tmp_path / "pager"))
    w.press("Enter")
    w.wait("Upload: review the plan")
    w.key("transfer_confirm.cancel")

    # = compares notes/ with the draft's copy: the check screen's keys.
    w.key("node.compare")
    w.term.type("demo:team-models/copies/")
    w.press("Enter")
    w.wait("pail — Check", "1 only in A", "> Copy A→B")
    w.help("Check (= on the tree)")
    w.key("check.cancel")
    w.key("check.copy_b_to_a")
    w.key("check.rerun")
    w.settle()  # the comparison ran again (U is off while it runs)
    w.wait("> Copy A→B", "1 only in A")
    w.key("check.copy_a_to_b")  # back on the tree: the plan of README.md, cancelled
    w.press("=")
    w.wait("Compare with")
    w.term.type("demo:team-models/copies/")
    w.press("Enter")
    w.wait("pail — Check", "1 only in A")
    w.key("check.close")
    w.wait(at(DRAFT))

    w.goto(NOTES, key="Up")
    w.key("cleanup.stale")
    w.key("tree.failing_only")
    w.settle()  # failing-only moved the cursor: where to is not the point here
    w.goto(NOTES, key="Up")

    # Search below notes/: two matches.
    w.key("node.search")
    w.term.type("md")  # the query box has the focus (? would be typed into it)
    w.press("Enter")
    w.wait("2 matches", "complete", "[draft] ablation", "space Mark")  # the list has the focus
    w.help("Search (ctrl+f)")
    w.key("search.mark")
    w.key("search.unmark")
    w.key("search.mark_all")
    w.key("search.download")  # closes the search; the folder question is cancelled
    w.wait(Gone("Into the folder"))
    w.press("C-f")  # the last query runs again, from the listing cache
    w.wait("cached; r re-lists", "space Mark")
    w.key("search.refresh")
    w.wait("2 matches", "complete")
    w.key("search.query")
    w.wait(Gone("space Mark"))  # the box has the focus: the list's keys are off
    w.press("Enter")
    w.wait("space Mark")
    w.key("search.jump")
    w.settle()  # the jump opens the match's prefixes and moves the cursor after a refresh
    w.goto(NOTES, key="Up")
    w.press("C-f")
    w.wait("space Mark", "2 matches")
    w.press("+")
    w.wait("marked: 2 matches")
    w.key("search.delete")
    w.press("Escape")
    w.wait(Gone("pail — Review delete"))
    w.press("C-f")
    w.wait("space Mark", "2 matches")
    w.key("search.close")
    w.press("u")  # the search's marks became the tree's
    w.wait(Gone("● ", tree))

    # Sizes of the whole bucket: stop the scan, sort, reverse, open a row.
    w.goto(DEMO_BUCKET, key="Up")
    w.key("cleanup.sizes")
    w.key("usage.cancel")
    w.help("Sizes (s)")
    w.key("usage.sort")
    w.key("usage.reverse")
    w.key("usage.open")
    w.settle()
    w.goto(DEMO_BUCKET, key="Up")
    w.press("s")
    w.wait("pail — Sizes")
    w.key("usage.close")
    w.press("s")
    w.wait("pail — Sizes")
    w.press("Escape")
    w.wait(Gone("pail — Sizes"))

    # m reads further back in a run's train.log (the preview window is 4 KiB here).
    w.expand("s3://ml-artifacts/mlflow/", "1/")
    w.goto("s3://ml-artifacts/mlflow/1/")
    w.press("Enter")
    w.wait(Matches(r"^│  │  │  ├─ ▶ [0-9a-f]{32}", tree))
    w.press("Down")
    run = header(w.wait(Matches(r"pail — s3://ml-artifacts/mlflow/1/[0-9a-f]{32}/$")))
    artifacts = run + "artifacts/"
    w.press("Enter")
    w.wait(in_tree("artifacts/"))
    w.expand(artifacts, "train.log")
    w.goto(artifacts + "train.log")
    w.wait("m More")
    w.press("Tab", "Home")  # the detail pane: its preview's first line
    w.wait("read 4,096 of 2")
    w.key("preview.more")
    w.press("BTab")  # back to the tree

    # The runs of experiment 1: sort, mark, plot, compare two, back to the tree at one.
    w.goto(EXP1, key="Up")
    w.key("node.runs")
    w.wait("runs of experiment", "M Metric")
    w.help("Runs (e)")
    w.key("runs.cancel")
    w.key("runs.refresh")
    w.key("runs.sort")
    w.key("runs.reverse")
    w.key("runs.sort_by")
    w.key("runs.mark")
    w.key("runs.clear_marks")
    w.key("runs.metric")
    w.press("C-Home", "Space", "Space")  # the first two runs: A and B
    w.wait("· B: ")
    w.key("runs.compare")
    w.help("Run diff (= in the runs view)")
    w.key("diff.cancel")
    w.key("diff.copy_command")
    w.key("diff.close")
    w.key("runs.copy_uri")
    w.key("runs.close")
    w.press("e")
    w.wait("pail — Runs", "M Metric")
    w.key("runs.open")
    w.settle()

    # Search the shard prefix (20,000 keys): x stops it.
    w.expand("s3://ml-artifacts/datasets/", "imagenet-mini/", key="Up")  # above mlflow/
    w.expand("s3://ml-artifacts/datasets/imagenet-mini/", "shards/")
    w.goto(SHARDS)
    w.press("C-f", "C-u")
    w.term.type("shard-1")
    w.press("Enter")
    w.wait("searching…", "space Mark")
    w.key("search.cancel")
    w.press("Escape")
    w.wait(Gone("pail — Search"))

    # The level list of the shard prefix.
    w.press("Enter")
    w.wait(in_tree("open list"))
    w.press("Down", "Enter")  # enter on "▤ 1,000+ keys — open list"
    w.wait("shard-00000.tar", "G Load all", Matches(r"·  sort: name ↑"))
    w.key("list.sort")
    w.key("list.reverse")
    w.key("list.load_all")
    w.key("list.cancel")
    w.key("list.filter")
    w.key("list.mark")
    w.key("list.invert")
    w.key("list.clear_marks")
    w.key("list.mark_all")
    # d downloads the marked shards: the downloads screen's keys while it runs.
    w.press("d")
    w.wait("Into the folder")
    w.press("Enter")
    w.wait("pail — Transfers", Matches(r" of [\d,]+ files"))
    w.key("app.quit")  # ctrl+q while files download: asks first; n stays
    w.key("downloads.cancel_file")
    w.key("downloads.cancel_all")
    w.press("Escape")
    w.wait(Gone("pail — Transfers"), "G Load all")
    w.key("list.open")
    w.wait("Object")
    w.press("Escape")  # back to the tree
    w.wait(Gone("G Load all"))
    w.press("u")
    w.wait(Gone(" marked"))
    w.help("Main screen (tree | detail)")

    # Versions on the versioned bucket: the deleted v1 model under resnet50/.
    w.goto(DEMO_BUCKET, key="Up")
    w.press("Left")  # close ml-artifacts: a short tree to walk
    w.wait(Matches(r"^▼ demo  s3 .*\n├─ ▶ ml-artifacts"))
    w.settle()
    w.expand("s3://team-models/", "registry/")
    w.expand("s3://team-models/registry/", "resnet50/")
    w.expand(RESNET, "latest.json")
    w.goto(RESNET, key="Up")
    w.key("cleanup.versions")
    w.help("Versions (v)")
    w.key("versions.restore")
    w.key("versions.restore_all")
    w.press("Escape")
    w.wait(Gone("pail — Versions"))
    w.goto(LATEST)
    w.press("v")
    w.wait(f"Versions of {LATEST}", "3 versions")
    w.key("versions.download")
    w.key("versions.close")

    # Lifecycle rules for registry/: an age, then ctrl+w writes them.
    w.goto("s3://team-models/registry/", key="Up")
    w.key("cleanup.lifecycle")
    w.wait("Existing rules of team-models")
    w.settle()  # the prefix field takes the focus once the rules are read
    w.press("Tab")  # to "older than"
    w.settle()
    w.term.type("30d")
    w.wait("added: pail-registry-30d")
    # In a field ? is typed: the help key is checked from the Apply button, once the
    # footer offers "? Help" (it does not while a field has the focus).
    w.press("Tab", "Tab", "Tab", "Tab")
    w.wait("? Help", "^w Apply…")
    w.help("Lifecycle rules (L)")
    w.key("lifecycle.apply")
    w.key("lifecycle.close")

    # Delete review, then a real delete (the demo store is this test's own).
    w.goto(LATEST)
    w.key("cleanup.delete")
    w.help("Delete review (X, z)")
    w.key("review.dry_run")
    w.key("review.delete")
    w.key("review.back")
    w.press("X")
    w.wait("pail — Review delete", "1 key, all shown", "X Delete…")
    w.press("X")
    w.wait("Delete 1 object")
    w.press("BTab", "Enter")
    w.wait("pail — Delete result", "Deleted 1 of 1 object")
    w.help("Delete progress")
    w.key("delete_progress.verify")
    w.key("delete_progress.cancel")
    w.key("delete_progress.close")
    w.wait(Gone("latest.json", tree))

    # The access check as the read-only user, on its bucket: denials to explain.
    w.goto(DEMO_BUCKET, conn="demo-readonly")
    w.key("node.access_check")
    w.wait(Matches(r"ListAllMyBuckets +denied"))
    w.help("Access check (a)")
    w.key("access.copy_policy")
    w.key("access.write_probes")
    w.press("Down", "Down", "Down", "Down", "Down")  # PutObject: denied, with a request id
    request_id = r"Request id +(\w+)"
    first = re.search(request_id, w.wait("✘ PutObject", Matches(request_id)))
    assert first is not None
    w.key("access.rerun")  # the probes run again: another request
    w.wait(Gone(first.group(1)), Matches(request_id), "✘ PutObject")
    w.key("access.copy_report")
    w.key("access.save_report")
    w.key("access.close")

    # Connections: test, add, edit, remove, open.
    w.key("app.connections")
    w.help("Connections (C)")
    w.key("connections.test")
    w.key("connections.add")
    w.key("connections.edit")
    w.press("C-End")  # demo-local, the last row
    w.key("connections.remove")
    w.press("C-Home")
    w.key("connections.back")
    w.press("C")
    # The rows come from a worker (credentials resolved per connection): wait for them,
    # then put the cursor on the first row (demo) before enter opens it.
    w.wait("pail — connections", Matches(r"demo-readonly +s3"))
    w.press("C-Home")
    w.settle()  # the table takes the focus after the screen shows: enter goes to it
    w.key("connections.open")

    # Inventory mode on the demo's report of ml-archive: the level, up and down, the SQL,
    # a search whose match opens its level, a plan from the report re-checked live (one
    # key changed since the report), its lifecycle rule and its review, sorting.
    w.goto(ARCHIVE)
    w.key("node.inventory")
    w.wait("datasets/", "z Stale…")  # the level's rows: the table has the focus
    w.help("Inventory (i)")
    w.key("inventory.cancel")
    w.key("inventory.reopen")
    w.key("inventory.open")
    w.key("inventory.up")
    w.key("inventory.copy_uri")
    w.key("inventory.sql")
    w.key("inventory_sql.copy")
    w.key("inventory_sql.close")
    w.key("inventory.search")
    w.term.type("registry/resnet50/latest")
    w.press("Enter")
    w.wait("1 match ·", "c Copy URI")  # the list has the focus
    w.help("Inventory search (/ in the inventory)")
    w.key("inventory_search.copy_uri")
    w.key("inventory_search.query")
    w.press("Enter")
    w.wait("1 match ·", "c Copy URI")
    w.key("inventory_search.cancel")
    w.key("inventory_search.sql")
    w.key("inventory_search.open")
    w.press("/")  # the last query again, now below registry/resnet50/ (keys relative to it)
    w.wait("pail — Search the inventory", Matches(r"[\d,]+ match"))
    w.key("inventory_search.close")
    w.key("inventory.stale")
    w.help("Plan from an inventory (z in the inventory)")
    w.key("inventory_plan.cancel")
    w.key("inventory_plan.lifecycle")
    w.key("inventory_plan.delete")
    w.key("inventory_plan.close")
    w.key("inventory.sort")
    w.key("inventory.reverse")
    w.key("inventory.close")

    # Every sub-screen went back with q or escape; q on the main screen quits.
    w.key("main.quit")

    missing = readme_binding_ids() - set(w.walked)
    assert not missing, f"binding ids the walk never pressed: {sorted(missing)}"
