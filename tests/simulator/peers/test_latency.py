"""One-way latency: picture ids read from VP8 descriptors, the publisher's send log, and a
subscriber's meter fed arrivals with a known delay."""

from __future__ import annotations

import time
from struct import pack

from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.rtcrtpsender import RTCEncodedFrame
from aiortc.rtp import RtpPacket

from simulator.peers import cheap_receive
from simulator.peers.latency import (
    NTP_UNIX_OFFSET_MS,
    SENT_SLOTS,
    FrameMatch,
    LatencyMeter,
    LatencySummary,
    SentFrames,
    SentFramesBook,
    note_sent_frames,
    picture_id,
    starts_frame,
    tap_frame_starts,
)

VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)


def vp8_payload(picture: int, *, start: bool = True, partition: int = 0) -> bytes:
    """An RTP payload with aiortc's descriptor: X, I, a 15-bit picture id (RFC 7741 §4.2)."""
    first = 0x80 | (0x10 if start else 0) | partition
    return bytes([first, 0x80]) + pack("!H", 0x8000 | picture) + b"\x9d\x01\x2a"


def ntp_ms(unix_ms: float) -> int:
    return int(unix_ms + NTP_UNIX_OFFSET_MS)


def test_picture_ids_are_read_in_both_lengths_and_only_where_there_is_one() -> None:
    assert picture_id(vp8_payload(0x1234)) == 0x1234
    assert picture_id(bytes([0x90, 0x80, 0x05, 0x00])) == 5  # 7-bit id (M bit clear)
    assert picture_id(bytes([0x10, 0x00, 0x00])) is None  # no X bit: no extension
    assert picture_id(bytes([0x90, 0x40, 0x00])) is None  # extension without I bit
    assert picture_id(b"\x90\x80") is None  # truncated


def test_a_frame_starts_with_the_s_bit_in_partition_zero() -> None:
    assert starts_frame(vp8_payload(1))
    assert not starts_frame(vp8_payload(1, start=False))
    assert not starts_frame(vp8_payload(1, partition=1))
    assert not starts_frame(b"")


def test_a_publishers_log_finds_recent_frames_and_forgets_a_reused_slot() -> None:
    frames = SentFrames()
    frames.record(7, 1000.0)
    assert frames.sent_ms(7) == 1000.0
    assert frames.sent_ms(8) is None
    frames.record(7 + SENT_SLOTS, 2000.0)  # the same slot, a later frame
    assert frames.sent_ms(7) is None
    assert frames.sent_ms(7 + SENT_SLOTS) == 2000.0


def test_a_meter_measures_a_known_delay_per_frame() -> None:
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames)
    for i in range(100):
        sent = 1_000_000.0 + i * 33
        frames.record(i, sent)
        meter.on_frame_start(vp8_payload(i), ntp_ms(sent + 100 + i % 10))
    summary = meter.summary()
    assert summary.frames == 100
    assert (summary.p50_ms, summary.p95_ms, summary.max_ms) == (104.0, 109.0, 109.0)


def test_a_frame_is_measured_once_on_its_first_arrival() -> None:
    frames = SentFrames()
    frames.record(1, 5000.0)
    meter = LatencyMeter(lambda: frames)
    meter.on_frame_start(vp8_payload(1), ntp_ms(5020))
    meter.on_frame_start(vp8_payload(1), ntp_ms(5400))  # a retransmission of the same packet
    assert list(meter.samples) == [20.0]


def test_frames_the_publisher_never_logged_or_impossible_ones_are_unmatched() -> None:
    frames = SentFrames()
    frames.record(2, 9000.0)
    meter = LatencyMeter(lambda: frames)
    meter.on_frame_start(vp8_payload(1), ntp_ms(9100))  # never sent by this publisher
    meter.on_frame_start(vp8_payload(2), ntp_ms(8000))  # arrived a second before it left
    assert meter.unmatched == 2
    assert meter.summary().frames == 0
    assert LatencyMeter(lambda: None).summary().p50_ms is None


def test_arrival_times_floored_to_the_millisecond_count_as_no_latency() -> None:
    frames = SentFrames()
    frames.record(3, 100.6)
    meter = LatencyMeter(lambda: frames)
    meter.on_frame_start(vp8_payload(3), ntp_ms(100))  # aiortc floors its clock to ms
    assert list(meter.samples) == [0.0]


def test_a_payload_arriving_now_is_measured_on_the_wall_clock() -> None:
    frames = SentFrames()
    frames.record(4, time.time() * 1000.0 - 50.0)
    meter = LatencyMeter(lambda: frames)
    meter.on_frame_payload(vp8_payload(4))
    assert 50.0 <= meter.samples[0] < 1000.0


def test_intervals_and_marks_cover_only_the_frames_between_them() -> None:
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames)
    for i in range(10):
        frames.record(i, float(i * 100))
        meter.on_frame_start(vp8_payload(i), ntp_ms(i * 100 + (10 if i < 5 else 50)))
        if i == 4:
            assert meter.interval().p95_ms == 10.0
            mark = meter.mark
    assert meter.interval().p50_ms == 50.0
    assert list(meter.between(mark)) == [50.0] * 5
    assert meter.histogram() == [[10, 5], [50, 5]]


def test_a_publishers_log_finds_a_frame_by_its_timestamp_and_forgets_a_reused_slot() -> None:
    frames = SentFrames()
    frames.record(7, 1000.0, 3000)
    assert (frames.stamp_of(7), frames.sent_ms_at(3000)) == (3000, 1000.0)
    assert frames.sent_ms_at(3000 + (1 << 32)) == 1000.0  # timestamps wrap at 2**32
    assert frames.sent_ms_at(6000) is None
    frames.record(7 + SENT_SLOTS, 2000.0, 9000)
    assert frames.sent_ms_at(3000) is None
    assert frames.sent_ms_at(9000) == 2000.0
    frames.record(8, 2100.0)  # no timestamp known: found by picture id only
    assert frames.stamp_of(8) is None


def _renumbering_sfu(frames: SentFrames, meter: LatencyMeter, *, delay_ms: float) -> None:
    """Publish 200 frames through a LiveKit-like forwarder: timestamps shifted by one
    offset (wrapping), picture ids passed through until a 90-frame mute, then renumbered to
    run on from the last one forwarded."""
    offset = (1 << 32) - 5000
    forwarded = 0
    for i in range(200):
        sent = 1_000_000.0 + i * 33
        frames.record(i, sent, 90_000 + i * 3000)
        if 50 <= i < 140:
            continue  # muted: the server forwards nothing
        stamp = (90_000 + i * 3000 + offset) % (1 << 32)
        meter.on_frame_start(vp8_payload(forwarded), ntp_ms(sent + delay_ms), stamp)
        forwarded += 1


def test_a_meter_by_timestamp_measures_through_a_server_that_renumbers_picture_ids() -> None:
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames, FrameMatch.RTP_TIMESTAMP)
    _renumbering_sfu(frames, meter, delay_ms=40)
    assert meter.summary() == LatencySummary(110, 40.0, 40.0, 40.0)
    assert meter.unmatched == 0


def test_a_meter_by_picture_id_mismatches_frames_a_renumbering_server_relays() -> None:
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames)  # what Janus allows, wrong through LiveKit
    _renumbering_sfu(frames, meter, delay_ms=40)
    assert meter.summary().max_ms == 40.0 + 90 * 33  # 90 frames late after the mute


def test_a_meter_by_timestamp_learns_again_when_the_publisher_republishes() -> None:
    first, second = SentFrames(), SentFrames()
    log = [first]
    meter = LatencyMeter(lambda: log[0], FrameMatch.RTP_TIMESTAMP)
    first.record(1, 1000.0, 3000)
    meter.on_frame_start(vp8_payload(1), ntp_ms(1020), 7000)
    log[0] = second  # a new publication: a new sender timestamp base
    second.record(2, 2000.0, 500)
    meter.on_frame_start(vp8_payload(2), ntp_ms(2030), 90_000)
    second.record(3, 2033.0, 3500)
    meter.on_frame_start(vp8_payload(3), ntp_ms(2063), 93_000)
    assert list(meter.samples) == [20.0, 30.0, 30.0]


def test_a_meter_by_timestamp_needs_the_timestamp_and_a_first_frame_sent_recently() -> None:
    frames = SentFrames()
    meter = LatencyMeter(lambda: frames, FrameMatch.RTP_TIMESTAMP)
    frames.record(1, 1000.0, 3000)
    meter.on_frame_start(vp8_payload(1), ntp_ms(1020))  # no timestamp given
    frames.record(2, 1033.0, 6000)
    meter.on_frame_start(vp8_payload(2), ntp_ms(30_000), 6000)  # 29 s after: not learned
    assert meter.unmatched == 2
    assert meter.summary().frames == 0


def test_a_book_gives_a_republished_feed_its_new_log_and_closes_only_its_own() -> None:
    book = SentFramesBook()
    first = book.open("feed")
    second = book.open("feed")
    book.close("feed", first)
    assert book.get("feed") is second
    book.close("feed", second)
    assert book.get("feed") is None


async def test_a_sender_notes_each_vp8_frame_as_it_leaves_the_packetizer() -> None:
    pc = RTCPeerConnection()
    try:
        sender = pc.addTransceiver("video").sender
        frames_out = iter([RTCEncodedFrame([vp8_payload(42), b"rest"], 0, None), None])

        async def next_frame(codec: RTCRtpCodecParameters) -> RTCEncodedFrame | None:
            return next(frames_out)

        sender._next_encoded_frame = next_frame  # type: ignore[method-assign]
        frames = SentFrames()
        note_sent_frames(sender, frames)
        await sender._next_encoded_frame(VP8)
        await sender._next_encoded_frame(VP8)  # a dropped frame (None) is no frame
        assert frames.sent_ms(42) is not None
        assert frames.stamp_of(42) == 0  # the encoder's timestamp, before the sender's origin
        assert frames.frames == 1
    finally:
        await pc.close()


def _packet(
    payload: bytes, seq: int, *, marker: bool = True, timestamp: int | None = None
) -> RtpPacket:
    stamp = seq * 3000 if timestamp is None else timestamp
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=stamp, ssrc=1234)
    packet.payload = payload
    packet.marker = int(marker)
    return packet


async def _video_receiver(pc: RTCPeerConnection) -> object:
    transceiver = pc.addTransceiver("video", direction="recvonly")
    receiver = transceiver.receiver
    receiver._RTCRtpReceiver__codecs = {96: VP8}  # type: ignore[attr-defined]
    receiver._enabled = True  # type: ignore[attr-defined]
    return receiver


async def test_a_cheap_subscriber_hands_each_frames_first_packet_to_the_meter() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = await _video_receiver(pc)
        starts: list[bytes] = []
        stamps: list[int] = []

        def started(payload: bytes, timestamp: int) -> None:
            starts.append(payload)
            stamps.append(timestamp)

        cheap_receive.count_frames(pc, lambda kind, n: None, on_frame_start=started)
        handle = receiver._handle_rtp_packet  # type: ignore[attr-defined]
        await handle(_packet(vp8_payload(5), 1, marker=False, timestamp=3000), 111)
        await handle(_packet(vp8_payload(5, start=False), 2, timestamp=3000), 112)
        await handle(_packet(vp8_payload(6), 3, timestamp=6000), 113)
        assert [picture_id(p) for p in starts] == [5, 6]
        assert stamps == [3000, 6000]
    finally:
        await pc.close()


async def test_a_decoding_subscriber_is_tapped_before_aiortc_handles_the_packet() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = await _video_receiver(pc)
        handled: list[int] = []

        async def original(packet: RtpPacket, arrival_time_ms: int) -> None:
            handled.append(packet.sequence_number)

        receiver._handle_rtp_packet = original  # type: ignore[attr-defined]
        starts: list[tuple[int, int]] = []
        tap_frame_starts(pc, lambda payload, at, stamp: starts.append((at, stamp)))
        await receiver._handle_rtp_packet(_packet(vp8_payload(9), 1), 500)  # type: ignore[attr-defined]
        await receiver._handle_rtp_packet(_packet(vp8_payload(9, start=False), 2), 501)  # type: ignore[attr-defined]
        assert starts == [(500, 3000)]
        assert handled == [1, 2]
    finally:
        await pc.close()
