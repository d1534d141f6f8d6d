"""A CPU budget for the media server during a capacity search (cgroup v1, CFS bandwidth).

On a small machine the load generator shares the cores with the server under test, and an
unbounded server lets the generator saturate first: the search then ends INVALID, with only a
lower bound. Capping the server at a fraction of a core makes the server run out first, and the
capacity is then read per that budget ("rooms of 4 per 0.5 core"), the way servers are sized.

The budget is a child of the server's own cpu cgroup, named for the stack's slot
(``rtcsim-<sfu_netns>-<server>``), with ``cpu.cfs_quota_us`` = cores x ``cpu.cfs_period_us``
(kernel: Documentation/scheduler/sched-bwc.rst) and ``cpu.shares`` at the kernel's maximum, so
the budget is the server's own rather than a ceiling it competes for. Writing the pid to
``cgroup.procs`` moves every thread of the process, and threads it starts later inherit the
cgroup. ``applied`` puts the server back in its own cgroup and removes the child whatever
happens (an exception, a Ctrl-C); a child left behind by a run that was killed is emptied and
removed when the next one starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from rtcsim.services.errors import ServiceError

CPU_ROOT = Path("/sys/fs/cgroup/cpu")
"""Where cgroup v1 mounts the cpu controller (``mount | grep cgroup``)."""
PERIOD_US = 100_000
"""The CFS period: the kernel's default, short enough that a throttled server stalls at most
(1 - budget) x 100 ms at a time."""
QUOTA_FILE = "cpu.cfs_quota_us"
SHARES = 262_144
"""The child's ``cpu.shares``: the kernel's maximum. The quota caps the server; the shares make
what it is allowed its own. With the default 1,024 the child weighs as much as any one thread
beside it (Elasticsearch's dozens, the generator's), so on a busy machine the server also
waited behind them for its budget, by as much as the load beside it happened to be: a latency
that was not the server's. Two searches of the same code found 26 and 22 rooms of 4 so; with
the shares three found 20, 18 and 18 (README, "Capacity")."""


class CpuBudgetError(ServiceError):
    """The budget cannot be applied here (no cpu controller, or no server process)."""


@dataclass(frozen=True)
class Throttling:
    """The child's ``cpu.stat``: how often the budget held the server back."""

    nr_periods: int = 0
    nr_throttled: int = 0
    throttled_ms: float = 0.0

    @property
    def throttled_ratio(self) -> float:
        """Share of the CFS periods in which the server used its whole budget."""
        return self.nr_throttled / self.nr_periods if self.nr_periods else 0.0


@dataclass(frozen=True)
class CpuCgroups:
    """The cpu hierarchy (``root``) and where processes' cgroups are read (``proc``): both
    paths, so a test can lay out a fake hierarchy in a folder of its own."""

    root: Path = CPU_ROOT
    proc: Path = Path("/proc")
    rmdir: Callable[[Path], None] = os.rmdir
    """Removes a cgroup (a cgroup folder is removed with rmdir, its control files in it)."""

    def missing(self) -> str | None:
        """What is missing for a budget, or None when it can be applied."""
        quota = self.root / QUOTA_FILE
        if not quota.is_file():
            return (
                f"no cgroup v1 cpu controller with CFS bandwidth at {self.root} "
                f"({quota} is missing; see `mount | grep cgroup`)"
            )
        if not os.access(self.root, os.W_OK):
            return f"{self.root} is not writable (the budget needs root)"
        return None

    def cgroup_of(self, pid: int) -> Path:
        """The folder of ``pid``'s cpu cgroup, from ``/proc/<pid>/cgroup``."""
        try:
            lines = (self.proc / str(pid) / "cgroup").read_text().splitlines()
        except OSError as exc:
            raise CpuBudgetError(f"cannot read the cgroups of process {pid}: {exc}") from exc
        for line in lines:
            _, controllers, path = line.split(":", 2)
            if "cpu" in controllers.split(","):
                return self.root / path.lstrip("/")
        raise CpuBudgetError(f"process {pid} is in no cpu cgroup (/proc/{pid}/cgroup)")

    @contextlib.contextmanager
    def applied(self, pid: int, cores: float, name: str) -> Iterator[Budget]:
        """``pid`` held to ``cores`` CPUs in the child cgroup ``name`` for the block."""
        problem = self.missing()
        if problem is not None:
            raise CpuBudgetError(f"cannot give the server a CPU budget: {problem}")
        home = self.release(pid, name)
        child = home / name
        child.mkdir()
        try:
            (child / "cpu.cfs_period_us").write_text(f"{PERIOD_US}\n")
            (child / QUOTA_FILE).write_text(f"{round(cores * PERIOD_US)}\n")
            (child / "cpu.shares").write_text(f"{SHARES}\n")
            _move(pid, child)
            yield Budget(cores, child, pid)
        finally:
            with contextlib.suppress(ProcessLookupError):
                _move(pid, home)
            self.remove(child, home)

    def release(self, pid: int, name: str) -> Path:
        """Free ``pid`` from a child ``name`` a killed run left behind (the server would stay
        throttled in it); return the server's own cgroup."""
        home = self.cgroup_of(pid)
        if home.name == name:
            home = home.parent
        self.remove(home / name, home)
        return home

    def remove(self, child: Path, home: Path) -> None:
        """Empty ``child`` into ``home`` (a process left there by a killed run) and remove it."""
        if not child.is_dir():
            return
        for pid in _pids(child):
            with contextlib.suppress(ProcessLookupError):
                _move(pid, home)
        self.rmdir(child)


@dataclass(frozen=True)
class Budget:
    """A budget in force: ``pid`` in the cgroup ``path``, allowed ``cores`` CPUs."""

    cores: float
    path: Path
    pid: int

    def throttling(self) -> Throttling:
        """The child's ``cpu.stat`` so far."""
        stat: dict[str, int] = {}
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if value.strip().isdigit():
                    stat[key] = int(value)
        return Throttling(
            nr_periods=stat.get("nr_periods", 0),
            nr_throttled=stat.get("nr_throttled", 0),
            throttled_ms=round(stat.get("throttled_time", 0) / 1e6, 1),
        )


def lift_leftover(pid: int | None, name: str, cgroups: CpuCgroups | None = None) -> bool:
    """Free the server ``pid`` from a budget ``name`` that a killed search left behind; True
    when there was one. Whatever runs on that server next (``services up`` reusing it, a run,
    a search without a budget) must not measure a server still throttled. A machine where
    budgets cannot be applied has none to lift."""
    hierarchy = cgroups or CpuCgroups()
    if pid is None or hierarchy.missing() is not None:
        return False
    try:
        home = hierarchy.cgroup_of(pid)
        left = home.name == name or (home / name).is_dir()
        if left:
            hierarchy.release(pid, name)
    except (CpuBudgetError, OSError):
        return False
    return left


def cgroup_name(sfu_netns: str, server: str) -> str:
    """The child's name: one per stack slot and server, so two stacks never share one."""
    return f"rtcsim-{sfu_netns}-{server}"


def _move(pid: int, cgroup: Path) -> None:
    """Move ``pid`` (every thread of it) into ``cgroup``; ESRCH (it has exited) raises
    ``ProcessLookupError``."""
    try:
        (cgroup / "cgroup.procs").write_text(f"{pid}\n")
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            raise ProcessLookupError(pid) from exc
        raise CpuBudgetError(f"cannot move process {pid} into {cgroup}: {exc}") from exc


def _pids(cgroup: Path) -> list[int]:
    with contextlib.suppress(OSError):
        text = (cgroup / "cgroup.procs").read_text()
        return [int(word) for word in text.split()]
    return []
