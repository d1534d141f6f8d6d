"""The Kibana saved objects of ``kibana/openvidu-<major>.ndjson``, generated from one source.

Legacy aggregation-based ``visualization`` objects (line, histogram, pie, metric), chosen over
Lens because their ``visState`` format is the same in Kibana 8 and 9 and Kibana migrates them on
import, whereas Lens's datasource state changed shape within 8.x. The user-location panel is a
``map`` (Maps app): the legacy coordinate map was removed in 8.0. Regenerate the files with
``python -m simulator.report.kibana_objects``; a test keeps them equal to this module.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.report import queries
from simulator.report.kibana import KIBANA_DIR

DATA_VIEW_ID = "openvidu"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
MIGRATION = {8: "8.8.0", 9: "9.0.0"}  # coreMigrationVersion each file declares
Obj = dict[str, Any]

WEBRTC_PUB = "elastic_type:webrtcStats and rtcsim_side:server and packetsReceived:*"
WEBRTC_SUB = "elastic_type:webrtcStats and rtcsim_side:server and packetsSent:*"
ICE_FAILED = "elastic_type:kms and type:IceComponentStateChange and state:FAILED"


def _agg(n: int, kind: str, schema: str, **params: Any) -> Obj:
    return {"id": str(n), "enabled": True, "type": kind, "schema": schema, "params": params}


def _time(n: int, interval: str = "auto") -> Obj:
    return _agg(
        n,
        "date_histogram",
        "segment",
        field="timestamp",
        interval=interval,
        min_doc_count=1,
        extended_bounds={},
    )


def _ranges(n: int, field: str, buckets: tuple[tuple[str, float | None, float | None], ...]) -> Obj:
    spec = [{"from": low, "to": high, "label": label} for label, low, high in buckets]
    return _agg(n, "range", "segment", field=field, ranges=spec)


def _filters(n: int, named: dict[str, str], schema: str = "segment") -> Obj:
    spec = [
        {"input": {"query": q, "language": "kuery"}, "label": label} for label, q in named.items()
    ]
    return _agg(n, "filters", schema, filters=spec)


def _xy(kind: str, y_title: str) -> Obj:
    """The params an aggregation-based line or bar chart needs (Kibana's own defaults)."""
    mode = "normal"
    return {
        "type": kind,
        "grid": {"categoryLines": False},
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "bottom",
                "show": True,
                "scale": {"type": "linear"},
                "labels": {"show": True, "filter": True, "truncate": 100},
                "title": {},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "left",
                "show": True,
                "scale": {"type": "linear", "mode": "normal"},
                "labels": {"show": True, "rotate": 0, "filter": False, "truncate": 100},
                "title": {"text": y_title},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": kind,
                "mode": mode,
                "data": {"label": y_title, "id": "1"},
                "valueAxis": "ValueAxis-1",
                "drawLinesBetweenPoints": True,
                "lineWidth": 2,
                "showCircles": True,
                "interpolate": "linear",
            }
        ],
        "addTooltip": True,
        "legendPosition": "right",
        "times": [],
        "addTimeMarker": False,
        "thresholdLine": {
            "show": False,
            "value": 10,
            "width": 1,
            "style": "full",
            "color": "#E7664C",
        },
        "labels": {},
    }


def _pie() -> Obj:
    return {
        "type": "pie",
        "addTooltip": True,
        "legendPosition": "right",
        "isDonut": True,
        "labels": {"show": True, "values": True, "last_level": True, "truncate": 100},
    }


def _metric() -> Obj:
    return {
        "addTooltip": True,
        "addLegend": False,
        "type": "metric",
        "metric": {
            "percentageMode": False,
            "useRanges": False,
            "colorSchema": "Green to Red",
            "metricColorMode": "None",
            "colorsRange": [{"from": 0, "to": 10000}],
            "labels": {"show": True},
            "invertColors": False,
            "style": {
                "bgFill": "#000",
                "bgColor": False,
                "labelColor": False,
                "subText": "",
                "fontSize": 48,
            },
        },
    }


def _vis(vid: str, title: str, kind: str, query: str, aggs: list[Obj], params: Obj) -> Obj:
    vis_state = {"title": title, "type": kind, "aggs": aggs, "params": params}
    search = {
        "query": {"query": query, "language": "kuery"},
        "filter": [],
        "indexRefName": INDEX_REF,
    }
    return {
        "type": "visualization",
        "id": vid,
        "attributes": {
            "title": title,
            "description": f"rtcsim: {query}",
            "version": 1,
            "visState": json.dumps(vis_state),
            "uiStateJSON": "{}",
            "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(search)},
        },
        "references": [{"name": INDEX_REF, "type": "index-pattern", "id": DATA_VIEW_ID}],
    }


def _avg(n: int, field: str) -> Obj:
    return _agg(n, "avg", "metric", field=field)


def _line(
    vid: str, title: str, query: str, metrics: list[Obj], y: str, split: Obj | None = None
) -> Obj:
    aggs = [*metrics, _time(len(metrics) + 1)]
    if split:
        aggs.append(split)
    return _vis(vid, title, "line", query, aggs, _xy("line", y))


def sessions_visualizations() -> list[Obj]:
    count = _agg(1, "count", "metric")
    latency_buckets = queries.LATENCY_BUCKETS_MS
    return [
        _line(
            "rtcsim-server-cpu-memory",
            "CPU and memory of the server",
            "elastic_type:monitoringStats",
            [_avg(1, "cpu"), _avg(2, "mem.percentage"), _avg(3, "janus_cpu")],
            "percent",
        ),
        _vis(
            "rtcsim-sessions-per-day",
            "Number of sessions per day",
            "histogram",
            "elastic_type:cdr and event:sessionCreated",
            [count, _time(2, "d")],
            _xy("histogram", "sessions"),
        ),
        _vis(
            "rtcsim-publishers-subscribers",
            "Number of publishers and subscribers",
            "histogram",
            "elastic_type:cdr and event:webrtcConnectionCreated",
            [
                count,
                _time(2),
                _filters(
                    3,
                    {"publishers": "connection:OUTBOUND", "subscribers": "connection:INBOUND"},
                    "group",
                ),
            ],
            _xy("histogram", "connections"),
        ),
        _line(
            "rtcsim-streamed-time",
            "Streamed time",
            "elastic_type:publisherSummary or elastic_type:subscriberSummary",
            [_agg(1, "sum", "metric", field="duration")],
            "seconds",
            _agg(3, "terms", "group", field="elastic_type", size=2, order="desc", orderBy="1"),
        ),
        _vis(
            "rtcsim-candidate-pair-ms",
            "Milliseconds until a candidate pair is selected",
            "histogram",
            "elastic_type:kms and type:NewCandidatePairSelected",
            [count, _ranges(2, "msSinceEndpointCreation", latency_buckets)],
            _xy("histogram", "endpoints"),
        ),
        _vis(
            "rtcsim-candidate-pair-avg",
            "Average ms to select a candidate pair",
            "metric",
            "elastic_type:kms and type:NewCandidatePairSelected",
            [_avg(1, "msSinceEndpointCreation")],
            _metric(),
        ),
        _vis(
            "rtcsim-ice-gathering-ms",
            "Milliseconds until ICE gathering is done",
            "histogram",
            "elastic_type:kms and type:IceGatheringDone",
            [count, _ranges(2, "msSinceEndpointCreation", latency_buckets)],
            _xy("histogram", "endpoints"),
        ),
        _vis(
            "rtcsim-ice-gathering-avg",
            "Average ms of ICE gathering",
            "metric",
            "elastic_type:kms and type:IceGatheringDone",
            [_avg(1, "msSinceEndpointCreation")],
            _metric(),
        ),
        _vis(
            "rtcsim-ice-states",
            "ICE states",
            "pie",
            "elastic_type:kms and type:IceComponentStateChange",
            [count, _agg(2, "terms", "segment", field="state", size=10, order="desc", orderBy="1")],
            _pie(),
        ),
        _vis(
            "rtcsim-connections-ratio",
            "Successful and failed connections",
            "pie",
            "elastic_type:cdr or elastic_type:kms",
            [
                count,
                _filters(
                    2,
                    {
                        "successful": "elastic_type:cdr and event:webrtcConnectionCreated",
                        "failed": ICE_FAILED,
                    },
                ),
            ],
            _pie(),
        ),
        _line(
            "rtcsim-publishers-packet-loss",
            "Publishers average packet loss",
            WEBRTC_PUB,
            [_avg(1, "fractionLost")],
            "fraction lost",
        ),
        _line(
            "rtcsim-publishers-jitter",
            "Publishers average jitter",
            WEBRTC_PUB,
            [_avg(1, "jitter")],
            "jitter (s)",
        ),
        _line(
            "rtcsim-subscribers-jitter",
            "Subscribers average jitter",
            WEBRTC_SUB,
            [_avg(1, "jitter")],
            "jitter (s)",
        ),
        _line(
            "rtcsim-subscribers-rtt",
            "Subscribers average RTT",
            WEBRTC_SUB,
            [_avg(1, "roundTripTime")],
            "RTT (s)",
        ),
        _line(
            "rtcsim-subscribers-target-bitrate",
            "Subscribers average target bitrate",
            WEBRTC_SUB,
            [_avg(1, "targetBitrate")],
            "bps",
        ),
    ]


def recordings_visualizations() -> list[Obj]:
    count = _agg(1, "count", "metric")
    query = "elastic_type:recordingSummary"
    return [
        _vis(
            "rtcsim-recordings-per-day",
            "Number of recordings per day",
            "histogram",
            query,
            [count, _time(2, "d")],
            _xy("histogram", "recordings"),
        ),
        _vis(
            "rtcsim-recordings-output-mode",
            "Recordings by OutputMode",
            "pie",
            query,
            [
                count,
                _agg(2, "terms", "segment", field="outputMode", size=5, order="desc", orderBy="1"),
            ],
            _pie(),
        ),
        _vis(
            "rtcsim-recordings-tracks",
            "Recordings by audio/video",
            "pie",
            query,
            [
                count,
                _filters(
                    2,
                    {
                        "Audio + Video": "hasAudio:true and hasVideo:true",
                        "Only audio": "hasAudio:true and hasVideo:false",
                        "Only video": "hasAudio:false and hasVideo:true",
                    },
                ),
            ],
            _pie(),
        ),
        _vis(
            "rtcsim-recordings-avg-duration",
            "Average recording duration (s)",
            "metric",
            query,
            [_avg(1, "duration")],
            _metric(),
        ),
        _vis(
            "rtcsim-recordings-avg-size",
            "Average recording size (bytes)",
            "metric",
            query,
            [_avg(1, "size")],
            _metric(),
        ),
        _vis(
            "rtcsim-recordings-by-duration",
            "Recordings by duration",
            "pie",
            query,
            [count, _ranges(2, "duration", queries.DURATION_BUCKETS_S)],
            _pie(),
        ),
        _vis(
            "rtcsim-recordings-by-size",
            "Recordings by size",
            "pie",
            query,
            [count, _ranges(2, "size", queries.SIZE_BUCKETS_B)],
            _pie(),
        ),
    ]


def user_location_map() -> Obj:
    """A Maps app map: Elastic Maps basemap, connectionSummary ``geoPoints`` as documents."""
    ref = "layer_1_source_index_pattern"
    layers = [
        {
            "id": "basemap",
            "type": "EMS_VECTOR_TILE",
            "label": None,
            "visible": True,
            "alpha": 1,
            "minZoom": 0,
            "maxZoom": 24,
            "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True},
            "style": {"type": "EMS_VECTOR_TILE"},
        },
        {
            "id": "locations",
            "type": "GEOJSON_VECTOR",
            "label": "User location",
            "visible": True,
            "alpha": 0.75,
            "minZoom": 0,
            "maxZoom": 24,
            "query": {"query": "elastic_type:connectionSummary", "language": "kuery"},
            "sourceDescriptor": {
                "type": "ES_SEARCH",
                "id": "rtcsim-locations-source",
                "geoField": "geoPoints",
                "indexPatternRefName": ref,
                "scalingType": "LIMIT",
                "sortField": "timestamp",
                "sortOrder": "desc",
                "tooltipProperties": ["location", "user", "sessionId"],
            },
            "style": {"type": "VECTOR", "properties": {}, "isTimeAware": True},
        },
    ]
    state = {
        "zoom": 1,
        "center": {"lon": 0, "lat": 20},
        "query": {"query": "", "language": "kuery"},
        "filters": [],
    }
    return {
        "type": "map",
        "id": "rtcsim-user-location",
        "attributes": {
            "title": "User location",
            "description": "rtcsim: connectionSummary geoPoints",
            "layerListJSON": json.dumps(layers),
            "mapStateJSON": json.dumps(state),
            "uiStateJSON": json.dumps({"isLayerTOCOpen": True, "openTOCDetails": []}),
        },
        "references": [{"name": ref, "type": "index-pattern", "id": DATA_VIEW_ID}],
    }


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
    return objects


def ndjson(major: int) -> str:
    return "".join(json.dumps(obj, sort_keys=True) + "\n" for obj in saved_objects(major))


def main() -> None:
    for major in MIGRATION:
        path = KIBANA_DIR / f"openvidu-{major}.ndjson"
        path.write_text(ndjson(major), encoding="utf-8")
        print(f"{path}: {len(saved_objects(major))} objects")


if __name__ == "__main__":
    main()
