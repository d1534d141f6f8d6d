"""What one received packet costs the cheap subscriber, in CPU and in instructions.

``python -m bench.receive_cost [--mode pump|aiortc] [--streams 8] [--seconds 10] [--callgrind]``

A sender process in the SFU namespace publishes ``--streams`` cheap streams (the benchmarks'
640x480@30 VP8 clip at ~1 Mbit/s, plus Opus) to a receiver process in the client namespace,
aiortc to aiortc over the veth link (no Janus: only the receiver's own cost is wanted). The
receiver counts frames with ``count_frames`` and, in ``pump`` mode, reads its sockets with
``drain_sockets`` (RTP counted from headers); ``aiortc`` mode leaves the reads and SRTP to
aiortc (its decoder swapped out). Over the window the receiver reports packets received and its
CPU time (all threads); with ``--callgrind`` it runs under ``valgrind --tool=callgrind`` and the
window's instructions are read with ``callgrind_control`` (zeroed at the start, dumped at the
end): instruction counts repeat from run to run where CPU time on a shared machine does not.

Prints one JSON line: packets/s, µs of CPU per packet, instructions per packet.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription

from simulator.peers import cheap
from simulator.peers.rtc import new_peer_connection
from simulator.settings import Settings

WARM_UP_S = 4.0


def _line(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _read_line() -> dict[str, Any]:
    line = await asyncio.to_thread(sys.stdin.readline)
    if not line:
        raise SystemExit(0)
    message: dict[str, Any] = json.loads(line)
    return message


# -- the two processes ----------------------------------------------------------------------
async def send(streams: int, clips: Path) -> None:
    pcs: list[RTCPeerConnection] = []
    for _ in range(streams):
        pc = new_peer_connection()
        pc.addTrack(cheap.packet_audio_track(clips))
        pc.addTrack(cheap.packet_video_track(clips, 640, 480, 30, 1_000_000))
        cheap.prefer_clip_codecs(pc)
        await pc.setLocalDescription(await pc.createOffer())
        pcs.append(pc)
    _line("offers", sdps=[pc.localDescription.sdp for pc in pcs])
    answers = (await _read_line())["sdps"]
    for pc, sdp in zip(pcs, answers, strict=True):
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    await _read_line()  # until the bench closes stdin
    for pc in pcs:
        await pc.close()


async def receive(mode: str, profile: Path | None = None) -> None:
    offers = (await _read_line())["sdps"]
    pcs: list[RTCPeerConnection] = []
    frames = {"audio": 0, "video": 0}

    def counted(kind: str, nbytes: int) -> None:
        frames[kind] += 1

    for sdp in offers:
        pc = new_peer_connection()
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "offer"))
        cheap.count_frames(pc, counted)
        await pc.setLocalDescription(await pc.createAnswer())
        if mode == "pump":
            cheap.drain_sockets(pc)
        pcs.append(pc)
    _line("answers", sdps=[pc.localDescription.sdp for pc in pcs])
    await _read_line()  # "start"
    profiler = cProfile.Profile() if profile is not None else None
    if profiler is not None:
        profiler.enable()
    before = _packets(pcs), dict(frames), time.process_time(), time.monotonic()
    _line("started")
    await _read_line()  # "stop"
    after = _packets(pcs), dict(frames), time.process_time(), time.monotonic()
    if profiler is not None and profile is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    _line(
        "window",
        packets=after[0] - before[0],
        video_frames=after[1]["video"] - before[1]["video"],
        cpu_s=after[2] - before[2],
        wall_s=after[3] - before[3],
    )
    await _read_line()
    for pc in pcs:
        await pc.close()


def _packets(pcs: list[RTCPeerConnection]) -> int:
    total = 0
    for pc in pcs:
        for transceiver in pc.getTransceivers():
            streams = transceiver.receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
            total += sum(s.packets_received for s in streams.values())
    return total


# -- the bench ------------------------------------------------------------------------------
class _Child:
    def __init__(self, command: list[str]) -> None:
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )

    def read(self, event: str, timeout_s: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("{"):
                message: dict[str, Any] = json.loads(line)
                if message.get("event") == event:
                    return message
        raise RuntimeError(f"no {event!r} from {self.proc.args!r}")

    def write(self, **message: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with _quiet():
                self.proc.stdin.close()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> bool:
        return True


def measure(
    settings: Settings,
    mode: str,
    streams: int,
    seconds: float,
    callgrind: bool,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Run the sender and the receiver, measure one window; the figures as a dict."""
    me = [sys.executable, "-m", "bench.receive_cost"]
    clips = str(settings.cache_dir / "clips")
    send_args = ["send", "--streams", str(streams), "--clips", clips]
    sender = _Child(["ip", "netns", "exec", settings.sfu_netns, *me, *send_args])
    out = Path(tempfile.mkdtemp(prefix="rtcsim-callgrind-")) / "callgrind.out"
    grind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--instr-atstart=no"]
    receive_args = ["receive", "--mode", mode, *(["--profile", str(profile)] if profile else [])]
    wrapper = grind if callgrind else []
    receiver = _Child(["ip", "netns", "exec", settings.client_netns, *wrapper, *me, *receive_args])
    try:
        receiver.write(sdps=sender.read("offers", 120)["sdps"])
        sender.write(sdps=receiver.read("answers", 600 if callgrind else 60)["sdps"])
        time.sleep(WARM_UP_S * (6 if callgrind else 1))
        if callgrind:
            _callgrind_control("-i", receiver.proc.pid, "on")
            _callgrind_control("-z", receiver.proc.pid)
        receiver.write(go="start")
        receiver.read("started", 120)
        time.sleep(seconds)
        receiver.write(go="stop")
        window = receiver.read("window", 120)
        instructions = None
        if callgrind:
            _callgrind_control("-d", receiver.proc.pid)
            instructions = _dumped_instructions(out.parent)
        receiver.write(go="end")
    finally:
        receiver.stop()
        sender.stop()
    packets = max(1, int(window["packets"]))
    return {
        "mode": mode,
        "streams": streams,
        "packets_per_s": round(packets / window["wall_s"], 1),
        "video_fps_per_stream": round(window["video_frames"] / window["wall_s"] / streams, 2),
        "cpu_us_per_packet": round(1e6 * window["cpu_s"] / packets, 2),
        "instructions_per_packet": None if instructions is None else instructions // packets,
        "callgrind": callgrind,
        "loadavg_1min": os.getloadavg()[0],
    }


def _callgrind_control(option: str, pid: int, *value: str) -> None:
    """``callgrind_control`` finds the valgrind process by the pid of ``ip netns exec``'s
    child; both share one pid (``ip`` execs the command)."""
    subprocess.run(["callgrind_control", option, *value, str(pid)], check=True, capture_output=True)


def _dumped_instructions(folder: Path) -> int:
    """The ``summary:`` or ``totals:`` of the last dump (``callgrind.out.<n>``)."""
    dumps = sorted(folder.glob("callgrind.out*"), key=lambda p: p.stat().st_mtime)
    for dump in reversed(dumps):
        match = re.search(r"^(?:summary|totals): (\d+)", dump.read_text(), re.M)
        if match:
            return int(match.group(1))
    raise RuntimeError(f"no callgrind dump with totals in {folder}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.receive_cost")
    parser.add_argument("role", nargs="?", default="bench", choices=["bench", "send", "receive"])
    parser.add_argument("--mode", default="pump", choices=["pump", "aiortc"])
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--clips", type=Path, default=None)
    parser.add_argument("--profile", type=Path, default=None, help="receiver: cProfile the window")
    args = parser.parse_args(argv)
    if args.role == "send":
        asyncio.run(send(args.streams, args.clips or cheap.default_clips_dir()))
    elif args.role == "receive":
        asyncio.run(receive(args.mode, args.profile))
    else:
        result = measure(
            Settings(), args.mode, args.streams, args.seconds, args.callgrind, args.profile
        )
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
