"""What the watch produces: one sample per interval, one report per watched process."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of ``values``; 0.0 when there are none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class LagSummary:
    """Oversleeps of one loop's probe, in ms."""

    p50_ms: float = 0.0
    p95_ms: float = 0.0
    max_ms: float = 0.0
    wakeups: int = 0

    @classmethod
    def of(cls, lags_s: Sequence[float]) -> LagSummary:
        return cls(
            p50_ms=round(percentile(lags_s, 50) * 1000, 2),
            p95_ms=round(percentile(lags_s, 95) * 1000, 2),
            max_ms=round(max(lags_s, default=0.0) * 1000, 2),
            wakeups=len(lags_s),
        )


@dataclass(frozen=True)
class GeneratorSample:
    """One interval of one process. Loop lag fields are the worst watched loop's."""

    timestamp_ms: int
    process: str
    pid: int
    hostname: str
    cpu_cores: float
    rss_kb: int
    loops: dict[str, LagSummary]
    saturated: bool
    run_id: str | None = None
    loop_cpu_cores: dict[str, float] = field(default_factory=dict)
    """CPU of each watched loop's thread (the GIL-bound work of that loop)."""

    @property
    def worst_loop(self) -> LagSummary:
        return max(self.loops.values(), key=lambda lag: lag.p95_ms, default=LagSummary())

    def as_input(self) -> dict[str, Any]:
        """The body of the collector's ``POST /generator-stats`` (camelCase, as its API)."""
        worst = self.worst_loop
        return {
            "timestamp": self.timestamp_ms,
            "runId": self.run_id,
            "process": self.process,
            "pid": self.pid,
            "hostname": self.hostname,
            "loopLagP50Ms": worst.p50_ms,
            "loopLagP95Ms": worst.p95_ms,
            "loopLagMaxMs": worst.max_ms,
            "cpuCores": round(self.cpu_cores, 4),
            "loopCpuCores": round(max(self.loop_cpu_cores.values(), default=0.0), 4),
            "rssKb": self.rss_kb,
            "saturated": self.saturated,
        }


@dataclass
class GeneratorReport:
    """A whole run of one process: what the watch saw and whether the process was saturated."""

    process: str
    pid: int
    hostname: str
    samples: int = 0
    loop_lag_p50_ms: float = 0.0
    loop_lag_p95_ms: float = 0.0
    loop_lag_max_ms: float = 0.0
    cpu_avg_cores: float = 0.0
    cpu_max_cores: float = 0.0
    rss_max_kb: int = 0
    saturated: bool = False
    reasons: list[str] = field(default_factory=list)
    loops: dict[str, LagSummary] = field(default_factory=dict)
    """Per watched loop (``media``, ``runner``); the ``loop_lag_*`` fields are the worst's."""
    loop_cpu_max_cores: dict[str, float] = field(default_factory=dict)
    """Per watched loop: the most CPU its thread used in one sample."""
