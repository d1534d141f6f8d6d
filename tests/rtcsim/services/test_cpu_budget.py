"""The server's CPU budget on a fake cgroup v1 hierarchy: a folder standing for
``/sys/fs/cgroup/cpu`` and one for ``/proc``, so every write can be read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rtcsim.services.cpu_budget import (
    CpuBudgetError,
    CpuCgroups,
    Throttling,
    cgroup_name,
    lift_leftover,
)

PID = 4242
NAME = "rtcsim-h2-sfu-janus"


def _fake(tmp_path: Path, cgroup: str = "/") -> CpuCgroups:
    root = tmp_path / "cpu"
    root.mkdir()
    (root / "cpu.cfs_quota_us").write_text("-1\n")
    (root / "cgroup.procs").write_text("")
    proc = tmp_path / "proc" / str(PID)
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(f"4:memory:/x\n2:cpuacct:/\n1:cpu:{cgroup}\n0::/\n")
    # A real cgroup folder is removed by rmdir with its control files in it; a plain one not.
    return CpuCgroups(root=root, proc=tmp_path / "proc", rmdir=shutil.rmtree)


def test_the_budget_writes_period_and_quota_and_moves_the_pid_into_the_child(
    tmp_path: Path,
) -> None:
    cgroups = _fake(tmp_path)
    with cgroups.applied(PID, 0.5, NAME) as budget:
        child = cgroups.root / NAME
        assert budget.path == child
        assert (child / "cpu.cfs_period_us").read_text() == "100000\n"
        assert (child / "cpu.cfs_quota_us").read_text() == "50000\n"
        assert (child / "cpu.shares").read_text() == "262144\n"  # its budget is its own
        assert (child / "cgroup.procs").read_text() == f"{PID}\n"
    assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"  # back in its parent
    assert not child.exists()


def test_the_child_is_removed_and_the_pid_moved_back_when_the_block_raises(
    tmp_path: Path,
) -> None:
    cgroups = _fake(tmp_path)
    with pytest.raises(KeyboardInterrupt), cgroups.applied(PID, 1.5, NAME):
        raise KeyboardInterrupt
    assert not (cgroups.root / NAME).exists()
    assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"


def test_the_child_is_made_inside_the_servers_own_cgroup(tmp_path: Path) -> None:
    cgroups = _fake(tmp_path, "/slice/a")
    home = cgroups.root / "slice" / "a"
    home.mkdir(parents=True)
    with cgroups.applied(PID, 0.25, NAME) as budget:
        assert budget.path == home / NAME
        assert (budget.path / "cpu.cfs_quota_us").read_text() == "25000\n"
    assert (home / "cgroup.procs").read_text() == f"{PID}\n"


def test_a_child_left_by_a_killed_run_is_emptied_and_replaced(tmp_path: Path) -> None:
    cgroups = _fake(tmp_path, f"/{NAME}")  # the server is still in the old child
    left = cgroups.root / NAME
    left.mkdir()
    (left / "cgroup.procs").write_text(f"{PID}\n")
    (left / "cpu.cfs_quota_us").write_text("10000\n")
    with cgroups.applied(PID, 0.5, NAME) as budget:
        assert budget.path == left
        assert (left / "cpu.cfs_quota_us").read_text() == "50000\n"
    assert not left.exists()
    assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"


def test_a_leftover_budget_is_lifted_once_and_only_when_there_is_one(tmp_path: Path) -> None:
    """What ``services up`` does with a reused server: a throttle a killed search left is
    lifted (True), then there is none (False); no pid or no controller lifts nothing."""
    cgroups = _fake(tmp_path, f"/{NAME}")
    left = cgroups.root / NAME
    left.mkdir()
    (left / "cgroup.procs").write_text(f"{PID}\n")
    assert lift_leftover(PID, NAME, cgroups) is True
    assert not left.exists()
    assert (cgroups.root / "cgroup.procs").read_text() == f"{PID}\n"
    (tmp_path / "proc" / str(PID) / "cgroup").write_text("1:cpu:/\n")
    assert lift_leftover(PID, NAME, cgroups) is False
    assert lift_leftover(None, NAME, cgroups) is False
    (cgroups.root / "cpu.cfs_quota_us").unlink()
    assert lift_leftover(PID, NAME, cgroups) is False


def test_throttling_reads_the_childs_cpu_stat(tmp_path: Path) -> None:
    cgroups = _fake(tmp_path)
    with cgroups.applied(PID, 0.5, NAME) as budget:
        assert budget.throttling() == Throttling()
        (budget.path / "cpu.stat").write_text(
            "nr_periods 400\nnr_throttled 100\nthrottled_time 2500000000\n"
        )
        stat = budget.throttling()
    assert stat == Throttling(nr_periods=400, nr_throttled=100, throttled_ms=2500.0)
    assert stat.throttled_ratio == 0.25


def test_a_hierarchy_without_cfs_bandwidth_says_what_is_missing(tmp_path: Path) -> None:
    cgroups = CpuCgroups(root=tmp_path / "nowhere", proc=tmp_path)
    problem = cgroups.missing()
    assert problem is not None
    assert "cpu.cfs_quota_us is missing" in problem
    with pytest.raises(CpuBudgetError, match="cannot give the server a CPU budget"):
        cgroups.applied(PID, 0.5, NAME).__enter__()


def test_a_process_in_no_cpu_cgroup_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    cgroups = _fake(tmp_path)
    (tmp_path / "proc" / str(PID) / "cgroup").write_text("0::/\n")
    with pytest.raises(CpuBudgetError, match="in no cpu cgroup"):
        cgroups.cgroup_of(PID)
    with pytest.raises(CpuBudgetError, match="cannot read the cgroups of process 7"):
        cgroups.cgroup_of(7)


def test_the_name_is_the_stacks_slot_and_server() -> None:
    assert cgroup_name("h2-sfu", "janus") == NAME
