"""What the search tests share (tests/ui/test_search_screen.py, test_search_ui.py): the
runs they seed (key -> (size in bytes, age in days)), an app whose driver can hold back
listings, the walk to ``art/exp/`` in the tree, and the keys of the result table."""

from __future__ import annotations

from textual.widgets import DataTable

from pail.drivers.registry import open_driver
from pail.ui.screens.search import SearchScreen
from support.ui import GatedDriver, find, make_app, open_node, s3_spec, select, settle

RUNS = {
    "exp/run-01/model.ckpt": (48_000, 40),
    "exp/run-01/train.log": (3_000, 40),
    "exp/run-02/model.ckpt": (52_000, 30),
    "exp/run-02/train.log": (2_500, 30),
    "exp/run-03/model.ckpt": (50_000, 12),
    "exp/run-04/model.ckpt": (51_000, 3),
    "exp/run-04/metrics.json": (300, 2),
    "exp/notes.md": (120, 1),
}
CKPTS = {k for k in RUNS if k.endswith(".ckpt")}


def gated_app(endpoint: str, prefixes: tuple[str, ...] = (), refuse_flat: tuple[str, ...] = ()):
    """An app whose driver holds back listings of ``prefixes`` until ``gate`` is set, and
    fails the recursive first page of a search of ``refuse_flat``."""
    drivers: list[GatedDriver] = []

    def factory(spec):
        driver = GatedDriver(open_driver(spec), prefixes=prefixes, refuse_flat=refuse_flat)
        drivers.append(driver)
        return driver

    return make_app([s3_spec(endpoint)], factory=factory), drivers


async def to_exp(pilot) -> None:
    app = pilot.app
    await settle(pilot)
    await open_node(pilot, find(app, "moto", "art"))
    await select(pilot, find(app, "moto", "art", "exp/"))


def row_keys(screen: SearchScreen) -> list[str]:
    table = screen.query_one(DataTable)
    return [str(key.value) for key in table.rows]
