"""The receiving half of cheap media: subscribers that count frames and never decode.

See ``simulator.peers.cheap`` for the whole picture; this module holds what touches aiortc's
receiver and aioice's sockets (private attributes both: aiortc has no hook for either).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.codecs import is_rtx
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket, unwrap_rtx

from simulator.peers.vp8 import payload_keyframe_size


# -- subscriber -------------------------------------------------------------------------------
class CountingQueue(queue.Queue[Any]):
    """Stands in for a receiver's decoder queue: counts each reassembled frame, decodes none.

    aiortc puts ``(codec, JitterFrame)`` per complete frame (one per RTP timestamp, closed by
    the marker bit for video; one per packet for Opus) from the event loop, and ``None`` on
    stop, which still reaches the idle decoder thread so the track ends as usual.
    """

    def __init__(self, on_frame: Callable[[int], None]) -> None:
        super().__init__()
        self._on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(item, block, timeout)
            return
        _codec, frame = item
        self._on_frame(len(frame.data))


def count_frames(
    pc: RTCPeerConnection,
    on_frame: Callable[[str, int], None],
    transceivers: Iterable[RTCRtpTransceiver] | None = None,
    *,
    on_keyframe: Callable[[int, int], None] | None = None,
    on_frame_start: Callable[[bytes, int], None] | None = None,
) -> None:
    """Make every receiver of ``pc`` count instead of decode; call between
    ``setRemoteDescription`` and the connection coming up (the decoder thread takes its queue
    when the receiver starts). ``on_frame(kind, nbytes)`` runs on the event loop, and
    ``on_keyframe(width, height)`` when a VP8 key frame starts (its size, for layer tracking),
    ``on_frame_start(payload, arrival_time_ms)`` on every video frame's first packet (one-way
    latency, ``peers.latency``).

    ``transceivers``: only these (those a renegotiation added; LiveKit's subscriber peer
    connection grows by one per subscribed track), not every one of ``pc``."""
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        receiver = transceiver.receiver
        kind = transceiver.kind

        def counted(nbytes: int, kind: str = kind) -> None:
            on_frame(kind, nbytes)

        # aiortc has no hook for this; the attribute is the receiver's private decoder queue.
        if not hasattr(receiver, "_RTCRtpReceiver__decoder_queue"):
            raise RuntimeError("this aiortc has no RTCRtpReceiver decoder queue to replace")
        receiver._RTCRtpReceiver__decoder_queue = CountingQueue(counted)
        handler = _counting_rtp_handler(receiver, kind, on_frame, on_keyframe, on_frame_start)
        receiver._handle_rtp_packet = handler  # type: ignore[method-assign,assignment]


def _counting_rtp_handler(
    receiver: Any,
    kind: str,
    on_frame: Callable[[str, int], None],
    on_keyframe: Callable[[int, int], None] | None = None,
    on_frame_start: Callable[[bytes, int], None] | None = None,
) -> Callable[[RtpPacket, int], Coroutine[Any, Any, None]]:
    """aiortc's ``RTCRtpReceiver._handle_rtp_packet`` without what counting does not need.

    Kept: the per-SSRC statistics (RTCP receiver reports, loss), RTX unwrapping and NACKs.
    Left out: the REMB bitrate estimate (a cheap publisher ignores REMB), the payload
    depayloading and the jitter buffer (nothing is decoded), the synchronization-source
    timestamps (``getSynchronizationSources``, unused). A video frame is counted when the
    packet carrying the RTP marker bit (the frame's last, RFC 7741 §4.1) arrives, with the
    payload bytes since the previous one; an audio frame is one packet (Opus, 20 ms). The
    first packet of a VP8 key frame also reports the frame's size (only a frame's first packet
    is looked at: S bit set, partition 0, RFC 7741 §4.2).
    """
    codecs: dict[int, Any] = receiver._RTCRtpReceiver__codecs
    streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams
    rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc
    nack = receiver._RTCRtpReceiver__nack_generator
    rtx_types: dict[int, bool] = {}
    video = kind == "video"
    pending = 0

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        nonlocal pending
        if not receiver._enabled:
            return
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return
        stats = streams.get(packet.ssrc)
        if stats is None:
            stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stats.add(packet)
        rtx = rtx_types.get(packet.payload_type)
        if rtx is None:
            rtx = rtx_types[packet.payload_type] = is_rtx(codec)
        if rtx:
            original = rtx_ssrc.get(packet.ssrc)
            apt = codec.parameters.get("apt")
            if original is None or len(packet.payload) < 2 or apt not in codecs:
                return
            packet = unwrap_rtx(packet, payload_type=apt, ssrc=original)
        if nack is not None and nack.add(packet):
            await receiver._send_rtcp_nack(packet.ssrc, sorted(nack.missing))
        if not video:
            on_frame(kind, len(packet.payload))
            return
        payload = packet.payload
        if payload and payload[0] & 0x17 == 0x10:  # a frame's first packet
            if on_frame_start is not None:
                on_frame_start(payload, arrival_time_ms)
            if on_keyframe is not None:
                size = payload_keyframe_size(payload)
                if size is not None:
                    on_keyframe(*size)
        pending += len(payload)
        if packet.marker:
            on_frame(kind, pending)
            pending = 0

    return handle


# -- socket reads ---------------------------------------------------------------------------
DRAIN_MAX_DATAGRAMS = 64
RECEIVE_BUFFER_BYTES = 1 << 20


def drain_sockets(
    pc: RTCPeerConnection,
    *,
    max_datagrams: int = DRAIN_MAX_DATAGRAMS,
    buffer_bytes: int = RECEIVE_BUFFER_BYTES,
) -> int:
    """Read every ready datagram of ``pc``'s ICE sockets at once; returns the sockets changed.

    asyncio's datagram transport reads *one* datagram per readiness event and loop iteration,
    so one socket's throughput is capped by how many iterations the loop makes: with many peers
    on one loop each iteration is long, a 1 Mbit/s stream (~165 packets/s) outruns it and the
    kernel drops what overflows the socket buffer (``RcvbufErrors``). Here each readiness
    event reads up to ``max_datagrams`` (fair between sockets, bounded per turn), and the
    receive buffer is raised to absorb a late loop. Non-STUN datagrams skip aioice's STUN
    parse (which fails by exception on every media packet): by RFC 7983 only a first byte of
    0-3 can be STUN; DTLS (20-63) and RTP/RTCP (128-191) go straight to the ICE connection.

    Call after ``setLocalDescription`` (the sockets exist once candidates are gathered).
    """
    changed = 0
    for transport in _ice_datagram_transports(pc):
        sock = transport.get_extra_info("socket")
        loop = getattr(transport, "_loop", None)
        if sock is None or loop is None or not hasattr(loop, "_add_reader"):
            continue
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        loop._remove_reader(sock.fileno())
        loop._add_reader(sock.fileno(), _draining_reader(transport, max_datagrams))
        changed += 1
    return changed


def _ice_datagram_transports(pc: RTCPeerConnection) -> list[asyncio.DatagramTransport]:
    transports: list[asyncio.DatagramTransport] = []
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        connection = getattr(ice, "_connection", None)
        for protocol in getattr(connection, "_protocols", []):
            transport = getattr(protocol, "transport", None)
            if transport is not None and id(transport) not in seen:
                seen.add(id(transport))
                transports.append(transport)
    return transports


def _draining_reader(transport: Any, max_datagrams: int) -> Callable[[], None]:
    protocol = transport.get_protocol()
    component = getattr(getattr(protocol, "local_candidate", None), "component", None)
    sock = transport._sock  # the raw socket: asyncio's TransportSocket wrapper has no recvfrom
    max_size = transport.max_size

    def read_ready() -> None:
        for _ in range(max_datagrams):
            if transport._conn_lost:
                return
            try:
                data, addr = sock.recvfrom(max_size)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                protocol.error_received(exc)
                return
            if data and data[0] > 3 and component is not None:
                protocol.receiver.data_received(data, component)
            else:
                protocol.datagram_received(data, addr)

    return read_ready
