"""The capacity section of report.html: the knee of each figure against rooms."""

from __future__ import annotations

import dataclasses
import re

from rtcsim.report.knee import KneePoint, knee_chart, knee_charts
from rtcsim.report.model import Verdict
from rtcsim.report.render import render
from simulator.load.capacity.result import (
    CapacityResult,
    ServerUse,
    SloOutcome,
    StepResult,
)
from tests.rtcsim.report.html_probe import read_page
from tests.rtcsim.report.test_render import RESPONSES, _report


def _result() -> CapacityResult:
    result = CapacityResult("cap", 4, 1, "cheap", ending="slo", load_average=[3.1, 2.0, 1.5])
    for number, latency, verdict in ((1, 20.0, "good"), (2, 80.0, "good"), (3, 400.0, "slo")):
        step = StepResult(number, rooms=2 * number, users=8 * number, streams=8 * number,
                          started_ms=0)  # fmt: skip
        step.figures = {"latency_p95_ms": latency, "subscriber_loss_pct": 0.0}
        step.slo = [SloOutcome("lat", "latency_p95_ms", "<=", 300.0, latency, latency <= 300)]
        step.server = ServerUse(samples=1, janus_cpu_pct=10.0 * number)
        step.verdict = verdict  # type: ignore[assignment]
        step.why = "latency_p95_ms 400 (SLO <= 300)" if verdict == "slo" else "every SLO held"
        result.steps.append(step)
    return result


def test_a_knee_chart_marks_each_step_by_verdict_the_threshold_and_the_capacity() -> None:
    points = [KneePoint(2, 20.0, "good"), KneePoint(4, 80.0, "good"), KneePoint(6, 400.0, "slo")]
    svg = knee_chart("latency_p95_ms", "ms", points, threshold=300.0, capacity_rooms=4)
    assert re.findall(r'data-verdict="(\w+)"', svg) == ["good", "good", "slo"]
    assert 'data-threshold="300.0"' in svg
    assert 'data-capacity="4"' in svg


def test_a_step_that_measured_nothing_is_left_out_of_its_chart() -> None:
    svg = knee_chart("x", "", [KneePoint(1, None, "unsteady"), KneePoint(2, float("inf"), "slo")])
    assert "data-verdict" not in svg


def test_the_report_of_a_capacity_run_shows_its_headline_knees_and_steps() -> None:
    capacity = _result().as_dict()
    report = dataclasses.replace(_report(RESPONSES, Verdict(passed=True)), capacity=capacity)
    html = render(report)
    page = read_page(html)
    assert page.panels["capacity"] == "1"
    assert page.metrics["capacity_rooms"] == "4"
    assert float(page.metrics["janus_cpu_per_added_stream"]) == 1.25  # 10 % per 8 streams
    assert "capacity 4 rooms of 4 (16 users, 16 streams): at 6 rooms latency_p95_ms 400" in html
    assert html.count("data-knee=") == len(knee_charts(capacity)) == 5  # latency, loss, first
    assert re.findall(r'data-step="(\d)"', html) == ["1", "2", "3"]  # frame, Janus, generator
    assert read_page(html).external == []


def test_the_capacity_section_names_the_servers_cpu_budget_and_its_throttling() -> None:
    result = _result()
    result.server_cpu_cores = 0.5
    result.server_throttling = {"nr_periods": 900, "nr_throttled": 300}
    result.steps[-1].server_throttled_pct = 62.0
    report = dataclasses.replace(
        _report(RESPONSES, Verdict(passed=True)), capacity=result.as_dict()
    )
    html = render(report)
    assert read_page(html).metrics["server_cpu_cores"] == "0.5"
    assert "throttled in 300 of 900 periods" in html
    assert "<td>62</td>" in html
    plain = render(dataclasses.replace(report, capacity=_result().as_dict()))
    assert 'data-metric="server_cpu_cores"' not in plain


def test_a_report_without_a_search_has_no_capacity_section() -> None:
    assert "capacity" not in read_page(render(_report(RESPONSES, Verdict(passed=True)))).panels
