"""The publishing side of benchmarks 1 and 2: what the publishers send (``PublisherKind``), what
their processes and the subscribers of their feeds are told, and the processes themselves
(``Publishers``).

Publishers run in processes of their own (``PUBLISHER_PROCESSES`` x
``PUBLISHERS_PER_PROCESS``), so the measured processes only receive.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from bench.common import Progress
from bench.workers import Worker, worker_command
from simulator.settings import Settings

PUBLISHER_PROCESSES = 2
PUBLISHERS_PER_PROCESS = 2
BITRATE_BPS = 1_000_000


@dataclass(frozen=True)
class PublisherKind:
    """What the publishers of a benchmark 1 ramp send and what their subscribers ask for:
    ``publisher_args`` go to every publishing ``bench.generator_worker`` process,
    ``subscriber_args`` to every rtcsim receiving one. Benchmark 1 ramps rtcsim once per kind
    (pion on the first only) and reports streams per core for each."""

    name: str
    sends: str
    """What one publisher sends, for the progress lines."""
    receives: str
    """What each subscriber gets of one publisher."""
    publisher_args: tuple[str, ...] = ()
    subscriber_args: tuple[str, ...] = ()


SINGLE_LAYER = PublisherKind(
    "single layer",
    f"640x480@30 VP8 ~{BITRATE_BPS // 1000} kbit/s + Opus",
    "the video and the audio",
)
SIMULCAST_RECEIVED_SUBSTREAM = 2
"""Janus's index of the layer a simulcast kind's subscribers receive: the highest (640x480,
~500 kbit/s), which is also what Janus relays when a subscriber names none."""
SIMULCAST = PublisherKind(
    "simulcast",
    "simulcast 640x480 + 320x240 + 160x120 @30 VP8 (~500 + 170 + 50 kbit/s, rids h m l) + Opus",
    f"substream {SIMULCAST_RECEIVED_SUBSTREAM} (640x480 ~500 kbit/s, all temporal layers) "
    "and the audio",
    publisher_args=("--simulcast",),
    subscriber_args=("--substream", str(SIMULCAST_RECEIVED_SUBSTREAM)),
)
PUBLISHER_KINDS: tuple[PublisherKind, ...] = (SINGLE_LAYER, SIMULCAST)


def publisher_args(kind: PublisherKind, index: int, total: int) -> list[str]:
    """The arguments of the ``index``-th publishing process of ``kind``."""
    extra = ["--publishers", str(PUBLISHERS_PER_PROCESS), "--label", f"p{index}"]
    extra += ["--bitrate", str(BITRATE_BPS), "--room-publishers", str(total + 4)]
    if index == 0:
        extra.append("--create-room")
    return extra + list(kind.publisher_args)


def subscriber_args(kind: PublisherKind, feeds: Sequence[str], label: str) -> list[str]:
    """The arguments of an rtcsim receiving process on ``kind``'s publishers."""
    return ["--feeds", ",".join(feeds), "--label", label, *kind.subscriber_args]


class Publishers:
    """The publishing processes; the first creates the room."""

    def __init__(
        self,
        settings: Settings,
        progress: Progress,
        kind: PublisherKind = SINGLE_LAYER,
        server: str = "janus",
    ) -> None:
        self.server = server
        self.room = f"bench-gen-{secrets.token_hex(3)}"
        self.kind = kind
        total = PUBLISHER_PROCESSES * PUBLISHERS_PER_PROCESS
        progress(
            f"publishers ({kind.name}): {total} x {kind.sends}, in {PUBLISHER_PROCESSES} processes"
        )
        self.workers: list[Worker] = []
        self.feeds: list[str] = []
        try:
            for index in range(PUBLISHER_PROCESSES):
                extra = publisher_args(kind, index, total)
                worker = Worker(
                    f"publishers-{index}",
                    worker_command(settings, server, "publish", self.room, *extra),
                )
                self.workers.append(worker)
                self.feeds += worker.read("ready", 180)["feeds"]
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for worker in reversed(self.workers):  # the room's creator last: it destroys the room
            worker.stop()

    def __enter__(self) -> Publishers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
