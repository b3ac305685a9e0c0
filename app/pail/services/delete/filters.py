"""Filters that choose stale objects: age, size, glob, regex; and their parsers.

Durations: a number and a unit, several parts allowed (``30d``, ``12h``, ``90m``, ``2w``,
``45s``, ``1d12h``, ``1.5h``). Sizes: a number and an optional unit, decimal (``kB``
``MB`` ``GB`` ``TB`` ``PB``: powers of 1,000, IEC 80000-13) or binary (``KiB`` ``MiB``
``GiB`` ``TiB`` ``PiB``: powers of 1,024); single letters ``K`` ``M`` ``G`` ``T`` ``P`` are
binary, as in ``find -size``, ``du`` and rclone. Units are case-insensitive. Bad input
raises :class:`FilterError` with a one-line message, and so do values out of range: a
duration must be more than zero and at most :data:`MAX_DURATION` (100 years: an age
beyond that selects nothing real and overflows date arithmetic), a size at most
:data:`MAX_SIZE` bytes (a signed 64-bit count, far above any object a store holds), a run
count at most :data:`MAX_KEEP_LAST`. Numbers are read exactly (``decimal``), so no
spelling of a huge number ends in an overflow.

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
from decimal import Decimal, InvalidOperation

from pail.drivers.base import Entry


class FilterError(ValueError):
    """A filter value that does not parse; the message is one plain line."""


#: Longest duration a filter takes: 100 years of 365.25 days (36,525 days).
MAX_DURATION = timedelta(days=36525)
#: Largest size a filter takes, in bytes: 2**63 - 1 (8 EiB), a signed 64-bit count.
MAX_SIZE = 2**63 - 1
#: Most runs "keep the newest N runs" takes.
MAX_KEEP_LAST = 1_000_000

_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Z]*)\s*$")
_SIZE_UNITS: dict[str, int] = {"": 1, "b": 1}
for _i, _p in enumerate("kmgtp", start=1):
    _SIZE_UNITS[f"{_p}b"] = 1000**_i
    _SIZE_UNITS[f"{_p}ib"] = 1024**_i
    _SIZE_UNITS[_p] = 1024**_i


def parse_duration(text: str) -> timedelta:
    """``"30d"`` -> 30 days. Units: ``s`` seconds, ``m`` minutes, ``h`` hours, ``d`` days,
    ``w`` weeks; parts add up (``1d12h``). Must be greater than zero and at most
    :data:`MAX_DURATION` (100 years).

    Raises:
        FilterError: empty, unknown unit, missing unit, zero, more than 100 years.
    """
    raw = str(text).strip()
    compact = raw.replace(" ", "")
    if not compact:
        raise FilterError("empty duration: give a number and a unit, e.g. 30d, 12h, 90m, 2w")
    seconds = Decimal(0)
    pos = 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != pos:
            break
        unit = match.group(2).lower()
        if unit not in _DURATION_UNITS:
            raise FilterError(
                f"unknown duration unit {match.group(2)!r} in {raw!r}: use s, m, h, d or w"
            )
        seconds += _exact(match.group(1)) * _DURATION_UNITS[unit]
        pos = match.end()
    if pos != len(compact):
        raise FilterError(f"not a duration: {raw!r} (a number and a unit, e.g. 30d, 12h, 90m, 2w)")
    if seconds <= 0:
        raise FilterError(f"a duration must be greater than zero, not {raw!r}")
    if seconds > int(MAX_DURATION.total_seconds()):
        raise FilterError(f"a duration must be at most 100 years (36525d), not {raw!r}")
    return timedelta(seconds=float(seconds))


def parse_size(text: str) -> int:
    """``"100MB"`` -> 100,000,000 bytes; ``"1.5GiB"`` -> 1,610,612,736; ``"512"`` -> 512.
    See the module doc for units. Fractions round down to whole bytes. At most
    :data:`MAX_SIZE` bytes.

    Raises:
        FilterError: empty, negative, unknown unit, more than :data:`MAX_SIZE` bytes.
    """
    raw = str(text)
    match = _SIZE.match(raw)
    if not match:
        raise FilterError(f"not a size: {raw!r} (e.g. 100MB, 1.5GiB, 512K, 4096)")
    number, unit = match.groups()
    factor = _SIZE_UNITS.get(unit.lower())
    if factor is None:
        raise FilterError(
            f"unknown size unit {unit!r} in {raw!r}: use B, kB/MB/GB/TB (x1000) or "
            "KiB/MiB/GiB/TiB (x1024)"
        )
    size = int(_exact(number) * factor)
    if size > MAX_SIZE:
        raise FilterError(f"a size must be at most {MAX_SIZE:,} bytes (8 EiB), not {raw.strip()!r}")
    return size


def _exact(number: str) -> Decimal:
    """The decimal ``number`` (digits, one optional point) exactly; a number too long to
    read at all is refused rather than rounded to infinity."""
    if len(number) > 100:
        raise FilterError(f"number too long: {number[:20]}...")
    try:
        return Decimal(number)
    except InvalidOperation:  # the patterns only pass digits; kept as a guard
        raise FilterError(f"not a number: {number!r}") from None


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
        return cls(
            older_than=parse_duration(older_than) if older_than is not None else None,
            larger_than=parse_size(larger_than) if larger_than is not None else None,
            smaller_than=parse_size(smaller_than) if smaller_than is not None else None,
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
