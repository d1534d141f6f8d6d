"""Any scenario file to its outcome: a timeline scenario plays through ``simulator.player``, a
load scenario (one with ``load:``) through locust (``rtcsim.pipeline.load``). Both end the same way
(``rtcsim.pipeline.conclude.conclude``), so ``rtcsim run``, the pytest plugin and ``rtcsim check``
treat them alike."""

from __future__ import annotations

from pathlib import Path

from rtcsim.pipeline.load import run_load_scenario
from rtcsim.pipeline.outcome import RunOutcome
from rtcsim.pipeline.timeline import run_timeline
from simulator.driver.protocol import Driver
from simulator.player.runner import Progress, RunObserver
from simulator.scenario.load import LoadScenario
from simulator.scenario.loader import load_any_scenario
from simulator.settings import Settings


async def run_file(
    path: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: RunObserver | None = None,
    driver: Driver | None = None,
) -> RunOutcome:
    """The one entry of every run: the file is read and parsed here, once (a Python scenario's
    code runs once), and the parsed scenario goes to the timeline or to locust."""
    scenario = load_any_scenario(path)
    if isinstance(scenario, LoadScenario):
        return await run_load_scenario(scenario, path, settings, progress=progress, run_id=run_id)
    return await run_timeline(
        scenario,
        settings,
        progress=progress,
        run_id=run_id,
        live=live,
        driver=driver,
        source=str(path),
    )
