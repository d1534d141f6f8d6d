"""Throughput figures of a run, from the ledger (what the generator did and saw) and the
number of documents stored for it: what load expectations (``metric:``) compare.

The ledger is the generator's own account, so these say what the *generator* achieved against
the server; the generator's self-watch (``simulator.watch``) says whether it was able to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sized
from typing import get_args

from simulator.ledger import ConnectionRecord, Ledger
from simulator.scenario.model import ThroughputMetric
from simulator.verify import media_figures, server_figures


def connections(ledger: Ledger) -> list[ConnectionRecord]:
    return [c for p in ledger.participants.values() for c in p.connections]


def duration_s(ledger: Ledger) -> float:
    end = ledger.ended_ms or ledger.started_ms
    return max(0.001, (end - ledger.started_ms) / 1000.0)


def peers_held(ledger: Ledger) -> float:
    """The most connections joined at once (a sweep over join and leave times)."""
    edges: list[tuple[int, int]] = []
    end_of_run = ledger.ended_ms or ledger.started_ms
    for conn in connections(ledger):
        if conn.joined_ms is None:
            continue
        edges.append((conn.joined_ms, 1))
        edges.append((conn.left_ms or end_of_run, -1))
    held = most = 0
    for _at, delta in sorted(edges):  # a leave sorts before a join at the same ms
        held += delta
        most = max(most, held)
    return float(most)


def sessions_per_second(ledger: Ledger) -> float:
    joined = sum(1 for c in connections(ledger) if c.joined_ms is not None)
    return joined / duration_s(ledger)


def join_success_ratio(ledger: Ledger) -> float:
    attempted = connections(ledger)
    if not attempted:
        return 0.0
    return sum(1 for c in attempted if c.joined_ms is not None) / len(attempted)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ice_times_ms(ledger: Ledger) -> list[float]:
    return [
        float(pub.ice_connected_ms - pub.started_ms)
        for conn in connections(ledger)
        for pub in conn.publications
        if pub.ice_connected_ms is not None
    ] + [
        float(sub.ice_connected_ms - sub.started_ms)
        for conn in connections(ledger)
        for sub in conn.subscriptions
        if sub.ice_connected_ms is not None
    ]


def first_frame_times_ms(ledger: Ledger) -> list[float]:
    return [
        float(sub.first_frame_ms - sub.started_ms)
        for conn in connections(ledger)
        for sub in conn.subscriptions
        if sub.first_frame_ms is not None
    ]


def ice_p95_ms(ledger: Ledger) -> float | None:
    return percentile(ice_times_ms(ledger), 95)


def first_frame_p95_ms(ledger: Ledger) -> float | None:
    return percentile(first_frame_times_ms(ledger), 95)


def figure(metric: ThroughputMetric, ledger: Ledger, documents: Sized) -> float | None:
    """The run's value of ``metric``; None when the run has nothing to measure it on.
    ``documents``: the run's documents, or anything that knows how many (a digest; its
    ``host_samples`` are the server's, ``server_figures``)."""
    by_ledger: dict[str, Callable[[Ledger], float | None]] = {
        "peers_held": peers_held,
        "sessions_per_second": sessions_per_second,
        "join_success_ratio": join_success_ratio,
        "ice_p50_ms": lambda led: percentile(ice_times_ms(led), 50),
        "ice_p95_ms": ice_p95_ms,
        "first_frame_p50_ms": lambda led: percentile(first_frame_times_ms(led), 50),
        "first_frame_p95_ms": first_frame_p95_ms,
        "latency_p50_ms": lambda led: media_figures.latency_ms(led, 50),
        "latency_p95_ms": lambda led: media_figures.latency_ms(led, 95),
        "subscriber_loss_pct": media_figures.subscriber_loss_pct,
        "jitter_p95_ms": media_figures.jitter_p95_ms,
        "video_fps_p5": media_figures.video_fps_p5,
    }
    by_documents: dict[str, Callable[[Ledger, Sized], float | None]] = {
        "docs_per_second": lambda led, docs: len(docs) / duration_s(led),
        "server_cpu_per_stream_pct": server_figures.server_cpu_per_stream_pct,
        "server_rss_per_stream_kb": server_figures.server_rss_per_stream_kb,
    }
    if metric in by_documents:
        return by_documents[metric](ledger, documents)
    return by_ledger[metric](ledger)


def all_figures(ledger: Ledger, documents: Sized) -> dict[str, float | None]:
    """Every metric, for summary.json: a load run reports them even without expectations."""
    metrics: tuple[ThroughputMetric, ...] = get_args(ThroughputMetric)
    return {m: figure(m, ledger, documents) for m in metrics}
