"""Benchmark 3: the collector's ingest rate against a raw ``_bulk`` of the same documents.

Side by side in one run, into the same Elasticsearch:

1. **collector**: a fresh collector (``bench.collector_process``, journal and spool on, as the
   stack's) gets a recorded-looking workload through its real routes: Janus-shaped event
   batches on ``POST /events`` (basic auth, one sender, in order, as Janus's event handler
   posts them) and client-stats samples on ``POST /client-stats`` (bearer token, 8 concurrent
   senders, as the simulator's participants send them) for rooms of one publisher and some
   subscribers that join, publish, subscribe, report stats and leave. Timed from the first
   request to the moment every document it produced is searchable (refresh + ``_count``
   every 50 ms).
2. **raw**: the very documents it wrote (same ``_id``s and bodies, read back) sent with
   ``client.bulk`` in batches of the collector's ``bulk_max_docs``, one request at a time,
   into a scratch index of the same template; timed the same way.

The ratio is collector docs/s over raw docs/s (target >= 0.9). Both indexes and the template
are deleted afterwards.

Fairness: the feeder posts through ``bench.http_post`` (requests prepared beforehand, one
keep-alive connection per sender, each post waiting for its answer), not aiohttp's client, whose
0.25 ms of CPU per request competed with the collector for the machine's two cores. The detail
keeps the CPU seconds of each party: collector, feeder, raw client, and Elasticsearch on each side
(when rtcsim started it), so a ratio can be told apart from a busy machine.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_scan

from bench.collector_process import BenchCollector, count, cpu_s, drop_scratch, es_client
from bench.common import BenchResult, Progress
from bench.http_post import HttpPoster
from bench.janus_feed import Event, JanusFeed
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
STATS_SENDERS = 8
"""Client stats come from many participants at once; Janus's events from one sender, in order."""
"""The collector's ``bulk_max_docs`` default, so both sides send requests of one size."""


@dataclass(frozen=True)
class Workload:
    """What to send: Janus event batches (in order) and client-stats posts, pre-serialized."""

    event_posts: list[bytes]
    stats_posts: list[bytes]
    events: int
    samples: int


def build_workload(rooms: int, subscribers: int, ticks: int, start_ms: float) -> Workload:
    """Rooms of one publisher and ``subscribers`` subscribers, ``ticks`` seconds of stats each."""
    feed = JanusFeed()
    events: list[Event] = []
    samples: list[list[dict[str, Any]]] = []
    t = start_ms
    for r in range(rooms):
        room = f"bench-{r:04d}"
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
    settings: Settings, es: AsyncElasticsearch, work: Workload, progress: Progress
) -> dict[str, Any]:
    es_pid = elasticsearch_pid(settings)
    with BenchCollector(settings, INDEX) as collector:
        ep = collector.endpoints
        async with aiohttp.ClientSession() as http:
            progress(
                f"collector: {len(work.event_posts)} event posts ({work.events} events), "
                f"{len(work.stats_posts)} client-stats posts ({work.samples} samples)"
            )
            began = time.perf_counter()
            cpu_before = cpu_s(collector.pid)
            es_before = _cpu_or_zero(es_pid)
            feeder_before = time.process_time()
            stats_url = f"{ep.api_url}/client-stats"
            await asyncio.gather(
                _post_all(ep.events_url, ep.events_auth, work.event_posts),
                *(
                    _post_all(stats_url, ep.token_auth, work.stats_posts[k::STATS_SENDERS])
                    for k in range(STATS_SENDERS)
                ),
            )
            fed_s = time.perf_counter() - began
            feeder_cpu = time.process_time() - feeder_before
            expected = await _submitted(http, ep.api_url)
            progress(f"collector: fed in {fed_s:.1f} s, {expected} documents submitted")
            reached = await wait_searchable(es, INDEX, expected)
            elapsed = time.perf_counter() - began
            cpu_used = cpu_s(collector.pid) - cpu_before
            es_used = _cpu_or_zero(es_pid) - es_before
    if reached != expected:
        raise RuntimeError(f"collector: {reached} of {expected} documents became searchable")
    return {
        "documents": expected,
        "seconds": round(elapsed, 3),
        "fed_seconds": round(fed_s, 3),
        "collector_cpu_s": round(cpu_used, 2),
        "feeder_cpu_s": round(feeder_cpu, 2),
        "elasticsearch_cpu_s": round(es_used, 2),
        "docs_per_s": round(expected / elapsed, 1),
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
    for i in range(0, len(docs), BULK_DOCS):
        operations: list[dict[str, Any]] = []
        for doc_id, body in docs[i : i + BULK_DOCS]:
            operations.append({"index": {"_index": RAW_INDEX, "_id": doc_id}})
            operations.append(body)
        response = await es.bulk(operations=operations)
        if response.get("errors"):
            raise RuntimeError(f"raw _bulk refused documents: {str(response)[:300]}")
    sent_s = time.perf_counter() - began
    reached = await wait_searchable(es, RAW_INDEX, len(docs))
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - client_before
    es_used = _cpu_or_zero(es_pid) - es_before
    if reached != len(docs):
        raise RuntimeError(f"raw: {reached} of {len(docs)} documents became searchable")
    return {
        "documents": len(docs),
        "seconds": round(elapsed, 3),
        "sent_seconds": round(sent_s, 3),
        "client_cpu_s": round(client_cpu, 2),
        "elasticsearch_cpu_s": round(es_used, 2),
        "docs_per_s": round(len(docs) / elapsed, 1),
    }


async def _run(settings: Settings, progress: Progress, rooms: int) -> BenchResult:
    work = build_workload(rooms, subscribers=4, ticks=5, start_ms=time.time() * 1000)
    es = await es_client(settings)
    try:
        await drop_scratch(es, INDEX, RAW_INDEX)
        collector = await _collector_side(settings, es, work, progress)
        progress(
            f"collector: {collector['documents']} documents in {collector['seconds']} s "
            f"= {collector['docs_per_s']:.0f} docs/s"
        )
        docs = await read_back(es, INDEX)
        raw = await _raw_side(es, docs, progress, elasticsearch_pid(settings))
        progress(
            f"raw _bulk: {raw['documents']} documents in {raw['seconds']} s "
            f"= {raw['docs_per_s']:.0f} docs/s"
        )
    finally:
        await drop_scratch(es, INDEX, RAW_INDEX)
        await es.close()
    ratio = collector["docs_per_s"] / raw["docs_per_s"]
    return BenchResult(
        number=3,
        name="collector ingest vs raw _bulk",
        measured=round(ratio, 3),
        target=0.9,
        better="higher",
        unit="x",
        detail={
            "collector_docs_per_s": collector["docs_per_s"],
            "raw_docs_per_s": raw["docs_per_s"],
            "documents": collector["documents"],
            "janus_events": work.events,
            "client_stats_samples": work.samples,
            "collector": collector,
            "raw": raw,
        },
        note=(
            f"{collector['documents']} documents: collector {collector['docs_per_s']:.0f}/s "
            f"vs raw _bulk {raw['docs_per_s']:.0f}/s"
        ),
    )


def run(settings: Settings, progress: Progress, *, quick: bool = False) -> BenchResult:
    """Benchmark 3; ``quick`` sends a quarter of the workload."""
    return asyncio.run(_run(settings, progress, rooms=40 if quick else 160))
