"""``elastic_type: "generatorStats"``: the load generator's own health, one document per sample.

Not an OpenVidu type (OpenVidu never watched its clients): rtcsim's simulator posts a sample of
each of its processes every few seconds (``POST /generator-stats``) so a run's documents show
whether the generator, not the media server, was the bottleneck. Lag values are the event-loop
oversleep of the process's worst loop; ``cpuCores`` counts every thread (1.0 = one core),
``loopCpuCores`` only the busiest watched loop's thread (the GIL-bound part, capped at one).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.documents.base import Document


class GeneratorStatsInput(BaseModel):
    """``POST /generator-stats``: one sample of one generator process."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timestamp: int = Field(gt=0, description="ms since the epoch")
    runId: str | None = None
    process: str = Field(min_length=1)
    pid: int = Field(gt=0)
    hostname: str = ""
    loopLagP50Ms: float = Field(ge=0)
    loopLagP95Ms: float = Field(default=0.0, ge=0)
    loopLagMaxMs: float = Field(ge=0)
    cpuCores: float = Field(ge=0)
    loopCpuCores: float = Field(default=0.0, ge=0)
    rssKb: int = Field(ge=0)
    saturated: bool


class GeneratorStats(Document):
    elastic_type: Literal["generatorStats"] = "generatorStats"
    timestamp: int
    process: str
    pid: int
    hostname: str
    loopLagP50Ms: float
    loopLagP95Ms: float
    loopLagMaxMs: float
    cpuCores: float
    loopCpuCores: float
    rssKb: int
    saturated: bool
    rtcsim_run_id: str | None = None

    def identity(self) -> tuple[object, ...]:
        return (self.hostname, self.pid, self.process, self.timestamp)


def generator_stats(sample: GeneratorStatsInput) -> GeneratorStats:
    """The document of one sample; the run id goes where every rtcsim document keeps it."""
    return GeneratorStats(
        timestamp=sample.timestamp,
        process=sample.process,
        pid=sample.pid,
        hostname=sample.hostname,
        # Floats stay floats in JSON (the index maps a field from its first value).
        loopLagP50Ms=float(sample.loopLagP50Ms),
        loopLagP95Ms=float(sample.loopLagP95Ms),
        loopLagMaxMs=float(sample.loopLagMaxMs),
        cpuCores=float(sample.cpuCores),
        loopCpuCores=float(sample.loopCpuCores),
        rssKb=sample.rssKb,
        saturated=sample.saturated,
        rtcsim_run_id=sample.runId,
    )
