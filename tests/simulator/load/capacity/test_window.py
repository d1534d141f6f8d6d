"""A step's figures from its newcomers, its window's snapshots and the server's samples."""

from __future__ import annotations

import math

import pytest

from simulator.ledger import LagSummary
from simulator.load.capacity.window import (
    Newcomer,
    SubscriptionSnapshot,
    generator_health,
    newcomer_figures,
    server_use,
    window_figures,
)
from simulator.watch.model import GeneratorSample


def test_a_newcomer_that_never_connected_counts_as_infinitely_slow() -> None:
    newcomers = [Newcomer(joined=True, ice_ms=[100.0], first_frame_ms=[200.0]) for _ in range(18)]
    newcomers += [Newcomer(joined=True, ice_ms=[math.inf], first_frame_ms=[math.inf])] * 2
    newcomers += [Newcomer(joined=False, error="join refused")]
    figures = newcomer_figures(newcomers)
    assert figures["join_success_ratio"] == pytest.approx(20 / 21)
    assert figures["ice_p50_ms"] == 100.0
    assert figures["ice_p95_ms"] == math.inf  # 2 of 20 never: the 95th percentile is "never"
    assert figures["first_frame_p95_ms"] == math.inf


def _snap(
    at_ms: int, expected: int, lost: int, frames: int, jitter: float = 5.0
) -> SubscriptionSnapshot:
    return SubscriptionSnapshot(at_ms, expected, lost, (jitter,), frames, latency_mark=0)


def test_window_figures_are_the_differences_between_its_two_ends() -> None:
    before = {"a": _snap(0, 1000, 10, 100), "b": _snap(0, 500, 0, 50), "gone": _snap(0, 9, 9, 9)}
    after = {
        "a": _snap(10_000, 2000, 60, 400),  # 1000 expected, 50 lost, 30 fps
        "b": _snap(10_000, 1500, 50, 150, jitter=40.0),  # 1000 expected, 50 lost, 10 fps
        "new": _snap(10_000, 100, 100, 0),  # not there at the start: left out
    }
    figures = window_figures(before, after, latencies_ms=[float(v) for v in range(1, 101)])
    assert figures["subscriber_loss_pct"] == pytest.approx(5.0)
    assert figures["video_fps_p5"] == 10.0
    assert figures["jitter_p95_ms"] == 40.0
    assert (figures["latency_p50_ms"], figures["latency_p95_ms"]) == (50.0, 95.0)
    assert window_figures({}, {}, [])["latency_p95_ms"] is None


def _monitoring(at_ms: int, cpu: float, rss: int = 40_000) -> dict[str, object]:
    return {
        "elastic_type": "monitoringStats",
        "timestamp": at_ms,
        "janus_cpu": cpu,
        "janus_rss_kb": rss,
    }


def test_server_use_takes_the_samples_wholly_inside_the_window() -> None:
    samples = [_monitoring(5_000, 99.0), _monitoring(12_000, 20.0), _monitoring(22_000, 40.0)]
    use = server_use(samples, streams=10, window_ms=(1_000, 25_000), interval_s=10)
    assert (use.samples, use.janus_cpu_pct, use.cpu_per_stream_pct) == (2, 30.0, 3.0)
    assert use.rss_per_stream_kb == 4000.0


def test_a_window_shorter_than_the_sampling_interval_takes_the_overlapping_sample() -> None:
    use = server_use(
        [_monitoring(14_000, 12.0)], streams=4, window_ms=(1_000, 6_000), interval_s=10
    )
    assert (use.samples, use.cpu_per_stream_pct) == (1, 3.0)
    assert server_use([], streams=4, window_ms=(0, 1), interval_s=10).janus_cpu_pct is None


def _gen(at_ms: int, saturated: bool, lag_ms: float = 20.0) -> GeneratorSample:
    return GeneratorSample(
        at_ms, "capacity-1", 1, "host", 0.5, 1000, {"media": LagSummary(p95_ms=lag_ms)}, saturated
    )


def test_a_step_is_saturated_when_more_than_a_quarter_of_its_samples_were() -> None:
    calm = [_gen(t, False) for t in range(0, 10_000, 2000)]
    burst = [*calm, _gen(10_000, True, lag_ms=300)]  # one join burst in six samples
    busy = calm + [_gen(t, True, lag_ms=250) for t in range(10_000, 16_000, 2000)]
    assert not generator_health(burst, 0, 20_000).saturated
    health = generator_health(busy, 0, 20_000)
    assert health.saturated
    assert health.saturated_samples == 3
    assert health.reason is not None
    assert "3 of 8 samples" in health.reason
    assert generator_health(busy, 0, 9_000).samples == 5  # only the step's own samples
