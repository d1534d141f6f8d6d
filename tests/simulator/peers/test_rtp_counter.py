"""Counting a received RTP stream from headers: the same statistics as aiortc, plus frames."""

from __future__ import annotations

from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import RtpPacket

from simulator.peers.rtp_counter import RESYNC_EVERY, RtpCounter, header_length

Frames = list[tuple[str, int]]


def _counter(kind: str = "video", nack: NackGenerator | None = None) -> tuple[RtpCounter, Frames]:
    frames: Frames = []
    counter = RtpCounter(90_000, kind, 96, lambda k, n: frames.append((k, n)), nack)
    return counter, frames


def _feed(counter: RtpCounter, seq: int, marker: int = 0, size: int = 100, ts: int = 0) -> bool:
    """The pump's order: the header path first, the general path when it declines."""
    if counter.max_seq is not None and counter.count_header(seq, ts, marker, size, 0.0):
        return True
    counter.add(seq, ts, marker, size, 0.0)
    return False


def test_the_header_length_covers_csrcs_and_the_extension() -> None:
    plain = RtpPacket(payload_type=96, sequence_number=1, payload=b"p" * 10).serialize()
    assert header_length(plain, len(plain)) == 12
    with_csrc = bytes([0x82]) + plain[1:12] + b"\x00" * 8 + b"p" * 10
    assert header_length(with_csrc, len(with_csrc)) == 20
    extended = bytes([0x90]) + plain[1:12] + b"\xbe\xde\x00\x02" + b"\x00" * 8 + b"p"
    assert header_length(extended, len(extended)) == 24
    assert header_length(extended, 14) == -1  # truncated


def test_a_video_frame_ends_at_the_marker_bit_with_its_payload_bytes() -> None:
    counter, frames = _counter()
    for seq, marker in ((1, 0), (2, 0), (3, 1), (4, 1)):
        _feed(counter, seq, marker, ts=seq // 4)
    assert frames == [("video", 300), ("video", 100)]
    assert counter.frames == 2
    assert counter.payload_bytes == 400
    assert counter.packets_received == 4
    assert counter.decrypted == 1  # only the first packet needed the general path


def test_an_audio_frame_is_one_packet() -> None:
    counter, frames = _counter("audio")
    for seq in (10, 11, 12):
        _feed(counter, seq, size=60, ts=seq * 960)
    assert frames == [("audio", 60)] * 3


def test_gaps_reorders_and_wraps_take_the_general_path_with_aiortcs_statistics() -> None:
    counter, _ = _counter()
    reference = StreamStatistics(90_000)
    sequence = [65530, 65531, 65533, 65532, 65534, 65535, 0, 1, 3, 2, 4, 4, 5]
    taken = []
    for seq in sequence:
        taken.append(_feed(counter, seq))
        reference.add(RtpPacket(sequence_number=seq))
    assert (counter.packets_received, counter.packets_expected) == (
        reference.packets_received,
        reference.packets_expected,
    )
    assert (counter.max_seq, counter.cycles, counter.packets_lost) == (
        reference.max_seq,
        reference.cycles,
        reference.packets_lost,
    )
    assert taken[1]  # the next in order
    assert not taken[2]  # a gap
    assert not taken[6]  # the wrap


def test_one_packet_in_every_resync_interval_is_decrypted() -> None:
    counter, _ = _counter()
    _feed(counter, RESYNC_EVERY - 2)
    assert _feed(counter, RESYNC_EVERY - 1)
    assert not _feed(counter, RESYNC_EVERY)  # libsrtp sees this one
    assert _feed(counter, RESYNC_EVERY + 1)


def test_nack_state_stays_what_aiortcs_generator_would_hold() -> None:
    nack = NackGenerator()
    counter, _ = _counter(nack=nack)
    for seq in (1, 2, 3):
        _feed(counter, seq)
    assert counter.add(6, 0, 0, 100, 0.0)  # 4 and 5 missing: a NACK is due
    assert nack.missing == {4, 5}
    assert not counter.count_header(7, 0, 0, 100, 0.0)  # the header path waits for recovery
    counter.count_retransmission(100, 0, 4)
    counter.count_retransmission(100, 0, 5)
    assert nack.missing == set()
    counter.add(7, 0, 0, 100, 0.0)
    assert counter.count_header(8, 0, 0, 100, 0.0)


def test_a_frame_start_hook_sees_each_video_frames_first_payload() -> None:
    starts: list[tuple[bytes, int]] = []
    counter = RtpCounter(
        90_000, "video", 96, lambda k, n: None, None, lambda p, ts: starts.append((p, ts))
    )
    counter.add(1, 3000, 1, 4, 0.0, b"\x10key")
    assert not counter.count_header(2, 6000, 0, 4, 0.0)  # a new frame: decrypt it
    counter.add(2, 6000, 0, 4, 0.0, b"\x10abc")
    assert counter.count_header(3, 6000, 1, 4, 0.0)  # the same frame: header only
    assert starts == [(b"\x10key", 3000), (b"\x10abc", 6000)]  # with its RTP timestamp
