"""Where a downloaded key may land on disk.

A key is server-supplied text: ``../../.bashrc``, ``/etc/passwd``, ``a\\..\\..\\x`` or
``C:evil`` must never write outside the folder the user chose. A key's path relative to
the download root is checked twice: segment by segment (:func:`unsafe_reason`), then, after
joining, by resolving symlinks (``os.path.realpath``) and comparing with ``os.path.commonpath``
(:func:`local_target`), which also catches a folder inside the target that is a symlink
pointing elsewhere.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

_DRIVE = re.compile(r"^[A-Za-z]:")
_NAME_MAX = 255  # bytes per path segment on Linux, macOS and Windows file systems


class UnsafeKey(ValueError):
    """A key whose local path would leave the target folder; ``str()`` is the reason."""


def unsafe_reason(rel: str) -> str | None:
    """Why the relative path ``rel`` (``/``-separated, from a key) is unsafe, or ``None``.

    Refused: an empty path, an absolute path, ``.``/``..`` or empty segments (``a//b``),
    backslashes (Windows separators), drive letters (``C:``), NUL and other control
    characters (C0, DEL, C1) and segments longer than 255 bytes.
    """
    if not rel:
        return "empty name"
    if rel.startswith("/"):
        return "absolute path"
    for ch in rel:
        code = ord(ch)
        if code == 0:
            return "NUL character"
        if code < 0x20 or 0x7F <= code <= 0x9F:
            return "control character"
    if "\\" in rel:
        return "backslash in key"
    for segment in rel.split("/"):
        if segment == "..":
            return "'..' segment"
        if segment == ".":
            return "'.' segment"
        if segment == "":
            return "empty path segment"
        if _DRIVE.match(segment):
            return "drive letter"
        if len(segment.encode("utf-8", "surrogateescape")) > _NAME_MAX:
            return "name longer than 255 bytes"
    return None


def local_target(root: str, rel: str) -> str:
    """The absolute path for ``rel`` under the folder ``root``.

    Raises:
        UnsafeKey: :func:`unsafe_reason` refuses ``rel``, or the joined path resolves
            (symlinks followed) outside ``root``.
    """
    reason = unsafe_reason(rel)
    if reason:
        raise UnsafeKey(reason)
    base = os.path.realpath(root)
    path = os.path.join(base, *rel.split("/"))
    if os.path.commonpath([base, os.path.realpath(path)]) != base:
        raise UnsafeKey("resolves outside the target folder")
    return path


def keep_both_name(name: str, taken: Callable[[str], bool]) -> str:
    """The first ``name (N).ext`` for which ``taken`` is false (``model.pt`` ->
    ``model (1).pt``; ``archive.tar.gz`` -> ``archive (1).tar.gz``)."""
    stem, dot, ext = name.partition(".") if not name.startswith(".") else (name, "", "")
    n = 1
    while True:
        candidate = f"{stem} ({n}){dot}{ext}"
        if not taken(candidate):
            return candidate
        n += 1


def keep_both_path(final: str) -> str:
    """The first free ``name (N).ext`` next to the path ``final``."""
    folder, name = os.path.split(final)
    return os.path.join(
        folder, keep_both_name(name, lambda n: os.path.lexists(os.path.join(folder, n)))
    )
