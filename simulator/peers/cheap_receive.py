"""The receiving half of cheap media: subscribers that count frames and never decode.

See ``simulator.peers.cheap`` for the whole picture; this module holds what touches aiortc's
receiver and aioice's sockets (private attributes both: aiortc has no hook for either).

Two layers, each useful alone:

* ``count_frames`` makes a receiver count instead of decode: its per-packet handler feeds an
  ``RtpCounter`` per SSRC (aiortc's statistics, so RTCP receiver reports go on; plus frames at
  the marker bit and payload bytes) and its decoder queue never fills.
* ``drain_sockets`` takes the peer connection's sockets off asyncio's selector and reads them
  from one ``epoll`` per event loop (``_Pump``), one datagram per ready socket per round, so
  nothing raises ``BlockingIOError`` and a loop iteration serves every ready socket at once.
  A media packet of a counting receiver is counted right there, from its RTP header (see
  ``simulator.peers.rtp_counter``: SRTP leaves the header in the clear): no SRTP unprotect,
  no ``bytes`` object, no coroutine, no queue. What the header alone cannot count exactly
  (padding, gaps, a resync now and then) is decrypted on the spot and counted in order. STUN,
  DTLS, RTCP and retransmissions (RTX) take aiortc's own path, so ICE consent, SRTCP, the
  sender reports and NACK recovery work as before.

Cost, per received packet on this machine class (``bench/receive_cost.py``, instructions under
callgrind): about a fifth of aiortc's own path with its decoder swapped out.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import select
import socket
import struct
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import pylibsrtp
from aiortc import RTCPeerConnection, RTCRtpTransceiver
from aiortc.codecs import is_rtx
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import RtpPacket, unwrap_rtx

from simulator.peers.rtp_counter import (
    EXTENDED,
    PADDED,
    FrameCallback,
    PayloadCallback,
    RtpCounter,
)
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


class Counting:
    """A receiver's counting state: its codecs, per-SSRC counters and NACK generator.

    ``observe``: count beside aiortc's own path (which still decrypts, decodes and keeps its
    own statistics) instead of replacing it; for proving the counts against a decoder.
    """

    def __init__(
        self,
        receiver: Any,
        kind: str,
        on_frame: FrameCallback,
        *,
        observe: bool = False,
        on_frame_start: PayloadCallback | None = None,
    ) -> None:
        self.receiver = receiver
        self.kind = kind
        self.on_frame = on_frame
        self.on_frame_start = on_frame_start
        self.observe = observe
        self.codecs: dict[int, Any] = receiver._RTCRtpReceiver__codecs
        self.streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams
        self.rtx_ssrc: dict[int, int] = receiver._RTCRtpReceiver__rtx_ssrc
        self.nack = None if observe else receiver._RTCRtpReceiver__nack_generator
        self.counters: dict[int, RtpCounter] = {}
        self._nacks: set[asyncio.Future[None]] = set()  # referenced until sent

    def counter_for(self, ssrc: int, payload_type: int) -> RtpCounter | None:
        """The media SSRC's counter (made on its first packet); None for RTX or an unknown
        payload type (aiortc's own path then handles or drops the packet)."""
        counter = self.counters.get(ssrc)
        if counter is not None:
            return counter
        codec = self.codecs.get(payload_type)
        if codec is None or is_rtx(codec) or not self.receiver._enabled:
            return None
        counter = RtpCounter(
            codec.clockRate, self.kind, payload_type, self.on_frame, self.nack, self.on_frame_start
        )
        self.counters[ssrc] = counter
        if not self.observe:
            self.streams[ssrc] = counter  # what RTCP receiver reports and getStats() read
        return counter

    def nack_due(self, ssrc: int) -> None:
        if self.nack is not None and self.nack.missing:
            missing = sorted(self.nack.missing)
            sent = asyncio.ensure_future(self.receiver._send_rtcp_nack(ssrc, missing))
            self._nacks.add(sent)
            sent.add_done_callback(self._nacks.discard)

    async def handle(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        """aiortc's ``RTCRtpReceiver._handle_rtp_packet`` reduced to counting: the packets
        ``drain_sockets`` did not count (RTX, or every packet without it). Left out: the REMB
        estimate (a cheap publisher ignores REMB), depayloading and the jitter buffer
        (nothing is decoded), synchronization-source timestamps (unused)."""
        if not self.receiver._enabled:
            return
        codec = self.codecs.get(packet.payload_type)
        if codec is None:
            return
        if not is_rtx(codec):
            counter = self.counter_for(packet.ssrc, packet.payload_type)
            if counter is not None:
                count = counter.add
                if count(packet.sequence_number, packet.timestamp, packet.marker,
                         len(packet.payload), time.time(), packet.payload):  # fmt: skip
                    self.nack_due(packet.ssrc)
            return
        stats = self.streams.get(packet.ssrc)
        if stats is None:
            stats = self.streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stats.add(packet)  # as aiortc: a retransmission counts on the RTX stream's statistics
        original = self.rtx_ssrc.get(packet.ssrc)
        apt = codec.parameters.get("apt")
        if original is None or len(packet.payload) < 2 or apt not in self.codecs:
            return
        packet = unwrap_rtx(packet, payload_type=apt, ssrc=original)
        media = self.counter_for(original, apt)
        if media is not None and media.count_retransmission(
            len(packet.payload), packet.marker, packet.sequence_number
        ):
            self.nack_due(original)


def count_frames(
    pc: RTCPeerConnection,
    on_frame: FrameCallback,
    transceivers: Iterable[RTCRtpTransceiver] | None = None,
    *,
    observe: bool = False,
    on_frame_start: PayloadCallback | None = None,
) -> list[Counting]:
    """Make every receiver of ``pc`` count instead of decode; call between
    ``setRemoteDescription`` and the connection coming up (the decoder thread takes its queue
    when the receiver starts). ``on_frame(kind, nbytes)`` runs on the event loop.

    ``transceivers``: only these (those a renegotiation added; LiveKit's subscriber peer
    connection grows by one per subscribed track), not every one of ``pc``.
    ``observe``: count beside aiortc's decoding path, replacing nothing (and then call
    ``drain_sockets``: only it counts in that mode). ``on_frame_start(payload, timestamp)``:
    the decrypted payload and RTP timestamp of each video frame's first packet (those are then
    decrypted)."""
    made: list[Counting] = []
    for transceiver in pc.getTransceivers() if transceivers is None else transceivers:
        receiver = transceiver.receiver
        if not hasattr(receiver, "_RTCRtpReceiver__decoder_queue"):
            raise RuntimeError("this aiortc has no RTCRtpReceiver decoder queue to replace")
        counting = Counting(
            receiver, transceiver.kind, on_frame, observe=observe, on_frame_start=on_frame_start
        )
        receiver._rtcsim_counting = counting  # type: ignore[attr-defined]
        made.append(counting)
        if observe:
            continue
        receiver._RTCRtpReceiver__decoder_queue = CountingQueue(lambda n: None)
        receiver._handle_rtp_packet = counting.handle  # type: ignore[method-assign]
    return made


def keyframe_sizes(on_keyframe: Callable[[int, int], None]) -> PayloadCallback:
    """An ``on_frame_start`` that reports the picture size of each VP8 key frame (from its
    first packet: S bit set, partition 0, RFC 7741 §4.2), for layer tracking."""

    def on_frame_start(payload: bytes, timestamp: int) -> None:
        size = payload_keyframe_size(payload)
        if size is not None:
            on_keyframe(*size)

    return on_frame_start


# -- socket reads ---------------------------------------------------------------------------
RECEIVE_BUFFER_BYTES = 1 << 20
PUMP_ROUNDS = 32
"""Rounds of one datagram per ready socket in one turn of the event loop, at most: then the
loop's other callbacks run (the epoll stays readable, so the next turn goes on)."""

_RTP_FIELDS = struct.Struct("!HII")  # sequence number, timestamp, SSRC (RFC 3550 §5.1)
_UNKNOWN: Any = object()


class _Header:
    """What aiortc's ``RtpRouter.route_rtp`` reads of a packet."""

    __slots__ = ("payload_type", "ssrc")

    def __init__(self, ssrc: int, payload_type: int) -> None:
        self.ssrc = ssrc
        self.payload_type = payload_type


class _Tap:
    """One DTLS transport's media as the pump sees it: which SSRCs it counts from headers."""

    def __init__(self, dtls: Any, forward: bool) -> None:
        self.dtls = dtls
        self.forward = forward
        """Observe mode: count, then hand every datagram to aiortc as well."""
        self.fast: dict[int, RtpCounter | None] = {}
        self.counting: dict[int, Counting] = {}
        self.tag_len = -1
        self.early: list[tuple[int, int, int, int, int, float]] = []
        """Observe mode: headers of packets that came before SRTP was keyed (aiortc decrypts
        them once it is, so they are counted when the SSRC is learnt)."""
        self.impaired = False
        self.consumed_bytes = 0
        """Datagram bytes counted here and never handed to aiortc: its transport's
        ``bytesReceived`` misses them, so ``received_bytes`` adds them back."""
        """A downlink impairment in the process (``simulator.impairment.inprocess``) sits where
        aiortc reads the ICE connection, after this pump: while one is set every datagram goes
        that way, and the receiver's own handler (``Counting.handle``) counts what survives."""

    def learn(self, ssrc: int, payload_type: int) -> RtpCounter | None:
        """The counter of a new SSRC, routed as aiortc routes it; None: not ours to count."""
        if self.dtls._rx_srtp is None:
            return None  # SRTP not keyed yet: ask again on the next packet
        if self.tag_len < 0:
            profile = self.dtls._ssl.get_selected_srtp_profile()
            self.tag_len = 16 if b"GCM" in profile else 10  # RFC 7714 §13.2; RFC 3711 §5.2
        receiver = self.dtls._rtp_router.route_rtp(_Header(ssrc, payload_type))
        counting: Counting | None = getattr(receiver, "_rtcsim_counting", None)
        counter = None if counting is None else counting.counter_for(ssrc, payload_type)
        self.fast[ssrc] = counter
        if counting is not None and counter is not None:
            self.counting[ssrc] = counting
            for early in [e for e in self.early if e[0] == ssrc]:
                counter.add(early[1], early[2], early[3], early[4] - self.tag_len, early[5])
            self.early = [e for e in self.early if e[0] != ssrc]
        return counter

    def keep_early(self, ssrc: int, seq: int, timestamp: int, marker: int, rest: int) -> None:
        """A packet before SRTP was keyed, in observe mode: ``rest`` = payload and tag."""
        if self.forward and self.dtls._rx_srtp is None and len(self.early) < 1024:
            self.early.append((ssrc, seq, timestamp, marker, rest, time.time()))

    def count_decrypted(self, counter: RtpCounter, datagram: bytes, now_s: float) -> None:
        """The general path, in arrival order: decrypt, read the true payload length, count."""
        try:
            plain = self.dtls._rx_srtp.unprotect(datagram)
            packet = RtpPacket.parse(plain, self.dtls._rtp_header_extensions_map)
        except (pylibsrtp.Error, ValueError):
            return  # as aiortc: an unauthenticated or malformed packet is dropped
        ssrc = packet.ssrc
        if counter.add(packet.sequence_number, packet.timestamp, packet.marker,
                       len(packet.payload), now_s, packet.payload):  # fmt: skip
            self.counting[ssrc].nack_due(ssrc)


class _Pump:
    """One ``epoll`` per event loop over every drained socket, itself one asyncio reader."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.epoll = select.epoll()
        self.readers: dict[int, Callable[[], None]] = {}
        self.transports: dict[int, Any] = {}
        self.buffer = bytearray(1 << 16)  # one datagram at a time, handled before the next
        self.view = memoryview(self.buffer)
        self.now_s = 0.0
        loop.add_reader(self.epoll.fileno(), self.run)

    def add(self, fd: int, transport: Any, reader: Callable[[], None]) -> None:
        for old in [f for f, t in self.transports.items() if t.is_closing()]:
            self.forget(old)
        self.readers[fd], self.transports[fd] = reader, transport
        try:
            self.epoll.register(fd, select.EPOLLIN)
        except FileExistsError:
            self.epoll.modify(fd, select.EPOLLIN)

    def forget(self, fd: int) -> None:
        self.readers.pop(fd, None)
        self.transports.pop(fd, None)
        with contextlib.suppress(OSError, ValueError):
            self.epoll.unregister(fd)

    def run(self) -> None:
        self.now_s = time.time()
        poll, readers = self.epoll.poll, self.readers
        for _ in range(PUMP_ROUNDS):
            events = poll(0)
            if not events:
                return
            for fd, _mask in events:
                reader = readers.get(fd)
                if reader is None:
                    self.forget(fd)
                else:
                    reader()


_pumps: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Pump] = weakref.WeakKeyDictionary()
_taps: weakref.WeakKeyDictionary[Any, _Tap] = weakref.WeakKeyDictionary()


def drain_sockets(pc: RTCPeerConnection, *, buffer_bytes: int = RECEIVE_BUFFER_BYTES) -> int:
    """Read ``pc``'s ICE sockets from the loop's pump (counting media from RTP headers where
    ``count_frames`` asked for it); returns the sockets taken over.

    asyncio's datagram transport reads *one* datagram per readiness event and loop iteration,
    so one socket's throughput is capped by how many iterations the loop makes: with many peers
    on one loop each iteration is long, a 1 Mbit/s stream (~165 packets/s) outruns it and the
    kernel drops what overflows the socket buffer (``RcvbufErrors``). The pump reads every
    ready socket in rounds, and the receive buffer is raised to absorb a late loop. Non-STUN
    datagrams skip aioice's STUN parse (which fails by exception on every media packet): by
    RFC 7983 only a first byte of 0-3 can be STUN; DTLS (20-63) and RTP/RTCP (128-191) go
    straight to the ICE connection.

    Call after ``setLocalDescription`` (the sockets exist once candidates are gathered). Needs
    asyncio's selector event loop (``_add_reader``); with another loop it changes nothing.
    """
    changed = 0
    observe = any(
        getattr(getattr(t.receiver, "_rtcsim_counting", None), "observe", False)
        for t in pc.getTransceivers()
    )
    for dtls, transport in _ice_datagram_transports(pc):
        sock = transport.get_extra_info("socket")
        loop = getattr(transport, "_loop", None)
        if sock is None or loop is None or not hasattr(loop, "_remove_reader"):
            continue
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_bytes)
        tap = _taps.get(dtls)
        if tap is None:
            tap = _taps[dtls] = _Tap(dtls, observe)
        pump = _pumps.get(loop)
        if pump is None:
            pump = _pumps[loop] = _Pump(loop)
        loop._remove_reader(sock.fileno())
        pump.add(sock.fileno(), transport, _reader(transport, tap, pump))
        changed += 1
    return changed


def received_bytes(pc: RTCPeerConnection, transport_bytes: int) -> int:
    """``pc``'s bytes received in all: aiortc's transport figure (``transport_bytes``, what
    reached aiortc) plus the media datagrams the pump counted and consumed itself."""
    taps: dict[int, _Tap] = {}
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        tap = None if dtls is None else _taps.get(dtls)
        if tap is not None:
            taps[id(tap)] = tap  # bundled: one tap for every transceiver
    return transport_bytes + sum(tap.consumed_bytes for tap in taps.values())


def count_after_impairment(pc: RTCPeerConnection, impaired: bool) -> None:
    """Whether ``pc``'s media is counted after the in-process downlink impairment (True: every
    datagram through aiortc's path, where the impairer drops and delays) or on the spot from
    its header (False, the cheap default). Without this, the pump would count packets the
    impairment was meant to lose, at times it was meant to delay."""
    for transceiver in pc.getTransceivers():
        tap = _taps.get(transceiver.receiver.transport)
        if tap is not None:
            tap.impaired = impaired


def _ice_datagram_transports(pc: RTCPeerConnection) -> list[tuple[Any, asyncio.DatagramTransport]]:
    found: list[tuple[Any, asyncio.DatagramTransport]] = []
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        connection = getattr(dtls.transport, "_connection", None)
        for protocol in getattr(connection, "_protocols", []):
            transport = getattr(protocol, "transport", None)
            if transport is not None and id(transport) not in seen:
                seen.add(id(transport))
                found.append((dtls, transport))
    return found


def _reader(transport: Any, tap: _Tap, pump: _Pump) -> Callable[[], None]:
    """Read one datagram of ``transport``'s socket and count it or pass it on."""
    protocol = transport.get_protocol()
    connection = protocol.receiver
    component = getattr(getattr(protocol, "local_candidate", None), "component", 1)
    sock = transport._sock  # the raw socket: asyncio's TransportSocket wrapper has no recv_into
    fd = sock.fileno()
    recv_into, recvfrom_into = sock.recv_into, sock.recvfrom_into
    buf, view, fast = pump.buffer, pump.view, tap.fast
    fields = _RTP_FIELDS.unpack_from
    remote: tuple[str, int] | None = None
    """The nominated pair's remote address: once ICE has chosen it, every datagram comes from
    it, and ``recv_into`` saves ``recvfrom_into``'s address tuple per packet."""

    def read_one() -> None:
        nonlocal remote
        if transport._conn_lost:
            pump.forget(fd)
            return
        try:
            if remote is None:
                size, addr = recvfrom_into(buf)
                pair = connection._nominated.get(component)
                if pair is not None:
                    remote = pair.remote_addr
            else:
                size, addr = recv_into(buf), remote
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            protocol.error_received(exc)
            return
        if not size:
            return
        first = buf[0]
        if 127 < first < 192 and size >= 12 and not tap.impaired:
            second = buf[1]
            if second < 192 or second > 208:  # RTP, not RTCP (aiortc's is_rtcp)
                seq, timestamp, ssrc = fields(buf, 2)
                counter = fast.get(ssrc, _UNKNOWN)
                header = 12 + 4 * (first & 0x0F)  # header_length, inlined (per packet)
                if first & EXTENDED:
                    if size >= header + 4:
                        header += 4 + 4 * ((buf[header + 2] << 8) | buf[header + 3])
                    else:
                        header = -1
                if counter is _UNKNOWN:
                    counter = tap.learn(ssrc, second & 0x7F)
                    if counter is None and tap.forward and 0 < header <= size:
                        tap.keep_early(ssrc, seq, timestamp, second >> 7, size - header)
                if counter is not None and header > 0 and size - header >= tap.tag_len:
                    payload = size - header - tap.tag_len
                    if (
                        first & PADDED
                        or (second & 0x7F) != counter.payload_type
                        or not counter.count_header(
                            seq, timestamp, second >> 7, payload, pump.now_s
                        )
                    ):
                        if tap.forward:  # aiortc decrypts it: count the header's figure
                            counter.add(seq, timestamp, second >> 7, payload, pump.now_s)
                        else:
                            tap.count_decrypted(counter, bytes(view[:size]), pump.now_s)
                    if not tap.forward:
                        tap.consumed_bytes += size
                        return
        data = bytes(view[:size])
        if first > 3:
            connection.data_received(data, component)
        else:
            protocol.datagram_received(data, addr)

    return read_one


__all__ = ["Counting", "CountingQueue", "count_frames", "drain_sockets", "received_bytes"]
