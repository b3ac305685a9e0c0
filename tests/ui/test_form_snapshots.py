"""The one-line forms (stale filter ``z``, lifecycle rules ``L``): every field's value and
placeholder is drawn beside its label, at 80x24 and 120x40 (pytest-textual-snapshot; SVGs
in ``__snapshots__/``), and a Pilot test reads typed values back from the drawn screen.

The forms once had bordered 3-row inputs in 1-row rows: only the top border was drawn,
typed text never. The checks here read the rendered lines, not the widgets' values.
"""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from textual.widgets import Input

from pail.ui.app import PailApp
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.lifecycle import LifecycleScreen
from pail.ui.screens.stale_filter import FIELDS, StaleFilterScreen
from support.ui import (
    find,
    make_app,
    open_node,
    review_ready,
    run,
    s3_spec,
    seed_aged,
    select,
    settle,
    until,
)

SIZES = {"80x24": (80, 24), "120x40": (120, 40)}
RUNS = {
    "exp/run-01/model.ckpt": (48_000, 40),
    "exp/run-01/best/model.ckpt": (48_000, 40),
    "exp/run-02/model.ckpt": (52_000, 30),
    "exp/run-03/model.ckpt": (50_000, 3),
}
#: What the Pilot test types into each stale filter field, in the form's order.
TYPED = {
    "older_than": "30d",
    "larger_than": "1KiB",
    "smaller_than": "1GiB",
    "include": "*.ckpt",
    "exclude": "*/best/*",
    "regex": r"run-\d+",
    "keep_last": "2",
    "keep_best": "3",
    "metric": "val_loss",
    "mode": "min",
    "keep_tags": "pail.keep",
    "keep_names": "baseline*",
}


def screen_lines(app: PailApp) -> list[str]:
    """The screen as drawn, one string per terminal row (what the user sees)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=False).splitlines()


def line_with(lines: list[str], label: str) -> str:
    """The one drawn row that holds ``label``."""
    found = [line for line in lines if label in line]
    assert len(found) == 1, (label, found)
    return found[0]


def after(line: str, label: str) -> str:
    """What is drawn right of ``label`` on its row (blanks and padding stripped)."""
    return line.split(label, 1)[1].strip()


async def _to_exp(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", "art"))
    await select(pilot, find(app, "moto", "art", "exp/"))


async def _stale_form(pilot) -> StaleFilterScreen:
    await _to_exp(pilot)
    await pilot.press("z")
    await until(pilot, lambda: isinstance(pilot.app.screen, StaleFilterScreen), "filter form")
    await pilot.pause()
    return pilot.app.screen


def steady_cursors(screen) -> None:
    """Stop every field's cursor blinking (it is then always drawn): a capture on a loaded
    machine otherwise lands in either half of the 0.5 s blink."""
    for field in screen.query(Input):
        field.cursor_blink = False


async def _type_fields(pilot, values: dict[str, str], prefix: str) -> None:
    """Focus each field in turn and type its value key by key (as a user does)."""
    for name, text in values.items():
        field = pilot.app.screen.query_one(f"#{prefix}-{name}", Input)
        field.focus()
        await pilot.pause()
        await pilot.press(*text)
        assert field.value == text, (name, field.value)


async def _lifecycle(pilot, stale: dict[str, str] | None = None) -> LifecycleScreen:
    """From ``exp/``: (a stale filter with ``stale`` to the review and back, then) L."""
    app = pilot.app
    if stale is None:
        await _to_exp(pilot)
    else:
        await _stale_form(pilot)
        await _type_fields(pilot, stale, "stale")
        await pilot.click("#stale-ok")
        await review_ready(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, DeleteReviewScreen), "review closed")
    await pilot.press("L")
    await until(pilot, lambda: isinstance(app.screen, LifecycleScreen), "lifecycle screen")
    await settle(pilot)
    return app.screen


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("typed", [False, True], ids=["empty", "typed"])
def test_stale_filter_form(snap_compare, s3_endpoint, size, typed):
    seed_aged("art", RUNS)

    async def run_before(pilot):
        form = await _stale_form(pilot)
        # The first field's focus (its row tinted) is part of the image: wait for it.
        await until(pilot, lambda: form.focused is form.query_one("#stale-older_than"), "focus")
        if typed:
            await _type_fields(pilot, {"older_than": "7d", "include": "*.ckpt"}, "stale")
            runs = {"keep_last": "2", "keep_best": "3", "metric": "val_loss"}
            await _type_fields(pilot, runs, "stale")
        steady_cursors(pilot.app.screen)
        await settle(pilot)
        await pilot.pause()

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("typed", [False, True], ids=["empty", "typed"])
def test_lifecycle_form(snap_compare, s3_endpoint, size, typed):
    """Typed: the last stale filter's keep-newest-N and exclude fields are carried over
    (shown, refused with the reason) and noncurrent days typed on the screen."""
    seed_aged("art", RUNS)

    async def run_before(pilot):
        if typed:
            await _lifecycle(pilot, {"older_than": "7d", "exclude": "*/best/*", "keep_last": "1"})
            await _type_fields(pilot, {"noncurrent_days": "7"}, "lc")
        else:
            screen = await _lifecycle(pilot)
            # The focus lands on the first field a moment after the screen mounts (the
            # rules are read in a worker meanwhile): put it there, so the tint is not a race.
            await until(pilot, lambda: screen.focused is not None, "a focused field")
            screen.query_one("#lc-prefix").focus()
        steady_cursors(pilot.app.screen)
        await settle(pilot)
        await pilot.pause()

    app = make_app([s3_spec(s3_endpoint)])
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
def test_typed_stale_values_are_drawn_beside_their_labels(s3_endpoint, size):
    seed_aged("art", RUNS)

    async def body():
        app = make_app([s3_spec(s3_endpoint)])
        async with app.run_test(size=SIZES[size]) as pilot:
            screen = await _stale_form(pilot)
            lines = screen_lines(app)
            for name, label, hint in FIELDS:  # empty: each placeholder on its label's row
                assert after(line_with(lines, label), label).startswith(hint), (name, lines)
            await _type_fields(pilot, TYPED, "stale")
            await pilot.pause()
            lines = screen_lines(app)
            for name, label, _ in FIELDS:
                drawn = after(line_with(lines, label), label)
                assert drawn.startswith(TYPED[name]), (name, lines)
            # The whole form fits: the buttons are on screen too.
            assert any("Review…" in line for line in lines), lines
            assert app.screen is screen

    run(body())
