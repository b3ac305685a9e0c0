"""Marks on the bucket tree: space marks the object or prefix under the cursor (and
moves down a row), ``u`` clears every mark; ``d`` then downloads the marked items.

Marks live on the nodes' data (:attr:`pail.ui.nodes.NodeData.marked`), so they survive
"load more" and filtering (which rebuild rows from the data), and are dropped when the
level holding them is listed again (its data is replaced). Every change posts
:class:`~pail.ui.messages.MarksChanged` (the status bar counts the marks).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets.tree import TreeNode, UnknownNodeID

from pail.ui.messages import MarksChanged
from pail.ui.nodes import NodeData
from pail.ui.widgets.tree_labels import NodeLabels


class MarkedTree(NodeLabels):
    """Node lookup and marks for :class:`pail.ui.widgets.bucket_tree.BucketTree`."""

    BINDINGS = [
        # Replaces Tree's space = toggle expand (enter and right still expand).
        Binding(
            "space",
            "toggle_mark",
            "Mark",
            show=False,  # the footer keeps room for the commands; ? lists it
            tooltip=(
                "Mark / unmark the object or prefix at the cursor "
                "(for d, F5, F6, X: download, copy, move, delete)"
            ),
            id="tree.mark",
        ),
        Binding(
            "u",
            "clear_marks",
            "Unmark all",
            tooltip="Clear every mark",
            id="tree.clear_marks",
        ),
    ]

    def __init__(self, *args, **kwargs) -> None:
        #: Marked nodes' data, in the order they were marked.
        self.marks: dict[int, NodeData] = {}
        super().__init__(*args, **kwargs)

    def node_for(self, data: NodeData) -> TreeNode[NodeData] | None:
        """The tree node currently drawing ``data``, if it is on screen."""
        if data.node_id is None:
            return None
        try:
            node = self.get_node_by_id(data.node_id)
        except UnknownNodeID:
            return None
        return node if node.data is data else None

    def action_toggle_mark(self) -> None:
        """Mark or unmark the object/prefix under the cursor, then move down a row."""
        node = self.cursor_node
        if node is None or node.data is None or node.data.kind not in ("object", "prefix"):
            return
        self.set_marked(node.data, not node.data.marked)
        self.action_cursor_down()

    def action_clear_marks(self) -> None:
        """Unmark everything."""
        for data in list(self.marks.values()):
            self.set_marked(data, False)

    def set_marked(self, data: NodeData, marked: bool) -> None:
        """Mark or unmark ``data`` and redraw its row if it is on screen."""
        data.marked = marked
        if marked:
            self.marks[id(data)] = data
        else:
            self.marks.pop(id(data), None)
        node = self.node_for(data)
        if node is not None:
            node.refresh()
        self.post_message(MarksChanged())
        if self.is_attached:
            self.screen.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ "Unmark all" shows only while something is marked."""
        if action == "clear_marks":
            return bool(self.marks)
        return True

    def _drop_marks_under(self, level: NodeData) -> None:
        for data in list(self.marks.values()):
            if data.is_under(level):
                self.set_marked(data, False)
