import itertools
from pathlib import Path

from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

from simulator.peers import cheap


def _is_vp8_keyframe(payload: bytes) -> bool:
    return not payload[0] & 1  # RFC 6386 §9.1: P bit 0 = key frame


def test_video_clip_has_a_keyframe_every_second_and_is_made_once(tmp_path: Path) -> None:
    packets = cheap.video_clip(tmp_path, 64, 48, 10)
    assert len(packets) == 10 * cheap.CLIP_SECONDS
    assert [i for i, p in enumerate(packets) if _is_vp8_keyframe(p)] == [0, 10, 20, 30]
    made = next(tmp_path.glob("vp8-64x48-10.ivf"))
    before = made.stat().st_mtime_ns
    cheap._load_clip.cache_clear()
    assert cheap.video_clip(tmp_path, 64, 48, 10) == packets
    assert made.stat().st_mtime_ns == before


def test_audio_clip_is_twenty_millisecond_opus_packets(tmp_path: Path) -> None:
    packets = cheap.audio_clip(tmp_path)
    assert len(packets) >= 50 * cheap.CLIP_SECONDS
    assert all(0 < len(p) < 400 for p in packets)


async def test_packet_track_timestamps_keep_rising_when_the_clip_loops() -> None:
    ticks = itertools.count()
    track = cheap.PacketTrack(
        "video", (b"\x00a", b"\x01b"), 1 / 30, 90_000, clock=lambda: 1000.0 + next(ticks)
    )
    packets = [await track.recv() for _ in range(5)]
    assert [bytes(p) for p in packets] == [b"\x00a", b"\x01b", b"\x00a", b"\x01b", b"\x00a"]
    assert [p.pts for p in packets] == [0, 3000, 6000, 9000, 12000]
    assert track.frames_sent == 5


def test_counting_queue_counts_frames_and_still_passes_the_stop_marker() -> None:
    seen: list[int] = []
    q = cheap.CountingQueue(seen.append)
    q.put((None, JitterFrame(b"abcd", 0)))
    q.put((None, JitterFrame(b"ef", 3000)))
    q.put(None)
    assert seen == [4, 2]
    assert q.get_nowait() is None
    assert q.empty()


async def test_cheap_publisher_offers_only_the_clip_codecs() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTrack(cheap.PacketTrack("video", (b"\x00",), 1 / 30, 90_000))
        pc.addTrack(cheap.PacketTrack("audio", (b"\x00",), 0.02, 48_000))
        cheap.prefer_clip_codecs(pc)
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        assert "VP8/90000" in sdp
        assert "opus/48000" in sdp
        assert "H264" not in sdp
        assert "VP9" not in sdp
        assert "PCMU" not in sdp
    finally:
        await pc.close()


async def test_a_cheap_receiver_counts_a_frame_at_the_marker_bit_and_keeps_rtp_stats() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        counted: list[tuple[str, int]] = []
        cheap.count_frames(pc, lambda kind, n: counted.append((kind, n)))
        receiver = pc.getTransceivers()[0].receiver
        codec = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90_000, payloadType=96)
        receiver._RTCRtpReceiver__codecs[96] = codec
        receiver._enabled = True
        for seq, marker in ((1, 0), (2, 0), (3, 1)):
            packet = RtpPacket(payload_type=96, sequence_number=seq, ssrc=7, marker=marker)
            packet.payload = b"x" * 10
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)
        assert counted == [("video", 30)]
        stats = receiver._RTCRtpReceiver__remote_streams[7]
        assert stats.packets_received == 3
        assert stats.packets_lost == 0
    finally:
        await pc.close()
