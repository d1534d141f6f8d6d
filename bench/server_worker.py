"""Benchmark 1's generator process on a server other than Janus: ``python -m bench.server_worker
ROLE --server livekit ...``.

The same line protocol as ``bench.generator_worker`` (``ready``/``hello``, ``add``, ``remove``,
``snapshot``), so one ramp (``bench.generator.ramp``) drives it; the same cheap media and the
same receive path (``cheap.count_frames`` then ``drain_sockets``: counted from RTP headers).
What differs is the signalling: each publisher and each subscriber is a ``simulator``
participant behind the media-server protocol (``simulator.driver``), as in a scenario run, so
on LiveKit a stream is one participant (its WebSocket, its subscriber peer connection)
receiving one publisher's video and audio. Janus keeps ``bench.generator_worker``: its
subscribers share Janus sessions, which the protocol's one-session-per-participant cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import time
from pathlib import Path
from typing import Any

from bench.generator_worker import CONNECT_CONCURRENCY, _commands, _Watched, emit
from simulator.driver.protocol import MediaServer, RoomOptions
from simulator.driver.servers import driver_for
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers import cheap
from simulator.peers.publishing import PublishOptions
from simulator.settings import Settings
from simulator.watch.process import process_cpu_s

CONNECT_TIMEOUT_S = 25.0
"""A subscriber that has not joined and subscribed by then counts as a failed connect."""


def _publish_options(bitrate_bps: int) -> PublishOptions:
    return PublishOptions(
        audio=True,
        video=True,
        width=640,
        height=480,
        fps=30,
        media="cheap",
        bitrate_bps=bitrate_bps,
    )


def _counted(participant: Participant) -> tuple[int, int, int, int]:
    """Packets expected and received on the media SSRCs, payload bytes, video frames: the
    counters ``cheap.count_frames`` put on each receiver of the participant's peers."""
    expected = received = payload = frames = 0
    for peer in participant.receivers.values():
        for transceiver in peer.pc.getTransceivers():
            counting = getattr(transceiver.receiver, "_rtcsim_counting", None)
            for counter in counting.counters.values() if counting is not None else ():
                if counter.max_seq is None:
                    continue
                expected += counter.packets_expected
                received += counter.packets_received
                payload += counter.payload_bytes
                if counter.video:
                    frames += counter.frames
    return expected, received, payload, frames


class Crowd:
    """Participants of one room, made and closed through the server's protocol."""

    def __init__(
        self, server: MediaServer, room: str, label: str, clips: Path, bitrate_bps: int
    ) -> None:
        self.server = server
        self.bitrate_bps = bitrate_bps
        self.room = room
        self.label = label
        self.clips = clips
        self.people: list[Participant] = []
        self.made = 0

    async def _joined(self, name: str) -> Participant:
        person = Participant(self.server.participant(name, name), name, name, clips_dir=self.clips)
        await person.join(self.room)
        return person

    async def publisher(self, name: str) -> Participant:
        person = await self._joined(name)
        await person.publish(f"{name}_CAMERA_BENCH", _publish_options(self.bitrate_bps))
        self.people.append(person)
        return person

    async def add(self, count: int, feeds: list[str]) -> tuple[int, str]:
        """``count`` more subscribers, each receiving one feed (round robin). Once a gate's
        worth have failed, the rest are not tried: past a limit each would only wait out its
        timeout (the 101st LiveKit join once did, on an aiohttp pool cap since removed)."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        first = self.made
        self.made += count
        failures = 0

        async def one(index: int) -> Participant:
            nonlocal failures
            async with gate:
                if failures >= CONNECT_CONCURRENCY:
                    raise RuntimeError(f"sub{index}: not tried after {failures} failed")
                name = f"{self.label}-sub{index}"
                person = Participant(
                    self.server.participant(name, name), name, name, clips_dir=self.clips
                )
                stage = "join"
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT_S):
                        await person.join(self.room)
                        stage = "subscribe"
                        await person.subscribe(feeds[index % len(feeds)], media="cheap")
                except BaseException as exc:
                    failures += 1
                    await self._let_go(person)
                    if isinstance(exc, TimeoutError):
                        raise TimeoutError(
                            f"sub{index}: no {stage} in {CONNECT_TIMEOUT_S:g} s"
                        ) from None
                    raise
                return person

        results = await asyncio.gather(
            *(one(i) for i in range(first, first + count)), return_exceptions=True
        )
        self.people += [r for r in results if isinstance(r, Participant)]
        failed = [r for r in results if not isinstance(r, Participant)]
        return len(failed), repr(failed[0])[:300] if failed else ""

    @staticmethod
    async def _let_go(person: Participant) -> None:
        """A failed subscriber's resources, within a bound: a close that hangs must not hold
        the connect gate (one did, and the whole ramp waited on it)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await person.close_quietly()

    async def remove_last(self, count: int) -> None:
        doomed = self.people[len(self.people) - count :] if count else []
        self.people = self.people[: len(self.people) - len(doomed)]
        for person in doomed:
            with contextlib.suppress(Exception):
                await person.leave()

    def counters(self) -> dict[str, list[int]]:
        totals = [_counted(p) for p in self.people]
        return {
            "expected": [t[0] for t in totals],
            "received": [t[1] for t in totals],
            "bytes": [t[2] for t in totals],
            "video_frames": [t[3] for t in totals],
        }


def _publish(args: argparse.Namespace, media: NamespaceLoop, crowd: Crowd) -> None:
    if args.create_room:
        options = RoomOptions(publishers=args.room_publishers, bitrate_bps=args.bitrate)
        media.run_sync(crowd.server.create_room(args.room, options))
    feeds = [f"{args.room}-{args.label}-pub{i}" for i in range(args.publishers)]
    for feed in feeds:
        media.run_sync(crowd.publisher(feed), 120)
    emit("ready", feeds=feeds, pid=os.getpid())
    watched = _Watched(args.label, media)
    for command in _commands():
        if command.get("cmd") == "snapshot":
            publishers = [p.publisher for p in crowd.people]
            emit(
                "snapshot",
                at=time.monotonic(),
                cpu_s=process_cpu_s(),
                frames_sent=[s.video.frames_sent if s and s.video else 0 for s in publishers],
                connected=[
                    s is not None and s.pc.connectionState == "connected" for s in publishers
                ],
                **watched.roll(),
            )
        else:
            emit("error", error=f"publishers take snapshot only, not {command!r}")


def _subscribe(args: argparse.Namespace, media: NamespaceLoop, crowd: Crowd) -> None:
    watched = _Watched(args.label, media)
    emit("hello", pid=os.getpid())
    for command in _commands():
        cmd = command.get("cmd")
        if cmd == "add":
            failed, error = media.run_sync(crowd.add(int(command["count"]), args.feeds), 600)
            emit("added", streams=len(crowd.people), failed=failed, error=error)
        elif cmd == "remove":
            media.run_sync(crowd.remove_last(int(command["count"])), 300)
            emit("removed", streams=len(crowd.people))
        elif cmd == "snapshot":
            counters: Any = crowd.counters()
            emit(
                "snapshot", at=time.monotonic(), cpu_s=process_cpu_s(), **counters, **watched.roll()
            )
        else:
            emit("error", error=f"unknown command {command!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server_worker")
    parser.add_argument("role", choices=["publish", "subscribe"])
    parser.add_argument("--server", required=True)
    parser.add_argument("--room", required=True)
    parser.add_argument("--clips", type=Path, default=None)
    parser.add_argument("--bitrate", type=int, default=1_000_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--create-room", action="store_true")
    parser.add_argument("--room-publishers", type=int, default=16)
    parser.add_argument("--feeds", type=lambda s: s.split(","), default=[])
    parser.add_argument("--label", default="w")
    args = parser.parse_args(argv)
    settings = Settings()
    clips = args.clips or cheap.default_clips_dir()
    media = NamespaceLoop(settings.client_netns, name=f"bench-{args.role}")
    driver = driver_for(settings, server=args.server, admin_label=f"rtcsim:bench-{args.label}")
    server = media.run_sync(driver.connect(), 60)
    crowd = Crowd(server, args.room, args.label, clips, args.bitrate)
    try:
        (_publish if args.role == "publish" else _subscribe)(args, media, crowd)
    finally:
        with contextlib.suppress(Exception):
            media.run_sync(crowd.remove_last(len(crowd.people)), 300)
        if args.create_room:
            with contextlib.suppress(Exception):
                media.run_sync(server.destroy_room(args.room), 30)
        with contextlib.suppress(Exception):
            media.run_sync(server.close(), 30)
        media.close()


if __name__ == "__main__":
    main()
