"""The receive path's marginal cost per packet, without real time.

``python -m bench.receive_synthetic [--mode pump|aiortc] [--sockets 100] [--packets 300]``

``bench.receive_cost`` measures a live process, where the fixed costs of a loop turn weigh on
every packet while there are few streams. Here ``--sockets`` UDP sockets on loopback are filled
with real SRTP packets first (``--packets`` each, protected with pylibsrtp under a known key,
RTP headers as Janus sends them: a header extension, the marker bit on each frame's last
packet), and then drained at once, as a busy loop finds them:

* ``pump``: ``simulator.peers.cheap_receive``'s reader and tap, counting from headers;
* ``aiortc``: what aiortc does per packet once it has the datagram: SRTP unprotect, RTP parse
  and the receiver's own ``_handle_rtp_packet`` (jitter buffer, NACK, frames to a decoder queue
  that counts and decodes nothing), the floor of its path (its queue hop and DTLS task, which
  cost more again, are left out).

With ``--callgrind DIR`` (run the script under ``valgrind --tool=callgrind --instr-atstart=no
--callgrind-out-file=DIR/callgrind.out``) only the draining is instrumented (``callgrind_control
-i on`` / ``-d`` on itself), so the instructions per packet repeat from run to run. Prints one
JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pylibsrtp
from aiortc import RTCPeerConnection, RTCRtpCodecParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from bench.receive_cost import _dumped_instructions
from simulator.peers import cheap, cheap_receive

KEY = bytes(range(30))
PAYLOAD = 1100  # a full ~1 Mbit/s VP8 packet
PACKETS_PER_FRAME = 4


def _policy(kind: int) -> pylibsrtp.Policy:
    return pylibsrtp.Policy(
        key=KEY, ssrc_type=kind, srtp_profile=pylibsrtp.Policy.SRTP_PROFILE_AES128_CM_SHA1_80
    )


def _datagrams(ssrc: int, count: int) -> list[bytes]:
    tx = pylibsrtp.Session(_policy(pylibsrtp.Policy.SSRC_ANY_OUTBOUND))
    made = []
    for seq in range(1, count + 1):
        packet = RtpPacket(payload_type=96, sequence_number=seq, ssrc=ssrc)
        packet.timestamp = seq // PACKETS_PER_FRAME * 3000
        packet.marker = int(seq % PACKETS_PER_FRAME == PACKETS_PER_FRAME - 1)
        packet.payload = bytes(PAYLOAD)
        data = packet.serialize()
        extended = bytes([data[0] | 0x10]) + data[1:12] + b"\xbe\xde\x00\x01\x10\x01\x00\x00"
        made.append(tx.protect(extended + data[12:]))
    return made


class _Pair:
    remote_addr = ("127.0.0.1", 9)


class _Connection:
    """ICE has nominated its pair: the reader takes ``recv_into``, as in a running call."""

    def __init__(self) -> None:
        self._nominated: dict[int, Any] = {1: _Pair()}

    def data_received(self, data: bytes, component: int) -> None:
        raise AssertionError("media reached aiortc's queue")


class _Protocol:
    class _Candidate:
        component = 1

    def __init__(self) -> None:
        self.receiver = _Connection()
        self.local_candidate = self._Candidate()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        raise AssertionError("not STUN")

    def error_received(self, exc: Exception) -> None:
        raise exc


class _Transport:
    _conn_lost = 0

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._protocol = _Protocol()

    def get_protocol(self) -> _Protocol:
        return self._protocol

    def is_closing(self) -> bool:
        return False


class _Dtls:
    class _Ssl:
        def get_selected_srtp_profile(self) -> bytes:
            return b"SRTP_AES128_CM_SHA1_80"

    class _Router:
        def __init__(self, receiver: Any) -> None:
            self.receiver = receiver

        def route_rtp(self, packet: Any) -> Any:
            return self.receiver

    def __init__(self, receiver: Any) -> None:
        self._rx_srtp = pylibsrtp.Session(_policy(pylibsrtp.Policy.SSRC_ANY_INBOUND))
        self._ssl = self._Ssl()
        self._rtp_router = self._Router(receiver)
        self._rtp_header_extensions_map = HeaderExtensionsMap()


def _receiver(pc: RTCPeerConnection, mode: str) -> Any:
    pc.addTransceiver("video", direction="recvonly")
    receiver: Any = pc.getTransceivers()[0].receiver
    if mode == "pump":
        cheap.count_frames(pc, lambda kind, n: None)
    else:  # aiortc's own handler, frames counted by the queue instead of decoded
        receiver._RTCRtpReceiver__decoder_queue = cheap.CountingQueue(lambda n: None)
    receiver._RTCRtpReceiver__codecs[96] = RTCRtpCodecParameters(
        mimeType="video/VP8", clockRate=90_000, payloadType=96
    )
    receiver._enabled = True
    return receiver


def _callgrind(option: str, *value: str) -> None:
    subprocess.run(["callgrind_control", option, *value, str(os.getpid())], check=False,
                   capture_output=True)  # fmt: skip


async def measure(mode: str, sockets: int, packets: int, callgrind: Path | None) -> dict[str, Any]:
    """Fill, then drain; ``callgrind``: the folder valgrind dumps into."""
    loop = asyncio.get_running_loop()
    pcs = [RTCPeerConnection() for _ in range(sockets)]
    socks: list[socket.socket] = []
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receivers = [_receiver(pc, mode) for pc in pcs]
        pump = cheap_receive._Pump(loop)
        loop.remove_reader(pump.epoll.fileno())  # drained by hand below
        readers = []
        for index, receiver in enumerate(receivers):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind(("127.0.0.1", 0))
            sock.setblocking(False)
            socks.append(sock)
            tap = cheap_receive._Tap(_Dtls(receiver), forward=False)
            readers.append((sock, tap, receiver))
            for datagram in _datagrams(1000 + index, packets):
                sender.sendto(datagram, sock.getsockname())
            if mode == "pump":
                transport = _Transport(sock)
                pump.add(sock.fileno(), transport, cheap_receive._reader(transport, tap, pump))
        await asyncio.sleep(0.2)
        if callgrind is not None:
            _callgrind("-i", "on")
            _callgrind("-z")
        began = time.process_time()
        if mode == "pump":
            _drain_pump(pump)
        else:
            await _drain_aiortc(readers)
        cpu_s = time.process_time() - began
        instructions = None
        if callgrind is not None:
            _callgrind("-d")
            instructions = _dumped_instructions(callgrind)
        counted = sum(
            s.packets_received
            for _, _, receiver in readers
            for s in receiver._RTCRtpReceiver__remote_streams.values()
        )
    finally:
        sender.close()
        for sock in socks:
            sock.close()
        for pc in pcs:
            await pc.close()
    return {
        "mode": mode,
        "sockets": sockets,
        "packets": counted,
        "cpu_us_per_packet": round(1e6 * cpu_s / max(1, counted), 2),
        "instructions_per_packet": None
        if instructions is None
        else instructions // max(1, counted),
        "callgrind": callgrind is not None,
        "loadavg_1min": os.getloadavg()[0],
    }


def _drain_pump(pump: Any) -> None:
    while pump.epoll.poll(0):
        pump.run()


async def _drain_aiortc(readers: list[tuple[socket.socket, Any, Any]]) -> None:
    buf = bytearray(1 << 16)
    view = memoryview(buf)
    busy = True
    while busy:
        busy = False
        for sock, tap, receiver in readers:
            try:
                size = sock.recv_into(buf)
            except BlockingIOError:
                continue
            busy = True
            plain = tap.dtls._rx_srtp.unprotect(bytes(view[:size]))
            packet = RtpPacket.parse(plain, tap.dtls._rtp_header_extensions_map)
            await receiver._handle_rtp_packet(packet, arrival_time_ms=0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receive_synthetic")
    parser.add_argument("--mode", default="pump", choices=["pump", "aiortc"])
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--packets", type=int, default=300)
    parser.add_argument("--callgrind", type=Path, default=None, help="valgrind's dump folder")
    args = parser.parse_args()
    result = asyncio.run(measure(args.mode, args.sockets, args.packets, args.callgrind))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
