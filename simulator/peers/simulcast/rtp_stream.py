"""One outgoing RTP stream of a simulcast publisher: a layer's SSRC, its RTX, its RTCP.

aiortc's ``RTCRtpSender`` sends one SSRC per track and never writes the rid header extension,
so each layer is sent by one of these on the peer's (bundled) DTLS transport instead, as a
browser sends one RTP stream per encoding:

* media packets carry the ``mid`` and ``rtp-stream-id`` (rid) extensions, retransmissions
  (RTX, RFC 4588, on their own SSRC) the ``repaired-rtp-stream-id``: Janus maps both SSRCs to the
  layer from them (RFC 8852 §3);
* the last packets are kept for NACK (RFC 4585 §6.2.1) and resent as RTX;
* RTCP arrives through aiortc's RTP router, to which the stream is registered under its SSRC:
  receiver reports (loss, round trip), NACK, PLI (RFC 4585 §6.3.1; FIR, RFC 5104 §4.3.1, comes
  with media SSRC 0 and is handed over by the publisher);
* a sender report and SDES CNAME go out about once a second (RFC 3550 §6.2).

The owner decides what to send and when; the stream counts what it sent, per VP8 temporal
layer, so a subscriber's received rate can be held against what this layer carried.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from typing import Protocol

from aiortc import clock
from aiortc.rtp import (
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    RTP_HISTORY_SIZE,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    RtpPacket,
    wrap_rtx,
)

from simulator.peers.simulcast.layers import TEMPORAL_LAYERS

SEQUENCE_MODULO = 1 << 16
TIMESTAMP_MODULO = 1 << 32


class RtpTransport(Protocol):
    """What a stream needs of aiortc's ``RTCDtlsTransport``: to send (S)RTP and RTCP."""

    async def _send_rtp(self, data: bytes) -> None: ...


@dataclasses.dataclass
class StreamCounters:
    """What a stream sent; ``*_by_temporal``: RTP payload bytes and frames per VP8 TID."""

    frames: int = 0
    packets: int = 0
    bytes: int = 0
    keyframes: int = 0
    retransmissions: int = 0
    bytes_by_temporal: list[int] = dataclasses.field(default_factory=lambda: [0] * TEMPORAL_LAYERS)
    frames_by_temporal: list[int] = dataclasses.field(default_factory=lambda: [0] * TEMPORAL_LAYERS)
    fraction_lost: float = 0.0
    """Loss the receiver last reported, 0..1."""
    round_trip_s: float | None = None


class RtpStream:
    """Sends one layer. ``on_keyframe_request`` runs when a PLI names this stream's SSRC."""

    def __init__(
        self,
        transport: RtpTransport,
        extensions: HeaderExtensionsMap,
        *,
        payload_type: int,
        rtx_payload_type: int | None,
        mid: str,
        rid: str,
        cname: str,
        on_keyframe_request: Callable[[], None],
        on_loss: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        rng = rng or random.Random()
        self.transport = transport
        self.extensions = extensions
        self.payload_type = payload_type
        self.rtx_payload_type = rtx_payload_type
        self.mid = mid
        self.rid = rid
        self.cname = cname
        self.ssrc = rng.randrange(1, 1 << 32)
        self.rtx_ssrc = rng.randrange(1, 1 << 32)
        self._ssrc = self.ssrc  # the name aiortc's RTP router knows senders by
        self.counters = StreamCounters()
        self._on_keyframe_request = on_keyframe_request
        self._on_loss = on_loss
        self._sequence = rng.randrange(1 << 15)  # lower half: no early wrap (aiortc does so)
        self._rtx_sequence = rng.randrange(1 << 15)
        self._timestamp_origin = rng.randrange(TIMESTAMP_MODULO)
        self._history: dict[int, RtpPacket] = {}
        self._last_rtp_timestamp = 0
        self._last_ntp = 0
        self._lsr: int | None = None
        self._lsr_time: float | None = None

    # -- media --------------------------------------------------------------------------------
    async def send_frame(
        self, payloads: list[bytes], timestamp: int, *, temporal: int, keyframe: bool
    ) -> None:
        """Send one frame's payloads; ``timestamp`` in 90 kHz ticks since the stream began."""
        rtp_timestamp = (self._timestamp_origin + timestamp) % TIMESTAMP_MODULO
        for index, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=self.payload_type,
                marker=int(index == len(payloads) - 1),
                sequence_number=self._sequence,
                timestamp=rtp_timestamp,
                ssrc=self.ssrc,
                payload=payload,
            )
            packet.extensions.mid = self.mid
            packet.extensions.rtp_stream_id = self.rid
            packet.extensions.abs_send_time = (clock.current_ntp_time() >> 14) & 0x00FFFFFF
            self._history[self._sequence % RTP_HISTORY_SIZE] = packet
            await self.transport._send_rtp(packet.serialize(self.extensions))
            self._sequence = (self._sequence + 1) % SEQUENCE_MODULO
            self.counters.packets += 1
            self.counters.bytes += len(payload)
            self.counters.bytes_by_temporal[min(temporal, TEMPORAL_LAYERS - 1)] += len(payload)
        self.counters.frames += 1
        self.counters.frames_by_temporal[min(temporal, TEMPORAL_LAYERS - 1)] += 1
        self.counters.keyframes += int(keyframe)
        self._last_rtp_timestamp = rtp_timestamp
        self._last_ntp = clock.current_ntp_time()

    async def _retransmit(self, sequence_number: int) -> None:
        packet = self._history.get(sequence_number % RTP_HISTORY_SIZE)
        if packet is None or packet.sequence_number != sequence_number:
            return
        if self.rtx_payload_type is not None:
            packet = wrap_rtx(
                packet,
                payload_type=self.rtx_payload_type,
                sequence_number=self._rtx_sequence,
                ssrc=self.rtx_ssrc,
            )
            # RTX names the layer it repairs (RFC 8852 §3.2); the media rid would be wrong.
            packet.extensions = dataclasses.replace(
                packet.extensions, rtp_stream_id=None, repaired_rtp_stream_id=self.rid
            )
            self._rtx_sequence = (self._rtx_sequence + 1) % SEQUENCE_MODULO
        await self.transport._send_rtp(packet.serialize(self.extensions))
        self.counters.retransmissions += 1

    # -- RTCP ---------------------------------------------------------------------------------
    async def _handle_rtcp_packet(self, packet: AnyRtcpPacket) -> None:
        """Called by aiortc's RTP router for RTCP that names this stream's SSRC."""
        if isinstance(packet, RtcpRrPacket | RtcpSrPacket):
            for report in packet.reports:
                if report.ssrc != self.ssrc:
                    continue
                self.counters.fraction_lost = report.fraction_lost / 256
                if self._lsr is not None and report.lsr == self._lsr and report.dlsr:
                    assert self._lsr_time is not None
                    self.counters.round_trip_s = max(
                        0.0, time.time() - self._lsr_time - report.dlsr / 65536
                    )
                if self._on_loss is not None:
                    self._on_loss(self.counters.fraction_lost)
        elif isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            if packet.media_ssrc == self.ssrc:
                for sequence_number in packet.lost:
                    await self._retransmit(sequence_number)
        elif (
            isinstance(packet, RtcpPsfbPacket)
            and packet.fmt == RTCP_PSFB_PLI
            and packet.media_ssrc == self.ssrc
        ):
            self._on_keyframe_request()

    def keyframe_requested(self) -> None:
        """A FIR named this stream (the publisher routes FIR by its FCI)."""
        self._on_keyframe_request()

    def sender_report(self) -> list[AnyRtcpPacket]:
        """SR + SDES CNAME for this stream, for the owner's periodic RTCP."""
        self._lsr = (self._last_ntp >> 16) & 0xFFFFFFFF
        self._lsr_time = time.time()
        return [
            RtcpSrPacket(
                ssrc=self.ssrc,
                sender_info=RtcpSenderInfo(
                    ntp_timestamp=self._last_ntp,
                    rtp_timestamp=self._last_rtp_timestamp,
                    packet_count=self.counters.packets & 0xFFFFFFFF,
                    octet_count=self.counters.bytes & 0xFFFFFFFF,
                ),
            ),
            RtcpSdesPacket(
                chunks=[RtcpSourceInfo(ssrc=self.ssrc, items=[(1, self.cname.encode())])]
            ),
        ]

    def goodbye(self) -> RtcpByePacket:
        return RtcpByePacket(sources=[self.ssrc, self.rtx_ssrc])
