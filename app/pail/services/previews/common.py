"""What every previewer gets (:class:`Job`) and the plain text/hex fallback.

A previewer is a function ``(job) -> PreviewResult``. It reads only through
``job.reader`` (so the byte budget holds), and raises :class:`NotThisFormat` when the
bytes are not what the key promised; the dispatcher then sniffs the magic bytes and, if
nothing fits, shows text or a hex dump with the reason as the ``note``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pail.core.text import safe_text
from pail.drivers.base import ObjectInfo
from pail.services.previews.detect import language_for
from pail.services.previews.ranged import RangedReader
from pail.services.previews.results import HexPreview, PreviewResult, TextPreview
from pail.services.previews.textutil import (
    HEXDUMP_BYTES,
    complete_utf8_length,
    decode_text,
    hexdump,
    is_binary,
)

R = TypeVar("R", bound=PreviewResult)

#: Bytes read first to sniff an unknown object (and shown as text or hex).
SNIFF_BYTES = 64 * 1024


class NotThisFormat(Exception):
    """The object is not valid in the expected format; the message becomes the note."""


@dataclass
class Job:
    """One preview being built.

    Attributes:
        info: the object's metadata (key, size, content type).
        reader: the budgeted ranged reader over the object.
        limit: the byte budget for non-image previews.
        image_limit: images up to this size are read whole.
        window: bytes of text read per window ("load more" reads another).
    """

    info: ObjectInfo
    reader: RangedReader
    limit: int
    image_limit: int
    window: int

    @property
    def size(self) -> int:
        """The object's size in bytes (as far as the reader knows)."""
        return self.reader.size

    def head(self, length: int = SNIFF_BYTES) -> bytes:
        """Up to the first ``length`` bytes: fewer if the budget runs out (never raises
        :class:`~pail.services.previews.ranged.PreviewBudgetExceeded`)."""
        return self.reader.read_within_budget(0, length)

    def done(self, cls: type[R], **fields: Any) -> R:
        """A result of type ``cls`` with ``bytes_read``/``total_size`` filled in."""
        return cls(bytes_read=self.reader.bytes_fetched, total_size=self.info.size, **fields)


def forward_text(
    job: Job, start: int, data: bytes, *, language: str | None, note: str | None
) -> TextPreview:
    """A forward :class:`TextPreview` of ``data`` read at ``start``."""
    cut = start + len(data) < job.size
    n = complete_utf8_length(data) if cut else len(data)
    if cut and n and data[n - 1 : n] == b"\r":
        n -= 1  # keep a CR whose LF is in the next window with it
    text = safe_text(decode_text(data[:n], truncated=False))
    end = start + n
    return job.done(
        TextPreview,
        text=text,
        language=language,
        start=start,
        end=end,
        truncated=start > 0 or end < job.size,
        can_load_more=end < job.size,
        note=note,
    )


def hex_preview(job: Job, data: bytes, *, note: str | None) -> HexPreview:
    """A hex dump of the first 4 KiB of ``data`` (read at offset 0)."""
    shown = data[:HEXDUMP_BYTES]
    return job.done(
        HexPreview, text=hexdump(shown), start=0, truncated=len(shown) < job.size, note=note
    )


def plain(job: Job, note: str | None = None) -> PreviewResult:
    """The first bytes as text (forward, "load more" possible) or, if binary, a hex dump."""
    data = job.head(max(job.window, 8192))
    if is_binary(data):
        return hex_preview(job, data, note=note)
    return forward_text(job, 0, data[: job.window], language=language_for(job.info.key), note=note)
