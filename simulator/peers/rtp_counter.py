"""What a cheap subscriber counts per received RTP stream, from RTP headers alone.

SRTP (RFC 3711 §3.1) encrypts the payload and leaves the RTP header in the clear: sequence
number, timestamp, SSRC, marker bit, CSRC count and the header extension's length are readable
without the key, and the payload's length is the datagram's less the header and the
authentication tag (the ciphers SRTP uses with WebRTC, AES counter mode and AES-GCM, keep the
length). So frames, bytes and loss can be counted without decrypting anything, as long as:

* the packet has no padding (the P bit, in the clear): the padding's length is the payload's
  last byte, encrypted; such a packet is decrypted first (``PADDED``);
* it is the next one in sequence and nothing is missing: reordering, a gap (NACKs to send),
  a sequence-number wrap or a retransmission takes the general path, ``RtpCounter.add``, with
  the decrypted packet;
* now and then a packet is decrypted anyway (``RESYNC_EVERY``): libsrtp guesses each packet's
  rollover counter from the highest index it authenticated (RFC 3711 §3.3.1), so a stream it
  has not seen for half the sequence space (~5 minutes of video) would fail to decrypt.

``RtpCounter`` is an aiortc ``StreamStatistics`` (the receiver's per-SSRC statistics that its
RTCP receiver reports and ``getStats()`` read), so Janus keeps getting receiver reports with
the right highest sequence number, loss and jitter; it adds the frame and byte counts. A video
frame ends at the packet with the marker bit (RFC 7741 §4.1, VP8; RFC 6184 §5.1, H.264) and
holds the payload bytes since the previous one; an audio frame is one packet (Opus, 20 ms).
"""

from __future__ import annotations

from collections.abc import Callable

from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics

RESYNC_EVERY = 0x1000
"""Decrypt the packet whose sequence number is a multiple of this (one in 4,096: every ~30 s
of 1 Mbit/s video), so libsrtp's rollover estimate stays current."""

PADDED = 0x20
EXTENDED = 0x10

FrameCallback = Callable[[str, int], None]
PayloadCallback = Callable[[bytes, int], None]
"""``(payload, rtp_timestamp)`` of a video frame's first packet."""


def header_length(data: bytes | bytearray | memoryview, size: int) -> int:
    """Bytes before the payload (fixed header, CSRCs, header extension, RFC 3550 §5.1 and
    §5.3.1), or -1 if ``data[:size]`` is too short to hold them."""
    length = 12 + 4 * (data[0] & 0x0F)
    if data[0] & EXTENDED:
        if size < length + 4:
            return -1
        length += 4 + 4 * ((data[length + 2] << 8) | data[length + 3])
    return length if length <= size else -1


class RtpCounter(StreamStatistics):
    """One received RTP stream (one SSRC): aiortc's statistics plus frames and payload bytes.

    ``count_header`` is the per-packet fast path (True: counted; False: decrypt the packet and
    call ``add``); ``add`` handles any packet, in or out of order. ``nack`` is the receiver's
    NACK generator when NACK was negotiated: the fast path only takes packets that leave it
    unchanged (the next in sequence with nothing missing), so it is brought up to date before
    the general path feeds it.
    """

    def __init__(
        self,
        clockrate: int,
        kind: str,
        payload_type: int,
        on_frame: FrameCallback,
        nack: NackGenerator | None = None,
        on_frame_start: PayloadCallback | None = None,
    ) -> None:
        super().__init__(clockrate)
        self.kind = kind
        self.video = kind == "video"
        self.payload_type = payload_type
        self.on_frame = on_frame
        self.nack = nack
        self.on_frame_start = on_frame_start if kind == "video" else None
        """Called with the decrypted payload and RTP timestamp of each video frame's first
        packet (a VP8 key
        frame's size is there, RFC 7741 §4.3): those packets then take the general path."""
        self.frames = 0
        self.payload_bytes = 0
        """Payload bytes of the packets on this SSRC (retransmissions excluded)."""
        self.decrypted = 0
        """Packets that took the general path (counted all the same): the cost of exactness."""
        self._pending = 0
        self._arrival_s = 0.0

    # -- the fast path: one in-order packet, read from its header --------------------------
    def count_header(
        self, seq: int, timestamp: int, marker: int, payload_len: int, now_s: float
    ) -> bool:
        """Count the next packet in sequence; False (nothing counted) for anything else."""
        # The per-packet path: one call, the frame counting inlined (``_frame`` is the same).
        if seq - 1 != self.max_seq or not seq % RESYNC_EVERY:
            return False  # wrap (65535 → 0), gap, reorder, duplicate, resync
        nack = self.nack
        if nack is not None and nack.missing:
            return False
        if timestamp != self._last_timestamp:
            if self.on_frame_start is not None:
                return False  # a frame's first packet: its payload is wanted
            self._jitter(timestamp, now_s)
        self.packets_received += 1
        self.max_seq = seq
        self._arrival_s = now_s
        self.payload_bytes += payload_len
        if not self.video:
            self.frames += 1
            self.on_frame(self.kind, payload_len)
        elif marker:
            self.frames += 1
            self.on_frame(self.kind, self._pending + payload_len)
            self._pending = 0
        else:
            self._pending += payload_len
        return True

    # -- the general path: any packet, its header read after decryption ---------------------
    def add(  # type: ignore[override]
        self,
        seq: int,
        timestamp: int,
        marker: int,
        payload_len: int,
        now_s: float,
        payload: bytes | None = None,
    ) -> bool:
        """Count a packet as aiortc's ``StreamStatistics.add`` and ``NackGenerator.add`` do;
        True when the NACK generator found packets missing (send a NACK). ``payload``: the
        decrypted payload, when there is one (for ``on_frame_start``)."""
        self.decrypted += 1
        previous = self.max_seq
        in_order = previous is None or _uint16_gt(seq, previous)
        self.packets_received += 1
        if self.base_seq is None:
            self.base_seq = seq
        if in_order:
            if previous is not None and seq < previous:
                self.cycles += 1 << 16
            if timestamp != self._last_timestamp:
                if payload is not None and self.on_frame_start is not None:
                    self.on_frame_start(payload, timestamp)
                self._jitter(timestamp, now_s)
            self.max_seq = seq
            self._arrival_s = now_s
        missed = False
        if self.nack is not None:
            if previous is not None:
                self.nack.max_seq = previous  # what it would hold had it seen the fast path
            missed = self.nack.add(_Seq(seq))  # type: ignore[arg-type]
        self._frame(payload_len, marker)
        return missed

    def count_retransmission(self, payload_len: int, marker: int, seq: int) -> bool:
        """A packet recovered by RTX (RFC 4588): a frame's bytes, not this SSRC's statistics
        (aiortc counts it on the RTX stream's). True when a NACK is due."""
        missed = False
        if self.nack is not None:
            if self.max_seq is not None:
                self.nack.max_seq = self.max_seq
            missed = self.nack.add(_Seq(seq))  # type: ignore[arg-type]
        self._frame(payload_len, marker)
        return missed

    # -- shared -------------------------------------------------------------------------------
    def _jitter(self, timestamp: int, now_s: float) -> None:
        """RFC 3550 §6.4.1 interarrival jitter, in aiortc's fixed point (x16)."""
        clock = self._clockrate
        arrival = int(now_s * clock)
        if self._last_timestamp is not None:
            transit = arrival - int(self._arrival_s * clock)
            diff = abs(transit - (timestamp - self._last_timestamp))
            self._jitter_q4 += diff - ((self._jitter_q4 + 8) >> 4)
        self._last_timestamp = timestamp

    def _frame(self, payload_len: int, marker: int) -> None:
        self.payload_bytes += payload_len
        if not self.video:
            self.frames += 1
            self.on_frame(self.kind, payload_len)
            return
        self._pending += payload_len
        if marker:
            self.frames += 1
            self.on_frame(self.kind, self._pending)
            self._pending = 0


class _Seq:
    """What ``NackGenerator.add`` reads of a packet."""

    __slots__ = ("sequence_number",)

    def __init__(self, seq: int) -> None:
        self.sequence_number = seq


def _uint16_gt(a: int, b: int) -> bool:
    half = 0x8000
    return (a > b and a - b < half) or (a < b and b - a > half)
