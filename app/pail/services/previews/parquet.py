"""Parquet previews: schema, row count, row groups and the first rows, read by range.

A Parquet file (apache/parquet-format, "File Format") ends with the Thrift-encoded
``FileMetaData``, its length (u32 LE) and ``PAR1``. pyarrow reads it through a
:class:`~pail.services.previews.ranged.RangedReader`: first the tail (one 64 KiB request
covers the footer of most files), then, for the rows, one 50-row batch of the first row
group, read page by page through 64 KiB buffered reads (``buffer_size``), so a huge row
group costs only its first data pages. If even those exceed the byte budget, the preview
keeps the schema and counts and says why there are no rows.

pyarrow is imported lazily (it takes a moment to load).
"""

from __future__ import annotations

import datetime
import json

from pail.core.text import clip
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.ranged import PreviewBudgetExceeded
from pail.services.previews.results import ParquetPreview

MAX_ROWS = 50
MAX_COLUMNS = 50
MAX_CELL = 200
MAX_GROUPS = 1000
#: First read at the end of the file: the footer of most files fits.
FOOTER_BYTES = 64 * 1024


def _cell(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bytes):
        return clip(repr(value), MAX_CELL)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return clip(value.isoformat(), MAX_CELL)
    if isinstance(value, list | dict):
        try:
            return clip(json.dumps(value, default=str, ensure_ascii=False), MAX_CELL)
        except (TypeError, ValueError):
            pass
    return clip(value, MAX_CELL)


def parquet_preview(job: Job) -> ParquetPreview:
    """Footer metadata and up to 50 rows x 50 columns of the first row group.

    Raises:
        NotThisFormat: no valid footer (not Parquet, or truncated), or a footer larger
            than the byte budget.
    """
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise NotThisFormat("pyarrow is not installed") from None
    if job.size < 12:
        raise NotThisFormat("too short for Parquet")
    job.reader.tail(min(FOOTER_BYTES, job.limit))
    try:
        pfile = pq.ParquetFile(job.reader, pre_buffer=False, buffer_size=FOOTER_BYTES)
        meta = pfile.metadata
        schema = pfile.schema_arrow
    except PreviewBudgetExceeded as exc:
        raise NotThisFormat(f"Parquet footer too large to read: {exc}") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for bad footers
        if job.reader.budget_exceeded:
            raise NotThisFormat("Parquet footer larger than the preview limit") from None
        raise NotThisFormat(f"not a valid Parquet file ({clip(exc, 200)})") from None
    fields = tuple((clip(f.name, MAX_CELL), clip(str(f.type), MAX_CELL)) for f in schema)
    names = schema.names[:MAX_COLUMNS]
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    notes = []
    if len(schema.names) > MAX_COLUMNS:
        notes.append(f"the first {MAX_COLUMNS} of {len(schema.names)} columns shown")
    if meta.num_row_groups and meta.num_rows:
        try:
            batches = pfile.iter_batches(
                batch_size=MAX_ROWS, row_groups=[0], columns=names, use_threads=False
            )
            batch = next(iter(batches), None)
        except Exception as exc:
            batch = None
            if job.reader.budget_exceeded or isinstance(exc, PreviewBudgetExceeded):
                notes.append(
                    f"no rows: the first row group needs more than the "
                    f"{job.reader.budget:,}-byte preview limit"
                )
            else:
                notes.append(f"no rows: reading the first row group failed ({clip(exc, 200)})")
        if batch is not None:
            columns = tuple(clip(n, MAX_CELL) for n in batch.schema.names)
            values = []
            for column in batch.columns:
                try:
                    values.append([_cell(v) for v in column.to_pylist()])
                except Exception:  # e.g. a time zone Python cannot resolve
                    values.append([clip(str(v), MAX_CELL) for v in column])
            rows = tuple(zip(*values, strict=True)) if values else ()
    return job.done(
        ParquetPreview,
        schema=fields,
        num_rows=meta.num_rows,
        num_row_groups=meta.num_row_groups,
        row_group_sizes=tuple(
            meta.row_group(i).num_rows for i in range(min(meta.num_row_groups, MAX_GROUPS))
        ),
        created_by=clip(meta.created_by, MAX_CELL) if meta.created_by else None,
        columns=columns,
        rows=rows,
        note="; ".join(notes) or None,
    )
