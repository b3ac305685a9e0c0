"""Sizes and durations, both ways: the one place pail reads and writes them.

**Reading sizes** (:func:`parse_size`): a number and an optional unit. Decimal SI units
``kB`` ``MB`` ``GB`` ``TB`` ``PB`` are powers of 1,000; binary IEC units ``KiB`` ``MiB``
``GiB`` ``TiB`` ``PiB`` are powers of 1,024 (IEC 80000-13); the single letters ``K`` ``M``
``G`` ``T`` ``P`` are binary, as in ``find -size``, ``du`` and rclone; ``B`` or no unit
means bytes. Units are case-insensitive (``10mb`` is ``10MB``: nobody means millibits),
spaces may separate number and unit (``10 MB``), digits are ASCII, a fraction rounds down
to whole bytes (``1.5K`` is 1,536; no exponents). At most :data:`MAX_SIZE` bytes.

**Reading durations** (:func:`parse_duration`): a number and a unit, several parts allowed:
``30d``, ``12h``, ``90m``, ``2w``, ``45s``, ``1d12h``, ``1.5h`` (units ``s`` ``m`` ``h`` ``d``
``w``, case-insensitive; spaces ignored; no months or years, whose length varies). More
than zero and at most :data:`MAX_DURATION` (100 years: an age beyond that selects nothing
real and overflows date arithmetic).

Numbers are read exactly (:mod:`decimal`), so no spelling of a huge number overflows. Bad
input and values out of range raise :class:`UnitError`, a :class:`ValueError` whose message
is one plain line that quotes the input.

**Writing** (one function per purpose):

* :func:`size_text` -- compact binary units: ``"512 B"``, ``"1.5 KiB"``, ``"64.0 MiB"``
  (tree rows, tables, the command line's ``-h``);
* :func:`size_with_bytes` -- the same with the exact count: ``"1.5 KiB (1,536 bytes)"``
  (the detail pane, questions about one file);
* :func:`short_age` -- an age in a narrow column: ``"45m"``, ``"12h"``, ``"9d"``, ``"2y"``;
* :func:`ago` -- an age in words: ``"3 days ago"``;
* :func:`duration_words` -- a length of time in words: ``"1 hour and 30 minutes"``;
* :func:`plural` -- a count and its noun: ``"1 object"``, ``"2 objects"``, ``"1,000 child
  prefixes"`` (the one place a count meets a noun, on the command line and in the app).

humanize writes what it already writes the way pail wants (binary sizes from 1 KiB, ages
and durations in words); it is imported on first use, so ``import pail.cli`` stays cheap.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

#: Largest size accepted, in bytes: 2**63 - 1 (8 EiB), a signed 64-bit count, far above
#: any object a store holds.
MAX_SIZE = 2**63 - 1
#: Longest duration accepted: 100 years of 365.25 days (36,525 days).
MAX_DURATION = timedelta(days=36525)

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_WEEK, _YEAR = 7 * _DAY, 365 * _DAY

_DURATION_UNITS = {"s": 1, "m": _MINUTE, "h": _HOUR, "d": _DAY, "w": _WEEK}
# ASCII digits only ("١٠MB" is refused; \d would take any script's digits).
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]+)")
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?|\.[0-9]+) *([a-zA-Z]*)\s*$")
_SIZE_UNITS: dict[str, int] = {"": 1, "b": 1}
for _i, _p in enumerate("kmgtp", start=1):
    _SIZE_UNITS[f"{_p}b"] = 1000**_i
    _SIZE_UNITS[f"{_p}ib"] = 1024**_i
    _SIZE_UNITS[_p] = 1024**_i

# (unit, seconds, least count): the first row whose ``seconds * least`` the age reaches.
_AGE_STEPS = (("y", _YEAR, 1), ("d", _DAY, 1), ("h", _HOUR, 1), ("m", _MINUTE, 1))
# With weeks, years and weeks start at two of them ("13d", not "1w"; "20w", not "140d").
_AGE_STEPS_WEEKS = (("y", _YEAR, 2), ("w", _WEEK, 2), *_AGE_STEPS[1:])


class UnitError(ValueError):
    """A size or duration that does not parse or is out of range; ``str()`` is one plain
    line quoting the input."""


# -- reading ----------------------------------------------------------------------------


def parse_size(text: str) -> int:
    """Bytes from a size as typed: ``"100MB"`` -> 100,000,000; ``"10 MiB"`` ->
    10,485,760; ``"1.5GiB"`` -> 1,610,612,736; ``"512K"`` -> 524,288; ``"4096"`` -> 4,096.

    Units as in the module doc; fractions round down to whole bytes.

    Raises:
        UnitError: empty, negative, not a number, unknown unit, more than
            :data:`MAX_SIZE` bytes.
    """
    raw = str(text)
    match = _SIZE.match(raw)
    if not match:
        raise UnitError(f"not a size: {_quoted(raw)} (e.g. 100MB, 1.5GiB, 512K, 4096)")
    number, unit = match.groups()
    factor = _SIZE_UNITS.get(unit.lower())
    if factor is None:
        raise UnitError(
            f"unknown size unit {_quoted(unit)} in {_quoted(raw)}: use B, kB/MB/GB/TB "
            "(x1000) or KiB/MiB/GiB/TiB (x1024)"
        )
    size = int(_exact(number) * factor)
    if size > MAX_SIZE:
        raise UnitError(
            f"a size must be at most {MAX_SIZE:,} bytes (8 EiB), not {_quoted(raw.strip())}"
        )
    return size


def parse_duration(text: str) -> timedelta:
    """A duration as typed: ``"30d"`` -> 30 days. Units: ``s`` seconds, ``m`` minutes,
    ``h`` hours, ``d`` days, ``w`` weeks, case-insensitive; parts add up (``1d12h``);
    spaces are ignored (``1d 12h``). More than zero and at most :data:`MAX_DURATION`.

    Raises:
        UnitError: empty, unknown or missing unit, zero, more than 100 years.
    """
    raw = str(text).strip()
    compact = raw.replace(" ", "")
    if not compact:
        raise UnitError("empty duration: give a number and a unit, e.g. 30d, 12h, 90m, 2w")
    seconds = Decimal(0)
    pos = 0
    for match in _DURATION_PART.finditer(compact):
        if match.start() != pos:
            break
        unit = match.group(2).lower()
        if unit not in _DURATION_UNITS:
            raise UnitError(
                f"unknown duration unit {_quoted(match.group(2))} in {_quoted(raw)}: "
                "use s, m, h, d or w"
            )
        seconds += _exact(match.group(1)) * _DURATION_UNITS[unit]
        pos = match.end()
    if pos != len(compact):
        raise UnitError(
            f"not a duration: {_quoted(raw)} (a number and a unit, e.g. 30d, 12h, 90m, 2w)"
        )
    if seconds <= 0:
        raise UnitError(f"a duration must be greater than zero, not {_quoted(raw)}")
    if seconds > int(MAX_DURATION.total_seconds()):
        raise UnitError(f"a duration must be at most 100 years (36525d), not {_quoted(raw)}")
    return timedelta(seconds=float(seconds))


def _exact(number: str) -> Decimal:
    """The decimal ``number`` (digits, one optional point) exactly; a number too long to
    read at all is refused rather than rounded to infinity."""
    if len(number) > 100:
        raise UnitError(f"number too long: {number[:20]}...")
    try:
        return Decimal(number)
    except InvalidOperation:  # the patterns only pass digits; kept as a guard
        raise UnitError(f"not a number: {_quoted(number)}") from None


def _quoted(text: str) -> str:
    """``repr`` of the input, cut to 60 characters: one line whatever was typed (repr
    escapes line breaks and control characters)."""
    return repr(text if len(text) <= 60 else text[:59] + "…")


# -- writing ----------------------------------------------------------------------------


def size_text(size: int | None, human: bool = True) -> str:
    """A byte count for a row or a sentence.

    ``human`` (default): below 1 KiB ``"512 B"``, above it one decimal of the largest
    binary unit that keeps the number below 1,024: ``"1.5 KiB"``, ``"64.0 MiB"``,
    ``"8.0 EiB"`` (``humanize.naturalsize(binary=True)``). Without ``human`` the bare
    count, ``"1536"`` (``aws s3 ls`` without ``--human-readable``). ``None`` is ``""``.
    """
    if size is None:
        return ""
    if not human:
        return str(size)
    if size < 1024:
        return f"{size} B"  # humanize says "1 Byte" / "512 Bytes"
    import humanize

    return humanize.naturalsize(size, binary=True)


def size_with_bytes(size: int | None) -> str:
    """``"1.5 KiB (1,536 bytes)"``; below 1 KiB just ``"12 bytes"``; ``None`` is ``""``."""
    if size is None:
        return ""
    if size < 1024:
        return f"{size:,} bytes"
    return f"{size_text(size)} ({size:,} bytes)"


def short_age(when: datetime | None, now: datetime | None = None, *, weeks: bool = False) -> str:
    """How long before ``now`` (default: the current UTC time) ``when`` was, in the
    largest whole unit: ``"45s"``, ``"12m"``, ``"5h"``, ``"9d"``, ``"2y"`` (365-day years,
    truncated). ``weeks`` adds weeks and starts years and weeks at two of them (``"13d"``,
    ``"4w"``, ``"57w"``, ``"2y"``): ``pail du``'s six-wide column. A future time is
    ``"0s"``; ``None`` is ``""``. Both times must be timezone-aware.
    """
    if when is None:
        return ""
    seconds = max(0.0, ((now or datetime.now(timezone.utc)) - when).total_seconds())
    for unit, length, least in _AGE_STEPS_WEEKS if weeks else _AGE_STEPS:
        if seconds >= length * least:
            return f"{int(seconds // length)}{unit}"
    return f"{int(seconds)}s"


def ago(when: datetime, now: datetime) -> str:
    """``when`` relative to ``now`` in words: ``"3 days ago"``, ``"a month ago"``, ``"now"``,
    ``"2 hours from now"`` (``humanize.naturaltime``). Both timezone-aware."""
    import humanize

    return humanize.naturaltime(now - when)


def duration_words(value: timedelta | float) -> str:
    """A length of time (a timedelta or seconds) in words, to the second:
    ``"45 seconds"``, ``"1 minute and 6 seconds"``, ``"7 days"``, ``"1 day and 12 hours"``
    (``humanize.precisedelta``, seconds rounded)."""
    import humanize

    return humanize.precisedelta(value, minimum_unit="seconds", format="%0.0f")


def clock_span(seconds: float | None) -> str:
    """A run's length, two units at most: ``"45s"``, ``"12m 05s"``, ``"3h 02m"``,
    ``"2d 04h"``; ``""`` when unknown (``None``, negative or not finite)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return ""
    days, rest = divmod(round(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def metric_text(value: float | None) -> str:
    """A logged value in at most 6 significant digits (``"0.1234"``, ``"1.5e-05"``);
    ``"NaN"`` for NaN, ``""`` when there is none."""
    if value is None:
        return ""
    if math.isnan(value):
        return "NaN"
    return f"{value:.6g}"


__all__ = [
    "MAX_DURATION",
    "MAX_SIZE",
    "UnitError",
    "ago",
    "clock_span",
    "duration_words",
    "metric_text",
    "parse_duration",
    "parse_size",
    "short_age",
    "size_text",
    "size_with_bytes",
]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` with thousands separators and ``noun`` in the right number.

    Args:
        count: how many (any int; only exactly 1 takes the singular, as in English).
        noun: the singular (``"object"``, ``"child prefix"``, ``"rule"``).
        nouns: the plural when it is not ``noun`` + "s"/"es" (``"versions and delete
            markers"`` for ``"version or delete marker"``); nouns ending in s, x, z, ch or
            sh take "es" (``"prefix"`` -> ``"prefixes"``).

    Returns:
        ``"1 object"``, ``"2 objects"``, ``"1,000 child prefixes"``.
    """
    if count == 1:
        return f"{count:,} {noun}"
    if nouns is None:
        nouns = noun + ("es" if noun.endswith(("s", "x", "z", "ch", "sh")) else "s")
    return f"{count:,} {nouns}"
