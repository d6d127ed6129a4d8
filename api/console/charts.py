"""Plots as inline SVG, drawn on the server: no chart library, no script, nothing fetched. Colours come
from classes in console.css (the page's CSP allows no inline style); every chart has a <title> and a
table beside it for screen readers and for exact figures. Geometry is integer arithmetic on the
figures, which are integers (points, minor units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 560
BAR_HEIGHT = 22
GAP = 10
LABEL_WIDTH = 170


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as the page writes it (points, money with its currency)
    tone: str = "primary"  # a class in console.css: primary, secondary, warning, muted


def bar_chart(title: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars from zero, scaled to the largest value."""
    height = max(1, len(bars)) * (BAR_HEIGHT + GAP) + GAP
    top = max([b.value for b in bars if b.value > 0], default=1)
    room = WIDTH - LABEL_WIDTH - 110
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for i, bar in enumerate(bars):
        y = GAP + i * (BAR_HEIGHT + GAP)
        length = max(0, bar.value) * room // top
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
            f"{escape(bar.label)}</text>"
            f'<rect class="bar bar-{escape(bar.tone)}" x="{LABEL_WIDTH}" y="{y}" width="{length}"'
            f' height="{BAR_HEIGHT}"/>'
            f'<text class="chart-value" x="{LABEL_WIDTH + length + 6}" y="{y + 16}">'
            f"{escape(bar.shown)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def burn_gauge(title: str, used: int, budget: int, shown: str) -> Markup:
    """How much of a budget is spent: a track for the budget, a fill for what is used (capped at the
    track when over budget, the text saying by how much)."""
    room = WIDTH - 20
    filled = min(room, max(0, used) * room // budget) if budget > 0 else 0
    tone = "warning" if budget > 0 and used * 10 >= budget * 9 else "primary"
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} 56" width="{WIDTH}" height="56"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<rect class="track" x="10" y="8" width="{room}" height="22" rx="3"/>'
        f'<rect class="bar bar-{tone}" x="10" y="8" width="{filled}" height="22" rx="3"/>'
        f'<text class="chart-value" x="10" y="48">{escape(shown)}</text></svg>'
    )


def sparkline(title: str, values: Sequence[int], width: int = 160, height: int = 36) -> Markup:
    """A small line of values in order (a segment's daily sizes), scaled to its own range; one value
    is a flat line. The title says the first and last figures."""
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    span = max(1, high - low)
    steps = max(1, len(values) - 1)
    room_x, room_y = width - 4, height - 8
    points = " ".join(
        f"{2 + i * room_x // steps},{4 + (high - v) * room_y // span}" for i, v in enumerate(values)
    )
    if len(values) == 1:
        points += f" {2 + room_x},{4 + (high - values[0]) * room_y // span}"
    return Markup(
        f'<svg class="spark" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<polyline class="line" points="{points}"/></svg>'
    )


def percent_of(part: int, whole: int) -> str:
    """A share in whole percent, rounded down, without floats."""
    return "-" if whole <= 0 else f"{part * 100 // whole}%"


@dataclass(frozen=True)
class Interval:
    """One row of a forest plot: an estimate and its interval, exact decimals (the API's Decimal),
    any of them missing when the data were too few."""

    label: str
    estimate: Decimal | None
    low: Decimal | None
    high: Decimal | None
    tone: str = "primary"


def forest(title: str, rows: Sequence[Interval]) -> Markup:
    """Intervals on one shared axis with a line at zero (no difference): a whisker from low to high
    and a dot at the estimate. Positions are computed in exact decimals, then rounded to pixels."""
    ends = [v for r in rows for v in (r.low, r.high, r.estimate) if v is not None]
    low, high = min([Decimal(0), *ends]), max([Decimal(0), *ends])
    span = (high - low) or Decimal(1)
    room = WIDTH - LABEL_WIDTH - 30
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP) + GAP + 18

    def x(value: Decimal) -> int:
        return LABEL_WIDTH + 10 + int((value - low) * room / span)

    zero = x(Decimal(0))
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line class="axis" x1="{zero}" y1="4" x2="{zero}" y2="{height - 18}"/>'
        f'<text class="chart-value" x="{zero}" y="{height - 4}" text-anchor="middle">0</text>'
    ]
    for i, row in enumerate(rows):
        y = GAP + i * (BAR_HEIGHT + GAP) + BAR_HEIGHT // 2
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{y + 5}" text-anchor="end">'
            f"{escape(row.label)}</text>"
        )
        if row.low is not None and row.high is not None:
            parts.append(
                f'<line class="whisker whisker-{escape(row.tone)}" x1="{x(row.low)}" y1="{y}"'
                f' x2="{x(row.high)}" y2="{y}"/>'
            )
        if row.estimate is not None:
            parts.append(
                f'<circle class="dot dot-{escape(row.tone)}" cx="{x(row.estimate)}" cy="{y}" r="5"/>'
            )
        else:
            parts.append(f'<text class="chart-value" x="{LABEL_WIDTH + 10}" y="{y + 5}">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(title: str, labels: Sequence[str], values: Sequence[int], shown_last: str) -> Markup:
    """A line of integer values over labelled buckets (cumulative cost by day or hour), from zero to
    the largest value; the first and last bucket are written under the axis."""
    if not values:
        return Markup("")
    height, left, bottom = 180, 20, 150
    top = max(1, max(values))
    steps = max(1, len(values) - 1)
    room_x, room_y = WIDTH - left - 20, bottom - 20
    drawn = " ".join(
        f"{left + i * room_x // steps},{bottom - max(0, v) * room_y // top}" for i, v in enumerate(values)
    )
    if len(values) == 1:
        drawn += f" {left + room_x},{bottom - max(0, values[0]) * room_y // top}"
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{left + room_x}" y2="{bottom}"/>'
        f'<polyline class="series" points="{drawn}"/>'
        f'<text class="chart-value" x="{left}" y="{bottom + 20}">{escape(labels[0])}</text>'
        f'<text class="chart-value" x="{left + room_x}" y="{bottom + 20}" text-anchor="end">'
        f"{escape(labels[-1])}</text>"
        f'<text class="chart-value" x="{left + room_x}" y="14" text-anchor="end">{escape(shown_last)}</text>'
        "</svg>"
    )
