"""The cheap receive path: receivers that count, and the pump that counts SRTP from headers."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pylibsrtp
from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from simulator.peers import cheap, cheap_receive

KEY = bytes(range(30))  # AES-128 key and salt (RFC 3711 §8.2)


async def test_count_frames_swaps_every_receivers_decoder_queue_and_packet_handler() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("audio", direction="recvonly")
        pc.addTransceiver("video", direction="recvonly")
        made = cheap.count_frames(pc, lambda kind, n: None)
        assert [c.kind for c in made] == ["audio", "video"]
        for transceiver, counting in zip(pc.getTransceivers(), made, strict=True):
            receiver: Any = transceiver.receiver
            assert isinstance(receiver._RTCRtpReceiver__decoder_queue, cheap.CountingQueue)
            assert receiver._handle_rtp_packet == counting.handle
    finally:
        await pc.close()


async def test_observing_receivers_keep_aiortcs_own_path() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        receiver: Any = pc.getTransceivers()[0].receiver
        queue, handler = receiver._RTCRtpReceiver__decoder_queue, receiver._handle_rtp_packet
        cheap.count_frames(pc, lambda kind, n: None, observe=True)
        assert receiver._RTCRtpReceiver__decoder_queue is queue
        assert receiver._handle_rtp_packet == handler
    finally:
        await pc.close()


async def test_a_counting_receiver_counts_a_frame_at_the_marker_bit_and_keeps_rtp_stats() -> None:
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        counted: list[tuple[str, int]] = []
        cheap.count_frames(pc, lambda kind, n: counted.append((kind, n)))
        receiver: Any = pc.getTransceivers()[0].receiver
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


class _Connection:
    """aioice's ``Connection``, as the pump's reader sees it."""

    def __init__(self) -> None:
        self.queued: list[bytes] = []
        self._nominated: dict[int, Any] = {}

    def data_received(self, data: bytes, component: int) -> None:
        self.queued.append(data)


class _Protocol:
    class _Candidate:
        component = 1

    def __init__(self) -> None:
        self.receiver = _Connection()
        self.local_candidate = self._Candidate()
        self.stun: list[tuple[bytes, Any]] = []

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.stun.append((data, addr))

    def error_received(self, exc: Exception) -> None:
        raise exc


class _Transport:
    _conn_lost = 0

    def __init__(self, sock: socket.socket, protocol: _Protocol) -> None:
        self._sock = sock
        self._protocol = protocol

    def get_protocol(self) -> _Protocol:
        return self._protocol

    def is_closing(self) -> bool:
        return False


class _Router:
    def __init__(self, receiver: Any) -> None:
        self.receiver = receiver

    def route_rtp(self, packet: Any) -> Any:
        return self.receiver if packet.payload_type == 96 else None


class _Ssl:
    def get_selected_srtp_profile(self) -> bytes:
        return b"SRTP_AES128_CM_SHA1_80"


class _Dtls:
    """What the tap reads of aiortc's ``RTCDtlsTransport`` once DTLS-SRTP is keyed."""

    def __init__(self, receiver: Any) -> None:
        policy = pylibsrtp.Policy(
            key=KEY,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_INBOUND,
            srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        )
        self._rx_srtp = pylibsrtp.Session(policy)
        self._ssl = _Ssl()
        self._rtp_router = _Router(receiver)
        self._rtp_header_extensions_map = HeaderExtensionsMap()


def _sender() -> pylibsrtp.Session:
    return pylibsrtp.Session(
        pylibsrtp.Policy(
            key=KEY,
            ssrc_type=pylibsrtp.Policy.SSRC_ANY_OUTBOUND,
            srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
        )
    )


def _srtp(tx: pylibsrtp.Session, seq: int, marker: int, payload: bytes, pad: int = 0) -> bytes:
    packet = RtpPacket(payload_type=96, sequence_number=seq, timestamp=seq // 3 * 3000, ssrc=7)
    packet.marker, packet.payload, packet.padding_size = marker, payload, pad
    data = packet.serialize()
    if pad:  # RFC 3550 §5.1: the last padding byte counts the padding
        data = data[:-1] + bytes([pad])
    return tx.protect(data)


async def test_the_pump_counts_srtp_media_from_headers_and_passes_the_rest_on() -> None:
    pc = RTCPeerConnection()
    loop = asyncio.get_running_loop()
    receiving = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sending = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        pc.addTransceiver("video", direction="recvonly")
        counted: list[tuple[str, int]] = []
        cheap.count_frames(pc, lambda kind, n: counted.append((kind, n)))
        receiver: Any = pc.getTransceivers()[0].receiver
        receiver._RTCRtpReceiver__codecs[96] = RTCRtpCodecParameters(
            mimeType="video/VP8", clockRate=90_000, payloadType=96
        )
        receiver._enabled = True
        receiving.bind(("127.0.0.1", 0))
        receiving.setblocking(False)
        tx = _sender()
        datagrams = [_srtp(tx, seq, int(seq % 3 == 2), bytes([seq]) * 50) for seq in range(6)]
        datagrams.insert(3, b"\x00\x01stun")
        datagrams.append(_srtp(tx, 6, 1, b"\x07" * 40, pad=4))  # padded: decrypted, 40 bytes
        for datagram in datagrams:
            sending.sendto(datagram, receiving.getsockname())
        await asyncio.sleep(0.05)
        protocol = _Protocol()
        pump = cheap_receive._Pump(loop)
        tap = cheap_receive._Tap(_Dtls(receiver), forward=False)
        read_one = cheap_receive._reader(_Transport(receiving, protocol), tap, pump)
        for _ in datagrams:
            read_one()
        read_one()  # nothing left: returns at once
        assert counted == [("video", 150), ("video", 150), ("video", 40)]
        counter = receiver._RTCRtpReceiver__remote_streams[7]
        assert counter.packets_received == 7
        assert counter.payload_bytes == 340
        assert counter.decrypted == 2  # the first packet and the padded one
        assert protocol.receiver.queued == []  # no media went to aiortc's queue
        # ... so the bytes received add what the pump consumed (aiortc's transport misses it)
        assert tap.consumed_bytes == sum(len(d) for d in datagrams if d != b"\x00\x01stun")
        assert [data for data, _ in protocol.stun] == [b"\x00\x01stun"]
        loop.remove_reader(pump.epoll.fileno())
    finally:
        receiving.close()
        sending.close()
        await pc.close()


async def test_under_a_downlink_impairment_the_pump_hands_media_to_aiortc_uncounted() -> None:
    """The in-process impairer sits on aiortc's read of the ICE connection: media counted by
    the pump would skip the loss and delay it injects, so while one is set nothing is."""
    pc = RTCPeerConnection()
    loop = asyncio.get_running_loop()
    receiving = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sending = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        pc.addTransceiver("video", direction="recvonly")
        counted: list[tuple[str, int]] = []
        cheap.count_frames(pc, lambda kind, n: counted.append((kind, n)))
        receiver: Any = pc.getTransceivers()[0].receiver
        receiver._RTCRtpReceiver__codecs[96] = RTCRtpCodecParameters(
            mimeType="video/VP8", clockRate=90_000, payloadType=96
        )
        receiver._enabled = True
        receiving.bind(("127.0.0.1", 0))
        receiving.setblocking(False)
        tx = _sender()
        datagrams = [_srtp(tx, seq, 1, bytes([seq]) * 50) for seq in range(3)]
        for datagram in datagrams:
            sending.sendto(datagram, receiving.getsockname())
        await asyncio.sleep(0.05)
        protocol = _Protocol()
        pump = cheap_receive._Pump(loop)
        tap = cheap_receive._Tap(_Dtls(receiver), forward=False)
        tap.impaired = True
        read_one = cheap_receive._reader(_Transport(receiving, protocol), tap, pump)
        for _ in datagrams:
            read_one()
        assert counted == []
        assert len(protocol.receiver.queued) == 3  # all of it to aiortc, through the impairer
        loop.remove_reader(pump.epoll.fileno())
    finally:
        receiving.close()
        sending.close()
        await pc.close()
