"""Any scenario file to its outcome: a timeline scenario plays through ``simulator.player``, a
load scenario (one with ``load:``) through locust (``rtcsim.pipeline.load``), a capacity scenario
(``capacity:``) through the search (``rtcsim.pipeline.capacity``). All end the same way
(``rtcsim.pipeline.conclude.conclude``), so ``rtcsim run``, the pytest plugin and ``rtcsim check``
treat them alike.

A run is three steps, so that ``rtcsim run a.yaml b.yaml`` can validate every file before the
first plays and check the services once: ``prepare`` (the file read and parsed once, validated
whole against the media server and the machine: ``simulator.validation``), ``preflight``
(``rtcsim.pipeline.preflight``), ``play``. ``run_file`` does all three.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rtcsim.pipeline.capacity import run_capacity_scenario
from rtcsim.pipeline.load import run_load_scenario
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.preflight import preflight
from rtcsim.pipeline.timeline import run_timeline
from simulator.driver.protocol import Driver
from simulator.driver.servers import driver_for
from simulator.player.runner import Progress, RunObserver
from simulator.scenario.capacity import CapacityScenario
from simulator.scenario.load import AnyScenario, LoadScenario
from simulator.settings import Settings
from simulator.validation import Server, validate_file


@dataclass(frozen=True)
class PreparedRun:
    """A scenario file read once and validated whole, with the driver it will play on."""

    path: Path
    scenario: AnyScenario
    driver: Driver

    @property
    def name(self) -> str:
        return self.scenario.name


def prepare(path: Path, settings: Settings, *, driver: Driver | None = None) -> PreparedRun:
    """The file parsed (once: a Python scenario's code runs once) and validated: every problem
    at once, file:line each (``ScenarioError``)."""
    driver = driver or driver_for(settings)
    scenario = validate_file(path, Server(driver.name, driver.capabilities, driver.reports))
    return PreparedRun(path, scenario, driver)


async def play(
    prepared: PreparedRun,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: RunObserver | None = None,
) -> RunOutcome:
    """A prepared run played and concluded (the services checked by the caller)."""
    scenario = prepared.scenario
    if isinstance(scenario, LoadScenario):
        return await run_load_scenario(
            scenario, prepared.path, settings, progress=progress, run_id=run_id
        )
    if isinstance(scenario, CapacityScenario):
        return await run_capacity_scenario(
            scenario, prepared.path, settings, progress=progress, run_id=run_id
        )
    return await run_timeline(
        scenario,
        settings,
        progress=progress,
        run_id=run_id,
        live=live,
        driver=prepared.driver,
        source=str(prepared.path),
    )


async def run_file(
    path: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: RunObserver | None = None,
    driver: Driver | None = None,
) -> RunOutcome:
    """The one entry of a single run: prepared, the services checked, played."""
    prepared = prepare(path, settings, driver=driver)
    await preflight(settings)
    return await play(prepared, settings, progress=progress, run_id=run_id, live=live)
