import itertools
from pathlib import Path
from struct import pack

from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RTCP_PSFB_PLI, RtcpPsfbPacket, RtpPacket

from simulator.peers import cheap, clips
from simulator.peers.talk import SILENCE_LEVEL, TalkSchedule
from simulator.peers.tracks import TONE_LEVEL


def _is_vp8_keyframe(payload: bytes) -> bool:
    return not payload[0] & 1  # RFC 6386 §9.1: P bit 0 = key frame


def test_video_clip_has_one_keyframe_first_as_a_browser_and_is_made_once(tmp_path: Path) -> None:
    # A browser sends key frames when asked: the clip has one, and cheap publishers answer
    # PLI/FIR by restarting the loop there (it used to have one a second).
    packets = clips.video_clip(tmp_path, 64, 48, 10)
    assert len(packets) == 10 * clips.CLIP_SECONDS
    assert [i for i, p in enumerate(packets) if _is_vp8_keyframe(p)] == [0]
    made = next(tmp_path.glob("vp8-64x48-10-*.ivf"))
    before = made.stat().st_mtime_ns
    clips._load_clip.cache_clear()
    assert clips.video_clip(tmp_path, 64, 48, 10) == packets
    assert made.stat().st_mtime_ns == before


def test_audio_clip_is_twenty_millisecond_opus_packets(tmp_path: Path) -> None:
    packets = clips.audio_clip(tmp_path)
    assert len(packets) >= 50 * clips.CLIP_SECONDS
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


async def test_a_keyframe_request_restarts_the_loop_at_the_keyframe_on_the_next_frame() -> None:
    now = [100.0]
    packets = (b"\x00k", b"\x01a", b"\x01b", b"\x01c")
    track = cheap.PacketTrack(
        "video", packets, 1 / 30, 90_000, clock=lambda: now[0], keyframes=(0,)
    )
    sent = [bytes(await track.recv()) for _ in range(3)]
    assert sent == [b"\x00k", b"\x01a", b"\x01b"]
    track.request_keyframe()
    now[0] += 0.01
    answer = await track.recv()
    assert bytes(answer) == b"\x00k"
    assert answer.pts == 3 * 3000  # the clock goes on: only the picture restarts
    assert (track.keyframe_requests, track.keyframes_answered) == (1, 1)
    assert track.keyframe_answer_max_s is not None
    assert track.keyframe_answer_max_s <= 1 / 30
    assert track.keyframe_answer_max_frames == 0


async def test_aiortc_hands_a_pli_and_a_fir_of_a_cheap_video_to_its_track() -> None:
    pc = RTCPeerConnection()
    try:
        video = cheap.PacketTrack("video", (b"\x00k", b"\x01a"), 1 / 30, 90_000, keyframes=(0,))
        audio = cheap.PacketTrack("audio", (b"\x78op",), 0.02, 48_000)
        pc.addTrack(video)
        pc.addTrack(audio)
        hub = cheap.answer_feedback(pc)
        sender = next(t.sender for t in pc.getTransceivers() if t.kind == "video")
        await sender._handle_rtcp_packet(
            RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=1, media_ssrc=sender._ssrc)
        )
        fir = RtcpPsfbPacket(fmt=4, ssrc=1, media_ssrc=0, fci=pack("!LB3x", sender._ssrc, 1))
        await hub._handle_rtcp_packet(fir)
        assert video.keyframe_requests == 2
    finally:
        await pc.close()


async def test_cheap_audio_carries_its_level_and_speaks_in_spurts_with_dtx_pauses() -> None:
    now = [0.0]
    talk = TalkSchedule([0.04, 0.8])  # two 20 ms frames of speech, then 800 ms of pause
    track = cheap.PacketTrack(
        "audio", (b"\x78voice",), 0.02, 48_000, clock=lambda: now[0], talk=talk
    )
    sent = []
    for _ in range(5):
        packet = await track.recv()
        sent.append((bytes(packet), packet.pts, track.audio_level))
    speech, dtx = b"\x78voice", b"\x78"
    assert sent == [
        (speech, 0, TONE_LEVEL),
        (speech, 960, TONE_LEVEL),
        (dtx, 1920, SILENCE_LEVEL),  # a pause opens with a DTX frame ...
        (dtx, 1920 + 20 * 960, SILENCE_LEVEL),  # ... and refreshes it every 400 ms
        (speech, 1920 + 40 * 960, TONE_LEVEL),  # 0.84 s: speaking again
    ]
