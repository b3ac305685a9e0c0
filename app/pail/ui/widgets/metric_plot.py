"""A metric's curve in the terminal: :class:`MetricPlot` (textual-plotext) and the pure data
preparation it draws from (:func:`curve_points`, :func:`plot_series`).

The runs view (:mod:`pail.ui.screens.runs`) plots one metric of the selected run, with the
other marked run overlaid: step on x, value on y. What is drawn is kept on the widget
(:attr:`MetricPlot.series`) so tests check the plot's data, not its pixels.

Plotext builds ANSI text that the widget parses (``Text.from_ansi``): every label drawn
(metric and run names come from the store) goes through :func:`pail.core.text.one_line`
first, so an escape sequence in a run name shows as ``␛`` and never drives the terminal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual_plotext import PlotextPlot

from pail.core.text import clip
from pail.services.runs.model import Run

#: Points drawn at most per curve (a braille plot 200 columns wide shows 400 dots across).
MAX_POINTS = 400
#: Characters of a run name kept in the legend.
LABEL_CHARS = 24
#: Each curve's colour: plotext's name and the same ANSI colour as a Rich style (plotext's
#: "orange" is ANSI 3, which Rich calls yellow), for the legend drawn beside the plot.
COLORS = (("cyan", "cyan"), ("orange", "yellow"))


@dataclass(frozen=True)
class Series:
    """One curve as drawn.

    Attributes:
        label: the legend's text (the run's name, one line, clipped).
        xs: steps (or logging order, when the run logged no steps), ascending.
        ys: values at those steps; finite floats only.
        stepped: ``True`` when ``xs`` are the tool's steps, ``False`` when they are the
            points' logging order (the tool logged no steps).
    """

    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    stepped: bool = True


def curve_points(
    run: Run, metric: str, max_points: int = MAX_POINTS
) -> tuple[list[float], list[float]]:
    """``run``'s logged values of ``metric`` as ``(xs, ys)`` for a line plot.

    * x is the point's step; points logged without a step take their position in the
      logging order (0, 1, ...) when no point of the metric has a step, else they are
      dropped (a position cannot be placed among steps);
    * NaN and infinite values are dropped (a diverged run shows where its curve ends);
    * several values at one step: the last logged one is kept (as :meth:`Run.final` does);
    * sorted by step; above ``max_points`` points, ``max_points`` of them evenly spaced
      by position are kept, the first and the last always among them.

    Returns:
        Two lists of equal length (empty when nothing finite was logged).
    """
    points = run.metrics.get(metric, [])
    stepped = any(p.step is not None for p in points)
    by_step: dict[float, float] = {}
    for index, point in enumerate(points):
        if not math.isfinite(point.value):
            continue
        if stepped:
            if point.step is None:
                continue
            by_step[float(point.step)] = point.value
        else:
            by_step[float(index)] = point.value
    xs = sorted(by_step)
    ys = [by_step[x] for x in xs]
    if len(xs) > max_points >= 2:
        last = len(xs) - 1
        keep = sorted({round(i * last / (max_points - 1)) for i in range(max_points)})
        xs = [xs[i] for i in keep]
        ys = [ys[i] for i in keep]
    return xs, ys


def plot_series(runs: Sequence[Run], metric: str, max_points: int = MAX_POINTS) -> list[Series]:
    """One :class:`Series` per run that logged a finite value of ``metric`` (runs
    without one are left out), in the order given (the selected run first)."""
    out = []
    for run in runs:
        xs, ys = curve_points(run, metric, max_points)
        if not xs:
            continue
        stepped = any(p.step is not None for p in run.metrics.get(metric, []))
        label = clip(run.name, LABEL_CHARS)
        out.append(Series(label, tuple(xs), tuple(ys), stepped))
    return out


class MetricPlot(PlotextPlot):
    """A line plot of one metric of one or two runs (braille markers).

    Attributes:
        metric: the metric drawn, or ``None`` (nothing to plot).
        series: the curves drawn (:func:`plot_series`), for tests and the screen's text.
        empty_reason: why nothing is drawn (plain text), shown in the plot's title.
    """

    DEFAULT_CSS = """
    MetricPlot { width: 1fr; height: 1fr; min-height: 6; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.metric: str | None = None
        self.series: list[Series] = []
        self.empty_reason = "no metric"

    def show(self, metric: str | None, runs: Sequence[Run]) -> None:
        """Plot ``metric`` for ``runs`` (the first is the selected run; a second is
        overlaid), or say why nothing is plotted when ``metric`` is ``None`` or no run
        logged a finite value of it."""
        self.metric = metric
        self.series = plot_series(runs, metric) if metric is not None else []
        if metric is None:
            self.empty_reason = "no metrics logged"
        elif not self.series:
            self.empty_reason = f"{clip(metric, 40)}: no finite values logged"
        else:
            self.empty_reason = ""
        self._draw()

    def legend(self) -> Text:
        """``━━ run  ━━ other run`` in the curves' colours (plain text names), or why
        nothing is drawn."""
        if not self.series:
            return Text(self.empty_reason, style="dim")
        out = Text()
        for number, series in enumerate(self.series):
            if number:
                out.append("  ")
            out.append("━━ ", style=COLORS[number % len(COLORS)][1])
            out.append(series.label)
        return out

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        if not self.series or self.metric is None:
            plt.title(self.empty_reason)
            self.refresh()
            return
        # No plotext labels: its legend sits over the curves' start (a loss's highest
        # part); :meth:`legend` is drawn outside the plot instead.
        for number, series in enumerate(self.series):
            plt.plot(
                list(series.xs),
                list(series.ys),
                marker="braille",
                color=COLORS[number % len(COLORS)][0],
            )
        plt.title(clip(self.metric, 60))
        plt.xlabel("step" if all(s.stepped for s in self.series) else "logged #")
        self.refresh()
