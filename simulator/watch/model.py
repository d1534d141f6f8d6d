"""What the watch sends while it runs: one sample per interval (its report, one per watched
process, is a ledger record: ``simulator.ledger.GeneratorReport``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.ledger import LagSummary


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
