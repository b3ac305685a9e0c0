"""CSV and TSV previews: the first rows as a table.

The first window (256 KiB at most, within the limit) is parsed with :mod:`csv` (RFC 4180
quoting). The delimiter is ``\\t`` for ``.tsv``/``text/tab-separated-values``, else what
:class:`csv.Sniffer` finds among ``, ; \\t |`` (``,`` if it cannot tell). When the range
cut the object short, the partial last line is dropped. A header row is assumed when the
sniffer thinks there is one, and named ``column 1``... otherwise.

Caps: 50 rows of 50 columns, 200 characters per cell, each cell on one line.
"""

from __future__ import annotations

import contextlib
import csv
import io

from pail.core.text import clip
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.results import TablePreview
from pail.services.previews.textutil import decode_text, is_binary

MAX_ROWS = 50
MAX_COLUMNS = 50
MAX_CELL = 200
#: Most bytes read for a table preview.
TABLE_BYTES = 256 * 1024


def csv_preview(job: Job, *, tsv: bool = False) -> TablePreview:
    """The header and first rows of a CSV/TSV object.

    Raises:
        NotThisFormat: binary data, or rows the csv module rejects.
    """
    data = job.reader.read_within_budget(0, min(TABLE_BYTES, job.limit))
    whole = len(data) >= job.size
    if is_binary(data):
        raise NotThisFormat("binary data, not CSV")
    if not whole:
        cut = data.rfind(b"\n")
        data = data[: cut + 1] if cut >= 0 else data
    # A UTF-8 BOM (pandas' encoding="utf-8-sig", Excel's "CSV UTF-8") is not header text.
    text = decode_text(data, truncated=not whole).removeprefix("\ufeff")
    sample = text[:16384]
    delimiter = "\t" if tsv else ","
    has_header = True
    if not tsv:
        with contextlib.suppress(csv.Error):
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    with contextlib.suppress(csv.Error):
        has_header = csv.Sniffer().has_header(sample)
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise NotThisFormat(f"not valid CSV ({exc})") from None
    rows = [r for r in rows if r]  # blank lines
    if not rows:
        raise NotThisFormat("no rows")
    width = max(len(r) for r in rows[: MAX_ROWS + 1])
    if has_header:
        header, body = rows[0], rows[1:]
    else:
        header, body = [f"column {i + 1}" for i in range(width)], rows
    shown_cols = min(MAX_COLUMNS, max(width, len(header)))
    columns = tuple(clip(h, MAX_CELL) for h in header[:shown_cols])
    columns += tuple(f"column {i + 1}" for i in range(len(columns), shown_cols))
    table = tuple(
        tuple(clip(c, MAX_CELL) for c in row[:shown_cols]) + ("",) * (shown_cols - len(row))
        for row in body[:MAX_ROWS]
    )
    truncated = not whole or len(body) > MAX_ROWS or width > MAX_COLUMNS
    return job.done(
        TablePreview,
        columns=columns,
        rows=table,
        total_rows=len(body) if whole else None,
        truncated=truncated,
        delimiter=delimiter,
        note=None if width <= MAX_COLUMNS else f"the first {MAX_COLUMNS} of {width} columns shown",
    )
