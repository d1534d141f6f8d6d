"""Benchmark 1's generator process on a server other than Janus: ``python -m bench.server_worker
ROLE --server livekit ...``.

The same line protocol as ``bench.generator_worker`` (``ready``/``hello``, ``add``, ``remove``,
``snapshot``), answered by the same command loop (``bench.worker_loop``), so one ramp
(``bench.knee_search.ramp``) drives it; the same cheap media and the same receive path
(``cheap.count_frames`` then ``drain_sockets``: counted from RTP headers). What differs is the
signalling: each publisher and each subscriber is a ``simulator`` participant behind the
media-server protocol (``simulator.driver``), as in a scenario run, so on LiveKit a stream is
one participant (its WebSocket, its subscriber peer connection) receiving one publisher's video
and audio. Janus keeps ``bench.generator_worker``: its subscribers share Janus sessions, which
the protocol's one-session-per-participant cannot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

from bench import worker_loop
from simulator.driver.protocol import MediaServer, RoomOptions
from simulator.driver.servers import driver_for
from simulator.netns_loop import NamespaceLoop
from simulator.participant import Participant
from simulator.peers import cheap
from simulator.peers.cheap_receive import Counting
from simulator.peers.publishing import PublishOptions
from simulator.settings import Settings

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


def _countings(participant: Participant) -> list[Counting]:
    """The counters ``cheap.count_frames`` put on each receiver of the participant's peers."""
    countings = []
    for peer in participant.receivers.values():
        for transceiver in peer.pc.getTransceivers():
            counting = getattr(transceiver.receiver, "_rtcsim_counting", None)
            if counting is not None:
                countings.append(counting)
    return countings


class Crowd:
    """Participants of one room, made and closed through the server's protocol; a subscribing
    worker's (``bench.worker_loop.Streams``) receive ``feeds``, one each, round robin."""

    def __init__(
        self,
        server: MediaServer,
        room: str,
        label: str,
        clips: Path,
        bitrate_bps: int,
        feeds: list[str],
    ) -> None:
        self.server = server
        self.bitrate_bps = bitrate_bps
        self.room = room
        self.label = label
        self.clips = clips
        self.feeds = feeds
        self.people: list[Participant] = []
        self.made = 0

    def __len__(self) -> int:
        return len(self.people)

    async def _joined(self, name: str) -> Participant:
        person = Participant(self.server.participant(name, name), name, name, clips_dir=self.clips)
        await person.join(self.room)
        return person

    async def publisher(self, name: str) -> Participant:
        person = await self._joined(name)
        await person.publish(f"{name}_CAMERA_BENCH", _publish_options(self.bitrate_bps))
        self.people.append(person)
        return person

    async def add(self, count: int) -> tuple[int, str]:
        """``count`` more subscribers, each receiving one feed (round robin). Once a gate's
        worth have failed, the rest are not tried: past a limit each would only wait out its
        timeout (the 101st LiveKit join once did, on an aiohttp pool cap since removed)."""
        gate = asyncio.Semaphore(worker_loop.CONNECT_CONCURRENCY)
        first = self.made
        self.made += count
        failures = 0

        async def one(index: int) -> Participant:
            nonlocal failures
            async with gate:
                if failures >= worker_loop.CONNECT_CONCURRENCY:
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
                        await person.subscribe(self.feeds[index % len(self.feeds)], media="cheap")
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
        return worker_loop.stream_counters(_countings(p) for p in self.people)


def _publish(args: argparse.Namespace, media: NamespaceLoop, crowd: Crowd) -> None:
    if args.create_room:
        options = RoomOptions(publishers=args.room_publishers, bitrate_bps=args.bitrate)
        media.run_sync(crowd.server.create_room(args.room, options))
    feeds = [f"{args.room}-{args.label}-pub{i}" for i in range(args.publishers)]
    for feed in feeds:
        media.run_sync(crowd.publisher(feed), 120)

    def sent() -> dict[str, list[Any]]:
        publishers = [p.publisher for p in crowd.people]
        return {
            "frames_sent": [s.video.frames_sent if s and s.video else 0 for s in publishers],
            "connected": [
                s is not None and s.pc.connectionState == "connected" for s in publishers
            ],
        }

    worker_loop.serve_publishers(worker_loop.Watched(args.label, media), feeds, sent)


def _parser() -> argparse.ArgumentParser:
    parser = worker_loop.worker_parser("python -m bench.server_worker")
    parser.add_argument("--server", required=True)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = Settings()
    clips = args.clips or cheap.default_clips_dir()
    media = NamespaceLoop(settings.client_netns, name=f"bench-{args.role}")
    driver = driver_for(settings, server=args.server, admin_label=f"rtcsim:bench-{args.label}")
    server = media.run_sync(driver.connect(), 60)
    crowd = Crowd(server, args.room, args.label, clips, args.bitrate, args.feeds)
    try:
        if args.role == "publish":
            _publish(args, media, crowd)
        else:
            worker_loop.serve_subscribers(worker_loop.Watched(args.label, media), crowd)
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
