"""The main screen's permission diagnostics (a mixin of
:class:`~pail.ui.screens.main.MainScreen`, whose ``BINDINGS`` include
:data:`ACCESS_BINDINGS`).

* Who am I: when a connection's driver opens, the opening worker asks its identity (STS
  GetCallerIdentity, the GCS credentials; :func:`pail.services.access.check.check_identity`)
  and shown in the status bar and the connection's detail. A denied or missing identity
  call only says "identity: unavailable — reason": browsing never waits for it.
* ``a``: the access check screen for the bucket/prefix at the cursor (an object: its
  level).
* ``F``: show only failing nodes and their ancestors; the status bar counts them.
* ``g``: reopen the connection in the bucket's region (a wrong-region error, or a bucket
  whose GetBucketLocation names another region than the connection signs for).
* The tree's tooltip follows the cursor: a failed node's error and hint.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.widgets import Tree

from pail.core.text import one_line
from pail.credentials import Resolved
from pail.drivers.base import StorageDriver
from pail.services.access.check import check_identity
from pail.ui.access_text import count_failing, wrong_region
from pail.ui.failure import app_hint, as_storage_error
from pail.ui.messages import IdentityChecked, LevelUpdated, RegionReopened
from pail.ui.nodes import Connection, NodeData
from pail.ui.screens.access_check import AccessCheckScreen, AccessTarget
from pail.ui.workers import start_io

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost as _Host
else:
    _Host = object  # a plain mixin at run time: see pail.ui.screens.main_host

ACCESS_BINDINGS = [
    Binding(
        "a",
        "access_check",
        "Access",
        tooltip="Access check: what this identity may do on the bucket/prefix, and why not",
        id="node.access_check",
    ),
    Binding(
        "F",
        "failing_only",
        "Failing only",
        key_display="F",
        show=False,
        tooltip="Show only the nodes whose last request failed, with their parents (shift+f)",
        id="tree.failing_only",
    ),
    Binding(
        "g",
        "reopen_region",
        "Reopen in region",
        tooltip="Reopen the connection in the bucket's own region (this session only)",
        id="node.reopen_region",
    ),
]

#: Actions whose footer visibility :meth:`AccessActions.check_access_action` decides.
ACCESS_ACTIONS = ("access_check", "reopen_region")


def tooltip_for(data: NodeData | None) -> str | None:
    """The tree's tooltip for the node at the cursor: its error and hint, else none."""
    if data is None or data.error is None:
        return None
    error = data.error
    head = f"{error.badge} on {error.operation}" if error.operation else error.badge
    return one_line(head) + "\n" + one_line(app_hint(error))


class AccessActions(_Host):
    """Identity, access check, failing-only and reopen-in-region; see the module doc.
    Mixed into MainScreen; what it uses of the screen is
    :class:`~pail.ui.screens.main_host.MainHost`."""

    def _cursor_data(self) -> NodeData | None:
        node = self.bucket_tree.cursor_node
        return node.data if node is not None else None

    def check_access_action(self, action: str) -> bool | None:
        """Footer visibility of these commands (see ``MainScreen.check_action``)."""
        if action == "access_check":
            data = self._cursor_data()
            return data is not None and data.kind != "connection"
        if action == "reopen_region":
            return wrong_region(self._cursor_data(), self.detail.bucket_region) is not None
        return True

    def reopen_connection_at_cursor(self) -> bool:
        """On a connection node, reopen it (credentials and identity resolved again, its
        buckets re-listed) and return True; elsewhere return False."""
        data = self._cursor_data()
        if data is None or data.kind != "connection":
            return False
        alerted = data.conn.alerted  # a retry is not a new opening: no second modal
        self.bucket_tree.reopen_connection(data.conn.spec.name, data.conn.spec)
        data.conn.alerted = alerted
        self.status.show(data.conn)
        return True

    # -- who am I --------------------------------------------------------------------

    def identify(self, conn: Connection, driver: StorageDriver) -> None:
        """Ask who ``conn``'s requests are signed as (blocking: call it in a worker) and
        keep the answer on ``conn``; never raises. Runs in the connection's opening
        worker, before its first listing, so the identity is known when rows show."""
        try:
            identity, error = check_identity(driver)
        except Exception as exc:  # an unexpected failure still only says "unavailable"
            identity, error = None, as_storage_error(exc, operation="GetCallerIdentity")
        conn.identity, conn.identity_error = identity, error  # plain fields, no reactive
        self.post_message(IdentityChecked(conn, driver, identity, error))

    def on_identity_checked(self, message: IdentityChecked) -> None:
        conn = message.conn
        shown = self.detail.data
        if shown is not None and shown.conn is conn:
            self.status.show(conn)
            if shown.kind == "connection":
                self.detail.redraw(preview=False)

    # -- access check ----------------------------------------------------------------

    def action_access_check(self) -> None:
        """Open the access check for the bucket/prefix at the cursor."""
        data = self._cursor_data()
        if data is not None and not data.is_level and data.parent is not None:
            data = data.parent  # an object or placeholder: its bucket/prefix
        if data is None or data.kind == "connection" or data.bucket is None:
            self.notify("Move to a bucket or prefix to check access there.", markup=False)
            return
        conn = data.conn
        if conn.driver is None:
            self.notify("The connection is not open yet.", markup=False)
            return
        target = AccessTarget(
            uri=data.uri,
            bucket=data.bucket,
            prefix=data.key,
            driver=conn.driver,
            resolved=conn.resolved,
            connection=conn.spec.name,
        )
        self.app.push_screen(AccessCheckScreen(target))

    # -- failing only ----------------------------------------------------------------

    def action_failing_only(self) -> None:
        """Toggle showing only failing nodes (and their ancestors)."""
        tree = self.bucket_tree
        tree.set_failing_only(not tree.failing_only)
        self.update_failing()
        state = "on" if tree.failing_only else "off"
        self.notify(f"Failing only: {state}", markup=False)

    def update_failing(self) -> None:
        """Recount failing nodes for the status bar."""
        roots = [n.data for n in self.bucket_tree.root.children if n.data is not None]
        self.status.set_failing(count_failing(roots), self.bucket_tree.failing_only)

    def on_level_updated(self, message: LevelUpdated) -> None:
        self.update_failing()
        shown = self.detail.data
        if shown is not None and shown.conn is message.target.conn:
            self.status.show(shown.conn)  # the identity may have come with the listing

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[NodeData]) -> None:
        self.bucket_tree.tooltip = tooltip_for(event.node.data)

    # -- reopen in region ------------------------------------------------------------

    def action_reopen_region(self) -> None:
        """Reopen the connection at the cursor in its bucket's region (this session)."""
        data = self._cursor_data()
        region = wrong_region(data, self.detail.bucket_region)
        if data is None or region is None:
            return
        spec = replace(data.conn.spec, region=region)
        resolver, factory = self._resolver, self._driver_factory

        conn = data.conn

        def work() -> RegionReopened:
            resolved = resolver(spec) if resolver is not None else Resolved(spec, "as given")
            driver = factory(resolved.spec)
            self.identify(conn, driver)
            return RegionReopened(data, region, resolved, driver)

        self.notify(f"Reopening {one_line(data.conn.spec.name)} in {region}…", markup=False)
        start_io(self, work, target=None, generation=0, group="reopen-region")

    def on_region_reopened(self, message: RegionReopened) -> None:
        conn = message.target.conn
        conn.spec = replace(conn.spec, region=message.region)
        conn.resolved, conn.driver = message.resolved, message.driver
        node = self.bucket_tree.node_for(message.target)
        if node is not None:
            self.bucket_tree.move_cursor(node)
        self.action_refresh_node()
        self.status.show(conn)
