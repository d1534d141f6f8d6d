"""The Kibana saved objects of ``kibana/openvidu-<major>.ndjson``, generated from one source.

The data view, the visualizations and map the dashboards show (``kibana_panels``, built with
``kibana_vis``), and the two dashboards. Regenerate the files with
``python -m rtcsim.report.kibana_objects``; a test keeps them equal to this module.
"""

from __future__ import annotations

import json

from rtcsim.library import KIBANA_DIR
from rtcsim.report.kibana_panels import (
    recordings_visualizations,
    sessions_visualizations,
    user_location_map,
)
from rtcsim.report.kibana_vis import DATA_VIEW_ID, Obj

__all__ = [
    "DATA_VIEW_ID",
    "MIGRATION",
    "Obj",
    "dashboard",
    "main",
    "ndjson",
    "recordings_visualizations",
    "saved_objects",
    "sessions_visualizations",
    "user_location_map",
]

MIGRATION = {7: "7.17.0", 8: "8.8.0", 9: "9.0.0"}  # coreMigrationVersion each file declares
KIBANA_7_LAYER_TYPES = {"EMS_VECTOR_TILE": "VECTOR_TILE", "GEOJSON_VECTOR": "VECTOR"}
"""Maps layer types as Kibana 7.x names them: Kibana 8.1 renamed them (its saved-object
migration ``rename_layer_types``: VECTOR_TILE → EMS_VECTOR_TILE, VECTOR → GEOJSON_VECTOR), and a
7.17 Kibana knows only the old names."""


def dashboard(did: str, title: str, panels: list[Obj]) -> Obj:
    """Two panels a row, 24 of Kibana's 48 grid columns each."""
    entries, references = [], []
    for i, panel in enumerate(panels):
        name = f"panel_{i}"
        grid = {"x": (i % 2) * 24, "y": (i // 2) * 15, "w": 24, "h": 15, "i": str(i + 1)}
        entries.append(
            {
                "panelIndex": str(i + 1),
                "gridData": grid,
                "embeddableConfig": {},
                "panelRefName": name,
                "type": panel["type"],
            }
        )
        references.append({"name": name, "type": panel["type"], "id": panel["id"]})
    search = {"query": {"query": "", "language": "kuery"}, "filter": []}
    return {
        "type": "dashboard",
        "id": did,
        "attributes": {
            "title": title,
            "description": "OpenVidu Pro's dashboard, rebuilt by rtcsim on the openvidu index",
            "panelsJSON": json.dumps(entries),
            "optionsJSON": json.dumps({"useMargins": True, "hidePanelTitles": False}),
            "timeRestore": False,
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search)},
        },
        "references": references,
    }


def saved_objects(major: int) -> list[Obj]:
    """Data view, visualizations, map, dashboards: referenced objects before their users."""
    data_view = {
        "type": "index-pattern",
        "id": DATA_VIEW_ID,
        "attributes": {"title": "openvidu", "name": "openvidu", "timeFieldName": "timestamp"},
        "references": [],
    }
    sessions = sessions_visualizations()
    recordings = recordings_visualizations()
    location = user_location_map()
    objects = [
        data_view,
        *sessions,
        location,
        *recordings,
        dashboard(
            "rtcsim-openvidu-sessions",
            "OpenVidu Sessions",
            [*sessions[:2], location, *sessions[2:]],
        ),
        dashboard("rtcsim-openvidu-recordings", "OpenVidu Recordings", recordings),
    ]
    for obj in objects:
        obj["coreMigrationVersion"] = MIGRATION[major]
        if major == 7:
            _for_kibana_7(obj)
    return objects


def _for_kibana_7(obj: Obj) -> None:
    """The same object as Kibana 7.17 stores it: data views have no ``name`` (it came with
    8.0's data views) and map layers keep their pre-8.1 type names."""
    attributes = obj["attributes"]
    if obj["type"] == "index-pattern":
        attributes.pop("name", None)
    if obj["type"] == "map":
        layers = json.loads(attributes["layerListJSON"])
        for layer in layers:
            layer["type"] = KIBANA_7_LAYER_TYPES.get(layer["type"], layer["type"])
        attributes["layerListJSON"] = json.dumps(layers)


def ndjson(major: int) -> str:
    return "".join(json.dumps(obj, sort_keys=True) + "\n" for obj in saved_objects(major))


def main() -> None:
    for major in MIGRATION:
        path = KIBANA_DIR / f"openvidu-{major}.ndjson"
        path.write_text(ndjson(major), encoding="utf-8")
        print(f"{path}: {len(saved_objects(major))} objects")


if __name__ == "__main__":
    main()
