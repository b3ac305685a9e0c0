"""The inventory view's widgets on their own: the level table's order and cells, the bar
charts' data (what is drawn, not its pixels) and their unit."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual.app import App, ComposeResult

from pail.services.inventory.model import AgeBucket, ClassShare, Level, LevelRow
from pail.ui.widgets.inventory_charts import BarChart, age_bars, class_bars, scale_for
from pail.ui.widgets.inventory_table import InventoryTable, row_cells, sorted_rows
from support.ui import run

CREATED = datetime(2026, 11, 28, 2, 0, tzinfo=timezone.utc)


def _row(key: str, size: int, days: float, *, objects: int = 1) -> LevelRow:
    when = CREATED - timedelta(days=days)
    prefix = key.endswith("/")
    return LevelRow(key, prefix, objects, size, when, when, None if prefix else "STANDARD")


ROWS = [
    _row("a/", 500, 3, objects=20),
    _row("b/", 9000, 40, objects=2),
    _row("c.txt", 70, 1),
    _row("d.bin", 100_000, 400),
]


def test_sorted_rows_keep_prefixes_first_by_name_and_sort_all_by_a_field():
    def keys(rows):
        return [r.key for r in rows]

    assert keys(sorted_rows(ROWS[::-1], "name", descending=False)) == ["a/", "b/", "c.txt", "d.bin"]
    assert keys(sorted_rows(ROWS, "name", descending=True)) == ["b/", "a/", "d.bin", "c.txt"]
    assert keys(sorted_rows(ROWS, "size", descending=True)) == ["d.bin", "b/", "a/", "c.txt"]
    assert keys(sorted_rows(ROWS, "objects", descending=True)) == ["a/", "b/", "c.txt", "d.bin"]
    assert keys(sorted_rows(ROWS, "newest", descending=True)) == ["c.txt", "a/", "b/", "d.bin"]


def test_cells_say_a_prefix_counts_and_ages_at_the_reports_time():
    name, objects, size, newest, storage = row_cells(ROWS[0], CREATED)
    assert (name.plain, objects.plain, size.plain) == ("a/", "20", "500 B")
    assert newest == "2026-11-25 02:00 (3d)"  # three days before the report, not before now
    assert storage.plain == ""
    name, objects, _, _, storage = row_cells(_row("x/\x1b[31mred", 1, 0), CREATED)
    assert "\x1b" not in name.plain and objects.plain == "" and storage.plain == "STANDARD"


def test_bars_and_their_unit():
    buckets = [AgeBucket("0–1 d", 0, 1, 2, 10), AgeBucket("≥1 d", 1, None, 0, 0)]
    assert [(b.label, b.objects, b.bytes) for b in age_bars(buckets)] == [
        ("0–1 d", 2, 10),
        ("≥1 d", 0, 0),
    ]
    shares = [ClassShare("GLACIER", 3, 5 << 30), ClassShare("", 1, 1)]
    assert [b.label for b in class_bars(shares)] == ["GLACIER", "(none)"]
    assert scale_for(5 << 30) == (1 << 30, "GiB")
    assert scale_for(1023) == (1, "bytes")
    assert scale_for(0) == (1, "bytes")


class _Charts(App[None]):
    def compose(self) -> ComposeResult:
        yield InventoryTable(id="t")
        yield BarChart("storage class", id="c")


def test_table_pages_append_and_sorting_keeps_the_cursor_row():
    async def body():
        app = _Charts()
        async with app.run_test(size=(100, 30)) as pilot:
            table = app.query_one(InventoryTable)
            table.show_level(Level("", ROWS[:2], children=4, objects=24, bytes=0), CREATED)
            assert not table.complete
            table.add_page(Level("", ROWS[2:], children=4, objects=24, bytes=0, offset=2))
            table.add_page(Level("", ROWS[2:], children=4, objects=24, bytes=0, offset=2))
            assert table.complete and table.row_count == 4  # a page twice: its rows once
            table.move_cursor(row=1)  # b/
            table.sort_by("size")
            await pilot.pause()
            assert table.sort_words() == "sorted by size"
            assert table.cursor_level_row().key == "b/"  # type: ignore[union-attr]
            assert table.cursor_row == 1  # d.bin, then b/
            table.reverse()
            assert table.sort_words() == "sorted by size, reversed"

            chart = app.query_one(BarChart)
            chart.show(class_bars([ClassShare("STANDARD", 2, 3 << 20)]))
            assert chart.heading == "storage class · MiB"
            chart.clear_bars("stopped")
            assert chart.heading == "storage class: stopped" and chart.bars == []

    run(body())
