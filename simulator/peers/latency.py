"""One-way latency through the media server, per subscription, on the host's one clock.

A browser estimates its receive delay from the sender reports it gets (RTCP SR: an NTP time
and the RTP timestamp sampled at that instant, RFC 3550 §6.4.1). Through Janus that measures
only the last hop: VideoRoom terminates RTCP, and the SRs a subscriber receives are Janus's
own, mapping the rewritten RTP timestamps to the moment *Janus* sent its latest packet
(``ice.c``, ``last_ntp_ts``/``last_rtp_ts``, Janus 1.1.2), so a server that queues packets
moves both ends of the mapping and shows nothing. Janus also rewrites every subscriber's RTP
timestamps and sequence numbers (``janus_rtp_header_update``: a new base per subscriber), so
the publisher's own SR mapping cannot be applied to what a subscriber receives either.

What passes through untouched is the VP8 payload descriptor: VideoRoom rewrites it only for
simulcast (``janus_vp8_simulcast_descriptor_update``). Its 15-bit picture id (RFC 7741 §4.2)
names the frame end to end. The publisher and its subscribers run in one simulator process,
on one clock, so the publisher notes when each frame left (its SR's NTP time, at frame
granularity: :class:`SentFrames`) and each subscriber, on the first packet of a frame, takes
arrival time minus that send time (:class:`LatencyMeter`). That is the frame's one-way
latency through the server, network and server queues included, exactly (to the 1 ms of
aiortc's arrival clock), with no clock offset to estimate.

LiveKit (v1.13.5) renumbers picture ids: its VP8 munger starts each subscriber's forwarding with
the publisher's own id (``codecmunger/vp8.go``, ``SetLast``) but, when it resumes after a gap it
did not forward (a mute), continues from the last id it sent (``UpdateOffsets``), so after a 3 s
mute every frame would match one sent 3 s earlier. Its RTP timestamps keep one offset instead:
on a resume of the same layer the forwarder takes the timestamp the reference layer's sender
reports map the packet to (``forwarder.go``, ``processSourceSwitch``: ``extNextTS =
extRefTS``, the incoming timestamp plus a fixed ``dummyStartTSOffset``), as long as the
publisher's timestamps ran on through the mute, which ours do (a muted track sends black
frames). So on LiveKit (:attr:`FrameMatch.RTP_TIMESTAMP`) a subscription learns the offset
between its timestamps and the publisher's from its first frame, matched by picture id while
LiveKit still passes them through, and from then on names each frame by its timestamp: the same
exact send time, looked up by the publisher's own timestamp (:meth:`SentFrames.sent_ms_at`).
That is the publisher's RTCP mapping of NTP time to RTP timestamps taken at its source: the
publisher notes each frame's send time against its timestamp, on the subscriber's clock.

Measured: non-simulcast VP8 video, live or cheap, on Janus and LiveKit. Simulcast subscriptions
(picture ids and timestamps rewritten per layer switch), audio and other codecs have no latency
figures.
"""

from __future__ import annotations

import enum
import math
import time
from array import array
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpSender, RTCRtpTransceiver
from aiortc.rtp import RtpPacket

NTP_UNIX_OFFSET_MS = 2_208_988_800_000
"""aiortc's arrival times are milliseconds since the NTP epoch (1900), ``aiortc.clock``."""
PICTURE_IDS = 1 << 15
RTP_TIMESTAMPS = 1 << 32
SENT_SLOTS = 2048
"""Send times kept per publisher: 68 s of 30 fps video, well past any latency worth
measuring; a frame older than that is not matched (``LatencyMeter.unmatched``)."""
SEEN_SLOTS = 256
MAX_LATENCY_MS = 10_000.0
CLOCK_SLACK_MS = 2.0
"""Arrival times are whole milliseconds (floored): a frame can appear to arrive up to 1 ms
before it left. Within this slack it counts as 0 ms; beyond it, it is a mismatch."""


class FrameMatch(enum.Enum):
    """How a subscriber names the publisher's frame it received (a media server's trait,
    ``PeerPlan.frame_match``)."""

    PICTURE_ID = "picture_id"
    """By its VP8 picture id, which the server relays untouched (Janus)."""
    RTP_TIMESTAMP = "rtp_timestamp"
    """By its RTP timestamp, which the server shifts by one offset per subscription, learned
    from the first frame (LiveKit: it renumbers picture ids after a mute)."""


def wall_ms() -> float:
    return time.time() * 1000.0


def picture_id(payload: bytes) -> int | None:
    """The VP8 picture id of an RTP payload (RFC 7741 §4.2: X, then I, then M for 15 bits)."""
    if len(payload) < 3 or not payload[0] & 0x80 or not payload[1] & 0x80:
        return None
    first = payload[2]
    if first & 0x80:
        if len(payload) < 4:
            return None
        return ((first & 0x7F) << 8) | payload[3]
    return first & 0x7F


def starts_frame(payload: bytes) -> bool:
    """The payload is a frame's first packet (S bit set, partition 0)."""
    return bool(payload) and payload[0] & 0x17 == 0x10


class SentFrames:
    """When each video frame of one publisher left, by picture id and by the RTP timestamp
    its encoder gave it (a ring: the id wraps after 32768 frames, and only recent frames are
    ever looked up)."""

    def __init__(self, slots: int = SENT_SLOTS) -> None:
        self._slots = slots
        self._ids = array("l", [-1] * slots)
        self._at_ms = array("d", [0.0] * slots)
        self._stamps = array("q", [-1] * slots)
        self._slot_of_stamp: dict[int, int] = {}
        self.frames = 0

    def record(self, picture: int, at_ms: float, stamp: int | None = None) -> None:
        """``stamp``: the frame's RTP timestamp before the sender adds its random origin
        (aiortc's ``RTCEncodedFrame.timestamp``), when known."""
        slot = picture % self._slots
        old = self._stamps[slot]
        if old >= 0 and self._slot_of_stamp.get(old) == slot:
            del self._slot_of_stamp[old]
        self._ids[slot] = picture
        self._at_ms[slot] = at_ms
        if stamp is None:
            self._stamps[slot] = -1
        else:
            stamp %= RTP_TIMESTAMPS
            self._stamps[slot] = stamp
            self._slot_of_stamp[stamp] = slot
        self.frames += 1

    def sent_ms(self, picture: int) -> float | None:
        slot = picture % self._slots
        return self._at_ms[slot] if self._ids[slot] == picture else None

    def stamp_of(self, picture: int) -> int | None:
        """The RTP timestamp of the frame with this picture id, if it is logged with one."""
        slot = picture % self._slots
        if self._ids[slot] != picture or self._stamps[slot] < 0:
            return None
        return int(self._stamps[slot])

    def sent_ms_at(self, stamp: int) -> float | None:
        """When the frame with this RTP timestamp left (``stamp`` modulo 2**32)."""
        slot = self._slot_of_stamp.get(stamp % RTP_TIMESTAMPS)
        return None if slot is None else self._at_ms[slot]


class SentFramesBook:
    """Every publisher's :class:`SentFrames` of one process, by feed (its connection id):
    what a subscriber looks its frames up in."""

    def __init__(self) -> None:
        self._by_feed: dict[str, SentFrames] = {}

    def open(self, feed: str) -> SentFrames:
        """A new log for ``feed``'s publication (a republish starts a new one)."""
        frames = self._by_feed[feed] = SentFrames()
        return frames

    def get(self, feed: str) -> SentFrames | None:
        return self._by_feed.get(feed)

    def close(self, feed: str, frames: SentFrames) -> None:
        if self._by_feed.get(feed) is frames:
            del self._by_feed[feed]


def note_sent_frames(sender: RTCRtpSender, frames: SentFrames) -> None:
    """Record each VP8 frame ``sender`` sends, as it leaves the packetizer (its packets go
    out right after, on the same loop turn). Wraps aiortc's private
    ``RTCRtpSender._next_encoded_frame`` on the instance: aiortc has no hook for it."""
    original = sender._next_encoded_frame

    async def noted(codec: Any) -> Any:
        frame = await original(codec)
        if frame is not None and frame.payloads and codec.mimeType.lower() == "video/vp8":
            picture = picture_id(frame.payloads[0])
            if picture is not None:
                frames.record(picture, wall_ms(), frame.timestamp)
        return frame

    sender._next_encoded_frame = noted  # type: ignore[method-assign]


@dataclass(frozen=True)
class LatencySummary:
    frames: int
    p50_ms: float | None
    p95_ms: float | None
    max_ms: float | None


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted values (the one ``verify.throughput`` uses)."""
    if not ordered:
        return None
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def summarize(values: Sequence[float]) -> LatencySummary:
    ordered = sorted(values)
    return LatencySummary(
        len(ordered),
        percentile(ordered, 50),
        percentile(ordered, 95),
        float(ordered[-1]) if ordered else None,
    )


class LatencyMeter:
    """One subscription's frame latencies, in milliseconds, in arrival order.

    ``sent`` finds the publisher's :class:`SentFrames` when a frame arrives (the publisher
    may have republished since the subscription began). A frame is measured once, on the
    first of its first packets to arrive (a retransmission of a lost one arrives later, and
    counts as what it is: the frame's late arrival); the picture id as received tells the
    retransmission, whatever the server did to it. ``match``: how a frame is found in the
    publisher's log (:class:`FrameMatch`)."""

    def __init__(
        self,
        sent: Callable[[], SentFrames | None],
        match: FrameMatch = FrameMatch.PICTURE_ID,
    ) -> None:
        self._sent = sent
        self.match = match
        self.samples = array("f")
        self.unmatched = 0
        self._seen = array("l", [-1] * SEEN_SLOTS)
        self._reported = 0
        self._offset: int | None = None
        """RTP_TIMESTAMP: the publisher's timestamp minus ours, learned from the first frame."""
        self._offset_log: SentFrames | None = None

    def on_frame_payload(self, payload: bytes, timestamp: int | None = None) -> None:
        """A frame's first payload, arriving now (a cheap subscriber's counting receiver calls
        back as the packet is read, ``peers.rtp_counter``): on the publisher's clock,
        ``time.time()``, to the microsecond. ``timestamp``: the packet's RTP timestamp."""
        self._measure(payload, timestamp, wall_ms())

    def on_frame_start(
        self, payload: bytes, arrival_ntp_ms: int, timestamp: int | None = None
    ) -> None:
        """A frame's first payload with aiortc's arrival time (NTP-epoch milliseconds)."""
        self._measure(payload, timestamp, arrival_ntp_ms - NTP_UNIX_OFFSET_MS)

    def _measure(self, payload: bytes, timestamp: int | None, arrival_ms: float) -> None:
        picture = picture_id(payload)
        if picture is None:
            return
        slot = picture % SEEN_SLOTS
        if self._seen[slot] == picture:
            return
        self._seen[slot] = picture
        frames = self._sent()
        sent_ms: float | None = None
        if frames is not None:
            if self.match is FrameMatch.PICTURE_ID:
                sent_ms = frames.sent_ms(picture)
            elif timestamp is not None:
                sent_ms = self._sent_by_timestamp(frames, picture, timestamp, arrival_ms)
        if sent_ms is None:
            self.unmatched += 1
            return
        latency = arrival_ms - sent_ms
        if not -CLOCK_SLACK_MS <= latency <= MAX_LATENCY_MS:
            self.unmatched += 1
            return
        self.samples.append(max(0.0, latency))

    def _sent_by_timestamp(
        self, frames: SentFrames, picture: int, timestamp: int, arrival_ms: float
    ) -> float | None:
        """The send time of the frame with our ``timestamp``, by the offset learned from the
        first frame matched by picture id (a new log, a republication, learns it again)."""
        if self._offset is None or self._offset_log is not frames:
            stamp = frames.stamp_of(picture)
            sent_ms = frames.sent_ms(picture)
            if stamp is None or sent_ms is None:
                return None
            if not -CLOCK_SLACK_MS <= arrival_ms - sent_ms <= MAX_LATENCY_MS:
                return None  # not this publication's frame: learn from a later one
            self._offset = (stamp - timestamp) % RTP_TIMESTAMPS
            self._offset_log = frames
        return frames.sent_ms_at(timestamp + self._offset)

    @property
    def mark(self) -> int:
        """A position in the samples: ``between(a, b)`` is what arrived between two marks."""
        return len(self.samples)

    def between(self, start: int, end: int | None = None) -> array[float]:
        return self.samples[start:end]

    def summary(self) -> LatencySummary:
        return summarize(self.samples)

    def interval(self) -> LatencySummary:
        """The frames since the previous call (what a periodic stats sample reports)."""
        start, self._reported = self._reported, len(self.samples)
        return summarize(self.samples[start:])

    def histogram(self) -> list[list[int]]:
        """``[[ms, frames], ...]`` in whole milliseconds (floored), for pooling subscriptions."""
        counts: dict[int, int] = {}
        for value in self.samples:
            bucket = int(value)
            counts[bucket] = counts.get(bucket, 0) + 1
        return [[ms, n] for ms, n in sorted(counts.items())]


FrameStart = Callable[[bytes, int, int], None]


def tap_frame_starts(
    pc: RTCPeerConnection,
    on_frame_start: FrameStart,
    transceivers: Iterable[RTCRtpTransceiver] | None = None,
) -> None:
    """Call ``on_frame_start(payload, arrival_ntp_ms, rtp_timestamp)`` for the first packet of
    each video frame a decoding subscriber receives, then let aiortc handle the packet as usual. (A
    private method of aiortc's receiver, wrapped on the instance, as ``layer_tracking`` does;
    a cheap subscriber's counting receiver calls ``LatencyMeter.on_frame_payload``.)
    ``transceivers``: only these (a renegotiation's new m-lines, ``peers.receiving``)."""
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        if transceiver.kind == "video":
            receiver = transceiver.receiver
            receiver._handle_rtp_packet = _tapped(receiver, on_frame_start)  # type: ignore[method-assign,assignment]


def _tapped(
    receiver: Any, on_frame_start: FrameStart
) -> Callable[[RtpPacket, int], Coroutine[Any, Any, None]]:
    original = receiver._handle_rtp_packet
    codecs: dict[int, Any] = receiver._RTCRtpReceiver__codecs

    async def tapped(packet: RtpPacket, arrival_time_ms: int) -> None:
        codec = codecs.get(packet.payload_type)
        vp8 = codec is not None and codec.mimeType.lower() == "video/vp8"
        if vp8 and starts_frame(packet.payload):
            on_frame_start(packet.payload, arrival_time_ms, packet.timestamp)
        await original(packet, arrival_time_ms)

    return tapped


PROCESS_BOOK = SentFramesBook()
"""The book every participant of this process uses unless given its own: publisher and
subscribers of a room always share a process (a scenario run, or one load process's rooms)."""
