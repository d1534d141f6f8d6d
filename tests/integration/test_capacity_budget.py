"""A capacity search with a CPU budget on the real Janus: Janus is in the slot's cpu cgroup,
at the quota asked, while the steps play, and back in its own cgroup, the child gone, after."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rich.console import Console

from rtcsim.pipeline.runs import run_file
from rtcsim.services import janus, stack
from rtcsim.services.cpu_budget import CpuCgroups, cgroup_name
from simulator.settings import Settings

pytestmark = pytest.mark.integration

BUDGET = """\
name: capacity-budget
capacity:
  room: {users: 3, publishers: 1, media: cheap, video: {width: 320, height: 240}}
  start_rooms: 1
  step_rooms: 1
  max_steps: 2
  warmup_s: 2
  hold_s: 8
  server_cpu_cores: 0.25
slo:
  - {metric: join_success_ratio, op: ">=", value: 0.99}
"""


def test_a_search_with_a_budget_holds_janus_to_it_and_lets_go_after(
    running_stack: Settings, tmp_path: Path
) -> None:
    pid = janus.pid(running_stack)
    assert pid is not None
    cgroups = CpuCgroups()
    home = cgroups.cgroup_of(pid)
    child = home / cgroup_name(running_stack.sfu_netns, "janus")
    seen: list[tuple[Path, str, str]] = []

    def progress(line: str) -> None:
        """Each step's line, as it is printed: where Janus is now, its quota and shares there."""
        if line.startswith("step ") and "rooms, " in line:
            where = cgroups.cgroup_of(pid)
            quota = (where / "cpu.cfs_quota_us").read_text().strip()
            shares = (where / "cpu.shares").read_text().strip()
            seen.append((where, quota, shares))

    scenario = tmp_path / "budget.yaml"
    scenario.write_text(BUDGET)
    outcome = asyncio.run(run_file(scenario, running_stack, progress=progress))

    # both steps ran inside the budget, and it was Janus's own (the kernel's maximum weight)
    assert seen == [(child, "25000", "262144"), (child, "25000", "262144")]
    assert cgroups.cgroup_of(pid) == home
    assert not child.exists()
    capacity = outcome.sections["capacity"]
    assert capacity["server_cpu_cores"] == 0.25
    assert capacity["server_throttling"]["cgroup"] == str(child)
    assert capacity["server_throttling"]["nr_periods"] > 0  # Janus ran under the quota
    assert all(s["server_throttled_pct"] is not None for s in capacity["steps"])
    assert "per 0.25 core of the server" in capacity["headline"]
    assert janus.pid(running_stack) == pid  # the same Janus, never restarted


def test_services_up_lifts_a_budget_a_killed_search_left_on_the_janus_it_reuses(
    running_stack: Settings,
) -> None:
    """A search killed with SIGKILL leaves Janus in its child cgroup, at its quota; the next
    ``services up`` reuses that Janus, and whatever runs next must find it unbounded."""
    pid = janus.pid(running_stack)
    assert pid is not None
    cgroups = CpuCgroups()
    home = cgroups.cgroup_of(pid)
    child = home / cgroup_name(running_stack.sfu_netns, "janus")
    child.mkdir()  # what ``applied`` does, without the clean-up a killed process never runs
    (child / "cpu.cfs_period_us").write_text("100000\n")
    (child / "cpu.cfs_quota_us").write_text("10000\n")
    (child / "cgroup.procs").write_text(f"{pid}\n")
    try:
        assert cgroups.cgroup_of(pid) == child
        out = Console(record=True, width=200)
        stack.up(running_stack, console=out)
        assert cgroups.cgroup_of(pid) == home
        assert not child.exists()
        assert janus.pid(running_stack) == pid  # reused, not restarted
        assert "lifted the CPU budget a killed capacity search left" in out.export_text()
        again = Console(record=True, width=200)
        stack.up(running_stack, console=again)
        assert "lifted" not in again.export_text()  # nothing left to lift
    finally:
        cgroups.remove(child, home)
