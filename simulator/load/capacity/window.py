"""A step's figures, from what it measured: pure, so every rule here is unit-tested.

Two kinds of figures, by who they are about:

* the step's **newcomers** (the seats it added): join success, ICE and first-frame times. A
  publication or subscription that never connected, or a subscription that never got a
  frame, counts as infinitely slow, so a percentile cannot hide it;
* every **stream during the window** (old rooms and new): one-way latency of the frames that
  arrived in it, RTP loss, jitter, frame rate, from snapshots of each subscription at the
  window's two ends, and the server's CPU and memory per stream from ``monitoringStats``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from simulator.load.capacity.result import GeneratorHealth, ServerUse
from simulator.verify import media_figures
from simulator.verify.store_reader import Document
from simulator.watch.model import GeneratorSample

SATURATED_FRACTION = 0.25
"""A step is saturated when more than a quarter of its generator samples were (the run
rule's fraction, ``simulator.watch.saturation``: a burst of joins alone does not void it)."""


@dataclass
class Newcomer:
    """What one seat of the step did while arriving."""

    joined: bool = False
    ice_ms: list[float] = field(default_factory=list)
    first_frame_ms: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """One subscription's cumulative counters at one instant."""

    at_ms: int
    expected: int
    lost: int
    jitter_ms: tuple[float, ...]
    video_frames: int
    latency_mark: int


def newcomer_figures(newcomers: Sequence[Newcomer]) -> dict[str, float | None]:
    ice = [ms for n in newcomers for ms in n.ice_ms]
    first = [ms for n in newcomers for ms in n.first_frame_ms]
    joined = sum(1 for n in newcomers if n.joined)
    return {
        "join_success_ratio": joined / len(newcomers) if newcomers else None,
        "ice_p50_ms": media_figures.percentile(ice, 50),
        "ice_p95_ms": media_figures.percentile(ice, 95),
        "first_frame_p50_ms": media_figures.percentile(first, 50),
        "first_frame_p95_ms": media_figures.percentile(first, 95),
    }


def window_figures(
    before: Mapping[str, SubscriptionSnapshot],
    after: Mapping[str, SubscriptionSnapshot],
    latencies_ms: Sequence[float],
) -> dict[str, float | None]:
    """The window's figures over the subscriptions seen at both ends."""
    both = [(before[key], after[key]) for key in after if key in before]
    rates = [
        (b.video_frames - a.video_frames) / ((b.at_ms - a.at_ms) / 1000)
        for a, b in both
        if b.at_ms > a.at_ms
    ]
    return {
        "latency_p50_ms": media_figures.percentile(latencies_ms, 50),
        "latency_p95_ms": media_figures.percentile(latencies_ms, 95),
        "subscriber_loss_pct": media_figures.loss_pct(
            (b.expected - a.expected, b.lost - a.lost) for a, b in both
        ),
        "jitter_p95_ms": media_figures.percentile([j for _, b in both for j in b.jitter_ms], 95),
        "video_fps_p5": media_figures.percentile(rates, media_figures.FPS_PERCENTILE),
    }


def server_use(
    samples: Iterable[Document], streams: int, window_ms: tuple[int, int], interval_s: float
) -> ServerUse:
    """Janus's CPU and memory during the window: the samples whose interval lies inside it
    (a sample at ``t`` covers ``(t - interval, t]``, psutil's ``cpu_percent``); failing any,
    those that overlap it."""
    start, end = window_ms
    sampled = [s for s in samples if s.get("janus_cpu") is not None and "timestamp" in s]
    inside = [s for s in sampled if start + interval_s * 1000 <= int(s["timestamp"]) <= end]
    chosen = inside or [
        s for s in sampled if start < int(s["timestamp"]) <= end + interval_s * 1000
    ]
    if not chosen:
        return ServerUse()
    cpu = sum(float(s["janus_cpu"]) for s in chosen) / len(chosen)
    rss_values = [float(s["janus_rss_kb"]) for s in chosen if s.get("janus_rss_kb") is not None]
    rss = sum(rss_values) / len(rss_values) if rss_values else None
    return ServerUse(
        samples=len(chosen),
        janus_cpu_pct=round(cpu, 2),
        janus_rss_kb=round(rss, 1) if rss is not None else None,
        cpu_per_stream_pct=round(cpu / streams, 4) if streams else None,
        rss_per_stream_kb=round(rss / streams, 2) if streams and rss is not None else None,
    )


def generator_health(
    samples: Iterable[GeneratorSample], start_ms: int, end_ms: int
) -> GeneratorHealth:
    """The watch's samples from ``start_ms`` to ``end_ms``, judged: saturated when more than
    a quarter of them were (each sample's own flag: a loop's lag p95 over 100 ms or its
    thread at 0.9 core, ``SaturationRule.sample_saturated``)."""
    chosen = [s for s in samples if start_ms <= s.timestamp_ms <= end_ms]
    if not chosen:
        return GeneratorHealth()
    busy = sum(1 for s in chosen if s.saturated)
    cpu = [s.cpu_cores for s in chosen]
    lag = max(s.worst_loop.p95_ms for s in chosen)
    saturated = busy > SATURATED_FRACTION * len(chosen)
    reason = (
        f"the generator was saturated in {busy} of {len(chosen)} samples "
        f"(loop lag p95 up to {lag:.0f} ms, CPU up to {max(cpu):.2f} core)"
        if saturated
        else None
    )
    return GeneratorHealth(
        samples=len(chosen),
        saturated_samples=busy,
        cpu_avg_cores=round(sum(cpu) / len(cpu), 3),
        cpu_max_cores=round(max(cpu), 3),
        loop_lag_p95_max_ms=round(lag, 1),
        saturated=saturated,
        reason=reason,
    )
