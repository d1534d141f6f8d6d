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

With ``capacity.server_cpu_cores`` the media server is held to that many CPUs while the search
plays (``rtcsim.services.cpu_budget``): on this 2-core machine an unbounded Janus outlasts the
generator beside it, and every search ended INVALID. A machine without the cgroup controller is
refused before the run begins (exit 2), never searched without the budget it asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from collector.store import open_client
from rtcsim.pipeline.conclude import check_collector, conclude, new_run_folder
from rtcsim.pipeline.outcome import RunOutcome, SetupError, new_run_id
from rtcsim.services import cpu_budget, janus, livekit
from rtcsim.services.cpu_budget import Budget, CpuBudgetError, CpuCgroups
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
SERVER_PIDS: dict[str, Callable[[Settings], int | None]] = {
    "janus": janus.pid,
    "livekit": livekit.pid,
}
"""How each media server's pid is known: the pid file of the one ``services up`` started."""


async def run_capacity_scenario(
    scenario: CapacityScenario,
    source: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
    cgroups: CpuCgroups | None = None,
) -> RunOutcome:
    run_id = run_id or new_run_id()
    cores = scenario.capacity.server_cpu_cores
    if cores is not None:
        _budget_pid(settings, cgroups)  # refused before the run folder exists
    async with new_run_folder(scenario, settings, run_id) as results:
        return await _run(scenario, settings, results, run_id, progress, cgroups)


async def _run(
    scenario: CapacityScenario,
    settings: Settings,
    results: Path,
    run_id: str,
    progress: Progress,
    cgroups: CpuCgroups | None,
) -> RunOutcome:
    await check_collector(settings)
    spec = scenario.capacity
    budget_note = (
        f", {settings.server} held to {spec.server_cpu_cores:g} core"
        if spec.server_cpu_cores is not None
        else ""
    )
    progress(
        f"run {run_id}: capacity search {scenario.name}: rooms of {spec.room.users} "
        f"({spec.room.publishers} publishing, {spec.room.media} media), "
        f"{spec.start_rooms} rooms then +{spec.step_rooms} a step, at most {spec.max_steps} "
        f"steps{budget_note}"
    )
    session = await asyncio.to_thread(
        LoadSession, settings, run_id=run_id, run_dir=results, label="capacity"
    )
    result: CapacityResult | None = None
    try:
        await asyncio.wrap_future(session.control.submit(_warm_clips(session, scenario)))
        with server_budget(settings, spec.server_cpu_cores, cgroups, progress) as budget:
            search = CapacitySearch(
                session,
                scenario,
                server_samples=_server_samples(settings),
                monitoring_interval_s=settings.monitoring_interval_s,
                progress=progress,
                throttling=_periods(budget) if budget is not None else None,
            )
            result = await asyncio.wrap_future(session.control.submit(search.run()))
            if budget is not None:
                result.server_cpu_cores = budget.cores
                result.server_throttling = {
                    "cgroup": str(budget.path),
                    **dataclasses.asdict(budget.throttling()),
                }
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


def _budget_pid(settings: Settings, cgroups: CpuCgroups | None) -> int:
    """The server's pid, once the budget is known to be applicable (SetupError otherwise)."""
    problem = (cgroups or CpuCgroups()).missing()
    if problem is not None:
        raise SetupError(f"capacity.server_cpu_cores needs a CPU budget, but {problem}")
    pid = SERVER_PIDS[settings.server](settings)
    if pid is None:
        raise SetupError(
            f"capacity.server_cpu_cores: no {settings.server} started by rtcsim is running "
            f"(state dir {settings.state_dir}); start the services first: rtcsim services up"
        )
    return pid


@contextlib.contextmanager
def server_budget(
    settings: Settings, cores: float | None, cgroups: CpuCgroups | None, progress: Progress
) -> Iterator[Budget | None]:
    """The media server held to ``cores`` CPUs for the block (None: no budget, no cgroup,
    but a budget a killed search left on the server is lifted first)."""
    name = cpu_budget.cgroup_name(settings.sfu_netns, settings.server)
    if cores is None:
        _lift_leftover(settings, cgroups or CpuCgroups(), name)
        yield None
        return
    pid = _budget_pid(settings, cgroups)
    with contextlib.ExitStack() as stack:
        try:
            budget = stack.enter_context((cgroups or CpuCgroups()).applied(pid, cores, name))
        except CpuBudgetError as exc:
            raise SetupError(str(exc)) from None
        progress(f"{settings.server} (pid {pid}) held to {cores:g} core in {budget.path}")
        yield budget
        done = budget.throttling()  # before the cgroup goes
        progress(
            f"{settings.server} leaves its budget, throttled in {done.nr_throttled} of "
            f"{done.nr_periods} CFS periods ({done.throttled_ms / 1000:.1f} s held back)"
        )


def _lift_leftover(settings: Settings, cgroups: CpuCgroups, name: str) -> None:
    """A search without a budget must not measure a server still throttled by a killed one."""
    cpu_budget.lift_leftover(SERVER_PIDS[settings.server](settings), name, cgroups)


def _periods(budget: Budget) -> Callable[[], tuple[int, int]]:
    def read() -> tuple[int, int]:
        stat = budget.throttling()
        return stat.nr_periods, stat.nr_throttled

    return read
