"""The generator processes' side of the bench's line protocol, one piece for both of them
(``bench.generator_worker`` on Janus, ``bench.server_worker`` on the other servers), so the two
cannot drift apart in what they read and what they answer.

The bench (``bench.workers.Worker``) starts a worker with the arguments of ``worker_parser`` and
drives it by JSON lines on stdin, each answered by one JSON line on stdout, the protocol the pion
baseline (``bench/pion/main.go``) speaks too, so one ramp (``bench.knee_search``) drives any of
them:

* a publishing worker says ``ready`` (its feed ids) once its publishers are up, then answers
  ``{"cmd": "snapshot"}`` only (``serve_publishers``);
* a subscribing worker says ``hello``, then answers ``{"cmd": "add", "count": n}``,
  ``{"cmd": "remove", "count": n}`` and ``{"cmd": "snapshot"}`` (``serve_subscribers``).

A snapshot carries the counters so far, this process's CPU seconds (all threads) and its
``GeneratorWatch`` verdict (loop lag p95, saturation) since the previous snapshot: two
snapshots make a window (``bench.ramp``). Any other command is answered with ``error``, which
the bench raises. The loop ends when the bench closes stdin.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from simulator.netns_loop import NamespaceLoop
from simulator.peers.cheap_receive import Counting
from simulator.watch import GeneratorWatch
from simulator.watch.process import process_cpu_s

CONNECT_CONCURRENCY = 6
"""How many subscribers one ``add`` connects at once, in either worker."""
WATCH_INTERVAL_S = 1.0
ADD_TIMEOUT_S = 600.0
REMOVE_TIMEOUT_S = 300.0


def worker_parser(prog: str) -> argparse.ArgumentParser:
    """The arguments every worker takes (what ``bench.workers`` and ``bench.publishers`` pass);
    each worker adds those of its server."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("role", choices=["publish", "subscribe"])
    parser.add_argument("--room", required=True)
    parser.add_argument("--clips", type=Path, default=None)
    parser.add_argument("--bitrate", type=int, default=1_000_000)
    parser.add_argument("--publishers", type=int, default=2)
    parser.add_argument("--create-room", action="store_true")
    parser.add_argument("--room-publishers", type=int, default=16)
    parser.add_argument("--feeds", type=lambda s: s.split(","), default=[])
    parser.add_argument("--label", default="w")
    return parser


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Watched:
    """A ``GeneratorWatch`` of the worker's media loop per window: each snapshot closes one and
    opens the next."""

    def __init__(self, label: str, media: NamespaceLoop) -> None:
        self.label = label
        self.media = media
        self.watch: GeneratorWatch | None = None

    def roll(self) -> dict[str, Any]:
        verdict: dict[str, Any] = {"lag_p95_ms": 0.0, "lag_max_ms": 0.0, "saturated": False}
        verdict["reasons"] = []
        if self.watch is not None:
            report = self.watch.stop()
            verdict = {
                "lag_p95_ms": report.loop_lag_p95_ms,
                "lag_max_ms": report.loop_lag_max_ms,
                "saturated": report.saturated,
                "reasons": report.reasons,
                "rss_mb": report.rss_max_kb // 1024,
            }
        self.watch = GeneratorWatch(
            f"bench-{self.label}", {"media": self.media.loop}, interval_s=WATCH_INTERVAL_S
        )
        self.watch.start()
        return verdict


def commands(lines: Iterable[str] | None = None) -> Iterator[dict[str, Any]]:
    """Each command line of stdin (or ``lines``), parsed; ends when the bench closes stdin."""
    for line in sys.stdin if lines is None else lines:
        if line.strip():
            yield json.loads(line)


def serve_publishers(
    watched: Watched,
    feeds: list[str],
    sent: Callable[[], dict[str, list[Any]]],
    lines: Iterable[str] | None = None,
) -> None:
    """Say ``ready`` with ``feeds``, then answer snapshots until stdin closes; ``sent()``: the
    publishers' own fields of a snapshot (``frames_sent``, ``connected``, one per publisher)."""
    emit("ready", feeds=feeds, pid=os.getpid())
    for command in commands(lines):
        if command.get("cmd") == "snapshot":
            emit("snapshot", at=time.monotonic(), cpu_s=process_cpu_s(), **sent(), **watched.roll())
        else:
            emit("error", error=f"publishers take snapshot only, not {command!r}")


class Streams(Protocol):
    """A subscribing worker's streams, whichever way they are signalled. ``add`` and
    ``remove_last`` run on the media loop; ``len`` is the streams held now."""

    def __len__(self) -> int: ...

    async def add(self, count: int) -> tuple[int, str]:
        """Connect ``count`` more (``CONNECT_CONCURRENCY`` at once); how many failed and the
        first error."""
        ...

    async def remove_last(self, count: int) -> None: ...

    def counters(self) -> dict[str, list[int]]:
        """The per-stream fields of a snapshot (``stream_counters``)."""
        ...


def serve_subscribers(
    watched: Watched, streams: Streams, lines: Iterable[str] | None = None
) -> None:
    """Say ``hello``, then answer add, remove and snapshot until stdin closes; ``add`` and
    ``remove_last`` run on ``watched``'s media loop."""
    media = watched.media
    emit("hello", pid=os.getpid())
    for command in commands(lines):
        cmd = command.get("cmd")
        if cmd == "add":
            failed, error = media.run_sync(streams.add(int(command["count"])), ADD_TIMEOUT_S)
            emit("added", streams=len(streams), failed=failed, error=error)
        elif cmd == "remove":
            media.run_sync(streams.remove_last(int(command["count"])), REMOVE_TIMEOUT_S)
            emit("removed", streams=len(streams))
        elif cmd == "snapshot":
            counters = streams.counters()
            cpu_s = process_cpu_s()
            emit("snapshot", at=time.monotonic(), cpu_s=cpu_s, **counters, **watched.roll())
        else:
            emit("error", error=f"unknown command {command!r}")


def stream_counters(streams: Iterable[Iterable[Counting]]) -> dict[str, list[int]]:
    """A subscriber snapshot's counters, one entry per stream (the countings of its receivers,
    ``cheap.count_frames``): packets expected and received on the media SSRCs (RTX excluded,
    an SSRC with no packet yet left out), payload bytes, video frames."""
    fields: dict[str, list[int]] = {"expected": [], "received": [], "bytes": [], "video_frames": []}
    for countings in streams:
        expected = received = payload = frames = 0
        for counting in countings:
            for counter in counting.counters.values():
                if counter.max_seq is None:
                    continue
                expected += counter.packets_expected
                received += counter.packets_received
                payload += counter.payload_bytes
                if counter.video:
                    frames += counter.frames
        fields["expected"].append(expected)
        fields["received"].append(received)
        fields["bytes"].append(payload)
        fields["video_frames"].append(frames)
    return fields
