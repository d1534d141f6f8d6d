"""A timeline run: the scenario played by ``simulator.player`` on the client namespace's loop,
the generator watched while it plays, then concluded (``rtcsim.pipeline.conclude``).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp

from collector.netns import NetnsError
from rtcsim.pipeline.conclude import conclude, new_run_folder, require_collector
from rtcsim.pipeline.outcome import RunOutcome, SetupError, new_run_id
from simulator.collector_client import CollectorClient, CollectorUnavailable
from simulator.driver.protocol import Driver, ServerUnavailable
from simulator.driver.servers import driver_for
from simulator.impairment.kernel import KernelImpairer
from simulator.netns_loop import NamespaceLoop
from simulator.player.registry import Repertoire
from simulator.player.runner import Progress, RunObserver, play
from simulator.player.standard import standard_repertoire
from simulator.scenario.loader import ScenarioError, load_scenario
from simulator.scenario.model import Scenario
from simulator.settings import Settings
from simulator.verify.expectations import unreportable
from simulator.watch import GeneratorWatch
from simulator.watch.sink import CollectorSink


async def run_scenario_file(
    path: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: RunObserver | None = None,
) -> RunOutcome:
    """A timeline scenario file played and concluded (``run_file`` takes any scenario file)."""
    scenario = load_scenario(path)
    return await run_timeline(
        scenario, settings, progress=progress, run_id=run_id, live=live, source=str(path)
    )


async def run_timeline(
    scenario: Scenario,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    live: RunObserver | None = None,
    driver: Driver | None = None,
    source: str | None = None,
) -> RunOutcome:
    """A parsed timeline scenario played and concluded, in a new ``results/<run-id>/``; refused
    first (``ScenarioError``) when it has a step the media server cannot do."""
    driver = driver or driver_for(settings)
    repertoire = standard_repertoire()
    check_playable(scenario, repertoire, driver, source=source or scenario.name)
    run_id = run_id or new_run_id()
    async with new_run_folder(scenario, settings, run_id):
        return await _run(
            scenario,
            settings=settings,
            run_id=run_id,
            progress=progress,
            live=live,
            driver=driver,
            repertoire=repertoire,
        )


def check_playable(
    scenario: Scenario, repertoire: Repertoire, driver: Driver, *, source: str
) -> None:
    """The capability check: every step of the timeline is one the server can do, every
    expectation on server-side documents one its events can produce."""
    refused = repertoire.steps.refusals(scenario, driver.capabilities)
    refused += unreportable(scenario, driver.reports)
    if refused:
        raise ScenarioError(
            f"{source}: the {driver.name} media server cannot play this scenario: "
            + "; ".join(refused)
        )


async def _run(
    scenario: Scenario,
    *,
    settings: Settings,
    run_id: str,
    progress: Progress,
    live: RunObserver | None,
    driver: Driver,
    repertoire: Repertoire,
) -> RunOutcome:
    results = settings.results_dir / run_id
    try:
        media = NamespaceLoop(settings.client_netns)
    except NetnsError as exc:
        raise SetupError(
            f"{exc}. Start the services first: make services (or rtcsim services up)"
        ) from exc
    try:
        async with aiohttp.ClientSession() as http:
            collector = CollectorClient(http, settings.collector_api_url, settings.collector_token)
            await require_collector(collector, settings)
            progress(f"run {run_id}: scenario {scenario.name} ({scenario.duration_s:.0f} s)")
            sink = CollectorSink(collector, asyncio.get_running_loop())
            watch = GeneratorWatch(
                f"run-{os.getpid()}",
                {"media": media.loop, "runner": asyncio.get_running_loop()},
                sink=sink,
                run_id=run_id,
            )
            watch.start()
            try:
                ledger = await play(
                    scenario,
                    run_id=run_id,
                    media=media,
                    collector=collector,
                    driver=driver,
                    progress=progress,
                    results_dir=results,
                    client_address=settings.client_address,
                    kernel_impairer=KernelImpairer(settings),
                    client_stats_interval_s=settings.webrtc_stats_interval_s,
                    live=live,
                    repertoire=repertoire,
                )
            except CollectorUnavailable as exc:
                raise SetupError(str(exc)) from exc
            except ServerUnavailable as exc:
                raise SetupError(
                    f"{exc}. Start the services first: rtcsim services up "
                    f"(the {driver.name} media server)"
                ) from exc
            finally:
                report = watch.stop()
                await sink.flush()
    finally:
        media.close()
    ledger.generator = [report]
    return await conclude(scenario, ledger, settings, results, progress=progress)
