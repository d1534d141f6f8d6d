"""What LiveKit's driver reads of a publisher's offer: each m-line's track and direction."""

from simulator.driver.livekit.sdp import media_sections

OFFER = """v=0
o=- 3 3 IN IP4 0.0.0.0
s=-
t=0 0
m=audio 9 UDP/TLS/RTP/SAVPF 96
a=mid:0
a=msid:stream-1 audio-track-1
a=sendrecv
m=video 9 UDP/TLS/RTP/SAVPF 97
a=mid:1
a=inactive
a=msid:stream-1 old-video
m=video 9 UDP/TLS/RTP/SAVPF 97
a=mid:2
a=sendonly
a=msid:stream-1 simulcast-video
a=rid:f send
a=simulcast:send f;h;q
m=application 9 UDP/DTLS/SCTP webrtc-datachannel
a=mid:3
"""


def test_each_media_section_says_its_kind_mid_direction_and_msid_track() -> None:
    sections = media_sections(OFFER)
    assert [(s.kind, s.mid, s.direction, s.track_id) for s in sections] == [
        ("audio", "0", "sendrecv", "audio-track-1"),
        ("video", "1", "inactive", "old-video"),
        ("video", "2", "sendonly", "simulcast-video"),
    ]
    assert [s.sends for s in sections] == [True, False, True]
    assert [s.simulcast for s in sections] == [False, False, True]
