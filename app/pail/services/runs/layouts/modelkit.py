"""Placeholder: the modelkit layout (being written)."""

from __future__ import annotations

from collections.abc import Sequence

from pail.drivers.base import Entry
from pail.services.runs.layouts.base import Found, ReadText
from pail.services.runs.model import Run


class _Layout:
    name = "modelkit"

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        return None

    def load(self, run: Run, read: ReadText) -> list[str]:
        return []


MODELKIT = _Layout()
