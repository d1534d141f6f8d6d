"""The report page: a pure function from a ``Report`` to HTML (locust's report, STYLE.md).

Charts are inline SVG from ``charts``; the CSS and the one small script live in the template, so
the file opens offline. Every panel carries ``data-panel`` and ``data-has-data``; every headline
number carries ``data-metric`` and its exact ``data-value``, which is what tests read back.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from rtcsim.report import charts
from rtcsim.report.knee import knee_charts
from rtcsim.report.model import Bucket, IceEndpoints, Report, Series, StreamStats
from rtcsim.report.world_map import world_map

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    value: float | int | None
    unit: str = ""
    digits: int = 1

    @property
    def shown(self) -> str:
        return charts.fmt(self.value, self.digits)

    @property
    def raw(self) -> str:
        return "" if self.value is None else repr(self.value)


@dataclass(frozen=True)
class Panel:
    """One dashboard panel as the template draws it."""

    id: str
    title: str
    has_data: bool
    charts: tuple[Markup, ...] = ()
    metrics: tuple[Metric, ...] = ()
    note: str = ""


def _line(*series: Series) -> Markup:
    return Markup(charts.line_chart(series))


def _any(*series: Series) -> bool:
    return any(s.has_data for s in series)


def _median(ice: IceEndpoints) -> float | None:
    return statistics.median(ice.connected_ms) if ice.connected_ms else None


def _stream_panel(stats: StreamStats, title: str) -> Panel:
    prefix = "pub" if stats.side == "publishers" else "sub"
    metrics = [
        Metric(f"{prefix}_jitter_ms", "average jitter", stats.avg_jitter_ms, "ms", 2),
        Metric(f"{prefix}_max_packets_lost", "packets lost (max)", stats.max_packets_lost),
    ]
    if stats.side == "publishers":
        metrics += [
            Metric("pub_loss_pct", "average packet loss", stats.avg_fraction_lost_pct, "%", 2),
            Metric("pub_remb_kbps", "average REMB", stats.avg_bitrate_kbps, "kbps"),
        ]
    else:
        metrics += [
            Metric("sub_rtt_ms", "average round-trip time", stats.avg_rtt_ms, "ms", 2),
            Metric("sub_target_kbps", "average target bitrate", stats.avg_bitrate_kbps, "kbps"),
        ]
    return Panel(
        id=f"{stats.side}-webrtc",
        title=title,
        has_data=stats.documents > 0,
        charts=tuple(_line(s) for s in stats.series),
        metrics=(Metric(f"{prefix}_stats_documents", "documents", stats.documents), *metrics),
        note="webrtcStats, rtcsim_side server; averages over every document in scope"
        + (
            "; target bitrate is the bandwidth estimate (REMB) the subscribers send: none or 0 "
            "for subscribers that send no REMB (rtcsim's cheap subscribers; browsers that use "
            "transport-wide congestion control)"
            if stats.side == "subscribers"
            else ""
        ),
    )


def sessions_panels(report: Report) -> list[Panel]:
    s = report.sessions
    pair, gathering = s.candidate_pair, s.ice_gathering
    ratio = (Bucket("successful", s.connections_ok), Bucket("failed", s.connections_failed))
    return [
        Panel(
            "server-usage",
            "CPU and memory of the server",
            _any(s.cpu, s.memory),
            (_line(s.cpu, s.janus_cpu, s.memory),),
            (Metric("host_samples", "monitoringStats samples", s.host_samples),),
            "monitoringStats: average per bucket of cpu, janus_cpu, mem.percentage",
        ),
        Panel(
            "sessions-per-day",
            "Number of sessions per day",
            s.sessions_total > 0,
            (Markup(charts.bar_chart(s.sessions_per_day, unit="sessions")),),
            (Metric("sessions_total", "sessions", s.sessions_total),),
            "cdr sessionCreated, per day (UTC)",
        ),
        Panel(
            "user-locations",
            "User location",
            bool(s.locations),
            (Markup(world_map(s.locations)),),
            (Metric("locations", "locations", len(s.locations)),),
            "connectionSummary geoPoints: terms on location, geo_centroid each; places within "
            "10° cells gathered into one marker sized by connections (land: Natural Earth, "
            "public domain)",
        ),
        Panel(
            "publishers-subscribers",
            "Number of publishers and subscribers",
            s.publishers_total + s.subscribers_total > 0,
            (_line(s.publishers, s.subscribers),),
            (
                Metric("publishers_total", "publishers", s.publishers_total),
                Metric("subscribers_total", "subscribers", s.subscribers_total),
            ),
            "live at the end of each bucket: cdr webrtcConnectionCreated minus "
            "webrtcConnectionDestroyed, OUTBOUND and INBOUND, summed from the start; the totals "
            "count every connection created",
        ),
        Panel(
            "streamed-time",
            "Streamed time",
            _any(s.streamed_publishers, s.streamed_subscribers),
            (_line(s.streamed_publishers, s.streamed_subscribers),),
            (
                Metric(
                    "streamed_minutes_total", "streamed minutes", s.streamed_minutes_total, "min", 2
                ),
            ),
            "publisherSummary and subscriberSummary: sum of duration by end time",
        ),
        Panel(
            "candidate-pair",
            "Milliseconds until a candidate pair is selected",
            pair.count > 0,
            (Markup(charts.bar_chart(pair.buckets, unit="endpoints")),),
            (
                Metric("candidate_pair_avg_ms", "average", pair.avg_ms, "ms"),
                Metric("candidate_pair_p95_ms", "95th percentile", pair.p95_ms, "ms"),
                Metric("candidate_pair_count", "endpoints", pair.count),
            ),
            "kms NewCandidatePairSelected msSinceEndpointCreation",
        ),
        Panel(
            "ice-gathering",
            "Milliseconds until ICE gathering is done",
            gathering.count > 0,
            (Markup(charts.bar_chart(gathering.buckets, unit="endpoints")),),
            (
                Metric("ice_gathering_avg_ms", "average", gathering.avg_ms, "ms"),
                Metric("ice_gathering_p95_ms", "95th percentile", gathering.p95_ms, "ms"),
                Metric("ice_gathering_count", "endpoints", gathering.count),
            ),
            "kms IceGatheringDone msSinceEndpointCreation",
        ),
        Panel(
            "connection-ratio",
            "Successful and failed connections",
            s.connections_ok + s.connections_failed > 0,
            (Markup(charts.donut(ratio)),),
            (
                Metric("connections_ok", "successful", s.connections_ok),
                Metric("connections_failed", "failed", s.connections_failed),
            ),
            "successful: cdr webrtcConnectionCreated; failed: endpoints with a kms "
            "IceComponentStateChange FAILED",
        ),
        Panel(
            "ice-connected",
            "ICE: time to connected and final state, per endpoint",
            s.ice.endpoints > 0,
            (
                Markup(charts.cdf_chart(s.ice.connected_ms, s.ice.endpoints)),
                Markup(charts.bar_chart(s.ice.final_states, unit="endpoints")),
            ),
            (
                Metric("ice_endpoints", "endpoints", s.ice.endpoints),
                Metric("ice_connected_p50_ms", "median to connected", _median(s.ice), "ms"),
                Metric("ice_never_connected", "never connected", s.ice.never_connected),
            ),
            "kms IceComponentStateChange per endpoint: the first CONNECTED's "
            "msSinceEndpointCreation (cumulative share of all endpoints), and each endpoint's "
            "last state (Janus's connected and ready of one millisecond: ready)",
        ),
        _stream_panel(s.publisher_stats, "Publishers: jitter, packet loss, REMB"),
        _stream_panel(s.subscriber_stats, "Subscribers: jitter, packet loss, RTT, target bitrate"),
        *_layer_panel(s.layer_bitrate),
    ]


def _layer_panel(layers: tuple[Series, ...]) -> list[Panel]:
    """Only for a run with simulcast publishers (their per-layer webrtcStats)."""
    if not layers:
        return []
    return [
        Panel(
            "simulcast-layers",
            "Simulcast publishers: bitrate per layer",
            _any(*layers),
            (_line(*layers),),
            (Metric("simulcast_layer_series", "publisher layers", len(layers)),),
            "webrtcStats, rtcsim_side server, per endpoint and layer (Janus substream, 0 = "
            "lowest): bytesReceived between successive samples over the time between them "
            "(a publisher's first sample from its webrtcConnectionCreated)",
        )
    ]


def recordings_panels(report: Report) -> list[Panel]:
    r = report.recordings
    some = r.total > 0
    return [
        Panel(
            "recordings-per-day",
            "Number of recordings per day",
            some,
            (Markup(charts.bar_chart(r.per_day, unit="recordings")),),
            (Metric("recordings_total", "recordings", r.total),),
            "recordingSummary, per day (UTC)",
        ),
        Panel(
            "recording-averages",
            "Average recording duration and size",
            some,
            (),
            (
                Metric("recordings_avg_duration_s", "average duration", r.avg_duration_s, "s", 2),
                Metric("recordings_avg_size_bytes", "average size", r.avg_size_bytes, "bytes", 0),
                Metric("recordings_total_size_bytes", "total size", r.total_size_bytes, "bytes"),
            ),
            "recordingSummary: avg of duration, avg and sum of size",
        ),
        Panel(
            "recordings-by-duration",
            "Recordings by duration",
            some,
            (Markup(charts.bar_chart(r.by_duration, unit="recordings")),),
            note="range on duration (s)",
        ),
        Panel(
            "recordings-by-size",
            "Recordings by size",
            some,
            (Markup(charts.bar_chart(r.by_size, unit="recordings")),),
            note="range on size (bytes; MB = 1024² bytes)",
        ),
        Panel(
            "recordings-by-output-mode",
            "Recordings by output mode",
            some,
            (Markup(charts.donut(r.by_output_mode)),),
            note="terms on outputMode",
        ),
        Panel(
            "recordings-by-tracks",
            "Recordings by audio/video",
            some,
            (Markup(charts.donut(r.by_tracks)),),
            note="filters on hasAudio and hasVideo",
        ),
    ]


def _when(t_ms: int) -> str:
    return dt.datetime.fromtimestamp(t_ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["fmt"] = charts.fmt
    return env


def render(report: Report) -> str:
    """The whole page. Same report in, same bytes out."""
    template = environment().get_template("report.html.j2")
    return template.render(
        report=report,
        sessions=sessions_panels(report),
        recordings=recordings_panels(report),
        knee=knee_charts(report.capacity) if report.capacity else [],
    )
