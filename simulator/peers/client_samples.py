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
from simulator.peers.receiving import ReceivingPeer
from simulator.peers.reception import reception
from simulator.peers.simulcast.publisher import SimulcastVideo

CLOCK_HZ = {"audio": 48_000, "video": 90_000}


async def _sender_reports(state: PublisherState) -> list[Any]:
    """The publication's own senders' reports (a kept publisher peer has earlier ones too)."""
    if not state.transceivers:
        return list((await state.pc.getStats()).values())
    reports: list[Any] = []
    for transceiver in state.transceivers:
        reports += (await transceiver.sender.getStats()).values()
    return reports


async def publisher_samples(state: PublisherState) -> list[dict[str, Any]]:
    by_kind: dict[str, dict[str, Any]] = {}
    for report in await _sender_reports(state):
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
    connection_id: str, state: SubscriptionState, peer: ReceivingPeer
) -> list[dict[str, Any]]:
    """``connection_id``: the subscriber's, as the server's events name it. The transport's
    bytes only when the peer is the subscription's own (not LiveKit's shared one)."""
    reports: list[Any] = []
    for transceiver in peer.transceivers_of(state.feed):
        if transceiver.kind == "audio":
            stats = await transceiver.receiver.getStats()
            reports += [r for r in stats.values() if r.type == "inbound-rtp"]
    if not peer.shared:
        reports += [r for r in (await peer.pc.getStats()).values() if r.type == "transport"]
    bytes_received: int | None = None
    audio: dict[str, Any] = {}
    for report in reports:
        if report.type == "transport":
            bytes_received = received_bytes(peer.pc, int(report.bytesReceived))
        elif report.type == "inbound-rtp" and report.kind == "audio":
            # Video inbound-rtp is unreliable in aiortc (the RTX SSRC overwrites it).
            audio = {
                "packetsReceived": int(report.packetsReceived),
                "packetsLost": int(report.packetsLost),
                "jitter": float(report.jitter or 0.0) / CLOCK_HZ["audio"],
            }
    endpoint = f"{connection_id}_{state.stream_id}"
    streams = reception(peer.pc, peer.transceivers_of(state.feed))
    samples = []
    for kind, counters in state.received.items():
        fields = dict(audio) if kind == "audio" else {}
        fields["framesReceived"] = counters.frames
        if kind == "video":
            if state.layers.substream is not None:
                # The simulcast layer it gets now: on a server with no per-layer stats of its
                # own (LiveKit), the only document that says which layer a viewer got.
                fields["layer"] = state.layers.substream
            if bytes_received is not None:
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
