"""Dashboard charts as inline SVG drawn on the server (no script, no external library).

Pure functions: numbers in, SVG text out; every label is escaped.
"""

from __future__ import annotations

from typing import Callable, Sequence

import attrs
from markupsafe import Markup, escape

COLOURS = {"delivered": "#43a047", "failed": "#e53935", "pending": "#90a4ae"}
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 24, 28


@attrs.frozen
class Day:
    label: str  # MM-DD
    delivered: int = 0
    failed: int = 0
    pending: int = 0

    @property
    def total(self) -> int:
        return self.delivered + self.failed + self.pending

    @property
    def rate(self) -> float | None:
        final = self.delivered + self.failed
        return None if final == 0 else self.delivered / final


def _nice_max(value: int) -> int:
    """A round axis maximum at or above ``value``."""
    if value <= 4:
        return 4
    step = 1
    while step * 10 < value:
        step *= 10
    for multiple in (1, 2, 2.5, 5, 10):
        top = int(step * multiple)
        if top >= value:
            return top
    return step * 10


def _frame(width: int, height: int, label: str) -> list[str]:
    return [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{escape(label)}">']


def volume_chart(days: Sequence[Day], t: Callable[..., str]) -> Markup:
    """Stacked bars per day: delivered, failed, in progress; with a legend."""
    parts = _frame(WIDTH, HEIGHT, t("dash.volume_chart"))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max((d.total for d in days), default=0))
    for i in range(5):
        value = top * i // 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e6ebf0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    slot = plot_w / max(1, len(days))
    bar = max(4.0, slot * 0.6)
    for index, day in enumerate(days):
        x = LEFT + slot * index + (slot - bar) / 2
        y = TOP + plot_h
        for series in ("delivered", "failed", "pending"):
            count = getattr(day, series)
            if not count:
                continue
            h = plot_h * count / top
            y -= h
            parts.append(f'<rect class="bar {series}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[series]}"><title>{escape(day.label)} {escape(t("chart." + series))}: '
                         f'{count}</title></rect>')
        if len(days) <= 16 or index % 2 == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(day.label)}</text>')
    x = LEFT
    for series in ("delivered", "failed", "pending"):
        parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{COLOURS[series]}"/>')
        parts.append(f'<text x="{x + 14}" y="15">{escape(t("chart." + series))}</text>')
        x += 90
    parts.append("</svg>")
    return Markup("".join(parts))


def rate_chart(days: Sequence[Day], t: Callable[..., str]) -> Markup:
    """Delivery rate per day (delivered / messages with a final state) as a line, 0-100 %."""
    width = 420
    parts = _frame(width, HEIGHT, t("dash.rate_chart"))
    plot_w, plot_h = width - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for pct in (0, 25, 50, 75, 100):
        y = TOP + plot_h - plot_h * pct / 100
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT}" y2="{y:.1f}" stroke="#e6ebf0"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{pct}%</text>')
    step = plot_w / max(1, len(days) - 1)
    points = []
    for index, day in enumerate(days):
        x = LEFT + step * index if len(days) > 1 else LEFT + plot_w / 2
        if index % 2 == 0 or len(days) <= 8:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - 10}" text-anchor="middle">{escape(day.label)}</text>')
        if day.rate is not None:
            y = TOP + plot_h - plot_h * day.rate
            points.append((x, y, day))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS["delivered"]}" stroke-width="2"/>')
    for x, y, day in points:
        parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{COLOURS["delivered"]}">'
                     f'<title>{escape(day.label)}: {day.rate * 100:.1f}%</title></circle>')  # type: ignore[operator]
    parts.append("</svg>")
    return Markup("".join(parts))
