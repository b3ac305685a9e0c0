"""Drawing images in the detail pane with textual-image's half-cell widget.

Half-cell rendering (each cell is two pixels: "▀" with a foreground and a background
colour) works in every true-colour terminal and in snapshots, so it is the only mode pail
uses. textual-image probes the terminal for Sixel/TGP support *when it is imported* (it
writes a query and reads the answer from stdin); once Textual runs, its input thread
would swallow the answer and the probe would stall. pail needs no probe for half cells, so
the import happens here, at module import (before the app starts), with the probe turned
off: the cell size is pinned to 10x20 pixels (half cells need only the 1:2 ratio) and
stdout is hidden from the probe for the duration of the import.

Decoding happens in a worker (:func:`decode_thumbnail`), never on the event loop: the
image is decoded once and shrunk to at most :data:`MAX_PIXELS` per side, so redraws only
scale a small picture.
"""

from __future__ import annotations

import io
import sys
import warnings
from typing import Any

#: Largest side, in pixels, of the decoded picture kept for drawing.
MAX_PIXELS = 320

HalfcellImage: Any = None
#: Why images cannot be drawn (``""`` when they can).
UNAVAILABLE = ""


def _import() -> None:
    global HalfcellImage, UNAVAILABLE
    try:
        from textual_image import _terminal

        # textual-image internal: get_cell_size() answers from this attribute once it is
        # set, instead of querying the terminal (which blocks on a non-tty). Checked against
        # textual-image 0.12.0; tests/test_sdk_internals.py.
        # (An attribute on a function object: no type declares it.)
        _terminal.get_cell_size._result = _terminal.CellSize(10, 20)  # type: ignore[attr-defined]
        saved = sys.__stdout__
        # typeshed declares sys.__stdout__ Final; the probe runs only on a tty stdout.
        sys.__stdout__ = None  # type: ignore[misc]  # Final in typeshed: see above
        try:
            import textual_image.renderable  # noqa: F401  (runs the probe, now a no-op)
        finally:
            sys.__stdout__ = saved  # type: ignore[misc]  # Final in typeshed: put back
        from textual_image.widget import HalfcellImage as widget

        HalfcellImage = widget
    except Exception as exc:  # not installed, or an incompatible version
        UNAVAILABLE = f"images are not drawn: textual-image unavailable ({type(exc).__name__})"


_import()


def decode_thumbnail(data: bytes) -> tuple[Any, str]:
    """Decode ``data`` (PNG/JPEG/GIF/WebP) to an RGB PIL image no larger than
    :data:`MAX_PIXELS` on either side. Returns ``(image, "")``, or ``(None, reason)`` when
    it cannot be drawn (plain text for the pane). Call it in a worker thread."""
    if UNAVAILABLE:
        return None, UNAVAILABLE
    try:
        from PIL import Image

        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data))
            picture.draft("RGB", (MAX_PIXELS, MAX_PIXELS))  # JPEG: decode at a lower scale
            picture.thumbnail((MAX_PIXELS, MAX_PIXELS))
            return picture.convert("RGB"), ""
    except Exception as exc:  # corrupt, truncated or hostile image data
        return None, f"could not decode the image ({type(exc).__name__})"


def cell_size(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    """Cells ``(columns, rows)`` for a ``width`` x ``height`` pixel picture drawn with
    half cells (one pixel per column, two per row), within ``max_width`` x ``max_height``
    cells, keeping the aspect ratio. Small pictures are not enlarged past 2x."""
    if width <= 0 or height <= 0:
        return 0, 0
    cols = max(1, min(max_width, width * 2))
    rows = max(1, round(cols * height / width / 2))
    if rows > max_height:
        rows = max(1, max_height)
        cols = max(1, min(max_width, round(rows * 2 * width / height)))
    return cols, rows
