"""Charts drawn on the server as SVG, readable without JavaScript: the geometry here, the drawing
in the templates (``_timeliness_chart.html``). Each chart has a title and a description, its
counts written beside the bars, and the same figures in a table under it."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.statistics import Figures

KINDS = ("early", "on_time", "late")  # bottom to top


@dataclass(frozen=True)
class Segment:
    kind: str
    count: int
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str  # "mm/yyyy"
    x: float
    total: int
    top: float  # the y of the bar's top (its total is written above it)
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot_top: int
    plot_bottom: int
    plot_left: int
    bar_width: float
    highest: int
    ticks: tuple[tuple[int, float], ...]  # (value, y)
    bars: tuple[Bar, ...]


def timeliness_chart(months: list[Figures]) -> Chart:
    """Stacked bars per month: early, on time, late (against the committed appointment)."""
    plot_left, plot_top, plot_bottom = 48, 24, 220
    slot = 56 if len(months) <= 12 else 36
    width = plot_left + max(1, len(months)) * slot + 16
    highest = max([m.classified for m in months] + [1])
    step = max(1, -(-highest // 4))  # four grid lines at most
    top_value = step * -(-highest // step)
    scale = (plot_bottom - plot_top) / top_value

    def y_of(value: float) -> float:
        return round(plot_bottom - value * scale, 1)

    bars = []
    for index, month in enumerate(months):
        x = plot_left + index * slot + slot * 0.2
        segments, base = [], 0
        for kind in KINDS:
            count = getattr(month, kind)
            if count:
                segments.append(Segment(kind, count, y_of(base + count), round(count * scale, 1)))
            base += count
        bars.append(Bar(month.month_label, round(x, 1), month.classified, y_of(base), tuple(segments)))
    ticks = tuple((value, y_of(value)) for value in range(0, top_value + 1, step))
    return Chart(
        width, 260, plot_top, plot_bottom, plot_left, round(slot * 0.6, 1), top_value, ticks, tuple(bars)
    )
