"""Benchmark 2's fall-back: the last ramp step both processes kept healthy, side by side."""

from __future__ import annotations

from typing import Any

from bench.generator import _best_common_step


def _step(streams: int, *, lag_ms: float = 10.0, fps: float = 30.0) -> dict[str, Any]:
    return {
        "event": "step",
        "streams": streams,
        "saturated": lag_ms > 100,
        "loss_pct": 0.0,
        "video_fps_per_stream": fps,
        "lag_p95_ms": lag_ms,
        "streams_over_loss": 0,
    }


def test_the_largest_count_healthy_in_every_process_is_chosen() -> None:
    one = [_step(20), _step(40), _step(60, lag_ms=2000)]
    two = [_step(20), _step(40, lag_ms=208), _step(60, lag_ms=1800)]
    chosen = _best_common_step([one, two])
    assert chosen is not None
    assert [w["streams"] for w in chosen] == [20, 20]


def test_a_retry_after_an_overload_does_not_replace_the_ramp_window() -> None:
    ramp = [_step(20), _step(40), _step(40, fps=1.5)]  # the last: dead publishers
    chosen = _best_common_step([ramp, ramp])
    assert chosen is not None
    assert [w["video_fps_per_stream"] for w in chosen] == [30.0, 30.0]


def test_no_common_healthy_step_means_no_fall_back() -> None:
    assert _best_common_step([[_step(20, fps=2)], [_step(20)]]) is None
    assert _best_common_step([]) is None
