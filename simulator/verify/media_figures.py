"""What the subscribers received, as figures: one-way latency, loss, jitter, frame rate.

Each figure has two halves: a pure one over plain numbers (a capacity step computes its
window's figures with it, ``simulator.load.capacity``) and one over a whole run's ledger. The
numbers are the generator's own measurements (``peers.latency``, ``peers.reception``), so a
figure says what the subscribers got, whatever the server reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from simulator.ledger import Ledger, SubscriptionRecord

FPS_PERCENTILE = 5.0
"""``video_fps_p5``: 95 % of subscriptions received at least this frame rate."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest rank, as every percentile of rtcsim's figures; None without values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def pooled_percentile(histograms: Iterable[Sequence[Sequence[int]]], q: float) -> float | None:
    """The percentile of every frame of several ``[[ms, frames], ...]`` histograms together."""
    counts: dict[int, int] = {}
    for histogram in histograms:
        for ms, frames in histogram:
            counts[ms] = counts.get(ms, 0) + frames
    total = sum(counts.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q / 100 * total))
    seen = 0
    for ms in sorted(counts):
        seen += counts[ms]
        if seen >= rank:
            return float(ms)
    return float(max(counts))  # pragma: no cover - the loop always reaches the rank


def loss_pct(expected_lost: Iterable[tuple[int, int]]) -> float | None:
    """Packets lost per hundred expected, pooled (a stream with more packets weighs more)."""
    expected = lost = 0
    for stream_expected, stream_lost in expected_lost:
        expected += stream_expected
        lost += stream_lost
    return 100.0 * lost / expected if expected else None


def subscriptions(ledger: Ledger) -> list[SubscriptionRecord]:
    return [s for p in ledger.participants.values() for s in p.subscriptions]


def latency_ms(ledger: Ledger, q: float) -> float | None:
    """Percentile ``q`` of the one-way latency of every video frame every subscriber got."""
    return pooled_percentile((s.latency.histogram for s in subscriptions(ledger) if s.latency), q)


def subscriber_loss_pct(ledger: Ledger) -> float | None:
    """RTP lost before repair, audio and video, over every subscription."""
    return loss_pct(
        (seen.expected, seen.lost) for s in subscriptions(ledger) for seen in s.reception.values()
    )


def jitter_p95_ms(ledger: Ledger) -> float | None:
    """p95 over subscriptions (audio and video alike) of their interarrival jitter at the end."""
    return percentile(
        [seen.jitter_ms for s in subscriptions(ledger) for seen in s.reception.values()], 95
    )


def subscription_fps(subscription: SubscriptionRecord, end_of_run_ms: int) -> float | None:
    """Video frames received per second from the first frame to the subscription's end."""
    video = subscription.received.get("video")
    if video is None or subscription.first_frame_ms is None:
        return None
    end = subscription.ended_ms or end_of_run_ms
    seconds = (end - subscription.first_frame_ms) / 1000
    return video.frames / seconds if seconds >= 1.0 else None


def video_fps_p5(ledger: Ledger) -> float | None:
    end = ledger.ended_ms or ledger.started_ms
    rates = [fps for s in subscriptions(ledger) if (fps := subscription_fps(s, end)) is not None]
    return percentile(rates, FPS_PERCENTILE)
