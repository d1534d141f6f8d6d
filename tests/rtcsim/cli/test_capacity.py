"""``rtcsim capacity``'s table: the budget in its title, each window's throttled share."""

from __future__ import annotations

import pytest

from rtcsim.cli.capacity import print_capacity
from simulator.load.capacity.result import CapacityResult, ServerUse, StepResult


def _result(cores: float | None) -> CapacityResult:
    step = StepResult(1, rooms=2, users=8, streams=8, started_ms=0)
    step.server = ServerUse(samples=1, janus_cpu_pct=29.5)
    step.server_throttled_pct = 71.0 if cores is not None else None
    return CapacityResult("cap", 4, 1, "cheap", [step], server_cpu_cores=cores)


def test_the_table_names_the_servers_budget_and_how_often_it_was_throttled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_capacity(_result(0.3).as_dict())
    out = capsys.readouterr().out
    assert "capacity — cap (server held to 0.3 core)" in out
    assert "│    29.5 │    71 │" in out
    assert "per 0.3 core of the server" in out


def test_a_search_without_a_budget_says_none(capsys: pytest.CaptureFixture[str]) -> None:
    print_capacity(_result(None).as_dict())
    out = capsys.readouterr().out
    assert "held to" not in out
    assert "│    29.5 │     — │" in out
