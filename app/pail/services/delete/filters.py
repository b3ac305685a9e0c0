"""Filters that choose stale objects: age, size, glob, regex.

Ages and sizes are read by :func:`pail.core.units.parse_duration` and
:func:`pail.core.units.parse_size` (``30d``, ``12h``, ``2w``, ``1d12h``; ``100MB``, ``10 MiB``,
``1.5GiB``, ``512K``: decimal SI and binary IEC units as documented there), at most
:data:`~pail.core.units.MAX_DURATION` (100 years) and :data:`~pail.core.units.MAX_SIZE`
bytes (a signed 64-bit count); a run count at most :data:`MAX_KEEP_LAST`. Bad input and
values out of range raise :class:`FilterError` with a one-line message.

Globs and regexes are matched against the key *relative to the selected prefix*
(``runs/run-1/model.ckpt`` selected from ``runs/`` is matched as ``run-1/model.ckpt``).
Globs use :func:`fnmatch.fnmatchcase`, where ``*`` also matches ``/``, so ``*.ckpt``
matches checkpoints at any depth; a regex is searched anywhere in the relative key
(:func:`re.search`; anchor it with ``^``/``$``).
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pail.core.units import MAX_DURATION, MAX_SIZE, UnitError, parse_duration, parse_size
from pail.drivers.base import Entry


class FilterError(ValueError):
    """A filter value that does not parse; the message is one plain line."""


#: Most runs "keep the newest N runs" takes.
MAX_KEEP_LAST = 1_000_000


@dataclass(frozen=True)
class StaleFilters:
    """Which objects are selected for deletion; every given criterion must hold.

    Attributes:
        older_than: last_modified earlier than ``now - older_than`` (an object without a
            time never matches an age filter).
        larger_than / smaller_than: size in bytes strictly greater / smaller.
        include: globs; when any are given, the relative key must match one.
        exclude: globs; a relative key matching any is never selected.
        regex: searched in the relative key.
        keep_last: keep the N newest runs (child prefixes of the selection, ordered by
            their newest object); applied by the planner, not per object.
        now: the reference time (UTC) for ``older_than``; default: the time of planning.
    """

    older_than: timedelta | None = None
    larger_than: int | None = None
    smaller_than: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regex: str | None = None
    keep_last: int | None = None
    now: datetime | None = None
    _compiled: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.regex is not None:
            try:
                object.__setattr__(self, "_compiled", re.compile(self.regex))
            except re.error as exc:
                raise FilterError(f"bad regex {self.regex!r}: {exc}") from None
        if self.keep_last is not None and self.keep_last < 0:
            raise FilterError(f"--keep-last must be 0 or more, not {self.keep_last}")
        if self.keep_last is not None and self.keep_last > MAX_KEEP_LAST:
            raise FilterError(
                f"--keep-last must be at most {MAX_KEEP_LAST:,}, not {self.keep_last}"
            )
        for name in ("larger_than", "smaller_than"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FilterError(f"{name.replace('_', ' ')} must be 0 or more bytes")
            if value is not None and value > MAX_SIZE:
                raise FilterError(f"{name.replace('_', ' ')} must be at most {MAX_SIZE:,} bytes")
        if self.older_than is not None and not timedelta(0) < self.older_than <= MAX_DURATION:
            raise FilterError("older than must be more than zero and at most 100 years")

    @classmethod
    def parse(
        cls,
        *,
        older_than: str | None = None,
        larger_than: str | None = None,
        smaller_than: str | None = None,
        include: tuple[str, ...] | list[str] = (),
        exclude: tuple[str, ...] | list[str] = (),
        regex: str | None = None,
        keep_last: int | None = None,
        now: datetime | None = None,
    ) -> StaleFilters:
        """Filters from text as typed (``"30d"``, ``"100MB"``). Raises FilterError."""
        try:
            older = parse_duration(older_than) if older_than is not None else None
            larger = parse_size(larger_than) if larger_than is not None else None
            smaller = parse_size(smaller_than) if smaller_than is not None else None
        except UnitError as exc:
            raise FilterError(str(exc)) from None
        return cls(
            older_than=older,
            larger_than=larger,
            smaller_than=smaller,
            include=tuple(include),
            exclude=tuple(exclude),
            regex=regex,
            keep_last=keep_last,
            now=now,
        )

    @property
    def active(self) -> bool:
        """True when any criterion narrows the selection."""
        return any(
            v not in (None, ())
            for v in (
                self.older_than,
                self.larger_than,
                self.smaller_than,
                self.include,
                self.exclude,
                self.regex,
                self.keep_last,
            )
        )

    def cutoff(self, now: datetime | None = None) -> datetime | None:
        """The UTC time before which objects are "older than", or ``None``."""
        if self.older_than is None:
            return None
        ref = self.now or now or datetime.now(timezone.utc)
        return ref.astimezone(timezone.utc) - self.older_than

    def matches(self, entry: Entry, rel: str, cutoff: datetime | None = None) -> bool:
        """Whether the object ``entry`` (key ``rel`` relative to the selection) is selected
        by the per-object criteria; ``cutoff`` comes from :meth:`cutoff`."""
        if cutoff is not None and (entry.last_modified is None or entry.last_modified >= cutoff):
            return False
        size = entry.size or 0
        if self.larger_than is not None and not size > self.larger_than:
            return False
        if self.smaller_than is not None and not size < self.smaller_than:
            return False
        if self.include and not any(fnmatch.fnmatchcase(rel, g) for g in self.include):
            return False
        if any(fnmatch.fnmatchcase(rel, g) for g in self.exclude):
            return False
        return not (self._compiled is not None and not self._compiled.search(rel))
