import pytest
from aiortc import RTCPeerConnection, RTCRtpSender

from simulator.peers.simulcast import sdp
from simulator.peers.tracks import ToneAudioTrack


async def _aiortc_offer() -> tuple[str, str]:
    """What a simulcast publisher's peer offers before munging: audio, recvonly VP8."""
    pc = RTCPeerConnection()
    try:
        pc.addTrack(ToneAudioTrack())
        video = pc.addTransceiver("video", direction="recvonly")
        codecs = RTCRtpSender.getCapabilities("video").codecs
        video.setCodecPreferences([c for c in codecs if c.mimeType in ("video/VP8", "video/rtx")])
        await pc.setLocalDescription(await pc.createOffer())
        return pc.localDescription.sdp, str(video.mid)
    finally:
        await pc.close()


def _section(text: str, mid: str) -> list[str]:
    sections = text.split("\r\nm=")
    return next(s for s in sections if f"a=mid:{mid}\r\n" in s + "\r\n").split("\r\n")


async def test_the_offer_becomes_a_browsers_rid_simulcast_offer() -> None:
    offer, mid = await _aiortc_offer()
    munged = sdp.simulcast_offer(offer, mid)
    video = _section(munged, mid)
    assert "a=sendonly" in video
    assert "a=recvonly" not in video
    assert [line for line in video if line.startswith("a=rid:")] == [
        "a=rid:h send",
        "a=rid:m send",
        "a=rid:l send",
    ]
    assert "a=simulcast:send h;m;l" in video
    assert not [line for line in video if line.startswith(("a=ssrc:", "a=ssrc-group:"))]
    ids = sdp.extension_ids(munged, mid)
    assert {sdp.MID_URI, sdp.RID_URI, sdp.REPAIRED_RID_URI} <= set(ids)
    # With BUNDLE an id means one extension on every m-line: the new ones are free everywhere.
    audio_ids = sdp.extension_ids(munged, "0")
    assert ids[sdp.RID_URI] not in audio_ids.values()
    assert ids[sdp.REPAIRED_RID_URI] not in audio_ids.values()
    assert len(set(ids.values())) == len(ids)


async def test_only_the_video_section_changes() -> None:
    offer, mid = await _aiortc_offer()
    munged = sdp.simulcast_offer(offer, mid)
    assert _section(munged, "0") == _section(offer, "0")
    assert munged.count("\r\n") > offer.count("\r\n")
    assert "\n" not in munged.replace("\r\n", "")


async def test_munging_twice_gives_the_same_offer() -> None:
    offer, mid = await _aiortc_offer()
    once = sdp.simulcast_offer(offer, mid)
    assert sdp.simulcast_offer(once, mid) == once


JANUS_ANSWER_VIDEO = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=mid:0",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97",
        "a=recvonly",
        "a=mid:1",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
        "a=extmap:5 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
        "a=rtpmap:96 VP8/90000",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rid:h recv",
        "a=rid:m recv",
        "a=rid:l recv",
        "a=simulcast:recv h;m;~l",
        "",
    ]
)


def test_the_answer_says_which_rids_janus_takes_and_how_to_send_them() -> None:
    assert sdp.answered_rids(JANUS_ANSWER_VIDEO, "1") == ["h", "m", "l"]
    assert sdp.payload_types(JANUS_ANSWER_VIDEO, "1") == (96, 97)
    assert sdp.extension_ids(JANUS_ANSWER_VIDEO, "1")[sdp.RID_URI] == 4


def test_an_answer_without_simulcast_accepts_no_rid() -> None:
    plain = JANUS_ANSWER_VIDEO.replace("a=simulcast:recv h;m;~l\r\n", "")
    assert sdp.answered_rids(plain, "1") == []


def test_a_missing_mid_is_an_error_naming_it() -> None:
    with pytest.raises(sdp.SimulcastSdpError, match="'7'"):
        sdp.simulcast_offer(JANUS_ANSWER_VIDEO, "7")
