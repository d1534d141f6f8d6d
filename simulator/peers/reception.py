"""What a subscription's receivers counted of RTP: expected, lost, jitter, per media kind.

aiortc's ``getStats`` cannot be trusted for a subscriber's video: its inbound-rtp report of the
RTX stream overwrites the media stream's (``peers.client_samples``). The receivers' own
per-SSRC statistics (``StreamStatistics``, the numbers their RTCP receiver reports carry) are
exact, so they are read directly, leaving out the RTX streams: ``lost`` is then the loss before
NACK repaired it (RFC 3550 §6.4.1 cumulative loss; A.8 interarrival jitter). Cheap and live
subscribers keep the same statistics (``cheap_receive`` keeps aiortc's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver


@dataclass(frozen=True)
class Reception:
    expected: int
    received: int
    jitter_ms: float

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)


def reception(
    pc: RTCPeerConnection, transceivers: Iterable[RTCRtpTransceiver] | None = None
) -> dict[str, Reception]:
    """Per kind, the media stream (the SSRC with the most packets, RTX aside) of ``pc``;
    ``transceivers``: only these m-lines (a subscription's, on a shared subscriber peer)."""
    found: dict[str, Reception] = {}
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        receiver: Any = transceiver.receiver
        streams: dict[int, Any] = getattr(receiver, "_RTCRtpReceiver__remote_streams", {})
        rtx: dict[int, int] = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
        for ssrc, stats in list(streams.items()):
            if ssrc in rtx or stats.base_seq is None or stats.max_seq is None:
                continue
            seen = Reception(
                expected=int(stats.packets_expected),
                received=int(stats.packets_received),
                jitter_ms=round(stats.jitter / stats._clockrate * 1000, 3),
            )
            best = found.get(transceiver.kind)
            if best is None or seen.received > best.received:
                found[transceiver.kind] = seen
    return found
