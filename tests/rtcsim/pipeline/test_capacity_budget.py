"""The capacity pipeline's CPU budget: refused before a run folder exists when it cannot be
applied, and the server in the child cgroup only while the block runs (fake hierarchy)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from rtcsim.pipeline import capacity
from rtcsim.pipeline.capacity import run_capacity_scenario, server_budget
from rtcsim.pipeline.outcome import SetupError
from rtcsim.services.cpu_budget import CpuCgroups
from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.loader import parse_any_scenario
from simulator.settings import Settings

PID = 31337
BUDGET = """
name: cap-budget
capacity:
  room: {users: 3, publishers: 1}
  max_steps: 1
  server_cpu_cores: 0.5
slo:
  - {metric: latency_p95_ms, op: "<=", value: 300}
"""


def _settings(tmp_path: Path) -> Settings:
    return Settings(sfu_netns="t-sfu", results_dir=tmp_path / "results")


def _hierarchy(tmp_path: Path) -> CpuCgroups:
    root = tmp_path / "cpu"
    root.mkdir()
    (root / "cpu.cfs_quota_us").write_text("-1\n")
    proc = tmp_path / "proc" / str(PID)
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text("1:cpu:/\n")
    return CpuCgroups(root=root, proc=tmp_path / "proc", rmdir=shutil.rmtree)


def test_a_search_with_a_budget_on_a_machine_without_cgroups_is_refused_before_it_runs(
    tmp_path: Path,
) -> None:
    scenario = parse_any_scenario(BUDGET)
    assert isinstance(scenario, CapacityScenario)
    settings = _settings(tmp_path)
    missing = CpuCgroups(root=tmp_path / "no-cgroups")
    with pytest.raises(SetupError, match="server_cpu_cores needs a CPU budget, but no cgroup"):
        asyncio.run(
            run_capacity_scenario(
                scenario, Path("cap.yaml"), settings, progress=print, cgroups=missing
            )
        )
    assert not settings.results_dir.exists()


def test_a_budget_without_a_running_server_says_to_start_the_services(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(capacity.SERVER_PIDS, "janus", lambda _settings: None)
    with (
        pytest.raises(SetupError, match="no janus started by rtcsim is running"),
        server_budget(_settings(tmp_path), 0.5, _hierarchy(tmp_path), print),
    ):
        pass


def test_the_server_is_in_the_slots_cgroup_only_while_the_block_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(capacity.SERVER_PIDS, "janus", lambda _settings: PID)
    cgroups = _hierarchy(tmp_path)
    lines: list[str] = []
    with server_budget(_settings(tmp_path), 0.5, cgroups, lines.append) as budget:
        assert budget is not None
        assert budget.path == cgroups.root / "rtcsim-t-sfu-janus"
        assert (budget.path / "cgroup.procs").read_text() == f"{PID}\n"
        assert (budget.path / "cpu.cfs_quota_us").read_text() == "50000\n"
    assert not budget.path.exists()
    assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"
    assert lines[0].startswith(f"janus (pid {PID}) held to 0.5 core")
    assert lines[-1].startswith("janus leaves its budget, throttled in 0 of 0 CFS periods")


def test_no_budget_asked_is_no_cgroup_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(capacity.SERVER_PIDS, "janus", lambda _settings: PID)
    cgroups = _hierarchy(tmp_path)
    with server_budget(_settings(tmp_path), None, cgroups, print) as budget:
        assert budget is None
    assert sorted(p.name for p in cgroups.root.iterdir()) == ["cpu.cfs_quota_us"]


def test_a_search_without_a_budget_first_lifts_one_a_killed_search_left_on_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(capacity.SERVER_PIDS, "janus", lambda _settings: PID)
    cgroups = _hierarchy(tmp_path)
    left = cgroups.root / "rtcsim-t-sfu-janus"
    left.mkdir()
    (left / "cgroup.procs").write_text(f"{PID}\n")
    (tmp_path / "proc" / str(PID) / "cgroup").write_text("1:cpu:/rtcsim-t-sfu-janus\n")
    with server_budget(_settings(tmp_path), None, cgroups, print) as budget:
        assert budget is None
        assert not left.exists()
        assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"
