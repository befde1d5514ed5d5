"""Line charts as inline SVG for the life page: no script, no font or file fetched, so the page opens offline. Pure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 720, 260, 56, 170, 28, 40
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass
class Chart:
    title: str
    x: list[str]  # category labels along the axis (windows or cohorts), in order
    series: list[tuple[str, list[float]]] = field(default_factory=list)  # NaN: no point
    limits: list[tuple[str, float]] = field(default_factory=list)  # horizontal dashed lines (the policy's limits)
    band: tuple[list[float], list[float]] | None = None  # shaded interval around the first series
    percent: bool = False


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def render(chart: Chart) -> str:
    """The chart as an <svg> element (role img, its title as aria-label)."""
    values = [v for _, s in chart.series for v in _finite(s)] + [v for _, v in chart.limits]
    if chart.band:
        values += _finite(chart.band[0]) + _finite(chart.band[1])
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    low, high = min(low, 0.0), high + (high - low) * 0.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(chart.x), 1)

    def px(i: int) -> float:
        return LEFT + (plot_w * (i + 0.5) / n)

    def py(v: float) -> float:
        return TOP + plot_h * (1 - (v - low) / (high - low))

    def fmt(v: float) -> str:
        return f"{v:.1%}" if chart.percent else f"{v:.3g}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="{escape(chart.title)}" class="chart">',
        f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(chart.title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#444"/>',
    ]
    for tick in (low, (low + high) / 2, high):
        parts.append(f'<text x="{LEFT - 4}" y="{py(tick) + 4:.1f}" font-size="10" text-anchor="end">{fmt(tick)}</text>')
    step = max(1, math.ceil(n / 12))
    for i, label in enumerate(chart.x):
        if i % step == 0:
            parts.append(
                f'<text x="{px(i):.1f}" y="{TOP + plot_h + 14}" font-size="10" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    if chart.band:
        upper = [(px(i), py(v)) for i, v in enumerate(chart.band[1]) if math.isfinite(v)]
        lower = [(px(i), py(v)) for i, v in enumerate(chart.band[0]) if math.isfinite(v)]
        if upper and lower:
            outline = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower[::-1])
            parts.append(f'<polygon points="{outline}" fill="#1f77b4" fill-opacity="0.15" class="interval"/>')
    for k, (label, value) in enumerate(chart.limits):
        y = py(value)
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#999" stroke-dasharray="5,4" '
            f'class="limit"/><text x="{LEFT + plot_w + 4}" y="{y + 4:.1f}" font-size="10">{escape(label)} '
            f"{fmt(value)}</text>"
        )
    legend_y = TOP + 10 + 14 * len(chart.limits)
    for k, (name, series) in enumerate(chart.series):
        colour = COLOURS[k % len(COLOURS)]
        points = [(px(i), py(v)) for i, v in enumerate(series) if v is not None and math.isfinite(v)]
        if len(points) > 1:
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" class="series"/>')
        for x, y in points:
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" class="point"/>')
        key = legend_y + 14 * k
        parts.append(
            f'<rect x="{LEFT + plot_w + 4}" y="{key - 8}" width="10" height="3" fill="{colour}"/>'
            f'<text x="{LEFT + plot_w + 18}" y="{key - 4}" font-size="10">{escape(name[:24])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
