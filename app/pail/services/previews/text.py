"""Text-like previews: plain text and code, log tails, JSON/YAML/TOML, Markdown, gzip.

* Text and code: the first window (default 64 KiB) by range; "load more" reads the next.
* Logs: the *tail*: the last window, read as an absolute range computed from the size
  HeadObject gave (``bytes=size-N-(size-1)``, the same bytes as the suffix range
  ``bytes=-N`` but consistent with the size shown, and one request fewer on GCS); a line cut
  by the window's start is dropped. "Load more" reads the window before it.
* JSON: pretty-printed (2-space indent) when the whole object fits the limit and parses;
  otherwise the raw text with a note. YAML and TOML are shown as stored (they are already
  formatted for people) with their Pygments language for highlighting; nothing is parsed,
  so no YAML tag or alias can do anything.
* Markdown: the source, for the UI to render.
* gzip (RFC 1952): the first compressed window is inflated with output capped at the
  window size, so a decompression bomb costs at most that.
"""

from __future__ import annotations

import dataclasses
import json
import zlib

from pail.core.text import safe_text
from pail.drivers.base import ObjectInfo, StorageDriver
from pail.services.previews.common import Job, NotThisFormat, forward_text, hex_preview
from pail.services.previews.detect import language_for
from pail.services.previews.ranged import RangedReader
from pail.services.previews.results import MarkdownPreview, PreviewResult, TextPreview
from pail.services.previews.textutil import decode_text, is_binary, skip_continuation


def text_preview(job: Job, *, language: str | None = None, note: str | None = None) -> TextPreview:
    """The first window of the object as text.

    Raises:
        NotThisFormat: the bytes look binary.
    """
    data = job.reader.read_within_budget(0, job.window)
    if is_binary(data):
        raise NotThisFormat("binary data, not text")
    lang = language if language is not None else language_for(job.info.key)
    return forward_text(job, 0, data, language=lang, note=note)


def _tail_start(data: bytes, start: int) -> int:
    """Bytes to drop at the front of a window read at ``start`` > 0: a character and a line
    cut by the window (if the window holds a line break at all)."""
    if start == 0:
        return 0
    skip = skip_continuation(data)
    newline = data.find(b"\n", skip)
    if 0 <= newline < len(data) - 1:
        skip = newline + 1
    return skip


def log_preview(job: Job) -> TextPreview:
    """The last window of a log.

    Raises:
        NotThisFormat: the bytes look binary.
    """
    start, data = job.reader.tail(min(job.window, job.limit))
    if is_binary(data[skip_continuation(data) :]):
        raise NotThisFormat("binary data, not a text log")
    skip = _tail_start(data, start)
    start += skip
    text = safe_text(decode_text(data[skip:], truncated=False))
    return job.done(
        TextPreview,
        text=text,
        language=None,
        start=start,
        end=job.size,
        truncated=start > 0,
        is_tail=True,
        can_load_more=start > 0,
    )


def json_preview(job: Job) -> TextPreview:
    """Pretty-printed JSON when the whole object fits; raw text otherwise."""
    if job.size > job.limit:
        note = f"larger than the {job.limit:,}-byte preview limit: shown as stored, not reformatted"
        return text_preview(job, language="json", note=note)
    data = job.reader.read_at(0, job.size)
    try:
        value = json.loads(data.decode("utf-8-sig"))
        pretty = json.dumps(value, indent=2, ensure_ascii=False)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return text_preview(job, language="json", note=f"not valid JSON ({reason}): shown as text")
    return job.done(
        TextPreview,
        text=safe_text(pretty),
        language="json",
        start=0,
        end=job.size,
        pretty=True,
    )


def markdown_preview(job: Job) -> MarkdownPreview:
    """The Markdown source of the first window."""
    text = text_preview(job, language="markdown")
    return job.done(MarkdownPreview, text=text.text, truncated=text.truncated)


def gzip_preview(job: Job) -> PreviewResult:
    """The first decompressed bytes of a gzip member, as text (or hex if binary)."""
    compressed = job.reader.read_within_budget(0, job.window)
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(compressed, job.window)
    except zlib.error as exc:
        raise NotThisFormat(f"not valid gzip ({exc})") from None
    complete = inflater.eof and len(compressed) >= job.size
    described = f"gzip-compressed: the first {len(out):,} decompressed bytes"
    if is_binary(out):
        return hex_preview(job, out, note=described + " are binary (hex dump of them)")
    text = safe_text(decode_text(out, truncated=not inflater.eof))
    return job.done(
        TextPreview,
        text=text,
        language=language_for(job.info.key),
        start=0,
        end=len(compressed),
        truncated=not complete,
        note=None if complete else described,
    )


def load_more_text(
    driver: StorageDriver,
    info: ObjectInfo,
    previous: TextPreview,
    *,
    window: int = 64 * 1024,
) -> TextPreview:
    """Extend a text preview by one more window of ``window`` bytes.

    For a log tail (``previous.is_tail``) the window before ``previous.start`` is read and
    put in front; otherwise the window after ``previous.end`` is appended. The result's
    ``bytes_read`` counts every window so far. Returns ``previous`` unchanged when
    ``previous.can_load_more`` is false. Each call fetches at most ``window`` bytes.

    Raises:
        StorageError: from the driver.
    """
    if not previous.can_load_more:
        return previous
    size = info.size
    reader = RangedReader(
        driver, info.bucket, info.key, size, budget=window, version_id=info.version_id
    )
    job = Job(info=info, reader=reader, limit=window, image_limit=0, window=window)
    if previous.is_tail:
        start = max(0, previous.start - window)
        data = reader.read_at(start, previous.start - start)
        skip = _tail_start(data, start)
        text = safe_text(decode_text(data[skip:], truncated=False))
        start += skip
        return dataclasses.replace(
            previous,
            text=text + previous.text,
            start=start,
            truncated=start > 0,
            can_load_more=start > 0,
            bytes_read=previous.bytes_read + reader.bytes_fetched,
            total_size=size,
        )
    data = reader.read_at(previous.end, window)
    more = forward_text(job, previous.end, data, language=previous.language, note=None)
    return dataclasses.replace(
        previous,
        text=previous.text + more.text,
        end=more.end,
        truncated=more.truncated or previous.start > 0,
        can_load_more=more.can_load_more,
        bytes_read=previous.bytes_read + reader.bytes_fetched,
        total_size=size,
    )
