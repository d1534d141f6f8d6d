"""Benchmark 6: the collector's journal under continuous churn, and its replay at start-up.

A fresh collector of the benchmark's own (``bench.collector_process``: journal on) is fed
Janus-shaped events (``bench.janus_feed``) for ``CHURN_S`` (10 minutes), as a busy server
would send them: ``LONG_ROOMS`` rooms stay open the whole time, while a short room (one
publisher, ``SUBSCRIBERS`` subscribers) opens every ``OPEN_EVERY_S`` and closes
``ROOM_LIFE_S`` later, so some session is always open; every open endpoint reports media
stats every second (32/3 per m-line, as Janus does). The journal's size is read every
``SAMPLE_EVERY_S``.

Then the collector is stopped and its replay of that journal is timed, twice: in this process,
the collector's own ``create_app`` on a copy of the journal (it replays before it returns; a
memory store: the replay alone, the figure judged), and a real collector process started on a
copy, from its start to its first ``/health`` answer, less the start-up of one with no journal
(after a first start that installed the index template, so both find it there; the difference
is in the detail).

Measured value: journal size at minute 10 / at minute 2 (target <= 2: a journal that holds only
the open sessions' inputs stays flat under churn); replay <= 2 s is a second target. Today's
journal is compacted only when no session is open, so under continuous churn it grows.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from bench.collector_process import BenchCollector, cpu_s, drop_scratch, es_client
from bench.common import BenchResult, Progress
from bench.janus_feed import Event, JanusFeed
from collector.app import COLLECTOR, create_app
from collector.clock import SystemClock
from collector.settings import CollectorSettings
from collector.store.memory import MemoryStore
from simulator.settings import Settings

INDEX = "rtcsim-bench-journal"
REPLAY_INDEX = "rtcsim-bench-replay"  # a name no pattern of INDEX's template matches
CHURN_S = 600.0
QUICK_CHURN_S = 90.0
LONG_ROOMS = 4
SUBSCRIBERS = 2
OPEN_EVERY_S = 3.0
ROOM_LIFE_S = 30.0
SAMPLE_EVERY_S = 10.0
EVENTS_PER_POST = 50
TARGET_GROWTH = 2.0
TARGET_REPLAY_S = 2.0
EARLY_S = 120.0
"""The size the growth is measured against: the journal at minute 2."""


@dataclass
class Room:
    name: str
    participants: list[str]
    closes_at: float | None


@dataclass
class Churn:
    """The rooms of the feed and the events each second brings."""

    feed: JanusFeed = field(default_factory=JanusFeed)
    rooms: list[Room] = field(default_factory=list)
    opened: int = 0
    closed: int = 0
    seconds: int = 0

    def open(self, at_ms: float, closes_at: float | None) -> list[Event]:
        name = f"bench-churn-{self.opened:05d}"
        self.opened += 1
        pub = f"{name}-pub"
        subs = [f"{name}-sub{i}" for i in range(SUBSCRIBERS)]
        events = self.feed.create_room(name, at_ms)
        events += self.feed.join(pub, name, at_ms + 10)
        events += self.feed.publish(pub, at_ms + 20)
        for i, sub in enumerate(subs):
            events += self.feed.join(sub, name, at_ms + 200 + i)
            events += self.feed.subscribe(sub, pub, at_ms + 300 + 60 * i)
        self.rooms.append(Room(name, [*subs, pub], closes_at))
        return events

    def tick(self, now_s: float, at_ms: float) -> list[Event]:
        """One second: rooms due close (subscribers first: the publisher is the last to leave),
        then every open endpoint's media stats."""
        events: list[Event] = []
        for room in [r for r in self.rooms if r.closes_at is not None and r.closes_at <= now_s]:
            for conn in room.participants:
                events += self.feed.leave(conn, at_ms)
            self.rooms.remove(room)
            self.closed += 1
        self.seconds += 1
        for conn in list(self.feed.participants):
            events += self.feed.media_stats(conn, at_ms + 500, self.seconds)
        return events


async def _post(
    http: aiohttp.ClientSession, collector: BenchCollector, events: list[Event]
) -> None:
    ep = collector.endpoints
    headers = {"Authorization": ep.events_auth, "Content-Type": "application/json"}
    for i in range(0, len(events), EVENTS_PER_POST):
        body = orjson.dumps(events[i : i + EVENTS_PER_POST])
        async with http.post(ep.events_url, data=body, headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"/events answered {response.status}: {await response.text()}")


def _journal_bytes(collector: BenchCollector) -> int:
    path = collector.state_dir / "journal.ndjson"
    return path.stat().st_size if path.exists() else 0


async def _churn(
    settings: Settings, churn_s: float, progress: Progress, keep: Path
) -> dict[str, Any]:
    churn = Churn()
    sizes: list[tuple[float, int]] = []
    with BenchCollector(settings, INDEX) as collector:
        async with aiohttp.ClientSession() as http:
            began = time.monotonic()
            cpu_began = (cpu_s(collector.pid), time.thread_time())
            wall_ms = time.time() * 1000
            for _ in range(LONG_ROOMS):
                await _post(http, collector, churn.open(wall_ms, None))
            next_open = next_sample = 0.0
            second = 0
            while (now := time.monotonic() - began) < churn_s:
                at_ms = wall_ms + 1000 * now
                events: list[Event] = []
                if now >= next_open:
                    events += churn.open(at_ms, now + ROOM_LIFE_S)
                    next_open += OPEN_EVERY_S
                events += churn.tick(now, at_ms)
                await _post(http, collector, events)
                if now >= next_sample:
                    sizes.append((round(now, 1), _journal_bytes(collector)))
                    next_sample += SAMPLE_EVERY_S
                    if len(sizes) % 6 == 1:
                        progress(
                            f"  {now:5.0f} s: journal {sizes[-1][1] / 1e6:.1f} MB, "
                            f"{len(churn.rooms)} rooms open, {churn.closed} closed"
                        )
                second += 1
                await asyncio.sleep(max(0.0, began + second - time.monotonic()))
            elapsed = time.monotonic() - began
            sizes.append((round(elapsed, 1), _journal_bytes(collector)))
            cores = {
                "collector": round((cpu_s(collector.pid) - cpu_began[0]) / elapsed, 3),
                "feeder": round((time.thread_time() - cpu_began[1]) / elapsed, 3),
            }
            async with http.get(f"{collector.endpoints.api_url}/stats") as response:
                stats: dict[str, Any] = await response.json()
            shutil.copy(collector.state_dir / "journal.ndjson", keep)
    return {"sizes": sizes, "rooms_opened": churn.opened, "rooms_closed": churn.closed,
            "journal_stats": stats.get("journal"), "events": stats.get("events"),
            "cores": cores}  # fmt: skip


def _start_s(settings: Settings, journal: Path | None) -> tuple[float, int]:
    """Seconds from the collector's start to its first ``/health`` answer, and the inputs it
    says it replayed."""
    collector = BenchCollector(settings, REPLAY_INDEX, journal=journal)
    began = time.monotonic()
    collector.start()
    took = time.monotonic() - began
    try:
        url = f"{collector.endpoints.api_url}/stats"
        with urllib.request.urlopen(url, timeout=10) as response:
            stats: dict[str, Any] = json.loads(response.read())
    finally:
        collector.stop()
    return took, int((stats.get("journal") or {}).get("replayed", 0))


def replay_in_process_s(journal: Path) -> tuple[float, int]:
    """The replay alone, timed in this process: the collector's own ``create_app`` (which
    replays the journal before it returns) on a copy of ``journal``, with a memory store."""
    folder = Path(tempfile.mkdtemp(prefix="rtcsim-replay-"))
    try:
        shutil.copy(journal, folder / "journal.ndjson")
        settings = CollectorSettings(state_dir=folder, spool_dir=folder / "spool")
        began = time.perf_counter()
        app = create_app(settings, MemoryStore(), SystemClock())
        took = time.perf_counter() - began
        journal_state = app[COLLECTOR].journal
        if journal_state is None:
            raise RuntimeError("the collector opened no journal")
        replayed = journal_state.stats().get("replayed", 0)
        journal_state.close()
        return took, int(replayed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def size_at(sizes: list[tuple[float, int]], at_s: float) -> int:
    """The journal's size at the first sample at or after ``at_s`` (the last one if none)."""
    for t, size in sizes:
        if t >= at_s:
            return size
    return sizes[-1][1]


async def _run(settings: Settings, progress: Progress, churn_s: float) -> BenchResult:
    es = await es_client(settings)
    folder = Path(tempfile.mkdtemp(prefix="rtcsim-journal-"))
    kept = folder / "journal.ndjson"
    try:
        await drop_scratch(es, INDEX, REPLAY_INDEX)
        progress(
            f"{churn_s / 60:.1f} min of churn: {LONG_ROOMS} rooms open throughout, a room of "
            f"{1 + SUBSCRIBERS} every {OPEN_EVERY_S:g} s for {ROOM_LIFE_S:g} s"
        )
        fed = await _churn(settings, churn_s, progress, kept)
        await asyncio.to_thread(_start_s, settings, None)  # installs the index template
        fresh_s, _ = await asyncio.to_thread(_start_s, settings, None)
        replay_start_s, replayed = await asyncio.to_thread(_start_s, settings, kept)
        if not replayed:
            raise RuntimeError(f"the collector replayed nothing of {kept}")
        replay_s, _ = await asyncio.to_thread(replay_in_process_s, kept)
    finally:
        await drop_scratch(es, INDEX, REPLAY_INDEX)
        await es.close()
    sizes = fed["sizes"]
    early_at = min(EARLY_S, churn_s / 5)
    early, last = size_at(sizes, early_at), sizes[-1][1]
    growth = last / early if early else 0.0
    journal_mb = kept.stat().st_size / 1e6
    shutil.rmtree(folder, ignore_errors=True)
    return BenchResult(
        number=6,
        name="collector journal under churn (end / minute 2) and replay",
        measured=round(growth, 2),
        target=TARGET_GROWTH,
        better="lower",
        unit="x",
        checks={f"replay <= {TARGET_REPLAY_S:g} s": replay_s <= TARGET_REPLAY_S},
        detail={
            "churn_s": churn_s,
            "journal_bytes_over_time": sizes,
            "journal_mb_early": round(early / 1e6, 2),
            "early_at_s": early_at,
            "journal_mb_end": round(last / 1e6, 2),
            "mb_per_min": round((last - early) / 1e6 / max(1e-9, (churn_s - early_at) / 60), 2),
            "replay_s": round(replay_s, 2),
            "replay_s_start_difference": round(max(0.0, replay_start_s - fresh_s), 2),
            "start_s_with_journal": round(replay_start_s, 2),
            "start_s_fresh": round(fresh_s, 2),
            "journal_mb_replayed": round(journal_mb, 2),
            "inputs_replayed": replayed,
            "rooms_opened": fed["rooms_opened"],
            "rooms_closed": fed["rooms_closed"],
            "journal_stats": fed["journal_stats"],
            "cores_while_churning": fed["cores"],
        },
        note=(
            f"journal {early / 1e6:.1f} MB at {early_at / 60:.0f} min, {last / 1e6:.1f} MB at "
            f"{churn_s / 60:.0f} min; replay of {journal_mb:.1f} MB at start-up {replay_s:.2f} s"
        ),
    )


def run(settings: Settings, progress: Progress, *, quick: bool = False) -> BenchResult:
    """Benchmark 6; ``quick``: 90 s of churn (growth then from 18 s to the end)."""
    return asyncio.run(_run(settings, progress, QUICK_CHURN_S if quick else CHURN_S))
