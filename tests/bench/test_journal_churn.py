"""Benchmark 6's feed and arithmetic: rooms that open and close while others stay open."""

from __future__ import annotations

from bench.collector_ingest import steady_rate
from bench.journal_churn import ROOM_LIFE_S, SUBSCRIBERS, Churn, size_at


def test_a_short_room_closes_after_its_life_while_a_long_one_stays_open() -> None:
    churn = Churn()
    churn.open(0.0, None)
    churn.open(0.0, ROOM_LIFE_S)
    assert len(churn.feed.participants) == 2 * (1 + SUBSCRIBERS)
    churn.tick(ROOM_LIFE_S - 1, 1000.0)
    assert churn.closed == 0
    events = churn.tick(ROOM_LIFE_S, 2000.0)
    assert churn.closed == 1
    assert len(churn.feed.participants) == 1 + SUBSCRIBERS
    assert any(e.get("event", {}).get("name") == "destroyed" for e in events)


def test_every_open_endpoint_reports_media_stats_each_second() -> None:
    churn = Churn()
    churn.open(0.0, None)
    events = churn.tick(1.0, 1000.0)
    stats = [e for e in events if e["type"] == 32]
    assert len(stats) == 2 * (1 + SUBSCRIBERS)  # audio and video m-lines


def test_the_early_size_is_the_first_sample_at_or_after_its_time() -> None:
    sizes = [(0.0, 0), (110.0, 50), (120.5, 60), (600.0, 300)]
    assert size_at(sizes, 120.0) == 60
    assert size_at(sizes, 900.0) == 300


def test_the_steady_rate_skips_the_warm_up() -> None:
    samples = [(0.0, 0), (5.0, 100), (10.0, 1000), (20.0, 3000), (30.0, 5000)]
    assert steady_rate(samples, 10.0, 30.0) == 200.0
    assert steady_rate(samples, 25.0, 30.0) == 0.0  # one sample: no rate
