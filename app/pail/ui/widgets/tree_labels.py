"""How the bucket tree draws a row: a mark ("●") when marked for download, icon, name,
and after it a dim size (objects), the provider (connections), the filter, and a red
badge when the node's request failed.

Labels are :class:`rich.text.Text` built from sanitised names, never markup.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import NodeID, TreeNode

from pail.core.text import one_line
from pail.core.units import size_text
from pail.ui.nodes import NodeData

#: Drawn before the name of a marked node.
MARK = "● "


class NodeLabels(Tree[NodeData]):
    """Row drawing for :class:`pail.ui.widgets.bucket_tree.BucketTree` (its component
    classes ``bucket-tree--*`` are declared there).

    Textual internals, as Textual's own ``Tree.render_label`` reads them: ``node._label``
    (the processed ``Text``; the public ``label`` is typed ``str | Text``) and
    ``node._updates`` (a counter bumped on every change, the measurement cache key).
    Checked against Textual 8.2.8; tests/test_sdk_internals.py.
    """

    #: Cached row widths: node id -> (``node._updates`` when measured, cells); set by
    #: BucketTree.
    _widths: dict[NodeID, tuple[int, int]]

    def render_label(self, node: TreeNode[NodeData], base_style: Style, style: Style) -> Text:
        """Icon and name, plus dim size for objects and a red badge for errors."""
        data = node.data
        label = node._label.copy()
        if data is None:
            return label
        label.stylize(style)
        if not self.is_mounted:
            return label

        def part(component: str) -> Style:
            return self.get_component_rich_style(f"bucket-tree--{component}", partial=True)

        kind_component = {"loading": "placeholder", "note": "placeholder", "list": "more"}.get(
            data.kind, data.kind
        )
        label.stylize_before(part(kind_component))
        pieces: list[tuple[str, Style] | Text] = []
        if data.marked:
            pieces.append((MARK, part("mark")))
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
            pieces.append((icon, base_style))
        pieces.append(label)
        for text, component in _decorations(data):
            pieces.append((text, part(component) if component else base_style))
        return Text.assemble(*pieces)

    def get_label_width(self, node: TreeNode[NodeData]) -> int:
        """Width in cells of :meth:`render_label`'s result, without styling it and cached
        per node: Tree measures every row on each rebuild, 20,000 rows after 20 pages."""
        cached = self._widths.get(node.id)
        if cached is not None and cached[0] == node._updates:
            return cached[1]
        width = node._label.cell_len
        if node.data is not None and node.data.marked:
            width += cell_len(MARK)
        if node.allow_expand:
            width += cell_len(self.ICON_NODE)
        if node.data is not None:
            width += sum(cell_len(text) for text, _ in _decorations(node.data))
        self._widths[node.id] = (node._updates, width)
        return width

    def line_text(self, node: TreeNode[NodeData]) -> str:
        """The node's row as plain text (for tests and accessibility)."""
        return self.render_label(node, Style(), Style()).plain


def _decorations(data: NodeData) -> list[tuple[str, str]]:
    """Text drawn after a node's name, with its component class suffix ("" = none)."""
    out: list[tuple[str, str]] = []
    if data.kind == "object" and data.entry is not None and data.entry.size is not None:
        out.append((f"  {size_text(data.entry.size)}", "meta"))
    if data.kind == "connection":
        out.append((f"  {data.conn.spec.provider}", "meta"))
    usage = data.conn.usage.get((data.bucket or "", data.key)) if data.is_level else None
    if usage:
        out.append((f"  {usage}", "meta"))
    if data.filter:
        out.append((f"  filter: {one_line(data.filter)}", "meta"))
    if data.error is not None:
        out.append((" ", ""))
        out.append((f" {one_line(data.error.badge)} ", "badge"))
    return out
