"""The "User location" panel's map: land drawn from the shipped outline (``world``), places as
markers sized by their connections.

A load run has one faker location per user, hundreds of places: a dot and a label each piled
into a blob (issue 15). Places are therefore gathered into cells of ``CELL_DEG`` degrees, one
marker per cell at the connections' mean position, its area by its connections, and only the
``LABELLED`` biggest are labelled; every marker's hover text lists its places.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from rtcsim.report.charts import GRID, MUTED, PALETTE, svg
from rtcsim.report.model import Location
from rtcsim.report.world import land

CELL_DEG = 10.0
LABELLED = 8
HOVER_PLACES = 12
LAND = "#dde5ec"
SEA = "#f5f9fc"


@dataclass(frozen=True)
class Marker:
    """Places of one cell: where to draw them, how many connections, which places."""

    lat: float
    lon: float
    connections: int
    places: tuple[Location, ...]

    @property
    def label(self) -> str:
        top = self.places[0].label
        return top if len(self.places) == 1 else f"{top} +{len(self.places) - 1}"


def markers(locations: Sequence[Location], cell_deg: float = CELL_DEG) -> list[Marker]:
    """Locations gathered by cell, biggest first; a cell's position is its places' mean
    weighted by connections."""
    cells: dict[tuple[int, int], list[Location]] = {}
    for loc in locations:
        key = (math.floor(loc.lat / cell_deg), math.floor(loc.lon / cell_deg))
        cells.setdefault(key, []).append(loc)
    found = []
    for places in cells.values():
        total = sum(p.connections for p in places)
        # Weighted by connections; by place when none counts any.
        weights = [p.connections for p in places] if total else [1] * len(places)
        lat = sum(p.lat * w for p, w in zip(places, weights, strict=True)) / sum(weights)
        lon = sum(p.lon * w for p, w in zip(places, weights, strict=True)) / sum(weights)
        ordered = tuple(sorted(places, key=lambda p: (-p.connections, p.label)))
        found.append(Marker(lat, lon, total, ordered))
    return sorted(found, key=lambda m: (-m.connections, m.label))


def land_path(width: int, height: int) -> str:
    """The outline as one SVG path, equirectangular on ``width`` x ``height``."""
    parts = []
    for ring in land():
        points = [
            f"{(lon + 180) / 360 * width:.1f},{(90 - lat) / 180 * height:.1f}" for lon, lat in ring
        ]
        parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


def world_map(locations: Sequence[Location], width: int = 720) -> str:
    """Land, a 30° graticule, one sized marker per cell of places."""
    height = width // 2

    def x(lon: float) -> float:
        return (lon + 180) / 360 * width

    def y(lat: float) -> float:
        return (90 - lat) / 180 * height

    parts = [
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="{SEA}"/>',
        f'<path d="{land_path(width, height)}" fill="{LAND}" stroke="#c3ceda" '
        'stroke-width="0.5" class="land"/>',
    ]
    for lon in range(-180, 181, 30):
        parts.append(
            f'<line x1="{x(lon):.1f}" x2="{x(lon):.1f}" y1="0" y2="{height}" stroke="{GRID}" '
            f'stroke-opacity="0.6"/><text x="{x(lon) + 2:.1f}" y="{height - 3}" class="ax">'
            f"{lon}°</text>"
        )
    for lat in range(-60, 91, 30):
        parts.append(
            f'<line x1="0" x2="{width}" y1="{y(lat):.1f}" y2="{y(lat):.1f}" stroke="{GRID}" '
            f'stroke-opacity="0.6"/><text x="2" y="{y(lat) - 2:.1f}" class="ax">{lat}°</text>'
        )
    parts.append(
        f'<line x1="0" x2="{width}" y1="{y(0)}" y2="{y(0)}" stroke="{MUTED}" '
        'stroke-dasharray="4 3" stroke-opacity="0.6"/>'
    )
    found = markers(locations)
    top = max((m.connections for m in found), default=1) or 1
    for rank, m in enumerate(found):
        r = 3 + 11 * math.sqrt(m.connections / top)
        listed = ", ".join(f"{p.label} ({p.connections})" for p in m.places[:HOVER_PLACES])
        more = len(m.places) - HOVER_PLACES
        listed += f", +{more} more" if more > 0 else ""
        parts.append(
            f'<circle cx="{x(m.lon):.1f}" cy="{y(m.lat):.1f}" r="{r:.1f}" fill="{PALETTE[1]}" '
            f'fill-opacity="0.7" stroke="#fff" class="loc"><title>{m.connections} '
            f"connection(s) from {len(m.places)} place(s): {escape(listed)}</title></circle>"
        )
        if rank < LABELLED:
            parts.append(
                f'<text x="{x(m.lon) + r + 2:.1f}" y="{y(m.lat) + 4:.1f}" class="lg">'
                f"{escape(m.label)}</text>"
            )
    return svg(width, height, "".join(parts), "user locations")
