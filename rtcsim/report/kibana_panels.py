"""What the two OpenVidu dashboards show: their visualizations and the user-location map.

The user-location panel is a ``map`` (Maps app): the legacy coordinate map was removed in 8.0.
"""

from __future__ import annotations

import json

from rtcsim.report import queries
from rtcsim.report.kibana_vis import (
    DATA_VIEW_ID,
    Obj,
    agg,
    avg,
    date_buckets,
    filter_buckets,
    line_chart,
    metric_params,
    pie_params,
    range_buckets,
    visualization,
    xy_params,
)

WEBRTC_PUB = "elastic_type:webrtcStats and rtcsim_side:server and packetsReceived:*"
WEBRTC_SUB = "elastic_type:webrtcStats and rtcsim_side:server and packetsSent:*"
ICE_FAILED = "elastic_type:kms and type:IceComponentStateChange and state:FAILED"


def sessions_visualizations() -> list[Obj]:
    count = agg(1, "count", "metric")
    latency_buckets = queries.LATENCY_BUCKETS_MS
    return [
        line_chart(
            "rtcsim-server-cpu-memory",
            "CPU and memory of the server",
            "elastic_type:monitoringStats",
            [avg(1, "cpu"), avg(2, "mem.percentage"), avg(3, "janus_cpu")],
            "percent",
        ),
        visualization(
            "rtcsim-sessions-per-day",
            "Number of sessions per day",
            "histogram",
            "elastic_type:cdr and event:sessionCreated",
            [count, date_buckets(2, "d")],
            xy_params("histogram", "sessions"),
        ),
        visualization(
            "rtcsim-publishers-subscribers",
            "Number of publishers and subscribers",
            "histogram",
            "elastic_type:cdr and event:webrtcConnectionCreated",
            [
                count,
                date_buckets(2),
                filter_buckets(
                    3,
                    {"publishers": "connection:OUTBOUND", "subscribers": "connection:INBOUND"},
                    "group",
                ),
            ],
            xy_params("histogram", "connections"),
        ),
        line_chart(
            "rtcsim-streamed-time",
            "Streamed time",
            "elastic_type:publisherSummary or elastic_type:subscriberSummary",
            [agg(1, "sum", "metric", field="duration")],
            "seconds",
            agg(3, "terms", "group", field="elastic_type", size=2, order="desc", orderBy="1"),
        ),
        visualization(
            "rtcsim-candidate-pair-ms",
            "Milliseconds until a candidate pair is selected",
            "histogram",
            "elastic_type:kms and type:NewCandidatePairSelected",
            [count, range_buckets(2, "msSinceEndpointCreation", latency_buckets)],
            xy_params("histogram", "endpoints"),
        ),
        visualization(
            "rtcsim-candidate-pair-avg",
            "Average ms to select a candidate pair",
            "metric",
            "elastic_type:kms and type:NewCandidatePairSelected",
            [avg(1, "msSinceEndpointCreation")],
            metric_params(),
        ),
        visualization(
            "rtcsim-ice-gathering-ms",
            "Milliseconds until ICE gathering is done",
            "histogram",
            "elastic_type:kms and type:IceGatheringDone",
            [count, range_buckets(2, "msSinceEndpointCreation", latency_buckets)],
            xy_params("histogram", "endpoints"),
        ),
        visualization(
            "rtcsim-ice-gathering-avg",
            "Average ms of ICE gathering",
            "metric",
            "elastic_type:kms and type:IceGatheringDone",
            [avg(1, "msSinceEndpointCreation")],
            metric_params(),
        ),
        visualization(
            "rtcsim-ice-states",
            "ICE states",
            "pie",
            "elastic_type:kms and type:IceComponentStateChange",
            [count, agg(2, "terms", "segment", field="state", size=10, order="desc", orderBy="1")],
            pie_params(),
        ),
        visualization(
            "rtcsim-connections-ratio",
            "Successful and failed connections",
            "pie",
            "elastic_type:cdr or elastic_type:kms",
            [
                count,
                filter_buckets(
                    2,
                    {
                        "successful": "elastic_type:cdr and event:webrtcConnectionCreated",
                        "failed": ICE_FAILED,
                    },
                ),
            ],
            pie_params(),
        ),
        line_chart(
            "rtcsim-publishers-packet-loss",
            "Publishers average packet loss",
            WEBRTC_PUB,
            [avg(1, "fractionLost")],
            "fraction lost",
        ),
        line_chart(
            "rtcsim-publishers-jitter",
            "Publishers average jitter",
            WEBRTC_PUB,
            [avg(1, "jitter")],
            "jitter (s)",
        ),
        line_chart(
            "rtcsim-subscribers-jitter",
            "Subscribers average jitter",
            WEBRTC_SUB,
            [avg(1, "jitter")],
            "jitter (s)",
        ),
        line_chart(
            "rtcsim-subscribers-rtt",
            "Subscribers average RTT",
            WEBRTC_SUB,
            [avg(1, "roundTripTime")],
            "RTT (s)",
        ),
        line_chart(
            "rtcsim-subscribers-target-bitrate",
            "Subscribers average target bitrate",
            WEBRTC_SUB,
            [avg(1, "targetBitrate")],
            "bps",
        ),
    ]


def recordings_visualizations() -> list[Obj]:
    count = agg(1, "count", "metric")
    query = "elastic_type:recordingSummary"
    return [
        visualization(
            "rtcsim-recordings-per-day",
            "Number of recordings per day",
            "histogram",
            query,
            [count, date_buckets(2, "d")],
            xy_params("histogram", "recordings"),
        ),
        visualization(
            "rtcsim-recordings-output-mode",
            "Recordings by OutputMode",
            "pie",
            query,
            [
                count,
                agg(2, "terms", "segment", field="outputMode", size=5, order="desc", orderBy="1"),
            ],
            pie_params(),
        ),
        visualization(
            "rtcsim-recordings-tracks",
            "Recordings by audio/video",
            "pie",
            query,
            [
                count,
                filter_buckets(
                    2,
                    {
                        "Audio + Video": "hasAudio:true and hasVideo:true",
                        "Only audio": "hasAudio:true and hasVideo:false",
                        "Only video": "hasAudio:false and hasVideo:true",
                    },
                ),
            ],
            pie_params(),
        ),
        visualization(
            "rtcsim-recordings-avg-duration",
            "Average recording duration (s)",
            "metric",
            query,
            [avg(1, "duration")],
            metric_params(),
        ),
        visualization(
            "rtcsim-recordings-avg-size",
            "Average recording size (bytes)",
            "metric",
            query,
            [avg(1, "size")],
            metric_params(),
        ),
        visualization(
            "rtcsim-recordings-by-duration",
            "Recordings by duration",
            "pie",
            query,
            [count, range_buckets(2, "duration", queries.DURATION_BUCKETS_S)],
            pie_params(),
        ),
        visualization(
            "rtcsim-recordings-by-size",
            "Recordings by size",
            "pie",
            query,
            [count, range_buckets(2, "size", queries.SIZE_BUCKETS_B)],
            pie_params(),
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
