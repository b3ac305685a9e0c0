"""Format-aware previews read by byte range, for the UI and the CLI to render.

Entry points:

* :func:`build_preview` ``(driver, info, *, limit=1 MiB, image_limit=10 MiB,
  window=64 KiB) -> PreviewResult``: picks a previewer by extension, content type and
  magic bytes, and reads at most ``limit`` bytes (``image_limit`` for images).
* :func:`load_more_text` ``(driver, info, previous, *, window=64 KiB) -> TextPreview``:
  the next window forward, or for a log tail the window before it.
* :class:`RangedReader`: a seekable, budgeted file over ``driver.read_range``.

Result types (``kind`` in brackets): EmptyPreview (empty), TextPreview (text),
MarkdownPreview (markdown), TablePreview (table), ParquetPreview (parquet),
NotebookPreview (notebook), ImagePreview (image), TensorHeaderPreview (tensors),
ArchivePreview (archive), HexPreview (hex). No Textual or Rich here: rendering is the UI's.
"""

from pail.services.previews.build import (
    DEFAULT_IMAGE_LIMIT,
    DEFAULT_LIMIT,
    DEFAULT_WINDOW,
    build_preview,
)
from pail.services.previews.ranged import PreviewBudgetExceeded, RangedReader
from pail.services.previews.results import (
    ArchiveEntry,
    ArchivePreview,
    EmptyPreview,
    HexPreview,
    ImagePreview,
    MarkdownPreview,
    NotebookCell,
    NotebookPreview,
    ParquetPreview,
    PreviewResult,
    TablePreview,
    TensorHeaderPreview,
    TensorInfo,
    TextPreview,
)
from pail.services.previews.text import load_more_text

__all__ = [
    "DEFAULT_IMAGE_LIMIT",
    "DEFAULT_LIMIT",
    "DEFAULT_WINDOW",
    "ArchiveEntry",
    "ArchivePreview",
    "EmptyPreview",
    "HexPreview",
    "ImagePreview",
    "MarkdownPreview",
    "NotebookCell",
    "NotebookPreview",
    "ParquetPreview",
    "PreviewBudgetExceeded",
    "PreviewResult",
    "RangedReader",
    "TablePreview",
    "TensorHeaderPreview",
    "TensorInfo",
    "TextPreview",
    "build_preview",
    "load_more_text",
]
