"""Reception counters come from the receivers' own per-SSRC statistics, RTX left out."""

from __future__ import annotations

from aiortc import RTCPeerConnection
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket

from simulator.peers.reception import reception


def _stats(clock_hz: int, seqs: list[int]) -> StreamStatistics:
    stats = StreamStatistics(clock_hz)
    for seq in seqs:
        stats.add(RtpPacket(sequence_number=seq, timestamp=seq * 960))
    return stats


async def test_loss_is_what_the_media_stream_missed_whatever_rtx_repaired() -> None:
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver("video", direction="recvonly").receiver
        audio = pc.addTransceiver("audio", direction="recvonly").receiver
        video._RTCRtpReceiver__remote_streams = {  # type: ignore[attr-defined]
            11: _stats(90_000, [1, 2, 4, 5, 7]),  # 7 expected, 5 received
            12: _stats(90_000, [100, 101]),  # the RTX stream: retransmissions of 3 and 6
        }
        video._RTCRtpReceiver__rtx_ssrc = {12: 11}  # type: ignore[attr-defined]
        audio._RTCRtpReceiver__remote_streams = {21: _stats(48_000, [10, 11, 12])}  # type: ignore[attr-defined]
        seen = reception(pc)
        assert (seen["video"].expected, seen["video"].lost) == (7, 2)
        assert (seen["audio"].expected, seen["audio"].lost) == (3, 0)
        assert seen["audio"].jitter_ms >= 0
    finally:
        await pc.close()


async def test_a_receiver_that_got_nothing_reports_nothing() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        assert reception(pc) == {}
    finally:
        await pc.close()
