"""Elasticsearch request bodies for every panel: pure functions of the scope, no I/O.

Only core aggregations (terms, filters, range, date_histogram, avg, sum, max, percentiles,
cardinality, geo_centroid, geo_bounds): the integ-test-zip distribution rtcsim runs has no
x-pack, and every one of these was tried against it. Field names are the index template's
(collector/templates/openvidu-template-v1.json).
"""

from __future__ import annotations

from typing import Any

from rtcsim.report.model import Scope

Body = dict[str, Any]

DAY = "1d"
# OpenVidu's Recordings dashboard buckets (openvidu-documents.md §7.3); MB are MiB here, as
# Kibana's byte formatter counts them.
MIB = 1024 * 1024
DURATION_BUCKETS_S: tuple[tuple[str, float | None, float | None], ...] = (
    ("Up to 5 min", None, 300),
    ("Up to 15 min", 300, 900),
    ("Up to 30 min", 900, 1800),
    ("Up to 1 hour", 1800, 3600),
    ("More than 1 hour", 3600, None),
)
SIZE_BUCKETS_B: tuple[tuple[str, float | None, float | None], ...] = (
    ("Up to 10MB", None, 10 * MIB),
    ("Up to 50MB", 10 * MIB, 50 * MIB),
    ("Up to 100MB", 50 * MIB, 100 * MIB),
    ("Up to 200MB", 100 * MIB, 200 * MIB),
    ("Up to 500MB", 200 * MIB, 500 * MIB),
    ("Up to 1GB", 500 * MIB, 1024 * MIB),
    ("More than 1GB", 1024 * MIB, None),
)
# The Sessions dashboard's "Milliseconds until ICE gathering" buckets (≥0<50 … ≥300).
LATENCY_BUCKETS_MS: tuple[tuple[str, float | None, float | None], ...] = (
    ("0–50 ms", 0, 50),
    ("50–100 ms", 50, 100),
    ("100–200 ms", 100, 200),
    ("200–300 ms", 200, 300),
    ("≥ 300 ms", 300, None),
)
TRACKS: dict[str, Body] = {
    "Audio + Video": {
        "bool": {"filter": [{"term": {"hasAudio": True}}, {"term": {"hasVideo": True}}]}
    },
    "Only audio": {
        "bool": {"filter": [{"term": {"hasAudio": True}}, {"term": {"hasVideo": False}}]}
    },
    "Only video": {
        "bool": {"filter": [{"term": {"hasAudio": False}}, {"term": {"hasVideo": True}}]}
    },
}
NICE_INTERVALS_MS = tuple(
    s * 1000
    for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 10800, 21600, 43200, 86400)
)
MAX_BUCKETS = 60
# A ``terms`` size here is a first guess: ``panels.search_whole`` asks again with more buckets
# whenever Elasticsearch says it left documents out, so no panel shows part of a big run.
EXACT_COUNT = {"precision_threshold": 40_000}
"""``cardinality`` counts below this are "expected to be close to accurate" (Elasticsearch's
words); it is their maximum. The default, 3,000, would make a 5,000-session range approximate."""


def interval_ms(scope: Scope) -> int:
    """The smallest round interval that cuts the scope into at most ``MAX_BUCKETS`` buckets."""
    span = max(scope.end_ms - scope.start_ms, 1)
    for candidate in NICE_INTERVALS_MS:
        if span / candidate <= MAX_BUCKETS:
            return candidate
    return NICE_INTERVALS_MS[-1]


def in_window(scope: Scope) -> Body:
    return {"range": {"timestamp": {"gte": scope.start_ms, "lte": scope.end_ms}}}


def in_sessions(scope: Scope) -> Body:
    """A run's sessions (``sessionId``, or the older ``session`` key), else the time window."""
    if not scope.session_ids:
        return in_window(scope)
    ids = list(scope.session_ids)
    return {
        "bool": {
            "should": [{"terms": {"sessionId": ids}}, {"terms": {"session": ids}}],
            "minimum_should_match": 1,
        }
    }


def of_type(scope: Scope, elastic_type: str | list[str], *extra: Body) -> Body:
    kind = (
        {"terms": {"elastic_type": elastic_type}}
        if isinstance(elastic_type, list)
        else {"term": {"elastic_type": elastic_type}}
    )
    # monitoringStats has no session key: it is the host's, taken in the scope's window.
    where = in_window(scope) if elastic_type == "monitoringStats" else in_sessions(scope)
    return {"bool": {"filter": [kind, where, *extra]}}


def histogram(scope: Scope, aggs: Body | None = None, field: str = "timestamp") -> Body:
    body: Body = {
        "date_histogram": {
            "field": field,
            "fixed_interval": f"{interval_ms(scope)}ms",
            "min_doc_count": 0,
            "extended_bounds": {"min": scope.start_ms, "max": scope.end_ms},
        }
    }
    if aggs:
        body["aggs"] = aggs
    return body


def per_day(field: str = "timestamp") -> Body:
    return {"date_histogram": {"field": field, "calendar_interval": DAY, "min_doc_count": 1}}


def ranges(field: str, buckets: tuple[tuple[str, float | None, float | None], ...]) -> Body:
    spec: list[Body] = []
    for label, low, high in buckets:
        item: Body = {"key": label}
        if low is not None:
            item["from"] = low
        if high is not None:
            item["to"] = high
        spec.append(item)
    return {"range": {"field": field, "ranges": spec, "keyed": True}}


def documents_by_type(scope: Scope) -> Body:
    either = {
        "bool": {
            "should": [of_type(scope, "monitoringStats"), in_sessions(scope)],
            "minimum_should_match": 1,
        }
    }
    return {"query": either, "aggs": {"types": {"terms": {"field": "elastic_type", "size": 50}}}}


def host(scope: Scope) -> Body:
    averages = {
        "cpu": {"avg": {"field": "cpu"}},
        "janus_cpu": {"avg": {"field": "janus_cpu"}},
        "mem": {"avg": {"field": "mem.percentage"}},
    }
    return {"query": of_type(scope, "monitoringStats"), "aggs": {"t": histogram(scope, averages)}}


def sessions(scope: Scope) -> Body:
    return {
        "query": of_type(scope, "cdr", {"term": {"event": "sessionCreated"}}),
        "aggs": {
            "days": per_day(),
            "unique": {"cardinality": {"field": "uniqueSessionId", **EXACT_COUNT}},
        },
    }


def locations(scope: Scope) -> Body:
    return {
        "query": of_type(scope, "connectionSummary", {"exists": {"field": "geoPoints"}}),
        "aggs": {
            "places": {
                "terms": {"field": "location", "size": 500},
                "aggs": {"centre": {"geo_centroid": {"field": "geoPoints"}}},
            },
            "bounds": {"geo_bounds": {"field": "geoPoints"}},
        },
    }


CREATED = {"term": {"event": "webrtcConnectionCreated"}}
DESTROYED = {"term": {"event": "webrtcConnectionDestroyed"}}


def connections(scope: Scope) -> Body:
    """Publishers (OUTBOUND) and subscribers (INBOUND): how many reached webrtcup (``created``),
    and per bucket how many were created and destroyed, from which ``rtcsim.report.panels``
    sums how many are live at the end of each bucket, as OpenVidu's panel shows them (issue 15:
    it plotted creations per bucket). Summed in Python: the Elasticsearch rtcsim runs has no
    scripting (``bucket_script`` needs painless)."""
    per_bucket = {"created": {"filter": CREATED}, "destroyed": {"filter": DESTROYED}}
    return {
        "query": of_type(
            scope,
            "cdr",
            {"terms": {"event": ["webrtcConnectionCreated", "webrtcConnectionDestroyed"]}},
        ),
        "aggs": {
            "sides": {
                "filters": {
                    "filters": {
                        "publishers": {"term": {"connection": "OUTBOUND"}},
                        "subscribers": {"term": {"connection": "INBOUND"}},
                    }
                },
                "aggs": {"created": {"filter": CREATED}, "t": histogram(scope, per_bucket)},
            }
        },
    }


def streamed(scope: Scope) -> Body:
    """Streamed time: the durations (s) of closed publishers and subscribers, by their end."""
    seconds = {"seconds": {"sum": {"field": "duration"}}}
    return {
        "query": of_type(scope, ["publisherSummary", "subscriberSummary"]),
        "aggs": {
            "kinds": {
                "terms": {"field": "elastic_type", "size": 2},
                "aggs": {"t": histogram(scope, seconds), **seconds},
            },
            **seconds,
        },
    }


def latency(field: str = "msSinceEndpointCreation") -> Body:
    return {
        "avg": {"avg": {"field": field}},
        "pct": {"percentiles": {"field": field, "percents": [50, 95]}},
        "ranges": ranges(field, LATENCY_BUCKETS_MS),
    }


ICE_LAST_CHANGES = 3
"""How many of an endpoint's last state changes are fetched: Janus reports ``connected`` and
``ready`` in the same millisecond, so the last instant may hold more than one
(``rtcsim.report.ice`` orders them)."""


def ice_endpoints() -> Body:
    """Per endpoint (IceComponentStateChange documents): the first ``CONNECTED``'s
    ``msSinceEndpointCreation`` (time to connected) and its last state changes (its final
    state). ``terms`` + ``min`` + ``top_hits``: core aggregations, no scripting."""
    return {
        "terms": {"field": "endpoint", "size": 500},
        "aggs": {
            "connected": {
                "filter": {"term": {"state": "CONNECTED"}},
                "aggs": {"ms": {"min": {"field": "msSinceEndpointCreation"}}},
            },
            "last": {
                "top_hits": {
                    "size": ICE_LAST_CHANGES,
                    "sort": [{"timestamp": {"order": "desc"}}],
                    "_source": {"includes": ["state", "timestamp"]},
                }
            },
        },
    }


def ice(scope: Scope) -> Body:
    return {
        "query": of_type(scope, "kms"),
        "aggs": {
            "pair": {"filter": {"term": {"type": "NewCandidatePairSelected"}}, "aggs": latency()},
            "gathering": {"filter": {"term": {"type": "IceGatheringDone"}}, "aggs": latency()},
            "states": {
                "filter": {"term": {"type": "IceComponentStateChange"}},
                "aggs": {
                    "state": {"terms": {"field": "state", "size": 20}},
                    "endpoints": ice_endpoints(),
                    "failed": {
                        "filter": {"term": {"state": "FAILED"}},
                        "aggs": {
                            "endpoints": {"cardinality": {"field": "endpoint", **EXACT_COUNT}}
                        },
                    },
                },
            },
        },
    }


def stream_stats(scope: Scope) -> Body:
    """Server-side webrtcStats, publishers (Janus receives: ``packetsReceived``) apart from
    subscribers (Janus sends: ``packetsSent``); see docs/documents.md §3."""
    metrics = {
        "jitter": {"avg": {"field": "jitter"}},
        "lost": {"avg": {"field": "fractionLost"}},
        "lost_packets": {"max": {"field": "packetsLost"}},
        "rtt": {"avg": {"field": "roundTripTime"}},
        "target": {"avg": {"field": "targetBitrate"}},
        "remb": {"avg": {"field": "remb"}},
    }
    return {
        "query": of_type(scope, "webrtcStats", {"term": {"rtcsim_side": "server"}}),
        "aggs": {
            "sides": {
                "filters": {
                    "filters": {
                        "publishers": {"exists": {"field": "packetsReceived"}},
                        "subscribers": {"exists": {"field": "packetsSent"}},
                    }
                },
                "aggs": {**metrics, "t": histogram(scope, metrics)},
            }
        },
    }


LAYERS_PER_TERMS = 3


def layer_bitrate(scope: Scope) -> Body:
    """A simulcast publisher's server-side video documents per endpoint and ``layer``
    (docs/documents.md §3): the largest cumulative ``bytesReceived`` per time bucket and when
    it was sampled, so ``panels`` turns successive samples into a bitrate; and when each
    publisher began (its ``webrtcConnectionCreated``), the origin of its first sample."""
    sampled = {"bytes": {"max": {"field": "bytesReceived"}}, "at": {"max": {"field": "timestamp"}}}
    return {
        "query": in_sessions(scope),
        "aggs": {
            "layers": {
                "filter": {
                    "bool": {
                        "filter": [
                            {"term": {"elastic_type": "webrtcStats"}},
                            {"term": {"rtcsim_side": "server"}},
                            {"term": {"mediaType": "video"}},
                            {"exists": {"field": "layer"}},
                        ]
                    }
                },
                "aggs": {
                    "endpoints": {
                        "terms": {"field": "endpoint", "size": 100},
                        "aggs": {
                            "layer": {
                                "terms": {"field": "layer", "size": LAYERS_PER_TERMS},
                                "aggs": {"t": histogram(scope, sampled)},
                            }
                        },
                    }
                },
            },
            "starts": {
                "filter": {
                    "bool": {
                        "filter": [
                            {"term": {"elastic_type": "cdr"}},
                            {"term": {"event": "webrtcConnectionCreated"}},
                        ],
                        "must_not": [{"exists": {"field": "receivingFrom"}}],
                    }
                },
                "aggs": {
                    "streams": {
                        "terms": {"field": "streamId", "size": 100},
                        "aggs": {"start": {"min": {"field": "timestamp"}}},
                    }
                },
            },
        },
    }


def recordings(scope: Scope) -> Body:
    return {
        "query": of_type(scope, "recordingSummary"),
        "aggs": {
            "days": per_day(),
            "duration": {"avg": {"field": "duration"}},
            "size": {"avg": {"field": "size"}},
            "size_total": {"sum": {"field": "size"}},
            "by_duration": ranges("duration", DURATION_BUCKETS_S),
            "by_size": ranges("size", SIZE_BUCKETS_B),
            "modes": {"terms": {"field": "outputMode", "size": 10}},
            "tracks": {"filters": {"filters": TRACKS}},
        },
    }


ALL = {
    "types": documents_by_type,
    "host": host,
    "sessions": sessions,
    "locations": locations,
    "connections": connections,
    "streamed": streamed,
    "ice": ice,
    "streams": stream_stats,
    "layers": layer_bitrate,
    "recordings": recordings,
}
