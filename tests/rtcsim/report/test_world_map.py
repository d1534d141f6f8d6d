"""The map of user locations: a shipped land outline (small, sourced), places gathered into
sized markers so a load run's hundreds of places do not pile into a blob."""

from __future__ import annotations

import json
import random
from pathlib import Path

from rtcsim.report import world
from rtcsim.report.model import Location
from rtcsim.report.world_map import LABELLED, markers, world_map


def test_the_outline_is_small_sourced_and_covers_the_continents() -> None:
    assert world.OUTLINE.stat().st_size < 200_000
    assert "Natural Earth" in json.loads(world.OUTLINE.read_text())["source"]
    rings = world.land()
    assert len(rings) > 50
    lons = [lon for ring in rings for lon, _ in ring]
    lats = [lat for ring in rings for _, lat in ring]
    assert min(lons) <= -170
    assert max(lons) >= 170
    assert min(lats) < -80  # Antarctica
    assert max(lats) > 80  # the Arctic islands


def test_a_topology_is_converted_arcs_decoded_and_reversed(tmp_path: Path) -> None:
    # A square of two arcs, quantized (scale 1°, translate -10,-10), the second one reversed.
    topology = {
        "type": "Topology",
        "transform": {"scale": [1, 1], "translate": [-10, -10]},
        "arcs": [[[0, 0], [20, 0], [0, 20]], [[0, 0], [0, 20], [20, 0]]],
        "objects": {"land": {"type": "Polygon", "arcs": [[0, ~1]]}},
    }
    path = tmp_path / "t.json"
    path.write_text(json.dumps(topology))
    out = tmp_path / "out.json"
    world.convert(path, out)
    [ring] = json.loads(out.read_text())["rings"]
    assert ring == [-100, -100, 100, -100, 100, 100, -100, 100, -100, -100]


def test_a_load_runs_places_become_few_markers_sized_by_connections() -> None:
    rng = random.Random(5)
    places = [
        Location(f"Town {i}, ES", rng.uniform(36, 43), rng.uniform(-9, 3), rng.randint(1, 3))
        for i in range(200)
    ] + [Location("Lima, PE", -12.0, -77.0, 1)]
    found = markers(places)
    assert len(found) <= 5  # this part of Spain spans four 10° cells; Lima its own
    assert sum(m.connections for m in found) == sum(p.connections for p in places)
    assert found[-1].label == "Lima, PE"
    assert found[0].connections > found[-1].connections


def test_only_the_biggest_markers_are_labelled_and_every_one_has_hover_text() -> None:
    places = [Location(f"P{i}", -60 + i * 7.0, -170 + i * 15.0, i + 1) for i in range(20)]
    svg = world_map(places)
    assert svg.count('class="loc"') == 20
    assert svg.count('class="lg"') == LABELLED
    assert svg.count("<title>") == 20
    assert 'class="land"' in svg
