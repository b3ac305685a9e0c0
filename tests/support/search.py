"""What the search tests share (tests/ui/test_search_screen.py, test_search_ui.py): the
runs they seed (key -> (size in bytes, age in days)), an app whose driver can hold back
listings, the walk to ``art/exp/`` in the tree, and the keys of the result table."""

from __future__ import annotations

from textual.widgets import DataTable

from pail.drivers.registry import open_driver
from pail.ui.screens.search import SearchScreen
from support.ui import GatedDriver, find, make_app, open_node, s3_spec, select, settle, until

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


#: Matches at the level, in child prefixes and deeper; non-matches by name and by size
#: (the server matrix's search test, tests/matrix/).
SEARCHED = {
    **{f"runs/run-{r}/ckpt-{i}.pt": b"x" * (i + 2) for r in range(3) for i in range(4)},
    "runs/notes.pt": b"nn",
    "runs/run-1/deep/x.pt": b"dd",
    "runs/run-1/log.txt": b"log",
    "runs/run-2/empty.pt": b"e",
    "other/y.pt": b"oo",
}


def check_search_finds_every_match_once(driver, bucket: str) -> None:
    """``*.pt size>1`` under ``runs/`` of a bucket holding :data:`SEARCHED`, in 3-key pages
    (the level, each child prefix and the first recursive page all page): every match
    exactly once, every key under ``runs/`` examined once."""
    from pail.services.search import BucketSearch, parse_query

    search = BucketSearch(driver, bucket, "runs/", parse_query("*.pt size>1"), page_size=3)
    final = search.run()
    assert final.complete and final.error is None, final
    found = [e.key for e in search.matches_since(0)]
    expected = [k for k, v in SEARCHED.items() if k.startswith("runs/") and k.endswith(".pt")]
    expected = [k for k in expected if len(SEARCHED[k]) > 1]
    assert sorted(found) == sorted(expected) and len(found) == len(set(found))
    assert final.keys_examined == sum(k.startswith("runs/") for k in SEARCHED)


async def wait_for_search(pilot, query: str | None = None) -> SearchScreen:
    """Wait for the search screen to be on top; type ``query`` and enter (if given)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, SearchScreen), "search screen")
    screen = app.screen
    assert isinstance(screen, SearchScreen)
    if query is not None:
        await pilot.press(*query, "enter")
    return screen
