"""Choosing and running a previewer for one object: :func:`build_preview`.

The previewer is picked by the key's extension, then the content type, then the magic
bytes (:mod:`pail.services.previews.detect`) and, for an object whose name and content type
say nothing (``file-6f1c...`` stored as ``binary/octet-stream``), the text format of its
first window: JSON, JSON Lines, CSV/TSV, YAML or text. If it rejects the object (a ``.parquet``
that is not Parquet, a truncated zip, a safetensors header over the limit), the magic bytes
get a second say, and finally the first bytes are shown as text or a hex dump, with the
reason in ``note``. Parser failures never reach the caller; storage errors do.

Every read goes through one :class:`~pail.services.previews.ranged.RangedReader` whose
budget is ``limit`` (``image_limit`` once an image signature is confirmed), so no preview
fetches more than that, whatever the object's size or format.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

from pail.drivers.base import ObjectInfo, StorageDriver
from pail.drivers.errors import StorageError
from pail.services.previews.archives import zip_preview
from pail.services.previews.common import Job, NotThisFormat, plain
from pail.services.previews.detect import by_content, format_for, sniff, sniff_text
from pail.services.previews.images import image_preview
from pail.services.previews.notebook import notebook_preview
from pail.services.previews.parquet import parquet_preview
from pail.services.previews.ranged import PreviewBudgetExceeded, RangedReader
from pail.services.previews.results import EmptyPreview, PreviewResult
from pail.services.previews.tables import csv_preview
from pail.services.previews.tensors import npy_preview, safetensors_preview
from pail.services.previews.text import (
    gzip_preview,
    json_preview,
    log_preview,
    markdown_preview,
    text_preview,
)

#: Most bytes a preview reads (1 MiB).
DEFAULT_LIMIT = 1024 * 1024
#: Images up to this size (10 MiB) are read whole.
DEFAULT_IMAGE_LIMIT = 10 * 1024 * 1024
#: Bytes of text per window: the first read, and each "load more" (64 KiB).
DEFAULT_WINDOW = 64 * 1024

_PREVIEWERS: dict[str, Callable[[Job], PreviewResult]] = {
    "text": text_preview,
    "log": log_preview,
    "json": json_preview,
    "jsonl": partial(text_preview, language="json"),
    "yaml": partial(text_preview, language="yaml"),
    "toml": partial(text_preview, language="toml"),
    "markdown": markdown_preview,
    "csv": csv_preview,
    "tsv": partial(csv_preview, tsv=True),
    "notebook": notebook_preview,
    "image": image_preview,
    "parquet": parquet_preview,
    "safetensors": safetensors_preview,
    "npy": npy_preview,
    "zip": zip_preview,
    "gzip": gzip_preview,
}

_NAMES = {
    "zip": "a zip archive",
    "npy": ".npy",
    "tsv": "TSV",
    "csv": "CSV",
    "json": "JSON",
    "jsonl": "JSON Lines",
    "yaml": "YAML",
    "image": "an image",
    "gzip": "gzip",
}


def build_preview(
    driver: StorageDriver,
    info: ObjectInfo,
    *,
    limit: int = DEFAULT_LIMIT,
    image_limit: int = DEFAULT_IMAGE_LIMIT,
    window: int = DEFAULT_WINDOW,
) -> PreviewResult:
    """A format-aware preview of the object ``info`` describes (from ``driver.head``).

    Args:
        driver: the store.
        info: the object's metadata; ``info.size`` bounds every range.
        limit: most bytes fetched for the preview (images: ``image_limit``).
        image_limit: PNG/JPEG/GIF/WebP images up to this many bytes are read whole;
            larger ones get their format and pixel size only.
        window: bytes of text read first (and by each
            :func:`~pail.services.previews.text.load_more_text`); capped by ``limit``.

    Returns:
        One of the result types in :mod:`pail.services.previews.results`; its
        ``bytes_read`` is what was fetched, never more than ``limit`` (``image_limit``
        for images).

    Raises:
        StorageError: from the driver (AccessDenied, NotFound, ...).
    """
    if info.size <= 0:
        return EmptyPreview(bytes_read=0, total_size=max(0, info.size))
    reader = RangedReader(
        driver, info.bucket, info.key, info.size, budget=limit, version_id=info.version_id
    )
    job = Job(
        info=info, reader=reader, limit=limit, image_limit=image_limit, window=min(window, limit)
    )
    fmt = format_for(info)
    textual = by_content(info)
    tried: set[str] = set()
    note: str | None = None
    while True:
        if fmt is None or fmt in tried:
            # The first window: what the text previewers read first anyway (no extra bytes).
            head = job.head(max(job.window, 8192))
            fmt = sniff(head)
            if fmt is None and textual:
                fmt = sniff_text(head, complete=len(head) >= job.size)
            if fmt is None or fmt in tried:
                return plain(job, note)
        tried.add(fmt)
        try:
            result = _PREVIEWERS[fmt](job)
        except StorageError:
            raise
        except NotThisFormat as exc:
            reason = str(exc)
        except PreviewBudgetExceeded as exc:
            reason = f"{_NAMES.get(fmt, fmt)}: {exc}"
        except Exception as exc:  # a parser bug must not take the preview down
            reason = f"could not read as {_NAMES.get(fmt, fmt)} ({type(exc).__name__})"
        else:
            if note is None:
                return result
            # Say why the key's own format was not used (e.g. a ".txt" that is a zip).
            found = f"{note}; shown as {_NAMES.get(fmt, fmt)} (found by its signature)"
            return dataclasses.replace(
                result, note=f"{found}; {result.note}" if result.note else found
            )
        note = reason if note is None else f"{note}; {reason}"
        fmt = None
