"""One generator process of benchmarks 1 and 2: ``python -m bench.generator_worker ROLE ...``.

``publish``: creates a VideoRoom and publishes cheap 640x480@30 VP8 (~1 Mbit/s) + Opus from a few
publishers; prints ``{"event": "ready", "feeds": [...]}`` and serves until stdin closes, then
destroys the room.

``subscribe``: receive-only cheap subscribers (a *stream* = one subscriber receiving the video
and the audio of one publisher), added in steps (``--steps 20,40,60``). After each step it
measures a short window; when a step is unhealthy (saturated, loss >= ``--max-loss-pct``, or CPU
over ``--max-cores``) the streams of that step are closed again. It then prints
``{"event": "connected", "streams": n}``, waits for a ``go`` line on stdin (so that two
processes measure the same seconds), measures the final window and prints
``{"event": "result", ...}``.

Everything runs inside the client network namespace on one ``NamespaceLoop`` (as ``rtcsim run``
does); this process's CPU is read from ``os.times`` (all threads) and its saturation from a
``GeneratorWatch`` on that loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription

from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JanusSession
from simulator.driver.protocol import RoomOptions
from simulator.netns_loop import NamespaceLoop
from simulator.peers import cheap
from simulator.peers.rtc import new_peer_connection
from simulator.watch import GeneratorWatch
from simulator.watch.process import process_cpu_s

SUBSCRIBERS_PER_SESSION = 10  # Janus sessions (long-polls) shared by subscriber handles
CONNECT_CONCURRENCY = 6
WEBRTC_UP_TIMEOUT_S = 30.0
MIN_FPS = 27.0  # 90 % of the clip's 30 fps


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


# -- publishers -------------------------------------------------------------------------------
async def _new_http() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


async def _publish_one(
    session: JanusSession, room: str, feed: str, clips: Path, bitrate_bps: int
) -> RTCPeerConnection:
    control = await videoroom.join_as_participant(session, room, feed, feed)
    pc = new_peer_connection()
    pc.addTrack(await asyncio.to_thread(cheap.packet_audio_track, clips))
    video = await asyncio.to_thread(cheap.packet_video_track, clips, 640, 480, 30, bitrate_bps)
    pc.addTrack(video)
    cheap.prefer_clip_codecs(pc)
    await pc.setLocalDescription(await pc.createOffer())
    reply = await videoroom.publish(control, pc.localDescription.sdp, audio=True, video=True)
    if reply.jsep is None:
        raise RuntimeError(f"{feed}: Janus sent no SDP answer")
    await pc.setRemoteDescription(RTCSessionDescription(str(reply.jsep["sdp"]), "answer"))
    await control.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)
    return pc


def publish(args: argparse.Namespace) -> None:
    media = NamespaceLoop(args.netns, name="bench-publishers")
    http = media.run_sync(_new_http())
    admin = media.run_sync(JanusSession.create(http, args.janus_url))
    handle = media.run_sync(admin.attach(videoroom.PLUGIN, "rtcsim:bench-admin"))
    options = RoomOptions(publishers=args.publishers + 2, bitrate_bps=args.bitrate)
    media.run_sync(videoroom.create_room(handle, args.room, options))
    feeds = [f"{args.room}-pub{i}" for i in range(args.publishers)]
    pcs: list[RTCPeerConnection] = []
    sessions: list[JanusSession] = []
    try:
        for feed in feeds:
            session = media.run_sync(JanusSession.create(http, args.janus_url))
            sessions.append(session)
            pcs.append(
                media.run_sync(_publish_one(session, args.room, feed, args.clips, args.bitrate))
            )
        emit("ready", feeds=feeds, pid=os.getpid())
        sys.stdin.read()  # serve until the bench closes our stdin
    finally:
        for pc in pcs:
            with contextlib.suppress(Exception):
                media.run_sync(pc.close(), 10)
        for session in sessions:
            with contextlib.suppress(Exception):
                media.run_sync(session.destroy(), 10)
        with contextlib.suppress(Exception):
            media.run_sync(videoroom.destroy_room(handle, args.room), 10)
        with contextlib.suppress(Exception):
            media.run_sync(admin.destroy(), 10)
        with contextlib.suppress(Exception):
            media.run_sync(http.close(), 10)
        media.close()


# -- subscribers ------------------------------------------------------------------------------
class StepFailed(RuntimeError):
    """Some streams of a step did not connect."""


@dataclass
class Stream:
    """One subscriber: its peer connection and what it counted."""

    pc: RTCPeerConnection
    handle: JanusHandle | None = None
    frames: dict[str, int] = field(default_factory=lambda: {"audio": 0, "video": 0})
    bytes: int = 0

    def on_frame(self, kind: str, nbytes: int) -> None:
        self.frames[kind] += 1
        self.bytes += nbytes


@dataclass(frozen=True)
class Snapshot:
    at: float
    cpu_s: float
    expected: list[int]
    received: list[int]
    bytes: list[int]
    video_frames: list[int]


def _rtp_counts(pc: RTCPeerConnection) -> tuple[int, int]:
    """Packets expected and received on the media SSRCs (not RTX) of all receivers: RTP
    sequence numbers, before any retransmission (aiortc's ``StreamStatistics``)."""
    expected = received = 0
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        rtx = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
        streams = getattr(receiver, "_RTCRtpReceiver__remote_streams", {})
        for ssrc, stats in streams.items():
            if ssrc in rtx or stats.max_seq is None:
                continue
            expected += stats.packets_expected
            received += stats.packets_received
    return expected, received


class Subscribers:
    def __init__(self, media: NamespaceLoop, args: argparse.Namespace) -> None:
        self.media = media
        self.args = args
        self.http: aiohttp.ClientSession = media.run_sync(_new_http())
        self.sessions: list[JanusSession] = []
        self.streams: list[Stream] = []

    async def _session_for(self, index: int) -> JanusSession:
        while len(self.sessions) <= index // SUBSCRIBERS_PER_SESSION:
            self.sessions.append(await JanusSession.create(self.http, self.args.janus_url))
        return self.sessions[index // SUBSCRIBERS_PER_SESSION]

    async def add(self, count: int) -> None:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        first = len(self.streams)
        for index in range(first, first + count):  # sessions first: no race on the list
            await self._session_for(index)

        async def one(index: int) -> Stream:
            async with gate:
                return await self._connect(index)

        results = await asyncio.gather(
            *(one(i) for i in range(first, first + count)), return_exceptions=True
        )
        self.streams += [r for r in results if isinstance(r, Stream)]
        failed = [r for r in results if not isinstance(r, Stream)]
        if failed:  # a machine too busy to connect more: the step has no room
            raise StepFailed(f"{len(failed)} of {count} streams did not connect: {failed[0]!r}")

    async def _connect(self, index: int) -> Stream:
        feeds = self.args.feeds
        session = self.sessions[index // SUBSCRIBERS_PER_SESSION]
        name = f"{self.args.label}-sub{index}"
        handle, offer = await videoroom.subscribe(
            session, self.args.room, name, feeds[index % len(feeds)]
        )
        stream = Stream(new_peer_connection(), handle)
        try:
            await stream.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            cheap.count_frames(stream.pc, stream.on_frame)
            await stream.pc.setLocalDescription(await stream.pc.createAnswer())
            cheap.drain_sockets(stream.pc)
            await videoroom.start(handle, stream.pc.localDescription.sdp)
            await handle.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)
        except BaseException:
            await stream.pc.close()
            with contextlib.suppress(Exception):
                await handle.detach()
            raise
        return stream

    async def remove_last(self, count: int) -> None:
        doomed, self.streams = self.streams[-count:], self.streams[:-count]
        for stream in doomed:
            await stream.pc.close()
            if stream.handle is not None:
                with contextlib.suppress(Exception):
                    await stream.handle.detach()

    async def snapshot(self) -> Snapshot:
        counts = [_rtp_counts(s.pc) for s in self.streams]
        return Snapshot(
            at=time.monotonic(),
            cpu_s=process_cpu_s(),
            expected=[c[0] for c in counts],
            received=[c[1] for c in counts],
            bytes=[s.bytes for s in self.streams],
            video_frames=[s.frames["video"] for s in self.streams],
        )

    def measure(self, window_s: float) -> dict[str, Any]:
        """Measure ``window_s`` of steady state: CPU, loss, bitrate, the watch's verdict."""
        watch = GeneratorWatch(
            f"bench-{self.args.label}", {"media": self.media.loop}, interval_s=min(2.0, window_s)
        )
        watch.start()
        before = self.media.run_sync(self.snapshot())
        time.sleep(window_s)
        after = self.media.run_sync(self.snapshot())
        report = watch.stop()
        wall = after.at - before.at
        n = len(after.expected)
        expected = [a - b for a, b in zip(after.expected, before.expected, strict=True)]
        received = [a - b for a, b in zip(after.received, before.received, strict=True)]
        lost = [max(0, e - r) for e, r in zip(expected, received, strict=True)]
        loss_each = [lo / e if e else 1.0 for lo, e in zip(lost, expected, strict=True)]
        received_bytes = sum(after.bytes) - sum(before.bytes)
        frames = sum(after.video_frames) - sum(before.video_frames)
        return {
            "streams": n,
            "window_s": round(wall, 2),
            "cores": round((after.cpu_s - before.cpu_s) / wall, 4),
            "loss_pct": round(100 * sum(lost) / max(1, sum(expected)), 4),
            "streams_over_loss": sum(1 for x in loss_each if x * 100 >= self.args.max_loss_pct),
            "kbps_per_stream": round(received_bytes * 8 / wall / max(1, n) / 1000, 1),
            "video_fps_per_stream": round(frames / wall / max(1, n), 2),
            "lag_p95_ms": report.loop_lag_p95_ms,
            "lag_max_ms": report.loop_lag_max_ms,
            "saturated": report.saturated,
            "reasons": report.reasons,
            "rss_mb": report.rss_max_kb // 1024,
        }

    def healthy(self, result: dict[str, Any]) -> bool:
        """Not saturated, loss under the limit, and the video arriving at its frame rate (a
        publisher whose ICE consent lapsed under overload sends nothing, and nothing is lost)."""
        return bool(
            not result["saturated"]
            and result["loss_pct"] < self.args.max_loss_pct
            and result["video_fps_per_stream"] >= MIN_FPS
        )

    def room_for_more(self, step: dict[str, Any]) -> bool:
        """Whether a ramp step leaves room for the next: no loss, CPU under ``max_cores``, and
        loop lag under ``step_lag_ms``. A short step window right after new connections shows
        lag the steady state does not have, so its lag limit is looser than the watch's; the
        final window is judged by the watch alone."""
        return bool(
            step["loss_pct"] < self.args.max_loss_pct
            and step["cores"] < self.args.max_cores
            and step["lag_p95_ms"] < self.args.step_lag_ms
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.media.run_sync(self.remove_last(len(self.streams)), 60)
        for session in self.sessions:
            with contextlib.suppress(Exception):
                self.media.run_sync(session.destroy(), 10)
        with contextlib.suppress(Exception):
            self.media.run_sync(self.http.close(), 10)


async def _call(action: Callable[[], object]) -> None:
    action()


def subscribe(args: argparse.Namespace) -> None:
    media = NamespaceLoop(args.netns, name="bench-subscribers")
    subs = Subscribers(media, args)
    try:
        added_last = 0
        for target in args.steps:
            added_last = target - len(subs.streams)
            began = time.monotonic()
            try:
                media.run_sync(subs.add(added_last), 300)
            except StepFailed as exc:
                emit("step_failed", streams=target, error=str(exc))
                kept = len(subs.streams) - (target - added_last)
                if kept > 0 and target != args.steps[0]:
                    media.run_sync(subs.remove_last(kept), 120)  # back to the last step
                    time.sleep(args.settle_s)
                break
            time.sleep(args.settle_s)
            if len(args.steps) == 1 or args.step_window_s <= 0:
                continue  # a fixed load: only the final window is measured
            step = subs.measure(args.step_window_s)
            step["connect_s"] = round(time.monotonic() - began, 1)
            emit("step", **step)
            if not subs.room_for_more(step):
                lossy = step["loss_pct"] >= args.max_loss_pct
                if (lossy or args.back_off) and len(subs.streams) > added_last:
                    media.run_sync(subs.remove_last(added_last), 120)  # back to a clean step
                    time.sleep(args.settle_s)
                break
        emit("connected", streams=len(subs.streams), pid=os.getpid())
        sys.stdin.readline()  # "go": the bench starts every process's window together
        profile = cProfile.Profile() if args.profile else None
        if profile is not None:  # the loop's thread only: that is where the media is handled
            media.run_sync(_call(profile.enable))
        result = subs.measure(args.window_s)
        if not subs.healthy(result) and args.retry_smaller and len(subs.streams) > added_last:
            emit("step", **result)  # one step back, measured again
            media.run_sync(subs.remove_last(added_last), 120)
            time.sleep(args.settle_s)
            result = subs.measure(args.window_s)
        emit("result", **result)
        if profile is not None:
            media.run_sync(_call(profile.disable))
            profile.dump_stats(args.profile)
        sys.stdin.read()  # keep the load until the bench lets go: another process may measure
    finally:
        subs.close()
        media.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.generator_worker")
    parser.add_argument("role", choices=["publish", "subscribe"])
    parser.add_argument("--janus-url", required=True)
    parser.add_argument("--netns", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--clips", type=Path, default=None)
    parser.add_argument("--bitrate", type=int, default=1_000_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--feeds", type=lambda s: s.split(","), default=[])
    parser.add_argument("--steps", type=lambda s: [int(x) for x in s.split(",")], default=[10])
    parser.add_argument("--step-window-s", type=float, default=6.0)
    parser.add_argument("--settle-s", type=float, default=2.0)
    parser.add_argument("--window-s", type=float, default=20.0)
    parser.add_argument("--max-loss-pct", type=float, default=0.5)
    parser.add_argument("--max-cores", type=float, default=0.85)
    parser.add_argument("--step-lag-ms", type=float, default=250.0)
    parser.add_argument("--retry-smaller", action="store_true")
    parser.add_argument(
        "--back-off",
        action="store_true",
        help="after a step with no room (lag or CPU, not only loss), go back a step at once: "
        "two processes overloading the machine for long let the publishers' ICE consent lapse",
    )
    parser.add_argument("--label", default="w")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the media loop")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.clips is None:
        args.clips = cheap.default_clips_dir()
    if args.role == "publish":
        publish(args)
    else:
        subscribe(args)


if __name__ == "__main__":
    main()
