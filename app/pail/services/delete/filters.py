"""Filters that choose stale objects: age, size, glob, regex.

Ages and sizes are read by :func:`pail.core.units.parse_duration` and
:func:`pail.core.units.parse_size` (``30d``, ``12h``, ``2w``, ``1d12h``; ``100MB``, ``10 MiB``,
``1.5GiB``, ``512K``: decimal SI and binary IEC units as documented there), at most
:data:`~pail.core.units.MAX_DURATION` (100 years) and :data:`~pail.core.units.MAX_SIZE`
bytes (a signed 64-bit count); a run count at most :data:`MAX_KEEP_LAST`. Bad input and
values out of range raise :class:`FilterError` with a one-line message.

The run rules (keep the last N runs, the best N by a metric, runs tagged or named as kept)
are not per object: they make :attr:`StaleFilters.retention`, which the planner applies
to the runs detected under the selection (:mod:`pail.services.runs.retention`).

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
from pail.services.runs.model import MetricMode
from pail.services.runs.retention import (
    MAX_KEEP_RUNS,
    MetricValue,
    RetentionError,
    RetentionRules,
)


class FilterError(ValueError):
    """A filter value that does not parse; the message is one plain line."""


#: Most runs "keep the last N runs" (or the best N) takes.
MAX_KEEP_LAST = MAX_KEEP_RUNS


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
        keep_last: keep each experiment's N newest runs (by start time).
        keep_best: keep each experiment's N best runs by ``metric`` (``mode`` min/max,
            default from the metric's name; ``metric_value`` ``"best"``: the best value
            the run ever logged, ``"final"``: its last).
        keep_tags: tag names or ``name=value`` pairs that keep a run.
        keep_names: globs on a run's name or id that keep it.
        now: the reference time (UTC) for ``older_than``; default: the time of planning.

    The run rules (``keep_*``, ``metric``, ``mode``, ``metric_value``) are applied by the
    planner to detected runs, not per object (:attr:`retention`).
    """

    older_than: timedelta | None = None
    larger_than: int | None = None
    smaller_than: int | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    regex: str | None = None
    keep_last: int | None = None
    keep_best: int | None = None
    metric: str | None = None
    mode: MetricMode | None = None
    metric_value: MetricValue = "best"
    keep_tags: tuple[str, ...] = ()
    keep_names: tuple[str, ...] = ()
    now: datetime | None = None
    _compiled: re.Pattern[str] | None = field(default=None, init=False, compare=False, repr=False)
    _rules: RetentionRules | None = field(default=None, init=False, compare=False, repr=False)

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
        try:
            rules = RetentionRules(
                keep_last=self.keep_last,
                keep_best=self.keep_best,
                metric=self.metric,
                mode=self.mode,
                keep_tags=tuple(self.keep_tags),
                keep_names=tuple(self.keep_names),
                value=self.metric_value,
            )
        except RetentionError as exc:
            raise FilterError(str(exc)) from None
        object.__setattr__(self, "_rules", rules if rules.active else None)

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
        keep_best: int | None = None,
        metric: str | None = None,
        mode: str | None = None,
        metric_value: str = "best",
        keep_tags: tuple[str, ...] | list[str] = (),
        keep_names: tuple[str, ...] | list[str] = (),
        now: datetime | None = None,
    ) -> StaleFilters:
        """Filters from text as typed (``"30d"``, ``"100MB"``; ``mode`` ``"min"``,
        ``"max"`` or ``None``; ``metric_value`` ``"best"`` or ``"final"``). Raises
        FilterError."""
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
            keep_best=keep_best,
            metric=metric.strip() if metric is not None else None,
            mode=_mode(mode),
            metric_value=_metric_value(metric_value),
            keep_tags=tuple(keep_tags),
            keep_names=tuple(keep_names),
            now=now,
        )

    @property
    def active(self) -> bool:
        """True when any criterion narrows the selection."""
        return (
            any(
                v not in (None, ())
                for v in (
                    self.older_than,
                    self.larger_than,
                    self.smaller_than,
                    self.include,
                    self.exclude,
                    self.regex,
                )
            )
            or self.retention is not None
        )

    @property
    def retention(self) -> RetentionRules | None:
        """The run rules, or ``None`` when none is given (then nothing is counted in runs
        and the planner works on objects only)."""
        return self._rules

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


def _mode(text: str | None) -> MetricMode | None:
    if text is None:
        return None
    if text not in ("min", "max"):
        raise FilterError(f"mode: min or max, not {text!r}")
    return "min" if text == "min" else "max"


def _metric_value(text: str) -> MetricValue:
    if text not in ("best", "final"):
        raise FilterError(f"metric value: best or final, not {text!r}")
    return "best" if text == "best" else "final"
