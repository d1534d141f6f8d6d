"""What a browser would report about its endpoints, from aiortc's ``getStats()``.

One sample per endpoint and media type, named as the collector names endpoints (publisher: its
streamId; subscriber: ``<own connectionId>_<streamId>``). aiortc reports jitter in RTP
timestamp units; OpenVidu's webrtcStats jitter is in seconds. A simulcast video is sent by
rtcsim's own streams, so its sample comes from their counters (totals over the layers).
"""

from __future__ import annotations

from typing import Any

from simulator.peers.cheap_receive import received_bytes
from simulator.peers.peer_state import PublisherState, SubscriptionState
from simulator.peers.reception import reception
from simulator.peers.simulcast.publisher import SimulcastVideo

CLOCK_HZ = {"audio": 48_000, "video": 90_000}


async def publisher_samples(state: PublisherState) -> list[dict[str, Any]]:
    stats = await state.pc.getStats()
    by_kind: dict[str, dict[str, Any]] = {}
    for report in stats.values():
        if report.type == "outbound-rtp":
            by_kind.setdefault(report.kind, {}).update(
                packetsSent=int(report.packetsSent), bytesSent=int(report.bytesSent)
            )
        elif report.type == "remote-inbound-rtp":
            by_kind.setdefault(report.kind, {}).update(
                packetsLost=int(report.packetsLost),
                fractionLost=float(report.fractionLost),
                roundTripTime=float(report.roundTripTime or 0.0),
                jitter=float(report.jitter or 0.0) / CLOCK_HZ[report.kind],
            )
    if isinstance(state.video, SimulcastVideo):
        packets, nbytes = state.video.totals()
        by_kind["video"] = {"packetsSent": packets, "bytesSent": nbytes}
    samples = []
    for kind, fields in by_kind.items():
        track = state.audio if kind == "audio" else state.video
        if track is not None:
            fields["framesSent"] = track.frames_sent
        samples.append({"endpoint": state.stream_id, "mediaType": kind, **fields})
    return samples


async def subscription_samples(
    connection_id: str, state: SubscriptionState
) -> list[dict[str, Any]]:
    stats = await state.pc.getStats()
    bytes_received = 0
    audio: dict[str, Any] = {}
    for report in stats.values():
        if report.type == "transport":
            bytes_received = received_bytes(state.pc, int(report.bytesReceived))
        elif report.type == "inbound-rtp" and report.kind == "audio":
            # Video inbound-rtp is unreliable in aiortc (the RTX SSRC overwrites it).
            audio = {
                "packetsReceived": int(report.packetsReceived),
                "packetsLost": int(report.packetsLost),
                "jitter": float(report.jitter or 0.0) / CLOCK_HZ["audio"],
            }
    endpoint = f"{connection_id}_{state.stream_id}"
    streams = reception(state.pc)
    samples = []
    for kind, counters in state.received.items():
        fields = dict(audio) if kind == "audio" else {}
        fields["framesReceived"] = counters.frames
        if kind == "video":
            fields["transportBytesReceived"] = bytes_received
            fields.update(_video_reception(state, streams))
        samples.append({"endpoint": endpoint, "mediaType": kind, **fields})
    return samples


def _video_reception(state: SubscriptionState, streams: dict[str, Any]) -> dict[str, Any]:
    """The video stream's own counters (``peers.reception``) and the one-way latency of the
    frames since the previous sample (``peers.latency``), when there were any."""
    fields: dict[str, Any] = {}
    video = streams.get("video")
    if video is not None:
        fields.update(
            packetsReceived=video.received,
            packetsLost=video.lost,
            jitter=video.jitter_ms / 1000,
        )
    if state.latency is not None:
        interval = state.latency.interval()
        if interval.p50_ms is not None and interval.p95_ms is not None:
            fields.update(
                latencyP50Ms=round(interval.p50_ms, 1), latencyP95Ms=round(interval.p95_ms, 1)
            )
    return fields
