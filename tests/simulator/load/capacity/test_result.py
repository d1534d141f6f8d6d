"""What a search found: the capacity is the last good step before the one that ended it."""

from __future__ import annotations

from pathlib import Path

from simulator.load.capacity.result import (
    CapacityResult,
    GeneratorHealth,
    ServerUse,
    SloOutcome,
    StepResult,
    read_capacity,
)


def _step(number: int, verdict: str, why: str = "") -> StepResult:
    step = StepResult(number, rooms=2 * number, users=8 * number, streams=8 * number, started_ms=0)
    step.verdict = verdict  # type: ignore[assignment]
    step.why = why
    if verdict == "slo":
        step.slo = [SloOutcome("loss", "subscriber_loss_pct", "<=", 1.0, 4.0, False)]
    if verdict == "generator":
        step.generator = GeneratorHealth(saturated=True, reason="lag")
    return step


def test_the_step_before_the_knee_is_the_capacity(tmp_path: Path) -> None:
    result = CapacityResult("cap", 4, 1, "cheap", [_step(1, "good"), _step(2, "good")])
    result.steps.append(_step(3, "slo", "subscriber_loss_pct 4 (SLO <= 1)"))
    result.ending = "slo"
    assert result.capacity_rooms == 4
    assert result.knee is not None
    assert result.knee.step == 3
    assert result.invalid_reason is None
    assert result.headline() == (
        "capacity 4 rooms of 4 (16 users, 16 streams): at 6 rooms subscriber_loss_pct 4 (SLO <= 1)"
    )
    result.write(tmp_path)
    written = read_capacity(tmp_path)
    assert written is not None
    assert (written["capacity_rooms"], written["knee_step"]) == (4, 3)
    assert read_capacity(tmp_path / "nothing") is None


def test_a_capacity_found_under_a_cpu_budget_is_per_that_budget() -> None:
    result = CapacityResult("cap", 4, 1, "cheap", [_step(1, "good")], server_cpu_cores=0.5)
    result.steps.append(_step(2, "slo", "subscriber_loss_pct 4 (SLO <= 1)"))
    result.ending = "slo"
    assert result.headline().startswith(
        "capacity 2 rooms of 4 per 0.5 core of the server (8 users, 8 streams)"
    )
    assert result.as_dict()["server_cpu_cores"] == 0.5


def test_a_search_the_generator_ended_is_invalid_and_only_a_lower_bound() -> None:
    result = CapacityResult("cap", 4, 1, "cheap", [_step(1, "good"), _step(2, "generator")])
    result.ending = "generator"
    assert result.capacity_rooms == 2
    assert result.knee is None
    assert result.invalid_reason is not None
    assert "held every SLO up to 2 rooms" in result.invalid_reason
    assert result.headline().startswith("capacity at least 2 rooms of 4")


def test_a_first_step_that_breaks_leaves_no_capacity() -> None:
    result = CapacityResult("cap", 4, 1, "cheap", [_step(1, "slo", "loss")], ending="slo")
    assert result.capacity_rooms == 0
    assert result.capacity_step is None
    assert result.headline() == "capacity 0 rooms of 4: at 2 rooms loss"


def test_janus_per_added_stream_is_the_slope_over_the_steps_its_idle_cost_the_intercept() -> None:
    result = CapacityResult("cap", 4, 1, "cheap")
    for number, cpu, rss in ((1, 12.0, 30_000.0), (2, 20.0, 31_000.0), (3, 28.0, 32_000.0)):
        step = _step(number, "good")
        step.server = ServerUse(samples=1, janus_cpu_pct=cpu, janus_rss_kb=rss)
        result.steps.append(step)
    result.steps.append(_step(4, "unsteady"))  # no server sample: left out
    assert result.per_added_stream() == {
        "steps": 3,
        "cpu_steps": 3,
        "cpu_pct": 1.0,  # 8 % more for every 8 streams
        "idle_cpu_pct": 4.0,
        "rss_kb": 125.0,
        "idle_rss_kb": 29_000.0,
    }
    assert (
        CapacityResult("cap", 4, 1, "cheap", [_step(1, "good")]).per_added_stream()["cpu_pct"]
        is None
    )


def test_under_a_budget_the_cpu_line_leaves_out_the_steps_the_budget_held_back() -> None:
    """At its budget Janus's CPU stays flat as streams are added: a line through those steps
    would halve what a stream costs. Memory is not budgeted: its line takes every step."""
    result = CapacityResult("cap", 4, 1, "cheap", server_cpu_cores=0.3)
    steps = ((1, 12.0, 0.0), (2, 20.0, 5.0), (3, 30.0, 60.0), (4, 30.0, 100.0))
    for number, cpu, throttled in steps:
        step = _step(number, "good")
        step.server = ServerUse(samples=1, janus_cpu_pct=cpu, janus_rss_kb=1000.0 * number)
        step.server_throttled_pct = throttled
        result.steps.append(step)
    added = result.per_added_stream()
    assert (added["steps"], added["cpu_steps"], added["cpu_pct"]) == (4, 2, 1.0)
    assert added["rss_kb"] == 125.0
    line = result.as_dict()["server_per_added_stream_line"]
    assert line == (
        "1.000 % of a core (idle 4.0 %; 2 steps below the CPU budget), 125 kB (idle 0 kB); "
        "a line through 4 steps"
    )
    for step in result.steps:
        step.server_throttled_pct = 100.0
    assert result.per_added_stream()["cpu_pct"] is None
    assert result.as_dict()["server_per_added_stream_line"].startswith(
        "CPU not measured below the budget, 125 kB"
    )


def test_the_searchs_checks_come_from_its_capacity_json() -> None:
    from simulator.load.capacity.result import capacity_checks

    held = CapacityResult("cap", 4, 1, "cheap", [_step(1, "good"), _step(2, "slo", "loss")])
    assert [c.ok for c in capacity_checks(held.as_dict())] == [True, True]
    broke = CapacityResult("cap", 4, 1, "cheap", [_step(1, "slo", "loss 4 (SLO <= 1)")])
    checks = capacity_checks(broke.as_dict())
    assert [c.ok for c in checks] == [True, False]
    assert checks[1].detail == "loss 4 (SLO <= 1)"
    assert [c.ok for c in capacity_checks({})] == [False, False]
