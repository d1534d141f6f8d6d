"""What a participant's peers have sent and received so far, read from aiortc's stats.

The participant's own counters (``TrackCounters`` per media kind) are the simulator's ground
truth for what it sent; these readings fill them in, and feed the live progress view. Kept out
of ``simulator.participant`` so that module holds the session's lifecycle, not its arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiortc import RTCPeerConnection

from simulator.peers.peer_state import PublisherState, SubscriptionState, TrackCounters
from simulator.peers.receiving import ReceivingPeer
from simulator.peers.simulcast.publisher import SimulcastVideo


async def transport_bytes(pc: RTCPeerConnection, field_name: str) -> int:
    """``bytesSent`` or ``bytesReceived`` over the peer's transports."""
    stats = await pc.getStats()
    return sum(int(getattr(r, field_name, 0)) for r in stats.values() if r.type == "transport")


async def peer_views(
    publisher: PublisherState | None,
    receivers: Mapping[str, ReceivingPeer],
    subscriptions: Mapping[str, SubscriptionState],
) -> list[tuple[str, str, int]]:
    """(what, ICE state, transport bytes so far) per peer, for the live progress view."""
    views: list[tuple[str, str, int]] = []
    if publisher is not None:
        sent = await transport_bytes(publisher.pc, "bytesSent")
        views.append(("sends", publisher.pc.iceConnectionState, sent))
    for name, peer in receivers.items():
        feeds = [f for f, s in subscriptions.items() if s.peer == name]
        if not feeds:
            continue
        what = f"receives {feeds[0][:6]}…" if len(feeds) == 1 else f"receives {len(feeds)}"
        received = await transport_bytes(peer.pc, "bytesReceived")
        views.append((what, peer.pc.iceConnectionState, received))
    return views


async def count_sent(state: PublisherState, sent: dict[str, TrackCounters]) -> None:
    """Packets, bytes and frames the publication sent so far, into ``sent`` (per kind). A
    simulcast video counts its layers' streams itself: its sender's stats see one of them."""
    for transceiver in state.transceivers:
        if isinstance(state.video, SimulcastVideo) and transceiver.kind == "video":
            continue
        stats = await transceiver.sender.getStats()
        for report in stats.values():
            if report.type == "outbound-rtp":
                counters = sent.setdefault(report.kind, TrackCounters())
                counters.packets = int(report.packetsSent)
                counters.bytes = int(report.bytesSent)
    if isinstance(state.video, SimulcastVideo):
        counters = sent.setdefault("video", TrackCounters())
        counters.packets, counters.bytes = state.video.totals()
    if state.audio is not None:
        sent.setdefault("audio", TrackCounters()).frames = state.audio.frames_sent
    if state.video is not None:
        sent.setdefault("video", TrackCounters()).frames = state.video.frames_sent
