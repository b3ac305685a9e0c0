"""The contract between run detection and one tool's layout.

A layout module exposes a :class:`LayoutReader`: ``find`` looks at the listed objects (keys
only, no reads) and claims the runs it recognises; ``load`` reads a run's small metadata
files (params, metrics, status) through a bounded :data:`ReadText`. Detection
(:mod:`pail.services.runs.detect`) counts each run's objects, bytes and times, offers keys
not yet claimed to the next layout, and runs ``load`` for every run concurrently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pail.drivers.base import Entry
from pail.services.runs.model import Run

#: ``read(key) -> text``: the whole object decoded as UTF-8 (errors replaced). Raises
#: :class:`MetadataTooLarge` above the detection's per-file limit, StorageError on failure.
ReadText = Callable[[str], str]

#: An MLflow / FastTrackML run id: a UUID4 as 32 lowercase hex digits.
RUN_ID = re.compile(r"[0-9a-f]{32}")


class MetadataTooLarge(Exception):
    """A metadata file is larger than detection reads (``key``, ``size`` in bytes)."""

    def __init__(self, key: str, size: int, limit: int) -> None:
        self.key, self.size, self.limit = key, size, limit
        super().__init__(f"{key} is {size:,} bytes; run metadata is read up to {limit:,} bytes")


@dataclass
class Found:
    """What one layout recognised: ``runs`` (prefixes, ids, names, experiment and groups
    set; counts and times are filled by detection) and ``evidence``, one plain sentence
    saying what was seen."""

    runs: list[Run] = field(default_factory=list)
    evidence: str = ""


class LayoutReader(Protocol):
    """One tool's layout."""

    #: ``Run.layout`` value (:data:`pail.services.runs.model.Layout`).
    name: str

    def find(self, base: str, objects: Sequence[Entry]) -> Found | None:
        """The runs among ``objects`` (every object under the location ``base``, in key
        order, minus those an earlier layout claimed), or ``None`` when this layout is not
        recognised. Must not do I/O."""
        ...

    def load(self, run: Run, read: ReadText) -> list[str]:
        """Fill ``run``'s params, metrics, status, tags, name and start/end from its
        metadata files (``run.groups`` says where they are). Returns plain warning lines
        for metadata that could not be used; raises nothing but StorageError."""
        ...


@runtime_checkable
class Settles(Protocol):
    """A layout whose runs' metadata decide something across runs (the Hugging Face
    Trainer's best checkpoint is named by the newest one): detection calls ``settle`` with
    the layout's runs after every ``load``."""

    def settle(self, runs: list[Run]) -> None:
        """Adjust ``runs`` in place (no I/O)."""
        ...


def segments(key: str) -> list[str]:
    """``"a/b/c.txt"`` -> ``["a", "b", "c.txt"]``."""
    return key.split("/")
