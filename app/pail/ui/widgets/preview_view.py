"""The preview part of the detail pane: a heading with what was read, then the preview.

Text-like previews are one :class:`~textual.widgets.Static` of Rich renderables
(:mod:`pail.ui.preview_render`); images add textual-image's half-cell widget
(:mod:`pail.ui.image_support`), sized to the pane's width and at most
:data:`MAX_IMAGE_ROWS` rows, keeping the picture's aspect ratio.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from pail.core.units import size_with_bytes
from pail.services.previews import ImagePreview, PreviewResult
from pail.ui import image_support
from pail.ui.preview_render import StyleFor, preview_body, summary_line

#: Most rows an image takes in the pane.
MAX_IMAGE_ROWS = 18


class PreviewView(Vertical):
    """Shows one preview (or a waiting line, or an error block) for the detail pane.

    Args:
        style: named styles of the pane ("title", "label", "dim", "error").
    """

    def __init__(self, style: StyleFor, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._style = style
        self._renderable: RenderableType = Text("")
        self._picture: Any = None
        self.result: PreviewResult | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="preview-text")

    def show(self, renderable: RenderableType) -> None:
        """Show a plain renderable (waiting line, error block, nothing)."""
        self.result = None
        self._picture = None
        self._set(renderable)
        self._drop_image()

    def show_result(
        self, result: PreviewResult, key: str, picture: Any = None, problem: str = ""
    ) -> None:
        """Show ``result`` of object ``key``; ``picture`` is the decoded image (a PIL image
        from :func:`pail.ui.image_support.decode_thumbnail`) for an image preview, or
        ``problem`` says why there is none."""
        self.result = result
        self._picture = picture
        heading = Text.assemble(
            "\n",
            ("Preview", self._style("title")),
            "  ",
            (summary_line(result), self._style("dim")),
        )
        if isinstance(result, ImagePreview):
            body: RenderableType = self._image_facts(result, problem)
        else:
            body = preview_body(result, key, self._style)
        self._set(Group(heading, body))
        self._drop_image()
        if picture is not None and image_support.HalfcellImage is not None:
            widget = image_support.HalfcellImage(picture, id="preview-image")
            self._size_image(widget)
            self.mount(widget)

    def renderable(self) -> RenderableType:
        """What the text part shows (for :meth:`DetailPane.as_text`)."""
        return self._renderable

    @property
    def image(self) -> Any:
        """The image widget on show, if any."""
        found = self.query("#preview-image")
        return found.first() if found else None

    def _set(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        if self.is_mounted:
            self.query_one("#preview-text", Static).update(renderable)

    def _drop_image(self) -> None:
        if self.is_mounted:
            self.query("#preview-image").remove()

    def _image_facts(self, result: ImagePreview, problem: str) -> RenderableType:
        size = f"{result.width} x {result.height} pixels" if result.width else "size not given"
        parts: list[RenderableType] = [Text(f"{result.format.upper()} image, {size}")]
        if result.data is None:
            limit = size_with_bytes(result.total_size)
            parts.append(Text(f"Not drawn: the image ({limit}) is over the image limit."))
        elif problem:
            parts.append(Text(f"Not drawn: {problem}."))
        if result.note:
            parts.append(Text.assemble(("Note: ", self._style("label")), Text(result.note)))
        return Group(*parts)

    def _size_image(self, widget: Any) -> None:
        picture = self._picture
        parent = self.parent
        outer = parent.size.width if isinstance(parent, Widget) else 60
        width = max(8, self.size.width or outer - 2)
        cols, rows = image_support.cell_size(
            picture.width, picture.height, min(width, 100), MAX_IMAGE_ROWS
        )
        widget.styles.width = cols
        widget.styles.height = rows

    def on_resize(self) -> None:
        image = self.image
        if image is not None and self._picture is not None:
            self._size_image(image)
