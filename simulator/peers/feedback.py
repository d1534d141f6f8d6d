"""RTCP feedback aiortc's router does not deliver where a cheap or simulcast publisher needs it.

aiortc hands payload-specific feedback to the sender registered under the packet's media SSRC.
Two messages have none: a FIR names the streams it wants a key frame from in its FCI and leaves
the media SSRC 0 (RFC 5104 §4.3.1.2), and a REMB lists its SSRCs in the FCI with media SSRC 0
(draft-alvestrand-rmcat-remb §2.2). ``FeedbackHub`` registers itself under SSRC 0 on a
transport's RTP router and calls back per SSRC: key frame requests and bitrate estimates.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import unpack_from
from typing import Any

from aiortc.rtp import RTCP_PSFB_APP, AnyRtcpPacket, RtcpPsfbPacket, unpack_remb_fci

RTCP_PSFB_FIR = 4
FIR_ENTRY_BYTES = 8  # SSRC, sequence number, 3 reserved bytes


def fir_ssrcs(fci: bytes) -> list[int]:
    return [
        unpack_from("!L", fci, offset)[0]
        for offset in range(0, len(fci) - FIR_ENTRY_BYTES + 1, FIR_ENTRY_BYTES)
    ]


class FeedbackHub:
    """Key frame requests by FIR and REMB estimates for the SSRCs a publisher sends."""

    def __init__(self) -> None:
        self.keyframe_callbacks: dict[int, Callable[[], None]] = {}
        self.remb_callbacks: dict[int, Callable[[int], None]] = {}

    def attach(self, transport: Any) -> None:
        """Register on an ``RTCDtlsTransport``'s router (a private attribute: aiortc has no
        public hook for RTCP)."""
        transport._rtp_router.register_sender(self, ssrc=0)

    def detach(self, transport: Any) -> None:
        transport._rtp_router.unregister_sender(self)

    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        if not isinstance(packet, RtcpPsfbPacket):
            return
        if packet.fmt == RTCP_PSFB_FIR:
            for ssrc in fir_ssrcs(packet.fci):
                callback = self.keyframe_callbacks.get(ssrc)
                if callback is not None:
                    callback()
        elif packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            called: set[int] = set()
            for ssrc in ssrcs:
                remb = self.remb_callbacks.get(ssrc)
                if remb is not None and id(remb) not in called:
                    called.add(id(remb))
                    remb(bitrate)
