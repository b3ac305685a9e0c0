"""The UI's tunable limits and folders, read from the environment in one place.

* ``PAIL_PREVIEW_LIMIT``: most bytes a preview reads (default 1 MiB,
  :data:`pail.services.previews.DEFAULT_LIMIT`); ``PAIL_IMAGE_LIMIT``: images up to this
  many bytes are read whole and drawn (default 10 MiB). Both are byte counts; a suffix
  ``k``/``m``/``g`` (KiB/MiB/GiB) is accepted. ``PAIL_PREVIEW_WINDOW``: bytes of text per
  window and per "load more" (default 64 KiB).
* ``PAIL_DOWNLOAD_DIR``: the folder the download dialog proposes (default
  ``platformdirs.user_downloads_dir()/pail``).
* Files opened in a viewer are downloaded below ``user_cache_dir("pail")/open``.

A value that does not parse falls back to the default (and :attr:`UISettings.problems`
says which variable was ignored, for a notification) rather than stopping the app.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import platformdirs

from pail.services.previews import DEFAULT_IMAGE_LIMIT, DEFAULT_LIMIT, DEFAULT_WINDOW

_UNITS = {"": 1, "b": 1, "k": 1024, "kib": 1024, "m": 1024**2, "mib": 1024**2, "g": 1024**3}
_UNITS["gib"] = 1024**3
_SIZE_RE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_bytes(text: str) -> int | None:
    """``"1048576"``, ``"512k"``, ``"10MiB"`` -> bytes; ``None`` if it does not parse or
    is not positive."""
    match = _SIZE_RE.match(text)
    if match is None:
        return None
    unit = _UNITS.get(match.group(2).lower())
    if unit is None:
        return None
    value = int(match.group(1)) * unit
    return value if value > 0 else None


@dataclass(frozen=True)
class UISettings:
    """Preview limits (bytes) and folders (absolute paths).

    Attributes:
        preview_limit: most bytes fetched for one preview.
        image_limit: images up to this size are read whole and drawn.
        window: bytes of text read first and by each "load more".
        download_dir: the folder the download dialog proposes.
        open_cache_dir: where objects opened in a viewer are downloaded.
        problems: names of variables that were set but ignored (unparseable).
    """

    preview_limit: int = DEFAULT_LIMIT
    image_limit: int = DEFAULT_IMAGE_LIMIT
    window: int = DEFAULT_WINDOW
    download_dir: str = ""
    open_cache_dir: str = ""
    problems: tuple[str, ...] = field(default=())


def load_settings(environ: Mapping[str, str] | None = None) -> UISettings:
    """Settings from ``environ`` (default ``os.environ``); see the module doc."""
    env = os.environ if environ is None else environ
    problems: list[str] = []

    def size(name: str, default: int) -> int:
        raw = env.get(name, "").strip()
        if not raw:
            return default
        value = parse_bytes(raw)
        if value is None:
            problems.append(name)
            return default
        return value

    downloads = env.get("PAIL_DOWNLOAD_DIR", "").strip()
    if not downloads:
        downloads = os.path.join(platformdirs.user_downloads_dir(), "pail")
    return UISettings(
        preview_limit=size("PAIL_PREVIEW_LIMIT", DEFAULT_LIMIT),
        image_limit=size("PAIL_IMAGE_LIMIT", DEFAULT_IMAGE_LIMIT),
        window=size("PAIL_PREVIEW_WINDOW", DEFAULT_WINDOW),
        download_dir=os.path.abspath(os.path.expanduser(downloads)),
        open_cache_dir=os.path.join(platformdirs.user_cache_dir("pail"), "open"),
        problems=tuple(problems),
    )
