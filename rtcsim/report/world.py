"""The world's land outline the report's map is drawn on, shipped as package data.

The page must work offline (no tiles, no CDN), so the outline travels with rtcsim:
``data/land-110m.json`` holds Natural Earth's 1:110m land polygons (public domain; version 4.1.0
as redistributed in TopoJSON by the npm package ``world-atlas`` 2.0.2, ISC), converted once by
:func:`convert` (``python -m rtcsim.report.world land-110m.json``): arcs decoded, rings rounded
to 0.1° and thinned to points at least ``MIN_STEP_DEG`` apart, ~40 kB.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

OUTLINE = Path(__file__).parent / "data" / "land-110m.json"
SOURCE = (
    "Natural Earth 1:110m land, public domain (naturalearthdata.com), v4.1.0 via the npm "
    "package world-atlas 2.0.2 (ISC)"
)
MIN_STEP_DEG = 0.3
"""Points closer than this to the previous one kept are dropped: invisible at the report's
720 px width (0.6 px), a third of the file."""

Ring = tuple[tuple[float, float], ...]


def _arc_points(topology: dict[str, Any], index: int) -> list[tuple[float, float]]:
    """One TopoJSON arc as lon/lat points (delta-decoded, de-quantized); ``~index`` reversed."""
    arc = topology["arcs"][index if index >= 0 else ~index]
    transform = topology.get("transform")
    points: list[tuple[float, float]] = []
    x = y = 0.0
    for dx, dy, *_ in arc:
        if transform:
            x, y = x + dx, y + dy
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            points.append((x * sx + tx, y * sy + ty))
        else:
            points.append((float(dx), float(dy)))
    return points if index >= 0 else points[::-1]


def _ring(topology: dict[str, Any], arcs: Sequence[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for index in arcs:
        points = _arc_points(topology, index)
        ring.extend(points[1:] if ring else points)  # each arc starts where the last ended
    return ring


def _thin(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    kept: list[tuple[float, float]] = []
    for lon, lat in ring:
        point = (round(lon, 1), round(lat, 1))
        if kept and max(abs(point[0] - kept[-1][0]), abs(point[1] - kept[-1][1])) < MIN_STEP_DEG:
            continue
        kept.append(point)
    return kept


def topojson_rings(topology: dict[str, Any]) -> list[Ring]:
    """Every polygon ring of every object of a TopoJSON topology, thinned (:func:`_thin`)."""
    rings: list[Ring] = []
    for obj in topology["objects"].values():
        geometries = obj.get("geometries", [obj])
        for geometry in geometries:
            polygons = geometry.get("arcs", [])
            if geometry.get("type") == "Polygon":
                polygons = [polygons]
            elif geometry.get("type") != "MultiPolygon":
                continue
            for polygon in polygons:
                for arcs in polygon:
                    ring = _thin(_ring(topology, arcs))
                    if len(ring) >= 4:
                        rings.append(tuple(ring))
    return rings


def convert(topology_path: Path, out: Path = OUTLINE) -> int:
    """Write the outline file from a TopoJSON topology; its size in bytes."""
    rings = topojson_rings(json.loads(topology_path.read_text()))
    flat = [[round(v * 10) for point in ring for v in point] for ring in rings]
    text = json.dumps(
        {"source": SOURCE, "unit": "0.1 degree", "rings": flat}, separators=(",", ":")
    )
    out.write_text(text + "\n")
    return len(text) + 1


@functools.cache
def land() -> tuple[Ring, ...]:
    """The shipped outline's rings, lon/lat in degrees."""
    data = json.loads(OUTLINE.read_text())
    return tuple(
        tuple((flat[i] / 10, flat[i + 1] / 10) for i in range(0, len(flat) - 1, 2))
        for flat in data["rings"]
    )


if __name__ == "__main__":  # pragma: no cover - the one-off conversion
    print(f"{convert(Path(sys.argv[1]))} bytes written to {OUTLINE}")
