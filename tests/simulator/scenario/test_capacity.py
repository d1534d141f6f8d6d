"""Capacity scenarios: read from YAML like any scenario, their mistakes named where they are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import get_args

import pytest

from simulator.scenario.capacity import SLO_METRICS, CapacityScenario
from simulator.scenario.expectations import THROUGHPUT_METRICS, ThroughputMetric
from simulator.scenario.loader import ScenarioError, load_scenario, parse_any_scenario

GOOD = """
name: cap
capacity:
  room: {users: 4, publishers: 1}
  start_rooms: 2
  step_rooms: 3
  max_steps: 4
slo:
  - {metric: latency_p95_ms, op: "<=", value: 300}
"""


def test_a_file_with_capacity_is_a_capacity_scenario_with_its_steps() -> None:
    scenario = parse_any_scenario(GOOD)
    assert isinstance(scenario, CapacityScenario)
    spec = scenario.capacity
    assert [spec.rooms_at(step) for step in (1, 2, 3, 4)] == [2, 5, 8, 11]
    assert scenario.slo[0].label == "latency_p95_ms <= 300"
    assert scenario.duration_s > 4 * spec.hold_s


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("  - {metric: peers_held, op: '>=', value: 3}", "slo[1].metric"),
        ("  - {metric: latency_p95_ms, op: '==', value: 3}", "slo[1].op"),
    ],
)
def test_an_slo_on_a_metric_a_step_cannot_judge_is_refused(change: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_any_scenario(GOOD + change + "\n", source="cap.yaml")


def test_a_search_past_the_users_bound_is_refused_with_the_count() -> None:
    text = GOOD.replace("max_steps: 4", "max_steps: 40").replace("users: 4", "users: 5")
    with pytest.raises(ScenarioError, match=r"cap.yaml:\d+: capacity: .*595 users"):
        parse_any_scenario(text, "cap.yaml")  # 2 + 39 * 3 rooms of 5


def test_a_server_cpu_budget_is_optional_and_within_this_machines_cores() -> None:
    plain = parse_any_scenario(GOOD)
    assert isinstance(plain, CapacityScenario)
    assert plain.capacity.server_cpu_cores is None
    budget = GOOD.replace("max_steps: 4", "max_steps: 4\n  server_cpu_cores: 0.5")
    held = parse_any_scenario(budget)
    assert isinstance(held, CapacityScenario)
    assert held.capacity.server_cpu_cores == 0.5
    too_many = (os.cpu_count() or 1) + 1
    with pytest.raises(ScenarioError, match=f"server_cpu_cores {too_many} is more than this"):
        parse_any_scenario(budget.replace("0.5", str(too_many)), "cap.yaml")
    with pytest.raises(ScenarioError, match=r"cap.yaml:\d+: capacity.server_cpu_cores"):
        parse_any_scenario(budget.replace("0.5", "0"), "cap.yaml")


def test_rooms_where_nobody_subscribes_are_refused() -> None:
    text = GOOD.replace("publishers: 1", "publishers: 4")
    with pytest.raises(ScenarioError, match="nobody subscribes"):
        parse_any_scenario(text)
    conference = parse_any_scenario(
        text.replace("publishers: 4", "publishers: 4, publishers_subscribe: true")
    )
    assert isinstance(conference, CapacityScenario)


def test_a_capacity_scenario_needs_an_slo() -> None:
    with pytest.raises(ScenarioError, match="slo"):
        parse_any_scenario(GOOD.split("slo:")[0] + "slo: []\n")


def test_a_timeline_reader_refuses_a_capacity_file(tmp_path: Path) -> None:
    path = tmp_path / "cap.yaml"
    path.write_text(GOOD)
    with pytest.raises(ScenarioError, match="capacity scenario"):
        load_scenario(path)


def test_every_slo_metric_is_a_throughput_metric_bar_the_whole_run_ones() -> None:
    assert set(get_args(ThroughputMetric)) == set(THROUGHPUT_METRICS)
    whole_run = {"peers_held", "sessions_per_second", "docs_per_second"}
    assert set(SLO_METRICS) == set(THROUGHPUT_METRICS) - whole_run
