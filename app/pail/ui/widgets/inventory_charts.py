"""The inventory view's charts: where the bytes of a prefix are by age and by storage class,
drawn as horizontal bar charts (textual-plotext), and the pure data preparation they draw
from (:func:`age_bars`, :func:`class_bars`, :func:`scale_for`).

Both charts draw bytes (what a cleanup or a storage-class change saves), in one binary unit
chosen from the largest bar (KiB, MiB, GiB...) and named in the title; the objects are in
the text beside them. What is drawn is kept on the widget (:attr:`BarChart.bars`) so tests
check the chart's data, not its pixels.

Plotext builds ANSI text that the widget parses: every label drawn (a storage class comes
from the report) goes through :func:`pail.core.text.clip` first, so an escape sequence
shows as ``␛`` and never drives the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual_plotext import PlotextPlot

from pail.core.text import clip
from pail.core.units import size_text
from pail.services.inventory.model import AgeBucket, ClassShare

#: Characters of a bar's label kept (a storage class such as ``INTELLIGENT_TIERING`` fits).
LABEL_CHARS = 19
#: Binary units, largest first: (bytes in one, name).
UNITS = (
    (1024**5, "PiB"),
    (1024**4, "TiB"),
    (1024**3, "GiB"),
    (1024**2, "MiB"),
    (1024, "KiB"),
    (1, "bytes"),
)


@dataclass(frozen=True)
class Bar:
    """One bar: ``label`` (one line, clipped), ``objects`` and ``bytes`` it stands for."""

    label: str
    objects: int
    bytes: int


def age_bars(buckets: Sequence[AgeBucket]) -> list[Bar]:
    """One bar per age bucket (``"30–90 d"``), youngest first, empty buckets kept (a gap
    in the ages is information)."""
    return [Bar(clip(b.label, LABEL_CHARS), b.objects, b.bytes) for b in buckets]


def class_bars(shares: Sequence[ClassShare]) -> list[Bar]:
    """One bar per storage class, largest first (as the query gives them); a class the
    report leaves blank is ``"(none)"``."""
    return [Bar(clip(s.storage_class or "(none)", LABEL_CHARS), s.objects, s.bytes) for s in shares]


def scale_for(largest: int) -> tuple[int, str]:
    """The unit bars up to ``largest`` bytes are drawn in: ``(1024**3, "GiB")`` for 5 GiB;
    ``(1, "bytes")`` below 1 KiB."""
    for size, name in UNITS:
        if largest >= size:
            return size, name
    return 1, "bytes"


class BarChart(PlotextPlot):
    """Horizontal bars of bytes, first bar at the top, under a title in the top border
    (:attr:`heading`).

    Attributes:
        bars: what is drawn (:class:`Bar`), for tests and the screen's text.
        what: the chart's subject (``"age"``, ``"storage class"``), in its title.
        empty_reason: why nothing is drawn (plain text), in the title.
    """

    DEFAULT_CSS = """
    BarChart {
        width: 1fr; height: 1fr; min-height: 5;
        border-top: solid $primary 50%; border-title-align: center;
    }
    """

    def __init__(self, what: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.what = what
        self.bars: list[Bar] = []
        self.unit = "bytes"
        self.empty_reason = "nothing yet"

    def show(self, bars: Sequence[Bar], *, empty_reason: str = "no objects") -> None:
        """Draw ``bars`` (or say ``empty_reason`` when there are none or all are empty)."""
        self.bars = list(bars)
        self.empty_reason = empty_reason
        self._draw()

    def clear_bars(self, reason: str) -> None:
        """Draw nothing, saying ``reason`` (plain text) in the title."""
        self.show([], empty_reason=reason)

    @property
    def compact(self) -> bool:
        """Too few rows for every bar and the frame and scale (frame top and bottom, the
        scale's line): the frame and scale are left out, the title names the largest
        bar's size instead, so no bar is dropped."""
        height = self.content_size.height
        return 0 < height < len(self.bars) + 3

    @property
    def heading(self) -> str:
        """``"age · GiB"`` (compact: ``"age · largest 7.8 KiB"``), or the subject and why
        nothing is drawn."""
        largest = max((bar.bytes for bar in self.bars), default=0)
        if not largest:
            return f"{self.what}: {self.empty_reason}"
        if self.compact:
            return f"{self.what} · largest {size_text(largest)}"
        return f"{self.what} · {self.unit}"

    def on_resize(self) -> None:
        self._draw()  # compact or not follows the height

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        largest = max((bar.bytes for bar in self.bars), default=0)
        # The title is the border's (drawn by Textual: cut, never dropped, when narrow;
        # never markup), not plotext's (dropped when wider than the plot).
        if not largest:
            self.border_title = Text(self.heading)
            self.refresh()
            return
        scale, self.unit = scale_for(largest)
        # plotext stacks horizontal bars from the bottom up: reversed, the first is on top.
        shown = list(reversed(self.bars))
        plt.bar(
            [bar.label for bar in shown],
            [bar.bytes / scale for bar in shown],
            orientation="horizontal",
            width=0.6,
            marker="sd",
            color="cyan",
        )
        if self.compact:
            plt.xticks([])
            plt.xaxes(lower=False, upper=False)
        self.border_title = Text(self.heading)
        self.refresh()


__all__ = ["Bar", "BarChart", "age_bars", "class_bars", "scale_for"]
