"""Every panel's numbers, from Elasticsearch aggregations: queries in, dataclasses out.

``compute`` sends the bodies of ``queries`` (one search each, ``size: 0``) and ``parse`` turns
the aggregation responses into the dataclasses of ``model``; ``parse`` is pure, so tests feed it
recorded responses. Nothing here reads documents one by one: what the report shows is what
Kibana would show from the same index.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping
from typing import Any

from elasticsearch import AsyncElasticsearch, NotFoundError

from rtcsim.report import queries
from rtcsim.report.ice import ice_endpoints
from rtcsim.report.model import (
    Bucket,
    Latency,
    Location,
    Point,
    RecordingsDashboard,
    Scope,
    Series,
    SessionsDashboard,
    StreamStats,
)

Aggs = Mapping[str, Any]
Responses = Mapping[str, Aggs]  # query name (queries.ALL) → its "aggregations"


MAX_TERMS = 65_536
"""Elasticsearch's own bound on the buckets of one response (``search.max_buckets``)."""
TERMS_GROWTH = 16


class AggregationIncomplete(RuntimeError):
    """A ``terms`` aggregation cannot hold every value even at Elasticsearch's bucket bound."""


def truncated_terms(aggs: Aggs, answer: Aggs) -> list[dict[str, Any]]:
    """The ``terms`` bodies in ``aggs`` whose answer (at any depth, in any bucket) left
    documents out (``sum_other_doc_count`` > 0): their panel would show part of the run."""
    found: list[dict[str, Any]] = []
    for name, spec in aggs.items():
        result = answer.get(name)
        if not isinstance(result, Mapping):
            continue
        if "terms" in spec and int(result.get("sum_other_doc_count", 0)) > 0:
            found.append(spec["terms"])
        if "aggs" in spec:
            buckets = result.get("buckets")
            inner = (
                [result]
                if buckets is None
                else list(buckets.values() if isinstance(buckets, Mapping) else buckets)
            )
            for bucket in inner:
                found += [t for t in truncated_terms(spec["aggs"], bucket) if t not in found]
    return found


async def search_whole(es: AsyncElasticsearch, index: str, body: dict[str, Any]) -> Aggs:
    """One panel's aggregations with every ``terms`` bucket in: a ``terms`` size is a first
    guess, grown and asked again whenever Elasticsearch says it left documents out."""
    while True:
        response = await es.search(index=index, size=0, query=body["query"], aggs=body["aggs"])
        answer = dict(response.body.get("aggregations", {}))
        short = truncated_terms(body["aggs"], answer)
        if not short:
            return answer
        for terms in short:
            size = int(terms.get("size", 10))
            if size >= MAX_TERMS:
                raise AggregationIncomplete(
                    f"the terms of {terms.get('field')!r} have more than {MAX_TERMS} values: "
                    "the report cannot show them all"
                )
            terms["size"] = min(MAX_TERMS, size * TERMS_GROWTH)


async def search_all(es: AsyncElasticsearch, index: str, scope: Scope) -> dict[str, Aggs]:
    """Run every panel's query; an index that does not exist yet gives empty panels."""
    try:
        await es.indices.refresh(index=index)
    except NotFoundError:
        return {name: {} for name in queries.ALL}

    async def one(name: str) -> tuple[str, Aggs]:
        return name, await search_whole(es, index, queries.ALL[name](scope))

    return dict(await asyncio.gather(*(one(name) for name in queries.ALL)))


# -- parsing helpers --------------------------------------------------------------------------
def _value(agg: Aggs | None, scale: float = 1.0) -> float | None:
    if not agg or agg.get("value") is None:
        return None
    return float(agg["value"]) * scale


def _series(
    name: str, unit: str, buckets: list[Aggs], metric: str | None, scale: float = 1.0
) -> Series:
    """A time series from date_histogram buckets: a metric's value, or the doc count."""
    points = []
    for bucket in buckets:
        if metric is None:
            value: float | None = float(bucket["doc_count"])
        else:
            value = _value(bucket.get(metric), scale) if bucket["doc_count"] else None
        points.append(Point(int(bucket["key"]), value))
    return Series(name, unit, tuple(points))


def _live(name: str, buckets: list[Aggs]) -> Series:
    """How many are live at the end of each bucket: created minus destroyed, summed from the
    start of the scope (``queries.connections``)."""
    points, live = [], 0
    for bucket in buckets:
        created = int((bucket.get("created") or {}).get("doc_count", 0))
        live += created - int((bucket.get("destroyed") or {}).get("doc_count", 0))
        points.append(Point(int(bucket["key"]), float(live)))
    return Series(name, "live", tuple(points))


def _created(side: Aggs) -> int:
    return int((side.get("created") or {}).get("doc_count", 0))


def _hist(agg: Aggs | None) -> list[Aggs]:
    return list((agg or {}).get("buckets", []))


def _keyed(agg: Aggs | None, labels: list[str]) -> tuple[Bucket, ...]:
    """Keyed range/filters buckets, in the order the dashboard lists them."""
    buckets = (agg or {}).get("buckets", {})
    return tuple(Bucket(label, int(buckets.get(label, {}).get("doc_count", 0))) for label in labels)


def _terms(agg: Aggs | None) -> tuple[Bucket, ...]:
    return tuple(Bucket(str(b["key"]), int(b["doc_count"])) for b in _hist(agg))


def _day_labels(agg: Aggs | None) -> tuple[Bucket, ...]:
    """Per-day buckets labelled YYYY-MM-DD (epoch_millis keys have no readable string)."""
    return tuple(
        Bucket(
            dt.datetime.fromtimestamp(int(b["key"]) / 1000, tz=dt.UTC).strftime("%Y-%m-%d"),
            int(b["doc_count"]),
        )
        for b in _hist(agg)
    )


# -- the Sessions dashboard -------------------------------------------------------------------
def _latency(event: str, agg: Aggs | None) -> Latency:
    agg = agg or {}
    pct = (agg.get("pct") or {}).get("values") or {}
    p50, p95 = pct.get("50.0"), pct.get("95.0")
    return Latency(
        event=event,
        count=int(agg.get("doc_count", 0)),
        avg_ms=_value(agg.get("avg")),
        p50_ms=float(p50) if p50 is not None else None,
        p95_ms=float(p95) if p95 is not None else None,
        buckets=_keyed(agg.get("ranges"), [b[0] for b in queries.LATENCY_BUCKETS_MS]),
    )


def _stream_stats(side: str, agg: Aggs | None) -> StreamStats:
    """Jitter and RTT arrive in seconds (documents.md §3); shown in ms. Loss in percent."""
    agg = agg or {}
    t = _hist(agg.get("t"))
    series = [_series("jitter", "ms", t, "jitter", 1000)]
    if side == "publishers":
        series += [
            _series("packet loss", "%", t, "lost", 100),
            _series("REMB", "kbps", t, "remb", 1 / 1000),
        ]
    else:
        series += [
            _series("packets lost (reported by the receiver)", "packets", t, "lost_packets"),
            _series("round-trip time", "ms", t, "rtt", 1000),
            _series("target bitrate", "kbps", t, "target", 1 / 1000),
        ]
    lost_packets = _value(agg.get("lost_packets"))
    return StreamStats(
        side=side,
        documents=int(agg.get("doc_count", 0)),
        avg_jitter_ms=_value(agg.get("jitter"), 1000),
        avg_fraction_lost_pct=_value(agg.get("lost"), 100),
        max_packets_lost=int(lost_packets) if lost_packets is not None else None,
        avg_rtt_ms=_value(agg.get("rtt"), 1000),
        avg_bitrate_kbps=_value(agg.get("target" if side == "subscribers" else "remb"), 1 / 1000),
        series=tuple(series),
    )


def _layer_bitrate(agg: Aggs | None) -> tuple[Series, ...]:
    """kbit/s per simulcast layer of each publisher, per time bucket: the bytes Janus
    received between two successive samples over the time between them; a publisher's first
    sample counts from its ``webrtcConnectionCreated`` (without one it only opens the series)."""
    agg = agg or {}
    starts = {
        str(b["key"]): _value(b.get("start"))
        for b in _hist((agg.get("starts") or {}).get("streams"))
    }
    series = []
    for endpoint in _hist((agg.get("layers") or {}).get("endpoints")):
        name = str(endpoint["key"])
        for layer in sorted(_hist(endpoint.get("layer")), key=lambda b: int(b["key"])):
            start = starts.get(name)
            previous = (start, 0.0) if start is not None else None
            points = []
            for bucket in _hist(layer.get("t")):
                at, nbytes = _value(bucket.get("at")), _value(bucket.get("bytes"))
                value = None
                if bucket["doc_count"] and at is not None and nbytes is not None:
                    if previous is not None and at > previous[0]:
                        value = (nbytes - previous[1]) * 8 / (at - previous[0])  # bit/ms = kbit/s
                    previous = (at, nbytes)
                points.append(Point(int(bucket["key"]), value))
            series.append(Series(f"{name} layer {int(layer['key'])}", "kbps", tuple(points)))
    return tuple(series)


def sessions_dashboard(scope: Scope, r: Responses) -> SessionsDashboard:
    host = _hist(r["host"].get("t"))
    sides = (r["connections"].get("sides") or {}).get("buckets", {})
    pubs, subs = sides.get("publishers", {}), sides.get("subscribers", {})
    kinds = {b["key"]: b for b in _hist(r["streamed"].get("kinds"))}
    ice = r["ice"]
    states = ice.get("states") or {}
    failed = _value((states.get("failed") or {}).get("endpoints"))
    streams = (r["streams"].get("sides") or {}).get("buckets", {})
    bounds = (r["locations"].get("bounds") or {}).get("bounds")
    return SessionsDashboard(
        interval_ms=queries.interval_ms(scope),
        cpu=_series("host CPU", "%", host, "cpu"),
        janus_cpu=_series("Janus CPU", "%", host, "janus_cpu"),
        memory=_series("host memory", "%", host, "mem"),
        host_samples=sum(int(b["doc_count"]) for b in host),
        sessions_per_day=_day_labels(r["sessions"].get("days")),
        sessions_total=int(_value(r["sessions"].get("unique")) or 0),
        locations=tuple(
            Location(
                str(b["key"]),
                float(b["centre"]["location"]["lat"]),
                float(b["centre"]["location"]["lon"]),
                int(b["doc_count"]),
            )
            for b in _hist(r["locations"].get("places"))
            if (b.get("centre") or {}).get("location")
        ),
        bounds=(
            (
                bounds["top_left"]["lat"],
                bounds["top_left"]["lon"],
                bounds["bottom_right"]["lat"],
                bounds["bottom_right"]["lon"],
            )
            if bounds
            else None
        ),
        publishers=_live("publishers", _hist(pubs.get("t"))),
        subscribers=_live("subscribers", _hist(subs.get("t"))),
        publishers_total=_created(pubs),
        subscribers_total=_created(subs),
        streamed_publishers=_series(
            "publishers",
            "min",
            _hist(kinds.get("publisherSummary", {}).get("t")),
            "seconds",
            1 / 60,
        ),
        streamed_subscribers=_series(
            "subscribers",
            "min",
            _hist(kinds.get("subscriberSummary", {}).get("t")),
            "seconds",
            1 / 60,
        ),
        streamed_minutes_total=(_value(r["streamed"].get("seconds")) or 0.0) / 60,
        candidate_pair=_latency("NewCandidatePairSelected", ice.get("pair")),
        ice_gathering=_latency("IceGatheringDone", ice.get("gathering")),
        ice=ice_endpoints(states.get("endpoints")),
        connections_ok=_created(pubs) + _created(subs),
        connections_failed=int(failed or 0),
        publisher_stats=_stream_stats("publishers", streams.get("publishers")),
        subscriber_stats=_stream_stats("subscribers", streams.get("subscribers")),
        layer_bitrate=_layer_bitrate(r.get("layers")),
    )


# -- the Recordings dashboard -----------------------------------------------------------------
def recordings_dashboard(r: Responses) -> RecordingsDashboard:
    rec = r["recordings"]
    return RecordingsDashboard(
        per_day=_day_labels(rec.get("days")),
        total=sum(b.count for b in _day_labels(rec.get("days"))),
        avg_duration_s=_value(rec.get("duration")),
        avg_size_bytes=_value(rec.get("size")),
        total_size_bytes=int(_value(rec.get("size_total")) or 0),
        by_duration=_keyed(rec.get("by_duration"), [b[0] for b in queries.DURATION_BUCKETS_S]),
        by_size=_keyed(rec.get("by_size"), [b[0] for b in queries.SIZE_BUCKETS_B]),
        by_output_mode=_terms(rec.get("modes")),
        by_tracks=_keyed(rec.get("tracks"), list(queries.TRACKS)),
    )


def documents_by_type(r: Responses) -> tuple[Bucket, ...]:
    return _terms(r["types"].get("types"))
