"""One soak: the stack up, ``rtcsim load`` of a churning locustfile for a bounded time, the
collector sampled throughout, the verdict, ``results/soak-<time>/soak.json``.

The load runs as a child process (``python -m rtcsim load``: locust needs a process of its
own, see ``simulator.load.locust_user``) with this process's environment, so it plays against
the same stack as the ``RTCSIM_*`` variables the settings were read from. The collector is
watched from outside, through ``/proc``, so the watching costs it nothing; ``/health`` is asked
for its open sessions and journal size, shown as they go and kept in the samples.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from rtcsim.library import LOCUSTFILES
from rtcsim.services import collector, stack
from rtcsim.services.httpcheck import http_get
from rtcsim.soak.judge import Bounds, Sample, Verdict, Visits, judge
from rtcsim.soak.probe import ProcessGone, open_fds, rss_kb, visits_from_csv
from simulator.settings import Settings

MAX_MINUTES = 60.0
MAX_USERS = 60
SOAK_LOCUSTFILE = LOCUSTFILES / "soak.py"
STOP_TIMEOUT_S = 15  # a visit is ~7 s: users finish theirs after the run time, then rooms go
LOAD_SLACK_S = 90  # locust's start-up and wind-down (rooms destroyed) beyond run + stop timeout


class SoakError(Exception):
    """The soak could not be started (no collector of ours to watch, a bad plan)."""


@dataclass(frozen=True)
class SoakPlan:
    minutes: float = 5.0
    users: int = 9
    sample_s: float = 5.0
    spawn_rate: float = 3.0
    locustfile: Path = SOAK_LOCUSTFILE

    def __post_init__(self) -> None:
        if not 0 < self.minutes <= MAX_MINUTES:
            raise SoakError(f"minutes must be in (0, {MAX_MINUTES:g}], not {self.minutes:g}")
        if not 1 <= self.users <= MAX_USERS:
            raise SoakError(f"users must be in [1, {MAX_USERS}], not {self.users}")
        if not 0.5 <= self.sample_s <= 60:
            raise SoakError(f"sample_s must be in [0.5, 60], not {self.sample_s:g}")

    @property
    def run_time_s(self) -> int:
        return max(1, round(self.minutes * 60))


@dataclass
class SoakResult:
    out_dir: Path
    plan: SoakPlan
    bounds: Bounds
    collector_pid: int
    samples: list[Sample] = field(default_factory=list)
    visits: Visits = field(default_factory=lambda: Visits(0, 0, 0, 0))
    verdict: Verdict = field(default_factory=lambda: Verdict(passed=False))
    load_dir: Path | None = None
    load_exit_code: int | None = None
    duration_s: float = 0.0

    @property
    def soak_json(self) -> Path:
        return self.out_dir / "soak.json"

    def to_json(self) -> dict[str, Any]:
        return {
            "plan": {**asdict(self.plan), "locustfile": str(self.plan.locustfile)},
            "bounds": asdict(self.bounds),
            "collector_pid": self.collector_pid,
            "duration_s": round(self.duration_s, 1),
            "load_dir": str(self.load_dir) if self.load_dir else None,
            "load_exit_code": self.load_exit_code,
            "visits": asdict(self.visits),
            "verdict": self.verdict.to_json(),
            "samples": [asdict(s) for s in self.samples],
        }


def load_command(plan: SoakPlan) -> list[str]:
    return [
        sys.executable,
        "-m",
        "rtcsim",
        "load",
        str(plan.locustfile),
        "--users",
        str(plan.users),
        "--spawn-rate",
        str(plan.spawn_rate),
        "--run-time",
        f"{plan.run_time_s}s",
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
    ]


def soak(
    settings: Settings,
    plan: SoakPlan,
    bounds: Bounds | None = None,
    *,
    console: Console | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SoakResult:
    """Play the soak and judge it; raises ``ServiceError`` (stack) or ``SoakError`` (setup)."""
    out = console or Console(stderr=True)
    bounds = bounds or Bounds()
    stack.up(settings, console=out)
    pid = collector.pid(settings)
    if pid is None:
        raise SoakError(
            f"no collector started by rtcsim for {settings.state_dir} runs: a reused one cannot "
            "be watched (its pid is unknown); stop it and let the soak start its own"
        )
    out_dir = settings.results_dir / time.strftime("soak-%Y%m%d-%H%M%S")
    out_dir.mkdir(parents=True, exist_ok=True)
    result = SoakResult(out_dir, plan, bounds, pid)
    log_path = out_dir / "load.log"
    began = clock()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(load_command(plan), stdout=log, stderr=subprocess.STDOUT)
        try:
            restarted = _watch(result, proc, settings, out, clock, sleep, began)
        finally:
            if proc.poll() is None:  # interrupted, or overran: locust ends its users itself
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    result.duration_s = clock() - began
    result.load_exit_code = proc.returncode
    result.load_dir = load_dir_from_log(log_path.read_text(errors="replace"))
    if result.load_dir is not None:
        result.visits = visits_from_csv(result.load_dir / "stats_stats.csv")
    result.verdict = judge(
        result.samples,
        result.visits,
        bounds,
        users=plan.users,
        load_minutes=plan.run_time_s / 60,
        restarted=restarted,
    )
    result.soak_json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return result


def _watch(
    result: SoakResult,
    proc: subprocess.Popen[bytes],
    settings: Settings,
    out: Console,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    began: float,
) -> bool:
    """Sample the collector until the load ends; True if the collector's process changed."""
    plan = result.plan
    deadline = began + plan.run_time_s + STOP_TIMEOUT_S + LOAD_SLACK_S
    restarted = False
    progress = Progress(
        TextColumn("[bold]soak[/]"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=out,
    )
    with progress:
        task = progress.add_task("soak", total=plan.run_time_s, status="starting the load")
        while proc.poll() is None and clock() < deadline:
            now = clock() - began
            if not restarted:
                try:
                    sample = _sample(result.collector_pid, now, settings)
                except ProcessGone:
                    restarted = True
                else:
                    result.samples.append(sample)
                    progress.update(task, status=_status(sample))
                if collector.pid(settings) != result.collector_pid:
                    restarted = True
            if restarted:
                progress.update(task, status="[red]the collector's process is gone[/]")
            progress.update(task, completed=min(now, plan.run_time_s))
            sleep(plan.sample_s)
        if proc.poll() is None:
            out.print("[red]the load overran its time; stopping it[/]")
    return restarted


def _sample(pid: int, t_s: float, settings: Settings) -> Sample:
    rss, fds = rss_kb(pid), open_fds(pid)
    opened: int | None = None
    journal: int | None = None
    answer = http_get(f"{settings.collector_api_url}/health", timeout_s=2.0)
    if answer.ok:
        body = json.loads(answer.body)
        opened = body.get("open_sessions")
        journal = (body.get("journal") or {}).get("bytes")
    return Sample(round(t_s, 1), rss, fds, opened, journal)


def _status(sample: Sample) -> str:
    parts = [f"RSS {sample.rss_kb / 1024:.1f} MB", f"fds {sample.fds}"]
    if sample.open_sessions is not None:
        parts.append(f"open sessions {sample.open_sessions}")
    return "  ".join(parts)


def load_dir_from_log(text: str) -> Path | None:
    """Where ``rtcsim load`` put locust's CSVs (its last line says so)."""
    found = re.findall(r"locust stats: (.+)/stats_stats\.csv", text)
    return Path(found[-1].strip()) if found else None
