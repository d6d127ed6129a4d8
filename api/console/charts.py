"""Plots as inline SVG, drawn on the server: no chart library, no script, nothing fetched. Colours come
from classes in console.css (the page's CSP allows no inline style); every chart has a <title> and a
table beside it for screen readers and for exact figures. Geometry is integer arithmetic on the
figures, which are integers (points, minor units)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
