"""One legacy aggregation-based ``visualization`` saved object, and the parts it is made of.

Aggregation-based visualizations (line, histogram, pie, metric) rather than Lens: their
``visState`` format is the same in Kibana 8 and 9 and Kibana migrates them on import, whereas
Lens's datasource state changed shape within 8.x. The params are Kibana's own defaults.
"""

from __future__ import annotations

import json
from typing import Any

DATA_VIEW_ID = "openvidu"
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
Obj = dict[str, Any]


def agg(n: int, kind: str, schema: str, **params: Any) -> Obj:
    return {"id": str(n), "enabled": True, "type": kind, "schema": schema, "params": params}


def date_buckets(n: int, interval: str = "auto") -> Obj:
    return agg(
        n,
        "date_histogram",
        "segment",
        field="timestamp",
        interval=interval,
        min_doc_count=1,
        extended_bounds={},
    )


def range_buckets(
    n: int, field: str, buckets: tuple[tuple[str, float | None, float | None], ...]
) -> Obj:
    spec = [{"from": low, "to": high, "label": label} for label, low, high in buckets]
    return agg(n, "range", "segment", field=field, ranges=spec)


def filter_buckets(n: int, named: dict[str, str], schema: str = "segment") -> Obj:
    spec = [
        {"input": {"query": q, "language": "kuery"}, "label": label} for label, q in named.items()
    ]
    return agg(n, "filters", schema, filters=spec)


def xy_params(kind: str, y_title: str) -> Obj:
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


def pie_params() -> Obj:
    return {
        "type": "pie",
        "addTooltip": True,
        "legendPosition": "right",
        "isDonut": True,
        "labels": {"show": True, "values": True, "last_level": True, "truncate": 100},
    }


def metric_params() -> Obj:
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


def visualization(vid: str, title: str, kind: str, query: str, aggs: list[Obj], params: Obj) -> Obj:
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


def avg(n: int, field: str) -> Obj:
    return agg(n, "avg", "metric", field=field)


def line_chart(
    vid: str, title: str, query: str, metrics: list[Obj], y: str, split: Obj | None = None
) -> Obj:
    aggs = [*metrics, date_buckets(len(metrics) + 1)]
    if split:
        aggs.append(split)
    return visualization(vid, title, "line", query, aggs, xy_params("line", y))
