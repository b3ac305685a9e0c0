"""Zip archives and PyTorch checkpoints: the member list from the central directory.

A zip (PKWARE APPNOTE.TXT, sections 4.3.12 and 4.3.16) ends with its central directory and
the end-of-central-directory record, so :mod:`zipfile` over a
:class:`~pail.services.previews.ranged.RangedReader` reads only the object's tail: the
last 64 KiB (EOCD record and a possible comment) and the central directory, never the
members. ``torch.save`` writes such a zip (``<name>/data.pkl``, ``<name>/data/0``...,
``<name>/version``); pail lists it but never unpickles anything.
"""

from __future__ import annotations

import zipfile

from pail.core.text import clip
from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.detect import extension
from pail.services.previews.ranged import PreviewBudgetExceeded
from pail.services.previews.results import ArchiveEntry, ArchivePreview

#: Members listed at most.
MAX_ENTRIES = 1000
#: The EOCD record is 22 bytes and may be followed by a comment of up to 65,535 bytes.
_TAIL = 22 + 0xFFFF


def zip_preview(job: Job) -> ArchivePreview:
    """The first 1,000 members (name, size, compressed size) of a zip or checkpoint.

    Raises:
        NotThisFormat: no valid end-of-central-directory record, or a central directory
            larger than the byte budget.
    """
    job.reader.tail(min(_TAIL, job.limit))  # one request for the EOCD search
    try:
        with zipfile.ZipFile(job.reader) as archive:
            infos = archive.infolist()
    except PreviewBudgetExceeded as exc:
        raise NotThisFormat(f"zip central directory too large to list: {exc}") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise NotThisFormat(f"not a valid zip ({exc})") from None
    names = [info.filename for info in infos]
    torch = extension(job.info.key) in ("pt", "pth", "ckpt") or any(
        n == "data.pkl" or n.endswith("/data.pkl") for n in names
    )
    entries = tuple(
        ArchiveEntry(clip(i.filename, 300), i.file_size, i.compress_size)
        for i in infos[:MAX_ENTRIES]
    )
    note = f"the first {MAX_ENTRIES:,} members shown" if len(infos) > MAX_ENTRIES else None
    return job.done(
        ArchivePreview,
        format="pytorch" if torch else "zip",
        entries=entries,
        total_entries=len(infos),
        total_uncompressed=sum(i.file_size for i in infos),
        note=note,
    )
