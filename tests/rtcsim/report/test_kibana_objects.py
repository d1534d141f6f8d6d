"""The saved objects in ``kibana/``: valid NDJSON, every reference resolves, the dashboards hold
the visualizations, the data view is ``openvidu`` on ``timestamp``, and every field they name
is in the index template."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from collector.store import load_template
from rtcsim.library import KIBANA_DIR
from rtcsim.report import kibana_objects

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "collector" / "templates" / "openvidu-template-v1.json"
# Strings without an explicit mapping: the template's dynamic template ``strings_as_keywords``
# maps them as keyword (docs/documents.md lists them as recordingSummary strings).
DYNAMIC_KEYWORDS = {"outputMode"}
Obj = dict[str, Any]


def _objects(major: int) -> list[Obj]:
    lines = (KIBANA_DIR / f"openvidu-{major}.ndjson").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _template_fields() -> set[str]:
    properties = json.loads(TEMPLATE.read_text())["template"]["mappings"]["properties"]
    fields: set[str] = set()

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            fields.add(prefix + name)
            walk(spec.get("properties", {}), f"{prefix}{name}.")

    walk(properties, "")
    return fields | DYNAMIC_KEYWORDS


def _kuery_fields(query: str) -> set[str]:
    return set(re.findall(r"([A-Za-z_][\w.]*)\s*:", query))


def _fields(obj: Obj) -> set[str]:
    """Every field an object names: agg fields, kuery filters, geo and tooltip fields."""
    attrs = obj["attributes"]
    found: set[str] = set()
    if obj["type"] == "index-pattern":
        found.add(attrs["timeFieldName"])
    if obj["type"] == "visualization":
        for agg in json.loads(attrs["visState"])["aggs"]:
            params = agg["params"]
            if "field" in params:
                found.add(params["field"])
            for f in params.get("filters", []):
                found |= _kuery_fields(f["input"]["query"])
        search = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        found |= _kuery_fields(search["query"]["query"])
    if obj["type"] == "map":
        for layer in json.loads(attrs["layerListJSON"]):
            source = layer["sourceDescriptor"]
            found |= {source[k] for k in ("geoField", "sortField") if k in source}
            found |= set(source.get("tooltipProperties", []))
            found |= _kuery_fields(layer.get("query", {}).get("query", ""))
    return found


@pytest.mark.parametrize("major", [7, 8, 9])
def test_the_committed_files_are_what_the_generator_writes(major: int) -> None:
    committed = (KIBANA_DIR / f"openvidu-{major}.ndjson").read_text()
    assert committed == kibana_objects.ndjson(major)


@pytest.mark.parametrize("major", [7, 8, 9])
def test_every_reference_points_to_an_object_of_the_file(major: int) -> None:
    objects = _objects(major)
    ids = {(o["type"], o["id"]) for o in objects}
    assert len(ids) == len(objects)
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, (obj["id"], ref)
        assert obj["coreMigrationVersion"].startswith(f"{major}.")


@pytest.mark.parametrize("major", [7, 8, 9])
def test_the_data_view_is_openvidu_on_timestamp(major: int) -> None:
    views = [o for o in _objects(major) if o["type"] == "index-pattern"]
    assert [(v["attributes"]["title"], v["attributes"]["timeFieldName"]) for v in views] == [
        ("openvidu", "timestamp")
    ]


@pytest.mark.parametrize("major", [7, 8, 9])
def test_the_two_dashboards_hold_every_visualization(major: int) -> None:
    objects = _objects(major)
    dashboards = {o["attributes"]["title"]: o for o in objects if o["type"] == "dashboard"}
    assert set(dashboards) == {"OpenVidu Sessions", "OpenVidu Recordings"}
    shown: set[str] = set()
    for board in dashboards.values():
        panels = json.loads(board["attributes"]["panelsJSON"])
        names = {ref["name"]: ref["id"] for ref in board["references"]}
        assert {p["panelRefName"] for p in panels} == set(names)
        shown |= set(names.values())
    panels_of = {o["id"] for o in objects if o["type"] in ("visualization", "map")}
    assert shown == panels_of
    assert len(json.loads(dashboards["OpenVidu Recordings"]["attributes"]["panelsJSON"])) == 7


@pytest.mark.parametrize("major", [7, 8, 9])
def test_every_field_the_objects_use_is_in_the_index_template(major: int) -> None:
    known = _template_fields()
    for obj in _objects(major):
        unknown = {f.rstrip("*") for f in _fields(obj)} - known
        assert unknown == set(), (obj["id"], unknown)


def test_the_field_walk_sees_the_fields_of_a_visualization() -> None:
    vis = next(o for o in _objects(9) if o["id"] == "rtcsim-server-cpu-memory")
    assert {"cpu", "mem.percentage", "janus_cpu", "timestamp", "elastic_type"} <= _fields(vis)


NUMERIC = {"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float"}
FIELD_TYPES_BY_AGG = {
    "avg": NUMERIC,
    "sum": NUMERIC,
    "min": NUMERIC,
    "max": NUMERIC,
    "percentiles": NUMERIC,
    "histogram": NUMERIC,
    "range": NUMERIC,
    "terms": {"keyword"},
    "date_histogram": {"date"},
}


def _template_types() -> dict[str, str]:
    """Every mapped field of the template (dotted) → its type; dynamic strings are keywords."""
    properties = json.loads(TEMPLATE.read_text())["template"]["mappings"]["properties"]
    types: dict[str, str] = dict.fromkeys(DYNAMIC_KEYWORDS, "keyword")

    def walk(props: dict[str, Any], prefix: str) -> None:
        for name, spec in props.items():
            types[prefix + name] = spec.get("type", "object")
            walk(spec.get("properties", {}), f"{prefix}{name}.")

    walk(properties, "")
    return types


@pytest.mark.parametrize("major", [7, 8, 9])
def test_the_data_view_is_an_index_the_template_covers_with_a_date_time_field(major: int) -> None:
    [view] = [o for o in _objects(major) if o["type"] == "index-pattern"]
    patterns = load_template("openvidu")["index_patterns"]
    assert view["attributes"]["title"] in patterns
    assert _template_types()[view["attributes"]["timeFieldName"]] == "date"
    assert ("name" in view["attributes"]) is (major >= 8), "data view names came with 8.0"


@pytest.mark.parametrize("major", [7, 8, 9])
def test_each_aggregation_uses_a_field_of_the_type_it_needs(major: int) -> None:
    types = _template_types()
    checked = 0
    for obj in _objects(major):
        if obj["type"] != "visualization":
            continue
        for agg in json.loads(obj["attributes"]["visState"])["aggs"]:
            field = agg["params"].get("field")
            if field is None or agg["type"] not in FIELD_TYPES_BY_AGG:
                continue
            assert types[field] in FIELD_TYPES_BY_AGG[agg["type"]], (obj["id"], agg["type"], field)
            checked += 1
    assert checked >= 20


@pytest.mark.parametrize(("major", "layer_types"), [
    (7, ["VECTOR_TILE", "VECTOR"]),
    (8, ["EMS_VECTOR_TILE", "GEOJSON_VECTOR"]),
    (9, ["EMS_VECTOR_TILE", "GEOJSON_VECTOR"]),
])  # fmt: skip
def test_the_map_shows_geo_points_in_the_layer_types_of_its_kibana(
    major: int, layer_types: list[str]
) -> None:
    [location] = [o for o in _objects(major) if o["type"] == "map"]
    layers = json.loads(location["attributes"]["layerListJSON"])
    assert [layer["type"] for layer in layers] == layer_types
    geo_field = layers[1]["sourceDescriptor"]["geoField"]
    assert _template_types()[geo_field] == "geo_point"
