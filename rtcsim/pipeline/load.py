"""A load run from start to verdict: locust (one process, or a master and workers on this
machine) plays the locustfile's users, every process writes its ledger part, the parts merge
into one ledger, and the run is concluded like a scenario run (documents read back, built-in
invariants, the scenario's expectations, summary, report, junit).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rtcsim.pipeline.conclude import check_collector, conclude, new_run_folder
from rtcsim.pipeline.outcome import RunOutcome, SetupError, new_run_id
from simulator.ledger import Ledger
from simulator.load.session import RUN_DIR_ENV, RUN_ID_ENV
from simulator.scenario.load import LoadScenario
from simulator.settings import Settings
from simulator.verify.checks import Check

Progress = Callable[[str], None]
MASTER_PORT = 5557
EXIT_GRACE_S = 240.0
"""After the run time: users finish their visit (stop timeout), recordings are converted and
every process writes its ledger part before it exits."""


def locust_commands(
    locustfile: Path,
    *,
    users: int,
    spawn_rate: float,
    run_time_s: float,
    workers: int,
    csv_prefix: Path,
    stop_timeout_s: int,
    master_port: int = MASTER_PORT,
) -> list[list[str]]:
    """The locust command lines: one, or the master first and then the workers."""
    common = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    run = [
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(spawn_rate),
        "--run-time",
        f"{max(1, round(run_time_s))}s",
        "--stop-timeout",
        str(stop_timeout_s),
        "--csv",
        str(csv_prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    if workers == 0:
        return [common + run]
    master = [
        *common,
        *run,
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(master_port),
        "--expect-workers",
        str(workers),
    ]
    worker = [
        *common,
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        str(master_port),
        "--loglevel",
        "WARNING",
    ]
    return [master] + [worker] * workers


def merge_ledgers(run_id: str, scenario: str, parts: list[Ledger]) -> Ledger:
    """One ledger from the processes' parts (their rooms and visits never overlap: names
    carry the process id)."""
    merged = Ledger(
        run_id=run_id,
        scenario=scenario,
        seed=0,
        started_ms=min(p.started_ms for p in parts),
        ended_ms=max((p.ended_ms or p.started_ms) for p in parts),
    )
    for part in parts:
        merged.sessions.update(part.sessions)
        merged.participants.update(part.participants)
        merged.recordings.extend(part.recordings)
        merged.generator.extend(part.generator)
        merged.steps.extend(part.steps)
    return merged


def play_locust(
    scenario: LoadScenario,
    locustfile: Path,
    *,
    run_id: str,
    results: Path,
    progress: Progress,
) -> tuple[int, list[Path]]:
    """Run locust to its end; its exit code and the ledger parts its processes wrote."""
    spec = scenario.load
    commands = locust_commands(
        locustfile,
        users=spec.users,
        spawn_rate=spec.spawn_rate,
        run_time_s=spec.run_time_s,
        workers=spec.workers,
        csv_prefix=results / "stats",
        stop_timeout_s=spec.stop_timeout_s,
    )
    env = {
        **os.environ,
        "LOCUST_SKIP_MONKEY_PATCH": "1",
        RUN_ID_ENV: run_id,
        RUN_DIR_ENV: str(results),
    }
    log_path = results / "locust.log"
    with log_path.open("ab") as log:
        procs = [
            subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT) for cmd in commands
        ]
        progress(
            f"locust: {spec.users} users, {spec.spawn_rate:g}/s, {spec.run_time_s:g} s, "
            f"{'one process' if not spec.workers else f'a master and {spec.workers} workers'} "
            f"(log: {log_path})"
        )
        deadline = time.monotonic() + spec.run_time_s + spec.stop_timeout_s + EXIT_GRACE_S
        started = time.monotonic()
        next_note = started + 30
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.5)
            if time.monotonic() >= next_note:
                done = len(list(results.glob("ledger-*.json")))
                progress(
                    f"t={time.monotonic() - started:4.0f}s locust running; "
                    f"{done} of {len(procs) if spec.workers == 0 else spec.workers} ledger parts"
                )
                next_note += 30
        for proc in procs:
            if proc.poll() is None:
                progress(f"locust process {proc.pid} overran; stopping it")
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return procs[0].returncode or 0, sorted(results.glob("ledger-*.json"))


async def run_load_scenario(
    scenario: LoadScenario,
    source: Path,
    settings: Settings,
    *,
    progress: Progress,
    run_id: str | None = None,
) -> RunOutcome:
    locustfile = (source.parent / scenario.load.locustfile).resolve()
    if not locustfile.is_file():
        raise SetupError(f"{source}: load.locustfile: no file {locustfile}")
    run_id = run_id or new_run_id()
    async with new_run_folder(scenario, settings, run_id) as results:
        return await _run(scenario, locustfile, settings, results, run_id, progress)


async def _run(
    scenario: LoadScenario,
    locustfile: Path,
    settings: Settings,
    results: Path,
    run_id: str,
    progress: Progress,
) -> RunOutcome:
    await check_collector(settings)
    progress(f"run {run_id}: load scenario {scenario.name} ({scenario.duration_s:.0f} s)")
    code, parts = await asyncio.to_thread(
        play_locust, scenario, locustfile, run_id=run_id, results=results, progress=progress
    )
    expected = 1 if scenario.load.workers == 0 else scenario.load.workers
    if not parts:
        raise SetupError(
            f"no locust process wrote its ledger (exit code {code}); see {results / 'locust.log'}"
        )
    ledger = merge_ledgers(run_id, scenario.name, [Ledger.read(p) for p in parts])
    progress(
        f"locust exited with {code}; {len(ledger.participants)} visits in "
        f"{len(ledger.sessions)} rooms from {len(parts)} processes"
    )
    complete = Check(
        "every locust process wrote its ledger part",
        len(parts) == expected,
        expected,
        len(parts),
        f"see {results / 'locust.log'}",
    )
    return await conclude(
        scenario, ledger, settings, results, progress=progress, extra_checks=[complete]
    )
