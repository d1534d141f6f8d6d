"""Benchmark 5: the collector's resident memory with 10,000 active endpoints, and how it grows.

A fresh collector of the benchmark's own (``bench.collector_process``: journal and spool on,
webrtcStats every 5 s so that periodic documents are part of the state) is fed Janus-shaped
events for 1,000 rooms of one publisher and nine subscribers, a quarter at a time (2,500
endpoints). After each step every open endpoint reports one more second of media stats (32/3
per m-line, as Janus does), and the collector's RSS (``VmRSS``) is read once it has answered
everything: at 0, 2,500, 5,000, 7,500 and 10,000 endpoints. Then every participant leaves, the
collector writes the summaries, and RSS is read once more.

Measured value: RSS at 10,000 endpoints (target < 500 MB). The growth per endpoint is the slope
from the first step to the last (the first step also pays for imports warming up and the first
bulk). ``--quick``: 1,000 endpoints.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson

from bench.collector_ingest import POLL_S
from bench.collector_process import BenchCollector, drop_scratch, es_client, rss_mb
from bench.common import BenchResult, Progress
from bench.janus_feed import Event, JanusFeed
from simulator.settings import Settings

INDEX = "rtcsim-bench-memory"
ROOMS = 1000
SUBSCRIBERS = 9
STEPS = 4
TARGET_MB = 500.0
EVENTS_PER_POST = 100
STATS_INTERVAL_S = 5.0
SETTLE_S = 0.5
DRAIN_TIMEOUT_S = 120.0


class _Feeder:
    def __init__(self, http: aiohttp.ClientSession, collector: BenchCollector) -> None:
        self.http = http
        self.collector = collector
        self.feed = JanusFeed()
        self.now_ms = time.time() * 1000
        self.media_s = 0
        self.posted = 0

    async def post(self, events: list[Event]) -> None:
        ep = self.collector.endpoints
        headers = {"Authorization": ep.events_auth, "Content-Type": "application/json"}
        for i in range(0, len(events), EVENTS_PER_POST):
            body = orjson.dumps(events[i : i + EVENTS_PER_POST])
            async with self.http.post(ep.events_url, data=body, headers=headers) as response:
                if response.status != 200:
                    raise RuntimeError(
                        f"/events answered {response.status}: {await response.text()}"
                    )
        self.posted += len(events)

    def open_rooms(self, first: int, count: int) -> list[Event]:
        events: list[Event] = []
        for r in range(first, first + count):
            t = self.now_ms + r
            room = f"bench-mem-{r:04d}"
            pub = f"{room}-pub"
            events += self.feed.create_room(room, t)
            events += self.feed.join(pub, room, t + 10)
            events += self.feed.publish(pub, t + 20)
            for i in range(SUBSCRIBERS):
                sub = f"{room}-sub{i}"
                events += self.feed.join(sub, room, t + 200 + i)
                events += self.feed.subscribe(sub, pub, t + 300 + 60 * i)
        return events

    def stats_tick(self) -> list[Event]:
        self.media_s += 1
        at = self.now_ms + 1000 * self.media_s
        events: list[Event] = []
        for conn in list(self.feed.participants):
            events += self.feed.media_stats(conn, at, self.media_s)
        return events

    def leave_all(self) -> list[Event]:
        at = self.now_ms + 1000 * (self.media_s + 1)
        events: list[Event] = []
        # subscribers first, the publisher last: the room closes as lastParticipantLeft
        for conn in sorted(self.feed.participants, key=lambda c: c.endswith("-pub")):
            events += self.feed.leave(conn, at)
        return events


async def _stats(http: aiohttp.ClientSession, api_url: str) -> dict[str, Any]:
    async with http.get(f"{api_url}/stats") as response:
        stats: dict[str, Any] = await response.json()
    return stats


async def _drained(http: aiohttp.ClientSession, api_url: str) -> int:
    """Wait until the collector has written every document it made; returns how many."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        docs = (await _stats(http, api_url))["documents"]
        submitted = int(sum(docs["submitted"].values()))
        if docs["pending"] == 0 and docs["written"] + docs["write_errors"] >= submitted:
            return submitted
        await asyncio.sleep(POLL_S)
    raise RuntimeError(f"the collector did not write its documents within {DRAIN_TIMEOUT_S:g} s")


async def _run(settings: Settings, progress: Progress, rooms: int) -> BenchResult:
    per_step = rooms // STEPS
    samples: dict[int, float] = {}
    es = await es_client(settings)
    await drop_scratch(es, INDEX)
    try:
        with BenchCollector(settings, INDEX, webrtc_stats_interval_s=STATS_INTERVAL_S) as collector:
            api = collector.endpoints.api_url
            async with aiohttp.ClientSession() as http:
                feeder = _Feeder(http, collector)
                await asyncio.sleep(SETTLE_S)
                samples[0] = rss_mb(collector.pid)
                progress(f"fresh collector (pid {collector.pid}): {samples[0]:.1f} MB")
                for step in range(STEPS):
                    await feeder.post(feeder.open_rooms(step * per_step, per_step))
                    await feeder.post(feeder.stats_tick())
                    await _drained(http, api)
                    await asyncio.sleep(SETTLE_S)
                    endpoints = (step + 1) * per_step * (1 + SUBSCRIBERS)
                    samples[endpoints] = rss_mb(collector.pid)
                    progress(f"{endpoints} active endpoints: {samples[endpoints]:.1f} MB")
                for _ in range(2):
                    await feeder.post(feeder.stats_tick())
                await asyncio.sleep(STATS_INTERVAL_S)  # one periodic webrtcStats round
                await _drained(http, api)
                steady = rss_mb(collector.pid)
                stats = await _stats(http, api)
                open_before = len(feeder.feed.participants)
                await feeder.post(feeder.leave_all())
                written = await _drained(http, api)
                await asyncio.sleep(SETTLE_S)
                after = rss_mb(collector.pid)
                health = await _stats(http, api)
                progress(
                    f"after {open_before} participants left: {after:.1f} MB "
                    f"({written} documents written in all)"
                )
    finally:
        await drop_scratch(es, INDEX)
        await es.close()
    top = max(samples)
    first = per_step * (1 + SUBSCRIBERS)
    per_endpoint_kb = (samples[top] - samples[first]) * 1024 / (top - first)
    rejected = stats["events"]["rejected"] or health["events"]["rejected"]
    if rejected:
        raise RuntimeError(f"the collector rejected events: {rejected}")
    return BenchResult(
        number=5,
        name=f"collector RSS with {top:,} active endpoints",
        measured=round(samples[top], 1),
        target=TARGET_MB,
        better="lower",
        unit="MB",
        detail={
            "rss_mb_by_endpoints": {str(k): round(v, 1) for k, v in sorted(samples.items())},
            "rss_mb_steady_top": round(steady, 1),
            "endpoints": top,
            "rss_mb_after_leave": round(after, 1),
            "kb_per_endpoint": round(per_endpoint_kb, 1),
            "janus_events": feeder.posted,
            "documents_written": written,
        },
        note=(
            f"0 → {samples[0]:.0f} MB, {top} → {samples[top]:.0f} MB "
            f"({per_endpoint_kb:.0f} KB/endpoint); {after:.0f} MB after everyone left"
        ),
    )


def run(settings: Settings, progress: Progress, *, quick: bool = False) -> BenchResult:
    """Benchmark 5; ``quick``: 1,000 endpoints instead of 10,000."""
    return asyncio.run(_run(settings, progress, rooms=ROOMS // 10 if quick else ROOMS))
