"""A capacity search from start to verdict, in this process: a load session (the same executors,
ledger and collector calls as a load run) plays the search on its control loop, every seat
leaves, and the run is concluded like any other (documents read back, built-in invariants, the
scenario's ``expect``, summary, report, junit) with the search's own checks and
``capacity.json`` beside them.

One generator process on purpose: each step is judged on what the process saw (its rooms, its
loops' health), and the search stops at the first step that breaks, which a locust master
could not see without its workers' ledgers. This machine's second core runs Janus, the
collector and Elasticsearch (``make bench``: a second generator process adds no streams here).

Exit codes as ``rtcsim run``: 0 the search found the capacity (or every step held) and every
check passed; 1 a check failed, including the first step breaking an SLO (capacity 0); 2 setup;
3 INVALID: the generator saturated before the server broke an SLO, so the capacity found is only
a lower bound on the server's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from collector.store import open_client
from rtcsim.pipeline.conclude import check_collector, conclude, new_run_folder
from rtcsim.pipeline.outcome import RunOutcome, new_run_id
from simulator.ledger import now_ms
from simulator.load.capacity.result import CapacityResult, capacity_checks
from simulator.load.capacity.search import CapacitySearch
from simulator.load.capacity.seats import leave_everyone
from simulator.load.session import LoadSession
from simulator.peers.clips import default_clips_dir
from simulator.peers.publishing import PublishOptions, prepare_clips
from simulator.scenario.capacity import CapacityScenario
from simulator.settings import Settings
from simulator.verify.checks import Check
from simulator.verify.store_reader import Document, Selection, read_all

Progress = Callable[[str], None]


async def run_capacity_scenario(
    scenario: CapacityScenario,
    source: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
) -> RunOutcome:
    run_id = run_id or new_run_id()
    async with new_run_folder(scenario, settings, run_id) as results:
        return await _run(scenario, settings, results, run_id, progress)


async def _run(
    scenario: CapacityScenario,
    settings: Settings,
    results: Path,
    run_id: str,
    progress: Progress,
) -> RunOutcome:
    await check_collector(settings)
    spec = scenario.capacity
    progress(
        f"run {run_id}: capacity search {scenario.name}: rooms of {spec.room.users} "
        f"({spec.room.publishers} publishing, {spec.room.media} media), "
        f"{spec.start_rooms} rooms then +{spec.step_rooms} a step, at most {spec.max_steps} steps"
    )
    session = await asyncio.to_thread(
        LoadSession, settings, run_id=run_id, run_dir=results, label="capacity"
    )
    result: CapacityResult | None = None
    try:
        await asyncio.wrap_future(session.control.submit(_warm_clips(session, scenario)))
        search = CapacitySearch(
            session,
            scenario,
            server_samples=_server_samples(settings),
            monitoring_interval_s=settings.monitoring_interval_s,
            progress=progress,
        )
        result = await asyncio.wrap_future(session.control.submit(search.run()))
        result.write(results)  # before anyone leaves: what was measured is never lost
        progress(result.headline())
    finally:
        ended = await _end_session(session, results, progress)
    return await conclude(
        scenario,
        session.ctx.ledger,
        settings,
        results,
        progress=progress,
        extra_checks=capacity_checks(result.as_dict()) + ended,
        invalid=result.invalid_reason,
        sections={"capacity": result.as_dict()},
    )


async def _end_session(session: LoadSession, results: Path, progress: Progress) -> list[Check]:
    """Everyone leaves (in parallel), then the session ends; a seat that could not leave, or
    an end that did not finish, is a failed check, never a lost run."""
    progress(f"every seat leaves ({len(session.ctx.participants)})")
    try:
        failed = await asyncio.wrap_future(session.control.submit(leave_everyone(session)))
    except Exception as exc:
        failed = [f"{type(exc).__name__}: {exc}"]
    try:
        part = await asyncio.to_thread(session.finish)
        part.unlink(missing_ok=True)  # conclude writes the whole ledger as ledger.json
    except Exception as exc:
        failed.append(f"the load session did not end: {type(exc).__name__}: {exc}"[:300])
        ledger = session.ctx.ledger
        ledger.ended_ms = ledger.ended_ms or now_ms()
        ledger.write(results / "ledger.json")
    return [
        Check(
            "capacity: every seat left at the end",
            not failed,
            "all left",
            f"{len(failed)} did not" if failed else "all left",
            "; ".join(failed[:3]),
        )
    ]


async def _warm_clips(session: LoadSession, scenario: CapacityScenario) -> None:
    """Make (first time) and load the clips before the first step's clock starts."""
    room = scenario.capacity.room
    options = PublishOptions(
        audio=room.audio,
        video=True,
        width=room.video.width,
        height=room.video.height,
        fps=room.video.fps,
        media=room.media,
    )
    await asyncio.to_thread(prepare_clips, options, default_clips_dir())


def _server_samples(settings: Settings) -> Callable[[int, int], Awaitable[list[Document]]]:
    async def read(start_ms: int, end_ms: int) -> list[Document]:
        """The host's monitoringStats between two instants (no session: the window alone)."""
        selection = Selection((), (start_ms, end_ms), types=("monitoringStats",))
        async with open_client(settings.es_client_options()) as es:
            return await read_all(es, settings.es_index, selection)

    return read
