"""The main screen's cleanup commands (a mixin of
:class:`~pail.ui.screens.main.MainScreen`, whose ``BINDINGS`` include
:data:`CLEANUP_BINDINGS`).

* ``s``: sizes of the bucket/prefix at the cursor (:class:`UsageScreen`); enter on a row
  opens that child prefix in the tree; sizes and ages then show in the tree.
* ``+`` marks every object and prefix of the level at the cursor; ``*`` inverts the marks
  of that level (space and ``u`` mark one / clear all).
* ``z``: the stale filter on the marks (or the bucket/prefix at the cursor), then the
  review; ``X``: review deleting the marks (or the node at the cursor) as they are.
  Review -> confirmation -> progress -> the affected levels are listed again.
* ``v``: versions of the object at the cursor, or the deleted objects under a prefix,
  with preview of old versions and restore (:class:`VersionsScreen`).
* ``L``: lifecycle rules of the bucket from the last stale filter (:class:`LifecycleScreen`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.binding import Binding

from pail.services.search import source_of
from pail.ui.cleanup_ops import DeleteTarget, SelectionError
from pail.ui.messages import DeleteRequest
from pail.ui.nodes import NodeData
from pail.ui.screens.delete_progress import DeleteProgressScreen
from pail.ui.screens.delete_review import DeleteReviewScreen
from pail.ui.screens.lifecycle import LifecycleScreen
from pail.ui.screens.stale_filter import FilterChoice, StaleFilterScreen
from pail.ui.screens.usage import UsageScreen
from pail.ui.screens.versions import VersionsScreen

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost as _Host
else:
    _Host = object  # a plain mixin at run time: see pail.ui.screens.main_host

CLEANUP_BINDINGS = [
    Binding(
        "s",
        "sizes",
        "Sizes",
        tooltip="Sizes of the bucket/prefix: child prefixes by size, count, age",
        id="cleanup.sizes",
    ),
    Binding(
        "plus",
        "mark_level",
        "Mark all",
        key_display="+",
        show=False,
        tooltip="Mark every object and prefix of this level",
        id="cleanup.mark_all",
    ),
    Binding(
        "asterisk",
        "invert_level",
        "Invert marks",
        key_display="*",
        show=False,
        tooltip="Invert the marks of this level",
        id="cleanup.invert",
    ),
    Binding(
        "z",
        "stale_filter",
        "Stale…",
        tooltip="Select stale objects by age, size, glob, regex; keep runs by last/best N; review",
        id="cleanup.stale",
    ),
    Binding(
        "X",
        "delete",
        "Delete…",
        key_display="X",
        tooltip="Review deleting the marks (or the node at the cursor) (shift+x)",
        id="cleanup.delete",
    ),
    Binding(
        "v",
        "versions",
        "Versions",
        show=False,
        tooltip="Versions of the object, or deleted objects under the prefix; restore",
        id="cleanup.versions",
    ),
    Binding(
        "L",
        "lifecycle",
        "Lifecycle",
        key_display="L",
        show=False,
        tooltip="Lifecycle rules from the stale filter: show, merge, apply (shift+l)",
        id="cleanup.lifecycle",
    ),
]

CLEANUP_ACTIONS = {b.action for b in CLEANUP_BINDINGS}


class CleanupActions(_Host):
    """Cleanup commands; see the module doc. Mixed into MainScreen; what it uses of the
    screen is :class:`~pail.ui.screens.main_host.MainHost`."""

    _stale_texts: dict[str, str] | None = None

    def _cursor_data(self) -> NodeData | None:
        return self.cursor_data()

    def _cursor_level(self) -> NodeData | None:
        """The bucket/prefix at the cursor, or the one holding the object at the cursor."""
        data = self._cursor_data()
        if data is not None and data.kind == "object":
            data = data.parent
        if data is None or data.kind not in ("bucket", "prefix") or data.conn.driver is None:
            return None
        return data

    def check_cleanup_action(self, action: str) -> bool | None:
        """Footer visibility of the cleanup commands (see ``MainScreen.check_action``)."""
        data = self._cursor_data()
        if action in ("sizes", "lifecycle"):
            return self._cursor_level() is not None
        if action in ("stale_filter", "delete"):
            return self.has_marks() or (
                data is not None and data.kind in ("object", "prefix", "bucket")
            )
        if action == "versions":
            return data is not None and data.kind in ("object", "prefix", "bucket")
        return True

    def _note(self, text: str) -> None:
        self.notify(text, severity="warning", markup=False)

    # -- sizes -------------------------------------------------------------------------

    def action_sizes(self) -> None:
        """Open the usage summary of the bucket/prefix at the cursor."""
        level = self._cursor_level()
        if level is None:
            self._note("Move to an open bucket or prefix to see its sizes.")
            return

        def closed(child: str | None) -> None:
            self.bucket_tree.refresh()  # sizes now show after the prefixes' names
            if child is not None:
                self._reveal(level, child)

        self.app.push_screen(UsageScreen(level, self._clock), callback=closed)

    def _reveal(self, level: NodeData, key: str) -> None:
        """Expand ``level`` and put the cursor on its child ``key`` once listed."""
        node = self.bucket_tree.node_for(level)
        if node is None:
            return
        if not node.is_expanded:
            node.expand()

        def find(tries: int = 50) -> None:
            for child in node.children:
                if child.data is not None and child.data.key == key:
                    self.bucket_tree.move_cursor(child)
                    return
            if tries:
                self.set_timer(0.05, lambda: find(tries - 1))

        self.call_after_refresh(find)

    # -- marks -------------------------------------------------------------------------

    def _level_rows(self) -> list[NodeData]:
        level = self.bucket_tree.filter_level()
        if level is None or level.data is None:
            return []
        return [c for c in level.data.visible_children() if c.kind in ("object", "prefix")]

    def action_mark_level(self) -> None:
        """Mark every object and prefix of the level at the cursor."""
        for data in self._level_rows():
            self.bucket_tree.set_marked(data, True)

    def action_invert_level(self) -> None:
        """Invert the marks of the level at the cursor."""
        for data in self._level_rows():
            self.bucket_tree.set_marked(data, not data.marked)

    # -- delete ------------------------------------------------------------------------

    def _target(self) -> DeleteTarget | None:
        try:
            marks = self.marked_items()
            return DeleteTarget.from_selection(marks, self._cursor_data())
        except SelectionError as exc:
            self._note(str(exc))
            return None

    def action_stale_filter(self) -> None:
        """Ask for a stale filter, then review what it selects."""
        target = self._target()
        if target is None:
            return

        def chosen(choice: FilterChoice | None) -> None:
            if choice is not None:
                self._stale_texts = choice.texts
                self.review_delete(target, choice)

        self.app.push_screen(StaleFilterScreen(target.uri, self._stale_texts), callback=chosen)

    def action_delete(self) -> None:
        """Review deleting the marks (or the node at the cursor) as they are."""
        target = self._target()
        if target is not None:
            self.review_delete(target, None)

    def review_delete(self, target: DeleteTarget, choice: FilterChoice | None) -> None:
        """Plan and review; on a confirmed delete, run it and list the levels again."""
        filters = choice.filters if choice is not None else None
        if filters is not None and filters.now is None:  # ages count from the app's clock
            filters = replace(filters, now=self._clock())

        def reviewed(request: DeleteRequest | None) -> None:
            if request is not None:
                self.run_delete(request, target)

        screen = DeleteReviewScreen(target, filters, self._clock)
        self.app.push_screen(screen, callback=reviewed)

    def run_delete(self, request: DeleteRequest, target: DeleteTarget) -> DeleteProgressScreen:
        """Show the progress screen running ``request``; afterwards the affected levels
        are listed again (a dry run changes nothing, so nothing is re-listed)."""

        def done(_report: object) -> None:
            if request.dry_run:
                return
            base, usage = request.plan.base, target.conn.usage
            # cached walks of what changed are out of date too (the search's cache)
            self.pail_app.listing_cache.drop(source_of(target.conn.spec), target.bucket, base)
            for bucket, prefix in list(usage):  # sizes of what changed are out of date
                if bucket == target.bucket and (prefix.startswith(base) or base.startswith(prefix)):
                    del usage[(bucket, prefix)]
            for level in target.levels_to_relist(request.plan.whole_prefixes):
                self.bucket_tree.relist(level)

        screen = DeleteProgressScreen(request)
        self.app.push_screen(screen, callback=done)
        return screen

    # -- versions, lifecycle -------------------------------------------------------------

    def action_versions(self) -> None:
        """Versions of the object at the cursor, or deleted objects under the prefix."""
        data = self._cursor_data()
        if data is None or data.kind not in ("object", "prefix", "bucket"):
            return
        if data.conn.driver is None or data.bucket is None:
            self._note("The connection is not open yet.")
            return

        def closed(changed: bool | None) -> None:
            if changed:
                level = data if data.is_level else data.parent
                if level is not None:
                    self.bucket_tree.relist(level)

        self.app.push_screen(VersionsScreen(data, self._clock), callback=closed)

    def action_lifecycle(self) -> None:
        """Lifecycle rules of the bucket, with a rule from the last stale filter."""
        level = self._cursor_level()
        if level is None:
            self._note("Move to a bucket or prefix to see its lifecycle rules.")
            return
        self.app.push_screen(LifecycleScreen(level, self._stale_texts or {}))
