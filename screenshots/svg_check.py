"""Read back the text of the captured SVGs and check what they must never show.

Textual's ``save_screenshot`` writes one ``<text>`` element per run of same-styled cells,
clipped to its terminal line; :func:`svg_lines` puts them back on a grid of cells, so a
string split across two styles is still found. ``python screenshots/svg_check.py FILE…``
prints the text of each file (handy to check a caption against its image).
"""

from __future__ import annotations

import html
import os
import re
import sys
from collections.abc import Iterable

#: Width in pixels of one cell in Textual's SVG export.
CELL_WIDTH = 12.2
#: Text that only a test or capture stand-in would put on screen.
STAND_INS = ("InMemoryKeyring", "keyring: screenshots.", "keyring: support.", "keyring: tests.")

_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[^)]*-line-(\d+)\)">(.*?)</text>',
    re.S,
)


def svg_lines(path: str) -> list[str]:
    """The terminal lines of a Textual SVG screenshot as plain text (trailing spaces cut).

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    rows: dict[int, dict[int, str]] = {}
    for match in _TEXT.finditer(source):
        column = round(float(match.group(1)) / CELL_WIDTH)
        body = html.unescape(match.group(3)).replace("\xa0", " ")
        row = rows.setdefault(int(match.group(2)), {})
        for offset, char in enumerate(body):
            row[column + offset] = char
    lines = []
    for number in range(max(rows, default=-1) + 1):
        row = rows.get(number, {})
        width = max(row, default=-1) + 1
        lines.append("".join(row.get(i, " ") for i in range(width)).rstrip())
    return lines


def check_svgs(folder: str, *, secrets: Iterable[str], paths: Iterable[str]) -> list[str]:
    """Problems of the ``*.svg`` files in ``folder``: a secret, a temporary path or a
    stand-in's name in the text (or, for secrets, anywhere in the file), or a footer
    whose ``? Help`` is not first (a stale capture: the key now leads). Returns one line
    per problem (``[]``: none); secrets are never repeated in them.

    Raises:
        OSError: a file cannot be read.
    """
    problems = []
    secrets = [s for s in secrets if s]
    paths = [p for p in paths if p]
    for name in sorted(n for n in os.listdir(folder) if n.endswith(".svg")):
        path = os.path.join(folder, name)
        lines = svg_lines(path)
        text = "\n".join(lines)
        with open(path, encoding="utf-8") as fh:
            raw = fh.read()
        for number, secret in enumerate(secrets, 1):
            if secret in text or secret in raw:
                problems.append(f"{name}: secret #{number} appears")
        for temporary in paths:
            if temporary in text:
                problems.append(f"{name}: a temporary path ({temporary}) appears")
        for stand_in in STAND_INS:
            if stand_in in text:
                problems.append(f"{name}: a stand-in appears: {stand_in!r}")
        footer = next((line for line in reversed(lines) if line.strip()), "")
        if "? Help" in footer and not footer.lstrip().startswith("? Help"):
            problems.append(f"{name}: the footer does not start with '? Help'")
    return problems


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        print(f"===== {argument}")
        print("\n".join(svg_lines(argument)))
