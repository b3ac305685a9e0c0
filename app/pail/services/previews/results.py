"""What a preview returns: one small frozen dataclass per kind of view.

Every result carries ``bytes_read`` (bytes actually fetched from the store for it),
``total_size`` (the object's size in bytes, from HeadObject), a ``note`` (why something is
missing or was replaced, e.g. "not valid JSON: shown as text") and a ``summary`` such as
``"read 65,536 of 1,073,741,824 bytes"``. The class attribute ``kind`` names the view, so a
UI can dispatch on it: ``"empty"``, ``"text"``, ``"markdown"``, ``"table"``, ``"parquet"``,
``"notebook"``, ``"image"``, ``"tensors"``, ``"archive"``, ``"hex"``.

Every string field (text, names, cells, metadata) is terminal-safe: it has been through
:mod:`pail.core.text` (:func:`~pail.core.text.safe_text`). It is still *plain text*: a UI must
not interpret it as markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple


@dataclass(frozen=True, kw_only=True)
class PreviewResult:
    """Fields every preview has.

    Attributes:
        bytes_read: bytes fetched from the store to build this preview (for a "load more"
            result: in total, over every window so far).
        total_size: the object's size in bytes.
        note: a human sentence explaining a fallback or an omission, or ``None``.
    """

    kind: ClassVar[str] = "preview"
    bytes_read: int
    total_size: int
    note: str | None = None

    @property
    def summary(self) -> str:
        """E.g. ``"read 65,536 of 1,073,741,824 bytes"``."""
        return f"read {self.bytes_read:,} of {self.total_size:,} bytes"


@dataclass(frozen=True, kw_only=True)
class EmptyPreview(PreviewResult):
    """A 0-byte object (nothing was read)."""

    kind: ClassVar[str] = "empty"


@dataclass(frozen=True, kw_only=True)
class TextPreview(PreviewResult):
    """Text, code, logs, pretty-printed JSON, YAML, TOML, and decompressed gzip text.

    Attributes:
        text: the text shown (sanitised).
        language: a Pygments lexer alias (``"json"``, ``"yaml"``, ``"toml"``, ``"python"``...)
            for syntax highlighting, or ``None`` for plain text.
        start, end: the byte range ``[start, end)`` of the object the text covers (for gzip,
            of the compressed object).
        truncated: the object has bytes outside ``[start, end)`` that are not shown.
        is_tail: a log tail: the text ends at the object's end; "load more" reads further
            back. Otherwise "load more" reads forward.
        can_load_more: :func:`~pail.services.previews.load_more_text` can extend it.
        pretty: the text was reformatted (JSON indented), not shown as stored.
    """

    kind: ClassVar[str] = "text"
    text: str
    language: str | None = None
    start: int = 0
    end: int = 0
    truncated: bool = False
    is_tail: bool = False
    can_load_more: bool = False
    pretty: bool = False


@dataclass(frozen=True, kw_only=True)
class MarkdownPreview(PreviewResult):
    """Markdown source (sanitised) for the UI to render.

    Attributes:
        text: the Markdown source read (the first ``limit`` bytes).
        truncated: the document continues past what was read.
    """

    kind: ClassVar[str] = "markdown"
    text: str
    truncated: bool = False


@dataclass(frozen=True, kw_only=True)
class TablePreview(PreviewResult):
    """The first rows of a CSV/TSV file.

    Attributes:
        columns: header cells (``"column 1"``... when the file has no header row).
        rows: up to 50 rows of up to 50 cells, each cell one line of at most 200 characters.
        total_rows: data rows in the object when the whole object was read, else ``None``.
        truncated: the object has more rows (or columns) than shown.
        delimiter: the field separator found (``","``, ``"\\t"``, ``";"``, ``"|"``).
    """

    kind: ClassVar[str] = "table"
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total_rows: int | None = None
    truncated: bool = False
    delimiter: str = ","


@dataclass(frozen=True, kw_only=True)
class ParquetPreview(PreviewResult):
    """A Parquet file's footer metadata and the first rows of its first row group.

    Attributes:
        schema: ``(column name, Arrow type)`` pairs, e.g. ``("loss", "double")``.
        num_rows: rows in the file (from the footer).
        num_row_groups: row groups in the file.
        row_group_sizes: rows in each row group (at most the first 1,000 groups).
        created_by: the writer's ``created_by`` string (e.g. ``"parquet-cpp-arrow 16.0"``).
        columns, rows: the first rows (up to 50 x 50, cells as one-line strings); empty
            when the first row group does not fit the byte budget (``note`` says so).
    """

    kind: ClassVar[str] = "parquet"
    schema: tuple[tuple[str, str], ...]
    num_rows: int
    num_row_groups: int
    row_group_sizes: tuple[int, ...]
    created_by: str | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


class NotebookCell(NamedTuple):
    """One Jupyter cell: ``cell_type`` (``"code"``, ``"markdown"``, ``"raw"``), its
    ``source`` and its outputs as plain text (streams, ``text/plain`` results, errors)."""

    cell_type: str
    source: str
    outputs: str


@dataclass(frozen=True, kw_only=True)
class NotebookPreview(PreviewResult):
    """A Jupyter notebook's cells (nbformat 4).

    Attributes:
        cells: up to 200 cells; sources capped at 5,000 and outputs at 2,000 characters.
        total_cells: cells in the notebook.
        language: the kernel's language (``"python"``), a Pygments alias for code cells.
    """

    kind: ClassVar[str] = "notebook"
    cells: tuple[NotebookCell, ...]
    total_cells: int
    language: str | None = None


@dataclass(frozen=True, kw_only=True)
class ImagePreview(PreviewResult):
    """A PNG, JPEG, GIF or WebP image.

    Attributes:
        format: ``"png"``, ``"jpeg"``, ``"gif"`` or ``"webp"``.
        width, height: pixels, from the header (``None`` when the header does not say).
        data: the whole file, or ``None`` when it is larger than the image limit.
    """

    kind: ClassVar[str] = "image"
    format: str
    width: int | None = None
    height: int | None = None
    data: bytes | None = field(default=None, repr=False)


class TensorInfo(NamedTuple):
    """One tensor/array: name, dtype (``"F16"``, ``"<f4"``), shape, element count."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    parameters: int


@dataclass(frozen=True, kw_only=True)
class TensorHeaderPreview(PreviewResult):
    """The header of a safetensors or NumPy ``.npy`` file (never the tensor data).

    Attributes:
        format: ``"safetensors"`` or ``"npy"``.
        tensors: up to 1,000 tensors in header order.
        total_tensors: tensors in the header.
        total_parameters: elements over every tensor (the product of each shape).
        metadata: safetensors ``__metadata__`` (string to string); for ``.npy``
            ``version`` and ``fortran_order``.
        header_bytes: size of the header in bytes.
    """

    kind: ClassVar[str] = "tensors"
    format: str
    tensors: tuple[TensorInfo, ...]
    total_tensors: int
    total_parameters: int
    metadata: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0


class ArchiveEntry(NamedTuple):
    """A zip member: name, uncompressed size and compressed size in bytes."""

    name: str
    size: int
    compressed_size: int


@dataclass(frozen=True, kw_only=True)
class ArchivePreview(PreviewResult):
    """The member list of a zip (read from the central directory at its end).

    Attributes:
        format: ``"pytorch"`` for a ``torch.save`` checkpoint (``*/data.pkl`` inside, or a
            ``.pt``/``.pth``/``.ckpt`` key), else ``"zip"``.
        entries: up to 1,000 members in central-directory order.
        total_entries: members in the archive.
        total_uncompressed: sum of the members' sizes in bytes.
    """

    kind: ClassVar[str] = "archive"
    format: str
    entries: tuple[ArchiveEntry, ...]
    total_entries: int
    total_uncompressed: int = 0


@dataclass(frozen=True, kw_only=True)
class HexPreview(PreviewResult):
    """A hex dump (``hexdump -C`` style) of the first bytes.

    Attributes:
        text: the dump, at most 4 KiB of the object (256 lines).
        start: offset of the first byte dumped.
        truncated: the object has more bytes than dumped.
    """

    kind: ClassVar[str] = "hex"
    text: str
    start: int = 0
    truncated: bool = False
