"""Throughput figures of a run, from the ledger (what the generator did and saw) and the
number of documents stored for it: what load expectations (``metric:``) compare.

The ledger is the generator's own account, so these say what the *generator* achieved against
the server; the generator's self-watch (``simulator.watch``) says whether it was able to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sized

from simulator.ledger import ConnectionRecord, Ledger
from simulator.scenario.model import ThroughputMetric


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


def ice_p95_ms(ledger: Ledger) -> float | None:
    times = [
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
    return percentile(times, 95)


def first_frame_p95_ms(ledger: Ledger) -> float | None:
    times = [
        float(sub.first_frame_ms - sub.started_ms)
        for conn in connections(ledger)
        for sub in conn.subscriptions
        if sub.first_frame_ms is not None
    ]
    return percentile(times, 95)


def figure(metric: ThroughputMetric, ledger: Ledger, documents: Sized) -> float | None:
    """The run's value of ``metric``; None when the run has nothing to measure it on.
    ``documents``: the run's documents, or anything that knows how many (a digest)."""
    by_ledger: dict[str, Callable[[Ledger], float | None]] = {
        "peers_held": peers_held,
        "sessions_per_second": sessions_per_second,
        "join_success_ratio": join_success_ratio,
        "ice_p95_ms": ice_p95_ms,
        "first_frame_p95_ms": first_frame_p95_ms,
    }
    if metric == "docs_per_second":
        return len(documents) / duration_s(ledger)
    return by_ledger[metric](ledger)


def all_figures(ledger: Ledger, documents: Sized) -> dict[str, float | None]:
    """Every metric, for summary.json: a load run reports them even without expectations."""
    metrics: list[ThroughputMetric] = [
        "peers_held",
        "sessions_per_second",
        "join_success_ratio",
        "ice_p95_ms",
        "first_frame_p95_ms",
        "docs_per_second",
    ]
    return {m: figure(m, ledger, documents) for m in metrics}
