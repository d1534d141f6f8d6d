"""Latency, loss, jitter and frame rate figures from subscriptions' records."""

from __future__ import annotations

import pytest

from simulator.ledger import (
    ConnectionRecord,
    LatencyRecord,
    Ledger,
    MediaCounters,
    ParticipantRecord,
    ReceptionRecord,
    SubscriptionRecord,
)
from simulator.verify import media_figures


def _ledger(*subscriptions: SubscriptionRecord) -> Ledger:
    ledger = Ledger("run", "s", 0, started_ms=0, ended_ms=60_000)
    for i, sub in enumerate(subscriptions):
        conn = ConnectionRecord(f"c{i}", "s", joined_ms=0, subscriptions=[sub])
        ledger.participants[f"p{i}"] = ParticipantRecord(f"p{i}", "u", "r", "x", "y", [conn])
    return ledger


def _sub(**kwargs: object) -> SubscriptionRecord:
    return SubscriptionRecord("pub", "pubconn", "st", 0, **kwargs)  # type: ignore[arg-type]


def test_latency_percentiles_pool_every_frame_of_every_subscription() -> None:
    # 90 frames at 10 ms on one subscription, 10 at 200 ms on another: p50 10, p95 200.
    fast = _sub(latency=LatencyRecord(frames=90, histogram=[[10, 90]]))
    slow = _sub(latency=LatencyRecord(frames=10, histogram=[[200, 10]]))
    ledger = _ledger(fast, slow, _sub())
    assert media_figures.latency_ms(ledger, 50) == 10.0
    assert media_figures.latency_ms(ledger, 95) == 200.0
    assert media_figures.latency_ms(_ledger(_sub()), 95) is None


def test_loss_is_pooled_over_streams_so_a_bigger_stream_weighs_more() -> None:
    a = _sub(reception={"video": ReceptionRecord(900, 90), "audio": ReceptionRecord(100, 0)})
    b = _sub(reception={"video": ReceptionRecord(1000, 10, jitter_ms=30.0)})
    assert media_figures.subscriber_loss_pct(_ledger(a, b)) == pytest.approx(5.0)
    assert media_figures.loss_pct([]) is None


def test_jitter_p95_is_over_subscriptions_streams() -> None:
    subs = [
        _sub(reception={"video": ReceptionRecord(1, 0, jitter_ms=float(j))}) for j in range(1, 21)
    ]
    assert media_figures.jitter_p95_ms(_ledger(*subs)) == 19.0


def test_the_frame_rate_counts_from_the_first_frame_and_p5_shows_the_slow_tail() -> None:
    steady = [
        _sub(first_frame_ms=0, ended_ms=10_000, received={"video": MediaCounters(frames=300)})
        for _ in range(19)
    ]
    stalled = _sub(first_frame_ms=0, ended_ms=10_000, received={"video": MediaCounters(frames=50)})
    no_frame = _sub(received={"video": MediaCounters(frames=0)})
    assert media_figures.video_fps_p5(_ledger(*steady, stalled, no_frame)) == 5.0
    assert media_figures.subscription_fps(no_frame, 60_000) is None


def test_pooled_percentiles_of_nothing_are_nothing() -> None:
    assert media_figures.pooled_percentile([], 50) is None
    assert media_figures.pooled_percentile([[[3, 1]], [[1, 1]]], 50) == 1.0
