"""One generator process of benchmarks 1 and 2: ``python -m bench.generator_worker ROLE ...``.

Both roles run inside the client network namespace on one ``NamespaceLoop`` (as ``rtcsim run``
does) and are driven by JSON lines on stdin, one JSON line back on stdout for each, the same
protocol as the pion baseline (``bench/pion/main.go``) and ``bench.server_worker``, answered by
their one command loop (``bench.worker_loop``), so one ramp drives any of them.

``publish``: a few cheap 640x480@30 VP8 (~1 Mbit/s) + Opus publishers (``--create-room``: this
process creates the VideoRoom first, and destroys it at the end); prints ``ready`` with their
feed ids. ``--simulcast``: cheap simulcast publishers instead, three layers by rid from the
layer clips (``simulator.peers.simulcast``: 640x480, 320x240 and 160x120, about 500, 170 and
50 kbit/s) and the Opus loop, set up as ``rtcsim run`` sets up a simulcast publisher.
``subscribe``: receive-only cheap subscribers (a *stream* = one subscriber receiving the video
and the audio of one publisher), counted from RTP headers (``drain_sockets``); ``--substream``
asks Janus for one simulcast layer (its default is the highest).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription

from bench import worker_loop
from simulator.driver.janus import videoroom
from simulator.driver.janus.http import JanusHandle, JanusSession
from simulator.driver.protocol import RoomOptions
from simulator.netns_loop import NamespaceLoop
from simulator.peers import cheap, publishing
from simulator.peers.cheap_receive import Counting
from simulator.peers.publishing import PublishOptions
from simulator.peers.rtc import new_peer_connection
from simulator.peers.simulcast.publisher import SimulcastVideo

SUBSCRIBERS_PER_SESSION = 10  # Janus sessions (long-polls) shared by subscriber handles
WEBRTC_UP_TIMEOUT_S = 30.0


# -- publishers -------------------------------------------------------------------------------
async def _new_http() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


async def _publish_one(
    session: JanusSession, room: str, feed: str, clips: Path, bitrate_bps: int
) -> tuple[RTCPeerConnection, cheap.PacketTrack]:
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
    return pc, video


SIMULCAST = PublishOptions(width=640, height=480, fps=30, media="cheap", simulcast=True)
"""The bench's simulcast camera: the single-layer publishers' capture, sent as three layers."""


async def _publish_simulcast(
    session: JanusSession, room: str, feed: str, clips: Path
) -> tuple[RTCPeerConnection, publishing.Video]:
    """A cheap simulcast publisher, the steps ``Participant.publish`` takes on Janus: aiortc
    offers the audio and a receive-only VP8 m-line, the offer gets the layers' rids, and the
    layers' RTP streams open on the transport once Janus answered."""
    control = await videoroom.join_as_participant(session, room, feed, feed)
    pc = new_peer_connection()
    audio, video = await publishing.make_tracks(SIMULCAST, clips, seed=feed)
    made, transceiver = publishing.add_tracks(pc, audio, video, SIMULCAST.media)
    if not isinstance(video, SimulcastVideo) or transceiver is None:
        raise RuntimeError(f"{feed}: no simulcast video was made")
    await pc.setLocalDescription(await pc.createOffer())
    local_sdp = pc.localDescription.sdp
    offer = video.offer(local_sdp, str(transceiver.mid))
    reply = await videoroom.publish(control, offer, audio=True, video=True)
    if reply.jsep is None:
        raise RuntimeError(f"{feed}: Janus sent no SDP answer")
    answer = str(reply.jsep["sdp"])
    await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    cheap.answer_feedback(pc, transceivers=made)
    video.start(transceiver, answer, publishing.cname_of(local_sdp))
    await control.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)
    return pc, video


def publish(args: argparse.Namespace) -> None:
    media = NamespaceLoop(args.netns, name="bench-publishers")
    http = media.run_sync(_new_http())
    admin = media.run_sync(JanusSession.create(http, args.janus_url))
    handle = media.run_sync(admin.attach(videoroom.PLUGIN, "rtcsim:bench-admin"))
    if args.create_room:
        options = RoomOptions(publishers=args.room_publishers, bitrate_bps=args.bitrate)
        media.run_sync(videoroom.create_room(handle, args.room, options))
    feeds = [f"{args.room}-{args.label}-pub{i}" for i in range(args.publishers)]
    pcs: list[RTCPeerConnection] = []
    videos: list[publishing.Video] = []
    sessions: list[JanusSession] = []
    try:
        for feed in feeds:
            session = media.run_sync(JanusSession.create(http, args.janus_url))
            sessions.append(session)
            if args.simulcast:
                made = _publish_simulcast(session, args.room, feed, args.clips)
            else:
                made = _publish_one(session, args.room, feed, args.clips, args.bitrate)
            pc, video = media.run_sync(made)
            pcs.append(pc)
            videos.append(video)
        worker_loop.serve_publishers(
            worker_loop.Watched(args.label, media),
            feeds,
            lambda: {
                "frames_sent": [v.frames_sent for v in videos],
                "connected": [pc.connectionState == "connected" for pc in pcs],
            },
        )
    finally:
        for video in videos:
            if isinstance(video, SimulcastVideo):  # its BYEs while the link is up
                with contextlib.suppress(Exception):
                    media.run_sync(video.stop(), 10)
        for pc in pcs:
            with contextlib.suppress(Exception):
                media.run_sync(pc.close(), 10)
        for session in sessions:
            with contextlib.suppress(Exception):
                media.run_sync(session.destroy(), 10)
        if args.create_room:
            with contextlib.suppress(Exception):
                media.run_sync(videoroom.destroy_room(handle, args.room), 10)
        with contextlib.suppress(Exception):
            media.run_sync(admin.destroy(), 10)
        with contextlib.suppress(Exception):
            media.run_sync(http.close(), 10)
        media.close()


# -- subscribers ------------------------------------------------------------------------------
@dataclass
class Stream:
    """One cheap subscriber: its peer connection and the receivers' counters."""

    pc: RTCPeerConnection
    handle: JanusHandle
    counting: list[Counting]


class Subscribers:
    """The cheap subscribers of one process (``bench.worker_loop.Streams``), sharing Janus
    sessions ``SUBSCRIBERS_PER_SESSION`` at a time."""

    def __init__(self, media: NamespaceLoop, args: argparse.Namespace) -> None:
        self.media = media
        self.args = args
        self.http: aiohttp.ClientSession = media.run_sync(_new_http())
        self.sessions: list[JanusSession] = []
        self.streams: list[Stream] = []
        self.made = 0

    def __len__(self) -> int:
        return len(self.streams)

    async def _session_for(self, index: int) -> JanusSession:
        while len(self.sessions) <= index // SUBSCRIBERS_PER_SESSION:
            self.sessions.append(await JanusSession.create(self.http, self.args.janus_url))
        return self.sessions[index // SUBSCRIBERS_PER_SESSION]

    async def add(self, count: int) -> tuple[int, str]:
        """Connect ``count`` more; returns how many failed and the first error."""
        gate = asyncio.Semaphore(worker_loop.CONNECT_CONCURRENCY)
        first = self.made
        self.made += count
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
        return len(failed), repr(failed[0])[:300] if failed else ""

    async def _connect(self, index: int) -> Stream:
        feeds = self.args.feeds
        session = self.sessions[index // SUBSCRIBERS_PER_SESSION]
        name = f"{self.args.label}-sub{index}"
        handle, offer = await videoroom.subscribe(
            session, self.args.room, name, feeds[index % len(feeds)], substream=self.args.substream
        )
        pc = new_peer_connection()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            counting = cheap.count_frames(pc, _ignore_frame)
            await pc.setLocalDescription(await pc.createAnswer())
            cheap.drain_sockets(pc)
            await videoroom.start(handle, pc.localDescription.sdp)
            await handle.wait_for("webrtcup", timeout_s=WEBRTC_UP_TIMEOUT_S)
        except BaseException:
            await pc.close()
            with contextlib.suppress(Exception):
                await handle.detach()
            raise
        return Stream(pc, handle, counting)

    async def remove_last(self, count: int) -> None:
        doomed = self.streams[len(self.streams) - count :] if count else []
        self.streams = self.streams[: len(self.streams) - len(doomed)]
        for stream in doomed:
            await stream.pc.close()
            with contextlib.suppress(Exception):
                await stream.handle.detach()

    def counters(self) -> dict[str, list[int]]:
        """Read on the media loop, the thread that writes them."""
        return self.media.run_sync(self._counters(), 60)

    async def _counters(self) -> dict[str, list[int]]:
        return worker_loop.stream_counters(s.counting for s in self.streams)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.media.run_sync(self.remove_last(len(self.streams)), 120)
        for session in self.sessions:
            with contextlib.suppress(Exception):
                self.media.run_sync(session.destroy(), 10)
        with contextlib.suppress(Exception):
            self.media.run_sync(self.http.close(), 10)


def _ignore_frame(kind: str, nbytes: int) -> None:
    """The counters keep the figures; nothing else is wanted per frame."""


def subscribe(args: argparse.Namespace) -> None:
    media = NamespaceLoop(args.netns, name="bench-subscribers")
    subs = Subscribers(media, args)
    try:
        worker_loop.serve_subscribers(worker_loop.Watched(args.label, media), subs)
    finally:
        subs.close()
        media.close()


def _parser() -> argparse.ArgumentParser:
    parser = worker_loop.worker_parser("python -m bench.generator_worker")
    parser.add_argument("--janus-url", required=True)
    parser.add_argument("--netns", required=True)
    parser.add_argument("--simulcast", action="store_true", help="publish: three layers by rid")
    parser.add_argument(
        "--substream", type=int, choices=[0, 1, 2], default=None, help="subscribe: this layer"
    )
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
