"""The link model alone, on virtual time: exact numbers, no event loop."""

from __future__ import annotations

import random

import pytest

from simulator.impairment import Direction, Impairment, split
from simulator.impairment.model import NONE
from simulator.impairment.shaper import LinkShaper, Verdict


def test_rate_cap_passes_the_requested_rate_over_ten_seconds_of_five_times_overload() -> None:
    shaper = LinkShaper(random.Random(1), Impairment(rate_kbps=500))
    passed_bytes = 0
    last_due = 0.0
    for i in range(10_000):  # 1000 B every 1 ms = 8 Mbit/s offered
        verdict, due = shaper.admit(1000, i / 1000)
        if verdict is Verdict.PASS:
            passed_bytes += 1000
            last_due = due
    assert passed_bytes * 8 / last_due / 1000 == pytest.approx(500, rel=0.02)


def test_rate_cap_never_queues_a_packet_longer_than_the_buffer() -> None:
    shaper = LinkShaper(random.Random(1), Impairment(rate_kbps=1000, queue_ms=50))
    waits = []
    for i in range(2000):
        now = i / 2000
        verdict, due = shaper.admit(1200, now)
        if verdict is Verdict.PASS:
            waits.append(due - now)
    assert max(waits) <= 0.05 + 1200 * 8 / 1_000_000


def test_an_idle_rate_capped_link_lets_a_small_burst_through_at_once() -> None:
    shaper = LinkShaper(random.Random(1), Impairment(rate_kbps=1000))
    dues = [shaper.admit(500, 0.0)[1] for _ in range(4)]
    assert dues == [0.0, 0.0, 0.0, 0.0]


def test_jitter_never_makes_a_packet_arrive_before_it_was_sent() -> None:
    shaper = LinkShaper(random.Random(1), Impairment(delay_ms=5, jitter_ms=50))
    assert all(shaper.admit(100, 1.0)[1] >= 1.0 for _ in range(1000))


def test_impairments_reject_values_outside_their_range() -> None:
    for bad in ({"loss_pct": 101}, {"delay_ms": -1}, {"rate_kbps": 0}, {"jitter_ms": float("nan")}):
        with pytest.raises(ValueError, match="must be"):
            Impairment(**bad)


def test_a_direction_splits_into_up_and_down() -> None:
    lossy = Impairment(loss_pct=5)
    assert split(lossy, Direction.UP) == (lossy, NONE)
    assert split(lossy, Direction.DOWN) == (NONE, lossy)
    assert split(lossy, Direction.BOTH) == (lossy, lossy)
    assert NONE.is_none
    assert not lossy.is_none
