"""The main screen's search command (a mixin of :class:`~pail.ui.screens.main.MainScreen`,
whose ``BINDINGS`` include :data:`SEARCH_BINDINGS`).

* ``ctrl+f``: search the bucket/prefix at the cursor (or the level holding the object at
  the cursor) in :class:`~pail.ui.screens.search.SearchScreen`. (``f``/``F`` are taken:
  ``F`` shows failing nodes only; ``/`` filters the loaded rows of one level.)
* Closing it: enter on a match expands the prefixes on the way to it and puts the tree's
  cursor on it (the detail pane follows); in a big level (one shown in the level list,
  :mod:`pail.ui.widgets.level_list`) the list opens on it instead, loading every page
  first when the match is not listed yet; marked matches become marks of the tree, so
  ``d`` and ``X`` (pressed in the search screen or later in the tree) download them or
  review deleting them through the usual flows.

The session's :class:`~pail.services.search.ListingCache` is the app's
(``PailApp.listing_cache``), so every search of the session shares it; a delete drops the
cached listings it touches (``CleanupActions.run_delete``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from textual.binding import Binding
from textual.widgets.tree import TreeNode

from pail.core.text import one_line
from pail.services.search import ListingCache, source_of
from pail.ui.nodes import NodeData
from pail.ui.screens.search import SearchOutcome, SearchScreen
from pail.ui.widgets.level_list import LevelList, LevelListing, OpenListing

if TYPE_CHECKING:
    from pail.ui.screens.main_host import MainHost as _Host
else:
    _Host = object  # a plain mixin at run time: see pail.ui.screens.main_host


class _Flows(Protocol):
    """The main screen's download (MainActions) and delete (CleanupActions) commands."""

    def action_download(self) -> None: ...
    def action_delete(self) -> None: ...


SEARCH_BINDINGS = [
    Binding(
        "ctrl+f",
        "search",
        "Search",
        key_display="ctrl+f",
        show=False,  # the footer is full; ? lists it
        tooltip="Search the bucket/prefix: key glob or substring, size>…, age>…; jump or mark",
        id="node.search",
    ),
]

SEARCH_ACTIONS = {b.action for b in SEARCH_BINDINGS}

#: Looks (every :data:`_STEP_SECONDS`) at a level being listed on the way to a match,
#: before giving up; a new page arriving starts the count again.
_STEP_TRIES = 200
_STEP_SECONDS = 0.05


class SearchActions(_Host):
    """The search command; see the module doc. Mixed into MainScreen."""

    _search_queries: dict[tuple[str, str, str], str] | None = None

    @property
    def listing_cache(self) -> ListingCache:
        """The session's listing cache (the app's: every search of the session shares it)."""
        return self.pail_app.listing_cache

    def _search_level(self) -> NodeData | None:
        node = self.bucket_tree.cursor_node
        data = node.data if node is not None else None
        if data is not None and not data.is_level:
            data = data.parent
        if data is None or data.kind not in ("bucket", "prefix") or data.conn.driver is None:
            return None
        return data

    def check_search_action(self, action: str) -> bool | None:
        """Footer visibility (see ``MainScreen.check_action``)."""
        return self._search_level() is not None

    def action_search(self) -> None:
        """Open the search screen on the bucket/prefix at the cursor."""
        level = self._search_level()
        if level is None:
            text = "Move to an open bucket or prefix to search it."
            self.notify(text, severity="warning", markup=False)
            return
        queries = self._search_queries
        if queries is None:
            queries = self._search_queries = {}
        where = (source_of(level.conn.spec), level.bucket or "", level.key)

        def closed(outcome: SearchOutcome | None) -> None:
            if outcome is None:
                return
            queries[where] = outcome.query
            self._adopt_marks(level, outcome)
            if outcome.action == "jump" and outcome.key is not None:
                self.reveal_key(level, outcome.key)
            elif outcome.action == "download":
                cast(_Flows, self).action_download()
            elif outcome.action == "delete":
                cast(_Flows, self).action_delete()

        screen = SearchScreen(level, self._clock, self.listing_cache, query=queries.get(where, ""))
        self.app.push_screen(screen, callback=closed)

    def _adopt_marks(self, level: NodeData, outcome: SearchOutcome) -> None:
        """Mark the search's marked matches in the tree (as objects of ``level``: a delete
        lists that level again, and listing it again drops them)."""
        tree = self.bucket_tree
        have = {(d.conn is level.conn, d.bucket, d.key) for d in tree.marks.values()}
        for entry in outcome.marked:
            if (True, level.bucket, entry.key) in have:
                continue
            data = NodeData("object", level.conn, entry.name, level.bucket, entry.key, entry)
            data.parent = level
            tree.set_marked(data, True)
        if outcome.marked:
            total = len(tree.marks)
            self.notify(f"{total:,} marked in the tree (u clears)", markup=False)

    # -- jumping to a match -------------------------------------------------------------

    def reveal_key(self, level: NodeData, key: str) -> None:
        """Expand the prefixes from ``level`` down to ``key`` (listing them, and further
        pages, as needed), then put the tree's cursor on ``key``."""
        node = self.bucket_tree.node_for(level)
        if node is None:
            self.notify("The searched level is no longer in the tree.", markup=False)
            return
        self._reveal_step(node, key, _STEP_TRIES, -1)

    def _reveal_step(self, node: TreeNode[NodeData], key: str, tries: int, seen: int) -> None:
        tree = self.bucket_tree
        data = node.data
        if data is None:
            return
        if not node.is_expanded:
            node.expand()  # lists it (in a worker) when not listed yet
        rest = key[len(data.key) :]
        cut = rest.find("/")
        target = key if cut < 0 or cut + 1 == len(rest) else data.key + rest[: cut + 1]
        listing = tree.listings.get(id(data))
        if listing is not None:  # a big level: its rows are in the level list, not nodes
            if not self._reveal_in_listing(node, listing, key, target):
                return
        elif not data.loading and data.loaded:
            for child in node.children:
                found = child.data
                if found is None or found.key != target or found.kind not in ("object", "prefix"):
                    continue
                if target == key:
                    tree.focus()
                    self.call_after_refresh(tree.move_cursor, child)
                else:
                    self._reveal_step(child, key, _STEP_TRIES, -1)
                return
            if any(c.key == target for c in data.children):  # hidden by the level's filter
                tree.set_filter(node, "")
            elif data.has_more:
                tree.load_more(node)
            else:
                why = (
                    f"not in the tree any more: {data.error.badge}"
                    if data.error
                    else ("not found: deleted since it was listed? (r in the search re-lists)")
                )
                self.notify(f"{one_line(key)}: {why}", severity="warning", markup=False)
                return
        count = len(listing.rows) if listing is not None else len(data.children)
        if count != seen:
            tries = _STEP_TRIES  # a page came in: keep going
        if tries <= 0:
            self.notify(f"{one_line(key)}: the listing did not answer in time", markup=False)
            return
        self.set_timer(_STEP_SECONDS, lambda: self._reveal_step(node, key, tries - 1, count))

    def _reveal_in_listing(
        self, node: TreeNode[NodeData], listing: LevelListing, key: str, target: str
    ) -> bool:
        """One step into the big level ``node``: a prefix on the way gets a tree node
        (and the walk goes on from it); the key itself is shown in the level list, its
        detail beside. A row not listed yet: every page is loaded. Returns True to look
        again later, False when done (found, or not there)."""
        row = listing.rows.find(target)
        if row is None:
            if not listing.has_more and not listing.fetching:
                why = "not found: deleted since it was listed? (r in the search re-lists)"
                self.notify(f"{one_line(key)}: {why}", severity="warning", markup=False)
                return False
            if not listing.load_all:  # load every page, shown in the list's progress line
                self.post_message(OpenListing(listing))
                self.call_after_refresh(self.level_list.action_load_all)
            return True
        if target != key:
            child = self.bucket_tree.open_child(listing.level, listing.node_for_row(row))
            if child is not None:
                self._reveal_step(child, key, _STEP_TRIES, -1)
            return False
        self.post_message(OpenListing(listing))

        def show() -> None:
            level_list = self.level_list
            if listing.view.position_of(key) is None:  # hidden by the list's filter
                level_list.set_filter("")
            position = listing.view.position_of(key)
            if position is not None:
                level_list.move_to(position)
                level_list.focus()
                self.post_message(LevelList.Chosen(listing.node_for_row(row)))

        self.call_after_refresh(show)
        return False
