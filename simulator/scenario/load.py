"""Load scenarios: a locust run (``load:``) instead of rooms, participants and a timeline, with
the same ``expect`` list as any scenario (typically throughput targets)."""

from __future__ import annotations

from pydantic import Field, model_validator

from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.model import ExpectItem, Name, Scenario, Strict


class LoadSpec(Strict):
    """A locust run: who the users are is the locustfile's business (``WebRTCUser`` classes)."""

    locustfile: str = Field(description="path, relative to the scenario file")
    users: int = Field(6, ge=1, le=500)
    spawn_rate: float = Field(2.0, ge=0.1, le=50)
    run_time_s: float = Field(60, gt=0, le=3600)
    workers: int = Field(0, ge=0, le=16, description="0: one process; K: a master and K workers")
    stop_timeout_s: int = Field(30, ge=0, le=300, description="users finish their visit")


class LoadScenario(Strict):
    """A load scenario: a locust run, recorded by the collector, then checked like any run
    (built-in invariants, plus its ``expect`` list, typically throughput targets)."""

    name: Name
    description: str = ""
    seed: int = 0
    load: LoadSpec
    expect: list[ExpectItem] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_windows(self) -> LoadScenario:
        for index, expectation in enumerate(self.expect):
            if getattr(expectation, "window", None) is not None:
                raise ValueError(f"expect[{index}]: a load run has no labelled steps for a window")
        return self

    @property
    def duration_s(self) -> float:
        return self.load.run_time_s


AnyScenario = Scenario | LoadScenario | CapacityScenario
