"""Inline SVG charts, drawn in Python: the page must work offline, with no chart library.

Each function takes plain numbers and returns SVG markup. Values are escaped; hover text is an
SVG ``<title>`` (every browser shows it, no script needed).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

from rtcsim.report.model import Bucket, Series

PALETTE = ("#0b6bcb", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#1098ad", "#5f3dc4")
MUTED = "#868e96"
GRID = "#e9ecef"


def fmt(value: float | None, digits: int = 1) -> str:
    """A number as the page shows it: thousands separated, ``—`` when absent."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.{digits}f}"


def _clock(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=dt.UTC).strftime("%H:%M:%S")


def _day_clock(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def svg(width: int, height: int, body: str, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def _legend(names: Sequence[str], x: float, y: float) -> str:
    items = []
    for i, name in enumerate(names):
        colour = PALETTE[i % len(PALETTE)]
        items.append(
            f'<rect x="{x + i * 150}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + i * 150 + 14}" y="{y}" class="lg">{escape(name)}</text>'
        )
    return "".join(items)


def line_chart(series: Sequence[Series], width: int = 620, height: int = 220) -> str:
    """Time series on one axis (same unit expected); gaps where a bucket has no document."""
    left, right, top, bottom = 56, 12, 12, 44
    times = [p.t_ms for s in series for p in s.points]
    values = [p.value for s in series for p in s.points if p.value is not None]
    if not times or not values:
        return svg(width, 60, '<text x="8" y="30" class="empty">no data</text>', "no data")
    t0, t1 = min(times), max(times)
    hi = max(values)
    lo = min(0.0, min(values))
    hi = hi if hi > lo else lo + 1.0
    span_t = max(t1 - t0, 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(t: int) -> float:
        if t1 == t0:  # one bucket (a short run): in the middle, not a dot against the axis
            return left + plot_w / 2
        return left + (t - t0) / span_t * plot_w

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    parts = []
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="{GRID}"/><text x="{left - 4}" y="{y(v) + 4:.1f}" class="ax" '
            f'text-anchor="end">{fmt(v, 2)}</text>'
        )
    # The first label starts at the axis and the last ends at the edge: centred, they were cut.
    ticks = [(t0, "middle")] if t1 == t0 else [(t0, "start"), (t0 + span_t // 2, "middle")]
    ticks += [] if t1 == t0 else [(t1, "end")]
    for t, anchor in ticks:
        parts.append(
            f'<text x="{x(t):.1f}" y="{top + plot_h + 14}" class="ax" '
            f'text-anchor="{anchor}">{_clock(t)}</text>'
        )
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        run: list[str] = []
        runs: list[list[str]] = []
        for p in s.points:
            if p.value is None:
                if run:
                    runs.append(run)
                run = []
                continue
            run.append(f"{x(p.t_ms):.1f},{y(p.value):.1f}")
            parts.append(
                f'<circle cx="{x(p.t_ms):.1f}" cy="{y(p.value):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(s.name)} {_day_clock(p.t_ms)} UTC: {fmt(p.value, 2)} "
                f"{escape(s.unit)}</title></circle>"
            )
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                parts.append(
                    f'<polyline fill="none" stroke="{colour}" stroke-width="2" '
                    f'points="{" ".join(r)}"/>'
                )
    parts.append(_legend([f"{s.name} ({s.unit})" for s in series], left, height - 8))
    return svg(width, height, "".join(parts), ", ".join(s.name for s in series))


def bar_chart(buckets: Sequence[Bucket], width: int = 420, unit: str = "") -> str:
    """Horizontal bars, one per labelled count, in the given order."""
    row, label_w = 24, 130
    height = max(len(buckets), 1) * row + 8
    if not buckets:
        return svg(width, 40, '<text x="8" y="24" class="empty">no data</text>', "no data")
    top = max(b.count for b in buckets) or 1
    parts = []
    for i, b in enumerate(buckets):
        y = 4 + i * row
        w = (width - label_w - 60) * b.count / top
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" class="ax" text-anchor="end">'
            f"{escape(b.label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"><title>{escape(b.label)}: {b.count} {escape(unit)}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" class="ax">{b.count}</text>'
        )
    return svg(width, height, "".join(parts), "bars")


def donut(buckets: Sequence[Bucket], size: int = 180) -> str:
    """A ratio as a ring; the legend carries counts and percentages."""
    total = sum(b.count for b in buckets)
    width = size + 220
    if total == 0:
        return svg(width, 40, '<text x="8" y="24" class="empty">no data</text>', "no data")
    cx = cy = size / 2
    radius, hole = size / 2 - 4, size / 4
    parts = []
    angle = -math.pi / 2
    for i, b in enumerate(buckets):
        if b.count == 0:
            continue
        colour = PALETTE[i % len(PALETTE)]
        share = b.count / total
        title = f"<title>{escape(b.label)}: {b.count} ({share:.0%})</title>"
        if share >= 0.9999:
            parts.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(radius + hole) / 2}" fill="none" '
                f'stroke="{colour}" stroke-width="{radius - hole}">{title}</circle>'
            )
            continue
        end = angle + share * 2 * math.pi
        large = 1 if share > 0.5 else 0
        p = [
            (cx + radius * math.cos(angle), cy + radius * math.sin(angle)),
            (cx + radius * math.cos(end), cy + radius * math.sin(end)),
            (cx + hole * math.cos(end), cy + hole * math.sin(end)),
            (cx + hole * math.cos(angle), cy + hole * math.sin(angle)),
        ]
        parts.append(
            f'<path fill="{colour}" d="M{p[0][0]:.1f},{p[0][1]:.1f} '
            f"A{radius},{radius} 0 {large} 1 {p[1][0]:.1f},{p[1][1]:.1f} "
            f"L{p[2][0]:.1f},{p[2][1]:.1f} "
            f'A{hole},{hole} 0 {large} 0 {p[3][0]:.1f},{p[3][1]:.1f} Z">{title}</path>'
        )
        angle = end
    for i, b in enumerate(buckets):
        y = 20 + i * 22
        parts.append(
            f'<rect x="{size + 16}" y="{y - 10}" width="12" height="12" '
            f'fill="{PALETTE[i % len(PALETTE)]}"/><text x="{size + 34}" y="{y}" class="lg">'
            f"{escape(b.label)}: {b.count} ({b.count / total:.0%})</text>"
        )
    return svg(width, size, "".join(parts), "ratio")


def cdf_chart(
    values: Sequence[float], total: int, unit: str = "ms", width: int = 620, height: int = 220
) -> str:
    """The share of ``total`` items with a value at most x, as a step line (an empirical CDF):
    items without a value (endpoints that never connected) keep the curve below 100 %."""
    left, right, top, bottom = 56, 16, 12, 40
    if not values or total <= 0:
        return svg(width, 60, '<text x="8" y="30" class="empty">no data</text>', "no data")
    ordered = sorted(values)
    hi = max(ordered[-1], 1.0)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(v: float) -> float:
        return left + v / hi * plot_w

    def y(share: float) -> float:
        return top + plot_h - share * plot_h

    parts = []
    for pct in (0, 25, 50, 75, 100):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(pct / 100):.1f}" '
            f'y2="{y(pct / 100):.1f}" stroke="{GRID}"/><text x="{left - 4}" '
            f'y="{y(pct / 100) + 4:.1f}" class="ax" text-anchor="end">{pct} %</text>'
        )
    for i, anchor in ((0, "start"), (2, "middle"), (4, "end")):
        v = hi * i / 4
        parts.append(
            f'<text x="{x(v):.1f}" y="{top + plot_h + 14}" class="ax" '
            f'text-anchor="{anchor}">{fmt(v, 0)} {escape(unit)}</text>'
        )
    points = [f"{x(0):.1f},{y(0):.1f}"]
    for i, v in enumerate(ordered):
        points.append(f"{x(v):.1f},{y(i / total):.1f}")
        points.append(f"{x(v):.1f},{y((i + 1) / total):.1f}")
    points.append(f"{x(hi):.1f},{y(len(ordered) / total):.1f}")
    parts.append(
        f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="2" points="{" ".join(points)}">'
        f"<title>{len(ordered)} of {total} within {fmt(hi, 0)} {escape(unit)}</title></polyline>"
    )
    parts.append(
        f'<text x="{left}" y="{height - 6}" class="lg">share of {total} endpoints connected '
        f"within x {escape(unit)} of their creation</text>"
    )
    return svg(width, height, "".join(parts), "time to connected, cumulative")
