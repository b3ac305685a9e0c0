"""Rich renderables for every preview kind (:mod:`pail.services.previews.results`).

:func:`preview_body` turns a ``PreviewResult`` into what the detail pane draws below its
"Preview" heading: highlighted text (rich ``Syntax``, never markup), rendered Markdown
(without hyperlinks, so nothing in an untrusted document runs or opens anything), tables
that keep as many columns as fit the pane, Parquet schema and row groups, notebook cells,
tensor headers and archive listings. Every string in a result is already sanitised plain
text; it is wrapped in :class:`rich.text.Text` or handed to ``Syntax``/``Markdown`` as data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markdown import Markdown
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from pail.core.units import size_text, size_with_bytes
from pail.services.previews import (
    ArchivePreview,
    HexPreview,
    MarkdownPreview,
    NotebookPreview,
    ParquetPreview,
    PreviewResult,
    TablePreview,
    TensorHeaderPreview,
    TextPreview,
)
from pail.services.previews.detect import language_for
from pail.ui.formatting import plural

#: A named style of the detail pane: "title", "label", "dim", "error".
StyleFor = Callable[[str], Style]
#: Widest a table column is drawn before its cells are cut with "…".
MAX_COLUMN = 24


def summary_line(preview: PreviewResult) -> str:
    """``"read 65,536 of 100,000 bytes; the last 64 KiB (m: read further back)"``."""
    parts = [preview.summary]
    if isinstance(preview, TextPreview):
        if preview.is_tail:
            if preview.start > 0:
                parts.append(f"the last {size_text(preview.end - preview.start)}")
            if preview.can_load_more:
                parts.append("m: read further back")
        elif preview.truncated:
            parts.append(f"the first {size_text(preview.end)}")
            if preview.can_load_more:
                parts.append("m: load more")
        if preview.pretty:
            parts.append("pretty-printed")
    elif isinstance(preview, HexPreview):
        parts.append("binary, hex dump")
    return "; ".join(parts)


def preview_body(preview: PreviewResult, key: str, style: StyleFor) -> RenderableType:
    """What the pane draws for ``preview`` of object ``key`` (images: see the widget)."""
    parts: list[RenderableType] = []
    if preview.note:
        parts.append(Text.assemble(("Note: ", style("label")), Text(preview.note)))
    parts.append(_body(preview, key, style))
    return Group(*parts)


def _body(preview: PreviewResult, key: str, style: StyleFor) -> RenderableType:
    if isinstance(preview, TextPreview):
        return _syntax(preview.text, preview.language or language_for(key))
    if isinstance(preview, MarkdownPreview):
        return Markdown(preview.text, hyperlinks=False, code_theme="ansi_dark")
    if isinstance(preview, TablePreview):
        return _table_preview(preview, style)
    if isinstance(preview, ParquetPreview):
        return _parquet(preview, style)
    if isinstance(preview, NotebookPreview):
        return _notebook(preview, style)
    if isinstance(preview, TensorHeaderPreview):
        return _tensors(preview, style)
    if isinstance(preview, ArchivePreview):
        return _archive(preview, style)
    if isinstance(preview, HexPreview):
        return Text(preview.text)
    if preview.kind == "empty":
        return Text("(empty object)", style=style("dim"))
    return Text("")


def _syntax(text: str, language: str | None) -> Syntax:
    return Syntax(text, language or "text", theme="ansi_dark", word_wrap=False)


class FittedTable:
    """A table of ``columns`` x ``rows`` that shows as many leading columns as fit the
    width it is drawn at (each at most :data:`MAX_COLUMN` cells) and says how many more
    there are, instead of squeezing 50 columns into unreadable slivers."""

    def __init__(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        header_style: Style,
        right: Sequence[int] = (),
    ) -> None:
        self.columns = list(columns)
        self.rows = rows
        self.header_style = header_style
        self.right = set(right)

    def _widths(self) -> list[int]:
        widths = []
        for i, name in enumerate(self.columns):
            cells = [len(row[i]) for row in self.rows if i < len(row)]
            widths.append(min(MAX_COLUMN, max([len(name), *cells, 1])))
        return widths

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        widths = self._widths()
        shown, used = 0, 0
        for width in widths:
            if shown and used + width + 3 > options.max_width:
                break
            used += width + 3
            shown += 1
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, expand=False)
        for i in range(shown):
            table.add_column(
                Text(self.columns[i], style=self.header_style),
                no_wrap=True,
                overflow="ellipsis",
                max_width=MAX_COLUMN,
                justify="right" if i in self.right else "left",
            )
        for row in self.rows:
            table.add_row(*(Text(row[i]) if i < len(row) else Text("") for i in range(shown)))
        yield table
        hidden = len(self.columns) - shown
        if hidden > 0:
            yield Text(f"… {plural(hidden, 'more column')} not shown (wider pane shows more)")


def _table_preview(preview: TablePreview, style: StyleFor) -> RenderableType:
    lines: list[RenderableType] = []
    sep = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(preview.delimiter, "")
    info = f"{plural(len(preview.columns), 'column')}, separated by {sep or preview.delimiter!r}"
    if preview.total_rows is not None:
        info += f"; {plural(preview.total_rows, 'row')}"
    info += f"; first {plural(len(preview.rows), 'row')} shown" if preview.truncated else ""
    lines.append(Text(info, style=style("dim")))
    lines.append(FittedTable(preview.columns, preview.rows, header_style=style("label")))
    return Group(*lines)


def _parquet(preview: ParquetPreview, style: StyleFor) -> RenderableType:
    sizes = ", ".join(f"{n:,}" for n in preview.row_group_sizes[:8])
    if len(preview.row_group_sizes) > 8:
        sizes += ", …"
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style=style("label"), no_wrap=True)
    facts.add_column()
    facts.add_row("Rows", Text(f"{preview.num_rows:,}"))
    groups = plural(preview.num_row_groups, "row group")
    rows = "row" if preview.row_group_sizes == (1,) else "rows"
    facts.add_row("Row groups", Text(f"{groups} ({sizes} {rows})" if sizes else groups))
    facts.add_row("Columns", Text(f"{len(preview.schema):,}"))
    if preview.created_by:
        facts.add_row("Created by", Text(preview.created_by))
    schema = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    schema.add_column(Text("column", style=style("label")), overflow="fold")
    schema.add_column(Text("type", style=style("label")), overflow="fold")
    for name, kind in preview.schema:
        schema.add_row(Text(name), Text(kind))
    parts: list[RenderableType] = [facts, Text(""), Text("Schema", style=style("title")), schema]
    if preview.rows:
        title = f"First {plural(len(preview.rows), 'row')}"
        parts += [Text(""), Text(title, style=style("title"))]
        parts.append(FittedTable(preview.columns, preview.rows, header_style=style("label")))
    return Group(*parts)


def _notebook(preview: NotebookPreview, style: StyleFor) -> RenderableType:
    head = f"{plural(preview.total_cells, 'cell')}"
    if preview.language:
        head += f", kernel language {preview.language}"
    if len(preview.cells) < preview.total_cells:
        head += f"; first {len(preview.cells):,} shown"
    parts: list[RenderableType] = [Text(head, style=style("dim"))]
    for number, cell in enumerate(preview.cells, 1):
        parts.append(Text(f"[{number}] {cell.cell_type}", style=style("label")))
        if cell.cell_type == "markdown":
            parts.append(Markdown(cell.source, hyperlinks=False))
        elif cell.cell_type == "code":
            parts.append(_syntax(cell.source, preview.language or "python"))
        else:
            parts.append(Text(cell.source))
        if cell.outputs:
            parts.append(Text(cell.outputs, style=style("dim")))
    return Group(*parts)


def _parameters(count: int) -> str:
    for size, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if count >= size:
            return f"{count:,} ({count / size:.1f} {unit})"
    return f"{count:,}"


def _tensors(preview: TensorHeaderPreview, style: StyleFor) -> RenderableType:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style=style("label"), no_wrap=True)
    facts.add_column(overflow="fold")
    facts.add_row("Format", Text(preview.format))
    facts.add_row("Tensors", Text(f"{preview.total_tensors:,}"))
    facts.add_row("Parameters", Text(_parameters(preview.total_parameters)))
    if preview.header_bytes:
        facts.add_row("Header", Text(size_with_bytes(preview.header_bytes)))
    for name, value in sorted(preview.metadata.items()):
        facts.add_row(Text(name), Text(value))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for title in ("tensor", "dtype", "shape"):
        table.add_column(Text(title, style=style("label")), overflow="fold", justify="left")
    table.add_column(Text("parameters", style=style("label")), justify="right", no_wrap=True)
    for tensor in preview.tensors:
        shape = "[" + ", ".join(f"{n:,}" for n in tensor.shape) + "]"
        table.add_row(Text(tensor.name), Text(tensor.dtype), Text(shape), f"{tensor.parameters:,}")
    parts: list[RenderableType] = [facts, Text(""), table]
    if len(preview.tensors) < preview.total_tensors:
        more = preview.total_tensors - len(preview.tensors)
        parts.append(Text(f"… {plural(more, 'more tensor')}", style=style("dim")))
    return Group(*parts)


def _archive(preview: ArchivePreview, style: StyleFor) -> RenderableType:
    kind = "PyTorch checkpoint (zip)" if preview.format == "pytorch" else "zip archive"
    head = (
        f"{kind}: {plural(preview.total_entries, 'entry')}, "
        f"{size_with_bytes(preview.total_uncompressed)} uncompressed"
    ).replace("entrys", "entries")
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column(Text("name", style=style("label")), overflow="fold")
    table.add_column(Text("size", style=style("label")), justify="right", no_wrap=True)
    table.add_column(Text("compressed", style=style("label")), justify="right", no_wrap=True)
    for entry in preview.entries:
        table.add_row(Text(entry.name), f"{entry.size:,}", f"{entry.compressed_size:,}")
    parts: list[RenderableType] = [Text(head, style=style("dim")), table]
    if len(preview.entries) < preview.total_entries:
        more = preview.total_entries - len(preview.entries)
        parts.append(Text(f"… {more:,} more", style=style("dim")))
    return Group(*parts)
