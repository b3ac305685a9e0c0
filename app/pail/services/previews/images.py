"""Image previews (PNG, JPEG, GIF, WebP): the whole file when small enough, and the pixel
size parsed from the header bytes (no imaging library needed in the service layer).

Header layouts:

* PNG (ISO/IEC 15948, section 11.2.2): signature, then the IHDR chunk: width and height as
  big-endian u32 at offsets 16 and 20.
* GIF (GIF89a spec, section 18): logical screen width/height, little-endian u16 at 6 and 8.
* JPEG (ITU T.81, annex B): markers ``FF xx`` with big-endian u16 segment lengths; a SOFn
  segment (C0-CF except C4 DHT, C8 JPG, CC DAC) holds precision, height, width.
* WebP (RFC 9649): ``RIFF`` size ``WEBP``, then a ``VP8 `` (lossy: 14-bit sizes after the
  start code 9D 01 2A), ``VP8L`` (lossless: 14-bit width-1/height-1 after the 0x2F
  signature) or ``VP8X`` (extended: 24-bit canvas width-1/height-1) chunk.
"""

from __future__ import annotations

import struct

from pail.services.previews.common import Job, NotThisFormat
from pail.services.previews.detect import image_format
from pail.services.previews.results import ImagePreview

#: Bytes read to find the size of an image too large to load (EXIF can push JPEG SOF far).
HEADER_BYTES = 64 * 1024


def image_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` in pixels from an image's first bytes, or ``None``."""
    try:
        fmt = image_format(data)
        if fmt == "png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if fmt == "gif":
            return struct.unpack("<HH", data[6:10])
        if fmt == "jpeg":
            return _jpeg_size(data)
        if fmt == "webp":
            return _webp_size(data)
    except struct.error:  # header cut short
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # no length field
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image / start of scan: no SOF before it
            return None
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        if length < 2:
            return None
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def image_preview(job: Job) -> ImagePreview:
    """The image bytes (if ``size <= image_limit``) with its format and pixel size.

    Raises:
        NotThisFormat: the first bytes are no PNG/JPEG/GIF/WebP signature.
    """
    head = job.head(HEADER_BYTES if job.size > job.image_limit else 16)
    fmt = image_format(head)
    if fmt is None:
        raise NotThisFormat("no PNG, JPEG, GIF or WebP signature")
    if job.size > job.image_limit:
        dims = image_size(head)
        width, height = dims if dims else (None, None)
        note = f"larger than the {job.image_limit:,}-byte image limit: not loaded"
        return job.done(ImagePreview, format=fmt, width=width, height=height, note=note)
    # Images are allowed the image budget (10 MiB by default) rather than the text one.
    job.reader.budget = max(job.reader.budget, job.image_limit)
    data = job.reader.read_at(0, job.size)
    dims = image_size(data)
    width, height = dims if dims else (None, None)
    missing = None if dims else "the header does not give the pixel size"
    return job.done(ImagePreview, format=fmt, width=width, height=height, data=data, note=missing)
