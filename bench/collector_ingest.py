"""Benchmark 3: the collector's ingest rate at steady state against a raw ``_bulk`` of the same
documents.

Side by side in one run, into the same Elasticsearch:

1. **collector**: a fresh collector (``bench.collector_process``, journal and spool on, as the
   stack's) is fed for ``FEED_S`` (60 s) through its real routes, as fast as it takes them:
   ``EVENT_SENDERS`` concurrent senders of Janus-shaped event batches on ``POST /events``
   (basic auth; Janus's event handler posts several at once under load, each room's events in
   order on one of them) and ``STATS_SENDERS`` senders of client-stats samples on
   ``POST /client-stats`` (bearer token, as the simulator's participants send them), for rooms
   of one publisher and four subscribers that join, publish, subscribe, report stats and
   leave, made as the feed goes (250,000+ documents). Its rate is read from the collector's
   own count of documents written (``GET /stats``, every second) over the steady window: from
   ``WARM_UP_S`` into the feed to its end. The feed goes on past 60 s until the collector has
   made ``MIN_DOCUMENTS`` (250,000). Every document must then become searchable.
2. **raw**: the very documents it wrote (same ``_id``s and bodies, read back) sent with
   ``client.bulk`` in batches of the collector's ``bulk_max_docs``, one request at a time,
   into a scratch index of the same template; its rate is the acknowledged documents over the
   same share of its run.

The ratio is collector docs/s over raw docs/s (target >= 0.9). While the feed runs, ``py-spy``
samples the collector for ``PROFILE_S`` seconds (``bench.profile``): where its CPU goes, by
function and by package, is in the detail. Both indexes and the template are deleted after.

Fairness: the feeder posts through ``bench.http_post`` (requests prepared beforehand, one
keep-alive connection per sender, each post waiting for its answer), not aiohttp's client, whose
0.25 ms of CPU per request competed with the collector for the machine's two cores. The detail
keeps the CPU seconds of each party: collector, feeder, raw client, and Elasticsearch on each side
(when rtcsim started it), so a ratio can be told apart from a busy machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_scan

from bench.collector_process import (
    BenchCollector,
    count,
    cpu_s,
    drop_scratch,
    es_client,
    runqueue_wait_s,
)
from bench.common import BenchResult, Progress
from bench.http_post import HttpPoster
from bench.janus_feed import Event, JanusFeed
from bench.profile import profile_process
from rtcsim.services.elasticsearch import EsPaths
from rtcsim.services.process import read_pid
from simulator.settings import Settings

INDEX = "rtcsim-bench-ingest"
RAW_INDEX = f"{INDEX}-raw"
POLL_S = 0.05
SETTLE_TIMEOUT_S = 120.0
EVENTS_PER_POST = 50
"""Janus's event handler groups what accumulated; 50 is a busy server's typical array."""
BULK_DOCS = 500
"""The collector's ``bulk_max_docs`` default, so both sides send requests of one size."""
EVENT_SENDERS = 4
STATS_SENDERS = 8
FEED_S = 60.0
MIN_DOCUMENTS = 250_000
"""The feed goes on past ``FEED_S`` until the collector has made this many documents..."""
MAX_FEED_S = 150.0
"""...but not past this (a collector that slow is reported as it is)."""
WARM_UP_S = 10.0
ROOMS_PER_CHUNK = 10
PROFILE_S = 20.0
_FIRST_IDS = itertools.count(7_000_000_000, 10_000_000)
"""Each workload's first Janus session/handle id: Janus never reuses an id, and chunks built by
concurrent senders that did would put one chunk's events in another's Janus session (the
collector, and its journal's index, key a participant by them)."""


@dataclass(frozen=True)
class Workload:
    """What to send: Janus event batches (in order) and client-stats posts, pre-serialized."""

    event_posts: list[bytes]
    stats_posts: list[bytes]
    events: int
    samples: int


def build_workload(
    rooms: int, subscribers: int, ticks: int, start_ms: float, prefix: str = "bench"
) -> Workload:
    """Rooms of one publisher and ``subscribers`` subscribers, ``ticks`` seconds of stats each."""
    feed = JanusFeed(first_id=next(_FIRST_IDS))
    events: list[Event] = []
    samples: list[list[dict[str, Any]]] = []
    t = start_ms
    for r in range(rooms):
        room = f"{prefix}-{r:04d}"
        pub = f"{room}-pub"
        subs = [f"{room}-sub{i}" for i in range(subscribers)]
        events += feed.create_room(room, t)
        events += feed.join(pub, room, t + 10)
        events += feed.publish(pub, t + 20)
        stream = f"{pub}_CAMERA_BENCH"
        for i, sub in enumerate(subs):
            events += feed.join(sub, room, t + 200 + i)
            events += feed.subscribe(sub, pub, t + 300 + 60 * i)
        for tick in range(1, ticks + 1):
            at = t + 1000 * tick
            for who in (pub, *subs):
                events += feed.media_stats(who, at, tick)
                endpoint = stream if who == pub else f"{who}_{stream}"
                side = "Sent" if who == pub else "Received"
                samples.append(
                    [
                        {
                            "connectionId": who,
                            "sessionId": room,
                            "endpoint": endpoint,
                            "mediaType": media,
                            "timestamp": int(at) + k,
                            f"packets{side}": 50 * tick,
                            f"bytes{side}": 50_000 * tick,
                            "jitter": 0.002,
                        }
                        for k, media in enumerate(("audio", "video"))
                    ]
                )
        for who in (*subs, pub):
            events += feed.leave(who, t + 1000 * (ticks + 1))
        t += 1000 * (ticks + 2)
    event_posts = [
        orjson.dumps(events[i : i + EVENTS_PER_POST])
        for i in range(0, len(events), EVENTS_PER_POST)
    ]
    return Workload(
        event_posts=event_posts,
        stats_posts=[orjson.dumps(s) for s in samples],
        events=len(events),
        samples=sum(len(s) for s in samples),
    )


async def _post_all(url: str, auth: str, bodies: list[bytes]) -> None:
    """One sender: each post waits for its answer before the next (``bench.http_post``)."""
    async with HttpPoster(url) as poster:
        requests = [poster.request(auth, body) for body in bodies]
        for request in requests:
            await poster.post(request)


@dataclass
class FeedTally:
    events: int = 0
    samples: int = 0
    event_posts: int = 0
    stats_posts: int = 0
    rooms: int = 0


@dataclass
class Deadline:
    """When the feed stops: ``FEED_S`` passed and ``MIN_DOCUMENTS`` made, or ``MAX_FEED_S``."""

    began: float
    feed_s: float
    min_documents: int
    submitted: int = 0

    def passed(self) -> bool:
        elapsed = time.perf_counter() - self.began
        return elapsed >= MAX_FEED_S or (
            elapsed >= self.feed_s and self.submitted >= self.min_documents
        )


async def _feed_until(deadline: Deadline, endpoints: Any, sender: int, tally: FeedTally) -> None:
    """Sender ``sender``: rooms of its own, ``ROOMS_PER_CHUNK`` at a time, until ``deadline``:
    their Janus events in order on one connection, their client stats on ``STATS_SENDERS /
    EVENT_SENDERS`` others."""
    stats_url = f"{endpoints.api_url}/client-stats"
    share = max(1, STATS_SENDERS // EVENT_SENDERS)
    chunk = 0
    async with HttpPoster(endpoints.events_url) as events:
        stats = [HttpPoster(stats_url) for _ in range(share)]
        for poster in stats:
            await poster.__aenter__()
        try:
            while not deadline.passed():
                work = build_workload(
                    ROOMS_PER_CHUNK, 4, 5, time.time() * 1000, prefix=f"bench-{sender}-{chunk}"
                )
                chunk += 1

                async def post_events(work: Workload = work) -> None:
                    for body in work.event_posts:
                        await events.post(events.request(endpoints.events_auth, body))

                async def post_stats(poster: HttpPoster, bodies: list[bytes]) -> None:
                    for body in bodies:
                        await poster.post(poster.request(endpoints.token_auth, body))

                await asyncio.gather(
                    post_events(),
                    *(post_stats(p, work.stats_posts[k::share]) for k, p in enumerate(stats)),
                )
                tally.events += work.events
                tally.samples += work.samples
                tally.event_posts += len(work.event_posts)
                tally.stats_posts += len(work.stats_posts)
                tally.rooms += ROOMS_PER_CHUNK
        finally:
            for poster in stats:
                await poster.__aexit__(None, None, None)


async def _written(http: aiohttp.ClientSession, api_url: str) -> int:
    async with http.get(f"{api_url}/stats") as response:
        stats: dict[str, Any] = await response.json()
    return int(stats["documents"]["written"])


def steady_rate(samples: list[tuple[float, int]], start_s: float, end_s: float) -> float:
    """Documents per second between the first sample at or after ``start_s`` and the last at
    or before ``end_s`` (seconds since the feed began)."""
    window = [(t, n) for t, n in samples if start_s <= t <= end_s]
    if len(window) < 2 or window[-1][0] <= window[0][0]:
        return 0.0
    return (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0])


async def _submitted(http: aiohttp.ClientSession, api_url: str) -> int:
    async with http.get(f"{api_url}/stats") as response:
        stats: dict[str, Any] = await response.json()
    return sum(stats["documents"]["submitted"].values())


async def wait_searchable(
    es: AsyncElasticsearch, index: str, expected: int, timeout_s: float = SETTLE_TIMEOUT_S
) -> int:
    """Poll until ``expected`` documents are searchable; the count reached (may fall short)."""
    deadline = time.monotonic() + timeout_s
    seen = -1
    while time.monotonic() < deadline:
        seen = await count(es, index)
        if seen >= expected:
            return seen
        await asyncio.sleep(POLL_S)
    return seen


def elasticsearch_pid(settings: Settings) -> int | None:
    """The pid of the Elasticsearch rtcsim started (None for one it only reuses)."""
    pid = read_pid(EsPaths.from_settings(settings).pid_file)
    return pid if pid is not None and Path(f"/proc/{pid}").exists() else None


def _cpu_or_zero(pid: int | None) -> float:
    return cpu_s(pid) if pid is not None else 0.0


async def _collector_side(
    settings: Settings,
    es: AsyncElasticsearch,
    feed_s: float,
    progress: Progress,
    min_documents: int = MIN_DOCUMENTS,
) -> dict[str, Any]:
    es_pid = elasticsearch_pid(settings)
    with BenchCollector(settings, INDEX) as collector:
        ep = collector.endpoints
        tally = FeedTally()
        samples: list[tuple[float, int]] = []
        async with aiohttp.ClientSession() as http:
            progress(
                f"collector: fed for {feed_s:.0f} s (and {min_documents} documents) by "
                f"{EVENT_SENDERS} Janus event senders and {STATS_SENDERS} client-stats senders"
            )
            began = time.perf_counter()
            cpu_before = cpu_s(collector.pid)
            wait_before = runqueue_wait_s(collector.pid)
            es_before = _cpu_or_zero(es_pid)
            feeder_before = time.process_time()
            deadline = Deadline(began, feed_s, min_documents)
            done = asyncio.Event()

            async def sample() -> None:
                while not done.is_set():
                    samples.append((time.perf_counter() - began, await _written(http, ep.api_url)))
                    deadline.submitted = await _submitted(http, ep.api_url)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(done.wait(), 1.0)

            profile = profile_process(
                collector.pid, start_after_s=min(WARM_UP_S, feed_s / 3), seconds=PROFILE_S
            )
            sampler = asyncio.create_task(sample())
            await asyncio.gather(
                *(_feed_until(deadline, ep, k, tally) for k in range(EVENT_SENDERS))
            )
            fed_s = time.perf_counter() - began
            samples.append((fed_s, await _written(http, ep.api_url)))
            done.set()
            await sampler
            feeder_cpu = time.process_time() - feeder_before
            expected = await _submitted(http, ep.api_url)
            progress(
                f"collector: fed {tally.rooms} rooms in {fed_s:.1f} s, {expected} documents "
                "submitted"
            )
            reached = await wait_searchable(es, INDEX, expected)
            elapsed = time.perf_counter() - began
            cpu_used = cpu_s(collector.pid) - cpu_before
            cpu_wait = runqueue_wait_s(collector.pid) - wait_before
            es_used = _cpu_or_zero(es_pid) - es_before
            profiled = await profile
    if reached != expected:
        raise RuntimeError(f"collector: {reached} of {expected} documents became searchable")
    warm = min(WARM_UP_S, feed_s / 3)
    rate = steady_rate(samples, warm, fed_s)
    return {
        "documents": expected,
        "seconds": round(elapsed, 3),
        "fed_seconds": round(fed_s, 3),
        "steady_window_s": [round(warm, 1), round(fed_s, 1)],
        "docs_per_s": round(rate, 1),
        "docs_per_s_end_to_end": round(expected / elapsed, 1),
        "janus_events": tally.events,
        "client_stats_samples": tally.samples,
        "event_posts": tally.event_posts,
        "stats_posts": tally.stats_posts,
        "rooms": tally.rooms,
        "collector_cpu_s": round(cpu_used, 2),
        "collector_cores": round(cpu_used / elapsed, 3),
        "collector_runqueue_wait_s": round(cpu_wait, 2),
        "feeder_cpu_s": round(feeder_cpu, 2),
        "elasticsearch_cpu_s": round(es_used, 2),
        "written_over_time": [(round(t, 1), n) for t, n in samples],
        "profile": profiled,
    }


async def read_back(es: AsyncElasticsearch, index: str) -> list[tuple[str, dict[str, Any]]]:
    """Every document of ``index`` as ``(_id, body)``, oldest first (as they were produced)."""
    docs: list[tuple[int, str, dict[str, Any]]] = []
    async for hit in async_scan(es, index=index, query={"query": {"match_all": {}}}, size=5000):
        source: dict[str, Any] = hit["_source"]
        docs.append((int(source.get("timestamp", 0)), hit["_id"], source))
    docs.sort(key=lambda d: (d[0], d[1]))
    return [(doc_id, body) for _, doc_id, body in docs]


async def _raw_side(
    es: AsyncElasticsearch,
    docs: list[tuple[str, dict[str, Any]]],
    progress: Progress,
    es_pid: int | None = None,
) -> dict[str, Any]:
    progress(f"raw _bulk: {len(docs)} documents in batches of {BULK_DOCS}")
    began = time.perf_counter()
    es_before = _cpu_or_zero(es_pid)
    client_before = time.process_time()
    acked: list[tuple[float, int]] = [(0.0, 0)]
    for i in range(0, len(docs), BULK_DOCS):
        operations: list[dict[str, Any]] = []
        for doc_id, body in docs[i : i + BULK_DOCS]:
            operations.append({"index": {"_index": RAW_INDEX, "_id": doc_id}})
            operations.append(body)
        response = await es.bulk(operations=operations)
        if response.get("errors"):
            raise RuntimeError(f"raw _bulk refused documents: {str(response)[:300]}")
        acked.append((time.perf_counter() - began, min(len(docs), i + BULK_DOCS)))
    sent_s = time.perf_counter() - began
    reached = await wait_searchable(es, RAW_INDEX, len(docs))
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_before
    es_used = _cpu_or_zero(es_pid) - es_before
    if reached != len(docs):
        raise RuntimeError(f"raw: {reached} of {len(docs)} documents became searchable")
    warm = sent_s * WARM_UP_S / FEED_S  # the same share of the run as the collector's
    return {
        "documents": len(docs),
        "seconds": round(elapsed, 3),
        "sent_seconds": round(sent_s, 3),
        "steady_window_s": [round(warm, 1), round(sent_s, 1)],
        "client_cpu_s": round(client_cpu, 2),
        "elasticsearch_cpu_s": round(es_used, 2),
        "docs_per_s": round(steady_rate(acked, warm, sent_s), 1),
        "docs_per_s_end_to_end": round(len(docs) / elapsed, 1),
    }


async def _run(settings: Settings, progress: Progress, feed_s: float) -> BenchResult:
    es = await es_client(settings)
    try:
        await drop_scratch(es, INDEX, RAW_INDEX)
        minimum = MIN_DOCUMENTS if feed_s >= FEED_S else 0
        collector = await _collector_side(settings, es, feed_s, progress, minimum)
        progress(
            f"collector: {collector['documents']} documents, {collector['docs_per_s']:.0f} "
            f"docs/s over the steady window"
        )
        docs = await read_back(es, INDEX)
        raw = await _raw_side(es, docs, progress, elasticsearch_pid(settings))
        progress(
            f"raw _bulk: {raw['documents']} documents, {raw['docs_per_s']:.0f} docs/s over "
            "the steady window"
        )
    finally:
        await drop_scratch(es, INDEX, RAW_INDEX)
        await es.close()
    ratio = collector["docs_per_s"] / raw["docs_per_s"] if raw["docs_per_s"] else 0.0
    profile = collector.get("profile") or {}
    return BenchResult(
        number=3,
        name="collector ingest vs raw _bulk, steady state",
        measured=round(ratio, 3),
        target=0.9,
        better="higher",
        unit="x",
        detail={
            "collector_docs_per_s": collector["docs_per_s"],
            "raw_docs_per_s": raw["docs_per_s"],
            "documents": collector["documents"],
            "janus_events": collector["janus_events"],
            "client_stats_samples": collector["client_stats_samples"],
            "collector": collector,
            "raw": raw,
        },
        note=(
            f"{collector['documents']} documents fed for {collector['fed_seconds']:.0f} s: "
            f"collector {collector['docs_per_s']:.0f}/s at {collector['collector_cores']} core "
            f"(waited {collector['collector_runqueue_wait_s']:.0f} s for one) "
            f"vs raw _bulk {raw['docs_per_s']:.0f}/s; collector CPU by package: "
            + ", ".join(f"{k} {v}%" for k, v in list(profile.get("by_package", {}).items())[:5])
        ),
    )


def run(settings: Settings, progress: Progress, *, quick: bool = False) -> BenchResult:
    """Benchmark 3; ``quick`` feeds for 15 s instead of 60."""
    return asyncio.run(_run(settings, progress, feed_s=15.0 if quick else FEED_S))
