"""What a capacity search found: every step measured, how the search ended, the capacity.

Written to ``results/<run-id>/capacity.json`` and into ``summary.json`` (``capacity``); the
report draws its knee from it and ``rtcsim compare`` reads its capacity.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from simulator.verify.checks import Check

Verdict = Literal["good", "slo", "generator", "unsteady"]
"""good: every SLO held; slo: one broke (the server's failure); generator: the generator was
saturated (the step is invalid: it says nothing about the server); unsteady: the step's
newcomers were not all in within ``settle_timeout_s``."""
Ending = Literal["slo", "unsteady", "generator", "max_steps"]
CAPACITY_FILE = "capacity.json"
UNTHROTTLED_PCT = 10.0
"""A step whose server used its whole CPU budget in fewer of its periods than this is taken
for unbounded in the CPU-per-stream line (a few periods at the budget cost little)."""


@dataclass(frozen=True)
class SloOutcome:
    label: str
    metric: str
    op: str
    value: float
    found: float | None
    ok: bool


@dataclass(frozen=True)
class GeneratorHealth:
    """The generator's self-watch over a step, from its fill to the window's end."""

    samples: int = 0
    saturated_samples: int = 0
    cpu_avg_cores: float = 0.0
    cpu_max_cores: float = 0.0
    loop_lag_p95_max_ms: float = 0.0
    saturated: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class ServerUse:
    """Janus's process during a step's window (``monitoringStats``)."""

    samples: int = 0
    janus_cpu_pct: float | None = None
    janus_rss_kb: float | None = None
    cpu_per_stream_pct: float | None = None
    rss_per_stream_kb: float | None = None


@dataclass
class StepResult:
    step: int
    rooms: int
    users: int
    streams: int
    """Publications and subscriptions open when the window began."""
    started_ms: int
    steady_ms: int | None = None
    window_ms: list[int] = field(default_factory=list)
    """``[from, to]`` of the measured window; empty if the step never became steady."""
    newcomers: int = 0
    failures: list[str] = field(default_factory=list)
    """The first few errors of the step's newcomers (join, ICE, first frame)."""
    figures: dict[str, float | None] = field(default_factory=dict)
    slo: list[SloOutcome] = field(default_factory=list)
    generator: GeneratorHealth = field(default_factory=GeneratorHealth)
    server: ServerUse = field(default_factory=ServerUse)
    verdict: Verdict = "good"
    why: str = ""
    remeasured: int = 0
    """Windows measured again because the generator was saturated in the one before."""
    server_throttled_pct: float | None = None
    """With a CPU budget: the share of the window's CFS periods in which the server used its
    whole budget (``cpu.stat``'s ``nr_throttled``); the server's CPU figures are then capped."""

    @property
    def broken(self) -> list[SloOutcome]:
        return [outcome for outcome in self.slo if not outcome.ok]


@dataclass
class CapacityResult:
    scenario: str
    users_per_room: int
    publishers_per_room: int
    media: str
    steps: list[StepResult] = field(default_factory=list)
    ending: Ending = "max_steps"
    load_average: list[float] = field(default_factory=list)
    """The machine's 1, 5 and 15 minute load averages when the search ended (a busy shared
    machine moves the knee: say so next to the figure)."""
    server_cpu_cores: float | None = None
    """The server's CPU budget during the search (``capacity.server_cpu_cores``): the capacity
    is per this budget. None: the server could use the whole machine."""
    server_throttling: dict[str, Any] | None = None
    """With a budget: its cgroup and its ``cpu.stat`` over the whole search."""

    @property
    def capacity_step(self) -> StepResult | None:
        """The last step before the one that ended the search (every step before it held)."""
        good = [step for step in self.steps if step.verdict == "good"]
        return good[-1] if good else None

    @property
    def capacity_rooms(self) -> int:
        step = self.capacity_step
        return step.rooms if step is not None else 0

    @property
    def knee(self) -> StepResult | None:
        """The step that broke an SLO or could not settle (None: the search ended otherwise)."""
        last = self.steps[-1] if self.steps else None
        return last if last is not None and last.verdict in ("slo", "unsteady") else None

    def per_added_stream(self) -> dict[str, float | None]:
        """What each stream added cost Janus: the least-squares slope of its CPU and RSS over
        the streams of every step with a server sample (the intercept is its idle cost), which
        says more than a step's own per-stream figure, where the idle cost is shared out.

        Under a CPU budget the CPU line goes only through the steps the budget did not hold
        back (throttled in under ``UNTHROTTLED_PCT`` of their periods): once Janus is at its
        budget its CPU stays flat while streams are added, and a line through those steps
        would say a stream costs a third of what it does. Memory is not budgeted: every step."""
        measured = [s for s in self.steps if s.server.janus_cpu_pct is not None and s.streams]
        free = [
            s
            for s in measured
            if s.server_throttled_pct is None or s.server_throttled_pct < UNTHROTTLED_PCT
        ]
        cpu = _fit([(s.streams, s.server.janus_cpu_pct) for s in free])
        rss = _fit([(s.streams, s.server.janus_rss_kb) for s in measured])
        return {
            "steps": len(measured),
            "cpu_steps": len(free),
            "cpu_pct": _round(cpu[0], 4),
            "idle_cpu_pct": _round(cpu[1], 2),
            "rss_kb": _round(rss[0], 1),
            "idle_rss_kb": _round(rss[1], 0),
        }

    @property
    def invalid_reason(self) -> str | None:
        """Set when the generator, not the server, ended the search: the capacity is then
        only a lower bound, and the run is INVALID (exit code 3)."""
        last = self.steps[-1] if self.steps else None
        if self.ending != "generator" or last is None:
            return None
        return (
            f"step {last.step} ({last.rooms} rooms): {last.generator.reason or 'saturated'}; "
            f"the server held every SLO up to {self.capacity_rooms} rooms"
        )

    def headline(self) -> str:
        """One line: the capacity and how the search ended."""
        unit = f"rooms of {self.users_per_room}"
        if self.server_cpu_cores is not None:
            unit += f" per {self.server_cpu_cores:g} core of the server"
        step = self.capacity_step
        held = (
            f"{step.rooms} {unit} ({step.users} users, {step.streams} streams)"
            if step is not None
            else f"0 {unit}"
        )
        knee = self.knee
        if knee is not None:
            return f"capacity {held}: at {knee.rooms} rooms {knee.why}"
        if self.ending == "generator":
            return f"capacity at least {held}: the generator saturated at the next step"
        return f"capacity at least {held}: every step held (max_steps reached)"

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["capacity_rooms"] = self.capacity_rooms
        step = self.capacity_step
        data["capacity_users"] = step.users if step is not None else 0
        data["capacity_streams"] = step.streams if step is not None else 0
        data["knee_step"] = self.knee.step if self.knee is not None else None
        data["server_per_added_stream"] = added = self.per_added_stream()
        data["server_per_added_stream_line"] = added_stream_line(added)
        data["invalid_reason"] = self.invalid_reason
        data["headline"] = self.headline()
        return data

    def write(self, folder: Path) -> Path:
        path = folder / CAPACITY_FILE
        path.write_bytes(orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2))
        return path


def added_stream_line(added: dict[str, Any]) -> str:
    """``server_per_added_stream`` in words (the console's line and the report's); under a
    budget it says how many steps the CPU line went through. Empty: nothing measured."""
    if added.get("cpu_pct") is None and added.get("rss_kb") is None:
        return ""
    steps, cpu_steps = added.get("steps"), added.get("cpu_steps", added.get("steps"))
    cpu = (
        f"{added['cpu_pct']:.3f} % of a core (idle {_shown(added.get('idle_cpu_pct'), 1)} %"
        + (f"; {cpu_steps} steps below the CPU budget)" if cpu_steps != steps else ")")
        if added.get("cpu_pct") is not None
        else "CPU not measured below the budget"
    )
    return (
        f"{cpu}, {_shown(added.get('rss_kb'))} kB (idle {_shown(added.get('idle_rss_kb'))} kB); "
        f"a line through {steps} steps"
    )


def _shown(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{float(value):.{digits}f}"


def _fit(points: list[tuple[float, float | None]]) -> tuple[float | None, float | None]:
    """(slope, intercept) of a least-squares line; None without two distinct x values."""
    xy = [(float(x), float(y)) for x, y in points if y is not None]
    if len({x for x, _ in xy}) < 2:
        return None, None
    n = len(xy)
    mean_x = sum(x for x, _ in xy) / n
    mean_y = sum(y for _, y in xy) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in xy)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in xy) / sxx
    return slope, mean_y - slope * mean_x


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def read_capacity(folder: Path) -> dict[str, Any] | None:
    """A run folder's ``capacity.json`` as written (None: not a capacity run)."""
    path = folder / CAPACITY_FILE
    if not path.is_file():
        return None
    data: dict[str, Any] = orjson.loads(path.read_bytes())
    return data


def capacity_checks(capacity: dict[str, Any]) -> list[Check]:
    """The search's own checks, from its ``capacity.json``: it measured a step, and the server
    held every SLO at the first one (a first step the generator could not measure proves
    nothing either way: that run is INVALID instead)."""
    steps = capacity.get("steps", [])
    first = steps[0] if steps else None
    return [
        Check(
            "capacity: the search measured at least one step",
            bool(steps),
            ">= 1 step",
            len(steps),
            str(capacity.get("headline", "")),
        ),
        Check(
            "capacity: the server held every SLO at the first step",
            first is not None and first["verdict"] in ("good", "generator"),
            "first step good",
            first["verdict"] if first is not None else "no step",
            first["why"] if first is not None else "",
        ),
    ]
