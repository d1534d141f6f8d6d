import random
from struct import unpack

from aiortc.rtcdtlstransport import RtpRouter
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import (
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    HeaderExtensionsMap,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtpPacket,
)

from simulator.peers.simulcast import sdp
from simulator.peers.simulcast.rtp_stream import RtpStream


class _Wire:
    """Stands in for aiortc's DTLS transport: keeps what would have been protected and sent."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def _send_rtp(self, data: bytes) -> None:
        self.sent.append(data)


def _extensions() -> HeaderExtensionsMap:
    extensions = HeaderExtensionsMap()
    extensions.configure(
        RTCRtpParameters(
            headerExtensions=[
                RTCRtpHeaderExtensionParameters(id=1, uri=sdp.MID_URI),
                RTCRtpHeaderExtensionParameters(id=4, uri=sdp.RID_URI),
                RTCRtpHeaderExtensionParameters(id=5, uri=sdp.REPAIRED_RID_URI),
            ]
        )
    )
    return extensions


def _stream(wire: _Wire, asked: list[str]) -> RtpStream:
    return RtpStream(
        wire,
        _extensions(),
        payload_type=96,
        rtx_payload_type=97,
        mid="1",
        rid="m",
        cname="cam",
        on_keyframe_request=lambda: asked.append("keyframe"),
        rng=random.Random(3),
    )


async def test_media_packets_name_their_layer_by_rid_and_mid() -> None:
    wire, asked = _Wire(), []
    stream = _stream(wire, asked)
    await stream.send_frame([b"a" * 10, b"b" * 5], 3000, temporal=1, keyframe=False)
    packets = [RtpPacket.parse(data, _extensions()) for data in wire.sent]
    assert [p.marker for p in packets] == [0, 1]
    assert {(p.extensions.mid, p.extensions.rtp_stream_id) for p in packets} == {("1", "m")}
    assert packets[1].sequence_number == (packets[0].sequence_number + 1) % 65536
    assert stream.counters.bytes_by_temporal == [0, 15, 0]
    assert (stream.counters.frames, stream.counters.packets) == (1, 2)


async def test_a_nack_is_answered_with_rtx_that_names_the_repaired_layer() -> None:
    wire, asked = _Wire(), []
    stream = _stream(wire, asked)
    await stream.send_frame([b"lost"], 0, temporal=0, keyframe=True)
    original = RtpPacket.parse(wire.sent[0], _extensions())
    nack = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=9, media_ssrc=stream.ssrc)
    nack.lost = [original.sequence_number]
    await stream._handle_rtcp_packet(nack)
    rtx = RtpPacket.parse(wire.sent[1], _extensions())
    assert (rtx.ssrc, rtx.payload_type) == (stream.rtx_ssrc, 97)
    assert rtx.extensions.repaired_rtp_stream_id == "m"
    assert rtx.extensions.rtp_stream_id is None
    assert unpack("!H", rtx.payload[:2])[0] == original.sequence_number
    assert rtx.payload[2:] == b"lost"


async def test_a_pli_routed_by_aiortc_reaches_the_layer_it_names_only() -> None:
    wire, asked = _Wire(), []
    stream = _stream(wire, asked)
    other_asked: list[str] = []
    other = RtpStream(
        wire,
        _extensions(),
        payload_type=96,
        rtx_payload_type=97,
        mid="1",
        rid="h",
        cname="cam",
        on_keyframe_request=lambda: other_asked.append("keyframe"),
    )
    router = RtpRouter()
    router.register_sender(stream, ssrc=stream.ssrc)
    router.register_sender(other, ssrc=other.ssrc)
    pli = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=9, media_ssrc=stream.ssrc)
    for recipient in router.route_rtcp(RtcpPacket.parse(bytes(pli))[0]):
        await recipient._handle_rtcp_packet(pli)
    assert asked == ["keyframe"]
    assert other_asked == []


async def test_receiver_reports_give_the_layers_loss() -> None:
    wire, asked = _Wire(), []
    losses: list[float] = []
    stream = _stream(wire, asked)
    stream._on_loss = losses.append
    report = RtcpReceiverInfo(
        ssrc=stream.ssrc,
        fraction_lost=64,
        packets_lost=3,
        highest_sequence=0,
        jitter=0,
        lsr=0,
        dlsr=0,
    )
    await stream._handle_rtcp_packet(RtcpRrPacket(ssrc=9, reports=[report]))
    assert losses == [0.25]
    assert stream.counters.fraction_lost == 0.25


def test_a_sender_report_counts_what_was_sent() -> None:
    stream = _stream(_Wire(), [])
    stream.counters.packets, stream.counters.bytes = 7, 700
    sr, sdes = stream.sender_report()
    assert sr.ssrc == stream.ssrc
    assert (sr.sender_info.packet_count, sr.sender_info.octet_count) == (7, 700)
    assert sdes.chunks[0].items == [(1, b"cam")]
