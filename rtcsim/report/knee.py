"""The capacity search's knee: one small chart per measured figure against the rooms held, the
SLO's threshold dashed across it, the capacity dashed down it, each step coloured by its
verdict (green held, red broke, amber the generator saturated). From ``capacity.json``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

from markupsafe import Markup

from rtcsim.report.charts import GRID, MUTED, fmt

VERDICT_COLOURS = {
    "good": "#2b8a3e",
    "slo": "#c92a2a",
    "unsteady": "#c92a2a",
    "generator": "#f08c00",
}
UNITS = {
    "join_success_ratio": "",
    "subscriber_loss_pct": "%",
    "video_fps_p5": "fps",
    "server_cpu_per_stream_pct": "% of a core",
    "server_rss_per_stream_kb": "kB",
}
ALWAYS = ("latency_p95_ms", "subscriber_loss_pct", "first_frame_p95_ms")


@dataclass(frozen=True)
class KneePoint:
    rooms: int
    value: float | None
    verdict: str


def _unit(metric: str) -> str:
    return UNITS.get(metric, "ms" if metric.endswith("_ms") else "")


def knee_chart(
    title: str,
    unit: str,
    points: Sequence[KneePoint],
    *,
    threshold: float | None = None,
    capacity_rooms: int | None = None,
    width: int = 300,
    height: int = 180,
) -> str:
    """One figure against rooms; ``None`` values are left out (a step that measured nothing)."""
    left, right, top, bottom = 48, 10, 22, 30
    shown = [p for p in points if p.value is not None and math.isfinite(p.value)]
    rooms = [p.rooms for p in points] or [0]
    values = [p.value for p in shown if p.value is not None]
    if threshold is not None:
        values.append(threshold)
    hi = max(values, default=1.0)
    lo = min(0.0, min(values, default=0.0))
    hi = hi * 1.1 if hi > lo else lo + 1.0
    r0, r1 = min([*rooms, 0]), max(rooms)
    span = max(r1 - r0, 1)
    plot_w, plot_h = width - left - right, height - top - bottom
    x_end, y_end = width - right, top + plot_h

    def x(r: float) -> float:
        return left + (r - r0) / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - (v - lo) / (hi - lo) * plot_h

    named = f"{escape(title)} ({escape(unit)})" if unit else escape(title)
    parts = [f'<text x="{left}" y="14" class="lg">{named}</text>']
    for i in range(3):
        v = lo + (hi - lo) * i / 2
        parts.append(
            f'<line x1="{left}" x2="{x_end}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 4}" y="{y(v) + 4:.1f}" class="ax" '
            f'text-anchor="end">{fmt(v, 1)}</text>'
        )
    for r in sorted(set(rooms)):
        parts.append(
            f'<text x="{x(r):.1f}" y="{y_end + 14}" class="ax" text-anchor="middle">{r}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 2}" class="ax" '
        'text-anchor="middle">rooms</text>'
    )
    if threshold is not None:
        parts.append(
            f'<line x1="{left}" x2="{x_end}" y1="{y(threshold):.1f}" y2="{y(threshold):.1f}" '
            f'stroke="#c92a2a" stroke-dasharray="4 3" data-threshold="{threshold!r}"/>'
        )
    if capacity_rooms:
        at = x(capacity_rooms)
        parts.append(
            f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top}" y2="{y_end}" stroke="{MUTED}" '
            f'stroke-dasharray="2 3" data-capacity="{capacity_rooms}"/>'
        )
    xy = [(x(p.rooms), y(p.value)) for p in shown if p.value is not None]
    if len(xy) > 1:
        line = " ".join(f"{a:.1f},{b:.1f}" for a, b in xy)
        parts.append(f'<polyline fill="none" stroke="{MUTED}" stroke-width="1.5" points="{line}"/>')
    for p, (px, py) in zip(shown, xy, strict=True):
        colour = VERDICT_COLOURS.get(p.verdict, MUTED)
        parts.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}" data-rooms="{p.rooms}" '
            f'data-value="{p.value!r}" data-verdict="{p.verdict}"><title>{p.rooms} rooms: '
            f"{fmt(p.value, 2)} {escape(unit)} ({p.verdict})</title></circle>"
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)} against '
        f'rooms" data-knee="{escape(title)}">{"".join(parts)}</svg>'
    )


def knee_charts(capacity: dict[str, Any], slo: Sequence[dict[str, Any]] = ()) -> list[Markup]:
    """A chart per SLO metric (with its threshold), then latency, loss and first frame if no
    SLO named them, then Janus's CPU and the generator's."""
    steps = capacity.get("steps", [])
    rooms = int(capacity.get("capacity_rooms") or 0) or None
    thresholds: dict[str, float] = {}
    metrics: list[str] = []
    for outcome in (steps[0].get("slo", []) if steps else []) or slo:
        metric = str(outcome["metric"])
        thresholds.setdefault(metric, float(outcome["value"]))
        if metric not in metrics:
            metrics.append(metric)
    metrics += [m for m in ALWAYS if m not in metrics]
    charts = []
    for metric in metrics:
        points = [KneePoint(s["rooms"], s["figures"].get(metric), s["verdict"]) for s in steps]
        charts.append(
            Markup(
                knee_chart(
                    metric,
                    _unit(metric),
                    points,
                    threshold=thresholds.get(metric),
                    capacity_rooms=rooms,
                )
            )
        )
    janus = [KneePoint(s["rooms"], s["server"].get("janus_cpu_pct"), s["verdict"]) for s in steps]
    charts.append(Markup(knee_chart("Janus CPU", "% of a core", janus, capacity_rooms=rooms)))
    generator = [
        KneePoint(s["rooms"], s["generator"].get("cpu_avg_cores"), s["verdict"]) for s in steps
    ]
    charts.append(Markup(knee_chart("generator CPU", "cores", generator, capacity_rooms=rooms)))
    return charts
