"""Benchmarks 1 and 2's arithmetic: windows from snapshots, health, and where the ramp stops."""

from __future__ import annotations

from typing import Any

import pytest

from bench.ramp import Ramp, publish_window, receive_window


def _snapshot(at: float, cpu_s: float, **per_stream: list[int]) -> dict[str, Any]:
    return {"at": at, "cpu_s": cpu_s, "lag_p95_ms": 5.0, "saturated": False, **per_stream}


def _healthy_window(streams: int = 2) -> dict[str, Any]:
    before = _snapshot(
        0.0, 1.0, expected=[0] * streams, received=[0] * streams, bytes=[0] * streams,
        video_frames=[0] * streams,
    )  # fmt: skip
    after = _snapshot(
        10.0, 3.0, expected=[1650] * streams, received=[1650] * streams,
        bytes=[1_250_000] * streams, video_frames=[300] * streams,
    )  # fmt: skip
    return {"before": before, "after": after}


def test_a_window_is_the_difference_of_two_snapshots_per_stream() -> None:
    w = receive_window(**_healthy_window())
    assert w.streams == 2
    assert w.cores == pytest.approx(0.2)
    assert w.streams_per_core == pytest.approx(10.0)
    assert w.loss_pct == 0.0
    assert w.video_fps_per_stream == pytest.approx(30.0)
    assert w.kbps_per_stream == pytest.approx(1000.0)
    assert w.degraded() == []


def test_loss_over_half_a_percent_degrades_a_window_and_names_the_streams() -> None:
    window = _healthy_window()
    window["after"]["received"] = [1650, 1644]  # 6 of 1650 lost on the second: 0.36 %
    assert receive_window(**window).degraded() == []
    window["after"]["received"] = [1650, 1630]  # 20 of 1650: 1.2 %, 0.61 % over both
    w = receive_window(**window)
    assert w.streams_over_loss == 1
    assert w.loss_pct == pytest.approx(100 * 20 / 3300)
    assert w.degraded() == ["loss 0.61 % > 0.5 %"]


def test_late_loop_low_frame_rate_or_saturation_each_degrade_a_window() -> None:
    late = _healthy_window()
    late["after"]["lag_p95_ms"] = 150.0
    assert any("lag" in why for why in receive_window(**late).degraded())
    slow = _healthy_window()
    slow["after"]["video_frames"] = [280, 280]  # 28 fps
    assert any("fps" in why for why in receive_window(**slow).degraded())
    saturated = _healthy_window()
    saturated["after"].update(saturated=True, reasons=["media loop at a core"])
    assert receive_window(**saturated).degraded() == ["saturated: media loop at a core"]


def test_a_window_needs_time_to_pass() -> None:
    window = _healthy_window()
    window["after"]["at"] = 0.0
    with pytest.raises(ValueError, match="time to pass"):
        receive_window(**window)


def test_publishers_are_healthy_only_when_each_sent_its_frame_rate() -> None:
    before = {"at": 0.0, "cpu_s": 0.0, "frames_sent": [0, 0]}
    after = {"at": 10.0, "cpu_s": 0.5, "frames_sent": [300, 300], "lag_p95_ms": 3.0}
    assert publish_window(before, after).degraded() == []
    after["frames_sent"] = [300, 250]
    assert publish_window(before, after).degraded() == ["a publisher sent 25.0 fps < 29"]


def _run(ramp: Ramp, knee: int) -> list[int]:
    tried = []
    while (count := ramp.next()) is not None:
        tried.append(count)
        ramp.record(count, count <= knee)
    return tried


def test_the_ramp_grows_until_a_window_degrades_then_bisects_to_the_knee() -> None:
    ramp = Ramp(first=100)
    tried = _run(ramp, knee=620)
    assert tried[:6] == [100, 150, 220, 330, 500, 750]
    assert ramp.knee <= 620
    assert 620 - ramp.knee <= max(ramp.min_gap, ramp.resolution * ramp.knee)


def test_the_ramp_has_no_top_step() -> None:
    ramp = Ramp(first=100)
    _run(ramp, knee=5000)
    assert 4500 <= ramp.knee <= 5000


def test_a_first_step_already_degraded_bisects_downwards() -> None:
    ramp = Ramp(first=100)
    tried = _run(ramp, knee=35)
    assert tried[0] == 100
    assert 15 <= ramp.knee <= 35


def test_a_degraded_count_below_a_healthy_one_bounds_the_knee() -> None:
    ramp = Ramp(first=100)
    for count, healthy in ((100, True), (150, False), (120, True)):
        ramp.record(count, healthy)
    assert ramp.knee == 120
    ramp.record(110, False)  # noise: a lower count failed later
    assert ramp.knee == 100


def test_a_publisher_whose_connection_is_down_makes_the_window_say_nothing() -> None:
    before = {"at": 0.0, "cpu_s": 0.0, "frames_sent": [0, 0]}
    after = {"at": 10.0, "cpu_s": 0.5, "frames_sent": [300, 300], "connected": [True, False]}
    assert publish_window(before, after).degraded() == ["1 publisher connections down"]
