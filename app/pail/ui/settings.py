"""The UI's tunable limits and folders, read from the environment in one place.

* ``PAIL_PREVIEW_LIMIT``: most bytes a preview reads (default 1 MiB,
  :data:`pail.services.previews.DEFAULT_LIMIT`); ``PAIL_IMAGE_LIMIT``: images up to this
  many bytes are read whole and drawn (default 10 MiB). ``PAIL_PREVIEW_WINDOW``: bytes of
  text per window and per "load more" (default 64 KiB). All three are sizes as
  :func:`pail.core.units.parse_size` reads them (``1048576``, ``512k``, ``10MiB``,
  ``10MB``) and must be more than zero.
* ``PAIL_DOWNLOAD_DIR``: the folder the download dialog proposes (default
  ``platformdirs.user_downloads_dir()/pail``).
* Files opened in a viewer are downloaded below ``user_cache_dir("pail")/open``.

A value that does not parse falls back to the default (and :attr:`UISettings.problems`
says which variable was ignored, for a notification) rather than stopping the app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import platformdirs

from pail.core.units import UnitError, parse_size
from pail.services.previews import DEFAULT_IMAGE_LIMIT, DEFAULT_LIMIT, DEFAULT_WINDOW


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
        try:
            value = parse_size(raw)
        except UnitError:
            value = 0
        if value <= 0:
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
