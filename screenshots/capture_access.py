"""Permission diagnostics screenshots, called by ``capture.py`` on the running demo store:

* ``access-check.svg``: the read-only connection's access check (``a``) on
  ``ml-artifacts``, the GetObject row selected: denied (the policy allows reading
  ``mlflow/1/`` only), its error fields, explanation and the policy that grants it;
* ``explanation.svg``: the same identity reading ``notes/README.md`` (outside
  ``mlflow/1/``): the 403 in the detail pane with what it means.
"""

from __future__ import annotations

import os

from pail.config.store import ConnectionStore
from pail.ui.app import PailApp
from pail.ui.screens.access_check import AccessCheckScreen
from pail.ui.widgets.access_table import AccessTable

HERE = os.path.dirname(os.path.abspath(__file__))


async def capture_access(store, size: tuple[int, int], saved: ConnectionStore) -> None:
    """Save ``access-check.svg`` and ``explanation.svg`` (see the module doc), with the
    app opened as ``pail demo`` opens it (``saved``: the demo's config file)."""
    from capture import goto, settle, wait_for  # the script's own helpers

    app = PailApp(store.connections, store=saved)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await goto(pilot, "demo-readonly", "ml-artifacts", expand=False)
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AccessCheckScreen))
        screen = app.screen
        await wait_for(pilot, lambda: screen.report is not None, rounds=6000)
        screen.query_one(AccessTable).select("GetObject")
        await settle(pilot)
        app.save_screenshot("access-check.svg", HERE)
        await pilot.press("escape")
        await settle(pilot)
        await goto(pilot, "demo-readonly", "ml-artifacts", "notes/", "README.md")
        app.save_screenshot("explanation.svg", HERE)
