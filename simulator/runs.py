"""Any scenario file to its outcome: a timeline scenario plays through ``simulator.run``, a
load scenario (one with ``load:``) through locust (``simulator.load``). Both end the same way
(``simulator.run.execute.conclude``), so ``rtcsim run``, the pytest plugin and ``rtcsim check``
treat them alike."""

from __future__ import annotations

from pathlib import Path

from simulator.load.run import run_load_scenario
from simulator.run.execute import RunOutcome, run_scenario_file
from simulator.run.live import LiveView
from simulator.run.runner import Progress
from simulator.scenario.load import LoadScenario
from simulator.scenario.loader import load_any_scenario
from simulator.settings import Settings


async def run_file(
    path: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: LiveView | None = None,
) -> RunOutcome:
    scenario = load_any_scenario(path)
    if isinstance(scenario, LoadScenario):
        return await run_load_scenario(scenario, path, settings, progress=progress, run_id=run_id)
    return await run_scenario_file(path, settings, progress=progress, run_id=run_id, live=live)
